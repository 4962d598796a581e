//! What the mock remembers between requests: credentials, issued tokens and
//! codes, the request log, and the knobs tests turn while it runs.

use crate::mock::chaos::{self, Chaos, ChaosFault};
use crate::mock::credentials::Credentials;
use crate::mock::data::Store;
use crate::mock::query::Cursor;
use axum::http::{Method, Uri};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Fixed org and user ids; Salesforce ids are stable per org, so these are too.
pub(crate) const ORG_ID: &str = "00D000000000001EAA";
pub(crate) const USER_ID: &str = "005000000000001AAA";
/// Daily API request allowance reported in `Sforce-Limit-Info` and `/limits`.
pub(crate) const API_MAX: usize = 15000;

/// The identity URL Salesforce returns as `id` in token responses.
pub(crate) fn identity_url() -> String {
    format!("https://login.salesforce.com/id/{ORG_ID}/{USER_ID}")
}

/// Lock even if a handler panicked while holding it: the mock must keep answering.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// One request as the mock received it, body included.
#[derive(Clone, Debug)]
pub struct LoggedRequest {
    /// `"http"` or `"https"`: which listener received it.
    pub scheme: &'static str,
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    /// Names lower-cased, in arrival order.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// A canned failure served instead of the normal answer.
#[derive(Clone, Debug)]
pub enum Fault {
    /// Any status and body, e.g. a 503 HTML page or a 429 with `Retry-After`.
    Status {
        status: u16,
        content_type: String,
        body: String,
        retry_after: Option<u32>,
    },
    /// 200 `text/html` login page, what a wrong host or a proxy answers.
    Html,
    /// 200 `application/json` whose body is cut off mid-object.
    MalformedJson,
    /// A redirect (301, 302, 307, 308) to `location`.
    Redirect { status: u16, location: String },
}

#[derive(Default)]
struct KnobValues {
    token_lifetime: Option<Duration>,
    persistent_401: bool,
    delay: Option<Duration>,
    faults: Vec<Fault>,
    tamper_signature: bool,
    instance_url_override: Option<String>,
    chaos: Option<Chaos>,
    chaos_run: chaos::Run,
}

/// Switches tests turn while the mock runs. All take `&self`.
#[derive(Default)]
pub struct Knobs {
    values: Mutex<KnobValues>,
    /// Bumped by `expire_all_sessions`; a token is valid only in the epoch it was issued in.
    epoch: AtomicU64,
}

impl Knobs {
    /// Tokens expire `d` after issue; REST calls with them then get 401. `None` = never.
    pub fn set_token_lifetime(&self, d: Option<Duration>) {
        lock(&self.values).token_lifetime = d;
    }

    /// Every token issued so far becomes invalid now.
    pub fn expire_all_sessions(&self) {
        self.epoch.fetch_add(1, Ordering::SeqCst);
    }

    /// Every REST call gets 401 `INVALID_SESSION_ID`, even with a fresh token.
    pub fn set_persistent_401(&self, on: bool) {
        lock(&self.values).persistent_401 = on;
    }

    /// Wait this long before answering any request (to test client timeouts).
    pub fn set_delay(&self, d: Option<Duration>) {
        lock(&self.values).delay = d;
    }

    /// The next `n` requests, whatever their path, get `fault` instead of their answer.
    pub fn fail_next(&self, n: usize, fault: Fault) {
        let mut v = lock(&self.values);
        v.faults.extend(std::iter::repeat_n(fault, n));
    }

    /// Token responses carry a `signature` that does not verify.
    pub fn set_tamper_signature(&self, on: bool) {
        lock(&self.values).tamper_signature = on;
    }

    /// Token responses name this `instance_url` instead of the mock's own base URL.
    pub fn set_instance_url_override(&self, url: Option<String>) {
        lock(&self.values).instance_url_override = url;
    }

    /// With `Some`, start a chaos run: each request from now on draws from
    /// the seed and its sequence number (0, 1, …) whether and how it fails;
    /// see `ChaosFault`. Requests a `fail_next` fault answers draw nothing.
    /// `None` stops drawing; the counts stay readable until the next run.
    pub fn set_chaos(&self, chaos: Option<Chaos>) {
        let mut v = lock(&self.values);
        if chaos.is_some() {
            v.chaos_run = chaos::Run::default();
        }
        v.chaos = chaos;
    }

    /// How often each chaos fault was drawn in the current or last run, every
    /// fault listed (in `ChaosFault::ALL` order), those never drawn with 0.
    pub fn chaos_served(&self) -> Vec<(String, usize)> {
        lock(&self.values).chaos_run.served()
    }

    /// The draw of each request of the current or last chaos run, in sequence
    /// order; `None` where the request was answered normally.
    pub fn chaos_history(&self) -> Vec<Option<ChaosFault>> {
        lock(&self.values).chaos_run.history()
    }

    /// Back to defaults (issued tokens stay as they are).
    pub fn reset(&self) {
        *lock(&self.values) = KnobValues::default();
    }

