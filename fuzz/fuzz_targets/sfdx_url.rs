//! `sfdx::parse`: `force://clientId:clientSecret:refreshToken@instance`.
//!
//! `$r0` in the input stands for a client secret and `$r1` for a refresh
//! token (see `fuzz_common::expand`).
#![no_main]

use fuzz_common::expand;
use libfuzzer_sys::fuzz_target;
use salesforce_connector::config::Grant;
use salesforce_connector::error::Error;
use salesforce_connector::secret::Secret;
use salesforce_connector::{sfdx, urls};

/// Mixed case, so host lower-casing cannot forge them from an instance.
const SECRETS: [&str; 2] = ["SfdxFuzzS3cret~Q9", "5Aep861SfdxFuzzT0ken~Z7.x"];

fuzz_target!(|data: &[u8]| {
    let Ok(raw) = String::from_utf8(expand(data, &SECRETS)) else {
        return;
    };
    match sfdx::parse(&raw) {
        Ok(c) => {
            let login = c.login_url.as_deref().expect("a login URL");
            let base = urls::parse_base("login-url", login).expect("the login URL validates");
            assert_eq!(urls::origin(&base), login, "the login URL is an origin");
            let id = c.client_id.as_deref().expect("a client id");
            assert!(!id.is_empty() && !id.contains(':'), "client id {id:?}");
            let secret = c.client_secret.as_ref().map(Secret::expose);
            assert!(secret.is_none_or(|s| !s.is_empty() && !s.contains(':')));
            let Grant::RefreshToken { refresh_token } = &c.grant else {
                panic!("not a refresh-token grant: {c:?}");
            };
            assert!(!refresh_token.is_empty());
            assert!(c.api_version.is_none() && c.timeout_ms.is_none());
            // Written back out, the same configuration.
            let again = format!(
                "force://{id}:{}:{}@{login}",
                secret.unwrap_or(""),
                refresh_token.expose()
            );
            let c2 = sfdx::parse(&again).expect("the rendered URL parses");
            assert_eq!(c2.login_url, c.login_url);
            assert_eq!(c2.client_id, c.client_id);
            assert_eq!(c2.client_secret, c.client_secret);
            assert!(
                matches!(&c2.grant, Grant::RefreshToken { refresh_token: t } if t == refresh_token)
            );
            // Debug must not depend on the secrets' values.
            let mut masked = c.clone();
            masked.client_secret = masked.client_secret.map(|_| Secret::new("masked"));
            masked.grant = Grant::RefreshToken {
                refresh_token: Secret::new("masked"),
            };
            assert_eq!(format!("{c:?}"), format!("{masked:?}"));
            if !id.trim().is_empty() {
                c.settings().expect("an SFDX config validates");
            }
        }
        Err(e) => {
            assert!(
                matches!(&e, Error::InvalidConfig { field, .. } if field == "sfdx-url"),
                "{e:?}"
            );
            // The instance (after the last `@`) may be quoted; the
            // credentials before it never.
            // URL parsing drops tabs and newlines, so it may quote them away.
            let instance: String = raw
                .trim()
                .rsplit_once('@')
                .map_or("", |(_, i)| i)
                .chars()
                .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
                .collect();
            let shown = format!("{e}\n{e:?}");
            for s in SECRETS {
                assert!(
                    instance.contains(s) || !shown.contains(s),
                    "credential {s:?} leaked: {shown}"
                );
            }
        }
    }
});
