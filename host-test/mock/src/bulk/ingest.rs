//! `/jobs/ingest`: create a job, upload its one CSV, close or abort it,
//! read, list and delete it [S-CREATE][S-UPLOAD][S-ABORT][S-INFO][S-DELETE].

use super::csv::{Delimiter, Dialect, LineEnding};
use super::jobs::{settle_later, Job, Operation, Payload, Spec, State, View};
use super::{bad_request, wanted_state};
use crate::data::sobject;
use crate::errors::{self, ApiError};
use crate::sobjects::body_object;
use crate::state::{lock, Shared};
use crate::versions::ApiVersion;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State as St};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::Response;
use axum::Extension;
use serde_json::{Map, Value};
use std::sync::Arc;

type Shared_ = St<Arc<Shared>>;

fn text<'a>(m: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    m.get(key).and_then(Value::as_str)
}

/// Unverified: the answer to a missing or unknown enum value; the REST
/// API's JSON reader answers JSON_PARSER_ERROR for such bodies.
fn bad_value(field: &str, value: &str) -> ApiError {
    bad_request(
        "JSON_PARSER_ERROR",
        format!("Cannot deserialize value of {field} from String \"{value}\": not one of the values accepted"),
    )
}

/// `contentType` (only CSV), `columnDelimiter` and `lineEnding`, defaults
/// CSV, COMMA, LF [S-CREATE].
pub(super) fn dialect(m: &Map<String, Value>) -> Result<Dialect, ApiError> {
    if let Some(ct) = text(m, "contentType").filter(|c| *c != "CSV") {
        return Err(bad_value("contentType", ct));
    }
    let delimiter = match text(m, "columnDelimiter") {
        None => Delimiter::Comma,
        Some(d) => Delimiter::parse(d).ok_or_else(|| bad_value("columnDelimiter", d))?,
    };
    let line_ending = match text(m, "lineEnding") {
        None => LineEnding::Lf,
        Some(l) => LineEnding::parse(l).ok_or_else(|| bad_value("lineEnding", l))?,
    };
    Ok(Dialect {
        delimiter,
        line_ending,
    })
}

pub(super) fn spec(st: &Shared, m: &Map<String, Value>) -> Result<Spec, ApiError> {
    let op = text(m, "operation").unwrap_or("");
    let operation = Operation::parse(op)
        .filter(|o| !matches!(o, Operation::Query | Operation::QueryAll))
        .ok_or_else(|| bad_value("operation", op))?;
    let name = text(m, "object").unwrap_or("");
    // Unverified for ingest; the query-side words for an object Bulk cannot take [S-AIRBYTE].
    let object = sobject(name).ok_or_else(|| {
        bad_request(
            "INVALIDENTITY",
            format!("Entity '{name}' is not supported by the Bulk API."),
        )
    })?;
    if operation == Operation::HardDelete && !st.knobs.bulk_hard_delete_allowed() {
        // The permission is off by default [S-CREATE]; unverified wording.
        return Err(bad_request(
            "FEATURENOTENABLED",
            "hardDelete operation requires the Bulk API Hard Delete permission",
        ));
    }
    let external_id = match (operation, text(m, "externalIdFieldName")) {
        (Operation::Upsert, None | Some("")) => {
            // Bulk API's words (Force.com-Toolkit-for-NET #331).
            return Err(bad_request("INVALIDJOB", format!(
                "External ID was blank for {}. An External ID must be specified for upsert.",
                object.name
            )));
        }
        (Operation::Upsert, Some(f)) => Some(object.external_id(f).ok_or_else(|| {
            bad_request("INVALIDJOB", format!(
                "Field name provided, {f} does not match an External ID, Salesforce Id, or indexed field for {}",
                object.name
            ))
        })?),
        _ => None,
    };
    Ok(Spec {
        operation,
        object,
        external_id,
        dialect: dialect(m)?,
    })
}

/// `POST /jobs/ingest` → 200 and JobInfo in `Open` [S-GUIDE66]; with a
/// multipart body the data comes along (see `multipart`).
pub(crate) async fn create(
    St(st): Shared_,
    Extension(v): Extension<ApiVersion>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    if crate::multipart::is_multipart(&headers) {
        return super::multipart::create(&st, &v, &headers, &body);
    }
    let m = body_object(&body)?;
    let spec = spec(&st, &m)?;
    let job = Job::new(
        spec,
        &v.0,
        Payload::Ingest {
            upload: None,
            outcome: None,
        },
    );
    let info = lock(&st.bulk).add(job).info(View::Created);
    Ok(errors::json(StatusCode::OK, &info))
}

