//! Running an ingest job: its upload against the org's `Store`, row by row.
//! A bad header fails the whole job ("InvalidBatch : Field name not found :
//! X" [S-AMP]); a bad row fails alone and lands in failedResults with
//! `sf__Error` as `CODE:message:Fields --` (jsforce's tests against a real
//! org: `REQUIRED_FIELD_MISSING:Required fields are missing: [Name]:Name --`;
//! with no field, `INVALID_CROSS_REFERENCE_KEY:invalid cross reference id:--`
//! [S-FAILCAP]).

use super::jobs::{Job, Operation, Payload, State};
use crate::data::{looks_like_id, Field, Kind, SObject, Store};
use crate::errors::ApiError;
use crate::sobjects::{upsert_one, Upserted};
use serde_json::{Map, Value};

/// What a finished ingest job keeps for its result CSVs.
#[derive(Default)]
pub(crate) struct Outcome {
    /// The header as uploaded; results echo it [S-SUCC].
    pub header: Vec<String>,
    /// `(sf__Id, sf__Created, row)`
    pub successful: Vec<(String, bool, Vec<String>)>,
    /// `(sf__Id, sf__Error, row)`
    pub failed: Vec<(String, String, Vec<String>)>,
    pub unprocessed: Vec<Vec<String>>,
}

/// One column of the upload.
enum Column {
    Field(&'static Field),
    /// `Account.ExtId__c` on Contact: the parent found by its external id
    /// sets `lookup` [S-REL].
    Parent {
        lookup: &'static Field,
        target: &'static SObject,
        key: &'static str,
    },
}

/// A row's failure: `statusCode`, message and fields, as the SOAP/REST
/// APIs name them.
struct RowError {
    code: String,
    message: String,
    fields: Vec<String>,
}

impl RowError {
    fn new(code: &str, message: impl Into<String>, fields: &[&str]) -> RowError {
        RowError {
            code: code.into(),
            message: message.into(),
            fields: fields.iter().map(|f| f.to_string()).collect(),
        }
    }

    /// `CODE:message:Field1,Field2 --`, or `CODE:message:--` without fields.
    /// Unverified: how several fields are joined.
    fn sf_error(&self) -> String {
        match self.fields.is_empty() {
            true => format!("{}:{}:--", self.code, self.message),
            false => format!(
                "{}:{}:{} --",
                self.code,
                self.message,
                self.fields.join(",")
            ),
        }
    }

