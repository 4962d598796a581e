//! Seeded random faults ("chaos") for hardening clients.
//!
//! With `Knobs::set_chaos`, every request that reaches `front` draws, from the
//! seed and its sequence number alone, whether it fails and how. Most faults
//! run the real handler and then corrupt its answer, so fields and shapes stay
//! realistic. The same seed and the same requests in the same order give the
//! same faults, so a failing run can be replayed. No fault stalls longer than
//! `stall` at a time, and none holds a huge body in memory.

use crate::errors;
use axum::body::{Body, Bytes};
use axum::http::{header, response, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use http_body::{Frame, SizeHint};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde_json::{json, Map, Value};
use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

/// Settings of a chaos run; see `Knobs::set_chaos`.
#[derive(Clone, Debug)]
pub struct Chaos {
    pub seed: u64,
    /// Fraction of responses that get a fault, 0.0..=1.0 (1.0 or more: all, 0.0 or less: none).
    pub rate: f64,
    /// How long "slow" faults stall (slow first byte, and each gap in slow drip).
    pub stall: Duration,
    /// Size of the huge-body faults; the body is streamed, never held in memory.
    pub huge_bytes: usize,
    /// Origin used by faults that point somewhere else.
    pub other_origin: String,
}

impl Chaos {
    /// Rate 0.2, 2 s stall, 32 MiB huge bodies, `https://evil.example.com`.
    pub fn new(seed: u64) -> Chaos {
        Chaos {
            seed,
            rate: 0.2,
            stall: Duration::from_secs(2),
            huge_bytes: 32 << 20,
            other_origin: "https://evil.example.com".into(),
        }
    }
}

/// One kind of fault a chaos draw can serve.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ChaosFault {
    /// A status that does not fit (200 … 504), with the real body or none.
    WrongStatus,
    /// 429 or 503, sometimes with a `Retry-After` that is sane, absurd, not a number or a date.
    Throttled,
    /// The real body cut off at a random byte.
    TruncatedJson,
    /// 200 `application/json` of random bytes.
    InvalidJson,
    /// 200 `text/html`: a login page, what a proxy or a wrong host answers.
    Html200,
    /// 500 `text/html` error page.
    Html500,
    /// 200 `application/json` with an empty body.
    EmptyJson,
    /// The real body labelled `text/plain`, `application/xml`, or not labelled at all.
    WrongContentType,
    /// The real JSON with some fields removed.
    MissingFields,
    /// The real JSON with one object key twice, with different values.
    DuplicateFields,
    /// The real JSON with fields of the wrong type: `"totalSize":"12"`, `"records":{}`, `"done":"yes"`…
    WrongTypes,
    /// 100,000 nested `[`, closed or not.
    DeepNesting,
    /// `huge_bytes` of a records array that never ends, with `Content-Length`.
    HugeSized,
    /// The same, chunked, without `Content-Length`.
    HugeChunked,
    /// The real answer, after `stall`.
    SlowFirstByte,
    /// The real body's first bytes a few at a time, `stall` apart, then the rest.
    SlowDrip,
    /// Part of the real body, then the connection drops.
    ResetMidBody,
    /// The real JSON with invalid UTF-8 inside a string.
    InvalidUtf8,
    /// The real answer with a huge, negative, non-numeric, very long or repeated `Sforce-Limit-Info`.
    AbsurdLimitInfo,
    /// Query pages: `nextRecordsUrl` at another origin, `javascript:`, `file:`, `//host` or with `..`.
    HostileNextRecordsUrl,
    /// Token answers: `instance_url` at another origin, `http:`, `javascript:` or a Lightning host.
    HostileInstanceUrl,
    /// 301/302/307/308 to the same path at `other_origin`.
    Redirect,
}

