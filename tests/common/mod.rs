//! Shared by the end-to-end tests: the real component (compiled once per test
//! binary) and a fresh mock Salesforce per test.

#![allow(dead_code)]

use salesforce_host::{wit, Client, ClientOptions, Connector, HostError};
use salesforce_mock::{Mock, MockOptions};
use sf_host::MockConfig;
use std::sync::{Arc, OnceLock};

pub fn connector() -> Arc<Connector> {
    static CONNECTOR: OnceLock<Arc<Connector>> = OnceLock::new();
    CONNECTOR
        .get_or_init(|| {
            Arc::new(Connector::load(&sf_host::default_component_path()).expect("component loads"))
        })
        .clone()
}

pub async fn mock() -> Mock {
    Mock::start(MockOptions::default())
        .await
        .expect("mock starts")
}

/// Every test client logs its requests here (the most verbose level there
/// is), so a test can check what a log would have shown.
pub fn log_lines() -> Vec<String> {
    LOG.lock().map(|l| l.clone()).unwrap_or_default()
}

static LOG: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

pub fn options(mock: &Mock) -> ClientOptions {
    ClientOptions {
        extra_ca_pem: Some(mock.ca_pem().to_string()),
        log: Some(salesforce_host::egress::RequestLog::new(|line| {
            if let Ok(mut log) = LOG.lock() {
                log.push(line);
            }
        })),
        ..Default::default()
    }
}

pub fn config(mock: &Mock, login_url: &str, grant: wit::Grant) -> wit::Config {
    wit::Config {
        timeout_ms: Some(5_000),
        // The default policy, with waits short enough for a test suite.
        retry: Some(wit::RetryPolicy {
            max_retries: 3,
            initial_backoff_ms: 20,
            max_backoff_ms: 2_000,
        }),
        ..mock.config(login_url, grant)
    }
}

pub fn password_grant(mock: &Mock) -> wit::Grant {
    mock.password_grant()
}

pub fn jwt_grant(mock: &Mock, pkcs1: bool) -> wit::Grant {
    let c = mock.credentials();
    let file = if pkcs1 {
        &c.private_key_pkcs1_file
    } else {
        &c.private_key_file
    };
    wit::Grant::JwtBearer(wit::JwtBearerGrant {
        username: c.username.clone(),
        private_key_pem: std::fs::read_to_string(file).expect("fixture key"),
        // The component's default: what Salesforce documents for the host.
        audience: None,
    })
}

pub fn client(mock: &Mock, config: wit::Config) -> Client {
    Client::new(connector(), config, options(mock)).expect("client")
}

pub fn password_client(mock: &Mock) -> Client {
    client(mock, config(mock, &mock.http_url(), password_grant(mock)))
}

/// Every secret the mock hands out, for leak checks.
pub fn secrets(mock: &Mock) -> Vec<String> {
    let c = mock.credentials();
    let mut s = vec![
        c.client_secret.clone(),
        c.password.clone(),
        c.security_token.clone(),
        c.refresh_token.clone(),
        format!("{}{}", c.password, c.security_token),
    ];
    for f in [&c.private_key_file, &c.private_key_pkcs1_file] {
        let pem = std::fs::read_to_string(f).unwrap_or_default();
        // A line from the middle of the key body is enough to spot a leak.
        if let Some(line) = pem.lines().nth(3) {
            s.push(line.to_string());
        }
    }
    s
}

/// Asserts that no secret, nor its URL-encoded or base64 form, is in `text`.
pub fn assert_no_secret(text: &str, secrets: &[String]) {
    use base64::Engine as _;
    for secret in secrets {
        let forms = [
            secret.clone(),
            form_urlencoded::byte_serialize(secret.as_bytes()).collect::<String>(),
            base64::engine::general_purpose::STANDARD.encode(secret),
        ];
        for form in forms {
            assert!(!text.contains(&form), "a secret leaked into: {text}");
        }
    }
}

pub fn get(path: &str) -> wit::Request {
    salesforce_host::get(path)
}

pub fn with_body(method: wit::Method, path: &str, body: &str) -> wit::Request {
    let mut r = salesforce_host::get(path);
    r.method = method;
    r.body = Some(body.to_string());
    r
}

/// The component's typed error, or a panic naming what came instead.
pub fn component_error(result: Result<impl std::fmt::Debug, HostError>) -> wit::Error {
    match result {
        Err(HostError::Component(e)) => e,
        other => panic!("expected a component error, got {other:?}"),
    }
}
