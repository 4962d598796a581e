//! The token endpoint's answer: a session, or an OAuth error with a hint.

#[allow(unused_imports)]
use crate::prelude::*;

use crate::config::{Grant, Settings};
use crate::error::Error;
use crate::http::HttpResponse;
use crate::secret::{Redactor, Secret};
use crate::session::Session;
use crate::urls::InstanceProblem;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde_json::{Map, Value};
use sha2::Sha256;

/// Verifies `signature` = base64(HMAC-SHA256(client secret, id + issued_at)).
pub fn signature_matches(secret: &Secret, id: &str, issued_at: &str, signature: &str) -> bool {
    let Ok(expected) = base64::engine::general_purpose::STANDARD.decode(signature.trim()) else {
        return false;
    };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.expose().as_bytes()) else {
        return false;
    };
    mac.update(id.as_bytes());
    mac.update(issued_at.as_bytes());
    mac.verify_slice(&expected).is_ok()
}

fn text<'a>(obj: &'a Map<String, Value>, key: &str) -> Result<Option<&'a str>, String> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(format!("`{key}` is not a string")),
    }
}

/// `issued_at` is a 13-digit millisecond string in practice; the docs say
/// seconds. Both, as string or number, become milliseconds.
fn issued_at_ms(value: Option<&Value>) -> Result<Option<(u64, String)>, String> {
    let raw = match value {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        Some(_) => return Err("`issued_at` is not a string".into()),
    };
    let n: u64 = raw.trim().parse().map_err(|_| {
        format!(
            "`issued_at` is not a number: {:?}",
            crate::error::excerpt(raw.as_bytes())
        )
    })?;
    let ms = if n < 100_000_000_000 {
        n.saturating_mul(1000)
    } else {
        n
    };
    Ok(Some((ms, raw)))
}

/// Which flow a token answer belongs to, for the hints of its errors.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    /// The username-password flow.
    Password,
    /// The JWT bearer flow.
    JwtBearer,
    /// The client credentials flow.
    ClientCredentials,
    /// A refresh-token exchange.
    RefreshToken,
    /// The web server flow's code exchange.
    AuthorizationCode,
    /// The device flow.
    Device,
    /// Revocation.
    Revoke,
}

impl Flow {
    /// The flow `grant` runs (access-token reuse gets the client
    /// credentials hints).
    pub fn of(grant: &Grant) -> Flow {
        match grant {
            Grant::Password { .. } => Flow::Password,
            Grant::JwtBearer { .. } => Flow::JwtBearer,
            Grant::ClientCredentials { .. } | Grant::AccessToken { .. } => Flow::ClientCredentials,
            Grant::RefreshToken { .. } => Flow::RefreshToken,
            Grant::AuthorizationCode { .. } => Flow::AuthorizationCode,
        }
    }
}

/// Reads the token endpoint's answer into a session. A non-2xx is the
/// OAuth error it carries; server text is scrubbed with `redactor`.
pub fn parse(
    resp: &HttpResponse,
    s: &Settings,
    flow: Flow,
    redactor: &Redactor,
) -> Result<Session, Error> {
    if !(200..300).contains(&resp.status) {
        return Err(oauth_error(resp, flow, redactor));
    }
    let body = TokenBody::read(resp, redactor)?;
    let access_token = body
        .text("access_token")?
        .filter(|t| !t.is_empty())
        .ok_or_else(|| body.bad("the token response has no access_token".into()))?;
    let instance_url = body.instance_url(s)?;
    let id = body.text("id")?;
    let issued = issued_at_ms(body.obj.get("issued_at")).map_err(|r| body.bad(r))?;
    let signature = body.text("signature")?;
    let signature_verified = verify_signature(
        resp.status,
        s.client_secret.as_ref(),
        signature,
        id,
        issued.as_ref(),
    )?;
    let (org_id, user_id) = id.and_then(crate::identity::parse).unzip();
    Ok(Session {
        access_token: Secret::new(access_token),
        instance_url,
        identity_url: id.map(str::to_string),
        org_id,
        user_id,
        token_type: body.text("token_type")?.unwrap_or("Bearer").to_string(),
        issued_at: issued.map(|(ms, _)| ms),
        scope: body.text("scope")?.map(str::to_string),
        refresh_token: body.text("refresh_token")?.map(Secret::new),
        api_version: s.api_version.clone(),
        signature_verified,
        limits: s.limits,
    })
}

