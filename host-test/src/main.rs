//! `sf-host`: the connector component on the command line.

mod cli;
mod demo;
mod output;

use clap::Parser;
use cli::{Cli, Command, Format};
use serde_json::Value;
use sf_host::{wit, Client, ClientOptions, Connector, HostError};
use std::io::{IsTerminal, Write};
use std::sync::Arc;

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    let json = cli.json;
    let code = match run(cli).await {
        Ok(()) => 0,
        Err(e) => {
            if json {
                let v = serde_json::json!({"error": {"kind": e.kind(), "exit_code": e.exit_code(), "message": e.to_string()}});
                println!("{v}");
            } else {
                eprintln!("error: {e}");
            }
            e.exit_code()
        }
    };
    std::process::exit(code);
}

fn connector(cli: &Cli) -> Result<Arc<Connector>, HostError> {
    let path = cli
        .conn
        .component
        .clone()
        .unwrap_or_else(sf_host::default_component_path);
    Ok(Arc::new(Connector::load(&path)?))
}

async fn client(cli: &Cli) -> Result<Client, HostError> {
    let connector = connector(cli)?;
    let sfdx = match &cli.conn.sfdx_url {
        Some(url) => Some(sf_host::parse_sfdx_url(&connector, url).await?),
        None => None,
    };
    let config = cli.conn.config(sfdx)?;
    let extra_ca_pem = match &cli.conn.ca_file {
        Some(p) => Some(std::fs::read_to_string(p).map_err(|e| {
            HostError::Usage(format!("cannot read --ca-file {}: {e}", p.display()))
        })?),
        None => None,
    };
    Client::new(
        connector,
        config,
        ClientOptions {
            extra_ca_pem,
            ..Default::default()
        },
    )
}

fn method(raw: &str) -> Result<wit::Method, HostError> {
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

async fn run(cli: Cli) -> Result<(), HostError> {
    match &cli.command {
        Command::Demo => demo::run(cli.conn.component.clone()).await,
        Command::Mock { addr, http_addr } => {
            let mock = sf_host::mock::Mock::start(sf_host::mock::MockOptions {
                https_addr: *addr,
                http_addr: *http_addr,
                ..Default::default()
            })
            .await
            .map_err(|e| HostError::Usage(format!("cannot start the mock: {e}")))?;
            println!("{}", mock.connection_info());
            let _ = std::io::stdout().flush();
            let _ = tokio::signal::ctrl_c().await;
            mock.shutdown().await;
            Ok(())
        }
        Command::Login { show_token } => {
            let mut client = client(&cli).await?;
            let session = client.authenticate().await?;
            if cli.json {
                println!("{}", output::session_json(session, *show_token));
            } else {
                print!("{}", output::session_text(session, *show_token));
            }
            Ok(())
        }
        Command::Call {
            method: m,
            path,
            data,
            headers,
        } => {
            let body = match data.as_deref() {
                Some(d) if d.starts_with('@') => Some(
                    std::fs::read_to_string(&d[1..])
                        .map_err(|e| HostError::Usage(format!("cannot read {}: {e}", &d[1..])))?,
                ),
                other => other.map(str::to_string),
            };
            let headers = headers
                .iter()
                .map(|h| {
                    h.split_once(':')
                        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
                        .ok_or_else(|| {
                            HostError::Usage(format!("--header `{h}` is not 'Name: value'"))
                        })
                })
                .collect::<Result<Vec<_>, _>>()?;
            let request = wit::Request {
                method: method(m)?,
                path: path.clone(),
                query: Vec::new(),
                headers,
                body,
            };
            let mut client = client(&cli).await?;
            let response = client.call(&request).await?;
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(response.body.as_bytes());
            if !response.body.is_empty() && !response.body.ends_with('\n') {
                let _ = out.write_all(b"\n");
            }
            Ok(())
        }
        Command::Query { soql, all, format } => query(&cli, soql, *all, *format).await,
        Command::Precompile { out } => {
            let path = cli
                .conn
                .component
                .clone()
                .unwrap_or_else(sf_host::default_component_path);
            Connector::precompile(&path, out)?;
            eprintln!("wrote {}", out.display());
            Ok(())
        }
    }
}

fn unexpected(reason: &str) -> HostError {
    HostError::Component(wit::Error::UnexpectedResponse(wit::Unexpected {
        status: 200,
        content_type: None,
        reason: reason.into(),
        excerpt: String::new(),
    }))
}

async fn query(cli: &Cli, soql: &str, all: bool, format: Format) -> Result<(), HostError> {
    let mut client = client(cli).await?;
    let options = sf_host::ops::QueryOptions {
        include_deleted: all,
        batch_size: None,
    };
    let progress = std::io::stderr().is_terminal();
    // ndjson streams page by page; json and csv need every record first.
    let mut records: Vec<Value> = Vec::new();
    let mut fetched = 0usize;
    let mut stdout = std::io::stdout().lock();
    let mut page = client.query(soql, options).await?;
    let total = page.total_size;
    loop {
        let batch: Vec<Value> = serde_json::from_str(&page.records)
            .map_err(|_| unexpected("a query page is not JSON"))?;
        fetched += batch.len();
        if format == Format::Ndjson {
            for r in &batch {
                let _ = writeln!(stdout, "{r}");
            }
        } else {
            records.extend(batch);
        }
        if progress {
            eprint!("\r{fetched} / {total} records");
        }
        match page.next_records_url.take() {
            Some(next) => page = client.query_more(&next, options).await?,
            None => break,
        }
    }
    if progress {
        eprintln!();
    }
    match format {
        Format::Ndjson => {}
        Format::Json => {
            let v = serde_json::json!({"totalSize": total, "done": true, "records": records});
            let _ = writeln!(
                stdout,
                "{}",
                serde_json::to_string_pretty(&v).unwrap_or_default()
            );
        }
        Format::Csv => {
            let _ = stdout.write_all(output::csv(&records).as_bytes());
        }
    }
    Ok(())
}
