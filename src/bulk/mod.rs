//! Bulk API 2.0: loads and exports that Salesforce runs as background jobs.
//!
//! Nothing here holds a whole file. Salesforce takes exactly one upload per
//! ingest job, of at most 100 MB of raw CSV, so a larger file is several jobs
//! (the caller splits it at row boundaries); results come back one page per
//! call, by `Sforce-Locator`, so the caller streams them to a file.

#[allow(unused_imports)]
use crate::prelude::*;

mod job;
mod wait;

pub use job::{Delimiter, IngestOptions, JobInfo, JobKind, JobState, LineEnding, Operation};
pub use wait::wait_for_job;

use crate::error::Error;
use crate::http::{Method, Transport};
use crate::rest::{self, CallRequest, CallResponse};
use crate::session::Session;
use serde_json::Value;

/// The most raw CSV one upload may carry: Salesforce's limit is 150 MB
/// after its own base64 encoding, which it documents as 100 MB of CSV
/// (Bulk API 2.0 Developer Guide, "Upload Job Data").
pub const MAX_UPLOAD_BYTES: usize = 100 * 1024 * 1024;

/// Which result CSV of an ingest job.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResultSet {
    /// `sf__Id`, `sf__Created` and the uploaded columns.
    Successful,
    /// `sf__Id`, `sf__Error` and the uploaded columns.
    Failed,
    /// The uploaded columns of rows never attempted (a failed or aborted job).
    Unprocessed,
}

/// One page of a query job's results.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResultPage {
    /// A complete CSV with its header row (every page has one).
    pub csv: String,
    /// The rows on this page (`Sforce-NumberOfRecords`).
    pub records: u64,
    /// Where the next page starts; `None` on the last page.
    pub next_locator: Option<String>,
}

/// One page of the job list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobList {
    /// The jobs on this page.
    pub jobs: Vec<JobInfo>,
    /// The next page's URL, if there is one.
    pub next_url: Option<String>,
}

fn jobs_path(s: &Session, kind: JobKind) -> String {
    format!("{}/jobs/{}", s.data_path(), kind.segment())
}

fn job_path(s: &Session, kind: JobKind, id: &str) -> Result<String, Error> {
    let id = crate::records::record_id(id).map_err(|_| {
        Error::request(
            "job-id",
            format!("`{id}` is not a job id (15 or 18 characters, starting 750)"),
        )
    })?;
    Ok(format!("{}/{id}", jobs_path(s, kind)))
}

fn json_call(
    t: &mut dyn Transport,
    s: &Session,
    method: Method,
    path: String,
    body: Option<Value>,
) -> Result<CallResponse, Error> {
    let mut req = CallRequest::new(method, path);
    req.body = body.map(|b| b.to_string());
    rest::execute(t, s, &req)
}

fn job_info(resp: &CallResponse) -> Result<JobInfo, Error> {
    JobInfo::from_json(&resp.json()?)
}

/// Creates an ingest job; it is `Open` for its one upload.
pub fn create_ingest_job(
    t: &mut dyn Transport,
    s: &Session,
    options: &IngestOptions,
) -> Result<JobInfo, Error> {
    let body = options.body()?;
    job_info(&json_call(
        t,
        s,
        Method::Post,
        jobs_path(s, JobKind::Ingest),
        Some(body),
    )?)
}

/// Uploads the job's CSV, header row first. Never retried: Salesforce takes
/// one upload per job, and a second one (a retry of a PUT that did arrive)
/// fails the job with `INVALIDJOB`. After a failure, abort the job and
/// upload to a new one.
pub fn upload_job_data(
    t: &mut dyn Transport,
    s: &Session,
    job_id: &str,
    csv: &str,
) -> Result<(), Error> {
    if csv.trim().is_empty() {
        return Err(Error::request(
            "csv",
            "is empty; it needs a header row of field names and at least one row",
        ));
    }
    if csv.len() > MAX_UPLOAD_BYTES {
        return Err(Error::request(
            "csv",
            format!("is {} bytes; one upload takes at most {MAX_UPLOAD_BYTES} (100 MB): split it into several jobs at row boundaries", csv.len()),
        ));
    }
    let mut req = CallRequest::new(
        Method::Put,
        format!("{}/batches", job_path(s, JobKind::Ingest, job_id)?),
    );
    req.headers.push(("content-type".into(), "text/csv".into()));
    req.body = Some(csv.to_string());
    let mut once = s.clone();
    once.limits.retry.max_retries = 0;
    rest::execute(t, &once, &req).map(drop)
}

/// Marks the upload complete, so Salesforce starts processing.
pub fn close_job(t: &mut dyn Transport, s: &Session, job_id: &str) -> Result<JobInfo, Error> {
    set_state(t, s, JobKind::Ingest, job_id, "UploadComplete")
}

/// Aborts a job that has not finished.
pub fn abort_job(
    t: &mut dyn Transport,
    s: &Session,
    kind: JobKind,
    job_id: &str,
) -> Result<JobInfo, Error> {
    set_state(t, s, kind, job_id, "Aborted")
}

