//! Renewal against a mock as strict as Salesforce: refresh tokens rotate
//! and are single-use, refused sessions are not expiries, the identity
//! service expires in plain text, JWT audiences follow the documented rule.

mod common;

use common::*;
use salesforce_host::wit;
use salesforce_mock::Mock;
use std::time::Duration;

fn refresh_client(mock: &Mock, refresh_token: &str) -> salesforce_host::Client {
    let grant = wit::Grant::RefreshToken(wit::RefreshTokenGrant {
        refresh_token: refresh_token.into(),
    });
    client(mock, config(mock, &mock.http_url(), grant))
}

fn held_refresh_token(client: &salesforce_host::Client) -> String {
    let session = client.current_session().expect("a session");
    session.refresh_token.clone().expect("a refresh token")
}

const LIMITS: &str = "/services/data/v66.0/limits";

#[tokio::test(flavor = "multi_thread")]
async fn three_expiries_in_a_row_under_rotation_never_reuse_a_refresh_token() {
    let mock = mock().await;
    let first = mock.issue_refresh_token();
    let mut client = refresh_client(&mock, &first);
    client.call(&get(LIMITS)).await.expect("first call");
    let mut seen = vec![first.clone(), held_refresh_token(&client)];
    for round in 1..=3 {
        mock.knobs().expire_all_sessions();
        client
            .call(&get(LIMITS))
            .await
            .unwrap_or_else(|e| panic!("call after expiry {round}: {e}"));
        let newest = held_refresh_token(&client);
        assert!(!seen.contains(&newest), "round {round}: not rotated");
        seen.push(newest);
    }
    assert_eq!(
        mock.refresh_token_reuses(),
        0,
        "no refresh token sent twice"
    );
    assert_eq!(
        mock.token_requests_for("refresh_token"),
        4,
        "one login, three renewals"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_reused_refresh_token_is_refused_and_revokes_the_family() {
    let mock = mock().await;
    let first = mock.issue_refresh_token();
    let mut client = refresh_client(&mock, &first);
    client
        .authenticate()
        .await
        .expect("login rotates the token");

    // Someone replays the original token, as a host that dropped the
    // rotated one would.
    let mut replay = refresh_client(&mock, &first);
    match component_error(replay.authenticate().await) {
        wit::Error::AuthenticationFailed(f) => {
            assert_eq!(f.error, "invalid_grant");
            assert!(f.hint.contains("rotation"), "{}", f.hint);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(mock.refresh_token_reuses(), 1);
    // Salesforce revokes the whole family: the honest client is out too.
    let err = component_error(client.call(&get(LIMITS)).await);
    assert!(
        matches!(err, wit::Error::AuthenticationFailed(_)),
        "{err:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_session_logs_in_once_and_never_again() {
    let mock = mock().await;
    mock.knobs().set_session_refused(true);
    let mut client = password_client(&mock);
    for _ in 0..3 {
        match component_error(client.call(&get(LIMITS)).await) {
            wit::Error::SessionRefused(r) => {
                assert_eq!(
                    (r.status, r.error_code.as_str()),
                    (401, "INVALID_SESSION_ID")
                );
                assert!(r.hint.contains("api"), "{}", r.hint);
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(mock.token_requests(), 1, "a refusal is never renewed");
}

#[tokio::test(flavor = "multi_thread")]
async fn userinfo_renews_once_on_bad_oauth_token() {
    let mock = mock().await;
    let mut client = password_client(&mock);
    client.userinfo().await.expect("userinfo");
    mock.knobs().expire_all_sessions();
    let info = client.userinfo().await.expect("renewed and retried");
    assert!(info.body.contains("preferred_username"));
    assert_eq!(mock.token_requests(), 2);
}

/// The `aud` claim of the JWT assertion in a logged token request.
fn audiences(mock: &Mock) -> Vec<String> {
    use base64::Engine as _;
    mock.requests()
        .iter()
        .filter(|r| r.path == "/services/oauth2/token")
        .filter_map(|r| {
            let form: Vec<(String, String)> =
                form_urlencoded::parse(&r.body).into_owned().collect();
            let assertion = form.iter().find(|(k, _)| k == "assertion")?.1.clone();
            let claims = assertion.split('.').nth(1)?.to_string();
            let json = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(claims)
                .ok()?;
            let v: serde_json::Value = serde_json::from_slice(&json).ok()?;
            Some(v["aud"].as_str()?.to_string())
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn jwt_on_a_my_domain_login_url_uses_the_documented_audience() {
    let mock = mock().await;
    let port = mock.https_url().rsplit(':').next().unwrap().to_string();
    let my_domain = format!("https://acme.my.salesforce.com:{port}");
    mock.knobs()
        .set_instance_url_override(Some(my_domain.clone()));
    let mut options = options(&mock);
    let addr = mock
        .https_url()
        .trim_start_matches("https://")
        .parse()
        .unwrap();
    options
        .resolve
        .insert(format!("acme.my.salesforce.com:{port}"), addr);
    let cfg = config(&mock, &my_domain, jwt_grant(&mock, false));
    let mut client = salesforce_host::Client::new(connector(), cfg, options).unwrap();
    let session = client.authenticate().await.expect("JWT on My Domain");
    assert_eq!(session.instance_url, my_domain);
    assert_eq!(audiences(&mock), ["https://login.salesforce.com"]);
    client
        .call(&get(LIMITS))
        .await
        .expect("a call on the My Domain");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_audience_refusal_tries_the_next_candidate_once() {
    let mock = mock().await;
    mock.knobs().set_sandbox(true);
    let mut sandbox = client(
        &mock,
        config(&mock, &mock.http_url(), jwt_grant(&mock, false)),
    );
    sandbox
        .authenticate()
        .await
        .expect("sandbox audience on the second try");
    assert_eq!(
        audiences(&mock),
        [
            "https://login.salesforce.com",
            "https://test.salesforce.com"
        ]
    );

    mock.clear_requests();
    let mut grant = jwt_grant(&mock, true);
    if let wit::Grant::JwtBearer(g) = &mut grant {
        g.audience = Some("https://login.salesforce.com".into());
    }
    let mut client = client(&mock, config(&mock, &mock.http_url(), grant));
    match component_error(client.authenticate().await) {
        wit::Error::AuthenticationFailed(f) => {
            assert!(
                f.description
                    .contains("audiences tried: https://login.salesforce.com"),
                "{}",
                f.description
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        audiences(&mock).len(),
        1,
        "a given audience is the only one tried"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn device_flow_then_logout() {
    let mock = mock().await;
    mock.knobs().set_device_interval(Duration::ZERO);
    let mut client = password_client(&mock);
    let session = client
        .device_login(Some("api refresh_token"), Duration::from_secs(30), |d| {
            assert!(mock.approve_device(&d.user_code), "the mock knows the code");
        })
        .await
        .expect("device login")
        .clone();
    assert!(session.refresh_token.is_some());
    client
        .call(&get(LIMITS))
        .await
        .expect("a call with the device session");

    client.revoke().await.expect("revoked");
    assert_eq!(mock.revocations(), 1);
    let mut stale = password_client(&mock);
    stale.restore_session(session);
    let err = component_error(stale.renew().await);
    assert!(
        matches!(err, wit::Error::AuthenticationFailed(_)),
        "revoked: {err:?}"
    );
}
