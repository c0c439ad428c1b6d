//! Unpacked layers, one directory per chain id, created once and shared by every image
//! that has the same stack of layers below.

use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use super::atomic::{Staging, remove_any};
use super::{
    ExclusiveLock, Store, StoreError, digest_from_hex, now_rfc3339, read_json, sync_dir, write_json,
};
use crate::digest::Digest;

pub const LAYER_SCHEMA: u32 = 1;

/// A layer directory being filled in `tmp/`, without a name yet; removed when dropped.
pub struct StagedLayer {
    staging: Staging,
    diff: PathBuf,
}

impl StagedLayer {
    /// The `diff` directory to unpack into.
    pub fn diff_dir(&self) -> &Path {
        &self.diff
    }

    /// Flushes what was unpacked so far (`syncfs`). Publishing syncs again anyway; doing it
    /// as soon as a layer is unpacked overlaps the disk writes with the work on other layers
    /// instead of leaving them all for the end.
    pub fn sync(&self) -> Result<(), StoreError> {
        sync_tree(self.staging.path())
    }
}

/// `layers/<chain-hex>/layer.json`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerRecord {
    pub schema: u32,
    pub chain_id: Digest,
    pub diff_id: Digest,
    /// The chain id of the layer below, if any.
    #[serde(default)]
    pub parent: Option<Digest>,
    /// Bytes unpacked, as reported by the unpacker.
    pub size: u64,
    pub created: String,
}

impl Store {
    /// The `diff` directory of a layer: what goes into an overlayfs `lowerdir`.
    pub fn layer_dir(&self, chain_id: &Digest) -> PathBuf {
        self.layer_root(chain_id).join("diff")
    }

    pub fn has_layer(&self, chain_id: &Digest) -> bool {
        // layer.json is written before the directory gets its name, so its presence means
        // the layer is complete.
        self.layer_root(chain_id).join("layer.json").is_file()
    }

    pub fn layer_record(&self, chain_id: &Digest) -> Result<LayerRecord, StoreError> {
        read_json(&self.layer_root(chain_id).join("layer.json"))?
            .ok_or_else(|| StoreError::NoSuchLayer(chain_id.clone()))
    }

    /// Creates a layer unless it exists. `fill` gets an empty `diff` directory in `tmp/`,
    /// unpacks into it and returns the unpacked size; the finished directory is then
    /// renamed into `layers/` in one step. If another load created the same layer
    /// meanwhile, ours is discarded and theirs returned; if `fill` fails, nothing stays.
    pub fn create_layer<E: From<StoreError>>(
        &self,
        chain_id: &Digest,
        diff_id: &Digest,
        parent: Option<&Digest>,
        fill: impl FnOnce(&Path) -> Result<u64, E>,
    ) -> Result<LayerRecord, E> {
        check_chain_id(chain_id, diff_id, parent)?;
        if self.has_layer(chain_id) {
            return Ok(self.layer_record(chain_id)?);
        }
        let staged = self.stage_layer()?;
        let size = fill(staged.diff_dir())?;
        Ok(self.publish_staged_layer(staged, chain_id, diff_id, parent, size)?)
    }

    /// An empty layer directory in `tmp/`, to unpack into before the layer's chain id is
    /// known (see [`Store::publish_staged_layer`]); removed when dropped unless published.
    pub fn stage_layer(&self) -> Result<StagedLayer, StoreError> {
        let staging = Staging::new(self.staging_path("layer"));
        let diff = staging.path().join("diff");
        for dir in [staging.path(), &diff] {
            fs::create_dir(dir).map_err(|e| StoreError::io("create", dir, e))?;
        }
        Ok(StagedLayer { staging, diff })
    }

    /// Gives a filled staged layer its name, as [`Store::create_layer`] does once `fill`
    /// returns: record, `syncfs`, rename. If the layer exists already, the staged copy is
    /// discarded and the existing record returned.
    pub fn publish_staged_layer(
        &self,
        staged: StagedLayer,
        chain_id: &Digest,
        diff_id: &Digest,
        parent: Option<&Digest>,
        size: u64,
    ) -> Result<LayerRecord, StoreError> {
        check_chain_id(chain_id, diff_id, parent)?;
        if self.has_layer(chain_id) {
            return self.layer_record(chain_id);
        }
        let record = LayerRecord {
            schema: LAYER_SCHEMA,
            chain_id: chain_id.clone(),
            diff_id: diff_id.clone(),
            parent: parent.cloned(),
            size,
            created: now_rfc3339(),
        };
        write_json(&staged.staging.path().join("layer.json"), &record)?;
        sync_tree(staged.staging.path())?;
        self.publish_layer(staged.staging, record)
    }

