//! What the `sf-host` binary is made of beyond the embeddable host
//! ([`salesforce_host`]) and the mock ([`salesforce_mock`]): the component it
//! carries, its MCP server, and test fixtures that join the two.

pub mod fixtures;
pub mod mcp;
pub mod wrpc;

pub use fixtures::MockConfig;

/// The component this build made from the repository's source (see
/// `build.rs`), carried inside the binary: it needs no file from the build
/// machine at run time.
pub const BUILTIN_COMPONENT: &[u8] = include_bytes!(env!("SF_COMPONENT_PATH"));

/// Where `build.rs` put the component it built, for tests and benchmarks that
/// load it from a file as an embedder would.
pub fn default_component_path() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("SF_COMPONENT_PATH"))
}

/// Where `build.rs` put the agent component: the adapter (`agent/`)
/// composed with the connector, exporting one function per tool.
pub fn default_agent_component_path() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("SF_AGENT_COMPONENT_PATH"))
}

/// Where `build.rs` put the service component: the adapter (`service/`)
/// composed with the connector, a `wasi:http/incoming-handler` serving the
/// tools over HTTP.
pub fn default_service_component_path() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("SF_SERVICE_COMPONENT_PATH"))
}
