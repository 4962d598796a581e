//! Which URLs the connector talks to: https only (http for loopback), no
//! Lightning UI hosts, and the bearer token only to the instance origin.

#[allow(unused_imports)]
use crate::prelude::*;

use crate::error::Error;
use url::{Host, Url};

/// The login URL when a config names none.
pub const DEFAULT_LOGIN_URL: &str = "https://login.salesforce.com";

/// True for 127.0.0.0/8, ::1 and `localhost`: the only hosts allowed over
/// plain http, so local mocks and tests work.
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        Some(Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

fn host_of(url: &Url) -> String {
    url.host_str().unwrap_or_default().to_ascii_lowercase()
}

/// Salesforce hosts that serve the UI, not the API. Users paste them from the
/// browser's address bar.
fn ui_host_hint(host: &str) -> Option<&'static str> {
    const UI: [&str; 3] = [
        ".lightning.force.com",
        ".lightning.crmforce.mil",
        ".lightning.sfcrmapps.cn",
    ];
    if UI.iter().any(|s| host.ends_with(s)) {
        return Some(
            "this is a Lightning UI host; use the My Domain API host instead \
             (acme.lightning.force.com -> https://acme.my.salesforce.com)",
        );
    }
    if host.ends_with(".my.salesforce-setup.com") {
        return Some("this is the Setup host; use https://<name>.my.salesforce.com");
    }
    None
}

/// Parses a base URL (login URL or instance URL): https (or http on
/// loopback), a host, no credentials, no query or fragment, and no path
/// beyond `/`. The returned URL has an empty path.
pub fn parse_base(field: &str, raw: &str) -> Result<Url, Error> {
    parse_url(field, raw, false)
}

/// Parses a login URL: a base URL, or an Experience Cloud site with its path
/// (`https://acme.my.site.com/customers`), whose OAuth endpoints live under
/// that path. The path keeps no trailing slash.
pub fn parse_login(field: &str, raw: &str) -> Result<Url, Error> {
    parse_url(field, raw, true)
}

/// Experience Cloud sites: `*.my.site.com` (enhanced domains), `*.site.com`
/// and `*.force.com` (older sites, e.g. `acme.force.com/customers`).
pub fn is_experience_site(url: &Url) -> bool {
    let host = host_of(url);
    [".site.com", ".force.com"]
        .iter()
        .any(|s| host.ends_with(s))
}

/// `path` (starting with `/`) under a login URL, keeping a site's path:
/// `https://acme.my.site.com/customers` + `/services/oauth2/token`.
pub fn endpoint(base: &Url, path: &str) -> Url {
    let mut url = base.clone();
    let prefix = base.path().trim_end_matches('/').to_string();
    url.set_path(&format!("{prefix}{path}"));
    url
}

fn parse_url(field: &str, raw: &str, site_path: bool) -> Result<Url, Error> {
    let raw = raw.trim();
    // Never quote a URL that may carry credentials.
    let shown = if raw.contains('@') { "the URL" } else { raw };
    if raw.is_empty() {
        return Err(Error::config(field, "is empty"));
    }
    let with_scheme;
    let candidate = if raw.contains("://") {
        raw
    } else {
        // `acme.my.salesforce.com` is what many people type; https is implied.
        with_scheme = format!("https://{raw}");
        &with_scheme
    };
    let url = Url::parse(candidate)
        .map_err(|e| Error::config(field, format!("`{shown}` is not a URL ({e})")))?;
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(&url) => {}
        "http" => {
            return Err(Error::config(
                field,
                format!("`{shown}` uses http; Salesforce requires https (http is allowed only for loopback hosts)"),
            ))
        }
        other => return Err(Error::config(field, format!("scheme `{other}` is not supported; use https://"))),
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(Error::config(field, format!("`{shown}` has no host")));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Error::config(
            field,
            "must not contain credentials (user:password@)",
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(Error::config(field, "must not contain a query or fragment"));
    }
    let has_path = url.path() != "/" && !url.path().is_empty();
    if has_path && site_path && is_experience_site(&url) {
        let mut site = url.clone();
        site.set_path(url.path().trim_end_matches('/'));
        return Ok(site);
    }
    if has_path {
        return Err(Error::config(
            field,
            format!(
                "must be a bare origin such as https://login.salesforce.com, without the path `{}`",
                url.path()
            ),
        ));
    }
    if let Some(hint) = ui_host_hint(&host_of(&url)) {
        return Err(Error::config(field, hint));
    }
    Ok(url)
}

