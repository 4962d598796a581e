//! `multipart/form-data` request bodies (RFC 7578 on RFC 2046 §5.1), read
//! strictly: the boundary from the Content-Type header, CRLF line breaks,
//! a `Content-Disposition: form-data; name="…"` on every part, and a
//! closing delimiter. A part's body is exactly the bytes between the blank
//! line after its headers and the CRLF before the next delimiter, so any
//! bytes (CR, LF, NUL, `--`, the boundary's own prefix) come through.
//!
//! Salesforce takes such bodies for blob uploads [S-BLOB-UP] and for Bulk
//! API 2.0 job creation with data [S-GUIDE66]. A preamble before the first
//! delimiter and an epilogue after the last are ignored, as RFC 2046 says.

use axum::body::Bytes;
use axum::http::{header, HeaderMap};

/// One part: its form field name, file name, Content-Type and bytes.
pub(crate) struct Part {
    pub name: String,
    pub filename: Option<String>,
    pub content_type: Option<String>,
    pub body: Bytes,
}

impl Part {
    /// Whether the part's media type is `essence`, parameters aside.
    pub(crate) fn is(&self, essence: &str) -> bool {
        self.content_type
            .as_deref()
            .and_then(|ct| ct.split(';').next())
            .is_some_and(|t| t.trim().eq_ignore_ascii_case(essence))
    }
}

/// RFC 2046: 1 to 70 characters.
const MAX_BOUNDARY: usize = 70;
/// How far to look for the end of a part's headers.
const MAX_PART_HEAD: usize = 16 * 1024;

/// Whether the request's Content-Type is `multipart/form-data`.
pub(crate) fn is_multipart(headers: &HeaderMap) -> bool {
    media_type(headers).is_some_and(|(t, _)| t.eq_ignore_ascii_case("multipart/form-data"))
}

fn media_type(headers: &HeaderMap) -> Option<(&str, &str)> {
    let ct = headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
    let (t, params) = ct.split_once(';').unwrap_or((ct, ""));
    Some((t.trim(), params))
}

/// The parts of a `multipart/form-data` body, or what is wrong with it.
pub(crate) fn parse(headers: &HeaderMap, body: &Bytes) -> Result<Vec<Part>, String> {
    let boundary = boundary(headers)?;
    let delimiter = format!("\r\n--{boundary}").into_bytes();
    let mut pos = first_delimiter(body, &delimiter)?;
    let mut parts = Vec::new();
    loop {
        let rest = &body[pos..];
        if rest.starts_with(b"--") {
            return Ok(parts);
        }
        // Transport padding (spaces, tabs) may follow a delimiter (RFC 2046).
        let pad = rest
            .iter()
            .take_while(|b| **b == b' ' || **b == b'\t')
            .count();
        if !rest[pad..].starts_with(b"\r\n") {
            return Err(format!("The boundary line --{boundary} must end with CRLF"));
        }
        let (part, next) = read_part(body, pos + pad + 2, &delimiter)?;
        parts.push(part);
        pos = next;
    }
}

/// `boundary=` of the Content-Type, quoted or not.
fn boundary(headers: &HeaderMap) -> Result<String, String> {
    let (_, params) = media_type(headers).ok_or("The Content-Type header is missing")?;
    let value = params
        .split(';')
        .filter_map(|p| p.split_once('='))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("boundary"))
        .map(|(_, v)| v.trim())
        .ok_or("The multipart Content-Type has no boundary parameter")?;
    let value = match value.strip_prefix('"') {
        Some(q) => q
            .strip_suffix('"')
            .ok_or("The boundary's quotes are not closed")?,
        None => value,
    };
    if value.is_empty() || value.len() > MAX_BOUNDARY || value.ends_with(' ') {
        return Err(format!(
            "The boundary must be 1 to {MAX_BOUNDARY} characters and not end in a space"
        ));
    }
    Ok(value.to_string())
}

/// Where the text after the first delimiter starts.
fn first_delimiter(body: &[u8], delimiter: &[u8]) -> Result<usize, String> {
    let bare = &delimiter[2..];
    if body.starts_with(bare) {
        return Ok(bare.len());
    }
    find(body, delimiter)
        .map(|at| at + delimiter.len())
        .ok_or_else(|| "The body does not contain the boundary".to_string())
}

/// The part whose header lines start at `start`, and where the text after
/// its closing delimiter starts.
fn read_part(body: &Bytes, start: usize, delimiter: &[u8]) -> Result<(Part, usize), String> {
    let window = &body[start..body.len().min(start + MAX_PART_HEAD)];
    let head_len = if window.starts_with(b"\r\n") {
        0
    } else {
        find(window, b"\r\n\r\n")
            .ok_or("A part's headers must end with an empty line (CRLF CRLF)")?
            + 2
    };
    let head =
        std::str::from_utf8(&window[..head_len]).map_err(|_| "A part's headers are not UTF-8")?;
    let content_start = start + head_len + 2;
    let len = find(&body[content_start..], delimiter)
        .ok_or("The body ends before the closing boundary")?;
    let mut part = part_head(head)?;
    part.body = body.slice(content_start..content_start + len);
    Ok((part, content_start + len + delimiter.len()))
}

