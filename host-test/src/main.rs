//! `sf-host`: the connector component on the command line.

mod cli;
mod demo;
mod login;
mod orgs;
mod output;

use cli::{Cli, Command, Connection, Format};
use orgs::OrgFile;
use salesforce_host::{wit, Client, ClientOptions, Connector, HostError, SessionHook};
use serde_json::Value;
use std::io::{IsTerminal, Write};
use std::sync::Arc;

#[tokio::main]
async fn main() {
    let matches = <Cli as clap::CommandFactory>::command().get_matches();
    let mut cli = match <Cli as clap::FromArgMatches>::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    warn_of_secrets_in_arguments(&matches);
    if let Err(e) = cli.conn.read_password_stdin() {
        eprintln!("error: {e}");
        std::process::exit(e.exit_code());
    }
    // stdout belongs to MCP under `mcp`: its errors go to stderr even with --json.
    let json = cli.json && !matches!(cli.command, Command::Mcp);
    // A renewal that could not be stored fails the command after its output.
    let result = run(cli)
        .await
        .and_then(|()| orgs::unsaved().map_or(Ok(()), Err));
    let code = match result {
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

/// A secret typed as an argument is visible to every user of the machine
/// (`ps`, /proc) and stays in shell history: say so, once per option.
fn warn_of_secrets_in_arguments(matches: &clap::ArgMatches) {
    const SECRETS: [(&str, &str); 6] = [
        ("client_secret", "SF_CLIENT_SECRET"),
        ("password", "SF_PASSWORD or --password-stdin"),
        ("security_token", "SF_SECURITY_TOKEN"),
        ("refresh_token", "SF_REFRESH_TOKEN"),
        ("access_token", "SF_ACCESS_TOKEN"),
        ("sfdx_url", "SF_AUTH_URL"),
    ];
    let mut all = vec![matches];
    let mut at = matches;
    while let Some((_, sub)) = at.subcommand() {
        all.push(sub);
        at = sub;
    }
    for (id, instead) in SECRETS {
        let typed = all.iter().any(|m| {
            m.try_get_raw(id).is_ok_and(|v| v.is_some())
                && m.value_source(id) == Some(clap::parser::ValueSource::CommandLine)
        });
        if typed {
            let flag = id.replace('_', "-");
            eprintln!(
                "warning: --{flag} on the command line is visible to other users of this machine \
                 (process list) and stays in shell history; use {instead}"
            );
        }
    }
}

// The component carried in the binary; `--component` runs another.
use sf_host::BUILTIN_COMPONENT;
const BUILTIN_NAME: &str = "the built-in salesforce_connector.wasm";

fn connector(cli: &Cli) -> Result<Arc<Connector>, HostError> {
    if let Some(cwasm) = &cli.conn.precompiled {
        return Ok(Arc::new(Connector::load_precompiled(cwasm)?));
    }
    load_component(cli.conn.component.as_deref()).map(Arc::new)
}

/// `path`, or the built-in component.
pub(crate) fn load_component(path: Option<&std::path::Path>) -> Result<Connector, HostError> {
    match path {
        Some(path) => Connector::load(path),
        None => {
            let cache = salesforce_host::code_cache::default_dir();
            Connector::from_bytes(BUILTIN_COMPONENT, BUILTIN_NAME.as_ref(), cache.as_deref())
        }
    }
}

/// The component config for `conn`; an SFDX auth URL is parsed by the component.
async fn config(connector: &Connector, conn: &Connection) -> Result<wit::Config, HostError> {
    let sfdx = match &conn.sfdx_url {
        Some(url) => Some(salesforce_host::parse_sfdx_url(connector, url).await?),
        None => None,
    };
    conn.config(sfdx)
}

fn client_options(cli: &Cli, on_session: Option<SessionHook>) -> Result<ClientOptions, HostError> {
    let extra_ca_pem = match &cli.conn.ca_file {
        Some(p) => Some(std::fs::read_to_string(p).map_err(|e| {
            HostError::Usage(format!("cannot read --ca-file {}: {e}", p.display()))
        })?),
        None => None,
    };
    Ok(ClientOptions {
        extra_ca_pem,
        log: cli
            .verbose
            .then(salesforce_host::egress::RequestLog::stderr),
        on_session,
        ..Default::default()
    })
}

/// The client for a command. With `--org` it resumes the stored session (no
/// login until it expires) and stores every renewal.
async fn client(cli: &Cli) -> Result<Client, HostError> {
    let file = cli.conn.org.as_deref().map(OrgFile::open).transpose()?;
    let conn = match &file {
        Some(f) => f.org().options(&cli.conn)?,
        None => cli.conn.clone(),
    };
    let connector = connector(cli)?;
    let config = config(&connector, &conn).await?;
    let password = matches!(config.grant, wit::Grant::Password(_));
    let options = client_options(cli, file.as_ref().map(OrgFile::hook))?;
    let mut client = Client::new(connector, config, options)?;
    let restored = file.is_some_and(|f| f.restore(&mut client, &conn));
    if password && !restored {
        eprintln!("{}", cli::PASSWORD_FLOW_WARNING);
    }
    Ok(client)
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
            let mock = salesforce_mock::Mock::start(salesforce_mock::MockOptions {
                https_addr: *addr,
                http_addr: *http_addr,
                ..Default::default()
            })
            .await
            .map_err(|e| HostError::Usage(format!("cannot start the mock: {e}")))?;
            println!("{}", mock.connection_info());
            let _ = std::io::stdout().flush();
            let _ = tokio::signal::ctrl_c().await;
            // Last line: what was served, for tests that run the mock apart.
            println!(
                "{}",
                serde_json::json!({
                    "requests": mock.requests().len(),
                    "token_requests": mock.token_requests(),
                })
            );
            mock.shutdown().await;
            Ok(())
        }
        Command::Login(args) => login::login(&cli, args).await,
        Command::Logout { all } => login::logout(&cli, *all).await,
        Command::Orgs => list_orgs(cli.json),
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
        Command::Query {
            soql,
            all,
            format,
            max,
        } => query(&cli, soql, *all, *format, *max).await,
        Command::Describe { sobject } => {
            let mut client = client(&cli).await?;
            let body = match sobject {
                Some(name) => client.describe_sobject(name).await?,
                None => client.describe_global().await?,
            };
            print_json(&body.body);
            Ok(())
        }
        Command::Get {
            sobject,
            id,
            fields,
        } => {
            let body = client(&cli).await?.get_record(sobject, id, fields).await?;
            print_json(&body.body);
            Ok(())
        }
        Command::Create { sobject, data } => {
            let id = client(&cli)
                .await?
                .create_record(sobject, &read_data(data)?)
                .await?
                .id;
            println!("{}", serde_json::json!({"id": id, "success": true}));
            Ok(())
        }
        Command::Update { sobject, id, data } => {
            client(&cli)
                .await?
                .update_record(sobject, id, &read_data(data)?)
                .await?;
            println!("{}", serde_json::json!({"id": id, "success": true}));
            Ok(())
        }
        Command::Upsert {
            sobject,
            field,
            value,
            data,
        } => {
            let o = client(&cli)
                .await?
                .upsert_record(sobject, field, value, &read_data(data)?)
                .await?;
            println!(
                "{}",
                serde_json::json!({"id": o.id, "created": o.created, "success": true})
            );
            Ok(())
        }
        Command::Delete { sobject, id } => {
            client(&cli).await?.delete_record(sobject, id).await?;
            println!("{}", serde_json::json!({"id": id, "success": true}));
            Ok(())
        }
        Command::Tools => {
            // Listing needs no login: the catalog is part of the component.
            let client = Client::new(
                connector(&cli)?,
                cli.conn
                    .config(None)
                    .unwrap_or_else(|_| placeholder_config()),
                ClientOptions::default(),
            )?;
            let tools = sf_host::mcp::catalog(&client).await?;
            println!(
                "{}",
                serde_json::to_string_pretty(&serde_json::json!({"tools": tools}))
                    .unwrap_or_default()
            );
            Ok(())
        }
        Command::Invoke { name, arguments } => {
            let out = client(&cli)
                .await?
                .invoke(name, &read_data(arguments)?)
                .await?;
            print_json(&out);
            Ok(())
        }
        Command::Mcp => sf_host::mcp::serve(client(&cli).await?).await,
        Command::Precompile { out } => {
            match &cli.conn.component {
                Some(path) => Connector::precompile(path, out)?,
                None => Connector::precompile_bytes(BUILTIN_COMPONENT, BUILTIN_NAME.as_ref(), out)?,
            }
            eprintln!("wrote {}", out.display());
            Ok(())
        }
    }
}