impl ChaosFault {
    pub const ALL: [ChaosFault; 22] = {
        use ChaosFault::*;
        [
            WrongStatus,
            Throttled,
            TruncatedJson,
            InvalidJson,
            Html200,
            Html500,
            EmptyJson,
            WrongContentType,
            MissingFields,
            DuplicateFields,
            WrongTypes,
            DeepNesting,
            HugeSized,
            HugeChunked,
            SlowFirstByte,
            SlowDrip,
            ResetMidBody,
            InvalidUtf8,
            AbsurdLimitInfo,
            HostileNextRecordsUrl,
            HostileInstanceUrl,
            Redirect,
        ]
    };

    pub fn name(self) -> &'static str {
        use ChaosFault::*;
        match self {
            WrongStatus => "wrong_status",
            Throttled => "throttled",
            TruncatedJson => "truncated_json",
            InvalidJson => "invalid_json",
            Html200 => "html_200",
            Html500 => "html_500",
            EmptyJson => "empty_json",
            WrongContentType => "wrong_content_type",
            MissingFields => "missing_fields",
            DuplicateFields => "duplicate_fields",
            WrongTypes => "wrong_types",
            DeepNesting => "deep_nesting",
            HugeSized => "huge_sized",
            HugeChunked => "huge_chunked",
            SlowFirstByte => "slow_first_byte",
            SlowDrip => "slow_drip",
            ResetMidBody => "reset_mid_body",
            InvalidUtf8 => "invalid_utf8",
            AbsurdLimitInfo => "absurd_limit_info",
            HostileNextRecordsUrl => "hostile_next_records_url",
            HostileInstanceUrl => "hostile_instance_url",
            Redirect => "redirect",
        }
    }

    /// Faults tied to one kind of answer are drawn only for it, and more often.
    fn weight(self, route: Route) -> u32 {
        match (self, route) {
            (ChaosFault::HostileNextRecordsUrl, Route::Query)
            | (ChaosFault::HostileInstanceUrl, Route::Token) => 4,
            (ChaosFault::HostileNextRecordsUrl | ChaosFault::HostileInstanceUrl, _) => 0,
            _ => 1,
        }
    }
}

impl fmt::Display for ChaosFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What kind of answer a request expects, for the faults tied to one.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Route {
    Token,
    Query,
    Other,
}

impl Route {
    fn of(method: &Method, path: &str) -> Route {
        let path = path.trim_end_matches('/');
        if method == Method::POST && path == "/services/oauth2/token" {
            Route::Token
        } else if method == Method::GET
            && path.starts_with("/services/data/")
            && path.split('/').any(|s| s == "query" || s == "queryAll")
        {
            Route::Query
        } else {
            Route::Other
        }
    }
}

fn pick(rng: &mut StdRng, route: Route) -> ChaosFault {
    let total: u32 = ChaosFault::ALL.iter().map(|f| f.weight(route)).sum();
    let mut n = rng.gen_range(0..total);
    for f in ChaosFault::ALL {
        let w = f.weight(route);
        if n < w {
            return f;
        }
        n -= w;
    }
    ChaosFault::WrongStatus
}

/// The state of the current chaos run, kept by `Knobs`.
#[derive(Default)]
pub(crate) struct Run {
    seq: u64,
    served: [usize; ChaosFault::ALL.len()],
    history: Vec<Option<ChaosFault>>,
}

impl Run {
    /// Draw for the next request in sequence; `None` means answer normally.
    pub(crate) fn draw(&mut self, cfg: &Chaos, method: &Method, uri: &Uri) -> Option<Draw> {
        let mut rng = StdRng::seed_from_u64(cfg.seed ^ self.seq);
        self.seq += 1;
        let route = Route::of(method, uri.path());
        // `gen::<f64>()` is in [0, 1): rate 1.0 always faults, NaN never does.
        let fault = (rng.gen::<f64>() < cfg.rate).then(|| pick(&mut rng, route));
        self.history.push(fault);
        let fault = fault?;
        self.served[fault as usize] += 1;
        Some(Draw {
            fault,
            rng,
            route,
            target: uri.path_and_query().map_or("/", |p| p.as_str()).to_string(),
            stall: cfg.stall,
            huge_bytes: cfg.huge_bytes,
            other_origin: cfg.other_origin.trim_end_matches('/').to_string(),
        })
    }

