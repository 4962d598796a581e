//! Across every error path the suite drives, no secret (nor its URL-encoded
//! or base64 form) appears in an error's text or `Debug` output, nor in the
//! request log every test client writes. (The CLI's stdout and stderr, with
//! `-v`, `--json` and without, are checked in host-test/tests/cli.rs.)

mod common;

use common::*;
use salesforce_host::wit;
use salesforce_mock::{Chaos, Fault};
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
    let mut errors: Vec<salesforce_host::HostError> = Vec::new();

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

    // Chaos: every fault on token and REST answers, the token response
    // truncated, mutated and echoed back in every shape.
    let mut chaos = Chaos::new(0x5ec7e7);
    chaos.rate = 1.0;
    chaos.stall = Duration::from_millis(150);
    chaos.huge_bytes = 1 << 20;
    mock.knobs().set_chaos(Some(chaos));
    let mut chaotic = client_with_timeout(&mock, 100);
    for i in 0..300 {
        let outcome = match i % 3 {
            0 => chaotic.authenticate().await.map(drop),
            1 => chaotic
                .call(&get("/services/data/v62.0/limits"))
                .await
                .map(drop),
            _ => chaotic
                .call(&get("/services/data/v62.0/query?q=SELECT+Id+FROM+Account"))
                .await
                .map(drop),
        };
        if let Err(e) = outcome {
            errors.push(e);
        }
    }
    mock.knobs().set_chaos(None);
    assert_no_secret(&format!("{chaotic:?}"), &all_secrets);

    assert!(errors.len() >= 100, "{} errors", errors.len());
    let log = log_lines();
    assert!(log.len() >= 300, "every request is logged");
    for text in errors
        .iter()
        .flat_map(|e| [e.to_string(), format!("{e:?}")])
        .chain(log)
    {
        assert_no_secret(&text, &all_secrets);
        // Every access token the mock issued starts with this, whichever
        // login (or truncated token response) it came from.
        assert!(!text.contains(TOKEN_MARK), "an access token leaked: {text}");
    }
    assert_no_secret(&format!("{client:?}"), &all_secrets);
}

const TOKEN_MARK: &str = "00D000000000001!AQ";

fn client_with_timeout(mock: &salesforce_mock::Mock, ms: u32) -> salesforce_host::Client {
    client(
        mock,
        wit::Config {
            timeout_ms: Some(ms),
            retry: None,
            ..config(mock, &mock.http_url(), password_grant(mock))
        },
    )
}

/// Tokens of shapes nobody could mask by pattern: opaque, JWT-like, short,
/// with characters that URL and JSON encodings change.
const ODD_TOKENS: [&str; 4] = [
    "opaque-7f3a9c1e2b",
    "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl",
    "tok/with+plus=and\"quote",
    "Zx9!k",
];

/// A server that echoes the bearer token into a broken 2xx body: the
/// component quotes the body in its error, scrubbed by value whatever the
/// token's shape, in every encoding.
#[tokio::test(flavor = "multi_thread")]
async fn an_echoed_token_of_any_shape_is_never_quoted() {
    use base64::Engine as _;
    let mock = mock().await;
    for token in ODD_TOKENS {
        let json_escaped = serde_json::to_string(token).unwrap();
        let json_escaped = &json_escaped[1..json_escaped.len() - 1];
        let url_encoded: String = form_urlencoded::byte_serialize(token.as_bytes()).collect();
        let b64 = base64::engine::general_purpose::STANDARD.encode(token);
        let body = format!(
            r#"{{"totalSize":1,"done":false,"echo":"{json_escaped} {url_encoded} {b64}","records":"#
        );
        mock.knobs().fail_next(
            1,
            Fault::Status {
                status: 200,
                content_type: "application/json".into(),
                body,
                retry_after: None,
            },
        );
        let grant = wit::Grant::AccessToken(wit::AccessTokenGrant {
            access_token: token.into(),
            instance_url: mock.http_url(),
        });
        let mut client = client(&mock, config(&mock, &mock.http_url(), grant));
        let err = client
            .query("SELECT Id FROM Account", salesforce_host::PLAIN_QUERY)
            .await
            .unwrap_err();
        let shown = format!("{err} {err:?}");
        assert!(shown.contains("unexpected response"), "{shown}");
        assert!(shown.contains("totalSize"), "the body is quoted: {shown}");
        // Four characters or more are scrubbed; shorter ones carry no entropy.
        if token.len() >= 4 {
            for form in [token, json_escaped, &url_encoded, &b64] {
                assert!(!shown.contains(form), "{token} leaked as {form}: {shown}");
            }
        }
    }
}
