//! A mock Salesforce org on loopback, over HTTP and HTTPS, for end-to-end tests
//! and for checking real clients (simple-salesforce, jsforce) against it.
//!
//! Modules follow Salesforce's URL space: `token` answers
//! `/services/oauth2/token` (`device` its device flow), `revoke`
//! `/services/oauth2/revoke`, `versions` `/services/data/`, `query`
//! `/query`, `sobjects` `/sobjects`, `limits` `/limits`, `soap` the
//! SOAP `login()`, `identity` `/services/oauth2/userinfo`, `search` SOSL
//! `/search`, `composite` `/composite`, `collections` `/composite/sobjects`,
//! `graph` `/composite/graph`, `tree` `/composite/tree`;
//! `bulk` Bulk API 2.0 `/jobs/ingest` and `/jobs/query`; `files` the
//! objects with a blob field (ContentVersion, Attachment, Document): their
//! uploads and streamed downloads under `/sobjects`; `multipart` reads
//! `multipart/form-data` bodies;
//! `rest` is the session gate in front of `/services/data/vNN.N`.
//! `sessions` keeps issued tokens, `cursors` query locators, and
//! `conditional` reads conditional request headers.

mod bulk;
mod chaos;
mod collections;
mod composite;
mod conditional;
mod credentials;
mod cursors;
mod data;
mod device;
mod errors;
mod files;
mod graph;
mod identity;
mod jwt;
mod limits;
mod multipart;
mod query;
mod rest;
mod revoke;
mod search;
mod sessions;
mod soap;
mod sobjects;
mod soql;
mod state;
mod tls;
mod token;
mod tree;
mod versions;

pub use chaos::{Chaos, ChaosFault};
pub use credentials::Credentials;
pub use state::{Fault, Knobs, LoggedRequest};

use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post, MethodRouter};
use axum::{Extension, Router};
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use state::Shared;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::task::{JoinHandle, JoinSet};
use tokio_rustls::TlsAcceptor;

/// Request bodies are buffered for the log. The largest Salesforce takes is
/// a Bulk API 2.0 upload: 150 MB after base64, ~100 MB raw (Upload Job Data).
/// Files may be larger (2 GB); the mock refuses those it cannot hold.
const MAX_BODY: usize = 150 * 1024 * 1024;
/// How much of a multipart body the request log keeps: uploads run to tens
/// of MB, and a second copy of each helps no test.
const LOGGED_MULTIPART: usize = 64 * 1024;
/// The longest request URI Salesforce takes; longer ones get 414 (REST API
/// guide, "Request URI length", documented since v49.0). The body of that
/// answer is not documented; an empty one is our choice.
const MAX_URI_BYTES: usize = 16_384;
const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Clone, Debug)]
pub struct MockOptions {
    /// Default `127.0.0.1:0`.
    pub https_addr: SocketAddr,
    /// Default `127.0.0.1:0`.
    pub http_addr: SocketAddr,
    /// Where `ca.pem` and the JWT keys go; default a temp dir that lives as long as the mock.
    pub fixtures_dir: Option<PathBuf>,
    /// Accounts seeded after the standard 2,500 ("Bulk 00001" …, ExtId__c
    /// "BULK-00001" …), for tests that need 10,000+ rows. Default 0.
    pub extra_accounts: usize,
}

impl Default for MockOptions {
    fn default() -> Self {
        let loopback = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
        MockOptions {
            https_addr: loopback,
            http_addr: loopback,
            fixtures_dir: None,
            extra_accounts: 0,
        }
    }
}

/// Which listener a request came in on; `instance_url` answers with its base URL.
#[derive(Clone)]
pub(crate) struct Listener {
    scheme: &'static str,
    base_url: String,
}

/// A running mock org. Dropping it stops the listeners too.
pub struct Mock {
    shared: Arc<Shared>,
    ca_file: PathBuf,
    ca_pem: String,
    tasks: Vec<JoinHandle<()>>,
    _tempdir: Option<tempfile::TempDir>,
}

