//! Bulk API 2.0 through the component: each call renews the session once
//! on expiry, like every other operation.

use super::Client;
use crate::bindings::bulk::{
    ColumnDelimiter, IngestOptions, JobInfo, JobKind, JobList, ResultPage, ResultSet,
};
use crate::bindings::wit;
use crate::error::HostError;
use std::io::Write;

impl Client {
    /// A new ingest job, open for its one upload.
    pub async fn create_ingest_job(
        &mut self,
        options: &IngestOptions,
    ) -> Result<JobInfo, HostError> {
        with_session!(self, "create-ingest-job"(options))
    }

    /// The job's one upload of CSV (at most 100 MB), never retried.
    pub async fn upload_job_data(&mut self, job_id: &str, csv: &str) -> Result<(), HostError> {
        with_session!(self, "upload-job-data"(job_id, csv))
    }

    /// Upload complete: Salesforce starts processing.
    pub async fn close_job(&mut self, job_id: &str) -> Result<JobInfo, HostError> {
        with_session!(self, "close-job"(job_id))
    }

    pub async fn abort_job(&mut self, kind: JobKind, job_id: &str) -> Result<JobInfo, HostError> {
        with_session!(self, "abort-job"(kind, job_id))
    }

    pub async fn delete_job(&mut self, kind: JobKind, job_id: &str) -> Result<(), HostError> {
        with_session!(self, "delete-job"(kind, job_id))
    }

    pub async fn job_status(&mut self, kind: JobKind, job_id: &str) -> Result<JobInfo, HostError> {
        with_session!(self, "job-status"(kind, job_id))
    }

    /// Polls for at most `wait_ms` (inside the component, with backoff).
    pub async fn wait_for_job(
        &mut self,
        kind: JobKind,
        job_id: &str,
        wait_ms: u32,
    ) -> Result<JobInfo, HostError> {
        with_session!(self, "wait-for-job"(kind, job_id, wait_ms))
    }

    pub async fn ingest_results(
        &mut self,
        job_id: &str,
        which: ResultSet,
    ) -> Result<String, HostError> {
        with_session!(self, "ingest-results"(job_id, which))
    }

    pub async fn create_query_job(
        &mut self,
        soql: &str,
        all: bool,
        delimiter: Option<ColumnDelimiter>,
    ) -> Result<JobInfo, HostError> {
        with_session!(self, "create-query-job"(soql, all, delimiter))
    }

    /// One page of results from `locator` (`None`: the first).
    pub async fn query_results(
        &mut self,
        job_id: &str,
        locator: Option<&str>,
        max_records: Option<u32>,
    ) -> Result<ResultPage, HostError> {
        let locator = locator.map(str::to_string);
        with_session!(self, "query-results"(job_id, &locator, max_records))
    }

    pub async fn list_jobs(
        &mut self,
        kind: JobKind,
        next_url: Option<&str>,
    ) -> Result<JobList, HostError> {
        let next_url = next_url.map(str::to_string);
        with_session!(self, "list-jobs"(kind, &next_url))
    }

    /// Writes every page of a finished query job's results to `sink` as
    /// one CSV (the header row once), a page at a time, never all in
    /// memory. `progress` is told the rows written so far after each page.
    /// Returns the rows written.
    pub async fn save_query_results(
        &mut self,
        job_id: &str,
        page_size: u32,
        sink: &mut (dyn Write + Send),
        progress: &mut (dyn FnMut(u64) + Send),
    ) -> Result<u64, HostError> {
        let (mut locator, mut written) = (None::<String>, 0u64);
        loop {
            let page = self
                .query_results(job_id, locator.as_deref(), Some(page_size))
                .await?;
            // Every page repeats the header row: keep the first one only.
            let body = match written {
                0 => page.csv.as_str(),
                _ => page.csv.split_once('\n').map_or("", |(_, rest)| rest),
            };
            sink.write_all(body.as_bytes()).map_err(|e| {
                HostError::Io(format!("writing the results after {written} rows: {e}"))
            })?;
            written += page.records;
            progress(written);
            match page.next_locator {
                Some(next) => locator = Some(next),
                None => break,
            }
        }
        sink.flush()
            .map_err(|e| HostError::Io(format!("writing the results: {e}")))?;
        Ok(written)
    }
}
