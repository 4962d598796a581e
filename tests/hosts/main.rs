//! The same release .wasm, byte for byte, in three hosts: wasmtime
//! (`sf_host`), Node (jco + preview2-shim, `hosts/node`) and Python
//! (wasmtime-py, `hosts/python`). Each runs one scenario against its own
//! fresh mock (the mock is deterministic, so record ids match), and every
//! result must be identical: records, ids, the tool catalog, error variants
//! and their payloads.

#[path = "../common/mod.rs"]
mod common;
mod install;
mod reference;

use salesforce_mock::Mock;
use serde_json::Value;
use std::path::Path;
use std::process::Command;

/// A login URL where nothing listens: a port bound, then released.
fn unreachable_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    format!("http://{}", listener.local_addr().expect("addr"))
}

/// Runs a host program the way its README section says, with the mock's
/// credentials in the environment, and returns its JSON document.
async fn run_host(mut cmd: Command, mock: &Mock, login_url: &str, unreachable: &str) -> Value {
    let c = mock.credentials();
    cmd.arg("--component")
        .arg(common::connector().path())
        .args(["--login-url", login_url, "--unreachable-url", unreachable])
        .env("SF_CLIENT_ID", &c.client_id)
        .env("SF_CLIENT_SECRET", &c.client_secret)
        .env("SF_USERNAME", &c.username)
        .env("SF_PASSWORD", &c.password)
        .env("SF_SECURITY_TOKEN", &c.security_token)
        .env("SF_REFRESH_TOKEN", &c.refresh_token);
    let shown = format!("{cmd:?}");
    // Blocking, off the runtime's workers: the mock answers on them meanwhile.
    let out = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .expect("join")
        .unwrap_or_else(|e| panic!("cannot start {shown}: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let secrets = common::secrets(mock);
    common::assert_no_secret(&stdout, &secrets);
    common::assert_no_secret(&stderr, &secrets);
    assert!(
        out.status.success(),
        "{shown} failed ({}):\n{stderr}",
        out.status
    );
    // Renewal kept the newest refresh token: none was sent twice.
    assert_eq!(
        mock.refresh_token_reuses(),
        0,
        "{shown} reused a refresh token"
    );
    assert_eq!(
        mock.token_requests_for("refresh_token"),
        3,
        "{shown}: login + two renewals"
    );
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("not JSON ({e}):\n{stdout}"))
}

/// The scenario through the wasmtime host against its own mock, over HTTPS
/// or HTTP; returns the document and the mock's URL. It checks that the
/// scenario did what it should: a broken reference would prove nothing.
async fn wasmtime_reference(https: bool, unreachable: &str) -> (Value, String) {
    let mock = common::mock().await;
    let url = if https {
        mock.https_url()
    } else {
        mock.http_url()
    };
    let doc = reference::run(&mock, &url, unreachable).await;
    let r = &doc["results"];
    let all = &r["query-all-pages"]["ok"];
    assert_eq!(
        (all["fetched"].as_u64(), all["pages"].as_u64()),
        (Some(999), Some(5)),
        "{all}"
    );
    assert_eq!(r["query-pages"]["ok"].as_array().map(Vec::len), Some(5));
    assert_eq!(
        r["get-record"]["ok"]
            .as_str()
            .map(|b| b.contains("Portable Co")),
        Some(true)
    );
    let tag = |step: &str| {
        r[step]["err"]["tag"]
            .as_str()
            .unwrap_or("no error")
            .to_string()
    };
    assert_eq!(tag("get-deleted-record"), "api-error");
    assert_eq!(tag("invoke-bad-argument"), "invalid-request");
    assert_eq!(tag("wrong-password"), "authentication-failed");
    assert_eq!(tag("unreachable"), "transport");
    assert_eq!(r["refresh-login"]["ok"]["has-refresh-token"], true);
    assert_eq!(
        r["renew-expired"]["ok"],
        serde_json::json!({"limits-ok": true, "rotated": true})
    );
    assert_eq!(r["renew-again"]["ok"]["rotated"], true);
    assert!(r["tools"]["ok"].as_array().is_some_and(|t| t.len() >= 15));
    (doc, url)
}

/// Every step's result must be the same; the instance URL differs only by
/// the mock's port, so each is compared with its own mock's URL first.
fn assert_same_results(host: &Value, host_url: &str, wasmtime: &Value, wasmtime_url: &str) {
    let name = host["host"].as_str().unwrap_or("the host");
    let (mut ours, mut theirs) = (wasmtime["results"].clone(), host["results"].clone());
    for (doc, url) in [(&mut ours, wasmtime_url), (&mut theirs, host_url)] {
        let instance = &mut doc["authenticate"]["ok"]["instance-url"];
        assert_eq!(instance.as_str(), Some(url), "{name}: instance URL");
        *instance = Value::from("<the mock>");
        without_locators(doc);
    }
    let steps: Vec<&String> = ours.as_object().expect("results").keys().collect();
    let other: Vec<&String> = theirs.as_object().expect("results").keys().collect();
    assert_eq!(other, steps, "{name} ran other steps");
    for step in steps {
        if let Some(diff) = difference(&ours[step], &theirs[step], step) {
            panic!("{name} differs from wasmtime: {diff}");
        }
    }
}

/// Query locators are random per query (as Salesforce's are): keep the page
/// offset of each `next-records-url`, drop the locator's id.
fn without_locators(v: &mut Value) {
    match v {
        Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                match (k.as_str(), v.as_str()) {
                    ("next-records-url", Some(url)) => {
                        let (base, rest) = url.rsplit_once('/').unwrap_or(("", url));
                        let offset = rest.rsplit_once('-').map_or("", |(_, o)| o);
                        *v = Value::from(format!("{base}/<locator>-{offset}"));
                    }
                    _ => without_locators(v),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(without_locators),
        _ => {}
    }
}

/// Where two JSON values first differ (a path, and both sides there).
fn difference(a: &Value, b: &Value, at: &str) -> Option<String> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) if x.keys().eq(y.keys()) => x
            .iter()
            .find_map(|(k, v)| difference(v, &y[k], &format!("{at}.{k}"))),
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => (x.iter().zip(y))
            .enumerate()
            .find_map(|(i, (v, w))| difference(v, w, &format!("{at}[{i}]"))),
        (Value::String(x), Value::String(y)) if x != y => {
            let i = x.bytes().zip(y.bytes()).take_while(|(c, d)| c == d).count();
            let around = |s: &str| {
                s.get(i.saturating_sub(40)..)
                    .unwrap_or(s)
                    .chars()
                    .take(100)
                    .collect::<String>()
            };
            Some(format!(
                "{at} at byte {i}:\n  wasmtime: …{}\n  other:    …{}",
                around(x),
                around(y)
            ))
        }
        _ if a != b => Some(format!(
            "{at}:\n  wasmtime: {:.300}\n  other:    {:.300}",
            a.to_string(),
            b.to_string()
        )),
        _ => None,
    }
}