/// `orgs`: what is stored for each org, never a token or secret. An
/// unreadable file is reported and skipped, so one bad file hides no other.
fn list_orgs(json: bool) -> Result<(), HostError> {
    let store = orgs::OrgStore::locate()?;
    let mut rows = Vec::new();
    for alias in store.aliases()? {
        match store.load(&alias) {
            Ok(org) => rows.push(output::org_summary(&alias.to_string(), &org)),
            Err(e) => eprintln!("warning: {e}"),
        }
    }
    let dir = store.dir().display();
    if json {
        let v = serde_json::json!({"directory": dir.to_string(), "orgs": rows});
        println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
    } else if rows.is_empty() {
        eprintln!("no orgs stored in {dir}; `sf-host login --alias NAME` stores one");
    } else {
        print!("{}", output::orgs_table(&rows));
    }
    Ok(())
}

/// A JSON argument given inline or as @FILE.
fn read_data(data: &str) -> Result<String, HostError> {
    match data.strip_prefix('@') {
        Some(path) => std::fs::read_to_string(path)
            .map_err(|e| HostError::Usage(format!("cannot read {path}: {e}"))),
        None => Ok(data.to_string()),
    }
}

/// Pretty-prints JSON text; anything else as it is.
fn print_json(text: &str) {
    match serde_json::from_str::<Value>(text) {
        Ok(v) => println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default()),
        Err(_) => println!("{text}"),
    }
}

