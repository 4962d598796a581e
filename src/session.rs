//! An authenticated session.

#[allow(unused_imports)]
use crate::prelude::*;

use crate::config::Limits;
use crate::secret::Secret;
use url::Url;

/// What `authenticate` returns and `call` takes. `Debug` is safe.
#[derive(Clone, Debug)]
pub struct Session {
    /// The bearer token every REST call sends.
    pub access_token: Secret,
    /// Where REST calls go. Origin only (empty path).
    pub instance_url: Url,
    /// The identity URL (`id`), e.g.
    /// `https://login.salesforce.com/id/00D.../005...`.
    pub identity_url: Option<String>,
    /// The 18-character org id parsed from the identity URL.
    pub org_id: Option<String>,
    /// The 18-character user id parsed from the identity URL.
    pub user_id: Option<String>,
    /// The token type the server named; `Bearer` when it names none.
    pub token_type: String,
    /// When the token was issued: milliseconds since the Unix epoch.
    pub issued_at: Option<u64>,
    /// The scopes granted, space-separated, when the server says.
    pub scope: Option<String>,
    /// The newest refresh token; never send an older one again (with
    /// rotation Salesforce then revokes them all).
    pub refresh_token: Option<Secret>,
    /// The API version of `/services/data/vNN.N` paths, e.g. `66.0`.
    pub api_version: String,
    /// True when the token response's `signature` was present and checked
    /// against the client secret; a mismatch is an error, never `false`.
    pub signature_verified: bool,
    /// What every request of the session is held to.
    pub limits: Limits,
}

impl Session {
    /// The REST data path for the session's API version, e.g.
    /// `/services/data/v62.0`.
    pub fn data_path(&self) -> String {
        format!("/services/data/v{}", self.api_version)
    }
}

/// A session for unit tests: `https://acme.my.salesforce.com`, API 62.0.
#[cfg(test)]
pub(crate) fn fixture() -> Session {
    Session {
        access_token: Secret::new("00Dx!token-secret"),
        instance_url: Url::parse("https://acme.my.salesforce.com").expect("valid"),
        identity_url: None,
        org_id: None,
        user_id: None,
        token_type: "Bearer".into(),
        issued_at: None,
        scope: None,
        refresh_token: None,
        api_version: "62.0".into(),
        signature_verified: false,
        limits: Limits {
            timeout_ms: 1000,
            deadline_ms: 60_000,
            max_response_bytes: 1 << 20,
            retry: crate::retry::RetryPolicy::default(),
        },
    }
}
