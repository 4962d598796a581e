//! `oauth::token::parse`: the token endpoint's answer, success or OAuth error
//! (the private `oauth_error` path), for every grant.
#![no_main]

use arbitrary::{Arbitrary, Unstructured};
use base64::Engine as _;
use fuzz_common::*;
use hmac::{Hmac, Mac};
use libfuzzer_sys::fuzz_target;
use salesforce_connector::config::{Config, Grant, Limits, Settings};
use salesforce_connector::error::Error;
use salesforce_connector::http::HttpResponse;
use salesforce_connector::oauth::token;
use salesforce_connector::secret::Secret;
use salesforce_connector::{identity, urls};
use serde_json::Value;

fn password_and_token() -> String {
    format!("{PASSWORD}{SECURITY_TOKEN}")
}

/// What `$r0`..`$r7` stand for in this target's inputs.
fn placeholders() -> Vec<String> {
    [
        CLIENT_SECRET,
        PASSWORD,
        SECURITY_TOKEN,
        REFRESH_TOKEN,
        AUTH_CODE,
        CODE_VERIFIER,
        KEY_STANDIN,
    ]
    .iter()
    .map(|s| s.to_string())
    .chain([password_and_token()])
    .collect()
}

fn config(kind: GrantKind, client_secret: bool) -> Config {
    let username = "integration@example.com".to_string();
    let grant = match kind {
        GrantKind::Password => Grant::Password {
            username,
            password: Secret::new(PASSWORD),
            security_token: Some(Secret::new(SECURITY_TOKEN)),
        },
        GrantKind::JwtBearer => Grant::JwtBearer {
            username,
            private_key_pem: Secret::new(KEY_STANDIN),
            audience: None,
        },
        GrantKind::ClientCredentials => Grant::ClientCredentials { basic_auth: false },
        GrantKind::RefreshToken => Grant::RefreshToken {
            refresh_token: Secret::new(REFRESH_TOKEN),
        },
        GrantKind::AuthorizationCode => Grant::AuthorizationCode {
            code: Secret::new(AUTH_CODE),
            redirect_uri: "https://app.example.com/oauth/callback".into(),
            code_verifier: Some(Secret::new(CODE_VERIFIER)),
        },
    };
    Config {
        login_url: Some("https://login.salesforce.com".into()),
        client_id: Some("3MVG9fuzzConsumerKey".into()),
        client_secret: client_secret.then(|| Secret::new(CLIENT_SECRET)),
        grant,
        api_version: None,
        timeout_ms: None,
        deadline_ms: None,
        max_response_bytes: None,
        retry: None,
        allowed_hosts: Vec::new(),
    }
}

/// The secrets the configuration holds: none may come back in an error.
fn kept_secrets(kind: GrantKind, client_secret: bool) -> Vec<String> {
    let mut s: Vec<String> = match kind {
        GrantKind::Password => vec![PASSWORD.into(), SECURITY_TOKEN.into(), password_and_token()],
        GrantKind::JwtBearer => vec![KEY_STANDIN.into()],
        GrantKind::ClientCredentials => vec![],
        GrantKind::RefreshToken => vec![REFRESH_TOKEN.into()],
        GrantKind::AuthorizationCode => vec![AUTH_CODE.into(), CODE_VERIFIER.into()],
    };
    if client_secret {
        s.push(CLIENT_SECRET.into());
    }
    s
}

