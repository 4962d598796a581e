"""Loads the connector component in Python with the `wasmtime` package.

wasmtime-py links all of WASI 0.2 (`add_wasip2`) and wasi:http
(`add_wasi_http`); the component uses only eight of those interfaces
(docs/hosts.md, "Imports"). Its wasi:http trusts the public web roots
only: HTTPS to a server with a private CA (such as the mock's) fails with
`transport`, so use the mock's plain-HTTP loopback listener.
"""

import hashlib
import importlib.metadata
import os
import tempfile
from pathlib import Path

import wasmtime
from wasmtime import Engine, Store, WasiConfig
from wasmtime.component import Component, Linker, Record, Variant

PACKAGE = "salesforce:connector"
VERSION = "0.3.0"
WASMTIME_VERSION = importlib.metadata.version("wasmtime")


class LoadError(Exception):
    """The component could not be read, compiled or linked."""


class ComponentError(Exception):
    """The component's typed `error` variant (`tag`, `val`)."""

    def __init__(self, error: Variant):
        super().__init__(f"{error.tag}: {to_json(error.payload)}")
        self.error = error


def record(**fields) -> Record:
    """A WIT record; Python names (`login_url`) become WIT names (`login-url`)."""
    r = Record()
    for name, value in fields.items():
        setattr(r, name.replace("_", "-"), value)
    return r


def to_json(value):
    """A WIT value as JSON-ready data with WIT's kebab-case names."""
    if isinstance(value, Variant):
        return {"tag": value.tag, "val": to_json(value.payload)}
    if isinstance(value, Record):
        return {k: to_json(v) for k, v in vars(value).items()}
    if isinstance(value, (list, tuple)):
        return [to_json(v) for v in value]
    return value


class Connector:
    """One instance of the component, with its exports as methods:
    `connector.call("operations", "query", session, soql, options)`."""

    def __init__(self, wasm_path, scratch_dir=None):
        try:
            wasm = Path(wasm_path).read_bytes()
        except OSError as e:
            raise LoadError(f"cannot read the component {wasm_path}: {e.strerror}") from None
        self.sha256 = hashlib.sha256(wasm).hexdigest()
        self.bytes = len(wasm)
        self.engine = Engine()
        try:
            self.component, self.compiled = self._compile(wasm, scratch_dir)
            linker = Linker(self.engine)
            linker.add_wasip2()
            linker.add_wasi_http()
            self.store = Store(self.engine)
            # No preopens, no environment, no stdio: the component asks for none.
            self.store.set_wasi(WasiConfig())
            self.store.set_wasi_http()
            self.instance = linker.instantiate(self.store, self.component)
        except wasmtime.WasmtimeError as e:
            raise LoadError(f"{wasm_path} is not a loadable component: {e}") from None
        self._funcs = {}

    def _compile(self, wasm, scratch_dir):
        """Compiling takes about a second; the machine code is cached by the
        component's SHA-256 and the wasmtime version, so a rebuilt component
        or another wasmtime never loads stale code."""
        scratch = Path(scratch_dir or Path(tempfile.gettempdir()) / "salesforce-connector-wasmtime-py")
        cached = scratch / f"{self.sha256[:16]}.wasmtime-{WASMTIME_VERSION}.cwasm"
        if cached.exists():
            try:
                return Component.deserialize_file(self.engine, str(cached)), False
            except wasmtime.WasmtimeError:
                pass  # written by an incompatible build: compile again
        component = Component(self.engine, wasm)
        scratch.mkdir(parents=True, exist_ok=True)
        partial = cached.with_suffix(f".{os.getpid()}.partial")
        partial.write_bytes(component.serialize())
        partial.replace(cached)
        return component, True

    def call(self, interface, name, *args):
        """Calls an export; returns the `ok` value or raises ComponentError.

        wasmtime-py tags a `result` (`Variant("ok" | "err", ...)`) only when
        Python classes cannot tell its two sides apart; for this component's
        functions it returns the ok value as it is and the error as the
        `error` variant itself. Both shapes are handled.
        """
        key = (interface, name)
        if key not in self._funcs:
            iface = self.instance.get_export_index(self.store, f"{PACKAGE}/{interface}@{VERSION}")
            index = self.instance.get_export_index(self.store, name, iface) if iface else None
            if index is None:
                raise LoadError(f"the component does not export {interface}.{name}")
            self._funcs[key] = self.instance.get_func(self.store, index)
        result = self._funcs[key](self.store, *args)
        if isinstance(result, Variant):
            if result.tag == "ok":
                return result.payload
            raise ComponentError(result.payload if result.tag == "err" else result)
        return result