/// `scheme://host[:port]` with no trailing slash.
pub fn origin(url: &Url) -> String {
    url.origin().ascii_serialization()
}

/// The login hosts on which Salesforce refuses the client credentials flow.
pub fn is_generic_login_host(url: &Url) -> bool {
    matches!(
        host_of(url).as_str(),
        "login.salesforce.com" | "test.salesforce.com"
    )
}

/// Salesforce's API domains (commercial, government, China, legacy).
const SALESFORCE_DOMAINS: [&str; 6] = [
    "salesforce.com",
    "force.com",
    "salesforce.mil",
    "sfcrmproducts.cn",
    "cloudforce.com",
    "database.com",
];

/// True for a host under one of Salesforce's API domains (a subdomain, not
/// the bare domain).
pub fn is_salesforce_host(host: &str) -> bool {
    let host = host.to_ascii_lowercase();
    SALESFORCE_DOMAINS.iter().any(|d| {
        host.strip_suffix(d)
            .is_some_and(|rest| rest.ends_with('.') && rest.len() > 1)
    })
}

/// An `allowed-hosts` entry: `host` or `host:port`, nothing else.
pub fn parse_allowed_host(raw: &str) -> Result<String, Error> {
    let entry = raw.trim().to_ascii_lowercase();
    let bad = || {
        Error::config(
            "allowed-hosts",
            format!("`{raw}` is not a host or host:port (no scheme, path or credentials)"),
        )
    };
    if entry.is_empty() || entry.contains(['/', '@', '?', '#', ' ']) {
        return Err(bad());
    }
    let url = Url::parse(&format!("https://{entry}")).map_err(|_| bad())?;
    let host = url.host_str().ok_or_else(bad)?;
    Ok(match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_string(),
    })
}

/// Where a bearer token may be sent: a Salesforce domain, the configured
/// login host (its exact origin), or a host the configuration allows.
fn trusted_instance(url: &Url, login: &Url, allowed: &[String]) -> bool {
    let host = host_of(url);
    if url.origin() == login.origin() || is_salesforce_host(&host) {
        return true;
    }
    let with_port = url.port().map(|p| format!("{host}:{p}"));
    allowed
        .iter()
        .any(|a| *a == host || Some(a) == with_port.as_ref())
}

/// The one trust rule, as the host applies it to a session it is handed:
/// may the bearer token follow `instance` (an URL or origin), given the
/// configured login URL and `allowed-hosts`? The component applies the same
/// rule to every token response; the host checks again, so a swapped-in
/// component cannot widen it.
pub fn trusts_instance(instance: &str, login: &str, allowed: &[String]) -> bool {
    let Ok(url) = instance_origin(instance) else {
        return false;
    };
    let Ok(login) = parse_login("login-url", login) else {
        return false;
    };
    let allowed: Vec<String> = allowed
        .iter()
        .filter_map(|a| parse_allowed_host(a).ok())
        .collect();
    trusted_instance(&url, &login, &allowed)
}

