//! `sf-host serve` workers over wRPC on a real NATS server with JetStream:
//! load shared by a queue group, one login per org across workers, a worker
//! killed mid-run, refresh-token rotation under concurrency, and a restarted
//! worker that finds the shared session.

// Shared with the W6 benchmark, which uses more of it.
#[allow(dead_code)]
#[path = "support/fleet.rs"]
mod fleet;

use fleet::{Nats, Orgs, Worker, PREFIX};
use futures::stream::{self, StreamExt};
use sf_host::wrpc::caller::{types, CallError, Caller};
use std::time::{Duration, Instant};

const DEADLINE: Duration = Duration::from_secs(10);

async fn caller(nats: &Nats) -> Caller {
    Caller::connect(&nats.url, PREFIX)
        .await
        .expect("the caller connects")
        .with_deadline(DEADLINE)
}

fn limits_request() -> types::Request {
    types::Request {
        method: types::Method::Get,
        path: "/services/data/v66.0/limits".into(),
        query: vec![],
        headers: vec![],
        body: None,
    }
}

/// `n` reads spread over `orgs`, `concurrency` at a time; every error.
async fn reads(caller: &Caller, orgs: &[String], n: usize, concurrency: usize) -> Vec<String> {
    let request = limits_request();
    stream::iter(0..n)
        .map(|i| {
            let (org, request) = (&orgs[i % orgs.len()], &request);
            async move {
                match caller.call(org, request).await {
                    Ok(r) if r.status == 200 => None,
                    Ok(r) => Some(format!("{org}: status {}", r.status)),
                    Err(e) => Some(format!("{org}: {e}")),
                }
            }
        })
        .buffer_unordered(concurrency)
        .filter_map(|e| async { e })
        .collect()
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_workers_share_the_load_and_each_org_logs_in_once() {
    let nats = Nats::start();
    let orgs = Orgs::start(5).await;
    let workers = [Worker::start(&nats, &orgs), Worker::start(&nats, &orgs)];
    let caller = caller(&nats).await;
    assert_eq!(caller.orgs().await.unwrap(), orgs.names());

    let errors = reads(&caller, &orgs.names(), 1_000, 32).await;
    assert!(
        errors.is_empty(),
        "{} failed: {:?}",
        errors.len(),
        &errors[..3.min(errors.len())]
    );

    assert_eq!(
        orgs.logins(),
        vec![1; 5],
        "one login per org, whatever the worker count"
    );
    let taken = caller.taken_by();
    for w in &workers {
        let n = taken.get(&w.id).copied().unwrap_or(0);
        assert!(
            n >= 100,
            "worker {} took {n} of 1,001 calls: {taken:?}",
            w.id
        );
    }
    assert_eq!(taken.values().sum::<usize>(), 1_001);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_org_is_a_typed_error_naming_the_served_ones() {
    let nats = Nats::start();
    let orgs = Orgs::start(1).await;
    let _worker = Worker::start(&nats, &orgs);
    let caller = caller(&nats).await;
    match caller.call("nope", &limits_request()).await {
        Err(CallError::Salesforce(types::Error::InvalidRequest(p))) => {
            assert_eq!(p.field, "org");
            assert!(
                p.message.contains("`nope`") && p.message.contains("org0"),
                "{}",
                p.message
            );
        }
        other => panic!("expected invalid-request on org, got {other:?}"),
    }
    assert_eq!(
        orgs.logins(),
        vec![0],
        "nothing was sent for an unknown org"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_killed_mid_run_loses_no_read_and_performs_no_write_twice() {
    let nats = Nats::start();
    let orgs = Orgs::start(2).await;
    let mut doomed = Worker::start(&nats, &orgs);
    let _survivor = Worker::start(&nats, &orgs);
    let caller = caller(&nats).await;
    let names = orgs.names();
    assert!(reads(&caller, &names, 20, 8).await.is_empty(), "warm-up");
    // Every answer takes 400 ms, so calls are in flight when the worker dies.
    for m in &orgs.mocks {
        m.knobs().set_delay(Some(Duration::from_millis(400)));
    }

    let request = limits_request();
    let run = async {
        let caller = &caller;
        let reads = stream::iter(0..60).map(|i| {
            let (org, request) = (&names[i % 2], &request);
            async move { (Instant::now(), caller.call(org, request).await.map(|_| ())) }
        });
        let writes = stream::iter(0..20).map(|i| {
            let org = &names[i % 2];
            async move {
                let fields = format!(r#"{{"Name":"killed-run-{i}"}}"#);
                let r = caller.create_record(org, "Account", &fields).await;
                (i, r.map(|c| c.id))
            }
        });
        let reads = reads.buffer_unordered(40).collect::<Vec<_>>();
        let writes = writes.buffer_unordered(20).collect::<Vec<_>>();
        tokio::join!(reads, writes)
    };
    let kill = async {
        tokio::time::sleep(Duration::from_millis(200)).await;
        doomed.kill();
    };
    let ((reads, writes), ()) = tokio::join!(run, kill);

    for (started, r) in &reads {
        assert!(r.is_ok(), "a read is resent to the survivor: {r:?}");
        assert!(
            started.elapsed() < DEADLINE + Duration::from_secs(2),
            "no call outlives its deadline"
        );
    }
    let unknown = writes
        .iter()
        .filter(|(_, r)| matches!(r, Err(CallError::OutcomeUnknown { .. })))
        .count();
    assert!(
        unknown > 0,
        "some writes were in flight on the killed worker: {writes:?}"
    );
    for (i, r) in &writes {
        assert!(
            matches!(r, Ok(_) | Err(CallError::OutcomeUnknown { .. })),
            "write {i}: {r:?}"
        );
    }
    for m in &orgs.mocks {
        m.knobs().set_delay(None);
    }
    // Each name exists at most once, and every write reported done exists.
    for (i, r) in &writes {
        let org = &names[i % 2];
        let soql = format!("SELECT Id FROM Account WHERE Name = 'killed-run-{i}'");
        let options = sf_host::wrpc::caller::operations::QueryOptions {
            include_deleted: false,
            batch_size: None,
            follow_children: false,
        };
        let page = caller.query(org, &soql, &options).await.expect("query");
        assert!(page.total_size <= 1, "write {i} was performed twice");
        if r.is_ok() {
            assert_eq!(page.total_size, 1, "write {i} was reported done");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_expiring_under_load_are_renewed_once_and_no_refresh_token_is_reused() {
    let nats = Nats::start();
    let orgs = Orgs::start(3).await;
    let _workers = [Worker::start(&nats, &orgs), Worker::start(&nats, &orgs)];
    let caller = caller(&nats).await;
    let names = orgs.names();
    const ROUNDS: usize = 4;
    for _ in 0..ROUNDS {
        let errors = reads(&caller, &names, 150, 32).await;
        assert!(errors.is_empty(), "{errors:?}");
        // Every token issued so far dies: both workers hit 401 at once.
        for m in &orgs.mocks {
            m.knobs().expire_all_sessions();
        }
    }
    let errors = reads(&caller, &names, 150, 32).await;
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(orgs.reuses(), 0, "no refresh token was ever sent twice");
    assert_eq!(
        orgs.logins(),
        vec![1 + ROUNDS; 3],
        "one login, then exactly one renewal per expiry, per org"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claim_left_by_a_dead_worker_lapses_and_another_worker_logs_in() {
    let nats = Nats::start();
    let orgs = Orgs::start(1).await;
    // A 2 s deadline makes the claim's lease 7 s (deadline + 5 s).
    let short = [("SF_DEADLINE_MS", "2000")];
    let mut doomed = Worker::start_with(&nats, &orgs, &short);
    let caller = caller(&nats).await;
    // The doomed worker claims the org and is killed while its login waits.
    orgs.mocks[0]
        .knobs()
        .set_delay(Some(Duration::from_secs(30)));
    let first = {
        let caller = caller.clone();
        tokio::spawn(async move { caller.call("org0", &limits_request()).await })
    };
    tokio::time::sleep(Duration::from_millis(700)).await;
    doomed.kill();
    orgs.mocks[0].knobs().set_delay(None);
    first.abort();

    let _survivor = Worker::start_with(&nats, &orgs, &short);
    let started = Instant::now();
    let r = caller.call("org0", &limits_request()).await;
    assert!(r.is_ok(), "the survivor took the lapsed claim over: {r:?}");
    assert!(
        started.elapsed() > Duration::from_secs(3),
        "it waited for the claim to lapse rather than log in beside it"
    );
    assert_eq!(orgs.reuses(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_started_later_uses_the_shared_session_without_a_login() {
    let nats = Nats::start();
    let orgs = Orgs::start(2).await;
    let mut first = Worker::start(&nats, &orgs);
    let caller = caller(&nats).await;
    assert!(reads(&caller, &orgs.names(), 10, 4).await.is_empty());
    assert_eq!(orgs.logins(), vec![1, 1]);
    assert!(first.stop().success(), "a stopped worker exits cleanly");

    let second = Worker::start(&nats, &orgs);
    assert!(reads(&caller, &orgs.names(), 10, 4).await.is_empty());
    assert_eq!(
        orgs.logins(),
        vec![1, 1],
        "the new worker found the shared sessions"
    );
    assert!(caller.taken_by().contains_key(&second.id));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_shared_store_holds_no_readable_token() {
    let nats = Nats::start();
    let orgs = Orgs::start(1).await;
    let _worker = Worker::start(&nats, &orgs);
    let caller = caller(&nats).await;
    assert!(reads(&caller, &orgs.names(), 2, 1).await.is_empty());

    let client = async_nats::connect(&nats.url).await.unwrap();
    let kv = async_nats::jetstream::new(client)
        .get_key_value("salesforce-sessions")
        .await
        .unwrap();
    let sealed = kv.get("org.org0").await.unwrap().expect("the org's entry");
    let text = String::from_utf8_lossy(&sealed);
    for plain in [
        "access_token",
        "refresh_token",
        "00D000000000001!AQ",
        "5Aep861mock",
        "instance_url",
    ] {
        assert!(!text.contains(plain), "the entry shows {plain}");
    }
}

/// README "Scale out": the walk-through script, as a user runs it.
#[test]
fn the_readme_walkthrough_runs_on_loopback() {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../hosts/nats/try.sh");
    let out = std::process::Command::new("bash")
        .arg(script)
        .env("SF_HOST", env!("CARGO_BIN_EXE_sf-host"))
        .env_remove("SF_HOST_HOME")
        .output()
        .expect("bash runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("20 limits calls answered"), "{stdout}");
    assert!(
        stdout.contains(r#""token_requests":1"#),
        "one login in all: {stdout}"
    );
    assert!(
        stdout.lines().any(|l| l == "demo"),
        "the served orgs: {stdout}"
    );
}
