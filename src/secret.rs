//! Values that must never be printed: passwords, tokens, keys.

#[allow(unused_imports)]
use crate::prelude::*;

use core::fmt;

/// A string that redacts itself in `Debug` and has no `Display`.
///
/// Read it with [`Secret::expose`] only where it goes on the wire.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps `value`.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The value, for the one place it goes on the wire.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The value, unwrapped (for handing it back to the host).
    pub fn into_inner(self) -> String {
        self.0
    }

    /// True when the value is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self(value)
    }
}

/// Removes known secrets (and their encoded forms) from text that came back
/// from a server before it goes into an error message. A hostile or buggy
/// server can echo a request; that echo must not leak through our errors.
#[derive(Default)]
pub struct Redactor {
    /// The secrets as registered.
    secrets: Vec<Secret>,
    /// Their forms as text may carry them, worked out at the first scrub:
    /// most calls succeed and never scrub anything.
    needles: core::cell::OnceCell<Vec<String>>,
}

impl Redactor {
    /// A redactor that knows no secrets yet; it still masks tokens the
    /// server issued (see [`Redactor::scrub`]).
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers a secret. Values shorter than 4 characters are ignored: they
    /// would redact ordinary words and carry no real entropy anyway.
    pub fn add(&mut self, secret: &Secret) {
        if secret.expose().chars().count() < 4 || self.secrets.contains(secret) {
            return;
        }
        self.secrets.push(secret.clone());
        self.needles = core::cell::OnceCell::new();
    }

    /// Every registered secret in every encoding it may travel in, longest
    /// first, so a secret that contains another is removed whole.
    fn needles(&self) -> &[String] {
        self.needles.get_or_init(|| {
            let mut needles: Vec<String> = Vec::new();
            for needle in self.secrets.iter().flat_map(encodings) {
                if !needle.is_empty() && !needles.contains(&needle) {
                    needles.push(needle);
                }
            }
            needles.sort_by_key(|n| core::cmp::Reverse(n.len()));
            needles
        })
    }

    /// This redactor, also knowing the session's access and refresh tokens.
    pub fn with_session(mut self, session: &crate::session::Session) -> Self {
        self.add(&session.access_token);
        if let Some(t) = &session.refresh_token {
            self.add(t);
        }
        self
    }

    /// Masks the registered secrets, and also every token the server itself
    /// may have put in the text: session ids (`00D…!…`) and the values of
    /// `access_token`, `refresh_token` and `id_token` fields, even cut short.
    pub fn scrub(&self, text: &str) -> String {
        let mut out = mask_issued_tokens(text);
        for needle in self.needles() {
            if out.contains(needle.as_str()) {
                out = out.replace(needle.as_str(), "***");
            }
        }
        out
    }
}

/// `secret` raw, form- and percent-encoded, in base64 and base64url, and as
/// a JSON string carries it (`"`, `\`, controls escaped), also with `/`
/// escaped, as some servers write it.
fn encodings(secret: &Secret) -> [String; 7] {
    use base64::Engine as _;
    let raw = secret.expose();
    let json = serde_json::to_string(raw).unwrap_or_default();
    let json = json
        .get(1..json.len().saturating_sub(1))
        .unwrap_or_default()
        .to_string();
    let json_slash = json.replace('/', "\\/");
    [
        raw.to_string(),
        url::form_urlencoded::byte_serialize(raw.as_bytes()).collect(),
        percent_encoding::utf8_percent_encode(raw, percent_encoding::NON_ALPHANUMERIC).to_string(),
        base64::engine::general_purpose::STANDARD.encode(raw),
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw),
        json,
        json_slash,
    ]
}

/// JSON fields whose values are credentials.
const TOKEN_FIELDS: [&[u8]; 3] = [b"\"access_token\"", b"\"refresh_token\"", b"\"id_token\""];

pub(crate) fn mask_issued_tokens(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let (mut i, mut copied) = (0, 0);
    while i < b.len() {
        // Matches start on ASCII bytes, so every slice below is on a char boundary.
        let masked = session_id_at(b, i)
            .map(|end| (i, end))
            .or_else(|| token_field_value_at(b, i));
        match masked {
            Some((start, end)) => {
                out.push_str(&text[copied..start]);
                out.push_str("***");
                (i, copied) = (end, end);
            }
            None => i += 1,
        }
    }
    out.push_str(&text[copied..]);
    out
}

/// A session id: the 15- or 18-character org id (`00D…`), `!`, the token.
/// Returns where it ends.
fn session_id_at(b: &[u8], i: usize) -> Option<usize> {
    if !b[i..].starts_with(b"00D") || (i > 0 && b[i - 1].is_ascii_alphanumeric()) {
        return None;
    }
    let org_end = i + b[i..]
        .iter()
        .take_while(|c| c.is_ascii_alphanumeric())
        .count();
    if !(15..=18).contains(&(org_end - i)) || b.get(org_end) != Some(&b'!') {
        return None;
    }
    let token = b[org_end + 1..]
        .iter()
        .take_while(|c| c.is_ascii_alphanumeric() || b"._-".contains(c))
        .count();
    (token > 0).then_some(org_end + 1 + token)
}

/// `"access_token" : "VALUE` → the span of VALUE (to its closing quote, or
/// to the end of a truncated body).
fn token_field_value_at(b: &[u8], i: usize) -> Option<(usize, usize)> {
    let field = TOKEN_FIELDS.iter().find(|f| b[i..].starts_with(f))?;
    let mut j = i + field.len();
    let skip_space = |j: &mut usize| {
        while b.get(*j).is_some_and(u8::is_ascii_whitespace) {
            *j += 1;
        }
    };
    skip_space(&mut j);
    if b.get(j) != Some(&b':') {
        return None;
    }
    j += 1;
    skip_space(&mut j);
    if b.get(j) != Some(&b'"') {
        return None;
    }
    let start = j + 1;
    let mut end = start;
    while end < b.len() && b[end] != b'"' {
        end += if b[end] == b'\\' { 2 } else { 1 };
    }
    Some((start, end.min(b.len())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_the_server_issued_are_masked_unregistered() {
        let r = Redactor::new();
        let body = r#"{"access_token":"00D000000000001!AQkjiAw0.XM","instance_url":"https://x","refresh_token" : "5Aep861\"abc","id_token":"eyJh"#;
        assert_eq!(
            r.scrub(body),
            r#"{"access_token":"***","instance_url":"https://x","refresh_token" : "***","id_token":"***"#
        );
        assert_eq!(
            r.scrub("Session 00D5e000000AbCdEAA!ARMAQ.x-y expired; org 00D000000000001EAA"),
            "Session *** expired; org 00D000000000001EAA"
        );
        for harmless in ["é 00D!x", "x00D000000000001!AQ", "\"access_token\": 12", ""] {
            assert_eq!(r.scrub(harmless), harmless);
        }
    }

    #[test]
    fn debug_is_redacted() {
        let s = Secret::new("hunter2-very-secret");
        assert_eq!(format!("{s:?}"), "Secret(***)");
    }

    #[test]
    fn scrub_removes_plain_and_encoded_forms() {
        let mut r = Redactor::new();
        r.add(&Secret::new("p@ss w#rd&é"));
        let form: String = url::form_urlencoded::byte_serialize("p@ss w#rd&é".as_bytes()).collect();
        let text = format!("echo: p@ss w#rd&é and {form}");
        let out = r.scrub(&text);
        assert!(!out.contains("w#rd"), "{out}");
        assert!(!out.contains(&form), "{out}");
    }
}
