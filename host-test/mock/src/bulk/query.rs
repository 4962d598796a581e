//! `/jobs/query`: a SOQL query run as a job [S-QCREATE]. It starts in
//! `UploadComplete`, goes `InProgress` and ends `JobComplete` with its rows
//! flattened for CSV: `Account.Name` is a column of its own [S-QRESULTS].

use super::ingest::{abort, delete_job, dialect, list_jobs};
use super::jobs::{settle_later, Job, Operation, Payload, Spec, State, View};
use super::{bad_request, wanted_state};
use crate::data::Store;
use crate::errors::{self, ApiError};
use crate::query::select_rows_where;
use crate::sobjects::body_object;
use crate::soql::{self, FieldRef, Query, Select};
use crate::state::{lock, Shared};
use crate::versions::ApiVersion;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State as St};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Extension;
use serde_json::Value;
use std::sync::Arc;

/// A finished query's result: column names and rows of CSV values.
pub(crate) struct Table {
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

/// Parse the SOQL, and refuse what Bulk queries do not support: aggregates
/// such as `COUNT()`, `OFFSET`, parent-to-child subqueries [S-QCREATE].
fn parse(soql: &str) -> Result<Query, ApiError> {
    let q =
        soql::parse(soql).map_err(|e| errors::rest(StatusCode::BAD_REQUEST, e.code, e.message))?;
    // Unverified: the errorCode and wording of these refusals.
    let refuse = |what: &str| {
        bad_request(
            "API_ERROR",
            format!("{what} is not supported by the Bulk API"),
        )
    };
    if matches!(q.select, Select::Count) {
        return Err(refuse("Aggregate query"));
    }
    if q.offset > 0 {
        return Err(refuse("OFFSET"));
    }
    if !q.children.is_empty() {
        return Err(refuse("Parent-to-child relationship query"));
    }
    // Unverified too: that Bulk queries refuse blob fields rather than
    // answer with their URL; the REST query is the way to find files.
    if let Select::Fields(fields) = &q.select {
        if let Some(f) = fields.iter().find(|f| f.is_blob()) {
            return Err(refuse(&format!("Selecting the blob field {}", f.name())));
        }
    }
    Ok(q)
}

/// `POST /jobs/query` → 200, JobInfo in `UploadComplete` [S-QCREATE][S-GUIDE66].
pub(crate) async fn create(
    St(st): St<Arc<Shared>>,
    Extension(v): Extension<ApiVersion>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let m = body_object(&body)?;
    let op = m.get("operation").and_then(Value::as_str).unwrap_or("");
    let operation = Operation::parse(op)
        .filter(|o| matches!(o, Operation::Query | Operation::QueryAll))
        .ok_or_else(|| {
            bad_request(
                "JSON_PARSER_ERROR",
                format!("Invalid operation for a query job: \"{op}\""),
            )
        })?;
    let soql = m
        .get("query")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let q = parse(&soql)?;
    let spec = Spec {
        operation,
        object: q.sobject,
        external_id: None,
        dialect: dialect(&m)?,
    };
    let mut job = Job::new(spec, &v.0, Payload::Query { soql, table: None });
    job.set_state(State::UploadComplete, &st);
    let info = lock(&st.bulk).add(job).info(View::Created);
    let id = info["id"].as_str().unwrap_or_default().to_string();
    settle_later(st.clone(), id, true);
    Ok(errors::json(StatusCode::OK, &info))
}

/// Run the query against the Store as it is now.
pub(crate) fn run(job: &mut Job, store: &Store) {
    let Payload::Query { soql, table } = &mut job.payload else {
        return;
    };
    let Ok(q) = parse(soql) else {
        job.state = State::Failed;
        return;
    };
    let Select::Fields(fields) = &q.select else {
        return;
    };
    let all = job.operation == Operation::QueryAll;
    let rows: Vec<Vec<String>> = select_rows_where(store, &q, all, |_| true)
        .into_iter()
        .map(|rec| {
            fields
                .iter()
                .map(|f| csv_value(&f.value(store, rec)))
                .collect()
        })
        .collect();
    job.processed = rows.len();
    *table = Some(Table {
        header: fields.iter().map(column).collect(),
        rows,
    });
    job.state = State::JobComplete;
}

/// `Account.Name` for a parent's field, as in the docs' `Owner.Email` [S-QRESULTS].
fn column(f: &FieldRef) -> String {
    match f {
        FieldRef::Direct(field) => field.name.to_string(),
        FieldRef::Related { rel, field, .. } => format!("{rel}.{}", field.name),
    }
}

/// Nulls are empty fields [S-JS640]; the rest as their JSON text.
fn csv_value(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

pub(crate) async fn info(
    St(st): St<Arc<Shared>>,
    Path((_, id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let info = lock(&st.bulk).get(&id, true, &st)?.info(View::Full);
    Ok(errors::json(StatusCode::OK, &info))
}

/// Only `{"state":"Aborted"}`: a query job has no upload to close [S-ABORTQ].
pub(crate) async fn set_state(
    St(st): St<Arc<Shared>>,
    Path((_, id)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let wanted = wanted_state(&body)?;
    let mut jobs = lock(&st.bulk);
    let job = jobs.get(&id, true, &st)?;
    if wanted != "Aborted" {
        // Unverified wording.
        return Err(bad_request(
            "INVALIDJOBSTATE",
            format!(
                "Cannot change the state of a {} query job to {wanted}",
                job.state.as_str()
            ),
        ));
    }
    abort(job, &st)?;
    Ok(errors::json(StatusCode::OK, &job.info(View::Patched)))
}

pub(crate) async fn delete(
    St(st): St<Arc<Shared>>,
    Path((_, id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    delete_job(&st, &id, true)
}

/// `GET /jobs/query?…` [S-ALLQUERY].
pub(crate) async fn list(
    St(st): St<Arc<Shared>>,
    Extension(v): Extension<ApiVersion>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    // The docs' example points query lists' nextRecordsUrl at /jobs/ingest
    // [S-ALLQUERY]; the mock points it where it leads to the same list.
    let base = format!("/services/data/v{}/jobs/query", v.0);
    list_jobs(&st, true, raw.as_deref(), &base)
}
