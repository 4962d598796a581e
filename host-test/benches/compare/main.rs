//! Issue 5's benchmark: the component in sf-host side by side with a native
//! Rust client (the floor), simple-salesforce and jsforce, on the project's
//! mock over real HTTPS on loopback, runs alternating, medians and spread,
//! wall and client CPU time; Bulk API 2.0 at 100,000 rows (issue 14); plus
//! the component's size, load and instantiate times, and memory.
//!
//! `cargo bench -p sf-host --bench compare` writes bench/results/latest.{md,json,png};
//! `-- --quick` is a short try-out written under the target directory;
//! `-- --w1` runs W1 alone and only prints it.
//! README "Benchmarks" says what each workload is.
//!
//! This binary is also started by itself: `__mock N` (the mock process),
//! `__native-cold` (W4 of the native client), `__probe-memory`,
//! `__probe-export N FILE`, `__timed` (the launcher of W4 and W5).

mod bulk;
mod chart;
mod clock;
mod cold;
mod component;
mod contenders;
mod export_memory;
mod launcher;
mod mock_process;
mod native;
mod probes;
mod report;
mod scripts;
mod stats;
mod w1_only;
mod workloads;

use component::ComponentClient;
use contenders::{Client, Contender};
use mock_process::MockProcess;
use native::Native;
use report::{Report, Row};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;
use workloads::Workload;

/// How much of everything one invocation runs.
#[derive(Clone, Debug, Serialize)]
pub struct Settings {
    /// Alternating runs of W1-W3 per contender.
    pub runs: usize,
    pub w1_calls: usize,
    /// Logins + 10,000-record queries per W2 run.
    pub w2_iterations: usize,
    /// 200 singles + one collection of 200 per W3 run.
    pub w3_iterations: usize,
    pub cold_runs: usize,
    /// Alternating runs of W5a and W5b per bulk contender.
    pub bulk_runs: usize,
    /// Rows of each export whose memory is measured; sizes beyond the
    /// benchmark mock's 100,000 Accounts get a mock of their own.
    pub export_memory_rows: Vec<usize>,
    /// Repetitions of each load / instantiate / round-trip figure (×20 for
    /// the sub-millisecond ones).
    pub probe_samples: usize,
}

impl Settings {
    fn full() -> Settings {
        Settings {
            runs: 11,
            w1_calls: 300,
            w2_iterations: 2,
            w3_iterations: 1,
            cold_runs: 9,
            bulk_runs: 3,
            export_memory_rows: vec![10_000, 100_000, 1_000_000],
            probe_samples: 50,
        }
    }