impl Mock {
    pub async fn start(opts: MockOptions) -> std::io::Result<Mock> {
        let (tempdir, dir) = match opts.fixtures_dir {
            Some(d) => {
                std::fs::create_dir_all(&d)?;
                (None, d)
            }
            None => {
                let t = tempfile::Builder::new()
                    .prefix("sf-mock-fixtures-")
                    .tempdir()?;
                let d = t.path().to_path_buf();
                (Some(t), d)
            }
        };
        let https = TcpListener::bind(opts.https_addr).await?;
        let http = TcpListener::bind(opts.http_addr).await?;
        let https_url = format!("https://{}", https.local_addr()?);
        let http_url = format!("http://{}", http.local_addr()?);

        // Key generation is CPU-bound; keep it off the async workers.
        let key_dir = dir.clone();
        let (tls, (credentials, jwt_key)) = tokio::task::spawn_blocking(move || {
            Ok::<_, std::io::Error>((tls::generate()?, credentials::generate(&key_dir)?))
        })
        .await
        .map_err(std::io::Error::other)??;
        let ca_file = dir.join("ca.pem");
        std::fs::write(&ca_file, &tls.ca_pem)?;

        let shared = Arc::new(Shared::new(
            credentials,
            jwt_key,
            http_url.clone(),
            https_url.clone(),
            opts.extra_accounts,
        ));
        let app =
            api_router(shared.clone()).layer(middleware::from_fn_with_state(shared.clone(), front));
        let on = |scheme, base_url: &str| {
            app.clone().layer(Extension(Listener {
                scheme,
                base_url: base_url.to_string(),
            }))
        };
        let tasks = vec![
            tokio::spawn(serve(
                https,
                on("https", &https_url),
                Some(TlsAcceptor::from(tls.config)),
            )),
            tokio::spawn(serve(http, on("http", &http_url), None)),
        ];
        Ok(Mock {
            shared,
            ca_file,
            ca_pem: tls.ca_pem,
            tasks,
            _tempdir: tempdir,
        })
    }

    /// `http://127.0.0.1:PORT`
    pub fn http_url(&self) -> String {
        self.shared.http_url.clone()
    }

    /// `https://127.0.0.1:PORT`; the certificate names 127.0.0.1, ::1 and localhost.
    pub fn https_url(&self) -> String {
        self.shared.https_url.clone()
    }

    /// PEM of the self-signed CA that issued the server certificate.
    pub fn ca_file(&self) -> &Path {
        &self.ca_file
    }

    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    pub fn credentials(&self) -> &Credentials {
        &self.shared.credentials
    }

    pub fn knobs(&self) -> &Knobs {
        &self.shared.knobs
    }

    /// The browser half of the web-server flow: an authorization code bound to
    /// this redirect URI and, if given, this PKCE S256 challenge.
    pub fn issue_auth_code(&self, redirect_uri: &str, code_challenge: Option<&str>) -> String {
        self.shared.issue_code(redirect_uri, code_challenge)
    }

    /// Every request received on either listener, in arrival order.
    pub fn requests(&self) -> Vec<LoggedRequest> {
        self.shared.requests()
    }

    pub fn clear_requests(&self) {
        self.shared.clear_requests()
    }

    /// `POST /services/oauth2/token` requests received, whatever their outcome.
    pub fn token_requests(&self) -> usize {
        self.shared.token_requests()
    }

    /// Token requests whose `grant_type` was `grant_type`, whatever their
    /// outcome; `""` counts those without one (device-flow starts among them).
    pub fn token_requests_for(&self, grant_type: &str) -> usize {
        self.shared.token_requests_for(grant_type)
    }

    /// The first refresh token of a new family, independent of
    /// `credentials().refresh_token` and of every other.
    pub fn issue_refresh_token(&self) -> String {
        self.shared.new_refresh_family().0
    }

    /// How often a used or revoked refresh token came back. Each time, its
    /// family was revoked; a connector that keeps the newest token keeps this 0.
    pub fn refresh_token_reuses(&self) -> usize {
        self.shared.refresh_token_reuses()
    }

