//! Every OAuth grant through the real component in the real host, against the
//! mock over real HTTP and HTTPS; and every documented failure, typed.

mod common;

use common::*;
use salesforce_host::wit;

#[tokio::test(flavor = "multi_thread")]
async fn password_grant_with_special_characters_over_http_and_https() {
    let mock = mock().await;
    assert!(
        ["#", "&", "%", "+", " ", "é"]
            .iter()
            .all(|c| mock.credentials().password.contains(c)),
        "the fixture password must exercise form encoding"
    );
    for base in [mock.http_url(), mock.https_url()] {
        let mut client = client(&mock, config(&mock, &base, password_grant(&mock)));
        let s = client.authenticate().await.expect("password grant");
        assert_eq!(s.instance_url, base);
        assert!(s.signature_verified, "the signature is checked");
        assert_eq!(s.token_type, "Bearer");
        assert!(s.org_id.as_deref().is_some_and(|o| o.starts_with("00D")));
        assert!(s.user_id.as_deref().is_some_and(|u| u.starts_with("005")));
        assert!(
            s.issued_at.is_some_and(|t| t > 1_600_000_000_000),
            "issued-at in ms"
        );
        assert_eq!(s.api_version, "66.0");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn jwt_bearer_with_pkcs8_and_pkcs1_keys() {
    let mock = mock().await;
    for pkcs1 in [false, true] {
        let mut client = client(
            &mock,
            config(&mock, &mock.https_url(), jwt_grant(&mock, pkcs1)),
        );
        let s = client.authenticate().await.expect("jwt grant");
        // JWT responses carry no signature; that is not an error.
        assert!(!s.signature_verified);
        assert!(s.org_id.is_some());
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn jwt_audience_is_configurable_and_checked() {
    let mock = mock().await;
    mock.knobs().set_sandbox(true);
    let mut grant = jwt_grant(&mock, false);
    if let wit::Grant::JwtBearer(g) = &mut grant {
        g.audience = Some("https://test.salesforce.com".into());
    }
    client(&mock, config(&mock, &mock.http_url(), grant.clone()))
        .authenticate()
        .await
        .expect("a sandbox audience is accepted");
    if let wit::Grant::JwtBearer(g) = &mut grant {
        g.audience = Some("https://elsewhere.example.com".into());
    }
    match component_error(
        client(&mock, config(&mock, &mock.http_url(), grant))
            .authenticate()
            .await,
    ) {
        wit::Error::AuthenticationFailed(f) => {
            assert_eq!(f.error, "invalid_grant");
            assert!(f.description.contains("audience"), "{f:?}");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn client_credentials_in_body_and_basic_header() {
    let mock = mock().await;
    for basic_auth in [false, true] {
        let grant = wit::Grant::ClientCredentials(wit::ClientCredentialsGrant { basic_auth });
        let s = client(&mock, config(&mock, &mock.http_url(), grant))
            .authenticate()
            .await
            .expect("client credentials")
            .clone();
        assert!(s.signature_verified);
    }
    let token_bodies: Vec<String> = mock
        .requests()
        .into_iter()
        .filter(|r| r.path == "/services/oauth2/token")
        .map(|r| String::from_utf8_lossy(&r.body).into_owned())
        .collect();
    assert!(token_bodies[0].contains("client_secret="));
    assert!(
        !token_bodies[1].contains("client_secret="),
        "Basic keeps the secret out of the body"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn refresh_token_and_sfdx_url() {
    let mock = mock().await;
    let c = mock.credentials().clone();
    let grant = wit::Grant::RefreshToken(wit::RefreshTokenGrant {
        refresh_token: c.refresh_token.clone(),
    });
    client(&mock, config(&mock, &mock.http_url(), grant))
        .authenticate()
        .await
        .expect("refresh");

    // A second family: the first refresh token was used up by the refresh above.
    let url = format!(
        "force://{}:{}:{}@{}",
        c.client_id,
        c.client_secret,
        mock.issue_refresh_token(),
        mock.http_url()
    );
    let parsed = salesforce_host::parse_sfdx_url(&connector(), &url)
        .await
        .expect("sfdx url parses");
    assert_eq!(parsed.login_url.as_deref(), Some(mock.http_url().as_str()));
    assert!(matches!(parsed.grant, wit::Grant::RefreshToken(_)));
    let mut client = salesforce_host::Client::new(connector(), parsed, options(&mock)).unwrap();
    client.authenticate().await.expect("sfdx refresh");

    let err = salesforce_host::parse_sfdx_url(&connector(), "force://only-an-id@host")
        .await
        .unwrap_err();
    assert_eq!(err.exit_code(), 2);
    assert_no_secret(&err.to_string(), &secrets(&mock));
}

#[tokio::test(flavor = "multi_thread")]
async fn authorization_code_with_pkce() {
    let mock = mock().await;
    let c = mock.credentials().clone();
    let redirect = "http://localhost:1717/OauthRedirect";
    let helper = client(
        &mock,
        config(&mock, &mock.http_url(), password_grant(&mock)),
    );
    let start = helper
        .authorize_url(&wit::AuthorizeRequest {
            login_url: Some(mock.http_url()),
            client_id: c.client_id.clone(),
            redirect_uri: redirect.into(),
            scope: Some("api refresh_token".into()),
            prompt: Some("login".into()),
            login_hint: None,
        })
        .await
        .expect("authorize url");
    let url = url::Url::parse(&start.url).unwrap();
    assert_eq!(url.path(), "/services/oauth2/authorize");
    let q: std::collections::HashMap<String, String> = url.query_pairs().into_owned().collect();
    assert_eq!(q["code_challenge_method"], "S256");
    assert_eq!(q["state"], start.state);
    assert_eq!(q["redirect_uri"], redirect);

    let code = mock.issue_auth_code(redirect, Some(&q["code_challenge"]));
    let grant = |verifier: &str, code: String| {
        wit::Grant::AuthorizationCode(wit::AuthorizationCodeGrant {
            code,
            redirect_uri: redirect.into(),
            code_verifier: Some(verifier.to_string()),
        })
    };
    let s = client(
        &mock,
        config(&mock, &mock.http_url(), grant(&start.code_verifier, code)),
    )
    .authenticate()
    .await
    .expect("code exchange")
    .clone();
    assert!(
        s.refresh_token.is_some(),
        "the web server flow issues a refresh token"
    );

    let code = mock.issue_auth_code(redirect, Some(&q["code_challenge"]));
    match component_error(
        client(
            &mock,
            config(&mock, &mock.http_url(), grant("wrong-verifier", code)),
        )
        .authenticate()
        .await,
    ) {
        wit::Error::AuthenticationFailed(f) => {
            assert!(f.description.contains("code verifier"), "{f:?}")
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn access_token_reuse_makes_no_login() {
    let mock = mock().await;
    let session = password_client(&mock).authenticate().await.unwrap().clone();
    let before = mock.token_requests();
    let mut reuse = client(
        &mock,
        wit::Config {
            api_version: Some("v60.0".into()),
            ..wit::Config::new(wit::Grant::AccessToken(wit::AccessTokenGrant {
                access_token: session.access_token.clone(),
                instance_url: session.instance_url.clone(),
            }))
        },
    );
    let r = reuse
        .call(&get("/services/data/v60.0/limits"))
        .await
        .expect("call with a reused token");
    assert_eq!(r.status, 200);
    assert_eq!(mock.token_requests(), before);
    assert_eq!(reuse.session().await.unwrap().api_version, "60.0");
}

#[tokio::test(flavor = "multi_thread")]
async fn documented_oauth_failures_are_typed() {
    let mock = mock().await;
    let c = mock.credentials().clone();
    let http = mock.http_url();
    let cases: Vec<(wit::Config, &str, &str)> = vec![
        (
            config(
                &mock,
                &http,
                wit::Grant::Password(wit::PasswordGrant {
                    username: c.username.clone(),
                    password: c.password.clone(),
                    security_token: None,
                }),
            ),
            "invalid_grant",
            "authentication failure",
        ),
        (
            wit::Config {
                client_id: Some("3MVG9unknown".into()),
                ..config(&mock, &http, password_grant(&mock))
            },
            "invalid_client_id",
            "client identifier invalid",
        ),
        (
            wit::Config {
                client_secret: Some("not-the-secret".into()),
                ..config(&mock, &http, password_grant(&mock))
            },
            "invalid_client",
            "invalid client credentials",
        ),
        (
            config(
                &mock,
                &http,
                wit::Grant::RefreshToken(wit::RefreshTokenGrant {
                    refresh_token: "5Aep-revoked".into(),
                }),
            ),
            "invalid_grant",
            "expired access/refresh token",
        ),
    ];
    for (config, error, description) in cases {
        match component_error(client(&mock, config).authenticate().await) {
            wit::Error::AuthenticationFailed(f) => {
                assert_eq!(
                    (f.status, f.error.as_str(), f.description.as_str()),
                    (400, error, description)
                );
                assert!(!f.hint.is_empty());
                assert_no_secret(&format!("{f:?}"), &secrets(&mock));
            }
            other => panic!("{error}: {other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn tampered_signature_is_rejected() {
    let mock = mock().await;
    mock.knobs().set_tamper_signature(true);
    match component_error(password_client(&mock).authenticate().await) {
        wit::Error::AuthenticationFailed(f) => assert_eq!(f.error, "invalid_signature"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn invalid_config_names_the_field_without_a_request() {
    let mock = mock().await;
    let cases = [
        (
            wit::Config {
                login_url: Some("http://login.salesforce.com".into()),
                ..config(&mock, "x", password_grant(&mock))
            },
            "login-url",
        ),
        (
            wit::Config {
                login_url: Some("https://acme.lightning.force.com".into()),
                ..config(&mock, "x", password_grant(&mock))
            },
            "login-url",
        ),
        (
            wit::Config {
                client_id: None,
                ..config(&mock, &mock.http_url(), password_grant(&mock))
            },
            "client-id",
        ),
        (
            wit::Config {
                api_version: Some("20.0".into()),
                ..config(&mock, &mock.http_url(), password_grant(&mock))
            },
            "api-version",
        ),
        (
            config(
                &mock,
                "https://login.salesforce.com",
                wit::Grant::ClientCredentials(wit::ClientCredentialsGrant { basic_auth: false }),
            ),
            "login-url",
        ),
        (
            config(
                &mock,
                &mock.http_url(),
                wit::Grant::JwtBearer(wit::JwtBearerGrant {
                    username: "u".into(),
                    private_key_pem: "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----"
                        .into(),
                    audience: None,
                }),
            ),
            "private-key-pem",
        ),
    ];
    for (config, field) in cases {
        match component_error(client(&mock, config).authenticate().await) {
            wit::Error::InvalidConfig(p) => assert_eq!(p.field, field, "{p:?}"),
            other => panic!("{field}: {other:?}"),
        }
    }
    assert_eq!(
        mock.token_requests(),
        0,
        "bad config never reaches the network"
    );
}
