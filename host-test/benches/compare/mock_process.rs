//! The project's mock in a process of its own (this binary started with
//! `__mock`), so its work and memory are not the host's. Every contender
//! talks to it over real HTTP(S) on loopback.

use salesforce_mock::{Mock, MockOptions};
use serde::Deserialize;
use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// What `Mock::connection_info` prints, as every contender needs it.
#[derive(Clone, Debug, Deserialize)]
pub struct MockInfo {
    pub http_url: String,
    pub https_url: String,
    pub ca_file: PathBuf,
    pub client_id: String,
    pub client_secret: String,
    pub username: String,
    pub password: String,
    pub security_token: String,
}

/// Subprocesses of the harness find the mock in this variable.
const ENV: &str = "BENCH_MOCK";

impl MockInfo {
    pub fn from_env() -> MockInfo {
        serde_json::from_str(&std::env::var(ENV).expect("BENCH_MOCK is set by the harness"))
            .expect("BENCH_MOCK is the mock's connection info")
    }

    pub fn ca_pem(&self) -> String {
        std::fs::read_to_string(&self.ca_file).expect("the mock's CA file")
    }

    pub fn config(&self, login_url: &str) -> salesforce_host::wit::Config {
        use salesforce_host::wit;
        wit::Config {
            login_url: Some(login_url.to_string()),
            client_id: Some(self.client_id.clone()),
            client_secret: Some(self.client_secret.clone()),
            ..wit::Config::new(wit::Grant::Password(wit::PasswordGrant {
                username: self.username.clone(),
                password: self.password.clone(),
                security_token: Some(self.security_token.clone()),
            }))
        }
    }

    /// The variables every contender process gets: the mock, the
    /// credentials, the workloads' parameters.
    pub fn env(&self, raw: &str) -> Vec<(&'static str, String)> {
        use crate::workloads as w;
        vec![
            (ENV, raw.to_string()),
            ("BENCH_LOGIN_URL", self.https_url.clone()),
            ("BENCH_ACCOUNT_ID", w::ACCOUNT_ID.into()),
            ("BENCH_PAGED_SOQL", w::PAGED_SOQL.into()),
            ("BENCH_PAGED_RECORDS", w::PAGED_RECORDS.to_string()),
            ("BENCH_COLD_SOQL", w::COLD_SOQL.into()),
            ("BENCH_BATCH", w::BATCH.to_string()),
            ("BENCH_API_VERSION", w::API_VERSION.into()),
            ("BENCH_BULK_ROWS", w::BULK_ROWS.to_string()),
            ("BENCH_BULK_POLL_MS", w::BULK_POLL_MS.to_string()),
            ("SF_CLIENT_ID", self.client_id.clone()),
            ("SF_CLIENT_SECRET", self.client_secret.clone()),
            ("SF_USERNAME", self.username.clone()),
            ("SF_PASSWORD", self.password.clone()),
            ("SF_SECURITY_TOKEN", self.security_token.clone()),
        ]
    }
}

/// Proxy variables would send even loopback calls elsewhere (jsforce
/// ignores `NO_PROXY`); no contender gets them.
pub fn clean_env(cmd: &mut Command) -> &mut Command {
    for var in [
        "http_proxy",
        "https_proxy",
        "all_proxy",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

/// The running mock process; dropping it ends it.
pub struct MockProcess {
    child: Child,
    pub info: MockInfo,
    /// The connection info as printed, for `BENCH_MOCK`.
    pub raw: String,
}

impl MockProcess {
    /// Starts the mock seeded with `extra_accounts` Accounts beyond its 2,500.
    pub fn start(extra_accounts: usize) -> MockProcess {
        let exe = std::env::current_exe().expect("current exe");
        let mut child = clean_env(&mut Command::new(exe))
            .args(["__mock", &extra_accounts.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the mock");
        let mut first = String::new();
        BufReader::new(child.stdout.as_mut().expect("piped"))
            .read_line(&mut first)
            .expect("the mock's first line");
        let info = serde_json::from_str(&first).expect("the mock's connection info");
        MockProcess {
            child,
            info,
            raw: first.trim().to_string(),
        }
    }

    /// The mock process's CPU time so far (user + system, `/proc/PID/stat`,
    /// in clock ticks of usually 10 ms): what serving costs, which no
    /// client's CPU figure includes.
    pub fn cpu(&self) -> Duration {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id()))
            .expect("the mock's /proc stat");
        // Fields after the command name, which is in parentheses: state is
        // field 3, utime 14 and stime 15.
        let fields: Vec<&str> = stat
            .rsplit_once(')')
            .map_or("", |(_, rest)| rest)
            .split_whitespace()
            .collect();
        let ticks: u64 =
            fields[11].parse::<u64>().expect("utime") + fields[12].parse::<u64>().expect("stime");
        // SAFETY: sysconf has no preconditions.
        let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
        Duration::from_nanos(ticks * 1_000_000_000 / per_second)
    }
}

impl Drop for MockProcess {
    fn drop(&mut self) {
        // Closing its stdin ends it; it exits by itself.
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }
}

/// `__mock N`: serve until stdin closes (the harness ended or died).
pub fn serve(extra_accounts: usize) {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let mock = Mock::start(MockOptions {
            extra_accounts,
            ..Default::default()
        })
        .await
        .expect("start the mock");
        println!("{}", mock.connection_info());
        tokio::task::spawn_blocking(|| {
            let _ = std::io::stdin().read_to_end(&mut Vec::new());
        })
        .await
        .expect("stdin watcher");
        mock.shutdown().await;
    });
}