    pub(crate) fn served(&self) -> Vec<(String, usize)> {
        ChaosFault::ALL
            .iter()
            .map(|f| (f.name().to_string(), self.served[*f as usize]))
            .collect()
    }

    pub(crate) fn history(&self) -> Vec<Option<ChaosFault>> {
        self.history.clone()
    }
}

/// One request's fault, with the generator that makes its remaining choices.
pub(crate) struct Draw {
    fault: ChaosFault,
    rng: StdRng,
    route: Route,
    /// Path and query of the request.
    target: String,
    stall: Duration,
    huge_bytes: usize,
    other_origin: String,
}

const STATUSES: [u16; 16] = [
    200, 201, 204, 300, 301, 400, 401, 403, 404, 409, 410, 429, 500, 502, 503, 504,
];
const RETRY_AFTER: [Option<&str>; 9] = [
    None,
    None,
    Some("1"),
    Some("0"),
    Some("99999999"),
    Some("-5"),
    Some("soon"),
    Some("Wed, 21 Oct 2015 07:28:00 GMT"),
    Some("Fri, 31 Dec 9999 23:59:59 GMT"),
];
const INVALID_UTF8: [&[u8]; 5] = [b"\xff", b"\xc3", b"\xed\xa0\x80", b"\xc0\xaf", b"caf\xe9"];
const LOGIN_PAGE: &str = "<!DOCTYPE html><html><head><title>Login | Salesforce</title></head><body><form name=\"login\" method=\"post\" action=\"https://login.salesforce.com/\"><input type=\"email\" id=\"username\"><input type=\"password\" id=\"password\"></form></body></html>";
const ERROR_PAGE: &str = "<!DOCTYPE html><html><head><title>Error</title></head><body><h1>An unexpected error has occurred.</h1><p>Your development organization has been notified.</p></body></html>";
const DEPTH: usize = 100_000;
/// Slow drip sends at most this many small pieces before the rest.
const DRIP_PIECES: usize = 6;
const HUGE_CHUNK: usize = 64 * 1024;
const LIMIT_INFO: &str = "sforce-limit-info";

