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
    pub audience: &'a str,
    pub now_secs: f64,
}

/// The one `aud` a connected app's JWT may carry: `https://login.salesforce.com`
/// for production (My Domain logins included), `https://test.salesforce.com`
/// for a sandbox (help.salesforce.com "OAuth 2.0 JWT Bearer Flow for
/// Server-to-Server Integration"). The token host's own URL or a My Domain
/// URL is "audience is invalid" (simple-salesforce #672; forcedotcom/cli #3325).
pub(crate) fn audience(sandbox: bool) -> &'static str {
    if sandbox {
        "https://test.salesforce.com"
    } else {
        "https://login.salesforce.com"
    }
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
    // Compared as the exact string, so `https://login.salesforce.com/` does
    // not match: `aud` is a StringOrURI, compared "with no transformations or
    // canonicalizations applied" (RFC 7519 §2, §4.1.3), and every source shows
    // the value without a slash (the help page above; sfdx-core
    // getJwtAudienceUrl; simple-salesforce login.py). None shows Salesforce
    // accepting a trailing slash.
    let aud_ok = |a: &str| a == expect.audience;
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
