//! W6: the connector served by `sf-host serve` workers over wRPC on NATS,
//! under 32 concurrent callers, with 1 and 2 workers, beside the same load
//! straight through `sf_host::Client` in one process.
//!
//! `cargo bench -p sf-host --bench scale [-- --quick]` prints a markdown
//! table and writes bench/results/w6.md (`SF_BENCH_COMPONENT=x.wasm` runs
//! another build of the component, in the workers and in process). Everything runs on this machine
//! and on loopback: a NATS server with JetStream, 4 mock orgs (in this
//! process), the workers (child processes), and the callers.

// Shared with tests/scale_out.rs, which uses more of it.
#[allow(dead_code)]
#[path = "../tests/support/fleet.rs"]
mod fleet;

use fleet::{Nats, Orgs, Worker, PREFIX};
use futures::stream::{self, StreamExt};
use salesforce_host::{wit, Client, ClientOptions, Connector};
use sf_host::wrpc::caller::{types, Caller};
use std::sync::Arc;
use std::time::{Duration, Instant};

const CALLERS: usize = 32;
const ORGS: usize = 4;
const PATH: &str = "/services/data/v66.0/limits";

struct Row {
    name: String,
    calls: usize,
    wall: Duration,
    latencies: Vec<Duration>,
    worker_rss: Vec<u64>,
    logins: Vec<usize>,
}

impl Row {
    fn percentile(&self, p: f64) -> Duration {
        let mut l = self.latencies.clone();
        l.sort();
        let i = ((l.len() as f64 - 1.0) * p).round() as usize;
        l[i]
    }

    fn markdown(&self) -> String {
        let rss = match self.worker_rss.as_slice() {
            [] => "—".to_string(),
            all => all
                .iter()
                .map(|b| format!("{:.1} MiB", *b as f64 / 1048576.0))
                .collect::<Vec<_>>()
                .join(", "),
        };
        format!(
            "| {} | {:.0} calls/s | {:.2} ms | {:.2} ms | {} | {:?} |",
            self.name,
            self.calls as f64 / self.wall.as_secs_f64(),
            self.percentile(0.50).as_secs_f64() * 1e3,
            self.percentile(0.99).as_secs_f64() * 1e3,
            rss,
            self.logins,
        )
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let calls = if quick { 2_000 } else { 10_000 };
    let mut rows = Vec::new();
    rows.push(in_process(calls).await);
    for workers in [1, 2] {
        rows.push(over_nats(workers, calls).await);
    }
    let table = report(&rows, calls);
    println!("{table}");
    if !quick {
        let out = concat!(env!("CARGO_MANIFEST_DIR"), "/../bench/results/w6.md");
        std::fs::write(out, &table).expect("write bench/results/w6.md");
        eprintln!("bench: wrote bench/results/w6.md");
    }
}

/// `calls` GETs spread over the orgs, `CALLERS` at a time; each call's
/// latency, and the wall time of them all.
async fn drive<F, Fut>(calls: usize, call: F) -> (Duration, Vec<Duration>)
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = Result<(), String>>,
{
    let started = Instant::now();
    let latencies: Vec<Duration> = stream::iter(0..calls)
        .map(|i| {
            let f = call(i);
            async move {
                let t = Instant::now();
                f.await.expect("a W6 call fails");
                t.elapsed()
            }
        })
        .buffer_unordered(CALLERS)
        .collect()
        .await;
    (started.elapsed(), latencies)
}

async fn over_nats(workers: usize, calls: usize) -> Row {
    let nats = Nats::start();
    let orgs = Orgs::start(ORGS).await;
    let fleet: Vec<Worker> = (0..workers).map(|_| Worker::start(&nats, &orgs)).collect();
    let caller = Caller::connect(&nats.url, PREFIX).await.expect("caller");
    let request = types::Request {
        method: types::Method::Get,
        path: PATH.into(),
        query: vec![],
        headers: vec![],
        body: None,
    };
    let names = orgs.names();
    let one = |i: usize| {
        let (caller, request, org) = (&caller, &request, &names[i % ORGS]);
        async move {
            match caller.call(org, request).await {
                Ok(r) if r.status == 200 => Ok(()),
                Ok(r) => Err(format!("status {}", r.status)),
                Err(e) => Err(e.to_string()),
            }
        }
    };
    drive(CALLERS * 4, one).await;
    eprintln!("bench: W6 {workers} worker(s), {calls} calls");
    let (wall, latencies) = drive(calls, one).await;
    Row {
        name: format!(
            "{workers} worker{} over wRPC/NATS",
            if workers == 1 { "" } else { "s" }
        ),
        calls,
        wall,
        latencies,
        worker_rss: fleet.iter().filter_map(Worker::peak_rss).collect(),
        logins: orgs.logins(),
    }
}

/// The baseline: one process, one logged-in `Client` per org, forked per
/// call (a fresh instance each, as in the workers), no NATS.
async fn in_process(calls: usize) -> Row {
    let orgs = Orgs::start(ORGS).await;
    let path = std::env::var_os("SF_BENCH_COMPONENT")
        .map_or_else(sf_host::default_component_path, Into::into);
    let connector = Arc::new(Connector::load(&path).expect("component"));
    let mut clients = Vec::new();
    for mock in &orgs.mocks {
        let c = mock.credentials();
        let grant = wit::Grant::RefreshToken(wit::RefreshTokenGrant {
            refresh_token: c.refresh_token.clone(),
        });
        let mut config = wit::Config::new(grant);
        config.login_url = Some(mock.http_url());
        config.client_id = Some(c.client_id.clone());
        config.client_secret = Some(c.client_secret.clone());
        let mut client =
            Client::new(connector.clone(), config, ClientOptions::default()).expect("client");
        client.authenticate().await.expect("login");
        clients.push(client);
    }
    let request = salesforce_host::get(PATH);
    let one = |i: usize| {
        let parent = &clients[i % ORGS];
        let request = &request;
        async move {
            let mut client = parent.fork();
            client.restore_session(parent.current_session().cloned().expect("session"));
            match client.call(request).await {
                Ok(r) if r.status == 200 => Ok(()),
                Ok(r) => Err(format!("status {}", r.status)),
                Err(e) => Err(e.to_string()),
            }
        }
    };
    drive(CALLERS * 4, one).await;
    eprintln!("bench: W6 in one process, {calls} calls");
    let (wall, latencies) = drive(calls, one).await;
    Row {
        name: "sf_host::Client in one process".into(),
        calls,
        wall,
        latencies,
        worker_rss: vec![],
        logins: orgs.logins(),
    }
}

fn report(rows: &[Row], calls: usize) -> String {
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let mut out = format!(
        "### W6: {CALLERS} concurrent callers, {calls} GET calls over {ORGS} orgs\n\n\
         Load average at the end: {}. Everything shares this machine's cores: the \
         callers, NATS, the mock orgs and the workers.\n\n\
         | setup | throughput | p50 | p99 | peak RSS per worker | logins per org |\n\
         |---|---|---|---|---|---|\n",
        load.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    );
    for row in rows {
        out.push_str(&row.markdown());
        out.push('\n');
    }
    out
}
