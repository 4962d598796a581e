//! A client for one org: holds the config and the session, renews it once
//! when it expires (through the component's `renew`, keeping the rotated
//! refresh token it returns), and never logs in per call.

use crate::bindings::{ops, tools, wit};
use crate::connector::Connector;
use crate::egress::{Egress, Policy};
use crate::error::HostError;
use crate::send::Sender;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// The component's default `max-response-bytes` (32 MiB).
const DEFAULT_MAX_RESPONSE_BYTES: u64 = 32 << 20;
/// The component's default `deadline-ms`.
const DEFAULT_DEADLINE_MS: u32 = 60_000;
/// How long past the component's own deadline the host waits before it
/// stops the call itself.
const DEADLINE_MARGIN: std::time::Duration = std::time::Duration::from_secs(5);

/// Runs one export with the current session in a fresh instance. On
/// `session-expired` it renews once and runs it once more; a second expiry
/// is returned, never looped on. `session-refused` is returned as it is: a
/// new login would get the same refusal.
macro_rules! with_session {
    ($self:ident, $name:literal ( $($arg:expr),* )) => {{
        let mut renewed = false;
        loop {
            let session = $self.session().await?.clone();
            let mut instance = $self.instance().await?;
            let (result,) = instance.call($name, (&session, $($arg,)*)).await?;
            match result {
                Err(wit::Error::SessionExpired(_))
                    if !renewed && $self.renews_itself && $self.can_reauthenticate() =>
                {
                    renewed = true;
                    $self.renew().await?;
                }
                other => break other.map_err(HostError::from),
            }
        }
    }};
}

mod bulk;
mod files;

pub use files::{Downloaded, FileField, Progress};

/// Called with every session the client starts keeping (a login or a
/// renewal), so a host can store it; with refresh-token rotation the stored
/// refresh token must be replaced before it is needed again.
pub type SessionHook = Arc<dyn Fn(&wit::Session) + Send + Sync>;

/// Host-side settings that are not part of the component's config.
#[derive(Clone, Default)]
pub struct ClientOptions {
    /// PEM CA certificates to trust besides the web roots (the mock's CA).
    pub extra_ca_pem: Option<String>,
    /// Origins the guest may reach besides the login and instance hosts.
    pub allow_origins: Vec<String>,
    /// Log every request (method, URL, status, size, time; never headers or
    /// bodies).
    pub log: Option<crate::egress::RequestLog>,
    /// Told of every new session (see [`SessionHook`]).
    pub on_session: Option<SessionHook>,
    /// `host:port` names to connect to at a fixed address instead of
    /// resolving them (curl's `--resolve`).
    pub resolve: std::collections::HashMap<String, std::net::SocketAddr>,
    /// The longest one call may run before the host stops it (default: the
    /// config's `deadline-ms` plus 5 s, so the component's own deadline,
    /// with its clearer message, normally ends it first).
    pub deadline: Option<std::time::Duration>,
    /// Cap on an instance's linear memory, in bytes (default: four times
    /// the config's `max-response-bytes` plus 64 MiB).
    pub max_memory: Option<usize>,
}

pub struct Client {
    connector: Arc<Connector>,
    config: wit::Config,
    policy: Arc<Policy>,
    sender: Sender,
    session: Option<wit::Session>,
    logins: usize,
    denied: Arc<AtomicUsize>,
    log: Option<crate::egress::RequestLog>,
    on_session: Option<SessionHook>,
    deadline: Option<std::time::Duration>,
    max_memory: Option<usize>,
    /// Off in a [`Client::fork`]: its owner decides who renews.
    renews_itself: bool,
}

impl std::fmt::Debug for ClientOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientOptions")
            .field("extra_ca_pem", &self.extra_ca_pem.is_some())
            .field("allow_origins", &self.allow_origins)
            .field("log", &self.log.is_some())
            .field("on_session", &self.on_session.is_some())
            .field("resolve", &self.resolve)
            .field("deadline", &self.deadline)
            .field("max_memory", &self.max_memory)
            .finish()
    }
}

/// Never prints the config or session: both hold secrets.
impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("component", &self.connector.path())
            .field("allowed_origins", &self.policy.origins())
            .field("authenticated", &self.session.is_some())
            .field("logins", &self.logins)
            .finish_non_exhaustive()
    }
}

