//! The wasi:http edge: the exported handler reads the request's method,
//! path and (bounded) body, and writes the answer `routes::handle` gives.
//! Nothing here decides anything.

use crate::bindings::exports::wasi::http::incoming_handler::Guest;
use crate::routes::{self, Answer, Backend, MAX_BODY_BYTES};
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use salesforce_adapter_kit::bindings::salesforce::connector::tools;
use salesforce_adapter_kit::{session, Error, Tool};
use wasip2::http::types::{
    Fields, IncomingBody, IncomingRequest, Method, OutgoingBody, OutgoingResponse, ResponseOutparam,
};
use wasip2::io::streams::StreamError;

// The allocator, panic handler, libc's memcmp and `cabi_realloc`.
use salesforce_wasm_runtime as _;

struct Service;

crate::bindings::export!(Service with_types_in crate::bindings);

/// The imported connector, in the kit's kept session.
struct Connector;

impl Backend for Connector {
    fn tools(&self) -> Vec<Tool> {
        tools::tools()
    }

    fn invoke(&self, name: &str, arguments: &str) -> Result<String, Error> {
        session::invoke(name, arguments)
    }
}

impl Guest for Service {
    fn handle(request: IncomingRequest, out: ResponseOutparam) {
        let method = method_name(request.method());
        let path = request.path_with_query().unwrap_or_default();
        let answer = routes::handle(&method, &path, || read_body(&request), &Connector);
        send(out, answer);
    }
}

fn method_name(method: Method) -> String {
    match method {
        Method::Get => "GET".into(),
        Method::Head => "HEAD".into(),
        Method::Post => "POST".into(),
        Method::Put => "PUT".into(),
        Method::Delete => "DELETE".into(),
        Method::Connect => "CONNECT".into(),
        Method::Options => "OPTIONS".into(),
        Method::Trace => "TRACE".into(),
        Method::Patch => "PATCH".into(),
        Method::Other(other) => other,
    }
}

/// The body, refused with 413 as soon as it is known to exceed the limit:
/// from its declared length without reading it, else once a read passes it.
fn read_body(request: &IncomingRequest) -> Result<Vec<u8>, Answer> {
    if let Some(declared) = request.headers().get("content-length").first() {
        routes::check_length(declared)?;
    }
    let body = request.consume().map_err(|_| routes::unreadable())?;
    let stream = body.stream().map_err(|_| routes::unreadable())?;
    let mut bytes = Vec::new();
    loop {
        // One byte past the limit is enough to know it is too large.
        let room = (MAX_BODY_BYTES + 1 - bytes.len()) as u64;
        match stream.blocking_read(room.min(64 * 1024)) {
            Ok(chunk) => bytes.extend_from_slice(&chunk),
            Err(StreamError::Closed) => break,
            Err(StreamError::LastOperationFailed(_)) => return Err(routes::unreadable()),
        }
        if bytes.len() > MAX_BODY_BYTES {
            return Err(routes::too_large());
        }
    }
    drop(stream);
    drop(IncomingBody::finish(body));
    Ok(bytes)
}

/// Writes `answer` with its length, in chunks the stream accepts.
fn send(out: ResponseOutparam, answer: Answer) {
    let mut headers: Vec<(String, Vec<u8>)> = answer
        .headers
        .iter()
        .map(|(k, v)| (k.to_string(), v.as_bytes().to_vec()))
        .collect();
    let length = format!("{}", answer.body.len());
    headers.push(("content-length".into(), length.into_bytes()));
    let fields = Fields::from_list(&headers).unwrap_or_else(|_| Fields::new());
    let response = OutgoingResponse::new(fields);
    let _ = response.set_status_code(answer.status);
    let body = response.body();
    ResponseOutparam::set(out, Ok(response));
    let Ok(body) = body else { return };
    if let Ok(stream) = body.write() {
        // blocking-write-and-flush takes at most 4096 bytes a call.
        for chunk in answer.body.as_bytes().chunks(4096) {
            if stream.blocking_write_and_flush(chunk).is_err() {
                break;
            }
        }
        drop(stream);
    }
    let _ = OutgoingBody::finish(body, None);
}
