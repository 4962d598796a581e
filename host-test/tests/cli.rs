//! The `sf-host` binary against the mock: output and exit codes
//! (0 ok, 2 usage/config, 3 auth, 4 API, 5 network, 6 denied).

mod support;

use salesforce_mock::{Mock, MockOptions};
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;
use support::assert_clean;

/// Runs `sf-host -v ARGS` (every request logged to stderr) and checks that
/// no credential, in any encoding, is in stdout or stderr unless
/// `--show-token` asked for the token.
fn sf_host(mock: &Mock, args: &[&str]) -> (i32, String, String) {
    run(mock, support::sf_host(mock), args)
}

/// `sf_host` with its orgs stored under `home`.
fn sf_host_at(mock: &Mock, home: &Path, args: &[&str]) -> (i32, String, String) {
    let mut command = support::sf_host(mock);
    command.env("SF_HOST_HOME", home);
    run(mock, command, args)
}

fn run(mock: &Mock, mut command: Command, args: &[&str]) -> (i32, String, String) {
    let out = command.arg("-v").args(args).output().expect("sf-host runs");
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

/// The org file of `alias` under `home`, parsed.
fn stored(home: &Path, alias: &str) -> Value {
    let text = std::fs::read_to_string(home.join("orgs").join(format!("{alias}.json"))).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn stored_refresh_token(home: &Path, alias: &str) -> String {
    stored(home, alias)["refresh_token"]
        .as_str()
        .expect("a refresh token is stored")
        .to_string()
}

/// The refresh token the last refresh-token grant request presented.
fn last_refresh_token_sent(mock: &Mock) -> String {
    let sent = mock.requests().into_iter().rev().find_map(|r| {
        let form: Vec<(String, String)> = form_urlencoded::parse(&r.body).into_owned().collect();
        let field = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        (r.path == "/services/oauth2/token"
            && field("grant_type").as_deref() == Some("refresh_token"))
        .then(|| field("refresh_token"))
        .flatten()
    });
    sent.expect("a refresh-token grant was requested")
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

const QUERY: &str = "SELECT Id FROM Account LIMIT 1";

#[tokio::test(flavor = "multi_thread")]
async fn a_stored_org_renews_and_keeps_the_newest_refresh_token() {
    let mock = Mock::start(MockOptions::default()).await.unwrap();
    let home = tempfile::tempdir().unwrap();
    let home = home.path();
    let c = mock.credentials().clone();

    let login = [
        "login",
        "--alias",
        "acme",
        "--refresh-token",
        &c.refresh_token,
    ];
    let (code, _, err) = sf_host_at(&mock, home, &login);
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains("legacy"), "no password grant: {err}");
    let file = home.join("orgs/acme.json");
    assert!(err.contains(&file.display().to_string()), "{err}");
    assert_eq!((mode(&file), mode(&home.join("orgs"))), (0o600, 0o700));
    let text = std::fs::read_to_string(&file).unwrap();
    for absent in [
        &c.client_secret,
        &c.password,
        &c.security_token,
        "client_secret",
        "password",
    ] {
        assert!(!text.contains(absent), "{absent} in {text}");
    }
    let org = stored(home, "acme");
    assert_eq!(org["grant"], "refresh-token");
    assert_eq!(org["username"], c.username.as_str());
    assert_eq!(org["instance_url"], mock.http_url());
    assert_eq!(org["login_url"], mock.http_url());
    assert_eq!(org["client_id"], c.client_id.as_str());
    assert!(org["session"]["access_token"].is_string());

    let (code, out, _) = sf_host_at(&mock, home, &["orgs"]);
    assert_eq!(code, 0);
    let row = out
        .lines()
        .find(|l| l.starts_with("acme"))
        .expect("acme listed");
    for shown in [
        c.username.as_str(),
        &mock.http_url(),
        "refresh-token",
        "stored",
    ] {
        assert!(row.contains(shown), "{shown} in {row}");
    }
    let (code, out, _) = sf_host_at(&mock, home, &["orgs", "--json"]);
    assert_eq!(code, 0);
    let listed: Value = serde_json::from_str(&out).unwrap();
    let acme = &listed["orgs"][0];
    assert_eq!(acme["alias"], "acme");
    assert_eq!(acme["refresh_token_stored"], true);
    assert_eq!(acme["client_secret_stored"], false);

    let logins = mock.token_requests();
    let (code, out, err) = sf_host_at(&mock, home, &["query", QUERY, "--org", "acme"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("001"), "{out}");
    assert_eq!(
        mock.token_requests(),
        logins,
        "the stored session, no login"
    );

    // Rotation on (the mock's default): each renewal presents the stored
    // refresh token and stores the new one; off: the same token stays.
    for rotation in [true, true, false] {
        mock.knobs().set_refresh_token_rotation(rotation);
        let before = stored_refresh_token(home, "acme");
        mock.knobs().expire_all_sessions();
        let logins = mock.token_requests();
        let (code, _, err) = sf_host_at(&mock, home, &["query", QUERY, "--org", "acme"]);
        assert_eq!(code, 0, "{err}");
        assert_eq!(mock.token_requests(), logins + 1, "one renewal");
        assert_eq!(last_refresh_token_sent(&mock), before);
        let after = stored_refresh_token(home, "acme");
        assert_eq!(
            after != before,
            rotation,
            "the token the mock issued is stored"
        );
        assert_eq!(mock.refresh_token_reuses(), 0);
    }
    let logins = mock.token_requests();
    let (code, _, err) = sf_host_at(&mock, home, &["query", QUERY, "--org", "acme"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        mock.token_requests(),
        logins,
        "the renewed session was stored"
    );

    // `login --org` logs in again with the stored refresh token and keeps its successor.
    mock.knobs().set_refresh_token_rotation(true);
    let before = stored_refresh_token(home, "acme");
    let (code, _, err) = sf_host_at(&mock, home, &["login", "--org", "acme"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(last_refresh_token_sent(&mock), before);
    assert_ne!(stored_refresh_token(home, "acme"), before);
    assert_eq!(stored(home, "acme")["username"], c.username.as_str());
    assert_eq!(mock.refresh_token_reuses(), 0);

    let newest = stored_refresh_token(home, "acme");
    let (code, _, err) = sf_host_at(&mock, home, &["logout", "--org", "acme"]);
    assert_eq!(code, 0, "{err}");
    let revokes: Vec<_> = mock
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST" && r.path == "/services/oauth2/revoke")
        .collect();
    assert_eq!(revokes.len(), 1);
    let token: String = form_urlencoded::byte_serialize(newest.as_bytes()).collect();
    assert_eq!(revokes[0].body, format!("token={token}").into_bytes());
    assert_eq!(mock.revocations(), 1);
    assert!(!file.exists());

    let (code, _, err) = sf_host_at(&mock, home, &["query", QUERY, "--org", "acme"]);
    assert_eq!(code, 2, "{err}");
    let dir = home.join("orgs").display().to_string();
    assert!(err.contains("`acme`") && err.contains(&dir), "{err}");
    let (code, _, err) = sf_host_at(&mock, home, &["login", "--alias", "../acme"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("invalid org alias"), "{err}");
}

/// The client secret is stored only with --save-secret, and then renews the
/// org with no secret in the environment. A logout whose token Salesforce
/// refuses still forgets the org, and says so with exit code 3.
#[tokio::test(flavor = "multi_thread")]
async fn the_secret_is_stored_only_when_asked() {
    let mock = Mock::start(MockOptions::default()).await.unwrap();
    let home = tempfile::tempdir().unwrap();
    let home = home.path();
    let secret = mock.credentials().client_secret.clone();
    let login = ["login", "--grant", "client-credentials", "--alias"];
    let (code, _, err) = sf_host_at(&mock, home, &[&login[..], &["plain"]].concat());
    assert_eq!(code, 0, "{err}");
    assert!(!std::fs::read_to_string(home.join("orgs/plain.json"))
        .unwrap()
        .contains(&secret));
    let (code, _, err) = sf_host_at(
        &mock,
        home,
        &[&login[..], &["kept", "--save-secret"]].concat(),
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(stored(home, "kept")["client_secret"], secret.as_str());
    assert_eq!(mode(&home.join("orgs/kept.json")), 0o600);

    let (_, out, _) = sf_host_at(&mock, home, &["orgs", "--json"]);
    let listed: Value = serde_json::from_str(&out).unwrap();
    let secret_stored: Vec<_> = listed["orgs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                o["alias"].as_str().unwrap(),
                o["client_secret_stored"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(secret_stored, [("kept", true), ("plain", false)]);

    mock.knobs().expire_all_sessions();
    let mut command = support::sf_host(&mock);
    command
        .env("SF_HOST_HOME", home)
        .env_remove("SF_CLIENT_SECRET");
    let (code, _, err) = run(&mock, command, &["query", QUERY, "--org", "kept"]);
    assert_eq!(code, 0, "renewed with the stored secret: {err}");

    std::fs::copy(home.join("orgs/kept.json"), home.join("orgs/copy.json")).unwrap();
    assert_eq!(sf_host_at(&mock, home, &["logout", "--org", "kept"]).0, 0);
    let (code, _, err) = sf_host_at(&mock, home, &["logout", "--org", "copy"]);
    assert_eq!(code, 3, "the token is revoked already: {err}");
    assert!(err.contains("forgotten"), "{err}");
    assert!(!home.join("orgs/copy.json").exists());
    let (code, _, err) = sf_host_at(&mock, home, &["logout"]);
    assert_eq!(code, 2, "--org or --all: {err}");
    let mut command = support::sf_host(&mock);
    command.env("SF_HOST_HOME", home).env("SF_ORG", "gone");
    let (code, _, err) = run(&mock, command, &["logout", "--all"]);
    assert_eq!(code, 0, "--all wins over SF_ORG: {err}");
    assert!(!home.join("orgs/plain.json").exists());
}

/// `login --device`: the code goes to stderr, the person approves, and the
/// org is stored with the session's refresh token.
#[tokio::test(flavor = "multi_thread")]
async fn device_login_stores_the_org() {
    let mock = Mock::start(MockOptions::default()).await.unwrap();
    // The interval is rounded up to whole seconds: one poll a second.
    mock.knobs().set_device_interval(Duration::from_millis(1));
    let home = tempfile::tempdir().unwrap();
    let home = home.path();
    let mut child = support::sf_host(&mock)
        .env("SF_HOST_HOME", home)
        // sf-host gives up by itself after this: the test's hang guard.
        .args([
            "login",
            "--device",
            "--alias",
            "d",
            "--approval-timeout",
            "60",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("sf-host runs");
    let stderr = BufReader::new(child.stderr.take().unwrap());
    let (lines, seen) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        for line in stderr.lines().map_while(Result::ok) {
            let _ = lines.send(line);
        }
    });
    let mut err = String::new();
    let user_code = loop {
        let line = seen
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|e| panic!("no device code shown ({e}): {err}"));
        err.push_str(&line);
        err.push('\n');
        if let Some((_, code)) = line.split_once(" and enter ") {
            assert!(
                line.starts_with(&format!("Open {}/", mock.http_url())),
                "{line}"
            );
            break code.trim().to_string();
        }
    };
    assert!(mock.approve_device(&user_code), "{user_code}");
    let out = child.wait_with_output().unwrap();
    reader.join().unwrap();
    err.extend(seen.try_iter().map(|l| l + "\n"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{err}");
    assert_clean(&mock, &stdout);
    assert_clean(&mock, &err);

    let org = stored(home, "d");
    assert_eq!(org["grant"], "refresh-token");
    assert!(org["refresh_token"].as_str().unwrap().starts_with("5Aep"));
    assert_eq!(org["username"], mock.credentials().username.as_str());
    let logins = mock.token_requests();
    let (code, _, err) = sf_host_at(&mock, home, &["query", QUERY, "--org", "d"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(mock.token_requests(), logins);
}

/// A secret typed as an argument is in the process list for every user:
/// the CLI says so; `--password-stdin` keeps it off the command line.
#[tokio::test(flavor = "multi_thread")]
async fn secrets_stay_off_the_command_line() {
    use std::io::Write;
    let mock = Mock::start(MockOptions::default()).await.unwrap();
    let password = mock.credentials().password.clone();

    let out = support::sf_host(&mock)
        .env_remove("SF_PASSWORD")
        .args(["--password", &password, "login", "--json"])
        .output()
        .expect("sf-host runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("warning: --password on the command line is visible"),
        "{stderr}"
    );

    let mut child = support::sf_host(&mock)
        .env_remove("SF_PASSWORD")
        .args(["--password-stdin", "login", "--json"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("sf-host runs");
    let mut stdin = child.stdin.take().expect("stdin");
    writeln!(stdin, "{password}").expect("write the password");
    drop(stdin);
    let out = child.wait_with_output().expect("sf-host ends");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(!stderr.contains("warning: --"), "{stderr}");
    assert_clean(&mock, &stderr);
    assert_clean(&mock, &String::from_utf8_lossy(&out.stdout));
}

/// Types `password` into `sf-host ARGS` run on a pseudo-terminal when it
/// asks with echo off, and returns (exit code, everything the terminal showed). Python's
/// pty module is the terminal: CI installs python3 for the host tests.
fn on_a_terminal(mock: &Mock, password: &str, args: &[&str]) -> (i32, String) {
    const TERMINAL: &str = r#"
import os, pty, select, sys, termios, time
password = os.environ.pop("TYPED_PASSWORD").encode()
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
shown, typed = b"", False
while True:
    ready, _, _ = select.select([fd], [], [], 30)
    if not ready:
        break
    try:
        data = os.read(fd, 4096)
    except OSError:
        break
    if not data:
        break
    shown += data
    if not typed and b"Password for" in shown:
        # Type only once the program has turned echo off, as a person would
        # after the prompt; if it never does, fail.
        waited = 0
        while termios.tcgetattr(fd)[3] & termios.ECHO:
            time.sleep(0.01)
            waited += 1
            if waited > 3000:
                sys.exit("echo stayed on after the prompt")
        os.write(fd, password + b"\n")
        typed = True
_, status = os.waitpid(pid, 0)
sys.stdout.buffer.write(shown)
sys.exit(os.waitstatus_to_exitcode(status))
"#;
    let mut command = support::sf_host(mock);
    command.env_remove("SF_PASSWORD");
    let program = command.get_program().to_owned();
    let out = Command::new("python3")
        .envs(command.get_envs().filter_map(|(k, v)| Some((k, v?))))
        .env("TYPED_PASSWORD", password)
        .arg("-c")
        .arg(TERMINAL)
        .arg(program)
        .args(args)
        .output()
        .expect("python3 runs (CI installs it)");
    let shown = String::from_utf8_lossy(&out.stdout).into_owned();
    (out.status.code().unwrap_or(-1), shown)
}

#[tokio::test(flavor = "multi_thread")]
async fn the_password_is_asked_on_a_terminal_and_never_echoed() {
    let mock = Mock::start(MockOptions::default()).await.unwrap();
    let password = mock.credentials().password.clone();
    let (code, shown) = on_a_terminal(
        &mock,
        &password,
        &["login", "--grant", "password", "--json"],
    );
    assert_eq!(code, 0, "{shown}");
    assert!(shown.contains("Password for integration"), "{shown}");
    assert!(
        shown.contains("\"signature_verified\": true")
            || shown.contains("\"signature_verified\":true"),
        "{shown}"
    );
    assert_clean(&mock, &shown);

    // Not a terminal: no prompt and no hang, the usual error.
    let (code, _, err) = run(
        &mock,
        {
            let mut c = support::sf_host(&mock);
            c.env_remove("SF_PASSWORD").stdin(Stdio::null());
            c
        },
        &["login", "--grant", "password"],
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("needs --password"), "{err}");
}

/// `--component` also takes the agent component: `tools` lists its
/// functions, `invoke` calls one with the connection as its environment,
/// and the connector's other commands say they need the connector.
#[tokio::test(flavor = "multi_thread")]
async fn sf_host_loads_the_agent_component_too() {
    let mock = Mock::start(MockOptions::default()).await.unwrap();
    let agent = sf_host::default_agent_component_path();
    let agent = agent.to_str().expect("a UTF-8 path");

    let (code, out, err) = sf_host(&mock, &["--component", agent, "tools"]);
    assert_eq!(code, 0, "{err}");
    let listing: Value = serde_json::from_str(&out).expect("JSON");
    let tools = listing["tools"].as_array().expect("tools");
    assert_eq!(tools.len(), 24);
    assert!(tools.iter().any(|t| t["name"] == "describe-sobject"
        && t["description"]
            .as_str()
            .is_some_and(|d| d.starts_with("Describe one object"))));

    let soql = r#"{"soql": "SELECT Id, Name FROM Account LIMIT 2"}"#;
    let (code, out, err) = sf_host(&mock, &["--component", agent, "invoke", "soql-query", soql]);
    assert_eq!(code, 0, "{err}");
    let page: Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(page["records"].as_array().map(Vec::len), Some(2), "{page}");

    let (code, _, err) = sf_host(
        &mock,
        &["--component", agent, "invoke", "describe-sobject", "{}"],
    );
    assert_eq!(code, 2, "a missing argument is a usage error: {err}");

    let (code, _, err) = sf_host(&mock, &["--component", agent, "describe", "Account"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("agent component"), "{err}");
}
