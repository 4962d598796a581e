//! Retrying idempotent requests: exponential backoff with jitter, honouring
//! `Retry-After`, a bounded number of times.
//!
//! Only GET, HEAD, PUT and DELETE are retried, and only after a 5xx, a 429 or
//! a connection dropped mid-exchange. POST and PATCH never are: Salesforce may
//! have created or changed the record before the answer was lost.

#[allow(unused_imports)]
use crate::prelude::*;

use crate::error::Error;
use crate::http::{HttpRequest, HttpResponse, Method, Transport, TransportError};
use core::time::Duration;

/// How often and how patiently to retry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts after the first; 0 turns retrying off.
    pub max_retries: u32,
    /// The first wait; each retry doubles it, with random jitter.
    pub initial_backoff_ms: u32,
    /// The longest single wait, and the longest `Retry-After` honoured.
    pub max_backoff_ms: u32,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: 3,
            initial_backoff_ms: 250,
            max_backoff_ms: 10_000,
        }
    }
}

/// The most `max_retries` a config may ask for.
pub const MAX_RETRIES: u32 = 10;
/// The most `max_backoff_ms` a config may ask for (10 minutes).
pub const MAX_BACKOFF_MS: u32 = 600_000;

impl RetryPolicy {
    /// The policy if it is within bounds, or the config error saying which
    /// bound it breaks.
    pub fn validate(self) -> Result<Self, Error> {
        if self.max_retries > MAX_RETRIES {
            return Err(Error::config(
                "retry.max-retries",
                format!("{} is too many; use 0 to {MAX_RETRIES}", self.max_retries),
            ));
        }
        if self.max_backoff_ms > MAX_BACKOFF_MS || self.initial_backoff_ms > self.max_backoff_ms {
            return Err(Error::config(
                "retry",
                format!(
                    "backoff must satisfy initial-backoff-ms <= max-backoff-ms <= {MAX_BACKOFF_MS}"
                ),
            ));
        }
        Ok(self)
    }

    /// The wait before retry number `retry` (0-based): the exponential step
    /// capped at `max_backoff_ms`, then "equal jitter" (half fixed, half
    /// random) so that many clients do not retry in lockstep.
    pub fn backoff(&self, retry: u32, random: u64) -> Duration {
        let step = u64::from(self.initial_backoff_ms)
            .saturating_mul(1u64 << retry.min(30))
            .min(u64::from(self.max_backoff_ms));
        let half = step / 2;
        Duration::from_millis(half + random % (step - half + 1))
    }
}

/// True for the methods that may be retried: GET, HEAD, PUT and DELETE.
pub fn is_idempotent(method: Method) -> bool {
    matches!(
        method,
        Method::Get | Method::Head | Method::Put | Method::Delete
    )
}

/// `Retry-After` as delta-seconds. An HTTP date, a negative, a garbled or
/// a value beyond u32 yields `None`: the computed backoff applies instead.
pub fn retry_after_seconds(resp: &HttpResponse) -> Option<u32> {
    let v = resp.header("retry-after")?.trim();
    if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    v.parse().ok()
}

fn transient_status(status: u16) -> bool {
    status == 429 || (500..=599).contains(&status) && !matches!(status, 501 | 505)
}

