//! What every contender runs, and how a run reports its time.
//!
//! - W1 per-call latency: one authenticated `GET …/sobjects/Account/{id}`.
//! - W2 paged query: log in, then a SOQL query of 10,000 records in pages of
//!   2,000 (the mock's and Salesforce's default), every page.
//! - W3 writes: 200 single creates (W3a), then the same 200 through one
//!   sObject Collections request (W3b).
//! - W4 cold start: a new process, to the first query's records.

use serde_json::Value;
use std::collections::BTreeMap;
use std::time::Duration;

pub const API_VERSION: &str = "62.0";
/// The first seeded Account.
pub const ACCOUNT_ID: &str = "001000000000001AAA";
/// The seeded Accounts come first, so this is the same 10,000 every time,
/// however many W3 has added.
pub const PAGED_SOQL: &str = "SELECT Id, Name, Industry, BillingCity, AnnualRevenue, NumberOfEmployees, Phone FROM Account LIMIT 10000";
pub const PAGED_RECORDS: usize = 10_000;
/// The memory probe pages through this many (the mock is seeded with them).
pub const PROBE_RECORDS: usize = 100_000;
pub const COLD_SOQL: &str = "SELECT Id, Name FROM Account LIMIT 1";
/// Records per W3 batch: one sObject Collections request holds at most 200.
pub const BATCH: usize = 200;

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
/// `W3b`): total seconds and how many operations they cover.
#[derive(Debug, Default)]
pub struct Measured(pub BTreeMap<String, (f64, usize)>);

impl Measured {
    pub fn one(metric: &str, elapsed: Duration, ops: usize) -> Self {
        let mut m = Measured::default();
        m.add(metric, elapsed, ops);
        m
    }

    pub fn add(&mut self, metric: &str, elapsed: Duration, ops: usize) {
        let entry = self.0.entry(metric.to_string()).or_default();
        entry.0 += elapsed.as_secs_f64();
        entry.1 += ops;
    }

    /// Seconds per operation, by metric.
    pub fn per_op(&self) -> impl Iterator<Item = (&str, f64)> {
        self.0
            .iter()
            .map(|(k, (secs, ops))| (k.as_str(), secs / (*ops).max(1) as f64))
    }
}
