//! Contenders (c) simple-salesforce and (d) jsforce: the harness installs
//! each once into the cargo target directory (pinned by
//! `bench/python/requirements.txt` and `bench/node/package-lock.json`, redone
//! only when those change) and drives its script (`bench/*/contender.*`) as
//! a worker process: one JSON command per line in, one JSON timing per line
//! out (wall and the worker's own CPU seconds), so W1-W3 time steady-state
//! work and process start-up counts only in W4 and W5, which start the
//! script once per run (`cold`, `bulk-import`, `bulk-export`).

use crate::mock_process::{clean_env, MockProcess};
use crate::workloads::{Measured, Workload};
use std::io::{BufRead, BufReader, Lines, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

/// How to start one script contender: `program args… worker|cold`.
#[derive(Clone, Debug)]
pub struct Script {
    pub name: &'static str,
    pub program: PathBuf,
    pub args: Vec<PathBuf>,
    /// The variable through which this runtime trusts the mock's CA.
    pub ca_variable: &'static str,
    /// Runtime and library versions, for the report.
    pub versions: Vec<(String, String)>,
}

fn run(cmd: &mut Command, what: &str) {
    let status = cmd
        .status()
        .unwrap_or_else(|e| panic!("{what}: cannot start {cmd:?}: {e}"));
    assert!(status.success(), "{what} failed ({status}): {cmd:?}");
}

fn output(cmd: &mut Command) -> String {
    cmd.output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|| "unknown".into())
}

/// Whether `dir` was installed from exactly `lock`'s contents.
fn installed_from(dir: &Path, lock: &Path) -> bool {
    let stamp = std::fs::read(dir.join(".installed-from"));
    stamp.is_ok() && stamp.ok() == std::fs::read(lock).ok()
}

fn stamp(dir: &Path, lock: &Path) {
    std::fs::copy(lock, dir.join(".installed-from")).expect("stamp");
}

/// A virtualenv with simple-salesforce, created on the first run.
pub fn simple_salesforce(repo: &Path, cache: &Path) -> Script {
    let requirements = repo.join("bench/python/requirements.txt");
    let venv = cache.join("python-venv");
    let python = venv.join("bin/python");
    if !installed_from(&venv, &requirements) {
        eprintln!(
            "bench: installing simple-salesforce into {}",
            venv.display()
        );
        run(
            Command::new("python3")
                .args(["-m", "venv", "--clear"])
                .arg(&venv),
            "python3 -m venv",
        );
        run(
            Command::new(&python)
                .args(["-m", "pip", "install", "--quiet", "-r"])
                .arg(&requirements),
            "pip install",
        );
        stamp(&venv, &requirements);
    }
    let library = output(Command::new(&python).args([
        "-c",
        "import importlib.metadata as m; print(m.version('simple-salesforce'))",
    ]));
    Script {
        name: "simple-salesforce",
        args: vec![repo.join("bench/python/contender.py")],
        ca_variable: "REQUESTS_CA_BUNDLE",
        versions: vec![
            (
                "python".into(),
                output(Command::new(&python).arg("--version")).replace("Python ", ""),
            ),
            ("simple-salesforce".into(), library),
        ],
        program: python,
    }
}

/// jsforce from the committed lockfile (`npm ci`), run next to its
/// node_modules: ES modules resolve packages from the script's directory.
pub fn jsforce(repo: &Path, cache: &Path) -> Script {
    let source = repo.join("bench/node");
    let dir = cache.join("node");
    std::fs::create_dir_all(&dir).expect("node dir");
    let lock = source.join("package-lock.json");
    for file in ["package.json", "package-lock.json", "contender.mjs"] {
        std::fs::copy(source.join(file), dir.join(file)).expect("copy bench/node");
    }
    if !installed_from(&dir, &lock) {
        eprintln!("bench: installing jsforce into {}", dir.display());
        run(
            Command::new("npm")
                .args([
                    "ci",
                    "--ignore-scripts",
                    "--no-audit",
                    "--no-fund",
                    "--silent",
                ])
                .current_dir(&dir),
            "npm ci",
        );
        stamp(&dir, &lock);
    }
    let package: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("node_modules/jsforce/package.json"))
            .expect("jsforce installed"),
    )
    .expect("package.json");
    Script {
        name: "jsforce",
        program: PathBuf::from("node"),
        args: vec![dir.join("contender.mjs")],
        ca_variable: "NODE_EXTRA_CA_CERTS",
        versions: vec![
            (
                "node".into(),
                output(Command::new("node").arg("--version")).replace('v', ""),
            ),
            (
                "jsforce".into(),
                package["version"].as_str().unwrap_or("unknown").into(),
            ),
        ],
    }
}

impl Script {
    /// `program args… mode`, with the mock's details and CA, no proxies.
    pub fn command(&self, mock: &MockProcess, mode: &str) -> Command {
        let mut cmd = Command::new(&self.program);
        clean_env(&mut cmd)
            .args(&self.args)
            .arg(mode)
            .envs(mock.info.env(&mock.raw))
            .env(self.ca_variable, &mock.info.ca_file);
        cmd
    }
}

/// A script contender's worker process, logged in and waiting for commands.
pub struct Worker {
    child: Child,
    /// Closing it ends the worker.
    stdin: Option<ChildStdin>,
    stdout: Lines<BufReader<ChildStdout>>,
}

impl Worker {
    pub fn start(script: &Script, mock: &MockProcess) -> Worker {
        let mut child = script
            .command(mock, "worker")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", script.name));
        Worker {
            stdin: child.stdin.take(),
            stdout: BufReader::new(child.stdout.take().expect("piped")).lines(),
            child,
        }
    }

    /// Blocks this runtime thread while the worker runs; nothing else of
    /// ours is running meanwhile.
    pub fn run(&mut self, workload: Workload, n: usize) -> Measured {
        let command = serde_json::json!({"workload": workload.name(), "n": n});
        tokio::task::block_in_place(|| {
            let stdin = self.stdin.as_mut().expect("open until drop");
            writeln!(stdin, "{command}").expect("worker stdin");
            let line = self
                .stdout
                .next()
                .unwrap_or_else(|| panic!("the worker exited during {}", workload.name()))
                .expect("worker stdout");
            Measured(serde_json::from_str(&line).expect("the worker's timing JSON"))
        })
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let _ = self.child.wait();
    }
}
