//! `/composite/tree/{SObject}` (v42.0+): records with their children in one
//! call, all or nothing (REST API guide, "sObject Tree", "sObject Tree
//! Request Body", "sObject Tree Response Body").
//!
//! Children go under the parent's child relationship name as
//! `{"records": […]}` and get the parent's id in the relationship's lookup
//! field. Limits: 200 records in all, 5 levels, 5 different objects; every
//! record needs `attributes.type` and a `referenceId` (letters, digits, `_`,
//! starting with a letter or digit) unique in the request, and a duplicate
//! gets an error for each record that carries it. Records are created level
//! by level, so the success results list the roots first; on failure
//! nothing is kept and only the refused records are listed.
//!
//! Not documented, our choices: 201 for success and 400 for `hasErrors`
//! (what clients in the wild expect), and 400 `INVALID_INPUT` /
//! `LIMIT_EXCEEDED` in the REST error array for a request that breaks the
//! rules before any record is tried.

use crate::data::{sobject, Kind, SObject, SOBJECTS};
use crate::errors::{self, ApiError};
use crate::sobjects::{body_object, object};
use crate::state::{lock, Shared};
use crate::versions::ApiVersion;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Extension;
use serde_json::{json, Map, Value};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

pub(crate) const MAX_RECORDS: usize = 200;
pub(crate) const MAX_LEVELS: usize = 5;
pub(crate) const MAX_TYPES: usize = 5;
const TREE_SINCE: u32 = 42;

/// One record, flattened, with the parent it hangs from.
struct Node {
    obj: &'static SObject,
    reference_id: String,
    fields: Map<String, Value>,
    /// The parent's index and the lookup field that points at it.
    parent: Option<(usize, &'static str)>,
}

fn invalid(message: String) -> ApiError {
    errors::rest(StatusCode::BAD_REQUEST, "INVALID_INPUT", message)
}

fn limit(message: String) -> ApiError {
    errors::rest(StatusCode::BAD_REQUEST, "LIMIT_EXCEEDED", message)
}

/// The child object and lookup field of `parent`'s relationship `name`,
/// named as describe's `childRelationships` names it (`Contacts` on Account
/// is Contact.AccountId).
fn child_relationship(parent: &SObject, name: &str) -> Option<(&'static SObject, &'static str)> {
    SOBJECTS.iter().find_map(|child| {
        let field = child
            .fields
            .iter()
            .find(|f| matches!(f.kind, Kind::Reference(t) if t == parent.name))?;
        child
            .label_plural
            .eq_ignore_ascii_case(name)
            .then_some((child, field.name))
    })
}

fn valid_reference_id(r: &str) -> bool {
    r.starts_with(|c: char| c.is_ascii_alphanumeric())
        && r.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// Every record, level by level (roots first), checked against the rules.
fn flatten(root: &'static SObject, records: &[Value]) -> Result<Vec<Node>, ApiError> {
    let mut nodes: Vec<Node> = Vec::new();
    // (record, its object, parent index and lookup field)
    type Pending<'a> = (&'a Value, &'static SObject, Option<(usize, &'static str)>);
    let mut level: Vec<Pending> = records.iter().map(|r| (r, root, None)).collect();
    let mut depth = 0;
    while !level.is_empty() {
        depth += 1;
        if depth > MAX_LEVELS {
            return Err(limit(format!(
                "The request has more than {MAX_LEVELS} levels of records."
            )));
        }
        let mut next: Vec<Pending> = Vec::new();
        for (record, expected, parent) in level {
            let Value::Object(map) = record else {
                return Err(invalid("Each record must be a JSON object".into()));
            };
            let attributes = map.get("attributes").cloned().unwrap_or(Value::Null);
            let ty = attributes["type"]
                .as_str()
                .ok_or_else(|| invalid("Each record must specify attributes.type".into()))?;
            let obj = sobject(ty)
                .ok_or_else(|| invalid(format!("sObject type '{ty}' is not supported.")))?;
            if obj.name != expected.name {
                return Err(invalid(format!(
                    "The record type {ty} does not match the expected type {}",
                    expected.name
                )));
            }
            let reference_id = attributes["referenceId"].as_str().unwrap_or_default();
            if !valid_reference_id(reference_id) {
                return Err(invalid(format!(
                    "Invalid referenceId: '{reference_id}'. A referenceId must start with an alphanumeric character and contain only letters, digits and underscores."
                )));
            }
            let index = nodes.len();
            let mut fields = Map::new();
            for (key, value) in map {
                if key == "attributes" {
                    continue;
                }
                match value.get("records").and_then(Value::as_array) {
                    Some(children) => {
                        let (child, lookup) = child_relationship(obj, key).ok_or_else(|| {
                            invalid(format!(
                                "No such child relationship '{key}' on sobject of type {}",
                                obj.name
                            ))
                        })?;
                        next.extend(children.iter().map(|c| (c, child, Some((index, lookup)))));
                    }
                    None => {
                        fields.insert(key.clone(), value.clone());
                    }
                }
            }
            nodes.push(Node {
                obj,
                reference_id: reference_id.to_string(),
                fields,
                parent,
            });
            if nodes.len() > MAX_RECORDS {
                return Err(limit(format!(
                    "The request has more than {MAX_RECORDS} records."
                )));
            }
        }
        level = next;
    }
    let types: HashSet<&str> = nodes.iter().map(|n| n.obj.name).collect();
    if types.len() > MAX_TYPES {
        return Err(limit(format!(
            "The request has {} different object types; at most {MAX_TYPES} are allowed.",
            types.len()
        )));
    }
    Ok(nodes)
}

