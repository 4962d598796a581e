//! A typed error's HTTP status. The caller of the service is not the one
//! who configured it: what the caller can fix is a 4xx, what the server's
//! operator or Salesforce must fix is a 5xx. The body always carries the
//! typed error, Salesforce's own status included.

use salesforce_adapter_kit::Error;

/// The status a tool's typed error answers with.
pub fn status_of(e: &Error) -> u16 {
    match e {
        // The caller's arguments: fix the request.
        Error::InvalidRequest(_) => 400,
        // The server's SF_* variables: the operator's to fix, not the
        // caller's, so not a 4xx.
        Error::InvalidConfig(_) => 500,
        // Salesforce refused the server's credentials. Not 401: that would
        // ask the caller to authenticate to this service, which has no
        // authentication of its own.
        Error::AuthenticationFailed(_) => 502,
        // The host's egress policy (or an untrusted instance URL) refused.
        Error::Denied(_) => 403,
        Error::RateLimited(_) => 429,
        Error::Timeout(_) => 504,
        // Everything else came from (or failed on the way to) Salesforce:
        // api-error (its own status is in the body), session-expired after
        // one renewal, session-refused, login-required, multiple-choices,
        // transport, unexpected-response, response-too-large.
        _ => 502,
    }
}

/// The seconds a rate-limited caller should wait, when Salesforce said.
pub fn retry_after(e: &Error) -> Option<u32> {
    match e {
        Error::RateLimited(r) => r.retry_after_seconds,
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use salesforce_adapter_kit::bindings::salesforce::connector::types::{OauthFailure, RateLimit};
    use salesforce_adapter_kit::FieldProblem;

    fn problem() -> FieldProblem {
        FieldProblem {
            field: "soql".into(),
            message: "required".into(),
        }
    }

    #[test]
    fn each_kind_has_its_status() {
        let oauth = OauthFailure {
            status: 400,
            error: "invalid_grant".into(),
            description: "authentication failure".into(),
            hint: "check the username and password".into(),
        };
        let limited = RateLimit {
            status: 403,
            code: "REQUEST_LIMIT_EXCEEDED".into(),
            message: "too many".into(),
            retry_after_seconds: Some(7),
        };
        let cases = [
            (Error::InvalidRequest(problem()), 400),
            (Error::InvalidConfig(problem()), 500),
            (Error::AuthenticationFailed(oauth), 502),
            (Error::Denied("egress".into()), 403),
            (Error::RateLimited(limited.clone()), 429),
            (Error::Timeout("deadline".into()), 504),
            (Error::Transport("reset".into()), 502),
            (Error::ResponseTooLarge(1), 502),
        ];
        for (e, status) in cases {
            assert_eq!(status_of(&e), status, "{e:?}");
        }
        assert_eq!(retry_after(&Error::RateLimited(limited)), Some(7));
        assert_eq!(retry_after(&Error::Timeout("t".into())), None);
    }
}
