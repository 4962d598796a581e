//! The results as Markdown (for people and the README) and JSON (for tools),
//! with the targets checked.

use crate::contenders::{self, COMPONENT, JSFORCE, NATIVE, SIMPLE_SALESFORCE};
use crate::export_memory::Export;
use crate::launcher::Processes;
use crate::probes::Probes;
use crate::stats::{Figures, Summary};
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
    pub probes: Probes,
    /// `sf-host bulk export` at each size.
    pub export_memory: Vec<Export>,
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

/// One line of the tables: a workload metric, by contender.
#[derive(Serialize)]
pub struct Row {
    pub id: &'static str,
    pub what: &'static str,
    /// Wall seconds per operation.
    pub results: BTreeMap<&'static str, Summary>,
    /// The client's own CPU seconds (user + system) per operation.
    pub cpu: BTreeMap<&'static str, Summary>,
    /// Peak RSS of the client process, bytes (median), where each run is a
    /// process of its own (W4, W5).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub peak_rss: BTreeMap<&'static str, f64>,
}

impl Row {
    pub fn of(id: &'static str, what: &'static str, figures: Figures) -> Row {
        Row {
            id,
            what,
            results: figures.time,
            cpu: figures.cpu,
            peak_rss: BTreeMap::new(),
        }
    }

    /// One process per run (W4, W5).
    pub fn of_processes(id: &'static str, what: &'static str, p: Processes) -> Row {
        Row {
            id,
            what,
            results: p.seconds,
            cpu: p.cpu,
            peak_rss: p.peak_rss,
        }
    }

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

/// 1000000 → "1,000,000".
fn count(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
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

    /// Every workload by every contender, one figure of `pick` each.
    fn table(&self, md: &mut String, pick: impl Fn(&Row) -> &BTreeMap<&'static str, Summary>) {
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
                .map(|c| pick(row).get(c).map_or("–".into(), summary))
                .collect();
            let _ = writeln!(
                md,
                "| **{}** {} | {} |",
                row.id,
                row.what,
                cells.join(" | ")
            );
        }
    }

    /// `sf-host bulk export` at each size, one column each.
    fn export_memory_table(&self, md: &mut String) {
        let exports = &self.export_memory;
        let Some(last) = exports.last() else {
            return;
        };
        let _ = writeln!(
            md,
            "\nMemory while exporting (`sf-host bulk export`, pages of 50,000 rows, one run each): the peak RSS of that process (wait4), and the component's peak linear memory over the same calls made through the host library (`Connector::record_memory_peak`, a probe process).\n"
        );
        let columns: Vec<String> = exports
            .iter()
            .map(|e| format!("{} rows", count(e.rows)))
            .collect();
        let _ = writeln!(md, "| export | {} |", columns.join(" | "));
        let _ = writeln!(md, "|---|{}", "---|".repeat(exports.len()));
        let line = |what: &str, f: &dyn Fn(&Export) -> String| {
            let cells: Vec<String> = exports.iter().map(f).collect();
            format!("| {what} | {} |", cells.join(" | "))
        };
        let lines = [
            line("wall (sf-host process)", &|e| time(e.sf_host.wall_s)),
            line("CPU, user + system (sf-host process)", &|e| {
                time(e.sf_host.cpu_s)
            }),
            line("peak RSS (sf-host process)", &|e| {
                bytes(e.sf_host.peak_rss_bytes)
            }),
            line("component peak linear memory (probe)", &|e| {
                bytes(e.probe.linear_peak_bytes as f64)
            }),
            line("pages; the largest page's CSV", &|e| {
                format!("{}; {}", e.probe.pages, bytes(e.probe.page_bytes as f64))
            }),
        ];
        for l in lines {
            let _ = writeln!(md, "{l}");
        }
        // Below one full page an export's memory follows its one page;
        // from there on, flat means the same with ten times the rows.
        let full = exports
            .iter()
            .find(|e| e.probe.pages > 1)
            .filter(|e| e.rows < last.rows);
        if let Some(base) = full {
            let _ = writeln!(
                md,
                "\n{} rows ÷ {} rows (both in full pages): peak RSS {:.2}×, linear memory {:.2}×.",
                count(last.rows),
                count(base.rows),
                last.sf_host.peak_rss_bytes / base.sf_host.peak_rss_bytes,
                last.probe.linear_peak_bytes as f64 / base.probe.linear_peak_bytes.max(1) as f64
            );
        }
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
            "Median per operation (min–max over {} alternating runs; W4 {} runs; W5 {} runs, each a new process). All over HTTPS to the project's mock on loopback unless marked.\n",
            s.runs, s.cold_runs, s.bulk_runs
        );
        self.table(&mut md, |row| &row.results);

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

        let _ = writeln!(
            md,
            "\nClient CPU time per operation, user + system, median (min–max): the bench process's own (getrusage) for the component and native Rust, which run in it; the worker's own (`time.process_time()`, `process.cpuUsage()`) for W1–W3 of simple-salesforce and jsforce; the process's (wait4) for W4 and W5. The mock is a process of its own and never counts.\n"
        );
        self.table(&mut md, |row| &row.cpu);

        let _ = writeln!(
            md,
            "\nPeak RSS of the client process (wait4 `ru_maxrss`, median), where each run is a process of its own.\n"
        );
        let _ = writeln!(
            md,
            "| workload | {} | {} | {} | {} |\n|---|---|---|---|---|",
            label(COMPONENT),
            label(NATIVE),
            label(SIMPLE_SALESFORCE),
            label(JSFORCE)
        );
        for row in self.workloads.iter().filter(|r| !r.peak_rss.is_empty()) {
            let cells: Vec<String> = contenders::ALL
                .iter()
                .map(|c| row.peak_rss.get(c).map_or("–".into(), |b| bytes(*b)))
                .collect();
            let _ = writeln!(md, "| {} | {} |", row.id, cells.join(" | "));
        }

        self.export_memory_table(&mut md);

        let p = &self.probes;
        let m = &p.memory;
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
                "the mock's own CPU per W1 call (its process, over every contender's W1 runs over HTTPS)",
                time(p.mock_cpu_per_w1_call_s),
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
