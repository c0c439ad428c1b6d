//! `rm`, `rename`, `kill`, `stop` and `wait`: operations on an existing container that do
//! not start anything.

use std::collections::BTreeMap;
use std::fs;
use std::os::fd::OwnedFd;
use std::path::PathBuf;
use std::time::Duration;

use rustix::event::{PollFd, PollFlags, poll};
use rustix::process::{Pid, PidfdFlags, Signal, pidfd_open, pidfd_send_signal};

use super::record::{self, ContainerRecord, State, Status};
use super::{ContainerError, Containers, PROJECT_LABEL, id, liveness};

impl Containers {
    /// Removes a container. A running one is refused unless `force`, which kills it first
    /// and waits until its supervisor has recorded the exit.
    /// Removes a container; with `volumes` (`rm -v`) also its anonymous volumes.
    pub fn remove(&self, id: &str, force: bool, volumes: bool) -> Result<(), ContainerError> {
        let record = if volumes { self.record(id).ok() } else { None };
        self.remove_inner(id, force).map_err(|e| {
            // Removed meanwhile by its own supervisor (`--rm`): say so as Docker would.
            if self.dir(id).join("container.json").exists() {
                e
            } else {
                ContainerError::NotFound(id.into())
            }
        })?;
        if let Some(record) = record {
            self.remove_anonymous_volumes(&record);
        }
        Ok(())
    }

    /// Removes the anonymous volumes of a removed container that no other container
    /// uses (`rm -v`, `--rm`); named volumes are never removed implicitly.
    pub(crate) fn remove_anonymous_volumes(&self, record: &ContainerRecord) {
        let anonymous: Vec<&str> = record
            .mount_points
            .iter()
            .filter(|m| m.anonymous)
            .map(|m| m.name.as_str())
            .collect();
        if anonymous.is_empty() {
            return;
        }
        let Ok(volumes) = crate::volume::Volumes::open(self.root()) else {
            return;
        };
        let Ok(lock) = volumes.lock_exclusive() else {
            return;
        };
        let users = self.volume_users().unwrap_or_default();
        for name in anonymous {
            let users = users.get(name).cloned().unwrap_or_default();
            let _ = volumes.remove(&lock, name, users);
        }
    }

