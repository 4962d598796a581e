//! `--component salesforce_agent.wasm`: the agent component in place of the
//! connector. `tools` lists its functions and `invoke` calls one, with the
//! CLI's connection options handed to it as the `SF_*` variables it reads.

use crate::cli::{Cli, Connection};
use salesforce_host::egress::{Egress, Policy};
use salesforce_host::send::Sender;
use salesforce_host::{Agent, Guards, HostError};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;

/// The agent component's bytes, when `--component` names one (a check of
/// its custom sections only: nothing is compiled).
pub fn bytes(cli: &Cli) -> Result<Option<Vec<u8>>, HostError> {
    let Some(path) = &cli.conn.component else {
        return Ok(None);
    };
    let bytes = std::fs::read(path)
        .map_err(|e| HostError::Load(format!("cannot read {}: {e}", path.display())))?;
    Ok(Agent::is_agent(&bytes).then_some(bytes))
}

/// The agent component, compiled, when `--component` names one.
pub fn load(cli: &Cli) -> Result<Option<Agent>, HostError> {
    bytes(cli)?.map(|b| Agent::from_bytes(&b)).transpose()
}

/// `tools`: its functions in MCP's shape.
pub fn tools(agent: &Agent) {
    let tools: Vec<Value> = agent
        .tools()
        .iter()
        .map(|t| json!({"name": t.name, "description": t.description, "inputSchema": t.input_schema()}))
        .collect();
    let listing = serde_json::to_string_pretty(&json!({"tools": tools})).unwrap_or_default();
    println!("{listing}");
}

/// `invoke NAME ARGUMENTS`: one function, the connection as its environment.
pub async fn invoke(
    cli: &Cli,
    agent: &Agent,
    name: &str,
    arguments: &str,
) -> Result<String, HostError> {
    let arguments: Value = serde_json::from_str(arguments)
        .map_err(|e| HostError::Usage(format!("the arguments are not JSON: {e}")))?;
    let env = environment(&cli.conn)?;
    let extra_ca = match &cli.conn.ca_file {
        Some(p) => Some(std::fs::read_to_string(p).map_err(|e| {
            HostError::Usage(format!("cannot read --ca-file {}: {e}", p.display()))
        })?),
        None => None,
    };
    let policy = Policy::default();
    let login = cli.conn.login_url.as_deref();
    policy.allow_instances_of(
        login.unwrap_or("https://login.salesforce.com"),
        cli.conn.allowed_hosts.clone(),
    );
    if let Some(instance) = &cli.conn.instance_url {
        policy.allow(instance);
    }
    let egress = Egress {
        policy: Arc::new(policy),
        sender: Sender::new(extra_ca.as_deref()).map_err(HostError::Usage)?,
        denied: Arc::default(),
        log: cli
            .verbose
            .then(salesforce_host::egress::RequestLog::stderr),
    };
    let deadline = Duration::from_millis(u64::from(cli.conn.deadline_ms.unwrap_or(60_000)));
    let guards = Guards {
        deadline: deadline + Duration::from_secs(5),
        ..Guards::default()
    };
    agent.call(name, &arguments, &env, egress, guards).await
}

/// The `SF_*` variables the agent component reads, from the connection's
/// options (which came from the same variables or their flags).
fn environment(c: &Connection) -> Result<Vec<(String, String)>, HostError> {
    let key = match &c.private_key {
        Some(path) => Some(std::fs::read_to_string(path).map_err(|e| {
            HostError::Usage(format!("cannot read --private-key {}: {e}", path.display()))
        })?),
        None => None,
    };
    let grant = c
        .grant
        .and_then(|g| serde_json::to_value(g).ok())
        .and_then(|v| v.as_str().map(str::to_string));
    let number = |n: Option<u64>| n.map(|n| n.to_string());
    let vars = [
        ("SF_LOGIN_URL", c.login_url.clone()),
        ("SF_CLIENT_ID", c.client_id.clone()),
        ("SF_CLIENT_SECRET", c.client_secret.clone()),
        ("SF_GRANT", grant),
        ("SF_USERNAME", c.username.clone()),
        ("SF_PASSWORD", c.password.clone()),
        ("SF_SECURITY_TOKEN", c.security_token.clone()),
        ("SF_PRIVATE_KEY", key),
        ("SF_AUDIENCE", c.audience.clone()),
        ("SF_REFRESH_TOKEN", c.refresh_token.clone()),
        ("SF_ACCESS_TOKEN", c.access_token.clone()),
        ("SF_INSTANCE_URL", c.instance_url.clone()),
        ("SF_AUTH_URL", c.sfdx_url.clone()),
        ("SF_API_VERSION", c.api_version.clone()),
        ("SF_TIMEOUT_MS", number(c.timeout_ms.map(u64::from))),
        ("SF_DEADLINE_MS", number(c.deadline_ms.map(u64::from))),
        ("SF_MAX_RESPONSE_BYTES", number(c.max_response_bytes)),
        ("SF_READ_ONLY", c.read_only.then(|| "true".to_string())),
        (
            "SF_ALLOWED_OBJECTS",
            c.allowed_objects.as_ref().map(|l| l.join(",")),
        ),
        ("SF_MAX_ROWS", number(c.max_rows.map(u64::from))),
    ];
    Ok(vars
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k.to_string(), v)))
        .collect())
}
