//! One REST call: where it may go, and what its answer means.

#[allow(unused_imports)]
use crate::prelude::*;

use crate::error::{self, ApiErrorItem, Error};
use crate::http::{HttpRequest, HttpResponse, Method};
use crate::limits::{self, LimitInfo};
use crate::secret::Redactor;
use crate::session::Session;
use serde_json::Value;

/// One REST call relative to the session's instance URL.
#[derive(Clone, Debug)]
pub struct CallRequest {
    /// The HTTP method.
    pub method: Method,
    /// A path under `/services/`, e.g. `/services/data/v66.0/query`, or an
    /// absolute URL on the session's own instance origin.
    pub path: String,
    /// Query parameters, unencoded; they are encoded when sent.
    pub query: Vec<(String, String)>,
    /// Extra request headers; `Authorization` and the framing headers are
    /// the connector's own (see [`is_reserved_header`]).
    pub headers: Vec<(String, String)>,
    /// JSON body, for POST, PATCH and PUT only.
    pub body: Option<String>,
}

/// A successful (2xx) REST response.
#[derive(Clone, Debug)]
pub struct CallResponse {
    /// The HTTP status.
    pub status: u16,
    /// Response headers, names in lower case.
    pub headers: Vec<(String, String)>,
    /// The body as received (JSON for almost every resource; empty for 204).
    pub body: String,
    /// The parsed `Sforce-Limit-Info` header.
    pub limit_info: Option<LimitInfo>,
}

/// Headers the connector owns; a caller may not set them.
const RESERVED: [&str; 5] = [
    "authorization",
    "host",
    "content-length",
    "transfer-encoding",
    "connection",
];

/// True for a header the connector sets itself.
pub fn is_reserved_header(name: &str) -> bool {
    RESERVED.iter().any(|r| name.eq_ignore_ascii_case(r))
}

fn has_control(s: &str) -> bool {
    s.chars().any(|c| c.is_control())
}

