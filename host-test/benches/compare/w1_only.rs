//! `-- --w1`: W1 alone, the component against the native client over HTTPS
//! and plain HTTP, printed and not written anywhere. A few seconds per run,
//! without Python or Node, for work on the per-call cost.

use crate::mock_process::MockProcess;
use crate::report::time;
use crate::stats::{self, Figures};
use crate::workloads::Workload;
use crate::{contenders, rust_contenders, Settings};
use salesforce_host::Connector;
use std::path::PathBuf;
use std::sync::Arc;

pub fn run(settings: &Settings) {
    let load_before = load();
    eprintln!("bench: starting the mock");
    let mock = MockProcess::start(0);
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let rows = runtime.block_on(async {
        let connector = Arc::new(Connector::load(&component_path()).expect("component"));
        let mut rows = Vec::new();
        for (label, url) in [
            ("W1", &mock.info.https_url),
            ("W1 http", &mock.info.http_url),
        ] {
            let mut pair = rust_contenders(&connector, &mock, url).await;
            for contender in &mut pair {
                contender.run(Workload::W1, 20).await;
            }
            let mut results =
                stats::alternate(&mut pair, Workload::W1, settings.w1_calls, settings.runs).await;
            rows.push((label, results.remove("W1").expect("W1")));
        }
        rows
    });
    println!(
        "W1 alone: {} runs of {} calls each, alternating; medians per call",
        settings.runs, settings.w1_calls
    );
    println!("| | component wall / CPU | native wall / CPU | component ÷ native (wall) |");
    println!("|---|---|---|---|");
    for (label, figures) in &rows {
        println!("{}", line(label, figures));
    }
    println!("load average: {load_before} before, {} after", load());
}

fn line(label: &str, f: &Figures) -> String {
    let median = |by: &std::collections::BTreeMap<&str, stats::Summary>, c| by[c].median;
    let (cw, cc) = (
        median(&f.time, contenders::COMPONENT),
        median(&f.cpu, contenders::COMPONENT),
    );
    let (nw, nc) = (
        median(&f.time, contenders::NATIVE),
        median(&f.cpu, contenders::NATIVE),
    );
    format!(
        "| {label} | {} / {} | {} / {} | {:.2}× |",
        time(cw),
        time(cc),
        time(nw),
        time(nc),
        cw / nw
    )
}

/// `SF_BENCH_COMPONENT`, to compare another build of the component (a
/// different profile, say); by default the one this build made.
fn component_path() -> PathBuf {
    std::env::var_os("SF_BENCH_COMPONENT")
        .map(PathBuf::from)
        .unwrap_or_else(sf_host::default_component_path)
}

/// The first three fields of `/proc/loadavg`.
fn load() -> String {
    let all = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    all.split_whitespace().take(3).collect::<Vec<_>>().join(" ")
}
