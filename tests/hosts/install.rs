//! Installs what the Node and Python hosts need, pinned, once per lockfile:
//! `npm install --no-save` (from the lockfile) in `hosts/node`, and a virtualenv in the cargo target directory
//! with `hosts/python/requirements.txt`. A stamp holding the lockfile's hash
//! says an install is complete, so repeated runs start at once. A missing
//! `node` or `python3` skips (the caller prints why); a failed install fails.

use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

/// Installs in one test process never overlap (each starts from an empty node_modules).
static INSTALL: Mutex<()> = Mutex::new(());

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Scratch space in the target directory (`target/tmp`), kept between runs.
pub fn scratch(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name)
}

/// `program --version`, or None when it is not installed.
pub fn version(program: &str) -> Option<String> {
    let out = Command::new(program).arg("--version").output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// `hosts/node` with its pinned packages installed; None when `node` is absent.
pub fn node_host() -> Option<PathBuf> {
    version("node")?;
    let dir = repo().join("hosts/node");
    let _one = INSTALL.lock().unwrap_or_else(|e| e.into_inner());
    let stamp = dir.join("node_modules/.installed-lock-sha256");
    let want = hash_file(&dir.join("package-lock.json"));
    if !stamp_matches(&stamp, &want) {
        // Not `npm ci`: it refuses this lock, because jco's and
        // preview2-shim's packages name other platforms' optional binaries
        // (e.g. jco-node-fs-win32-x64-msvc@0.3.2) that the registry does not
        // serve, so no lock can list them. `install --no-save` installs what
        // the lock pins and never rewrites it.
        let _ = std::fs::remove_dir_all(dir.join("node_modules"));
        run(
            Command::new("npm")
                .args(["install", "--no-save", "--no-audit", "--no-fund"])
                .current_dir(&dir),
            "npm install in hosts/node (npm comes with node; it needs the npm registry)",
        );
        write(&stamp, &want);
    }
    Some(dir)
}

/// The virtualenv's python with `wasmtime` installed; None when `python3` is absent.
pub fn python_host() -> Option<PathBuf> {
    venv("hosts-python-venv", "hosts/python/requirements.txt")
}

/// A virtualenv in the scratch space with `requirements` (a path in the
/// repository) installed; its python. None when `python3` is absent.
pub fn venv(name: &str, requirements: &str) -> Option<PathBuf> {
    let python = version("python3")?;
    let requirements = repo().join(requirements);
    let venv = scratch(name);
    let _one = INSTALL.lock().unwrap_or_else(|e| e.into_inner());
    let stamp = venv.join("installed-requirements-sha256");
    // The interpreter's version is part of the key: a venv is tied to it.
    let want = format!("{} {python}", hash_file(&requirements));
    if !stamp_matches(&stamp, &want) {
        let _ = std::fs::remove_dir_all(&venv);
        run(
            Command::new("python3").arg("-m").arg("venv").arg(&venv),
            "python3 -m venv (on Debian and Ubuntu install python3-venv)",
        );
        run(
            Command::new(venv.join("bin/pip"))
                .args(["install", "--disable-pip-version-check", "-q", "-r"])
                .arg(&requirements),
            "pip install -r requirements.txt (it needs PyPI)",
        );
        write(&stamp, &want);
    }
    Some(venv.join("bin/python"))
}

fn run(cmd: &mut Command, what: &str) {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{what}: cannot start it: {e}"));
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

pub fn hash_file(path: &Path) -> String {
    let bytes =
        std::fs::read(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn stamp_matches(stamp: &Path, want: &str) -> bool {
    std::fs::read_to_string(stamp).is_ok_and(|s| s == want)
}

fn write(path: &Path, contents: &str) {
    std::fs::write(path, contents)
        .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
}