/// A part's name, file name and Content-Type from its header lines.
fn part_head(head: &str) -> Result<Part, String> {
    let mut disposition = None;
    let mut content_type = None;
    for line in head.split("\r\n").filter(|l| !l.is_empty()) {
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| format!("Malformed part header line: {line}"))?;
        match name.trim().to_ascii_lowercase().as_str() {
            "content-disposition" => disposition = Some(value.trim().to_string()),
            "content-type" => content_type = Some(value.trim().to_string()),
            _ => {}
        }
    }
    let disposition = disposition.ok_or("Every part needs a Content-Disposition header")?;
    let (kind, params) = disposition.split_once(';').unwrap_or((&disposition, ""));
    if !kind.trim().eq_ignore_ascii_case("form-data") {
        return Err(format!(
            "A part's Content-Disposition must be form-data, not {kind}"
        ));
    }
    let params = disposition_params(params)?;
    let param = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    Ok(Part {
        name: param("name").ok_or("A part's Content-Disposition has no name")?,
        filename: param("filename"),
        content_type,
        body: Bytes::new(),
    })
}

/// `name="a"; filename="b.pdf"` → `[("name","a"),("filename","b.pdf")]`;
/// names lower-cased, quoted values unescaped (`\"`), an empty trailing `;`
/// allowed (the docs' example has one [S-BLOB-UP]).
fn disposition_params(s: &str) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    let mut rest = s.trim_start();
    while !rest.is_empty() {
        let (key, after) = rest
            .split_once('=')
            .ok_or_else(|| format!("Malformed Content-Disposition parameter: {rest}"))?;
        let (value, after) = match after.strip_prefix('"') {
            Some(quoted) => quoted_string(quoted)?,
            None => after
                .split_once(';')
                .map_or((after.trim().to_string(), ""), |(v, a)| {
                    (v.trim().to_string(), a)
                }),
        };
        out.push((key.trim().to_ascii_lowercase(), value));
        rest = after.trim_start().trim_start_matches(';').trim_start();
    }
    Ok(out)
}

/// The value of a quoted string whose opening quote is consumed, and what follows it.
fn quoted_string(s: &str) -> Result<(String, &str), String> {
    let mut value = String::new();
    let mut chars = s.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Ok((value, &s[i + 1..])),
            '\\' => value.extend(chars.next().map(|(_, c)| c)),
            c => value.push(c),
        }
    }
    Err("A quoted Content-Disposition value is not closed".to_string())
}

/// The first index of `needle` in `hay`.
fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    let first = *needle.first()?;
    let mut from = 0;
    while from + needle.len() <= hay.len() {
        let at = from
            + hay[from..=hay.len() - needle.len()]
                .iter()
                .position(|b| *b == first)?;
        if hay[at..].starts_with(needle) {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(ct: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::CONTENT_TYPE, HeaderValue::from_str(ct).unwrap());
        h
    }

    fn body(parts: &[(&str, &[u8])]) -> Bytes {
        let mut b = Vec::new();
        for (head, content) in parts {
            b.extend_from_slice(b"--XyZ\r\n");
            b.extend_from_slice(head.as_bytes());
            b.extend_from_slice(b"\r\n\r\n");
            b.extend_from_slice(content);
            b.extend_from_slice(b"\r\n");
        }
        b.extend_from_slice(b"--XyZ--\r\n");
        Bytes::from(b)
    }

    #[test]
    fn parts_keep_every_byte_between_their_head_and_the_next_delimiter() {
        let tricky: &[u8] = b"\r\n-XyZ a--XyZ--\r\n--Xy\0\r\r\n\n--\r\n";
        let b = body(&[
            ("Content-Disposition: form-data; name=\"entity_content\";\r\nContent-Type: application/json", b"{}"),
            ("Content-Type: application/pdf\r\nContent-Disposition: form-data; name=\"VersionData\"; filename=\"a \\\"b\\\".pdf\"", tricky),
        ]);
        let parts = parse(&headers("multipart/form-data; boundary=\"XyZ\""), &b).unwrap();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].name, "entity_content");
        assert!(parts[0].is("application/json"));
        assert_eq!(&parts[0].body[..], b"{}");
        assert_eq!(parts[1].filename.as_deref(), Some("a \"b\".pdf"));
        assert_eq!(&parts[1].body[..], tricky);
    }

    #[test]
    fn a_part_may_be_empty_and_a_preamble_is_ignored() {
        let mut raw = b"preamble\r\n".to_vec();
        raw.extend_from_slice(&body(&[("Content-Disposition: form-data; name=a", b"")]));
        let parts = parse(
            &headers("multipart/form-data; boundary=XyZ"),
            &Bytes::from(raw),
        )
        .unwrap();
        assert_eq!((parts[0].name.as_str(), parts[0].body.len()), ("a", 0));
    }

    #[test]
    fn malformed_bodies_say_what_is_wrong() {
        let h = headers("multipart/form-data; boundary=XyZ");
        let cases: [(&[u8], &str); 5] = [
            (
                b"--XyZ\r\nContent-Disposition: form-data; name=a\r\n\r\nabc",
                "closing boundary",
            ),
            (
                b"--XyZ\nContent-Disposition: form-data; name=a\n\nabc\n--XyZ--",
                "CRLF",
            ),
            (
                b"--XyZ\r\nContent-Type: text/plain\r\n\r\nabc\r\n--XyZ--",
                "Content-Disposition",
            ),
            (
                b"--XyZ\r\nContent-Disposition: attachment; name=a\r\n\r\nabc\r\n--XyZ--",
                "form-data",
            ),
            (b"no boundary here", "does not contain"),
        ];
        for (raw, want) in cases {
            let err = parse(&h, &Bytes::from_static(raw)).err().unwrap();
            assert!(err.contains(want), "{err}");
        }
        let err = parse(&headers("multipart/form-data"), &body(&[]))
            .err()
            .unwrap();
        assert!(err.contains("no boundary"), "{err}");
    }
}
