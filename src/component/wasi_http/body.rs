//! Bodies that stream: a response read a piece at a time, and a request
//! written a piece at a time. Neither holds more than one piece, and
//! neither waits past the call's deadline.

#[allow(unused_imports)]
use crate::prelude::*;

use super::{await_response, read_failure, response_headers, Target, WasiHttp};
use crate::http::{HttpResponse, TransportError};
use wasip2::clocks::monotonic_clock;
use wasip2::http::types::{
    FutureIncomingResponse, IncomingBody, IncomingResponse, InputStream, OutgoingBody,
};
use wasip2::io::poll::{self, Pollable};
use wasip2::io::streams::{OutputStream, StreamError};

/// The deadline a stream is held to, and how to word its passing.
#[derive(Clone, Copy)]
struct Deadline {
    at: u64,
    ms: u32,
}

impl Deadline {
    fn of(http: &WasiHttp) -> Self {
        Deadline {
            at: http.deadline,
            ms: http.deadline_ms,
        }
    }

    fn passed(&self) -> bool {
        monotonic_clock::now() >= self.at
    }

    fn expired(&self, doing: &str) -> TransportError {
        TransportError::Timeout(format!(
            "the call's deadline-ms of {} ms passed {doing}",
            self.ms
        ))
    }

    /// Blocks until `ready` fires or the deadline passes; true if ready.
    fn wait(&self, ready: &Pollable) -> bool {
        let timer = monotonic_clock::subscribe_instant(self.at);
        let fired = poll::poll(&[ready, &timer]);
        fired.contains(&0)
    }
}

/// A response body not yet read. The response and its body stay owned
/// here until the body is dropped, child before parent.
pub struct BodyReader {
    stream: Option<InputStream>,
    body: Option<IncomingBody>,
    response: Option<IncomingResponse>,
    target: Target,
    nanos: u64,
    deadline: Deadline,
    read: u64,
    last_progress: u64,
}

impl BodyReader {
    pub(super) fn new(
        response: IncomingResponse,
        http: &WasiHttp,
        target: Target,
        nanos: u64,
    ) -> Result<Self, TransportError> {
        let unavailable = || TransportError::Network("response body unavailable".into());
        let body = response.consume().map_err(|_| unavailable())?;
        let stream = body.stream().map_err(|_| unavailable())?;
        Ok(BodyReader {
            stream: Some(stream),
            body: Some(body),
            response: Some(response),
            target,
            nanos,
            deadline: Deadline::of(http),
            read: 0,
            last_progress: monotonic_clock::now(),
        })
    }

    /// The next piece, at most `max` bytes; none at the end. More than the
    /// request's `max_body` in all is an error.
    pub fn next(&mut self, max: u64) -> Result<Option<Vec<u8>>, TransportError> {
        let Some(stream) = &self.stream else {
            return Ok(None);
        };
        if self.deadline.passed() {
            let doing = format!(
                "while {} was still sending the response",
                self.target.origin
            );
            return Err(self.deadline.expired(&doing));
        }
        match stream.blocking_read(max) {
            Ok(piece) => {
                self.read += piece.len() as u64;
                if self.read > self.target.max_body {
                    return Err(TransportError::TooLarge(self.target.max_body));
                }
                self.last_progress = monotonic_clock::now();
                Ok(Some(piece))
            }
            Err(StreamError::Closed) => {
                self.close();
                Ok(None)
            }
            Err(StreamError::LastOperationFailed(e)) => Err(read_failure(
                &e,
                &self.target,
                self.last_progress,
                self.nanos,
            )),
        }
    }

    /// Allows `max` bytes in all instead of the request's `max_body` (a
    /// file streamed to its reader is not held, so its cap is its own).
    pub fn set_limit(&mut self, max: u64) {
        self.target.max_body = max;
    }

    /// The rest of the body in one buffer, sized up front for what the
    /// server declared (growing by doubling would hold up to 1.5 times a
    /// query page at once).
    pub fn read_all(mut self, declared: Option<u64>) -> Result<Vec<u8>, TransportError> {
        let mut buf =
            Vec::with_capacity(declared.map_or(0, |n| n.min(super::RESERVE_AT_MOST) as usize));
        while let Some(piece) = self.next(super::READ_CHUNK)? {
            buf.extend_from_slice(&piece);
        }
        Ok(buf)
    }

    fn close(&mut self) {
        drop(self.stream.take());
        if let Some(body) = self.body.take() {
            drop(IncomingBody::finish(body));
        }
        drop(self.response.take());
    }
}

