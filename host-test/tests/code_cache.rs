//! Compiled code is native code the host runs unchecked: it is read only
//! from the user's own closed cache directory, never from beside the
//! component, and a `.cwasm` runs only when passed as one explicitly.

use salesforce_host::connector::CodeSource;
use salesforce_host::{Connector, HostError};
use std::os::unix::fs::PermissionsExt;

/// A copy of the built component in a fresh directory, with a `.cwasm`
/// planted beside it under every name a cache might use.
fn component_with_planted_code() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let wasm = dir.path().join("salesforce_connector.wasm");
    std::fs::copy(sf_host::default_component_path(), &wasm).unwrap();
    for name in [
        "salesforce_connector.cwasm",
        "salesforce_connector.wasm.cwasm",
    ] {
        std::fs::write(dir.path().join(name), b"planted native code").unwrap();
    }
    (dir, wasm)
}

fn cwasm_files(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".cwasm"))
        .collect();
    names.sort();
    names
}

#[test]
fn code_comes_from_the_users_cache_never_from_beside_the_component() {
    let (dir, wasm) = component_with_planted_code();
    let before = cwasm_files(dir.path());
    let cache = tempfile::tempdir().unwrap();
    let cache_dir = cache.path().join("compiled");

    let first = Connector::load_with_cache(&wasm, Some(&cache_dir)).expect("compiles");
    assert_eq!(first.code_source(), &CodeSource::Compiled);
    let second = Connector::load_with_cache(&wasm, Some(&cache_dir)).expect("loads");
    match second.code_source() {
        CodeSource::Cache(entry) => assert!(entry.starts_with(&cache_dir), "{entry:?}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(cwasm_files(&cache_dir).len(), 1);
    assert_eq!(
        cwasm_files(dir.path()),
        before,
        "nothing written beside the component"
    );
}

#[test]
fn a_cache_others_can_write_is_neither_read_nor_written() {
    let (_dir, wasm) = component_with_planted_code();
    let cache = tempfile::tempdir().unwrap();
    std::fs::set_permissions(cache.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    for _ in 0..2 {
        let c = Connector::load_with_cache(&wasm, Some(cache.path())).expect("compiles");
        assert_eq!(c.code_source(), &CodeSource::Compiled);
    }
    assert!(cwasm_files(cache.path()).is_empty());
}

#[test]
fn a_cwasm_runs_only_when_passed_as_precompiled() {
    let (dir, wasm) = component_with_planted_code();
    let planted = dir.path().join("salesforce_connector.cwasm");
    match Connector::load(&planted) {
        Err(HostError::Load(m)) => assert!(m.contains("precompiled native code"), "{m}"),
        other => panic!("a .cwasm loaded as a component: {other:?}"),
    }
    let out = dir.path().join("mine.cwasm");
    Connector::precompile(&wasm, &out).expect("precompile");
    let c = Connector::load_precompiled(&out).expect("an explicit precompiled file loads");
    assert_eq!(c.code_source(), &CodeSource::Precompiled(out));
}

#[test]
fn the_cli_runs_a_cwasm_only_with_precompiled() {
    let (dir, wasm) = component_with_planted_code();
    let sf_host = |args: &[&std::ffi::OsStr]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_sf-host"))
            .args(args)
            .env("SF_HOST_CACHE_DIR", dir.path().join("cache"))
            .output()
            .expect("sf-host runs")
    };
    let planted = dir.path().join("salesforce_connector.cwasm");
    let out = sf_host(&[
        "--component".as_ref(),
        planted.as_os_str(),
        "tools".as_ref(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--precompiled"));

    let mine = dir.path().join("mine.cwasm");
    let made = sf_host(&[
        "--component".as_ref(),
        wasm.as_os_str(),
        "precompile".as_ref(),
        mine.as_os_str(),
    ]);
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let out = sf_host(&["--precompiled".as_ref(), mine.as_os_str(), "tools".as_ref()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("soql_query"));
}

/// `sf-host` carries its component: the binary holds no path into the
/// machine it was built on, and runs with the build's files gone.
#[test]
fn the_binary_carries_its_component_not_a_build_path() {
    let binary = std::fs::read(env!("CARGO_BIN_EXE_sf-host")).expect("the binary");
    let build_path = sf_host::default_component_path();
    let needle = build_path.to_string_lossy();
    assert!(
        !binary.windows(needle.len()).any(|w| w == needle.as_bytes()),
        "the binary names {needle}"
    );
    let component = std::fs::read(&build_path).expect("the built component");
    assert!(
        binary.windows(64).any(|w| w == &component[..64]),
        "the component's bytes are in the binary"
    );
}
