//! The service adapter: composed with the unchanged connector component, it
//! makes `salesforce-service`, a `wasi:http/incoming-handler` component that
//! serves the connector's tools over HTTP (`GET /tools`,
//! `POST /tools/{name}`), for hosts such as `wasmtime serve` and Spin.
//!
//! What a request gets is decided over plain data in `routes` (the route,
//! the body's arguments, the answer) and `status` (a typed error's HTTP
//! status), both tested natively; `component` is the wasi:http edge, which
//! only reads the request's bytes and writes the answer's. Reading the
//! environment, keeping the session and errors as JSON are the adapter
//! kit's (`kit/`, shared with the agent adapter); every Salesforce rule
//! stays in the connector.

#![cfg_attr(target_arch = "wasm32", no_std)]

extern crate alloc;

pub mod routes;
pub mod status;

/// The adapter's world, generated in one place: the connector's interfaces
/// and the environment are the adapter kit's, wasi:http and wasi:io the
/// `wasip2` crate's, so only the exported handler is generated here.
#[cfg(target_arch = "wasm32")]
#[allow(missing_docs)]
mod bindings {
    wit_bindgen::generate!({
        world: "salesforce-service-adapter",
        path: "../wit",
        with: {
            "salesforce:connector/types@0.3.0": salesforce_adapter_kit::bindings::salesforce::connector::types,
            "salesforce:connector/connector@0.3.0": salesforce_adapter_kit::bindings::salesforce::connector::connector,
            "salesforce:connector/tools@0.3.0": salesforce_adapter_kit::bindings::salesforce::connector::tools,
            "wasi:cli/environment@0.2.12": salesforce_adapter_kit::bindings::wasi::cli::environment,
            "wasi:http/types@0.2.12": wasip2::http::types,
            "wasi:http/outgoing-handler@0.2.12": wasip2::http::outgoing_handler,
            "wasi:io/error@0.2.12": wasip2::io::error,
            "wasi:io/poll@0.2.12": wasip2::io::poll,
            "wasi:io/streams@0.2.12": wasip2::io::streams,
            "wasi:clocks/monotonic-clock@0.2.12": wasip2::clocks::monotonic_clock,
            "wasi:clocks/wall-clock@0.2.12": wasip2::clocks::wall_clock,
            "wasi:random/random@0.2.12": wasip2::random::random,
        },
    });
}

#[cfg(target_arch = "wasm32")]
mod component;