/// `POST /composite/tree/{SObject}`
pub(crate) async fn tree(
    State(st): State<Arc<Shared>>,
    Extension(v): Extension<ApiVersion>,
    Path((_, ty)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, ApiError> {
    if v.major() < TREE_SINCE {
        return Err(errors::not_found());
    }
    let root = object(&ty)?;
    let map = body_object(&body)?;
    let Some(Value::Array(records)) = map.get("records") else {
        return Err(invalid(
            "The request body must contain a records array".into(),
        ));
    };
    if records.is_empty() {
        return Err(invalid("records must contain at least one record".into()));
    }
    let nodes = flatten(root, records)?;

    let mut uses: HashMap<&str, usize> = HashMap::new();
    for n in &nodes {
        *uses.entry(n.reference_id.as_str()).or_default() += 1;
    }
    let mut refused: Vec<Value> = nodes
        .iter()
        .filter(|n| uses[n.reference_id.as_str()] > 1)
        .map(|n| {
            json!({"referenceId": n.reference_id, "errors": [errors::record_error(
                "INVALID_INPUT",
                format!("Duplicate ReferenceId provided in the request: {}", n.reference_id),
                json!([]),
            )]})
        })
        .collect();

    let mut store = lock(&st.store);
    let snapshot = store.clone();
    let mut ids: Vec<Option<String>> = Vec::with_capacity(nodes.len());
    if refused.is_empty() {
        for n in &nodes {
            let mut fields = n.fields.clone();
            match n.parent {
                // A child of a refused record is not tried: only the
                // offending records are listed.
                Some((p, _)) if ids[p].is_none() => {
                    ids.push(None);
                    continue;
                }
                Some((p, lookup)) => {
                    fields.insert(lookup.to_string(), json!(ids[p]));
                }
                None => {}
            }
            match store.create(n.obj, &fields) {
                Ok(id) => ids.push(Some(id)),
                Err(e) => {
                    ids.push(None);
                    refused
                        .push(json!({"referenceId": n.reference_id, "errors": [e.record_error()]}));
                }
            }
        }
    }
    if !refused.is_empty() {
        *store = snapshot;
        return Ok(errors::json(
            StatusCode::BAD_REQUEST,
            &json!({"hasErrors": true, "results": refused}),
        ));
    }
    let results: Vec<Value> = nodes
        .iter()
        .zip(&ids)
        .map(|(n, id)| json!({"referenceId": n.reference_id, "id": id}))
        .collect();
    Ok(errors::json(
        StatusCode::CREATED,
        &json!({"hasErrors": false, "results": results}),
    ))
}
