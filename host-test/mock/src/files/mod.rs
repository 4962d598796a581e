//! Files: the objects with a blob field, ContentVersion (`VersionData`),
//! Attachment (`Body`) and Document (`Body`), as the REST API guide's
//! "Insert or Update Blob Data" and "sObject Blob Get" describe them.
//! Sources are cited by the tags of `salesforce-bulk.md` (§9 and its
//! **Sources** list): [S-BLOB-GET], [S-BLOB-UP] …
//!
//! - `schema`: their fields;
//! - `blob`: the file in a request (base64 in JSON, or a multipart part)
//!   and Salesforce's size limits;
//! - `derive`: what the platform fills in (ContentSize, FileType,
//!   VersionNumber, BodyLength …) and ContentVersion's ContentDocument;
//! - `download`: `GET …/sobjects/{SObject}/{id}/{blobField}`, streamed;
//! - `upload`: multipart `POST …/sobjects/{SObject}` and `PATCH …/{id}`;
//! - `types`: FileType and MIME type from a file name.
//!
//! Where the documentation is silent the mock picks a strict answer and
//! says so in a comment starting "Unverified:".

mod blob;
mod derive;
mod download;
pub(crate) mod schema;
mod types;
mod upload;

pub(crate) use blob::{check_json_body, refuse_declared, take_blob};
pub(crate) use derive::{derive_on_insert, derive_sizes};
pub(crate) use download::{download, is_download};
pub(crate) use upload::read_multipart;
