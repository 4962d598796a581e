//! A Salesforce connector built as a WebAssembly component.
//!
//! Everything that knows Salesforce is plain Rust over plain data and is
//! tested natively; the wasi:http edge and the WIT bindings live in
//! `component/`, compiled only for wasm32.
//!
//! The crate is `no_std` + `alloc`, so the component links no libc and
//! imports nothing but wasi:http and the few interfaces it calls itself.

// The crate is also a Rust library (fuzz targets, embedders): every public
// item says what it is for.
#![warn(missing_docs)]
// Natively (unit tests, fuzzing) std stays, for the test harness.
#![cfg_attr(target_arch = "wasm32", no_std)]

extern crate alloc;

/// What `std`'s prelude would give every module.
#[allow(unused_imports)]
mod prelude {
    pub use alloc::borrow::ToOwned;
    pub use alloc::boxed::Box;
    pub use alloc::string::{String, ToString};
    pub use alloc::vec::Vec;
    pub use alloc::{format, vec};
}

pub mod bulk;
pub mod collections;
pub mod composite;
pub mod config;
pub mod error;
pub mod expiry;
pub mod files;
pub mod graph;
pub mod guardrails;
pub mod gzip;
pub mod http;
pub mod identity;
pub mod limits;
pub mod oauth;
pub mod org;
pub mod query;
pub mod records;
pub mod rest;
pub mod retrieve;
pub mod retry;
pub mod secret;
pub mod session;
pub mod sfdx;
pub mod tools;
pub mod tree;
pub mod urls;

#[cfg(target_arch = "wasm32")]
mod component;
