//! OAuth 2.0 against `/services/oauth2/token`: one request builder per grant
//! and one response parser for all of them.

#[allow(unused_imports)]
use crate::prelude::*;

pub mod jwt;
pub mod pkce;
pub mod token;

use crate::config::{Config, Grant, Settings};
use crate::error::Error;
use crate::http::{HttpRequest, Method, Transport};
use crate::secret::Secret;
use crate::session::Session;
use base64::Engine as _;

pub const TOKEN_PATH: &str = "/services/oauth2/token";
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// Runs the configured flow. `now_secs` is the wall clock (for the JWT `exp`).
pub fn authenticate(
    config: &Config,
    transport: &mut dyn Transport,
    now_secs: u64,
) -> Result<Session, Error> {
    let settings = config.settings()?;
    if let Grant::AccessToken {
        access_token,
        instance_url,
    } = &config.grant
    {
        // Configured by the user, like login-url: trusted as given. Only an
        // instance_url that a server hands back is held to the domain rule.
        let instance_url = crate::urls::parse_base("instance-url", instance_url)?;
        return Ok(Session {
            access_token: Secret::new(access_token.expose().trim()),
            instance_url,
            identity_url: None,
            org_id: None,
            user_id: None,
            token_type: "Bearer".into(),
            issued_at: None,
            scope: None,
            refresh_token: None,
            api_version: settings.api_version,
            signature_verified: false,
            limits: settings.limits,
        });
    }
    let request = token_request(config, &settings, now_secs)?;
    let response = transport.send(&request)?;
    token::parse(&response, &settings, &config.grant, &config.redactor())
}

/// The token request for every grant but access-token reuse.
pub fn token_request(config: &Config, s: &Settings, now_secs: u64) -> Result<HttpRequest, Error> {
    let mut form = url::form_urlencoded::Serializer::new(String::new());
    let mut headers = vec![
        (
            "content-type".to_string(),
            "application/x-www-form-urlencoded".to_string(),
        ),
        ("accept".to_string(), "application/json".to_string()),
    ];
    match &config.grant {
        Grant::Password {
            username,
            password,
            security_token,
        } => {
            let mut pw = password.expose().to_string();
            if let Some(t) = security_token {
                pw.push_str(t.expose().trim());
            }
            form.append_pair("grant_type", "password")
                .append_pair("client_id", s.client_id()?)
                .append_pair("client_secret", s.client_secret()?.expose())
                .append_pair("username", username.trim())
                .append_pair("password", &pw);
        }
        Grant::JwtBearer {
            username,
            private_key_pem,
            audience,
        } => {
            let key = jwt::parse_key(private_key_pem)?;
            let aud = match audience.as_deref().map(str::trim).filter(|a| !a.is_empty()) {
                Some(a) => crate::urls::origin(&crate::urls::parse_base("audience", a)?),
                None => crate::urls::origin(&s.login_url),
            };
            let assertion = jwt::assertion(s.client_id()?, username.trim(), &aud, &key, now_secs)?;
            form.append_pair("grant_type", JWT_BEARER)
                .append_pair("assertion", assertion.expose());
        }
        Grant::ClientCredentials { basic_auth } => {
            form.append_pair("grant_type", "client_credentials");
            let (id, secret) = (s.client_id()?, s.client_secret()?);
            if *basic_auth {
                let pair = base64::engine::general_purpose::STANDARD
                    .encode(format!("{id}:{}", secret.expose()));
                headers.push(("authorization".into(), format!("Basic {pair}")));
            } else {
                form.append_pair("client_id", id)
                    .append_pair("client_secret", secret.expose());
            }
        }
        Grant::RefreshToken { refresh_token } => {
            form.append_pair("grant_type", "refresh_token")
                .append_pair("refresh_token", refresh_token.expose().trim())
                .append_pair("client_id", s.client_id()?);
            if let Some(secret) = &s.client_secret {
                form.append_pair("client_secret", secret.expose());
            }
        }
        Grant::AuthorizationCode {
            code,
            redirect_uri,
            code_verifier,
        } => {
            form.append_pair("grant_type", "authorization_code")
                .append_pair("code", code.expose().trim())
                .append_pair("client_id", s.client_id()?)
                .append_pair("redirect_uri", redirect_uri.trim());
            if let Some(secret) = &s.client_secret {
                form.append_pair("client_secret", secret.expose());
            }
            if let Some(v) = code_verifier {
                form.append_pair("code_verifier", v.expose().trim());
            }
        }
        Grant::AccessToken { .. } => {
            return Err(Error::config(
                "grant",
                "access-token reuse makes no token request",
            ))
        }
    }
    let url = s
        .login_url
        .join(TOKEN_PATH)
        .map_err(|e| Error::config("login-url", e.to_string()))?;
    Ok(HttpRequest {
        method: Method::Post,
        url,
        headers,
        body: Some(form.finish().into_bytes()),
        timeout: s.limits.timeout(),
        max_body: s.limits.max_response_bytes,
    })
}
