//! Link settings of the component (wasm32 only; the native library that
//! hosts link for the trust rule needs none).

/// Linear memory an instance starts with: the 1 MiB stack, the data, and
/// about 1 MiB of heap. A host runs every call in a fresh instance from a
/// pool slot, and wasmtime resets a slot to its initial size between
/// instances: a call that grew memory paid an `mprotect` to grow and
/// another at the next instantiation to shrink back, each with a TLB flush
/// on every core running the host. With this much heap from the start a
/// typical call never grows. Pages it does not touch cost nothing.
const INITIAL_MEMORY: u64 = 2 << 20;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    if std::env::var("CARGO_CFG_TARGET_ARCH").as_deref() == Ok("wasm32") {
        println!("cargo:rustc-link-arg-cdylib=--initial-memory={INITIAL_MEMORY}");
    }
}
