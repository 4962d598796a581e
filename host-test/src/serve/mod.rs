//! `sf-host serve`: one worker of a queue group serving the connector's
//! calls over wRPC on NATS (wasmCloud's transport).
//!
//! The worker serves the stored orgs (`sf-host login --alias NAME`): their
//! credentials stay on the worker's disk, and a caller only names the org.
//! Sessions are shared by all workers through a JetStream KV bucket (see
//! `shared`). On SIGTERM or Ctrl-C the worker stops taking calls, finishes
//! the ones it holds, and exits.

mod convert;
mod handler;
mod seal;
mod shared;

use crate::cli::{Cli, ServeArgs};
use crate::orgs::{Alias, OrgStore};
use async_nats::jetstream::{self, kv};
use futures::stream::{select_all, StreamExt};
use handler::Worker;
use salesforce_host::{Client, Connector, HostError};
use sf_host::wrpc::liveness::{beat_subject, BEAT_EVERY};
use shared::{Org, Sessions};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

/// The longest a stopping worker waits for NATS to take its unsubscribe.
const FLUSH_AT_MOST: Duration = Duration::from_secs(2);
/// The longest a stopping worker waits for the calls it holds.
const DRAIN_AT_MOST: Duration = Duration::from_secs(65);

pub async fn run(cli: &Cli, args: &ServeArgs) -> Result<(), HostError> {
    let seal = seal::Seal::from_env()?;
    let connector = crate::connector(cli)?;
    let orgs = load_orgs(cli, &connector, &args.orgs).await?;
    let nats = async_nats::connect(&args.nats)
        .await
        .map_err(|e| HostError::Usage(format!("cannot reach NATS at {}: {e}", args.nats)))?;
    let kv = open_bucket(&nats, &args.bucket).await?;
    let id = worker_id();
    let sessions = Sessions::new(kv, seal, id.clone());
    let guardrails = cli.conn.guardrails();
    let worker = Worker::new(id, orgs, sessions, nats.clone(), guardrails);
    serve(worker, nats, args).await
}

/// Serves until SIGTERM or Ctrl-C, then drains.
async fn serve(
    worker: Worker,
    nats: async_nats::Client,
    args: &ServeArgs,
) -> Result<(), HostError> {
    let wrpc = wrpc_transport_nats::Client::new(
        nats.clone(),
        args.prefix.as_str(),
        Some(args.group.as_str().into()),
    )
    .await
    .map_err(|e| HostError::Io(format!("cannot serve on NATS: {e:#}")))?;
    let invocations = sf_host::wrpc::bindings::serve::serve(&wrpc, worker.clone())
        .await
        .map_err(|e| HostError::Io(format!("cannot serve on NATS: {e:#}")))?;
    let mut calls = select_all(invocations.into_iter().map(|(_, _, calls)| calls));
    let beating = tokio::spawn(beat(
        nats.clone(),
        beat_subject(&args.prefix),
        worker.id().to_string(),
    ));
    ready(&worker, args);
    let stop = stop_signal();
    tokio::pin!(stop);
    loop {
        tokio::select! {
            next = calls.next() => match next {
                Some(Ok(call)) => {
                    tokio::spawn(async move {
                        if let Err(e) = call.await {
                            eprintln!("warning: a call ended badly: {e:#}");
                        }
                    });
                }
                Some(Err(e)) => eprintln!("warning: a call could not be read: {e:#}"),
                None => break,
            },
            () = &mut stop => break,
        }
    }
    // Unsubscribe first, so new calls go to the other workers. A NATS
    // server that is gone must not hold the worker up.
    drop(calls);
    let _ = tokio::time::timeout(FLUSH_AT_MOST, nats.flush()).await;
    let _ = tokio::time::timeout(DRAIN_AT_MOST, worker.idle()).await;
    beating.abort();
    eprintln!(
        "worker {} stopped ({} logins and renewals)",
        worker.id(),
        worker.logins()
    );
    Ok(())
}

/// The first line on stdout, once the worker listens: who it is and what it
/// serves, as JSON (scripts and tests wait for it).
fn ready(worker: &Worker, args: &ServeArgs) {
    let line = serde_json::json!({
        "worker": worker.id(),
        "orgs": worker.org_names(),
        "nats": args.nats,
        "group": args.group,
        "prefix": args.prefix,
    });
    println!("{line}");
}

async fn beat(nats: async_nats::Client, subject: String, id: String) {
    let mut every = tokio::time::interval(BEAT_EVERY);
    loop {
        every.tick().await;
        let _ = nats.publish(subject.clone(), id.clone().into()).await;
    }
}

async fn stop_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

/// The stored orgs to serve, each with a client to fork calls from.
async fn load_orgs(
    cli: &Cli,
    connector: &Arc<Connector>,
    only: &[String],
) -> Result<BTreeMap<String, Org>, HostError> {
    let store = OrgStore::locate()?;
    let aliases = match only {
        [] => store.aliases()?,
        names => names
            .iter()
            .map(|n| Alias::parse(n))
            .collect::<Result<_, _>>()?,
    };
    if aliases.is_empty() {
        return Err(HostError::Usage(format!(
            "no org is stored in {}: store each with `sf-host login --alias NAME` first",
            store.dir().display()
        )));
    }
    let mut orgs = BTreeMap::new();
    for alias in aliases {
        let mut stored = store.load(&alias)?;
        let conn = stored.options(&cli.conn)?;
        let config = crate::config(connector, &conn).await?;
        let client = Client::new(connector.clone(), config, crate::client_options(cli, None)?)?;
        // The secret stays on this disk: never in the shared store.
        stored.client_secret = None;
        let name = alias.to_string();
        orgs.insert(
            name.clone(),
            Org {
                name,
                conn,
                stored,
                client,
            },
        );
    }
    Ok(orgs)
}

/// The bucket, created on first use with one revision of history: an old
/// session is of no use to anyone, and a sealed one kept around is only a
/// risk.
async fn open_bucket(nats: &async_nats::Client, bucket: &str) -> Result<kv::Store, HostError> {
    let js = jetstream::new(nats.clone());
    let config = kv::Config {
        bucket: bucket.to_string(),
        history: 1,
        description: "salesforce-connector sessions, sealed".into(),
        ..Default::default()
    };
    match js.create_key_value(config).await {
        Ok(store) => Ok(store),
        Err(_) => js.get_key_value(bucket).await.map_err(|e| {
            HostError::Usage(format!(
                "cannot open the KV bucket {bucket} (is JetStream on? `nats-server -js`): {e}"
            ))
        }),
    }
}

/// Unique among live workers: the process id and 48 random bits.
fn worker_id() -> String {
    let mut bytes = [0u8; 6];
    let _ = ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes);
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("w{}-{hex}", std::process::id())
}
