//! The one error type of the component, mirroring the WIT `error` variant.

#[allow(unused_imports)]
use crate::prelude::*;

use crate::limits::LimitInfo;
use core::fmt;

/// One entry of Salesforce's REST error array.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiErrorItem {
    pub error_code: String,
    pub message: String,
    pub fields: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Error {
    InvalidConfig {
        field: String,
        message: String,
    },
    InvalidRequest {
        field: String,
        message: String,
    },
    AuthenticationFailed {
        status: u16,
        error: String,
        description: String,
        hint: String,
    },
    SessionExpired(String),
    /// A 401 that a new login cannot fix (see `rest::session_problem`).
    SessionRefused {
        status: u16,
        error_code: String,
        message: String,
        hint: String,
    },
    /// Nothing to renew with: a person must log in again.
    LoginRequired(String),
    Api {
        status: u16,
        errors: Vec<ApiErrorItem>,
        limit_info: Option<LimitInfo>,
    },
    MultipleChoices(Vec<String>),
    RateLimited {
        status: u16,
        code: String,
        message: String,
        retry_after_seconds: Option<u32>,
    },
    Transport(String),
    Timeout(String),
    Unexpected {
        status: u16,
        content_type: Option<String>,
        reason: String,
        excerpt: String,
    },
    Denied(String),
    /// The body exceeded the limit (bytes); nothing of it was used.
    TooLarge(u64),
}

impl Error {
    pub fn config(field: &str, message: impl Into<String>) -> Self {
        Self::InvalidConfig {
            field: field.to_string(),
            message: message.into(),
        }
    }

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
    pub fn redacted(self, r: &crate::secret::Redactor) -> Self {
        let s = |t: String| r.scrub(&t);
        match self {
            Self::InvalidConfig { field, message } => Self::InvalidConfig {
                field,
                message: s(message),
            },
            Self::InvalidRequest { field, message } => Self::InvalidRequest {
                field,
                message: s(message),
            },
            Self::AuthenticationFailed {
                status,
                error,
                description,
                hint,
            } => Self::AuthenticationFailed {
                status,
                error: s(error),
                description: s(description),
                hint,
            },
            Self::SessionExpired(m) => Self::SessionExpired(s(m)),
            Self::SessionRefused {
                status,
                error_code,
                message,
                hint,
            } => Self::SessionRefused {
                status,
                error_code: s(error_code),
                message: s(message),
                hint,
            },
            Self::LoginRequired(m) => Self::LoginRequired(s(m)),
            Self::Api {
                status,
                errors,
                limit_info,
            } => Self::Api {
                status,
                errors: errors
                    .into_iter()
                    .map(|e| ApiErrorItem {
                        error_code: s(e.error_code),
                        message: s(e.message),
                        fields: e.fields.into_iter().map(s).collect(),
                    })
                    .collect(),
                limit_info: limit_info.map(|mut l| {
                    if let Some(app) = l.per_app_api_usage.as_mut() {
                        app.app_name = r.scrub(&app.app_name);
                    }
                    l
                }),
            },
            Self::MultipleChoices(urls) => Self::MultipleChoices(urls.into_iter().map(s).collect()),
            Self::RateLimited {
                status,
                code,
                message,
                retry_after_seconds,
            } => Self::RateLimited {
                status,
                code: s(code),
                message: s(message),
                retry_after_seconds,
            },
            Self::Transport(m) => Self::Transport(s(m)),
            Self::Timeout(m) => Self::Timeout(s(m)),
            Self::Unexpected {
                status,
                content_type,
                reason,
                excerpt,
            } => Self::Unexpected {
                status,
                content_type: content_type.map(s),
                reason: s(reason),
                excerpt: s(excerpt),
            },
            Self::Denied(m) => Self::Denied(s(m)),
            Self::TooLarge(limit) => Self::TooLarge(limit),
        }
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
