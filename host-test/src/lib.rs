//! The wasmtime host for the Salesforce connector component, its CLI's
//! building blocks, and a mock Salesforce for tests and demos.
//!
//! ```no_run
//! # async fn demo() -> Result<(), sf_host::HostError> {
//! use sf_host::{wit, Client, ClientOptions, Connector};
//! let connector = std::sync::Arc::new(Connector::load(&sf_host::default_component_path())?);
//! let config = wit::Config {
//!     login_url: Some("https://acme.my.salesforce.com".into()),
//!     client_id: Some("3MVG9...".into()),
//!     client_secret: Some("...".into()),
//!     grant: wit::Grant::ClientCredentials(wit::ClientCredentialsGrant { basic_auth: false }),
//!     api_version: None,
//!     timeout_ms: None,
//!     deadline_ms: None,
//!     max_response_bytes: None,
//!     retry: None,
//!     allowed_hosts: None,
//! };
//! let mut client = Client::new(connector, config, ClientOptions::default())?;
//! let limits = client.call(&sf_host::get("/services/data/v66.0/limits")).await?;
//! println!("{}", limits.body);
//! # Ok(()) }
//! ```

pub mod bindings;
pub mod client;
pub mod code_cache;
pub mod connector;
pub mod egress;
pub mod error;
pub mod guards;
pub mod mcp;
pub mod memory;
pub mod mock;
pub mod send;

pub use bindings::{ops, tools, wit};
pub use client::{get, parse_sfdx_url, Client, ClientOptions, SessionHook, PLAIN_QUERY};
pub use connector::{default_component_path, Connector, Guards};
pub use error::HostError;
pub use memory::MemoryPeak;
/// The wasmtime this host is built on, for embedders and tests.
pub use {wasmtime, wasmtime_wasi};
