//! The credentials a mock accepts, and the RSA key pair for the JWT bearer flow,
//! generated fresh for every mock and written to its fixtures directory.

use crate::state::{random_string, ALNUM};
use rsa::pkcs1::EncodeRsaPrivateKey;
use rsa::pkcs8::{EncodePrivateKey, LineEnding};
use rsa::{RsaPrivateKey, RsaPublicKey};
use std::io;
use std::path::{Path, PathBuf};

/// What the mock accepts. Generated fresh per mock.
#[derive(Clone)]
pub struct Credentials {
    pub client_id: String,
    pub client_secret: String,
    pub username: String,
    /// Contains `# & % + space é` so clients must form-encode it properly.
    pub password: String,
    /// Appended to the password in the password grant.
    pub security_token: String,
    /// Accepted by the refresh-token grant.
    pub refresh_token: String,
    /// PKCS#8 PEM of the RSA key whose public half verifies JWT assertions.
    pub private_key_file: PathBuf,
    /// The same key as PKCS#1 PEM (`BEGIN RSA PRIVATE KEY`).
    pub private_key_pkcs1_file: PathBuf,
}

impl std::fmt::Debug for Credentials {
    // Secrets never reach test output, even via `{:?}`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .field("security_token", &"<redacted>")
            .field("refresh_token", &"<redacted>")
            .field("private_key_file", &self.private_key_file)
            .field("private_key_pkcs1_file", &self.private_key_pkcs1_file)
            .finish()
    }
}

/// 2048-bit, like a real connected app's certificate key. Slow in debug builds
/// unless `rsa` and `num-bigint-dig` are optimised (see Cargo.toml).
pub(crate) fn generate(dir: &Path) -> io::Result<(Credentials, RsaPublicKey)> {
    let key = RsaPrivateKey::new(&mut rand::thread_rng(), 2048).map_err(io::Error::other)?;
    let pkcs8 = key.to_pkcs8_pem(LineEnding::LF).map_err(io::Error::other)?;
    let pkcs1 = key.to_pkcs1_pem(LineEnding::LF).map_err(io::Error::other)?;
    let private_key_file = dir.join("jwt-key.pkcs8.pem");
    let private_key_pkcs1_file = dir.join("jwt-key.pkcs1.pem");
    std::fs::write(&private_key_file, pkcs8.as_bytes())?;
    std::fs::write(&private_key_pkcs1_file, pkcs1.as_bytes())?;
    let credentials = Credentials {
        client_id: format!("3MVG9mock{}", random_string(40, ALNUM)),
        client_secret: random_string(64, b"0123456789ABCDEF"),
        username: "integration@mock.example.com".to_string(),
        password: format!("p#s&w%r+d é{}", random_string(8, ALNUM)),
        security_token: random_string(24, ALNUM),
        refresh_token: format!("5Aep861mock{}", random_string(70, ALNUM)),
        private_key_file,
        private_key_pkcs1_file,
    };
    Ok((credentials, RsaPublicKey::from(&key)))
}
