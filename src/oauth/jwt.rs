//! The JWT bearer assertion: RS256 over `{"alg":"RS256"}.{iss,sub,aud,exp}`,
//! signed here so the private key never leaves the component.

#[allow(unused_imports)]
use crate::prelude::*;

use crate::error::Error;
use crate::secret::Secret;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::pkcs1v15::SigningKey;
use rsa::pkcs8::DecodePrivateKey;
use rsa::signature::{SignatureEncoding, Signer};
use rsa::traits::PublicKeyParts;
use rsa::RsaPrivateKey;
use sha2::Sha256;

const FIELD: &str = "private-key-pem";
/// Salesforce accepts an assertion whose `exp` is at most 3 minutes ahead.
pub const LIFETIME_SECS: u64 = 180;

/// Reads a PKCS#8 (`BEGIN PRIVATE KEY`) or PKCS#1 (`BEGIN RSA PRIVATE KEY`)
/// PEM. Errors describe the problem, never the key.
pub fn parse_key(pem: &Secret) -> Result<RsaPrivateKey, Error> {
    let pem = pem.expose().trim();
    let key = if pem.contains("BEGIN RSA PRIVATE KEY") {
        RsaPrivateKey::from_pkcs1_pem(pem).map_err(|_| {
            Error::config(
                FIELD,
                "the PKCS#1 RSA key (BEGIN RSA PRIVATE KEY) could not be decoded",
            )
        })?
    } else if pem.contains("BEGIN PRIVATE KEY") {
        RsaPrivateKey::from_pkcs8_pem(pem).map_err(|_| {
            Error::config(
                FIELD,
                "the PKCS#8 key (BEGIN PRIVATE KEY) could not be decoded, or is not an RSA key",
            )
        })?
    } else if pem.contains("ENCRYPTED PRIVATE KEY") || pem.contains("Proc-Type: 4,ENCRYPTED") {
        return Err(Error::config(
            FIELD,
            "the key is encrypted; decrypt it first (openssl pkcs8 -topk8 -nocrypt -in key.pem)",
        ));
    } else if pem.contains("BEGIN CERTIFICATE") || pem.contains("BEGIN PUBLIC KEY") {
        return Err(Error::config(
            FIELD,
            "this is a certificate or public key; give the private key (the certificate goes on the connected app)",
        ));
    } else {
        return Err(Error::config(
            FIELD,
            "is not a PEM private key (expected a BEGIN PRIVATE KEY or BEGIN RSA PRIVATE KEY block)",
        ));
    };
    if key.size() < 256 {
        return Err(Error::config(
            FIELD,
            "the RSA key is shorter than 2048 bits; Salesforce needs 2048 or more",
        ));
    }
    Ok(key)
}

/// Builds and signs the assertion.
pub fn assertion(
    client_id: &str,
    username: &str,
    audience: &str,
    key: &RsaPrivateKey,
    now_secs: u64,
) -> Result<Secret, Error> {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256"}"#);
    let claims = serde_json::json!({
        "iss": client_id,
        "sub": username,
        "aud": audience,
        "exp": now_secs + LIFETIME_SECS,
    });
    let claims = URL_SAFE_NO_PAD.encode(claims.to_string());
    let signing_input = format!("{header}.{claims}");
    let signer = SigningKey::<Sha256>::new(key.clone());
    let signature = signer
        .try_sign(signing_input.as_bytes())
        .map_err(|_| Error::config(FIELD, "signing with this key failed"))?;
    let signature = URL_SAFE_NO_PAD.encode(signature.to_bytes());
    Ok(Secret::new(format!("{signing_input}.{signature}")))
}