fn login_origin(config: &wit::Config) -> Option<&str> {
    match &config.grant {
        wit::Grant::AccessToken(g) => Some(g.instance_url.as_str()),
        _ => Some(
            config
                .login_url
                .as_deref()
                .unwrap_or("https://login.salesforce.com"),
        ),
    }
}

impl Client {
    pub fn new(
        connector: Arc<Connector>,
        config: wit::Config,
        options: ClientOptions,
    ) -> Result<Self, HostError> {
        let sender = Sender::new(options.extra_ca_pem.as_deref())
            .map_err(HostError::Usage)?
            .with_resolve(options.resolve);
        let policy = Arc::new(Policy::default());
        if let Some(o) = login_origin(&config) {
            policy.allow(o);
        }
        for o in &options.allow_origins {
            policy.allow(o);
        }
        Ok(Self {
            connector,
            config,
            policy,
            sender,
            session: None,
            logins: 0,
            denied: Arc::default(),
            log: options.log,
            on_session: options.on_session,
            deadline: options.deadline,
            max_memory: options.max_memory,
            renews_itself: true,
        })
    }

    /// A client for the same org that shares this one's connection pool,
    /// egress policy and request log, with no session of its own and no
    /// renewal: `session-expired` comes back to the caller. This is how one
    /// org's calls run side by side when something else (a store shared by
    /// several processes) decides which session they use and who renews it.
    pub fn fork(&self) -> Client {
        Client {
            connector: self.connector.clone(),
            config: self.config.clone(),
            policy: self.policy.clone(),
            sender: self.sender.clone(),
            session: None,
            logins: 0,
            denied: self.denied.clone(),
            log: self.log.clone(),
            on_session: None,
            deadline: self.deadline,
            max_memory: self.max_memory,
            renews_itself: false,
        }
    }

