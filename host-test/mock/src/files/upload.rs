//! Multipart uploads: the body of `POST …/sobjects/{SObject}` (201) and
//! `PATCH …/sobjects/{SObject}/{id}` (204) with `Content-Type:
//! multipart/form-data` [S-BLOB-UP]. It must be exactly two parts:
//!
//! 1. the record's other fields as JSON (`Content-Type: application/json`),
//!    named as below;
//! 2. the file, named for the object's blob field (`VersionData` or
//!    `Body`), with a `filename`; any Content-Type.
//!
//! JSON part names: the docs show `entity_document` when a Document is
//! inserted and `entity_content` when it is updated, so a Document takes
//! both; every ContentVersion source uses `entity_content` [S-GIST][S-MPCAP].
//! For Attachment the docs are silent: the mock takes `entity_attachment`,
//! the name clients use (stackoverflow.com/questions/27073126), and only it.

use crate::data::SObject;
use crate::errors::{self, ApiError};
use crate::multipart::{self, Part};
use crate::sobjects::body_object;
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use serde_json::{Map, Value};

fn json_part_names(obj: &SObject) -> &'static [&'static str] {
    match obj.name {
        "Document" => &["entity_document", "entity_content"],
        "Attachment" => &["entity_attachment"],
        _ => &["entity_content"],
    }
}

/// The errorCode Salesforce gives a multipart body it cannot use
/// (SalesforceMobileSDK-ReactNative #237). Unverified: every message but
/// "Multipart message must include a non-binary part", which is its own.
fn invalid(message: impl Into<String>) -> ApiError {
    errors::rest(
        StatusCode::BAD_REQUEST,
        "INVALID_MULTIPART_REQUEST",
        message,
    )
}

/// The JSON fields and the file of a multipart body for `obj`.
pub(crate) fn read_multipart(
    obj: &SObject,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<(Map<String, Value>, Bytes), ApiError> {
    let Some(blob) = obj.blob_field() else {
        return Err(invalid(format!(
            "{} has no blob field; send its fields as JSON",
            obj.name
        )));
    };
    let parts = multipart::parse(headers, body).map_err(invalid)?;
    let (json, file) = match parts.as_slice() {
        // Without Content-Type: application/json the first part is not
        // taken for the fields (stackoverflow.com/questions/27073126).
        [first, ..] if !first.is("application/json") => {
            return Err(invalid("Multipart message must include a non-binary part"))
        }
        [json, file] => (json, file),
        [_] => {
            return Err(invalid(format!(
                "Multipart message must include a binary part named {}",
                blob.name
            )))
        }
        _ => {
            return Err(invalid(format!(
            "Multipart message must have exactly two parts: the JSON fields, then the binary {}",
            blob.name
        )))
        }
    };
    check_names(obj, json, file, blob.name)?;
    Ok((body_object(&json.body)?, file.body.clone()))
}

fn check_names(obj: &SObject, json: &Part, file: &Part, blob: &str) -> Result<(), ApiError> {
    let names = json_part_names(obj);
    if !names.contains(&json.name.as_str()) {
        return Err(invalid(format!(
            "The JSON part of a {} upload must be named {}, not {}",
            obj.name,
            names.join(" or "),
            json.name
        )));
    }
    if !file.name.eq_ignore_ascii_case(blob) {
        return Err(invalid(format!(
            "The binary part of a {} upload must be named for its blob field {blob}, not {}",
            obj.name, file.name
        )));
    }
    if file.filename.as_deref().is_none_or(str::is_empty) {
        return Err(invalid(format!(
            "The binary part {blob} needs a filename in its Content-Disposition"
        )));
    }
    Ok(())
}
