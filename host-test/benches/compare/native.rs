//! Contender (b), the floor: a native Rust client on the same HTTP stack
//! family the host uses (hyper HTTP/1.1, tokio-rustls, serde_json), one
//! kept-alive connection, no sandbox. What the component costs on top of it
//! is what the sandbox costs.

use crate::clock::Timer;
use crate::mock_process::MockInfo;
use crate::workloads::{self, Measured};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use serde_json::Value;
use std::sync::Arc;
use tokio::net::TcpStream;

/// One origin, one connection kept alive (reopened if the server closed it).
pub struct Native {
    origin: String,
    tls: Option<tokio_rustls::TlsConnector>,
    conn: Option<SendRequest<Full<Bytes>>>,
    token: String,
}

fn tls_connector(ca_pem: &str) -> tokio_rustls::TlsConnector {
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls::pki_types::pem::PemObject::pem_slice_iter(ca_pem.as_bytes()) {
        roots.add(cert.expect("CA PEM")).expect("CA certificate");
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    tokio_rustls::TlsConnector::from(Arc::new(config))
}

/// HTTP/1.1 over `io`; the connection's driver runs as its own task.
async fn handshake<T>(io: T) -> SendRequest<Full<Bytes>>
where
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (conn, driver) = hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(io))
        .await
        .expect("handshake");
    tokio::spawn(driver);
    conn
}

impl Native {
    /// Logs in with the OAuth password grant at `login_url` (one of the
    /// mock's listeners, which is also the instance the mock names).
    pub async fn login(mock: &MockInfo, login_url: &str) -> Native {
        let tls = login_url
            .starts_with("https://")
            .then(|| tls_connector(&mock.ca_pem()));
        let mut native = Native {
            origin: login_url.to_string(),
            tls,
            conn: None,
            token: String::new(),
        };
        let form = form_urlencoded::Serializer::new(String::new())
            .append_pair("grant_type", "password")
            .append_pair("client_id", &mock.client_id)
            .append_pair("client_secret", &mock.client_secret)
            .append_pair("username", &mock.username)
            .append_pair(
                "password",
                &format!("{}{}", mock.password, mock.security_token),
            )
            .finish();
        let body = native
            .send(
                "POST",
                "/services/oauth2/token",
                Some(("application/x-www-form-urlencoded", form)),
            )
            .await;
        let token: Value = serde_json::from_slice(&body).expect("token JSON");
        assert_eq!(token["instance_url"], login_url, "the mock is the instance");
        native.token = token["access_token"].as_str().expect("token").to_string();
        native
    }

    async fn connect(&self) -> SendRequest<Full<Bytes>> {
        let authority = self.origin.split("://").nth(1).expect("origin");
        let tcp = TcpStream::connect(authority).await.expect("connect");
        tcp.set_nodelay(true).expect("nodelay");
        match &self.tls {
            Some(tls) => {
                let host = authority.rsplit_once(':').map_or(authority, |(h, _)| h);
                let name =
                    rustls::pki_types::ServerName::try_from(host.to_string()).expect("server name");
                handshake(tls.connect(name, tcp).await.expect("TLS")).await
            }
            None => handshake(tcp).await,
        }
    }

    /// One request on the kept-alive connection; the whole body.
    async fn send(
        &mut self,
        method: &str,
        path_and_query: &str,
        body: Option<(&str, String)>,
    ) -> Bytes {
        let mut conn = match self.conn.take() {
            Some(mut c) => match c.ready().await {
                Ok(()) => c,
                Err(_) => self.connect().await,
            },
            None => self.connect().await,
        };
        let authority = self.origin.split("://").nth(1).expect("origin");
        let mut req = http::Request::builder()
            .method(method)
            .uri(path_and_query)
            .header("host", authority)
            .header("accept", "application/json");
        if !self.token.is_empty() {
            req = req.header("authorization", format!("Bearer {}", self.token));
        }
        let body = match body {
            Some((content_type, text)) => {
                req = req.header("content-type", content_type);
                Full::new(Bytes::from(text))
            }
            None => Full::new(Bytes::new()),
        };
        let resp = conn
            .send_request(req.body(body).expect("request"))
            .await
            .expect("response");
        let status = resp.status();
        let bytes = resp.into_body().collect().await.expect("body").to_bytes();
        assert!(status.is_success(), "{method} {path_and_query}: {status}");
        self.conn = Some(conn);
        bytes
    }

