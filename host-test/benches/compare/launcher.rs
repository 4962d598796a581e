//! One contender process, measured by the kernel: a small launcher (this
//! binary with `__timed`) starts it, reaps it with `wait4` and reports its
//! wall time, its CPU time (user + system of that process and whatever it
//! waited for, nothing of the launcher, the harness or the mock) and its
//! peak RSS. The launcher is there because a child's peak RSS includes its
//! parent's high-water mark at exec, which for the harness itself would be
//! tens of MB that are not the contender's.

use crate::clock;
use crate::stats::Summary;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

/// What one process took.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub struct Usage {
    pub wall_s: f64,
    pub cpu_s: f64,
    pub peak_rss_bytes: f64,
}

/// Each contender's processes, by contender: wall and CPU seconds, and
/// peak RSS (bytes, median over the runs).
pub struct Processes {
    pub seconds: BTreeMap<&'static str, Summary>,
    pub cpu: BTreeMap<&'static str, Summary>,
    pub peak_rss: BTreeMap<&'static str, f64>,
}

impl Processes {
    pub fn of(runs: BTreeMap<&'static str, Vec<Usage>>) -> Processes {
        let mut out = Processes {
            seconds: BTreeMap::new(),
            cpu: BTreeMap::new(),
            peak_rss: BTreeMap::new(),
        };
        for (name, usages) in runs {
            let take = |f: fn(&Usage) -> f64| usages.iter().map(f).collect::<Vec<f64>>();
            out.seconds.insert(name, Summary::of(take(|u| u.wall_s)));
            out.cpu.insert(name, Summary::of(take(|u| u.cpu_s)));
            out.peak_rss
                .insert(name, Summary::median_of(take(|u| u.peak_rss_bytes)));
        }
        out
    }
}

/// Runs `cmd` to its end through the launcher, its stderr into `stderr`.
/// Panics, with that stderr, if it failed.
pub fn timed(cmd: Command, stderr: &Path) -> Usage {
    let mut launcher = Command::new(std::env::current_exe().expect("current exe"));
    launcher
        .arg("__timed")
        .arg(cmd.get_program())
        .args(cmd.get_args())
        .stdin(Stdio::null())
        .stderr(std::fs::File::create(stderr).expect("stderr file"));
    if let Some(dir) = cmd.get_current_dir() {
        launcher.current_dir(dir);
    }
    for (key, value) in cmd.get_envs() {
        match value {
            Some(v) => launcher.env(key, v),
            None => launcher.env_remove(key),
        };
    }
    let out = launcher.output().expect("launcher");
    serde_json::from_slice(&out.stdout).unwrap_or_else(|_| {
        panic!(
            "{cmd:?} failed:\n{}",
            std::fs::read_to_string(stderr).unwrap_or_default()
        )
    })
}

/// `__timed PROGRAM ARGS…`: runs it (stdout discarded, stderr shared) and
/// prints its [`Usage`] as JSON; exits 1 if it failed.
// wait4 reaps the child; std's `wait` would not give its rusage.
#[allow(clippy::zombie_processes)]
pub fn main(command: &[String]) {
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
    let usage = Usage {
        wall_s: elapsed,
        cpu_s: clock::cpu_of(&usage).as_secs_f64(),
        // ru_maxrss is in KiB on Linux.
        peak_rss_bytes: usage.ru_maxrss as f64 * 1024.0,
    };
    println!("{}", serde_json::to_string(&usage).expect("JSON"));
}
