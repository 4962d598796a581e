//! The `files` interface: a download and an upload are resources that live
//! across calls, each holding one HTTP exchange and at most one piece of
//! the file.

#[allow(unused_imports)]
use crate::prelude::*;

use super::convert::{error_out, limits_out};
use super::exports::salesforce::connector::files as wit_files;
use super::exports::salesforce::connector::types as wit;
use super::wasi_http::{BodyReader, BodyWriter, Interrupted, WasiHttp};
use crate::error::Error;
use crate::files::{self, UploadTarget, MAX_FILE_BYTES, MAX_PIECE};
use crate::http::{HttpRequest, HttpResponse, Transport, TransportError};
use crate::secret::Redactor;
use crate::session::Session;
use core::cell::RefCell;

/// A checked session and the redactor for everything its server says.
fn begin(s: wit::Session) -> Result<(Session, Redactor), wit::Error> {
    let s = super::convert::session_in(s).map_err(error_out)?;
    let redactor = Redactor::new().with_session(&s);
    Ok((s, redactor))
}

/// A 2xx keeps its body unread for the caller; any other answer is read
/// whole (it is Salesforce's error), so the retry rule of every other call
/// applies unchanged.
struct Opening<'a> {
    http: &'a mut WasiHttp,
    body: Option<BodyReader>,
}

impl Transport for Opening<'_> {
    fn send(&mut self, req: &HttpRequest) -> Result<HttpResponse, TransportError> {
        let (mut head, body) = self.http.open(req)?;
        if (200..300).contains(&head.status) {
            self.body = Some(body);
        } else {
            head.body = body.read_all(None)?;
        }
        Ok(head)
    }

    fn sleep(&mut self, duration: core::time::Duration) {
        self.http.sleep(duration);
    }

    fn jitter(&mut self) -> u64 {
        self.http.jitter()
    }
}

/// A file being downloaded.
pub struct Download {
    content_type: Option<String>,
    size: Option<u64>,
    reading: RefCell<Reading>,
}

struct Reading {
    /// None once the file has ended or failed.
    body: Option<BodyReader>,
    read: u64,
    failed: bool,
    redactor: Redactor,
}

/// Sends the GET (retried as any GET is) and keeps a 2xx's body unread.
fn open_download(
    s: &Session,
    redactor: &Redactor,
    sobject: &str,
    id: &str,
    field: &str,
) -> Result<(HttpResponse, BodyReader), Error> {
    let req = files::download_request(s, sobject, id, field)?;
    let mut http = WasiHttp::within(s.limits.deadline_ms);
    let mut opening = Opening {
        http: &mut http,
        body: None,
    };
    let head = crate::retry::send(&mut opening, &req, &s.limits.retry)?;
    let Some(mut body) = opening.body.take() else {
        return Err(crate::rest::interpret(head, redactor)
            .err()
            .unwrap_or_else(|| Error::unexpected(0, None, "no answer to the download", b"")));
    };
    files::check_download(&head)?;
    body.set_limit(MAX_FILE_BYTES);
    Ok((head, body))
}

impl Download {
    fn new(head: &HttpResponse, body: BodyReader, redactor: Redactor) -> Self {
        Download {
            content_type: head.content_type().map(|c| redactor.scrub(c)),
            size: head
                .header("content-length")
                .and_then(|v| v.trim().parse().ok()),
            reading: RefCell::new(Reading {
                body: Some(body),
                read: 0,
                failed: false,
                redactor,
            }),
        }
    }

    fn next(&self, max_bytes: u32) -> Result<Option<Vec<u8>>, Error> {
        if !(1..=MAX_PIECE).contains(&max_bytes) {
            return Err(Error::request(
                "max-bytes",
                format!("must be 1 to {MAX_PIECE}, not {max_bytes}"),
            ));
        }
        let mut r = self.reading.borrow_mut();
        if r.failed {
            return Err(Error::request(
                "download",
                "this download failed earlier and has no more bytes; open it again",
            ));
        }
        let Some(body) = r.body.as_mut() else {
            return Ok(None);
        };
        match body.next(max_bytes.into()) {
            Ok(Some(piece)) => {
                r.read += piece.len() as u64;
                Ok(Some(piece))
            }
            Ok(None) => {
                r.body = None;
                match self.size {
                    Some(size) if r.read < size => {
                        r.failed = true;
                        Err(Error::Transport(format!(
                            "the file ended after {} of its {size} bytes",
                            r.read
                        )))
                    }
                    _ => Ok(None),
                }
            }
            Err(e) => {
                r.body = None;
                r.failed = true;
                Err(match e {
                    TransportError::TooLarge(_) => Error::unexpected(
                        200,
                        self.content_type.as_deref(),
                        "the file is larger than the 2 GB Salesforce stores",
                        b"",
                    ),
                    e => e.into(),
                })
            }
        }
    }
}

impl wit_files::GuestDownload for Download {
    fn content_type(&self) -> Option<String> {
        self.content_type.clone()
    }

    fn size(&self) -> Option<u64> {
        self.size
    }

    fn read(&self, max_bytes: u32) -> Result<Option<Vec<u8>>, wit::Error> {
        let outcome = self.next(max_bytes);
        outcome.map_err(|e| error_out(e.redacted(&self.reading.borrow().redactor)))
    }
}

/// A file being uploaded.
pub struct Upload {
    writing: RefCell<Writing>,
}

struct Writing {
    writer: Option<BodyWriter>,
    target: UploadTarget,
    tail: Vec<u8>,
    sent: u64,
    redactor: Redactor,
}

