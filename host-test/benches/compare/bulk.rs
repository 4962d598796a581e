//! W5, Bulk API 2.0 at 100,000 rows, by each contender with a bulk client,
//! every run a new process through the launcher (wall, CPU and peak RSS of
//! that process alone), alternating:
//!
//! - W5a: insert the Accounts of one CSV file as one job (`sf-host bulk
//!   import`, simple-salesforce's `sf.bulk2.Account.insert`, jsforce's
//!   `conn.bulk2.loadAndWaitForResults`);
//! - W5b: export a query job's rows, page by page, to files (`sf-host bulk
//!   export`, `sf.bulk2.Account.download`, `conn.bulk2.query` streamed);
//!   the harness counts the rows written afterwards.

use crate::cold::sf_host;
use crate::contenders::{COMPONENT, JSFORCE, SIMPLE_SALESFORCE};
use crate::launcher::{timed, Processes, Usage};
use crate::mock_process::MockProcess;
use crate::scripts::Script;
use crate::workloads;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The contenders with a Bulk API 2.0 client, in run order.
const CONTENDERS: [&str; 3] = [COMPONENT, SIMPLE_SALESFORCE, JSFORCE];

pub struct BulkResults {
    pub import: Processes,
    pub export: Processes,
}

/// The W5b query: W2's fields, the first 100,000 Accounts (the seeded ones:
/// W5a's inserts come after them).
pub fn export_soql(rows: usize) -> String {
    workloads::paged_soql(rows)
}

/// `rows` new Accounts as CSV, written once.
fn write_accounts(path: &Path, rows: usize) {
    let mut out = BufWriter::new(std::fs::File::create(path).expect("W5 CSV"));
    let industries = ["Technology", "Energy", "Retail", "Finance", "Healthcare"];
    let cities = ["San Francisco", "Paris", "Tokyo", "Berlin", "Toronto"];
    writeln!(out, "Name,Industry,BillingCity,Phone,NumberOfEmployees").expect("write");
    for i in 0..rows {
        writeln!(
            out,
            "Bench bulk {i:06},{},{},+1 415 555 {:04},{}",
            industries[i % industries.len()],
            cities[i % cities.len()],
            i % 10_000,
            10 + i % 5_000
        )
        .expect("write");
    }
    out.flush().expect("write");
}

fn script<'s>(scripts: &'s [Script], name: &str) -> &'s Script {
    scripts
        .iter()
        .find(|s| s.name == name)
        .expect("a script contender")
}

fn import_command(name: &str, mock: &MockProcess, scripts: &[Script], csv: &Path) -> Command {
    let mut cmd = match name {
        COMPONENT => {
            let mut cmd = sf_host(mock);
            cmd.args(["bulk", "import"]).arg(csv).args([
                "--object",
                "Account",
                "--operation",
                "insert",
            ]);
            return cmd;
        }
        script_name => script(scripts, script_name).command(mock, "bulk-import"),
    };
    cmd.arg(csv);
    cmd
}

/// Exports `soql` into files in `dir`.
pub fn export_command(
    name: &str,
    mock: &MockProcess,
    scripts: &[Script],
    soql: &str,
    dir: &Path,
) -> Command {
    let mut cmd = match name {
        COMPONENT => {
            let mut cmd = sf_host(mock);
            cmd.args(["bulk", "export", soql, "--out"])
                .arg(dir.join("export.csv"));
            return cmd;
        }
        script_name => script(scripts, script_name).command(mock, "bulk-export"),
    };
    cmd.arg(soql).arg(dir);
    cmd
}

/// Data rows in the CSV files of `dir`: every line but the header (which a
/// client may repeat for each page).
pub fn exported_rows(dir: &Path) -> usize {
    let mut rows = 0;
    for entry in std::fs::read_dir(dir).expect("export dir") {
        let file = std::fs::File::open(entry.expect("entry").path()).expect("export file");
        let mut lines = BufReader::new(file).lines();
        let Some(header) = lines.next().map(|l| l.expect("UTF-8 CSV")) else {
            continue;
        };
        rows += lines
            .filter(|l| l.as_ref().expect("UTF-8 CSV") != &header)
            .count();
    }
    rows
}

/// A fresh empty directory.
pub fn empty_dir(dir: &Path) -> PathBuf {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).expect("directory");
    dir.to_path_buf()
}

/// `runs` alternating runs of W5a and W5b by each bulk contender.
pub fn measure(mock: &MockProcess, scripts: &[Script], runs: usize, scratch: &Path) -> BulkResults {
    let dir = scratch.join("w5");
    std::fs::create_dir_all(&dir).expect("W5 dir");
    let csv = dir.join("accounts.csv");
    write_accounts(&csv, workloads::BULK_ROWS);
    let stderr = dir.join("stderr.txt");
    let soql = export_soql(workloads::BULK_ROWS);
    let mut import: BTreeMap<&'static str, Vec<Usage>> = BTreeMap::new();
    let mut export: BTreeMap<&'static str, Vec<Usage>> = BTreeMap::new();
    for run in 0..runs {
        for k in 0..CONTENDERS.len() {
            let name = CONTENDERS[(run + k) % CONTENDERS.len()];
            let usage = timed(import_command(name, mock, scripts, &csv), &stderr);
            import.entry(name).or_default().push(usage);

            let out = empty_dir(&dir.join("export"));
            let usage = timed(export_command(name, mock, scripts, &soql, &out), &stderr);
            let rows = exported_rows(&out);
            assert_eq!(rows, workloads::BULK_ROWS, "{name} exported {rows} rows");
            export.entry(name).or_default().push(usage);
        }
    }
    let _ = std::fs::remove_dir_all(dir.join("export"));
    BulkResults {
        import: Processes::of(import),
        export: Processes::of(export),
    }
}
