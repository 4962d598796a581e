//! Memory while exporting, at 10,000, 100,000 and 1,000,000 rows: the peak
//! RSS of an `sf-host bulk export` process (through the launcher), and the
//! component's peak linear memory over the same calls made through the
//! host library in a probe process (this binary with `__probe-export N`,
//! `Connector::record_memory_peak`), since the CLI does not report it.
//! Flat means neither grows with the rows: only one results page is ever
//! in memory.

use crate::bulk::{empty_dir, export_command, export_soql, exported_rows};
use crate::contenders::COMPONENT;
use crate::launcher::{timed, Usage};
use crate::mock_process::{clean_env, MockInfo, MockProcess};
use salesforce_host::bulk::{JobKind, JobState};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::Path;

/// `sf-host bulk export`'s default page size, which the probe uses too.
const PAGE_ROWS: u32 = 50_000;

/// One export size.
#[derive(Debug, Serialize)]
pub struct Export {
    pub rows: usize,
    /// The `sf-host bulk export` process.
    pub sf_host: Usage,
    pub probe: Probe,
}

/// From the probe process.
#[derive(Debug, Serialize, Deserialize)]
pub struct Probe {
    pub pages: usize,
    /// Peak linear memory of any instance over the whole export.
    pub linear_peak_bytes: usize,
    /// The largest page's CSV.
    pub page_bytes: usize,
}

/// Each of `sizes` once: the sf-host process, then the probe.
pub fn measure(mock: &MockProcess, sizes: &[usize], scratch: &Path) -> Vec<Export> {
    let dir = scratch.join("export-memory");
    let stderr = scratch.join("export-memory-stderr.txt");
    sizes
        .iter()
        .map(|&rows| {
            let soql = export_soql(rows);
            let out = empty_dir(&dir);
            let sf_host = timed(export_command(COMPONENT, mock, &[], &soql, &out), &stderr);
            assert_eq!(exported_rows(&out), rows, "sf-host bulk export");
            let probe = probe(mock, rows, &out);
            let _ = std::fs::remove_dir_all(&dir);
            Export {
                rows,
                sf_host,
                probe,
            }
        })
        .collect()
}

/// Runs the probe (this binary with `__probe-export`) and reads its JSON.
fn probe(mock: &MockProcess, rows: usize, dir: &Path) -> Probe {
    let out = clean_env(&mut std::process::Command::new(
        std::env::current_exe().expect("current exe"),
    ))
    .arg("__probe-export")
    .arg(rows.to_string())
    .arg(dir.join("probe.csv"))
    .envs(mock.info.env(&mock.raw))
    .stderr(std::process::Stdio::inherit())
    .output()
    .expect("export probe");
    assert!(out.status.success(), "export probe failed: {}", out.status);
    serde_json::from_slice(&out.stdout).expect("export probe JSON")
}

/// `__probe-export ROWS FILE`: what `sf-host bulk export` does (create the
/// query job, wait, write each page to FILE without its repeated header),
/// with the component's linear memory recorded.
pub fn probe_main(args: &[String]) {
    let rows: usize = args[0].parse().expect("rows");
    let path = Path::new(&args[1]);
    let mock = MockInfo::from_env();
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let probe = runtime.block_on(async {
        let (_, mut client, peak) = crate::probes::measured_client(&mock).await;
        peak.reset();
        let mut job = client
            .create_query_job(&export_soql(rows), false, None)
            .await
            .expect("query job");
        while !matches!(job.state, JobState::JobComplete) {
            assert!(!matches!(job.state, JobState::Failed | JobState::Aborted));
            job = client
                .wait_for_job(JobKind::Query, &job.id, 2_000)
                .await
                .expect("wait");
        }
        let mut file = std::fs::File::create(path).expect("probe file");
        let (mut locator, mut written, mut pages, mut page_bytes) = (None::<String>, 0, 0, 0);
        loop {
            let page = client
                .query_results(&job.id, locator.as_deref(), Some(PAGE_ROWS))
                .await
                .expect("results page");
            let body = match written {
                0 => page.csv.as_str(),
                _ => page.csv.split_once('\n').map_or("", |(_, rest)| rest),
            };
            file.write_all(body.as_bytes()).expect("write");
            written += page.records as usize;
            pages += 1;
            page_bytes = page_bytes.max(page.csv.len());
            match page.next_locator {
                Some(next) => locator = Some(next),
                None => break,
            }
        }
        assert_eq!(written, rows);
        Probe {
            pages,
            linear_peak_bytes: peak.bytes(),
            page_bytes,
        }
    });
    println!("{}", serde_json::to_string(&probe).expect("JSON"));
}
