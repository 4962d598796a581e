//! `sf-host remote`: calls to `sf-host serve` workers from the command
//! line, through the same Rust caller as code uses (a smoke test for a
//! fleet, and the README's walk-through).

use crate::cli::{RemoteArgs, RemoteCommand};
use salesforce_host::HostError;
use sf_host::wrpc::caller::{operations, types, CallError, Caller};
use std::time::Duration;

pub async fn run(args: &RemoteArgs) -> Result<(), HostError> {
    let caller = Caller::connect(&args.nats, &args.prefix)
        .await
        .map_err(failed)?
        .with_deadline(Duration::from_millis(args.wait_ms));
    let out = match &args.command {
        RemoteCommand::Orgs => caller.orgs().await.map(|o| o.join("\n")),
        RemoteCommand::Call {
            org,
            method,
            path,
            data,
        } => {
            let request = types::Request {
                method: method_of(method)?,
                path: path.clone(),
                query: Vec::new(),
                headers: Vec::new(),
                body: data.clone(),
            };
            caller.call(org, &request).await.map(|r| r.body)
        }
        RemoteCommand::Query { org, soql } => {
            let options = operations::QueryOptions {
                include_deleted: false,
                batch_size: None,
                follow_children: false,
            };
            caller.query(org, soql, &options).await.map(|p| p.records)
        }
        RemoteCommand::Tools => caller.tools().await.map(|tools| {
            let names: Vec<String> = tools.into_iter().map(|t| t.name).collect();
            names.join("\n")
        }),
        RemoteCommand::Invoke {
            org,
            name,
            arguments,
        } => caller.invoke(org, name, arguments).await,
    };
    println!("{}", out.map_err(failed)?);
    Ok(())
}

fn method_of(raw: &str) -> Result<types::Method, HostError> {
    Ok(match raw.to_ascii_uppercase().as_str() {
        "GET" => types::Method::Get,
        "POST" => types::Method::Post,
        "PATCH" => types::Method::Patch,
        "PUT" => types::Method::Put,
        "DELETE" => types::Method::Delete,
        "HEAD" => types::Method::Head,
        other => {
            return Err(HostError::Usage(format!(
                "unknown method `{other}`; use GET, POST, PATCH, PUT, DELETE or HEAD"
            )))
        }
    })
}

fn failed(e: CallError) -> HostError {
    HostError::Io(e.to_string())
}
