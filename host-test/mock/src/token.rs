//! `POST /services/oauth2/token`: every OAuth grant the connector may use
//! (and the device flow, in `device`), with Salesforce's response fields and
//! its flat `{"error","error_description"}` errors.

use crate::credentials::Credentials;
use crate::errors::{self, oauth, ApiError};
use crate::sessions::{Family, Refused};
use crate::state::{identity_url, Shared};
use crate::{device, jwt, Listener};
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

/// The token request's parameters: query string first (Zato sends them
/// there), then the form body, whose values win on conflict; the client id
/// and secret may come in a Basic header instead (simple-salesforce).
pub(crate) struct Params {
    map: HashMap<String, String>,
    client_id: Option<String>,
    client_secret: Option<String>,
}

impl Params {
    fn parse(headers: &HeaderMap, raw_query: Option<&str>, body: &[u8]) -> Params {
        let mut map: HashMap<String, String> = HashMap::new();
        if let Some(q) = raw_query {
            map.extend(form_urlencoded::parse(q.as_bytes()).into_owned());
        }
        map.extend(form_urlencoded::parse(body).into_owned());
        let (basic_id, basic_secret) = basic_auth(headers).unzip();
        Params {
            client_id: map.get("client_id").cloned().or(basic_id),
            client_secret: map.get("client_secret").cloned().or(basic_secret),
            map,
        }
    }

    pub(crate) fn get(&self, k: &str) -> Option<&str> {
        self.map.get(k).map(String::as_str)
    }

    /// The connected app's consumer key, and its secret where one is required or sent.
    pub(crate) fn check_client(
        &self,
        c: &Credentials,
        secret_required: bool,
    ) -> Result<(), ApiError> {
        if self.client_id.as_deref() != Some(c.client_id.as_str()) {
            return Err(oauth("invalid_client_id", "client identifier invalid"));
        }
        match self.client_secret.as_deref() {
            Some(s) if s == c.client_secret => Ok(()),
            None if !secret_required => Ok(()),
            _ => Err(oauth("invalid_client", "invalid client credentials")),
        }
    }
}

pub(crate) async fn token(
    State(st): State<Arc<Shared>>,
    Extension(listener): Extension<Listener>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
    body: Bytes,
) -> Result<Response, ApiError> {
    let p = Params::parse(&headers, raw.as_deref(), &body);
    let grant = p.get("grant_type").filter(|g| !g.is_empty());
    // The device flow starts on the token endpoint without a grant type
    // (salesforce-facts.md §2.6).
    if grant.is_none() && p.get("response_type") == Some("device_code") {
        return device::start(&st, &listener, &p);
    }
    let Some(grant) = grant else {
        return Err(oauth("invalid_request", "grant type is missing"));
    };
    match grant {
        "password" => password(&st, &listener, &p),
        "client_credentials" => {
            p.check_client(&st.credentials, true)?;
            let mut resp = success_body(&st, &listener, None, None);
            // Real client-credentials answers also name the API gateway host.
            resp["api_instance_url"] = json!("https://api.salesforce.com");
            Ok(errors::json(StatusCode::OK, &resp))
        }
        "refresh_token" => refresh(&st, &listener, &p),
        "authorization_code" => {
            p.check_client(&st.credentials, false)?;
            authorization_code(
                &st,
                p.get("code"),
                p.get("redirect_uri"),
                p.get("code_verifier"),
            )?;
            // Each authorization starts its own refresh-token family.
            let (refresh_token, family) = st.new_refresh_family();
            Ok(success(&st, &listener, Some(family), Some(&refresh_token)))
        }
        "device" => device::poll(&st, &listener, &p),
        JWT_GRANT => jwt_bearer(&st, &listener, p.get("assertion").unwrap_or("")),
        _ => Err(oauth("unsupported_grant_type", "grant type not supported")),
    }
}

fn password(st: &Shared, listener: &Listener, p: &Params) -> Result<Response, ApiError> {
    // A blocked flow answers exactly like a wrong password, whatever was sent
    // (help.salesforce.com xcloud.remoteaccess_disable_username_password_flow_ca;
    // confluentinc/kafka-docker-playground #4178).
    if st.knobs.password_flow_blocked() {
        return Err(oauth("invalid_grant", "authentication failure"));
    }
    let c = &st.credentials;
    p.check_client(c, true)?;
    let expected = format!("{}{}", c.password, c.security_token);
    if p.get("username") == Some(c.username.as_str()) && p.get("password") == Some(&expected) {
        Ok(success(st, listener, None, None))
    } else {
        Err(oauth("invalid_grant", "authentication failure"))
    }
}

/// With rotation the answer carries the family's next refresh token; a used
/// or revoked one revokes the family (help.salesforce.com article 005316711).
/// Both refusals read the same (restforce spec/fixtures/refresh_error_response.json).
fn refresh(st: &Shared, listener: &Listener, p: &Params) -> Result<Response, ApiError> {
    p.check_client(&st.credentials, false)?;
    let presented = p.get("refresh_token").unwrap_or("");
    match st.redeem_refresh(presented) {
        Ok((family, next)) => Ok(success(st, listener, Some(family), next.as_deref())),
        Err(Refused::Unknown | Refused::Reused) => {
            Err(oauth("invalid_grant", "expired access/refresh token"))
        }
    }
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
    let expect = jwt::Expect {
        key: &st.jwt_key,
        client_id: &c.client_id,
        username: &c.username,
        audience: jwt::audience(st.knobs.sandbox()),
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

/// A token answer; its access token belongs to `family` when a refresh token
/// stands behind it, so revoking the family revokes it too.
fn success_body(
    st: &Shared,
    listener: &Listener,
    family: Option<Family>,
    refresh_token: Option<&str>,
) -> Value {
    let id = identity_url();
    let issued_at = now_ms().to_string();
    let mut key = st.credentials.client_secret.clone();
    if st.knobs.tamper_signature() {
        key.push_str("-tampered");
    }
    let mut body = json!({
        "access_token": st.issue_token_in(family),
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

pub(crate) fn success(
    st: &Shared,
    listener: &Listener,
    family: Option<Family>,
    refresh_token: Option<&str>,
) -> Response {
    let body = success_body(st, listener, family, refresh_token);
    errors::json(StatusCode::OK, &body)
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