    pub(crate) fn token_lifetime(&self) -> Option<Duration> {
        lock(&self.values).token_lifetime
    }
    pub(crate) fn persistent_401(&self) -> bool {
        lock(&self.values).persistent_401
    }
    pub(crate) fn delay(&self) -> Option<Duration> {
        lock(&self.values).delay
    }
    pub(crate) fn take_fault(&self) -> Option<Fault> {
        let mut v = lock(&self.values);
        if v.faults.is_empty() {
            None
        } else {
            Some(v.faults.remove(0))
        }
    }
    pub(crate) fn chaos_draw(&self, method: &Method, uri: &Uri) -> Option<chaos::Draw> {
        let v = &mut *lock(&self.values);
        let cfg = v.chaos.as_ref()?;
        v.chaos_run.draw(cfg, method, uri)
    }
    pub(crate) fn tamper_signature(&self) -> bool {
        lock(&self.values).tamper_signature
    }
    pub(crate) fn instance_url_override(&self) -> Option<String> {
        lock(&self.values).instance_url_override.clone()
    }
    pub(crate) fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::SeqCst)
    }
}

struct Session {
    issued: Instant,
    epoch: u64,
}

/// An authorization code handed out by `Mock::issue_auth_code`.
pub(crate) struct AuthCode {
    pub redirect_uri: String,
    pub challenge: Option<String>,
}

/// Everything handlers share.
pub(crate) struct Shared {
    pub credentials: Credentials,
    pub knobs: Knobs,
    pub http_url: String,
    pub https_url: String,
    /// RSA public key registered for the JWT bearer flow.
    pub jwt_key: rsa::RsaPublicKey,
    sessions: Mutex<HashMap<String, Session>>,
    codes: Mutex<HashMap<String, AuthCode>>,
    log: Mutex<Vec<LoggedRequest>>,
    token_requests: AtomicUsize,
    api_usage: AtomicUsize,
    pub store: Mutex<Store>,
    /// Query results waiting for `nextRecordsUrl`, by locator.
    pub cursors: Mutex<HashMap<String, Cursor>>,
}

impl Shared {
    pub(crate) fn new(
        credentials: Credentials,
        jwt_key: rsa::RsaPublicKey,
        http_url: String,
        https_url: String,
        extra_accounts: usize,
    ) -> Shared {
        Shared {
            credentials,
            knobs: Knobs::default(),
            http_url,
            https_url,
            jwt_key,
            sessions: Mutex::default(),
            codes: Mutex::default(),
            log: Mutex::default(),
            token_requests: AtomicUsize::new(0),
            api_usage: AtomicUsize::new(0),
            store: Mutex::new(Store::seeded(extra_accounts)),
            cursors: Mutex::default(),
        }
    }

    /// Mint and remember a new access token.
    pub(crate) fn issue_token(&self) -> String {
        let token = format!("{}!AQ{}", &ORG_ID[..15], random_string(96, TOKEN_CHARS));
        let session = Session {
            issued: Instant::now(),
            epoch: self.knobs.epoch(),
        };
        lock(&self.sessions).insert(token.clone(), session);
        token
    }

    pub(crate) fn session_valid(&self, token: &str) -> bool {
        if self.knobs.persistent_401() {
            return false;
        }
        let sessions = lock(&self.sessions);
        let Some(s) = sessions.get(token) else {
            return false;
        };
        if s.epoch != self.knobs.epoch() {
            return false;
        }
        match self.knobs.token_lifetime() {
            Some(life) => s.issued.elapsed() < life,
            None => true,
        }
    }

    pub(crate) fn issue_code(&self, redirect_uri: &str, challenge: Option<&str>) -> String {
        let code = format!("aPrx{}", random_string(60, ALNUM));
        let entry = AuthCode {
            redirect_uri: redirect_uri.to_string(),
            challenge: challenge.map(str::to_string),
        };
        lock(&self.codes).insert(code.clone(), entry);
        code
    }

    /// Codes are single use: taking one removes it.
    pub(crate) fn take_code(&self, code: &str) -> Option<AuthCode> {
        lock(&self.codes).remove(code)
    }

    pub(crate) fn log_request(&self, r: LoggedRequest) {
        if r.method == "POST" && r.path == "/services/oauth2/token" {
            self.token_requests.fetch_add(1, Ordering::SeqCst);
        }
        lock(&self.log).push(r);
    }

    pub(crate) fn requests(&self) -> Vec<LoggedRequest> {
        lock(&self.log).clone()
    }

    pub(crate) fn clear_requests(&self) {
        lock(&self.log).clear();
    }

    pub(crate) fn token_requests(&self) -> usize {
        self.token_requests.load(Ordering::SeqCst)
    }

    /// Count one REST call and return the running total.
    pub(crate) fn count_api_call(&self) -> usize {
        self.api_usage.fetch_add(1, Ordering::SeqCst) + 1
    }

    pub(crate) fn api_usage(&self) -> usize {
        self.api_usage.load(Ordering::SeqCst)
    }
}

pub(crate) const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const TOKEN_CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._";

pub(crate) fn random_string(len: usize, alphabet: &[u8]) -> String {
    use rand::Rng;
    let mut rng = rand::thread_rng();
    (0..len)
        .map(|_| alphabet[rng.gen_range(0..alphabet.len())] as char)
        .collect()
}
