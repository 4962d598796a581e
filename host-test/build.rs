//! Builds the components for wasm32-wasip2, so `cargo test` and
//! `cargo run -p sf-host` always use the current source: the connector (the
//! workspace's root package), the agent component (its adapter, `agent/`,
//! composed with it) and the service component (`service/` composed with
//! it). Their paths reach the crate as `SF_COMPONENT_PATH`,
//! `SF_AGENT_COMPONENT_PATH` and `SF_SERVICE_COMPONENT_PATH`.

#[path = "build/compose.rs"]
mod compose;

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    let manifest_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let root = manifest_dir
        .parent()
        .expect("host-test sits in the workspace")
        .to_path_buf();
    for input in [
        "src",
        "runtime",
        "kit",
        "agent",
        "wit",
        "Cargo.toml",
        "Cargo.lock",
    ] {
        println!("cargo:rerun-if-changed={}", root.join(input).display());
    }
    let target_dir = component_target_dir(&root);
    let status = component_build(&root, &target_dir)
        .status()
        .expect("could not run cargo to build the component");
    if !status.success() {
        panic!(
            "building the component failed; if the target is missing run `rustup target add wasm32-wasip2`"
        );
    }
    let built = target_dir.join("wasm32-wasip2/component");
    let connector = built.join("salesforce_connector.wasm");
    let read = |p: &Path| std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    // (the composed file, its adapter, the composed world, the variable)
    let composed = [
        (
            "salesforce_agent",
            "salesforce_agent_adapter",
            "salesforce-agent",
            "SF_AGENT_COMPONENT_PATH",
        ),
        (
            "salesforce_service",
            "salesforce_service_adapter",
            "salesforce-service",
            "SF_SERVICE_COMPONENT_PATH",
        ),
    ];
    let mut files = vec![connector.clone()];
    for (file, adapter, world, variable) in composed {
        let path = built.join(format!("{file}.wasm"));
        let bytes = compose::plug(
            read(&built.join(format!("{adapter}.wasm"))),
            read(&connector),
            &root.join("wit"),
            world,
        )
        .unwrap_or_else(|e| panic!("composing {file}: {e}"));
        std::fs::write(&path, bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        println!("cargo:rustc-env={variable}={}", path.display());
        files.push(path);
    }
    println!("cargo:rustc-env=SF_COMPONENT_PATH={}", connector.display());
    // Also where the README points people: `target/component/...`.
    if let Some(shared) = target_dir
        .parent()
        .map(|t| t.join("component/wasm32-wasip2/component"))
    {
        let _ = std::fs::create_dir_all(&shared);
        for file in &files {
            let _ = std::fs::copy(file, shared.join(file.file_name().unwrap_or_default()));
        }
    }
}

/// A target directory of the component's own, beside the outer one: the
/// nested cargo stays off the outer one's lock. One per source tree:
/// checkouts sharing a target directory (CI's clean clones, worktrees) would
/// otherwise overwrite each other's .wasm while each one's cargo still
/// thinks its own is fresh.
fn component_target_dir(root: &Path) -> PathBuf {
    // OUT_DIR is <target>/<profile>/build/<pkg>-<hash>/out.
    let out_dir = PathBuf::from(env::var("OUT_DIR").expect("set by cargo"));
    let tree = {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        root.hash(&mut h);
        format!("component-{:016x}", h.finish())
    };
    out_dir
        .ancestors()
        .nth(4)
        .map(|t| t.join(&tree))
        .unwrap_or_else(|| out_dir.join(&tree))
}

/// `cargo build` of the component for wasm32-wasip2 with the `component`
/// profile, core and alloc rebuilt for size when rust-src is installed.
fn component_build(root: &Path, target_dir: &Path) -> Command {
    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut build = Command::new(cargo);
    build
        .current_dir(root)
        .args([
            "build",
            "--target",
            "wasm32-wasip2",
            "--profile",
            "component",
        ])
        .args([
            "-p",
            "salesforce-connector",
            "-p",
            "salesforce-agent-adapter",
            "-p",
            "salesforce-service-adapter",
        ])
        .arg("--target-dir")
        .arg(target_dir)
        // Flags and wrappers meant for the host build (clippy, coverage) must
        // not leak into the wasm build.
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("RUSTFLAGS")
        .env_remove("RUSTC_WRAPPER")
        .env_remove("RUSTC_WORKSPACE_WRAPPER")
        .env_remove("CARGO_BUILD_TARGET");
    if has_rust_src() {
        // Rebuild core and alloc for size: their panics trap at once instead
        // of formatting a message nobody can print (the component has no
        // stdout), and their algorithms pick the smaller variants. This is
        // about 90 KB of the component. build-std is unstable, hence
        // RUSTC_BOOTSTRAP; the result is still plain wasm32-wasip2.
        build
            .args([
                "-Zbuild-std=core,alloc",
                "-Zbuild-std-features=optimize_for_size",
            ])
            .env("RUSTC_BOOTSTRAP", "1")
            .env(
                "CARGO_ENCODED_RUSTFLAGS",
                ["-Zunstable-options", "-Cpanic=immediate-abort"].join("\x1f"),
            );
    } else {
        println!(
            "cargo:warning=rust-src is not installed, so the component is built without \
             build-std and is about 90 KB larger; `rustup component add rust-src` for the release size"
        );
    }
    build
}

/// Whether the toolchain has the standard library's source, which
/// `-Zbuild-std` needs.
fn has_rust_src() -> bool {
    let rustc = env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    Command::new(rustc)
        .args(["--print", "sysroot"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| {
            PathBuf::from(String::from_utf8_lossy(&o.stdout).trim())
                .join("lib/rustlib/src/rust/library/core")
                .is_dir()
        })
        .unwrap_or(false)
}
