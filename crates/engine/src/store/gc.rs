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
            for layer in image.layers {
                used.extend(layer.blob);
                // The uncompressed tar of a layer, when it is stored under its diff id
                // (uncompressed sources, imports, loads before decision 26): `save` reads it.
                used.insert(layer.diff_id);
            }
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
    use crate::store::fixture::load;
    use crate::store::test_dir;
    use std::sync::{Arc, Barrier};

    #[test]
    fn reads_owner_pids() {
        assert_eq!(owner_pid("blob-123-4", false), Some(123));
        assert_eq!(owner_pid("removing-7-0", false), Some(7));
        assert_eq!(owner_pid(".tmp-55-1-record.json", true), Some(55));
        assert_eq!(owner_pid("abc.json", true), None);
        assert_eq!(owner_pid("store.lock", true), None);
        assert_eq!(owner_pid("junk", false), None);
    }

    #[test]
    fn finds_what_no_image_uses() {
        let dir = test_dir("gc");
        let store = Store::open(&*dir).unwrap();
        let keep = load(&store, "config keep", &["shared"]);
        let gone = load(&store, "config gone", &["shared", "own"]);
        let lock = store.lock_exclusive().unwrap();
        store.remove_image(&lock, &gone.id).unwrap();

        assert_eq!(
            store.unreferenced_layers(&lock).unwrap(),
            vec![gone.layers[1].chain_id.clone()]
        );
        let mut blobs = vec![gone.id.clone(), gone.layers[1].blob.clone().unwrap()];
        blobs.sort();
        assert_eq!(store.unreferenced_blobs(&lock).unwrap(), blobs);
        assert!(store.layers().unwrap().contains(&keep.layers[0].chain_id));
    }

    /// Two loads of images that share their base layer, at the same time: both succeed and
    /// the base is unpacked into one directory.
    #[test]
    fn concurrent_loads_share_layers() {
        let dir = test_dir("gc-loads");
        let store = Store::open(&*dir).unwrap();
        let barrier = Arc::new(Barrier::new(2));
        let handles: Vec<_> = ["a", "b"]
            .into_iter()
            .map(|name| {
                let (store, barrier) = (store.clone(), barrier.clone());
                std::thread::spawn(move || {
                    let _lock = store.lock_shared().unwrap();
                    barrier.wait();
                    let rec = load(&store, &format!("config {name}"), &["base", name]);
                    store
                        .set_tag(&format!("docker.io/library/{name}:latest"), &rec.id)
                        .unwrap();
                    rec
                })
            })
            .collect();
        let recs: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        assert_eq!(recs[0].layers[0], recs[1].layers[0]);
        assert_eq!(store.layers().unwrap().len(), 3);
        assert_eq!(store.images().unwrap().len(), 2);
        assert_eq!(fs::read_dir(store.tmp_dir()).unwrap().count(), 0);
    }

    #[test]
    fn sweeps_leftovers_of_dead_processes_only() {
        let dir = test_dir("gc-sweep");
        let store = Store::open(&*dir).unwrap();
        // A pid that cannot be alive: above the kernel's maximum (4194304).
        let dead = 4_194_305;
        let mine = std::process::id();
        let dead_layer = store.tmp_dir().join(format!("layer-{dead}-0"));
        fs::create_dir_all(dead_layer.join("diff/sub")).unwrap();
        let dead_record = store.images_dir().join(format!(".tmp-{dead}-3-abc.json"));
        fs::write(&dead_record, b"{").unwrap();
        let live = store.tmp_dir().join(format!("blob-{mine}-0"));
        fs::write(&live, b"in use").unwrap();
        let foreign = store.tmp_dir().join("not-ours");
        fs::write(&foreign, b"").unwrap();

        let report = store.sweep_tmp();
        assert!(report.errors.is_empty(), "{:?}", report.errors);
        let mut removed = report.removed;
        removed.sort();
        let mut want = vec![dead_layer, dead_record];
        want.sort();
        assert_eq!(removed, want);
        assert!(live.exists() && foreign.exists());
    }
}
