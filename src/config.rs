//! What `authenticate` is given, and its validation into settings.

#[allow(unused_imports)]
use crate::prelude::*;

use crate::error::Error;
use crate::retry::RetryPolicy;
use crate::secret::{Redactor, Secret};
use crate::urls;
use core::time::Duration;
use url::Url;

/// Spring '26: every org has served it since February 2026, and it is far
/// from the 31.0-40.0 deprecation; `use-newest-api-version` finds 68.0.
pub const DEFAULT_API_VERSION: &str = "66.0";
/// Default `timeout-ms`: connect, first-byte and between-bytes timeout of
/// each request.
pub const DEFAULT_TIMEOUT_MS: u32 = 10_000;
/// Default `max-response-bytes` (32 MiB).
pub const DEFAULT_MAX_RESPONSE_BYTES: u64 = 32 * 1024 * 1024;
/// The `max-response-bytes` a config may ask for (1 KiB to 1 GiB).
pub const MAX_RESPONSE_BYTES_RANGE: core::ops::RangeInclusive<u64> = 1024..=1024 * 1024 * 1024;
/// The `timeout-ms` a config may ask for (up to 10 minutes).
pub const TIMEOUT_MS_RANGE: core::ops::RangeInclusive<u32> = 1..=600_000;
/// Default `deadline-ms`: the longest one call may take in all.
pub const DEFAULT_DEADLINE_MS: u32 = 60_000;
/// The `deadline-ms` a config may ask for (up to an hour).
pub const DEADLINE_MS_RANGE: core::ops::RangeInclusive<u32> = 1..=3_600_000;
/// Versions up to 30.0 are retired (REST answers 410 GONE).
const OLDEST_API_MAJOR: u32 = 31;

/// Which OAuth flow `authenticate` runs, with the credentials it needs.
#[derive(Clone, Debug)]
pub enum Grant {
    /// Username + password (`grant_type=password`). Orgs created in Summer
    /// '23 or later block it unless an admin allows it; prefer
    /// [`Grant::JwtBearer`] or [`Grant::ClientCredentials`].
    Password {
        /// The Salesforce username.
        username: String,
        /// The user's password, without the security token.
        password: Secret,
        /// The user's security token, appended to the password when sent.
        security_token: Option<Secret>,
    },
    /// JWT bearer: an RS256 assertion signed here with the private key whose
    /// certificate is on the app. The usual choice for servers.
    JwtBearer {
        /// The username the token is issued for (the `sub` claim).
        username: String,
        /// PEM private key, PKCS#8 or PKCS#1.
        private_key_pem: Secret,
        /// The `aud` claim, the only one tried when given. When absent, the
        /// documented audience for the login URL, then (if that audience is
        /// refused) the My Domain URL.
        audience: Option<String>,
    },
    /// Client credentials: only on a My Domain login URL, with the client
    /// id and secret in the [`Config`].
    ClientCredentials {
        /// Send the client id and secret as an HTTP Basic header instead of
        /// in the form body.
        basic_auth: bool,
    },
    /// A refresh token. With rotation every use returns a new one in the
    /// session; an older one must never be sent again.
    RefreshToken {
        /// The refresh token to start from.
        refresh_token: Secret,
    },
    /// The second half of the web server flow: the code from the redirect,
    /// exchanged once (see [`crate::oauth::pkce`]).
    AuthorizationCode {
        /// The authorization code from the redirect.
        code: Secret,
        /// The redirect URI the code was issued for.
        redirect_uri: String,
        /// The PKCE verifier, when the authorize URL had a challenge.
        code_verifier: Option<Secret>,
    },
    /// An access token obtained elsewhere: no request is made, and the
    /// session cannot be renewed.
    AccessToken {
        /// The access token.
        access_token: Secret,
        /// The instance it belongs to, e.g. `https://acme.my.salesforce.com`.
        instance_url: String,
    },
}

impl Grant {
    /// The grant's name as the WIT spells it, e.g. `jwt-bearer`.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Password { .. } => "password",
            Self::JwtBearer { .. } => "jwt-bearer",
            Self::ClientCredentials { .. } => "client-credentials",
            Self::RefreshToken { .. } => "refresh-token",
            Self::AuthorizationCode { .. } => "authorization-code",
            Self::AccessToken { .. } => "access-token",
        }
    }
}

