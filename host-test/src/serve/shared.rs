//! One session per org for every worker, kept in a NATS JetStream
//! key-value bucket, sealed (see `seal`).
//!
//! The entry of an org is either a ready session or a claim: "worker W is
//! logging in or renewing until T". A worker claims with a compare-and-set
//! on the entry's revision, so of several workers that find the same
//! session expired exactly one wins and renews; the others wait for the
//! session it writes. With refresh-token rotation that is what keeps a
//! refresh token from being sent twice: Salesforce revokes the whole family
//! when a used one comes back (salesforce-2026.md, "Refresh tokens:
//! rotation").
//!
//! A claim outlives a dead worker by at most its lease (the org's deadline
//! plus a margin); then another worker takes it over and renews with the
//! newest session it knows.

use super::seal::Seal;
use crate::cli::Connection;
use crate::orgs::StoredOrg;
use async_nats::jetstream::kv;
use bytes::Bytes;
use salesforce_host::{wit, Client, HostError};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// How often a worker waiting for another's login looks again.
const WAIT_STEP: Duration = Duration::from_millis(20);
/// A claim lasts the org's deadline plus this.
const LEASE_MARGIN: Duration = Duration::from_secs(5);

/// One org a worker serves.
pub struct Org {
    pub name: String,
    /// Its options: the stored org's, with the worker's own on top.
    pub conn: Connection,
    /// The stored org without its client secret: the form a session is
    /// shared in.
    pub stored: StoredOrg,
    /// The template each call's client is forked from (shared pool).
    pub client: Client,
}

impl Org {
    fn lease(&self) -> Duration {
        let ms = self.conn.deadline_ms.unwrap_or(60_000);
        Duration::from_millis(ms.into()) + LEASE_MARGIN
    }

    fn shared(&self, session: &wit::Session) -> StoredOrg {
        let mut org = self.stored.clone();
        org.record(session);
        org
    }

    fn session_of(&self, org: &StoredOrg) -> Option<wit::Session> {
        org.stored_session(&self.conn)
    }
}

/// What the bucket holds for one org.
#[derive(Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "kebab-case")]
enum Entry {
    Ready {
        org: StoredOrg,
    },
    Claimed {
        worker: String,
        until_unix_ms: u64,
        previous: Option<StoredOrg>,
    },
}

/// A session and the entry revision it was read at.
#[derive(Clone)]
pub struct Held {
    pub session: wit::Session,
    revision: u64,
    /// This worker just logged in or renewed for it (else another worker
    /// did, and it may have expired since).
    pub fresh: bool,
}

/// A session to use, or `None`: another worker is logging in or renewing,
/// look again shortly.
type Step = Option<Held>;

pub struct Sessions {
    kv: kv::Store,
    seal: Seal,
    worker: String,
    held: Mutex<HashMap<String, Held>>,
    logins: AtomicUsize,
}

impl Sessions {
    pub fn new(kv: kv::Store, seal: Seal, worker: String) -> Self {
        Self {
            kv,
            seal,
            worker,
            held: Mutex::default(),
            logins: AtomicUsize::new(0),
        }
    }

    /// Logins and renewals this worker ran.
    pub fn logins(&self) -> usize {
        self.logins.load(Ordering::Relaxed)
    }

    /// The org's session: this worker's copy, else the shared one, else one
    /// login that every worker then shares.
    /// Waiting for another worker's login ends with the call's `deadline`.
    pub async fn current(&self, org: &Org, deadline: Option<Duration>) -> Result<Held, HostError> {
        let held = self.lock().get(&org.name).cloned();
        match held {
            Some(h) => Ok(Held { fresh: false, ..h }),
            None => self.obtain(org, None, deadline).await,
        }
    }

    /// After Salesforce called `stale` expired: the session another worker
    /// renewed meanwhile, else one renewal by this worker.
    pub async fn after_expiry(
        &self,
        org: &Org,
        stale: &Held,
        deadline: Option<Duration>,
    ) -> Result<Held, HostError> {
        self.obtain(org, Some(stale.revision), deadline).await
    }

    async fn obtain(
        &self,
        org: &Org,
        stale: Option<u64>,
        deadline: Option<Duration>,
    ) -> Result<Held, HostError> {
        let key = entry_key(&org.name);
        let patience = deadline.map_or(org.lease() * 2, |d| d.min(org.lease() * 2));
        let give_up = Instant::now() + patience;
        loop {
            let step = match self.kv.entry(&key).await.map_err(store_error)? {
                Some(e) if e.operation == kv::Operation::Put => {
                    self.consider(org, &key, e, stale).await?
                }
                _ => self.claim_vacant(org, &key).await?,
            };
            match step {
                Some(held) => {
                    self.lock().insert(org.name.clone(), held.clone());
                    return Ok(held);
                }
                None if Instant::now() > give_up => {
                    return Err(HostError::Component(wit::Error::Timeout(format!(
                        "org {}: another worker's login or renewal did not finish within {} ms",
                        org.name,
                        patience.as_millis()
                    ))))
                }
                None => tokio::time::sleep(WAIT_STEP).await,
            }
        }
    }

    async fn consider(
        &self,
        org: &Org,
        key: &str,
        e: kv::Entry,
        stale: Option<u64>,
    ) -> Result<Step, HostError> {
        let entry = self.open(org, key, &e.value)?;
        let previous = match entry {
            Entry::Ready { org: shared } if Some(e.revision) != stale => {
                return self.ready(org, &shared, e.revision);
            }
            Entry::Ready { org: shared } => Some(shared),
            Entry::Claimed { until_unix_ms, .. } if until_unix_ms > unix_ms() => {
                return Ok(None);
            }
            // The claimant died: take over from the newest session known.
            Entry::Claimed { previous, .. } => previous,
        };
        self.claim(org, key, Some(e.revision), previous).await
    }

