//! The browser half of the web server flow: the authorize URL with state and
//! an S256 PKCE challenge.

#[allow(unused_imports)]
use crate::prelude::*;

use crate::error::Error;
use crate::secret::Secret;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use sha2::{Digest, Sha256};

/// Random bytes the caller supplies: 96 for the verifier (128 characters,
/// the RFC 7636 maximum), 16 for the state.
pub const RANDOM_BYTES: usize = 112;

/// What the authorize URL is built from.
#[derive(Clone, Debug)]
pub struct AuthorizeRequest {
    /// Default [`crate::urls::DEFAULT_LOGIN_URL`].
    pub login_url: Option<String>,
    /// The consumer key of the connected app or External Client App.
    pub client_id: String,
    /// Where Salesforce sends the browser back with the code.
    pub redirect_uri: String,
    /// Space-separated scopes, e.g. `api refresh_token`; default the app's.
    pub scope: Option<String>,
    /// `login`, `consent` or `select_account`, to force the prompt.
    pub prompt: Option<String>,
    /// Pre-fills the username on the login page.
    pub login_hint: Option<String>,
}

/// Where to send the browser, and what to keep until the redirect comes
/// back.
#[derive(Clone, Debug)]
pub struct AuthorizeStart {
    /// The `/services/oauth2/authorize` URL with an S256 PKCE challenge.
    pub url: String,
    /// Random state; the redirect must carry the same value.
    pub state: String,
    /// The PKCE verifier: pass it as the authorization-code grant's
    /// `code_verifier`.
    pub code_verifier: Secret,
}

/// The S256 PKCE challenge of `verifier`: base64url(SHA-256(verifier)).
pub fn challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// The authorize URL for the web server flow, its state and PKCE verifier
/// drawn from `random`.
pub fn authorize_url(
    req: &AuthorizeRequest,
    random: &[u8; RANDOM_BYTES],
) -> Result<AuthorizeStart, Error> {
    let login = crate::urls::parse_login(
        "login-url",
        req.login_url
            .as_deref()
            .unwrap_or(crate::urls::DEFAULT_LOGIN_URL),
    )?;
    if req.client_id.trim().is_empty() {
        return Err(Error::config(
            "client-id",
            "is required: the Consumer Key of the connected app or External Client App",
        ));
    }
    let redirect = url::Url::parse(req.redirect_uri.trim())
        .map_err(|e| Error::config("redirect-uri", format!("is not an absolute URL ({e})")))?;
    if let Some(p) = req.prompt.as_deref().filter(|p| !p.is_empty()) {
        if !p
            .split(' ')
            .all(|v| matches!(v, "login" | "consent" | "select_account"))
        {
            return Err(Error::config(
                "prompt",
                "must be login, consent or select_account",
            ));
        }
    }
    let verifier = URL_SAFE_NO_PAD.encode(&random[..96]);
    let state = URL_SAFE_NO_PAD.encode(&random[96..]);
    let mut url = crate::urls::endpoint(&login, "/services/oauth2/authorize");
    {
        let mut q = url.query_pairs_mut();
        q.append_pair("response_type", "code")
            .append_pair("client_id", req.client_id.trim())
            .append_pair("redirect_uri", redirect.as_str())
            .append_pair("code_challenge", &challenge(&verifier))
            .append_pair("code_challenge_method", "S256")
            .append_pair("state", &state);
        for (name, value) in [
            ("scope", &req.scope),
            ("prompt", &req.prompt),
            ("login_hint", &req.login_hint),
        ] {
            if let Some(v) = value.as_deref().filter(|v| !v.is_empty()) {
                q.append_pair(name, v);
            }
        }
    }
    Ok(AuthorizeStart {
        url: url.into(),
        state,
        code_verifier: Secret::new(verifier),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc7636_appendix_b_vector() {
        assert_eq!(
            challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn url_has_challenge_and_state() {
        let req = AuthorizeRequest {
            login_url: Some("https://acme.my.salesforce.com".into()),
            client_id: "3MVG9".into(),
            redirect_uri: "http://localhost:1717/OauthRedirect".into(),
            scope: Some("api refresh_token".into()),
            prompt: None,
            login_hint: None,
        };
        let start = authorize_url(&req, &[7; RANDOM_BYTES]).unwrap();
        assert_eq!(start.code_verifier.expose().len(), 128);
        let url = url::Url::parse(&start.url).unwrap();
        assert_eq!(url.path(), "/services/oauth2/authorize");
        let q: alloc::collections::BTreeMap<_, _> = url.query_pairs().into_owned().collect();
        assert_eq!(q["code_challenge"], challenge(start.code_verifier.expose()));
        assert_eq!(q["state"], start.state);
        assert_eq!(q["scope"], "api refresh_token");
        assert!(!start.url.contains(start.code_verifier.expose()));
    }
}
