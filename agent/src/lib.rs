//! The agent adapter: composed with the unchanged connector component, it
//! makes `salesforce-agent`, a component whose exported functions are the
//! connector's tools with plain parameters, for hosts that make every
//! exported function a tool for a language model (Wassette).
//!
//! It maps arguments to the connector's tool of the same name (`tools`);
//! reading the environment, keeping the session and errors as JSON are the
//! adapter kit's (`kit/`, shared with the HTTP service adapter); every
//! Salesforce rule stays in the connector.

#![cfg_attr(target_arch = "wasm32", no_std)]

extern crate alloc;

pub mod tools;

/// The adapter's world, generated in one place; the connector's interfaces
/// and the environment are the adapter kit's, so its settings, session and
/// errors work on these types (generated code: its lowered signatures are
/// as long as the WIT's records make them).
#[allow(missing_docs, clippy::too_many_arguments)]
pub mod bindings {
    wit_bindgen::generate!({
        world: "salesforce-agent-adapter",
        path: "../wit",
        with: {
            "salesforce:connector/types@0.3.0": salesforce_adapter_kit::bindings::salesforce::connector::types,
            "salesforce:connector/connector@0.3.0": salesforce_adapter_kit::bindings::salesforce::connector::connector,
            "salesforce:connector/tools@0.3.0": salesforce_adapter_kit::bindings::salesforce::connector::tools,
            "wasi:cli/environment@0.2.12": salesforce_adapter_kit::bindings::wasi::cli::environment,
        },
        generate_all,
    });
}

#[cfg(target_arch = "wasm32")]
mod component;
