//! `Content-Encoding: gzip` answers, decoded before anything reads them:
//! Salesforce compresses Bulk API result CSVs (the v66 Bulk API 2.0 guide
//! says query results are "always compressed"), and may compress any answer
//! to a request that accepts it. The decoded size is held to the same limit
//! as any body, so a small compressed body cannot fill memory.

#[allow(unused_imports)]
use crate::prelude::*;

use crate::error::Error;
use crate::http::HttpResponse;

const FHCRC: u8 = 0x02;
const FEXTRA: u8 = 0x04;
const FNAME: u8 = 0x08;
const FCOMMENT: u8 = 0x10;

/// The response with its body decoded when it says `gzip`; unchanged
/// otherwise.
pub fn decode(mut resp: HttpResponse, limit: u64) -> Result<HttpResponse, Error> {
    let gzip = resp
        .header("content-encoding")
        .is_some_and(|e| e.trim().eq_ignore_ascii_case("gzip"));
    if !gzip || resp.body.is_empty() {
        return Ok(resp);
    }
    let bad = |why: &str, body: &[u8]| {
        Error::unexpected(
            resp.status,
            resp.content_type(),
            format!("a gzip body {why}"),
            body,
        )
    };
    let deflate = deflate_stream(&resp.body).ok_or_else(|| bad("with a broken header", &[]))?;
    let limit_usize = usize::try_from(limit).unwrap_or(usize::MAX);
    let body =
        miniz_oxide::inflate::decompress_to_vec_with_limit(deflate, limit_usize).map_err(|e| {
            match e.status {
                miniz_oxide::inflate::TINFLStatus::HasMoreOutput => Error::TooLarge(limit),
                _ => bad("that does not inflate", &[]),
            }
        })?;
    resp.headers
        .retain(|(k, _)| k != "content-encoding" && k != "content-length");
    resp.body = body;
    Ok(resp)
}

/// The deflate data between a gzip member's header (RFC 1952 §2.3) and its
/// 8-byte trailer.
fn deflate_stream(data: &[u8]) -> Option<&[u8]> {
    if data.len() < 18 || data[..3] != [0x1f, 0x8b, 8] {
        return None;
    }
    let flags = data[3];
    let mut at = 10;
    if flags & FEXTRA != 0 {
        let len = usize::from(u16::from_le_bytes([*data.get(at)?, *data.get(at + 1)?]));
        at += 2 + len;
    }
    for flag in [FNAME, FCOMMENT] {
        if flags & flag != 0 {
            at += data.get(at..)?.iter().position(|&b| b == 0)? + 1;
        }
    }
    if flags & FHCRC != 0 {
        at += 2;
    }
    data.get(at..data.len().checked_sub(8)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A gzip member of `text`, with a file name in its header.
    fn gzipped(text: &[u8]) -> Vec<u8> {
        let mut out = vec![0x1f, 0x8b, 8, FNAME, 0, 0, 0, 0, 0, 3];
        out.extend_from_slice(b"r.csv\0");
        out.extend(miniz_oxide::deflate::compress_to_vec(text, 6));
        out.extend_from_slice(&[0; 4]);
        out.extend_from_slice(&(text.len() as u32).to_le_bytes());
        out
    }

    fn response(body: Vec<u8>) -> HttpResponse {
        HttpResponse {
            status: 200,
            headers: vec![
                ("content-encoding".into(), "gzip".into()),
                ("content-type".into(), "text/csv".into()),
            ],
            body,
        }
    }

    #[test]
    fn decodes_a_gzip_body_and_drops_the_encoding() {
        let r = decode(response(gzipped(b"\"Id\"\n\"001\"\n")), 1024).unwrap();
        assert_eq!(r.body, b"\"Id\"\n\"001\"\n");
        assert_eq!(r.header("content-encoding"), None);
    }

    #[test]
    fn a_bomb_stops_at_the_limit_and_garbage_is_unexpected() {
        let bomb = gzipped(&vec![b'a'; 1 << 20]);
        assert!(bomb.len() < 4096);
        assert_eq!(
            decode(response(bomb), 64 * 1024).unwrap_err(),
            Error::TooLarge(64 * 1024)
        );
        assert!(matches!(
            decode(response(b"not gzip at all, really".to_vec()), 1024),
            Err(Error::Unexpected { .. })
        ));
        let plain = HttpResponse {
            status: 200,
            headers: vec![],
            body: b"x".to_vec(),
        };
        assert_eq!(decode(plain, 1).unwrap().body, b"x");
    }
}
