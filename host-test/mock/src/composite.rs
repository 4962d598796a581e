//! `/composite`: up to 25 subrequests run against the mock's own routes, with
//! `@{refId.path}` references to earlier answers, per-subrequest
//! `httpHeaders`, `allOrNone` rollback and `collateSubrequests` (unrelated
//! subrequests run out of order). The whole call counts as one API request.

use crate::errors::{self, ApiError};
use crate::rest::Internal;
use crate::sobjects::body_object;
use crate::state::{lock, Shared};
use crate::versions::ApiVersion;
use crate::Listener;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method, Request, StatusCode};
use axum::response::Response;
use axum::Extension;
use hyper::service::Service as _;
use hyper_util::service::TowerToHyperService;
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::sync::Arc;

pub(crate) const MAX_SUBREQUESTS: usize = 25;
/// Sub-response bodies are read whole; the mock's own answers stay far below this.
const MAX_SUB_BODY: usize = 256 * 1024 * 1024;

pub(crate) struct Sub {
    pub(crate) method: Method,
    pub(crate) url: String,
    pub(crate) reference_id: String,
    pub(crate) body: Option<Value>,
    headers: Vec<(HeaderName, HeaderValue)>,
}

/// A parsed `/composite` body.
struct Plan {
    all_or_none: bool,
    /// `collateSubrequests` as sent, if it was.
    collate: Option<bool>,
    subs: Vec<Sub>,
}

/// Subrequests inherit these from the composite request; naming one in
/// `httpHeaders` fails the whole request with 400 (REST guide, "Composite
/// Subrequest" and "Composite Graph: Composite Subrequest").
const INHERITED_HEADERS: [&str; 3] = ["Accept", "Authorization", "Content-Type"];

pub(crate) struct SubResult {
    pub(crate) status: u16,
    headers: Map<String, Value>,
    pub(crate) body: Value,
}

impl SubResult {
    pub(crate) fn error(code: &str, message: impl Into<String>) -> SubResult {
        SubResult {
            status: 400,
            headers: Map::new(),
            body: json!([{ "errorCode": code, "message": message.into() }]),
        }
    }

    /// The `compositeResponse` entry for this result.
    pub(crate) fn to_json(&self, reference_id: &str) -> Value {
        json!({
            "body": self.body,
            "httpHeaders": self.headers,
            "httpStatusCode": self.status,
            "referenceId": reference_id,
        })
    }

    pub(crate) fn rolled_back() -> SubResult {
        SubResult::error(
            "PROCESSING_HALTED",
            "The transaction was rolled back since another operation in the same transaction failed.",
        )
    }
}

pub(crate) fn input_error(message: impl Into<String>) -> ApiError {
    errors::rest(StatusCode::BAD_REQUEST, "JSON_PARSER_ERROR", message)
}

fn optional_bool(map: &Map<String, Value>, key: &str) -> Result<Option<bool>, ApiError> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(input_error(format!("{key} must be a boolean"))),
    }
}

fn parse(body: &[u8]) -> Result<Plan, ApiError> {
    let map = body_object(body)?;
    let all_or_none = optional_bool(&map, "allOrNone")?.unwrap_or(false);
    let collate = optional_bool(&map, "collateSubrequests")?;
    let Some(Value::Array(list)) = map.get("compositeRequest") else {
        return Err(input_error(
            "The request body must contain a compositeRequest array",
        ));
    };
    if list.is_empty() {
        return Err(input_error(
            "compositeRequest must contain at least one subrequest",
        ));
    }
    if list.len() > MAX_SUBREQUESTS {
        return Err(errors::rest(
            StatusCode::BAD_REQUEST,
            "LIMIT_EXCEEDED",
            format!(
                "Composite request has {} subrequests; at most {MAX_SUBREQUESTS} are allowed.",
                list.len()
            ),
        ));
    }
    let mut subs: Vec<Sub> = Vec::with_capacity(list.len());
    for item in list {
        let sub = parse_sub(item)?;
        if subs.iter().any(|s| s.reference_id == sub.reference_id) {
            return Err(errors::rest(
                StatusCode::BAD_REQUEST,
                "INVALID_INPUT",
                format!(
                    "Duplicate referenceId provided in the request: {}",
                    sub.reference_id
                ),
            ));
        }
        subs.push(sub);
    }
    Ok(Plan {
        all_or_none,
        collate,
        subs,
    })
}