/// Cases both the component's and the host's tests run through the trust
/// rule: (instance, login URL, allowed hosts, trusted).
#[doc(hidden)]
pub const TRUST_CASES: &[(&str, &str, &[&str], bool)] = &[
    (
        "https://acme.my.salesforce.com",
        "https://login.salesforce.com",
        &[],
        true,
    ),
    (
        "https://acme.my.salesforce.com/",
        "https://login.salesforce.com",
        &[],
        true,
    ),
    (
        "https://acme--uat.sandbox.my.salesforce.com",
        "https://test.salesforce.com",
        &[],
        true,
    ),
    (
        "https://acme.my.salesforce.mil",
        "https://login.salesforce.com",
        &[],
        true,
    ),
    (
        "https://acme.my.sfcrmproducts.cn",
        "https://login.salesforce.com",
        &[],
        true,
    ),
    (
        "http://acme.my.salesforce.com",
        "https://login.salesforce.com",
        &[],
        false,
    ),
    (
        "https://acme.lightning.force.com",
        "https://login.salesforce.com",
        &[],
        false,
    ),
    (
        "https://salesforce.com.evil.example",
        "https://login.salesforce.com",
        &[],
        false,
    ),
    (
        "https://evilsalesforce.com",
        "https://login.salesforce.com",
        &[],
        false,
    ),
    ("http://127.0.0.1:8080", "http://127.0.0.1:8080", &[], true),
    ("http://127.0.0.1:9", "http://127.0.0.1:8080", &[], false),
    (
        "http://127.0.0.1:9",
        "http://127.0.0.1:8080",
        &["127.0.0.1:9"],
        true,
    ),
    (
        "https://proxy.example.com",
        "https://login.salesforce.com",
        &["proxy.example.com:443"],
        true,
    ),
    (
        "https://proxy.example.com:443",
        "https://login.salesforce.com",
        &["Proxy.Example.com"],
        true,
    ),
    (
        "https://proxy.example.com:8443",
        "https://login.salesforce.com",
        &["proxy.example.com"],
        true,
    ),
    (
        "https://proxy.example.com:8443",
        "https://login.salesforce.com",
        &["proxy.example.com:9443"],
        false,
    ),
    (
        "https://gw.example.com",
        "https://acme.my.site.com/customers",
        &[],
        false,
    ),
    (
        "https://acme.my.site.com",
        "https://acme.my.site.com/customers",
        &[],
        true,
    ),
    (
        "javascript:alert(1)",
        "https://login.salesforce.com",
        &[],
        false,
    ),
    (
        "file:///etc/passwd",
        "https://login.salesforce.com",
        &[],
        false,
    ),
];

/// Why a token response's `instance_url` is refused.
#[derive(Debug, PartialEq, Eq)]
pub enum InstanceProblem {
    /// Not a usable https origin.
    Malformed(String),
    /// Well formed, but not somewhere this configuration lets the token go.
    Untrusted(String),
}

/// A token response's `instance_url`, checked against where this
/// configuration lets the token go.
pub fn parse_instance(raw: &str, login: &Url, allowed: &[String]) -> Result<Url, InstanceProblem> {
    let url = instance_origin(raw).map_err(InstanceProblem::Malformed)?;
    if !trusted_instance(&url, login, allowed) {
        return Err(InstanceProblem::Untrusted(format!(
            "the token response names {} as instance_url, which is not a Salesforce \
             domain or the login host; the token was not sent there (add it to \
             allowed-hosts if it really is your org)",
            origin(&url)
        )));
    }
    Ok(url)
}

