#!/usr/bin/env node
// Runs the connector component in Node against a Salesforce org (or the
// project's mock) and prints one JSON document: login, a paged query, a
// record created and deleted, the tool catalog, a tool run, and the typed
// errors of a few failures. `tests/hosts` compares it with the wasmtime host's.
//
//   node host.js --component salesforce_connector.wasm --login-url http://127.0.0.1:8080
//
// Credentials come from SF_CLIENT_ID, SF_CLIENT_SECRET, SF_USERNAME,
// SF_PASSWORD, SF_SECURITY_TOKEN and SF_REFRESH_TOKEN (as for `sf-host`),
// never from arguments,
// and the output carries no secret.

import { readFileSync, writeSync } from "node:fs";
import { parseArgs } from "node:util";
import { performance } from "node:perf_hooks";
import { loadConnector, outcome } from "./connector.js";

const USAGE =
  "usage: node host.js --component FILE.wasm --login-url URL [--scratch-dir DIR] [--unreachable-url URL]\n" +
  "       with SF_CLIENT_ID, SF_CLIENT_SECRET, SF_USERNAME, SF_PASSWORD, SF_SECURITY_TOKEN, SF_REFRESH_TOKEN set";

// The scenario every host runs (tests/hosts/reference.rs is the wasmtime side).
const SOQL = "SELECT Id, Name, AnnualRevenue FROM Account WHERE Name LIKE 'Acme 0%' ORDER BY Name";
const BATCH_SIZE = 200;
const TOOL_ARGS = { soql: "SELECT Id, Name FROM Account WHERE Name LIKE 'Acme 000%' ORDER BY Name" };

function fail(message) {
  writeSync(2, `host.js: ${message}\n${USAGE}\n`);
  process.exit(2);
}

function env(name, required = true) {
  const value = process.env[name];
  if (required && !value) fail(`set ${name}`);
  return value || undefined;
}

/** A WIT value as JSON with WIT's kebab-case names: jco camel-cases them, and
 * gives u64 as bigint and `none` as undefined. */
