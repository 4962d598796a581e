//! Waiting for a job: polls with a growing pause, never a busy loop, and
//! never past the call's deadline.

#[allow(unused_imports)]
use crate::prelude::*;

use super::{job_status, JobInfo, JobKind, JobState};
use crate::error::Error;
use crate::http::Transport;
use crate::session::Session;
use core::time::Duration;

/// The first pause between polls; each one doubles, up to [`LONGEST_PAUSE_MS`].
const FIRST_PAUSE_MS: u64 = 250;
const LONGEST_PAUSE_MS: u64 = 5_000;

/// Polls the job until it finishes or `wait_ms` of waiting has passed, and
/// returns what Salesforce said last; a host calls it again to keep waiting
/// (and shows progress in between). A job that failed is its typed error.
/// The wait is held within the call's deadline, with room for a last poll.
pub fn wait_for_job(
    t: &mut dyn Transport,
    s: &Session,
    kind: JobKind,
    job_id: &str,
    wait_ms: u32,
) -> Result<JobInfo, Error> {
    let budget = u64::from(wait_ms.min(s.limits.deadline_ms.saturating_sub(s.limits.timeout_ms)));
    let (mut waited, mut pause) = (0u64, FIRST_PAUSE_MS);
    loop {
        let info = job_status(t, s, kind, job_id)?;
        if let Some(failed) = info.failure() {
            return Err(failed);
        }
        // An open job waits for its upload, not for Salesforce.
        if info.state.is_final() || info.state == JobState::Open || waited >= budget {
            return Ok(info);
        }
        let step = pause.min(budget - waited);
        t.sleep(Duration::from_millis(step));
        waited += step;
        pause = (pause * 2).min(LONGEST_PAUSE_MS);
    }
}
