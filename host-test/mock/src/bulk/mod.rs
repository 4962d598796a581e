//! Bulk API 2.0: `/jobs/ingest` and `/jobs/query`, as the Bulk API 2.0
//! Developer Guide (v66.0) describes them. Sources are cited by the tags of
//! `salesforce-bulk.md` (its **Sources** list): [S-CREATE], [S-INFO] …
//!
//! - `jobs`: the job table, states and JobInfo JSON, and when a job finishes;
//! - `ingest`: create, upload (`PUT …/batches`), close/abort, delete, list;
//! - `multipart`: create with the data in the same request;
//! - `apply`: running the uploaded rows against the org's `Store`;
//! - `csv`: Salesforce's CSV dialect (delimiters, line endings, `#N/A`);
//! - `query`: query jobs and their rows;
//! - `results`: the result CSVs of both, paged by `Sforce-Locator`.
//!
//! Where Salesforce's documentation is silent the mock picks a strict
//! answer and says so in a comment starting "Unverified:".

mod apply;
mod csv;
mod ingest;
mod jobs;
mod multipart;
mod query;
mod results;

pub(crate) use jobs::Jobs;

use crate::errors::{self, ApiError};
use crate::state::Shared;
use axum::http::StatusCode;
use axum::routing::{get, post, put, MethodRouter};
use std::sync::Arc;

/// One upload may carry 150 MB after base64 encoding, i.e. about 100 MB of
/// CSV [S-UPLOAD]; the mock counts the raw bytes against 100,000,000.
pub(crate) const UPLOAD_LIMIT: usize = 100_000_000;

/// Every bulk route under `/services/data/{version}` (`v`).
pub(crate) fn routes(v: &str) -> Vec<(String, MethodRouter<Arc<Shared>>)> {
    let ingest = format!("{v}/jobs/ingest");
    let query = format!("{v}/jobs/query");
    let mut out: Vec<(String, MethodRouter<Arc<Shared>>)> = vec![
        (ingest.clone(), post(ingest::create).get(ingest::list)),
        (
            format!("{ingest}/{{id}}"),
            get(ingest::info)
                .patch(ingest::set_state)
                .delete(ingest::delete),
        ),
        (format!("{ingest}/{{id}}/batches"), put(ingest::upload)),
        (
            format!("{ingest}/{{id}}/successfulResults"),
            get(results::successful),
        ),
        (
            format!("{ingest}/{{id}}/failedResults"),
            get(results::failed),
        ),
        (query.clone(), post(query::create).get(query::list)),
        (
            format!("{query}/{{id}}"),
            get(query::info)
                .patch(query::set_state)
                .delete(query::delete),
        ),
        (format!("{query}/{{id}}/results"), get(results::query_page)),
    ];
    // The docs and jsforce say `unprocessedrecords`, simple-salesforce
    // `unprocessedRecords` [S-UNPROC][S-SS][S-JS].
    for spelling in ["unprocessedrecords", "unprocessedRecords"] {
        out.push((
            format!("{ingest}/{{id}}/{spelling}"),
            get(results::unprocessed),
        ));
    }
    out
}

/// `[{"errorCode":…,"message":…}]` with 400, the shape of every Bulk 2.0
/// error [S-INFO][S-ABORTQ].
/// The `state` a PATCH of a job asks for (empty when it names none).
pub(crate) fn wanted_state(body: &[u8]) -> Result<String, ApiError> {
    Ok(crate::sobjects::body_object(body)?
        .get("state")
        .and_then(serde_json::Value::as_str)
        .unwrap_or("")
        .to_string())
}

pub(crate) fn bad_request(code: &str, message: impl Into<String>) -> ApiError {
    errors::rest(StatusCode::BAD_REQUEST, code, message)
}