pub(crate) fn parse_sub(item: &Value) -> Result<Sub, ApiError> {
    let Value::Object(m) = item else {
        return Err(input_error("Each subrequest must be a JSON object"));
    };
    let text = |k: &str| match m.get(k) {
        Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
        _ => Err(input_error(format!(
            "Each subrequest needs a non-empty string '{k}'"
        ))),
    };
    let method = Method::from_bytes(text("method")?.to_ascii_uppercase().as_bytes())
        .map_err(|_| input_error("Invalid subrequest method"))?;
    let reference_id = text("referenceId")?;
    if !reference_id
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        return Err(input_error(format!(
            "Invalid referenceId: {reference_id}. A referenceId must be alphanumeric or underscore."
        )));
    }
    Ok(Sub {
        method,
        url: text("url")?,
        reference_id,
        body: m.get("body").filter(|b| !b.is_null()).cloned(),
        headers: sub_headers(m.get("httpHeaders"))?,
    })
}

fn sub_headers(h: Option<&Value>) -> Result<Vec<(HeaderName, HeaderValue)>, ApiError> {
    let Some(Value::Object(h)) = h else {
        return Ok(Vec::new());
    };
    let mut headers = Vec::new();
    for (k, v) in h {
        if let Some(name) = INHERITED_HEADERS.iter().find(|n| n.eq_ignore_ascii_case(k)) {
            // Status from the guide; error code and message are our choice.
            return Err(errors::rest(
                StatusCode::BAD_REQUEST,
                "INVALID_INPUT",
                format!("A subrequest can't set the {name} header; it inherits it from the composite request."),
            ));
        }
        let (Ok(name), Some(Ok(value))) = (
            HeaderName::from_bytes(k.as_bytes()),
            v.as_str().map(HeaderValue::from_str),
        ) else {
            return Err(input_error(format!("Invalid subrequest header: {k}")));
        };
        headers.push((name, value));
    }
    Ok(headers)
}

// ---- collateSubrequests ------------------------------------------------------

/// Whether unrelated subrequests may be collated: an option from 48.0,
/// default false in 48.0 and true from 49.0 (REST guide, "Composite Request Body").
fn collates(sent: Option<bool>, version: u32) -> bool {
    match version {
        0..=47 => false,
        48 => sent.unwrap_or(false),
        _ => sent.unwrap_or(true),
    }
}

/// The referenceIds that `@{…}` expressions in `s` name.
pub(crate) fn mentions(s: &str, out: &mut Vec<String>) {
    let mut rest = s;
    while let Some(start) = rest.find("@{") {
        let after = &rest[start + 2..];
        let end = after.find(['.', '[', '}']).unwrap_or(after.len());
        out.push(after[..end].to_string());
        rest = &after[end..];
    }
}

pub(crate) fn mentions_in(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => mentions(s, out),
        Value::Array(a) => a.iter().for_each(|x| mentions_in(x, out)),
        Value::Object(m) => m.values().for_each(|x| mentions_in(x, out)),
        _ => {}
    }
}

/// The order subrequests run in. Without collation, as sent. With it, "the
/// order of execution is not guaranteed (unless there is an explicit
/// dependency between the subrequests)", and "subrequests that contain valid
/// HTTP headers are not collated" (REST guide, "Composite Request Body").
/// So the mock runs those with headers, and each one that references or is
/// referenced by another, first and as sent; then the unrelated rest in
/// reverse, so a client relying on the sent order without a reference finds out.
fn execution_order(subs: &[Sub], collate: bool) -> Vec<usize> {
    if !collate {
        return (0..subs.len()).collect();
    }
    let named: Vec<Vec<String>> = subs
        .iter()
        .map(|s| {
            let mut out = Vec::new();
            mentions(&s.url, &mut out);
            if let Some(b) = &s.body {
                mentions_in(b, &mut out);
            }
            out
        })
        .collect();
    let related = |i: usize| {
        let id = &subs[i].reference_id;
        !subs[i].headers.is_empty()
            || named[i].iter().any(|n| n != id)
            || named
                .iter()
                .enumerate()
                .any(|(j, n)| j != i && n.contains(id))
    };
    let (ordered, unrelated): (Vec<usize>, Vec<usize>) = (0..subs.len()).partition(|&i| related(i));
    ordered
        .into_iter()
        .chain(unrelated.into_iter().rev())
        .collect()
}

