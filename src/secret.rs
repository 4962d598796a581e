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
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }

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
    needles: Vec<String>,
}

impl Redactor {
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers a secret. Values shorter than 4 characters are ignored: they
    /// would redact ordinary words and carry no real entropy anyway.
    pub fn add(&mut self, secret: &Secret) {
        let raw = secret.expose();
        if raw.chars().count() < 4 {
            return;
        }
        use base64::Engine as _;
        let form: String = url::form_urlencoded::byte_serialize(raw.as_bytes()).collect();
        let b64 = base64::engine::general_purpose::STANDARD.encode(raw);
        let b64url = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw);
        for needle in [raw.to_string(), form, b64, b64url] {
            if !self.needles.contains(&needle) {
                self.needles.push(needle);
            }
        }
        // Longest first, so a secret that contains another is removed whole.
        self.needles.sort_by_key(|n| core::cmp::Reverse(n.len()));
    }

    pub fn scrub(&self, text: &str) -> String {
        let mut out = text.to_string();
        for needle in &self.needles {
            if out.contains(needle.as_str()) {
                out = out.replace(needle.as_str(), "***");
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