/// The configuration as the caller gave it. `Debug` is safe: every secret is
/// a [`Secret`].
#[derive(Clone, Debug)]
pub struct Config {
    /// Token host; default `https://login.salesforce.com`. A sandbox's
    /// `https://test.salesforce.com`, a My Domain, or an Experience Cloud
    /// site with its path. https only (http for loopback hosts).
    pub login_url: Option<String>,
    /// The consumer key of the connected app or External Client App.
    pub client_id: Option<String>,
    /// The consumer secret; also the key that verifies a token response's
    /// `signature`.
    pub client_secret: Option<Secret>,
    /// Which OAuth flow runs.
    pub grant: Grant,
    /// REST API version such as `66.0` (a leading `v` is accepted); default
    /// [`DEFAULT_API_VERSION`].
    pub api_version: Option<String>,
    /// Per-request timeout in milliseconds; default [`DEFAULT_TIMEOUT_MS`].
    pub timeout_ms: Option<u32>,
    /// The longest one call may take in all, in milliseconds; default
    /// [`DEFAULT_DEADLINE_MS`].
    pub deadline_ms: Option<u32>,
    /// Largest response body accepted, in bytes; default
    /// [`DEFAULT_MAX_RESPONSE_BYTES`].
    pub max_response_bytes: Option<u64>,
    /// Retrying of idempotent calls; default [`RetryPolicy::default`].
    pub retry: Option<RetryPolicy>,
    /// `host` or `host:port` entries trusted as `instance_url`.
    pub allowed_hosts: Vec<String>,
}

/// What every request of a session is held to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Connect, first-byte and between-bytes timeout of each request, in
    /// milliseconds.
    pub timeout_ms: u32,
    /// The whole call: every request, retry and body read.
    pub deadline_ms: u32,
    /// Largest response body accepted, in bytes.
    pub max_response_bytes: u64,
    /// How idempotent requests are retried.
    pub retry: RetryPolicy,
}

impl Limits {
    /// `timeout_ms` as a duration.
    pub fn timeout(&self) -> Duration {
        Duration::from_millis(self.timeout_ms.into())
    }
}

/// The validated parts every grant needs.
#[derive(Clone, Debug)]
pub struct Settings {
    /// The login URL, validated (a site keeps its path).
    pub login_url: Url,
    /// The consumer key, when given.
    pub client_id: Option<String>,
    /// The consumer secret, when given.
    pub client_secret: Option<Secret>,
    /// The normalized API version, e.g. `66.0`.
    pub api_version: String,
    /// What every request of the session is held to.
    pub limits: Limits,
    /// Where the token may go besides Salesforce's domains and the login host.
    pub allowed_hosts: Vec<String>,
}

impl Settings {
    /// The `instance_url` of a token response (or of access-token reuse),
    /// checked against where this configuration lets the token go.
    pub fn instance_url(&self, raw: &str) -> Result<Url, urls::InstanceProblem> {
        urls::parse_instance(raw, &self.login_url, &self.allowed_hosts)
    }

    /// The client id, or the config error a grant that needs it reports.
    pub fn client_id(&self) -> Result<&str, Error> {
        self.client_id.as_deref().ok_or_else(|| {
            Error::config(
                "client-id",
                "is required for this grant: the Consumer Key of the connected app or External Client App",
            )
        })
    }

    /// The client secret, or the config error a grant that needs it reports.
    pub fn client_secret(&self) -> Result<&Secret, Error> {
        self.client_secret.as_ref().ok_or_else(|| {
            Error::config(
                "client-secret",
                "is required for this grant: the Consumer Secret of the connected app or External Client App",
            )
        })
    }
}

/// `62.0`, `v62.0` and `62` all mean `62.0`.
pub fn normalize_api_version(raw: &str) -> Result<String, Error> {
    let v = raw.trim().trim_start_matches(['v', 'V']);
    let (major, minor) = v.split_once('.').unwrap_or((v, "0"));
    let valid = !major.is_empty()
        && major.len() <= 3
        && major.bytes().all(|b| b.is_ascii_digit())
        && minor.len() == 1
        && minor.bytes().all(|b| b.is_ascii_digit());
    if !valid {
        return Err(Error::config(
            "api-version",
            format!("`{raw}` is not an API version such as 62.0"),
        ));
    }
    let major_n: u32 = major.parse().unwrap_or(0);
    if major_n < OLDEST_API_MAJOR {
        return Err(Error::config(
            "api-version",
            format!("{major}.{minor} is retired by Salesforce; use {OLDEST_API_MAJOR}.0 or later (default {DEFAULT_API_VERSION})"),
        ));
    }
    Ok(format!("{major_n}.{minor}"))
}

