//! The one place a request leaves the component: a blocking client over
//! `wasi:http/outgoing-handler`.

#[allow(unused_imports)]
use crate::prelude::*;

use crate::http::{HttpRequest, HttpResponse, Method, Transport, TransportError};
use wasip2::clocks::monotonic_clock;
use wasip2::http::outgoing_handler;
use wasip2::http::types::{
    self as wasi, ErrorCode, Fields, IncomingBody, OutgoingBody, OutgoingRequest, RequestOptions,
};
use wasip2::io::streams::StreamError;

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
        let origin = crate::urls::origin(&req.url);
        let timeout_ms = req.timeout.as_millis();
        let invalid = |what: &str| {
            TransportError::Network(format!("the request to {origin} was rejected: {what}"))
        };

        let fields = Fields::new();
        for (name, value) in &req.headers {
            fields
                .append(name, value.as_bytes())
                .map_err(|_| invalid(&format!("header `{name}` is not allowed")))?;
        }
        if let Some(body) = &req.body {
            fields
                .append("content-length", body.len().to_string().as_bytes())
                .map_err(|_| invalid("content-length"))?;
        }
        let request = OutgoingRequest::new(fields);
        let scheme = if req.url.scheme() == "https" {
            wasi::Scheme::Https
        } else {
            wasi::Scheme::Http
        };
        let authority = match req.url.port() {
            Some(port) => format!("{}:{port}", req.url.host_str().unwrap_or_default()),
            None => req.url.host_str().unwrap_or_default().to_string(),
        };
        let mut path = req.url.path().to_string();
        if let Some(q) = req.url.query() {
            path.push('?');
            path.push_str(q);
        }
        request
            .set_method(&method(req.method))
            .map_err(|_| invalid("method"))?;
        request
            .set_scheme(Some(&scheme))
            .map_err(|_| invalid("scheme"))?;
        request
            .set_authority(Some(&authority))
            .map_err(|_| invalid("authority"))?;
        request
            .set_path_with_query(Some(&path))
            .map_err(|_| invalid("path"))?;
        let body = request.body().map_err(|_| invalid("body"))?;

        let remaining = self
            .remaining()
            .ok_or_else(|| self.expired(&format!("before the request to {origin}")))?;
        let options = RequestOptions::new();
        let nanos = u64::try_from(req.timeout.as_nanos())
            .unwrap_or(u64::MAX)
            .min(remaining);
        // A host may not support some options; the others still apply.
        let _ = options.set_connect_timeout(Some(nanos));
        let _ = options.set_first_byte_timeout(Some(nanos));
        let _ = options.set_between_bytes_timeout(Some(nanos));

        let future = outgoing_handler::handle(request, Some(options))
            .map_err(|code| map_code(code, &origin, timeout_ms, req.max_body))?;
        if let Some(bytes) = &req.body {
            let stream = body.write().map_err(|_| invalid("body stream"))?;
            for chunk in bytes.chunks(WRITE_CHUNK) {
                if stream.blocking_write_and_flush(chunk).is_err() {
                    // The real reason arrives on the response future below.
                    break;
                }
            }
            drop(stream);
        }
        // A failed finish also reports through the response future.
        let _ = OutgoingBody::finish(body, None);

        future.subscribe().block();
        let response = match future.get() {
            Some(Ok(Ok(response))) => response,
            Some(Ok(Err(code))) => return Err(map_code(code, &origin, timeout_ms, req.max_body)),
            Some(Err(())) | None => {
                return Err(TransportError::Network(format!(
                    "no response from {origin}"
                )))
            }
        };
        let status = response.status();
        let headers = response
            .headers()
            .entries()
            .into_iter()
            .map(|(k, v)| {
                (
                    k.to_ascii_lowercase(),
                    String::from_utf8_lossy(&v).into_owned(),
                )
            })
            .collect::<Vec<(String, String)>>();
        let declared: Option<u64> = headers
            .iter()
            .find(|(k, _)| k == "content-length")
            .and_then(|(_, v)| v.trim().parse().ok());
        if declared.is_some_and(|n| n > req.max_body) {
            // Refused before a byte of it is read.
            return Err(TransportError::TooLarge(req.max_body));
        }
        let incoming = response
            .consume()
            .map_err(|_| TransportError::Network("response body unavailable".into()))?;
        let stream = incoming
            .stream()
            .map_err(|_| TransportError::Network("response body unavailable".into()))?;
        // Room for the declared length up front: growing by doubling while
        // reading held up to 1.5 times a query page at once.
        let mut buf = Vec::with_capacity(declared.map_or(0, |n| n.min(RESERVE_AT_MOST) as usize));
        let mut last_progress = monotonic_clock::now();
        let result = loop {
            match stream.blocking_read(READ_CHUNK) {
                Ok(chunk) => {
                    if buf.len() as u64 + chunk.len() as u64 > req.max_body {
                        break Err(TransportError::TooLarge(req.max_body));
                    }
                    buf.extend_from_slice(&chunk);
                    last_progress = monotonic_clock::now();
                    if last_progress >= self.deadline {
                        let doing = format!("while {origin} was still sending the response");
                        break Err(self.expired(&doing));
                    }
                }
                Err(StreamError::Closed) => break Ok(()),
                Err(StreamError::LastOperationFailed(e)) => {
                    break Err(match wasi::http_error_code(&e) {
                        Some(code) => map_code(code, &origin, timeout_ms, req.max_body),
                        // Hosts do not always say why a body read failed: a
                        // silence as long as the timeout was the timeout,
                        // anything sooner a dropped connection.
                        None if monotonic_clock::now().saturating_sub(last_progress)
                            >= nanos / 10 * 9 =>
                        {
                            TransportError::Timeout(format!(
                                "{origin} stopped sending the response for {timeout_ms} ms"
                            ))
                        }
                        None => TransportError::Reset(format!(
                            "{origin} dropped the connection while sending the response"
                        )),
                    });
                }
            }
        };
        drop(stream);
        drop(IncomingBody::finish(incoming));
        result?;
        Ok(HttpResponse {
            status,
            headers,
            body: buf,
        })
    }
}
