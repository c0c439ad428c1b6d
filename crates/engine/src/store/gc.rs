//! Garbage: content no image uses any more, and staging leftovers of dead processes.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use super::atomic::{TEMP_PREFIX, remove_any};
use super::{ExclusiveLock, Store, StoreError};
use crate::digest::Digest;

/// What `sweep_tmp` did: it keeps going past failures and reports them all.
#[derive(Debug, Default)]
pub struct SweepReport {
    pub removed: Vec<PathBuf>,
    pub errors: Vec<StoreError>,
}

impl Store {
    /// Layers that no image record uses. Needs the exclusive lock, which the caller keeps
    /// while removing them, so no load can start using one in between.
    pub fn unreferenced_layers(&self, _lock: &ExclusiveLock) -> Result<Vec<Digest>, StoreError> {
        let used: BTreeSet<Digest> = self
            .images()?
            .into_iter()
            .flat_map(|image| image.layers.into_iter().map(|l| l.chain_id))
            .collect();
        Ok(self
            .layers()?
            .into_iter()
            .filter(|l| !used.contains(l))
            .collect())
    }

    /// Blobs that no image record uses (as config, manifest or layer blob). Same locking as
    /// `unreferenced_layers`.
    pub fn unreferenced_blobs(&self, _lock: &ExclusiveLock) -> Result<Vec<Digest>, StoreError> {
        let mut used = BTreeSet::new();
        for image in self.images()? {
            used.extend(image.manifest);
            used.extend(image.layers.into_iter().filter_map(|l| l.blob));
            used.insert(image.id);
        }
        Ok(self
            .blobs()?
            .into_iter()
            .filter(|b| !used.contains(b))
            .collect())
    }

    /// Removes staging entries left by processes that died mid-write: `tmp/<kind>-<pid>-<n>`
    /// and the `.tmp-<pid>-...` files of `write_atomic` next to records. An entry whose pid
    /// is alive (or is us) is in use and stays. A pid reused by an unrelated process only
    /// delays the cleanup until that process is gone.
    pub fn sweep_tmp(&self) -> SweepReport {
        let mut report = SweepReport::default();
        let dirs = [
            (self.tmp_dir(), false),
            (self.images_dir(), true),
            (self.root.clone(), true),
        ];
        for (dir, atomic_temps_only) in dirs {
            let entries = match fs::read_dir(&dir) {
                Ok(entries) => entries,
                Err(e) => {
                    report.errors.push(StoreError::io("read", &dir, e));
                    continue;
                }
            };
            for entry in entries.flatten() {
                let name = entry.file_name();
                let Some(pid) = name.to_str().and_then(|n| owner_pid(n, atomic_temps_only)) else {
                    continue;
                };
                if process_is_alive(pid) {
                    continue;
                }
                sweep_one(&entry.path(), &mut report);
            }
        }
        report
    }
}

fn sweep_one(path: &Path, report: &mut SweepReport) {
    match remove_any(path) {
        Ok(()) => report.removed.push(path.to_path_buf()),
        Err(e) => report.errors.push(StoreError::io("remove", path, e)),
    }
}

/// The pid in a staging name: `.tmp-<pid>-<n>-<name>` anywhere, `<kind>-<pid>-<n>` in `tmp/`.
fn owner_pid(name: &str, atomic_temps_only: bool) -> Option<i32> {
    let rest = match name.strip_prefix(TEMP_PREFIX) {
        Some(rest) => rest,
        None if atomic_temps_only => return None,
        None => name.split_once('-')?.1,
    };
    rest.split('-').next()?.parse().ok()
}

/// Whether `pid` names a live process: signal 0 reaches it, or it exists but is not ours.
fn process_is_alive(pid: i32) -> bool {
    if pid == std::process::id() as i32 {
        return true;
    }
    let Some(pid) = rustix::process::Pid::from_raw(pid) else {
        // Not a valid pid (0 or negative): not a name we made, leave it alone.
        return true;
    };
    match rustix::process::test_kill_process(pid) {
        Ok(()) => true,
        Err(e) => e != rustix::io::Errno::SRCH,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_owner_pids() {
        assert_eq!(owner_pid("blob-123-4", false), Some(123));
        assert_eq!(owner_pid("removing-7-0", false), Some(7));
        assert_eq!(owner_pid(".tmp-55-1-record.json", true), Some(55));
        assert_eq!(owner_pid("abc.json", true), None);
        assert_eq!(owner_pid("store.lock", true), None);
        assert_eq!(owner_pid("junk", false), None);
    }
}
