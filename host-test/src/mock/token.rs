//! `POST /services/oauth2/token`: every OAuth grant the connector may use,
//! with Salesforce's response fields and its flat `{"error","error_description"}` errors.

use crate::mock::errors::{self, oauth, ApiError};
use crate::mock::jwt;
use crate::mock::state::{identity_url, Shared};
use crate::mock::Listener;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::Response;
use axum::Extension;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

const JWT_GRANT: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

pub(crate) async fn token(
    State(st): State<Arc<Shared>>,
    Extension(listener): Extension<Listener>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
    body: Bytes,
) -> Result<Response, ApiError> {
    // Zato sends the parameters in the query string; body values win on conflict.
    let mut p: HashMap<String, String> = HashMap::new();
    if let Some(q) = raw.as_deref() {
        p.extend(form_urlencoded::parse(q.as_bytes()).into_owned());
    }
    p.extend(form_urlencoded::parse(&body).into_owned());
    let (basic_id, basic_secret) = basic_auth(&headers).unzip();
    let client_id = p.get("client_id").cloned().or(basic_id);
    let client_secret = p.get("client_secret").cloned().or(basic_secret);
    let get = |k: &str| p.get(k).map(String::as_str);

    let Some(grant) = get("grant_type").filter(|g| !g.is_empty()) else {
        return Err(oauth("invalid_request", "grant type is missing"));
    };
    let c = &st.credentials;
    let client = |secret_required: bool| -> Result<(), ApiError> {
        if client_id.as_deref() != Some(c.client_id.as_str()) {
            return Err(oauth("invalid_client_id", "client identifier invalid"));
        }
        match client_secret.as_deref() {
            Some(s) if s == c.client_secret => Ok(()),
            None if !secret_required => Ok(()),
            _ => Err(oauth("invalid_client", "invalid client credentials")),
        }
    };
    let result = match grant {
        "password" => client(true).and_then(|()| {
            let expected = format!("{}{}", c.password, c.security_token);
            if get("username") == Some(c.username.as_str()) && get("password") == Some(&expected) {
                Ok(success(&st, &listener, None))
            } else {
                Err(oauth("invalid_grant", "authentication failure"))
            }
        }),
        "client_credentials" => {
            client(true).map(|()| {
                let mut resp = success_body(&st, &listener, None);
                // Real client-credentials answers also name the API gateway host.
                resp["api_instance_url"] = json!("https://api.salesforce.com");
                errors::json(StatusCode::OK, &resp)
            })
        }
        "refresh_token" => client(false).and_then(|()| {
            if get("refresh_token") == Some(c.refresh_token.as_str()) {
                Ok(success(&st, &listener, None))
            } else {
                Err(oauth("invalid_grant", "expired access/refresh token"))
            }
        }),
        "authorization_code" => client(false).and_then(|()| {
            authorization_code(&st, get("code"), get("redirect_uri"), get("code_verifier"))?;
            Ok(success(&st, &listener, Some(&c.refresh_token)))
        }),
        JWT_GRANT => jwt_bearer(&st, &listener, get("assertion").unwrap_or("")),
        _ => Err(oauth("unsupported_grant_type", "grant type not supported")),
    };
    result
}

/// `Authorization: Basic base64(client_id:client_secret)`, as simple-salesforce sends it.
fn basic_auth(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    Some((id.to_string(), secret.to_string()))
}

fn authorization_code(
    st: &Shared,
    code: Option<&str>,
    redirect_uri: Option<&str>,
    verifier: Option<&str>,
) -> Result<(), ApiError> {
    // Single use: the code is gone whether or not the rest checks out.
    let Some(issued) = code.and_then(|c| st.take_code(c)) else {
        return Err(oauth("invalid_grant", "invalid authorization code"));
    };
    if redirect_uri != Some(issued.redirect_uri.as_str()) {
        return Err(oauth(
            "redirect_uri_mismatch",
            "redirect_uri must match configuration",
        ));
    }
    if let Some(challenge) = issued.challenge {
        // S256 only, with no 128-character cap: jsforce sends 171-character verifiers.
        let ok = verifier.is_some_and(|v| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(v.as_bytes()))
                == challenge
        });
        if !ok {
            return Err(oauth("invalid_grant", "invalid code verifier"));
        }
    }
    Ok(())
}

fn jwt_bearer(st: &Shared, listener: &Listener, assertion: &str) -> Result<Response, ApiError> {
    let c = &st.credentials;
    let audiences = [
        "https://login.salesforce.com",
        "https://test.salesforce.com",
        st.http_url.as_str(),
        st.https_url.as_str(),
    ];
    let expect = jwt::Expect {
        key: &st.jwt_key,
        client_id: &c.client_id,
        username: &c.username,
        audiences: &audiences,
        now_secs: now_ms() as f64 / 1000.0,
    };
    jwt::verify(assertion, &expect).map_err(|(e, d)| oauth(e, d))?;
    // JWT answers carry neither `signature` nor `issued_at`.
    let body = json!({
        "access_token": st.issue_token(),
        "scope": "api full",
        "instance_url": instance_url(st, listener),
        "id": identity_url(),
        "token_type": "Bearer",
    });
    Ok(errors::json(StatusCode::OK, &body))
}

pub(crate) fn instance_url(st: &Shared, listener: &Listener) -> String {
    st.knobs
        .instance_url_override()
        .unwrap_or_else(|| listener.base_url.clone())
}

fn now_ms() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0)
}

/// `base64(HMAC-SHA256(client_secret, id + issued_at))`, what clients verify.
pub(crate) fn signature(secret: &str, id: &str, issued_at: &str) -> String {
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(m) => m,
        Err(_) => return String::new(),
    };
    mac.update(id.as_bytes());
    mac.update(issued_at.as_bytes());
    STANDARD.encode(mac.finalize().into_bytes())
}

fn success_body(st: &Shared, listener: &Listener, refresh_token: Option<&str>) -> Value {
    let id = identity_url();
    let issued_at = now_ms().to_string();
    let mut key = st.credentials.client_secret.clone();
    if st.knobs.tamper_signature() {
        key.push_str("-tampered");
    }
    let mut body = json!({
        "access_token": st.issue_token(),
        "signature": signature(&key, &id, &issued_at),
        "scope": "api web full refresh_token",
        "instance_url": instance_url(st, listener),
        "id": id,
        "token_type": "Bearer",
        "issued_at": issued_at,
    });
    if let Some(rt) = refresh_token {
        body["refresh_token"] = json!(rt);
    }
    body
}

fn success(st: &Shared, listener: &Listener, refresh_token: Option<&str>) -> Response {
    errors::json(StatusCode::OK, &success_body(st, listener, refresh_token))
}

#[cfg(test)]
mod tests {
    #[test]
    fn signature_matches_the_documented_vector() {
        let id = "https://login.salesforce.com/id/00D000000000001EAA/005000000000001AAA";
        assert_eq!(
            super::signature("secret", id, "1700000000000"),
            "xwjgdwExawzcsxDK0EXiR5xbdOsg+6u59M7fWZjbpS0="
        );
    }
}