fn non_empty(field: &str, value: &str, what: &str) -> Result<(), Error> {
    if value.trim().is_empty() {
        Err(Error::config(field, format!("is required: {what}")))
    } else {
        Ok(())
    }
}

fn trimmed(value: &Option<String>) -> Option<String> {
    value
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

impl Config {
    /// Validates everything that can be checked without the network.
    pub fn settings(&self) -> Result<Settings, Error> {
        let settings = self.base_settings()?;
        self.check_grant(&settings)?;
        Ok(settings)
    }

    /// The settings without the grant, for what runs no grant (the device
    /// flow, revocation).
    pub fn base_settings(&self) -> Result<Settings, Error> {
        let login_url = urls::parse_login(
            "login-url",
            self.login_url.as_deref().unwrap_or(urls::DEFAULT_LOGIN_URL),
        )?;
        let api_version = match &self.api_version {
            Some(v) if !v.trim().is_empty() => normalize_api_version(v)?,
            _ => DEFAULT_API_VERSION.to_string(),
        };
        let timeout_ms = self.timeout_ms.unwrap_or(DEFAULT_TIMEOUT_MS);
        if !TIMEOUT_MS_RANGE.contains(&timeout_ms) {
            return Err(Error::config(
                "timeout-ms",
                format!("{timeout_ms} is out of range; use 1 to 600000 milliseconds"),
            ));
        }
        let deadline_ms = self.deadline_ms.unwrap_or(DEFAULT_DEADLINE_MS);
        if !DEADLINE_MS_RANGE.contains(&deadline_ms) {
            return Err(Error::config(
                "deadline-ms",
                format!("{deadline_ms} is out of range; use 1 to 3600000 milliseconds (1 hour)"),
            ));
        }
        let max_response_bytes = self
            .max_response_bytes
            .unwrap_or(DEFAULT_MAX_RESPONSE_BYTES);
        if !MAX_RESPONSE_BYTES_RANGE.contains(&max_response_bytes) {
            return Err(Error::config(
                "max-response-bytes",
                format!("{max_response_bytes} is out of range; use 1024 to 1073741824 bytes"),
            ));
        }
        let retry = self.retry.unwrap_or_default().validate()?;
        let allowed_hosts = self
            .allowed_hosts
            .iter()
            .map(|h| urls::parse_allowed_host(h))
            .collect::<Result<_, _>>()?;
        let client_secret = self
            .client_secret
            .as_ref()
            .map(|s| Secret::new(s.expose().trim()))
            .filter(|s| !s.is_empty());
        Ok(Settings {
            login_url,
            client_id: trimmed(&self.client_id),
            client_secret,
            api_version,
            limits: Limits {
                timeout_ms,
                deadline_ms,
                max_response_bytes,
                retry,
            },
            allowed_hosts,
        })
    }

    fn check_grant(&self, s: &Settings) -> Result<(), Error> {
        match &self.grant {
            Grant::Password {
                username, password, ..
            } => {
                s.client_id()?;
                s.client_secret()?;
                non_empty("username", username, "the Salesforce username")?;
                if password.is_empty() {
                    return Err(Error::config("password", "is required"));
                }
            }
            Grant::JwtBearer {
                username,
                private_key_pem,
                audience,
            } => {
                s.client_id()?;
                non_empty(
                    "username",
                    username,
                    "the Salesforce username (the `sub` claim)",
                )?;
                crate::oauth::jwt::parse_key(private_key_pem)?;
                if let Some(aud) = audience.as_deref().filter(|a| !a.trim().is_empty()) {
                    urls::parse_base("audience", aud)?;
                }
            }
            Grant::ClientCredentials { .. } => {
                s.client_id()?;
                s.client_secret()?;
                if urls::is_generic_login_host(&s.login_url) {
                    return Err(Error::config(
                        "login-url",
                        "the client credentials flow works only on your org's My Domain \
                         (e.g. https://acme.my.salesforce.com), not login/test.salesforce.com",
                    ));
                }
            }
            Grant::RefreshToken { refresh_token } => {
                s.client_id()?;
                if refresh_token.is_empty() {
                    return Err(Error::config("refresh-token", "is required"));
                }
            }
            Grant::AuthorizationCode {
                code, redirect_uri, ..
            } => {
                s.client_id()?;
                if code.is_empty() {
                    return Err(Error::config(
                        "code",
                        "is required: the `code` from the redirect",
                    ));
                }
                non_empty(
                    "redirect-uri",
                    redirect_uri,
                    "the callback URL registered on the app",
                )?;
            }
            Grant::AccessToken {
                access_token,
                instance_url,
            } => {
                if access_token.is_empty() {
                    return Err(Error::config("access-token", "is required"));
                }
                urls::parse_base("instance-url", instance_url)?;
            }
        }
        Ok(())
    }

    /// Every secret in this config, for scrubbing server text.
    pub fn redactor(&self) -> Redactor {
        let mut r = Redactor::new();
        if let Some(s) = &self.client_secret {
            r.add(s);
        }
        match &self.grant {
            Grant::Password {
                password,
                security_token,
                ..
            } => {
                r.add(password);
                if let Some(t) = security_token {
                    r.add(t);
                    r.add(&Secret::new(format!("{}{}", password.expose(), t.expose())));
                }
            }
            Grant::JwtBearer {
                private_key_pem, ..
            } => r.add(private_key_pem),
            Grant::RefreshToken { refresh_token } => r.add(refresh_token),
            Grant::AuthorizationCode {
                code,
                code_verifier,
                ..
            } => {
                r.add(code);
                if let Some(v) = code_verifier {
                    r.add(v);
                }
            }
            Grant::AccessToken { access_token, .. } => r.add(access_token),
            Grant::ClientCredentials { .. } => {}
        }
        r
    }
}

/// A config for unit tests: client id `id`, no secret, defaults elsewhere.
#[cfg(test)]
pub(crate) fn fixture(login: &str, grant: Grant) -> Config {
    Config {
        login_url: Some(login.into()),
        client_id: Some("id".into()),
        client_secret: None,
        grant,
        api_version: None,
        timeout_ms: None,
        deadline_ms: None,
        max_response_bytes: None,
        retry: None,
        allowed_hosts: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_versions() {
        assert_eq!(normalize_api_version("62.0").unwrap(), "62.0");
        assert_eq!(normalize_api_version("v59.0").unwrap(), "59.0");
        assert_eq!(normalize_api_version("64").unwrap(), "64.0");
        assert!(normalize_api_version("29.0").is_err());
        assert!(normalize_api_version("sixty").is_err());
        assert!(normalize_api_version("62.0.1").is_err());
    }

    fn cc(login: &str) -> Config {
        Config {
            client_secret: Some(Secret::new("sec")),
            ..fixture(login, Grant::ClientCredentials { basic_auth: false })
        }
    }

    #[test]
    fn client_credentials_needs_my_domain() {
        let err = cc("https://login.salesforce.com").settings().unwrap_err();
        assert!(
            matches!(err, Error::InvalidConfig { ref field, .. } if field == "login-url"),
            "{err}"
        );
        assert!(cc("https://acme.my.salesforce.com").settings().is_ok());
    }

    #[test]
    fn missing_fields_name_the_field() {
        let mut c = cc("https://acme.my.salesforce.com");
        c.client_id = Some("  ".into());
        let err = c.settings().unwrap_err();
        assert!(
            matches!(err, Error::InvalidConfig { ref field, .. } if field == "client-id"),
            "{err}"
        );
        let mut c = cc("https://acme.my.salesforce.com");
        c.timeout_ms = Some(0);
        assert!(c.settings().is_err());
    }

    #[test]
    fn debug_has_no_secrets() {
        let c = Config {
            grant: Grant::Password {
                username: "u@x.com".into(),
                password: Secret::new("pw-SECRET-1"),
                security_token: Some(Secret::new("tok-SECRET-2")),
            },
            ..cc("https://acme.my.salesforce.com")
        };
        let dbg = format!("{c:?}");
        assert!(!dbg.contains("SECRET"), "{dbg}");
    }
}
