//! Volumes of the local driver: `<root>/volumes/<name>/_data` holds the content (Docker's
//! layout), `<root>/volumes/<name>/volume.json` the record as `docker volume inspect`
//! prints it. A volume appears by one rename of a staged directory, so it either exists
//! whole or not at all; `volumes.lock` (flock) is shared by container creation (which
//! may create volumes and then records their use) and exclusive for removal, so a volume
//! is never removed between a container's choosing it and its record naming it.

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::store::{ExclusiveLock, SharedLock, StoreError, write_atomic};

mod backing;
pub use backing::Backing;

/// The label Docker (23+) puts on anonymous volumes; `volume prune` without `-a` removes
/// only these.
pub const ANONYMOUS_LABEL: &str = "com.docker.volume.anonymous";

/// `docker volume inspect`'s shape, field for field.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct Volume {
    pub created_at: String,
    pub driver: String,
    pub labels: Option<BTreeMap<String, String>>,
    pub mountpoint: String,
    pub name: String,
    pub options: Option<BTreeMap<String, String>>,
    pub scope: String,
}

impl Volume {
    pub fn is_anonymous(&self) -> bool {
        self.labels
            .as_ref()
            .is_some_and(|l| l.contains_key(ANONYMOUS_LABEL))
    }

    /// What holds the content (from the options it was created with).
    pub fn backing(&self) -> Backing {
        self.options
            .as_ref()
            .map(|o| Backing::from_options(o).unwrap_or(Backing::Directory))
            .unwrap_or(Backing::Directory)
    }

    pub fn label(&self, key: &str) -> Option<&str> {
        self.labels.as_ref()?.get(key).map(String::as_str)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum VolumeError {
    #[error("failed to {action} {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        source: io::Error,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("get {0}: no such volume")]
    NotFound(String),
    #[error(
        "create {0}: \"{0}\" includes invalid characters for a local volume name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host directory, use absolute path"
    )]
    InvalidName(String),
    #[error("remove {name}: volume is in use - [{}]", users.join(", "))]
    InUse { name: String, users: Vec<String> },
    #[error("create {name}: driver {driver:?} is not supported by berth (only the local driver)")]
    Driver { name: String, driver: String },
    #[error("create {name}: {message}")]
    Options { name: String, message: String },
    #[error("{}: {reason}", path.display())]
    Corrupt { path: PathBuf, reason: String },
}

fn io_error<'a>(
    action: &'static str,
    path: &'a Path,
) -> impl FnOnce(io::Error) -> VolumeError + 'a {
    move |source| VolumeError::Io {
        action,
        path: path.to_path_buf(),
        source,
    }
}

/// What `volume create` (or a container's `-v name:/path`) asks for.
#[derive(Clone, Debug, Default)]
pub struct VolumeRequest {
    /// `None`: an anonymous volume with a random 64-hex name.
    pub name: Option<String>,
    pub driver: Option<String>,
    pub labels: BTreeMap<String, String>,
    pub options: BTreeMap<String, String>,
}

/// The volumes under one state root.
#[derive(Clone, Debug)]
pub struct Volumes {
    dir: PathBuf,
}

/// Docker's rule for local volume names: `[a-zA-Z0-9][a-zA-Z0-9_.-]+`.
pub fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphanumeric())
        && name.len() >= 2
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

impl Volumes {
    pub fn open(root: &Path) -> Result<Volumes, VolumeError> {
        let dir = root.join("volumes");
        fs::create_dir_all(&dir).map_err(io_error("create", &dir))?;
        Ok(Volumes { dir })
    }

    /// Held while containers are created (volumes made and recorded as used).
    pub fn lock_shared(&self) -> Result<SharedLock, VolumeError> {
        Ok(SharedLock::acquire(&self.dir.join(".lock"))?)
    }

    /// Held while volumes are removed.
    pub fn lock_exclusive(&self) -> Result<ExclusiveLock, VolumeError> {
        Ok(ExclusiveLock::acquire(&self.dir.join(".lock"))?)
    }

    /// Held by a starting container from finding the running users of a tmpfs volume
    /// until it runs itself, so that two new users never make two tmpfs.
    pub fn lock_mount(&self, name: &str) -> Result<ExclusiveLock, VolumeError> {
        Ok(ExclusiveLock::acquire(
            &self.dir.join(name).join(".mount.lock"),
        )?)
    }

