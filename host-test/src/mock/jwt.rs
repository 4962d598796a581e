//! Verifying JWT bearer assertions (RFC 7523) the way Salesforce does:
//! RS256 signature by the registered certificate key, then iss, sub, aud, exp.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rsa::pkcs1v15::{Signature, VerifyingKey};
use rsa::signature::Verifier;
use rsa::RsaPublicKey;
use serde_json::Value;
use sha2::Sha256;

/// How far ahead `exp` may be. Salesforce documents 3 minutes; clients use up to 5.
const MAX_LIFETIME_SECS: f64 = 300.0 + 30.0;
/// An `exp` above this is in milliseconds (the sf CLI sends those).
const MS_THRESHOLD: f64 = 1e11;

pub(crate) struct Expect<'a> {
    pub key: &'a RsaPublicKey,
    pub client_id: &'a str,
    pub username: &'a str,
    pub audiences: &'a [&'a str],
    pub now_secs: f64,
}

/// The OAuth `(error, error_description)` pair for a rejected assertion.
pub(crate) type Rejection = (&'static str, &'static str);

const INVALID: Rejection = ("invalid_grant", "invalid assertion");

fn b64(part: &str) -> Result<Vec<u8>, Rejection> {
    URL_SAFE_NO_PAD
        .decode(part.trim_end_matches('='))
        .map_err(|_| INVALID)
}

fn json_part(part: &str) -> Result<Value, Rejection> {
    serde_json::from_slice(&b64(part)?).map_err(|_| INVALID)
}

pub(crate) fn verify(assertion: &str, expect: &Expect<'_>) -> Result<(), Rejection> {
    let mut parts = assertion.trim().split('.');
    let (Some(h), Some(c), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(INVALID);
    };
    let header = json_part(h)?;
    if header.get("alg").and_then(Value::as_str) != Some("RS256") {
        return Err(INVALID);
    }
    let claims = json_part(c)?;
    if claims.get("iss").and_then(Value::as_str) != Some(expect.client_id) {
        return Err(("invalid_client_id", "client identifier invalid"));
    }
    let signature = Signature::try_from(b64(s)?.as_slice()).map_err(|_| INVALID)?;
    let signed = &assertion.trim()[..h.len() + 1 + c.len()];
    VerifyingKey::<Sha256>::new(expect.key.clone())
        .verify(signed.as_bytes(), &signature)
        .map_err(|_| INVALID)?;
    if claims.get("sub").and_then(Value::as_str) != Some(expect.username) {
        return Err(("invalid_grant", "user hasn't approved this consumer"));
    }
    let aud_ok = |a: &str| {
        let a = a.trim_end_matches('/');
        expect
            .audiences
            .iter()
            .any(|x| x.trim_end_matches('/') == a)
    };
    let audience_matches = match claims.get("aud") {
        Some(Value::String(a)) => aud_ok(a),
        Some(Value::Array(list)) => list.iter().filter_map(Value::as_str).any(aud_ok),
        _ => false,
    };
    if !audience_matches {
        return Err(("invalid_grant", "audience is invalid"));
    }
    let exp = match claims.get("exp") {
        Some(Value::Number(n)) => n.as_f64(),
        Some(Value::String(s)) => s.trim().parse::<f64>().ok(),
        _ => None,
    };
    let Some(mut exp) = exp else {
        return Err(INVALID);
    };
    if exp > MS_THRESHOLD {
        exp /= 1000.0;
    }
    if exp <= expect.now_secs {
        return Err(("invalid_grant", "expired authorization code"));
    }
    if exp > expect.now_secs + MAX_LIFETIME_SECS {
        return Err(INVALID);
    }
    Ok(())
}
