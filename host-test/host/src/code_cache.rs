//! Where compiled component code is kept between runs.
//!
//! A `.cwasm` is native code the host runs as it is: whoever can write it
//! runs code in the host. So it lives only in a directory of the user's own
//! (created 0700, checked to be owned by the user and closed to others),
//! named by the component's SHA-256 and the engine's compatibility hash,
//! never beside the component, where anyone who can drop a file next to a
//! downloaded `.wasm` could plant one.

use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use wasmtime::Engine;

/// `$SF_HOST_CACHE_DIR`, else `$XDG_CACHE_HOME/sf-host/compiled`, else
/// `~/.cache/sf-host/compiled`.
pub fn default_dir() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("SF_HOST_CACHE_DIR").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(d));
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    Some(base.join("sf-host").join("compiled"))
}

/// `dir`, created 0700 if missing, when only this user can write to it;
/// `None` otherwise (then nothing is cached, and nothing is read).
pub fn usable(dir: &Path) -> Option<PathBuf> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .ok()?;
    let meta = std::fs::metadata(dir).ok()?;
    let closed = meta.is_dir() && meta.permissions().mode() & 0o022 == 0;
    (closed && owned_by_me(dir, meta.uid())).then(|| dir.to_path_buf())
}

/// A file this process creates is owned by its effective user: compare.
fn owned_by_me(dir: &Path, owner: u32) -> bool {
    let probe = tempfile::Builder::new().prefix(".owner-").tempfile_in(dir);
    probe
        .ok()
        .and_then(|f| f.as_file().metadata().ok())
        .is_some_and(|m| m.uid() == owner)
}

/// `<sha256 of the component>-<engine compatibility>.cwasm` in `dir`.
pub fn entry(dir: &Path, engine: &Engine, component: &[u8]) -> PathBuf {
    use sha2::{Digest, Sha256};
    use std::hash::{Hash, Hasher};
    let mut compat = std::collections::hash_map::DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut compat);
    let digest = Sha256::digest(component);
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    dir.join(format!("{hex}-{:016x}.cwasm", compat.finish()))
}

/// Writes `code` to `path` atomically, readable by the user alone.
pub fn store(path: &Path, code: &[u8]) {
    use std::io::Write;
    let Some(dir) = path.parent() else { return };
    let Ok(mut tmp) = tempfile::Builder::new()
        .prefix(".partial-")
        .tempfile_in(dir)
    else {
        return;
    };
    // Best effort: a full disk only costs the next start a compile.
    if tmp.write_all(code).is_ok() && tmp.as_file().sync_all().is_ok() {
        let _ = tmp.persist(path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_closed_directory_of_the_user_is_used() {
        let root = tempfile::tempdir().unwrap();
        let fresh = root.path().join("a/b");
        assert_eq!(usable(&fresh).as_deref(), Some(fresh.as_path()));
        let mode = std::fs::metadata(&fresh).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);

        let open = root.path().join("open");
        std::fs::create_dir(&open).unwrap();
        std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o777)).unwrap();
        assert_eq!(
            usable(&open),
            None,
            "a world-writable directory is not trusted"
        );
    }
}