/// `issued_at` as the signature covers it: the string, or the number's text.
fn raw_issued_at(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn sign(id: &str, issued_at: &str) -> String {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(CLIENT_SECRET.as_bytes()).expect("any key");
    mac.update(id.as_bytes());
    mac.update(issued_at.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// Puts the right signature into a JSON body that has `id` and `issued_at`.
fn resign(body: &[u8]) -> Option<Vec<u8>> {
    let mut v: Value = serde_json::from_slice(body).ok()?;
    let obj = v.as_object_mut()?;
    let id = obj.get("id")?.as_str()?.to_string();
    let issued = raw_issued_at(obj.get("issued_at"))?;
    obj.insert("signature".into(), Value::String(sign(&id, &issued)));
    serde_json::to_vec(&v).ok()
}

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let Ok(head) = TokenHead::arbitrary(&mut u) else {
        return;
    };
    let names = placeholders();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let (headers, mut body) = split_response(&expand(u.take_rest(), &names));
    if head.resign {
        if let Some(signed) = resign(&body) {
            body = signed;
        }
    }
    let resp = HttpResponse {
        status: head.status,
        headers,
        body,
    };
    let config = config(head.grant, head.client_secret);
    let settings = Settings {
        login_url: url::Url::parse("https://login.salesforce.com").expect("valid"),
        client_id: config.client_id.clone(),
        client_secret: config.client_secret.clone(),
        api_version: "62.0".into(),
        limits: Limits {
            timeout_ms: 10_000,
            deadline_ms: 60_000,
            max_response_bytes: 1 << 20,
            retry: Default::default(),
        },
        allowed_hosts: Vec::new(),
    };
    let result = token::parse(&resp, &settings, token::Flow::of(&config.grant), &config.redactor());

    let status = resp.status;
    let success = (200..300).contains(&status);
    let json: Option<Value> = serde_json::from_slice(&resp.body).ok();
    match &result {
        Ok(session) => {
            assert!(success, "a session from status {status}");
            let obj = json
                .as_ref()
                .and_then(Value::as_object)
                .expect("a session comes from a JSON object");
            assert!(!session.access_token.is_empty());
            assert_eq!(
                Some(session.access_token.expose()),
                obj.get("access_token").and_then(Value::as_str)
            );
            // The bearer token goes to this URL next: https (or loopback
            // http), a host, no credentials, nothing but the origin.
            let url = &session.instance_url;
            assert!(
                url.scheme() == "https" || (url.scheme() == "http" && urls::is_loopback(url)),
                "instance {url}"
            );
            assert!(
                url.host_str().is_some_and(|h| !h.is_empty()),
                "instance {url}"
            );
            assert!(
                url.username().is_empty() && url.password().is_none(),
                "instance {url}"
            );
            assert!(
                url.query().is_none() && url.fragment().is_none(),
                "instance {url}"
            );
            assert!(matches!(url.path(), "" | "/"), "instance {url}");
            assert_eq!(
                settings.instance_url(&urls::origin(url)).as_ref(),
                Ok(url),
                "the instance origin does not validate again"
            );
            let id = obj.get("id").and_then(Value::as_str);
            assert_eq!(session.identity_url.as_deref(), id);
            assert_eq!(
                session.org_id.clone().zip(session.user_id.clone()),
                id.and_then(identity::parse)
            );
            assert_eq!(session.org_id.is_some(), session.user_id.is_some());
            let signature = obj.get("signature").and_then(Value::as_str);
            if session.signature_verified {
                let secret = settings
                    .client_secret
                    .as_ref()
                    .expect("verified without a secret");
                let issued =
                    raw_issued_at(obj.get("issued_at")).expect("verified without issued_at");
                assert!(token::signature_matches(
                    secret,
                    id.expect("verified without id"),
                    &issued,
                    signature.expect("verified without a signature")
                ));
            } else {
                assert!(
                    settings.client_secret.is_none() || signature.is_none(),
                    "a signature was present and a secret configured, yet not verified"
                );
            }
            assert_eq!(
                session.issued_at.is_some(),
                !matches!(obj.get("issued_at"), None | Some(Value::Null))
            );
            assert_eq!(session.api_version, settings.api_version);
            assert_eq!(session.limits, settings.limits);
            // Debug must not depend on the tokens' values.
            let mut masked = session.clone();
            masked.access_token = Secret::new("masked");
            masked.refresh_token = masked.refresh_token.map(|_| Secret::new("masked"));
            assert_eq!(format!("{session:?}"), format!("{masked:?}"));
        }
        Err(e) => {
            let kept = kept_secrets(head.grant, head.client_secret);
            let kept: Vec<&str> = kept.iter().map(String::as_str).collect();
            assert_no_leak(e, &kept);
            check_excerpt(e);
            let html = resp
                .content_type()
                .is_some_and(|c| c.to_ascii_lowercase().contains("html"));
            match e {
                Error::Unexpected {
                    status: s, excerpt, ..
                } => {
                    assert_eq!(*s, status);
                    assert_ne!(status, 429, "a 429 is rate limiting");
                    if success && !html {
                        assert!(
                            excerpt.is_empty(),
                            "a 2xx token body was quoted: {excerpt:?}"
                        );
                    }
                }
                Error::AuthenticationFailed {
                    status: s,
                    error,
                    hint,
                    ..
                } => {
                    assert_eq!(*s, status);
                    assert!(!hint.is_empty());
                    assert_ne!(status, 429, "a 429 is rate limiting");
                    if success {
                        assert_eq!(error, "invalid_signature");
                        assert!(settings.client_secret.is_some());
                    }
                }
                Error::RateLimited {
                    status: s,
                    retry_after_seconds,
                    ..
                } if !success => {
                    assert_eq!(*s, status);
                    assert_eq!(
                        *retry_after_seconds,
                        resp.header("retry-after")
                            .and_then(|v| v.trim().parse().ok())
                    );
                }
                // A 2xx naming an instance_url this configuration does not trust.
                Error::Denied(_) if success => {}
                other => panic!("status {status} gave {other:?}"),
            }
        }
    }
});
