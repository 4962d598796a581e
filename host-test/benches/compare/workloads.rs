//! What every contender runs, and how a run reports its time.
//!
//! - W1 per-call latency: one authenticated `GET …/sobjects/Account/{id}`.
//! - W2 paged query: log in, then a SOQL query of 10,000 records in pages of
//!   2,000 (the mock's and Salesforce's default), every page.
//! - W3 writes: 200 single creates (W3a), then the same 200 through one
//!   sObject Collections request (W3b).
//! - W4 cold start: a new process, to the first query's records.
//! - W5 Bulk API 2.0 (`bulk`): 100,000 Accounts inserted from a CSV file
//!   (W5a), and 100,000 rows exported by a query job to a file (W5b).

use crate::clock::Spent;
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;

pub const API_VERSION: &str = "62.0";
/// The first seeded Account.
pub const ACCOUNT_ID: &str = "001000000000001AAA";
/// The seeded Accounts come first, so this is the same 10,000 every time,
/// however many W3 has added.
pub const PAGED_SOQL: &str = "SELECT Id, Name, Industry, BillingCity, AnnualRevenue, NumberOfEmployees, Phone FROM Account LIMIT 10000";
pub const PAGED_RECORDS: usize = 10_000;
/// The memory probe pages through this many (the mock is seeded with them).
pub const PROBE_RECORDS: usize = 100_000;
/// Accounts every mock has before `MockOptions::extra_accounts`.
pub const SEEDED_ACCOUNTS: usize = 2_500;
pub const COLD_SOQL: &str = "SELECT Id, Name FROM Account LIMIT 1";
/// Records per W3 batch: one sObject Collections request holds at most 200.
pub const BATCH: usize = 200;
/// Rows of each W5 job.
pub const BULK_ROWS: usize = 100_000;
/// How often the script contenders poll a bulk job (simple-salesforce also
/// sleeps this long before its first poll); the mock finishes jobs at once,
/// and sf-host polls at once, then after 250 ms.
pub const BULK_POLL_MS: u64 = 50;

/// The paged query at another size (the memory probe's 100,000).
pub fn paged_soql(records: usize) -> String {
    PAGED_SOQL.replace("LIMIT 10000", &format!("LIMIT {records}"))
}

/// The W3 batch: `{"Name": "Bench <tag> 000"}` …
pub fn new_accounts(tag: &str) -> Vec<Value> {
    (0..BATCH)
        .map(|i| serde_json::json!({ "Name": format!("Bench {tag} {i:03}") }))
        .collect()
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Workload {
    W1,
    W2,
    W3,
}

impl Workload {
    pub fn name(self) -> &'static str {
        match self {
            Workload::W1 => "W1",
            Workload::W2 => "W2",
            Workload::W3 => "W3",
        }
    }
}

/// What one run of a workload took, per metric (`W3` reports `W3a` and
/// `W3b`): wall and client CPU seconds, and how many operations they cover.
#[derive(Debug, Default)]
pub struct Measured(pub BTreeMap<String, Tally>);

/// `[seconds, operations, cpu_seconds]` in a script worker's answer.
#[derive(Clone, Copy, Debug, Default, Deserialize)]
pub struct Tally(pub f64, pub usize, pub f64);

impl Measured {
    pub fn one(metric: &str, spent: Spent, ops: usize) -> Self {
        let mut m = Measured::default();
        m.add(metric, spent, ops);
        m
    }

    pub fn add(&mut self, metric: &str, spent: Spent, ops: usize) {
        let entry = self.0.entry(metric.to_string()).or_default();
        entry.0 += spent.wall.as_secs_f64();
        entry.1 += ops;
        entry.2 += spent.cpu.as_secs_f64();
    }

    /// (metric, wall seconds per operation, CPU seconds per operation).
    pub fn per_op(&self) -> impl Iterator<Item = (&str, f64, f64)> {
        self.0.iter().map(|(k, Tally(secs, ops, cpu))| {
            let ops = (*ops).max(1) as f64;
            (k.as_str(), secs / ops, cpu / ops)
        })
    }
}
