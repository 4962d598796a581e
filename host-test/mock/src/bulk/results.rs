//! The result CSVs: an ingest job's successfulResults, failedResults and
//! unprocessedrecords [S-SUCC][S-FAIL][S-UNPROC], and a query job's pages,
//! each a whole CSV with its header, chained by `Sforce-Locator` until the
//! literal `null` [S-QRESULTS].

use super::apply::Outcome;
use super::bad_request;
use super::jobs::{Job, Payload, State};
use crate::errors::{self, ApiError};
use crate::state::{lock, Shared};
use crate::versions::ApiVersion;
use axum::body::Body;
use axum::extract::{Path, RawQuery, State as St};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use axum::Extension;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use std::sync::Arc;

/// Rows per page without `maxRecords`. Unverified: Salesforce picks "based
/// on the service" [S-QRESULTS]; clients assume 50,000, and jsforce needs
/// small results in one page (salesforce-bulk.md §10.3 item 12).
const DEFAULT_MAX_RECORDS: usize = 50_000;

const CSV_UTF8: &str = "text/csv; charset=UTF-8";

enum Which {
    Successful,
    Failed,
    Unprocessed,
}

/// A result CSV, gzip-compressed when the client accepts it: Salesforce
/// compresses result downloads on `Accept-Encoding: gzip` [S-GZIP-Q]
/// [S-GZIP-IN] (the v66 guide says query results always are [S-GUIDE66];
/// the mock keeps plain text for a client that does not ask).
fn csv_response(body: Vec<u8>, request: &HeaderMap) -> Response {
    let gzip = request
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|e| e.trim().starts_with("gzip")));
    let body = match gzip {
        true => compressed(&body),
        false => body,
    };
    let mut resp = Response::new(Body::from(body));
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(CSV_UTF8));
    if gzip {
        h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    resp
}

fn compressed(body: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    // Writing to a Vec cannot fail.
    let _ = gz.write_all(body);
    gz.finish().unwrap_or_default()
}

/// 412 JOB_NOT_COMPLETE, the v47 docs' answer for results asked too early
/// [S-Q412]; current docs dropped the example.
fn not_complete(state: State) -> ApiError {
    errors::rest(
        StatusCode::PRECONDITION_FAILED,
        "JOB_NOT_COMPLETE",
        format!(
            "can only download query results of successfully completed bulk job with status: JOB_COMPLETE. Current status: {}",
            state.shouting()
        ),
    )
}

fn ingest_results(
    st: &Shared,
    id: &str,
    which: Which,
    request: &HeaderMap,
) -> Result<Response, ApiError> {
    let mut jobs = lock(&st.bulk);
    let job = jobs.get(id, false, st)?;
    let Payload::Ingest {
        outcome: Some(o), ..
    } = &job.payload
    else {
        // Open, UploadComplete or InProgress: nothing to read yet [S-GUIDE66].
        return Err(not_complete(job.state));
    };
    let d = job.dialect;
    let body = match which {
        Which::Successful => {
            let rows: Vec<Vec<String>> = o
                .successful
                .iter()
                .map(|(id, created, row)| prefixed(id, &created.to_string(), row))
                .collect();
            d.write(&d.header_line(&["sf__Id", "sf__Created"], &o.header), &rows)
        }
        Which::Failed => {
            let rows: Vec<Vec<String>> = o
                .failed
                .iter()
                .map(|(id, err, row)| prefixed(id, err, row))
                .collect();
            d.write(&d.header_line(&["sf__Id", "sf__Error"], &o.header), &rows)
        }
        Which::Unprocessed => unprocessed_csv(job, o),
    };
    Ok(csv_response(body, request))
}

fn unprocessed_csv(job: &Job, o: &Outcome) -> Vec<u8> {
    let d = job.dialect;
    d.write(&d.header_line(&[], &o.header), &o.unprocessed)
}

fn prefixed(a: &str, b: &str, row: &[String]) -> Vec<String> {
    let mut out = vec![a.to_string(), b.to_string()];
    out.extend(row.iter().cloned());
    out
}

pub(crate) async fn successful(
    St(st): St<Arc<Shared>>,
    Path((_, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    ingest_results(&st, &id, Which::Successful, &headers)
}

pub(crate) async fn failed(
    St(st): St<Arc<Shared>>,
    Path((_, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    ingest_results(&st, &id, Which::Failed, &headers)
}

pub(crate) async fn unprocessed(
    St(st): St<Arc<Shared>>,
    Path((_, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    ingest_results(&st, &id, Which::Unprocessed, &headers)
}

/// Where a page starts: the locator is opaque to clients [S-QRESULTS]; the
/// mock's is the offset in URL-safe base64, like the docs' `MTAwMDA`
/// ("10000").
fn decode_locator(locator: &str, rows: usize) -> Result<usize, ApiError> {
    if locator.is_empty() {
        return Ok(0);
    }
    URL_SAFE_NO_PAD
        .decode(locator)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.parse::<usize>().ok())
        .filter(|&n| n > 0 && n < rows)
        // Unverified: the answer to a locator the job never gave out.
        .ok_or_else(|| {
            bad_request(
                "INVALID_QUERY_LOCATOR",
                format!("Invalid locator: {locator}"),
            )
        })
}

fn max_records(raw: Option<&str>) -> Result<usize, ApiError> {
    match raw {
        None => Ok(DEFAULT_MAX_RECORDS),
        Some(n) => n
            .parse::<usize>()
            .ok()
            .filter(|&n| n > 0)
            // Unverified wording.
            .ok_or_else(|| {
                bad_request(
                    "INVALIDURL",
                    format!("maxRecords must be a positive integer, not '{n}'"),
                )
            }),
    }
}

/// `GET /jobs/query/{id}/results?locator=&maxRecords=` [S-QRESULTS].
pub(crate) async fn query_page(
    St(st): St<Arc<Shared>>,
    Extension(v): Extension<ApiVersion>,
    Path((_, id)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let params: Vec<(String, String)> = form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
        .into_owned()
        .collect();
    let param = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let mut jobs = lock(&st.bulk);
    let job = jobs.get(&id, true, &st)?;
    let Payload::Query { table: Some(t), .. } = &job.payload else {
        return Err(not_complete(job.state));
    };
    if job.state != State::JobComplete {
        return Err(not_complete(job.state));
    }
    if job.api_version != v.0 {
        // The status is documented, the body is not [S-QRESULTS].
        return Err(errors::rest(
            StatusCode::CONFLICT,
            "API_ERROR",
            format!(
                "This job was created with API version {}; get its results with the same version",
                job.api_version
            ),
        ));
    }
    let start = decode_locator(param("locator").unwrap_or(""), t.rows.len())?;
    let end = (start + max_records(param("maxRecords"))?).min(t.rows.len());
    let d = job.dialect;
    let header: Vec<&str> = t.header.iter().map(String::as_str).collect();
    let mut resp = csv_response(
        d.write(&d.header_line(&header, &[]), &t.rows[start..end]),
        &headers,
    );
    let next = match end < t.rows.len() {
        true => URL_SAFE_NO_PAD.encode(end.to_string()),
        false => "null".into(),
    };
    let h = resp.headers_mut();
    h.insert(
        "sforce-locator",
        HeaderValue::from_str(&next).unwrap_or(HeaderValue::from_static("null")),
    );
    h.insert("sforce-numberofrecords", HeaderValue::from(end - start));
    Ok(resp)
}
