//! WIT values <-> the crate's own types. Secrets are wrapped on the way in.

#[allow(unused_imports)]
use crate::prelude::*;

use super::wit;
use crate::config::{
    Config, Grant, Limits, DEADLINE_MS_RANGE, MAX_RESPONSE_BYTES_RANGE, TIMEOUT_MS_RANGE,
};
use crate::error::Error;
use crate::http::Method;
use crate::limits::LimitInfo;
use crate::rest::{CallRequest, CallResponse};
use crate::retry::RetryPolicy;
use crate::secret::Secret;
use crate::session::Session;

pub fn config_in(c: wit::Config) -> Config {
    let grant = match c.grant {
        wit::Grant::Password(g) => Grant::Password {
            username: g.username,
            password: g.password.into(),
            security_token: g.security_token.map(Secret::from),
        },
        wit::Grant::JwtBearer(g) => Grant::JwtBearer {
            username: g.username,
            private_key_pem: g.private_key_pem.into(),
            audience: g.audience,
        },
        wit::Grant::ClientCredentials(g) => Grant::ClientCredentials {
            basic_auth: g.basic_auth,
        },
        wit::Grant::RefreshToken(g) => Grant::RefreshToken {
            refresh_token: g.refresh_token.into(),
        },
        wit::Grant::AuthorizationCode(g) => Grant::AuthorizationCode {
            code: g.code.into(),
            redirect_uri: g.redirect_uri,
            code_verifier: g.code_verifier.map(Secret::from),
        },
        wit::Grant::AccessToken(g) => Grant::AccessToken {
            access_token: g.access_token.into(),
            instance_url: g.instance_url,
        },
    };
    Config {
        login_url: c.login_url,
        client_id: c.client_id,
        client_secret: c.client_secret.map(Secret::from),
        grant,
        api_version: c.api_version,
        timeout_ms: c.timeout_ms,
        deadline_ms: c.deadline_ms,
        max_response_bytes: c.max_response_bytes,
        retry: c.retry.map(retry_in),
        allowed_hosts: c.allowed_hosts.unwrap_or_default(),
    }
}

fn retry_in(r: wit::RetryPolicy) -> RetryPolicy {
    RetryPolicy {
        max_retries: r.max_retries,
        initial_backoff_ms: r.initial_backoff_ms,
        max_backoff_ms: r.max_backoff_ms,
    }
}

fn retry_out(r: RetryPolicy) -> wit::RetryPolicy {
    wit::RetryPolicy {
        max_retries: r.max_retries,
        initial_backoff_ms: r.initial_backoff_ms,
        max_backoff_ms: r.max_backoff_ms,
    }
}

pub fn config_out(c: Config) -> wit::Config {
    let grant = match c.grant {
        Grant::RefreshToken { refresh_token } => wit::Grant::RefreshToken(wit::RefreshTokenGrant {
            refresh_token: refresh_token.into_inner(),
        }),
        // parse-sfdx-url only produces refresh-token configs.
        _ => wit::Grant::ClientCredentials(wit::ClientCredentialsGrant { basic_auth: false }),
    };
    wit::Config {
        login_url: c.login_url,
        client_id: c.client_id,
        client_secret: c.client_secret.map(Secret::into_inner),
        grant,
        api_version: c.api_version,
        timeout_ms: c.timeout_ms,
        deadline_ms: c.deadline_ms,
        max_response_bytes: c.max_response_bytes,
        retry: c.retry.map(retry_out),
        allowed_hosts: (!c.allowed_hosts.is_empty()).then_some(c.allowed_hosts),
    }
}

pub fn session_out(s: Session) -> wit::Session {
    wit::Session {
        access_token: s.access_token.into_inner(),
        instance_url: crate::urls::origin(&s.instance_url),
        identity_url: s.identity_url,
        org_id: s.org_id,
        user_id: s.user_id,
        token_type: s.token_type,
        issued_at: s.issued_at,
        scope: s.scope,
        refresh_token: s.refresh_token.map(Secret::into_inner),
        api_version: s.api_version,
        signature_verified: s.signature_verified,
        timeout_ms: s.limits.timeout_ms,
        deadline_ms: s.limits.deadline_ms,
        max_response_bytes: s.limits.max_response_bytes,
        retry: retry_out(s.limits.retry),
    }
}

/// A session comes back from the host, possibly stored and edited: validate
/// what the token will be sent to.
pub fn session_in(s: wit::Session) -> Result<Session, Error> {
    // Trust was checked when the session was issued; the host's egress
    // policy guards an edited one.
    let instance_url = crate::urls::instance_origin(&s.instance_url)
        .map_err(|m| Error::request("session.instance-url", m))?;
    let api_version = crate::config::normalize_api_version(&s.api_version).map_err(|_| {
        Error::request(
            "session.api-version",
            format!("`{}` is not an API version", s.api_version),
        )
    })?;
    if s.access_token.trim().is_empty() {
        return Err(Error::request("session.access-token", "is empty"));
    }
    Ok(Session {
        access_token: s.access_token.into(),
        instance_url,
        identity_url: s.identity_url,
        org_id: s.org_id,
        user_id: s.user_id,
        token_type: s.token_type,
        issued_at: s.issued_at,
        scope: s.scope,
        refresh_token: s.refresh_token.map(Secret::from),
        api_version,
        signature_verified: s.signature_verified,
        limits: Limits {
            timeout_ms: s
                .timeout_ms
                .clamp(*TIMEOUT_MS_RANGE.start(), *TIMEOUT_MS_RANGE.end()),
            deadline_ms: s
                .deadline_ms
                .clamp(*DEADLINE_MS_RANGE.start(), *DEADLINE_MS_RANGE.end()),
            max_response_bytes: s.max_response_bytes.clamp(
                *MAX_RESPONSE_BYTES_RANGE.start(),
                *MAX_RESPONSE_BYTES_RANGE.end(),
            ),
            retry: retry_in(s.retry)
                .validate()
                .map_err(|e| Error::request("session.retry", e.to_string()))?,
        },
    })
}

