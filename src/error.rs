//! The one error type of the component, mirroring the WIT `error` variant.

#[allow(unused_imports)]
use crate::prelude::*;

use crate::limits::LimitInfo;
use crate::secret::Redactor;
use core::fmt;

/// One entry of Salesforce's REST error array.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiErrorItem {
    /// Salesforce's code, e.g. `REQUIRED_FIELD_MISSING` (a collections
    /// result's `statusCode`, an OAuth answer's `error`).
    pub error_code: String,
    /// Salesforce's message.
    pub message: String,
    /// The fields the error is about; often empty.
    pub fields: Vec<String>,
}

/// Every way an operation can fail (the WIT `error` variant). Text that
/// came from a server may echo a secret: [`Error::redacted`] scrubs it, as
/// the component does with every error it returns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Error {
    /// A config field is missing or malformed.
    InvalidConfig {
        /// The config field, e.g. `login-url`.
        field: String,
        /// What is wrong with it.
        message: String,
    },
    /// A request argument is malformed or not allowed (for example a path
    /// outside `/services/` or to another origin).
    InvalidRequest {
        /// The argument or request part, e.g. `path` or `arguments.soql`.
        field: String,
        /// What is wrong with it.
        message: String,
    },
    /// The token endpoint refused the credentials, or its response
    /// signature did not verify.
    AuthenticationFailed {
        /// The HTTP status of the token endpoint's answer.
        status: u16,
        /// The OAuth `error`, e.g. `invalid_grant`.
        error: String,
        /// The OAuth `error_description`, e.g. `authentication failure`.
        description: String,
        /// What to check, in plain words.
        hint: String,
    },
    /// The access token expired or was revoked: renew the session, then
    /// retry once.
    SessionExpired(String),
    /// A 401 that a new login cannot fix (see [`crate::expiry`]): the org
    /// accepts the login but refuses this session for the API. Never renew
    /// on it.
    SessionRefused {
        /// The HTTP status, 401.
        status: u16,
        /// Salesforce's code, e.g. `INVALID_SESSION_ID`.
        error_code: String,
        /// Salesforce's words, e.g. `This session is not valid for use
        /// with the REST API`.
        message: String,
        /// What an admin should check.
        hint: String,
    },
    /// Nothing to renew with: a person must log in again.
    LoginRequired(String),
    /// Salesforce answered with an error status and its error array.
    Api {
        /// The HTTP status.
        status: u16,
        /// Salesforce's errors, in the order sent.
        errors: Vec<ApiErrorItem>,
        /// The API usage reported with the error.
        limit_info: Option<LimitInfo>,
    },
    /// A 300 from an external-id upsert or lookup: the candidate record
    /// URLs.
    MultipleChoices(Vec<String>),
    /// The org, the user or the app is over a limit
    /// (`REQUEST_LIMIT_EXCEEDED`, HTTP 429, `login rate exceeded`).
    RateLimited {
        /// The HTTP status.
        status: u16,
        /// Salesforce's code, e.g. `REQUEST_LIMIT_EXCEEDED`, or `429`.
        code: String,
        /// Salesforce's message.
        message: String,
        /// From the `Retry-After` header, when sent.
        retry_after_seconds: Option<u32>,
    },
    /// Connection refused, DNS, TLS, or the connection dropped.
    Transport(String),
    /// No answer within the timeout, or the call's deadline passed.
    Timeout(String),
    /// A response that is not what Salesforce sends (an HTML page, a
    /// truncated body, a missing field).
    Unexpected {
        /// The HTTP status.
        status: u16,
        /// The response's content type, if any.
        content_type: Option<String>,
        /// What was wrong with it.
        reason: String,
        /// The start of the body (at most 200 characters), secrets removed.
        excerpt: String,
    },
    /// The request was not sent: the host's egress policy refused it, or a
    /// token response named an `instance_url` the configuration does not
    /// trust.
    Denied(String),
    /// The body exceeded the limit (bytes); nothing of it was used.
    TooLarge(u64),
}

