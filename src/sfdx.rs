//! SFDX auth URLs: `force://clientId:clientSecret:refreshToken@instance`, as
//! printed by `sf org display --verbose` and stored in `SFDX_AUTH_URL`.

#[allow(unused_imports)]
use crate::prelude::*;

use crate::config::{Config, Grant};
use crate::error::Error;
use crate::secret::Secret;

const FIELD: &str = "sfdx-url";

/// Parses the URL into a refresh-token config whose login URL is the instance
/// (the sf CLI refreshes against the org's own domain).
pub fn parse(raw: &str) -> Result<Config, Error> {
    let rest = raw.trim().strip_prefix("force://").ok_or_else(|| {
        Error::config(
            FIELD,
            "must start with force:// (force://clientId:clientSecret:refreshToken@instance)",
        )
    })?;
    // The instance never contains `@`; secrets might, so split at the last one.
    let (creds, instance) = rest
        .rsplit_once('@')
        .ok_or_else(|| Error::config(FIELD, "has no `@instance` part"))?;
    let (client_id, rest) = creds.split_once(':').ok_or_else(|| {
        Error::config(
            FIELD,
            "must be clientId:clientSecret:refreshToken before `@`",
        )
    })?;
    let (client_secret, refresh_token) = rest.split_once(':').ok_or_else(|| {
        Error::config(
            FIELD,
            "must be clientId:clientSecret:refreshToken before `@` (the secret may be empty)",
        )
    })?;
    if client_id.is_empty() {
        return Err(Error::config(FIELD, "has an empty client id"));
    }
    if refresh_token.is_empty() {
        return Err(Error::config(FIELD, "has an empty refresh token"));
    }
    let instance = instance.trim_end_matches('/');
    let login_url = crate::urls::parse_base(FIELD, instance)?;
    Ok(Config {
        login_url: Some(crate::urls::origin(&login_url)),
        client_id: Some(client_id.to_string()),
        client_secret: (!client_secret.is_empty()).then(|| Secret::new(client_secret)),
        grant: Grant::RefreshToken {
            refresh_token: Secret::new(refresh_token),
        },
        api_version: None,
        timeout_ms: None,
        deadline_ms: None,
        max_response_bytes: None,
        retry: None,
        allowed_hosts: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_cli_form() {
        let c = parse("force://PlatformCLI::5Aep861.x_y==@acme.my.salesforce.com").unwrap();
        assert_eq!(
            c.login_url.as_deref(),
            Some("https://acme.my.salesforce.com")
        );
        assert_eq!(c.client_id.as_deref(), Some("PlatformCLI"));
        assert!(c.client_secret.is_none());
        match c.grant {
            Grant::RefreshToken { refresh_token } => {
                assert_eq!(refresh_token.expose(), "5Aep861.x_y==")
            }
            other => panic!("{other:?}"),
        }
        let c = parse("force://id:sec:tok@https://acme.my.salesforce.com/").unwrap();
        assert_eq!(c.client_secret.unwrap().expose(), "sec");
    }

    #[test]
    fn errors_do_not_echo_the_url() {
        for bad in [
            "http://x",
            "force://nothing",
            "force://a@b",
            "force://:s:t@h",
            "force://a:s:@h",
            "force://a:b:c@http://evil.com",
        ] {
            let e = parse(bad).unwrap_err().to_string();
            assert!(!e.contains(":s:t") && !e.contains("a:b:c"), "{e}");
        }
    }
}
