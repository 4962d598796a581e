//! `/query` and `/queryAll`: run SOQL, page the result 2,000 rows at a time
//! (or `Sforce-Query-Options: batchSize=N`, child rows counting toward it),
//! and serve `nextRecordsUrl` pages from results kept server-side under a
//! locator (see `cursors` for when a locator goes away).

use crate::cursors::{page_end, Row};
use crate::data::{attributes, Out, Record, Store};
use crate::errors::{self, ApiError};
use crate::soql::{self, compare_values, FieldRef, Query, Select};
use crate::state::{lock, random_string, Shared, ALNUM};
use crate::versions::ApiVersion;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Extension;
use serde_json::Value;
use std::cmp::Ordering;
use std::sync::Arc;

const DEFAULT_BATCH: usize = 2000;

pub(crate) async fn query(
    State(st): State<Arc<Shared>>,
    Extension(v): Extension<ApiVersion>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    run(&st, &v, &headers, raw.as_deref(), false)
}

pub(crate) async fn query_all(
    State(st): State<Arc<Shared>>,
    Extension(v): Extension<ApiVersion>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    run(&st, &v, &headers, raw.as_deref(), true)
}

/// `GET /query/{locator}-{offset}`: a later page of a stored result.
pub(crate) async fn more(
    State(st): State<Arc<Shared>>,
    Extension(v): Extension<ApiVersion>,
    Path((_, locator)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let invalid = || {
        errors::rest(
            StatusCode::BAD_REQUEST,
            "INVALID_QUERY_LOCATOR",
            "invalid query locator",
        )
    };
    let Some((id, offset)) = locator.rsplit_once('-') else {
        return Err(invalid());
    };
    let Ok(offset) = offset.parse::<usize>() else {
        return Err(invalid());
    };
    let ttl = st.knobs.locator_ttl();
    let (rows, batch) = match lock(&st.cursors).touch(id, ttl) {
        Some((rows, batch)) if offset < rows.len() => (rows, batch),
        _ => return Err(invalid()),
    };
    Ok(page(&v, id, &rows, offset, batch))
}

fn run(
    st: &Shared,
    v: &ApiVersion,
    headers: &HeaderMap,
    raw: Option<&str>,
    all: bool,
) -> Result<Response, ApiError> {
    let q = raw
        .map(|r| form_urlencoded::parse(r.as_bytes()))
        .and_then(|mut pairs| pairs.find(|(k, _)| k == "q"))
        .map(|(_, v)| v.into_owned())
        .filter(|q| !q.trim().is_empty());
    let Some(q) = q else {
        return Err(errors::rest(
            StatusCode::BAD_REQUEST,
            "MALFORMED_QUERY",
            "A query string has to be specified",
        ));
    };
    let parsed =
        soql::parse(&q).map_err(|e| errors::rest(StatusCode::BAD_REQUEST, e.code, e.message))?;
    let store = lock(&st.store);
    let matched = select_rows(&store, &parsed, all);
    let fields = match &parsed.select {
        Select::Count => {
            let body = format!(
                r#"{{"totalSize":{},"done":true,"records":[]}}"#,
                matched.len()
            );
            return Ok(raw_json(body));
        }
        Select::Fields(f) => f,
    };
    let rows: Vec<Row> = matched
        .iter()
        .map(|rec| {
            let (out, children) = row_with_children(&store, &parsed, fields, rec, &v.0);
            Row {
                json: serde_json::to_string(&out).unwrap_or_default(),
                weight: 1 + children,
            }
        })
        .collect();
    drop(store);

    let batch = batch_size(headers);
    let rows = Arc::new(rows);
    let locator = format!("01g{}", random_string(15, ALNUM));
    if page_end(&rows, 0, batch) < rows.len() {
        let (ttl, max_open) = (st.knobs.locator_ttl(), st.knobs.max_open_locators());
        lock(&st.cursors).open(locator.clone(), rows.clone(), batch, ttl, max_open);
    }
    Ok(page(v, &locator, &rows, 0, batch))
}

fn select_rows<'s>(store: &'s Store, q: &Query, all: bool) -> Vec<&'s Record> {
    select_rows_where(store, q, all, |_| true)
}

/// Filter (`keep`, then WHERE), sort, then OFFSET and LIMIT, in that order
/// as Salesforce applies them.
pub(crate) fn select_rows_where<'s>(
    store: &'s Store,
    q: &Query,
    all: bool,
    keep: impl Fn(&Record) -> bool,
) -> Vec<&'s Record> {
    let mut rows: Vec<&Record> = store
        .records(q.sobject)
        .iter()
        .filter(|r| all || !r.deleted)
        .filter(|r| keep(r))
        .filter(|r| q.filter.as_ref().is_none_or(|e| e.matches(store, r)))
        .collect();
    if !q.order.is_empty() {
        rows.sort_by(|a, b| {
            for o in &q.order {
                let (x, y) = (o.field.value(store, a), o.field.value(store, b));
                let ord = match (x.is_null(), y.is_null()) {
                    (true, true) => Ordering::Equal,
                    (true, false) if o.nulls_last => Ordering::Greater,
                    (true, false) => Ordering::Less,
                    (false, true) if o.nulls_last => Ordering::Less,
                    (false, true) => Ordering::Greater,
                    (false, false) if o.desc => compare_values(&y, &x),
                    (false, false) => compare_values(&x, &y),
                };
                if ord != Ordering::Equal {
                    return ord;
                }
            }
            Ordering::Equal
        });
    }
    let rows = rows.into_iter().skip(q.offset);
    match q.limit {
        Some(n) => rows.take(n).collect(),
        None => rows.collect(),
    }
}

