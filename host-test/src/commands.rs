//! One runner per CLI command that calls the component once: `call`,
//! `describe`, the record commands, `tools`, `invoke`, `precompile`, and
//! `mock` (which serves the mock instead).

use crate::cli::Cli;
use crate::{client, connector, BUILTIN_NAME};
use salesforce_host::{wit, Client, ClientOptions, Connector, HostError};
use serde_json::{json, Value};
use sf_host::BUILTIN_COMPONENT;
use std::io::Write;
use std::net::SocketAddr;
use std::path::Path;

/// `mock`: serve the mock in the foreground until Ctrl-C.
pub async fn serve_mock(https_addr: SocketAddr, http_addr: SocketAddr) -> Result<(), HostError> {
    let mock = salesforce_mock::Mock::start(salesforce_mock::MockOptions {
        https_addr,
        http_addr,
        ..Default::default()
    })
    .await
    .map_err(|e| HostError::Usage(format!("cannot start the mock: {e}")))?;
    println!("{}", mock.connection_info());
    let _ = std::io::stdout().flush();
    let _ = tokio::signal::ctrl_c().await;
    // Last line: what was served, for tests that run the mock apart.
    let served =
        json!({"requests": mock.requests().len(), "token_requests": mock.token_requests()});
    println!("{served}");
    mock.shutdown().await;
    Ok(())
}

/// `call`: one REST request as given; the body is printed as it came.
pub async fn call(
    cli: &Cli,
    method: &str,
    path: &str,
    data: Option<&str>,
    headers: &[String],
) -> Result<(), HostError> {
    let request = wit::Request {
        method: parse_method(method)?,
        path: path.to_string(),
        query: Vec::new(),
        headers: parse_headers(headers)?,
        body: data.map(read_data).transpose()?,
    };
    let response = client(cli).await?.call(&request).await?;
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(response.body.as_bytes());
    if !response.body.is_empty() && !response.body.ends_with('\n') {
        let _ = out.write_all(b"\n");
    }
    Ok(())
}

fn parse_method(raw: &str) -> Result<wit::Method, HostError> {
    Ok(match raw.to_ascii_uppercase().as_str() {
        "GET" => wit::Method::Get,
        "POST" => wit::Method::Post,
        "PATCH" => wit::Method::Patch,
        "PUT" => wit::Method::Put,
        "DELETE" => wit::Method::Delete,
        "HEAD" => wit::Method::Head,
        other => {
            return Err(HostError::Usage(format!(
                "unknown method `{other}`; use GET, POST, PATCH, PUT, DELETE or HEAD"
            )))
        }
    })
}

/// `--header 'Name: value'` options as pairs.
fn parse_headers(headers: &[String]) -> Result<Vec<(String, String)>, HostError> {
    headers
        .iter()
        .map(|h| {
            h.split_once(':')
                .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
                .ok_or_else(|| HostError::Usage(format!("--header `{h}` is not 'Name: value'")))
        })
        .collect()
}

/// `describe [SOBJECT]`: one object's describe, or the global one.
pub async fn describe(cli: &Cli, sobject: Option<&str>) -> Result<(), HostError> {
    let mut client = client(cli).await?;
    let body = match sobject {
        Some(name) => client.describe_sobject(name).await?,
        None => client.describe_global().await?,
    };
    print_json(&body.body);
    Ok(())
}

/// What a record command does to one record of an sObject.
pub enum Record<'a> {
    Get {
        id: &'a str,
        fields: &'a [String],
    },
    Create {
        data: &'a str,
    },
    Update {
        id: &'a str,
        data: &'a str,
    },
    Upsert {
        field: &'a str,
        value: &'a str,
        data: &'a str,
    },
    Delete {
        id: &'a str,
    },
}

/// `get`, `create`, `update`, `upsert`, `delete`: the record, or a JSON
/// line saying what was written.
pub async fn record(cli: &Cli, sobject: &str, op: Record<'_>) -> Result<(), HostError> {
    let mut client = client(cli).await?;
    let written = match op {
        Record::Get { id, fields } => {
            print_json(&client.get_record(sobject, id, fields).await?.body);
            return Ok(());
        }
        Record::Create { data } => {
            let id = client.create_record(sobject, &read_data(data)?).await?.id;
            json!({"id": id, "success": true})
        }
        Record::Update { id, data } => {
            client.update_record(sobject, id, &read_data(data)?).await?;
            json!({"id": id, "success": true})
        }
        Record::Upsert { field, value, data } => {
            let o = client
                .upsert_record(sobject, field, value, &read_data(data)?)
                .await?;
            json!({"id": o.id, "created": o.created, "success": true})
        }
        Record::Delete { id } => {
            client.delete_record(sobject, id).await?;
            json!({"id": id, "success": true})
        }
    };
    println!("{written}");
    Ok(())
}

/// `tools`: the catalog as MCP's `tools/list`. Listing needs no login: the
/// catalog is part of the component, so a missing credential is no error.
pub async fn tools(cli: &Cli) -> Result<(), HostError> {
    if let Some(agent) = crate::agent::load(cli)? {
        crate::agent::tools(&agent);
        return Ok(());
    }
    let placeholder =
        wit::Config::new(wit::Grant::ClientCredentials(wit::ClientCredentialsGrant {
            basic_auth: false,
        }));
    let config = cli.conn.config(None).unwrap_or(placeholder);
    let client = Client::new(connector(cli)?, config, ClientOptions::default())?;
    let tools = sf_host::mcp::catalog(&client).await?;
    let listing = serde_json::to_string_pretty(&json!({"tools": tools})).unwrap_or_default();
    println!("{listing}");
    Ok(())
}

/// `invoke NAME ARGUMENTS`: one tool, as an agent would call it.
pub async fn invoke(cli: &Cli, name: &str, arguments: &str) -> Result<(), HostError> {
    if let Some(agent) = crate::agent::load(cli)? {
        let out = crate::agent::invoke(cli, &agent, name, &read_data(arguments)?).await?;
        print_json(&out);
        return Ok(());
    }
    let out = client(cli)
        .await?
        .invoke_within(&cli.conn.guardrails(), name, &read_data(arguments)?)
        .await?;
    print_json(&out);
    Ok(())
}

/// `precompile OUT`: native code for this machine, loaded only with
/// `--precompiled`.
pub fn precompile(cli: &Cli, out: &Path) -> Result<(), HostError> {
    match &cli.conn.component {
        Some(path) => Connector::precompile(path, out)?,
        None => Connector::precompile_bytes(BUILTIN_COMPONENT, BUILTIN_NAME.as_ref(), out)?,
    }
    eprintln!("wrote {}", out.display());
    Ok(())
}

/// A JSON argument given inline or as @FILE.
pub fn read_data(data: &str) -> Result<String, HostError> {
    match data.strip_prefix('@') {
        Some(path) => std::fs::read_to_string(path)
            .map_err(|e| HostError::Usage(format!("cannot read {path}: {e}"))),
        None => Ok(data.to_string()),
    }
}

/// Pretty-prints JSON text; anything else as it is.
pub fn print_json(text: &str) {
    match serde_json::from_str::<Value>(text) {
        Ok(v) => println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default()),
        Err(_) => println!("{text}"),
    }
}