// ---- @{ref.path} references --------------------------------------------------

/// `records[0].Id` → the value at that path, if there is one (nulls count as none).
fn lookup<'v>(root: &'v Value, path: &str) -> Option<&'v Value> {
    let mut cur = root;
    for seg in path.split('.') {
        let (name, mut rest) = match seg.find('[') {
            Some(i) => (&seg[..i], &seg[i..]),
            None => (seg, ""),
        };
        if !name.is_empty() {
            cur = cur.get(name)?;
        }
        while let Some(r) = rest.strip_prefix('[') {
            let (idx, after) = r.split_once(']')?;
            cur = cur.get(idx.trim().parse::<usize>().ok()?)?;
            rest = after;
        }
        if !rest.is_empty() {
            return None;
        }
    }
    (!cur.is_null()).then_some(cur)
}

/// The value `ref.path` names, or the expression for the error message.
fn resolve<'v>(refs: &'v HashMap<String, Value>, expr: &str) -> Result<&'v Value, String> {
    let split = expr.find(['.', '[']).unwrap_or(expr.len());
    let (id, path) = (&expr[..split], expr[split..].trim_start_matches('.'));
    let body = refs.get(id).ok_or_else(|| expr.to_string())?;
    if path.is_empty() {
        return Ok(body);
    }
    lookup(body, path).ok_or_else(|| expr.to_string())
}

fn plain(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Replace every `@{…}` in `s`; a string that is one whole reference keeps the value's type.
fn substitute(s: &str, refs: &HashMap<String, Value>) -> Result<Value, String> {
    if let Some(expr) = s.strip_prefix("@{").and_then(|r| r.strip_suffix('}')) {
        if !expr.contains('}') {
            return resolve(refs, expr).cloned();
        }
    }
    let mut out = String::new();
    let mut rest = s;
    while let Some(start) = rest.find("@{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            out.push_str(&rest[start..]);
            rest = "";
            break;
        };
        out.push_str(&plain(resolve(refs, &after[..end])?));
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(Value::String(out))
}

/// Substitute inside every string of a JSON body; serde_json caps its nesting at 128.
fn substitute_value(v: &Value, refs: &HashMap<String, Value>) -> Result<Value, String> {
    Ok(match v {
        Value::String(s) if s.contains("@{") => substitute(s, refs)?,
        Value::Array(a) => Value::Array(
            a.iter()
                .map(|x| substitute_value(x, refs))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, x)| Ok((k.clone(), substitute_value(x, refs)?)))
                .collect::<Result<_, String>>()?,
        ),
        other => other.clone(),
    })
}

/// Clients write query URLs with raw spaces; make them a valid request target.
fn encode_url(url: &str) -> String {
    let mut out = String::with_capacity(url.len());
    for b in url.bytes() {
        if b <= 0x20 || b >= 0x7f || b"\"<>\\^`{|}".contains(&b) {
            out.push_str(&format!("%{b:02X}"));
        } else {
            out.push(b as char);
        }
    }
    out
}

// ---- running subrequests ---------------------------------------------------

/// Composite may not nest itself.
fn forbidden_target(path: &str) -> bool {
    let Some(rest) = path.strip_prefix("/services/data/") else {
        return true;
    };
    let after_version = rest.split_once('/').map(|(_, r)| r).unwrap_or("");
    let after_version = after_version.trim_end_matches('/');
    after_version == "composite" || after_version.starts_with("composite/batch")
}

