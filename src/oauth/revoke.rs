//! Logging out: `/services/oauth2/revoke` (help.salesforce.com
//! xcloud.remoteaccess_revoke_token). Revoking a refresh token also ends
//! every access token issued from it, so that is the one sent when the
//! session has it.

#[allow(unused_imports)]
use crate::prelude::*;

use super::token::{self, Flow};
use crate::config::Config;
use crate::error::Error;
use crate::http::Transport;
use crate::session::Session;

/// The revocation endpoint, under the login URL.
pub const REVOKE_PATH: &str = "/services/oauth2/revoke";

/// Revokes the session's refresh token when it has one, else its access
/// token.
pub fn revoke(
    config: &Config,
    session: &Session,
    transport: &mut dyn Transport,
) -> Result<(), Error> {
    let s = config.base_settings()?;
    let token = session
        .refresh_token
        .as_ref()
        .unwrap_or(&session.access_token);
    let form = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("token", token.expose().trim())
        .finish();
    let request = super::form_post(&s, REVOKE_PATH, form, Vec::new());
    let resp = transport.send(&request)?;
    if (200..300).contains(&resp.status) {
        return Ok(());
    }
    let redactor = config.redactor().with_session(session);
    Err(token::oauth_error(&resp, Flow::Revoke, &redactor))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Grant;
    use crate::http::testing::Scripted;
    use crate::http::HttpResponse;
    use crate::secret::Secret;

    #[test]
    fn the_refresh_token_is_revoked_when_there_is_one() {
        let grant = Grant::ClientCredentials { basic_auth: false };
        let config = crate::config::fixture("https://acme.my.salesforce.com", grant);
        let mut session = crate::session::fixture();
        session.refresh_token = Some(Secret::new("rt-SECRET"));
        let ok = HttpResponse {
            status: 200,
            ..Default::default()
        };
        let refused = HttpResponse {
            status: 400,
            headers: vec![],
            body: br#"{"error":"unsupported_token_type","error_description":"rt-SECRET unknown"}"#
                .to_vec(),
        };
        let mut t = Scripted::new(vec![Ok(ok), Ok(refused)]);
        revoke(&config, &session, &mut t).unwrap();
        assert_eq!(t.paths[0], REVOKE_PATH);
        assert_eq!(t.bodies[0], "token=rt-SECRET");
        let err = revoke(&config, &session, &mut t).unwrap_err();
        assert!(!format!("{err} {err:?}").contains("SECRET"), "{err}");
    }
}