    /// Removes a layer; `false` if it was not there. It is first renamed out of `layers/`,
    /// so a crash during the (long) recursive delete never leaves a partial layer in place.
    pub fn remove_layer(
        &self,
        _lock: &ExclusiveLock,
        chain_id: &Digest,
    ) -> Result<bool, StoreError> {
        let dir = self.layer_root(chain_id);
        let doomed = self.staging_path("removing");
        match fs::rename(&dir, &doomed) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
            Err(e) => return Err(StoreError::io("remove", &dir, e)),
        }
        sync_dir(&self.layers_dir())?;
        remove_any(&doomed).map_err(|e| StoreError::io("remove", &doomed, e))?;
        Ok(true)
    }

    /// Every stored layer's chain id, sorted.
    pub fn layers(&self) -> Result<Vec<Digest>, StoreError> {
        let dir = self.layers_dir();
        let mut ids = Vec::new();
        for entry in fs::read_dir(&dir).map_err(|e| StoreError::io("read", &dir, e))? {
            let entry = entry.map_err(|e| StoreError::io("read", &dir, e))?;
            if let Some(d) = entry.file_name().to_str().and_then(digest_from_hex) {
                ids.push(d);
            }
        }
        ids.sort();
        Ok(ids)
    }

    fn layer_root(&self, chain_id: &Digest) -> PathBuf {
        self.layers_dir().join(chain_id.hex())
    }

    /// Renames a finished staging directory to its final name. A rename onto an existing
    /// (never empty) layer directory fails, and that is the signal that another load won.
    fn publish_layer(
        &self,
        staging: Staging,
        record: LayerRecord,
    ) -> Result<LayerRecord, StoreError> {
        let dest = self.layer_root(&record.chain_id);
        match fs::rename(staging.path(), &dest) {
            Ok(()) => {
                staging.keep();
                sync_dir(&self.layers_dir())?;
                Ok(record)
            }
            Err(e) if lost_race(&e) => {
                drop(staging);
                self.layer_record(&record.chain_id)
            }
            Err(e) => Err(StoreError::io("create", &dest, e)),
        }
    }
}

/// rename(2) onto a non-empty directory fails with ENOTEMPTY, or EEXIST on some filesystems.
fn lost_race(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(code) if code == rustix::io::Errno::NOTEMPTY.raw_os_error()
            || code == rustix::io::Errno::EXIST.raw_os_error()
    )
}

/// Flushes the filesystem that holds the staging directory, so a layer is durable before it
/// gets its final name: a crash must not leave a complete-looking layer with empty files.
/// One syncfs is far cheaper than an fsync per unpacked file.
fn sync_tree(dir: &Path) -> Result<(), StoreError> {
    let file = File::open(dir).map_err(|e| StoreError::io("open", dir, e))?;
    rustix::fs::syncfs(&file).map_err(|errno| StoreError::io("sync", dir, errno.into()))
}

/// A chain id is the diff id for a base layer and sha256("<parent chain id> <diff id>")
/// above it; a wrong one would file the layer under a name other stacks would misuse.
fn check_chain_id(
    chain_id: &Digest,
    diff_id: &Digest,
    parent: Option<&Digest>,
) -> Result<(), StoreError> {
    let expected = match parent {
        None => Some(diff_id.clone()),
        Some(p) => {
            let hash = Sha256::digest(format!("{p} {diff_id}").as_bytes());
            digest_from_hex(&hex::encode(hash))
        }
    };
    if expected.as_ref() == Some(chain_id) {
        Ok(())
    } else {
        Err(StoreError::ChainIdMismatch {
            chain_id: chain_id.clone(),
            diff_id: diff_id.clone(),
            parent: parent.map_or_else(|| "none".to_string(), Digest::to_string),
        })
    }
}

