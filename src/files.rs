//! Files: the binary fields of ContentVersion, Attachment and Document.
//!
//! What a download or an upload sends and what its answer means. The bytes
//! themselves never pass through here: they stream through the component's
//! wasi:http edge a piece at a time.
//!
//! Sources: "Insert or Update Blob Data" and "Get Blob Data" in the REST API
//! Developer Guide (multipart shape, part names, 2 GB / 500 MB limits; a
//! blob GET returns raw bytes, never JSON).

#[allow(unused_imports)]
use crate::prelude::*;

use crate::error::Error;
use crate::http::{HttpRequest, HttpResponse, Method};
use crate::limits::LimitInfo;
use crate::records::{api_name, record_id};
use crate::rest::{self, CallRequest, CallResponse};
use crate::session::Session;

/// The largest piece one `read` hands out.
pub const MAX_PIECE: u32 = 1 << 20;

/// The largest file Salesforce stores (a ContentVersion), and so the most
/// a download reads before it stops a server that never ends.
pub const MAX_FILE_BYTES: u64 = 2 << 30;

/// An object whose records carry a file, and how a multipart upload names
/// its parts.
struct BlobObject {
    sobject: &'static str,
    /// The binary field, and the name of the file's part.
    field: &'static str,
    /// The name of the JSON part with the other fields.
    fields_part: &'static str,
    /// Fields an insert needs, checked before a byte of the file is sent.
    required: &'static [&'static str],
    max_bytes: u64,
}

/// ContentVersion's part name is `entity_content` and Document's
/// `entity_document` in the guide's examples; Attachment is not shown, and
/// `entity_attachment` follows the same pattern.
const BLOB_OBJECTS: [BlobObject; 3] = [
    BlobObject {
        sobject: "ContentVersion",
        field: "VersionData",
        fields_part: "entity_content",
        required: &["PathOnClient"],
        max_bytes: MAX_FILE_BYTES,
    },
    BlobObject {
        sobject: "Attachment",
        field: "Body",
        fields_part: "entity_attachment",
        required: &["Name", "ParentId"],
        max_bytes: 500 << 20,
    },
    BlobObject {
        sobject: "Document",
        field: "Body",
        fields_part: "entity_document",
        required: &["Name", "FolderId"],
        max_bytes: 500 << 20,
    },
];

fn blob_object(sobject: &str) -> Result<&'static BlobObject, Error> {
    BLOB_OBJECTS
        .iter()
        .find(|b| b.sobject.eq_ignore_ascii_case(sobject.trim()))
        .ok_or_else(|| {
            Error::request(
                "sobject",
                format!("`{sobject}` holds no uploadable file; use ContentVersion, Attachment or Document"),
            )
        })
}

/// The GET of a record's file field. `Accept: */*`: the answer is the
/// file's own type, not JSON.
pub fn download_request(
    s: &Session,
    sobject: &str,
    id: &str,
    field: &str,
) -> Result<HttpRequest, Error> {
    let path = format!(
        "{}/sobjects/{}/{}/{}",
        s.data_path(),
        api_name("sobject", sobject)?,
        record_id(id)?,
        api_name("field", field)?
    );
    let mut req = CallRequest::new(Method::Get, path);
    req.headers.push(("accept".into(), "*/*".into()));
    rest::build(s, &req)
}

/// A 2xx download's head: the bytes must be the file itself, so a body
/// the server compressed on its own is refused rather than saved as is.
pub fn check_download(head: &HttpResponse) -> Result<(), Error> {
    match head.header("content-encoding").map(str::trim) {
        None | Some("") => Ok(()),
        Some(e) if e.eq_ignore_ascii_case("identity") => Ok(()),
        Some(e) => Err(Error::unexpected(
            head.status,
            head.content_type(),
            format!("the file came with Content-Encoding `{e}`, which was not asked for"),
            b"",
        )),
    }
}

