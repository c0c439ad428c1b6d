//! Is a container's supervisor alive? The supervisor holds `containers/<id>/lock`
//! exclusively for the container's whole life, so the answer is one non-blocking `flock`:
//! no scan of processes, no pid that could have been reused. After a reboot every lock is
//! free, and the boot id in the state tells the same story even if the lock file were
//! somehow held.

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};

use rustix::fs::{FlockOperation, flock};

use super::ContainerError;

pub enum Liveness {
    Alive,
    /// Dead, and the returned guard holds the lock so that no supervisor can start while
    /// the caller sweeps.
    Dead(LockGuard),
}

/// The container's lock, held by this process until dropped.
#[derive(Debug)]
pub struct LockGuard {
    _file: File,
}

pub fn lock_path(dir: &Path) -> PathBuf {
    dir.join("lock")
}

/// Takes the lock without waiting; `Ok(None)` if someone (a supervisor) holds it.
pub fn try_lock(dir: &Path) -> Result<Option<LockGuard>, ContainerError> {
    let path = lock_path(dir);
    let file = open_lock(&path)?;
    match flock(&file, FlockOperation::NonBlockingLockExclusive) {
        Ok(()) => Ok(Some(LockGuard { _file: file })),
        Err(rustix::io::Errno::WOULDBLOCK) => Ok(None),
        Err(errno) => Err(ContainerError::io("lock", &path, errno.into())),
    }
}

/// Waits until no supervisor holds the lock (the container's process has ended and its
/// exit is recorded), without polling: a blocking shared `flock`.
pub fn wait_unlocked(dir: &Path) -> Result<(), ContainerError> {
    let path = lock_path(dir);
    let file = open_lock(&path)?;
    flock(&file, FlockOperation::LockShared)
        .map_err(|errno| ContainerError::io("lock", &path, errno.into()))
}

/// Takes the lock, waiting for the holder to release it.
pub fn lock(dir: &Path) -> Result<LockGuard, ContainerError> {
    let path = lock_path(dir);
    let file = open_lock(&path)?;
    flock(&file, FlockOperation::LockExclusive)
        .map_err(|errno| ContainerError::io("lock", &path, errno.into()))?;
    Ok(LockGuard { _file: file })
}

fn open_lock(path: &Path) -> Result<File, ContainerError> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .map_err(|e| ContainerError::io("open", path, e))
}

/// Alive exactly when a supervisor holds the lock: a held lock has a live holder in this
/// boot (the kernel drops flocks with their process, and a reboot drops them all). The
/// boot id in the state is not needed for that answer; it tells the sweep whether the
/// recorded pid and cgroup can still be this boot's (see `Containers::reconcile`).
pub fn check(dir: &Path) -> Result<Liveness, ContainerError> {
    match try_lock(dir)? {
        None => Ok(Liveness::Alive),
        Some(guard) => Ok(Liveness::Dead(guard)),
    }
}

/// This boot's id (`/proc/sys/kernel/random/boot_id`), or empty if unreadable.
pub fn current_boot_id() -> String {
    std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}