impl Draw {
    /// Answer with the fault; `real` (the normal answer) runs only if the fault corrupts it.
    pub(crate) async fn serve(mut self, real: impl Future<Output = Response>) -> Response {
        use ChaosFault::*;
        match self.fault {
            WrongStatus => {
                let status = status(*STATUSES.choose(&mut self.rng).unwrap_or(&500));
                if self.rng.gen_bool(0.5) {
                    let mut resp = real.await;
                    *resp.status_mut() = status;
                    resp
                } else {
                    errors::empty(status)
                }
            }
            Throttled => self.throttled(),
            TruncatedJson => {
                let (mut parts, bytes) = split(real).await;
                let bytes = self.at_least_two(&mut parts, bytes);
                let cut = self.rng.gen_range(1..bytes.len());
                Response::from_parts(parts, Body::from(bytes.slice(..cut)))
            }
            InvalidJson => {
                let len = self.rng.gen_range(1..=256);
                let mut bytes: Vec<u8> = (0..len).map(|_| self.rng.gen()).collect();
                // No JSON text starts with any of these.
                bytes[0] = *b"}]:,\x00\xff".choose(&mut self.rng).unwrap_or(&b'}');
                json_response(StatusCode::OK, bytes)
            }
            Html200 => html(StatusCode::OK, LOGIN_PAGE),
            Html500 => html(StatusCode::INTERNAL_SERVER_ERROR, ERROR_PAGE),
            EmptyJson => json_response(StatusCode::OK, Body::empty()),
            WrongContentType => {
                let mut resp = real.await;
                let h = resp.headers_mut();
                match self.rng.gen_range(0..3) {
                    0 => h.insert(
                        header::CONTENT_TYPE,
                        HeaderValue::from_static("text/plain;charset=UTF-8"),
                    ),
                    1 => h.insert(
                        header::CONTENT_TYPE,
                        HeaderValue::from_static("application/xml"),
                    ),
                    _ => h.remove(header::CONTENT_TYPE),
                };
                resp
            }
            MissingFields | WrongTypes => {
                let (mut parts, bytes) = split(real).await;
                let mut v = self.json_of(&mut parts, &bytes);
                if let Some(obj) = target_object(&mut v, &mut self.rng) {
                    if self.fault == MissingFields {
                        missing_fields(obj, &mut self.rng);
                    } else {
                        wrong_types(obj, &mut self.rng);
                    }
                }
                Response::from_parts(parts, Body::from(v.to_string()))
            }
            DuplicateFields => {
                let (mut parts, bytes) = split(real).await;
                let v = self.json_of(&mut parts, &bytes);
                let body = duplicate_fields(&v, &mut self.rng);
                Response::from_parts(parts, Body::from(body))
            }
            DeepNesting => {
                let mut body = "[".repeat(DEPTH);
                if self.rng.gen_bool(0.5) {
                    body.push_str(&"]".repeat(DEPTH));
                }
                json_response(StatusCode::OK, body)
            }
            HugeSized | HugeChunked => {
                let body = Huge {
                    left: self.huge_bytes,
                    sized: self.fault == HugeSized,
                    next_id: 1,
                    started: false,
                };
                json_response(StatusCode::OK, Body::new(body))
            }
            SlowFirstByte => {
                tokio::time::sleep(self.stall).await;
                real.await
            }
            SlowDrip => {
                let (parts, mut rest) = split(real).await;
                let exact = Some(rest.len() as u64);
                let mut steps = VecDeque::new();
                for _ in 0..DRIP_PIECES {
                    if rest.is_empty() {
                        break;
                    }
                    let n = self.rng.gen_range(1..=8).min(rest.len());
                    steps.push_back(Step::Data(rest.split_to(n)));
                    if !rest.is_empty() {
                        steps.push_back(Step::Pause(self.stall));
                    }
                }
                steps.push_back(Step::Data(rest));
                Response::from_parts(parts, scripted(steps, exact))
            }
            ResetMidBody => {
                let (mut parts, bytes) = split(real).await;
                let bytes = self.at_least_two(&mut parts, bytes);
                let cut = self.rng.gen_range(1..bytes.len());
                if self.rng.gen_bool(0.5) {
                    parts
                        .headers
                        .insert(header::CONTENT_LENGTH, HeaderValue::from(bytes.len()));
                }
                // The pause lets hyper flush the head and the first bytes before the drop.
                let steps = VecDeque::from([
                    Step::Data(bytes.slice(..cut)),
                    Step::Pause(self.stall.min(Duration::from_millis(10))),
                    Step::Reset,
                ]);
                Response::from_parts(parts, scripted(steps, None))
            }
            InvalidUtf8 => {
                let (mut parts, bytes) = split(real).await;
                let text = self.json_of(&mut parts, &bytes).to_string().into_bytes();
                let bad = *INVALID_UTF8.choose(&mut self.rng).unwrap_or(&&b"\xff"[..]);
                let body = invalid_utf8(text, bad, &mut self.rng);
                Response::from_parts(parts, Body::from(body))
            }
            AbsurdLimitInfo => {
                let mut resp = real.await;
                let h = resp.headers_mut();
                let (replace, values) = match self.rng.gen_range(0..4) {
                    0 => (true, vec!["api-usage=99999999999999999999999/0".into()]),
                    1 => (true, vec!["api-usage=-1/abc".into()]),
                    2 => (
                        true,
                        vec![format!("api-usage={}/15000", "9".repeat(8 << 10))],
                    ),
                    _ => (
                        false,
                        vec!["api-usage=1/15000".into(), "api-usage=abc".into()],
                    ),
                };
                if replace {
                    h.remove(LIMIT_INFO);
                }
                for v in values {
                    if let Ok(v) = HeaderValue::from_str(&v) {
                        h.append(LIMIT_INFO, v);
                    }
                }
                resp
            }
            HostileNextRecordsUrl => {
                let (mut parts, bytes) = split(real).await;
                let mut v = self.object_of(&mut parts, &bytes);
                if let Some(page) = v.as_object_mut() {
                    let next = page
                        .get("nextRecordsUrl")
                        .and_then(Value::as_str)
                        .unwrap_or("/services/data/v62.0/query/01gCHAOS00000001AAA-2000")
                        .to_string();
                    let choices = [
                        format!("{}{next}", self.other_origin),
                        "javascript:alert(1)".into(),
                        "file:///etc/passwd".into(),
                        format!("//{}/x", self.other_host()),
                        "/services/data/v62.0/query/../../../../etc/passwd".into(),
                    ];
                    let url = choices.choose(&mut self.rng).cloned().unwrap_or(next);
                    page.insert("done".into(), Value::Bool(false));
                    page.insert("nextRecordsUrl".into(), Value::String(url));
                }
                Response::from_parts(parts, Body::from(v.to_string()))
            }
            HostileInstanceUrl => {
                let (mut parts, bytes) = split(real).await;
                let mut v = self.object_of(&mut parts, &bytes);
                let real_url = v["instance_url"].as_str().unwrap_or("").to_string();
                let downgraded = match real_url.strip_prefix("https://") {
                    Some(rest) => format!("http://{rest}"),
                    None => format!("http://{}", self.other_host()),
                };
                let choices = [
                    self.other_origin.clone(),
                    downgraded,
                    "javascript:alert(document.domain)".into(),
                    "https://acme.lightning.force.com".into(),
                ];
                if let (Some(token), Some(url)) = (v.as_object_mut(), choices.choose(&mut self.rng))
                {
                    token.insert("instance_url".into(), Value::String(url.clone()));
                }
                Response::from_parts(parts, Body::from(v.to_string()))
            }
            Redirect => {
                let status = status(*[301, 302, 307, 308].choose(&mut self.rng).unwrap_or(&302));
                let location = format!("{}{}", self.other_origin, self.target);
                let mut resp = if self.rng.gen_bool(0.5) {
                    html(status, "<html><body>Moved</body></html>")
                } else {
                    errors::empty(status)
                };
                let location = HeaderValue::from_str(&location)
                    .unwrap_or_else(|_| HeaderValue::from_static("https://evil.example.com/"));
                resp.headers_mut().insert(header::LOCATION, location);
                resp
            }
        }
    }