    /// Tokens revoked through `/services/oauth2/revoke`.
    pub fn revocations(&self) -> usize {
        self.shared.revocations()
    }

    /// The person approves the device flow request showing `user_code`;
    /// false if no pending, unexpired request shows it.
    pub fn approve_device(&self, user_code: &str) -> bool {
        let lifetime = self.shared.knobs.device_code_lifetime();
        state::lock(&self.shared.devices).answer(user_code, true, lifetime)
    }

    /// The person denies the device flow request showing `user_code`.
    pub fn deny_device(&self, user_code: &str) -> bool {
        let lifetime = self.shared.knobs.device_code_lifetime();
        state::lock(&self.shared.devices).answer(user_code, false, lifetime)
    }

    /// Store a ContentVersion, Attachment or Document with `bytes` as its
    /// file, as an upload would: `fields` are the JSON fields of the upload
    /// (e.g. `{"PathOnClient":"q1.pdf"}`; Attachment wants `Name` and
    /// `ParentId`, Document `Name` and a `00l…` `FolderId`), and the same
    /// fields are derived (ContentDocumentId, FileType, ContentSize,
    /// BodyLength …). Returns the new record's id. A test helper: panics on
    /// an object without a blob field or on what an upload would be refused for.
    pub fn put_blob(&self, sobject: &str, fields: serde_json::Value, bytes: Vec<u8>) -> String {
        let obj = data::sobject(sobject)
            .filter(|o| o.blob_field().is_some())
            .unwrap_or_else(|| {
                panic!("put_blob: {sobject} is not ContentVersion, Attachment or Document")
            });
        let serde_json::Value::Object(fields) = fields else {
            panic!("put_blob: the fields must be a JSON object, not {fields}");
        };
        state::lock(&self.shared.store)
            .create_with_blob(obj, &fields, Some(Bytes::from(bytes)))
            .unwrap_or_else(|e| panic!("put_blob({sobject}): {}: {}", e.code(), e.message()))
    }

    /// The file stored for record `id` (15 or 18 characters) of `sobject`,
    /// uploaded or put; `None` if there is no such record or file.
    pub fn blob(&self, sobject: &str, id: &str) -> Option<Vec<u8>> {
        let obj = data::sobject(sobject)?;
        let store = state::lock(&self.shared.store);
        store.get(obj, id)?.blob.as_ref().map(|b| b.to_vec())
    }

    /// Everything a client needs to connect, as JSON (secrets included: it is a test fixture).
    pub fn connection_info(&self) -> serde_json::Value {
        let c = self.credentials();
        serde_json::json!({
            "http_url": self.http_url(),
            "https_url": self.https_url(),
            "ca_file": self.ca_file,
            "client_id": c.client_id,
            "client_secret": c.client_secret,
            "username": c.username,
            "password": c.password,
            "security_token": c.security_token,
            "private_key_file": c.private_key_file,
            "private_key_pkcs1_file": c.private_key_pkcs1_file,
            "refresh_token": c.refresh_token,
        })
    }

    /// Stop both listeners and drop every open connection.
    pub async fn shutdown(mut self) {
        for task in std::mem::take(&mut self.tasks) {
            task.abort();
            let _ = task.await;
        }
    }
}

