//! The global allocator: dlmalloc over linear memory, starting with the heap
//! the module already has.
//!
//! dlmalloc's own wasm backend on WASI only ever grows memory, so the room
//! between `__heap_base` and the end of the initial memory went unused and
//! the first allocation of every instance grew memory. A host that runs
//! each call in a fresh instance from a pool slot (wasmtime's pooling
//! allocator) then paid an `mprotect` to grow and another to shrink the
//! slot back, each with a TLB flush on every core running the host.

use core::alloc::{GlobalAlloc, Layout};
use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicBool, Ordering};
use dlmalloc::{Allocator, Dlmalloc};

const PAGE: usize = 64 * 1024;

extern "C" {
    /// Where the linker placed the heap: after the stack and the data, up
    /// to the end of the initial memory.
    static __heap_base: u8;
    static __heap_end: u8;
}

/// dlmalloc's system allocator: the initial heap first, then `memory.grow`
/// (which the host may refuse: its memory cap).
struct InitialHeapFirst {
    donated: AtomicBool,
}

impl InitialHeapFirst {
    /// The initial heap, once, if it holds `size` bytes.
    fn take_initial(&self, size: usize) -> Option<(*mut u8, usize)> {
        // Linker-defined symbols: only their addresses are used.
        let base = core::ptr::addr_of!(__heap_base) as usize;
        let end = core::ptr::addr_of!(__heap_end) as usize;
        let len = end.saturating_sub(base);
        if len < size || self.donated.swap(true, Ordering::Relaxed) {
            return None;
        }
        Some((base as *mut u8, len))
    }
}

/// Whole pages past the end of memory, as dlmalloc's wasm backend does.
fn grow(size: usize) -> (*mut u8, usize, u32) {
    let pages = size.div_ceil(PAGE);
    let prev = core::arch::wasm32::memory_grow(0, pages);
    if prev == usize::MAX {
        return (core::ptr::null_mut(), 0, 0);
    }
    let (start, len) = (prev * PAGE, pages * PAGE);
    // A pointer may not wrap to 0: at the top of the address space, leave
    // the last bytes out.
    let len = if start.wrapping_add(len) == 0 {
        len - 16
    } else {
        len
    };
    (start as *mut u8, len, 0)
}

// SAFETY: the initial heap is handed out at most once, is zeroed in a fresh
// instance (no data segment reaches past `__heap_base`) and belongs to no
// one else; grown pages are new and zeroed. Nothing is ever given back.
unsafe impl Allocator for InitialHeapFirst {
    fn alloc(&self, size: usize) -> (*mut u8, usize, u32) {
        match self.take_initial(size) {
            Some((ptr, len)) => (ptr, len, 0),
            None => grow(size),
        }
    }

    fn remap(&self, _: *mut u8, _: usize, _: usize, _: bool) -> *mut u8 {
        core::ptr::null_mut()
    }

    fn free_part(&self, _: *mut u8, _: usize, _: usize) -> bool {
        false
    }

    fn free(&self, _: *mut u8, _: usize) -> bool {
        false
    }

    fn can_release_part(&self, _: u32) -> bool {
        false
    }

    fn allocates_zeros(&self) -> bool {
        true
    }

    fn page_size(&self) -> usize {
        PAGE
    }
}

pub struct Heap(UnsafeCell<Dlmalloc<InitialHeapFirst>>);

// SAFETY: a wasm32 component without the threads proposal runs one thread,
// and the allocator never calls back into itself.
unsafe impl Sync for Heap {}

impl Heap {
    pub const fn new() -> Self {
        Heap(UnsafeCell::new(Dlmalloc::new_with_allocator(
            InitialHeapFirst {
                donated: AtomicBool::new(false),
            },
        )))
    }

    #[allow(clippy::mut_from_ref)]
    fn dlmalloc(&self) -> &mut Dlmalloc<InitialHeapFirst> {
        // SAFETY: one thread, no reentrancy (see `Sync` above).
        unsafe { &mut *self.0.get() }
    }
}

// SAFETY: dlmalloc's contract is GlobalAlloc's.
unsafe impl GlobalAlloc for Heap {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        self.dlmalloc().malloc(layout.size(), layout.align())
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        self.dlmalloc().calloc(layout.size(), layout.align())
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        self.dlmalloc().free(ptr, layout.size(), layout.align())
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        self.dlmalloc()
            .realloc(ptr, layout.size(), layout.align(), new_size)
    }
}
