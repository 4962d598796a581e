//! Shared by the mock's raw-HTTP tests: a logged-in `Org`, and an HTTP/1.1
//! answer read off the wire, chunked bodies joined.

#![allow(dead_code)]

use salesforce_mock::{Mock, MockOptions};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.text()))
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    /// The whole error body, `[{"errorCode":…,"message":…}]`.
    pub fn error(&self) -> (String, String) {
        let e = &self.json()[0];
        (
            e["errorCode"].as_str().unwrap_or("").into(),
            e["message"].as_str().unwrap_or("").into(),
        )
    }
    /// The first error's `errorCode`.
    pub fn error_code(&self) -> String {
        self.error().0
    }
}

/// A whole response as read until the server closed the connection.
pub fn parse_response(raw: &[u8]) -> Resp {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("response head");
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_lowercase(), v.trim().to_string()))
        .collect();
    let mut body = raw[split + 4..].to_vec();
    if headers
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v.contains("chunked"))
    {
        let (mut out, mut rest) = (Vec::new(), &body[..]);
        loop {
            let eol = rest.windows(2).position(|w| w == b"\r\n").unwrap();
            let len = usize::from_str_radix(std::str::from_utf8(&rest[..eol]).unwrap().trim(), 16)
                .unwrap();
            if len == 0 {
                break;
            }
            out.extend_from_slice(&rest[eol + 2..eol + 2 + len]);
            rest = &rest[eol + 2 + len + 2..];
        }
        body = out;
    }
    Resp {
        status,
        headers,
        body,
    }
}

/// A mock org and a session on it, spoken to over raw HTTP/1.1 on the
/// plain listener.
pub struct Org {
    pub mock: Mock,
    pub token: String,
}

impl Org {
    /// Start a mock and log in with the password grant.
    pub async fn start() -> Org {
        let mock = Mock::start(MockOptions::default())
            .await
            .expect("mock starts");
        let c = mock.credentials().clone();
        let form = form_urlencoded::Serializer::new(String::new())
            .extend_pairs([
                ("grant_type", "password".to_string()),
                ("client_id", c.client_id.clone()),
                ("client_secret", c.client_secret.clone()),
                ("username", c.username.clone()),
                ("password", format!("{}{}", c.password, c.security_token)),
            ])
            .finish();
        let mut org = Org {
            mock,
            token: String::new(),
        };
        let r = org
            .raw(
                "POST",
                "/services/oauth2/token",
                "application/x-www-form-urlencoded",
                form.as_bytes(),
            )
            .await;
        org.token = r.json()["access_token"].as_str().unwrap().to_string();
        org
    }

    pub async fn raw(&self, method: &str, path: &str, content_type: &str, body: &[u8]) -> Resp {
        let headers: &[(&str, &str)] = match content_type {
            "" => &[],
            ct => &[("Content-Type", ct)],
        };
        self.raw_with(method, path, headers, body).await
    }

    pub async fn raw_with(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Resp {
        let host = self
            .mock
            .http_url()
            .trim_start_matches("http://")
            .to_string();
        let mut s = TcpStream::connect(&host).await.expect("connect");
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nAuthorization: Bearer {}\r\nContent-Length: {}\r\n",
            self.token,
            body.len()
        );
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str("\r\n");
        s.write_all(head.as_bytes()).await.unwrap();
        s.write_all(body).await.unwrap();
        let mut raw = Vec::new();
        s.read_to_end(&mut raw).await.unwrap();
        parse_response(&raw)
    }
}
