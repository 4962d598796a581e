//! Plain HTTP request/response values and the one trait through which the
//! Salesforce logic reaches the network (wasi:http in the component, a script
//! in unit tests).

#[allow(unused_imports)]
use crate::prelude::*;

use core::time::Duration;
use url::Url;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    Patch,
    Put,
    Delete,
    Head,
}

impl Method {
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
    pub method: Method,
    pub url: Url,
    pub headers: Vec<(String, String)>,
    pub body: Option<Vec<u8>>,
    pub timeout: Duration,
}

#[derive(Clone, Debug, Default)]
pub struct HttpResponse {
    pub status: u16,
    /// Names in lower case.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn content_type(&self) -> Option<&str> {
        self.header("content-type")
    }

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
    Timeout(String),
    /// Refused, DNS, TLS, reset, protocol error.
    Network(String),
    /// The response body exceeded the size limit.
    TooLarge(u64),
}

pub trait Transport {
    fn send(&mut self, request: &HttpRequest) -> Result<HttpResponse, TransportError>;
}

impl From<TransportError> for crate::error::Error {
    fn from(e: TransportError) -> Self {
        use crate::error::Error;
        match e {
            TransportError::Denied(m) => Error::Denied(m),
            TransportError::Timeout(m) => Error::Timeout(m),
            TransportError::Network(m) => Error::Transport(m),
            TransportError::TooLarge(limit) => Error::Unexpected {
                status: 0,
                content_type: None,
                reason: format!("response body larger than the {limit}-byte limit"),
                excerpt: String::new(),
            },
        }
    }
}
