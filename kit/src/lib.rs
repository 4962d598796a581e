//! What the adapters composed with the connector share (the agent adapter in
//! `agent/`, the HTTP service adapter in `service/`): the bindings of the
//! interfaces they import, the config from the environment (`settings`), the
//! kept and renewed session (`session`) and the typed error as JSON
//! (`errors`). Every Salesforce rule stays in the connector.
//!
//! The bindings are generated here once, for the `salesforce-adapter-kit`
//! world (`wit/kit.wit`); an adapter's `wit_bindgen::generate!` maps the same
//! interfaces to these modules with `with`, so one Rust type serves both
//! worlds.

#![cfg_attr(target_arch = "wasm32", no_std)]

extern crate alloc;

pub mod errors;
pub mod session;
pub mod settings;

/// The kit's world, generated in one place (generated code: its lowered
/// signatures are as long as the WIT's records make them).
#[allow(missing_docs, clippy::too_many_arguments)]
pub mod bindings {
    wit_bindgen::generate!({
        world: "salesforce-adapter-kit",
        path: "../wit",
        generate_all,
    });
}

pub use bindings::salesforce::connector::tools::Tool;
pub use bindings::salesforce::connector::types::{Error, FieldProblem};
