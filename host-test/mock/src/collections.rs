//! sObject Collections, `/composite/sobjects`: create, update, upsert and
//! delete up to 200 records in one call, each with its own result, or all
//! or none of them with `allOrNone`. Validation is the single-record routes'.
//! `/composite/sobjects/{SObject}` reads up to 2,000 records by id (GET with
//! `ids` and `fields`, or POST with them in the body).

use crate::data::{looks_like_id, record_out, sobject, Field, Out, SObject, Store, SOBJECTS};
use crate::errors::{self, ApiError};
use crate::sobjects::{body_object, external_field, malformed_id, object, upsert_one, Upserted};
use crate::state::{lock, Shared};
use crate::versions::ApiVersion;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Extension;
use serde_json::{json, Map, Value};
use std::sync::Arc;

/// Salesforce's per-request cap for collections.
pub(crate) const MAX_RECORDS: usize = 200;

type St = State<Arc<Shared>>;

/// One record's result.
struct Item {
    /// Shown on success, and on failure when the record exists (update, delete).
    id: Option<String>,
    error: Option<Value>,
    /// Upsert only.
    created: Option<bool>,
    /// Whether a rollback leaves a record behind to name (false for inserts).
    keeps_id_on_rollback: bool,
}

impl Item {
    fn ok(id: String, keeps_id_on_rollback: bool) -> Item {
        Item {
            id: Some(id),
            error: None,
            created: None,
            keeps_id_on_rollback,
        }
    }

    fn failed(id: Option<String>, error: Value) -> Item {
        Item {
            id,
            error: Some(error),
            created: None,
            keeps_id_on_rollback: false,
        }
    }

    fn out(&self) -> Out {
        let mut entries = Vec::new();
        if let Some(id) = &self.id {
            entries.push(("id".to_string(), Out::Value(json!(id))));
        }
        entries.push((
            "success".to_string(),
            Out::Value(json!(self.error.is_none())),
        ));
        let errors = match &self.error {
            Some(e) => json!([e]),
            None => json!([]),
        };
        entries.push(("errors".to_string(), Out::Value(errors)));
        if let Some(c) = self.created {
            entries.push(("created".to_string(), Out::Value(json!(c))));
        }
        Out::Object(entries)
    }
}

fn too_many() -> ApiError {
    errors::rest(
        StatusCode::BAD_REQUEST,
        "EXCEEDED_ID_LIMIT",
        format!(
            "record limit reached. cannot submit more than {MAX_RECORDS} records into this call"
        ),
    )
}

/// `{"allOrNone":bool,"records":[{…},…]}`
fn parse_body(body: &[u8]) -> Result<(bool, Vec<Map<String, Value>>), ApiError> {
    let map = body_object(body)?;
    let all_or_none = match map.get("allOrNone") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => true,
        Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => false,
        Some(other) => {
            return Err(errors::rest(
                StatusCode::BAD_REQUEST,
                "JSON_PARSER_ERROR",
                format!("Cannot deserialize instance of boolean from {other} value"),
            ))
        }
    };
    let records = match map.get("records") {
        Some(Value::Array(a)) => a,
        _ => {
            return Err(errors::rest(
                StatusCode::BAD_REQUEST,
                "INVALID_FIELD",
                "The request body must contain a records array",
            ))
        }
    };
    if records.len() > MAX_RECORDS {
        return Err(too_many());
    }
    let mut out = Vec::with_capacity(records.len());
    for r in records {
        match r {
            Value::Object(m) => out.push(m.clone()),
            other => {
                return Err(errors::rest(
                    StatusCode::BAD_REQUEST,
                    "JSON_PARSER_ERROR",
                    format!("Cannot deserialize instance of sObject from {other} value"),
                ))
            }
        }
    }
    Ok((all_or_none, out))
}

/// The object a record names in `attributes.type`, else the one its id belongs to.
fn record_type(rec: &Map<String, Value>, id: Option<&str>) -> Result<&'static SObject, Value> {
    match rec.get("attributes").and_then(|a| a.get("type")) {
        Some(Value::String(t)) => sobject(t).ok_or_else(|| {
            errors::record_error(
                "INVALID_TYPE",
                format!("sObject type '{t}' is not supported."),
                json!([]),
            )
        }),
        _ => id.and_then(by_prefix).ok_or_else(|| {
            errors::record_error(
                "INVALID_TYPE",
                "No SObject Type defined in attributes",
                json!([]),
            )
        }),
    }
}

