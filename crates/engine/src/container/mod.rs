//! Containers: records, the name index, liveness, and the operations the CLI needs
//! (create, start, stop, kill, remove, rename, list, inspect, wait). Nothing here prints.
//!
//! Layout under the root (see docs/ARCHITECTURE.md):
//!
//! ```text
//! containers/<id>/container.json   the record (Docker's Config, HostConfig, ...)
//! containers/<id>/state.json       Docker's State + boot id + supervisor
//! containers/<id>/lock             flock held by the supervisor for the container's life
//! containers/<id>/{upper,work,rootfs}, hosts, hostname, resolv.conf, <id>-json.log
//! names/<name>                     symlink → <id>: the name index (its creation is the
//!                                  name reservation, so two creates cannot share a name)
//! projects/<project>/<id>          symlink → ../../containers/<id> for compose labels
//! events.jsonl                     the event journal
//! ```

pub mod attach;
mod attach_server;
pub mod config;
mod create;
pub mod etc_files;
pub mod events;
pub mod exec;
pub mod health;
pub mod id;
mod initlayer;
pub mod links;
mod liveness;
pub mod logs;
pub mod mount_spec;
pub mod mounts;
mod networking;
pub mod protocol;
mod record;
mod remove;
pub mod resources;
pub mod security_opt;
pub mod sharing;
pub mod signal;
pub mod spec;
mod start;
pub mod supervisor;
pub mod user;

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

pub use config::{Config, HostConfig};
pub use create::{CreateRequest, Created};
pub use liveness::{Liveness, current_boot_id};
pub use record::{
    CONTAINER_SCHEMA, ContainerRecord, PublishedPort, State, Status, SupervisorInfo, ZERO_TIME,
};
pub use start::{Attach, StartError, Started};

use crate::store::StoreError;

/// A file in the container's directory that `restart` leaves so that the supervisor of
/// an `--rm` container does not remove it when it stops.
pub(crate) const KEEP_MARKER: &str = "restarting";

/// A file in the container's directory that `stop` and `kill` leave (Docker's "manually
/// stopped"): the supervisor does not apply the restart policy after it; `start` clears it.
pub(crate) const NO_RESTART_MARKER: &str = "no-restart";

/// `starting` in the container's directory while its supervisor holds the lock but has
/// not yet written the running state: `rm` tells a starting container from a finishing
/// one by it. Removed when dropped.
pub(crate) struct Starting(PathBuf);

impl Starting {
    pub(crate) fn mark(dir: &Path) -> Starting {
        let path = dir.join("starting");
        let _ = fs::write(&path, b"");
        Starting(path)
    }
}

impl Drop for Starting {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.0);
    }
}

/// The compose project label, indexed under `projects/`.
pub const PROJECT_LABEL: &str = "com.docker.compose.project";

#[derive(Debug, thiserror::Error)]
pub enum ContainerError {
    #[error("failed to {action} {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        source: io::Error,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Image(#[from] crate::image::ImageError),
    #[error("{}: {reason}", path.display())]
    Corrupt { path: PathBuf, reason: String },
    #[error(
        "{} was written by a newer berth (schema {found}, this build reads up to {CONTAINER_SCHEMA}); use that berth or a newer one",
        path.display()
    )]
    NewerSchema { path: PathBuf, found: u32 },
    #[error("No such container: {0}")]
    NotFound(String),
    #[error("multiple IDs found with provided prefix: {0}")]
    Ambiguous(String),
    #[error(
        "Conflict. The container name \"/{name}\" is already in use by container \"{id}\". You have to remove (or rename) that container to be able to reuse that name."
    )]
    NameInUse { name: String, id: String },
    #[error("Invalid container name ({0}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed")]
    InvalidName(String),
    #[error(
        "cannot remove container \"/{0}\": container is running: stop the container before removing or force remove"
    )]
    RemoveRunning(String),
    #[error("container {0} is not running")]
    NotRunning(String),
    #[error("container {0} is already running")]
    AlreadyRunning(String),
    #[error("{0}")]
    Invalid(String),
}