/// An instance URL's origin: https (http only on loopback), a host, no
/// credentials, not a Lightning UI host.
pub fn instance_origin(raw: &str) -> Result<Url, String> {
    let url =
        Url::parse(raw.trim()).map_err(|e| format!("instance_url `{raw}` is not a URL ({e})"))?;
    let scheme_ok = url.scheme() == "https" || (url.scheme() == "http" && is_loopback(&url));
    if !scheme_ok {
        return Err(format!("instance_url `{raw}` is not https"));
    }
    if url.host_str().is_none_or(str::is_empty)
        || !url.username().is_empty()
        || url.password().is_some()
    {
        return Err(format!("instance_url `{raw}` has no usable host"));
    }
    if let Some(hint) = ui_host_hint(&host_of(&url)) {
        return Err(format!("instance_url `{raw}`: {hint}"));
    }
    let mut base = url;
    base.set_path("");
    base.set_query(None);
    base.set_fragment(None);
    Ok(base)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn login_urls() {
        for ok in [
            "https://login.salesforce.com",
            "https://test.salesforce.com/",
            "acme.my.salesforce.com",
            "https://acme--uat.sandbox.my.salesforce.com",
            "http://127.0.0.1:8080",
            "http://localhost:1234",
            "http://[::1]:99",
        ] {
            assert!(parse_base("login-url", ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://login.salesforce.com",
            "ftp://x.salesforce.com",
            "https://acme.lightning.force.com",
            "https://login.salesforce.com/services/oauth2/token",
            "https://u:p@login.salesforce.com",
            "https://login.salesforce.com?x=1",
            "",
            "https://",
        ] {
            assert!(parse_base("login-url", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn experience_cloud_login_urls_keep_their_path() {
        let site = parse_login("login-url", "https://acme.my.site.com/customers/").unwrap();
        assert_eq!(site.as_str(), "https://acme.my.site.com/customers");
        assert_eq!(
            endpoint(&site, "/services/oauth2/token").as_str(),
            "https://acme.my.site.com/customers/services/oauth2/token"
        );
        let plain = parse_login("login-url", "https://login.salesforce.com").unwrap();
        assert_eq!(
            endpoint(&plain, "/services/oauth2/token").as_str(),
            "https://login.salesforce.com/services/oauth2/token"
        );
        assert!(parse_login("login-url", "https://acme.my.salesforce.com/x").is_err());
        assert!(parse_base("login-url", "https://acme.my.site.com/customers").is_err());
    }

    #[test]
    fn instance_urls() {
        let login = Url::parse("https://login.salesforce.com").unwrap();
        let check = |raw: &str| parse_instance(raw, &login, &[]);
        assert_eq!(
            origin(&check("https://acme.my.salesforce.com/").unwrap()),
            "https://acme.my.salesforce.com"
        );
        for ok in [
            "https://acme--uat.sandbox.my.salesforce.com",
            "https://na1.salesforce.com",
            "https://acme.my.salesforce.mil",
            "https://acme.my.sfcrmproducts.cn",
            "https://x.cloudforce.com",
            "https://x.database.com",
            "https://acme.my.site.force.com",
        ] {
            assert!(check(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://acme.my.salesforce.com",
            "https://acme.lightning.force.com",
            "javascript:alert(1)",
            "file:///etc/passwd",
            "https://evil.example.com",
            "https://salesforce.com.evil.example",
            "https://evilsalesforce.com",
            "https://salesforce.com",
            "http://127.0.0.1:9",
            "//evil.example.com",
        ] {
            assert!(check(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_trust_table() {
        for (instance, login, allowed, expected) in TRUST_CASES {
            let allowed: Vec<String> = allowed.iter().map(|a| a.to_string()).collect();
            assert_eq!(
                trusts_instance(instance, login, &allowed),
                *expected,
                "{instance} with login {login} and allowed {allowed:?}"
            );
        }
    }

    #[test]
    fn the_login_host_and_allowed_hosts_are_trusted() {
        let login = Url::parse("http://127.0.0.1:8080").unwrap();
        assert!(parse_instance("http://127.0.0.1:8080", &login, &[]).is_ok());
        assert!(parse_instance("http://127.0.0.1:9090", &login, &[]).is_err());
        let allowed = [parse_allowed_host("127.0.0.1:9090").unwrap()];
        assert!(parse_instance("http://127.0.0.1:9090", &login, &allowed).is_ok());
        let any_port = [parse_allowed_host("Proxy.Example.com").unwrap()];
        assert!(parse_instance("https://proxy.example.com:8443", &login, &any_port).is_ok());
        for bad in ["https://x.com", "x.com/path", "u@x.com", "", "a b"] {
            assert!(parse_allowed_host(bad).is_err(), "{bad}");
        }
    }
}