fn by_prefix(id: &str) -> Option<&'static SObject> {
    SOBJECTS.iter().find(|o| id.starts_with(o.prefix))
}

fn bad_id(id: &str) -> Value {
    errors::record_error("MALFORMED_ID", format!("malformed id {id}"), json!([]))
}

/// Store errors in the collections' per-record form; an unknown id is a bad cross reference.
fn store_error(e: &ApiError) -> Value {
    if e.code() == "NOT_FOUND" {
        errors::record_error(
            "INVALID_CROSS_REFERENCE_KEY",
            "invalid cross reference id",
            json!([]),
        )
    } else {
        e.record_error()
    }
}

/// Run `op` on every record under one store lock; with `all_or_none`, a
/// single failure restores the store and marks the rest rolled back.
fn apply<T>(
    st: &Shared,
    all_or_none: bool,
    inputs: Vec<T>,
    mut op: impl FnMut(&mut Store, T) -> Item,
) -> Response {
    let mut store = lock(&st.store);
    let snapshot = all_or_none.then(|| store.clone());
    let mut items: Vec<Item> = inputs.into_iter().map(|i| op(&mut store, i)).collect();
    if let Some(snapshot) = snapshot {
        if items.iter().any(|i| i.error.is_some()) {
            *store = snapshot;
            for item in items.iter_mut().filter(|i| i.error.is_none()) {
                if !item.keeps_id_on_rollback {
                    item.id = None;
                }
                if item.created.is_some() {
                    item.created = Some(false);
                }
                item.error = Some(errors::record_error(
                    "ALL_OR_NONE_OPERATION_ROLLED_BACK",
                    "Record rolled back because not all records were valid and the request was using AllOrNone header",
                    json!([]),
                ));
            }
        }
    }
    drop(store);
    let out: Vec<Out> = items.iter().map(Item::out).collect();
    errors::json(StatusCode::OK, &out)
}

/// `POST /composite/sobjects`
pub(crate) async fn create(State(st): St, body: Bytes) -> Result<Response, ApiError> {
    let (all_or_none, records) = parse_body(&body)?;
    Ok(apply(&st, all_or_none, records, |store, rec| {
        let obj = match record_type(&rec, None) {
            Ok(o) => o,
            Err(e) => return Item::failed(None, e),
        };
        match store.create(obj, &rec) {
            Ok(id) => Item::ok(id, false),
            Err(e) => Item::failed(None, e.record_error()),
        }
    }))
}

/// `PATCH /composite/sobjects`: every record names its `Id`.
pub(crate) async fn update(State(st): St, body: Bytes) -> Result<Response, ApiError> {
    let (all_or_none, records) = parse_body(&body)?;
    Ok(apply(&st, all_or_none, records, |store, rec| {
        let id = match rec.get("Id").or_else(|| rec.get("id")) {
            Some(Value::String(id)) => id.clone(),
            _ => {
                return Item::failed(
                    None,
                    errors::record_error(
                        "MISSING_ARGUMENT",
                        "Id not specified in an update call",
                        json!([]),
                    ),
                )
            }
        };
        if !looks_like_id(&id) {
            return Item::failed(None, bad_id(&id));
        }
        let obj = match record_type(&rec, Some(&id)) {
            Ok(o) => o,
            Err(e) => return Item::failed(None, e),
        };
        if !id.starts_with(obj.prefix) {
            return Item::failed(None, malformed_id(obj, &id).record_error());
        }
        let mut body = rec;
        // The body's own Id is the target, not a field to write.
        body.remove("id");
        body.insert("Id".into(), Value::String(id.clone()));
        match store.update(obj, &id, &body) {
            Ok(()) => {
                let full = store.get(obj, &id).map(|r| r.id.clone()).unwrap_or(id);
                Item::ok(full, true)
            }
            Err(e) => Item::failed(Some(id), store_error(&e)),
        }
    }))
}

