//! `oauth::jwt::parse_key`: the JWT bearer flow's private key.
//!
//! Input: PEM text; or `\0` + DER, armoured here as PKCS#8, or `\x01` + DER,
//! armoured as PKCS#1, so the fuzzer can mutate the DER directly.
#![no_main]

use base64::Engine as _;
use libfuzzer_sys::fuzz_target;
use rsa::pkcs1v15::{Signature, VerifyingKey};
use rsa::signature::Verifier;
use rsa::traits::PublicKeyParts;
use rsa::RsaPublicKey;
use salesforce_connector::error::Error;
use salesforce_connector::oauth::jwt;
use salesforce_connector::secret::Secret;

fn armour(label: &str, der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----{} {label}-----\n", "BEGIN");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).expect("base64 is ASCII"));
        out.push('\n');
    }
    out.push_str(&format!("-----{} {label}-----\n", "END"));
    out
}

/// Runs of base64 characters of at least `min` length: key material.
fn base64_runs(text: &str, min: usize) -> Vec<&str> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '+' || c == '/' || c == '='))
        .filter(|r| r.len() >= min)
        .collect()
}

fuzz_target!(|data: &[u8]| {
    let pem = match data.split_first() {
        Some((0, der)) => armour("PRIVATE KEY", der),
        Some((1, der)) => armour("RSA PRIVATE KEY", der),
        _ => match std::str::from_utf8(data) {
            Ok(s) => s.to_string(),
            Err(_) => return,
        },
    };
    match jwt::parse_key(&Secret::new(pem.clone())) {
        Ok(key) => {
            assert!(key.size() >= 256, "{} bytes", key.size());
            key.validate().expect("a parsed key is consistent");
            // Surrounding whitespace does not matter.
            let padded = jwt::parse_key(&Secret::new(format!("\n  {pem}\n\t")))
                .expect("the padded key parses");
            assert_eq!(padded, key);
            // The key does what it is for: sign an assertion that verifies.
            let assertion = jwt::assertion(
                "3MVG9fuzzConsumerKey",
                "integration@example.com",
                "https://login.salesforce.com",
                &key,
                1_700_000_000,
            )
            .expect("a parsed key signs");
            let text = assertion.expose();
            let (signed, signature) = text.rsplit_once('.').expect("three parts");
            assert_eq!(signed.matches('.').count(), 1);
            let signature = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(signature)
                .expect("base64url signature");
            let signature = Signature::try_from(signature.as_slice()).expect("a signature");
            VerifyingKey::<sha2::Sha256>::new(RsaPublicKey::from(&key))
                .verify(signed.as_bytes(), &signature)
                .expect("the assertion verifies with the key's public half");
        }
        Err(e) => {
            assert!(
                matches!(&e, Error::InvalidConfig { field, .. } if field == "private-key-pem"),
                "{e:?}"
            );
            let shown = format!("{e}\n{e:?}");
            for run in base64_runs(&pem, 16) {
                assert!(
                    !shown.contains(run),
                    "key material {run:?} in the error: {shown}"
                );
            }
        }
    }
});