/// Sends `request`, retrying transient failures as the policy allows. The
/// last outcome is returned whatever it is, so nothing is hidden.
pub fn send(
    transport: &mut dyn Transport,
    request: &HttpRequest,
    policy: &RetryPolicy,
) -> Result<HttpResponse, TransportError> {
    let retries = if is_idempotent(request.method) {
        policy.max_retries
    } else {
        0
    };
    let mut retry = 0;
    loop {
        let outcome = transport.send(request);
        if retry >= retries {
            return outcome;
        }
        let wait = match &outcome {
            Ok(resp) if transient_status(resp.status) => {
                let backoff = policy.backoff(retry, transport.jitter());
                match retry_after_seconds(resp) {
                    // Longer than we may wait: let the caller see the 429/503 and its Retry-After.
                    Some(s) if u64::from(s) * 1000 > u64::from(policy.max_backoff_ms) => {
                        return outcome
                    }
                    Some(s) => backoff.max(Duration::from_secs(s.into())),
                    None => backoff,
                }
            }
            Err(TransportError::Reset(_)) => policy.backoff(retry, transport.jitter()),
            _ => return outcome,
        };
        transport.sleep(wait);
        retry += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::testing::Scripted;

    fn status(code: u16, retry_after: Option<&str>) -> Result<HttpResponse, TransportError> {
        let mut headers = vec![("content-type".into(), "application/json".into())];
        if let Some(v) = retry_after {
            headers.push(("retry-after".into(), v.into()));
        }
        Ok(HttpResponse {
            status: code,
            headers,
            body: b"[]".to_vec(),
        })
    }

    fn policy() -> RetryPolicy {
        RetryPolicy {
            max_retries: 3,
            initial_backoff_ms: 100,
            max_backoff_ms: 1000,
        }
    }

    #[test]
    fn backoff_doubles_with_jitter_and_is_capped() {
        let p = policy();
        for (retry, lo, hi) in [(0, 50, 100), (1, 100, 200), (2, 200, 400), (5, 500, 1000)] {
            for random in [0, 7, u64::MAX] {
                let ms = p.backoff(retry, random).as_millis();
                assert!((lo..=hi).contains(&ms), "retry {retry}: {ms} ms");
            }
        }
        assert_eq!(p.backoff(40, 0), Duration::from_millis(500));
    }

    #[test]
    fn get_is_retried_on_5xx_429_and_reset_then_returns_the_answer() {
        let mut t = Scripted::new(vec![
            status(503, None),
            Err(TransportError::Reset("dropped".into())),
            status(429, Some("1")),
            status(200, None),
        ]);
        let resp = send(&mut t, &Scripted::request(Method::Get), &policy()).unwrap();
        assert_eq!(resp.status, 200);
        assert_eq!(t.sent, 4);
        assert_eq!(t.slept.len(), 3);
        // Retry-After: 1 outweighs the 400 ms backoff of the third retry.
        assert_eq!(t.slept[2], Duration::from_secs(1));
    }

    #[test]
    fn retries_are_bounded_and_the_last_failure_is_returned() {
        let mut t = Scripted::new((0..10).map(|_| status(500, None)).collect());
        let resp = send(&mut t, &Scripted::request(Method::Delete), &policy()).unwrap();
        assert_eq!(resp.status, 500);
        assert_eq!(t.sent, 4, "one attempt and three retries");
    }

    #[test]
    fn post_and_patch_are_never_retried() {
        for m in [Method::Post, Method::Patch] {
            let mut t = Scripted::new(vec![status(503, None), status(200, None)]);
            assert_eq!(
                send(&mut t, &Scripted::request(m), &policy())
                    .unwrap()
                    .status,
                503
            );
            let mut t = Scripted::new(vec![Err(TransportError::Reset("x".into()))]);
            assert!(send(&mut t, &Scripted::request(m), &policy()).is_err());
            assert_eq!(t.sent, 1);
        }
    }

    #[test]
    fn client_errors_timeouts_and_long_retry_after_are_not_retried() {
        for outcome in [
            status(400, None),
            status(404, None),
            status(501, None),
            status(503, Some("3600")),
            Err(TransportError::Timeout("slow".into())),
            Err(TransportError::Network("refused".into())),
            Err(TransportError::TooLarge(10)),
        ] {
            let mut t = Scripted::new(vec![outcome, status(200, None)]);
            let _ = send(&mut t, &Scripted::request(Method::Get), &policy());
            assert_eq!(t.sent, 1);
        }
    }

    #[test]
    fn retry_after_accepts_only_delta_seconds() {
        let with = |v: &str| HttpResponse {
            status: 503,
            headers: vec![("retry-after".into(), v.into())],
            body: Vec::new(),
        };
        assert_eq!(retry_after_seconds(&with("120")), Some(120));
        // Leading zeros are still delta-seconds, whatever the length (a
        // rest_error fuzz finding).
        assert_eq!(retry_after_seconds(&with("000000000000000120")), Some(120));
        for bad in [
            "",
            "-1",
            "1.5",
            "Wed, 21 Oct 2015 07:28:00 GMT",
            "99999999999999",
        ] {
            assert_eq!(retry_after_seconds(&with(bad)), None, "{bad}");
        }
    }

    #[test]
    fn policy_limits() {
        assert!(RetryPolicy::default().validate().is_ok());
        let too_many = RetryPolicy {
            max_retries: 11,
            ..RetryPolicy::default()
        };
        assert!(too_many.validate().is_err());
        let inverted = RetryPolicy {
            initial_backoff_ms: 2000,
            max_backoff_ms: 1000,
            max_retries: 1,
        };
        assert!(inverted.validate().is_err());
    }
}