    /// A fresh instance for one call, held to this client's guards: a
    /// deadline, and memory sized for its `max-response-bytes`.
    async fn instance(&self) -> Result<crate::connector::Instance<'_>, HostError> {
        let max_response = self
            .config
            .max_response_bytes
            .unwrap_or(DEFAULT_MAX_RESPONSE_BYTES);
        let deadline = self.deadline.unwrap_or_else(|| {
            let ms = self.config.deadline_ms.unwrap_or(DEFAULT_DEADLINE_MS);
            std::time::Duration::from_millis(ms.into()) + DEADLINE_MARGIN
        });
        let mut guards = crate::Guards::for_response_limit(max_response, deadline);
        if let Some(max) = self.max_memory {
            guards.max_memory = max;
        }
        self.connector
            .instantiate_guarded(self.egress(), guards)
            .await
    }

    fn egress(&self) -> Egress {
        Egress {
            policy: self.policy.clone(),
            sender: self.sender.clone(),
            denied: self.denied.clone(),
            log: self.log.clone(),
        }
    }

    /// Keep-alive connections idle in this client's pool.
    pub fn idle_connections(&self) -> usize {
        self.sender.idle_connections()
    }

    /// How many times `authenticate` ran the OAuth flow.
    pub fn logins(&self) -> usize {
        self.logins
    }

    /// How many requests the egress policy refused.
    pub fn denied_requests(&self) -> usize {
        self.denied.load(Ordering::Relaxed)
    }

    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    pub fn can_reauthenticate(&self) -> bool {
        !matches!(self.config.grant, wit::Grant::AccessToken(_))
    }

    /// Runs the OAuth flow now and keeps the session.
    pub async fn authenticate(&mut self) -> Result<&wit::Session, HostError> {
        self.logins += 1;
        let mut instance = self.instance().await?;
        let (result,): (Result<wit::Session, wit::Error>,) =
            instance.call("authenticate", (&self.config,)).await?;
        let session = result?;
        Ok(self.keep(session))
    }

    /// Renews the session now through the component's `renew` (the newest
    /// refresh token it holds, or the configured grant again) and keeps what
    /// it returns; with no session yet, logs in.
    pub async fn renew(&mut self) -> Result<&wit::Session, HostError> {
        let Some(current) = self.session.clone() else {
            return self.authenticate().await;
        };
        self.logins += 1;
        let mut instance = self.instance().await?;
        let (result,): (Result<wit::Session, wit::Error>,) =
            instance.call("renew", (&self.config, &current)).await?;
        let session = result?;
        Ok(self.keep(session))
    }

    /// Revokes the session at Salesforce (its refresh token when it has
    /// one) and forgets it.
    pub async fn revoke(&mut self) -> Result<(), HostError> {
        let Some(current) = self.session.take() else {
            return Ok(());
        };
        let mut instance = self.instance().await?;
        let (result,): (Result<(), wit::Error>,) =
            instance.call("revoke", (&self.config, &current)).await?;
        result.map_err(HostError::from)
    }

    /// Logs in with the device flow: `show` gets the code and URL to give
    /// the person, then the client polls (at the server's interval, longer
    /// after `slow-down`) until they approve, deny, or the code expires, and
    /// keeps the session. Gives up after `deadline` in any case.
    pub async fn device_login(
        &mut self,
        scope: Option<&str>,
        deadline: std::time::Duration,
        show: impl FnOnce(&wit::DeviceAuthorization),
    ) -> Result<&wit::Session, HostError> {
        let started = std::time::Instant::now();
        let mut instance = self.instance().await?;
        let (result,): (Result<wit::DeviceAuthorization, wit::Error>,) =
            instance.call("device-start", (&self.config, scope)).await?;
        let mut device = result?;
        show(&device);
        loop {
            let wait = std::time::Duration::from_secs(device.interval_seconds.into());
            if started.elapsed() + wait > deadline {
                return Err(HostError::Usage(format!(
                    "the device login was not approved within {} s; start it again",
                    deadline.as_secs()
                )));
            }
            tokio::time::sleep(wait).await;
            let mut instance = self.instance().await?;
            let (result,): (Result<wit::DeviceStatus, wit::Error>,) = instance
                .call("device-poll", (&self.config, &device))
                .await?;
            match result? {
                wit::DeviceStatus::Pending(_) => {}
                wit::DeviceStatus::SlowDown(interval) => device.interval_seconds = interval,
                wit::DeviceStatus::Authorized(session) => {
                    self.logins += 1;
                    return Ok(self.keep(session));
                }
            }
        }
    }

    /// The component config this client runs with.
    pub fn config(&self) -> &wit::Config {
        &self.config
    }

    /// The session kept now, if any.
    pub fn current_session(&self) -> Option<&wit::Session> {
        self.session.as_ref()
    }

    /// Resumes a session stored earlier (a platform keeping it between runs),
    /// without a login. Its instance is trusted by the same rule as a fresh
    /// session's, so an edited `instance-url` gets `denied`, not the token.
    pub fn restore_session(&mut self, session: wit::Session) {
        self.trust(&session);
        self.session = Some(session);
    }

    fn keep(&mut self, session: wit::Session) -> &wit::Session {
        self.trust(&session);
        if let Some(hook) = &self.on_session {
            hook(&session);
        }
        self.session.insert(session)
    }

    fn trust(&self, session: &wit::Session) {
        // The login host chose the instance; trust it only on a Salesforce
        // domain, the login origin or an allowed host. Anything else stays
        // denied, so the guest's calls fail with `denied` instead of carrying
        // the token away.
        let allowed = self.config.allowed_hosts.as_deref().unwrap_or_default();
        if crate::egress::is_trusted_instance(
            &session.instance_url,
            login_origin(&self.config),
            allowed,
        ) {
            self.policy.allow(&session.instance_url);
        }
    }

    /// The current session, authenticating first if there is none.
    pub async fn session(&mut self) -> Result<&wit::Session, HostError> {
        if self.session.is_none() {
            self.authenticate().await?;
        }
        Ok(self.session.as_ref().expect("set above"))
    }

    /// One REST call. On `session-expired` it re-authenticates once and
    /// retries once; a second expiry is returned, never looped on.
    pub async fn call(&mut self, request: &wit::Request) -> Result<wit::Response, HostError> {
        with_session!(self, "call"(request))
    }

    /// The first page of a SOQL query.
    pub async fn query(
        &mut self,
        soql: &str,
        options: ops::QueryOptions,
    ) -> Result<ops::QueryPage, HostError> {
        with_session!(self, "query"(soql, options))
    }

    /// The page after `next` (a `nextRecordsUrl` or a locator).
    pub async fn query_more(
        &mut self,
        next: &str,
        options: ops::QueryOptions,
    ) -> Result<ops::QueryPage, HostError> {
        with_session!(self, "query-more"(next, options))
    }

    /// Every page up to `max_records`; `truncated` says when the cap stopped it.
    pub async fn query_all_pages(
        &mut self,
        soql: &str,
        options: ops::QueryOptions,
        max_records: Option<u64>,
    ) -> Result<ops::QueryResult, HostError> {
        with_session!(self, "query-all-pages"(soql, options, max_records))
    }

    pub async fn search(&mut self, sosl: &str) -> Result<ops::JsonResponse, HostError> {
        with_session!(self, "search"(sosl))
    }

    pub async fn get_record(
        &mut self,
        sobject: &str,
        id: &str,
        fields: &[String],
    ) -> Result<ops::JsonResponse, HostError> {
        with_session!(self, "get-record"(sobject, id, fields))
    }

    pub async fn get_record_by_external_id(
        &mut self,
        sobject: &str,
        field: &str,
        value: &str,
        fields: &[String],
    ) -> Result<ops::JsonResponse, HostError> {
        with_session!(
            self,
            "get-record-by-external-id"(sobject, field, value, fields)
        )
    }

    pub async fn create_record(
        &mut self,
        sobject: &str,
        fields_json: &str,
    ) -> Result<ops::CreatedRecord, HostError> {
        with_session!(self, "create-record"(sobject, fields_json))
    }

    pub async fn update_record(
        &mut self,
        sobject: &str,
        id: &str,
        fields_json: &str,
    ) -> Result<Option<wit::LimitInfo>, HostError> {
        with_session!(self, "update-record"(sobject, id, fields_json))
    }

    pub async fn delete_record(
        &mut self,
        sobject: &str,
        id: &str,
    ) -> Result<Option<wit::LimitInfo>, HostError> {
        with_session!(self, "delete-record"(sobject, id))
    }

    pub async fn upsert_record(
        &mut self,
        sobject: &str,
        field: &str,
        value: &str,
        fields_json: &str,
    ) -> Result<ops::UpsertOutcome, HostError> {
        with_session!(self, "upsert-record"(sobject, field, value, fields_json))
    }

    pub async fn describe_global(&mut self) -> Result<ops::JsonResponse, HostError> {
        with_session!(self, "describe-global"())
    }

    pub async fn describe_sobject(
        &mut self,
        sobject: &str,
    ) -> Result<ops::JsonResponse, HostError> {
        with_session!(self, "describe-sobject"(sobject))
    }

    pub async fn limits(&mut self) -> Result<ops::JsonResponse, HostError> {
        with_session!(self, "limits"())
    }

    pub async fn userinfo(&mut self) -> Result<ops::JsonResponse, HostError> {
        with_session!(self, "userinfo"())
    }

    pub async fn api_versions(&mut self) -> Result<Vec<ops::ApiVersion>, HostError> {
        with_session!(self, "api-versions"())
    }

    pub async fn create_records(
        &mut self,
        sobject: &str,
        records_json: &str,
        all_or_none: bool,
    ) -> Result<ops::BatchResult, HostError> {
        with_session!(self, "create-records"(sobject, records_json, all_or_none))
    }

    pub async fn update_records(
        &mut self,
        sobject: &str,
        records_json: &str,
        all_or_none: bool,
    ) -> Result<ops::BatchResult, HostError> {
        with_session!(self, "update-records"(sobject, records_json, all_or_none))
    }

    pub async fn upsert_records(
        &mut self,
        sobject: &str,
        external_id_field: &str,
        records_json: &str,
        all_or_none: bool,
    ) -> Result<ops::BatchResult, HostError> {
        with_session!(
            self,
            "upsert-records"(sobject, external_id_field, records_json, all_or_none)
        )
    }

    pub async fn delete_records(
        &mut self,
        ids: &[String],
        all_or_none: bool,
    ) -> Result<ops::BatchResult, HostError> {
        with_session!(self, "delete-records"(ids, all_or_none))
    }

    pub async fn composite(
        &mut self,
        all_or_none: bool,
        requests: &[ops::Subrequest],
    ) -> Result<ops::CompositeResult, HostError> {
        with_session!(self, "composite"(all_or_none, requests))
    }

    /// Reads records of one object by id (sObject Collections retrieve):
    /// one slot per id, in order, none for an id that found nothing.
    pub async fn retrieve_records(
        &mut self,
        sobject: &str,
        ids: &[String],
        fields: &[String],
    ) -> Result<ops::RetrievedRecords, HostError> {
        with_session!(self, "retrieve-records"(sobject, ids, fields))
    }

    /// Runs graphs of record operations (Composite Graph), each its own
    /// transaction.
    pub async fn composite_graph(
        &mut self,
        graphs: &[ops::Graph],
    ) -> Result<ops::GraphResult, HostError> {
        with_session!(self, "composite-graph"(graphs))
    }

    /// Creates records with their children in one all-or-nothing call
    /// (sObject Tree).
    pub async fn create_record_tree(
        &mut self,
        sobject: &str,
        records_json: &str,
    ) -> Result<ops::TreeResult, HostError> {
        with_session!(self, "create-record-tree"(sobject, records_json))
    }

    /// Runs one tool of the catalog with the session.
    pub async fn invoke(&mut self, name: &str, arguments_json: &str) -> Result<String, HostError> {
        with_session!(self, "invoke"(name, arguments_json))
    }

    /// Runs one tool within the owner's guardrails (read-only, allowed
    /// objects, rows per call), enforced by the component.
    pub async fn invoke_within(
        &mut self,
        guardrails: &tools::Guardrails,
        name: &str,
        arguments_json: &str,
    ) -> Result<String, HostError> {
        with_session!(self, "invoke-within"(guardrails, name, arguments_json))
    }

    /// The tool catalog (no session needed).
    pub async fn tools(&self) -> Result<Vec<tools::Tool>, HostError> {
        let mut instance = self.instance().await?;
        let (tools,) = instance.call("tools", ()).await?;
        Ok(tools)
    }

    /// Switches the session to the newest API version the org serves.
    pub async fn use_newest_api_version(&mut self) -> Result<&wit::Session, HostError> {
        let upgraded: wit::Session = with_session!(self, "use-newest-api-version"())?;
        Ok(self.keep(upgraded))
    }

    pub async fn authorize_url(
        &self,
        request: &wit::AuthorizeRequest,
    ) -> Result<wit::AuthorizeStart, HostError> {
        let mut instance = self.instance().await?;
        let (result,): (Result<wit::AuthorizeStart, wit::Error>,) =
            instance.call("authorize-url", (request,)).await?;
        result.map_err(HostError::from)
    }
}