    /// Which containers use which volume (volume name → short container ids), from one
    /// read of the records: `volume rm`, `prune`, `ls --filter dangling`, `system df`.
    pub fn volume_users(&self) -> Result<BTreeMap<String, Vec<String>>, ContainerError> {
        let mut users: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for id in self.ids()? {
            match self.record(&id) {
                Ok(r) => {
                    for m in r.mount_points.iter().filter(|m| !m.name.is_empty()) {
                        let ids = users.entry(m.name.clone()).or_default();
                        if !ids.contains(&id[..12].to_string()) {
                            ids.push(id[..12].to_string());
                        }
                    }
                }
                Err(ContainerError::NotFound(_)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(users)
    }

    fn remove_inner(&self, id: &str, force: bool) -> Result<(), ContainerError> {
        let record = self.record(id)?;
        let state = self.state(id)?;
        if state.running {
            if !force {
                return Err(ContainerError::RemoveRunning(record.name.clone()));
            }
            self.mark_no_restart(id)?;
            self.signal(id, &state, Signal::KILL)?;
            match liveness::wait_unlocked(&self.dir(id)) {
                Ok(()) => {}
                // Its supervisor removed it meanwhile (`--rm`): done.
                Err(_) if !self.dir(id).exists() => return Ok(()),
                Err(e) => return Err(e),
            }
            if !self.dir(id).join("container.json").exists() {
                return Ok(());
            }
        }
        self.remove_stopped(&record)
    }

    /// Removes a container that is known not to run: its directory, name and index
    /// entries; emits `destroy`. Holds the container's lock so that no start can begin.
    pub(super) fn remove_stopped(&self, record: &ContainerRecord) -> Result<(), ContainerError> {
        let dir = self.dir(&record.id);
        let _guard = match liveness::try_lock(&dir)? {
            Some(guard) => guard,
            // Held, yet the state says it is not running: its supervisor has recorded the
            // exit and is about to end (it writes that state last); wait for it.
            // A supervisor that has not written the running state yet is starting instead.
            None if dir.join("starting").exists() => {
                return Err(ContainerError::Invalid(format!(
                    "cannot remove container \"/{}\": it is being started; stop it once it runs",
                    record.name
                )));
            }
            None if !record::read_state(&dir)?.running => liveness::lock(&dir)?,
            None => return Err(ContainerError::RemoveRunning(record.name.clone())),
        };
        self.remove_locked(record)
    }

    /// `remove_stopped` for a caller that holds the container's lock (the supervisor,
    /// for `--rm`; a reconcile).
    pub(super) fn remove_locked(&self, record: &ContainerRecord) -> Result<(), ContainerError> {
        let dir = self.dir(&record.id);
        crate::runtime::remove_cgroup(&super::cgroups_path(&record.id))
            .map_err(|e| ContainerError::io("remove the cgroup of", &dir, e))?;
        super::networking::forget(self, record);
        let removed = self.unlist(record)?;
        fs::remove_dir_all(&removed).map_err(|e| ContainerError::io("remove", &removed, e))?;
        // Only auto-removed containers get here without `rm`: Docker's `--rm` takes the
        // anonymous volumes along.
        if record.host_config.auto_remove {
            self.remove_anonymous_volumes(record);
        }
        Ok(())
    }

    /// The part of a removal that makes the container cease to exist (record, name and
    /// index entries; the directory renamed to `containers/.removed-<id>`; `destroy`),
    /// without the slow part, deleting the files: the returned directory is the caller's
    /// to delete, and `list` sweeps any that a crash left.
    pub(super) fn unlist(&self, record: &ContainerRecord) -> Result<PathBuf, ContainerError> {
        let dir = self.dir(&record.id);
        // The record goes first: from then on the container does not exist for anyone,
        // whatever else a crash leaves (swept as an unnamed directory).
        let record_path = dir.join("container.json");
        fs::remove_file(&record_path).map_err(|e| ContainerError::io("remove", &record_path, e))?;
        let name_link = self.names_dir().join(&record.name);
        if fs::read_link(&name_link).is_ok_and(|t| t.as_os_str() == record.id.as_str()) {
            let _ = fs::remove_file(&name_link);
        }
        if let Some(project) = record.config.labels.get(PROJECT_LABEL) {
            let _ = fs::remove_file(self.projects_dir().join(project).join(&record.id));
            let _ = fs::remove_dir(self.projects_dir().join(project));
        }
        let removed = self
            .containers_dir()
            .join(format!(".removed-{}", record.id));
        fs::rename(&dir, &removed).map_err(|e| ContainerError::io("remove", &dir, e))?;
        self.emit(record, "destroy", &[]);
        Ok(removed)
    }

    /// Renames a container; the new name is reserved before the old one is released.
    pub fn rename(&self, id: &str, new_name: &str) -> Result<(), ContainerError> {
        let new_name = new_name.trim_start_matches('/');
        if !id::valid_name(new_name) {
            return Err(ContainerError::InvalidName(new_name.into()));
        }
        let mut record = self.record(id)?;
        let old = record.name.clone();
        if old == new_name {
            return Err(ContainerError::Invalid(
                "Renaming a container with the same name as its current name".to_string(),
            ));
        }
        self.link_name(new_name, id)?;
        record.name = new_name.to_string();
        if let Err(e) = record::write_record(&self.dir(id), &record) {
            let _ = fs::remove_file(self.names_dir().join(new_name));
            return Err(e);
        }
        let _ = fs::remove_file(self.names_dir().join(&old));
        self.emit(&record, "rename", &[("oldName", format!("/{old}"))]);
        Ok(())
    }

    /// `kill -s SIGNAL`: sends a signal to the container's main process.
    pub fn kill(&self, id: &str, signal: Signal) -> Result<(), ContainerError> {
        let state = self.state(id)?;
        if !state.running {
            return Err(ContainerError::NotRunning(id.into()));
        }
        let record = self.record(id)?;
        // A killed container is not restarted by its policy (Docker's "manually stopped"),
        // except by a kill that does not end it: only SIGKILL and the stop signal count.
        if signal == Signal::KILL || Some(signal) == stop_signal(&record) {
            self.mark_no_restart(id)?;
        }
        self.signal(id, &state, signal)?;
        self.emit(
            &record,
            "kill",
            &[("signal", (signal.as_raw()).to_string())],
        );
        Ok(())
    }

    /// `stop -t`: the stop signal, then SIGKILL after `timeout` (a negative timeout waits
    /// forever), then waits until the exit is recorded. Stopping a stopped container is
    /// not an error (as Docker).
    pub fn stop(
        &self,
        id: &str,
        signal: Signal,
        timeout: Option<Duration>,
    ) -> Result<(), ContainerError> {
        let state = self.state(id)?;
        if !state.running {
            return Ok(());
        }
        let record = self.record(id)?;
        self.mark_no_restart(id)?;
        let pidfd = self.open_pidfd(id, &state)?;
        if let Some(pidfd) = &pidfd {
            let _ = pidfd_send_signal(pidfd, signal);
            self.emit(&record, "kill", &[("signal", signal.as_raw().to_string())]);
            if !wait_exit(pidfd, timeout) {
                let _ = pidfd_send_signal(pidfd, Signal::KILL);
                self.emit(
                    &record,
                    "kill",
                    &[("signal", Signal::KILL.as_raw().to_string())],
                );
            }
        }
        match liveness::wait_unlocked(&self.dir(id)) {
            Ok(()) => {}
            // Its supervisor removed it (`--rm`): it is stopped.
            Err(_) if !self.dir(id).exists() => return Ok(()),
            Err(e) => return Err(e),
        }
        self.emit(&record, "stop", &[]);
        Ok(())
    }

    /// Blocks until the container is not running (its supervisor released the lock),
    /// then returns its state.
    /// An `--rm` container is gone once its lock is free; its exit code is then read
    /// from its `die` event in the journal.
    pub fn wait(&self, id: &str) -> Result<i32, ContainerError> {
        let state = self.state(id)?;
        if !(state.running || state.status == Status::Restarting) {
            return Ok(state.exit_code);
        }
        let waited = liveness::wait_unlocked(&self.dir(id));
        match self.state(id) {
            Ok(state) => {
                waited?;
                Ok(state.exit_code)
            }
            Err(ContainerError::NotFound(_)) => {
                let events = super::events::read_all(&self.root).map_err(|e| {
                    ContainerError::io("read", super::events::journal_path(&self.root), e)
                })?;
                events
                    .iter()
                    .rev()
                    .find(|e| e.id == id && e.action == "die")
                    .and_then(|e| e.actor.attributes.get("exitCode")?.parse().ok())
                    .ok_or_else(|| ContainerError::NotFound(id.into()))
            }
            Err(e) => Err(e),
        }
    }

    /// `restart`: stops the container without letting `--rm` remove it, as Docker does.
    pub fn stop_for_restart(
        &self,
        id: &str,
        signal: Signal,
        timeout: Option<Duration>,
    ) -> Result<(), ContainerError> {
        let marker = self.dir(id).join(super::KEEP_MARKER);
        fs::write(&marker, b"").map_err(|e| ContainerError::io("write", &marker, e))?;
        let result = self.stop(id, signal, timeout);
        let _ = fs::remove_file(&marker);
        result
    }

    /// Tells the supervisor not to restart the container after this exit.
    fn mark_no_restart(&self, id: &str) -> Result<(), ContainerError> {
        let marker = self.dir(id).join(super::NO_RESTART_MARKER);
        fs::write(&marker, b"").map_err(|e| ContainerError::io("write", &marker, e))
    }

    fn signal(&self, id: &str, state: &State, signal: Signal) -> Result<(), ContainerError> {
        if let Some(pidfd) = self.open_pidfd(id, state)? {
            pidfd_send_signal(&pidfd, signal)
                .or_else(|e| {
                    if e == rustix::io::Errno::SRCH {
                        Ok(())
                    } else {
                        Err(e)
                    }
                })
                .map_err(|e| ContainerError::io("signal", self.dir(id), e.into()))?;
        }
        Ok(())
    }

    /// A pidfd for the container's main process. The pid cannot have been reused while
    /// the state says running and the supervisor (its parent, which reaps it) holds the
    /// lock; `None` if the process is already gone.
    fn open_pidfd(&self, id: &str, state: &State) -> Result<Option<OwnedFd>, ContainerError> {
        let Some(pid) = Pid::from_raw(state.pid) else {
            return Ok(None);
        };
        match pidfd_open(pid, PidfdFlags::empty()) {
            Ok(fd) => {
                if liveness::try_lock(&self.dir(id))?.is_some() {
                    return Ok(None);
                }
                Ok(Some(fd))
            }
            Err(rustix::io::Errno::SRCH) => Ok(None),
            Err(e) => Err(ContainerError::io(
                "open a pidfd for",
                self.dir(id),
                e.into(),
            )),
        }
    }
}

/// Waits for the process behind `pidfd` to exit, up to `timeout` (`None`: forever);
/// true if it exited.
fn wait_exit(pidfd: &OwnedFd, timeout: Option<Duration>) -> bool {
    let deadline = timeout.map(|t| std::time::Instant::now() + t);
    loop {
        let mut fds = [PollFd::new(pidfd, PollFlags::IN)];
        let remaining = deadline.map(|d| d.saturating_duration_since(std::time::Instant::now()));
        let ts = remaining.map(|r| rustix::time::Timespec {
            tv_sec: r.as_secs() as i64,
            tv_nsec: i64::from(r.subsec_nanos()),
        });
        match poll(&mut fds, ts.as_ref()) {
            Ok(0) => return false,
            Ok(_) => return true,
            Err(rustix::io::Errno::INTR) => continue,
            Err(_) => return false,
        }
    }
}

/// The container's stop signal (SIGTERM unless `--stop-signal` or the image says).
fn stop_signal(record: &ContainerRecord) -> Option<Signal> {
    super::signal::parse(record.config.stop_signal.as_deref().unwrap_or("SIGTERM"))
}
