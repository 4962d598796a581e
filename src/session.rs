//! An authenticated session.

#[allow(unused_imports)]
use crate::prelude::*;

use crate::config::Limits;
use crate::secret::Secret;
use url::Url;

/// What `authenticate` returns and `call` takes. `Debug` is safe.
#[derive(Clone, Debug)]
pub struct Session {
    pub access_token: Secret,
    /// Origin only (empty path).
    pub instance_url: Url,
    pub identity_url: Option<String>,
    pub org_id: Option<String>,
    pub user_id: Option<String>,
    pub token_type: String,
    /// Milliseconds since the Unix epoch.
    pub issued_at: Option<u64>,
    pub scope: Option<String>,
    pub refresh_token: Option<Secret>,
    pub api_version: String,
    pub signature_verified: bool,
    pub limits: Limits,
}

impl Session {
    /// `/services/data/v62.0`
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