    async fn json(&mut self, method: &str, path: &str, body: Option<String>) -> Value {
        let body = body.map(|b| ("application/json", b));
        let bytes = self.send(method, path, body).await;
        serde_json::from_slice(&bytes).expect("JSON")
    }

    pub async fn get_account(&mut self) -> Value {
        let path = format!(
            "/services/data/v{}/sobjects/Account/{}",
            workloads::API_VERSION,
            workloads::ACCOUNT_ID
        );
        let record = self.json("GET", &path, None).await;
        assert_eq!(record["Id"], workloads::ACCOUNT_ID);
        record
    }

    /// Every page of `soql`, following `nextRecordsUrl`.
    pub async fn query_all(&mut self, soql: &str) -> Vec<Value> {
        let q: String = form_urlencoded::byte_serialize(soql.as_bytes()).collect();
        let mut path = format!("/services/data/v{}/query?q={q}", workloads::API_VERSION);
        let mut records = Vec::new();
        loop {
            let mut page = self.json("GET", &path, None).await;
            if let Value::Array(mut batch) = page["records"].take() {
                records.append(&mut batch);
            }
            match page["nextRecordsUrl"].as_str() {
                Some(next) => path = next.to_string(),
                None => return records,
            }
        }
    }

    /// The versions list: the smallest request the mock answers, for a round trip.
    pub async fn round_trip(&mut self) {
        self.send("GET", "/services/data/", None).await;
    }

    async fn create(&mut self, fields: &Value) -> String {
        let path = format!(
            "/services/data/v{}/sobjects/Account",
            workloads::API_VERSION
        );
        let created = self.json("POST", &path, Some(fields.to_string())).await;
        assert_eq!(created["success"], true);
        created["id"].as_str().expect("id").to_string()
    }

    async fn create_collection(&mut self, records: Vec<Value>) -> Vec<Value> {
        let path = format!(
            "/services/data/v{}/composite/sobjects",
            workloads::API_VERSION
        );
        let body = serde_json::json!({"allOrNone": false, "records": records}).to_string();
        match self.json("POST", &path, Some(body)).await {
            Value::Array(results) => results,
            other => panic!("collections answered {other}"),
        }
    }

    pub async fn w1(&mut self, calls: usize) -> Measured {
        let timer = Timer::start();
        for _ in 0..calls {
            self.get_account().await;
        }
        Measured::one("W1", timer.stop(), calls)
    }

    pub async fn w2(mock: &MockInfo, iterations: usize) -> Measured {
        let timer = Timer::start();
        for _ in 0..iterations {
            let mut fresh = Native::login(mock, &mock.https_url).await;
            let records = fresh.query_all(workloads::PAGED_SOQL).await;
            assert_eq!(records.len(), workloads::PAGED_RECORDS);
        }
        Measured::one("W2", timer.stop(), iterations)
    }

    pub async fn w3(&mut self, iterations: usize) -> Measured {
        let mut measured = Measured::default();
        for _ in 0..iterations {
            let timer = Timer::start();
            for fields in workloads::new_accounts("rs") {
                self.create(&fields).await;
            }
            measured.add("W3a", timer.stop(), 1);
            let timer = Timer::start();
            let records = workloads::new_accounts("rs")
                .into_iter()
                .map(|mut r| {
                    r["attributes"] = serde_json::json!({"type": "Account"});
                    r
                })
                .collect();
            let results = self.create_collection(records).await;
            assert!(
                results.len() == workloads::BATCH && results.iter().all(|r| r["success"] == true)
            );
            measured.add("W3b", timer.stop(), 1);
        }
        measured
    }
}

/// W4 for the native client: this binary started with `__native-cold`, from
/// process start to the first query's records.
pub fn cold_main() {
    let mock = MockInfo::from_env();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let mut native = Native::login(&mock, &mock.https_url).await;
        let q: String = form_urlencoded::byte_serialize(workloads::COLD_SOQL.as_bytes()).collect();
        let path = format!("/services/data/v{}/query?q={q}", workloads::API_VERSION);
        let page = native.json("GET", &path, None).await;
        assert!(page["records"].as_array().is_some_and(|r| !r.is_empty()));
    });
}
