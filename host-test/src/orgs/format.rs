//! What an org file holds, and how it becomes options and a session again.

use crate::cli::{Connection, GrantKind};
use salesforce_host::{wit, HostError};
use serde::{Deserialize, Serialize};
use std::fs;
use std::path::PathBuf;

/// One org file. Never `Debug`: it holds tokens. Secrets are left out when
/// there are none, so that a file without one does not even name it.
#[derive(Serialize, Deserialize, Clone)]
pub struct StoredOrg {
    pub login_url: Option<String>,
    pub client_id: Option<String>,
    pub username: Option<String>,
    pub instance_url: String,
    pub api_version: Option<String>,
    pub grant: GrantKind,
    /// The newest refresh token, replaced whenever a renewal rotates it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    /// Read again whenever the JWT grant runs; the key is never copied here.
    pub private_key_file: Option<PathBuf>,
    pub audience: Option<String>,
    /// Only with `login --save-secret`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
    pub session: Option<StoredSession>,
}

/// A session without what the org holds once: its instance URL and refresh token.
#[derive(Serialize, Deserialize, Clone)]
pub struct StoredSession {
    access_token: String,
    identity_url: Option<String>,
    org_id: Option<String>,
    user_id: Option<String>,
    token_type: String,
    issued_at: Option<u64>,
    scope: Option<String>,
    api_version: String,
    signature_verified: bool,
    timeout_ms: u32,
    /// Absent in files written before it existed.
    #[serde(default = "default_deadline_ms")]
    deadline_ms: u32,
    max_response_bytes: u64,
    retry: StoredRetry,
}

#[derive(Serialize, Deserialize, Clone, Copy)]
struct StoredRetry {
    max_retries: u32,
    initial_backoff_ms: u32,
    max_backoff_ms: u32,
}

impl StoredOrg {
    /// The org a login with `conn` and `config` describes, before its first
    /// session; `grant` is what renews it.
    pub fn new(
        conn: &Connection,
        config: &wit::Config,
        grant: GrantKind,
        save_secret: bool,
    ) -> Self {
        let key = conn
            .private_key
            .as_ref()
            .filter(|_| grant == GrantKind::Jwt);
        Self {
            login_url: config.login_url.clone(),
            client_id: config.client_id.clone(),
            username: grant_username(&config.grant),
            instance_url: String::new(),
            api_version: config.api_version.clone(),
            grant,
            refresh_token: None,
            // Absolute, so that `--org` works from any directory.
            private_key_file: key.map(|k| fs::canonicalize(k).unwrap_or_else(|_| k.clone())),
            audience: conn.audience.clone().filter(|_| grant == GrantKind::Jwt),
            client_secret: config.client_secret.clone().filter(|_| save_secret),
            session: None,
        }
    }

    /// Keeps `session` and the newest refresh token: the session's, or the
    /// stored one when the grant returns none (JWT, password).
    pub fn record(&mut self, session: &wit::Session) {
        self.instance_url = session.instance_url.clone();
        if let Some(token) = &session.refresh_token {
            self.refresh_token = Some(token.clone());
        }
        self.api_version
            .get_or_insert_with(|| session.api_version.clone());
        self.session = Some(StoredSession {
            access_token: session.access_token.clone(),
            identity_url: session.identity_url.clone(),
            org_id: session.org_id.clone(),
            user_id: session.user_id.clone(),
            token_type: session.token_type.clone(),
            issued_at: session.issued_at,
            scope: session.scope.clone(),
            api_version: session.api_version.clone(),
            signature_verified: session.signature_verified,
            timeout_ms: session.timeout_ms,
            deadline_ms: session.deadline_ms,
            max_response_bytes: session.max_response_bytes,
            retry: StoredRetry {
                max_retries: session.retry.max_retries,
                initial_backoff_ms: session.retry.initial_backoff_ms,
                max_backoff_ms: session.retry.max_backoff_ms,
            },
        });
    }

    /// `given` with every option it leaves out taken from this org.
    pub fn options(&self, given: &Connection) -> Result<Connection, HostError> {
        if given.sfdx_url.is_some() {
            return Err(HostError::Usage(
                "--sfdx-url (SF_AUTH_URL) names an org of its own: use it without --org, or \
                 store it with `sf-host login --alias NAME --sfdx-url URL`"
                    .into(),
            ));
        }
        let mut c = given.clone();
        let fill = |slot: &mut Option<String>, stored: &Option<String>| {
            if slot.is_none() {
                slot.clone_from(stored);
            }
        };
        c.grant = c.grant.or(Some(self.grant));
        fill(&mut c.login_url, &self.login_url);
        fill(&mut c.client_id, &self.client_id);
        fill(&mut c.client_secret, &self.client_secret);
        fill(&mut c.username, &self.username);
        fill(&mut c.refresh_token, &self.refresh_token);
        fill(&mut c.audience, &self.audience);
        fill(&mut c.api_version, &self.api_version);
        if c.private_key.is_none() {
            c.private_key.clone_from(&self.private_key_file);
        }
        if self.grant == GrantKind::AccessToken {
            let token = self.session.as_ref().map(|s| s.access_token.clone());
            fill(&mut c.access_token, &token);
            fill(&mut c.instance_url, &Some(self.instance_url.clone()));
        }
        Ok(c)
    }

    /// The stored session, if `conn` (this org's options merged with the
    /// given ones) still names the grant and refresh token it came from;
    /// limits given now replace the stored ones.
    pub fn session_for(&self, conn: &Connection) -> Option<wit::Session> {
        let same_grant = conn.grant == Some(self.grant)
            && (self.grant != GrantKind::RefreshToken || conn.refresh_token == self.refresh_token);
        same_grant.then(|| self.stored_session(conn)).flatten()
    }

    /// The stored session whatever `conn` names, with the limits it gives.
    pub fn stored_session(&self, conn: &Connection) -> Option<wit::Session> {
        let stored = self.session.as_ref()?;
        let r = stored.retry;
        Some(wit::Session {
            access_token: stored.access_token.clone(),
            instance_url: self.instance_url.clone(),
            identity_url: stored.identity_url.clone(),
            org_id: stored.org_id.clone(),
            user_id: stored.user_id.clone(),
            token_type: stored.token_type.clone(),
            issued_at: stored.issued_at,
            scope: stored.scope.clone(),
            refresh_token: self.refresh_token.clone(),
            api_version: stored.api_version.clone(),
            signature_verified: stored.signature_verified,
            timeout_ms: conn.timeout_ms.unwrap_or(stored.timeout_ms),
            deadline_ms: conn.deadline_ms.unwrap_or(stored.deadline_ms),
            max_response_bytes: conn.max_response_bytes.unwrap_or(stored.max_response_bytes),
            retry: wit::RetryPolicy {
                max_retries: conn.retries.unwrap_or(r.max_retries),
                initial_backoff_ms: r.initial_backoff_ms,
                max_backoff_ms: r.max_backoff_ms,
            },
        })
    }
}

/// The username a grant logs in as, when it names one.
fn grant_username(grant: &wit::Grant) -> Option<String> {
    match grant {
        wit::Grant::Password(g) => Some(g.username.clone()),
        wit::Grant::JwtBearer(g) => Some(g.username.clone()),
        _ => None,
    }
}

/// The component's default whole-call deadline.
fn default_deadline_ms() -> u32 {
    60_000
}