impl Error {
    /// An [`Error::InvalidConfig`] about `field`.
    pub fn config(field: &str, message: impl Into<String>) -> Self {
        Self::InvalidConfig {
            field: field.to_string(),
            message: message.into(),
        }
    }

    /// An [`Error::InvalidRequest`] about `field`.
    pub fn request(field: &str, message: impl Into<String>) -> Self {
        Self::InvalidRequest {
            field: field.to_string(),
            message: message.into(),
        }
    }

    /// An answer that is not what Salesforce sends. `body` is cut to a short,
    /// char-boundary-safe excerpt.
    pub fn unexpected(
        status: u16,
        content_type: Option<&str>,
        reason: impl Into<String>,
        body: &[u8],
    ) -> Self {
        Self::Unexpected {
            status,
            content_type: content_type.map(str::to_string),
            reason: reason.into(),
            excerpt: excerpt(body),
        }
    }
}

impl Error {
    /// The same error with every text it carries passed through `r`: the one
    /// path by which an error leaves the component, so a secret the server
    /// echoed (in any shape) never reaches a log, a user or a model.
    pub fn redacted(mut self, r: &Redactor) -> Self {
        let s = |t: &mut String| *t = r.scrub(t);
        // Every field is named (no `..`): a field added to a variant must be
        // decided on here, scrubbed or not. Field names, hints and statuses
        // are the connector's own text.
        match &mut self {
            Self::InvalidConfig { field: _, message } => s(message),
            Self::InvalidRequest { field: _, message } => s(message),
            Self::AuthenticationFailed {
                status: _,
                error,
                description,
                hint: _,
            } => {
                s(error);
                s(description);
            }
            Self::SessionRefused {
                status: _,
                error_code,
                message,
                hint: _,
            } => {
                s(error_code);
                s(message);
            }
            Self::Api {
                status: _,
                errors,
                limit_info,
            } => redact_api(errors, limit_info.as_mut(), r),
            Self::MultipleChoices(urls) => urls.iter_mut().for_each(s),
            Self::RateLimited {
                status: _,
                code,
                message,
                retry_after_seconds: _,
            } => {
                s(code);
                s(message);
            }
            Self::Unexpected {
                status: _,
                content_type,
                reason,
                excerpt,
            } => {
                content_type.iter_mut().for_each(s);
                s(reason);
                s(excerpt);
            }
            Self::SessionExpired(m)
            | Self::LoginRequired(m)
            | Self::Transport(m)
            | Self::Timeout(m)
            | Self::Denied(m) => s(m),
            Self::TooLarge(_) => {}
        }
        self
    }
}

/// Scrubs the server's error list and the app name in its limit info.
fn redact_api(errors: &mut [ApiErrorItem], limit_info: Option<&mut LimitInfo>, r: &Redactor) {
    for e in errors {
        e.error_code = r.scrub(&e.error_code);
        e.message = r.scrub(&e.message);
        for f in &mut e.fields {
            *f = r.scrub(f);
        }
    }
    if let Some(app) = limit_info.and_then(|l| l.per_app_api_usage.as_mut()) {
        app.app_name = r.scrub(&app.app_name);
    }
}

