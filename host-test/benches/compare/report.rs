//! The results as Markdown (for people and the README) and JSON (for tools),
//! with the targets checked.

use crate::contenders::{self, COMPONENT, JSFORCE, NATIVE, SIMPLE_SALESFORCE};
use crate::probes::Probes;
use crate::stats::Summary;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write;

#[derive(Serialize)]
pub struct Report {
    /// UTC, `YYYY-MM-DD HH:MM`.
    pub date: String,
    pub mode: &'static str,
    pub duration_s: f64,
    pub machine: Machine,
    pub versions: BTreeMap<String, String>,
    pub settings: crate::Settings,
    pub workloads: Vec<Row>,
    /// Median peak RSS of each contender's cold-start process (W4).
    pub cold_peak_rss_bytes: BTreeMap<&'static str, f64>,
    pub probes: Probes,
}

#[derive(Serialize)]
pub struct Machine {
    pub cpu: String,
    pub nproc: usize,
    pub kernel: String,
    /// `/proc/loadavg` when the run started: other work on a shared machine.
    pub load_at_start: String,
}

impl Machine {
    pub fn this() -> Machine {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu = cpuinfo
            .lines()
            .find_map(|l| l.strip_prefix("model name"))
            .and_then(|l| l.split_once(':'))
            .map_or("unknown".into(), |(_, v)| v.trim().to_string());
        let read = |p: &str| {
            std::fs::read_to_string(p)
                .unwrap_or_default()
                .trim()
                .to_string()
        };
        Machine {
            cpu,
            nproc: std::thread::available_parallelism().map_or(0, |n| n.get()),
            kernel: read("/proc/sys/kernel/osrelease"),
            load_at_start: read("/proc/loadavg"),
        }
    }
}

/// One line of the table: a workload metric, seconds per operation.
#[derive(Serialize)]
pub struct Row {
    pub id: &'static str,
    pub what: &'static str,
    pub results: BTreeMap<&'static str, Summary>,
}

impl Row {
    /// contender ÷ component, medians.
    pub fn ratio(&self, contender: &str) -> Option<f64> {
        let base = self.results.get(COMPONENT)?.median;
        Some(self.results.get(contender)?.median / base)
    }
}

/// `YYYY-MM-DD HH:MM` (UTC) of a Unix time.
pub fn utc(unix: u64) -> String {
    let (days, rest) = ((unix / 86_400) as i64, unix % 86_400);
    // Howard Hinnant's days-to-civil.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}",
        rest / 3600,
        rest % 3600 / 60
    )
}

pub fn time(s: f64) -> String {
    match s {
        s if s < 1e-3 => format!("{:.1} µs", s * 1e6),
        s if s < 1.0 => format!("{:.2} ms", s * 1e3),
        s => format!("{s:.2} s"),
    }
}

pub fn bytes(b: f64) -> String {
    match b {
        b if b < 1024.0 * 1024.0 => format!("{:.0} KiB", b / 1024.0),
        b => format!("{:.1} MiB", b / (1024.0 * 1024.0)),
    }
}

fn summary(s: &Summary) -> String {
    format!("{} ({}–{})", time(s.median), time(s.min), time(s.max))
}

fn check(ok: bool) -> &'static str {
    if ok {
        "met"
    } else {
        "**missed**"
    }
}

fn label(contender: &str) -> &'static str {
    match contender {
        COMPONENT => "component in sf-host",
        NATIVE => "native Rust (hyper)",
        SIMPLE_SALESFORCE => "simple-salesforce",
        JSFORCE => "jsforce",
        _ => "?",
    }
}

impl Report {
    fn row(&self, id: &str) -> Option<&Row> {
        self.workloads.iter().find(|r| r.id == id)
    }