/// The owner's guardrails; an empty allowlist allows nothing, as written.
pub fn guardrails_in(
    g: super::exports::salesforce::connector::tools::Guardrails,
) -> crate::guardrails::Guardrails {
    crate::guardrails::Guardrails {
        read_only: g.read_only,
        allowed_objects: g
            .allowed_objects
            .map(|list| crate::guardrails::Allowed::new(list.iter().map(String::as_str))),
        max_rows: g.max_rows,
    }
}

pub fn method_in(m: wit::Method) -> Method {
    match m {
        wit::Method::Get => Method::Get,
        wit::Method::Post => Method::Post,
        wit::Method::Patch => Method::Patch,
        wit::Method::Put => Method::Put,
        wit::Method::Delete => Method::Delete,
        wit::Method::Head => Method::Head,
    }
}

pub fn api_error_item_out(i: crate::error::ApiErrorItem) -> wit::ApiErrorItem {
    wit::ApiErrorItem {
        error_code: i.error_code,
        message: i.message,
        fields: i.fields,
    }
}

pub fn request_in(r: wit::Request) -> CallRequest {
    CallRequest {
        method: method_in(r.method),
        path: r.path,
        query: r.query,
        headers: r.headers,
        body: r.body,
    }
}

pub fn authorize_in(r: wit::AuthorizeRequest) -> crate::oauth::pkce::AuthorizeRequest {
    crate::oauth::pkce::AuthorizeRequest {
        login_url: r.login_url,
        client_id: r.client_id,
        redirect_uri: r.redirect_uri,
        scope: r.scope,
        prompt: r.prompt,
        login_hint: r.login_hint,
    }
}

pub fn limits_out(l: LimitInfo) -> wit::LimitInfo {
    let usage = |u: crate::limits::Usage| wit::Usage {
        used: u.used,
        max: u.max,
    };
    wit::LimitInfo {
        api_usage: l.api_usage.map(usage),
        per_app_api_usage: l.per_app_api_usage.map(|a| wit::AppUsage {
            used: a.used,
            max: a.max,
            app_name: a.app_name,
        }),
        api_bursts: l.api_bursts.map(usage),
    }
}

pub fn response_out(r: CallResponse) -> wit::Response {
    wit::Response {
        status: r.status,
        headers: r.headers,
        body: r.body,
        limit_info: r.limit_info.map(limits_out),
    }
}

pub fn error_out(e: Error) -> wit::Error {
    let problem = |field: String, message: String| wit::FieldProblem { field, message };
    match e {
        Error::InvalidConfig { field, message } => {
            wit::Error::InvalidConfig(problem(field, message))
        }
        Error::InvalidRequest { field, message } => {
            wit::Error::InvalidRequest(problem(field, message))
        }
        Error::AuthenticationFailed {
            status,
            error,
            description,
            hint,
        } => wit::Error::AuthenticationFailed(wit::OauthFailure {
            status,
            error,
            description,
            hint,
        }),
        Error::SessionExpired(m) => wit::Error::SessionExpired(m),
        Error::SessionRefused {
            status,
            error_code,
            message,
            hint,
        } => wit::Error::SessionRefused(wit::Refusal {
            status,
            error_code,
            message,
            hint,
        }),
        Error::LoginRequired(m) => wit::Error::LoginRequired(m),
        Error::Api {
            status,
            errors,
            limit_info,
        } => wit::Error::ApiError(wit::ApiFailure {
            status,
            errors: errors.into_iter().map(api_error_item_out).collect(),
            limit_info: limit_info.map(limits_out),
        }),
        Error::MultipleChoices(urls) => wit::Error::MultipleChoices(urls),
        Error::RateLimited {
            status,
            code,
            message,
            retry_after_seconds,
        } => wit::Error::RateLimited(wit::RateLimit {
            status,
            code,
            message,
            retry_after_seconds,
        }),
        Error::Transport(m) => wit::Error::Transport(m),
        Error::Timeout(m) => wit::Error::Timeout(m),
        Error::Unexpected {
            status,
            content_type,
            reason,
            excerpt,
        } => wit::Error::UnexpectedResponse(wit::Unexpected {
            status,
            content_type,
            reason,
            excerpt,
        }),
        Error::Denied(m) => wit::Error::Denied(m),
        Error::TooLarge(limit) => wit::Error::ResponseTooLarge(limit),
    }
}