impl ContainerError {
    pub(crate) fn io(action: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Self {
        ContainerError::Io {
            action,
            path: path.into(),
            source,
        }
    }
}

/// The containers of one state root. Cheap; holds no open files.
#[derive(Clone, Debug)]
pub struct Containers {
    root: PathBuf,
}

/// A container that uses an image (its id, `sha256:...`).
#[derive(Clone, Debug)]
pub struct ImageUser {
    pub image: String,
    pub container: String,
    pub running: bool,
}

/// A container as `ps` and `inspect` see it: its record and its (reconciled) state.
#[derive(Clone, Debug)]
pub struct Container {
    pub record: ContainerRecord,
    pub state: State,
}

impl Containers {
    pub fn open(root: &Path) -> Result<Containers, ContainerError> {
        let containers = Containers {
            root: root.to_path_buf(),
        };
        for dir in [
            containers.containers_dir(),
            containers.names_dir(),
            containers.projects_dir(),
        ] {
            fs::create_dir_all(&dir).map_err(|e| ContainerError::io("create", &dir, e))?;
        }
        Ok(containers)
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Compiled seccomp programs, shared by the containers of this root.
    pub fn seccomp_cache_dir(&self) -> PathBuf {
        self.root.join("cache/seccomp")
    }

    pub fn dir(&self, id: &str) -> PathBuf {
        self.containers_dir().join(id)
    }

    fn containers_dir(&self) -> PathBuf {
        self.root.join("containers")
    }

    fn names_dir(&self) -> PathBuf {
        self.root.join("names")
    }

    fn projects_dir(&self) -> PathBuf {
        self.root.join("projects")
    }

    /// Docker's lookup order: a full id, then a name (with or without a leading `/`),
    /// then a unique id prefix.
    pub fn lookup(&self, name_or_id: &str) -> Result<String, ContainerError> {
        let wanted = name_or_id.strip_prefix('/').unwrap_or(name_or_id);
        if wanted.is_empty() {
            return Err(ContainerError::NotFound(name_or_id.into()));
        }
        if wanted.len() == 64 && self.dir(wanted).join("container.json").exists() {
            return Ok(wanted.to_string());
        }
        if (id::valid_name(wanted) || wanted.len() == 1)
            && let Ok(target) = fs::read_link(self.names_dir().join(wanted))
        {
            let id = target.to_string_lossy().into_owned();
            if self.dir(&id).join("container.json").exists() {
                return Ok(id);
            }
        }
        if wanted.bytes().all(|b| b.is_ascii_hexdigit()) {
            let matches: Vec<String> = self
                .ids()?
                .into_iter()
                .filter(|id| id.starts_with(wanted))
                .filter(|id| self.dir(id).join("container.json").exists())
                .collect();
            match matches.len() {
                1 => return Ok(matches.into_iter().next().unwrap_or_default()),
                0 => {}
                _ => return Err(ContainerError::Ambiguous(wanted.into())),
            }
        }
        Err(ContainerError::NotFound(name_or_id.into()))
    }

    /// The ids of every container (one `readdir`, no file read).
    pub fn ids(&self) -> Result<Vec<String>, ContainerError> {
        let dir = self.containers_dir();
        let entries = fs::read_dir(&dir).map_err(|e| ContainerError::io("read", &dir, e))?;
        let mut ids = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| ContainerError::io("read", &dir, e))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.len() == 64 && name.bytes().all(|b| b.is_ascii_hexdigit()) {
                ids.push(name);
            } else if let Some(id) = name.strip_prefix(".removed-") {
                // A removal's files and cgroup (being deleted by its supervisor, or left
                // by a crash): both deletions are idempotent.
                let _ = crate::runtime::remove_cgroup(&cgroups_path(id));
                let _ = fs::remove_dir_all(entry.path());
            }
        }
        Ok(ids)
    }

