//! End-to-end checks of the mock Salesforce over real sockets: a raw HTTP/1.1
//! client (so chunked bodies and exact bytes are under the test's control)
//! and tokio-rustls trusting only the mock's CA.

mod support;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use hmac::{Hmac, Mac};
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::pkcs1v15::SigningKey;
use rsa::pkcs8::DecodePrivateKey;
use rsa::signature::{SignatureEncoding, Signer};
use rsa::RsaPrivateKey;
use salesforce_mock::{Fault, Mock, MockOptions};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use support::{parse_response, Resp};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

const V: &str = "/services/data/v62.0";

#[derive(Default)]
struct Req<'a> {
    headers: Vec<(&'a str, String)>,
    body: Option<Vec<u8>>,
    chunked: bool,
}

impl<'a> Req<'a> {
    fn bearer(mut self, token: &str) -> Self {
        self.headers
            .push(("Authorization", format!("Bearer {token}")));
        self
    }
    fn header(mut self, k: &'a str, v: &str) -> Self {
        self.headers.push((k, v.to_string()));
        self
    }
    fn json(mut self, v: Value) -> Self {
        self.headers
            .push(("Content-Type", "application/json".into()));
        self.body = Some(v.to_string().into_bytes());
        self
    }
    fn form(mut self, pairs: &[(&str, &str)]) -> Self {
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish();
        self.headers
            .push(("Content-Type", "application/x-www-form-urlencoded".into()));
        self.body = Some(body.into_bytes());
        self
    }
    fn chunked(mut self) -> Self {
        self.chunked = true;
        self
    }
}

async fn exchange<S: AsyncRead + AsyncWrite + Unpin>(
    mut s: S,
    host: &str,
    method: &str,
    path: &str,
    req: Req<'_>,
) -> Resp {
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n");
    for (k, v) in &req.headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    let mut out = Vec::new();
    match &req.body {
        Some(b) if req.chunked => {
            head.push_str("Transfer-Encoding: chunked\r\n\r\n");
            out.extend_from_slice(head.as_bytes());
            let mid = b.len() / 2;
            for part in [&b[..mid], &b[mid..]] {
                out.extend_from_slice(format!("{:x}\r\n", part.len()).as_bytes());
                out.extend_from_slice(part);
                out.extend_from_slice(b"\r\n");
            }
            out.extend_from_slice(b"0\r\n\r\n");
        }
        Some(b) => {
            head.push_str(&format!("Content-Length: {}\r\n\r\n", b.len()));
            out.extend_from_slice(head.as_bytes());
            out.extend_from_slice(b);
        }
        None => {
            head.push_str("\r\n");
            out.extend_from_slice(head.as_bytes());
        }
    }
    s.write_all(&out).await.expect("write request");
    s.flush().await.expect("flush");
    let mut raw = Vec::new();
    let mut buf = [0u8; 16384];
    loop {
        match s.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => raw.extend_from_slice(&buf[..n]),
        }
    }
    parse_response(&raw)
}

async fn send(mock: &Mock, method: &str, path: &str, req: Req<'_>) -> Resp {
    let host = mock.http_url().trim_start_matches("http://").to_string();
    let stream = TcpStream::connect(&host).await.expect("connect");
    exchange(stream, &host, method, path, req).await
}

