//! W4, cold start: each contender as a new process, from spawn to exit after
//! its first query's records, alternating like the other workloads. The
//! launcher's rusage of each process (wait4) also gives its CPU time and
//! peak RSS.

use crate::contenders;
use crate::launcher::{timed, Processes, Usage};
use crate::mock_process::{clean_env, MockProcess};
use crate::scripts::Script;
use crate::workloads;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

/// `sf-host` logged in to the mock by its environment. The CLI loads the
/// precompiled component from its cache (written beside the .wasm on first
/// use), as an installed host would.
pub fn sf_host(mock: &MockProcess) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_sf-host"));
    clean_env(&mut cmd)
        .env("SF_LOGIN_URL", &mock.info.https_url)
        .env("SF_CA_FILE", &mock.info.ca_file)
        .env_remove("SF_COMPONENT")
        .envs(mock.info.env(&mock.raw));
    cmd
}

/// The command that runs contender `name`'s cold start.
fn command(name: &str, mock: &MockProcess, scripts: &[Script]) -> Command {
    match name {
        contenders::COMPONENT => {
            let mut cmd = sf_host(mock);
            cmd.args(["query", workloads::COLD_SOQL, "--format", "json"]);
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

pub fn measure(mock: &MockProcess, scripts: &[Script], runs: usize, scratch: &Path) -> Processes {
    let names = contenders::ALL;
    let stderr = scratch.join("cold-stderr.txt");
    // Once each untimed: the page cache, Python's bytecode, the .cwasm cache.
    for name in names {
        timed(command(name, mock, scripts), &stderr);
    }
    let mut usages: BTreeMap<&'static str, Vec<Usage>> = BTreeMap::new();
    for run in 0..runs {
        for k in 0..names.len() {
            let name = names[(run + k) % names.len()];
            let usage = timed(command(name, mock, scripts), &stderr);
            usages.entry(name).or_default().push(usage);
        }
    }
    Processes::of(usages)
}
