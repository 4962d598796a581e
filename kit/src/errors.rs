//! The connector's typed error as JSON: the agent world's functions return
//! errors as strings (hosts that make functions tools show them to a model
//! as they are), the HTTP service answers them as bodies; the kind and every
//! field stay in them.

use crate::bindings::salesforce::connector::types::Error;
use alloc::string::{String, ToString};
use serde_json::{json, Value};

/// `{"error": kind, ...the variant's fields}` as text.
pub fn to_json(e: &Error) -> String {
    to_value(e).to_string()
}

/// `{"error": kind, ...the variant's fields}`.
pub fn to_value(e: &Error) -> Value {
    let (kind, detail) = match e {
        Error::InvalidConfig(p) => (
            "invalid-config",
            json!({"field": p.field, "message": p.message}),
        ),
        Error::InvalidRequest(p) => (
            "invalid-request",
            json!({"field": p.field, "message": p.message}),
        ),
        Error::AuthenticationFailed(o) => (
            "authentication-failed",
            json!({"status": o.status, "oauth-error": o.error, "description": o.description, "hint": o.hint}),
        ),
        Error::SessionExpired(m) => ("session-expired", json!({"message": m})),
        Error::SessionRefused(r) => (
            "session-refused",
            json!({"status": r.status, "error-code": r.error_code, "message": r.message, "hint": r.hint}),
        ),
        Error::LoginRequired(m) => ("login-required", json!({"message": m})),
        Error::ApiError(a) => {
            let errors: Value = a
                .errors
                .iter()
                .map(|i| json!({"error-code": i.error_code, "message": i.message, "fields": i.fields}))
                .collect();
            ("api-error", json!({"status": a.status, "errors": errors}))
        }
        Error::MultipleChoices(urls) => ("multiple-choices", json!({"urls": urls})),
        Error::RateLimited(r) => (
            "rate-limited",
            json!({"status": r.status, "code": r.code, "message": r.message, "retry-after-seconds": r.retry_after_seconds}),
        ),
        Error::Transport(m) => ("transport", json!({"message": m})),
        Error::Timeout(m) => ("timeout", json!({"message": m})),
        Error::UnexpectedResponse(u) => (
            "unexpected-response",
            json!({"status": u.status, "content-type": u.content_type, "reason": u.reason, "excerpt": u.excerpt}),
        ),
        Error::Denied(m) => ("denied", json!({"message": m})),
        Error::ResponseTooLarge(limit) => ("response-too-large", json!({"limit-bytes": limit})),
    };
    let mut out = json!({"error": kind});
    if let (Value::Object(out), Value::Object(detail)) = (&mut out, detail) {
        out.extend(detail);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bindings::salesforce::connector::types::FieldProblem;

    #[test]
    fn keeps_the_kind_and_the_fields() {
        let e = Error::InvalidConfig(FieldProblem {
            field: "SF_USERNAME".to_string(),
            message: "the jwt grant needs SF_USERNAME".to_string(),
        });
        let v: Value = serde_json::from_str(&to_json(&e)).unwrap_or_default();
        assert_eq!(v["error"], "invalid-config");
        assert_eq!(v["field"], "SF_USERNAME");
    }
}