fn set_state(
    t: &mut dyn Transport,
    s: &Session,
    kind: JobKind,
    job_id: &str,
    state: &str,
) -> Result<JobInfo, Error> {
    let body = serde_json::json!({ "state": state });
    job_info(&json_call(
        t,
        s,
        Method::Patch,
        job_path(s, kind, job_id)?,
        Some(body),
    )?)
}

/// Deletes a finished job and its data.
pub fn delete_job(
    t: &mut dyn Transport,
    s: &Session,
    kind: JobKind,
    job_id: &str,
) -> Result<(), Error> {
    json_call(t, s, Method::Delete, job_path(s, kind, job_id)?, None).map(drop)
}

/// The job as Salesforce sees it now.
pub fn job_status(
    t: &mut dyn Transport,
    s: &Session,
    kind: JobKind,
    job_id: &str,
) -> Result<JobInfo, Error> {
    job_info(&json_call(
        t,
        s,
        Method::Get,
        job_path(s, kind, job_id)?,
        None,
    )?)
}

/// One result CSV of a finished ingest job.
pub fn ingest_results(
    t: &mut dyn Transport,
    s: &Session,
    job_id: &str,
    which: ResultSet,
) -> Result<String, Error> {
    let leaf = match which {
        ResultSet::Successful => "successfulResults",
        ResultSet::Failed => "failedResults",
        ResultSet::Unprocessed => "unprocessedrecords",
    };
    let mut req = CallRequest::new(
        Method::Get,
        format!("{}/{leaf}/", job_path(s, JobKind::Ingest, job_id)?),
    );
    req.headers.push(("accept".into(), "text/csv".into()));
    req.headers.push(("accept-encoding".into(), "gzip".into()));
    Ok(rest::execute(t, s, &req)?.body)
}

/// Creates a query job for `soql`; `all` includes deleted and archived rows
/// (`queryAll`).
pub fn create_query_job(
    t: &mut dyn Transport,
    s: &Session,
    soql: &str,
    all: bool,
    delimiter: Delimiter,
) -> Result<JobInfo, Error> {
    if soql.trim().is_empty() {
        return Err(Error::request("soql", "is empty"));
    }
    let body = serde_json::json!({
        "operation": if all { "queryAll" } else { "query" },
        "query": soql,
        "contentType": "CSV",
        "columnDelimiter": delimiter.as_str(),
        "lineEnding": "LF",
    });
    job_info(&json_call(
        t,
        s,
        Method::Post,
        jobs_path(s, JobKind::Query),
        Some(body),
    )?)
}

/// One page of a finished query job's results, from `locator` (`None`: the
/// first page), of at most `max_records` rows.
pub fn query_results(
    t: &mut dyn Transport,
    s: &Session,
    job_id: &str,
    locator: Option<&str>,
    max_records: Option<u32>,
) -> Result<ResultPage, Error> {
    let mut req = CallRequest::new(
        Method::Get,
        format!("{}/results", job_path(s, JobKind::Query, job_id)?),
    );
    req.headers.push(("accept".into(), "text/csv".into()));
    req.headers.push(("accept-encoding".into(), "gzip".into()));
    if let Some(n) = max_records {
        req.query.push(("maxRecords".into(), n.to_string()));
    }
    if let Some(l) = locator {
        req.query.push(("locator".into(), l.into()));
    }
    let resp = rest::execute(t, s, &req)?;
    page(resp)
}

fn page(resp: CallResponse) -> Result<ResultPage, Error> {
    let header = |name: &str| {
        resp.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    // The last page says so with the four-character string `null`.
    let next_locator = header("sforce-locator").filter(|l| !l.is_empty() && l != "null");
    let records = match header("sforce-numberofrecords") {
        Some(n) => n.trim().parse().map_err(|_| {
            Error::unexpected(
                resp.status,
                Some("text/csv"),
                "Sforce-NumberOfRecords is not a number",
                n.as_bytes(),
            )
        })?,
        None => {
            return Err(Error::unexpected(
                resp.status,
                Some("text/csv"),
                "a results page without Sforce-NumberOfRecords",
                resp.body.as_bytes(),
            ))
        }
    };
    Ok(ResultPage {
        csv: resp.body,
        records,
        next_locator,
    })
}

/// One page of the jobs of `kind`; `next_url` from the previous page.
pub fn list_jobs(
    t: &mut dyn Transport,
    s: &Session,
    kind: JobKind,
    next_url: Option<&str>,
) -> Result<JobList, Error> {
    let path = next_url
        .map(str::to_string)
        .unwrap_or_else(|| jobs_path(s, kind));
    let v = json_call(t, s, Method::Get, path, None)?.json()?;
    let jobs = v["records"]
        .as_array()
        .into_iter()
        .flatten()
        .map(JobInfo::from_json)
        .collect::<Result<_, _>>()?;
    let next_url = v["nextRecordsUrl"]
        .as_str()
        .filter(|_| v["done"] != true)
        .map(str::to_string);
    Ok(JobList { jobs, next_url })
}

#[cfg(test)]
mod tests;
