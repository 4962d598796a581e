//! `/sobjects`: describe, create, read, update, delete, and upsert or read by
//! external id, with Salesforce's status codes (201, 204, 300, 404 …);
//! for files (multipart bodies, downloads) it hands over to `files`.

use crate::conditional::{self, Precondition};
use crate::data::{looks_like_id, record_out, sobject, Field, Record, SObject, Store, SOBJECTS};
use crate::errors::{self, ApiError};
use crate::files;
use crate::rest::Internal;
use crate::state::{lock, Shared};
use crate::versions::ApiVersion;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use axum::Extension;
use serde_json::{json, Map, Value};
use std::sync::Arc;

/// Upsert answers 200 with a body from this version on; 204 before it.
const UPSERT_BODY_SINCE: u32 = 46;

type St = State<Arc<Shared>>;
type V = Extension<ApiVersion>;

pub(crate) fn object(name: &str) -> Result<&'static SObject, ApiError> {
    sobject(name).ok_or_else(errors::not_found)
}

pub(crate) fn body_object(body: &[u8]) -> Result<Map<String, Value>, ApiError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(other) => Err(errors::rest(
            StatusCode::BAD_REQUEST,
            "JSON_PARSER_ERROR",
            format!("Cannot deserialize instance of sObject from {other} value"),
        )),
        Err(e) => Err(errors::rest(
            StatusCode::BAD_REQUEST,
            "JSON_PARSER_ERROR",
            format!("Unexpected character in request body: {e}"),
        )),
    }
}

pub(crate) fn malformed_id(obj: &SObject, id: &str) -> ApiError {
    errors::rest_fields(
        StatusCode::BAD_REQUEST,
        "MALFORMED_ID",
        format!("{} ID: id value of incorrect type: {id}", obj.name),
        &["Id".to_string()],
    )
}

/// A well-formed id of this object's type, or the error Salesforce gives.
fn check_id(obj: &SObject, id: &str) -> Result<(), ApiError> {
    if !looks_like_id(id) {
        return Err(malformed_id(obj, id));
    }
    if !id.starts_with(obj.prefix) {
        return Err(errors::not_found());
    }
    Ok(())
}

fn created(v: &ApiVersion, obj: &SObject, id: &str, upsert: bool) -> Response {
    let mut body = json!({ "id": id, "success": true, "errors": [] });
    if upsert {
        body["created"] = json!(true);
    }
    let mut resp = errors::json(StatusCode::CREATED, &body);
    if let Ok(loc) = HeaderValue::from_str(&obj.record_url(&v.0, id)) {
        resp.headers_mut().insert(header::LOCATION, loc);
    }
    resp
}

fn multiple_choices(v: &ApiVersion, obj: &SObject, ids: &[String]) -> Response {
    let urls: Vec<String> = ids.iter().map(|id| obj.record_url(&v.0, id)).collect();
    errors::json(StatusCode::MULTIPLE_CHOICES, &urls)
}

fn read(
    st: &Shared,
    v: &ApiVersion,
    obj: &SObject,
    id: &str,
    raw: Option<&str>,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    let fields: Vec<&'static Field> = match raw
        .and_then(|r| form_urlencoded::parse(r.as_bytes()).find(|(k, _)| k == "fields"))
    {
        None => obj.fields.iter().collect(),
        Some((_, list)) => {
            let mut out = Vec::new();
            for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
                match obj.field(name) {
                    Some(f) => out.push(f),
                    None => {
                        return Err(errors::rest(
                            StatusCode::BAD_REQUEST,
                            "INVALID_FIELD",
                            format!("No such column '{name}' on entity '{}'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.", obj.name),
                        ))
                    }
                }
            }
            out
        }
    };
    let store = lock(&st.store);
    match store.get(obj, id) {
        None => Err(errors::not_found()),
        Some(r) if r.deleted => Err(errors::rest_fields(
            StatusCode::NOT_FOUND,
            "ENTITY_IS_DELETED",
            "entity is deleted",
            &[],
        )),
        Some(r) => match precondition(headers, r)? {
            Precondition::NotModified => Ok(errors::empty(StatusCode::NOT_MODIFIED)),
            Precondition::Proceed => Ok(errors::json(
                StatusCode::OK,
                &record_out(obj, &v.0, r, &fields),
            )),
        },
    }
}

/// The conditional request headers against the record's `LastModifiedDate`.
fn precondition(headers: &HeaderMap, r: &Record) -> Result<Precondition, ApiError> {
    match r.get("LastModifiedDate") {
        Value::String(last_modified) => conditional::check(headers, &last_modified),
        _ => Ok(Precondition::Proceed),
    }
}

// ---- /sobjects and /sobjects/{Type}[/describe] ------------------------------

