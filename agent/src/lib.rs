//! The agent adapter: composed with the unchanged connector component, it
//! makes `salesforce-agent`, a component whose exported functions are the
//! connector's tools with plain parameters, for hosts that make every
//! exported function a tool for a language model (Wassette).
//!
//! It only reads the environment (`settings`), keeps the session and maps
//! arguments to the connector's tool of the same name (`tools`); every
//! Salesforce rule stays in the connector.

#![cfg_attr(target_arch = "wasm32", no_std)]

extern crate alloc;

pub mod errors;
pub mod settings;
pub mod tools;

/// The adapter's world, generated in one place (generated code: its
/// lowered signatures are as long as the WIT's records make them).
#[allow(missing_docs, clippy::too_many_arguments)]
pub mod bindings {
    wit_bindgen::generate!({
        world: "salesforce-agent-adapter",
        path: "../wit",
        generate_all,
    });
}

#[cfg(target_arch = "wasm32")]
mod component;