pub(crate) async fn info(
    St(st): Shared_,
    Path((_, id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let info = lock(&st.bulk).get(&id, false, &st)?.info(View::Full);
    Ok(errors::json(StatusCode::OK, &info))
}

/// `text/csv`, with or without `; charset=UTF-8` [S-SS][S-JS].
fn is_csv(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|t| t.trim().eq_ignore_ascii_case("text/csv"))
}

/// `PUT …/batches` → 201, no body [S-UPLOAD]; one upload per job.
pub(crate) async fn upload(
    St(st): Shared_,
    Path((_, id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let mut jobs = lock(&st.bulk);
    let job = jobs.get(&id, false, &st)?;
    if !is_csv(&headers) {
        // Unverified: status and body for another content type.
        return Err(bad_request(
            "INVALIDCONTENTTYPE",
            "Job data must be uploaded with Content-Type text/csv",
        ));
    }
    if matches!(
        job.payload,
        Payload::Ingest {
            upload: Some(_),
            ..
        }
    ) {
        // The second PUT is rejected (S-GH-MULTI; S-SE-MULTI has the close fail instead).
        return Err(bad_request("INVALIDJOB", format!(
            "Found multiple contents for job: <{id}>, please 'Close' / 'Abort' / 'Delete' the current Job then create a new Job and make sure you only do 'PUT' once on a given Job."
        )));
    }
    if job.state != State::Open {
        // Unverified: status and body for a PUT on a job no longer Open.
        return Err(bad_request(
            "INVALIDJOBSTATE",
            format!(
                "Data can only be uploaded to a job in state Open; this job is {}",
                job.state.as_str()
            ),
        ));
    }
    if body.len() > st.knobs.bulk_upload_limit() {
        // Unverified body; the size is from [S-UPLOAD].
        return Err(errors::rest(
            StatusCode::PAYLOAD_TOO_LARGE,
            "REQUEST_ENTITY_TOO_LARGE",
            format!(
                "Job data exceeds the limit of {} bytes per upload",
                st.knobs.bulk_upload_limit()
            ),
        ));
    }
    job.payload = Payload::Ingest {
        upload: Some(body.to_vec()),
        outcome: None,
    };
    Ok(errors::empty(StatusCode::CREATED))
}

/// `PATCH /jobs/ingest/{id}` with `UploadComplete` or `Aborted` [S-GUIDE66][S-ABORT].
pub(crate) async fn set_state(
    St(st): Shared_,
    Path((_, id)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let wanted = wanted_state(&body)?;
    let mut jobs = lock(&st.bulk);
    let job = jobs.get(&id, false, &st)?;
    match wanted.as_str() {
        "UploadComplete" if job.state == State::Open => {
            job.set_state(State::UploadComplete, &st);
            // Answer UploadComplete as the docs show, then start processing.
            let info = job.info(View::Patched);
            drop(jobs);
            settle_later(st.clone(), id, false);
            return Ok(errors::json(StatusCode::OK, &info));
        }
        "Aborted" => abort(job, &st)?,
        // Unverified: closing twice, or asking for a state clients cannot set.
        _ => {
            return Err(bad_request(
                "INVALIDJOBSTATE",
                format!(
                    "Cannot change the state of a {} job to {wanted}",
                    job.state.as_str()
                ),
            ))
        }
    }
    Ok(errors::json(StatusCode::OK, &job.info(View::Patched)))
}

/// Abort a job that is not finished: "Aborting already Completed Job not
/// allowed" otherwise [S-ABORTQ][S-RESTFORCE]. An ingest job's upload
/// becomes its unprocessed rows [S-UNPROC].
pub(super) fn abort(job: &mut Job, st: &Shared) -> Result<(), ApiError> {
    if job.state.terminal() {
        let done = match job.state {
            State::JobComplete => "Completed",
            other => other.as_str(),
        };
        return Err(bad_request(
            "INVALIDJOBSTATE",
            format!("Aborting already {done} Job not allowed"),
        ));
    }
    if let Payload::Ingest { upload, outcome } = &mut job.payload {
        let parsed = upload.take().and_then(|d| job.dialect.read(&d).ok());
        *outcome = Some(super::apply::Outcome {
            header: parsed
                .as_ref()
                .map(|p| p.header.clone())
                .unwrap_or_default(),
            unprocessed: parsed.map(|p| p.rows).unwrap_or_default(),
            ..Default::default()
        });
    }
    job.set_state(State::Aborted, st);
    Ok(())
}

/// `DELETE` → 204 once the job is closed or over [S-DELETE]; before that the
/// query side's answer [S-GUIDE66] (unverified for ingest).
pub(super) fn delete_job(st: &Shared, id: &str, query: bool) -> Result<Response, ApiError> {
    let mut jobs = lock(&st.bulk);
    let state = jobs.get(id, query, st)?.state;
    let allowed = state.terminal() || (state == State::UploadComplete && !query);
    if !allowed {
        return Err(bad_request(
            "API_ERROR",
            "Error encountered when deleting the job because the job is not terminated",
        ));
    }
    jobs.remove(id);
    Ok(errors::empty(StatusCode::NO_CONTENT))
}

pub(crate) async fn delete(
    St(st): Shared_,
    Path((_, id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    delete_job(&st, &id, false)
}

/// `GET /jobs/ingest?isPkChunkingEnabled=&jobType=&queryLocator=` [S-ALLINGEST].
pub(crate) async fn list(
    St(st): Shared_,
    Extension(v): Extension<ApiVersion>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let base = format!("/services/data/v{}/jobs/ingest", v.0);
    list_jobs(&st, false, raw.as_deref(), &base)
}

/// Filters: `isPkChunkingEnabled` (Bulk 1.0 only, so `true` keeps none of
/// these), `jobType`, `concurrencyMode` (always Parallel) [S-ALLQUERY].
pub(super) fn list_jobs(
    st: &Shared,
    query: bool,
    raw: Option<&str>,
    base: &str,
) -> Result<Response, ApiError> {
    let params: Vec<(String, String)> = form_urlencoded::parse(raw.unwrap_or("").as_bytes())
        .into_owned()
        .collect();
    let param = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let pk = param("isPkChunkingEnabled").is_some_and(|p| p.eq_ignore_ascii_case("true"));
    let job_type = param("jobType").map(str::to_string);
    let mode = param("concurrencyMode").map(str::to_ascii_lowercase);
    let keep = |j: &Job| {
        let kind = if j.is_query() { "V2Query" } else { "V2Ingest" };
        !pk && job_type.as_deref().is_none_or(|t| t == kind)
            && mode.as_deref().is_none_or(|m| m == "parallel")
    };
    let page = lock(&st.bulk).list(query, keep, param("queryLocator"), base, st)?;
    Ok(errors::json(StatusCode::OK, &page))
}
