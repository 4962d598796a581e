//! The peer clients, unchanged, against the mock's Bulk API 2.0:
//! simple-salesforce's `sf.bulk2` (bench/python/bulk_peer.py) and jsforce's
//! `conn.bulk2` (bench/node/bulk_peer.mjs), on loopback (jsforce over http,
//! simple-salesforce over https: it always builds https URLs).
//! Both are installed as the compare benchmark installs them
//! (host-test/benches/compare/scripts.rs): a venv from
//! bench/python/requirements.txt and `npm ci` from bench/node's lockfile,
//! redone only when those change. Missing python3, node or npm fails the test.

use salesforce_mock::{Mock, MockOptions};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn cache() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("peers");
    std::fs::create_dir_all(&dir).expect("cache dir");
    dir
}

fn run(cmd: &mut Command, what: &str) {
    let status = cmd
        .status()
        .unwrap_or_else(|e| panic!("{what}: cannot start {cmd:?}: {e} (is it installed?)"));
    assert!(status.success(), "{what} failed ({status}): {cmd:?}");
}

/// Whether `dir` was installed from exactly `lock`'s contents.
fn installed_from(dir: &Path, lock: &Path) -> bool {
    let stamp = std::fs::read(dir.join(".installed-from"));
    stamp.is_ok() && stamp.ok() == std::fs::read(lock).ok()
}

fn stamp(dir: &Path, lock: &Path) {
    std::fs::copy(lock, dir.join(".installed-from")).expect("stamp");
}

fn python() -> PathBuf {
    let requirements = repo().join("bench/python/requirements.txt");
    let venv = cache().join("python-venv");
    if !installed_from(&venv, &requirements) {
        run(
            Command::new("python3")
                .args(["-m", "venv", "--clear"])
                .arg(&venv),
            "python3 -m venv",
        );
        let pip = venv.join("bin/python");
        run(
            Command::new(&pip)
                .args(["-m", "pip", "install", "--quiet", "-r"])
                .arg(&requirements),
            "pip install",
        );
        stamp(&venv, &requirements);
    }
    venv.join("bin/python")
}

/// jsforce next to the script: ES modules resolve packages from its directory.
fn node_dir() -> PathBuf {
    let source = repo().join("bench/node");
    let dir = cache().join("node");
    std::fs::create_dir_all(&dir).expect("node dir");
    for file in ["package.json", "package-lock.json", "bulk_peer.mjs"] {
        std::fs::copy(source.join(file), dir.join(file)).expect("copy bench/node");
    }
    let lock = source.join("package-lock.json");
    if !installed_from(&dir, &lock) {
        let args = [
            "ci",
            "--ignore-scripts",
            "--no-audit",
            "--no-fund",
            "--silent",
        ];
        run(Command::new("npm").args(args).current_dir(&dir), "npm ci");
        stamp(&dir, &lock);
    }
    dir
}

/// Run a peer script with only the mock's details in its environment (no
/// proxies: jsforce would send loopback calls to one) and parse its last line.
/// simple-salesforce builds `https://{instance}` whatever `instance_url`
/// says, so it gets the HTTPS listener and trusts the mock's CA.
async fn peer(mock: &Mock, program: PathBuf, script: PathBuf, https: bool) -> Value {
    let c = mock.credentials();
    let mut cmd = Command::new(program);
    let url = if https {
        mock.https_url()
    } else {
        mock.http_url()
    };
    cmd.arg(script)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", std::env::var("HOME").unwrap_or_default())
        .env("MOCK_URL", url)
        .env("REQUESTS_CA_BUNDLE", mock.ca_file())
        .env("SF_USERNAME", &c.username)
        .env("SF_PASSWORD", &c.password)
        .env("SF_SECURITY_TOKEN", &c.security_token)
        .env("SF_CLIENT_ID", &c.client_id)
        .env("SF_CLIENT_SECRET", &c.client_secret);
    let out = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .unwrap()
        .expect("the peer starts");
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(
        out.status.success(),
        "peer failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
    let last = stdout.lines().last().unwrap_or_default();
    serde_json::from_str(last).unwrap_or_else(|e| panic!("{e}: {stdout}\n{stderr}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn simple_salesforce_bulk2_insert_upsert_query() {
    let python = tokio::task::spawn_blocking(python).await.unwrap();
    let mock = Mock::start(MockOptions::default())
        .await
        .expect("mock starts");
    let seen = peer(
        &mock,
        python,
        repo().join("bench/python/bulk_peer.py"),
        true,
    )
    .await;
    assert_eq!(seen["insert"], json!([251, 1]), "{seen}");
    let failed = seen["failed"].as_str().unwrap();
    assert!(
        failed.contains("\"REQUIRED_FIELD_MISSING:Required fields are missing: [Name]:Name --\""),
        "{failed}"
    );
    assert_eq!(seen["upsert"], json!([10, 0]), "{seen}");
    assert_eq!(
        (seen["query_pages"].as_u64(), seen["query_rows"].as_u64()),
        (Some(3), Some(255)),
        "{seen}"
    );
    assert_eq!(seen["rest_upserted"], 10, "5 updated and 5 created: {seen}");
}

#[tokio::test(flavor = "multi_thread")]
async fn jsforce_bulk2_load_and_query() {
    let dir = tokio::task::spawn_blocking(node_dir).await.unwrap();
    let mock = Mock::start(MockOptions::default())
        .await
        .expect("mock starts");
    let seen = peer(
        &mock,
        PathBuf::from("node"),
        dir.join("bulk_peer.mjs"),
        false,
    )
    .await;
    assert_eq!(seen["insert"], json!([250, 1, 0]), "{seen}");
    assert_eq!(
        seen["failed"],
        json!(["REQUIRED_FIELD_MISSING:Required fields are missing: [Name]:Name --"])
    );
    assert_eq!(seen["created"], true);
    assert_eq!(seen["upsert"], json!([5, 5]), "{seen}");
    assert_eq!(
        (seen["query_rows"].as_u64(), seen["query_again"].as_u64()),
        (Some(255), Some(10)),
        "{seen}"
    );
}
