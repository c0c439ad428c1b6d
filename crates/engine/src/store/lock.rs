//! Advisory locks on files under the root (flock), held by guards that unlock on drop.
//!
//! Each guard opens the lock file anew, so two threads of one process exclude each other just
//! like two processes do (flock locks belong to the open file description). The kernel drops
//! the lock when the holder dies, so a crash never leaves the store locked.

use std::fs::{File, OpenOptions};
use std::path::Path;

use rustix::fs::{FlockOperation, flock};

use super::StoreError;

/// Held while deleting content (images, layers, blobs) or anything else that must not
/// overlap with loads; see the module doc of `store` for who takes which lock.
#[derive(Debug)]
pub struct ExclusiveLock {
    _file: File,
}

/// Held while adding content, so that a concurrent prune cannot delete a blob or layer that
/// a load has written but not yet referenced from an image record.
#[derive(Debug)]
pub struct SharedLock {
    _file: File,
}

impl ExclusiveLock {
    pub(crate) fn acquire(path: &Path) -> Result<Self, StoreError> {
        Ok(ExclusiveLock {
            _file: lock_file(path, FlockOperation::LockExclusive)?,
        })
    }
}

impl SharedLock {
    pub(crate) fn acquire(path: &Path) -> Result<Self, StoreError> {
        Ok(SharedLock {
            _file: lock_file(path, FlockOperation::LockShared)?,
        })
    }
}

/// Opens (creating if needed) and locks `path`, blocking until the lock is granted. Closing
/// the file, when the guard drops, releases the lock.
fn lock_file(path: &Path, op: FlockOperation) -> Result<File, StoreError> {
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .map_err(|source| StoreError::io("open", path, source))?;
    flock(&file, op).map_err(|errno| StoreError::io("lock", path, errno.into()))?;
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::test_dir;
    use std::sync::mpsc;
    use std::thread;
    use std::time::Duration;

    #[test]
    fn exclusive_waits_for_shared_to_drop() {
        let dir = test_dir("lock");
        let path = dir.join("store.lock");
        let shared = SharedLock::acquire(&path).unwrap();
        // A second shared lock is granted at once.
        let _other = SharedLock::acquire(&path).unwrap();
        drop(_other);

        let (tx, rx) = mpsc::channel();
        let p = path.clone();
        let waiter = thread::spawn(move || {
            let _g = ExclusiveLock::acquire(&p).unwrap();
            tx.send(()).unwrap();
        });
        assert!(rx.recv_timeout(Duration::from_millis(200)).is_err());
        drop(shared);
        rx.recv_timeout(Duration::from_secs(5)).unwrap();
        waiter.join().unwrap();
    }
}
