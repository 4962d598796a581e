//! Stored orgs: `login --alias NAME` writes `orgs/NAME.json`, `--org NAME`
//! reads it back, and every session the client keeps afterwards (a renewal
//! with its rotated refresh token) is written over it at once. With rotation
//! the refresh token a renewal replaces is used up, and sending it again
//! makes Salesforce revoke every token of that user and app: a file that
//! still held it would log the user out on the next run.
//!
//! There is no OS keyring on a headless machine, so the files hold tokens:
//! the directory is 0700, each file 0600, and a file is replaced by rename,
//! so a reader sees the old file or the new one, never half of one.

mod format;
mod store;

pub use format::StoredOrg;
pub use store::{Alias, OrgStore};

use crate::cli::Connection;
use salesforce_host::{wit, Client, HostError, SessionHook};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

/// The `after_long_help` of the commands that touch stored orgs.
pub const STORAGE_HELP: &str = "Orgs are stored in $SF_HOST_HOME/orgs, else \
$XDG_CONFIG_HOME/sf-host/orgs, else ~/.config/sf-host/orgs: one NAME.json per org, \
mode 0600 in a 0700 directory (there is no OS keyring here). A file holds the login \
URL, client id, username, instance URL, API version, grant, the current session, and \
what renews it: the newest refresh token, or the JWT key's path (never the key). \
Never a password; the client secret only after `login --save-secret`. Two commands \
that renew the same org at the same moment can race for its one-use refresh token: \
run them one after another.";

/// An org being used: the client's session hook writes every new session
/// into it.
pub struct OrgFile {
    store: OrgStore,
    alias: Alias,
    org: Mutex<StoredOrg>,
}

/// The first failure to write a renewed session; the command then fails
/// after its output (see `unsaved`).
static UNSAVED: OnceLock<String> = OnceLock::new();

impl OrgFile {
    pub fn new(store: OrgStore, alias: Alias, org: StoredOrg) -> Arc<Self> {
        Arc::new(Self {
            store,
            alias,
            org: Mutex::new(org),
        })
    }

    /// Loads a stored org; `--org` naming nothing stored is a usage error.
    pub fn open(name: &str) -> Result<Arc<Self>, HostError> {
        let alias = Alias::parse(name)?;
        let store = OrgStore::locate()?;
        let org = store.load(&alias)?;
        Ok(Self::new(store, alias, org))
    }

    pub fn alias(&self) -> &Alias {
        &self.alias
    }

    pub fn path(&self) -> PathBuf {
        self.store.path(&self.alias)
    }

    /// A copy of the org as it is now.
    pub fn org(&self) -> StoredOrg {
        self.lock().clone()
    }

    /// Changes the org and writes it.
    pub fn update(&self, change: impl FnOnce(&mut StoredOrg)) -> Result<PathBuf, HostError> {
        let mut org = self.lock();
        change(&mut org);
        self.store.save(&self.alias, &org)
    }

    pub fn forget(&self) -> Result<(), HostError> {
        self.store.remove(&self.alias)
    }

    /// Writes each session the client keeps. A hook cannot fail the call
    /// that renewed, so a failed write is reported now and fails the command
    /// at its end: the file's refresh token may be used up.
    pub fn hook(self: &Arc<Self>) -> SessionHook {
        let file = self.clone();
        Arc::new(move |session: &wit::Session| {
            if let Err(e) = file.update(|org| org.record(session)) {
                eprintln!(
                    "warning: {e}; the renewed session is not stored, and the refresh token \
                     in the file may no longer work: log in again with `sf-host login --alias {}`",
                    file.alias
                );
                let _ = UNSAVED.set(e.to_string());
            }
        })
    }

    /// Resumes the stored session when `conn` still names its grant.
    pub fn restore(&self, client: &mut Client, conn: &Connection) -> bool {
        match self.lock().session_for(conn) {
            Some(session) => {
                client.restore_session(session);
                true
            }
            None => false,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, StoredOrg> {
        self.org.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Why a renewed session could not be stored, if that happened in this run.
pub fn unsaved() -> Option<HostError> {
    UNSAVED.get().map(|e| HostError::Usage(e.clone()))
}
