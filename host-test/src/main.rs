//! `sf-host`: the connector component on the command line.

mod agent;
mod bulk;
mod cli;
mod commands;
mod demo;
mod files;
mod login;
mod orgs;
mod output;
mod query;
mod remote;
mod serve;

use cli::{Cli, Command, Connection};
use orgs::OrgFile;
use salesforce_host::{wit, Client, ClientOptions, Connector, HostError, SessionHook};

use std::sync::Arc;

#[tokio::main]
async fn main() {
    let matches = <Cli as clap::CommandFactory>::command().get_matches();
    let mut cli = match <Cli as clap::FromArgMatches>::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    warn_of_secrets_in_arguments(&matches);
    let secrets = cli.conn.read_password_stdin();
    if let Err(e) = secrets.and_then(|()| cli.conn.prompt_password()) {
        eprintln!("error: {e}");
        std::process::exit(e.exit_code());
    }
    // stdout belongs to MCP under `mcp`: its errors go to stderr even with --json.
    let json = cli.json && !matches!(cli.command, Command::Mcp { .. });
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
    if agent::bytes(cli)?.is_some() {
        return Err(HostError::Usage(
            "--component is the agent component: it runs `tools` and `invoke`; the other \
             commands take the connector"
                .into(),
        ));
    }
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

async fn run(cli: Cli) -> Result<(), HostError> {
    use commands::Record;
    match &cli.command {
        Command::Demo => demo::run(cli.conn.component.clone()).await,
        Command::Mock { addr, http_addr } => commands::serve_mock(*addr, *http_addr).await,
        Command::Login(args) => login::login(&cli, args).await,
        Command::Logout { all } => login::logout(&cli, *all).await,
        Command::Orgs => list_orgs(cli.json),
        Command::Call {
            method,
            path,
            data,
            headers,
        } => commands::call(&cli, method, path, data.as_deref(), headers).await,
        Command::Query {
            soql,
            all,
            format,
            max,
        } => query::run(&cli, soql, *all, *format, *max).await,
        Command::Describe { sobject } => commands::describe(&cli, sobject.as_deref()).await,
        Command::Bulk(command) => bulk::run(&cli, command).await,
        Command::Download(args) => files::download(&cli, args).await,
        Command::Upload(args) => files::upload(&cli, args).await,
        Command::Get {
            sobject,
            id,
            fields,
        } => commands::record(&cli, sobject, Record::Get { id, fields }).await,
        Command::Create { sobject, data } => {
            commands::record(&cli, sobject, Record::Create { data }).await
        }
        Command::Update { sobject, id, data } => {
            commands::record(&cli, sobject, Record::Update { id, data }).await
        }
        Command::Upsert {
            sobject,
            field,
            value,
            data,
        } => commands::record(&cli, sobject, Record::Upsert { field, value, data }).await,
        Command::Delete { sobject, id } => {
            commands::record(&cli, sobject, Record::Delete { id }).await
        }
        Command::Tools => commands::tools(&cli).await,
        Command::Invoke { name, arguments } => commands::invoke(&cli, name, arguments).await,
        Command::Mcp { export_dir } => {
            let client = client(&cli).await?;
            sf_host::mcp::serve(client, cli.conn.guardrails(), export_dir.clone()).await
        }
        Command::Serve(args) => serve::run(&cli, args).await,
        Command::Remote(args) => remote::run(args).await,
        Command::Precompile { out } => commands::precompile(&cli, out),
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
