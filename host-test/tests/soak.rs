//! Load: 32 concurrent clients, each with its own session, run
//! authenticate + query + create (+ delete) against the mock on loopback.
//! Zero failures, one login per client (counted by the mock), and the host's
//! memory flat. The mock runs as its own process (`sf-host mock`), so the
//! resident memory measured here is the host's alone.
//!
//! The CI run is short; `SOAK_ROUNDS=1000 cargo test --release -p sf-host
//! --test soak -- --nocapture` is the long one (32 × 1200 rounds × 3 calls).

use salesforce_host::{ops, wit, Client, ClientOptions, Connector};
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::Arc;
use std::time::Instant;

const WORKERS: usize = 32;

fn plain() -> ops::QueryOptions {
    ops::QueryOptions {
        include_deleted: false,
        batch_size: None,
        follow_children: false,
    }
}

/// (current, peak) resident set size of this process in KiB, from /proc.
fn rss_kib() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// `sf-host mock` on free ports; its first stdout line says where and how.
fn start_mock() -> (Child, BufReader<ChildStdout>, Value) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sf-host"))
        .args([
            "mock",
            "--addr",
            "127.0.0.1:0",
            "--http-addr",
            "127.0.0.1:0",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("sf-host mock starts");
    let mut out = BufReader::new(child.stdout.take().expect("stdout"));
    let mut line = String::new();
    out.read_line(&mut line).expect("connection info");
    let info = serde_json::from_str(&line).expect("connection info is JSON");
    (child, out, info)
}

/// Stops the mock with SIGINT and returns its closing stats line.
fn stop_mock(child: Child, mut out: BufReader<ChildStdout>) -> Value {
    let killed = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(killed.success());
    let mut line = String::new();
    out.read_line(&mut line).expect("stats line");
    let mut child = child;
    let _ = child.wait();
    serde_json::from_str(&line).expect("stats are JSON")
}

fn config(info: &Value) -> wit::Config {
    let s = |k: &str| info[k].as_str().expect(k).to_string();
    wit::Config {
        login_url: Some(s("http_url")),
        client_id: Some(s("client_id")),
        client_secret: Some(s("client_secret")),
        timeout_ms: Some(10_000),
        ..wit::Config::new(wit::Grant::Password(wit::PasswordGrant {
            username: s("username"),
            password: s("password"),
            security_token: Some(s("security_token")),
        }))
    }
}

async fn rounds(connector: &Arc<Connector>, info: &Value, n: usize) -> usize {
    let tasks: Vec<_> = (0..WORKERS)
        .map(|w| {
            let mut c = Client::new(connector.clone(), config(info), ClientOptions::default())
                .expect("client");
            tokio::spawn(async move {
                let mut calls = 0;
                for round in 0..n {
                    let page = c
                        .query("SELECT Id, Name FROM Account LIMIT 10", plain())
                        .await
                        .expect("query");
                    assert_eq!(page.total_size, 10);
                    let created = c
                        .create_record("Account", &format!(r#"{{"Name":"Soak {w}-{round}"}}"#))
                        .await
                        .expect("create");
                    c.delete_record("Account", &created.id)
                        .await
                        .expect("delete");
                    calls += 3;
                }
                (calls, c.logins())
            })
        })
        .collect();
    let mut calls = 0;
    for t in tasks {
        let (n, logins) = t.await.expect("worker");
        assert_eq!(logins, 1, "one login per client, however many calls");
        calls += n;
    }
    calls
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_clients_reuse_tokens_and_stay_flat() {
    let rounds_per_phase: usize = std::env::var("SOAK_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(15);
    let (child, out, info) = start_mock();
    let connector =
        Arc::new(Connector::load(&sf_host::default_component_path()).expect("component loads"));

    // Warm-up: allocator pools, the engine's code, tokio's workers.
    let started = Instant::now();
    let warm_calls = rounds(&connector, &info, rounds_per_phase.div_ceil(5)).await;
    let (warm_rss, _) = rss_kib();
    let calls = rounds(&connector, &info, rounds_per_phase).await;
    let (end_rss, peak) = rss_kib();
    let elapsed = started.elapsed();
    let stats = stop_mock(child, out);

    let total = warm_calls + calls;
    println!(
        "{total} calls by {WORKERS} concurrent clients in {elapsed:.1?} ({:.0} calls/s); \
         mock: {} requests, {} logins; host RSS after warm-up {} MiB, at the end {} MiB, peak {} MiB",
        total as f64 / elapsed.as_secs_f64(),
        stats["requests"],
        stats["token_requests"],
        warm_rss / 1024,
        end_rss / 1024,
        peak / 1024
    );
    assert_eq!(
        stats["token_requests"],
        2 * WORKERS,
        "one login per client (the mock counted)"
    );
    assert_eq!(stats["requests"], total + 2 * WORKERS);
    // Flat: a leak of one instance per call would be megabytes per call.
    assert!(
        end_rss < warm_rss + 32 * 1024,
        "RSS grew from {warm_rss} KiB to {end_rss} KiB"
    );
}
