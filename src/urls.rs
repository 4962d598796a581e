//! Which URLs the connector talks to: https only (http for loopback), no
//! Lightning UI hosts, and the bearer token only to the instance origin.

#[allow(unused_imports)]
use crate::prelude::*;

use crate::error::Error;
use url::{Host, Url};

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
    if url.path() != "/" && !url.path().is_empty() {
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

/// Validates the `instance_url` of a token response: it is where the bearer
/// token goes next, so it must be https and never a UI host.
pub fn parse_instance(raw: &str) -> Result<Url, String> {
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
    fn instance_urls() {
        assert_eq!(
            origin(&parse_instance("https://acme.my.salesforce.com/").unwrap()),
            "https://acme.my.salesforce.com"
        );
        assert!(parse_instance("http://acme.my.salesforce.com").is_err());
        assert!(parse_instance("https://acme.lightning.force.com").is_err());
        assert!(parse_instance("javascript:alert(1)").is_err());
        assert!(parse_instance("http://127.0.0.1:9").is_ok());
    }
}