fn summary(v: &ApiVersion, obj: &SObject) -> Value {
    let base = format!("/services/data/v{}/sobjects/{}", v.0, obj.name);
    json!({
        "name": obj.name, "label": obj.label, "labelPlural": obj.label_plural,
        "keyPrefix": obj.prefix, "custom": false, "queryable": true, "createable": true,
        "updateable": true, "deletable": true, "searchable": true,
        "urls": {
            "sobject": base, "describe": format!("{base}/describe"),
            "rowTemplate": format!("{base}/{{ID}}"),
        },
    })
}

pub(crate) async fn global_describe(Extension(v): V) -> Response {
    let list: Vec<Value> = SOBJECTS.iter().map(|o| summary(&v, o)).collect();
    errors::json(
        StatusCode::OK,
        &json!({ "encoding": "UTF-8", "maxBatchSize": 200, "sobjects": list }),
    )
}

pub(crate) async fn info(
    Extension(v): V,
    Path((_, ty)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let obj = object(&ty)?;
    Ok(errors::json(
        StatusCode::OK,
        &json!({ "objectDescribe": summary(&v, obj), "recentItems": [] }),
    ))
}

pub(crate) async fn describe(
    Extension(v): V,
    Path((_, ty)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let obj = object(&ty)?;
    let fields: Vec<Value> = obj
        .fields
        .iter()
        .map(|f| {
            // A lookup's relationship is its field name without `Id`
            // (`AccountId` -> `Account`), null on other fields (describe's
            // Field type, SOAP API Developer Guide `DescribeSObjectResult`).
            let (reference_to, relationship): (Vec<&str>, Option<&str>) = match f.kind {
                crate::data::Kind::Reference(t) => (vec![t], f.name.strip_suffix("Id")),
                crate::data::Kind::Polymorphic(ts) => (ts.to_vec(), f.name.strip_suffix("Id")),
                _ => (vec![], None),
            };
            json!({
                "name": f.name, "label": f.name, "type": f.kind.describe_type(),
                "createable": f.createable, "updateable": f.updateable,
                "nillable": !obj.required.contains(&f.name) && f.name != "Id",
                "externalId": obj.external_ids.contains(&f.name),
                "unique": obj.external_ids.contains(&f.name),
                "referenceTo": reference_to, "relationshipName": relationship,
            })
        })
        .collect();
    let mut body = summary(&v, obj);
    body["fields"] = json!(fields);
    body["childRelationships"] = json!(child_relationships(obj));
    Ok(errors::json(StatusCode::OK, &body))
}

/// Every lookup of another object to `parent`, named as the mock's SOQL
/// resolves child subqueries (`Contacts` on Account is Contact.AccountId).
fn child_relationships(parent: &SObject) -> Vec<Value> {
    SOBJECTS
        .iter()
        .flat_map(|child| child.fields.iter().map(move |f| (child, f)))
        .filter(|(_, f)| matches!(f.kind, crate::data::Kind::Reference(t) if t == parent.name))
        .map(|(child, f)| {
            json!({"childSObject": child.name, "field": f.name,
                   "relationshipName": child.label_plural, "cascadeDelete": false})
        })
        .collect()
}

// ---- create, and read/update/delete by id -----------------------------------

/// The fields of a create or update body, and the file when it is a
/// multipart upload of a blob object [S-BLOB-UP].
fn fields_and_file(
    obj: &SObject,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<(Map<String, Value>, Option<Bytes>), ApiError> {
    if crate::multipart::is_multipart(headers) {
        let (fields, file) = files::read_multipart(obj, headers, body)?;
        return Ok((fields, Some(file)));
    }
    files::check_json_body(obj, body.len())?;
    Ok((body_object(body)?, None))
}

pub(crate) async fn create(
    State(st): St,
    Extension(v): V,
    Path((_, ty)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let obj = object(&ty)?;
    let (map, file) = fields_and_file(obj, &headers, &body)?;
    let id = lock(&st.store).create_with_blob(obj, &map, file)?;
    Ok(created(&v, obj, &id, false))
}

pub(crate) async fn get(
    State(st): St,
    Extension(v): V,
    Path((_, ty, id)): Path<(String, String, String)>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let obj = object(&ty)?;
    check_id(obj, &id)?;
    read(&st, &v, obj, &id, raw.as_deref(), &headers)
}

pub(crate) async fn update(
    State(st): St,
    Path((_, ty, id)): Path<(String, String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let obj = object(&ty)?;
    check_id(obj, &id)?;
    let (map, file) = fields_and_file(obj, &headers, &body)?;
    let mut store = lock(&st.store);
    if let Some(r) = store.get(obj, &id) {
        // On PATCH only If-Unmodified-Since can stop the update.
        precondition(&headers, r)?;
    }
    store.update_with_blob(obj, &id, &map, file)?;
    Ok(errors::empty(StatusCode::NO_CONTENT))
}

pub(crate) async fn delete(
    State(st): St,
    Path((_, ty, id)): Path<(String, String, String)>,
) -> Result<Response, ApiError> {
    let obj = object(&ty)?;
    check_id(obj, &id)?;
    lock(&st.store).delete(obj, &id)?;
    Ok(errors::empty(StatusCode::NO_CONTENT))
}

// ---- /sobjects/{Type}/{ExtIdField}/{value} ----------------------------------

/// The canonical external id field, or why `{field}` is not one.
pub(crate) fn external_field(obj: &SObject, field: &str) -> Result<&'static str, ApiError> {
    if let Some(f) = obj.external_id(field) {
        return Ok(f);
    }
    if looks_like_id(field) {
        return Err(errors::not_found());
    }
    Err(errors::rest(
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
        format!("Provided external ID field does not exist or is not accessible: {field}"),
    ))
}

/// Also `GET /sobjects/{SObject}/{id}/{blobField}`, a file download, which
/// shares this route's shape.
pub(crate) async fn get_by_external_id(
    State(st): St,
    Extension(v): V,
    Path((_, ty, field, value)): Path<(String, String, String, String)>,
    RawQuery(raw): RawQuery,
    composite: Option<Extension<Internal>>,
) -> Result<Response, ApiError> {
    let obj = object(&ty)?;
    if files::is_download(obj, &field, &value) {
        return files::download(&st, obj, &field, composite.is_some());
    }
    let field = external_field(obj, &field)?;
    let ids = lock(&st.store).find_by(obj, field, &value);
    match ids.as_slice() {
        [] => Err(errors::not_found()),
        [id] => read(&st, &v, obj, id, raw.as_deref(), &HeaderMap::new()),
        _ => Ok(multiple_choices(&v, obj, &ids)),
    }
}

/// What an upsert did.
pub(crate) enum Upserted {
    Created(String),
    Updated(String),
    /// The value matched several records; nothing was written.
    Multiple(Vec<String>),
}

/// Upsert one record by `field` = `value`, with the single-record route's
/// rules; sObject Collections upsert goes through here too.
pub(crate) fn upsert_one(
    store: &mut Store,
    obj: &'static SObject,
    field: &'static str,
    value: &str,
    mut map: Map<String, Value>,
    update_only: bool,
) -> Result<Upserted, ApiError> {
    let ids = store.find_by(obj, field, value);
    match ids.as_slice() {
        [] if field == "Id" || update_only => Err(errors::not_found()),
        [] => {
            map.insert(field.to_string(), Value::String(value.to_string()));
            Ok(Upserted::Created(store.create(obj, &map)?))
        }
        [id] => {
            if field != "Id" {
                map.insert(field.to_string(), Value::String(value.to_string()));
            }
            store.update(obj, id, &map)?;
            Ok(Upserted::Updated(id.clone()))
        }
        _ => Ok(Upserted::Multiple(ids)),
    }
}

pub(crate) async fn upsert(
    State(st): St,
    Extension(v): V,
    Path((_, ty, field, value)): Path<(String, String, String, String)>,
    RawQuery(raw): RawQuery,
    body: Bytes,
) -> Result<Response, ApiError> {
    let update_only = raw
        .as_deref()
        .map(|r| {
            form_urlencoded::parse(r.as_bytes()).any(|(k, v)| k == "updateOnly" && v == "true")
        })
        .unwrap_or(false);
    let obj = object(&ty)?;
    let field = external_field(obj, &field)?;
    let map = body_object(&body)?;
    let outcome = upsert_one(&mut lock(&st.store), obj, field, &value, map, update_only)?;
    match outcome {
        Upserted::Created(id) => Ok(created(&v, obj, &id, true)),
        Upserted::Updated(id) if v.major() >= UPSERT_BODY_SINCE => Ok(errors::json(
            StatusCode::OK,
            &json!({ "id": id, "success": true, "errors": [], "created": false }),
        )),
        Upserted::Updated(_) => Ok(errors::empty(StatusCode::NO_CONTENT)),
        Upserted::Multiple(ids) => Ok(multiple_choices(&v, obj, &ids)),
    }
}

pub(crate) async fn delete_by_external_id(
    State(st): St,
    Extension(v): V,
    Path((_, ty, field, value)): Path<(String, String, String, String)>,
) -> Result<Response, ApiError> {
    let obj = object(&ty)?;
    let field = external_field(obj, &field)?;
    let mut store = lock(&st.store);
    let ids = store.find_by(obj, field, &value);
    match ids.as_slice() {
        [] => Err(errors::not_found()),
        [id] => {
            store.delete(obj, id)?;
            Ok(errors::empty(StatusCode::NO_CONTENT))
        }
        _ => Ok(multiple_choices(&v, obj, &ids)),
    }
}
