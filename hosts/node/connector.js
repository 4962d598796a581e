// Loads the connector component in Node: jco transpiles the .wasm as it is
// (no rebuild) into a scratch directory, and preview2-shim provides the eight
// WASI imports, wasi:http among them.

import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { transpile } from "@bytecodealliance/jco";
import { clocks, http, io, random } from "@bytecodealliance/preview2-shim";

/** Exactly the component's imports (docs/hosts.md, "Imports"). */
const IMPORTS = {
  "wasi:clocks/monotonic-clock": clocks.monotonicClock,
  "wasi:clocks/wall-clock": clocks.wallClock,
  "wasi:http/outgoing-handler": http.outgoingHandler,
  "wasi:http/types": http.types,
  "wasi:io/error": io.error,
  "wasi:io/poll": io.poll,
  "wasi:io/streams": io.streams,
  "wasi:random/random": random.random,
};

/**
 * Transpiles (once per distinct .wasm: the output directory is named by its
 * SHA-256) and instantiates the component at `wasmPath`.
 * Returns `{ connector, operations, tools, sha256, bytes, transpiled }`.
 */
export async function loadConnector(wasmPath, scratchDir = join(tmpdir(), "salesforce-connector-jco")) {
  let wasm;
  try {
    wasm = readFileSync(wasmPath);
  } catch (e) {
    throw new Error(`cannot read the component ${wasmPath}: ${e.message}`);
  }
  const sha256 = createHash("sha256").update(wasm).digest("hex");
  const outDir = join(scratchDir, sha256.slice(0, 16));
  const entry = join(outDir, "salesforce.js");
  const transpiled = !existsSync(entry);
  if (transpiled) {
    // `instantiation: "async"` makes the output take its imports as an
    // argument, so it can live anywhere and needs no node_modules beside it.
    let files;
    try {
      ({ files } = await transpile(wasm, {
        name: "salesforce",
        instantiation: "async",
        noTypescript: true,
        quiet: true,
      }));
    } catch (e) {
      throw new Error(`${wasmPath} is not a loadable component: ${e.message ?? e}`);
    }
    // Written beside, then renamed: a concurrent run never sees half a directory.
    const partial = `${outDir}.${process.pid}.partial`;
    rmSync(partial, { recursive: true, force: true });
    for (const [name, bytes] of Object.entries(files)) {
      mkdirSync(dirname(join(partial, name)), { recursive: true });
      writeFileSync(join(partial, name), bytes);
    }
    try {
      renameSync(partial, outDir);
    } catch (e) {
      rmSync(partial, { recursive: true, force: true });
      if (!existsSync(entry)) throw e;
    }
  }
  const { instantiate } = await import(pathToFileURL(entry).href);
  const exports = await instantiate(
    (name) => WebAssembly.compile(readFileSync(join(outDir, name))),
    IMPORTS,
  );
  return {
    connector: exports.connector,
    operations: exports.operations,
    tools: exports.tools,
    sha256,
    bytes: wasm.length,
    transpiled,
  };
}

/**
 * Runs `f` and returns `{ ok: value }`, or `{ err: error }` with the
 * component's typed error. jco throws a `result`'s error with the value in
 * `payload`; anything else is a host failure and is rethrown.
 */
export function outcome(f) {
  try {
    return { ok: f() };
  } catch (e) {
    if (e && typeof e === "object" && "payload" in e) return { err: e.payload };
    throw e;
  }
}
