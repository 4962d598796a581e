//! `sf-host mcp` the way an MCP client runs it: a child process spoken to in
//! JSON-RPC lines over stdin and stdout, against the mock org in this
//! process. Raw lines rather than an SDK client: they pin the wire format
//! itself (ids, `isError`, the error code), which a client library would
//! translate away, and the test needs no second MCP implementation.

mod support;

use salesforce_host::{Client, ClientOptions, Connector};
use salesforce_mock::{Mock, MockOptions};
use serde_json::{json, Value};
use sf_host::MockConfig;
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use support::assert_clean;

/// Long enough for a slow CI machine; a hang fails instead of blocking CI.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(30);

/// A running `sf-host mcp`, with every stdout line it wrote kept.
struct McpServer {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
    stderr: JoinHandle<String>,
    stdout: Vec<String>,
    next_id: u64,
}

impl McpServer {
    fn start(command: Command) -> Self {
        Self::start_with(command, &[])
    }

    /// `sf-host ... mcp ARGS`.
    fn start_with(mut command: Command, args: &[&str]) -> Self {
        let mut child = command
            .arg("mcp")
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("sf-host mcp starts");
        let out = BufReader::new(child.stdout.take().expect("stdout"));
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in out.lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut err = child.stderr.take().expect("stderr");
        let stderr = std::thread::spawn(move || {
            let mut text = String::new();
            let _ = err.read_to_string(&mut text);
            text
        });
        Self {
            stdin: child.stdin.take(),
            child,
            lines,
            stderr,
            stdout: Vec::new(),
            next_id: 0,
        }
    }

    fn send(&mut self, message: Value) {
        let stdin = self.stdin.as_mut().expect("stdin open");
        writeln!(stdin, "{message}").expect("write to sf-host mcp");
        stdin.flush().expect("flush");
    }

    /// Sends a request and returns its response. Every line on stdout must
    /// be a JSON-RPC 2.0 message: anything else would break the client.
    fn request(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        self.send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        let deadline = Instant::now() + ANSWER_TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = self
                .lines
                .recv_timeout(left)
                .unwrap_or_else(|e| panic!("no answer to {method} ({e})"));
            let message: Value = serde_json::from_str(&line)
                .unwrap_or_else(|e| panic!("stdout line is not JSON ({e}): {line}"));
            assert_eq!(message["jsonrpc"], "2.0", "{line}");
            self.stdout.push(line);
            if message["id"] == id {
                return message;
            }
        }
    }

    /// `tools/call`; the answer must be a result, not a protocol error.
    fn call(&mut self, name: &str, arguments: Value) -> ToolResult {
        let answer = self.request("tools/call", json!({"name": name, "arguments": arguments}));
        let result = &answer["result"];
        assert!(result.is_object(), "tools/call {name}: {answer}");
        ToolResult {
            is_error: result["isError"] == true,
            text: result["content"][0]["text"]
                .as_str()
                .unwrap_or_else(|| panic!("no text content: {answer}"))
                .to_string(),
        }
    }

    /// Closes stdin, as a client does when it quits, and waits for the exit.
    fn finish(mut self) -> (ExitStatus, String, String) {
        drop(self.stdin.take());
        let deadline = Instant::now() + ANSWER_TIMEOUT;
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                break status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("sf-host mcp did not exit after stdin closed");
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        self.stdout.extend(self.lines.try_iter());
        let stderr = self.stderr.join().expect("stderr reader");
        (status, self.stdout.join("\n"), stderr)
    }
}

struct ToolResult {
    is_error: bool,
    text: String,
}

impl ToolResult {
    fn json(&self) -> Value {
        assert!(!self.is_error, "tool failed: {}", self.text);
        serde_json::from_str(&self.text).expect("tool result is JSON")
    }
}

fn initialize(server: &mut McpServer) -> Value {
    let answer = server.request(
        "initialize",
        json!({
            "protocolVersion": "2025-06-18",
            "capabilities": {},
            "clientInfo": {"name": "sf-host-test", "version": "0"},
        }),
    );
    server.send(json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));
    answer
}

