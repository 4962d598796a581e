//! How a caller notices that its call is lost: the worker that took it
//! stopped beating, or no worker took it at all.
//!
//! wRPC over NATS has no end-to-end signal for a worker that dies mid-call:
//! the caller would wait for results that never come. So each worker tells
//! the caller, at once, that it took a call (a message on the caller's
//! status subject naming the call and the worker), and every worker beats on
//! one subject. A call whose worker has not beaten for [`LOST_AFTER`], or
//! that no worker took within [`TAKEN_WITHIN`], is lost.

use async_nats::HeaderMap;
use futures::StreamExt;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// How often a worker beats.
pub const BEAT_EVERY: Duration = Duration::from_millis(200);
/// A worker silent this long is gone (five beats missed).
pub const LOST_AFTER: Duration = Duration::from_millis(1_000);
/// A call no worker has taken after this long is lost. Workers take a call
/// the moment it arrives, so this only happens when none is listening or
/// the one that got it died at once.
pub const TAKEN_WITHIN: Duration = Duration::from_millis(2_000);
/// How often a waiting call looks at its worker.
const LOOK_EVERY: Duration = Duration::from_millis(50);

/// Headers a caller sends with each call, read by the worker.
pub const CALL_ID: &str = "Sf-Call-Id";
pub const STATUS_SUBJECT: &str = "Sf-Status";
pub const DEADLINE_MS: &str = "Sf-Deadline-Ms";

/// The subject workers beat on.
pub fn beat_subject(prefix: &str) -> String {
    format!("{prefix}.sf-worker.alive")
}

/// A call's headers: its id, where the worker says it took it, and how many
/// milliseconds the caller still waits.
pub fn call_headers(id: &str, status: &str, remaining: Duration) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(CALL_ID, id);
    h.insert(STATUS_SUBJECT, status);
    h.insert(DEADLINE_MS, remaining.as_millis().to_string().as_str());
    h
}

#[derive(Default)]
struct State {
    beats: HashMap<String, Instant>,
    calls: HashMap<String, Call>,
    /// Calls each worker said it took.
    taken: BTreeMap<String, usize>,
}

struct Call {
    sent: Instant,
    worker: Option<String>,
}

/// Why a call is lost.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lost {
    /// A worker took the call, then stopped beating.
    WorkerGone(String),
    /// No worker said it took the call.
    NotTaken,
}

/// The caller's view of which worker holds which call, fed by one
/// subscription to the beats and one to this caller's status subject.
#[derive(Clone, Default)]
pub struct Liveness(Arc<Mutex<State>>);

impl Liveness {
    /// Follows the beats and this caller's status subject until the
    /// subscriptions end (the connection closes).
    pub async fn follow(
        nats: &async_nats::Client,
        prefix: &str,
        status: &str,
    ) -> Result<Self, async_nats::SubscribeError> {
        let live = Liveness::default();
        let mut beats = nats.subscribe(beat_subject(prefix)).await?;
        let mut taken = nats.subscribe(status.to_string()).await?;
        let state = live.clone();
        tokio::spawn(async move {
            loop {
                let message = tokio::select! {
                    Some(m) = beats.next() => m,
                    Some(m) = taken.next() => m,
                    else => break,
                };
                state.note(&message.payload);
            }
        });
        Ok(live)
    }

    /// A beat is `WORKER`; a taken call is `CALL_ID WORKER`.
    fn note(&self, payload: &[u8]) {
        let Ok(text) = std::str::from_utf8(payload) else {
            return;
        };
        let now = Instant::now();
        let mut s = self.lock();
        match text.split_once(' ') {
            Some((call, worker)) => {
                if let Some(c) = s.calls.get_mut(call) {
                    c.worker = Some(worker.to_string());
                }
                *s.taken.entry(worker.to_string()).or_default() += 1;
                s.beats.insert(worker.to_string(), now);
            }
            None => {
                s.beats.insert(text.to_string(), now);
            }
        }
    }

    /// Starts watching call `id`; it is forgotten when the watch is dropped.
    pub fn watch(&self, id: &str) -> Watch {
        let call = Call {
            sent: Instant::now(),
            worker: None,
        };
        self.lock().calls.insert(id.to_string(), call);
        Watch {
            live: self.clone(),
            id: id.to_string(),
        }
    }

    /// How many calls each worker said it took, by worker id.
    pub fn taken_by(&self) -> BTreeMap<String, usize> {
        self.lock().taken.clone()
    }

    fn lost(&self, id: &str, now: Instant) -> Option<Lost> {
        let s = self.lock();
        let call = s.calls.get(id)?;
        match &call.worker {
            Some(w) => {
                let beat = s.beats.get(w).copied().unwrap_or(call.sent);
                (now.duration_since(beat) > LOST_AFTER).then(|| Lost::WorkerGone(w.clone()))
            }
            None => (now.duration_since(call.sent) > TAKEN_WITHIN).then_some(Lost::NotTaken),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// One call being watched.
pub struct Watch {
    live: Liveness,
    id: String,
}

impl Watch {
    /// Resolves when the call is lost; pending while its worker beats.
    pub async fn lost(&self) -> Lost {
        loop {
            tokio::time::sleep(LOOK_EVERY).await;
            if let Some(lost) = self.live.lost(&self.id, Instant::now()) {
                return lost;
            }
        }
    }

    /// Whether a worker said it took the call.
    pub fn taken(&self) -> bool {
        let s = self.live.lock();
        s.calls.get(&self.id).is_some_and(|c| c.worker.is_some())
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        self.live.lock().calls.remove(&self.id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_call_is_lost_when_its_worker_stops_beating_or_none_takes_it() {
        let live = Liveness::default();
        let w = live.watch("c1");
        let t0 = Instant::now();
        assert_eq!(live.lost("c1", t0), None);
        assert_eq!(live.lost("c1", t0 + TAKEN_WITHIN * 2), Some(Lost::NotTaken));
        live.note(b"c1 worker-a");
        assert!(w.taken());
        let later = Instant::now() + LOST_AFTER / 2;
        assert_eq!(live.lost("c1", later), None);
        let gone = Instant::now() + LOST_AFTER * 2;
        assert_eq!(
            live.lost("c1", gone),
            Some(Lost::WorkerGone("worker-a".into()))
        );
        drop(w);
        assert_eq!(live.lost("c1", gone), None, "a dropped watch is forgotten");
    }

    #[test]
    fn beats_keep_a_worker_alive() {
        let live = Liveness::default();
        let _w = live.watch("c2");
        live.note(b"c2 worker-b");
        std::thread::sleep(Duration::from_millis(20));
        live.note(b"worker-b");
        let beat = live.lock().beats["worker-b"];
        assert_eq!(live.lost("c2", beat + LOST_AFTER / 2), None);
    }
}
