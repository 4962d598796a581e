//! Opt-in measurement of how much linear memory the component asks for
//! (`Connector::record_memory_peak`): the benchmark uses it to show that
//! paging a large query stays bounded by a few pages.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// The largest linear memory (bytes) any instance asked to grow to, over
/// every instance it was given to. Clones share the same figure.
#[derive(Clone, Debug, Default)]
pub struct MemoryPeak(Arc<AtomicUsize>);

impl MemoryPeak {
    pub fn bytes(&self) -> usize {
        self.0.load(Ordering::Relaxed)
    }

    /// Start a new measurement.
    pub fn reset(&self) {
        self.0.store(0, Ordering::Relaxed);
    }
}

impl MemoryPeak {
    /// Notes that an instance asked to grow its memory to `desired` bytes.
    /// Called by the store's limiter (`guards::MemoryLimit`) whether or not
    /// the growth is allowed: a probe must not change what it measures.
    pub fn record(&self, desired: usize) {
        self.0.fetch_max(desired, Ordering::Relaxed);
    }
}