    /// Where the content of `name` lives on the host.
    pub fn data_dir(&self, name: &str) -> PathBuf {
        self.dir.join(name).join("_data")
    }

    /// Creates the volume, or returns the existing one of that name (as Docker does).
    pub fn create(&self, request: VolumeRequest) -> Result<Volume, VolumeError> {
        let name = match request.name {
            Some(name) => name,
            None => {
                crate::container::id::new_id().map_err(io_error("generate a name in", &self.dir))?
            }
        };
        if !valid_name(&name) {
            return Err(VolumeError::InvalidName(name));
        }
        let driver = request.driver.unwrap_or_else(|| "local".into());
        if driver != "local" {
            return Err(VolumeError::Driver { name, driver });
        }
        Backing::from_options(&request.options).map_err(|message| VolumeError::Options {
            name: name.clone(),
            message,
        })?;
        match self.get(&name) {
            Ok(existing) => return Ok(existing),
            Err(VolumeError::NotFound(_)) => {}
            Err(e) => return Err(e),
        }
        let volume = Volume {
            created_at: now_seconds_rfc3339(),
            driver,
            labels: (!request.labels.is_empty()).then_some(request.labels),
            mountpoint: self.data_dir(&name).to_string_lossy().into_owned(),
            name: name.clone(),
            options: (!request.options.is_empty()).then_some(request.options),
            scope: "local".into(),
        };
        let staging = self.dir.join(format!(".new-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&staging);
        let staged = (|| {
            fs::create_dir(&staging).map_err(io_error("create", &staging))?;
            let data = staging.join("_data");
            fs::create_dir(&data).map_err(io_error("create", &data))?;
            // Docker's `_data` is 0755 root; the container's content decides the rest.
            let bytes = serde_json::to_vec_pretty(&volume).map_err(|e| VolumeError::Corrupt {
                path: staging.clone(),
                reason: e.to_string(),
            })?;
            write_atomic(&staging.join("volume.json"), &bytes)?;
            Ok::<(), VolumeError>(())
        })();
        if let Err(e) = staged {
            let _ = fs::remove_dir_all(&staging);
            return Err(e);
        }
        let target = self.dir.join(&name);
        match fs::rename(&staging, &target) {
            Ok(()) => Ok(volume),
            // Created meanwhile by someone else: theirs stands.
            Err(e) if matches!(e.raw_os_error(), Some(libc::EEXIST | libc::ENOTEMPTY)) => {
                let _ = fs::remove_dir_all(&staging);
                self.get(&name)
            }
            Err(e) => {
                let _ = fs::remove_dir_all(&staging);
                Err(VolumeError::Io {
                    action: "create",
                    path: target,
                    source: e,
                })
            }
        }
    }

    pub fn get(&self, name: &str) -> Result<Volume, VolumeError> {
        if !valid_name(name) {
            return Err(VolumeError::NotFound(name.to_string()));
        }
        let path = self.dir.join(name).join("volume.json");
        let bytes = match fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(VolumeError::NotFound(name.to_string()));
            }
            Err(e) => return Err(io_error("read", &path)(e)),
        };
        serde_json::from_slice(&bytes).map_err(|e| VolumeError::Corrupt {
            path,
            reason: e.to_string(),
        })
    }

