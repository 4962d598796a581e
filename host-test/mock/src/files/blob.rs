//! The file in a request: base64 inside a JSON body, or the bytes of a
//! multipart part, held to Salesforce's size limits [S-BLOB-UP].
//!
//! Limits are counted in decimal units (2 GB = 2,000,000,000 bytes), the
//! stricter reading of the docs' "2 GB" and "500 MB".

use crate::data::{not_writable, sobject, SObject};
use crate::errors::{self, ApiError};
use axum::body::Bytes;
use axum::http::request::Parts;
use axum::http::{header, Method, StatusCode};
use base64::Engine;
use serde_json::Value;
use std::collections::HashMap;

/// Per file through sObject Basic Information or sObject Rows: "2 GB for
/// ContentVersion objects and 500 MB for all other eligible standard
/// objects" [S-BLOB-UP].
const CONTENT_VERSION_LIMIT: u64 = 2_000_000_000;
const OTHER_LIMIT: u64 = 500_000_000;
/// Without multipart "you are limited to 50 MB of text data or 37.5 MB of
/// base64–encoded data" [S-BLOB-UP].
const JSON_LIMIT: u64 = 50_000_000;
const BASE64_LIMIT: usize = 37_500_000;

fn file_limit(obj: &SObject) -> u64 {
    match obj.name {
        "ContentVersion" => CONTENT_VERSION_LIMIT,
        _ => OTHER_LIMIT,
    }
}

/// Unverified: the status and body of a refusal for size. restforce maps
/// 413 to `EntityTooLargeError` (salesforce-facts.md §2.9), and the mock's
/// other size refusals (the request body, Bulk uploads) answer the same.
pub(crate) fn too_large(message: String) -> ApiError {
    errors::rest(
        StatusCode::PAYLOAD_TOO_LARGE,
        "REQUEST_ENTITY_TOO_LARGE",
        message,
    )
}

/// Take the blob field out of `values`, where a JSON body put it as base64,
/// or accept `blob` from a multipart part; the file, checked against the
/// limits. `updating`: the blob field must then be updateable.
pub(crate) fn take_blob(
    obj: &SObject,
    values: &mut HashMap<&'static str, Value>,
    blob: Option<Bytes>,
    updating: bool,
) -> Result<Option<Bytes>, ApiError> {
    let Some(field) = obj.blob_field() else {
        // `upload` refuses multipart bodies for these objects before this.
        return Ok(None);
    };
    let inline = match values.remove(field.name) {
        None => None,
        Some(Value::String(b64)) => Some(decode(field.name, &b64)?),
        Some(_) => return Err(required_missing(field.name)),
    };
    let file = match (inline, blob) {
        (Some(_), Some(_)) => {
            // Unverified: the answer when the JSON part carries the file too.
            return Err(errors::rest(
                StatusCode::BAD_REQUEST,
                "INVALID_MULTIPART_REQUEST",
                format!(
                    "{} was sent twice: in the JSON part and as the binary part",
                    field.name
                ),
            ));
        }
        (a, b) => a.or(b),
    };
    let Some(file) = file else {
        return Ok(None);
    };
    if updating && !field.updateable {
        return Err(not_writable(&[field.name.to_string()]));
    }
    let limit = file_limit(obj);
    if file.len() as u64 > limit {
        return Err(too_large(format!(
            "The file is {} bytes; {} files may be at most {limit} bytes",
            file.len(),
            obj.name
        )));
    }
    Ok(Some(file))
}

fn required_missing(field: &str) -> ApiError {
    errors::rest_fields(
        StatusCode::BAD_REQUEST,
        "REQUIRED_FIELD_MISSING",
        format!("Required fields are missing: [{field}]"),
        &[field.to_string()],
    )
}

/// Standard base64 with padding, as clients send it [S-SS-583]; nothing
/// else (no line breaks, no URL-safe alphabet).
fn decode(field: &str, b64: &str) -> Result<Bytes, ApiError> {
    if b64.len() > BASE64_LIMIT {
        return Err(too_large(format!(
            "{field} carries {} characters of base64; without multipart at most {BASE64_LIMIT} are allowed. Send the file as multipart/form-data.",
            b64.len()
        )));
    }
    base64::engine::general_purpose::STANDARD
        .decode(b64)
        .map(Bytes::from)
        // Unverified: Salesforce's words; these are its JSON reader's.
        .map_err(|e| {
            errors::rest(
                StatusCode::BAD_REQUEST,
                "JSON_PARSER_ERROR",
                format!("Cannot deserialize instance of base64 from VALUE_STRING value for field {field}: {e}"),
            )
        })
}

/// A JSON body for a blob object over 50 MB, e.g. one sent chunked
/// without a Content-Length [S-BLOB-UP].
pub(crate) fn check_json_body(obj: &SObject, len: usize) -> Result<(), ApiError> {
    if obj.blob_field().is_some() && len as u64 > JSON_LIMIT {
        return Err(json_too_large(len as u64));
    }
    Ok(())
}

fn json_too_large(len: u64) -> ApiError {
    too_large(format!(
        "The request body is {len} bytes; without multipart at most {JSON_LIMIT} are allowed. Send the file as multipart/form-data."
    ))
}

/// Refuse an upload by its declared Content-Length, before a byte of it is
/// read: a multipart body longer than the object's file limit (stricter by
/// the few hundred bytes of part headers), a JSON one over 50 MB [S-BLOB-UP].
pub(crate) fn refuse_declared(parts: &Parts) -> Option<ApiError> {
    let declared: u64 = parts
        .headers
        .get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .parse()
        .ok()?;
    let obj = upload_target(&parts.method, parts.uri.path())?;
    if crate::multipart::is_multipart(&parts.headers) {
        let limit = file_limit(obj);
        return (declared > limit).then(|| {
            too_large(format!(
                "The request body is {declared} bytes; {} files may be at most {limit} bytes",
                obj.name
            ))
        });
    }
    (declared > JSON_LIMIT).then(|| json_too_large(declared))
}

/// The blob object a `POST /services/data/vNN.N/sobjects/{SObject}` or
/// `PATCH …/{SObject}/{id}` writes to.
fn upload_target(method: &Method, path: &str) -> Option<&'static SObject> {
    let rest = path.strip_prefix("/services/data/")?;
    let segs: Vec<&str> = rest.trim_end_matches('/').split('/').collect();
    let obj = match (method, segs.as_slice()) {
        (&Method::POST, [_, "sobjects", obj]) | (&Method::PATCH, [_, "sobjects", obj, _]) => obj,
        _ => return None,
    };
    sobject(obj).filter(|o| o.blob_field().is_some())
}
