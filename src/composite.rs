//! Composite: up to 25 subrequests in one call, later ones referring to
//! earlier results with `@{referenceId.field}`.

#[allow(unused_imports)]
use crate::prelude::*;

use crate::error::Error;
use crate::http::{Method, Transport};
use crate::rest::{self, CallRequest};
use crate::session::Session;
use serde_json::{json, Value};

/// Salesforce's limit of subrequests per composite request.
pub const MAX_SUBREQUESTS: usize = 25;

/// One subrequest of [`composite`].
#[derive(Clone, Debug)]
pub struct Subrequest {
    /// The subrequest's HTTP method.
    pub method: Method,
    /// A path under `/services/data/vNN.N/`; may contain
    /// `@{referenceId.field}` references to earlier results.
    pub url: String,
    /// The name later subrequests refer to this one's result by.
    pub reference_id: String,
    /// JSON body; may contain references too.
    pub body: Option<String>,
    /// `httpHeaders` of this subrequest.
    pub http_headers: Vec<(String, String)>,
}

/// Every subresponse, in request order, and the API usage reported.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Composite {
    /// One subresponse per subrequest, in request order.
    pub responses: Vec<Subresponse>,
    /// The API usage reported with the answer.
    pub limit_info: Option<crate::limits::LimitInfo>,
}

/// One subresponse of [`composite`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Subresponse {
    /// The subrequest's `referenceId`.
    pub reference_id: String,
    /// The subrequest's HTTP status.
    pub status: u16,
    /// The subrequest's response headers, names in lower case.
    pub headers: Vec<(String, String)>,
    /// The subresponse body as JSON text (empty for 204).
    pub body: String,
}

fn validate(session: &Session, subs: &[Subrequest]) -> Result<Vec<Value>, Error> {
    if subs.is_empty() || subs.len() > MAX_SUBREQUESTS {
        return Err(Error::request(
            "requests",
            format!(
                "needs 1 to {MAX_SUBREQUESTS} subrequests, got {}",
                subs.len()
            ),
        ));
    }
    let mut seen = alloc::collections::BTreeSet::new();
    subs.iter()
        .enumerate()
        .map(|(i, sub)| {
            entry(
                session,
                sub,
                "requests",
                &format!("subrequest {i}"),
                &mut seen,
            )
        })
        .collect()
}

/// A subrequest as Salesforce's JSON (`compositeRequest` entry), or why it
/// may not be sent: `field` and `at` name it in the error; `seen` holds the
/// reference ids already used in the same request (or graph).
pub(crate) fn entry(
    session: &Session,
    sub: &Subrequest,
    field: &str,
    at: &str,
    seen: &mut alloc::collections::BTreeSet<String>,
) -> Result<Value, Error> {
    let r = &sub.reference_id;
    let valid_ref = !r.is_empty()
        && r.starts_with(|c: char| c.is_ascii_alphabetic())
        && r.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if !valid_ref || !seen.insert(r.clone()) {
        return Err(Error::request(
            field,
            format!("{at}: reference-id `{r}` must be a unique name of letters, digits and _"),
        ));
    }
    // `@{ref}` placeholders are resolved by Salesforce, so check the path
    // with them masked out.
    let masked = sub.url.replace(['@', '{', '}'], "x");
    let path = masked.split('?').next().unwrap_or_default();
    if !path.starts_with(&format!("{}/", session.data_path()))
        || path.contains("..")
        || sub.url.chars().any(char::is_control)
    {
        return Err(Error::request(
            field,
            format!("{at}: url must be a path under {}/", session.data_path()),
        ));
    }
    let mut entry = json!({ "method": sub.method.as_str(), "url": sub.url, "referenceId": r });
    if !sub.http_headers.is_empty() {
        entry["httpHeaders"] = http_headers(field, at, &sub.http_headers)?;
    }
    if let Some(body) = &sub.body {
        let parsed: Value = serde_json::from_str(body)
            .map_err(|e| Error::request(field, format!("{at}: body is not JSON ({e})")))?;
        entry["body"] = parsed;
    }
    Ok(entry)
}

/// A subrequest's headers as a JSON object; the connector owns
/// `Authorization` and the framing headers, as for a plain call.
fn http_headers(field: &str, at: &str, headers: &[(String, String)]) -> Result<Value, Error> {
    let mut map = serde_json::Map::new();
    for (name, value) in headers {
        let valid = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
            && !value.chars().any(char::is_control);
        if !valid || rest::is_reserved_header(name) {
            return Err(Error::request(
                field,
                format!("{at}: header `{name}` is not allowed (a token name, no CR/LF, not Authorization or framing)"),
            ));
        }
        map.insert(name.clone(), Value::String(value.clone()));
    }
    Ok(Value::Object(map))
}

/// Up to [`MAX_SUBREQUESTS`] subrequests in one round trip, run in the order
/// given; with `all_or_none` a failure rolls back every write of the
/// request.
pub fn composite(
    t: &mut dyn Transport,
    s: &Session,
    all_or_none: bool,
    subs: &[Subrequest],
) -> Result<Composite, Error> {
    let entries = validate(s, subs)?;
    let mut req = CallRequest::new(Method::Post, format!("{}/composite", s.data_path()));
    // Salesforce collates by default (v49+), which may run unrelated
    // subrequests out of order; the contract is request order (REST guide,
    // "Composite").
    req.body = Some(
        json!({ "allOrNone": all_or_none, "collateSubrequests": false, "compositeRequest": entries })
            .to_string(),
    );
    let resp = rest::execute(t, s, &req)?;
    let value = resp.json()?;
    let bad = |why: &str| {
        Error::unexpected(
            resp.status,
            None,
            format!("composite answer: {why}"),
            resp.body.as_bytes(),
        )
    };
    let responses = subresponses(&value["compositeResponse"], &bad)?;
    Ok(Composite {
        responses,
        limit_info: resp.limit_info.clone(),
    })
}

/// A `compositeResponse` array (of composite or of one graph), in order.
pub(crate) fn subresponses(
    list: &Value,
    bad: &dyn Fn(&str) -> Error,
) -> Result<Vec<Subresponse>, Error> {
    let list = list
        .as_array()
        .ok_or_else(|| bad("no `compositeResponse` array"))?;
    list.iter()
        .map(|item| {
            let headers = item["httpHeaders"]
                .as_object()
                .map(|h| {
                    h.iter()
                        .map(|(k, v)| {
                            (
                                k.to_ascii_lowercase(),
                                v.as_str().unwrap_or_default().to_string(),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            Ok(Subresponse {
                reference_id: item["referenceId"].as_str().unwrap_or_default().to_string(),
                status: item["httpStatusCode"]
                    .as_u64()
                    .and_then(|n| u16::try_from(n).ok())
                    .ok_or_else(|| bad("a subresponse has no status"))?,
                headers,
                body: match &item["body"] {
                    Value::Null => String::new(),
                    other => other.to_string(),
                },
            })
        })
        .collect()
}
