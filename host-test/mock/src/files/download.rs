//! `GET …/sobjects/{SObject}/{id}/{blobField}`: the file's raw bytes, not
//! JSON [S-BLOB-GET]. They go out in 64 KiB frames produced one at a time
//! as the connection takes them, so a client has to read the body as a
//! stream (salesforce-bulk.md §9.1: "never buffer whole bodies").

use super::types;
use crate::data::{looks_like_id, Record, SObject};
use crate::errors::{self, ApiError};
use crate::state::{lock, Shared};
use axum::body::{Body, Bytes};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use http_body::{Frame, SizeHint};
use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

const CHUNK: usize = 64 * 1024;

/// Whether `/sobjects/{SObject}/{a}/{b}` asks for a file: `b` names the
/// object's blob field and `a` is a record id. Anything else on that route
/// is an external-id request, and a record id followed by another field
/// is answered there with 404 NOT_FOUND, Salesforce's body for a resource
/// that does not exist (salesforce-facts.md §2.9).
pub(crate) fn is_download(obj: &SObject, a: &str, b: &str) -> bool {
    looks_like_id(a)
        && obj
            .blob_field()
            .is_some_and(|f| f.name.eq_ignore_ascii_case(b))
}

/// The file of record `id`. `composite`: asked from inside a composite
/// request, where blob retrieval is not available [S-COLL-GET].
pub(crate) fn download(
    st: &Shared,
    obj: &SObject,
    id: &str,
    composite: bool,
) -> Result<Response, ApiError> {
    if composite {
        // Unverified: the wording; the code is composite's for a URL it does not take.
        return Err(errors::rest(
            StatusCode::BAD_REQUEST,
            "INVALID_API_INPUT",
            "Blob data cannot be retrieved in a composite request",
        ));
    }
    if !id.starts_with(obj.prefix) {
        return Err(errors::not_found());
    }
    let store = lock(&st.store);
    let rec = match store.get(obj, id) {
        None => return Err(errors::not_found()),
        Some(r) if r.deleted => {
            return Err(errors::rest_fields(
                StatusCode::NOT_FOUND,
                "ENTITY_IS_DELETED",
                "entity is deleted",
                &[],
            ))
        }
        Some(r) => r,
    };
    let data = rec.blob.clone().ok_or_else(errors::not_found)?;
    let mime = content_type(obj, rec);
    drop(store);
    let len = data.len();
    let mut resp = Response::new(Body::new(Chunks { data }));
    let headers = resp.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&mime).unwrap_or(HeaderValue::from_static(types::OCTET_STREAM)),
    );
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    *resp.status_mut() = StatusCode::OK;
    Ok(resp)
}

/// ContentVersion: from its extension; Attachment and Document: their
/// ContentType field [S-BLOB-GET]. `application/octet-stream` otherwise.
fn content_type(obj: &SObject, rec: &Record) -> String {
    if obj.name == "ContentVersion" {
        let ext = rec.get("FileExtension");
        return types::mime(ext.as_str()).to_string();
    }
    match rec.get("ContentType") {
        serde_json::Value::String(ct) if !ct.trim().is_empty() => ct,
        _ => types::OCTET_STREAM.to_string(),
    }
}

/// The file as a body of 64 KiB frames; slicing `Bytes` copies nothing.
struct Chunks {
    data: Bytes,
}

impl http_body::Body for Chunks {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        if self.data.is_empty() {
            return Poll::Ready(None);
        }
        let n = CHUNK.min(self.data.len());
        Poll::Ready(Some(Ok(Frame::data(self.data.split_to(n)))))
    }

    fn is_end_stream(&self) -> bool {
        self.data.is_empty()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.data.len() as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    #[tokio::test]
    async fn a_file_goes_out_in_64_kib_frames() {
        let data = Bytes::from(vec![7u8; 3 * CHUNK + 5]);
        let mut body = Chunks { data: data.clone() };
        let mut sizes = Vec::new();
        let mut joined = Vec::new();
        while let Some(frame) = body.frame().await {
            let chunk = frame.unwrap().into_data().unwrap();
            sizes.push(chunk.len());
            joined.extend_from_slice(&chunk);
        }
        assert_eq!(sizes, [CHUNK, CHUNK, CHUNK, 5]);
        assert_eq!(joined, data);
    }
}