function wit(value) {
  if (typeof value === "bigint") return Number(value);
  if (value === undefined || value === null) return null;
  if (Array.isArray(value)) return value.map(wit);
  if (typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`), wit(v)]),
    );
  }
  return value;
}

/** `{ ok }` or `{ err: { tag, val } }`, with the ok value shaped by `show`. */
function json(result, show = (v) => v) {
  return "ok" in result ? { ok: wit(show(result.ok)) } : { err: wit(result.err) };
}

const { values: args } = parseArgs({
  options: {
    component: { type: "string", default: process.env.SF_COMPONENT },
    "login-url": { type: "string", default: process.env.SF_LOGIN_URL },
    "scratch-dir": { type: "string" },
    "unreachable-url": { type: "string" },
    help: { type: "boolean", short: "h" },
  },
});
if (args.help) {
  writeSync(1, `${USAGE}\n`);
  process.exit(0);
}
if (!args.component) fail("give --component (or SF_COMPONENT): the connector's .wasm");
if (!args["login-url"]) fail("give --login-url (or SF_LOGIN_URL)");

const configFor = (loginUrl, password) => ({
  loginUrl,
  clientId: env("SF_CLIENT_ID"),
  clientSecret: env("SF_CLIENT_SECRET"),
  grant: {
    tag: "password",
    val: { username: env("SF_USERNAME"), password, securityToken: env("SF_SECURITY_TOKEN", false) },
  },
});

const timings = {};
const results = {};
/** Runs one step, timing it. */
function step(name, f, show) {
  const start = performance.now();
  const result = outcome(f);
  timings[name] = Math.round((performance.now() - start) * 1000) / 1000;
  results[name] = json(result, show);
  return result;
}

const loadStart = performance.now();
let sf;
try {
  sf = await loadConnector(args.component, args["scratch-dir"]);
} catch (e) {
  fail(e.message);
}
const loadMs = Math.round(performance.now() - loadStart);

const login = step("authenticate", () => sf.connector.authenticate(configFor(args["login-url"], env("SF_PASSWORD"))), (s) => ({
  instanceUrl: s.instanceUrl,
  orgId: s.orgId,
  userId: s.userId,
  tokenType: s.tokenType,
  scope: s.scope,
  apiVersion: s.apiVersion,
  signatureVerified: s.signatureVerified,
}));
if ("ok" in login) {
  const session = login.ok;
  const options = { includeDeleted: false, batchSize: BATCH_SIZE, followChildren: false };
  const page = (p) => ({ records: p.records, totalSize: p.totalSize, done: p.done, nextRecordsUrl: p.nextRecordsUrl });

  step("query-pages", () => {
    const pages = [sf.operations.query(session, SOQL, options)];
    while (!pages.at(-1).done) pages.push(sf.operations.queryMore(session, pages.at(-1).nextRecordsUrl, options));
    return pages.map(page);
  });
  step("query-all-pages", () => sf.operations.queryAllPages(session, SOQL, options, undefined), (r) => ({
    records: r.records,
    totalSize: r.totalSize,
    fetched: r.fetched,
    pages: r.pages,
    truncated: r.truncated,
    nextRecordsUrl: r.nextRecordsUrl,
  }));
  const created = step("create-record", () => sf.operations.createRecord(session, "Account", '{"Name":"Portable Co"}'), (c) => ({ id: c.id }));
  if ("ok" in created) {
    const id = created.ok.id;
    step("get-record", () => sf.operations.getRecord(session, "Account", id, ["Name"]).body);
    step("delete-record", () => sf.operations.deleteRecord(session, "Account", id), () => null);
    step("get-deleted-record", () => sf.operations.getRecord(session, "Account", id, ["Name"]).body);
  }
  step("tools", () => sf.tools.tools());
  step("invoke", () => sf.tools.invoke(session, "soql_query", JSON.stringify(TOOL_ARGS)));
  step("invoke-bad-argument", () => sf.tools.invoke(session, "soql_query", '{"soql":5}'));
}
// Renewal through the component's `renew`, as a host keeps a session: on
// `session-expired`, renew once (with the newest refresh token the session
// holds) and retry once; keep what `renew` returns, never an older token.
const refreshConfig = { ...configFor(args["login-url"], undefined), grant: { tag: "refresh-token", val: { refreshToken: env("SF_REFRESH_TOKEN") } } };
let kept;
/** Calls `f(session)`; on `session-expired` renews once and retries once. */
function withRenewal(f) {
  try {
    return f(kept);
  } catch (e) {
    if (e?.payload?.tag !== "session-expired") throw e;
    kept = sf.connector.renew(refreshConfig, kept);
    return f(kept);
  }
}
const refreshLogin = step("refresh-login", () => (kept = sf.connector.authenticate(refreshConfig)), (s) => ({ hasRefreshToken: s.refreshToken !== undefined }));
if ("ok" in refreshLogin) {
  step("renew-expired", () => {
    const before = kept.refreshToken;
    kept = { ...kept, accessToken: "00D000000000001!expired" };
    const limits = withRenewal((s) => sf.operations.limits(s));
    return { limitsOk: limits.body.includes("DailyApiRequests"), rotated: kept.refreshToken !== before };
  });
  step("renew-again", () => {
    const before = kept.refreshToken;
    kept = sf.connector.renew(refreshConfig, kept);
    return { rotated: kept.refreshToken !== before };
  });
}
step("wrong-password", () => sf.connector.authenticate(configFor(args["login-url"], "not-the-password")), () => "unexpected: logged in");
if (args["unreachable-url"]) {
  step("unreachable", () => sf.connector.authenticate(configFor(args["unreachable-url"], env("SF_PASSWORD"))), () => "unexpected: logged in");
}

const version = (pkg) =>
  JSON.parse(readFileSync(new URL(`./node_modules/@bytecodealliance/${pkg}/package.json`, import.meta.url))).version;
const doc = {
  host: `node ${process.versions.node}, jco ${version("jco")}, preview2-shim ${version("preview2-shim")}`,
  component: { path: args.component, sha256: sf.sha256, bytes: sf.bytes },
  "load-ms": loadMs,
  transpiled: sf.transpiled,
  results,
  "timings-ms": timings,
};
// The shim's worker keeps the process alive, so exit once stdout has taken
// every byte (a pipe takes a large document in several writes).
process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`, () => process.exit(0));
