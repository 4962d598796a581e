//! Progress of a bulk command on stderr: a spinner with counts when stderr
//! is a terminal, nothing when it is piped (a script reads the summary).

use indicatif::{ProgressBar, ProgressStyle};
use salesforce_host::bulk::JobInfo;
use std::io::IsTerminal;
use std::time::Duration;

pub struct Progress(ProgressBar);

impl Progress {
    pub fn start() -> Self {
        if !std::io::stderr().is_terminal() {
            return Self(ProgressBar::hidden());
        }
        let bar = ProgressBar::new_spinner();
        if let Ok(style) = ProgressStyle::with_template("{spinner} [{elapsed}] {msg}") {
            bar.set_style(style);
        }
        bar.enable_steady_tick(Duration::from_millis(120));
        Self(bar)
    }

    pub fn uploaded(&self, rows: u64, jobs: usize) {
        self.0
            .set_message(format!("uploaded {rows} rows in {jobs} job(s)"));
    }

    pub fn processing(&self, jobs: &[&JobInfo]) {
        let processed: u64 = jobs.iter().map(|j| j.records_processed).sum();
        let failed: u64 = jobs.iter().map(|j| j.records_failed).sum();
        let states: Vec<String> = jobs.iter().map(|j| format!("{:?}", j.state)).collect();
        self.0.set_message(format!(
            "{processed} rows processed, {failed} failed; jobs: {}",
            states.join(" ")
        ));
    }

    pub fn exported(&self, rows: u64) {
        self.0.set_message(format!("{rows} rows written"));
    }

    pub fn finish(&self) {
        self.0.finish_and_clear();
    }
}