fn names(records: &Value) -> Vec<&str> {
    records
        .as_array()
        .expect("records")
        .iter()
        .map(|r| r["Name"].as_str().expect("Name"))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn lists_and_runs_the_component_tools_with_one_session() {
    let mock = Mock::start(MockOptions::default()).await.unwrap();
    let mut server = McpServer::start({
        let mut c = support::sf_host(&mock);
        c.arg("-v");
        c
    });

    let init = initialize(&mut server);
    assert_eq!(init["result"]["protocolVersion"], "2025-06-18", "{init}");
    assert_eq!(init["result"]["serverInfo"]["name"], "sf-host");
    assert!(
        init["result"]["capabilities"]["tools"].is_object(),
        "{init}"
    );

    // The list is the component's catalog, field for field.
    let listed = server.request("tools/list", json!({}));
    let listed = listed["result"]["tools"].as_array().expect("tools").clone();
    let connector = Arc::new(Connector::load(&sf_host::default_component_path()).unwrap());
    let config = mock.config(&mock.http_url(), mock.password_grant());
    let catalog = Client::new(connector, config, ClientOptions::default())
        .unwrap()
        .tools()
        .await
        .unwrap();
    assert_eq!(listed.len(), catalog.len());
    for (mcp, component) in listed.iter().zip(&catalog) {
        assert_eq!(mcp["name"], component.name.as_str());
        assert_eq!(mcp["description"], component.description.as_str());
        let schema: Value = serde_json::from_str(&component.input_schema).unwrap();
        assert_eq!(mcp["inputSchema"], schema, "{}", component.name);
    }
    assert_eq!(mock.token_requests(), 0, "no login before the first call");

    let found = server
        .call(
            "soql_query",
            json!({"soql": "SELECT Id, Name, ExtId__c FROM Account WHERE Name LIKE 'Duplicate Holdings%' ORDER BY Name"}),
        )
        .json();
    assert_eq!(found["totalSize"], 2, "{found}");
    assert_eq!(
        names(&found["records"]),
        ["Duplicate Holdings A", "Duplicate Holdings B"]
    );
    assert!(found["records"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["ExtId__c"] == "DUP-1"));
    let capped = server
        .call(
            "soql_query",
            json!({"soql": "SELECT Id FROM Account", "max_records": 3}),
        )
        .json();
    assert_eq!(
        (&capped["fetched"], &capped["truncated"]),
        (&json!(3), &json!(true))
    );
    assert_eq!(mock.token_requests(), 1, "one login for both calls");

    // A bad argument is a tool result the model can read, not a protocol error.
    let bad = server.call("soql_query", json!({"soql": 7}));
    assert!(bad.is_error, "{}", bad.text);
    assert!(bad.text.contains("arguments.soql"), "{}", bad.text);
    // A name tools/list never offered is MCP's invalid-params error.
    let unknown = server.request("tools/call", json!({"name": "drop_org", "arguments": {}}));
    assert_eq!(unknown["error"]["code"], -32602, "{unknown}");
    assert!(unknown["error"]["message"]
        .as_str()
        .unwrap()
        .contains("drop_org"));

    // An expired session is renewed once, transparently.
    mock.knobs().expire_all_sessions();
    let renewed = server
        .call(
            "soql_query",
            json!({"soql": "SELECT Name FROM Account WHERE ExtId__c = 'EXT-ACME'"}),
        )
        .json();
    assert_eq!(names(&renewed["records"]), ["Acme Corp"]);
    assert_eq!(mock.token_requests(), 2);
    // A session refused again right after the renewal is reported, not looped on.
    mock.knobs().set_persistent_401(true);
    let expired = server.call("org_limits", json!({}));
    assert!(expired.is_error, "{}", expired.text);
    assert!(expired.text.contains("session expired"), "{}", expired.text);
    assert_eq!(mock.token_requests(), 3, "exactly one re-authentication");
    mock.knobs().set_persistent_401(false);

    let (status, stdout, stderr) = server.finish();
    assert!(status.success(), "exit {status}: {stderr}");
    assert!(
        stderr.contains("sf-host: POST http://127.0.0.1:") && stderr.contains("/query?"),
        "-v logs requests to stderr: {stderr}"
    );
    assert_clean(&mock, &stdout);
    assert_clean(&mock, &stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_login_is_reported_and_not_retried() {
    let mock = Mock::start(MockOptions::default()).await.unwrap();
    let mut server = McpServer::start({
        let mut c = support::sf_host(&mock);
        c.env("SF_PASSWORD", "Wr0ng-P4ss!");
        c
    });
    initialize(&mut server);
    for _ in 0..2 {
        let refused = server.call("org_limits", json!({}));
        assert!(refused.is_error, "{}", refused.text);
        assert!(
            refused.text.contains("authentication failed") && refused.text.contains("restart"),
            "{}",
            refused.text
        );
    }
    assert_eq!(
        mock.token_requests(),
        1,
        "one failed login, however many calls"
    );
    let (status, stdout, stderr) = server.finish();
    assert!(status.success(), "exit {status}: {stderr}");
    assert_clean(&mock, &stdout);
    assert_clean(&mock, &stderr);

    // A config error stops it before MCP starts: on stderr, even with --json,
    // since stdout is the protocol's.
    let out = support::sf_host(&mock)
        .args(["--json", "--grant", "jwt", "mcp"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        out.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("--private-key"));
}

/// The owner's guardrails, set in the MCP client's configuration (here the
/// environment), hold whatever the model asks.
#[tokio::test(flavor = "multi_thread")]
async fn guardrails_from_the_configuration_hold_against_the_model() {
    let mock = Mock::start(MockOptions::default()).await.unwrap();
    let mut server = McpServer::start({
        let mut c = support::sf_host(&mock);
        c.env("SF_READ_ONLY", "true")
            .env("SF_ALLOWED_OBJECTS", "Account")
            .env("SF_MAX_ROWS", "2");
        c
    });
    initialize(&mut server);
    let found = server
        .call(
            "soql_query",
            json!({"soql": "SELECT Name FROM Account", "max_records": 50}),
        )
        .json();
    assert_eq!(
        (&found["fetched"], &found["truncated"]),
        (&json!(2), &json!(true))
    );
    let refusals = [
        (
            "create_record",
            json!({"sobject": "Account", "fields": {"Name": "X"}}),
            "read-only",
        ),
        (
            "soql_query",
            json!({"soql": "SELECT Name, (SELECT LastName FROM Contacts) FROM Account"}),
            "`Contact`",
        ),
        (
            "soql_query",
            json!({"soql": "SELECT LastName FROM Contact"}),
            "`Contact`",
        ),
    ];
    for (tool, args, names) in refusals {
        let refused = server.call(tool, args);
        assert!(
            refused.is_error && refused.text.contains(names),
            "{tool}: {}",
            refused.text
        );
        assert!(refused.text.contains("denied"), "{}", refused.text);
    }
    let (status, stdout, stderr) = server.finish();
    assert!(status.success(), "exit {status}: {stderr}");
    assert_clean(&mock, &stdout);
}

/// A bulk query answers the model with a sample; with --export-dir the
/// host saves every row to a file (page by page) and hands over its path.
#[tokio::test(flavor = "multi_thread")]
async fn a_bulk_query_gives_the_model_a_sample_and_the_path_of_every_row() {
    let mock = Mock::start(MockOptions {
        extra_accounts: 2_500,
        ..Default::default()
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let exports = dir.path().to_str().unwrap();
    let mut server = McpServer::start_with(support::sf_host(&mock), &["--export-dir", exports]);
    initialize(&mut server);
    let soql = "SELECT Id, Name FROM Account WHERE Name LIKE 'Bulk%' ORDER BY Name";
    let result = server
        .call("bulk_query", json!({"soql": soql, "sample_rows": 5}))
        .json();
    assert_eq!(result["complete"], true, "{result}");
    assert_eq!(result["sampleRows"], 5, "{result}");
    assert_eq!(result["rows"], 2_500, "{result}");
    let file = result["file"].as_str().expect("file");
    assert!(file.starts_with(exports), "{file}");
    let csv = std::fs::read_to_string(file).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 2_501, "one header and every row once");
    assert_eq!(lines[0], "\"Id\",\"Name\"");
    assert!(lines[1].ends_with("\"Bulk 00001\""), "{}", lines[1]);
    assert!(lines[2_500].ends_with("\"Bulk 02500\""), "{}", lines[2_500]);
    let (status, stdout, stderr) = server.finish();
    assert!(status.success(), "exit {status}: {stderr}");
    assert_clean(&mock, &stdout);
}
