//! Sessions sealed at rest: what workers write to the shared KV store is
//! encrypted and authenticated with a key only the workers hold, so the
//! store (and anyone who can read NATS) sees no token.
//!
//! ChaCha20-Poly1305 (ring) with a random 96-bit nonce per write. The
//! entry's key is the associated data: a sealed session copied under
//! another org's key does not open.

use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, CHACHA20_POLY1305, NONCE_LEN};
use ring::rand::{SecureRandom, SystemRandom};
use salesforce_host::HostError;

/// The environment variable that holds the key.
pub const KEY_VAR: &str = "SF_SESSION_KEY";
/// The first byte of a sealed value: the format, so a later one can differ.
const FORMAT: u8 = 1;

pub struct Seal {
    key: LessSafeKey,
    rng: SystemRandom,
}

/// Never prints the key.
impl std::fmt::Debug for Seal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Seal(..)")
    }
}

impl Seal {
    /// The key from `SF_SESSION_KEY`: 32 bytes as 64 hex digits.
    pub fn from_env() -> Result<Self, HostError> {
        let hex = std::env::var(KEY_VAR).map_err(|_| {
            HostError::Usage(format!(
                "{KEY_VAR} is not set: workers seal the sessions they share with it; give \
                 every worker the same 32 random bytes as 64 hex digits (`openssl rand -hex 32`)"
            ))
        })?;
        Self::from_hex(hex.trim())
    }

    pub fn from_hex(hex: &str) -> Result<Self, HostError> {
        let bytes = decode_hex(hex).filter(|b| b.len() == 32).ok_or_else(|| {
            HostError::Usage(format!(
                "{KEY_VAR} must be 64 hex digits (32 bytes), e.g. from `openssl rand -hex 32`"
            ))
        })?;
        let key = UnboundKey::new(&CHACHA20_POLY1305, &bytes)
            .map_err(|_| HostError::Usage(format!("{KEY_VAR} is not a usable key")))?;
        Ok(Self {
            key: LessSafeKey::new(key),
            rng: SystemRandom::new(),
        })
    }

    /// `plain` sealed for the entry `name`.
    pub fn seal(&self, name: &str, plain: &[u8]) -> Result<Vec<u8>, HostError> {
        let mut nonce = [0u8; NONCE_LEN];
        self.rng
            .fill(&mut nonce)
            .map_err(|_| HostError::Io("no randomness for sealing a session".into()))?;
        let mut body = plain.to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(name.as_bytes()),
                &mut body,
            )
            .map_err(|_| HostError::Io("sealing a session failed".into()))?;
        let mut out = Vec::with_capacity(1 + NONCE_LEN + body.len());
        out.push(FORMAT);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&body);
        Ok(out)
    }

    /// The plain text of a value sealed for `name`, or `None` when it was
    /// sealed with another key, for another entry, or was altered.
    pub fn open(&self, name: &str, sealed: &[u8]) -> Option<Vec<u8>> {
        let (&format, rest) = sealed.split_first()?;
        if format != FORMAT || rest.len() < NONCE_LEN {
            return None;
        }
        let (nonce, body) = rest.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
        let mut body = body.to_vec();
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(name.as_bytes()), &mut body)
            .ok()?;
        Some(plain.to_vec())
    }
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

    #[test]
    fn a_sealed_value_opens_only_with_its_key_and_name() {
        let seal = Seal::from_hex(KEY).unwrap();
        let sealed = seal.seal("org.acme", b"access-token-123").unwrap();
        assert!(!sealed.windows(16).any(|w| w == b"access-token-123"));
        assert_eq!(seal.open("org.acme", &sealed).unwrap(), b"access-token-123");
        assert_eq!(seal.open("org.other", &sealed), None, "bound to its entry");
        let other = Seal::from_hex(&KEY.replace("00", "ff")).unwrap();
        assert_eq!(other.open("org.acme", &sealed), None, "another key");
        let mut altered = sealed.clone();
        *altered.last_mut().unwrap() ^= 1;
        assert_eq!(seal.open("org.acme", &altered), None, "altered");
        assert_ne!(
            seal.seal("org.acme", b"x").unwrap(),
            seal.seal("org.acme", b"x").unwrap()
        );
    }

    #[test]
    fn a_malformed_key_says_what_is_expected() {
        for bad in ["", "abc", &KEY[..62], &KEY.replace('0', "g")] {
            let e = Seal::from_hex(bad).unwrap_err().to_string();
            assert!(e.contains("64 hex digits"), "{e}");
        }
    }
}