/// The first 200 characters of a body, lossy UTF-8, control characters
/// replaced so the excerpt prints on one line, and anything shaped like a
/// token masked (for bodies quoted where no `Redactor` is at hand).
pub fn excerpt(body: &[u8]) -> String {
    let text =
        crate::secret::mask_issued_tokens(&String::from_utf8_lossy(&body[..body.len().min(800)]));
    text.chars()
        .take(200)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .trim()
        .to_string()
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidConfig { field, message } => write!(f, "invalid config `{field}`: {message}"),
            Self::InvalidRequest { field, message } => {
                write!(f, "invalid request `{field}`: {message}")
            }
            Self::AuthenticationFailed {
                status,
                error,
                description,
                hint,
            } => write!(f, "authentication failed ({status} {error}: {description}); {hint}"),
            Self::SessionExpired(m) => write!(f, "session expired: {m}"),
            Self::SessionRefused { status, error_code, message, hint } => {
                write!(f, "session refused ({status} {error_code}: {message}); {hint}")
            }
            Self::LoginRequired(m) => write!(f, "log in again: {m}"),
            Self::Api { status, errors, .. } => {
                write!(f, "Salesforce API error {status}")?;
                for e in errors {
                    write!(f, "; {}: {}", e.error_code, e.message)?;
                    if !e.fields.is_empty() {
                        write!(f, " (fields: {})", e.fields.join(", "))?;
                    }
                }
                Ok(())
            }
            Self::MultipleChoices(urls) => {
                write!(f, "external id matches {} records: {}", urls.len(), urls.join(", "))
            }
            Self::RateLimited { status, code, message, retry_after_seconds } => {
                write!(f, "rate limited ({status} {code}): {message}")?;
                if let Some(s) = retry_after_seconds {
                    write!(f, "; retry after {s} s")?;
                }
                Ok(())
            }
            Self::Transport(m) => write!(f, "network error: {m}"),
            Self::Timeout(m) => write!(f, "timeout: {m}"),
            Self::Unexpected { status, content_type, reason, excerpt } => write!(
                f,
                "unexpected response (status {status}, content-type {}): {reason}; body starts: {excerpt:?}",
                content_type.as_deref().unwrap_or("none")
            ),
            Self::Denied(m) => write!(f, "denied by host policy: {m}"),
            Self::TooLarge(limit) => write!(
                f,
                "the response body is larger than {limit} bytes; raise max-response-bytes if that is expected"
            ),
        }
    }
}

impl core::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::AppUsage;
    use crate::secret::Secret;

    /// Every text a server can fill is scrubbed; the connector's own field
    /// names and hints are kept as they are.
    #[test]
    fn redacted_scrubs_every_server_text() {
        let mut r = Redactor::new();
        r.add(&Secret::new("tok-SECRET"));
        let t = || "at tok-SECRET".to_string();
        let field = || "the-field".to_string();
        let hint = || "the-hint".to_string();
        let limit_info = LimitInfo {
            per_app_api_usage: Some(AppUsage {
                used: 1,
                max: 2,
                app_name: t(),
            }),
            ..LimitInfo::default()
        };
        let errors = [
            Error::InvalidConfig {
                field: field(),
                message: t(),
            },
            Error::InvalidRequest {
                field: field(),
                message: t(),
            },
            Error::AuthenticationFailed {
                status: 400,
                error: t(),
                description: t(),
                hint: hint(),
            },
            Error::SessionExpired(t()),
            Error::SessionRefused {
                status: 401,
                error_code: t(),
                message: t(),
                hint: hint(),
            },
            Error::LoginRequired(t()),
            Error::Api {
                status: 400,
                errors: vec![ApiErrorItem {
                    error_code: t(),
                    message: t(),
                    fields: vec![t(), t()],
                }],
                limit_info: Some(limit_info),
            },
            Error::MultipleChoices(vec![t(), t()]),
            Error::RateLimited {
                status: 429,
                code: t(),
                message: t(),
                retry_after_seconds: Some(3),
            },
            Error::Transport(t()),
            Error::Timeout(t()),
            Error::Unexpected {
                status: 500,
                content_type: Some(t()),
                reason: t(),
                excerpt: t(),
            },
            Error::Denied(t()),
            Error::TooLarge(7),
        ];
        for e in errors {
            let before = format!("{e:?}");
            let after = e.redacted(&r);
            let shown = format!("{after:?}");
            assert!(!shown.contains("SECRET"), "{shown}");
            assert_eq!(shown, before.replace("tok-SECRET", "***"));
        }
    }
}
