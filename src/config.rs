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
pub const DEFAULT_TIMEOUT_MS: u32 = 10_000;
pub const DEFAULT_MAX_RESPONSE_BYTES: u64 = 32 * 1024 * 1024;
pub const MAX_RESPONSE_BYTES_RANGE: core::ops::RangeInclusive<u64> = 1024..=1024 * 1024 * 1024;
pub const TIMEOUT_MS_RANGE: core::ops::RangeInclusive<u32> = 1..=600_000;
pub const DEFAULT_DEADLINE_MS: u32 = 60_000;
pub const DEADLINE_MS_RANGE: core::ops::RangeInclusive<u32> = 1..=3_600_000;
/// Versions up to 30.0 are retired (REST answers 410 GONE).
const OLDEST_API_MAJOR: u32 = 31;

#[derive(Clone, Debug)]
pub enum Grant {
    Password {
        username: String,
        password: Secret,
        security_token: Option<Secret>,
    },
    JwtBearer {
        username: String,
        private_key_pem: Secret,
        audience: Option<String>,
    },
    ClientCredentials {
        basic_auth: bool,
    },
    RefreshToken {
        refresh_token: Secret,
    },
    AuthorizationCode {
        code: Secret,
        redirect_uri: String,
        code_verifier: Option<Secret>,
    },
    AccessToken {
        access_token: Secret,
        instance_url: String,
    },
}

impl Grant {
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
    pub login_url: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<Secret>,
    pub grant: Grant,
    pub api_version: Option<String>,
    pub timeout_ms: Option<u32>,
    pub deadline_ms: Option<u32>,
    pub max_response_bytes: Option<u64>,
    pub retry: Option<RetryPolicy>,
    /// `host` or `host:port` entries trusted as `instance_url`.
    pub allowed_hosts: Vec<String>,
}

/// What every request of a session is held to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    pub timeout_ms: u32,
    /// The whole call: every request, retry and body read.
    pub deadline_ms: u32,
    pub max_response_bytes: u64,
    pub retry: RetryPolicy,
}

impl Limits {
    pub fn timeout(&self) -> Duration {
        Duration::from_millis(self.timeout_ms.into())
    }
}

/// The validated parts every grant needs.
#[derive(Clone, Debug)]
pub struct Settings {
    pub login_url: Url,
    pub client_id: Option<String>,
    pub client_secret: Option<Secret>,
    pub api_version: String,
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

    pub fn client_id(&self) -> Result<&str, Error> {
        self.client_id.as_deref().ok_or_else(|| {
            Error::config(
                "client-id",
                "is required for this grant: the Consumer Key of the connected app or External Client App",
            )
        })
    }

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