/// A 2xx token answer's JSON object, and what its errors quote.
struct TokenBody<'a> {
    obj: Map<String, Value>,
    status: u16,
    /// Scrubbed: the content type is server text too.
    content_type: Option<String>,
    redactor: &'a Redactor,
}

impl<'a> TokenBody<'a> {
    fn read(resp: &HttpResponse, redactor: &'a Redactor) -> Result<Self, Error> {
        let content_type = resp.content_type().map(|c| redactor.scrub(c));
        let value: Value = serde_json::from_slice(&resp.body)
            .map_err(|_| not_json(resp, content_type.as_deref(), redactor))?;
        let mut body = TokenBody {
            obj: Map::new(),
            status: resp.status,
            content_type,
            redactor,
        };
        match value {
            Value::Object(obj) => body.obj = obj,
            _ => return Err(body.bad("the token response is not a JSON object".into())),
        }
        Ok(body)
    }

    /// What is wrong with the answer. A 2xx token body carries tokens: it
    /// is never quoted.
    fn bad(&self, reason: String) -> Error {
        Error::unexpected(
            self.status,
            self.content_type.as_deref(),
            self.redactor.scrub(&reason),
            b"",
        )
    }

    /// A string field, if present.
    fn text(&self, key: &str) -> Result<Option<&str>, Error> {
        text(&self.obj, key).map_err(|r| self.bad(r))
    }

    /// The `instance_url`, held to the settings' trust rule.
    fn instance_url(&self, s: &Settings) -> Result<url::Url, Error> {
        let instance = self
            .text("instance_url")?
            .ok_or_else(|| self.bad("the token response has no instance_url".into()))?;
        s.instance_url(instance).map_err(|p| match p {
            InstanceProblem::Malformed(m) => self.bad(m),
            InstanceProblem::Untrusted(m) => Error::Denied(m),
        })
    }
}

/// A 2xx whose body is not JSON. Only an HTML page (a wrong login host) is
/// quoted: anything else may be a truncated token body.
fn not_json(resp: &HttpResponse, content_type: Option<&str>, redactor: &Redactor) -> Error {
    let reason = if resp.body.is_empty() {
        "the token endpoint sent an empty body"
    } else {
        "the token endpoint answered with something other than JSON; is the login URL a Salesforce login host?"
    };
    let html = resp
        .content_type()
        .is_some_and(|c| c.to_ascii_lowercase().contains("html"));
    let quoted = if html {
        redact_excerpt(&resp.body, redactor)
    } else {
        Vec::new()
    };
    Error::unexpected(resp.status, content_type, reason, &quoted)
}

/// Whether the answer's signature was verified. With a client secret, a
/// signature that is present must match `id` + `issued_at`, or the answer
/// is refused.
fn verify_signature(
    status: u16,
    client_secret: Option<&Secret>,
    signature: Option<&str>,
    id: Option<&str>,
    issued: Option<&(u64, String)>,
) -> Result<bool, Error> {
    let (Some(sig), Some(secret)) = (signature, client_secret) else {
        return Ok(false);
    };
    let ok = match (id, issued) {
        (Some(id), Some((_, raw))) => signature_matches(secret, id, raw, sig),
        _ => false,
    };
    if !ok {
        return Err(Error::AuthenticationFailed {
            status,
            error: "invalid_signature".into(),
            description: "the token response signature does not match id + issued_at".into(),
            hint: "the response was altered on the way, or client-secret is not this connected app's secret".into(),
        });
    }
    Ok(true)
}

pub(crate) fn redact_excerpt(body: &[u8], redactor: &Redactor) -> Vec<u8> {
    redactor
        .scrub(&String::from_utf8_lossy(&body[..body.len().min(4096)]))
        .into_bytes()
}

/// `{"error","error_description"}` of an OAuth answer, as sent.
pub(crate) fn oauth_fields(body: &[u8]) -> Option<(String, String)> {
    let v = serde_json::from_slice::<Value>(body).ok()?;
    let obj = v.as_object()?;
    let error = obj.get("error")?.as_str()?.to_string();
    let description = obj
        .get("error_description")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    Some((error, description))
}