impl Drop for Mock {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// Every route behind the REST gate, without the logging and fault layer:
/// what listeners serve (under `front`) and what composite subrequests call.
pub(crate) fn api_router(st: Arc<Shared>) -> Router {
    let v = "/services/data/{version}";
    let routes: Vec<(String, MethodRouter<Arc<Shared>>)> = vec![
        ("/services/oauth2/token".into(), post(token::token)),
        (
            "/services/oauth2/revoke".into(),
            post(revoke::revoke).get(revoke::revoke),
        ),
        ("/services/oauth2/userinfo".into(), get(identity::userinfo)),
        ("/id/{org}/{user}".into(), get(identity::userinfo)),
        ("/services/Soap/u/{version}".into(), post(soap::login)),
        ("/services/data".into(), get(versions::list)),
        (v.into(), get(versions::resources)),
        (format!("{v}/limits"), get(limits::limits)),
        (format!("{v}/query"), get(query::query)),
        (format!("{v}/query/{{locator}}"), get(query::more)),
        (format!("{v}/queryAll"), get(query::query_all)),
        (format!("{v}/queryAll/{{locator}}"), get(query::more)),
        (format!("{v}/search"), get(search::search)),
        (format!("{v}/composite"), post(composite::composite)),
        (format!("{v}/composite/graph"), post(graph::graph)),
        (format!("{v}/composite/tree/{{sobject}}"), post(tree::tree)),
        (
            format!("{v}/composite/sobjects"),
            post(collections::create)
                .patch(collections::update)
                .delete(collections::delete),
        ),
        (
            format!("{v}/composite/sobjects/{{sobject}}"),
            get(collections::retrieve_get).post(collections::retrieve_post),
        ),
        (
            format!("{v}/composite/sobjects/{{sobject}}/{{field}}"),
            patch(collections::upsert),
        ),
        (format!("{v}/sobjects"), get(sobjects::global_describe)),
        (
            format!("{v}/sobjects/{{sobject}}"),
            get(sobjects::info).post(sobjects::create),
        ),
        (
            format!("{v}/sobjects/{{sobject}}/describe"),
            get(sobjects::describe),
        ),
        (
            format!("{v}/sobjects/{{sobject}}/{{id}}"),
            get(sobjects::get)
                .patch(sobjects::update)
                .delete(sobjects::delete),
        ),
        (
            format!("{v}/sobjects/{{sobject}}/{{field}}/{{value}}"),
            get(sobjects::get_by_external_id)
                .patch(sobjects::upsert)
                .delete(sobjects::delete_by_external_id),
        ),
    ];
    let routes = routes.into_iter().chain(bulk::routes(v));
    // Salesforce ignores a trailing slash, and clients rely on it:
    // simple-salesforce POSTs to `/sobjects/Account/` and queries `/query/?q=`.
    let mut app = Router::new();
    for (path, method) in routes {
        app = app
            .route(&format!("{path}/"), method.clone())
            .route(&path, method);
    }
    app.fallback(|| async { errors::not_found() })
        .method_not_allowed_fallback(|| async { errors::method_not_allowed() })
        // `front` has read the body already, at most MAX_BODY of it; without
        // this the extractors would refuse anything over axum's 2 MB in plain text.
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(middleware::from_fn_with_state(st.clone(), rest::guard))
        .with_state(st)
}

/// Outermost layer: log the request with its whole body, then apply the
/// fault, chaos and delay knobs before anything else sees it.
async fn front(
    State(st): State<Arc<Shared>>,
    Extension(listener): Extension<Listener>,
    req: Request,
    next: Next,
) -> Response {
    let (parts, body) = req.into_parts();
    let path_ok = percent_decodes_to_utf8(parts.uri.path());
    // Refused on its Content-Length alone, the body is never read.
    let refused = declared_too_large(&parts);
    let bytes = match refused {
        Some(_) => Bytes::new(),
        None => match axum::body::to_bytes(body, MAX_BODY).await {
            Ok(b) => b,
            Err(_) => return body_too_large().into_response(),
        },
    };
    let logged = match multipart::is_multipart(&parts.headers) {
        true => bytes.slice(..bytes.len().min(LOGGED_MULTIPART)),
        false => bytes.clone(),
    };
    st.log_request(LoggedRequest {
        scheme: listener.scheme,
        method: parts.method.to_string(),
        path: parts.uri.path().to_string(),
        query: parts.uri.query().map(str::to_string),
        headers: parts
            .headers
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body: logged.to_vec(),
    });
    // Taken on arrival so "the next n requests" holds even if a client gives up mid-delay.
    let fault = st.knobs.take_fault();
    let chaos = match fault {
        None => st.knobs.chaos_draw(&parts.method, &parts.uri),
        Some(_) => None,
    };
    if let Some(d) = st.knobs.delay() {
        tokio::time::sleep(d).await;
    }
    if let Some(f) = fault {
        return fault_response(f);
    }
    let target = parts.uri.path_and_query().map_or(0, |p| p.as_str().len());
    if target > MAX_URI_BYTES {
        return errors::empty(StatusCode::URI_TOO_LONG);
    }
    let real = async move {
        if let Some(refusal) = refused {
            refusal.into_response()
        } else if path_ok {
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        } else {
            // Path extractors would answer such a path in plain text, not Salesforce's shape.
            errors::not_found().into_response()
        }
    };
    match chaos {
        Some(draw) => draw.serve(real).await,
        None => real.await,
    }
}

fn body_too_large() -> errors::ApiError {
    errors::rest(
        StatusCode::PAYLOAD_TOO_LARGE,
        "REQUEST_ENTITY_TOO_LARGE",
        "The request body could not be read or is too large",
    )
}

/// A body refused by its declared Content-Length: a file over Salesforce's
/// limits (see `files`), or more than the mock buffers.
fn declared_too_large(parts: &http::request::Parts) -> Option<errors::ApiError> {
    if let Some(refusal) = files::refuse_declared(parts) {
        return Some(refusal);
    }
    let declared = parts
        .headers
        .get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .parse::<u64>()
        .ok()?;
    (declared > MAX_BODY as u64).then(body_too_large)
}

fn percent_decodes_to_utf8(path: &str) -> bool {
    let raw = path.as_bytes();
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        let hex = raw
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (raw[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).is_ok()
}

fn fault_response(fault: Fault) -> Response {
    let (status, content_type, body, retry_after) = match fault {
        Fault::Status {
            status,
            content_type,
            body,
            retry_after,
        } => (
            StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            content_type,
            body,
            retry_after,
        ),
        Fault::Html => (
            StatusCode::OK,
            "text/html;charset=UTF-8".into(),
            "<html><head><title>Login | Salesforce</title></head><body><form id=\"login_form\" action=\"/\">Please log in</form></body></html>".into(),
            None,
        ),
        Fault::MalformedJson => (
            StatusCode::OK,
            errors::JSON_UTF8.into(),
            r#"{"totalSize":1,"done":true,"records":[{"attributes":{"type":"Account","#.into(),
            None,
        ),
        Fault::Redirect { status, location } => {
            let mut resp =
                errors::empty(StatusCode::from_u16(status).unwrap_or(StatusCode::FOUND));
            if let Ok(to) = HeaderValue::from_str(&location) {
                resp.headers_mut().insert(header::LOCATION, to);
            }
            return resp;
        }
    };
    let mut resp = errors::empty(status);
    *resp.body_mut() = Body::from(body);
    if let Ok(ct) = HeaderValue::from_str(&content_type) {
        resp.headers_mut().insert(header::CONTENT_TYPE, ct);
    }
    if let Some(secs) = retry_after {
        resp.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    resp
}

/// Accept connections until aborted; aborting drops the `JoinSet`, which
/// aborts every connection still open (a delayed answer included).
async fn serve(listener: TcpListener, app: Router, tls: Option<TlsAcceptor>) {
    let mut conns = JoinSet::new();
    loop {
        let stream = match listener.accept().await {
            Ok((s, _)) => s,
            Err(_) => {
                // Out of file descriptors or similar: back off instead of spinning.
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        while conns.try_join_next().is_some() {}
        // As servers do: without it, a response written in more than one
        // segment (TLS records, a body after its headers) can wait ~40 ms
        // for the client's delayed ACK, and per-call timings measure that.
        let _ = stream.set_nodelay(true);
        let svc = TowerToHyperService::new(app.clone());
        let tls = tls.clone();
        conns.spawn(async move {
            let http = hyper::server::conn::http1::Builder::new();
            match tls {
                Some(acceptor) => {
                    let Ok(Ok(stream)) =
                        tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await
                    else {
                        return;
                    };
                    let _ = http.serve_connection(TokioIo::new(stream), svc).await;
                }
                None => {
                    let _ = http.serve_connection(TokioIo::new(stream), svc).await;
                }
            }
        });
    }
}