    fn throttled(&mut self) -> Response {
        let mut resp = if self.rng.gen_bool(0.5) {
            errors::rest(
                StatusCode::TOO_MANY_REQUESTS,
                "REQUEST_LIMIT_EXCEEDED",
                "TotalRequests Limit exceeded.",
            )
        } else {
            errors::rest(
                StatusCode::SERVICE_UNAVAILABLE,
                "SERVER_UNAVAILABLE",
                "Server temporarily unavailable, please try again later",
            )
        }
        .into_response();
        if let Some(v) = RETRY_AFTER.choose(&mut self.rng).copied().flatten() {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static(v));
        }
        resp
    }

    /// `other_origin` without its scheme.
    fn other_host(&self) -> &str {
        let o = &self.other_origin;
        o.split_once("://").map_or(o.as_str(), |(_, host)| host)
    }

    /// A made-up answer of the shape the request expects, for when the real one
    /// has nothing to corrupt (an empty 204, say).
    fn stand_in(&self) -> Value {
        match self.route {
            Route::Token => json!({
                "access_token": "00D000000000001!AQ4AQChaosChaosChaosChaosChaosChaos",
                "signature": "xwjgdwExawzcsxDK0EXiR5xbdOsg+6u59M7fWZjbpS0=",
                "scope": "api web full refresh_token",
                "instance_url": "https://na1.salesforce.com",
                "id": crate::state::identity_url(),
                "token_type": "Bearer",
                "issued_at": "1700000000000",
            }),
            Route::Query => json!({
                "totalSize": 1,
                "done": true,
                "records": [{
                    "attributes": {
                        "type": "Account",
                        "url": "/services/data/v62.0/sobjects/Account/001000000000001AAA",
                    },
                    "Id": "001000000000001AAA",
                    "Name": "Chaos",
                }],
            }),
            Route::Other => json!({ "id": "001000000000001AAA", "success": true, "errors": [] }),
        }
    }

    /// Switch `parts` to a JSON stand-in body (a 204 cannot carry one).
    fn switch_to_stand_in(&self, parts: &mut response::Parts) -> Value {
        if parts.status == StatusCode::NO_CONTENT {
            parts.status = StatusCode::OK;
        }
        parts.headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(errors::JSON_UTF8),
        );
        self.stand_in()
    }

    /// The real answer as JSON if it holds an object to corrupt, else a stand-in.
    fn json_of(&self, parts: &mut response::Parts, bytes: &[u8]) -> Value {
        match serde_json::from_slice::<Value>(bytes) {
            Ok(v) if holds_object(&v) => v,
            _ => self.switch_to_stand_in(parts),
        }
    }

    /// Like `json_of`, but an error array becomes a 200 stand-in, as a confused server might send.
    fn object_of(&self, parts: &mut response::Parts, bytes: &[u8]) -> Value {
        match self.json_of(parts, bytes) {
            v @ Value::Object(_) => v,
            _ => {
                parts.status = StatusCode::OK;
                self.stand_in()
            }
        }
    }

    /// The real body if it has two bytes to cut between, else a stand-in.
    fn at_least_two(&self, parts: &mut response::Parts, bytes: Bytes) -> Bytes {
        if bytes.len() >= 2 {
            bytes
        } else {
            Bytes::from(self.switch_to_stand_in(parts).to_string())
        }
    }
}

