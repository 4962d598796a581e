//! What the mock remembers between requests: credentials, issued tokens and
//! codes, the request log, and the knobs tests turn while it runs.

use crate::chaos::{self, Chaos, ChaosFault};
use crate::credentials::Credentials;
use crate::cursors::{self, Cursors};
use crate::data::Store;
use crate::device::Devices;
use crate::sessions::{Family, Refused, Tokens};
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

/// OAuth behaviour. Not every default is `false`, hence its own `Default`.
struct AuthKnobs {
    refresh_token_rotation: bool,
    sandbox: bool,
    session_refused: bool,
    password_flow_blocked: bool,
    device_interval: Duration,
    device_code_lifetime: Duration,
}

impl Default for AuthKnobs {
    fn default() -> Self {
        AuthKnobs {
            // Rotation is the normal case now (salesforce-2026.md, "Refresh tokens: rotation").
            refresh_token_rotation: true,
            sandbox: false,
            session_refused: false,
            password_flow_blocked: false,
            // RFC 8628 §3.2: "If no value is provided, clients MUST use 5 as the default."
            device_interval: Duration::from_secs(5),
            // The sf CLI: "you must approve access to the device within 10 minutes"
            // (salesforce-alm messages/auth.json, pollingTimeout).
            device_code_lifetime: Duration::from_secs(10 * 60),
        }
    }
}

/// Query locator rules; see `cursors`.
struct PagingKnobs {
    locator_ttl: Option<Duration>,
    max_open_locators: Option<usize>,
}

impl Default for PagingKnobs {
    fn default() -> Self {
        PagingKnobs {
            locator_ttl: Some(cursors::DEFAULT_TTL),
            max_open_locators: Some(cursors::DEFAULT_MAX_OPEN),
        }
    }
}

/// Bulk API 2.0 behaviour; see `bulk`.
struct BulkKnobs {
    processing_delay: Duration,
    upload_limit: usize,
    hard_delete_allowed: bool,
}

impl Default for BulkKnobs {
    fn default() -> Self {
        BulkKnobs {
            // Real jobs take seconds; tests want them done at once.
            processing_delay: Duration::ZERO,
            upload_limit: crate::bulk::UPLOAD_LIMIT,
            // "Bulk API Hard Delete" is off by default (Create a Job, `operation`).
            hard_delete_allowed: false,
        }
    }
}

#[derive(Default)]
struct KnobValues {
    auth: AuthKnobs,
    paging: PagingKnobs,
    bulk: BulkKnobs,
    token_lifetime: Option<Duration>,
    /// How far `advance_clock` moved the mock's clock past the real one.
    clock_ahead: Duration,
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

    /// Moves the mock's clock forward: tokens age by `by` at once, so a test
    /// sees one die of age without sleeping through its lifetime.
    pub fn advance_clock(&self, by: Duration) {
        lock(&self.values).clock_ahead += by;
    }

