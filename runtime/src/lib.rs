//! The runtime every `no_std` component of this workspace needs, once: the
//! connector, the agent adapter and the service adapter each link it with
//! `use salesforce_wasm_runtime as _;` (an unused dependency would not be
//! linked at all). Natively it is empty, so unit tests keep std's.

#![no_std]

#[cfg(target_arch = "wasm32")]
extern crate alloc;

#[cfg(target_arch = "wasm32")]
mod heap;

// Without std there is no libc malloc: dlmalloc over linear memory, as std
// itself uses on wasm32-unknown-unknown.
#[cfg(target_arch = "wasm32")]
#[global_allocator]
static ALLOCATOR: heap::Heap = heap::Heap::new();

/// Every input is validated into a typed error, so a panic is a bug; trap
/// rather than print (printing would import wasi:cli).
#[cfg(target_arch = "wasm32")]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    core::arch::wasm32::unreachable()
}

// compiler_builtins leaves `memcmp` (slice and `str` comparison) to libc on
// this target. Linking wasi-libc's static archive takes just that object;
// nothing of libc that imports WASI functions comes along.
#[cfg(target_arch = "wasm32")]
#[link(name = "c")]
extern "C" {}

/// The canonical ABI's allocator export. wit-bindgen leaves it to wasi-libc
/// on wasip2, which would allocate with libc's malloc; route it to the Rust
/// allocator instead, which owns the argument strings and lists afterwards.
///
/// # Safety
/// Called by the host with the canonical ABI's contract for `cabi_realloc`.
#[cfg(target_arch = "wasm32")]
#[no_mangle]
pub unsafe extern "C" fn cabi_realloc(
    old: *mut u8,
    old_len: usize,
    align: usize,
    new_len: usize,
) -> *mut u8 {
    use alloc::alloc::{alloc, handle_alloc_error, realloc, Layout};
    if new_len == 0 {
        // A zero-sized list: any aligned non-null pointer will do.
        return align as *mut u8;
    }
    let layout = Layout::from_size_align_unchecked(new_len, align);
    let ptr = match old_len {
        0 => alloc(layout),
        _ => realloc(
            old,
            Layout::from_size_align_unchecked(old_len, align),
            new_len,
        ),
    };
    if ptr.is_null() {
        handle_alloc_error(layout);
    }
    ptr
}