pub(crate) fn oauth_error(resp: &HttpResponse, flow: Flow, redactor: &Redactor) -> Error {
    let Some((error, description)) = oauth_fields(&resp.body) else {
        if resp.status == 429 {
            return rate_limited(resp, "429".into(), "too many token requests".into());
        }
        let reason = format!(
            "the token endpoint answered {} without an OAuth error body; check login-url",
            resp.status
        );
        return Error::unexpected(
            resp.status,
            resp.content_type().map(|c| redactor.scrub(c)).as_deref(),
            reason,
            &redact_excerpt(&resp.body, redactor),
        );
    };
    let (error, description) = (redactor.scrub(&error), redactor.scrub(&description));
    if resp.status == 429
        || error == "rate_limit_exceeded"
        || description.contains("login rate exceeded")
    {
        return rate_limited(resp, error, description);
    }
    let hint = hint(&error, &description, flow).to_string();
    Error::AuthenticationFailed {
        status: resp.status,
        error,
        description,
        hint,
    }
}

fn rate_limited(resp: &HttpResponse, code: String, message: String) -> Error {
    Error::RateLimited {
        status: resp.status,
        code,
        message: format!(
            "{message}; Salesforce allows 3600 logins per user per hour, reuse the session"
        ),
        retry_after_seconds: resp
            .header("retry-after")
            .and_then(|v| v.trim().parse().ok()),
    }
}

/// What to check, for the errors people actually hit.
fn hint(error: &str, description: &str, flow: Flow) -> &'static str {
    let d = description.to_ascii_lowercase();
    if let Some(h) = app_hint(error, &d) {
        return h;
    }
    match (error, flow) {
        ("invalid_grant", _) if d.contains("not supported on this domain") => {
            "use the org's My Domain URL as login-url (https://<name>.my.salesforce.com)"
        }
        ("invalid_grant", _) if d.contains("no client credentials user") => {
            "set a Run As user for the client credentials flow on the connected app or External Client App"
        }
        ("invalid_grant", _) if d.contains("hasn't approved") || d.contains("not approved") => {
            "pre-authorize the user: the app's policies 'Admin approved users are pre-authorized' plus the user's profile or permission set"
        }
        ("invalid_grant", _) if d.contains("audience") => {
            "set audience: https://login.salesforce.com for production and My Domain logins, https://test.salesforce.com for sandboxes, \
             the site URL for Experience Cloud; an External Client App may want the My Domain URL"
        }
        ("invalid_grant", Flow::RefreshToken) if d.contains("expired") => {
            "the refresh token was revoked, expired, or already used (with refresh-token rotation each one works once, and reusing one revokes them all); log in again"
        }
        ("invalid_grant", _) if d.contains("code verifier") => "code-verifier must be the one returned with the authorize URL",
        ("invalid_grant", Flow::JwtBearer) => {
            "check username, the certificate uploaded on the connected app or External Client App, and that the token host (login-url) matches the org"
        }
        ("invalid_grant", Flow::Password) => {
            "check username, password and security token (pass it as security-token), that login-url is right (https://test.salesforce.com for sandboxes), \
             and that the org allows the legacy username-password flow (orgs created in Summer '23 or later block it: Setup > OAuth and OpenID Connect Settings > \
             Allow OAuth Username-Password Flows); prefer the JWT bearer or client credentials flow"
        }
        ("invalid_grant", Flow::AuthorizationCode) => "the code is used, expired (15 minutes) or was issued for another redirect-uri",
        ("authorization_pending" | "slow_down", _) => "poll no more often than the interval the device flow gave",
        ("access_denied", Flow::Device) => "the person denied the request; start the device flow again",
        ("expired_token", Flow::Device) => "the device code expired before it was approved; start the device flow again",
        _ => "see Salesforce's OAuth error list for this code",
    }
}