async fn send_tls(mock: &Mock, server_name: &str, method: &str, path: &str, req: Req<'_>) -> Resp {
    let host = mock.https_url().trim_start_matches("https://").to_string();
    let mut roots = rustls::RootCertStore::empty();
    use rustls::pki_types::{pem::PemObject, CertificateDer};
    for cert in CertificateDer::pem_slice_iter(mock.ca_pem().as_bytes()) {
        roots.add(cert.unwrap()).unwrap();
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let name = rustls::pki_types::ServerName::try_from(server_name.to_string()).unwrap();
    let tcp = TcpStream::connect(&host).await.unwrap();
    let tls = connector
        .connect(name, tcp)
        .await
        .expect("TLS handshake trusting the mock CA");
    exchange(tls, &host, method, path, req).await
}

async fn start() -> Mock {
    Mock::start(MockOptions::default())
        .await
        .expect("mock starts")
}

fn password_form(mock: &Mock) -> Vec<(&'static str, String)> {
    let c = mock.credentials();
    vec![
        ("grant_type", "password".into()),
        ("client_id", c.client_id.clone()),
        ("client_secret", c.client_secret.clone()),
        ("username", c.username.clone()),
        ("password", format!("{}{}", c.password, c.security_token)),
    ]
}

fn pairs<'a>(v: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    v.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

async fn token(mock: &Mock) -> String {
    let form = password_form(mock);
    let r = send(
        mock,
        "POST",
        "/services/oauth2/token",
        Req::default().form(&pairs(&form)),
    )
    .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    r.json()["access_token"].as_str().unwrap().to_string()
}

fn hmac_b64(secret: &str, msg: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(msg.as_bytes());
    STANDARD.encode(mac.finalize().into_bytes())
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn q(soql: &str) -> String {
    form_urlencoded::Serializer::new(String::new())
        .append_pair("q", soql)
        .finish()
}

// ---- OAuth -------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread")]
async fn password_grant_chunked_with_special_characters_and_signature() {
    let mock = start().await;
    let c = mock.credentials().clone();
    assert!(c.password.contains("# &") || c.password.contains('#'));
    for ch in ['#', '&', '%', '+', ' ', 'é'] {
        assert!(c.password.contains(ch), "password has {ch:?}");
    }
    assert!(
        !format!("{c:?}").contains(&c.password),
        "Debug hides secrets"
    );
    assert!(!format!("{c:?}").contains(&c.client_secret));

    let form = password_form(&mock);
    let r = send(
        &mock,
        "POST",
        "/services/oauth2/token",
        Req::default().form(&pairs(&form)).chunked(),
    )
    .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(
        r.header("content-type"),
        Some("application/json;charset=UTF-8")
    );
    let t = r.json();
    assert_eq!(t["instance_url"], mock.http_url());
    assert_eq!(t["token_type"], "Bearer");
    assert!(t.get("expires_in").is_none());
    let issued_at = t["issued_at"].as_str().unwrap();
    assert_eq!(issued_at.len(), 13);
    let id = t["id"].as_str().unwrap();
    assert!(id.starts_with("https://login.salesforce.com/id/00D"));
    assert_eq!(
        t["signature"],
        hmac_b64(&c.client_secret, &format!("{id}{issued_at}"))
    );
    assert!(t["access_token"].as_str().unwrap().starts_with("00D"));
    assert_eq!(mock.token_requests(), 1);
    let logged = mock.requests();
    assert_eq!(logged[0].path, "/services/oauth2/token");
    assert_eq!(logged[0].scheme, "http");
    assert!(String::from_utf8_lossy(&logged[0].body).contains("grant_type=password"));

    mock.knobs().set_tamper_signature(true);
    let t = send(
        &mock,
        "POST",
        "/services/oauth2/token",
        Req::default().form(&pairs(&form)),
    )
    .await
    .json();
    let expected = hmac_b64(
        &c.client_secret,
        &format!(
            "{}{}",
            t["id"].as_str().unwrap(),
            t["issued_at"].as_str().unwrap()
        ),
    );
    assert_ne!(t["signature"], expected);

    mock.knobs().reset();
    mock.knobs()
        .set_instance_url_override(Some("https://acme.my.salesforce.com".into()));
    let t = send(
        &mock,
        "POST",
        "/services/oauth2/token",
        Req::default().form(&pairs(&form)),
    )
    .await
    .json();
    assert_eq!(t["instance_url"], "https://acme.my.salesforce.com");
    mock.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn oauth_errors_and_query_string_params() {
    let mock = start().await;
    let c = mock.credentials().clone();
    let mut form = password_form(&mock);
    form[4].1 = c.password.clone(); // security token missing
    let post = |f: Vec<(&'static str, String)>| {
        let mock = &mock;
        async move {
            send(
                mock,
                "POST",
                "/services/oauth2/token",
                Req::default().form(&pairs(&f)),
            )
            .await
        }
    };
    let r = post(form.clone()).await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.json(),
        json!({"error":"invalid_grant","error_description":"authentication failure"})
    );

    let mut f = password_form(&mock);
    f[1].1 = "nope".into();
    assert_eq!(post(f).await.json()["error"], "invalid_client_id");
    let mut f = password_form(&mock);
    f[2].1 = "nope".into();
    assert_eq!(
        post(f).await.json(),
        json!({"error":"invalid_client","error_description":"invalid client credentials"})
    );
    let f: Vec<_> = password_form(&mock).into_iter().skip(1).collect();
    assert_eq!(
        post(f).await.json(),
        json!({"error":"invalid_request","error_description":"grant type is missing"})
    );
    let mut f = password_form(&mock);
    f[0].1 = "implicit".into();
    assert_eq!(post(f).await.json()["error"], "unsupported_grant_type");

    // Zato: everything in the query string, empty body.
    let query = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs(&password_form(&mock)))
        .finish();
    let r = send(
        &mock,
        "POST",
        &format!("/services/oauth2/token?{query}"),
        Req::default(),
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(mock.token_requests(), 6);
    // By grant type, wherever it was sent; "" for the one without.
    assert_eq!(mock.token_requests_for("password"), 4);
    assert_eq!(mock.token_requests_for("implicit"), 1);
    assert_eq!(mock.token_requests_for(""), 1);
    assert_eq!(mock.token_requests_for("refresh_token"), 0);
}

fn sign_jwt(key: RsaPrivateKey, claims: Value) -> String {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
    let signing_input = format!("{header}.{payload}");
    let sig = SigningKey::<Sha256>::new(key).sign(signing_input.as_bytes());
    format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(sig.to_bytes()))
}

#[tokio::test(flavor = "multi_thread")]
async fn jwt_bearer_grant() {
    let mock = start().await;
    let c = mock.credentials().clone();
    let pkcs8 =
        RsaPrivateKey::from_pkcs8_pem(&std::fs::read_to_string(&c.private_key_file).unwrap())
            .unwrap();
    let pkcs1_pem = std::fs::read_to_string(&c.private_key_pkcs1_file).unwrap();
    assert!(
        pkcs1_pem.trim_start().starts_with("-----BEGIN RSA")
            && pkcs1_pem.contains("BEGIN RSA PRIVATE KEY")
    );
    let pkcs1 = RsaPrivateKey::from_pkcs1_pem(&pkcs1_pem).unwrap();
    let exp = now_secs() + 180;
    let claims = |aud: &str, exp: Value| json!({"iss": c.client_id, "sub": c.username, "aud": aud, "exp": exp});
    let grant = |assertion: String| {
        let mock = &mock;
        async move {
            let form = [
                ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
                ("assertion", assertion.as_str()),
            ];
            send(
                mock,
                "POST",
                "/services/oauth2/token",
                Req::default().form(&form),
            )
            .await
        }
    };

    let r = grant(sign_jwt(
        pkcs8.clone(),
        claims("https://login.salesforce.com", json!(exp)),
    ))
    .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let t = r.json();
    assert!(t.get("signature").is_none() && t.get("issued_at").is_none());
    assert_eq!(t["scope"], "api full");
    let tok = t["access_token"].as_str().unwrap();
    assert_eq!(
        send(
            &mock,
            "GET",
            &format!("{V}/limits"),
            Req::default().bearer(tok)
        )
        .await
        .status,
        200
    );

    // PKCS#1 key, exp as a string.
    let r = grant(sign_jwt(
        pkcs1.clone(),
        claims("https://login.salesforce.com", json!(exp.to_string())),
    ))
    .await;
    assert_eq!(r.status, 200);

    // A production org takes only login.salesforce.com: not its own URL, a
    // My Domain, the sandbox audience, or the right one with a slash.
    let refused = [
        mock.http_url(),
        mock.https_url(),
        "https://acme.my.salesforce.com".into(),
        "https://test.salesforce.com".into(),
        "https://login.salesforce.com/".into(),
        "https://evil.example.com".into(),
    ];
    for aud in &refused {
        let r = grant(sign_jwt(pkcs8.clone(), claims(aud, json!(exp)))).await;
        assert_eq!(
            (r.status, r.json()),
            (
                400,
                json!({"error":"invalid_grant","error_description":"audience is invalid"})
            ),
            "{aud}"
        );
    }
    // A sandbox takes only test.salesforce.com; exp in milliseconds, as the sf CLI sends it.
    mock.knobs().set_sandbox(true);
    let sandbox = |aud: &str| sign_jwt(pkcs1.clone(), claims(aud, json!(exp * 1000)));
    assert_eq!(
        grant(sandbox("https://test.salesforce.com")).await.status,
        200
    );
    let r = grant(sandbox("https://login.salesforce.com")).await;
    assert_eq!(r.json()["error_description"], "audience is invalid");
    mock.knobs().set_sandbox(false);
    let r = grant(sign_jwt(
        pkcs8.clone(),
        claims("https://login.salesforce.com", json!(now_secs() - 10)),
    ))
    .await;
    assert_eq!(r.json()["error_description"], "expired authorization code");
    let other = RsaPrivateKey::new(&mut rand::thread_rng(), 1024).unwrap();
    let r = grant(sign_jwt(
        other,
        claims("https://login.salesforce.com", json!(exp)),
    ))
    .await;
    assert_eq!(r.json()["error_description"], "invalid assertion");
    let r = grant("not.a.jwt".into()).await;
    assert_eq!(r.json()["error_description"], "invalid assertion");
    let mut wrong_sub = claims("https://login.salesforce.com", json!(exp));
    wrong_sub["sub"] = json!("someone@else.com");
    assert_eq!(
        grant(sign_jwt(pkcs8, wrong_sub)).await.json()["error_description"],
        "user hasn't approved this consumer"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn client_credentials_refresh_and_auth_code() {
    let mock = start().await;
    let c = mock.credentials().clone();
    let basic = STANDARD.encode(format!("{}:{}", c.client_id, c.client_secret));
    let r = send(
        &mock,
        "POST",
        "/services/oauth2/token",
        Req::default()
            .header("Authorization", &format!("Basic {basic}"))
            .form(&[("grant_type", "client_credentials")]),
    )
    .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert!(r.json()["signature"].is_string());

    let refresh = |rt: &str| {
        let form = vec![
            ("grant_type", "refresh_token".to_string()),
            ("refresh_token", rt.to_string()),
            ("client_id", c.client_id.clone()),
        ];
        let mock = &mock;
        async move {
            send(
                mock,
                "POST",
                "/services/oauth2/token",
                Req::default().form(&pairs(&form)),
            )
            .await
        }
    };
    let r = refresh(&c.refresh_token).await;
    assert_eq!(r.status, 200);
    assert!(r.json()["refresh_token"].is_string(), "rotated by default");
    assert_eq!(
        refresh("5Aepwrong").await.json()["error_description"],
        "expired access/refresh token"
    );
    assert_eq!(mock.refresh_token_reuses(), 0, "unknown is not reuse");

    let redirect = "http://localhost:1717/OauthRedirect";
    // jsforce-style verifier: 128 random bytes, base64url → 171 characters.
    let verifier = URL_SAFE_NO_PAD.encode([7u8; 128]);
    assert_eq!(verifier.len(), 171);
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    let exchange_code = |code: String, redirect: &'static str, verifier: String| {
        let form = vec![
            ("grant_type", "authorization_code".to_string()),
            ("code", code),
            ("client_id", c.client_id.clone()),
            ("client_secret", c.client_secret.clone()),
            ("redirect_uri", redirect.to_string()),
            ("code_verifier", verifier),
        ];
        let mock = &mock;
        async move {
            send(
                mock,
                "POST",
                "/services/oauth2/token",
                Req::default().form(&pairs(&form)),
            )
            .await
        }
    };
    let code = mock.issue_auth_code(redirect, Some(&challenge));
    let r = exchange_code(code.clone(), redirect, verifier.clone()).await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    // Each authorization starts its own refresh-token family.
    let issued = r.json()["refresh_token"].as_str().unwrap().to_string();
    assert_ne!(issued, c.refresh_token);
    assert_eq!(refresh(&issued).await.status, 200);
    let again = exchange_code(code, redirect, verifier.clone()).await;
    assert_eq!(
        (again.status, again.json()),
        (
            400,
            json!({"error":"invalid_grant","error_description":"invalid authorization code"})
        ),
        "single use"
    );

    let code = mock.issue_auth_code(redirect, Some(&challenge));
    assert_eq!(
        exchange_code(code, redirect, "wrong".into()).await.json()["error_description"],
        "invalid code verifier"
    );
    let code = mock.issue_auth_code(redirect, None);
    assert_eq!(
        exchange_code(code, "http://localhost/other", String::new())
            .await
            .json()["error"],
        "redirect_uri_mismatch"
    );
}

// ---- query -------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread")]
async fn query_pages_through_all_accounts() {
    let mock = start().await;
    let tok = token(&mock).await;
    // simple-salesforce style: trailing slash, `+` for spaces.
    let r = send(
        &mock,
        "GET",
        &format!("{V}/query/?q=SELECT+Id,+Name+FROM+Account"),
        Req::default().bearer(&tok),
    )
    .await;
    assert_eq!(r.status, 200);
    assert!(r
        .header("sforce-limit-info")
        .unwrap()
        .starts_with("api-usage="));
    let page = r.json();
    assert_eq!(page["totalSize"], 2500);
    assert_eq!(page["done"], false);
    assert_eq!(page["records"].as_array().unwrap().len(), 2000);
    let rec = &page["records"][0];
    assert_eq!(rec["attributes"]["type"], "Account");
    assert!(
        rec["Id"].as_str().unwrap().starts_with("001") && rec["Id"].as_str().unwrap().len() == 18
    );
    let body = String::from_utf8_lossy(&r.body).into_owned();
    assert!(body.contains(
        r#"{"attributes":{"type":"Account","url":"/services/data/v62.0/sobjects/Account/"#
    ));
    let next = page["nextRecordsUrl"].as_str().unwrap();
    assert!(
        next.starts_with("/services/data/v62.0/query/01g") && next.ends_with("-2000"),
        "{next}"
    );
    let page2 = send(&mock, "GET", next, Req::default().bearer(&tok))
        .await
        .json();
    assert_eq!(page2["done"], true);
    assert!(page2.get("nextRecordsUrl").is_none());
    assert_eq!(page2["records"].as_array().unwrap().len(), 500);

    // jsforce style: no slash, %20; batchSize=500 gives five pages.
    let mut url = format!("{V}/query?q=SELECT%20Id%20FROM%20Account");
    let mut pages = 0;
    let mut seen = 0;
    loop {
        let p = send(
            &mock,
            "GET",
            &url,
            Req::default()
                .bearer(&tok)
                .header("Sforce-Query-Options", "batchSize=500"),
        )
        .await
        .json();
        pages += 1;
        seen += p["records"].as_array().unwrap().len();
        match p["nextRecordsUrl"].as_str() {
            Some(n) => url = n.to_string(),
            None => break,
        }
    }
    assert_eq!((pages, seen), (5, 2500));

    let r = send(
        &mock,
        "GET",
        &format!("{V}/query/01gNOPE-2000"),
        Req::default().bearer(&tok),
    )
    .await;
    assert_eq!(
        (r.status, r.error_code().as_str()),
        (400, "INVALID_QUERY_LOCATOR")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn query_filters_sorts_and_reports_errors() {
    let mock = start().await;
    let tok = token(&mock).await;
    let run = |soql: &str| {
        let url = format!("{V}/query?{}", q(soql));
        let (mock, tok) = (&mock, tok.clone());
        async move { send(mock, "GET", &url, Req::default().bearer(&tok)).await }
    };
    let r = run("select name from ACCOUNT where Name like 'acme 00%' order by Name desc limit 3")
        .await
        .json();
    let names: Vec<_> = r["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["Name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names, ["Acme 0099", "Acme 0098", "Acme 0097"]);
    assert_eq!(r["totalSize"], 3);

    let r = run("SELECT Id, Name FROM Account WHERE Name = 'O\\'Reilly & Sons' OR (Name = 'Global Media' AND Industry != null)").await.json();
    assert_eq!(r["totalSize"], 2);
    let r = run("SELECT COUNT() FROM Account WHERE NumberOfEmployees > 100 AND AnnualRevenue >= 0")
        .await
        .json();
    assert!(r["totalSize"].as_u64().unwrap() > 0);
    assert_eq!(r["records"], json!([]));
    let r = run("SELECT Id FROM Account WHERE ExtId__c = 'DUP-1'")
        .await
        .json();
    assert_eq!(r["totalSize"], 2);
    let r = run("SELECT Name FROM Account LIMIT 2 OFFSET 2000")
        .await
        .json();
    assert_eq!(r["records"][1]["Name"], "Acme 2002");
    let r = run("SELECT Id FROM Account OFFSET 2001").await;
    assert_eq!(r.error_code(), "NUMBER_OUTSIDE_VALID_RANGE");

    let r = run(
        "SELECT Id, FirstName, Account.Name, Email FROM Contact WHERE Account.Name = 'Acme Corp'",
    )
    .await
    .json();
    assert!(r["totalSize"].as_u64().unwrap() >= 1);
    let c0 = &r["records"][0];
    assert_eq!(c0["Account"]["Name"], "Acme Corp");
    assert_eq!(c0["Account"]["attributes"]["type"], "Account");
    let r = run("SELECT Name, Account.Name FROM Contact WHERE AccountId = null")
        .await
        .json();
    assert!(r["totalSize"].as_u64().unwrap() > 0);
    assert_eq!(r["records"][0]["Account"], Value::Null);
    assert_eq!(run("SELECT Name FROM Lead").await.json()["totalSize"], 50);
    let r = run("SELECT Name, CloseDate FROM Opportunity WHERE CloseDate >= 2024-06-01 ORDER BY CloseDate LIMIT 1").await.json();
    assert!(r["records"][0]["CloseDate"].as_str().unwrap() >= "2024-06-01");
    let r = run(
        "SELECT Name FROM Account WHERE Industry IN ('Media', 'Energy') AND NOT Name LIKE 'Acme%'",
    )
    .await
    .json();
    assert_eq!(
        (r["totalSize"].as_u64(), r["records"][0]["Name"].as_str()),
        (Some(1), Some("O'Reilly & Sons"))
    );
    assert_eq!(
        run("SELECT Name, Amount FROM Opportunity WHERE Amount > 50000")
            .await
            .json()["totalSize"],
        50
    );

    let r = run("SELECT foo FROM Account").await;
    assert_eq!((r.status, r.error_code().as_str()), (400, "INVALID_FIELD"));
    assert!(r.json()[0]["message"]
        .as_str()
        .unwrap()
        .contains("No such column 'foo' on entity 'Account'"));
    let r = run("SELECT Id FROM Foo").await;
    assert_eq!(r.error_code(), "INVALID_TYPE");
    assert!(r.json()[0]["message"]
        .as_str()
        .unwrap()
        .contains("sObject type 'Foo' is not supported."));
    let r = run("SELECT Id FRM Account").await;
    assert_eq!(
        (r.status, r.error_code().as_str()),
        (400, "MALFORMED_QUERY")
    );
    let r = send(
        &mock,
        "GET",
        &format!("{V}/query"),
        Req::default().bearer(&tok),
    )
    .await;
    assert_eq!(r.error_code(), "MALFORMED_QUERY");
}

// ---- sObjects ----------------------------------------------------------------

#[tokio::test(flavor = "multi_thread")]
async fn create_get_update_delete() {
    let mock = start().await;
    let tok = token(&mock).await;
    let auth = || Req::default().bearer(&tok);
    let r = send(
        &mock,
        "POST",
        &format!("{V}/sobjects/Account"),
        auth().json(json!({"Name": "Zeta Ltd", "AnnualRevenue": 12.5})),
    )
    .await;
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    let id = r.json()["id"].as_str().unwrap().to_string();
    assert_eq!(r.json(), json!({"id": id, "success": true, "errors": []}));
    assert_eq!(
        r.header("location").unwrap(),
        format!("{V}/sobjects/Account/{id}")
    );

    let got = send(&mock, "GET", &format!("{V}/sobjects/Account/{id}"), auth())
        .await
        .json();
    assert_eq!(got["Name"], "Zeta Ltd");
    assert_eq!(got["attributes"]["type"], "Account");
    let got = send(
        &mock,
        "GET",
        &format!("{V}/sobjects/account/{id}?fields=Name,Industry"),
        auth(),
    )
    .await
    .json();
    assert_eq!(got.as_object().unwrap().len(), 3, "{got}");

    let r = send(
        &mock,
        "PATCH",
        &format!("{V}/sobjects/Account/{id}"),
        auth().json(json!({"Industry": "Space"})),
    )
    .await;
    assert_eq!((r.status, r.body.len()), (204, 0));
    assert_eq!(
        send(&mock, "GET", &format!("{V}/sobjects/Account/{id}"), auth())
            .await
            .json()["Industry"],
        "Space"
    );

    assert_eq!(
        send(
            &mock,
            "DELETE",
            &format!("{V}/sobjects/Account/{id}"),
            auth()
        )
        .await
        .status,
        204
    );
    assert_eq!(
        send(&mock, "GET", &format!("{V}/sobjects/Account/{id}"), auth())
            .await
            .status,
        404
    );
    let soql = q(&format!(
        "SELECT Id, IsDeleted FROM Account WHERE Id = '{id}'"
    ));
    assert_eq!(
        send(&mock, "GET", &format!("{V}/query?{soql}"), auth())
            .await
            .json()["totalSize"],
        0
    );
    let all = send(&mock, "GET", &format!("{V}/queryAll?{soql}"), auth())
        .await
        .json();
    assert_eq!(all["records"][0]["IsDeleted"], true);

    let r = send(
        &mock,
        "POST",
        &format!("{V}/sobjects/Lead"),
        auth().json(json!({"FirstName": "X"})),
    )
    .await;
    assert_eq!(
        r.json(),
        json!([{"message":"Required fields are missing: [LastName, Company]","errorCode":"REQUIRED_FIELD_MISSING","fields":["LastName","Company"]}])
    );
    let r = send(
        &mock,
        "POST",
        &format!("{V}/sobjects/Account"),
        auth().json(json!({"Name": "A", "Foo": 1})),
    )
    .await;
    assert_eq!(
        r.json()[0]["message"],
        "No such column 'Foo' on sobject of type Account"
    );
    let r = send(
        &mock,
        "POST",
        &format!("{V}/sobjects/Widget"),
        auth().json(json!({"Name": "A"})),
    )
    .await;
    assert_eq!((r.status, r.error_code().as_str()), (404, "NOT_FOUND"));
    let mut bad = auth();
    bad.body = Some(b"{not json".to_vec());
    let r = send(&mock, "POST", &format!("{V}/sobjects/Account"), bad).await;
    assert_eq!(
        (r.status, r.error_code().as_str()),
        (400, "JSON_PARSER_ERROR")
    );
    let r = send(
        &mock,
        "GET",
        &format!("{V}/sobjects/Account/bad-id"),
        auth(),
    )
    .await;
    assert_eq!((r.status, r.error_code().as_str()), (400, "MALFORMED_ID"));
    let r = send(
        &mock,
        "GET",
        &format!("{V}/sobjects/Account/001000000000999999"),
        auth(),
    )
    .await;
    assert_eq!(
        r.json(),
        json!([{"errorCode":"NOT_FOUND","message":"The requested resource does not exist"}])
    );
    let r = send(
        &mock,
        "GET",
        &format!("{V}/sobjects/Contact/describe"),
        auth(),
    )
    .await;
    assert!(r.json()["fields"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["name"] == "AccountId"));
}

#[tokio::test(flavor = "multi_thread")]
async fn upsert_by_external_id() {
    let mock = start().await;
    let tok = token(&mock).await;
    let auth = || Req::default().bearer(&tok);
    let url = format!("{V}/sobjects/Account/ExtId__c/NEW-1");
    let r = send(&mock, "PATCH", &url, auth().json(json!({"Name": "Fresh"}))).await;
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    let id = r.json()["id"].as_str().unwrap().to_string();
    assert_eq!(
        r.json(),
        json!({"id": id, "success": true, "errors": [], "created": true})
    );
    let r = send(
        &mock,
        "PATCH",
        &url,
        auth().json(json!({"Name": "Fresher"})),
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.json(),
        json!({"id": id, "success": true, "errors": [], "created": false})
    );
    let r = send(
        &mock,
        "PATCH",
        "/services/data/v45.0/sobjects/Account/ExtId__c/NEW-1",
        auth().json(json!({"Name": "Old API"})),
    )
    .await;
    assert_eq!(r.status, 204);
    assert_eq!(
        send(&mock, "GET", &url, auth()).await.json()["Name"],
        "Old API"
    );

    let r = send(
        &mock,
        "PATCH",
        &format!("{V}/sobjects/Account/ExtId__c/DUP-1"),
        auth().json(json!({"Name": "X"})),
    )
    .await;
    assert_eq!(r.status, 300);
    let urls = r.json();
    assert_eq!(urls.as_array().unwrap().len(), 2);
    assert!(urls[0]
        .as_str()
        .unwrap()
        .starts_with("/services/data/v62.0/sobjects/Account/001"));
    let r = send(
        &mock,
        "PATCH",
        &format!("{V}/sobjects/Account/Foo/1"),
        auth().json(json!({"Name": "X"})),
    )
    .await;
    assert_eq!(
        r.json(),
        json!([{"message":"Provided external ID field does not exist or is not accessible: Foo","errorCode":"NOT_FOUND"}])
    );
}

// ---- sessions, knobs, versions ----------------------------------------------

#[tokio::test(flavor = "multi_thread")]
async fn session_knobs() {
    let mock = start().await;
    let limits = format!("{V}/limits");
    let r = send(&mock, "GET", &limits, Req::default()).await;
    assert_eq!(r.status, 401);
    assert_eq!(
        r.json(),
        json!([{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}])
    );
    assert!(r.header("sforce-limit-info").is_some());

    mock.knobs()
        .set_token_lifetime(Some(Duration::from_secs(300)));
    let tok = token(&mock).await;
    let r = send(&mock, "GET", &limits, Req::default().bearer(&tok)).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["DailyApiRequests"]["Max"], 15000);
    mock.knobs().advance_clock(Duration::from_secs(400));
    let r = send(&mock, "GET", &limits, Req::default().bearer(&tok)).await;
    assert_eq!(
        (r.status, r.error_code().as_str()),
        (401, "INVALID_SESSION_ID")
    );

    mock.knobs().set_token_lifetime(None);
    let tok = token(&mock).await;
    assert_eq!(
        send(&mock, "GET", &limits, Req::default().bearer(&tok))
            .await
            .status,
        200
    );
    mock.knobs().expire_all_sessions();
    assert_eq!(
        send(&mock, "GET", &limits, Req::default().bearer(&tok))
            .await
            .status,
        401
    );

    let tok = token(&mock).await;
    mock.knobs().set_persistent_401(true);
    assert_eq!(
        send(&mock, "GET", &limits, Req::default().bearer(&tok))
            .await
            .status,
        401
    );
    let fresh = token(&mock).await;
    assert_eq!(
        send(&mock, "GET", &limits, Req::default().bearer(&fresh))
            .await
            .status,
        401
    );
    mock.knobs().set_persistent_401(false);
    assert_eq!(
        send(&mock, "GET", &limits, Req::default().bearer(&fresh))
            .await
            .status,
        200
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn delay_and_fault_knobs() {
    let mock = start().await;
    mock.knobs().set_delay(Some(Duration::from_millis(300)));
    let started = Instant::now();
    assert_eq!(
        send(&mock, "GET", "/services/data/", Req::default())
            .await
            .status,
        200
    );
    assert!(started.elapsed() >= Duration::from_millis(300));
    mock.knobs().set_delay(None);

    mock.knobs().fail_next(
        2,
        Fault::Status {
            status: 503,
            content_type: "text/html".into(),
            body: "<html>Service Unavailable</html>".into(),
            retry_after: Some(7),
        },
    );
    for _ in 0..2 {
        let r = send(&mock, "GET", "/services/data/", Req::default()).await;
        assert_eq!(
            (r.status, r.header("retry-after"), r.header("content-type")),
            (503, Some("7"), Some("text/html"))
        );
    }
    assert_eq!(
        send(&mock, "GET", "/services/data/", Req::default())
            .await
            .status,
        200
    );
    mock.knobs().fail_next(1, Fault::Html);
    let r = send(&mock, "POST", "/services/oauth2/token", Req::default()).await;
    assert!(r.header("content-type").unwrap().starts_with("text/html"));
    mock.knobs().fail_next(1, Fault::MalformedJson);
    let r = send(&mock, "GET", "/services/data/", Req::default()).await;
    assert!(serde_json::from_slice::<Value>(&r.body).is_err());
    assert_eq!(mock.token_requests(), 1, "faulted token requests count too");

    // A client that gives up on a long delay, then a prompt shutdown.
    mock.knobs().set_delay(Some(Duration::from_secs(30)));
    let slow = tokio::time::timeout(
        Duration::from_millis(200),
        send(&mock, "GET", "/services/data/", Req::default()),
    )
    .await;
    assert!(slow.is_err());
    let started = Instant::now();
    mock.shutdown().await;
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test(flavor = "multi_thread")]
async fn versions_and_unknown_paths() {
    let mock = start().await;
    let r = send(&mock, "GET", "/services/data/", Req::default()).await;
    assert_eq!(r.status, 200);
    assert!(r.header("sforce-limit-info").is_none());
    let list = r.json();
    assert!(list
        .as_array()
        .unwrap()
        .contains(&json!({"label":"Winter '25","url":"/services/data/v62.0","version":"62.0"})));
    assert_eq!(list[0]["version"], "31.0");
    assert_eq!(
        list.as_array().unwrap().last(),
        Some(&json!({"label":"Winter '27","url":"/services/data/v68.0","version":"68.0"}))
    );
    assert_eq!(
        send(&mock, "GET", "/services/data", Req::default())
            .await
            .status,
        200
    );
    let tok = token(&mock).await;
    assert_eq!(
        send(
            &mock,
            "GET",
            "/services/data/v20.0/limits",
            Req::default().bearer(&tok)
        )
        .await
        .status,
        410
    );
    let limits = |v: &str| format!("/services/data/v{v}/limits");
    for (v, status) in [("30.0", 410), ("31.0", 200), ("68.0", 200), ("69.0", 404)] {
        let r = send(&mock, "GET", &limits(v), Req::default().bearer(&tok)).await;
        assert_eq!(r.status, status, "v{v}");
    }
    let r = send(&mock, "GET", &format!("{V}/"), Req::default().bearer(&tok)).await;
    assert_eq!(r.json()["query"], "/services/data/v62.0/query");
    let r = send(&mock, "GET", "/nothing/here", Req::default()).await;
    assert_eq!(
        r.json(),
        json!([{"errorCode":"NOT_FOUND","message":"The requested resource does not exist"}])
    );
    let r = send(
        &mock,
        "GET",
        &format!("{V}/nothing"),
        Req::default().bearer(&tok),
    )
    .await;
    assert_eq!(r.status, 404);
    assert!(r.header("sforce-limit-info").is_some());
}

#[tokio::test(flavor = "multi_thread")]
async fn https_trusting_only_the_mock_ca() {
    let mock = start().await;
    assert!(std::fs::read_to_string(mock.ca_file())
        .unwrap()
        .contains("BEGIN CERTIFICATE"));
    let r = send_tls(&mock, "127.0.0.1", "GET", "/services/data/", Req::default()).await;
    assert_eq!(r.status, 200);
    let form = password_form(&mock);
    let r = send_tls(
        &mock,
        "localhost",
        "POST",
        "/services/oauth2/token",
        Req::default().form(&pairs(&form)).chunked(),
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["instance_url"], mock.https_url());
    let tok = r.json()["access_token"].as_str().unwrap().to_string();
    let r = send_tls(
        &mock,
        "127.0.0.1",
        "GET",
        &format!("{V}/query?{}", q("SELECT Id FROM Lead LIMIT 1")),
        Req::default().bearer(&tok),
    )
    .await;
    assert_eq!(r.json()["totalSize"], 1);
    assert!(mock.requests().iter().any(|r| r.scheme == "https"));

    let info = mock.connection_info();
    assert_eq!(info["https_url"], mock.https_url());
    assert_eq!(info["password"], mock.credentials().password);
    let http = mock.http_url();
    mock.shutdown().await;
    assert!(TcpStream::connect(http.trim_start_matches("http://"))
        .await
        .is_err());
}

#[tokio::test(flavor = "multi_thread")]
async fn soap_login_and_userinfo() {
    let mock = start().await;
    let c = mock.credentials().clone();
    let escape = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    };
    let envelope = |password: &str| {
        format!(
            r#"<?xml version="1.0" encoding="utf-8" ?><env:Envelope xmlns:env="http://schemas.xmlsoap.org/soap/envelope/"><env:Header><urn:CallOptions xmlns:urn="urn:partner.soap.sforce.com"><urn:client>simple-salesforce</urn:client></urn:CallOptions></env:Header><env:Body><n1:login xmlns:n1="urn:partner.soap.sforce.com"><n1:username>{}</n1:username><n1:password>{}</n1:password></n1:login></env:Body></env:Envelope>"#,
            escape(&c.username),
            escape(password)
        )
    };
    let soap = |body: String| {
        let mut req = Req::default()
            .header("Content-Type", "text/xml")
            .header("SOAPAction", "login")
            .chunked();
        req.body = Some(body.into_bytes());
        let mock = &mock;
        async move { send(mock, "POST", "/services/Soap/u/59.0", req).await }
    };
    let r = soap(envelope(&format!("{}{}", c.password, c.security_token))).await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let xml = String::from_utf8(r.body.clone()).unwrap();
    assert!(xml.contains(&format!(
        "<serverUrl>{}/services/Soap/u/59.0/",
        mock.http_url()
    )));
    let session = xml
        .split("<sessionId>")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .to_string();
    assert_eq!(
        send(
            &mock,
            "GET",
            &format!("{V}/limits"),
            Req::default().bearer(&session)
        )
        .await
        .status,
        200
    );

    let r = soap(envelope(&c.password)).await;
    assert_eq!(r.status, 500);
    assert!(String::from_utf8_lossy(&r.body).contains("<faultcode>sf:INVALID_LOGIN</faultcode>"));

    let r = send(
        &mock,
        "GET",
        "/services/oauth2/userinfo",
        Req::default().bearer(&session),
    )
    .await;
    assert_eq!(r.json()["preferred_username"], c.username);
    assert_eq!(
        send(
            &mock,
            "GET",
            "/services/oauth2/userinfo",
            Req::default().bearer("nope")
        )
        .await
        .status,
        403
    );
}

// ---- bigger data set, collections, composite, SOSL ---------------------------

fn limit_info_used(r: &Resp) -> u64 {
    let h = r.header("sforce-limit-info").expect("Sforce-Limit-Info");
    h.trim_start_matches("api-usage=")
        .split('/')
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn extra_accounts_give_ten_thousand_plus_rows() {
    let mock = Mock::start(MockOptions {
        extra_accounts: 10_000,
        ..MockOptions::default()
    })
    .await
    .unwrap();
    assert!(mock
        .ca_file()
        .to_string_lossy()
        .contains("sf-mock-fixtures-"));
    let tok = token(&mock).await;
    let auth = || Req::default().bearer(&tok);
    let mut url = format!("{V}/query?{}", q("SELECT Id, Name, ExtId__c FROM Account"));
    let (mut pages, mut names, mut exts, mut ids) = (0, Vec::new(), Vec::new(), Vec::new());
    loop {
        let p = send(&mock, "GET", &url, auth()).await.json();
        assert_eq!(p["totalSize"], 12_500);
        pages += 1;
        for r in p["records"].as_array().unwrap() {
            names.push(r["Name"].as_str().unwrap().to_string());
            exts.push(r["ExtId__c"].as_str().unwrap().to_string());
            ids.push(r["Id"].as_str().unwrap().to_string());
        }
        match p["nextRecordsUrl"].as_str() {
            Some(n) => url = n.to_string(),
            None => break,
        }
    }
    assert_eq!((pages, names.len()), (7, 12_500));
    assert_eq!(names[0], "Acme 0001");
    assert_eq!(names[2500], "Bulk 00001");
    assert_eq!(names[12_499], "Bulk 10000");
    assert_eq!(exts[2500], "BULK-00001");
    // Only the two seeded DUP-1 rows share an external id.
    let mut uniq = exts.clone();
    uniq.sort();
    uniq.dedup();
    assert_eq!(uniq.len(), 12_499);
    let mut uniq_ids = ids.clone();
    uniq_ids.sort();
    uniq_ids.dedup();
    assert_eq!(uniq_ids.len(), 12_500);
    let r = send(
        &mock,
        "GET",
        &format!("{V}/sobjects/Account/ExtId__c/BULK-04321"),
        auth(),
    )
    .await
    .json();
    assert_eq!(r["Name"], "Bulk 04321");
    let r = send(
        &mock,
        "GET",
        &format!(
            "{V}/query?{}",
            q("SELECT COUNT() FROM Account WHERE Name LIKE 'Bulk%'")
        ),
        auth(),
    )
    .await
    .json();
    assert_eq!(r["totalSize"], 10_000);
}

#[tokio::test(flavor = "multi_thread")]
async fn sobject_collections() {
    let mock = start().await;
    let tok = token(&mock).await;
    let auth = || Req::default().bearer(&tok);
    let url = format!("{V}/composite/sobjects");
    let count = |name: &'static str| {
        let mock = &mock;
        let tok = tok.clone();
        async move {
            send(
                mock,
                "GET",
                &format!(
                    "{V}/query?{}",
                    q(&format!(
                        "SELECT COUNT() FROM Account WHERE Name LIKE '{name}%'"
                    ))
                ),
                Req::default().bearer(&tok),
            )
            .await
            .json()["totalSize"]
                .as_u64()
                .unwrap()
        }
    };

    // Create, partial success.
    let r = send(
        &mock,
        "POST",
        &url,
        auth().json(json!({"allOrNone": false, "records": [
            {"attributes": {"type": "Account"}, "Name": "Coll A", "ExtId__c": "COLL-A"},
            {"attributes": {"type": "Account"}, "Industry": "Nope"},
            {"attributes": {"type": "Contact"}, "LastName": "Coll", "Foo": 1},
            {"attributes": {"type": "Contact"}, "LastName": "Collins"},
        ]})),
    )
    .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert!(limit_info_used(&r) > 0);
    let res = r.json();
    let a_id = res[0]["id"].as_str().unwrap().to_string();
    assert!(a_id.starts_with("001"));
    assert_eq!(res[0], json!({"id": a_id, "success": true, "errors": []}));
    assert!(String::from_utf8_lossy(&r.body).starts_with(r#"[{"id":""#));
    assert_eq!(
        res[1],
        json!({"success": false, "errors": [{"statusCode": "REQUIRED_FIELD_MISSING", "message": "Required fields are missing: [Name]", "fields": ["Name"]}]})
    );
    assert_eq!(res[2]["errors"][0]["statusCode"], "INVALID_FIELD");
    assert!(res[2].get("id").is_none());
    assert!(res[3]["id"].as_str().unwrap().starts_with("003"));
    assert_eq!(count("Coll A").await, 1);

    // allOrNone: nothing written, valid records rolled back.
    let r = send(
        &mock,
        "POST",
        &url,
        auth().json(json!({"allOrNone": true, "records": [
            {"attributes": {"type": "Account"}, "Name": "Rollback 1"},
            {"attributes": {"type": "Account"}},
            {"attributes": {"type": "Account"}, "Name": "Rollback 3"},
        ]})),
    )
    .await
    .json();
    let rolled = json!({"success": false, "errors": [{"statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK", "message": "Record rolled back because not all records were valid and the request was using AllOrNone header", "fields": []}]});
    assert_eq!(r[0], rolled);
    assert_eq!(r[1]["errors"][0]["statusCode"], "REQUIRED_FIELD_MISSING");
    assert_eq!(r[2], rolled);
    assert_eq!(count("Rollback").await, 0);

    // Over 200 records.
    let many: Vec<Value> = (0..201)
        .map(|i| json!({"attributes": {"type": "Account"}, "Name": format!("M{i}")}))
        .collect();
    let r = send(&mock, "POST", &url, auth().json(json!({"records": many}))).await;
    assert_eq!(
        (r.status, r.error_code().as_str()),
        (400, "EXCEEDED_ID_LIMIT")
    );
    let r = send(&mock, "POST", &url, auth().json(json!([1, 2]))).await;
    assert_eq!(
        (r.status, r.error_code().as_str()),
        (400, "JSON_PARSER_ERROR")
    );

    // Update.
    let r = send(
        &mock,
        "PATCH",
        &url,
        auth().json(json!({"allOrNone": false, "records": [
            {"attributes": {"type": "Account"}, "Id": a_id, "Industry": "Space"},
            {"attributes": {"type": "Account"}, "Id": "001000000000999999", "Name": "X"},
            {"attributes": {"type": "Account"}, "Id": "bad", "Name": "X"},
            {"attributes": {"type": "Account"}, "Name": "No id"},
        ]})),
    )
    .await
    .json();
    assert_eq!(r[0], json!({"id": a_id, "success": true, "errors": []}));
    assert_eq!(
        r[1]["errors"][0]["statusCode"],
        "INVALID_CROSS_REFERENCE_KEY"
    );
    assert_eq!(
        r[2],
        json!({"success": false, "errors": [{"statusCode": "MALFORMED_ID", "message": "malformed id bad", "fields": []}]})
    );
    assert_eq!(r[3]["errors"][0]["statusCode"], "MISSING_ARGUMENT");
    let got = send(
        &mock,
        "GET",
        &format!("{V}/sobjects/Account/{a_id}"),
        auth(),
    )
    .await
    .json();
    assert_eq!(got["Industry"], "Space");

    // Update allOrNone: the good change is undone, and keeps its id.
    let r = send(
        &mock,
        "PATCH",
        &url,
        auth().json(json!({"allOrNone": true, "records": [
            {"attributes": {"type": "Account"}, "Id": a_id, "Industry": "Undone"},
            {"attributes": {"type": "Account"}, "Id": a_id, "Name": ""},
        ]})),
    )
    .await
    .json();
    assert_eq!(r[0]["id"], a_id.as_str());
    assert_eq!(
        r[0]["errors"][0]["statusCode"],
        "ALL_OR_NONE_OPERATION_ROLLED_BACK"
    );
    assert_eq!(r[1]["errors"][0]["statusCode"], "REQUIRED_FIELD_MISSING");
    let got = send(
        &mock,
        "GET",
        &format!("{V}/sobjects/Account/{a_id}"),
        auth(),
    )
    .await
    .json();
    assert_eq!(got["Industry"], "Space");

    // Upsert by external id.
    let r = send(
        &mock,
        "PATCH",
        &format!("{url}/Account/ExtId__c"),
        auth().json(json!({"allOrNone": false, "records": [
            {"attributes": {"type": "Account"}, "ExtId__c": "COLL-A", "Name": "Coll A2"},
            {"attributes": {"type": "Account"}, "ExtId__c": "COLL-B", "Name": "Coll B"},
            {"attributes": {"type": "Account"}, "ExtId__c": "DUP-1", "Name": "Dup"},
            {"attributes": {"type": "Account"}, "Name": "No key"},
        ]})),
    )
    .await;
    let body = String::from_utf8_lossy(&r.body).into_owned();
    assert!(body.starts_with(r#"[{"id":""#), "{body}");
    let r = r.json();
    assert_eq!(
        r[0],
        json!({"id": a_id, "success": true, "errors": [], "created": false})
    );
    assert_eq!(r[1]["created"], true);
    assert_eq!(r[1]["success"], true);
    let b_id = r[1]["id"].as_str().unwrap().to_string();
    assert_eq!(r[2]["errors"][0]["statusCode"], "DUPLICATE_EXTERNAL_ID");
    assert_eq!(r[3]["success"], false);
    let r = send(
        &mock,
        "PATCH",
        &format!("{url}/Account/Nope__c"),
        auth().json(json!({"records": []})),
    )
    .await;
    assert_eq!((r.status, r.error_code().as_str()), (404, "NOT_FOUND"));

    // Delete.
    let r = send(
        &mock,
        "DELETE",
        &format!("{url}?ids={a_id},{b_id},001000000000999999,xyz&allOrNone=false"),
        auth(),
    )
    .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let r = r.json();
    assert_eq!(r[0], json!({"id": a_id, "success": true, "errors": []}));
    assert_eq!(r[1]["success"], true);
    assert_eq!(r[2]["success"], false);
    assert_eq!(r[3]["errors"][0]["statusCode"], "MALFORMED_ID");
    assert_eq!(count("Coll").await, 0);
    // Deleting again: already deleted.
    let r = send(&mock, "DELETE", &format!("{url}?ids={a_id}"), auth())
        .await
        .json();
    assert_eq!(r[0]["errors"][0]["statusCode"], "ENTITY_IS_DELETED");
    let r = send(&mock, "DELETE", &url, auth()).await;
    assert_eq!(r.status, 400);
    // No session, no collections.
    let r = send(
        &mock,
        "POST",
        &url,
        Req::default().json(json!({"records": []})),
    )
    .await;
    assert_eq!(r.status, 401);
    assert!(mock
        .requests()
        .iter()
        .any(|l| l.method == "DELETE" && l.path == url));
}

#[tokio::test(flavor = "multi_thread")]
async fn composite_with_references_and_rollback() {
    let mock = start().await;
    let tok = token(&mock).await;
    let auth = || Req::default().bearer(&tok);
    let url = format!("{V}/composite");
    let before = mock.requests().len();
    let r = send(
        &mock,
        "POST",
        &url,
        auth().json(json!({"allOrNone": false, "compositeRequest": [
            {"method": "POST", "url": format!("{V}/sobjects/Account"), "referenceId": "refAccount",
             "body": {"Name": "Composite Co"}},
            {"method": "POST", "url": format!("{V}/sobjects/Contact"), "referenceId": "refContact",
             "body": {"LastName": "Comp", "AccountId": "@{refAccount.id}"}},
            {"method": "GET", "url": format!("{V}/sobjects/Account/@{{refAccount.id}}?fields=Name"),
             "referenceId": "refGet"},
            {"method": "GET", "url": format!("{V}/query?q=SELECT Id, Name FROM Contact WHERE AccountId = '@{{refAccount.id}}'"),
             "referenceId": "refQuery"},
            {"method": "PATCH", "url": format!("{V}/sobjects/Contact/@{{refQuery.records[0].Id}}"),
             "referenceId": "refPatch", "body": {"FirstName": "@{refGet.Name}"}},
            {"method": "GET", "url": format!("{V}/sobjects/Account/@{{refMissing.id}}"),
             "referenceId": "refBad"},
            {"method": "DELETE", "url": format!("{V}/sobjects/Account/001000000000999999"),
             "referenceId": "refDel"},
        ]})),
    )
    .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert!(r.header("sforce-limit-info").is_some());
    // One logged request and one counted API call for the whole composite.
    assert_eq!(mock.requests().len(), before + 1);
    let used = limit_info_used(&r);
    let subs = r.json()["compositeResponse"].as_array().unwrap().clone();
    assert_eq!(subs.len(), 7);
    let acct = subs[0]["body"]["id"].as_str().unwrap().to_string();
    assert_eq!(subs[0]["httpStatusCode"], 201);
    assert_eq!(subs[0]["referenceId"], "refAccount");
    assert_eq!(
        subs[0]["httpHeaders"]["Location"],
        format!("{V}/sobjects/Account/{acct}")
    );
    assert_eq!(subs[1]["httpStatusCode"], 201);
    assert_eq!(subs[2]["body"]["Name"], "Composite Co");
    assert_eq!(subs[3]["body"]["totalSize"], 1);
    assert_eq!(subs[4]["httpStatusCode"], 204);
    assert_eq!(subs[4]["body"], Value::Null);
    assert_eq!(subs[4]["httpHeaders"], json!({}));
    assert_eq!(subs[5]["httpStatusCode"], 400);
    assert_eq!(subs[5]["body"][0]["errorCode"], "PROCESSING_HALTED");
    assert!(subs[5]["body"][0]["message"].as_str().unwrap().starts_with(
        "Invalid reference specified. No value for refMissing.id found in refMissing."
    ));
    assert_eq!(subs[6]["httpStatusCode"], 404);
    let contact = subs[1]["body"]["id"].as_str().unwrap();
    let c = send(
        &mock,
        "GET",
        &format!("{V}/sobjects/Contact/{contact}"),
        auth(),
    )
    .await;
    assert_eq!(limit_info_used(&c), used + 1);
    let c = c.json();
    assert_eq!(c["AccountId"], acct.as_str());
    assert_eq!(c["Name"], "Composite Co Comp");

    // allOrNone: the failure keeps its error, everything else is rolled back.
    let r = send(
        &mock,
        "POST",
        &url,
        auth().json(json!({"allOrNone": true, "compositeRequest": [
            {"method": "POST", "url": format!("{V}/sobjects/Account"), "referenceId": "a1",
             "body": {"Name": "Atomic One"}},
            {"method": "PATCH", "url": format!("{V}/sobjects/Account/{acct}"), "referenceId": "a2",
             "body": {"Name": "Renamed"}},
            {"method": "POST", "url": format!("{V}/composite/sobjects"), "referenceId": "a3",
             "body": {"records": [{"attributes": {"type": "Account"}, "Name": "Atomic Coll"}]}},
            {"method": "POST", "url": format!("{V}/sobjects/Contact"), "referenceId": "a4",
             "body": {"FirstName": "NoLast", "AccountId": "@{a1.id}"}},
            {"method": "POST", "url": format!("{V}/sobjects/Account"), "referenceId": "a5",
             "body": {"Name": "Never"}},
        ]})),
    )
    .await
    .json();
    let subs = r["compositeResponse"].as_array().unwrap();
    let halted = json!([{"errorCode": "PROCESSING_HALTED", "message": "The transaction was rolled back since another operation in the same transaction failed."}]);
    for i in [0, 1, 2, 4] {
        assert_eq!(subs[i]["httpStatusCode"], 400, "{i}");
        assert_eq!(subs[i]["body"], halted, "{i}");
    }
    assert_eq!(subs[3]["httpStatusCode"], 400);
    assert_eq!(subs[3]["body"][0]["errorCode"], "REQUIRED_FIELD_MISSING");
    let n = send(
        &mock,
        "GET",
        &format!(
            "{V}/query?{}",
            q("SELECT COUNT() FROM Account WHERE Name LIKE 'Atomic%' OR Name = 'Renamed'")
        ),
        auth(),
    )
    .await
    .json();
    assert_eq!(n["totalSize"], 0);
    assert_eq!(
        send(
            &mock,
            "GET",
            &format!("{V}/sobjects/Account/{acct}"),
            auth()
        )
        .await
        .json()["Name"],
        "Composite Co"
    );

    // Request-level errors.
    let many: Vec<Value> = (0..26)
        .map(|i| json!({"method": "GET", "url": format!("{V}/limits"), "referenceId": format!("r{i}")}))
        .collect();
    let r = send(
        &mock,
        "POST",
        &url,
        auth().json(json!({"compositeRequest": many})),
    )
    .await;
    assert_eq!(r.status, 400);
    assert!(!r.error_code().is_empty());
    let r = send(
        &mock,
        "POST",
        &url,
        auth().json(json!({"compositeRequest": "x"})),
    )
    .await;
    assert_eq!(r.status, 400);
    let r = send(
        &mock,
        "POST",
        &url,
        auth().json(json!({"compositeRequest": [
            {"method": "POST", "url": url, "referenceId": "nested", "body": {"compositeRequest": []}},
            {"method": "GET", "url": "http://elsewhere/x", "referenceId": "abs"},
        ]})),
    )
    .await
    .json();
    assert_eq!(r["compositeResponse"][0]["httpStatusCode"], 400);
    assert_eq!(r["compositeResponse"][1]["httpStatusCode"], 400);
    let r = send(
        &mock,
        "POST",
        &url,
        Req::default().json(json!({"compositeRequest": []})),
    )
    .await;
    assert_eq!(r.status, 401);
}

#[tokio::test(flavor = "multi_thread")]
async fn sosl_search() {
    let mock = start().await;
    let tok = token(&mock).await;
    let auth = || Req::default().bearer(&tok);
    let search = |sosl: &str| format!("{V}/search?{}", q(sosl));
    let r = send(
        &mock,
        "GET",
        &search("FIND {acme corp} IN NAME FIELDS RETURNING Account(Id, Name), Contact(Id, Name)"),
        auth(),
    )
    .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert!(r.header("sforce-limit-info").is_some());
    let recs = r.json()["searchRecords"].as_array().unwrap().clone();
    assert_eq!(recs.len(), 1);
    assert_eq!(recs[0]["Name"], "Acme Corp");
    assert_eq!(recs[0]["attributes"]["type"], "Account");
    let id = recs[0]["Id"].as_str().unwrap();
    assert_eq!(
        recs[0]["attributes"]["url"],
        format!("/services/data/v62.0/sobjects/Account/{id}")
    );
    assert!(String::from_utf8_lossy(&r.body)
        .starts_with(r#"{"searchRecords":[{"attributes":{"type":"Account","url":"#));

    // Default RETURNING: all four objects, Id only; email matches contacts.
    let recs = send(&mock, "GET", &search("FIND {lovelace*}"), auth())
        .await
        .json()["searchRecords"]
        .as_array()
        .unwrap()
        .clone();
    assert!(!recs.is_empty());
    assert!(recs
        .iter()
        .all(|r| r.as_object().unwrap().len() == 2 && r["Id"].is_string()));
    let types: Vec<&str> = recs
        .iter()
        .map(|r| r["attributes"]["type"].as_str().unwrap())
        .collect();
    assert!(
        types.contains(&"Contact") && types.contains(&"Lead"),
        "{types:?}"
    );
    let by_email = send(
        &mock,
        "GET",
        &search("FIND {hopper16@example} IN ALL FIELDS RETURNING Contact(Id, Email)"),
        auth(),
    )
    .await
    .json();
    assert!(by_email["searchRecords"][0]["Email"]
        .as_str()
        .unwrap()
        .contains("hopper16@"));
    // WHERE and LIMIT inside RETURNING, overall LIMIT.
    let r = send(
        &mock,
        "GET",
        &search("FIND {Acme} RETURNING Account(Id, Name WHERE Industry = 'Banking' ORDER BY Name DESC LIMIT 3)"),
        auth(),
    )
    .await
    .json();
    let recs = r["searchRecords"].as_array().unwrap();
    assert_eq!(recs.len(), 3);
    assert!(recs[0]["Name"].as_str().unwrap() > recs[1]["Name"].as_str().unwrap());
    let r = send(
        &mock,
        "GET",
        &search("FIND {Acme} RETURNING Account LIMIT 7"),
        auth(),
    )
    .await
    .json();
    assert_eq!(r["searchRecords"].as_array().unwrap().len(), 7);

    // Deleted rows are not found.
    let acme = search("FIND {Global Media} RETURNING Account(Id)");
    let gid = send(&mock, "GET", &acme, auth()).await.json()["searchRecords"][0]["Id"]
        .as_str()
        .unwrap()
        .to_string();
    send(
        &mock,
        "DELETE",
        &format!("{V}/sobjects/Account/{gid}"),
        auth(),
    )
    .await;
    let r = send(&mock, "GET", &acme, auth()).await.json();
    assert_eq!(r, json!({"searchRecords": []}));

    // Errors.
    let r = send(&mock, "GET", &search("FIND Acme RETURNING Account"), auth()).await;
    assert_eq!(
        r.json(),
        json!([{"message":"No search term found. The search term must be enclosed in braces.","errorCode":"MALFORMED_SEARCH"}])
    );
    assert_eq!(r.status, 400);
    let r = send(&mock, "GET", &search("FIND {Acme"), auth()).await;
    assert_eq!(r.error_code(), "MALFORMED_SEARCH");
    let r = send(
        &mock,
        "GET",
        &search("FIND {Acme} RETURNING Widget"),
        auth(),
    )
    .await;
    assert_eq!((r.status, r.error_code().as_str()), (400, "INVALID_TYPE"));
    let r = send(
        &mock,
        "GET",
        &search("FIND {Acme} RETURNING Account(Nope)"),
        auth(),
    )
    .await;
    assert_eq!((r.status, r.error_code().as_str()), (400, "INVALID_FIELD"));
    let r = send(&mock, "GET", &format!("{V}/search"), auth()).await;
    assert_eq!(r.error_code(), "MALFORMED_SEARCH");
    let r = send(&mock, "GET", &search("FIND {Acme} BOGUS"), auth()).await;
    assert_eq!(r.error_code(), "MALFORMED_SEARCH");
}

#[tokio::test(flavor = "multi_thread")]
async fn child_relationship_subqueries() {
    let mock = start().await;
    let tok = token(&mock).await;
    let run = |soql: &str| {
        let url = format!("{V}/query?{}", q(soql));
        let mock = &mock;
        let tok = tok.clone();
        async move { send(mock, "GET", &url, Req::default().bearer(&tok)).await }
    };
    let r = run("SELECT Id, Name, (SELECT Id, LastName FROM Contacts ORDER BY LastName), (SELECT Name FROM Opportunities) FROM Account WHERE Name IN ('Acme Corp', 'Acme 0001') ORDER BY Name").await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let body = String::from_utf8_lossy(&r.body).into_owned();
    assert!(
        body.contains(r#""Name":"Acme 0001","Contacts":null,"Opportunities":null}"#),
        "{body}"
    );
    let recs = r.json()["records"].as_array().unwrap().clone();
    assert_eq!(recs.len(), 2);
    let acme = &recs[1];
    assert_eq!(acme["Name"], "Acme Corp");
    let contacts = &acme["Contacts"];
    assert_eq!(contacts["done"], true);
    let n = contacts["totalSize"].as_u64().unwrap();
    assert!(n >= 3, "{contacts}");
    let list = contacts["records"].as_array().unwrap();
    assert_eq!(list.len() as u64, n);
    assert_eq!(list[0]["attributes"]["type"], "Contact");
    assert_eq!(list[0].as_object().unwrap().len(), 3);
    let names: Vec<&str> = list
        .iter()
        .map(|c| c["LastName"].as_str().unwrap())
        .collect();
    let mut sorted = names.clone();
    sorted.sort_by_key(|s| s.to_lowercase());
    assert_eq!(names, sorted);
    // Matches a direct query of the children.
    let id = acme["Id"].as_str().unwrap();
    let direct = run(&format!(
        "SELECT COUNT() FROM Contact WHERE AccountId = '{id}'"
    ))
    .await
    .json();
    assert_eq!(direct["totalSize"].as_u64().unwrap(), n);

    let r = run("SELECT Id, (SELECT Id FROM Widgets) FROM Account").await;
    assert_eq!((r.status, r.error_code().as_str()), (400, "INVALID_TYPE"));
    let r =
        run("SELECT Id, (SELECT Id, (SELECT Id FROM Contacts) FROM Contacts) FROM Account").await;
    assert_eq!(
        (r.status, r.error_code().as_str()),
        (400, "MALFORMED_QUERY")
    );
    let r = run("SELECT Id, (SELECT Nope FROM Contacts) FROM Account").await;
    assert_eq!((r.status, r.error_code().as_str()), (400, "INVALID_FIELD"));
    let r = run("SELECT Id, (SELECT Id FROM Contacts FROM Account").await;
    assert_eq!(
        (r.status, r.error_code().as_str()),
        (400, "MALFORMED_QUERY")
    );
}

// ---- OAuth as strict as a 2026 org ------------------------------------------

async fn post_form(mock: &Mock, path: &str, form: &[(&str, &str)]) -> Resp {
    send(mock, "POST", path, Req::default().form(form)).await
}

async fn refresh_grant(mock: &Mock, refresh_token: &str) -> Resp {
    let client_id = mock.credentials().client_id.clone();
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token),
        ("client_id", client_id.as_str()),
    ];
    post_form(mock, "/services/oauth2/token", &form).await
}

/// The status of `GET /limits` with `token`.
async fn limits_status(mock: &Mock, token: &str) -> u16 {
    let r = send(
        mock,
        "GET",
        &format!("{V}/limits"),
        Req::default().bearer(token),
    )
    .await;
    r.status
}

fn expired_grant() -> Value {
    json!({"error":"invalid_grant","error_description":"expired access/refresh token"})
}

fn field(r: &Resp, name: &str) -> String {
    r.json()[name]
        .as_str()
        .unwrap_or_else(|| panic!("no {name}: {}", String::from_utf8_lossy(&r.body)))
        .to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn refresh_tokens_rotate_and_a_reused_one_revokes_its_family() {
    let mock = start().await;
    let first = mock.credentials().refresh_token.clone();
    let r1 = refresh_grant(&mock, &first).await;
    assert_eq!(r1.status, 200, "{}", String::from_utf8_lossy(&r1.body));
    let (rt1, access1) = (field(&r1, "refresh_token"), field(&r1, "access_token"));
    assert_ne!(rt1, first);
    let r2 = refresh_grant(&mock, &rt1).await;
    let (rt2, access2) = (field(&r2, "refresh_token"), field(&r2, "access_token"));
    assert_eq!(limits_status(&mock, &access1).await, 200);
    let elsewhere = field(
        &refresh_grant(&mock, &mock.issue_refresh_token()).await,
        "access_token",
    );
    let password = token(&mock).await;
    assert_eq!(mock.refresh_token_reuses(), 0);

    // The used first token again: refused, and the whole family goes.
    let r = refresh_grant(&mock, &first).await;
    assert_eq!((r.status, r.json()), (400, expired_grant()));
    assert_eq!(mock.refresh_token_reuses(), 1);
    for access in [&access1, &access2] {
        let r = send(
            &mock,
            "GET",
            &format!("{V}/limits"),
            Req::default().bearer(access),
        )
        .await;
        assert_eq!(
            (r.status, r.json()),
            (
                401,
                json!([{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}])
            )
        );
    }
    let r = refresh_grant(&mock, &rt2).await;
    assert_eq!(
        (r.status, r.json()),
        (400, expired_grant()),
        "revoked with its family"
    );
    assert_eq!(mock.refresh_token_reuses(), 2);
    // Other families and sessions without a refresh token are untouched.
    assert_eq!(limits_status(&mock, &elsewhere).await, 200);
    assert_eq!(limits_status(&mock, &password).await, 200);
    assert_eq!(mock.token_requests_for("refresh_token"), 5);

    // Without rotation a refresh token is reusable and none comes back.
    mock.knobs().set_refresh_token_rotation(false);
    let reusable = mock.issue_refresh_token();
    for _ in 0..2 {
        let r = refresh_grant(&mock, &reusable).await;
        assert_eq!(r.status, 200);
        assert!(r.json().get("refresh_token").is_none());
    }
    assert_eq!(mock.refresh_token_reuses(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_session_still_logs_in_and_reads_userinfo() {
    let mock = start().await;
    mock.knobs().set_session_refused(true);
    let tok = token(&mock).await;
    let refused = json!([{"message":"This session is not valid for use with the REST API","errorCode":"INVALID_SESSION_ID"}]);
    let r = send(
        &mock,
        "GET",
        &format!("{V}/limits"),
        Req::default().bearer(&tok),
    )
    .await;
    assert_eq!((r.status, r.json()), (401, refused.clone()));
    let composite = json!({"compositeRequest": [
        {"method": "GET", "url": format!("{V}/limits"), "referenceId": "l"}]});
    let r = send(
        &mock,
        "POST",
        &format!("{V}/composite"),
        Req::default().bearer(&tok).json(composite),
    )
    .await;
    assert_eq!((r.status, r.json()), (401, refused));
    let r = send(
        &mock,
        "GET",
        "/services/oauth2/userinfo",
        Req::default().bearer(&tok),
    )
    .await;
    assert_eq!(r.status, 200);
    // An expired session still says so first.
    let r = send(
        &mock,
        "GET",
        &format!("{V}/limits"),
        Req::default().bearer("nope"),
    )
    .await;
    assert_eq!(r.json()[0]["message"], "Session expired or invalid");
    mock.knobs().set_session_refused(false);
    assert_eq!(limits_status(&mock, &tok).await, 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_blocked_password_flow_answers_authentication_failure_only() {
    let mock = start().await;
    mock.knobs().set_password_flow_blocked(true);
    let right = password_form(&mock);
    let mut wrong_client = password_form(&mock);
    wrong_client[1].1 = "nope".into();
    for form in [right.clone(), wrong_client] {
        let r = post_form(&mock, "/services/oauth2/token", &pairs(&form)).await;
        assert_eq!(
            (r.status, r.json()),
            (
                400,
                json!({"error":"invalid_grant","error_description":"authentication failure"})
            )
        );
    }
    // Other grants are not affected.
    let c = mock.credentials().clone();
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", c.client_id.as_str()),
        ("client_secret", c.client_secret.as_str()),
    ];
    assert_eq!(
        post_form(&mock, "/services/oauth2/token", &form)
            .await
            .status,
        200
    );
    mock.knobs().set_password_flow_blocked(false);
    let r = post_form(&mock, "/services/oauth2/token", &pairs(&right)).await;
    assert_eq!(r.status, 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn userinfo_and_the_identity_url_answer_bad_tokens_in_plain_text() {
    let mock = start().await;
    let form = password_form(&mock);
    let t = post_form(&mock, "/services/oauth2/token", &pairs(&form)).await;
    let tok = field(&t, "access_token");
    let id = field(&t, "id");
    let id_path = id.trim_start_matches("https://login.salesforce.com");
    assert!(id_path.starts_with("/id/00D"), "{id}");
    for path in ["/services/oauth2/userinfo", id_path] {
        let r = send(&mock, "GET", path, Req::default().bearer(&tok)).await;
        assert_eq!(r.status, 200, "{path}");
        assert_eq!(r.json()["user_id"], id.rsplit('/').next().unwrap());
        for bad in ["nope", ""] {
            let r = send(&mock, "GET", path, Req::default().bearer(bad)).await;
            assert_eq!(
                (r.status, r.header("content-type"), r.body.as_slice()),
                (403, Some("text/plain"), b"Bad_OAuth_Token".as_slice()),
                "{path}"
            );
        }
    }
    mock.knobs().expire_all_sessions();
    for path in ["/services/oauth2/userinfo", id_path] {
        let r = send(&mock, "GET", path, Req::default().bearer(&tok)).await;
        assert_eq!(
            (r.status, r.header("content-type"), r.body.as_slice()),
            (403, Some("text/plain"), b"Bad_OAuth_Token".as_slice()),
            "{path} after expire_all_sessions"
        );
    }
}

/// `response_type=device_code`, as the sf CLI starts the device flow.
async fn device_start(mock: &Mock, client_id: &str) -> Resp {
    let form = [
        ("response_type", "device_code"),
        ("client_id", client_id),
        ("scope", "refresh_token web api"),
    ];
    post_form(mock, "/services/oauth2/token", &form).await
}

async fn device_poll(mock: &Mock, device_code: &str) -> Resp {
    let client_id = mock.credentials().client_id.clone();
    let form = [
        ("grant_type", "device"),
        ("client_id", client_id.as_str()),
        ("code", device_code),
    ];
    post_form(mock, "/services/oauth2/token", &form).await
}

fn oauth_error(r: &Resp) -> (u16, String) {
    (
        r.status,
        r.json()["error"].as_str().unwrap_or("").to_string(),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn device_flow_pending_approved_denied_slowed_and_expired() {
    let mock = start().await;
    let client_id = mock.credentials().client_id.clone();
    mock.knobs().set_device_interval(Duration::ZERO);
    let start = device_start(&mock, &client_id).await;
    assert_eq!(
        start.status,
        200,
        "{}",
        String::from_utf8_lossy(&start.body)
    );
    let s = start.json();
    let keys: Vec<&String> = s.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        ["device_code", "user_code", "verification_uri", "interval"]
    );
    assert_eq!(s["interval"], 0);
    assert_eq!(
        s["verification_uri"],
        format!("{}/setup/connect", mock.http_url())
    );
    let (code, user_code) = (field(&start, "device_code"), field(&start, "user_code"));

    assert_eq!(
        oauth_error(&device_poll(&mock, &code).await),
        (400, "authorization_pending".into())
    );
    assert!(mock.approve_device(&user_code));
    assert!(!mock.approve_device(&user_code), "answered already");
    let done = device_poll(&mock, &code).await;
    assert_eq!(done.status, 200, "{}", String::from_utf8_lossy(&done.body));
    assert_eq!(
        limits_status(&mock, &field(&done, "access_token")).await,
        200
    );
    let rt = field(&done, "refresh_token");
    assert_eq!(
        refresh_grant(&mock, &rt).await.status,
        200,
        "a family of its own"
    );
    assert_eq!(
        oauth_error(&device_poll(&mock, &code).await),
        (400, "invalid_grant".into())
    );

    // Denied.
    let start = device_start(&mock, &client_id).await;
    assert!(mock.deny_device(&field(&start, "user_code")));
    let code = field(&start, "device_code");
    for _ in 0..2 {
        assert_eq!(
            oauth_error(&device_poll(&mock, &code).await),
            (400, "access_denied".into())
        );
    }

    // The interval in whole seconds, rounded up; polled sooner than it (a
    // minute, so no machine is slow enough to miss it): slow_down.
    mock.knobs()
        .set_device_interval(Duration::from_millis(1500));
    let start = device_start(&mock, &client_id).await;
    assert_eq!(start.json()["interval"], 2);
    mock.knobs().set_device_interval(Duration::from_secs(60));
    let code = field(&start, "device_code");
    assert_eq!(
        oauth_error(&device_poll(&mock, &code).await).1,
        "authorization_pending"
    );
    assert_eq!(
        oauth_error(&device_poll(&mock, &code).await),
        (400, "slow_down".into())
    );

    // Expired.
    mock.knobs().set_device_interval(Duration::ZERO);
    mock.knobs().set_device_code_lifetime(Duration::ZERO);
    let start = device_start(&mock, &client_id).await;
    assert!(!mock.approve_device(&field(&start, "user_code")));
    let code = field(&start, "device_code");
    assert_eq!(
        oauth_error(&device_poll(&mock, &code).await),
        (400, "expired_token".into())
    );

    // An unknown client, starting or polling.
    let r = device_start(&mock, "3MVG9nope").await;
    assert_eq!(oauth_error(&r), (400, "invalid_client_id".into()));
    let form = [
        ("grant_type", "device"),
        ("client_id", "3MVG9nope"),
        ("code", code.as_str()),
    ];
    let r = post_form(&mock, "/services/oauth2/token", &form).await;
    assert_eq!(oauth_error(&r), (400, "invalid_client_id".into()));
    assert_eq!(mock.token_requests_for("device"), 9);
}

#[tokio::test(flavor = "multi_thread")]
async fn revoking_an_access_token_or_a_refresh_tokens_family() {
    let mock = start().await;
    let revoke = "/services/oauth2/revoke";
    let tok = token(&mock).await;
    let r = post_form(&mock, revoke, &[("token", tok.as_str())]).await;
    assert_eq!((r.status, r.body.len()), (200, 0));
    assert_eq!(limits_status(&mock, &tok).await, 401);
    let unsupported = json!({"error":"unsupported_token_type","error_description":"this token type is not supported"});
    for token in [tok.as_str(), "00Dnope", ""] {
        let r = post_form(&mock, revoke, &[("token", token)]).await;
        assert_eq!(
            (r.status, r.json()),
            (400, unsupported.clone()),
            "{token:?}"
        );
    }

    // An access token alone leaves its family; the refresh token takes it all (GET form).
    let rt = mock.issue_refresh_token();
    let r = refresh_grant(&mock, &rt).await;
    let (rt1, access1) = (field(&r, "refresh_token"), field(&r, "access_token"));
    let r = refresh_grant(&mock, &rt1).await;
    let (rt2, access2) = (field(&r, "refresh_token"), field(&r, "access_token"));
    assert_eq!(
        post_form(&mock, revoke, &[("token", access2.as_str())])
            .await
            .status,
        200
    );
    assert_eq!(limits_status(&mock, &access1).await, 200);
    let query: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("token", &rt2)
        .finish();
    let r = send(&mock, "GET", &format!("{revoke}?{query}"), Req::default()).await;
    assert_eq!(r.status, 200);
    assert_eq!(limits_status(&mock, &access1).await, 401);
    assert_eq!((refresh_grant(&mock, &rt2).await.json()), expired_grant());
    assert_eq!(mock.revocations(), 3);
    assert_eq!(mock.refresh_token_reuses(), 1, "a revoked token came back");
}

// ---- query paging like a real org -------------------------------------------

/// Every page of `soql` at `batchSize=200`: (records, child rows) per page, and all records.
async fn pages_of(mock: &Mock, tok: &str, soql: &str) -> (Vec<(usize, usize)>, Vec<Value>) {
    let mut url = format!("{V}/query?{}", q(soql));
    let (mut pages, mut records) = (Vec::new(), Vec::new());
    loop {
        let req = Req::default()
            .bearer(tok)
            .header("Sforce-Query-Options", "batchSize=200");
        let r = send(mock, "GET", &url, req).await;
        assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
        let page = r.json();
        let recs = page["records"].as_array().unwrap().clone();
        let children: usize = recs
            .iter()
            .map(|rec| rec["Contacts"]["records"].as_array().map_or(0, Vec::len))
            .sum();
        pages.push((recs.len(), children));
        records.extend(recs);
        match page["nextRecordsUrl"].as_str() {
            Some(next) => url = next.to_string(),
            None => return (pages, records),
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn child_rows_count_toward_the_batch_size() {
    let mock = start().await;
    let tok = token(&mock).await;
    let (pages, records) = pages_of(
        &mock,
        &tok,
        "SELECT Id, Name, (SELECT Id FROM Contacts) FROM Account ORDER BY Name",
    )
    .await;
    let (_, plain) = pages_of(&mock, &tok, "SELECT Id FROM Account ORDER BY Name").await;
    // What a real org guarantees: every record once, in order, and no empty page.
    let ids = |recs: &[Value]| -> Vec<String> {
        recs.iter()
            .map(|r| r["Id"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(ids(&records), ids(&plain));
    assert!(pages.iter().all(|&(n, _)| n > 0));
    // And the mock's rule: a page's records and child rows fit in the batch
    // unless one record alone exceeds it; children make pages shorter.
    assert!(
        pages.iter().all(|&(n, kids)| n + kids <= 200 || n == 1),
        "{pages:?}"
    );
    let last = pages.len() - 1;
    assert!(pages[..last].iter().any(|&(n, _)| n < 200), "{pages:?}");
    assert!(pages.len() > plain.len().div_ceil(200));
}

#[tokio::test(flavor = "multi_thread")]
async fn query_locators_expire_when_idle_and_the_oldest_is_released() {
    let mock = start().await;
    let tok = token(&mock).await;
    let open = || async {
        let req = Req::default()
            .bearer(&tok)
            .header("Sforce-Query-Options", "batchSize=200");
        let r = send(
            &mock,
            "GET",
            &format!("{V}/query?{}", q("SELECT Id FROM Account")),
            req,
        )
        .await;
        field(&r, "nextRecordsUrl")
    };
    let (m, t) = (&mock, &tok);
    let more = |url: String| async move { send(m, "GET", &url, Req::default().bearer(t)).await };
    let invalid = json!([{"errorCode":"INVALID_QUERY_LOCATOR","message":"invalid query locator"}]);

    // Within the default 15 minutes a locator keeps working, page after page.
    let next = open().await;
    let r = more(next.clone()).await;
    assert_eq!(r.status, 200);
    assert_eq!(more(next.clone()).await.status, 200, "the same page again");

    // Ten open cursors per user: the eleventh releases the oldest.
    let mut urls = vec![next];
    for _ in 0..10 {
        urls.push(open().await);
    }
    let r = more(urls[0].clone()).await;
    assert_eq!((r.status, r.json()), (400, invalid.clone()));
    for url in &urls[1..] {
        assert_eq!(more(url.clone()).await.status, 200);
    }
    mock.knobs().set_max_open_locators(None);
    let mut urls = Vec::new();
    for _ in 0..12 {
        urls.push(open().await);
    }
    assert_eq!(more(urls[0].clone()).await.status, 200, "no cap");

    // Idle past the TTL.
    mock.knobs().set_locator_ttl(Some(Duration::ZERO));
    let r = more(urls[1].clone()).await;
    assert_eq!((r.status, r.json()), (400, invalid));
}

// ---- composite: collation and subrequest headers ----------------------------

/// `POST /composite` at API `version`, answering the subresponses in request order.
async fn composite_at(mock: &Mock, tok: &str, version: &str, body: Value) -> Vec<Value> {
    let url = format!("/services/data/v{version}/composite");
    let r = send(mock, "POST", &url, Req::default().bearer(tok).json(body)).await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    r.json()["compositeResponse"].as_array().unwrap().clone()
}

/// A create, then a count that names no reference to it.
fn create_then_count(name: &str, create_headers: Option<Value>) -> Vec<Value> {
    let mut create = json!({"method": "POST", "url": format!("{V}/sobjects/Account"),
        "referenceId": "create", "body": {"Name": name}});
    if let Some(h) = create_headers {
        create["httpHeaders"] = h;
    }
    let soql = format!("SELECT COUNT() FROM Account WHERE Name = '{name}'");
    vec![
        create,
        json!({"method": "GET", "url": format!("{V}/query?q={soql}"), "referenceId": "count"}),
    ]
}

#[tokio::test(flavor = "multi_thread")]
async fn composite_collates_unrelated_subrequests_out_of_order() {
    let mock = start().await;
    let tok = token(&mock).await;
    // Collation on by default from v49: the count, unrelated to the create, ran first.
    let subs = composite_at(
        &mock,
        &tok,
        "62.0",
        json!({"compositeRequest": create_then_count("Collate 1", None)}),
    )
    .await;
    assert_eq!(
        subs[0]["referenceId"], "create",
        "answers stay in request order"
    );
    assert_eq!(subs[0]["httpStatusCode"], 201);
    assert_eq!(subs[1]["body"]["totalSize"], 0);
    let in_order = [
        (
            "62.0",
            json!({"collateSubrequests": false, "compositeRequest": create_then_count("Collate 2", None)}),
        ),
        (
            "48.0",
            json!({"compositeRequest": create_then_count("Collate 3", None)}),
        ),
        (
            "47.0",
            json!({"collateSubrequests": true, "compositeRequest": create_then_count("Collate 4", None)}),
        ),
        // Subrequests with headers are not collated.
        (
            "62.0",
            json!({"compositeRequest": create_then_count("Collate 5", Some(json!({"Sforce-Auto-Assign": "FALSE"})))}),
        ),
    ];
    for (version, body) in in_order {
        let subs = composite_at(&mock, &tok, version, body.clone()).await;
        assert_eq!(subs[1]["body"]["totalSize"], 1, "v{version} {body}");
    }
    // An explicit reference keeps its order under collation.
    let body = json!({"compositeRequest": [
        {"method": "POST", "url": format!("{V}/sobjects/Account"), "referenceId": "a", "body": {"Name": "Collate 6"}},
        {"method": "GET", "url": format!("{V}/sobjects/Account/@{{a.id}}?fields=Name"), "referenceId": "b"},
    ]});
    let subs = composite_at(&mock, &tok, "62.0", body).await;
    assert_eq!(subs[1]["body"]["Name"], "Collate 6");
}

#[tokio::test(flavor = "multi_thread")]
async fn composite_subrequest_headers_reach_the_resource() {
    let mock = start().await;
    let tok = token(&mock).await;
    let created = send(
        &mock,
        "POST",
        &format!("{V}/sobjects/Account"),
        Req::default()
            .bearer(&tok)
            .json(json!({"Name": "Conditional Co"})),
    )
    .await;
    let id = field(&created, "id");
    let record = format!("{V}/sobjects/Account/{id}");
    let patch = |reference: &str, since: &str| {
        json!({"method": "PATCH", "url": record, "referenceId": reference,
               "body": {"Industry": reference}, "httpHeaders": {"If-Unmodified-Since": since}})
    };
    let body = json!({"compositeRequest": [
        patch("stale", "Tue, 23 Mar 2015 00:00:00 GMT"),
        patch("fresh", "Fri, 01 Jan 2100 00:00:00 GMT"),
        patch("garbled", "yesterday"),
    ]});
    let subs = composite_at(&mock, &tok, "62.0", body).await;
    let statuses: Vec<&Value> = subs.iter().map(|s| &s["httpStatusCode"]).collect();
    assert_eq!(statuses, [412, 204, 400]);
    let get = |since: &str| {
        let req = Req::default()
            .bearer(&tok)
            .header("If-Modified-Since", since);
        send(&mock, "GET", &record, req)
    };
    let r = get("Fri, 01 Jan 2100 00:00:00 GMT").await;
    assert_eq!((r.status, r.body.len()), (304, 0));
    let r = get("Tue, 23 Mar 2015 00:00:00 GMT").await;
    assert_eq!(
        (r.status, r.json()["Industry"].clone()),
        (200, json!("fresh"))
    );

    // Accept, Authorization and Content-Type come from the composite request only.
    for header in ["Accept", "authorization", "Content-Type"] {
        let body = json!({"compositeRequest": [{"method": "GET", "url": record,
            "referenceId": "r", "httpHeaders": {header: "application/json"}}]});
        let r = send(
            &mock,
            "POST",
            &format!("{V}/composite"),
            Req::default().bearer(&tok).json(body),
        )
        .await;
        assert_eq!(r.status, 400, "{header}");
    }
}

// ---- chaos -------------------------------------------------------------------

use salesforce_mock::{Chaos, ChaosFault};

/// What came back for one request under chaos, however broken.
struct Wire {
    /// 0 if not even a status line arrived.
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    /// The body ended where its framing said (Content-Length, last chunk, or EOF).
    complete: bool,
    elapsed: Duration,
}

impl Wire {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
    fn json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }
}

/// One request on a fresh connection, read until the server closes it; never
/// panics on what the server sends.
async fn send_wire(mock: &Mock, method: &str, path: &str, req: Req<'_>) -> Wire {
    let started = Instant::now();
    let host = mock.http_url().trim_start_matches("http://").to_string();
    let mut s = TcpStream::connect(&host).await.expect("connect");
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n");
    for (k, v) in &req.headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    let body = req.body.unwrap_or_default();
    head.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    let mut out = head.into_bytes();
    out.extend_from_slice(&body);
    let mut raw = Vec::new();
    if s.write_all(&out).await.is_ok() {
        let _ = s.read_to_end(&mut raw).await;
    }
    let mut wire = Wire {
        status: 0,
        headers: vec![],
        body: vec![],
        complete: false,
        elapsed: started.elapsed(),
    };
    let Some(split) = raw.windows(4).position(|w| w == b"\r\n\r\n") else {
        return wire;
    };
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    wire.status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    wire.headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_lowercase(), v.trim().to_string()))
        .collect();
    let rest = &raw[split + 4..];
    if wire.header("transfer-encoding") == Some("chunked") {
        let mut rest = rest;
        while let Some(eol) = rest.windows(2).position(|w| w == b"\r\n") {
            let Some(len) = std::str::from_utf8(&rest[..eol])
                .ok()
                .and_then(|l| usize::from_str_radix(l.trim(), 16).ok())
            else {
                break;
            };
            if len == 0 {
                wire.complete = true;
                break;
            }
            let data = &rest[eol + 2..];
            wire.body.extend_from_slice(&data[..len.min(data.len())]);
            if data.len() < len + 2 {
                break;
            }
            rest = &data[len + 2..];
        }
    } else {
        wire.body = rest.to_vec();
        wire.complete = match wire.header("content-length") {
            Some(n) => n.parse() == Ok(rest.len()),
            None => true,
        };
    }
    wire
}

fn chaos(seed: u64, rate: f64, stall_ms: u64, huge_bytes: usize) -> Chaos {
    Chaos {
        rate,
        stall: Duration::from_millis(stall_ms),
        huge_bytes,
        ..Chaos::new(seed)
    }
}

/// A token, a query locator for "query more" and an Account id, fetched before chaos starts.
async fn chaos_fixtures(mock: &Mock) -> (String, String, String) {
    let tok = token(mock).await;
    let page = send(
        mock,
        "GET",
        &format!("{V}/query?{}", q("SELECT Id, Name FROM Account")),
        Req::default()
            .bearer(&tok)
            .header("Sforce-Query-Options", "batchSize=200"),
    )
    .await
    .json();
    let more = page["nextRecordsUrl"].as_str().unwrap().to_string();
    let id = page["records"][0]["Id"].as_str().unwrap().to_string();
    (tok, more, id)
}

/// The `i`-th request of a mixed client: token, query, query more, get, create, update.
async fn chaos_request(mock: &Mock, i: usize, (tok, more, id): &(String, String, String)) -> Wire {
    let auth = || Req::default().bearer(tok);
    match i % 6 {
        0 => {
            let form = password_form(mock);
            let req = Req::default().form(&pairs(&form));
            send_wire(mock, "POST", "/services/oauth2/token", req).await
        }
        1 => {
            let path = format!("{V}/query?{}", q("SELECT Id, Name FROM Account"));
            let req = auth().header("Sforce-Query-Options", "batchSize=200");
            send_wire(mock, "GET", &path, req).await
        }
        2 => send_wire(mock, "GET", more, auth()).await,
        3 => send_wire(mock, "GET", &format!("{V}/sobjects/Account/{id}"), auth()).await,
        4 => {
            let req = auth().json(json!({ "Name": format!("Chaos {i}") }));
            send_wire(mock, "POST", &format!("{V}/sobjects/Account"), req).await
        }
        _ => {
            let req = auth().json(json!({ "Industry": "Chaos" }));
            let path = format!("{V}/sobjects/Account/{id}");
            send_wire(mock, "PATCH", &path, req).await
        }
    }
}

/// What each fault must look like on the wire.
fn check_fault(f: ChaosFault, w: &Wire, c: &Chaos, mock: &Mock) -> bool {
    use ChaosFault::*;
    let ct = w.header("content-type").unwrap_or("");
    match f {
        WrongStatus => [
            200, 201, 204, 300, 301, 400, 401, 403, 404, 409, 410, 429, 500, 502, 503, 504,
        ]
        .contains(&w.status),
        Throttled => [429, 503].contains(&w.status),
        TruncatedJson | InvalidJson | DeepNesting => w.json().is_none(),
        Html200 => w.status == 200 && ct.starts_with("text/html"),
        Html500 => w.status == 500 && ct.starts_with("text/html"),
        EmptyJson => w.status == 200 && w.body.is_empty() && ct.starts_with("application/json"),
        WrongContentType => !ct.starts_with("application/json"),
        MissingFields | WrongTypes | DuplicateFields => w.json().is_some(),
        HugeSized => {
            w.body.len() == c.huge_bytes
                && w.header("content-length") == Some(&c.huge_bytes.to_string())
        }
        HugeChunked => w.body.len() == c.huge_bytes && w.header("content-length").is_none(),
        SlowFirstByte => w.elapsed >= c.stall,
        SlowDrip => w.elapsed >= c.stall || w.body.len() <= 8,
        ResetMidBody => !w.complete,
        InvalidUtf8 => std::str::from_utf8(&w.body).is_err(),
        AbsurdLimitInfo => {
            let values: Vec<&str> = w
                .headers
                .iter()
                .filter(|(k, _)| k == "sforce-limit-info")
                .map(|(_, v)| v.as_str())
                .collect();
            values.len() > 1
                || values
                    .iter()
                    .any(|v| v.len() > 64 || !v.ends_with("/15000"))
        }
        HostileNextRecordsUrl => w.json().is_some_and(|p| {
            let next = p["nextRecordsUrl"].as_str().unwrap_or("");
            !next.starts_with("/services/data/") || next.contains("..")
        }),
        HostileInstanceUrl => w
            .json()
            .is_some_and(|t| t["instance_url"] != json!(mock.http_url())),
        Redirect => {
            [301, 302, 307, 308].contains(&w.status)
                && w.header("location")
                    .is_some_and(|l| l.starts_with(&c.other_origin))
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn chaos_serves_every_fault_without_hanging() {
    let mock = start().await;
    let fixtures = chaos_fixtures(&mock).await;
    let c = chaos(20240611, 1.0, 50, 3 << 20);
    mock.knobs().set_chaos(Some(c.clone()));
    let started = Instant::now();
    for i in 0..300 {
        let w = tokio::time::timeout(Duration::from_secs(5), chaos_request(&mock, i, &fixtures))
            .await
            .unwrap_or_else(|_| panic!("request {i} hung"));
        let history = mock.knobs().chaos_history();
        assert_eq!(history.len(), i + 1);
        let fault = history[i].expect("rate 1.0 always faults");
        assert!(
            check_fault(fault, &w, &c, &mock),
            "request {i}: {fault} looked wrong: {} {:?} {:?}",
            w.status,
            format!("{:?}", w.headers)
                .chars()
                .take(500)
                .collect::<String>(),
            String::from_utf8_lossy(&w.body[..w.body.len().min(300)])
        );
    }
    let served = mock.knobs().chaos_served();
    eprintln!("chaos: 300 requests in {:?}: {served:?}", started.elapsed());
    assert_eq!(served.len(), ChaosFault::ALL.len());
    let missing: Vec<_> = served.iter().filter(|(_, n)| *n == 0).collect();
    assert!(missing.is_empty(), "never served: {missing:?}");

    // Still healthy afterwards.
    mock.knobs().set_chaos(None);
    let r = send(
        &mock,
        "GET",
        &format!("{V}/sobjects/Account/{}", fixtures.2),
        Req::default().bearer(&fixtures.0),
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        mock.knobs().chaos_served(),
        served,
        "counts stay after stopping"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn chaos_replays_the_same_faults_for_the_same_seed() {
    let mock = start().await;
    let fixtures = chaos_fixtures(&mock).await;
    let mut runs = vec![];
    for seed in [7, 7, 8] {
        mock.knobs().set_chaos(Some(chaos(seed, 0.5, 1, 64 << 10)));
        for i in 0..60 {
            tokio::time::timeout(Duration::from_secs(5), chaos_request(&mock, i, &fixtures))
                .await
                .expect("no hang");
        }
        let names: Vec<&str> = mock
            .knobs()
            .chaos_history()
            .iter()
            .map(|f| f.map_or("-", ChaosFault::name))
            .collect();
        assert_eq!(names.len(), 60);
        runs.push(names);
    }
    assert_eq!(runs[0], runs[1], "same seed, same faults");
    assert_ne!(runs[0], runs[2], "another seed, other faults");
    assert!(runs[0].contains(&"-") && runs[0].iter().any(|n| *n != "-"));
}

#[tokio::test(flavor = "multi_thread")]
async fn chaos_at_rate_zero_answers_normally() {
    let mock = start().await;
    let fixtures = chaos_fixtures(&mock).await;
    mock.knobs().set_chaos(Some(chaos(1, 0.0, 50, 1 << 20)));
    for i in 0..12 {
        let w = chaos_request(&mock, i, &fixtures).await;
        let want = [200, 200, 200, 200, 201, 204][i % 6];
        assert_eq!(w.status, want, "{}", String::from_utf8_lossy(&w.body));
        assert!(w.complete);
        if want != 204 {
            let v = w.json().expect("JSON");
            assert!(v.is_object(), "{v}");
            assert_eq!(
                w.header("content-type"),
                Some("application/json;charset=UTF-8")
            );
        }
    }
    assert_eq!(mock.knobs().chaos_history(), vec![None; 12]);
    assert!(mock.knobs().chaos_served().iter().all(|(_, n)| *n == 0));
}

#[tokio::test(flavor = "multi_thread")]
async fn tree_duplicates_graph_halts_and_retrieve_shapes() {
    let mock = start().await;
    let t = token(&mock).await;
    let rec = |r: &str, name: &str| json!({"attributes": {"type": "Account", "referenceId": r}, "Name": name});

    // sObject Tree: one error per record carrying a duplicate referenceId,
    // nothing created.
    let body = json!({"records": [rec("same", "Dup One"), rec("same", "Dup Two"), rec("other", "Dup Three")]});
    let r = send(
        &mock,
        "POST",
        &format!("{V}/composite/tree/Account"),
        Req::default().bearer(&t).json(body),
    )
    .await;
    assert_eq!(r.status, 400);
    let v = r.json();
    assert_eq!(v["hasErrors"], true);
    let refs: Vec<&str> = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["referenceId"].as_str().unwrap())
        .collect();
    assert_eq!(refs, ["same", "same"]);
    assert_eq!(v["results"][0]["errors"][0]["statusCode"], "INVALID_INPUT");
    let body = json!({"records": [rec("one", "Tree One")]});
    let r = send(
        &mock,
        "POST",
        &format!("{V}/composite/tree/Account"),
        Req::default().bearer(&t).json(body),
    )
    .await;
    assert_eq!(r.status, 201);
    assert_eq!(r.json()["results"][0]["referenceId"], "one");
    assert!(r.json()["results"][0]["id"]
        .as_str()
        .unwrap()
        .starts_with("001"));

    // Composite Graph: the answer is 200 whatever the graphs did.
    let node = |r: &str, body: Value| json!({"method": "POST", "url": format!("{V}/sobjects/Account/"), "referenceId": r, "body": body});
    let body = json!({"graphs": [
        {"graphId": "bad", "compositeRequest": [node("a", json!({"Name": "G"})), node("b", json!({"Industry": "x"}))]},
        {"graphId": "good", "compositeRequest": [node("a", json!({"Name": "G2"}))]}]});
    let r = send(
        &mock,
        "POST",
        &format!("{V}/composite/graph"),
        Req::default().bearer(&t).json(body),
    )
    .await;
    assert_eq!(r.status, 200);
    let v = r.json();
    assert_eq!(
        (
            &v["graphs"][0]["isSuccessful"],
            &v["graphs"][1]["isSuccessful"]
        ),
        (&json!(false), &json!(true))
    );
    let bad = &v["graphs"][0]["graphResponse"]["compositeResponse"];
    assert_eq!(bad[0]["body"][0]["errorCode"], "PROCESSING_HALTED");
    assert_eq!(bad[1]["body"][0]["errorCode"], "REQUIRED_FIELD_MISSING");
    // Before v50.0 there is no such resource.
    let r = send(
        &mock,
        "POST",
        "/services/data/v49.0/composite/graph",
        Req::default().bearer(&t).json(json!({"graphs": []})),
    )
    .await;
    assert_eq!((r.status, r.error_code()), (404, "NOT_FOUND".to_string()));

    // Collections retrieve: field names in any case, API case back.
    let path = format!(
        "{V}/composite/sobjects/Account?ids=001000000000001AAA,001000000000999XYZ&fields=name"
    );
    let r = send(&mock, "GET", &path, Req::default().bearer(&t)).await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.json(),
        json!([{"attributes": {"type": "Account",
        "url": format!("{V}/sobjects/Account/001000000000001AAA")}, "Name": "Acme 0001"}, null])
    );
    let long = format!(
        "{V}/composite/sobjects/Account?fields=Id&ids={}",
        vec!["001000000000001AAA"; 900].join(",")
    );
    let r = send(&mock, "GET", &long, Req::default().bearer(&t)).await;
    assert_eq!(r.status, 414);
}