/// `PATCH /composite/sobjects/{Type}/{ExtIdField}`
pub(crate) async fn upsert(
    State(st): St,
    Path((_, ty, field)): Path<(String, String, String)>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let obj = object(&ty)?;
    let field = external_field(obj, &field)?;
    let (all_or_none, records) = parse_body(&body)?;
    Ok(apply(&st, all_or_none, records, |store, rec| {
        let mut item = upsert_record(store, obj, field, rec);
        item.created = Some(item.created.unwrap_or(false));
        item
    }))
}

fn upsert_record(
    store: &mut Store,
    obj: &'static SObject,
    field: &'static str,
    mut rec: Map<String, Value>,
) -> Item {
    if let Some(Value::String(t)) = rec.get("attributes").and_then(|a| a.get("type")) {
        if !t.eq_ignore_ascii_case(obj.name) {
            return Item::failed(
                None,
                errors::record_error(
                    "INVALID_TYPE",
                    format!(
                        "Record type {t} does not match the upsert type {}",
                        obj.name
                    ),
                    json!([]),
                ),
            );
        }
    }
    let key = rec
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(field))
        .map(|(k, v)| (k.clone(), v.clone()));
    let value = match key {
        Some((k, Value::String(s))) if !s.is_empty() => {
            rec.remove(&k);
            s
        }
        Some((k, Value::Number(n))) => {
            rec.remove(&k);
            n.to_string()
        }
        // Upsert on Id inserts the records that have none.
        _ if field == "Id" => {
            return match store.create(obj, &rec) {
                Ok(id) => Item {
                    created: Some(true),
                    ..Item::ok(id, false)
                },
                Err(e) => Item::failed(None, e.record_error()),
            };
        }
        _ => {
            return Item::failed(
                None,
                errors::record_error(
                    "MISSING_ARGUMENT",
                    format!("{field} not specified"),
                    json!([field]),
                ),
            )
        }
    };
    if field == "Id" && !looks_like_id(&value) {
        return Item::failed(None, bad_id(&value));
    }
    match upsert_one(store, obj, field, &value, rec, false) {
        Ok(Upserted::Created(id)) => Item {
            created: Some(true),
            ..Item::ok(id, false)
        },
        Ok(Upserted::Updated(id)) => Item {
            created: Some(false),
            ..Item::ok(id, true)
        },
        Ok(Upserted::Multiple(ids)) => Item::failed(
            None,
            errors::record_error(
                "DUPLICATE_EXTERNAL_ID",
                format!(
                    "{field}: more than one record found for external id field: [{}]",
                    ids.join(", ")
                ),
                json!([field]),
            ),
        ),
        Err(e) => Item::failed(None, store_error(&e)),
    }
}

/// `DELETE /composite/sobjects?ids=a,b&allOrNone=false`
pub(crate) async fn delete(State(st): St, RawQuery(raw): RawQuery) -> Result<Response, ApiError> {
    let mut ids: Vec<String> = Vec::new();
    let mut all_or_none = false;
    for (k, v) in form_urlencoded::parse(raw.as_deref().unwrap_or("").as_bytes()) {
        match k.as_ref() {
            "ids" => ids.extend(
                v.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_string),
            ),
            "allOrNone" => all_or_none = v.eq_ignore_ascii_case("true"),
            _ => {}
        }
    }
    if ids.is_empty() {
        return Err(errors::rest(
            StatusCode::BAD_REQUEST,
            "MISSING_ARGUMENT",
            "The ids parameter is required and must name at least one record",
        ));
    }
    if ids.len() > MAX_RECORDS {
        return Err(too_many());
    }
    Ok(apply(&st, all_or_none, ids, |store, id| {
        if !looks_like_id(&id) {
            return Item::failed(None, bad_id(&id));
        }
        let Some(obj) = by_prefix(&id) else {
            return Item::failed(Some(id), store_error(&errors::not_found()));
        };
        let full = store.get(obj, &id).map(|r| r.id.clone()).unwrap_or(id);
        match store.delete(obj, &full) {
            Ok(()) => Item::ok(full, true),
            Err(e) => Item::failed(Some(full), store_error(&e)),
        }
    }))
}

// ---- retrieve: GET|POST /composite/sobjects/{SObject} --------------------

/// Ids per retrieve request: the POST form's documented maximum ("Get
/// Records With a Request Body Using sObject Collections"). The answer to
/// more is not documented; the other collections' `EXCEEDED_ID_LIMIT` is
/// our choice.
pub(crate) const MAX_RETRIEVE_IDS: usize = 2_000;
/// The resource exists from API 42.0 ("Get Records Using sObject Collections").
const RETRIEVE_SINCE: u32 = 42;