async fn execute(
    st: &Arc<Shared>,
    listener: &Listener,
    auth: Option<&HeaderValue>,
    sub: &Sub,
    url: &str,
    body: Option<Value>,
) -> SubResult {
    let url = encode_url(url);
    let path = url.split('?').next().unwrap_or("");
    if !url.starts_with("/services/data/v") || forbidden_target(path) {
        return SubResult::error(
            "INVALID_API_INPUT",
            format!("The subrequest url is not supported in a composite request: {url}"),
        );
    }
    let mut builder = Request::builder().method(sub.method.clone()).uri(&url);
    // The sub-handler sees the subrequest's own headers (If-Unmodified-Since,
    // Sforce-Auto-Assign …); framing headers stay the mock's own.
    for (k, v) in &sub.headers {
        if k != header::CONTENT_LENGTH && k != header::HOST && k != header::TRANSFER_ENCODING {
            builder = builder.header(k, v);
        }
    }
    if let Some(a) = auth {
        builder = builder.header(header::AUTHORIZATION, a);
    }
    let bytes = match &body {
        Some(b) => {
            builder = builder.header(header::CONTENT_TYPE, "application/json");
            serde_json::to_vec(b).unwrap_or_default()
        }
        None => Vec::new(),
    };
    let Ok(mut req) = builder.body(Body::from(bytes)) else {
        return SubResult::error(
            "INVALID_API_INPUT",
            format!("Invalid subrequest url: {url}"),
        );
    };
    req.extensions_mut().insert(listener.clone());
    req.extensions_mut().insert(Internal);
    let svc = TowerToHyperService::new(crate::api_router(st.clone()));
    let Ok(resp) = svc.call(req).await;
    let (parts, body) = resp.into_parts();
    let bytes = axum::body::to_bytes(body, MAX_SUB_BODY)
        .await
        .unwrap_or_default();
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
    };
    let mut headers = Map::new();
    if let Some(loc) = parts
        .headers
        .get(header::LOCATION)
        .and_then(|h| h.to_str().ok())
    {
        headers.insert("Location".into(), json!(loc));
    }
    SubResult {
        status: parts.status.as_u16(),
        headers,
        body,
    }
}

/// `POST /composite`
pub(crate) async fn composite(
    State(st): State<Arc<Shared>>,
    Extension(listener): Extension<Listener>,
    Extension(version): Extension<ApiVersion>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let plan = parse(&body)?;
    let auth = headers.get(header::AUTHORIZATION);
    let order = execution_order(&plan.subs, collates(plan.collate, version.major()));
    // Other clients' writes during the call are lost on rollback; fine for a test org.
    let snapshot = plan.all_or_none.then(|| lock(&st.store).clone());
    let mut refs: HashMap<String, Value> = HashMap::new();
    let mut results: Vec<Option<SubResult>> = plan.subs.iter().map(|_| None).collect();
    let mut failed: Option<usize> = None;
    for i in order {
        let sub = &plan.subs[i];
        let result = if plan.all_or_none && failed.is_some() {
            SubResult::rolled_back()
        } else {
            run_sub(&st, &listener, auth, sub, &refs).await
        };
        if result.status >= 400 && failed.is_none() {
            failed = Some(i);
        }
        refs.insert(sub.reference_id.clone(), result.body.clone());
        results[i] = Some(result);
    }
    let mut results: Vec<SubResult> = results
        .into_iter()
        .map(|r| r.unwrap_or_else(SubResult::rolled_back))
        .collect();
    if let (Some(snapshot), Some(f)) = (snapshot, failed) {
        *lock(&st.store) = snapshot;
        for (i, r) in results.iter_mut().enumerate() {
            if i != f {
                *r = SubResult::rolled_back();
            }
        }
    }
    let out: Vec<Value> = results
        .into_iter()
        .zip(&plan.subs)
        .map(|(r, s)| r.to_json(&s.reference_id))
        .collect();
    Ok(errors::json(
        StatusCode::OK,
        &json!({ "compositeResponse": out }),
    ))
}

/// One subrequest with its `@{…}` references resolved from earlier answers.
pub(crate) async fn run_sub(
    st: &Arc<Shared>,
    listener: &Listener,
    auth: Option<&HeaderValue>,
    sub: &Sub,
    refs: &HashMap<String, Value>,
) -> SubResult {
    let resolved = substitute(&sub.url, refs).and_then(|url| {
        let body = sub
            .body
            .as_ref()
            .map(|b| substitute_value(b, refs))
            .transpose()?;
        Ok((plain(&url), body))
    });
    match resolved {
        Ok((url, body)) => execute(st, listener, auth, sub, &url, body).await,
        Err(expr) => {
            let id = expr.split(['.', '[']).next().unwrap_or("");
            SubResult::error(
                "PROCESSING_HALTED",
                format!(
                    "Invalid reference specified. No value for {expr} found in {id}. Provided referenceId ('{id}') must be the referenceId of a previous successful subrequest."
                ),
            )
        }
    }
}