/// A file to upload and the record it belongs to.
#[derive(Clone, Debug)]
pub struct UploadTarget {
    /// `ContentVersion`, `Attachment` or `Document`.
    pub sobject: String,
    /// None: a new record; some: replace this record's file.
    pub id: Option<String>,
    /// The record's other fields, a JSON object.
    pub fields_json: String,
    /// The file's name in its part.
    pub file_name: String,
    /// The file's type; default `application/octet-stream`.
    pub content_type: Option<String>,
    /// The file's exact size in bytes.
    pub size: u64,
}

/// One `multipart/form-data` body around a file: the bytes before the
/// file, the file's size, and the bytes after it.
#[derive(Clone, Debug)]
pub struct Multipart {
    /// The fields part and the file part's headers.
    pub head: Vec<u8>,
    /// The file's size in bytes.
    pub size: u64,
    /// The closing boundary.
    pub tail: Vec<u8>,
}

impl Multipart {
    /// The whole body's length, sent as `Content-Length`.
    pub fn content_length(&self) -> u64 {
        self.head.len() as u64 + self.size + self.tail.len() as u64
    }
}

/// The upload's request head (no body: it streams) and its multipart frame.
/// `random` makes the boundary (128 bits: a file cannot hold it by chance).
pub fn upload_request(
    s: &Session,
    target: &UploadTarget,
    random: [u64; 2],
) -> Result<(HttpRequest, Multipart), Error> {
    let blob = blob_object(&target.sobject)?;
    check_size(blob, target.size)?;
    let fields = upload_fields(blob, target)?;
    let boundary = format!("sfc{:016x}{:016x}", random[0], random[1]);
    let frame = frame(blob, target, &fields, &boundary)?;
    let path = match &target.id {
        None => format!("{}/sobjects/{}", s.data_path(), blob.sobject),
        Some(id) => format!(
            "{}/sobjects/{}/{}",
            s.data_path(),
            blob.sobject,
            record_id(id)?
        ),
    };
    let method = if target.id.is_some() {
        Method::Patch
    } else {
        Method::Post
    };
    let mut req = rest::build(s, &CallRequest::new(method, path))?;
    req.headers.push((
        "content-type".into(),
        format!("multipart/form-data; boundary={boundary}"),
    ));
    req.headers
        .push(("content-length".into(), frame.content_length().to_string()));
    Ok((req, frame))
}

fn check_size(blob: &BlobObject, size: u64) -> Result<(), Error> {
    if size > blob.max_bytes {
        return Err(Error::request(
            "size",
            format!(
                "{size} bytes is more than the {} bytes Salesforce stores in one {} file",
                blob.max_bytes, blob.sobject
            ),
        ));
    }
    Ok(())
}

/// The fields part: a JSON object without the file field (the file goes in
/// its own part) and, for a new record, with every field an insert needs.
fn upload_fields(blob: &BlobObject, target: &UploadTarget) -> Result<String, Error> {
    let value: serde_json::Value = serde_json::from_str(&target.fields_json)
        .map_err(|e| Error::request("fields-json", format!("is not valid JSON ({e})")))?;
    let Some(fields) = value.as_object() else {
        return Err(Error::request(
            "fields-json",
            "must be a JSON object of field names to values",
        ));
    };
    let has = |name: &str| fields.keys().any(|k| k.eq_ignore_ascii_case(name));
    if has(blob.field) {
        return Err(Error::request(
            "fields-json",
            format!(
                "`{}` is the file itself: leave it out; the upload sends it",
                blob.field
            ),
        ));
    }
    if target.id.is_none() {
        if let Some(missing) = blob.required.iter().find(|f| !has(f)) {
            return Err(Error::request(
                "fields-json",
                format!("a new {} needs `{missing}`", blob.sobject),
            ));
        }
    }
    Ok(target.fields_json.clone())
}

/// A quoted-string value for a part header: no quote, backslash or
/// control character, which would end or bend the header.
fn header_value<'a>(field: &str, value: &'a str) -> Result<&'a str, Error> {
    if value.is_empty()
        || value
            .chars()
            .any(|c| c.is_control() || c == '"' || c == '\\')
    {
        return Err(Error::request(
            field,
            "must be non-empty, without quotes, backslashes or control characters",
        ));
    }
    Ok(value)
}

