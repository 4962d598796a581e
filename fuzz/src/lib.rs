//! Shared pieces of the fuzz targets: the input format, the distinctive
//! secrets, and the invariants every error must keep.
//!
//! Structured targets (`token_response`, `rest_error`) read a few bytes of
//! knobs with `arbitrary` (status code, grant, ...) and treat the rest as an
//! HTTP response in text form:
//!
//! ```text
//! content-type: application/json;charset=UTF-8
//! sforce-limit-info: api-usage=25/15000
//!
//! [{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}]
//! ```
//!
//! Header lines come before the first blank line; without a blank line the
//! whole text is the body. Anywhere in that text, `$` + form + index
//! (`$r0`, `$f1`, `$b0`, `$u2`) is replaced by secret number `index` of the
//! target, raw (`r`), form-urlencoded (`f`), base64 (`b`) or base64url
//! without padding (`u`): the forms a server may echo and `Redactor` removes.

use arbitrary::Arbitrary;
use base64::Engine as _;
use salesforce_connector::error::Error;

/// Secrets given to the parsers. Distinctive, free of whitespace, `*`, `"`
/// and `\` (so neither redaction's `***`, an excerpt's control-character
/// blanking nor `Debug` escaping can forge or hide one), not starting, in any
/// form, with a character that ends a `Debug` escape (`\0`, `\t`, `\n`, `\r`,
/// `\u{..}`: `"\0" + "0Dfz.."` prints as `\00Dfz..`), and each with
/// characters that form-urlencoding changes.
pub const CLIENT_SECRET: &str = "FuzzClientSecret!9f3Kq";
pub const PASSWORD: &str = "p#ss&w%rd+FUZZ\u{e9}7";
pub const SECURITY_TOKEN: &str = "SecTokFUZZ42xq";
pub const REFRESH_TOKEN: &str = "5Aep861FUZZrefresh.tok=Q!";
pub const ACCESS_TOKEN: &str = "AQfz00D0000000001!FUZZaccess.tok";
pub const AUTH_CODE: &str = "aPrxFUZZcode!Zk==";
pub const CODE_VERIFIER: &str = "FUZZverifier-9aB~xY";
/// Stands in for a PEM in the JWT grant's redactor; not a key.
pub const KEY_STANDIN: &str = "FUZZ-key-standin-MIIEvQIBADAN";

/// An access token of no Salesforce shape (an opaque token from a proxy or
/// another issuer), with characters every encoding changes: only scrubbing
/// by value can catch it.
pub const OPAQUE_TOKEN: &str = "opaque/Tok+en=\"FUZZ\"~7";

/// The encoded forms of a secret that `Redactor` promises to remove: plain,
/// form-encoded, base64, base64url, percent-encoded, JSON-escaped.
pub fn forms(secret: &str) -> [String; 6] {
    use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
    let json = serde_json::to_string(secret).unwrap_or_default();
    [
        secret.to_string(),
        url::form_urlencoded::byte_serialize(secret.as_bytes()).collect(),
        STANDARD.encode(secret),
        URL_SAFE_NO_PAD.encode(secret),
        percent_encoding::utf8_percent_encode(secret, percent_encoding::NON_ALPHANUMERIC)
            .to_string(),
        json[1..json.len() - 1].to_string(),
    ]
}

/// Panics when any form of any secret shows in the error's Display or Debug.
pub fn assert_no_leak(err: &Error, secrets: &[&str]) {
    let shown = format!("{err}\n{err:?}");
    for secret in secrets {
        for (i, form) in forms(secret).iter().enumerate() {
            assert!(
                !shown.contains(form.as_str()),
                "secret {secret:?} (form {i}: {form:?}) leaked into an error: {shown}"
            );
        }
    }
}

/// `Error::Unexpected` quotes at most 200 characters, on one line, trimmed.
pub fn check_excerpt(err: &Error) {
    if let Error::Unexpected { excerpt, .. } = err {
        assert!(
            excerpt.chars().count() <= 200,
            "excerpt too long: {excerpt:?}"
        );
        assert!(
            !excerpt.chars().any(char::is_control),
            "control character in excerpt: {excerpt:?}"
        );
        assert_eq!(excerpt.trim(), excerpt, "excerpt not trimmed");
    }
}

/// Replaces `$r0`-style placeholders with the forms of `secrets`.
pub fn expand(data: &[u8], secrets: &[&str]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len());
    let mut i = 0;
    while i < data.len() {
        if data[i] == b'$' && i + 2 < data.len() && !secrets.is_empty() {
            let form = match data[i + 1] {
                b'r' => Some(0),
                b'f' => Some(1),
                b'b' => Some(2),
                b'u' => Some(3),
                b'p' => Some(4),
                b'j' => Some(5),
                _ => None,
            };
            let index = data[i + 2].wrapping_sub(b'0');
            if let (Some(form), true) = (form, index < 10) {
                let secret = secrets[usize::from(index) % secrets.len()];
                out.extend_from_slice(forms(secret)[form].as_bytes());
                i += 3;
                continue;
            }
        }
        out.push(data[i]);
        i += 1;
    }
    out
}

