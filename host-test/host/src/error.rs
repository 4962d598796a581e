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
    /// A function of the agent component failed: the connector's typed
    /// error as the JSON text the agent world returns.
    #[error("{0}")]
    Tool(String),
    /// A local file could not be read or written (a download's target, an
    /// upload's source).
    #[error("{0}")]
    Io(String),
}

impl HostError {
    /// The CLI's exit code: 2 usage or config, 3 authentication, 4 API,
    /// 5 network or timeout, 6 denied by host policy, 1 anything else.
    pub fn exit_code(&self) -> i32 {
        match self.kind() {
            "usage" | "load" | "invalid_config" | "invalid_request" => 2,
            "authentication_failed" | "session_expired" | "session_refused" | "login_required" => 3,
            "api_error"
            | "multiple_choices"
            | "rate_limited"
            | "unexpected_response"
            | "response_too_large" => 4,
            "transport" | "timeout" => 5,
            "denied" => 6,
            _ => 1,
        }
    }

    /// A stable snake_case name for `--json` output and logs.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Usage(_) => "usage",
            Self::Load(_) => "load",
            Self::Trap(_) => "trap",
            Self::Io(_) => "io",
            Self::Component(e) => component_kind(e),
            Self::Tool(json) => {
                let kind: Option<String> = serde_json::from_str::<serde_json::Value>(json)
                    .ok()
                    .and_then(|v| v["error"].as_str().map(|k| k.replace('-', "_")));
                KINDS
                    .iter()
                    .find(|k| Some(**k) == kind.as_deref())
                    .copied()
                    .unwrap_or("tool")
            }
        }
    }
}

/// Every kind of the component's `error`, by its snake_case name.
const KINDS: [&str; 14] = [
    "invalid_config",
    "invalid_request",
    "authentication_failed",
    "session_expired",
    "session_refused",
    "login_required",
    "api_error",
    "multiple_choices",
    "rate_limited",
    "transport",
    "timeout",
    "unexpected_response",
    "denied",
    "response_too_large",
];

fn component_kind(e: &wit::Error) -> &'static str {
    use wit::Error as E;
    let i = match e {
        E::InvalidConfig(_) => 0,
        E::InvalidRequest(_) => 1,
        E::AuthenticationFailed(_) => 2,
        E::SessionExpired(_) => 3,
        E::SessionRefused(_) => 4,
        E::LoginRequired(_) => 5,
        E::ApiError(_) => 6,
        E::MultipleChoices(_) => 7,
        E::RateLimited(_) => 8,
        E::Transport(_) => 9,
        E::Timeout(_) => 10,
        E::UnexpectedResponse(_) => 11,
        E::Denied(_) => 12,
        E::ResponseTooLarge(_) => 13,
    };
    KINDS[i]
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