    pub fn markdown(&self) -> String {
        let mut md = String::new();
        let v = |k: &str| self.versions.get(k).cloned().unwrap_or_default();
        let _ = writeln!(
            md,
            "# Benchmark: the component vs a native client, simple-salesforce and jsforce\n"
        );
        let _ = writeln!(
            md,
            "{} UTC · {} run, {:.0} s · {} × {} · Linux {} · load at start {}  ",
            self.date,
            self.mode,
            self.duration_s,
            self.machine.nproc,
            self.machine.cpu,
            self.machine.kernel,
            self.machine.load_at_start
        );
        let _ = writeln!(
            md,
            "wasmtime {} · rustc {} · simple-salesforce {} (Python {}) · jsforce {} (Node {}) · commit {}\n",
            v("wasmtime"),
            v("rustc"),
            v("simple-salesforce"),
            v("python"),
            v("jsforce"),
            v("node"),
            v("commit")
        );
        let s = &self.settings;
        let _ = writeln!(
            md,
            "Median per operation (min–max over {} alternating runs; W4 {} runs). All over HTTPS to the project's mock on loopback unless marked.\n",
            s.runs, s.cold_runs
        );
        let _ = writeln!(
            md,
            "| workload | {} | {} | {} | {} |",
            label(COMPONENT),
            label(NATIVE),
            label(SIMPLE_SALESFORCE),
            label(JSFORCE)
        );
        let _ = writeln!(md, "|---|---|---|---|---|");
        for row in &self.workloads {
            let cells: Vec<String> = contenders::ALL
                .iter()
                .map(|c| row.results.get(c).map_or("–".into(), summary))
                .collect();
            let _ = writeln!(
                md,
                "| **{}** {} | {} |",
                row.id,
                row.what,
                cells.join(" | ")
            );
        }

        let _ = writeln!(
            md,
            "\nRatio of medians, contender ÷ component (above 1: the component is faster).\n"
        );
        let _ = writeln!(
            md,
            "| workload | native Rust | simple-salesforce | jsforce |"
        );
        let _ = writeln!(md, "|---|---|---|---|");
        for row in &self.workloads {
            let cells: Vec<String> = [NATIVE, SIMPLE_SALESFORCE, JSFORCE]
                .iter()
                .map(|c| row.ratio(c).map_or("–".into(), |r| format!("{r:.2}×")))
                .collect();
            let _ = writeln!(md, "| {} | {} |", row.id, cells.join(" | "));
        }

        let p = &self.probes;
        let m = &p.memory;
        let rss = |c: &str| {
            self.cold_peak_rss_bytes
                .get(c)
                .map_or("–".into(), |b| bytes(*b))
        };
        let _ = writeln!(md, "\n| component and host | |\n|---|---|");
        let lines = [
            (
                "component size (release .wasm)",
                format!(
                    "{} ({} bytes)",
                    bytes(p.component_bytes as f64),
                    p.component_bytes
                ),
            ),
            (
                "precompiled load (`Component::deserialize_file` of a .cwasm)",
                time(p.precompiled_load_s),
            ),
            (
                "`Connector::load` of the .cwasm (engine, link, InstancePre)",
                time(p.connector_load_s),
            ),
            (
                "`InstancePre` instantiate (fresh store, every call)",
                time(p.instantiate_s),
            ),
            (
                "one loopback round trip, kept-alive native (HTTP / HTTPS)",
                format!(
                    "{} / {}",
                    time(p.round_trip_http_s),
                    time(p.round_trip_https_s)
                ),
            ),
            (
                "instantiate ÷ round trip (HTTP)",
                format!("{:.3}", p.instantiate_s / p.round_trip_http_s),
            ),
            (
                "host peak RSS, paging 100,000 records (probe process)",
                bytes(m.host_peak_rss_bytes as f64),
            ),
            (
                "linear memory: idle instance",
                bytes(m.idle_linear_bytes as f64),
            ),
            (
                "linear memory: peak while paging 100,000 records (query + query-more)",
                format!(
                    "{} after the first page, {} over all {} pages; one page's records are {}",
                    bytes(m.first_page_linear_bytes as f64),
                    bytes(m.paging_linear_bytes as f64),
                    m.pages,
                    bytes(m.page_bytes as f64)
                ),
            ),
            (
                "linear memory: query-all-pages, 10,000 / 100,000 records (returns all at once)",
                format!(
                    "{} / {}",
                    bytes(m.all_pages_10k_linear_bytes as f64),
                    bytes(m.all_pages_100k_linear_bytes as f64)
                ),
            ),
            (
                "peak RSS of a W4 process: sf-host / native / Python / Node",
                format!(
                    "{} / {} / {} / {}",
                    rss(COMPONENT),
                    rss(NATIVE),
                    rss(SIMPLE_SALESFORCE),
                    rss(JSFORCE)
                ),
            ),
        ];
        for (what, value) in lines {
            let _ = writeln!(md, "| {what} | {value} |");
        }

        let _ = writeln!(md, "\nTargets (issue 5):\n");
        for (target, figure, ok) in self.targets() {
            let _ = writeln!(md, "- {target}: {figure}, {}", check(ok));
        }
        md
    }

    /// (target, the measured figure, met).
    pub fn targets(&self) -> Vec<(String, String, bool)> {
        let mut out = Vec::new();
        for id in ["W1", "W1 http"] {
            if let Some(r) = self.row(id).and_then(|row| row.ratio(NATIVE)) {
                let component_over_native = 1.0 / r;
                out.push((
                    format!("{id}: component ≤ 1.25× native"),
                    format!("{component_over_native:.2}×"),
                    component_over_native <= 1.25,
                ));
            }
        }
        for id in ["W2", "W3a", "W3b", "W4"] {
            for c in [SIMPLE_SALESFORCE, JSFORCE] {
                if let Some(r) = self.row(id).and_then(|row| row.ratio(c)) {
                    out.push((
                        format!("{id}: component ≥ 5× faster than {c}"),
                        format!("{r:.2}×"),
                        r >= 5.0,
                    ));
                }
            }
        }
        let p = &self.probes;
        out.push((
            "component ≤ 350 KB".into(),
            format!("{:.0} KB", p.component_bytes as f64 / 1000.0),
            p.component_bytes <= 350_000,
        ));
        let ratio = p.instantiate_s / p.round_trip_http_s;
        out.push((
            "instantiate ≤ 0.05× one round trip".into(),
            format!("{ratio:.3}×"),
            ratio <= 0.05,
        ));
        let m = &p.memory;
        let growth = m.paging_linear_bytes.saturating_sub(m.idle_linear_bytes) as f64;
        let pages = growth / m.page_bytes.max(1) as f64;
        out.push((
            "paging memory ≤ 3× one page (peak linear memory above an idle instance)".into(),
            format!(
                "{pages:.2}× ({} above idle {})",
                bytes(growth),
                bytes(m.idle_linear_bytes as f64)
            ),
            pages <= 3.0,
        ));
        out
    }
}
