//! Host-side bindings for the `salesforce` world (generated in one place).

wasmtime::component::bindgen!({
    path: "../wit",
    world: "salesforce",
    exports: { default: async },
    with: {
        "wasi:http": wasmtime_wasi_http::p2::bindings::http,
        "wasi:io": wasmtime_wasi::p2::bindings::io,
        "wasi:clocks": wasmtime_wasi::p2::bindings::clocks,
    },
});

pub use exports::salesforce::connector::operations as ops;
pub use exports::salesforce::connector::tools;
pub use exports::salesforce::connector::types as wit;
