//! Builds the component (the workspace's root package) for wasm32-wasip2, so
//! `cargo test` and `cargo run -p sf-host` always use the current source.
//! The path is exported to the crate as `SF_COMPONENT_PATH`.

use std::env;
use std::path::PathBuf;
use std::process::Command;

fn main() {
    let manifest_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let root = manifest_dir
        .parent()
        .expect("host-test sits in the workspace")
        .to_path_buf();
    for input in ["src", "wit", "Cargo.toml", "Cargo.lock"] {
        println!("cargo:rerun-if-changed={}", root.join(input).display());
    }
    // OUT_DIR is <target>/<profile>/build/<pkg>-<hash>/out. A separate target
    // directory keeps the nested cargo off the outer one's lock.
    let out_dir = PathBuf::from(env::var("OUT_DIR").expect("set by cargo"));
    let target_dir = out_dir
        .ancestors()
        .nth(4)
        .map(|t| t.join("component"))
        .unwrap_or_else(|| out_dir.join("component"));

    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .current_dir(&root)
        .args([
            "build",
            "--target",
            "wasm32-wasip2",
            "--profile",
            "component",
        ])
        .args(["-p", "salesforce-connector", "--target-dir"])
        .arg(&target_dir)
        // Flags and wrappers meant for the host build (clippy, coverage) must
        // not leak into the wasm build.
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("RUSTFLAGS")
        .env_remove("RUSTC_WRAPPER")
        .env_remove("RUSTC_WORKSPACE_WRAPPER")
        .env_remove("CARGO_BUILD_TARGET")
        .status()
        .expect("could not run cargo to build the component");
    if !status.success() {
        panic!(
            "building the component failed; if the target is missing run `rustup target add wasm32-wasip2`"
        );
    }
    let wasm = target_dir.join("wasm32-wasip2/component/salesforce_connector.wasm");
    println!("cargo:rustc-env=SF_COMPONENT_PATH={}", wasm.display());
}
