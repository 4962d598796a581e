//! A file's type from its name: ContentVersion's `FileExtension` and
//! `FileType`, and the MIME type a download is served with.
//!
//! Unverified: the FileType names are those the ContentVersion object
//! reference lists (PDF, WORD_X, EXCEL_X, POWER_POINT_X, UNKNOWN …); which
//! Content-Type header Salesforce sends is not documented [S-BLOB-GET], so
//! the mock sends the usual MIME type and `application/octet-stream` for
//! anything else. JSON files are left out on purpose: a client must never
//! take a download for an API answer.

/// Extension (lower case), FileType, MIME type.
const TYPES: [(&str, &str, &str); 20] = [
    ("pdf", "PDF", "application/pdf"),
    ("png", "PNG", "image/png"),
    ("jpg", "JPG", "image/jpeg"),
    ("jpeg", "JPG", "image/jpeg"),
    ("gif", "GIF", "image/gif"),
    ("bmp", "BMP", "image/bmp"),
    ("txt", "TEXT", "text/plain"),
    ("csv", "CSV", "text/csv"),
    ("html", "HTML", "text/html"),
    ("htm", "HTML", "text/html"),
    ("xml", "XML", "application/xml"),
    ("rtf", "RTF", "application/rtf"),
    ("zip", "ZIP", "application/zip"),
    ("mp4", "MP4", "video/mp4"),
    ("doc", "WORD", "application/msword"),
    (
        "docx",
        "WORD_X",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ),
    ("xls", "EXCEL", "application/vnd.ms-excel"),
    (
        "xlsx",
        "EXCEL_X",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ),
    ("ppt", "POWER_POINT", "application/vnd.ms-powerpoint"),
    (
        "pptx",
        "POWER_POINT_X",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ),
];

pub(crate) const OCTET_STREAM: &str = "application/octet-stream";

/// The last path segment of `path`, whichever separator the client's OS uses.
pub(crate) fn file_name(path: &str) -> &str {
    path.rsplit(['/', '\\']).next().unwrap_or(path)
}

/// `q1.PDF` → `pdf`; none for `README` or `.profile`.
pub(crate) fn extension(path: &str) -> Option<String> {
    let name = file_name(path);
    match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() && !ext.is_empty() => Some(ext.to_lowercase()),
        _ => None,
    }
}

/// ContentVersion's `FileType` for this extension.
pub(crate) fn file_type(ext: Option<&str>) -> &'static str {
    lookup(ext).map_or("UNKNOWN", |(_, t, _)| t)
}

/// The Content-Type a file with this extension is downloaded with.
pub(crate) fn mime(ext: Option<&str>) -> &'static str {
    lookup(ext).map_or(OCTET_STREAM, |(_, _, m)| m)
}

fn lookup(ext: Option<&str>) -> Option<(&str, &'static str, &'static str)> {
    let ext = ext?;
    TYPES.iter().copied().find(|(e, _, _)| *e == ext)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_come_from_the_last_extension_of_the_file_name() {
        assert_eq!(extension("C:\\docs\\Q1.Report.PDF").as_deref(), Some("pdf"));
        assert_eq!(extension("dir.d/README"), None);
        assert_eq!(extension(".profile"), None);
        assert_eq!(file_type(Some("docx")), "WORD_X");
        assert_eq!(file_type(Some("weird")), "UNKNOWN");
        assert_eq!(mime(Some("json")), OCTET_STREAM);
    }
}
