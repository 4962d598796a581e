//! What the tests that run the `sf-host` binary share: its environment for
//! the mock's org, and the check that no secret reached its output.

use salesforce_mock::Mock;
use std::path::Path;
use std::process::Command;

/// `sf-host` with nothing inherited but the mock's org in `SF_*` variables
/// (password grant, 3 s timeout), and a compiled-code cache of the tests'
/// own: with no HOME it would have none and compile the component every run.
pub fn sf_host(mock: &Mock) -> Command {
    let c = mock.credentials();
    let mut command = Command::new(env!("CARGO_BIN_EXE_sf-host"));
    command
        .env_clear()
        .env("SF_LOGIN_URL", mock.http_url())
        .env("SF_CLIENT_ID", &c.client_id)
        .env("SF_CLIENT_SECRET", &c.client_secret)
        .env("SF_USERNAME", &c.username)
        .env("SF_PASSWORD", &c.password)
        .env("SF_SECURITY_TOKEN", &c.security_token)
        .env("SF_TIMEOUT_MS", "3000")
        .env(
            "SF_HOST_CACHE_DIR",
            Path::new(env!("CARGO_TARGET_TMPDIR")).join("sf-host-compiled"),
        );
    command
}

/// No password, secret, security token, refresh token or access token (the
/// mock's access tokens start with the org id and `!AQ`, the refresh tokens
/// it issues with `5Aep861mock`), plain, URL-encoded or base64, and none of
/// the wrong passwords the tests pass either.
pub fn assert_clean(mock: &Mock, text: &str) {
    use base64::Engine as _;
    let c = mock.credentials();
    let secrets = [
        c.password.as_str(),
        &c.client_secret,
        &c.security_token,
        &c.refresh_token,
        "00D000000000001!AQ",
        "5Aep861mock",
        "wrong & bad",
        "Wr0ng-P4ss!",
    ];
    for secret in secrets {
        let forms = [
            secret.to_string(),
            form_urlencoded::byte_serialize(secret.as_bytes()).collect(),
            base64::engine::general_purpose::STANDARD.encode(secret),
        ];
        for form in forms {
            assert!(!text.contains(&form), "secret in sf-host output: {text}");
        }
    }
}