/// `GET /composite/sobjects/{SObject}?ids=…&fields=…`. The URI length limit
/// (414 past 16,384 bytes, which the GET form reaches at about 800 ids) is
/// the front layer's, as Salesforce's is for every resource.
pub(crate) async fn retrieve_get(
    State(st): St,
    Extension(v): Extension<ApiVersion>,
    Path((_, ty)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let mut ids = None;
    let mut fields = None;
    for (k, val) in form_urlencoded::parse(raw.as_deref().unwrap_or("").as_bytes()) {
        let list = || -> Vec<String> {
            val.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect()
        };
        match k.as_ref() {
            "ids" => ids = Some(list()),
            "fields" => fields = Some(list()),
            _ => {}
        }
    }
    retrieve(&st, &v, &ty, ids, fields)
}

/// `POST /composite/sobjects/{SObject}` with `{"ids":[…],"fields":[…]}`.
pub(crate) async fn retrieve_post(
    State(st): St,
    Extension(v): Extension<ApiVersion>,
    Path((_, ty)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let map = body_object(&body)?;
    let strings = |key: &str| -> Result<Option<Vec<String>>, ApiError> {
        match map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Array(items)) => items
                .iter()
                .map(|i| match i {
                    Value::String(s) => Ok(s.clone()),
                    other => Err(errors::rest(
                        StatusCode::BAD_REQUEST,
                        "JSON_PARSER_ERROR",
                        format!("Cannot deserialize instance of string from {other} value"),
                    )),
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
            Some(other) => Err(errors::rest(
                StatusCode::BAD_REQUEST,
                "JSON_PARSER_ERROR",
                format!("Cannot deserialize instance of list from {other} value"),
            )),
        }
    };
    let (ids, fields) = (strings("ids")?, strings("fields")?);
    retrieve(&st, &v, &ty, ids, fields)
}

/// Both forms: `ids` and `fields` are required; an unknown field fails the
/// call with 400; one slot per id, in request order, `null` for an id that
/// is malformed, of another object, deleted or unknown ("Get Records Using
/// sObject Collections"). The codes for a missing parameter are our choice.
fn retrieve(
    st: &Shared,
    v: &ApiVersion,
    ty: &str,
    ids: Option<Vec<String>>,
    fields: Option<Vec<String>>,
) -> Result<Response, ApiError> {
    if v.major() < RETRIEVE_SINCE {
        return Err(errors::not_found());
    }
    let obj = object(ty)?;
    let missing = |what: &str| {
        errors::rest(
            StatusCode::BAD_REQUEST,
            "MISSING_ARGUMENT",
            format!("The {what} parameter is required"),
        )
    };
    let ids = ids
        .filter(|i| !i.is_empty())
        .ok_or_else(|| missing("ids"))?;
    let names = fields
        .filter(|f| !f.is_empty())
        .ok_or_else(|| missing("fields"))?;
    if ids.len() > MAX_RETRIEVE_IDS {
        return Err(errors::rest(
            StatusCode::BAD_REQUEST,
            "EXCEEDED_ID_LIMIT",
            format!("record limit reached. cannot submit more than {MAX_RETRIEVE_IDS} records into this call"),
        ));
    }
    let mut fields: Vec<&'static Field> = Vec::new();
    for name in &names {
        match obj.field(name) {
            Some(f) if !fields.iter().any(|have| have.name == f.name) => fields.push(f),
            Some(_) => {}
            None => {
                return Err(errors::rest(
                    StatusCode::BAD_REQUEST,
                    "INVALID_FIELD",
                    format!("No such column '{name}' on entity '{}'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.", obj.name),
                ))
            }
        }
    }
    let store = lock(&st.store);
    let out: Vec<Out> = ids
        .iter()
        .map(|id| {
            let found = (looks_like_id(id) && id.starts_with(obj.prefix))
                .then(|| store.get(obj, id))
                .flatten()
                .filter(|r| !r.deleted);
            match found {
                Some(r) => record_out(obj, &v.0, r, &fields),
                None => Out::Value(Value::Null),
            }
        })
        .collect();
    Ok(errors::json(StatusCode::OK, &out))
}