/// Errors about the app itself, whichever flow ran: connected apps and
/// External Client Apps (forcedotcom/cli #3482; PipedreamHQ/pipedream #21557).
fn app_hint(error: &str, d: &str) -> Option<&'static str> {
    Some(match error {
        "invalid_client_id" => "client-id is not a known Consumer Key of a connected app or External Client App in this org \
             (a new app takes up to 10 minutes to become active; an External Client App must be installed in the org)",
        "invalid_client" => "client-secret does not match the Consumer Secret of the connected app or External Client App",
        "unsupported_grant_type" => "this app or host does not allow this flow; check the OAuth settings of the connected app or External Client App",
        "invalid_app_access" | "inactive_user" | "inactive_org" => {
            "the user or org cannot use this app; check the app's policies and the user's profile or permission sets"
        }
        "redirect_uri_mismatch" => "redirect-uri must equal the app's callback URL exactly",
        _ if error.contains("OAUTH_EC_APP_NOT_FOUND") || d.contains("oauth_ec_app_not_found") || d.contains("app_not_found") => {
            "no External Client App with this Consumer Key is installed in this org: check client-id and login-url, \
             and install the app (Setup > External Client App Manager)"
        }
        _ if d.contains("external client app is not installed") => {
            "install the External Client App in this org (packaged apps need installing in every org, sandboxes included), \
             or log in to the org where it is"
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_signature_vector() {
        assert!(signature_matches(
            &Secret::new("secret"),
            "https://login.salesforce.com/id/00D000000000001EAA/005000000000001AAA",
            "1700000000000",
            "xwjgdwExawzcsxDK0EXiR5xbdOsg+6u59M7fWZjbpS0="
        ));
        assert!(!signature_matches(
            &Secret::new("secret"),
            "x",
            "1",
            "xwjgdwExawzcsxDK0EXiR5xbdOsg+6u59M7fWZjbpS0="
        ));
        assert!(!signature_matches(&Secret::new("secret"), "x", "1", "%%%"));
    }

    #[test]
    fn issued_at_forms() {
        assert_eq!(
            issued_at_ms(Some(&Value::from("1609942615640")))
                .unwrap()
                .unwrap()
                .0,
            1609942615640
        );
        assert_eq!(
            issued_at_ms(Some(&Value::from(1609942615u64)))
                .unwrap()
                .unwrap()
                .0,
            1609942615000
        );
        assert!(issued_at_ms(Some(&Value::from("soon"))).is_err());
        assert!(issued_at_ms(Some(&Value::Bool(true))).is_err());
    }

    /// The content type is server text too, and the error quotes it (a
    /// `token_response` fuzz finding).
    #[test]
    fn content_type_is_scrubbed() {
        let secret = Secret::new("5Aep861-refresh-SECRET");
        let grant = Grant::RefreshToken {
            refresh_token: secret.clone(),
        };
        let settings = Settings {
            login_url: url::Url::parse("https://login.salesforce.com").unwrap(),
            client_id: Some("id".into()),
            client_secret: None,
            api_version: "62.0".into(),
            limits: crate::session::fixture().limits,
            allowed_hosts: Vec::new(),
        };
        let mut redactor = Redactor::new();
        redactor.add(&secret);
        for (status, body) in [(400, "Bad Request"), (200, "{"), (200, "[]")] {
            let resp = HttpResponse {
                status,
                headers: vec![(
                    "content-type".into(),
                    "text/plain; echo=5Aep861-refresh-SECRET".into(),
                )],
                body: body.into(),
            };
            let err = parse(&resp, &settings, Flow::of(&grant), &redactor).unwrap_err();
            let shown = format!("{err} {err:?}");
            assert!(!shown.contains("SECRET"), "{shown}");
        }
    }

    /// The reasons for refusing a 2xx body quote its `instance_url` and
    /// `issued_at`, which are server text (a `token_response` fuzz finding).
    #[test]
    fn quoted_token_fields_are_scrubbed() {
        let secret = Secret::new("client-SECRET-9f3K");
        let settings = Settings {
            login_url: url::Url::parse("https://login.salesforce.com").unwrap(),
            client_id: Some("id".into()),
            client_secret: Some(secret.clone()),
            api_version: "62.0".into(),
            limits: crate::session::fixture().limits,
            allowed_hosts: Vec::new(),
        };
        let grant = Grant::ClientCredentials { basic_auth: false };
        let mut redactor = Redactor::new();
        redactor.add(&secret);
        for body in [
            r#"{"access_token":"t","instance_url":"http://x.example.com/client-SECRET-9f3K"}"#,
            r#"{"access_token":"t","instance_url":"https://x.example.com","issued_at":"client-SECRET-9f3K"}"#,
        ] {
            let resp = HttpResponse {
                status: 200,
                headers: vec![],
                body: body.into(),
            };
            let err = parse(&resp, &settings, Flow::of(&grant), &redactor).unwrap_err();
            let shown = format!("{err} {err:?}");
            assert!(!shown.contains("SECRET"), "{shown}");
        }
    }
}
