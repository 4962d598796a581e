//! The one place a request leaves the component: a blocking client over
//! `wasi:http/outgoing-handler`.

#[allow(unused_imports)]
use crate::prelude::*;

use crate::http::{HttpRequest, HttpResponse, Method, Transport, TransportError};
use wasip2::clocks::monotonic_clock;
use wasip2::http::outgoing_handler;
use wasip2::http::types::{
    self as wasi, ErrorCode, Fields, FutureIncomingResponse, IncomingResponse, IoError,
    OutgoingBody, OutgoingRequest, RequestOptions,
};

mod body;
pub use body::{BodyReader, BodyWriter, Interrupted};

/// `blocking-write-and-flush` accepts at most 4096 bytes per call.
const WRITE_CHUNK: usize = 4096;
const READ_CHUNK: u64 = 64 * 1024;
/// A declared `Content-Length` is trusted this far before a byte arrives.
const RESERVE_AT_MOST: u64 = 8 << 20;

/// Sends requests until the call's deadline (monotonic nanoseconds): past
/// it, nothing more is sent, waited for or read.
pub struct WasiHttp {
    deadline: u64,
    deadline_ms: u32,
}

impl WasiHttp {
    /// A transport for one call that may take `deadline_ms` in all.
    pub fn within(deadline_ms: u32) -> Self {
        let ns = u64::from(deadline_ms).saturating_mul(1_000_000);
        WasiHttp {
            deadline: monotonic_clock::now().saturating_add(ns),
            deadline_ms,
        }
    }

    /// Nanoseconds left, if any.
    fn remaining(&self) -> Option<u64> {
        self.deadline
            .checked_sub(monotonic_clock::now())
            .filter(|&n| n > 0)
    }

    fn expired(&self, doing: &str) -> TransportError {
        TransportError::Timeout(format!(
            "the call's deadline-ms of {} ms passed {doing}",
            self.deadline_ms
        ))
    }
}

fn method(m: Method) -> wasi::Method {
    match m {
        Method::Get => wasi::Method::Get,
        Method::Post => wasi::Method::Post,
        Method::Patch => wasi::Method::Patch,
        Method::Put => wasi::Method::Put,
        Method::Delete => wasi::Method::Delete,
        Method::Head => wasi::Method::Head,
    }
}

fn map_code(code: ErrorCode, origin: &str, timeout_ms: u128, max_body: u64) -> TransportError {
    use ErrorCode as C;
    match code {
        C::HttpRequestDenied => {
            TransportError::Denied(format!("the host does not allow requests to {origin}"))
        }
        C::ConnectionTimeout | C::DnsTimeout => TransportError::Timeout(format!(
            "could not connect to {origin} within {timeout_ms} ms"
        )),
        C::ConnectionReadTimeout | C::HttpResponseTimeout | C::ConnectionWriteTimeout => {
            TransportError::Timeout(format!("{origin} did not answer within {timeout_ms} ms"))
        }
        C::ConnectionRefused => TransportError::Network(format!("connection to {origin} refused")),
        C::DnsError(_) | C::DestinationNotFound => TransportError::Network(format!(
            "DNS lookup failed for {origin}; check the host name"
        )),
        C::TlsProtocolError | C::TlsCertificateError | C::TlsAlertReceived(_) => {
            TransportError::Network(format!("TLS handshake with {origin} failed ({code:?})"))
        }
        C::ConnectionTerminated | C::HttpResponseIncomplete | C::HttpProtocolError => {
            TransportError::Reset(format!(
                "{origin} closed the connection before the response was complete"
            ))
        }
        C::HttpResponseBodySize(_) => TransportError::TooLarge(max_body),
        other => TransportError::Network(format!("request to {origin} failed: {other:?}")),
    }
}

