//! Across every error path the suite drives, no secret (nor its URL-encoded
//! or base64 form) appears in an error's text or `Debug` output.

mod common;

use common::*;
use sf_host::mock::Fault;
use sf_host::wit;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread")]
async fn no_secret_in_any_error() {
    let mock = mock().await;
    let c = mock.credentials().clone();
    let secrets = {
        let mut s = secrets(&mock);
        s.push("wrong-Pa55#word&é".into());
        s.push("not-the-real-secret-123".into());
        s
    };
    let http = mock.http_url();
    let mut errors: Vec<sf_host::HostError> = Vec::new();

    let configs = vec![
        config(
            &mock,
            &http,
            wit::Grant::Password(wit::PasswordGrant {
                username: c.username.clone(),
                password: "wrong-Pa55#word&é".into(),
                security_token: Some(c.security_token.clone()),
            }),
        ),
        wit::Config {
            client_secret: Some("not-the-real-secret-123".into()),
            ..config(&mock, &http, password_grant(&mock))
        },
        config(
            &mock,
            &http,
            wit::Grant::RefreshToken(wit::RefreshTokenGrant {
                refresh_token: format!("{}x", c.refresh_token),
            }),
        ),
        config(
            &mock,
            &http,
            wit::Grant::JwtBearer(wit::JwtBearerGrant {
                username: c.username.clone(),
                private_key_pem: std::fs::read_to_string(&c.private_key_file)
                    .unwrap()
                    .replace("MII", "MIX"),
                audience: None,
            }),
        ),
        wit::Config {
            login_url: Some(format!("http://{}:{}@127.0.0.1:1", c.username, c.password)),
            ..config(&mock, &http, password_grant(&mock))
        },
        wit::Config {
            login_url: Some("http://127.0.0.1:1".into()),
            ..config(&mock, &http, password_grant(&mock))
        },
    ];
    for config in configs {
        errors.push(client(&mock, config).authenticate().await.unwrap_err());
    }

    // Server-side failures, including bodies that echo what was sent.
    for fault in [
        Fault::Html,
        Fault::MalformedJson,
        Fault::Status {
            status: 500,
            content_type: "text/plain".into(),
            body: format!("echo {} {}", c.password, c.client_secret),
            retry_after: None,
        },
        Fault::Status {
            status: 400,
            content_type: "application/json".into(),
            body: format!(
                r#"{{"error":"invalid_grant","error_description":"bad {}"}}"#,
                c.password
            ),
            retry_after: None,
        },
    ] {
        mock.knobs().fail_next(1, fault);
        errors.push(password_client(&mock).authenticate().await.unwrap_err());
    }

    let mut client = password_client(&mock);
    let token = client.authenticate().await.unwrap().access_token.clone();
    let mut all_secrets = secrets.clone();
    all_secrets.push(token.clone());
    mock.knobs().fail_next(
        1,
        Fault::Status {
            status: 400,
            content_type: "application/json".into(),
            body: format!(r#"[{{"message":"token {token} rejected","errorCode":"BAD"}}]"#),
            retry_after: None,
        },
    );
    errors.push(
        client
            .call(&get("/services/data/v62.0/limits"))
            .await
            .unwrap_err(),
    );
    mock.knobs().set_persistent_401(true);
    errors.push(
        client
            .call(&get("/services/data/v62.0/limits"))
            .await
            .unwrap_err(),
    );
    mock.knobs().set_persistent_401(false);
    mock.knobs().set_delay(Some(Duration::from_secs(5)));
    let mut slow = client_with_timeout(&mock, 300);
    errors.push(slow.authenticate().await.unwrap_err());
    mock.knobs().set_delay(None);

    assert!(errors.len() >= 12);
    for e in &errors {
        assert_no_secret(&e.to_string(), &all_secrets);
        assert_no_secret(&format!("{e:?}"), &all_secrets);
    }
    assert_no_secret(&format!("{client:?}"), &all_secrets);
}

fn client_with_timeout(mock: &sf_host::mock::Mock, ms: u32) -> sf_host::Client {
    client(
        mock,
        wit::Config {
            timeout_ms: Some(ms),
            max_response_bytes: None,
            retry: None,
            allowed_hosts: None,
            ..config(mock, &mock.http_url(), password_grant(mock))
        },
    )
}
