//! The JWT bearer `aud` claim: which values to try, in order.
//!
//! Salesforce documents `https://login.salesforce.com` for production and My
//! Domain logins, `https://test.salesforce.com` for sandboxes, and the site
//! URL for an Experience Cloud login ("OAuth 2.0 JWT Bearer Flow for
//! Server-to-Server Integration"). A My Domain URL as `aud` fails with a
//! connected app (`audience is invalid`: simple-salesforce #672,
//! forcedotcom/cli #3325) but External Client Apps have been reported to
//! want exactly that since Spring '26 (n8n-io/n8n #28990). So, like
//! sfdx-core's `getLoginAudienceCombos`, the documented value goes first and
//! the My Domain URL is the one fallback.

#[allow(unused_imports)]
use crate::prelude::*;

use url::Url;

/// The documented audience for production and My Domain logins.
pub const PRODUCTION: &str = "https://login.salesforce.com";
/// The documented audience for sandbox logins.
pub const SANDBOX: &str = "https://test.salesforce.com";

/// The audiences to try for a login URL, best first, at most two.
pub fn candidates(login: &Url) -> Vec<String> {
    let host = login.host_str().unwrap_or_default().to_ascii_lowercase();
    let my_domain = crate::urls::origin(login);
    if crate::urls::is_experience_site(login) {
        // The site URL, path included (`https://acme.my.site.com/customers`).
        return vec![login.as_str().trim_end_matches('/').to_string()];
    }
    match host.as_str() {
        "login.salesforce.com" => return vec![PRODUCTION.into()],
        "test.salesforce.com" => return vec![SANDBOX.into()],
        _ => {}
    }
    if is_sandbox_host(&host) {
        return vec![SANDBOX.into(), my_domain];
    }
    if crate::urls::is_salesforce_host(&host) {
        // Production My Domains, Developer Editions and, by the same rule
        // (Government Cloud keeps login/test as `aud`), `*.my.salesforce.mil`
        // and China's `*.my.sfcrmproducts.cn`, whose own login hosts are not
        // confirmed.
        return vec![PRODUCTION.into(), my_domain];
    }
    // A proxy, a gateway or a local test server in front of an org: the
    // production audience, then the sandbox one.
    vec![PRODUCTION.into(), SANDBOX.into()]
}

/// Sandbox and scratch-org My Domains (`acme--uat.sandbox.my.salesforce.com`,
/// `*.scratch.my.salesforce.com`) and legacy sandbox My Domains
/// (`acme--uat.my.salesforce.com`, `cs42.salesforce.com`).
fn is_sandbox_host(host: &str) -> bool {
    let first = host.split('.').next().unwrap_or_default();
    let legacy_pod = first
        .strip_prefix("cs")
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        && host.ends_with(".salesforce.com");
    host.ends_with(".sandbox.my.salesforce.com")
        || host.ends_with(".scratch.my.salesforce.com")
        || (host.ends_with(".my.salesforce.com") && first.contains("--"))
        || legacy_pod
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(login: &str) -> Vec<String> {
        candidates(&crate::urls::parse_login("login-url", login).unwrap())
    }

    #[test]
    fn documented_audiences_come_first() {
        assert_eq!(of("https://login.salesforce.com"), [PRODUCTION]);
        assert_eq!(of("https://test.salesforce.com"), [SANDBOX]);
        assert_eq!(
            of("https://acme.my.salesforce.com"),
            [PRODUCTION, "https://acme.my.salesforce.com"]
        );
        assert_eq!(
            of("https://acme--uat.sandbox.my.salesforce.com"),
            [SANDBOX, "https://acme--uat.sandbox.my.salesforce.com"]
        );
        assert_eq!(of("https://acme--dev.my.salesforce.com")[0], SANDBOX);
        assert_eq!(of("https://cs42.salesforce.com")[0], SANDBOX);
        assert_eq!(
            of("https://fun-dev-1.scratch.my.salesforce.com")[0],
            SANDBOX
        );
        assert_eq!(of("https://acme.develop.my.salesforce.com")[0], PRODUCTION);
        assert_eq!(of("https://acme.my.salesforce.mil")[0], PRODUCTION);
        assert_eq!(
            of("https://acme.my.site.com/customers"),
            ["https://acme.my.site.com/customers"]
        );
        assert_eq!(of("http://127.0.0.1:8080"), [PRODUCTION, SANDBOX]);
    }
}
