//! The fields of the three objects with a blob field [S-BLOB-GET]:
//! ContentVersion (`VersionData`), Attachment (`Body`), Document (`Body`).
//! Which fields are required, read-only or create-only follows the SOAP
//! API Object Reference for each object; what it derives is in `derive`.

use crate::data::{create_only, f, ro, Field, Kind};

/// What an Attachment hangs off, or a new file is first shared with: the
/// records the mock serves (the real lists are longer).
const RECORDS: &[&str] = &["Account", "Contact", "Lead", "Opportunity"];
const RECORDS_OR_USER: &[&str] = &["Account", "Contact", "Lead", "Opportunity", "User"];

pub(crate) static CONTENT_VERSION_FIELDS: [Field; 16] = [
    ro("Id", Kind::Id),
    f("Title", Kind::Text),
    create_only("PathOnClient", Kind::Text),
    create_only("VersionData", Kind::Blob),
    // Given: this file is a new version of that document [S-BLOB-UP].
    create_only("ContentDocumentId", Kind::Reference("ContentDocument")),
    ro("FileExtension", Kind::Text),
    ro("FileType", Kind::Text),
    ro("ContentSize", Kind::Integer),
    ro("VersionNumber", Kind::Text),
    f("ReasonForChange", Kind::Text),
    f("Description", Kind::Text),
    create_only("FirstPublishLocationId", Kind::Polymorphic(RECORDS_OR_USER)),
    ro("IsLatest", Kind::Boolean),
    ro("CreatedDate", Kind::DateTime),
    ro("LastModifiedDate", Kind::DateTime),
    ro("IsDeleted", Kind::Boolean),
];
/// A file needs its name on the client, from which its type is derived,
/// and its bytes. Unverified: that VersionData (not ContentUrl, which the
/// mock does not serve) is required in these words.
pub(crate) const CONTENT_VERSION_REQUIRED: &[&str] = &["PathOnClient", "VersionData"];

pub(crate) static ATTACHMENT_FIELDS: [Field; 10] = [
    ro("Id", Kind::Id),
    f("Name", Kind::Text),
    create_only("ParentId", Kind::Polymorphic(RECORDS)),
    f("ContentType", Kind::Text),
    f("Body", Kind::Blob),
    ro("BodyLength", Kind::Integer),
    f("Description", Kind::Text),
    ro("CreatedDate", Kind::DateTime),
    ro("LastModifiedDate", Kind::DateTime),
    ro("IsDeleted", Kind::Boolean),
];
pub(crate) const ATTACHMENT_REQUIRED: &[&str] = &["Name", "ParentId", "Body"];

/// `Type` and `Keywords` because the docs' Document example sends them [S-BLOB-UP].
pub(crate) static DOCUMENT_FIELDS: [Field; 12] = [
    ro("Id", Kind::Id),
    f("Name", Kind::Text),
    f("FolderId", Kind::Polymorphic(&["Folder"])),
    f("ContentType", Kind::Text),
    f("Type", Kind::Text),
    f("Keywords", Kind::Text),
    f("Description", Kind::Text),
    f("Body", Kind::Blob),
    ro("BodyLength", Kind::Integer),
    ro("CreatedDate", Kind::DateTime),
    ro("LastModifiedDate", Kind::DateTime),
    ro("IsDeleted", Kind::Boolean),
];
/// "the FolderId, which is required for the Document object" [S-BLOB-UP].
/// Salesforce also takes a `Url` instead of a Body; the mock does not.
pub(crate) const DOCUMENT_REQUIRED: &[&str] = &["Name", "FolderId", "Body"];