impl Transport for WasiHttp {
    fn sleep(&mut self, duration: core::time::Duration) {
        let nanos = u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX);
        // Never past the deadline: the next send then reports it.
        let nanos = nanos.min(self.remaining().unwrap_or(0));
        wasip2::clocks::monotonic_clock::subscribe_duration(nanos).block();
    }

    fn jitter(&mut self) -> u64 {
        wasip2::random::random::get_random_u64()
    }

    fn send(&mut self, req: &HttpRequest) -> Result<HttpResponse, TransportError> {
        let (mut head, body) = self.open(req)?;
        let declared = declared_length(&head.headers);
        if declared.is_some_and(|n| n > req.max_body) {
            // Refused before a byte of it is read.
            return Err(TransportError::TooLarge(req.max_body));
        }
        head.body = body.read_all(declared)?;
        Ok(head)
    }
}

impl WasiHttp {
    /// Sends `req` and waits for the response's head; its body is left to
    /// read, in pieces or whole, within `req.max_body` and the deadline.
    pub fn open(&self, req: &HttpRequest) -> Result<(HttpResponse, BodyReader), TransportError> {
        let target = Target::of(req);
        let (request, body) = outgoing_request(req, &target)?;
        let (options, nanos) = self.request_options(req, &target)?;
        let future =
            outgoing_handler::handle(request, Some(options)).map_err(|code| target.failed(code))?;
        write_body(body, req.body.as_deref(), &target)?;
        let response = await_response(&future, &target)?;
        let head = HttpResponse {
            status: response.status(),
            headers: response_headers(&response),
            body: Vec::new(),
        };
        let reader = BodyReader::new(response, self, target, nanos)?;
        Ok((head, reader))
    }

    /// Sends the head of `req` (its `content-length` header says how many
    /// bytes will follow) and returns the writer of its body.
    pub fn start(&self, req: &HttpRequest) -> Result<BodyWriter, TransportError> {
        let target = Target::of(req);
        let (request, body) = outgoing_request(req, &target)?;
        let (options, nanos) = self.request_options(req, &target)?;
        let future =
            outgoing_handler::handle(request, Some(options)).map_err(|code| target.failed(code))?;
        BodyWriter::new(self, body, future, target, nanos)
    }
}

/// What the errors about one request name: where it went, its timeout and
/// its body limit.
#[derive(Clone)]
struct Target {
    origin: String,
    timeout_ms: u128,
    max_body: u64,
}

impl Target {
    fn of(req: &HttpRequest) -> Self {
        Target {
            origin: crate::urls::origin(&req.url),
            timeout_ms: req.timeout.as_millis(),
            max_body: req.max_body,
        }
    }

    /// The host refused to build the request from this part of it.
    fn invalid(&self, what: &str) -> TransportError {
        TransportError::Network(format!(
            "the request to {} was rejected: {what}",
            self.origin
        ))
    }

    fn failed(&self, code: ErrorCode) -> TransportError {
        map_code(code, &self.origin, self.timeout_ms, self.max_body)
    }
}

/// The request's headers, with the body's length when it has one.
fn outgoing_fields(req: &HttpRequest, target: &Target) -> Result<Fields, TransportError> {
    let fields = Fields::new();
    for (name, value) in &req.headers {
        fields
            .append(name, value.as_bytes())
            .map_err(|_| target.invalid(&format!("header `{name}` is not allowed")))?;
    }
    if let Some(body) = &req.body {
        fields
            .append("content-length", body.len().to_string().as_bytes())
            .map_err(|_| target.invalid("content-length"))?;
    }
    Ok(fields)
}

fn scheme(url: &url::Url) -> wasi::Scheme {
    if url.scheme() == "https" {
        wasi::Scheme::Https
    } else {
        wasi::Scheme::Http
    }
}

/// `host[:port]`, the port only when the URL names one.
fn authority(url: &url::Url) -> String {
    match url.port() {
        Some(port) => format!("{}:{port}", url.host_str().unwrap_or_default()),
        None => url.host_str().unwrap_or_default().to_string(),
    }
}

fn path_with_query(url: &url::Url) -> String {
    let mut path = url.path().to_string();
    if let Some(q) = url.query() {
        path.push('?');
        path.push_str(q);
    }
    path
}