    /// The mock's clock: the real one plus every `advance_clock`.
    pub(crate) fn now(&self) -> Instant {
        Instant::now() + lock(&self.values).clock_ahead
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

    /// On (the default): every refresh-token grant answers with a new
    /// `refresh_token` and uses the presented one up; presenting a used or
    /// revoked one revokes its whole family (help.salesforce.com article
    /// 005316711). Off: refresh tokens are reusable and the answer has none.
    pub fn set_refresh_token_rotation(&self, on: bool) {
        lock(&self.values).auth.refresh_token_rotation = on;
    }

    /// A sandbox org: the JWT bearer grant then wants `aud` =
    /// `https://test.salesforce.com` instead of `https://login.salesforce.com`.
    pub fn set_sandbox(&self, on: bool) {
        lock(&self.values).auth.sandbox = on;
    }

    /// Logins still succeed, but every `/services/data` call answers 401
    /// "This session is not valid for use with the REST API" (missing `api`
    /// scope, IP or high-assurance policy; jsforce PR #1301). Userinfo still works.
    pub fn set_session_refused(&self, on: bool) {
        lock(&self.values).auth.session_refused = on;
    }

    /// The org blocks the username-password flow, as orgs created from
    /// Summer '23 on do (help.salesforce.com
    /// xcloud.remoteaccess_disable_username_password_flow_ca).
    pub fn set_password_flow_blocked(&self, on: bool) {
        lock(&self.values).auth.password_flow_blocked = on;
    }

    /// The device flow's polling interval (default 5 s). Polls of one code
    /// closer together than this get `slow_down`.
    pub fn set_device_interval(&self, d: Duration) {
        lock(&self.values).auth.device_interval = d;
    }

    /// How long a device code can be approved and polled (default 10 minutes).
    pub fn set_device_code_lifetime(&self, d: Duration) {
        lock(&self.values).auth.device_code_lifetime = d;
    }

    /// A query locator idle this long answers `INVALID_QUERY_LOCATOR`
    /// (default 15 minutes; `None` = never). See `cursors` for the sources.
    pub fn set_locator_ttl(&self, ttl: Option<Duration>) {
        lock(&self.values).paging.locator_ttl = ttl;
    }

    /// At most this many query locators stay open; opening one more releases
    /// the oldest (default 10; `None` = no cap). See `cursors` for the sources.
    pub fn set_max_open_locators(&self, max: Option<usize>) {
        lock(&self.values).paging.max_open_locators = max;
    }

    /// How long a Bulk API 2.0 job stays `InProgress` after `UploadComplete`
    /// (a query job after it is created) before it is `JobComplete` or
    /// `Failed` (default 0: done at the next look). `advance_clock` counts too.
    pub fn set_bulk_processing_delay(&self, d: Duration) {
        lock(&self.values).bulk.processing_delay = d;
    }

    /// The most bytes one ingest upload (`PUT …/batches`) may carry
    /// (default 100,000,000: "Upload Job Data" allows 150 MB after base64,
    /// i.e. about 100 MB of CSV). Small values let tests hit the limit.
    pub fn set_bulk_upload_limit(&self, bytes: usize) {
        lock(&self.values).bulk.upload_limit = bytes;
    }

    /// Grant the "Bulk API Hard Delete" permission, without which
    /// `hardDelete` jobs are refused (default off, as in a new org).
    pub fn set_bulk_hard_delete_allowed(&self, on: bool) {
        lock(&self.values).bulk.hard_delete_allowed = on;
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
    pub(crate) fn refresh_token_rotation(&self) -> bool {
        lock(&self.values).auth.refresh_token_rotation
    }
    pub(crate) fn sandbox(&self) -> bool {
        lock(&self.values).auth.sandbox
    }
    pub(crate) fn session_refused(&self) -> bool {
        lock(&self.values).auth.session_refused
    }
    pub(crate) fn password_flow_blocked(&self) -> bool {
        lock(&self.values).auth.password_flow_blocked
    }
    pub(crate) fn device_interval(&self) -> Duration {
        lock(&self.values).auth.device_interval
    }
    pub(crate) fn device_code_lifetime(&self) -> Duration {
        lock(&self.values).auth.device_code_lifetime
    }
    pub(crate) fn locator_ttl(&self) -> Option<Duration> {
        lock(&self.values).paging.locator_ttl
    }
    pub(crate) fn max_open_locators(&self) -> Option<usize> {
        lock(&self.values).paging.max_open_locators
    }
    pub(crate) fn bulk_processing_delay(&self) -> Duration {
        lock(&self.values).bulk.processing_delay
    }
    pub(crate) fn bulk_upload_limit(&self) -> usize {
        lock(&self.values).bulk.upload_limit
    }
    pub(crate) fn bulk_hard_delete_allowed(&self) -> bool {
        lock(&self.values).bulk.hard_delete_allowed
    }
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
    tokens: Mutex<Tokens>,
    codes: Mutex<HashMap<String, AuthCode>>,
    pub devices: Mutex<Devices>,
    log: Mutex<Vec<LoggedRequest>>,
    token_requests: AtomicUsize,
    /// Token requests by their `grant_type` value ("" when they have none).
    grant_requests: Mutex<HashMap<String, usize>>,
    api_usage: AtomicUsize,
    pub store: Mutex<Store>,
    /// Query results waiting for `nextRecordsUrl`, by locator.
    pub cursors: Mutex<Cursors>,
    /// Bulk API 2.0 jobs. Lock it before `store` when both are needed.
    pub bulk: Mutex<crate::bulk::Jobs>,
}

impl Shared {
    pub(crate) fn new(
        credentials: Credentials,
        jwt_key: rsa::RsaPublicKey,
        http_url: String,
        https_url: String,
        extra_accounts: usize,
    ) -> Shared {
        let mut tokens = Tokens::default();
        // `credentials().refresh_token` heads the first family.
        tokens.register(&credentials.refresh_token);
        Shared {
            credentials,
            knobs: Knobs::default(),
            http_url,
            https_url,
            jwt_key,
            tokens: Mutex::new(tokens),
            codes: Mutex::default(),
            devices: Mutex::default(),
            log: Mutex::default(),
            token_requests: AtomicUsize::new(0),
            grant_requests: Mutex::default(),
            api_usage: AtomicUsize::new(0),
            store: Mutex::new(Store::seeded(extra_accounts)),
            cursors: Mutex::default(),
            bulk: Mutex::default(),
        }
    }

    /// Mint and remember a new access token that no refresh token stands behind.
    pub(crate) fn issue_token(&self) -> String {
        self.issue_token_in(None)
    }

    /// Mint an access token in `family`, revoked with it.
    pub(crate) fn issue_token_in(&self, family: Option<Family>) -> String {
        let issued = self.knobs.now();
        lock(&self.tokens).issue_access(issued, self.knobs.epoch(), family)
    }

    /// A new refresh-token family and its first refresh token.
    pub(crate) fn new_refresh_family(&self) -> (String, Family) {
        lock(&self.tokens).new_family()
    }

    /// The refresh-token grant under the current rotation knob.
    pub(crate) fn redeem_refresh(&self, token: &str) -> Result<(Family, Option<String>), Refused> {
        let rotate = self.knobs.refresh_token_rotation();
        lock(&self.tokens).redeem(token, rotate)
    }

    /// Revoke an access token, or a refresh token with its family.
    pub(crate) fn revoke(&self, token: &str) -> bool {
        lock(&self.tokens).revoke(token)
    }

    pub(crate) fn refresh_token_reuses(&self) -> usize {
        lock(&self.tokens).reuses()
    }

    pub(crate) fn revocations(&self) -> usize {
        lock(&self.tokens).revocations()
    }

    pub(crate) fn session_valid(&self, token: &str) -> bool {
        if self.knobs.persistent_401() {
            return false;
        }
        let Some((issued, epoch)) = lock(&self.tokens).access(token) else {
            return false;
        };
        if epoch != self.knobs.epoch() {
            return false;
        }
        match self.knobs.token_lifetime() {
            Some(life) => self.knobs.now().saturating_duration_since(issued) < life,
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
            *lock(&self.grant_requests)
                .entry(grant_type(&r))
                .or_default() += 1;
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

    pub(crate) fn token_requests_for(&self, grant_type: &str) -> usize {
        lock(&self.grant_requests)
            .get(grant_type)
            .copied()
            .unwrap_or(0)
    }

    /// Count one REST call and return the running total.
    pub(crate) fn count_api_call(&self) -> usize {
        self.api_usage.fetch_add(1, Ordering::SeqCst) + 1
    }

    pub(crate) fn api_usage(&self) -> usize {
        self.api_usage.load(Ordering::SeqCst)
    }
}

/// A token request's `grant_type`, from the body or (as Zato sends it) the
/// query string; the body wins, as in the token handler.
fn grant_type(r: &LoggedRequest) -> String {
    let find = |raw: &[u8]| {
        form_urlencoded::parse(raw)
            .find(|(k, _)| k == "grant_type")
            .map(|(_, v)| v.into_owned())
    };
    find(&r.body)
        .or_else(|| r.query.as_deref().and_then(|q| find(q.as_bytes())))
        .unwrap_or_default()
}

pub(crate) const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

pub(crate) fn random_string(len: usize, alphabet: &[u8]) -> String {
    use rand::Rng;
    let mut rng = rand::thread_rng();
    (0..len)
        .map(|_| alphabet[rng.gen_range(0..alphabet.len())] as char)
        .collect()
}