    /// The ids of a compose project's containers, from the project index.
    pub fn project_ids(&self, project: &str) -> Result<Vec<String>, ContainerError> {
        let dir = self.projects_dir().join(project);
        let entries = match fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(ContainerError::io("read", &dir, e)),
        };
        Ok(entries
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|id| self.dir(id).join("container.json").exists())
            .collect())
    }

    pub fn record(&self, id: &str) -> Result<ContainerRecord, ContainerError> {
        record::read_record(&self.dir(id)).map_err(|e| self.missing_as_not_found(id, e))
    }

    /// The container's state, reconciled: a state that says running while no supervisor
    /// holds the container's lock (killed supervisor, reboot) is turned into the truth
    /// (`exited (137)`), and what the dead container left is swept, before it is returned.
    pub fn state(&self, id: &str) -> Result<State, ContainerError> {
        let dir = self.dir(id);
        let state = record::read_state(&dir).map_err(|e| self.missing_as_not_found(id, e))?;
        if !state.running && state.status != Status::Restarting {
            return Ok(state);
        }
        match liveness::check(&dir)? {
            Liveness::Alive => Ok(state),
            Liveness::Dead(guard) => self.reconcile(id, guard),
        }
    }

    pub fn get(&self, id: &str) -> Result<Container, ContainerError> {
        Ok(Container {
            record: self.record(id)?,
            state: self.state(id)?,
        })
    }

    /// Every container, newest first (Docker's `ps` order). Containers removed while the
    /// list is read are skipped.
    pub fn list(&self) -> Result<Vec<Container>, ContainerError> {
        let mut all = Vec::new();
        for id in self.ids()? {
            match self.get(&id) {
                Ok(c) => all.push(c),
                Err(ContainerError::NotFound(_)) => {}
                Err(e) => return Err(e),
            }
        }
        all.sort_by(|a, b| b.record.created.cmp(&a.record.created));
        Ok(all)
    }

    /// The containers `system boot` starts: not running, started before, with the
    /// restart policy `always`, or `unless-stopped` and not stopped by `stop`/`kill`.
    pub fn boot_candidates(&self) -> Result<Vec<Container>, ContainerError> {
        Ok(self
            .list()?
            .into_iter()
            .filter(|c| {
                let stopped_by_hand = self.dir(&c.record.id).join(NO_RESTART_MARKER).exists();
                !c.state.running
                    && c.state.started_at != ZERO_TIME
                    && match c.record.host_config.restart_policy.name.as_str() {
                        "always" => true,
                        "unless-stopped" => !stopped_by_hand,
                        _ => false,
                    }
            })
            .collect())
    }

    /// The images that containers use (`rmi` and `image prune` keep them).
    pub fn image_users(&self) -> Result<Vec<ImageUser>, ContainerError> {
        let mut used = Vec::new();
        for id in self.ids()? {
            match self.get(&id) {
                Ok(c) => used.push(ImageUser {
                    image: c.record.image,
                    container: id,
                    running: c.state.running,
                }),
                Err(ContainerError::NotFound(_)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(used)
    }

    /// Marks a dead container as exited and sweeps what it left; runs with the container's
    /// lock held, so a supervisor cannot start meanwhile.
    fn reconcile(&self, id: &str, _guard: liveness::LockGuard) -> Result<State, ContainerError> {
        let dir = self.dir(id);
        // Re-read under the lock: another command may have reconciled first.
        let state = record::read_state(&dir)?;
        if !state.running && state.status != Status::Restarting {
            return Ok(state);
        }
        crate::runtime::remove_cgroup(&cgroups_path(id))
            .map_err(|e| ContainerError::io("remove the cgroup of", &dir, e))?;
        // The boot id tells a reboot (everything gone with the old kernel) from a
        // supervisor that died (its processes were killed with the cgroup just now).
        let reason = if !state.boot_id.is_empty() && state.boot_id != liveness::current_boot_id() {
            "the host restarted while the container was running"
        } else {
            "the container's supervisor ended unexpectedly; its processes were killed"
        };
        let exited = state.exited(137, crate::time::now_rfc3339(), reason.to_string());
        record::write_state(&dir, &exited)?;
        if let Ok(record) = self.record(id) {
            let _ = events::append(
                &self.root,
                &events::container_event(
                    id,
                    &record.config.image,
                    &record.name,
                    &record.config.labels,
                    "die",
                    &[("exitCode", "137".into())],
                ),
            );
            if record.host_config.auto_remove {
                self.remove_locked(&record)?;
            }
        }
        Ok(exited)
    }

    fn missing_as_not_found(&self, id: &str, e: ContainerError) -> ContainerError {
        match &e {
            ContainerError::Io { source, .. } if source.kind() == io::ErrorKind::NotFound => {
                ContainerError::NotFound(id.into())
            }
            _ => e,
        }
    }

    /// Writes a new state for a container (used by the supervisor).
    pub fn write_state(&self, id: &str, state: &State) -> Result<(), ContainerError> {
        record::write_state(&self.dir(id), state)
    }

    /// Appends an event about `record` to the journal (best effort: the journal is not
    /// the source of truth).
    pub fn emit(&self, record: &ContainerRecord, action: &str, extra: &[(&str, String)]) {
        let _ = events::append(
            &self.root,
            &events::container_event(
                &record.id,
                &record.config.image,
                &record.name,
                &record.config.labels,
                action,
                extra,
            ),
        );
    }
}

/// The cgroup of a container, relative to each hierarchy's root: `berth-<id>`. Ids are
/// 256-bit random, so state roots (parallel tests) and other engines (`docker/<id>`,
/// `machine.slice/libpod-*`) never collide; with no shared parent directory there is
/// nothing to create or remove concurrently and nothing left once the last one goes.
pub fn cgroups_path(id: &str) -> String {
    format!("berth-{id}")
}
