//! The `sf-host` binary against the mock: output and exit codes
//! (0 ok, 2 usage/config, 3 auth, 4 API, 5 network, 6 denied).

mod support;

use sf_host::mock::{Mock, MockOptions};
use support::assert_clean;

/// Runs `sf-host -v ARGS` (every request logged to stderr) and checks that
/// no credential, in any encoding, is in stdout or stderr unless
/// `--show-token` asked for the token.
fn sf_host(mock: &Mock, args: &[&str]) -> (i32, String, String) {
    let out = support::sf_host(mock)
        .arg("-v")
        .args(args)
        .output()
        .expect("sf-host runs");
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    );
    if !args.contains(&"--show-token") {
        assert_clean(mock, &stdout);
    }
    assert_clean(mock, &stderr);
    (out.status.code().unwrap_or(-1), stdout, stderr)
}

#[tokio::test(flavor = "multi_thread")]
async fn exit_codes_and_output() {
    let mock = Mock::start(MockOptions::default()).await.unwrap();

    let (code, out, err) = sf_host(&mock, &["login", "--json"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("legacy") && err.contains("Allow OAuth Username-Password Flows"),
        "the password grant (inferred from the username and password) warns: {err}"
    );
    let session: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(session["instance_url"], mock.http_url());
    assert!(session["access_token"]
        .as_str()
        .unwrap()
        .starts_with("<hidden"));
    assert_eq!(session["signature_verified"], true);
    assert_clean(&mock, &out);

    let (code, out, _) = sf_host(&mock, &["login", "--show-token", "--json"]);
    assert_eq!(code, 0);
    let shown: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(shown["access_token"].as_str().unwrap().len() > 20);

    let (code, out, err) = sf_host(
        &mock,
        &[
            "query",
            "SELECT Id, Name FROM Account WHERE Name LIKE 'Acme%' ORDER BY Name",
            "--format",
            "csv",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("Id,Name\n"), "{out}");

    let (code, out, _) = sf_host(
        &mock,
        &["query", "SELECT Id FROM Account", "--format", "ndjson"],
    );
    assert_eq!(code, 0);
    assert!(out.lines().count() >= 2500, "all pages followed");

    let (code, out, _) = sf_host(
        &mock,
        &[
            "query",
            "SELECT Name, Industry, Id FROM Account LIMIT 2",
            "--format",
            "csv",
        ],
    );
    assert_eq!(code, 0);
    assert!(
        out.starts_with("Name,Industry,Id\n"),
        "columns follow the SELECT: {out}"
    );

    let (code, out, err) = sf_host(
        &mock,
        &[
            "call",
            "POST",
            "/services/data/v62.0/sobjects/Account",
            "--data",
            r#"{"Name":"CLI"}"#,
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("\"success\":true"), "{out}");

    let (code, _, err) = sf_host(
        &mock,
        &[
            "call",
            "GET",
            "/services/data/v62.0/sobjects/Account/001000000000000AAA",
        ],
    );
    assert_eq!(code, 4, "{err}");
    assert!(err.contains("NOT_FOUND"), "{err}");

    let (code, _, err) = sf_host(&mock, &["login", "--password", "wrong & bad"]);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("invalid_grant"), "{err}");
    assert_clean(&mock, &err);

    let (code, out, _) = sf_host(&mock, &["--json", "login", "--password", "Wr0ng-P4ss!"]);
    assert_eq!(code, 3);
    let e: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(e["error"]["kind"], "authentication_failed");

    let (code, _, err) = sf_host(
        &mock,
        &["login", "--login-url", "http://login.salesforce.com"],
    );
    assert_eq!(code, 2, "{err}");
    let (code, _, _) = sf_host(&mock, &["login", "--grant", "jwt"]);
    assert_eq!(code, 2, "the jwt grant needs a key");
    let (code, _, _) = sf_host(&mock, &["call", "FETCH", "/services/data"]);
    assert_eq!(code, 2);

    let (code, _, err) = sf_host(&mock, &["login", "--login-url", "http://127.0.0.1:1"]);
    assert_eq!(code, 5, "{err}");

    mock.knobs()
        .set_instance_url_override(Some("https://collector.example.com".into()));
    let (code, _, err) = sf_host(&mock, &["call", "GET", "/services/data/v62.0/limits"]);
    assert_eq!(code, 6, "{err}");
    assert_clean(&mock, &err);
}

#[tokio::test(flavor = "multi_thread")]
async fn operation_commands_and_the_tool_catalog() {
    let mock = Mock::start(MockOptions::default()).await.unwrap();

    let (code, out, err) = sf_host(&mock, &["tools"]);
    assert_eq!(code, 0, "{err}");
    let catalog: serde_json::Value = serde_json::from_str(&out).unwrap();
    let tools = catalog["tools"].as_array().unwrap();
    assert!(tools.iter().all(|t| t["name"].is_string()
        && t["description"].is_string()
        && t["inputSchema"]["type"] == "object"));

    let (code, out, err) = sf_host(
        &mock,
        &[
            "invoke",
            "soql_query",
            r#"{"soql":"SELECT Id FROM Account","max_records":5}"#,
        ],
    );
    assert_eq!(code, 0, "{err}");
    let result: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        (result["fetched"].as_u64(), result["truncated"].as_bool()),
        (Some(5), Some(true))
    );
    let (code, _, err) = sf_host(&mock, &["invoke", "soql_query", r#"{"soql":7}"#]);
    assert_eq!(code, 2, "a bad argument is a usage error");
    assert!(err.contains("arguments.soql"), "{err}");

    let (code, out, err) = sf_host(&mock, &["create", "Account", r#"{"Name":"CLI Op"}"#]);
    assert_eq!(code, 0, "{err}");
    let id = serde_json::from_str::<serde_json::Value>(&out).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        sf_host(
            &mock,
            &["update", "Account", &id, r#"{"Industry":"Energy"}"#]
        )
        .0,
        0
    );
    let (code, out, _) = sf_host(&mock, &["get", "Account", &id, "--fields", "Name,Industry"]);
    assert_eq!(code, 0);
    assert!(out.contains("Energy"), "{out}");
    let (code, out, _) = sf_host(
        &mock,
        &["upsert", "Account", "ExtId__c", "CLI-1", r#"{"Name":"Up"}"#],
    );
    assert_eq!(code, 0);
    assert!(out.contains("\"created\":true"), "{out}");
    let (code, _, err) = sf_host(
        &mock,
        &["upsert", "Account", "ExtId__c", "DUP-1", r#"{"Name":"Up"}"#],
    );
    assert_eq!(code, 4, "300 multiple choices: {err}");
    assert_eq!(sf_host(&mock, &["delete", "Account", &id]).0, 0);
    let (code, out, _) = sf_host(&mock, &["describe", "Account"]);
    assert_eq!(code, 0);
    assert!(out.contains("\"fields\""));

    let (code, out, err) = sf_host(
        &mock,
        &[
            "query",
            "SELECT Id FROM Account",
            "--max",
            "3",
            "--format",
            "ndjson",
        ],
    );
    assert_eq!(code, 0);
    assert_eq!(out.lines().count(), 3);
    assert!(err.contains("truncated"), "{err}");
}

/// The pooling allocator reserves terabytes of address space up front. Under
/// a limit (`ulimit -v`, valgrind, some containers) the host maps memory per
/// instance instead of refusing to start.
#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread")]
async fn runs_under_an_address_space_limit() {
    use std::os::unix::process::CommandExt;
    let mock = Mock::start(MockOptions::default()).await.unwrap();
    let mut cmd = support::sf_host(&mock);
    cmd.args([
        "query",
        "SELECT Id, Name FROM Account WHERE Name LIKE 'Acme%'",
    ]);
    // SAFETY: setrlimit is async-signal-safe; nothing else runs between
    // fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            let limit = libc::rlimit {
                rlim_cur: 16 << 30,
                rlim_max: 16 << 30,
            };
            match libc::setrlimit(libc::RLIMIT_AS, &limit) {
                0 => Ok(()),
                _ => Err(std::io::Error::last_os_error()),
            }
        });
    }
    let out = cmd.output().expect("sf-host runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("Acme"), "{stdout}");
}
