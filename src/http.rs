//! Plain HTTP request/response values and the one trait through which the
//! Salesforce logic reaches the network (wasi:http in the component, a script
//! in unit tests).

#[allow(unused_imports)]
use crate::prelude::*;

use core::time::Duration;
use url::Url;

/// The HTTP methods the connector sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// `GET`
    Get,
    /// `POST`
    Post,
    /// `PATCH`
    Patch,
    /// `PUT`
    Put,
    /// `DELETE`
    Delete,
    /// `HEAD`
    Head,
}

impl Method {
    /// The method's name on the wire, e.g. `GET`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Post => "POST",
            Self::Patch => "PATCH",
            Self::Put => "PUT",
            Self::Delete => "DELETE",
            Self::Head => "HEAD",
        }
    }
}

/// A request ready for the wire. Not `Debug`: headers carry the bearer token.
#[derive(Clone)]
pub struct HttpRequest {
    /// The request's method.
    pub method: Method,
    /// The full URL, query included.
    pub url: Url,
    /// Header names and values, as sent.
    pub headers: Vec<(String, String)>,
    /// The body, if any; its length is sent as `Content-Length`.
    pub body: Option<Vec<u8>>,
    /// Connect, first-byte and between-bytes timeout.
    pub timeout: Duration,
    /// Largest response body to accept, in bytes.
    pub max_body: u64,
}

/// An HTTP answer as received.
#[derive(Clone, Debug, Default)]
pub struct HttpResponse {
    /// The HTTP status.
    pub status: u16,
    /// Names in lower case.
    pub headers: Vec<(String, String)>,
    /// The whole body.
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// The first header called `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The `Content-Type` header.
    pub fn content_type(&self) -> Option<&str> {
        self.header("content-type")
    }

    /// True when the content type says JSON.
    pub fn is_json(&self) -> bool {
        self.content_type()
            .is_some_and(|ct| ct.to_ascii_lowercase().contains("json"))
    }
}

/// Why a request got no HTTP response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TransportError {
    /// The host's policy refused the request.
    Denied(String),
    /// No connection or answer within the timeout, or the call's deadline
    /// passed.
    Timeout(String),
    /// Refused, DNS, TLS, protocol error.
    Network(String),
    /// The connection dropped after the request went out: worth retrying
    /// when the request is idempotent.
    Reset(String),
    /// The response body exceeded the size limit.
    TooLarge(u64),
}

/// How the Salesforce logic reaches the network: wasi:http in the
/// component, a script in unit tests, anything else for an embedder.
pub trait Transport {
    /// Sends one request and returns its whole response, or why there is
    /// none.
    fn send(&mut self, request: &HttpRequest) -> Result<HttpResponse, TransportError>;

    /// Waits before a retry.
    fn sleep(&mut self, duration: Duration);

    /// Randomness for backoff jitter (not for secrets).
    fn jitter(&mut self) -> u64;
}

impl From<TransportError> for crate::error::Error {
    fn from(e: TransportError) -> Self {
        use crate::error::Error;
        match e {
            TransportError::Denied(m) => Error::Denied(m),
            TransportError::Timeout(m) => Error::Timeout(m),
            TransportError::Network(m) | TransportError::Reset(m) => Error::Transport(m),
            TransportError::TooLarge(limit) => Error::TooLarge(limit),
        }
    }
}

/// A transport that plays back canned outcomes, for unit tests.
#[cfg(test)]
pub(crate) mod testing {
    use super::*;

    pub struct Scripted {
        outcomes: Vec<Result<HttpResponse, TransportError>>,
        /// Requests sent so far, their paths and bodies.
        pub sent: usize,
        pub paths: Vec<String>,
        pub bodies: Vec<String>,
        pub slept: Vec<Duration>,
    }

    impl Scripted {
        pub fn new(outcomes: Vec<Result<HttpResponse, TransportError>>) -> Self {
            Self {
                outcomes,
                sent: 0,
                paths: Vec::new(),
                bodies: Vec::new(),
                slept: Vec::new(),
            }
        }

        pub fn request(method: Method) -> HttpRequest {
            HttpRequest {
                method,
                url: Url::parse("https://acme.my.salesforce.com/services/data/v62.0/limits")
                    .expect("valid"),
                headers: Vec::new(),
                body: None,
                timeout: Duration::from_secs(1),
                max_body: 1024,
            }
        }
    }

    impl Transport for Scripted {
        fn send(&mut self, req: &HttpRequest) -> Result<HttpResponse, TransportError> {
            self.sent += 1;
            self.paths.push(req.url.path().to_string());
            let body = req.body.as_deref().unwrap_or_default();
            self.bodies.push(String::from_utf8_lossy(body).into_owned());
            if self.outcomes.is_empty() {
                return Err(TransportError::Network("script exhausted".into()));
            }
            self.outcomes.remove(0)
        }

        fn sleep(&mut self, d: Duration) {
            self.slept.push(d);
        }

        fn jitter(&mut self) -> u64 {
            self.sent as u64
        }
    }
}