impl Drop for BodyReader {
    fn drop(&mut self) {
        self.close();
    }
}

/// Why a request body stopped before it was all written.
pub enum Interrupted {
    /// The server answered early (a refusal: it did not take the body).
    Answered(HttpResponse),
    /// The connection failed or the deadline passed.
    Failed(TransportError),
}

/// A request whose head is sent and whose body is being written.
pub struct BodyWriter {
    stream: Option<OutputStream>,
    body: Option<OutgoingBody>,
    future: FutureIncomingResponse,
    target: Target,
    nanos: u64,
    deadline: Deadline,
    http: WasiHttp,
}

impl BodyWriter {
    pub(super) fn new(
        http: &WasiHttp,
        body: OutgoingBody,
        future: FutureIncomingResponse,
        target: Target,
        nanos: u64,
    ) -> Result<Self, TransportError> {
        let stream = body.write().map_err(|_| target.invalid("body stream"))?;
        Ok(BodyWriter {
            stream: Some(stream),
            body: Some(body),
            future,
            target,
            nanos,
            deadline: Deadline::of(http),
            http: WasiHttp {
                deadline: http.deadline,
                deadline_ms: http.deadline_ms,
            },
        })
    }

    /// Writes all of `bytes`, as fast as the host takes them.
    pub fn write(&mut self, mut bytes: &[u8]) -> Result<(), Interrupted> {
        while !bytes.is_empty() {
            let room = self.room()?;
            let n = usize::try_from(room).unwrap_or(usize::MAX).min(bytes.len());
            let stream = self.stream.as_ref().ok_or_else(|| self.stopped())?;
            if stream.write(&bytes[..n]).is_err() {
                return Err(self.interrupted());
            }
            bytes = &bytes[n..];
        }
        Ok(())
    }

    /// Bytes the host takes now, waiting (within the deadline) while its
    /// buffer is full.
    fn room(&mut self) -> Result<u64, Interrupted> {
        loop {
            let stream = self.stream.as_ref().ok_or_else(|| self.stopped())?;
            match stream.check_write() {
                Ok(0) => {}
                Ok(n) => return Ok(n),
                Err(_) => return Err(self.interrupted()),
            }
            if !self.deadline.wait(&stream.subscribe()) {
                let doing = format!("while sending the request body to {}", self.target.origin);
                return Err(Interrupted::Failed(self.deadline.expired(&doing)));
            }
        }
    }

    /// Waits (within the deadline) until a flush is done: the host has
    /// room again, or the stream has ended.
    fn drain(&self, stream: &OutputStream) {
        while let Ok(0) = stream.check_write() {
            if !self.deadline.wait(&stream.subscribe()) {
                return;
            }
        }
    }

    fn stopped(&self) -> Interrupted {
        Interrupted::Failed(TransportError::Reset(format!(
            "the request to {} had already stopped",
            self.target.origin
        )))
    }

    /// The body stream failed: the server's early answer, or why none came.
    fn interrupted(&mut self) -> Interrupted {
        drop(self.stream.take());
        if let Some(body) = self.body.take() {
            drop(OutgoingBody::finish(body, None));
        }
        match self.answer() {
            Ok(resp) => Interrupted::Answered(resp),
            Err(e) => Interrupted::Failed(e),
        }
    }

    /// Ends the body (the host checks it is as long as declared) and reads
    /// the answer.
    pub fn finish(mut self) -> Result<HttpResponse, Interrupted> {
        // A host may close the stream once the declared length is in, so a
        // failed flush is no failure here: the answer says how it went.
        if let Some(stream) = &self.stream {
            if stream.flush().is_ok() {
                self.drain(stream);
            }
        }
        drop(self.stream.take());
        if let Some(body) = self.body.take() {
            if OutgoingBody::finish(body, None).is_err() {
                return Err(self.interrupted());
            }
        }
        self.answer().map_err(Interrupted::Failed)
    }

    fn answer(&mut self) -> Result<HttpResponse, TransportError> {
        let response = await_response(&self.future, &self.target)?;
        let mut head = HttpResponse {
            status: response.status(),
            headers: response_headers(&response),
            body: Vec::new(),
        };
        let declared = super::declared_length(&head.headers);
        let reader = BodyReader::new(response, &self.http, self.target.clone(), self.nanos)?;
        head.body = reader.read_all(declared)?;
        Ok(head)
    }
}