impl Writing {
    /// Sends the request's head and the fields part.
    fn open(&mut self, s: &Session) -> Result<(), Error> {
        let random = [
            wasip2::random::random::get_random_u64(),
            wasip2::random::random::get_random_u64(),
        ];
        let (req, frame) = files::upload_request(s, &self.target, random)?;
        self.tail = frame.tail;
        self.writer = Some(WasiHttp::within(s.limits.deadline_ms).start(&req)?);
        self.send(&frame.head)
    }

    fn send(&mut self, bytes: &[u8]) -> Result<(), Error> {
        let Some(writer) = self.writer.as_mut() else {
            return Err(self.ended());
        };
        let outcome = writer.write(bytes);
        outcome.map_err(|i| self.interrupted(i))
    }

    fn ended(&self) -> Error {
        Error::request(
            "upload",
            "this upload has already ended; nothing more can be sent with it",
        )
    }

    /// Aborts the request: an incomplete body is never a stored file.
    fn interrupted(&mut self, i: Interrupted) -> Error {
        self.writer = None;
        let size = self.target.size;
        let sent = self.sent;
        match i {
            Interrupted::Answered(resp) => self.refusal(resp),
            Interrupted::Failed(e) => with_context(
                e.into(),
                &format!("{sent} of the file's {size} bytes were sent; nothing was stored"),
            ),
        }
    }

    fn refusal(&self, resp: HttpResponse) -> Error {
        match crate::rest::interpret(resp, &self.redactor) {
            Err(e) => e,
            Ok(r) => Error::unexpected(
                r.status,
                None,
                "a success before the whole file was sent",
                r.body.as_bytes(),
            ),
        }
    }

    fn write(&mut self, bytes: &[u8]) -> Result<(), Error> {
        let size = self.target.size;
        if self.sent + bytes.len() as u64 > size {
            self.writer = None;
            return Err(Error::request(
                "bytes",
                format!(
                    "the file is longer than the {size} bytes declared; the upload was stopped and nothing was stored"
                ),
            ));
        }
        self.send(bytes)?;
        self.sent += bytes.len() as u64;
        Ok(())
    }

    fn finish(&mut self) -> Result<files::Uploaded, Error> {
        let (sent, size) = (self.sent, self.target.size);
        if sent != size {
            self.writer = None;
            return Err(Error::request(
                "size",
                format!("{sent} of the {size} bytes declared were written; the upload was stopped and nothing was stored"),
            ));
        }
        let tail = core::mem::take(&mut self.tail);
        self.send(&tail)?;
        let writer = self.writer.take().ok_or_else(|| self.ended())?;
        match writer.finish() {
            Ok(resp) => {
                let resp = crate::rest::interpret(resp, &self.redactor)?;
                files::uploaded(resp, &self.target)
            }
            Err(Interrupted::Answered(resp)) => Err(self.refusal(resp)),
            Err(Interrupted::Failed(e)) => Err(with_context(
                e.into(),
                "every byte was sent but no answer came: the file may have been stored; look before sending it again",
            )),
        }
    }
}

/// The transport error's message with what became of the file.
fn with_context(e: Error, context: &str) -> Error {
    match e {
        Error::Transport(m) => Error::Transport(format!("{m}; {context}")),
        Error::Timeout(m) => Error::Timeout(format!("{m}; {context}")),
        other => other,
    }
}

impl wit_files::GuestUpload for Upload {
    fn write(&self, bytes: Vec<u8>) -> Result<(), wit::Error> {
        let mut w = self.writing.borrow_mut();
        let outcome = w.write(&bytes);
        outcome.map_err(|e| error_out(e.redacted(&w.redactor)))
    }

    fn finish(&self) -> Result<wit_files::Uploaded, wit::Error> {
        let mut w = self.writing.borrow_mut();
        let outcome = w.finish();
        outcome
            .map(|u| wit_files::Uploaded {
                id: u.id,
                bytes: u.bytes,
                limit_info: u.limit_info.map(limits_out),
            })
            .map_err(|e| error_out(e.redacted(&w.redactor)))
    }
}

fn target_in(t: wit_files::UploadTarget) -> UploadTarget {
    UploadTarget {
        sobject: t.sobject,
        id: t.id,
        fields_json: t.fields_json,
        file_name: t.file_name,
        content_type: t.content_type,
        size: t.size,
    }
}

impl wit_files::Guest for super::Component {
    type Download = Download;
    type Upload = Upload;

    fn open_download(
        s: wit::Session,
        sobject: String,
        id: String,
        field: String,
    ) -> Result<wit_files::Download, wit::Error> {
        let (s, redactor) = begin(s)?;
        match open_download(&s, &redactor, &sobject, &id, &field) {
            Ok((head, body)) => Ok(wit_files::Download::new(Download::new(
                &head, body, redactor,
            ))),
            Err(e) => Err(error_out(e.redacted(&redactor))),
        }
    }

    fn start_upload(
        s: wit::Session,
        target: wit_files::UploadTarget,
    ) -> Result<wit_files::Upload, wit::Error> {
        let (s, redactor) = begin(s)?;
        let mut writing = Writing {
            writer: None,
            target: target_in(target),
            tail: Vec::new(),
            sent: 0,
            redactor,
        };
        match writing.open(&s) {
            Ok(()) => Ok(wit_files::Upload::new(Upload {
                writing: RefCell::new(writing),
            })),
            Err(e) => Err(error_out(e.redacted(&writing.redactor))),
        }
    }
}
