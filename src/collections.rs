//! sObject Collections: many records per request (200 at most; longer lists
//! are chunked in order), with per-record results. When a request fails as a
//! whole, the results still say exactly which records were written, which
//! were not, and which are unknown.

#[allow(unused_imports)]
use crate::prelude::*;

use crate::error::{ApiErrorItem, Error};
use crate::http::{Method, Transport};
use crate::limits::LimitInfo;
use crate::records::{api_name, record_id};
use crate::rest::{self, CallRequest};
use crate::session::Session;
use serde_json::{json, Value};

/// Salesforce's limit per collections request.
pub const CHUNK: usize = 200;

/// The outcome for one record of a collections call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordResult {
    /// The record's id, when Salesforce reports one.
    pub id: Option<String>,
    /// True when the record was written (or deleted).
    pub success: bool,
    /// For upserts: true when the record was created.
    pub created: Option<bool>,
    /// Salesforce's errors for this record (its `statusCode` is in
    /// `error_code`). When a whole request of the batch failed, its records
    /// carry `UNKNOWN` or `NOT_WRITTEN`, and the records after it
    /// `NOT_ATTEMPTED`.
    pub errors: Vec<ApiErrorItem>,
}

impl RecordResult {
    fn failed(code: &str, message: String) -> Self {
        Self {
            id: None,
            success: false,
            created: None,
            errors: vec![ApiErrorItem {
                error_code: code.into(),
                message,
                fields: Vec::new(),
            }],
        }
    }
}

/// Every record's result, in input order, and the API usage last reported.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Batch {
    /// One result per input record, in input order.
    pub results: Vec<RecordResult>,
    /// The API usage reported by the last request of the batch.
    pub limit_info: Option<LimitInfo>,
}

/// What a collections call does with the records it is given.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Write {
    /// Insert new records.
    Create,
    /// Update existing records; each needs its `Id`.
    Update,
    /// Create or update by an external id field.
    Upsert,
}

/// Parses `records-json` (a JSON array of objects) and stamps each with
/// `attributes.type` so Salesforce knows the object.
pub fn parse_records(sobject: &str, records_json: &str, write: Write) -> Result<Vec<Value>, Error> {
    let sobject = api_name("sobject", sobject)?;
    let list: Vec<Value> = match serde_json::from_str(records_json) {
        Ok(Value::Array(list)) => list,
        Ok(_) => {
            return Err(Error::request(
                "records-json",
                "must be a JSON array of record objects",
            ))
        }
        Err(e) => {
            return Err(Error::request(
                "records-json",
                format!("is not valid JSON ({e})"),
            ))
        }
    };
    list.into_iter()
        .enumerate()
        .map(|(i, mut record)| {
            let Some(obj) = record.as_object_mut() else {
                return Err(Error::request(
                    "records-json",
                    format!("item {i} is not an object"),
                ));
            };
            if write == Write::Update {
                let id = obj.get("Id").and_then(Value::as_str).unwrap_or_default();
                record_id(id).map_err(|_| {
                    Error::request(
                        "records-json",
                        format!("item {i} needs a valid `Id` to update"),
                    )
                })?;
            }
            obj.entry("attributes")
                .or_insert_with(|| json!({ "type": sobject }));
            Ok(record)
        })
        .collect()
}

fn parse_results(resp: &rest::CallResponse, expected: usize) -> Result<Vec<RecordResult>, Error> {
    let value = resp.json()?;
    let bad = |why: &str| {
        Error::unexpected(
            resp.status,
            None,
            format!("collections answer: {why}"),
            resp.body.as_bytes(),
        )
    };
    let list = value.as_array().ok_or_else(|| bad("not a JSON array"))?;
    if list.len() != expected {
        return Err(bad(&format!(
            "{} results for {expected} records",
            list.len()
        )));
    }
    list.iter()
        .map(|r| {
            let o = r
                .as_object()
                .ok_or_else(|| bad("a result is not an object"))?;
            Ok(RecordResult {
                id: o.get("id").and_then(Value::as_str).map(str::to_string),
                success: o
                    .get("success")
                    .and_then(Value::as_bool)
                    .ok_or_else(|| bad("a result has no `success`"))?,
                created: o.get("created").and_then(Value::as_bool),
                errors: o
                    .get("errors")
                    .and_then(Value::as_array)
                    .map(|errs| errs.iter().filter_map(rest::error_item).collect())
                    .unwrap_or_default(),
            })
        })
        .collect()
}