fn status(code: u16) -> StatusCode {
    StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// The real answer's head and whole body (the mock's own bodies are small).
async fn split(real: impl Future<Output = Response>) -> (response::Parts, Bytes) {
    let (mut parts, body) = real.await.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    let bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    (parts, bytes)
}

fn json_response(status: StatusCode, body: impl Into<Body>) -> Response {
    let mut resp = Response::new(body.into());
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(errors::JSON_UTF8),
    );
    resp
}

fn html(status: StatusCode, page: &'static str) -> Response {
    let mut resp = Response::new(Body::from(page));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html;charset=UTF-8"),
    );
    resp
}

fn holds_object(v: &Value) -> bool {
    match v {
        Value::Object(_) => true,
        Value::Array(a) => a.first().is_some_and(Value::is_object),
        _ => false,
    }
}

/// The object to corrupt: the top-level one or the first of a top-level
/// array, and sometimes the first record of a query page instead.
fn target_object<'a>(v: &'a mut Value, rng: &mut StdRng) -> Option<&'a mut Map<String, Value>> {
    let obj = match v {
        Value::Array(a) => a.first_mut()?.as_object_mut()?,
        Value::Object(m) => m,
        _ => return None,
    };
    let has_record = obj
        .get("records")
        .and_then(Value::as_array)
        .and_then(|r| r.first())
        .is_some_and(Value::is_object);
    if has_record && rng.gen_bool(0.3) {
        obj.get_mut("records")?.get_mut(0)?.as_object_mut()
    } else {
        Some(obj)
    }
}

fn missing_fields(obj: &mut Map<String, Value>, rng: &mut StdRng) {
    let keys: Vec<String> = obj.keys().cloned().collect();
    if keys.is_empty() {
        return;
    }
    let n = rng.gen_range(1..=keys.len());
    let gone: Vec<&String> = keys.choose_multiple(rng, n).collect();
    obj.retain(|k, _| !gone.contains(&k));
}

