//! Wall time and this process's CPU time (user + system, every thread)
//! around a stretch of work: what an in-process contender (the component,
//! the native client) spends of its own. The mock is another process, and
//! the script contenders are children, which `RUSAGE_SELF` leaves out.

use std::time::{Duration, Instant};

/// Started by [`Timer::start`], read by [`Timer::stop`].
pub struct Timer {
    wall: Instant,
    cpu: Duration,
}

/// What a stretch of work took.
#[derive(Clone, Copy, Debug, Default)]
pub struct Spent {
    pub wall: Duration,
    pub cpu: Duration,
}

impl Timer {
    pub fn start() -> Timer {
        Timer {
            cpu: process_cpu(),
            wall: Instant::now(),
        }
    }

    pub fn stop(&self) -> Spent {
        Spent {
            wall: self.wall.elapsed(),
            cpu: process_cpu().saturating_sub(self.cpu),
        }
    }
}

fn timeval(t: libc::timeval) -> Duration {
    Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64)
}

/// User + system time of a rusage.
pub fn cpu_of(usage: &libc::rusage) -> Duration {
    timeval(usage.ru_utime) + timeval(usage.ru_stime)
}

/// User + system time of every thread of this process so far.
pub fn process_cpu() -> Duration {
    // SAFETY: a zeroed rusage is a valid value for getrusage to fill.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: RUSAGE_SELF with a valid pointer cannot fail.
    let rc = unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    assert_eq!(rc, 0, "getrusage");
    cpu_of(&usage)
}
