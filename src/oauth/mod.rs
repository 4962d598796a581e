//! OAuth 2.0 against Salesforce's `/services/oauth2/*` endpoints: one
//! request builder per grant, one response parser for all of them, and the
//! flows built on them (renewal, the device flow, revocation).

#[allow(unused_imports)]
use crate::prelude::*;

pub mod audience;
pub mod device;
pub mod jwt;
pub mod pkce;
pub mod renew;
pub mod revoke;
pub mod token;

use crate::config::{Config, Grant, Settings};
use crate::error::Error;
use crate::http::{HttpRequest, Method, Transport};
use crate::secret::{Redactor, Secret};
use crate::session::Session;
use base64::Engine as _;
use token::Flow;

/// The token endpoint, under the login URL.
pub const TOKEN_PATH: &str = "/services/oauth2/token";
/// The JWT bearer flow's `grant_type`.
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// Runs the configured flow. `now_secs` is the wall clock (for the JWT `exp`).
pub fn authenticate(
    config: &Config,
    transport: &mut dyn Transport,
    now_secs: u64,
) -> Result<Session, Error> {
    let settings = config.settings()?;
    let redactor = config.redactor();
    match &config.grant {
        Grant::AccessToken {
            access_token,
            instance_url,
        } => reused_token(access_token, instance_url, settings),
        Grant::JwtBearer {
            username,
            private_key_pem,
            audience,
        } => {
            let login = jwt::Login {
                username: username.trim(),
                key: jwt::parse_key(private_key_pem)?,
                audience: audience.as_deref().map(str::trim).filter(|a| !a.is_empty()),
            };
            login.run(transport, &settings, &redactor, now_secs)
        }
        grant => {
            let request = token_request(grant, &settings)?;
            exchange(transport, &request, &settings, grant, &redactor)
        }
    }
}

/// An access token obtained elsewhere: no request is made.
fn reused_token(
    access_token: &Secret,
    instance_url: &str,
    settings: Settings,
) -> Result<Session, Error> {
    // Configured by the user, like login-url: trusted as given. Only an
    // instance_url that a server hands back is held to the domain rule.
    let instance_url = crate::urls::parse_base("instance-url", instance_url)?;
    Ok(Session {
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
    })
}

/// Sends a token request and reads the answer. A refresh that returns no
/// new refresh token (rotation off) leaves the one it used in the session,
/// so the session always holds the newest.
pub(crate) fn exchange(
    transport: &mut dyn Transport,
    request: &HttpRequest,
    settings: &Settings,
    grant: &Grant,
    redactor: &Redactor,
) -> Result<Session, Error> {
    let response = transport.send(request)?;
    let mut session = token::parse(&response, settings, Flow::of(grant), redactor)?;
    if let (None, Grant::RefreshToken { refresh_token }) = (&session.refresh_token, grant) {
        session.refresh_token = Some(Secret::new(refresh_token.expose().trim()));
    }
    Ok(session)
}

/// A form POST to one of the login host's OAuth endpoints.
pub(crate) fn form_post(
    s: &Settings,
    path: &str,
    form: String,
    mut headers: Vec<(String, String)>,
) -> HttpRequest {
    headers.push((
        "content-type".into(),
        "application/x-www-form-urlencoded".into(),
    ));
    headers.push(("accept".into(), "application/json".into()));
    HttpRequest {
        method: Method::Post,
        url: crate::urls::endpoint(&s.login_url, path),
        headers,
        body: Some(form.into_bytes()),
        timeout: s.limits.timeout(),
        max_body: s.limits.max_response_bytes,
    }
}

/// The token request for every grant but JWT bearer (signed per audience)
/// and access-token reuse (no request).
pub fn token_request(grant: &Grant, s: &Settings) -> Result<HttpRequest, Error> {
    let mut form = url::form_urlencoded::Serializer::new(String::new());
    let mut headers = Vec::new();
    match grant {
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
        Grant::JwtBearer { .. } | Grant::AccessToken { .. } => {
            return Err(Error::config(
                "grant",
                "has no plain token request (JWT assertions are signed per audience)",
            ))
        }
    }
    Ok(form_post(s, TOKEN_PATH, form.finish(), headers))
}