/// Known fields get the wrong types clients trip on; otherwise any one field does.
fn wrong_types(obj: &mut Map<String, Value>, rng: &mut StdRng) {
    let mut changed = false;
    for (k, v) in obj.iter_mut() {
        if let Some(bad) = known_bad(k, v, rng) {
            if !changed || rng.gen_bool(0.5) {
                *v = bad;
                changed = true;
            }
        }
    }
    if !changed {
        let keys: Vec<String> = obj.keys().cloned().collect();
        if let Some(v) = keys.choose(rng).and_then(|k| obj.get_mut(k)) {
            *v = wrong_type(v);
        }
    }
}

fn known_bad(key: &str, v: &Value, rng: &mut StdRng) -> Option<Value> {
    Some(match key {
        "totalSize" => Value::String(v.to_string()),
        "records" if rng.gen_bool(0.5) => json!({}),
        "records" | "attributes" => Value::Null,
        "done" | "success" => json!("yes"),
        "instance_url" => json!(42),
        _ => return None,
    })
}

fn wrong_type(v: &Value) -> Value {
    match v {
        Value::Null => json!({}),
        Value::Bool(b) => Value::String(b.to_string()),
        Value::Number(n) => Value::String(n.to_string()),
        Value::String(_) => json!(42),
        Value::Array(_) => json!({}),
        Value::Object(_) => Value::Null,
    }
}

/// `v` serialized with one key of its (first) object written twice.
fn duplicate_fields(v: &Value, rng: &mut StdRng) -> String {
    match v {
        Value::Object(m) => duplicate_key(m, rng),
        Value::Array(a) => {
            let items: Vec<String> = a
                .iter()
                .enumerate()
                .map(|(i, item)| match item {
                    Value::Object(m) if i == 0 => duplicate_key(m, rng),
                    _ => item.to_string(),
                })
                .collect();
            format!("[{}]", items.join(","))
        }
        _ => v.to_string(),
    }
}

fn duplicate_key(m: &Map<String, Value>, rng: &mut StdRng) -> String {
    let keys: Vec<&String> = m.keys().collect();
    let Some(&dup) = keys.choose(rng) else {
        return r#"{"done":true,"done":false}"#.into();
    };
    let fake_first = rng.gen_bool(0.5);
    let mut fields = Vec::with_capacity(m.len() + 1);
    for (k, v) in m {
        let key = Value::String(k.clone());
        if k == dup {
            let fake = other_value(v);
            let (a, b) = if fake_first { (&fake, v) } else { (v, &fake) };
            fields.push(format!("{key}:{a}"));
            fields.push(format!("{key}:{b}"));
        } else {
            fields.push(format!("{key}:{v}"));
        }
    }
    format!("{{{}}}", fields.join(","))
}

/// A different value of the same type where there is one.
fn other_value(v: &Value) -> Value {
    match v {
        Value::String(s) => {
            let reversed: String = s.chars().rev().collect();
            Value::String(if reversed == *s {
                format!("{s}2")
            } else {
                reversed
            })
        }
        _ => wrong_type(v),
    }
}

/// `bad` spliced in right after the opening quote of a string value, or as a
/// new field's value when the JSON has no string values.
fn invalid_utf8(mut json: Vec<u8>, bad: &[u8], rng: &mut StdRng) -> Vec<u8> {
    let spots: Vec<usize> = json
        .windows(3)
        .enumerate()
        .filter(|(_, w)| w == b"\":\"")
        .map(|(i, _)| i + 3)
        .collect();
    match spots.choose(rng) {
        Some(&at) => {
            json.splice(at..at, bad.iter().copied());
        }
        None => {
            let at = json.iter().position(|&b| b == b'{').map_or(0, |p| p + 1);
            let closes = json.get(at) == Some(&b'}');
            let mut field = b"\"message\":\"".to_vec();
            field.extend_from_slice(bad);
            field.extend_from_slice(if closes { b"\"" } else { b"\"," });
            json.splice(at..at, field);
        }
    }
    json
}