fn frame(
    blob: &BlobObject,
    target: &UploadTarget,
    fields: &str,
    boundary: &str,
) -> Result<Multipart, Error> {
    let file_name = header_value("file-name", &target.file_name)?;
    let content_type = header_value(
        "content-type",
        target
            .content_type
            .as_deref()
            .unwrap_or("application/octet-stream"),
    )?;
    let head = format!(
        "--{boundary}\r\n\
         Content-Disposition: form-data; name=\"{}\"\r\n\
         Content-Type: application/json\r\n\r\n\
         {fields}\r\n\
         --{boundary}\r\n\
         Content-Disposition: form-data; name=\"{}\"; filename=\"{file_name}\"\r\n\
         Content-Type: {content_type}\r\n\r\n",
        blob.fields_part, blob.field
    );
    Ok(Multipart {
        head: head.into_bytes(),
        size: target.size,
        tail: format!("\r\n--{boundary}--\r\n").into_bytes(),
    })
}

/// What an upload stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Uploaded {
    /// The record's id.
    pub id: String,
    /// Bytes of the file sent.
    pub bytes: u64,
    /// The API usage reported.
    pub limit_info: Option<LimitInfo>,
}

/// The answer to a finished upload: a create's `{"id": ...}` (201), or an
/// update's 204 for the record named.
pub fn uploaded(resp: CallResponse, target: &UploadTarget) -> Result<Uploaded, Error> {
    let id = match &target.id {
        Some(id) if resp.body.trim().is_empty() => id.trim().to_string(),
        _ => resp.json()?["id"]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| {
                Error::unexpected(
                    resp.status,
                    None,
                    "the upload answered without an `id`",
                    resp.body.as_bytes(),
                )
            })?,
    };
    Ok(Uploaded {
        id,
        bytes: target.size,
        limit_info: resp.limit_info,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(fields: &str) -> UploadTarget {
        UploadTarget {
            sobject: "ContentVersion".into(),
            id: None,
            fields_json: fields.into(),
            file_name: "q1.pdf".into(),
            content_type: Some("application/pdf".into()),
            size: 5,
        }
    }

    fn header<'a>(req: &'a HttpRequest, name: &str) -> &'a str {
        req.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or_else(|| panic!("no {name}"))
    }

    #[test]
    fn upload_is_the_documented_multipart_shape_with_its_exact_length() {
        let s = crate::session::fixture();
        let fields = r#"{"Title":"Q1","PathOnClient":"q1.pdf"}"#;
        let (req, frame) = upload_request(&s, &target(fields), [1, 2]).unwrap();
        assert_eq!(req.method, Method::Post);
        assert_eq!(
            req.url.path(),
            "/services/data/v62.0/sobjects/ContentVersion"
        );
        let boundary = "sfc00000000000000010000000000000002";
        assert_eq!(
            header(&req, "content-type"),
            format!("multipart/form-data; boundary={boundary}")
        );
        let mut body = frame.head.clone();
        body.extend_from_slice(b"%PDF-");
        body.extend_from_slice(&frame.tail);
        let expected = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"entity_content\"\r\n\
             Content-Type: application/json\r\n\r\n{fields}\r\n--{boundary}\r\n\
             Content-Disposition: form-data; name=\"VersionData\"; filename=\"q1.pdf\"\r\n\
             Content-Type: application/pdf\r\n\r\n%PDF-\r\n--{boundary}--\r\n"
        );
        assert_eq!(String::from_utf8(body.clone()).unwrap(), expected);
        assert_eq!(header(&req, "content-length"), body.len().to_string());
        assert!(req.body.is_none(), "the file streams; nothing is held");
    }

    #[test]
    fn update_patches_the_record_and_needs_no_insert_fields() {
        let s = crate::session::fixture();
        let mut t = target("{}");
        t.sobject = "document".into();
        t.id = Some("015xx0000001AbCAAU".into());
        let (req, frame) = upload_request(&s, &t, [0, 0]).unwrap();
        assert_eq!(req.method, Method::Patch);
        assert!(req
            .url
            .path()
            .ends_with("/sobjects/Document/015xx0000001AbCAAU"));
        let head = String::from_utf8(frame.head).unwrap();
        assert!(head.contains("name=\"entity_document\""));
        assert!(head.contains("name=\"Body\"; filename=\"q1.pdf\""));
    }

    #[test]
    fn bad_targets_are_refused_before_anything_is_sent() {
        let s = crate::session::fixture();
        type Case = (&'static str, fn(&mut UploadTarget), &'static str);
        let cases: [Case; 8] = [
            ("sobject", |t| t.sobject = "Account".into(), "Account"),
            (
                "fields-json",
                |t| t.fields_json = "{}".into(),
                "PathOnClient",
            ),
            (
                "fields-json",
                |t| t.fields_json = "[1]".into(),
                "JSON object",
            ),
            (
                "fields-json",
                |t| t.fields_json = "{".into(),
                "not valid JSON",
            ),
            (
                "fields-json",
                |t| t.fields_json = r#"{"PathOnClient":"a","VersionData":"QQ=="}"#.into(),
                "leave it out",
            ),
            ("file-name", |t| t.file_name = "a\"b.pdf".into(), "quotes"),
            (
                "content-type",
                |t| t.content_type = Some("a\r\nX: y".into()),
                "control",
            ),
            ("size", |t| t.size = MAX_FILE_BYTES + 1, "2147483648 bytes"),
        ];
        for (field, change, says) in cases {
            let mut t = target(r#"{"PathOnClient":"q1.pdf"}"#);
            change(&mut t);
            match upload_request(&s, &t, [0, 0]) {
                Err(Error::InvalidRequest { field: f, message }) => {
                    assert_eq!(f, field);
                    assert!(message.contains(says), "{field}: {message}");
                }
                other => panic!("{field}: {:?}", other.map(|_| ())),
            }
        }
        let mut t = target(r#"{"Name":"a","ParentId":"001xx000003DGb1AAG"}"#);
        t.sobject = "Attachment".into();
        t.size = (500 << 20) + 1;
        assert!(
            upload_request(&s, &t, [0, 0]).is_err(),
            "500 MB for Attachment"
        );
    }

    #[test]
    fn download_asks_for_the_file_field_as_is() {
        let s = crate::session::fixture();
        let req =
            download_request(&s, "ContentVersion", "068xx000000BvXmAAK", "VersionData").unwrap();
        assert_eq!(
            req.url.path(),
            "/services/data/v62.0/sobjects/ContentVersion/068xx000000BvXmAAK/VersionData"
        );
        assert_eq!(header(&req, "accept"), "*/*");
        assert!(download_request(&s, "ContentVersion", "../x", "VersionData").is_err());
        assert!(download_request(&s, "ContentVersion", "068xx000000BvXmAAK", "a/b").is_err());
    }

    #[test]
    fn a_compressed_file_is_refused() {
        let head = |enc: &str| HttpResponse {
            status: 200,
            headers: vec![("content-encoding".into(), enc.into())],
            body: Vec::new(),
        };
        assert!(check_download(&head("identity")).is_ok());
        assert!(check_download(&head("gzip")).is_err());
    }

    #[test]
    fn the_answer_names_the_record() {
        let created = CallResponse {
            status: 201,
            headers: Vec::new(),
            body: r#"{"id":"068xx000000BvXmAAK","success":true,"errors":[]}"#.into(),
            limit_info: None,
        };
        let t = target("{}");
        assert_eq!(uploaded(created, &t).unwrap().id, "068xx000000BvXmAAK");
        let mut t = t;
        t.id = Some("015xx0000001AbCAAU".into());
        let updated = CallResponse {
            status: 204,
            headers: Vec::new(),
            body: String::new(),
            limit_info: None,
        };
        assert_eq!(uploaded(updated, &t).unwrap().id, "015xx0000001AbCAAU");
    }
}
