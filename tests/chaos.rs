//! Chaos: at least 10 000 hostile or broken responses through the real
//! component and host. Every call must end, in bounded time, with a value or a
//! typed component error: no trap, no hang, and no request to anywhere the
//! mock points at (the host's egress denial counter stays at zero because the
//! component refuses first).
//!
//! `CHAOS_SEED=<n>` replays a run (each worker has its own mock, seeded
//! `n + worker`, so its fault sequence is the same again);
//! `CHAOS_RESPONSES=<n>` sets how many responses to serve (default 10 000).

mod common;

use common::{client, config, password_grant};
use salesforce_host::{wit, HostError, PLAIN_QUERY};
use salesforce_mock::{Chaos, ChaosFault, Mock};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

const WORKERS: u64 = 8;
const TIMEOUT_MS: u32 = 200;
/// No single call may take longer: a timed-out request is not retried and
/// retries wait at most 20 ms, so even a paged query with a re-login stays
/// far below this.
const CALL_BOUND: Duration = Duration::from_secs(15);

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

#[derive(Default)]
struct Tally {
    calls: usize,
    responses: usize,
    outcomes: BTreeMap<String, usize>,
    faults: BTreeMap<String, usize>,
    slowest: Duration,
}

async fn worker(seed: u64, responses: usize) -> Tally {
    let mock = common::mock().await;
    let mut chaos = Chaos::new(seed);
    chaos.rate = 0.6;
    chaos.stall = Duration::from_millis(u64::from(TIMEOUT_MS) * 3 / 2);
    chaos.huge_bytes = 4 << 20;
    mock.knobs().set_chaos(Some(chaos));

    let mut cfg = config(&mock, &mock.http_url(), password_grant(&mock));
    cfg.timeout_ms = Some(TIMEOUT_MS);
    cfg.max_response_bytes = Some(1 << 20);
    cfg.retry = Some(wit::RetryPolicy {
        max_retries: 3,
        initial_backoff_ms: 1,
        max_backoff_ms: 20,
    });
    let mut client = client(&mock, cfg);
    let mut tally = Tally::default();
    let mut next: Option<String> = None;
    while mock.knobs().chaos_history().len() < responses {
        let started = Instant::now();
        let step = tally.calls % 6;
        let call = async {
            match step {
                0 => client.authenticate().await.map(drop),
                1 => client
                    .query("SELECT Id, Name FROM Account", PLAIN_QUERY)
                    .await
                    .map(|p| next = p.next_records_url),
                2 => match next.take() {
                    Some(n) => client.query_more(&n, PLAIN_QUERY).await.map(drop),
                    None => client.limits().await.map(drop),
                },
                3 => client
                    .get_record("Account", "001000000000001AAA", &["Name".into()])
                    .await
                    .map(drop),
                4 => client
                    .create_record("Account", r#"{"Name":"Chaos"}"#)
                    .await
                    .map(drop),
                _ => client
                    .query_all_pages("SELECT Id FROM Account", PLAIN_QUERY, Some(3000))
                    .await
                    .map(drop),
            }
        };
        let outcome = match tokio::time::timeout(CALL_BOUND, call).await {
            Ok(outcome) => outcome,
            Err(_) => panic!("seed {seed}: call {} (step {step}) hung", tally.calls),
        };
        tally.slowest = tally.slowest.max(started.elapsed());
        let kind = match &outcome {
            Ok(()) => "ok".to_string(),
            Err(e @ HostError::Component(_)) => e.kind().to_string(),
            Err(other) => panic!(
                "seed {seed}: call {} (step {step}) did not end in a typed result: {other}",
                tally.calls
            ),
        };
        *tally.outcomes.entry(kind).or_default() += 1;
        tally.calls += 1;
    }
    assert_eq!(
        client.denied_requests(),
        0,
        "seed {seed}: the component tried to send a request where the mock pointed it"
    );
    tally.responses = mock.knobs().chaos_history().len();
    for (name, n) in mock.knobs().chaos_served() {
        *tally.faults.entry(name).or_default() += n;
    }
    stop(mock).await;
    tally
}

async fn stop(mock: Mock) {
    mock.knobs().set_chaos(None);
    mock.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ten_thousand_hostile_responses_end_in_typed_results() {
    let seed = env_u64("CHAOS_SEED").unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(1)
    });
    let responses = env_u64("CHAOS_RESPONSES").unwrap_or(10_000);
    println!("chaos seed {seed} (replay with CHAOS_SEED={seed}), {responses} responses");
    let started = Instant::now();

    let per_worker = responses.div_ceil(WORKERS) as usize;
    let runs: Vec<_> = (0..WORKERS)
        .map(|w| tokio::spawn(worker(seed.wrapping_add(w), per_worker)))
        .collect();
    let mut total = Tally::default();
    for run in runs {
        let t = run.await.expect("worker finished");
        total.calls += t.calls;
        total.responses += t.responses;
        total.slowest = total.slowest.max(t.slowest);
        for (k, n) in t.outcomes {
            *total.outcomes.entry(k).or_default() += n;
        }
        for (k, n) in t.faults {
            *total.faults.entry(k).or_default() += n;
        }
    }

    println!(
        "{} responses, {} calls in {:.1?}; slowest call {:.1?}",
        total.responses,
        total.calls,
        started.elapsed(),
        total.slowest
    );
    println!("outcomes: {:?}", total.outcomes);
    println!("faults served: {:?}", total.faults);
    assert!(total.responses as u64 >= responses);
    assert!(
        total.outcomes.contains_key("ok"),
        "some calls must still work"
    );
    if responses >= 10_000 {
        for fault in ChaosFault::ALL {
            assert!(
                total.faults.get(fault.name()).is_some_and(|n| *n > 0),
                "seed {seed}: fault {} was never served",
                fault.name()
            );
        }
    }
}
