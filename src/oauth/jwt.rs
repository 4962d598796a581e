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

/// One JWT bearer login: the audiences to try and what each attempt needs.
pub struct Login<'a> {
    /// The username the token is issued for (the `sub` claim).
    pub username: &'a str,
    /// The key that signs the assertion.
    pub key: RsaPrivateKey,
    /// Given by the caller: the only audience tried.
    pub audience: Option<&'a str>,
}

impl Login<'_> {
    /// Posts an assertion per audience candidate until one is accepted. Only
    /// an audience refusal moves on to the next candidate; the last refusal
    /// says which audiences were tried.
    pub fn run(
        &self,
        transport: &mut dyn crate::http::Transport,
        s: &crate::config::Settings,
        redactor: &crate::secret::Redactor,
        now_secs: u64,
    ) -> Result<crate::session::Session, Error> {
        let audiences = match self.audience {
            Some(a) => vec![crate::urls::parse_login("audience", a)?
                .as_str()
                .trim_end_matches('/')
                .to_string()],
            None => super::audience::candidates(&s.login_url),
        };
        let mut tried = Vec::new();
        for aud in &audiences {
            let assertion = assertion(s.client_id()?, self.username, aud, &self.key, now_secs)?;
            let form = url::form_urlencoded::Serializer::new(String::new())
                .append_pair("grant_type", super::JWT_BEARER)
                .append_pair("assertion", assertion.expose())
                .finish();
            let request = super::form_post(s, super::TOKEN_PATH, form, Vec::new());
            tried.push(aud.as_str());
            let answer = transport
                .send(&request)
                .map_err(Error::from)
                .and_then(|r| super::token::parse(&r, s, super::token::Flow::JwtBearer, redactor));
            match answer {
                Err(e) if audience_refused(&e) && tried.len() < audiences.len() => continue,
                Err(e) if audience_refused(&e) => return Err(with_tried(e, &tried)),
                other => return other,
            }
        }
        Err(Error::config("audience", "no audience to try"))
    }
}

/// `audience is invalid`, `Audience validation failed`, or an External
/// Client App's `app_not_found` for a legacy audience (n8n-io/n8n #28990).
fn audience_refused(e: &Error) -> bool {
    match e {
        Error::AuthenticationFailed {
            error, description, ..
        } => {
            let d = description.to_ascii_lowercase();
            (error == "invalid_grant" && d.contains("audience")) || d.contains("app_not_found")
        }
        _ => false,
    }
}

fn with_tried(e: Error, tried: &[&str]) -> Error {
    match e {
        Error::AuthenticationFailed {
            status,
            error,
            description,
            hint,
        } => Error::AuthenticationFailed {
            status,
            error,
            description: format!("{description} (audiences tried: {})", tried.join(", ")),
            hint,
        },
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::testing::Scripted;
    use crate::http::HttpResponse;

    fn refused() -> Result<HttpResponse, crate::http::TransportError> {
        Ok(HttpResponse {
            status: 400,
            headers: vec![("content-type".into(), "application/json".into())],
            body: br#"{"error":"invalid_grant","error_description":"audience is invalid"}"#
                .to_vec(),
        })
    }

    fn key() -> RsaPrivateKey {
        let pem = include_str!("../../fuzz/fixtures/pem_key-test-keys/pkcs8-2048.pem");
        parse_key(&Secret::new(pem)).expect("fixture key")
    }

    #[test]
    fn an_audience_refusal_moves_on_once_and_names_what_was_tried() {
        let config = crate::config::fixture(
            "http://127.0.0.1:8080",
            crate::config::Grant::ClientCredentials { basic_auth: false },
        );
        let settings = config.base_settings().unwrap();
        let login = Login {
            username: "u@x",
            key: key(),
            audience: None,
        };
        let mut t = Scripted::new(vec![refused(), refused()]);
        let err = login
            .run(&mut t, &settings, &crate::secret::Redactor::new(), 0)
            .unwrap_err();
        assert_eq!(t.sent, 2);
        let shown = err.to_string();
        assert!(
            shown.contains(
                "audiences tried: https://login.salesforce.com, https://test.salesforce.com"
            ),
            "{shown}"
        );
    }
}