/// `tools` lists the catalog without credentials; the config is never used.
fn placeholder_config() -> wit::Config {
    wit::Config::new(wit::Grant::ClientCredentials(wit::ClientCredentialsGrant {
        basic_auth: false,
    }))
}

fn unexpected(reason: &str) -> HostError {
    HostError::Component(wit::Error::UnexpectedResponse(wit::Unexpected {
        status: 200,
        content_type: None,
        reason: reason.into(),
        excerpt: String::new(),
    }))
}

async fn query(
    cli: &Cli,
    soql: &str,
    all: bool,
    format: Format,
    max: Option<u64>,
) -> Result<(), HostError> {
    let mut client = client(cli).await?;
    let options = salesforce_host::ops::QueryOptions {
        include_deleted: all,
        ..salesforce_host::PLAIN_QUERY
    };
    let progress = std::io::stderr().is_terminal();
    // ndjson streams page by page; json and csv need every record first.
    let mut records: Vec<Value> = Vec::new();
    let (mut fetched, mut truncated) = (0usize, false);
    let mut stdout = std::io::stdout().lock();
    let mut page = client.query(soql, options).await?;
    let total = page.total_size;
    let mut seen = std::collections::HashSet::new();
    loop {
        let mut batch: Vec<Value> = serde_json::from_str(&page.records)
            .map_err(|_| unexpected("a query page is not JSON"))?;
        let room = max.map_or(usize::MAX, |m| {
            usize::try_from(m)
                .unwrap_or(usize::MAX)
                .saturating_sub(fetched)
        });
        let capped = batch.len() > room || (batch.len() == room && page.next_records_url.is_some());
        batch.truncate(room);
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
        if capped {
            truncated = true;
            break;
        }
        match page.next_records_url.take() {
            // Pages that lead back to one already fetched would loop forever.
            Some(next) if !seen.insert(next.clone()) => {
                return Err(unexpected(
                    "a nextRecordsUrl leads back to a page already fetched: the pages form a loop",
                ))
            }
            Some(next) => page = client.query_more(&next, options).await?,
            None => break,
        }
    }
    if progress {
        eprintln!();
    }
    if truncated {
        eprintln!("truncated: stopped at --max {fetched} of {total} records");
    }
    match format {
        Format::Ndjson => {}
        Format::Json => {
            let v = serde_json::json!({"totalSize": total, "done": !truncated, "truncated": truncated, "records": records});
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