    /// The Store speaks REST; a record Salesforce cannot find is, in a
    /// bulk row, an invalid cross reference [S-FAILCAP].
    fn from_api(e: ApiError) -> RowError {
        if e.code() == "NOT_FOUND" {
            return RowError::new(
                "INVALID_CROSS_REFERENCE_KEY",
                "invalid cross reference id",
                &[],
            );
        }
        let fields = match &e.record_error()["fields"] {
            Value::Array(a) => a
                .iter()
                .filter_map(|f| f.as_str().map(String::from))
                .collect(),
            _ => Vec::new(),
        };
        RowError {
            code: e.code().into(),
            message: e.message().into(),
            fields,
        }
    }
}

/// Run the job's upload: `JobComplete` with counters, or `Failed` with
/// `errorMessage` and every row unprocessed.
pub(crate) fn run(job: &mut Job, store: &mut Store) {
    let Payload::Ingest { upload, .. } = &mut job.payload else {
        return;
    };
    let Some(data) = upload.take() else {
        // Unverified: closing a job that never got data.
        return fail(
            job,
            "InvalidBatch : No data was uploaded for this job".into(),
            Outcome::default(),
        );
    };
    let parsed = match job.dialect.read(&data) {
        Ok(p) => p,
        Err(message) => return fail(job, message, Outcome::default()),
    };
    let mut outcome = Outcome {
        header: parsed.header,
        ..Outcome::default()
    };
    let columns = match resolve_header(job.object, job.operation, &outcome.header) {
        Ok(c) => c,
        Err(message) => {
            outcome.unprocessed = parsed.rows;
            return fail(job, message, outcome);
        }
    };
    for row in parsed.rows {
        match apply_row(job, store, &columns, &row) {
            Ok((id, created)) => outcome.successful.push((id, created, row)),
            Err((id, e)) => outcome.failed.push((id, e.sf_error(), row)),
        }
    }
    job.processed = outcome.successful.len() + outcome.failed.len();
    job.failed = outcome.failed.len();
    job.state = State::JobComplete;
    set_outcome(job, outcome);
}

fn fail(job: &mut Job, message: String, outcome: Outcome) {
    job.state = State::Failed;
    job.error_message = Some(message);
    set_outcome(job, outcome);
}

fn set_outcome(job: &mut Job, new: Outcome) {
    if let Payload::Ingest { outcome, .. } = &mut job.payload {
        *outcome = Some(new);
    }
}

/// Each header name as a field or `Relationship.IndexedField` (matched
/// case-insensitively: the docs' upsert example uploads `name` [S-GUIDE66]).
fn resolve_header(obj: &SObject, op: Operation, header: &[String]) -> Result<Vec<Column>, String> {
    let not_found = |name: &str| format!("InvalidBatch : Field name not found : {name}");
    let mut columns = Vec::new();
    for name in header {
        let column = match name.split_once('.') {
            Some((rel, key)) => {
                let (lookup, target) = obj.relationship(rel).ok_or_else(|| not_found(name))?;
                // Only an idLookup or External ID field may name the parent [S-REL].
                let key = target.external_id(key).ok_or_else(|| not_found(name))?;
                Column::Parent {
                    lookup,
                    target,
                    key,
                }
            }
            None => Column::Field(obj.field(name).ok_or_else(|| not_found(name))?),
        };
        if matches!(column, Column::Field(f) if f.kind == Kind::Blob) {
            // Unverified: Bulk API 2.0 takes no binary content; these words are the mock's.
            return Err(format!(
                "InvalidBatch : Binary field {name} is not supported by Bulk API 2.0"
            ));
        }
        columns.push(column);
    }
    let only_id = columns
        .iter()
        .all(|c| matches!(c, Column::Field(f) if f.name == "Id"));
    if matches!(op, Operation::Delete | Operation::HardDelete) && !(only_id && columns.len() == 1) {
        // Delete rows contain only Id [S-CSV]. Unverified wording.
        return Err(format!(
            "InvalidBatch : The '{}' batch must contain only the 'Id' field",
            op.as_str()
        ));
    }
    Ok(columns)
}

/// The row as a request body, and the value of `key` (Id or the external
/// id) kept apart. Empty leaves a field alone, `#N/A` nulls it [S-CSV].
fn row_body(
    store: &Store,
    columns: &[Column],
    row: &[String],
    key: &str,
) -> Result<(Map<String, Value>, String), RowError> {
    let mut body = Map::new();
    let mut key_value = String::new();
    for (column, value) in columns.iter().zip(row) {
        if value.is_empty() {
            continue;
        }
        let null = value == "#N/A";
        match column {
            Column::Field(f) if f.name == key => key_value = value.clone(),
            Column::Field(f) if null => drop(body.insert(f.name.into(), Value::Null)),
            Column::Field(f) => drop(body.insert(f.name.into(), typed(f, value)?)),
            Column::Parent { lookup, .. } if null => {
                drop(body.insert(lookup.name.into(), Value::Null))
            }
            Column::Parent {
                lookup,
                target,
                key,
            } => {
                let id = parent_id(store, target, key, value)?;
                body.insert(lookup.name.into(), Value::String(id));
            }
        }
    }
    Ok((body, key_value))
}

fn parent_id(store: &Store, target: &SObject, key: &str, value: &str) -> Result<String, RowError> {
    let ids = store.find_by(target, key, value);
    match ids.as_slice() {
        [id] => Ok(id.clone()),
        // The message Salesforce gives for an unknown foreign key.
        [] => Err(RowError::new(
            "INVALID_FIELD",
            format!(
                "Foreign key external ID: {value} not found for field {key} in entity {}",
                target.name
            ),
            &[],
        )),
        _ => Err(RowError::new(
            "DUPLICATE_EXTERNAL_ID",
            format!(
                "more than one record found for external id field: [{}]",
                ids.join(", ")
            ),
            &[],
        )),
    }
}

/// A CSV value as the field's type wants it, or
/// `INVALID_TYPE_ON_FIELD_IN_RECORD` [S-FAILCAP]. Numbers may use
/// scientific notation; dates are `yyyy-MM-dd`, datetimes ISO 8601 [S-CSV][S-DATES].
fn typed(f: &Field, v: &str) -> Result<Value, RowError> {
    let ok = match f.kind {
        Kind::Integer => v.parse::<i64>().is_ok(),
        Kind::Number => v.parse::<f64>().is_ok_and(f64::is_finite),
        Kind::Boolean => v.eq_ignore_ascii_case("true") || v.eq_ignore_ascii_case("false"),
        Kind::Date => is_date(v),
        Kind::DateTime => is_datetime(v),
        Kind::Reference(target) if !looks_like_id(v) => {
            return Err(RowError::new(
                "MALFORMED_ID",
                format!("{target} ID: id value of incorrect type: {v}"),
                &[f.name],
            ))
        }
        Kind::Polymorphic(_) if !looks_like_id(v) => {
            return Err(RowError::new(
                "MALFORMED_ID",
                format!("{}: id value of incorrect type: {v}", f.name),
                &[f.name],
            ))
        }
        Kind::Reference(_) | Kind::Polymorphic(_) | Kind::Text | Kind::Id => true,
        // Refused with the header.
        Kind::Blob => false,
    };
    match ok {
        true => Ok(Value::String(v.to_string())),
        false => Err(RowError::new(
            "INVALID_TYPE_ON_FIELD_IN_RECORD",
            format!("{}: value not of required type: {v}", f.name),
            &[f.name],
        )),
    }
}

fn is_date(v: &str) -> bool {
    let b = v.as_bytes();
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
}

/// `yyyy-MM-ddTHH:mm:ss[.SSS](Z|±HH:mm)`.
fn is_datetime(v: &str) -> bool {
    let Some((date, time)) = v.split_once('T') else {
        return false;
    };
    let (clock, zone) = match time.strip_suffix('Z') {
        Some(c) => (c, "+00:00"),
        None if time.len() > 6 => time.split_at(time.len() - 6),
        None => return false,
    };
    let clock = clock.split_once('.').map_or(clock, |(c, ms)| {
        if ms.len() == 3 && ms.bytes().all(|b| b.is_ascii_digit()) {
            c
        } else {
            ""
        }
    });
    let hm = |s: &str, parts: usize| {
        let p: Vec<&str> = s.split(':').collect();
        p.len() == parts
            && p.iter()
                .all(|x| x.len() == 2 && x.bytes().all(|b| b.is_ascii_digit()))
    };
    is_date(date)
        && hm(clock, 3)
        && (zone.starts_with('+') || zone.starts_with('-'))
        && hm(&zone[1..], 2)
}

type RowResult = Result<(String, bool), (String, RowError)>;

/// One row: `(sf__Id, sf__Created)` or `(sf__Id, error)`; `sf__Id` is empty
/// where no record is known, e.g. a failed insert [S-FAIL].
fn apply_row(job: &Job, store: &mut Store, columns: &[Column], row: &[String]) -> RowResult {
    let obj = job.object;
    let key = match job.operation {
        Operation::Upsert => job.external_id.unwrap_or("Id"),
        _ => "Id",
    };
    let (body, key_value) = row_body(store, columns, row, key).map_err(|e| (String::new(), e))?;
    // Unverified: upsert failures carry no sf__Id.
    let known = match (key, job.operation) {
        ("Id", op) if op != Operation::Insert => key_value.clone(),
        _ => String::new(),
    };
    let failed = |e: RowError| (known.clone(), e);
    match job.operation {
        Operation::Insert => {
            let id = store
                .create(obj, &with_key(body, key, &key_value))
                .map_err(|e| failed(RowError::from_api(e)))?;
            Ok((id, true))
        }
        Operation::Upsert => upsert_row(store, obj, key, &key_value, body).map_err(failed),
        _ => by_id(job.operation, store, obj, &key_value, body).map_err(failed),
    }
}

/// Insert takes an `Id` column like any other: the Store refuses it.
fn with_key(mut body: Map<String, Value>, key: &str, value: &str) -> Map<String, Value> {
    if !value.is_empty() {
        body.insert(key.into(), Value::String(value.into()));
    }
    body
}

fn upsert_row(
    store: &mut Store,
    obj: &'static SObject,
    key: &'static str,
    value: &str,
    body: Map<String, Value>,
) -> Result<(String, bool), RowError> {
    if value.is_empty() {
        return Err(RowError::new(
            "MISSING_ARGUMENT",
            format!("{key} not specified"),
            &[],
        ));
    }
    match upsert_one(store, obj, key, value, body, false).map_err(RowError::from_api)? {
        Upserted::Created(id) => Ok((id, true)),
        Upserted::Updated(id) => Ok((id, false)),
        Upserted::Multiple(ids) => Err(RowError::new(
            "DUPLICATE_EXTERNAL_ID",
            format!(
                "more than one record found for external id field: [{}]",
                ids.join(", ")
            ),
            &[],
        )),
    }
}

/// Update, delete and hardDelete name the record by `Id`.
fn by_id(
    op: Operation,
    store: &mut Store,
    obj: &'static SObject,
    id: &str,
    body: Map<String, Value>,
) -> Result<(String, bool), RowError> {
    if id.is_empty() {
        // The SOAP API's words for an update without Id.
        let what = if op == Operation::Update {
            "an update call"
        } else {
            "a delete call"
        };
        return Err(RowError::new(
            "MISSING_ARGUMENT",
            format!("Id not specified in {what}"),
            &[],
        ));
    }
    if !looks_like_id(id) || !id.starts_with(obj.prefix) {
        return Err(RowError::new(
            "MALFORMED_ID",
            format!("{} ID: id value of incorrect type: {id}", obj.name),
            &["Id"],
        ));
    }
    let full = store.get(obj, id).map_or(id.to_string(), |r| r.id.clone());
    let done = match op {
        Operation::Update => store.update(obj, id, &body),
        Operation::HardDelete => store.purge(obj, id),
        _ => store.delete(obj, id),
    };
    done.map_err(RowError::from_api)?;
    Ok((full, false))
}
