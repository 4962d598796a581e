//! Host-side bindings for the `salesforce` world (generated in one place).

wasmtime::component::bindgen!({
    path: "../../wit",
    world: "salesforce",
    exports: { default: async },
    with: {
        "wasi:http": wasmtime_wasi_http::p2::bindings::http,
        "wasi:io": wasmtime_wasi::p2::bindings::io,
        "wasi:clocks": wasmtime_wasi::p2::bindings::clocks,
        "wasi:random": wasmtime_wasi::p2::bindings::random,
    },
});

pub use exports::salesforce::connector::bulk;
pub use exports::salesforce::connector::files;
pub use exports::salesforce::connector::operations as ops;
pub use exports::salesforce::connector::tools;
pub use exports::salesforce::connector::types as wit;

impl wit::Config {
    /// A config for `grant`, every other setting unset (the component's
    /// defaults). Set `login_url`, the app's `client_id`/`client_secret` and
    /// any limit on the result.
    pub fn new(grant: wit::Grant) -> Self {
        wit::Config {
            login_url: None,
            client_id: None,
            client_secret: None,
            grant,
            api_version: None,
            timeout_ms: None,
            deadline_ms: None,
            max_response_bytes: None,
            retry: None,
            allowed_hosts: None,
        }
    }
}