/// The host loaded the very file the wasmtime host did.
fn assert_same_component(host: &Value) {
    let path = common::connector().path().to_path_buf();
    assert_eq!(
        host["component"]["path"].as_str().map(Path::new),
        Some(path.as_path())
    );
    assert_eq!(
        host["component"]["sha256"].as_str(),
        Some(install::hash_file(&path).as_str()),
        "{} hashed another component",
        host["host"]
    );
}

/// Per-step times side by side (shown with `--nocapture`; README figures).
fn print_timings(host: &Value, wasmtime: &Value) {
    println!("{}: loaded in {} ms", host["host"], host["load-ms"]);
    for (step, ms) in host["timings-ms"].as_object().into_iter().flatten() {
        println!(
            "  {step:22} {ms:>9} ms   wasmtime {:>9} ms",
            wasmtime["timings-ms"][step]
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn node_runs_the_same_component_with_the_same_results() {
    let node_dir = install::node_host()
        .expect("`node` is needed to test the Node host (hosts/node); .ci/run installs it");
    // Over HTTPS: Node trusts the mock's CA through NODE_EXTRA_CA_CERTS.
    let unreachable = unreachable_url();
    let (wasmtime, wasmtime_url) = wasmtime_reference(true, &unreachable).await;
    let mock = common::mock().await;
    let mut cmd = Command::new("node");
    cmd.current_dir(&node_dir)
        .arg("host.js")
        .arg("--scratch-dir")
        .arg(install::scratch("hosts-node-jco"))
        .env("NODE_EXTRA_CA_CERTS", mock.ca_file());
    let node = run_host(cmd, &mock, &mock.https_url(), &unreachable).await;
    assert_same_component(&node);
    assert_same_results(&node, &mock.https_url(), &wasmtime, &wasmtime_url);
    print_timings(&node, &wasmtime);
}

#[tokio::test(flavor = "multi_thread")]
async fn python_runs_the_same_component_with_the_same_results() {
    let python = install::python_host()
        .expect("`python3` is needed to test the Python host (hosts/python); .ci/run installs it");
    // Over plain HTTP (loopback): wasmtime-py's wasi:http trusts the public
    // web roots only, so it cannot verify the mock's certificate.
    let unreachable = unreachable_url();
    let (wasmtime, wasmtime_url) = wasmtime_reference(false, &unreachable).await;
    let mock = common::mock().await;
    let mut cmd = Command::new(python);
    cmd.arg(install::repo().join("hosts/python/host.py"))
        .arg("--scratch-dir")
        .arg(install::scratch("hosts-python-cache"));
    let python = run_host(cmd, &mock, &mock.http_url(), &unreachable).await;
    assert_same_component(&python);
    assert_same_results(&python, &mock.http_url(), &wasmtime, &wasmtime_url);
    print_timings(&python, &wasmtime);
}