/// One record as Salesforce returns it: `attributes` first, fields in select
/// order, and `Account.Name` nested as `"Account":{"attributes":…,"Name":…}`.
pub(crate) fn row_out(
    store: &Store,
    q: &Query,
    fields: &[FieldRef],
    rec: &Record,
    version: &str,
) -> Out {
    row_with_children(store, q, fields, rec, version).0
}

/// `row_out`, and how many child-relationship rows its subqueries carry.
fn row_with_children(
    store: &Store,
    q: &Query,
    fields: &[FieldRef],
    rec: &Record,
    version: &str,
) -> (Out, usize) {
    let mut children = 0;
    let mut entries = vec![(
        "attributes".to_string(),
        attributes(q.sobject, version, &rec.id),
    )];
    for (i, f) in fields.iter().enumerate() {
        children += children_out(store, q, i, rec, version, &mut entries);
        match f {
            FieldRef::Direct(field) => entries.push((
                field.name.to_string(),
                Out::Value(rec.shown(q.sobject, field, version)),
            )),
            FieldRef::Related {
                lookup,
                rel,
                target,
                field,
            } => {
                let parent = match rec.get(lookup.name) {
                    Value::String(id) => store.get(target, &id),
                    _ => None,
                };
                let existing = entries.iter_mut().find(|(k, _)| k == rel);
                match (existing, parent) {
                    (Some((_, Out::Object(inner))), Some(p)) => inner.push((
                        field.name.to_string(),
                        Out::Value(p.shown(target, field, version)),
                    )),
                    (Some(_), _) => {}
                    (None, Some(p)) => entries.push((
                        rel.to_string(),
                        Out::Object(vec![
                            ("attributes".into(), attributes(target, version, &p.id)),
                            (
                                field.name.to_string(),
                                Out::Value(p.shown(target, field, version)),
                            ),
                        ]),
                    )),
                    (None, None) => entries.push((rel.to_string(), Out::Value(Value::Null))),
                }
            }
        }
    }
    children += children_out(store, q, fields.len(), rec, version, &mut entries);
    (Out::Object(entries), children)
}

/// The subqueries at select-list `position`: `"Contacts":{"totalSize":…,"done":true,"records":[…]}`,
/// or `null` when the record has no such children, as Salesforce answers.
/// Returns how many child rows it added.
fn children_out(
    store: &Store,
    q: &Query,
    position: usize,
    rec: &Record,
    version: &str,
    entries: &mut Vec<(String, Out)>,
) -> usize {
    let mut added = 0;
    for child in q.children.iter().filter(|c| c.position == position) {
        let Select::Fields(fields) = &child.query.select else {
            continue;
        };
        let rows = select_rows_where(
            store,
            &child.query,
            false,
            |r| matches!(r.get(child.lookup.name), Value::String(p) if p == rec.id),
        );
        added += rows.len();
        let value = if rows.is_empty() {
            Out::Value(Value::Null)
        } else {
            Out::Object(vec![
                ("totalSize".into(), Out::Value(Value::from(rows.len()))),
                ("done".into(), Out::Value(Value::Bool(true))),
                (
                    "records".into(),
                    Out::Array(
                        rows.iter()
                            .map(|r| row_out(store, &child.query, fields, r, version))
                            .collect(),
                    ),
                ),
            ])
        };
        entries.push((child.rel.to_string(), value));
    }
    added
}

/// The page of `rows` from `offset`: up to `batch` rows counting children,
/// so "there is no guarantee that the requested batch size is the actual
/// batch size" (REST guide, "Query Options Header").
fn page(v: &ApiVersion, locator: &str, rows: &[Row], offset: usize, batch: usize) -> Response {
    let end = page_end(rows, offset, batch);
    let done = end >= rows.len();
    let next = if done {
        String::new()
    } else {
        format!(
            r#","nextRecordsUrl":"/services/data/v{}/query/{locator}-{end}""#,
            v.0
        )
    };
    let records: Vec<&str> = rows
        .get(offset..end)
        .unwrap_or(&[])
        .iter()
        .map(|r| r.json.as_str())
        .collect();
    let body = format!(
        r#"{{"totalSize":{},"done":{done}{next},"records":[{}]}}"#,
        rows.len(),
        records.join(",")
    );
    raw_json(body)
}

pub(crate) fn raw_json(body: String) -> Response {
    let mut resp = errors::empty(StatusCode::OK);
    *resp.body_mut() = axum::body::Body::from(body);
    resp.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static(errors::JSON_UTF8),
    );
    resp
}

/// `Sforce-Query-Options: batchSize=N`, clamped to Salesforce's 200..=2000.
fn batch_size(headers: &HeaderMap) -> usize {
    headers
        .get("sforce-query-options")
        .and_then(|h| h.to_str().ok())
        .and_then(|s| {
            s.split(',').find_map(|part| {
                let (k, v) = part.split_once('=')?;
                k.trim()
                    .eq_ignore_ascii_case("batchSize")
                    .then(|| v.trim().parse::<usize>().ok())
                    .flatten()
            })
        })
        .map(|n| n.clamp(200, 2000))
        .unwrap_or(DEFAULT_BATCH)
}