    fn ready(&self, org: &Org, shared: &StoredOrg, revision: u64) -> Result<Step, HostError> {
        let session = org.session_of(shared).ok_or_else(|| {
            HostError::Io(format!(
                "org {}: the shared entry holds no session",
                org.name
            ))
        })?;
        Ok(Some(Held {
            session,
            revision,
            fresh: false,
        }))
    }

    /// No entry yet: share the stored org's session when it has one (no
    /// login), else claim and log in.
    async fn claim_vacant(&self, org: &Org, key: &str) -> Result<Step, HostError> {
        if org.session_of(&org.stored).is_some() {
            let value = self.sealed(
                key,
                &Entry::Ready {
                    org: org.stored.clone(),
                },
            )?;
            return match self.kv.create(key, value).await {
                Ok(revision) => self.ready(org, &org.stored, revision),
                Err(e) if e.kind() == kv::CreateErrorKind::AlreadyExists => Ok(None),
                Err(e) => Err(store_error(e)),
            };
        }
        self.claim(org, key, None, None).await
    }

    /// Claims the entry at `revision` (`None`: create it) and, on winning,
    /// logs in or renews `previous`. Losing means another worker is at it.
    async fn claim(
        &self,
        org: &Org,
        key: &str,
        revision: Option<u64>,
        previous: Option<StoredOrg>,
    ) -> Result<Step, HostError> {
        let until_unix_ms = unix_ms() + org.lease().as_millis() as u64;
        let claim = Entry::Claimed {
            worker: self.worker.clone(),
            until_unix_ms,
            previous: previous.clone(),
        };
        let value = self.sealed(key, &claim)?;
        let won = match revision {
            Some(r) => match self.kv.update(key, value, r).await {
                Ok(rev) => Some(rev),
                Err(e) if e.kind() == kv::UpdateErrorKind::WrongLastRevision => None,
                Err(e) => return Err(store_error(e)),
            },
            None => match self.kv.create(key, value).await {
                Ok(rev) => Some(rev),
                Err(e) if e.kind() == kv::CreateErrorKind::AlreadyExists => None,
                Err(e) => return Err(store_error(e)),
            },
        };
        match won {
            Some(claimed) => self.establish(org, key, claimed, previous).await,
            None => Ok(None),
        }
    }

    /// Logs in (or renews `previous`) and writes the session over the claim.
    /// On failure the claim is given back: the previous session is restored
    /// (or the entry removed), so the next call tries again at once.
    async fn establish(
        &self,
        org: &Org,
        key: &str,
        claimed: u64,
        previous: Option<StoredOrg>,
    ) -> Result<Step, HostError> {
        self.logins.fetch_add(1, Ordering::Relaxed);
        let mut client = org.client.fork();
        let outcome = match previous.as_ref().and_then(|p| org.session_of(p)) {
            Some(session) => {
                client.restore_session(session);
                client.renew().await.cloned()
            }
            None => client.authenticate().await.cloned(),
        };
        match outcome {
            Ok(session) => {
                let shared = org.shared(&session);
                let value = self.sealed(key, &Entry::Ready { org: shared })?;
                let revision = self
                    .kv
                    .update(key, value, claimed)
                    .await
                    .map_err(store_error)?;
                Ok(Some(Held {
                    session,
                    revision,
                    fresh: true,
                }))
            }
            Err(e) => {
                self.give_back(key, claimed, previous).await;
                Err(e)
            }
        }
    }

    async fn give_back(&self, key: &str, claimed: u64, previous: Option<StoredOrg>) {
        let given = match previous {
            Some(org) => match self.sealed(key, &Entry::Ready { org }) {
                Ok(value) => self.kv.update(key, value, claimed).await.is_ok(),
                Err(_) => false,
            },
            None => self
                .kv
                .delete_expect_revision(key, Some(claimed))
                .await
                .is_ok(),
        };
        if !given {
            eprintln!(
                "warning: {key}: the claim could not be given back; it lapses with its lease"
            );
        }
    }

    fn sealed(&self, key: &str, entry: &Entry) -> Result<Bytes, HostError> {
        let json = serde_json::to_vec(entry)
            .map_err(|e| HostError::Io(format!("{key}: cannot encode the session: {e}")))?;
        self.seal.seal(key, &json).map(Bytes::from)
    }

    fn open(&self, org: &Org, key: &str, value: &[u8]) -> Result<Entry, HostError> {
        let plain = self.seal.open(key, value).ok_or_else(|| {
            HostError::Usage(format!(
                "org {}: the shared session does not open with this worker's {}: every worker \
                 needs the same key (or remove the entry {key} so that the org logs in again)",
                org.name,
                super::seal::KEY_VAR
            ))
        })?;
        serde_json::from_slice(&plain).map_err(|e| {
            HostError::Io(format!(
                "org {}: the shared entry is unreadable: {e}",
                org.name
            ))
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Held>> {
        self.held.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The bucket key of an org (aliases are already valid keys).
pub fn entry_key(org: &str) -> String {
    format!("org.{org}")
}

fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

fn store_error(e: impl std::fmt::Display) -> HostError {
    HostError::Io(format!("the shared session store (NATS KV) failed: {e}"))
}
