//! W4, cold start: each contender as a new process, from spawn to exit after
//! its first query's records, alternating like the other workloads. The
//! kernel's rusage of each process (wait4) also gives its peak RSS.
//!
//! A small launcher (this binary with `__timed`) starts each one: a child's
//! peak RSS includes its parent's high-water mark at exec, which for the
//! harness itself would be tens of MB that are not the contender's.

use crate::contenders;
use crate::mock_process::{clean_env, MockProcess};
use crate::scripts::Script;
use crate::stats::Summary;
use crate::workloads;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

pub struct ColdResults {
    pub seconds: BTreeMap<&'static str, Summary>,
    /// Peak resident set of each process, bytes (median over the runs).
    pub peak_rss: BTreeMap<&'static str, f64>,
}

/// The command that runs contender `name`'s cold start.
fn command(name: &str, mock: &MockProcess, scripts: &[Script]) -> Command {
    match name {
        // The CLI loads the precompiled component from its cache (written
        // beside the .wasm on first use), as an installed host would.
        contenders::COMPONENT => {
            let mut cmd = Command::new(env!("CARGO_BIN_EXE_sf-host"));
            clean_env(&mut cmd)
                .args(["query", workloads::COLD_SOQL, "--format", "json"])
                .env("SF_LOGIN_URL", &mock.info.https_url)
                .env("SF_CA_FILE", &mock.info.ca_file)
                .env_remove("SF_COMPONENT")
                .envs(mock.info.env(&mock.raw));
            cmd
        }
        contenders::NATIVE => {
            let mut cmd = Command::new(std::env::current_exe().expect("current exe"));
            clean_env(&mut cmd)
                .arg("__native-cold")
                .envs(mock.info.env(&mock.raw));
            cmd
        }
        script => scripts
            .iter()
            .find(|s| s.name == script)
            .expect("a script contender")
            .command(mock, "cold"),
    }
}

/// Runs `cmd` to its end through the launcher: wall time and peak RSS
/// (bytes). Panics, with its stderr, if it failed.
fn timed(cmd: Command, stderr: &Path) -> (f64, f64) {
    let mut launcher = Command::new(std::env::current_exe().expect("current exe"));
    launcher
        .arg("__timed")
        .arg(cmd.get_program())
        .args(cmd.get_args())
        .stdin(Stdio::null())
        .stderr(std::fs::File::create(stderr).expect("stderr file"));
    for (key, value) in cmd.get_envs() {
        match value {
            Some(v) => launcher.env(key, v),
            None => launcher.env_remove(key),
        };
    }
    let out = launcher.output().expect("launcher");
    let (secs, rss): (f64, f64) = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| {
        panic!(
            "cold start failed: {cmd:?}\n{}",
            std::fs::read_to_string(stderr).unwrap_or_default()
        )
    });
    (secs, rss)
}

/// `__timed PROGRAM ARGS…`: runs it (stdout discarded, stderr shared) and
/// prints `[seconds, peak_rss_bytes]`; exits 1 if it failed.
// wait4 reaps the child; std's `wait` would not give its rusage.
#[allow(clippy::zombie_processes)]
pub fn launcher_main(command: &[String]) {
    let started = Instant::now();
    let child = Command::new(&command[0])
        .args(&command[1..])
        .stdout(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", command[0]));
    let mut status = 0;
    // SAFETY: a zeroed rusage is a valid value for wait4 to fill.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: the pid is our own child, not yet waited for; std's Child is
    // dropped without waiting.
    let pid = unsafe { libc::wait4(child.id() as libc::pid_t, &mut status, 0, &mut usage) };
    let elapsed = started.elapsed().as_secs_f64();
    assert_eq!(pid, child.id() as libc::pid_t, "wait4 failed");
    if !(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0) {
        eprintln!("{command:?} failed (wait status {status})");
        std::process::exit(1);
    }
    // ru_maxrss is in KiB on Linux.
    println!("[{elapsed}, {}]", usage.ru_maxrss as f64 * 1024.0);
}

pub fn measure(mock: &MockProcess, scripts: &[Script], runs: usize, scratch: &Path) -> ColdResults {
    let names = contenders::ALL;
    let stderr = scratch.join("cold-stderr.txt");
    // Once each untimed: the page cache, Python's bytecode, the .cwasm cache.
    for name in names {
        timed(command(name, mock, scripts), &stderr);
    }
    let mut seconds: BTreeMap<&'static str, Vec<f64>> = BTreeMap::new();
    let mut rss: BTreeMap<&'static str, Vec<f64>> = BTreeMap::new();
    for run in 0..runs {
        for k in 0..names.len() {
            let name = names[(run + k) % names.len()];
            let (secs, peak) = timed(command(name, mock, scripts), &stderr);
            seconds.entry(name).or_default().push(secs);
            rss.entry(name).or_default().push(peak);
        }
    }
    ColdResults {
        seconds: seconds
            .into_iter()
            .map(|(k, v)| (k, Summary::of(v)))
            .collect(),
        peak_rss: rss
            .into_iter()
            .map(|(k, v)| (k, Summary::median_of(v)))
            .collect(),
    }
}