    fn quick() -> Settings {
        Settings {
            runs: 3,
            w1_calls: 50,
            w2_iterations: 1,
            w3_iterations: 1,
            cold_runs: 3,
            bulk_runs: 1,
            export_memory_rows: vec![10_000, 100_000],
            probe_samples: 10,
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // `cargo bench` passes `--bench`; `cargo test --all-targets` runs bench
    // targets without it, and must not start a benchmark.
    let bench = args.iter().any(|a| a == "--bench");
    let args: Vec<String> = args.into_iter().filter(|a| a != "--bench").collect();
    match args.first().map(String::as_str) {
        Some("__mock") => mock_process::serve(args[1].parse().expect("extra accounts")),
        Some("__native-cold") => native::cold_main(),
        Some("__probe-memory") => probes::memory_main(),
        Some("__probe-export") => export_memory::probe_main(&args[1..]),
        Some("__timed") => launcher::main(&args[1..]),
        _ if !bench => {
            eprintln!("compare: a benchmark; run it with `cargo bench -p sf-host --bench compare`")
        }
        Some("--quick") => run(Settings::quick(), true),
        Some("--w1") => w1_only::run(&Settings::full()),
        None => run(Settings::full(), false),
        Some(other) => {
            eprintln!(
                "usage: cargo bench -p sf-host --bench compare [-- --quick | --w1] (not `{other}`)"
            );
            std::process::exit(2);
        }
    }
}

fn output(cmd: &str, args: &[&str]) -> String {
    std::process::Command::new(cmd)
        .args(args)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|| "unknown".into())
}

/// The wasmtime this host was built with, from the lockfile.
fn wasmtime_version(repo: &Path) -> String {
    let lock = std::fs::read_to_string(repo.join("Cargo.lock")).unwrap_or_default();
    lock.split("[[package]]")
        .find(|p| p.contains("name = \"wasmtime\"\n"))
        .and_then(|p| p.lines().find_map(|l| l.strip_prefix("version = ")))
        .map_or("unknown".into(), |v| v.trim_matches('"').to_string())
}

/// The component and the native client, logged in at `url`.
async fn rust_contenders(
    connector: &Arc<salesforce_host::Connector>,
    mock: &MockProcess,
    url: &str,
) -> Vec<Contender> {
    vec![
        Contender {
            name: contenders::COMPONENT,
            client: Client::Component(Box::new(
                ComponentClient::login(connector.clone(), &mock.info, url).await,
            )),
        },
        Contender {
            name: contenders::NATIVE,
            client: Client::Native(Native::login(&mock.info, url).await, mock.info.clone()),
        },
    ]
}

fn run(settings: Settings, quick: bool) {
    let started = Instant::now();
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace")
        .to_path_buf();
    let cache = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("compare");
    std::fs::create_dir_all(&cache).expect("cache dir");
    let machine = report::Machine::this();

    let scripts = vec![
        scripts::simple_salesforce(&repo, &cache),
        scripts::jsforce(&repo, &cache),
    ];
    eprintln!("bench: starting the mock (100,000 Accounts)");
    let mock = MockProcess::start(workloads::PROBE_RECORDS - workloads::SEEDED_ACCOUNTS);

    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let (mut rows, probes) =
        runtime.block_on(in_process_workloads(&settings, &mock, &scripts, &cache));
    rows.extend(process_workloads(&settings, &mock, &scripts, &cache));
    let export_memory = export_memory_runs(&settings, mock, &cache);

    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let report = Report {
        date: report::utc(now),
        mode: if quick { "quick" } else { "full" },
        duration_s: started.elapsed().as_secs_f64(),
        machine,
        versions: versions(&repo, &scripts),
        settings,
        workloads: rows,
        probes,
        export_memory,
    };
    let out = if quick {
        cache.join("quick")
    } else {
        repo.join("bench/results")
    };
    write_report(&report, &out);
}

/// W1–W3 (contenders in this process, scripts as workers) and the probes.
async fn in_process_workloads(
    settings: &Settings,
    mock: &MockProcess,
    scripts: &[scripts::Script],
    cache: &Path,
) -> (Vec<Row>, probes::Probes) {
    let connector = Arc::new(
        salesforce_host::Connector::load(&sf_host::default_component_path()).expect("component"),
    );
    let mut all = rust_contenders(&connector, mock, &mock.info.https_url).await;
    for script in scripts {
        all.push(Contender {
            name: script.name,
            client: Client::Script(scripts::Worker::start(script, mock)),
        });
    }
    // Plain HTTP (simple-salesforce cannot): what TLS adds to W1.
    let mut plain = rust_contenders(&connector, mock, &mock.info.http_url).await;

    eprintln!("bench: warming up");
    for contender in all.iter_mut().chain(plain.iter_mut()) {
        contender.run(Workload::W1, 20).await;
    }
    for contender in &mut all {
        contender.run(Workload::W2, 1).await;
        contender.run(Workload::W3, 1).await;
    }

    let s = settings;
    eprintln!("bench: W1 × {} runs, over HTTPS then plain HTTP", s.runs);
    let mock_cpu = mock.cpu();
    let mut results = stats::alternate(&mut all, Workload::W1, s.w1_calls, s.runs).await;
    let calls = (s.runs * all.len() * s.w1_calls) as f64;
    let mock_cpu_per_w1_call_s = (mock.cpu() - mock_cpu).as_secs_f64() / calls;
    let w1_http = stats::alternate(&mut plain, Workload::W1, s.w1_calls, s.runs)
        .await
        .remove("W1")
        .expect("W1");
    for (workload, n) in [
        (Workload::W2, s.w2_iterations),
        (Workload::W3, s.w3_iterations),
    ] {
        eprintln!("bench: {} × {} runs", workload.name(), s.runs);
        results.extend(stats::alternate(&mut all, workload, n, s.runs).await);
    }
    drop((all, plain));

    let mut take = |id| results.remove(id).unwrap_or_default();
    let rows = vec![
        Row::of("W1", "one record by id, per call", take("W1")),
        Row::of("W1 http", "the same over plain HTTP", w1_http),
        Row::of("W2", "log in + 10,000 records in 5 pages", take("W2")),
        Row::of("W3a", "200 single creates", take("W3a")),
        Row::of(
            "W3b",
            "the same 200 in one sObject Collections request",
            take("W3b"),
        ),
    ];
    eprintln!("bench: load, instantiate, round trip and memory probes");
    let mut probes = probes::measure(mock, cache, s.probe_samples).await;
    probes.mock_cpu_per_w1_call_s = mock_cpu_per_w1_call_s;
    (rows, probes)
}

/// W4 and W5: each run a new process, measured from outside.
fn process_workloads(
    settings: &Settings,
    mock: &MockProcess,
    scripts: &[scripts::Script],
    cache: &Path,
) -> Vec<Row> {
    let mut rows = Vec::new();
    eprintln!("bench: W4 cold start × {} runs", settings.cold_runs);
    let cold = cold::measure(mock, scripts, settings.cold_runs, cache);
    rows.push(Row::of_processes(
        "W4",
        "cold start: new process to the first query's records",
        cold,
    ));

    eprintln!("bench: W5 bulk, 100,000 rows × {} runs", settings.bulk_runs);
    let w5 = bulk::measure(mock, scripts, settings.bulk_runs, cache);
    rows.push(Row::of_processes(
        "W5a",
        "Bulk API 2.0 insert of 100,000 Accounts from a CSV file",
        w5.import,
    ));
    rows.push(Row::of_processes(
        "W5b",
        "Bulk API 2.0 export of 100,000 rows to a file",
        w5.export,
    ));

    rows
}

/// Memory while exporting; sizes past the seeded mock get a mock of their own.
fn export_memory_runs(
    settings: &Settings,
    mock: MockProcess,
    cache: &Path,
) -> Vec<export_memory::Export> {
    // The mock holds 100,000 seeded Accounts; larger exports get their own.
    let (near, far): (Vec<usize>, Vec<usize>) = settings
        .export_memory_rows
        .iter()
        .copied()
        .partition(|&n| n <= workloads::PROBE_RECORDS);
    eprintln!("bench: memory while exporting {near:?} rows");
    let mut export_memory = export_memory::measure(&mock, &near, cache);
    drop(mock);
    for rows in far {
        eprintln!("bench: memory while exporting {rows} rows (a mock with as many Accounts)");
        let big = MockProcess::start(rows.saturating_sub(workloads::SEEDED_ACCOUNTS));
        export_memory.extend(export_memory::measure(&big, &[rows], cache));
    }

    export_memory
}

/// The contenders' versions, wasmtime's, rustc's and the commit.
fn versions(repo: &Path, scripts: &[scripts::Script]) -> BTreeMap<String, String> {
    let mut versions: BTreeMap<String, String> = scripts
        .iter()
        .flat_map(|s| s.versions.iter().cloned())
        .collect();
    versions.insert("wasmtime".into(), wasmtime_version(repo));
    versions.insert(
        "rustc".into(),
        output("rustc", &["--version"]).replace("rustc ", ""),
    );
    // Earlier results being replaced do not make the source differ.
    let dirty = !output(
        "git",
        &[
            "-C",
            repo.to_str().unwrap_or("."),
            "status",
            "--porcelain",
            "--",
            ".",
            ":!bench/results",
        ],
    )
    .is_empty();
    versions.insert(
        "commit".into(),
        output(
            "git",
            &[
                "-C",
                repo.to_str().unwrap_or("."),
                "rev-parse",
                "--short",
                "HEAD",
            ],
        ) + if dirty { "+changes" } else { "" },
    );

    versions
}

fn write_report(report: &Report, out: &Path) {
    std::fs::create_dir_all(out).expect("results dir");
    let markdown = report.markdown();
    std::fs::write(out.join("latest.md"), &markdown).expect("write latest.md");
    std::fs::write(
        out.join("latest.json"),
        serde_json::to_string_pretty(&report).expect("JSON") + "\n",
    )
    .expect("write latest.json");
    if let Err(e) = chart::draw(report, &out.join("latest.png")) {
        eprintln!("bench: chart not drawn: {e}");
    }
    println!("{markdown}");
    eprintln!("bench: wrote {}/latest.{{md,json,png}}", out.display());
}
