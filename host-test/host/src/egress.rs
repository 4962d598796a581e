//! Where a guest may send requests: an allowlist of origins, decided here for
//! every request before anything leaves the process.

use crate::send::{IoFuture, Sender};
use std::collections::BTreeSet;
use std::future::Future;
use std::sync::{Arc, RwLock};
use wasmtime_wasi_http::{Error, RequestOptions, WasiBody, WasiHttpHooks};

/// The origins (`scheme://host:port`) the guest may reach. Shared by every
/// instance of one client; the instance URL is added after authentication.
#[derive(Default, Debug)]
pub struct Policy {
    allowed: RwLock<BTreeSet<String>>,
    /// Also every origin the shared trust rule accepts as the instance of
    /// this login origin (with these extra hosts): for a guest whose session
    /// the host never sees, such as the agent component.
    instances_of: RwLock<Option<(String, Vec<String>)>>,
}

/// `https://Host:443/x` -> `https://host`; `http://127.0.0.1:8080/` ->
/// `http://127.0.0.1:8080`. `None` for what is not an http(s) URL.
pub fn origin_of(raw: &str) -> Option<String> {
    let with_scheme = if raw.contains("://") {
        raw.trim().to_string()
    } else {
        format!("https://{}", raw.trim())
    };
    let url = url::Url::parse(&with_scheme).ok()?;
    matches!(url.scheme(), "http" | "https")
        .then(|| url.origin().ascii_serialization())
        .filter(|o| o != "null")
}

/// Whether the bearer token may follow an `instance_url` to `origin`: the
/// component's own rule (`salesforce_connector::urls::trusts_instance`),
/// checked again here so that a swapped-in component cannot widen it.
pub fn is_trusted_instance(origin: &str, login_origin: Option<&str>, allowed: &[String]) -> bool {
    let login = login_origin.unwrap_or(salesforce_connector::urls::DEFAULT_LOGIN_URL);
    salesforce_connector::urls::trusts_instance(origin, login, allowed)
}

impl Policy {
    pub fn allow(&self, origin_or_url: &str) {
        if let Some(o) = origin_of(origin_or_url) {
            self.allowed.write().expect("policy lock").insert(o);
        }
    }

    /// Allows `login_url`'s origin and every instance origin the trust rule
    /// accepts for it ([`is_trusted_instance`]).
    pub fn allow_instances_of(&self, login_url: &str, allowed_hosts: Vec<String>) {
        self.allow(login_url);
        if let Some(login) = origin_of(login_url) {
            *self.instances_of.write().expect("policy lock") = Some((login, allowed_hosts));
        }
    }

    pub fn allows(&self, origin: &str) -> bool {
        if self.allowed.read().expect("policy lock").contains(origin) {
            return true;
        }
        let rule = self.instances_of.read().expect("policy lock");
        rule.as_ref()
            .is_some_and(|(login, hosts)| is_trusted_instance(origin, Some(login), hosts))
    }

    pub fn origins(&self) -> Vec<String> {
        self.allowed
            .read()
            .expect("policy lock")
            .iter()
            .cloned()
            .collect()
    }
}

/// Where request log lines go (`sf-host -v` prints them to stderr).
#[derive(Clone)]
pub struct RequestLog(Arc<dyn Fn(String) + Send + Sync>);

impl RequestLog {
    pub fn new(sink: impl Fn(String) + Send + Sync + 'static) -> Self {
        Self(Arc::new(sink))
    }

    pub fn stderr() -> Self {
        Self::new(|line| eprintln!("{line}"))
    }
}

impl std::fmt::Debug for RequestLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RequestLog")
    }
}

/// One line per request: method, URL (no headers, no body: that is where
/// tokens and passwords travel), then status or error, size and time.
fn log_line(
    method: &str,
    uri: &str,
    outcome: &Result<(http::Response<WasiBody>, IoFuture), Error>,
    elapsed: std::time::Duration,
) -> String {
    let result = match outcome {
        Ok((resp, _)) => {
            let length = resp
                .headers()
                .get(http::header::CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("?");
            format!("{} ({length} bytes)", resp.status().as_u16())
        }
        Err(e) => format!("failed: {e}"),
    };
    format!("sf-host: {method} {uri} -> {result} in {elapsed:.1?}")
}

/// The wasi:http hooks of one store: deny what the policy does not allow,
/// send the rest through [`Sender`].
pub struct Egress {
    pub policy: Arc<Policy>,
    pub sender: Sender,
    pub denied: Arc<std::sync::atomic::AtomicUsize>,
    pub log: Option<RequestLog>,
}

type SendResult = Result<(http::Response<WasiBody>, IoFuture), Error>;

impl WasiHttpHooks for Egress {
    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        _fut: IoFuture,
    ) -> Box<dyn Future<Output = SendResult> + Send> {
        let uri = request.uri().to_string();
        let origin = origin_of(&uri).unwrap_or_default();
        // Only a logging client pays for the log line's parts.
        let log = self
            .log
            .clone()
            .map(|log| (log, request.method().to_string(), uri));
        if !self.policy.allows(&origin) {
            self.denied
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            if let Some((log, method, uri)) = log {
                (log.0)(format!(
                    "sf-host: {method} {uri} -> denied (origin not allowed)"
                ));
            }
            return Box::new(async { Err(Error::HttpRequestDenied) });
        }
        let sender = self.sender.clone();
        Box::new(async move {
            let started = std::time::Instant::now();
            let outcome = sender.send(request, options).await;
            if let Some((log, method, uri)) = log {
                (log.0)(log_line(&method, &uri, &outcome, started.elapsed()));
            }
            outcome
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_normalize() {
        assert_eq!(
            origin_of("https://Login.Salesforce.com:443/x").as_deref(),
            Some("https://login.salesforce.com")
        );
        assert_eq!(
            origin_of("acme.my.salesforce.com").as_deref(),
            Some("https://acme.my.salesforce.com")
        );
        assert_eq!(
            origin_of("http://127.0.0.1:8080/").as_deref(),
            Some("http://127.0.0.1:8080")
        );
        assert_eq!(origin_of("file:///etc/passwd"), None);
        let p = Policy::default();
        p.allow("http://127.0.0.1:8080");
        assert!(p.allows("http://127.0.0.1:8080"));
        assert!(!p.allows("http://127.0.0.1:8081"));
        // The component's trust table, through the host's check.
        for (instance, login, allowed, expected) in salesforce_connector::urls::TRUST_CASES {
            let allowed: Vec<String> = allowed.iter().map(|a| a.to_string()).collect();
            assert_eq!(
                is_trusted_instance(instance, Some(login), &allowed),
                *expected,
                "{instance} with login {login} and allowed {allowed:?}"
            );
        }
    }
}