/// Runs one request per chunk, in order. A chunk whose request fails marks
/// its records `UNKNOWN` when the request may have reached Salesforce
/// (timeouts, dropped connections) or `NOT_WRITTEN` when it was refused
/// before any write; later chunks are not attempted (`NOT_ATTEMPTED`).
fn run_chunks(
    t: &mut dyn Transport,
    s: &Session,
    count: usize,
    mut request_for: impl FnMut(core::ops::Range<usize>) -> CallRequest,
) -> Result<Batch, Error> {
    let mut limit_info = None;
    let mut results = Vec::with_capacity(count);
    let mut start = 0;
    while start < count {
        let range = start..(start + CHUNK).min(count);
        let len = range.len();
        match rest::execute(t, s, &request_for(range.clone()))
            .and_then(|r| parse_results(&r, len).map(|chunk| (chunk, r.limit_info)))
        {
            Ok((mut chunk, reported)) => {
                results.append(&mut chunk);
                limit_info = reported.or(limit_info);
            }
            Err(e) => {
                let maybe_written = matches!(
                    e,
                    Error::Timeout(_) | Error::Transport(_) | Error::Unexpected { .. }
                );
                // Refused before any write: the whole call simply failed
                // (and a session-expired error lets the host re-authenticate).
                if start == 0 && !maybe_written {
                    return Err(e);
                }
                let (code, verb) = if maybe_written {
                    ("UNKNOWN", "may or may not have been written")
                } else {
                    ("NOT_WRITTEN", "were not written")
                };
                let msg = format!("records {}..{} {verb}: {e}", range.start, range.end);
                results.extend((0..len).map(|_| RecordResult::failed(code, msg.clone())));
                let skipped = count - range.end;
                let msg = format!(
                    "not attempted after records {}..{} failed",
                    range.start, range.end
                );
                results.extend(
                    (0..skipped).map(|_| RecordResult::failed("NOT_ATTEMPTED", msg.clone())),
                );
                return Ok(Batch {
                    results,
                    limit_info,
                });
            }
        }
        start += len;
    }
    Ok(Batch {
        results,
        limit_info,
    })
}

fn body(records: &[Value], all_or_none: bool) -> String {
    json!({ "allOrNone": all_or_none, "records": records }).to_string()
}

/// Creates the records of `records_json` (a JSON array of objects), or
/// upserts them by `external_id_field` when one is given. Lists longer than
/// [`CHUNK`] are sent in chunks, in order; `all_or_none` applies per chunk.
pub fn write(
    t: &mut dyn Transport,
    s: &Session,
    sobject: &str,
    external_id_field: Option<&str>,
    records_json: &str,
    all_or_none: bool,
) -> Result<Batch, Error> {
    let (kind, method, path) = match external_id_field {
        Some(field) => (
            Write::Upsert,
            Method::Patch,
            format!(
                "{}/composite/sobjects/{}/{}",
                s.data_path(),
                api_name("sobject", sobject)?,
                api_name("external-id-field", field)?
            ),
        ),
        None => (
            Write::Create,
            Method::Post,
            format!("{}/composite/sobjects", s.data_path()),
        ),
    };
    let records = parse_records(sobject, records_json, kind)?;
    run_chunks(t, s, records.len(), |range| {
        let mut req = CallRequest::new(method, path.clone());
        req.body = Some(body(&records[range], all_or_none));
        req
    })
}

/// Updates the records of `records_json`; each object needs its `Id`.
/// Chunked as [`write()`] is.
pub fn update(
    t: &mut dyn Transport,
    s: &Session,
    sobject: &str,
    records_json: &str,
    all_or_none: bool,
) -> Result<Batch, Error> {
    let records = parse_records(sobject, records_json, Write::Update)?;
    let path = format!("{}/composite/sobjects", s.data_path());
    run_chunks(t, s, records.len(), |range| {
        let mut req = CallRequest::new(Method::Patch, path.clone());
        req.body = Some(body(&records[range], all_or_none));
        req
    })
}

/// Deletes records by id. Chunked as [`write()`] is.
pub fn delete(
    t: &mut dyn Transport,
    s: &Session,
    ids: &[String],
    all_or_none: bool,
) -> Result<Batch, Error> {
    let ids = ids
        .iter()
        .map(|i| record_id(i))
        .collect::<Result<Vec<_>, _>>()?;
    let path = format!("{}/composite/sobjects", s.data_path());
    run_chunks(t, s, ids.len(), |range| {
        let mut req = CallRequest::new(Method::Delete, path.clone());
        req.query.push(("ids".into(), ids[range].join(",")));
        req.query
            .push(("allOrNone".into(), all_or_none.to_string()));
        req
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_get_their_type() {
        let r = parse_records(
            "Account",
            r#"[{"Name":"A"},{"attributes":{"type":"Account"},"Name":"B"}]"#,
            Write::Create,
        )
        .unwrap();
        assert_eq!(r[0]["attributes"]["type"], "Account");
        assert!(parse_records("Account", r#"{"Name":"A"}"#, Write::Create).is_err());
        assert!(
            parse_records("Account", r#"[{"Name":"A"}]"#, Write::Update).is_err(),
            "updates need an Id"
        );
    }
}
