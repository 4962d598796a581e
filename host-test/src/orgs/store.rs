//! Where org files live: the directory, the file names, and the atomic,
//! owner-only writes.

use super::StoredOrg;
use salesforce_host::HostError;
use std::fs::{self, DirBuilder, File, Permissions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};

const ORG_FILE_MODE: u32 = 0o600;
const ORG_DIR_MODE: u32 = 0o700;

/// A validated org name: it becomes a file name, so nothing that could leave
/// the directory or hide the file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Alias(String);

impl Alias {
    pub fn parse(name: &str) -> Result<Self, HostError> {
        let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
        if name.is_empty() || name.len() > 64 || name.starts_with('.') || !name.chars().all(allowed)
        {
            return Err(HostError::Usage(format!(
                "invalid org alias `{name}`: use 1 to 64 letters, digits, `-`, `_` and `.` \
                 (not first), no path separators"
            )));
        }
        Ok(Self(name.to_string()))
    }
}

impl std::fmt::Display for Alias {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The `orgs` directory.
#[derive(Clone, Debug)]
pub struct OrgStore {
    dir: PathBuf,
}

impl OrgStore {
    /// `$SF_HOST_HOME/orgs`, else `$XDG_CONFIG_HOME/sf-host/orgs`, else
    /// `~/.config/sf-host/orgs`.
    pub fn locate() -> Result<Self, HostError> {
        let var = |name| {
            std::env::var_os(name)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        // XDG: a relative XDG_CONFIG_HOME is invalid and to be ignored.
        let xdg = var("XDG_CONFIG_HOME").filter(|p| p.is_absolute());
        let home = var("SF_HOST_HOME")
            .or_else(|| xdg.map(|x| x.join("sf-host")))
            .or_else(|| var("HOME").map(|h| h.join(".config").join("sf-host")))
            .ok_or_else(|| {
                HostError::Usage(
                    "cannot tell where to store orgs: set SF_HOST_HOME (or HOME)".into(),
                )
            })?;
        Ok(Self {
            dir: home.join("orgs"),
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn path(&self, alias: &Alias) -> PathBuf {
        self.dir.join(format!("{alias}.json"))
    }

    pub fn load(&self, alias: &Alias) -> Result<StoredOrg, HostError> {
        let path = self.path(alias);
        let text = fs::read_to_string(&path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => HostError::Usage(format!(
                "no org `{alias}` is stored in {}; store it with `sf-host login --alias {alias}`, \
                 list stored orgs with `sf-host orgs`",
                self.dir.display()
            )),
            _ => HostError::Usage(format!(
                "cannot read org `{alias}` ({}): {e}",
                path.display()
            )),
        })?;
        // serde_json's message names a line and column, never the text there.
        serde_json::from_str(&text).map_err(|e| {
            HostError::Usage(format!(
                "org file {} is not valid: {e}; log in again with `sf-host login --alias {alias}`",
                path.display()
            ))
        })
    }

    /// Replaces the org's file atomically; returns its path.
    pub fn save(&self, alias: &Alias, org: &StoredOrg) -> Result<PathBuf, HostError> {
        let path = self.path(alias);
        let json = serde_json::to_vec_pretty(org).expect("an org serializes");
        self.create_dir()
            .and_then(|()| write_atomically(&path, &json))
            .map_err(|e| {
                HostError::Usage(format!(
                    "cannot store org `{alias}` in {}: {e}",
                    path.display()
                ))
            })?;
        Ok(path)
    }

    pub fn remove(&self, alias: &Alias) -> Result<(), HostError> {
        let path = self.path(alias);
        fs::remove_file(&path).map_err(|e| {
            HostError::Usage(format!("cannot delete org file {}: {e}", path.display()))
        })
    }

    /// Every stored alias, sorted; none when the directory does not exist yet.
    pub fn aliases(&self) -> Result<Vec<Alias>, HostError> {
        let entries = match fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => {
                return Err(HostError::Usage(format!(
                    "cannot list {}: {e}",
                    self.dir.display()
                )))
            }
        };
        // Temporary files start with a dot, which no alias does.
        let mut aliases: Vec<Alias> = entries
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter_map(|name| Alias::parse(name.strip_suffix(".json")?).ok())
            .collect();
        aliases.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(aliases)
    }

    fn create_dir(&self) -> std::io::Result<()> {
        DirBuilder::new()
            .recursive(true)
            .mode(ORG_DIR_MODE)
            .create(&self.dir)?;
        // Also when it existed before with a wider mode.
        fs::set_permissions(&self.dir, Permissions::from_mode(ORG_DIR_MODE))
    }
}

/// A temporary file in the same directory (so the rename cannot cross file
/// systems), created 0600, flushed to disk, then renamed over `path`; the
/// directory is synced too, or the rename itself could be lost in a crash.
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path
        .parent()
        .expect("an org file is inside the orgs directory");
    let mut file = tempfile::Builder::new()
        .prefix(".")
        .suffix(".tmp")
        .permissions(Permissions::from_mode(ORG_FILE_MODE))
        .tempfile_in(dir)?;
    file.write_all(bytes)?;
    file.as_file().sync_all()?;
    file.persist(path).map_err(|e| e.error)?;
    File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::GrantKind;

    #[test]
    fn aliases_stay_inside_the_directory() {
        for good in ["prod", "my-org_2", "acme.sandbox", "A1"] {
            assert!(Alias::parse(good).is_ok(), "{good}");
        }
        let long = "x".repeat(65);
        for bad in [
            "", ".", "..", ".hidden", "a/b", "a\\b", "../x", "a b", "ö", &long,
        ] {
            let err = Alias::parse(bad).unwrap_err().to_string();
            assert!(err.contains("letters, digits"), "{bad}: {err}");
        }
    }

    #[test]
    fn a_file_is_replaced_whole_with_mode_0600_in_a_0700_directory() {
        let home = tempfile::tempdir().unwrap();
        let store = OrgStore {
            dir: home.path().join("orgs"),
        };
        let alias = Alias::parse("acme").unwrap();
        let mut org = StoredOrg {
            login_url: None,
            client_id: Some("id".into()),
            username: None,
            instance_url: "https://acme.my.salesforce.com".into(),
            api_version: None,
            grant: GrantKind::RefreshToken,
            refresh_token: Some("first".into()),
            private_key_file: None,
            audience: None,
            client_secret: None,
            session: None,
        };
        let path = store.save(&alias, &org).unwrap();
        org.refresh_token = Some("second".into());
        store.save(&alias, &org).unwrap();

        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(store.dir()), 0o700);
        let names: Vec<_> = fs::read_dir(store.dir()).unwrap().collect();
        assert_eq!(names.len(), 1, "no temporary file is left behind");
        let back = store.load(&alias).unwrap();
        assert_eq!(back.refresh_token.as_deref(), Some("second"));
        assert_eq!(store.aliases().unwrap(), vec![alias]);
        let text = fs::read_to_string(&path).unwrap();
        assert!(!text.contains("client_secret"), "{text}");
    }
}