    /// Every volume, by name.
    pub fn list(&self) -> Result<Vec<Volume>, VolumeError> {
        let mut names: Vec<String> = fs::read_dir(&self.dir)
            .map_err(io_error("read", &self.dir))?
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| !n.starts_with('.'))
            .collect();
        names.sort();
        let mut out = Vec::new();
        for name in names {
            match self.get(&name) {
                Ok(v) => out.push(v),
                // Removed meanwhile.
                Err(VolumeError::NotFound(_)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }

    /// Removes a volume that no container uses (`users` are the containers that do,
    /// found by the caller under the exclusive lock it holds). The directory is renamed
    /// away first, so the name is free at once and a crash leaves only a `.removed-*`.
    pub fn remove(
        &self,
        _lock: &ExclusiveLock,
        name: &str,
        users: Vec<String>,
    ) -> Result<(), VolumeError> {
        self.get(name)?;
        if !users.is_empty() {
            return Err(VolumeError::InUse {
                name: name.to_string(),
                users,
            });
        }
        let dir = self.dir.join(name);
        let doomed = self
            .dir
            .join(format!(".removed-{}-{name}", std::process::id()));
        fs::rename(&dir, &doomed).map_err(io_error("remove", &dir))?;
        fs::remove_dir_all(&doomed).map_err(io_error("remove", &doomed))
    }

    /// Removes a volume that nobody else can know of (an anonymous volume a failed
    /// container create made), without the lock.
    pub(crate) fn discard(&self, name: &str) {
        if valid_name(name) {
            let _ = fs::remove_dir_all(self.dir.join(name));
        }
    }

    /// Bytes under the volume's data (for `system df` and prune's report).
    pub fn size(&self, name: &str) -> u64 {
        tree_size(&self.data_dir(name))
    }

    /// Leftovers of interrupted creates and removals (`.new-*`, `.removed-*`) whose
    /// process is gone.
    pub fn sweep(&self) {
        let Ok(entries) = fs::read_dir(&self.dir) else {
            return;
        };
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let rest = name
                .strip_prefix(".new-")
                .or_else(|| name.strip_prefix(".removed-"));
            let Some(pid) = rest.and_then(|r| r.split('-').next()?.parse::<i32>().ok()) else {
                continue;
            };
            let alive = rustix::process::Pid::from_raw(pid)
                .is_some_and(|p| rustix::process::test_kill_process(p).is_ok());
            if !alive {
                let _ = fs::remove_dir_all(e.path());
            }
        }
    }
}

/// Docker prints a volume's `CreatedAt` in whole seconds.
fn now_seconds_rfc3339() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    crate::time::format_rfc3339(now.as_secs() as i64, None)
}

/// Bytes of the regular files under `dir` (symlinks not followed), for `system df`.
pub fn tree_size(dir: &Path) -> u64 {
    let mut total = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let Ok(meta) = e.metadata() else { continue };
            if meta.is_dir() {
                stack.push(e.path());
            } else {
                total += meta.len();
            }
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp() -> (PathBuf, Volumes) {
        use std::sync::atomic::{AtomicU32, Ordering};
        static N: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "berth-unit-volumes-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let volumes = Volumes::open(&dir).unwrap();
        (dir, volumes)
    }

    #[test]
    fn names_follow_dockers_rule() {
        assert!(valid_name("db_data"));
        assert!(valid_name("a.b-c"));
        assert!(!valid_name("a"));
        assert!(!valid_name("_x"));
        assert!(!valid_name("a/b"));
        assert!(!valid_name("../x"));
    }

    #[test]
    fn create_is_idempotent_and_remove_refuses_a_used_volume() {
        let (dir, volumes) = temp();
        let request = VolumeRequest {
            name: Some("data".into()),
            ..VolumeRequest::default()
        };
        let first = volumes.create(request.clone()).unwrap();
        assert_eq!(
            first.mountpoint,
            dir.join("volumes/data/_data").to_string_lossy()
        );
        assert!(Path::new(&first.mountpoint).is_dir());
        assert_eq!(volumes.create(request).unwrap(), first);
        let anon = volumes.create(VolumeRequest {
            labels: [(ANONYMOUS_LABEL.to_string(), String::new())].into(),
            ..VolumeRequest::default()
        });
        let anon = anon.unwrap();
        assert_eq!(anon.name.len(), 64);
        assert!(anon.is_anonymous() && !first.is_anonymous());
        assert_eq!(volumes.list().unwrap().len(), 2);
        let lock = volumes.lock_exclusive().unwrap();
        let e = volumes
            .remove(&lock, "data", vec!["abc".into()])
            .unwrap_err();
        assert_eq!(e.to_string(), "remove data: volume is in use - [abc]");
        volumes.remove(&lock, "data", Vec::new()).unwrap();
        assert!(matches!(volumes.get("data"), Err(VolumeError::NotFound(_))));
        let e = volumes
            .create(VolumeRequest {
                name: Some("/etc".into()),
                ..VolumeRequest::default()
            })
            .unwrap_err();
        assert!(e.to_string().contains("includes invalid characters"), "{e}");
        fs::remove_dir_all(dir).unwrap();
    }
}
