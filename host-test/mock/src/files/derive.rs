//! What the platform fills in when a file arrives: `BodyLength` on
//! Attachment and Document; on ContentVersion `ContentSize`,
//! `FileExtension` and `FileType` from PathOnClient, `VersionNumber`,
//! `IsLatest`, and its ContentDocument: a new `069…` document for a new
//! file, or the given `ContentDocumentId` for a new version of one, which
//! then becomes that document's latest version [S-BLOB-UP].

use super::types;
use crate::data::{SObject, Store};
use crate::errors::{self, ApiError};
use axum::body::Bytes;
use axum::http::StatusCode;
use serde_json::Value;
use std::collections::HashMap;

type Values = HashMap<&'static str, Value>;

/// Derive the read-only fields of a record about to be inserted; may mark
/// an earlier ContentVersion as no longer the latest.
pub(crate) fn derive_on_insert(
    store: &mut Store,
    obj: &'static SObject,
    values: &mut Values,
    blob: Option<&Bytes>,
) -> Result<(), ApiError> {
    if let Some(b) = blob {
        derive_sizes(obj, values, b);
    }
    if obj.name == "ContentVersion" {
        name_and_type(values);
        document(store, obj, values)?;
    }
    Ok(())
}

/// The size field of the object's file.
pub(crate) fn derive_sizes(obj: &SObject, values: &mut Values, blob: &Bytes) {
    let field = match obj.name {
        "ContentVersion" => "ContentSize",
        _ => "BodyLength",
    };
    values.insert(field, Value::from(blob.len()));
}

fn text<'v>(values: &'v Values, field: &str) -> Option<&'v str> {
    values
        .get(field)
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
}

/// FileExtension and FileType from PathOnClient, and a Title if none was
/// given. Unverified: that the default Title is the file name without
/// its extension, as the Files UI shows an upload.
fn name_and_type(values: &mut Values) {
    let path = text(values, "PathOnClient").unwrap_or_default().to_string();
    let ext = types::extension(&path);
    values.insert("FileType", Value::from(types::file_type(ext.as_deref())));
    if text(values, "Title").is_none() {
        let name = types::file_name(&path);
        let stem = match &ext {
            Some(e) => &name[..name.len() - e.len() - 1],
            None => name,
        };
        values.insert("Title", Value::from(stem));
    }
    values.insert("FileExtension", ext.map_or(Value::Null, Value::from));
}

/// Join the named ContentDocument as its next version, or start a new one.
fn document(store: &mut Store, obj: &SObject, values: &mut Values) -> Result<(), ApiError> {
    let Some(doc) = text(values, "ContentDocumentId").map(str::to_string) else {
        let doc = store.issue_id("069");
        values.insert("ContentDocumentId", Value::from(doc));
        values.insert("VersionNumber", Value::from("1"));
        values.insert("IsLatest", Value::Bool(true));
        return Ok(());
    };
    let versions = versions_of(store, obj, &doc);
    let Some(first) = versions.first() else {
        // Unverified: the answer for a document that does not exist or
        // that the user cannot see; this is the usual one for Files.
        return Err(errors::rest_fields(
            StatusCode::BAD_REQUEST,
            "INSUFFICIENT_ACCESS_ON_CROSS_REFERENCE_ENTITY",
            format!("insufficient access rights on cross-reference id: {doc}"),
            &[],
        ));
    };
    let full = first.1.clone();
    for (id, _) in &versions {
        store.set_field(obj, id, "IsLatest", Value::Bool(false));
    }
    values.insert("ContentDocumentId", Value::from(full));
    values.insert(
        "VersionNumber",
        Value::from((versions.len() + 1).to_string()),
    );
    values.insert("IsLatest", Value::Bool(true));
    Ok(())
}

/// `(version id, document id as stored)` of the document's live versions;
/// the document may be named by its 15- or 18-character id.
fn versions_of(store: &Store, obj: &SObject, doc: &str) -> Vec<(String, String)> {
    let key = doc.get(..15).filter(|_| doc.len() == 15 || doc.len() == 18);
    store
        .records(obj)
        .iter()
        .filter(|r| !r.deleted)
        .filter_map(|r| match r.get("ContentDocumentId") {
            Value::String(d)
                if key.is_some() && d.get(..15) == key && (doc.len() == 15 || d == doc) =>
            {
                Some((r.id.clone(), d))
            }
            _ => None,
        })
        .collect()
}