/// Parses an SFDX auth URL with the component.
pub async fn parse_sfdx_url(connector: &Connector, url: &str) -> Result<wit::Config, HostError> {
    let egress = Egress {
        policy: Arc::default(),
        sender: Sender::new(None).map_err(HostError::Usage)?,
        denied: Arc::default(),
        log: None,
    };
    let mut instance = connector.instantiate(egress).await?;
    let (result,): (Result<wit::Config, wit::Error>,) =
        instance.call("parse-sfdx-url", (url,)).await?;
    result.map_err(HostError::from)
}

/// A GET request with no query, headers or body.
pub fn get(path: impl Into<String>) -> wit::Request {
    wit::Request {
        method: wit::Method::Get,
        path: path.into(),
        query: Vec::new(),
        headers: Vec::new(),
        body: None,
    }
}

/// Query options as the API's defaults: `/query` (no deleted rows), the
/// server's page size, child subqueries as sent. Change a field with
/// `ops::QueryOptions { batch_size: Some(200), ..PLAIN_QUERY }`.
pub const PLAIN_QUERY: ops::QueryOptions = ops::QueryOptions {
    include_deleted: false,
    batch_size: None,
    follow_children: false,
};

/// The component's default retry policy (3 retries, 250 ms doubling, 10 s
/// longest wait), for callers that change one field.
pub fn default_retry() -> wit::RetryPolicy {
    wit::RetryPolicy {
        max_retries: 3,
        initial_backoff_ms: 250,
        max_backoff_ms: 10_000,
    }
}