/// Resolves `path` against the instance and refuses anything that would send
/// the bearer token elsewhere or outside the API.
fn resolve_path(session: &Session, raw: &str) -> Result<(String, Option<String>), Error> {
    if has_control(raw) {
        return Err(Error::request(
            "path",
            "contains control characters (CR/LF are never allowed)",
        ));
    }
    let relative = if raw.starts_with("http://") || raw.starts_with("https://") {
        let url = url::Url::parse(raw)
            .map_err(|e| Error::request("path", format!("is not a valid URL ({e})")))?;
        if url.origin() != session.instance_url.origin() {
            return Err(Error::request(
                "path",
                format!(
                    "points at {}, not the session's instance {}; the access token is only sent to the instance",
                    url.origin().ascii_serialization(),
                    crate::urls::origin(&session.instance_url)
                ),
            ));
        }
        let mut rel = url.path().to_string();
        if let Some(q) = url.query() {
            rel.push('?');
            rel.push_str(q);
        }
        rel
    } else {
        raw.to_string()
    };
    if relative.starts_with("//") || !relative.starts_with('/') {
        return Err(Error::request(
            "path",
            "must start with /services/ (e.g. /services/data/v62.0/limits)",
        ));
    }
    let (path, query) = match relative.split_once('?') {
        Some((p, q)) => (p.to_string(), Some(q.to_string())),
        None => (relative, None),
    };
    let decoded = url::form_urlencoded::parse(format!("p={}", path.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default();
    let escapes = decoded
        .split(['/', '\\'])
        .any(|seg| seg == ".." || seg == ".")
        || decoded.contains('\\')
        || has_control(&decoded);
    if escapes || !decoded.starts_with("/services/") {
        return Err(Error::request(
            "path",
            "must stay under /services/ (no `..`, `.` or backslashes)",
        ));
    }
    Ok((path, query))
}

/// The HTTP request for `req` with the session's bearer token, or why it may
/// not be sent (a path off the instance or outside `/services/`, a bad or
/// reserved header, a body on a method that carries none).
pub fn build(session: &Session, req: &CallRequest) -> Result<HttpRequest, Error> {
    let (path, query) = resolve_path(session, &req.path)?;
    let mut url = session.instance_url.clone();
    url.set_path(&path);
    url.set_query(query.as_deref());
    if !req.query.is_empty() {
        let mut pairs = url.query_pairs_mut();
        for (k, v) in &req.query {
            pairs.append_pair(k, v);
        }
    }
    let mut headers = Vec::with_capacity(req.headers.len() + 3);
    for (name, value) in &req.headers {
        let valid_name = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
        if !valid_name || has_control(value) {
            return Err(Error::request(
                "headers",
                format!(
                    "`{name}` is not a valid header (name must be a token, value without CR/LF)"
                ),
            ));
        }
        if is_reserved_header(name) {
            return Err(Error::request(
                "headers",
                format!("`{name}` is set by the connector"),
            ));
        }
        headers.push((name.to_ascii_lowercase(), value.clone()));
    }
    headers.push((
        "authorization".into(),
        format!("Bearer {}", session.access_token.expose()),
    ));
    if !headers.iter().any(|(k, _)| k == "accept") {
        headers.push(("accept".into(), "application/json".into()));
    }
    let body = match (&req.body, req.method) {
        (Some(b), Method::Post | Method::Patch | Method::Put) => {
            if !headers.iter().any(|(k, _)| k == "content-type") {
                headers.push(("content-type".into(), "application/json".into()));
            }
            Some(b.clone().into_bytes())
        }
        (Some(_), m) => {
            return Err(Error::request(
                "body",
                format!("{} requests carry no body", m.as_str()),
            ))
        }
        (None, _) => None,
    };
    Ok(HttpRequest {
        method: req.method,
        url,
        headers,
        body,
        timeout: session.limits.timeout(),
        max_body: session.limits.max_response_bytes,
    })
}

/// One entry of an error list: REST's `errorCode`, collections'
/// `statusCode`, or OAuth's `error`/`error_description`.
pub fn error_item(v: &Value) -> Option<ApiErrorItem> {
    let o = v.as_object()?;
    let code = o
        .get("errorCode")
        .or_else(|| o.get("statusCode"))
        .or_else(|| o.get("error"))?;
    let message = o
        .get("message")
        .or_else(|| o.get("error_description"))
        .and_then(Value::as_str)
        .unwrap_or("");
    let fields = o
        .get("fields")
        .and_then(Value::as_array)
        .map(|f| {
            f.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    Some(ApiErrorItem {
        error_code: code.as_str()?.to_string(),
        message: message.to_string(),
        fields,
    })
}

fn error_items(value: &Value) -> Option<Vec<ApiErrorItem>> {
    match value {
        Value::Array(items) if !items.is_empty() => items.iter().map(error_item).collect(),
        Value::Object(_) => error_item(value).map(|i| vec![i]),
        _ => None,
    }
}

/// Maps an HTTP answer to the call's result. Server text is scrubbed of the
/// session's secrets before it is quoted.
pub fn interpret(resp: HttpResponse, redactor: &Redactor) -> Result<CallResponse, Error> {
    let limit_info = resp.header("sforce-limit-info").and_then(limits::parse);
    if (200..300).contains(&resp.status) {
        return success(resp, limit_info, redactor);
    }
    let parsed: Option<Value> = serde_json::from_slice(&resp.body).ok();
    if resp.status == 300 {
        if let Some(urls) = choices(parsed.as_ref(), redactor) {
            return Err(Error::MultipleChoices(urls));
        }
    }
    let Some(mut errors) = parsed.as_ref().and_then(error_items) else {
        return Err(without_error_list(&resp, redactor));
    };
    scrub_items(&mut errors, redactor);
    Err(from_error_list(&resp, errors, limit_info, redactor))
}

/// The response's content type, scrubbed: it is server text too.
fn content_type(resp: &HttpResponse, redactor: &Redactor) -> Option<String> {
    resp.content_type().map(|c| redactor.scrub(c))
}

/// The start of a body, scrubbed, for quoting in an error.
fn quoted(body: &[u8], redactor: &Redactor) -> Vec<u8> {
    redactor
        .scrub(&String::from_utf8_lossy(&body[..body.len().min(4096)]))
        .into_bytes()
}

/// A 2xx: the body as text, unless it is an HTML page or not UTF-8.
fn success(
    resp: HttpResponse,
    limit_info: Option<LimitInfo>,
    redactor: &Redactor,
) -> Result<CallResponse, Error> {
    let html = resp
        .content_type()
        .is_some_and(|c| c.to_ascii_lowercase().starts_with("text/html"));
    if html {
        return Err(Error::unexpected(
            resp.status,
            content_type(&resp, redactor).as_deref(),
            "an HTML page instead of an API response; is the instance URL an API host?",
            &quoted(&resp.body, redactor),
        ));
    }
    // Scrubbed only for the error: on success nothing quotes it.
    let raw_ct = resp.content_type().map(str::to_string);
    let body = String::from_utf8(resp.body).map_err(|e| {
        Error::unexpected(
            resp.status,
            raw_ct.map(|c| redactor.scrub(&c)).as_deref(),
            "the body is not UTF-8",
            &quoted(e.as_bytes(), redactor),
        )
    })?;
    Ok(CallResponse {
        status: resp.status,
        headers: resp.headers,
        body,
        limit_info,
    })
}

/// A 300's list of the URLs to choose from, if the body is one.
fn choices(parsed: Option<&Value>, redactor: &Redactor) -> Option<Vec<String>> {
    parsed.and_then(Value::as_array).map(|a| {
        a.iter()
            .filter_map(Value::as_str)
            .map(|s| redactor.scrub(s))
            .collect()
    })
}

/// An error status without Salesforce's error list: an expired session,
/// a rate limit or a redirect told by the status alone, or else an
/// unexpected answer quoted as it came.
fn without_error_list(resp: &HttpResponse, redactor: &Redactor) -> Error {
    if let Some(expired) = crate::expiry::from_identity_text(resp.status, &resp.body) {
        return expired;
    }
    if resp.status == 401 {
        return Error::SessionExpired("401 without an error body".into());
    }
    if resp.status == 429 {
        return Error::RateLimited {
            status: 429,
            code: "429".into(),
            message: "too many requests".into(),
            retry_after_seconds: crate::retry::retry_after_seconds(resp),
        };
    }
    let reason = match resp.header("location") {
        Some(to) if (301..=308).contains(&resp.status) => format!(
            "a redirect to {} was not followed (the bearer token never leaves the \
             instance); use the final host as the login or instance URL",
            redactor.scrub(&error::excerpt(to.as_bytes()))
        ),
        _ => format!("status {} without Salesforce's error array", resp.status),
    };
    Error::unexpected(
        resp.status,
        content_type(resp, redactor).as_deref(),
        reason,
        &quoted(&resp.body, redactor),
    )
}

/// Scrubs every server-written part of the error list.
fn scrub_items(errors: &mut [ApiErrorItem], redactor: &Redactor) {
    for e in errors {
        e.message = redactor.scrub(&e.message);
        e.error_code = redactor.scrub(&e.error_code);
        for f in &mut e.fields {
            *f = redactor.scrub(f);
        }
    }
}

/// An error status with Salesforce's (scrubbed) error list: an expired
/// session, a rate limit, or the API error itself.
fn from_error_list(
    resp: &HttpResponse,
    errors: Vec<ApiErrorItem>,
    mut limit_info: Option<LimitInfo>,
    redactor: &Redactor,
) -> Error {
    if let Some(session_error) = crate::expiry::from_errors(resp.status, &errors) {
        return session_error;
    }
    let limited = errors
        .iter()
        .find(|e| e.error_code == "REQUEST_LIMIT_EXCEEDED");
    if resp.status == 429 || limited.is_some() {
        let e = limited.unwrap_or(&errors[0]);
        return Error::RateLimited {
            status: resp.status,
            code: e.error_code.clone(),
            message: e.message.clone(),
            retry_after_seconds: crate::retry::retry_after_seconds(resp),
        };
    }
    if let Some(app) = limit_info
        .as_mut()
        .and_then(|l| l.per_app_api_usage.as_mut())
    {
        app.app_name = redactor.scrub(&app.app_name);
    }
    Error::Api {
        status: resp.status,
        errors,
        limit_info,
    }
}

/// Builds, sends and interprets one call, scrubbing the session's tokens from
/// any server text quoted in an error.
pub fn execute(
    transport: &mut dyn crate::http::Transport,
    session: &Session,
    req: &CallRequest,
) -> Result<CallResponse, Error> {
    let redactor = Redactor::new().with_session(session);
    execute_redacted(transport, session, req, &redactor)
}

/// [`execute`] with a redactor the caller already holds, so that one call
/// builds one: it must know at least the session's tokens (see
/// [`Redactor::with_session`]).
pub fn execute_redacted(
    transport: &mut dyn crate::http::Transport,
    session: &Session,
    req: &CallRequest,
    redactor: &Redactor,
) -> Result<CallResponse, Error> {
    let http = build(session, req)?;
    let resp = crate::retry::send(transport, &http, &session.limits.retry)?;
    interpret(crate::gzip::decode(resp, http.max_body)?, redactor)
}

/// A JSON answer and the `Sforce-Limit-Info` that came with it.
#[derive(Clone, Debug)]
pub struct Json {
    /// The JSON text.
    pub body: String,
    /// The API usage reported with it.
    pub limit_info: Option<LimitInfo>,
}

impl From<CallResponse> for Json {
    fn from(r: CallResponse) -> Self {
        Self {
            body: r.body,
            limit_info: r.limit_info,
        }
    }
}

impl From<Json> for String {
    fn from(j: Json) -> Self {
        j.body
    }
}

impl CallRequest {
    /// A call with no query, extra headers or body.
    pub fn new(method: Method, path: impl Into<String>) -> Self {
        Self {
            method,
            path: path.into(),
            query: Vec::new(),
            headers: Vec::new(),
            body: None,
        }
    }
}

impl CallResponse {
    /// The body as JSON; a 2xx that is not JSON is an unexpected response.
    pub fn json(&self) -> Result<Value, Error> {
        serde_json::from_str(&self.body).map_err(|_| {
            Error::unexpected(
                self.status,
                self.headers
                    .iter()
                    .find(|(k, _)| k == "content-type")
                    .map(|(_, v)| v.as_str()),
                "the body is not the JSON Salesforce sends",
                self.body.as_bytes(),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::session::fixture as session;

    fn get(path: &str) -> CallRequest {
        CallRequest {
            method: Method::Get,
            path: path.into(),
            query: vec![],
            headers: vec![],
            body: None,
        }
    }

    #[test]
    fn paths_that_stay_home() {
        let s = session();
        let mut r = get("/services/data/v62.0/query");
        r.query.push((
            "q".into(),
            "SELECT Id FROM Account WHERE Name = 'A&B'".into(),
        ));
        let req = build(&s, &r).unwrap();
        assert_eq!(req.url.path(), "/services/data/v62.0/query");
        assert_eq!(
            req.url.query_pairs().next().unwrap().1,
            "SELECT Id FROM Account WHERE Name = 'A&B'"
        );
        let abs = build(
            &s,
            &get("https://acme.my.salesforce.com/services/data/v62.0/query/01g-2000"),
        )
        .unwrap();
        assert_eq!(abs.url.path(), "/services/data/v62.0/query/01g-2000");
    }

    #[test]
    fn paths_that_would_leak_the_token() {
        let s = session();
        for bad in [
            "https://evil.example.com/services/data",
            "http://acme.my.salesforce.com/services/data",
            "//evil.example.com/services/data",
            "/services/data/../../secret",
            "/services/data/%2e%2e/%2E%2E/x",
            "/services/data\r\nHost: evil",
            "/apex/page",
            "services/data",
            "/services\\..\\x",
        ] {
            assert!(
                matches!(build(&s, &get(bad)), Err(Error::InvalidRequest { .. })),
                "{bad}"
            );
        }
        let mut r = get("/services/data");
        r.headers
            .push(("Authorization".into(), "Bearer other".into()));
        assert!(build(&s, &r).is_err());
        r.headers = vec![("X-Evil".into(), "a\r\nb".into())];
        assert!(build(&s, &r).is_err());
    }

    fn resp(status: u16, body: &str) -> HttpResponse {
        HttpResponse {
            status,
            headers: vec![
                ("content-type".into(), "application/json".into()),
                ("sforce-limit-info".into(), "api-usage=3/15000".into()),
            ],
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn answers_become_typed_results() {
        let r = Redactor::new();
        let ok = interpret(resp(200, "{}"), &r).unwrap();
        assert_eq!(ok.limit_info.unwrap().api_usage.unwrap().used, 3);
        assert!(matches!(
            interpret(
                resp(
                    401,
                    r#"[{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}]"#
                ),
                &r
            ),
            Err(Error::SessionExpired(_))
        ));
        assert!(matches!(
            interpret(
                resp(
                    403,
                    r#"[{"message":"TotalRequests Limit exceeded.","errorCode":"REQUEST_LIMIT_EXCEEDED"}]"#
                ),
                &r
            ),
            Err(Error::RateLimited { .. })
        ));
        assert!(matches!(
            interpret(resp(300, r#"["/services/data/v62.0/sobjects/Account/001A","/services/data/v62.0/sobjects/Account/001B"]"#), &r),
            Err(Error::MultipleChoices(u)) if u.len() == 2
        ));
        match interpret(
            resp(
                400,
                r#"[{"message":"m","errorCode":"REQUIRED_FIELD_MISSING","fields":["Name"]}]"#,
            ),
            &r,
        ) {
            Err(Error::Api {
                status: 400,
                errors,
                ..
            }) => assert_eq!(errors[0].fields, vec!["Name"]),
            other => panic!("{other:?}"),
        }
        let mut html = resp(500, "<html><body>Service Unavailable</body></html>");
        html.headers[0].1 = "text/html".into();
        assert!(matches!(
            interpret(html, &r),
            Err(Error::Unexpected { status: 500, .. })
        ));
    }

    /// The per-app usage header's appName is server text, and `Error::Api`
    /// quotes it in its limit info (a `rest_error` fuzz finding).
    #[test]
    fn limit_info_app_name_is_scrubbed() {
        let mut r = Redactor::new();
        r.add(&crate::secret::Secret::new("00Dx!token-SECRET"));
        let mut answer = resp(400, r#"[{"message":"m","errorCode":"X"}]"#);
        answer.headers[1].1 = "per-app-api-usage=1/9(appName=00Dx!token-SECRET)".into();
        let err = interpret(answer, &r).unwrap_err();
        let shown = format!("{err} {err:?}");
        assert!(!shown.contains("SECRET"), "{shown}");
    }

    /// `fields` are server text, and Display lists them (a `rest_error`
    /// fuzz finding).
    #[test]
    fn error_fields_are_scrubbed() {
        let mut r = Redactor::new();
        r.add(&crate::secret::Secret::new("00Dx!token-SECRET"));
        let body = r#"[{"message":"m","errorCode":"INVALID_FIELD","fields":["00Dx!token-SECRET","Name"]}]"#;
        let err = interpret(resp(400, body), &r).unwrap_err();
        let shown = format!("{err} {err:?}");
        assert!(!shown.contains("SECRET"), "{shown}");
        assert!(shown.contains("Name"), "{shown}");
    }

    /// The content type is server text, and `Error::Unexpected` quotes it
    /// (a `rest_error` fuzz finding).
    #[test]
    fn content_type_is_scrubbed() {
        let mut r = Redactor::new();
        r.add(&crate::secret::Secret::new("00Dx!token-SECRET"));
        let mut answer = resp(403, "Forbidden");
        answer.headers[0].1 = "text/plain; echo=00Dx%21token-SECRET".into();
        let err = interpret(answer, &r).unwrap_err();
        let shown = format!("{err} {err:?}");
        assert!(!shown.contains("SECRET"), "{shown}");
    }
}
