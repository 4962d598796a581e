//! What one call may take before the host stops it: a deadline, and a cap
//! on the instance's linear memory. The component keeps its own timeouts;
//! these hold even against a component that would not (a newer build with a
//! bug, or one that spins), so every call ends and none grows without bound.

use crate::memory::MemoryPeak;
use std::time::Duration;
use wasmtime::Engine;

/// How often the engine's epoch advances: the longest a guest runs before
/// it yields to the host's executor (which can then enforce the deadline).
pub const TICK: Duration = Duration::from_millis(10);

/// Limits of one call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Guards {
    /// The whole call, from entry to return.
    pub deadline: Duration,
    /// The instance's linear memory, in bytes.
    pub max_memory: usize,
}

/// Ten minutes, 1 GiB: room for the component's largest response
/// (`max-response-bytes` is at most 1 GiB) and its records.
impl Default for Guards {
    fn default() -> Self {
        Guards {
            deadline: Duration::from_secs(600),
            max_memory: 1 << 30,
        }
    }
}

impl Guards {
    /// Sized for a config: four times its largest response (the body, the
    /// string it becomes, a page of records and the growing result) plus
    /// 64 MiB for everything else.
    pub fn for_response_limit(max_response_bytes: u64, deadline: Duration) -> Self {
        let body = usize::try_from(max_response_bytes).unwrap_or(usize::MAX);
        Guards {
            deadline,
            max_memory: body.saturating_mul(4).saturating_add(64 << 20),
        }
    }
}

/// Advances `engine`'s epoch every [`TICK`] until the engine is dropped.
pub fn start_ticking(engine: &Engine) {
    let weak = engine.weak();
    let spawned = std::thread::Builder::new()
        .name("sf-host-epoch".into())
        .spawn(move || {
            while let Some(engine) = weak.upgrade() {
                engine.increment_epoch();
                drop(engine);
                std::thread::sleep(TICK);
            }
        });
    // Without the thread, guests still yield at every host call (I/O), and
    // the deadline still holds there; only a spinning guest would not.
    drop(spawned);
}

/// The store's `ResourceLimiter`: refuses memory beyond the cap and says
/// so afterwards, and records the peak when asked to.
#[derive(Debug)]
pub struct MemoryLimit {
    max: usize,
    /// The size a refused growth asked for.
    pub refused: Option<usize>,
    peak: Option<MemoryPeak>,
}

impl MemoryLimit {
    pub fn new(max: usize, peak: Option<MemoryPeak>) -> Self {
        MemoryLimit {
            max,
            refused: None,
            peak,
        }
    }
}

impl wasmtime::ResourceLimiter for MemoryLimit {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if let Some(peak) = &self.peak {
            peak.record(desired);
        }
        if desired > self.max {
            self.refused = Some(desired);
            return Ok(false);
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        _desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(true)
    }
}