/// The wasi:http request for `req`, and the body to write once it is sent.
fn outgoing_request(
    req: &HttpRequest,
    target: &Target,
) -> Result<(OutgoingRequest, OutgoingBody), TransportError> {
    let request = OutgoingRequest::new(outgoing_fields(req, target)?);
    request
        .set_method(&method(req.method))
        .map_err(|_| target.invalid("method"))?;
    request
        .set_scheme(Some(&scheme(&req.url)))
        .map_err(|_| target.invalid("scheme"))?;
    request
        .set_authority(Some(&authority(&req.url)))
        .map_err(|_| target.invalid("authority"))?;
    request
        .set_path_with_query(Some(&path_with_query(&req.url)))
        .map_err(|_| target.invalid("path"))?;
    let body = request.body().map_err(|_| target.invalid("body"))?;
    Ok((request, body))
}

impl WasiHttp {
    /// Timeouts for one request: its own, cut to what is left of the
    /// call's deadline. Also returns that timeout in nanoseconds.
    fn request_options(
        &self,
        req: &HttpRequest,
        target: &Target,
    ) -> Result<(RequestOptions, u64), TransportError> {
        let remaining = self
            .remaining()
            .ok_or_else(|| self.expired(&format!("before the request to {}", target.origin)))?;
        let options = RequestOptions::new();
        let nanos = u64::try_from(req.timeout.as_nanos())
            .unwrap_or(u64::MAX)
            .min(remaining);
        // A host may not support some options; the others still apply.
        let _ = options.set_connect_timeout(Some(nanos));
        let _ = options.set_first_byte_timeout(Some(nanos));
        let _ = options.set_between_bytes_timeout(Some(nanos));
        Ok((options, nanos))
    }
}

/// Writes the request body, if any, and finishes it.
fn write_body(
    body: OutgoingBody,
    bytes: Option<&[u8]>,
    target: &Target,
) -> Result<(), TransportError> {
    if let Some(bytes) = bytes {
        let stream = body.write().map_err(|_| target.invalid("body stream"))?;
        for chunk in bytes.chunks(WRITE_CHUNK) {
            if stream.blocking_write_and_flush(chunk).is_err() {
                // The real reason arrives on the response future.
                break;
            }
        }
        drop(stream);
    }
    // A failed finish also reports through the response future.
    let _ = OutgoingBody::finish(body, None);
    Ok(())
}

fn await_response(
    future: &FutureIncomingResponse,
    target: &Target,
) -> Result<IncomingResponse, TransportError> {
    future.subscribe().block();
    match future.get() {
        Some(Ok(Ok(response))) => Ok(response),
        Some(Ok(Err(code))) => Err(target.failed(code)),
        Some(Err(())) | None => Err(TransportError::Network(format!(
            "no response from {}",
            target.origin
        ))),
    }
}

/// The response's headers, names in lower case.
fn response_headers(response: &IncomingResponse) -> Vec<(String, String)> {
    response
        .headers()
        .entries()
        .into_iter()
        .map(|(k, v)| {
            (
                k.to_ascii_lowercase(),
                String::from_utf8_lossy(&v).into_owned(),
            )
        })
        .collect()
}

fn declared_length(headers: &[(String, String)]) -> Option<u64> {
    headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.trim().parse().ok())
}

/// Why reading the body failed.
fn read_failure(e: &IoError, target: &Target, last_progress: u64, nanos: u64) -> TransportError {
    let origin = &target.origin;
    match wasi::http_error_code(e) {
        Some(code) => target.failed(code),
        // Hosts do not always say why a body read failed: a silence as long
        // as the timeout was the timeout, anything sooner a dropped
        // connection.
        None if monotonic_clock::now().saturating_sub(last_progress) >= nanos / 10 * 9 => {
            TransportError::Timeout(format!(
                "{origin} stopped sending the response for {} ms",
                target.timeout_ms
            ))
        }
        None => TransportError::Reset(format!(
            "{origin} dropped the connection while sending the response"
        )),
    }
}