enum Step {
    Data(Bytes),
    Pause(Duration),
    /// End the body with an error, which makes hyper drop the connection.
    Reset,
}

/// A body that plays `steps`; `exact` sets `Content-Length`.
fn scripted(steps: VecDeque<Step>, exact: Option<u64>) -> Body {
    Body::new(Scripted {
        steps,
        pause: None,
        exact,
    })
}

struct Scripted {
    steps: VecDeque<Step>,
    pause: Option<Pin<Box<tokio::time::Sleep>>>,
    /// Bytes still to come, when known.
    exact: Option<u64>,
}

impl http_body::Body for Scripted {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        let this = self.get_mut();
        loop {
            if let Some(pause) = this.pause.as_mut() {
                std::task::ready!(pause.as_mut().poll(cx));
                this.pause = None;
            }
            match this.steps.pop_front() {
                None => return Poll::Ready(None),
                Some(Step::Data(b)) => {
                    if let Some(n) = this.exact.as_mut() {
                        *n = n.saturating_sub(b.len() as u64);
                    }
                    return Poll::Ready(Some(Ok(Frame::data(b))));
                }
                Some(Step::Pause(d)) => this.pause = Some(Box::pin(tokio::time::sleep(d))),
                Some(Step::Reset) => {
                    return Poll::Ready(Some(Err(std::io::Error::new(
                        std::io::ErrorKind::ConnectionReset,
                        "chaos: connection dropped mid-body",
                    ))))
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.steps.is_empty() && self.pause.is_none()
    }

    fn size_hint(&self) -> SizeHint {
        self.exact
            .map_or_else(SizeHint::default, SizeHint::with_exact)
    }
}

/// `{"totalSize":…,"done":false,"records":[{…},{…},…` cut at `left` bytes,
/// made a chunk at a time.
struct Huge {
    left: usize,
    sized: bool,
    next_id: u64,
    started: bool,
}

impl http_body::Body for Huge {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        use std::fmt::Write;
        let this = self.get_mut();
        if this.left == 0 {
            return Poll::Ready(None);
        }
        let want = this.left.min(HUGE_CHUNK);
        let mut chunk = String::with_capacity(want + 256);
        if !this.started {
            this.started = true;
            chunk.push_str(r#"{"totalSize":999999999,"done":false,"records":["#);
        }
        while chunk.len() < want {
            let n = this.next_id;
            this.next_id += 1;
            let _ = write!(
                chunk,
                r#"{{"attributes":{{"type":"Account","url":"/services/data/v62.0/sobjects/Account/001{n:012}AAA"}},"Id":"001{n:012}AAA","Name":"Chaos {n}"}},"#
            );
        }
        let mut bytes = Bytes::from(chunk);
        bytes.truncate(this.left);
        this.left -= bytes.len();
        Poll::Ready(Some(Ok(Frame::data(bytes))))
    }

    fn is_end_stream(&self) -> bool {
        self.left == 0
    }

    fn size_hint(&self) -> SizeHint {
        if self.sized {
            SizeHint::with_exact(self.left as u64)
        } else {
            SizeHint::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_lists_every_fault_in_declaration_order_with_unique_names() {
        let mut names = std::collections::HashSet::new();
        for (i, f) in ChaosFault::ALL.into_iter().enumerate() {
            assert_eq!(f as usize, i, "{f}");
            assert!(names.insert(f.name()), "{f}");
        }
    }

    #[test]
    fn huge_body_has_exactly_the_asked_size() {
        use http_body_util::BodyExt;
        let body = Huge {
            left: 200_001,
            sized: true,
            next_id: 1,
            started: false,
        };
        assert_eq!(http_body::Body::size_hint(&body).exact(), Some(200_001));
        let bytes = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(body.collect())
            .unwrap()
            .to_bytes();
        assert_eq!(bytes.len(), 200_001);
        assert!(bytes.starts_with(br#"{"totalSize":999999999,"done":false,"records":[{"#));
    }
}