/// The chain id of `diff_id` on top of `parent` (test helper; the digest module owns the
/// real one).
#[cfg(test)]
pub(crate) fn chain_id(parent: Option<&Digest>, diff_id: &Digest) -> Digest {
    match parent {
        None => diff_id.clone(),
        Some(p) => super::blobs::sha256_digest(format!("{p} {diff_id}").as_bytes()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::blobs::sha256_digest;
    use crate::store::test_dir;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Barrier};
    use std::thread;

    fn tmp_entries(store: &Store) -> usize {
        fs::read_dir(store.root().join("tmp")).unwrap().count()
    }

    #[test]
    fn creates_a_layer_once() {
        let dir = test_dir("layer");
        let store = Store::open(&*dir).unwrap();
        let diff = sha256_digest(b"layer one");
        let chain = chain_id(None, &diff);
        let rec = store
            .create_layer(&chain, &diff, None, |d| {
                fs::write(d.join("hello"), b"hi").map_err(|e| StoreError::io("write", d, e))?;
                Ok::<_, StoreError>(2)
            })
            .unwrap();
        assert_eq!(rec.size, 2);
        assert!(store.has_layer(&chain));
        assert_eq!(
            fs::read(store.layer_dir(&chain).join("hello")).unwrap(),
            b"hi"
        );
        assert_eq!(store.layer_record(&chain).unwrap(), rec);

        // Second time, fill is not called.
        let again = store
            .create_layer(&chain, &diff, None, |_| -> Result<u64, StoreError> {
                panic!("must not unpack twice")
            })
            .unwrap();
        assert_eq!(again, rec);
        assert_eq!(tmp_entries(&store), 0);
    }

    #[test]
    fn staged_layers_are_published_once_or_removed() {
        let dir = test_dir("layer-staged");
        let store = Store::open(&*dir).unwrap();
        let diff = sha256_digest(b"staged");
        // Dropped without a name: nothing stays.
        let unused = store.stage_layer().unwrap();
        fs::write(unused.diff_dir().join("f"), b"x").unwrap();
        drop(unused);
        assert_eq!(tmp_entries(&store), 0);

        let first = store.stage_layer().unwrap();
        fs::write(first.diff_dir().join("f"), b"one").unwrap();
        first.sync().unwrap();
        let rec = store
            .publish_staged_layer(first, &diff, &diff, None, 3)
            .unwrap();
        assert_eq!(rec.size, 3);
        // A second copy of the same layer gives way to the first.
        let second = store.stage_layer().unwrap();
        fs::write(second.diff_dir().join("f"), b"two").unwrap();
        assert_eq!(
            store
                .publish_staged_layer(second, &diff, &diff, None, 3)
                .unwrap(),
            rec
        );
        assert_eq!(fs::read(store.layer_dir(&diff).join("f")).unwrap(), b"one");
        assert_eq!(tmp_entries(&store), 0);
        // The chain id is checked as in create_layer.
        let top = sha256_digest(b"top");
        let third = store.stage_layer().unwrap();
        let err = store
            .publish_staged_layer(third, &top, &top, Some(&diff), 0)
            .unwrap_err();
        assert!(matches!(err, StoreError::ChainIdMismatch { .. }), "{err}");
        assert_eq!(tmp_entries(&store), 0);
    }

    #[test]
    fn failed_fill_leaves_nothing() {
        let dir = test_dir("layer-fail");
        let store = Store::open(&*dir).unwrap();
        let diff = sha256_digest(b"bad");
        let err = store
            .create_layer(&diff, &diff, None, |d| {
                fs::write(d.join("partial"), b"x").unwrap();
                Err(StoreError::NoSuchImage("boom".into()))
            })
            .unwrap_err();
        assert_eq!(err.to_string(), "no such image: boom");
        assert!(!store.has_layer(&diff));
        assert_eq!(tmp_entries(&store), 0);
    }

    #[test]
    fn wrong_chain_id_is_refused() {
        let dir = test_dir("layer-chain");
        let store = Store::open(&*dir).unwrap();
        let base = sha256_digest(b"base");
        let top = sha256_digest(b"top");
        let err = store
            .create_layer(&top, &top, Some(&base), |_| Ok::<_, StoreError>(0))
            .unwrap_err();
        assert!(matches!(err, StoreError::ChainIdMismatch { .. }), "{err}");
    }

    #[test]
    fn concurrent_creates_of_one_layer_settle_on_one() {
        let dir = test_dir("layer-race");
        let store = Store::open(&*dir).unwrap();
        let base = sha256_digest(b"base");
        let top = sha256_digest(b"top");
        let chain = chain_id(Some(&base), &top);
        let threads = 4;
        let barrier = Arc::new(Barrier::new(threads));
        let fills = Arc::new(AtomicUsize::new(0));
        let handles: Vec<_> = (0..threads)
            .map(|i| {
                let (store, barrier, fills) = (store.clone(), barrier.clone(), fills.clone());
                let (chain, top, base) = (chain.clone(), top.clone(), base.clone());
                thread::spawn(move || {
                    store
                        .create_layer(&chain, &top, Some(&base), |d| {
                            fills.fetch_add(1, Ordering::SeqCst);
                            // Everyone is inside fill before anyone publishes.
                            barrier.wait();
                            fs::write(d.join("who"), i.to_string()).unwrap();
                            Ok::<_, StoreError>(i as u64)
                        })
                        .unwrap()
                })
            })
            .collect();
        let records: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        assert_eq!(fills.load(Ordering::SeqCst), threads);
        // All got the same record: the winner's, whose content is on disk.
        assert!(records.iter().all(|r| *r == records[0]));
        let who = fs::read_to_string(store.layer_dir(&chain).join("who")).unwrap();
        assert_eq!(who, records[0].size.to_string());
        assert_eq!(tmp_entries(&store), 0);
        assert_eq!(store.layers().unwrap(), vec![chain]);
    }

    #[test]
    fn remove_layer() {
        let dir = test_dir("layer-remove");
        let store = Store::open(&*dir).unwrap();
        let diff = sha256_digest(b"gone");
        store
            .create_layer(&diff, &diff, None, |d| {
                fs::create_dir(d.join("sub")).unwrap();
                Ok::<_, StoreError>(0)
            })
            .unwrap();
        let lock = store.lock_exclusive().unwrap();
        assert!(store.remove_layer(&lock, &diff).unwrap());
        assert!(!store.remove_layer(&lock, &diff).unwrap());
        assert!(!store.has_layer(&diff));
        assert_eq!(tmp_entries(&store), 0);
    }
}
