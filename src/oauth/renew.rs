//! `renew`: a fresh session for one that expired, without ever sending a
//! single-use credential twice.
//!
//! With refresh-token rotation every refresh returns a new refresh token and
//! the used one must never be presented again: Salesforce then revokes the
//! whole family (help.salesforce.com article 005316711). So the session, not
//! the config, holds the refresh token to use, and a renewal returns the
//! newest. An authorization code is single-use: it cannot renew anything.

#[allow(unused_imports)]
use crate::prelude::*;

use crate::config::{Config, Grant};
use crate::error::Error;
use crate::http::Transport;
use crate::session::Session;

/// A fresh session for `session`: a refresh with its refresh token when it
/// has one, else the configured grant again, except that an authorization
/// code or a reused access token cannot run twice
/// ([`Error::LoginRequired`]). The result keeps `session`'s API version and
/// carries the newest refresh token.
pub fn renew(
    config: &Config,
    session: &Session,
    transport: &mut dyn Transport,
    now_secs: u64,
) -> Result<Session, Error> {
    let mut fresh =
        match (&session.refresh_token, &config.grant) {
            (Some(refresh_token), _) => refresh(config, refresh_token.clone(), transport)?,
            (None, Grant::AuthorizationCode { .. }) => {
                return Err(Error::LoginRequired(
                    "the session came from an authorization code, which works once, and holds no \
                 refresh token; run the web server flow again (add the `refresh_token` scope to \
                 the app to get sessions that renew)"
                        .into(),
                ))
            }
            (None, Grant::AccessToken { .. }) => return Err(Error::LoginRequired(
                "a reused access token cannot be renewed; obtain a new one, or configure a grant \
                 the connector can run (JWT bearer, client credentials, refresh token)"
                    .into(),
            )),
            (None, _) => super::authenticate(config, transport, now_secs)?,
        };
    // `use-newest-api-version` may have moved the session on; keep it.
    fresh.api_version = session.api_version.clone();
    Ok(fresh)
}

fn refresh(
    config: &Config,
    refresh_token: crate::secret::Secret,
    transport: &mut dyn Transport,
) -> Result<Session, Error> {
    let settings = config.base_settings()?;
    let mut redactor = config.redactor();
    redactor.add(&refresh_token);
    let grant = Grant::RefreshToken { refresh_token };
    let request = super::token_request(&grant, &settings)?;
    super::exchange(transport, &request, &settings, &grant, &redactor)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::testing::Scripted;
    use crate::http::HttpResponse;
    use crate::secret::Secret;

    fn config(grant: Grant) -> Config {
        crate::config::fixture("https://acme.my.salesforce.com", grant)
    }

    fn token(refresh: Option<&str>) -> HttpResponse {
        let mut body = serde_json::json!({
            "access_token": "00Dx!new-access",
            "instance_url": "https://acme.my.salesforce.com",
            "token_type": "Bearer",
        });
        if let Some(r) = refresh {
            body["refresh_token"] = r.into();
        }
        HttpResponse {
            status: 200,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.to_string().into_bytes(),
        }
    }

    fn with_refresh(token: &str) -> Session {
        let mut s = crate::session::fixture();
        s.refresh_token = Some(Secret::new(token));
        s.api_version = "68.0".into();
        s
    }

    #[test]
    fn the_session_refresh_token_wins_and_a_rotated_one_is_kept() {
        let cfg = config(Grant::RefreshToken {
            refresh_token: Secret::new("original"),
        });
        let mut t = Scripted::new(vec![Ok(token(Some("rotated-2")))]);
        let fresh = renew(&cfg, &with_refresh("rotated-1"), &mut t, 0).unwrap();
        assert!(
            t.bodies[0].contains("refresh_token=rotated-1"),
            "{}",
            t.bodies[0]
        );
        assert!(!t.bodies[0].contains("original"));
        assert_eq!(fresh.refresh_token.unwrap().expose(), "rotated-2");
        assert_eq!(fresh.api_version, "68.0", "the session's version is kept");
    }

    #[test]
    fn without_rotation_the_used_refresh_token_stays() {
        let cfg = config(Grant::RefreshToken {
            refresh_token: Secret::new("rt"),
        });
        let mut t = Scripted::new(vec![Ok(token(None))]);
        let fresh = renew(&cfg, &with_refresh("rt"), &mut t, 0).unwrap();
        assert_eq!(fresh.refresh_token.unwrap().expose(), "rt");
    }

    #[test]
    fn an_authorization_code_is_never_sent_again() {
        let cfg = config(Grant::AuthorizationCode {
            code: Secret::new("aPrx-code"),
            redirect_uri: "https://app.example.com/cb".into(),
            code_verifier: None,
        });
        let mut t = Scripted::new(vec![]);
        let err = renew(&cfg, &crate::session::fixture(), &mut t, 0).unwrap_err();
        assert!(matches!(err, Error::LoginRequired(_)), "{err:?}");
        assert_eq!(t.sent, 0);
        // With a refresh token from the code exchange, it renews with that.
        let mut t = Scripted::new(vec![Ok(token(Some("rt-2")))]);
        renew(&cfg, &with_refresh("rt-1"), &mut t, 0).unwrap();
        assert!(!t.bodies[0].contains("aPrx-code"));
    }

    #[test]
    fn an_access_token_cannot_renew() {
        let cfg = config(Grant::AccessToken {
            access_token: Secret::new("00Dx!tok"),
            instance_url: "https://acme.my.salesforce.com".into(),
        });
        let mut t = Scripted::new(vec![]);
        let err = renew(&cfg, &crate::session::fixture(), &mut t, 0).unwrap_err();
        assert!(matches!(err, Error::LoginRequired(_)), "{err:?}");
        assert_eq!(t.sent, 0);
    }
}
