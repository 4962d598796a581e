//! The device flow: a code the person types in a browser elsewhere, then
//! polling until they approve (RFC 8628 as Salesforce runs it:
//! `response_type=device_code`, then `grant_type=device` with `code`;
//! help.salesforce.com "OAuth 2.0 Device Flow", supported for External
//! Client Apps too).

#[allow(unused_imports)]
use crate::prelude::*;

use super::token::{self, Flow};
use crate::config::Config;
use crate::error::Error;
use crate::http::{HttpResponse, Transport};
use crate::secret::{Redactor, Secret};
use crate::session::Session;
use serde_json::Value;

/// RFC 8628's default when the server names no interval.
const DEFAULT_INTERVAL_SECS: u32 = 5;
/// RFC 8628 §3.5: after `slow_down`, wait 5 seconds longer than before.
const SLOW_DOWN_STEP_SECS: u32 = 5;

/// The device flow's first answer: what to show the person, and what to
/// poll with.
#[derive(Debug)]
pub struct Authorization {
    /// Pass it to [`poll`]; never show it.
    pub device_code: Secret,
    /// Show this code; the person types it at `verification_uri`.
    pub user_code: String,
    /// Where the person approves the device.
    pub verification_uri: String,
    /// Poll no more often than this.
    pub interval_secs: u32,
}

/// The outcome of one [`poll`].
#[derive(Debug)]
pub enum Poll {
    /// Not approved yet: poll again after this many seconds.
    Pending(u32),
    /// Polled too often: poll again after this (longer) many seconds.
    SlowDown(u32),
    /// Approved: the session.
    Authorized(Box<Session>),
}

/// Starts the device flow with `config`'s login URL and client id (its
/// grant is not used); `scope` defaults to the app's scopes.
pub fn start(
    config: &Config,
    scope: Option<&str>,
    transport: &mut dyn Transport,
) -> Result<Authorization, Error> {
    let s = config.base_settings()?;
    let mut form = url::form_urlencoded::Serializer::new(String::new());
    form.append_pair("response_type", "device_code")
        .append_pair("client_id", s.client_id()?);
    if let Some(scope) = scope.map(str::trim).filter(|v| !v.is_empty()) {
        form.append_pair("scope", scope);
    }
    let request = super::form_post(&s, super::TOKEN_PATH, form.finish(), Vec::new());
    let resp = transport.send(&request)?;
    let redactor = config.redactor();
    if !(200..300).contains(&resp.status) {
        return Err(token::oauth_error(&resp, Flow::Device, &redactor));
    }
    authorization(&resp).ok_or_else(|| {
        // The body carries the device code: never quote it.
        Error::unexpected(
            resp.status,
            resp.content_type(),
            "the device flow answer lacks device_code, user_code or verification_uri",
            b"",
        )
    })
}

fn authorization(resp: &HttpResponse) -> Option<Authorization> {
    let v: Value = serde_json::from_slice(&resp.body).ok()?;
    let text = |k: &str| {
        v.get(k)?
            .as_str()
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let interval = match v.get("interval") {
        Some(Value::Number(n)) => u32::try_from(n.as_u64()?).ok()?,
        Some(Value::String(s)) => s.trim().parse().ok()?,
        _ => DEFAULT_INTERVAL_SECS,
    };
    Some(Authorization {
        device_code: Secret::new(text("device_code")?),
        user_code: text("user_code")?,
        verification_uri: text("verification_uri")?,
        interval_secs: interval,
    })
}

/// One poll. `interval_secs` is the wait the caller used, for `slow_down`.
pub fn poll(
    config: &Config,
    device_code: &Secret,
    interval_secs: u32,
    transport: &mut dyn Transport,
) -> Result<Poll, Error> {
    let s = config.base_settings()?;
    let mut form = url::form_urlencoded::Serializer::new(String::new());
    form.append_pair("grant_type", "device")
        .append_pair("client_id", s.client_id()?)
        .append_pair("code", device_code.expose().trim());
    if let Some(secret) = &s.client_secret {
        form.append_pair("client_secret", secret.expose());
    }
    let request = super::form_post(&s, super::TOKEN_PATH, form.finish(), Vec::new());
    let resp = transport.send(&request)?;
    let mut redactor: Redactor = config.redactor();
    redactor.add(device_code);
    if resp.status == 400 {
        match token::oauth_fields(&resp.body).map(|(e, _)| e).as_deref() {
            Some("authorization_pending") => return Ok(Poll::Pending(interval_secs)),
            Some("slow_down") => {
                return Ok(Poll::SlowDown(
                    interval_secs.saturating_add(SLOW_DOWN_STEP_SECS),
                ))
            }
            _ => {}
        }
    }
    token::parse(&resp, &s, Flow::Device, &redactor).map(|s| Poll::Authorized(Box::new(s)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Grant;
    use crate::http::testing::Scripted;

    fn config() -> Config {
        // The grant is not used by the device flow, whatever it is.
        let unused = Grant::ClientCredentials { basic_auth: false };
        crate::config::fixture("https://login.salesforce.com", unused)
    }

    fn answer(status: u16, body: &str) -> HttpResponse {
        HttpResponse {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn start_then_pending_slow_down_and_success() {
        let mut t = Scripted::new(vec![
            Ok(answer(
                200,
                r#"{"device_code":"dc-SECRET","user_code":"ABCD-1234","verification_uri":"https://login.salesforce.com/setup/connect","interval":5}"#,
            )),
            Ok(answer(
                400,
                r#"{"error":"authorization_pending","error_description":"pending"}"#,
            )),
            Ok(answer(
                400,
                r#"{"error":"slow_down","error_description":"slow down"}"#,
            )),
            Ok(answer(
                200,
                r#"{"access_token":"00Dx!a","refresh_token":"rt","instance_url":"https://acme.my.salesforce.com"}"#,
            )),
        ]);
        let a = start(&config(), Some("api refresh_token"), &mut t).unwrap();
        assert_eq!((a.user_code.as_str(), a.interval_secs), ("ABCD-1234", 5));
        assert!(t.bodies[0].contains("response_type=device_code"));
        assert!(!format!("{a:?}").contains("SECRET"));
        assert!(matches!(
            poll(&config(), &a.device_code, 5, &mut t),
            Ok(Poll::Pending(5))
        ));
        assert!(matches!(
            poll(&config(), &a.device_code, 5, &mut t),
            Ok(Poll::SlowDown(10))
        ));
        assert!(
            t.bodies[1].contains("grant_type=device") && t.bodies[1].contains("code=dc-SECRET")
        );
        match poll(&config(), &a.device_code, 10, &mut t) {
            Ok(Poll::Authorized(s)) => assert_eq!(s.refresh_token.unwrap().expose(), "rt"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn denied_and_expired_codes_fail_with_a_hint() {
        for (error, word) in [("access_denied", "denied"), ("expired_token", "expired")] {
            let body = format!(r#"{{"error":"{error}","error_description":"x"}}"#);
            let mut t = Scripted::new(vec![Ok(answer(400, &body))]);
            match poll(&config(), &Secret::new("dc"), 5, &mut t) {
                Err(Error::AuthenticationFailed { hint, .. }) => {
                    assert!(hint.contains(word), "{hint}")
                }
                other => panic!("{other:?}"),
            }
        }
    }
}
