//! Load: 32 concurrent clients, each with its own session, run
//! authenticate + query + create (+ delete, so the mock's store stays the
//! same size) against the mock on loopback. Zero failures, one login per
//! client (the mock's token counter), and the host's memory flat.
//!
//! The CI run is short; `SOAK_ROUNDS=1000 cargo test --release --test soak
//! -- --nocapture` is the long one (32 × 1000 rounds × 3 calls).

mod common;

use common::{client, config, password_grant};
use sf_host::ops;
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

async fn rounds(mock: &sf_host::mock::Mock, n: usize) -> usize {
    let tasks: Vec<_> = (0..WORKERS)
        .map(|w| {
            let mut c = client(mock, config(mock, &mock.http_url(), password_grant(mock)));
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
    let mock = common::mock().await;
    common::connector(); // compiled before anything is measured

    // Warm-up: allocator pools, the engine's code, the mock's tables.
    let started = Instant::now();
    let warm_calls = rounds(&mock, rounds_per_phase.div_ceil(5)).await;
    mock.clear_requests();
    let (warm_rss, _) = rss_kib();

    let calls = rounds(&mock, rounds_per_phase).await;
    mock.clear_requests();
    let (end_rss, peak) = rss_kib();
    let elapsed = started.elapsed();
    let total = warm_calls + calls;
    println!(
        "{total} calls by {WORKERS} concurrent clients in {elapsed:.1?} ({:.0} calls/s); \
         {} logins; RSS after warm-up {} MiB, at the end {} MiB, peak {} MiB",
        total as f64 / elapsed.as_secs_f64(),
        mock.token_requests(),
        warm_rss / 1024,
        end_rss / 1024,
        peak / 1024
    );
    assert_eq!(mock.token_requests(), 2 * WORKERS, "one login per client");
    // Flat: a leak of one instance per call would be megabytes per call.
    assert!(
        end_rss < warm_rss + 64 * 1024,
        "RSS grew from {warm_rss} KiB to {end_rss} KiB"
    );
}