/// Splits `name: value` header lines (before the first blank line) from the
/// body. Names are lower-cased and values trimmed, as the transport does.
pub fn split_response(data: &[u8]) -> (Vec<(String, String)>, Vec<u8>) {
    let blank = data
        .windows(2)
        .position(|w| w == b"\n\n")
        .map(|p| (p, p + 2))
        .or_else(|| {
            data.windows(4)
                .position(|w| w == b"\r\n\r\n")
                .map(|p| (p, p + 4))
        });
    let Some((end, body_start)) = blank else {
        return (Vec::new(), data.to_vec());
    };
    let headers = String::from_utf8_lossy(&data[..end])
        .lines()
        .filter_map(|line| {
            let (name, value) = line.split_once(':')?;
            Some((
                name.trim().to_ascii_lowercase(),
                value.trim_matches([' ', '\t', '\r']).to_string(),
            ))
        })
        .collect();
    (headers, data[body_start..].to_vec())
}

/// The grant whose secrets the token endpoint's answer is checked against.
#[derive(Arbitrary, Clone, Copy, Debug, PartialEq, Eq)]
pub enum GrantKind {
    Password,
    JwtBearer,
    ClientCredentials,
    RefreshToken,
    AuthorizationCode,
}

impl GrantKind {
    pub const ALL: [GrantKind; 5] = [
        GrantKind::Password,
        GrantKind::JwtBearer,
        GrantKind::ClientCredentials,
        GrantKind::RefreshToken,
        GrantKind::AuthorizationCode,
    ];
}

/// Knobs of the `token_response` target, read before the response text.
#[derive(Arbitrary, Clone, Debug, PartialEq, Eq)]
pub struct TokenHead {
    pub status: u16,
    pub grant: GrantKind,
    /// Whether the connected app's client secret is configured (it enables
    /// signature verification and is then one of the secrets to keep).
    pub client_secret: bool,
    /// Replace the body's `signature` with the correct HMAC of `id` +
    /// `issued_at`, so the verified path is reachable after mutations.
    pub resign: bool,
}

/// Knobs of the `rest_error` target, read before the response text.
#[derive(Arbitrary, Clone, Debug, PartialEq, Eq)]
pub struct RestHead {
    pub status: u16,
}

/// The bytes from which `arbitrary` decodes a given value; used to write
/// seeds (and checked by decoding them again in `examples/gen_corpus.rs`).
pub mod encode {
    pub fn u16(v: u16) -> Vec<u8> {
        v.to_le_bytes().to_vec()
    }

    pub fn bool(v: bool) -> Vec<u8> {
        vec![u8::from(v)]
    }

    /// Variant `index` of an enum with `count` fieldless variants.
    pub fn variant(index: u32, count: u32) -> Vec<u8> {
        let v = (u64::from(index) << 32).div_ceil(u64::from(count));
        (v as u32).to_le_bytes().to_vec()
    }

    pub fn token_head(h: &super::TokenHead) -> Vec<u8> {
        let grant = super::GrantKind::ALL
            .iter()
            .position(|g| *g == h.grant)
            .expect("listed") as u32;
        [
            u16(h.status),
            variant(grant, super::GrantKind::ALL.len() as u32),
            bool(h.client_secret),
            bool(h.resign),
        ]
        .concat()
    }

    pub fn rest_head(h: &super::RestHead) -> Vec<u8> {
        u16(h.status)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_expand() {
        let out = expand(b"a $r0 $f1 $x0 $", &[CLIENT_SECRET, PASSWORD]);
        let out = String::from_utf8(out).unwrap();
        assert!(out.contains(CLIENT_SECRET));
        assert!(out.contains("p%23ss%26w%25rd%2BFUZZ%C3%A97"));
        assert!(out.ends_with(" $x0 $"));
    }

    #[test]
    fn secrets_cannot_be_forged_by_escapes() {
        for secret in [
            CLIENT_SECRET,
            PASSWORD,
            SECURITY_TOKEN,
            REFRESH_TOKEN,
            ACCESS_TOKEN,
            AUTH_CODE,
            CODE_VERIFIER,
            KEY_STANDIN,
        ] {
            for form in forms(secret) {
                assert!(
                    !form.starts_with(['0', 't', 'n', 'r', '}', '\'', '"', '\\']),
                    "{form}"
                );
                assert!(!form.contains(['*', ' ', '"', '\\']), "{form}");
            }
        }
    }

    #[test]
    fn responses_split() {
        let (h, b) = split_response(b"Content-Type: text/html \nx\n\n<p>");
        assert_eq!(h, vec![("content-type".into(), "text/html".into())]);
        assert_eq!(b, b"<p>");
        assert_eq!(split_response(b"{}").1, b"{}");
    }
}
