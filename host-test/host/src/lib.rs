//! Embed the Salesforce connector component in a Rust program: load it with
//! wasmtime, link its imports (wasi:http through an egress policy, clocks,
//! random), send its requests over rustls, and call it through a [`Client`]
//! that keeps and renews the session.
//!
//! ```no_run
//! # async fn demo() -> Result<(), salesforce_host::HostError> {
//! use salesforce_host::{wit, Client, ClientOptions, Connector};
//! let connector = std::sync::Arc::new(Connector::load("salesforce_connector.wasm".as_ref())?);
//! let grant = wit::Grant::ClientCredentials(wit::ClientCredentialsGrant { basic_auth: false });
//! let mut config = wit::Config::new(grant);
//! config.login_url = Some("https://acme.my.salesforce.com".into());
//! config.client_id = Some("3MVG9...".into());
//! config.client_secret = Some(std::env::var("SF_CLIENT_SECRET").unwrap_or_default());
//! let mut client = Client::new(connector, config, ClientOptions::default())?;
//! let limits = client.call(&salesforce_host::get("/services/data/v66.0/limits")).await?;
//! println!("{}", limits.body);
//! # Ok(()) }
//! ```

pub mod agent;
pub mod bindings;
pub mod client;
pub mod code_cache;
pub mod connector;
pub mod egress;
pub mod error;
pub mod guards;
pub mod memory;
pub mod send;

pub use agent::{Agent, AgentTool};
pub use bindings::{bulk, files, ops, tools, wit};
pub use client::{
    get, parse_sfdx_url, Client, ClientOptions, Downloaded, FileField, SessionHook, PLAIN_QUERY,
};
pub use connector::{Connector, Guards};
pub use error::HostError;
pub use memory::MemoryPeak;
/// The wasmtime this host is built on, for embedders and tests.
pub use {wasmtime, wasmtime_wasi};
