//! The host's error: the component's typed error, or a problem of the host.

use crate::bindings::wit;
use std::fmt;

/// What a call through the host can fail with.
#[derive(Debug, thiserror::Error)]
pub enum HostError {
    /// The component's own typed error.
    // Not `#[from]`: that would also make it the `source`, and a report
    // walking the chain would print the same error twice.
    #[error("{}", ComponentMessage(.0))]
    Component(wit::Error),
    /// The component file could not be loaded or does not fit.
    #[error("cannot load the component: {0}")]
    Load(String),
    /// The component trapped. It never should; this is a bug report.
    #[error("the component trapped (a bug, please report it): {0}")]
    Trap(String),
    /// Bad command-line or host configuration.
    #[error("{0}")]
    Usage(String),
}

impl HostError {
    /// The CLI's exit code: 2 usage or config, 3 authentication, 4 API,
    /// 5 network or timeout, 6 denied by host policy, 1 anything else.
    pub fn exit_code(&self) -> i32 {
        use wit::Error as E;
        match self {
            Self::Usage(_) | Self::Load(_) => 2,
            Self::Trap(_) => 1,
            Self::Component(e) => match e {
                E::InvalidConfig(_) | E::InvalidRequest(_) => 2,
                E::AuthenticationFailed(_)
                | E::SessionExpired(_)
                | E::SessionRefused(_)
                | E::LoginRequired(_) => 3,
                E::ApiError(_)
                | E::MultipleChoices(_)
                | E::RateLimited(_)
                | E::UnexpectedResponse(_)
                | E::ResponseTooLarge(_) => 4,
                E::Transport(_) | E::Timeout(_) => 5,
                E::Denied(_) => 6,
            },
        }
    }

    /// A stable snake_case name for `--json` output and logs.
    pub fn kind(&self) -> &'static str {
        use wit::Error as E;
        match self {
            Self::Usage(_) => "usage",
            Self::Load(_) => "load",
            Self::Trap(_) => "trap",
            Self::Component(e) => match e {
                E::InvalidConfig(_) => "invalid_config",
                E::InvalidRequest(_) => "invalid_request",
                E::AuthenticationFailed(_) => "authentication_failed",
                E::SessionExpired(_) => "session_expired",
                E::SessionRefused(_) => "session_refused",
                E::LoginRequired(_) => "login_required",
                E::ApiError(_) => "api_error",
                E::MultipleChoices(_) => "multiple_choices",
                E::RateLimited(_) => "rate_limited",
                E::Transport(_) => "transport",
                E::Timeout(_) => "timeout",
                E::UnexpectedResponse(_) => "unexpected_response",
                E::Denied(_) => "denied",
                E::ResponseTooLarge(_) => "response_too_large",
            },
        }
    }
}

/// The one sentence a person reads for a component error.
struct ComponentMessage<'a>(&'a wit::Error);

impl fmt::Display for ComponentMessage<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use wit::Error as E;
        match self.0 {
            E::InvalidConfig(p) => write!(f, "invalid config `{}`: {}", p.field, p.message),
            E::InvalidRequest(p) => write!(f, "invalid request `{}`: {}", p.field, p.message),
            E::AuthenticationFailed(o) => write!(
                f,
                "authentication failed ({} {}: {}); {}",
                o.status, o.error, o.description, o.hint
            ),
            E::SessionExpired(m) => write!(f, "session expired or invalid: {m}"),
            E::SessionRefused(r) => write!(
                f,
                "session refused ({} {}: {}); {}",
                r.status, r.error_code, r.message, r.hint
            ),
            E::LoginRequired(m) => write!(f, "log in again: {m}"),
            E::ApiError(a) => {
                write!(f, "Salesforce API error {}", a.status)?;
                for e in &a.errors {
                    write!(f, "; {}: {}", e.error_code, e.message)?;
                    if !e.fields.is_empty() {
                        write!(f, " (fields: {})", e.fields.join(", "))?;
                    }
                }
                Ok(())
            }
            E::MultipleChoices(urls) => {
                write!(
                    f,
                    "the external id matches {} records: {}",
                    urls.len(),
                    urls.join(", ")
                )
            }
            E::RateLimited(r) => {
                write!(f, "rate limited ({} {}): {}", r.status, r.code, r.message)?;
                if let Some(s) = r.retry_after_seconds {
                    write!(f, "; retry after {s} s")?;
                }
                Ok(())
            }
            E::Transport(m) => write!(f, "network error: {m}"),
            E::Timeout(m) => write!(f, "timeout: {m}"),
            E::UnexpectedResponse(u) => write!(
                f,
                "unexpected response (status {}, content-type {}): {}; body starts: {:?}",
                u.status,
                u.content_type.as_deref().unwrap_or("none"),
                u.reason,
                u.excerpt
            ),
            E::Denied(m) => write!(f, "denied by host policy: {m}"),
            E::ResponseTooLarge(limit) => write!(
                f,
                "the response body is larger than {limit} bytes; raise max-response-bytes if that is expected"
            ),
        }
    }
}

impl From<wit::Error> for HostError {
    fn from(e: wit::Error) -> Self {
        Self::Component(e)
    }
}
