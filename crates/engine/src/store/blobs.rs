//! Content-addressed blobs: streamed in, hashed on the way, verified, renamed into place.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::PathBuf;

use sha2::{Digest as _, Sha256};

use super::atomic::Staging;
use super::{ExclusiveLock, Store, StoreError, digest_from_hex, sync_dir};
use crate::archive::BlobStore;
use crate::digest::Digest;

/// `read_blob` is for configs and manifests; anything larger is a layer and must be streamed.
pub const MAX_READ_BLOB: u64 = 32 << 20;

impl Store {
    pub fn blob_path(&self, digest: &Digest) -> PathBuf {
        self.blobs_dir().join(digest.hex())
    }

    pub fn has_blob(&self, digest: &Digest) -> bool {
        self.blob_path(digest).is_file()
    }

    /// Streams `r` into the store and returns its digest and size. With `expected`, a blob
    /// whose sha256 differs is refused and nothing of it stays on disk. A blob that is
    /// already stored is kept as it is (same digest, same bytes).
    pub fn put_blob(
        &self,
        r: &mut dyn Read,
        expected: Option<&Digest>,
    ) -> Result<(Digest, u64), StoreError> {
        let staging = Staging::new(self.staging_path("blob"));
        let (digest, size) = copy_hashed(r, staging.path())?;
        if let Some(expected) = expected.filter(|e| **e != digest) {
            return Err(StoreError::DigestMismatch {
                expected: expected.clone(),
                actual: digest,
            });
        }
        let dest = self.blob_path(&digest);
        if dest.is_file() {
            return Ok((digest, size));
        }
        fs::rename(staging.path(), &dest).map_err(|e| StoreError::io("write", &dest, e))?;
        staging.keep();
        sync_dir(&self.blobs_dir())?;
        Ok((digest, size))
    }

    pub fn open_blob(&self, digest: &Digest) -> Result<File, StoreError> {
        File::open(self.blob_path(digest)).map_err(|e| self.blob_error(digest, "open", e))
    }

    pub fn blob_size(&self, digest: &Digest) -> Result<u64, StoreError> {
        fs::metadata(self.blob_path(digest))
            .map(|m| m.len())
            .map_err(|e| self.blob_error(digest, "stat", e))
    }

    /// Reads a whole blob into memory: for configs and manifests, refused above
    /// [`MAX_READ_BLOB`].
    pub fn read_blob(&self, digest: &Digest) -> Result<Vec<u8>, StoreError> {
        let mut file = self.open_blob(digest)?;
        let size = file
            .metadata()
            .map_err(|e| self.blob_error(digest, "stat", e))?
            .len();
        if size > MAX_READ_BLOB {
            return Err(StoreError::BlobTooLarge {
                digest: digest.clone(),
                size,
            });
        }
        let mut bytes = Vec::with_capacity(size as usize);
        file.read_to_end(&mut bytes)
            .map_err(|e| self.blob_error(digest, "read", e))?;
        Ok(bytes)
    }

    /// Removes a blob; `false` if it was not there. Needs the exclusive lock so that no load
    /// is between storing a blob and referencing it.
    pub fn remove_blob(&self, _lock: &ExclusiveLock, digest: &Digest) -> Result<bool, StoreError> {
        let path = self.blob_path(digest);
        match fs::remove_file(&path) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(StoreError::io("remove", &path, e)),
        }
    }

    /// Every stored blob, in digest order.
    pub fn blobs(&self) -> Result<Vec<Digest>, StoreError> {
        let dir = self.blobs_dir();
        let mut digests = Vec::new();
        for entry in fs::read_dir(&dir).map_err(|e| StoreError::io("read", &dir, e))? {
            let entry = entry.map_err(|e| StoreError::io("read", &dir, e))?;
            if let Some(d) = entry.file_name().to_str().and_then(digest_from_hex) {
                digests.push(d);
            }
        }
        digests.sort();
        Ok(digests)
    }

    fn blob_error(&self, digest: &Digest, action: &'static str, e: io::Error) -> StoreError {
        if e.kind() == io::ErrorKind::NotFound {
            StoreError::NoSuchBlob(digest.clone())
        } else {
            StoreError::io(action, self.blob_path(digest), e)
        }
    }
}

/// Copies `r` into a new file at `path`, hashing as it goes, and syncs the file so the blob
/// is durable before it gets its final name.
fn copy_hashed(r: &mut dyn Read, path: &std::path::Path) -> Result<(Digest, u64), StoreError> {
    let mut file = File::create_new(path).map_err(|e| StoreError::io("create", path, e))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut size = 0u64;
    loop {
        let n = match r.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(StoreError::ReadSource(e)),
        };
        hasher.update(&buf[..n]);
        file.write_all(&buf[..n])
            .map_err(|e| StoreError::io("write", path, e))?;
        size += n as u64;
    }
    file.sync_all()
        .map_err(|e| StoreError::io("write", path, e))?;
    let hex = hex::encode(hasher.finalize());
    let digest = digest_from_hex(&hex).ok_or_else(|| {
        StoreError::io(
            "hash",
            path,
            io::Error::other("sha256 gave a malformed digest"),
        )
    })?;
    Ok((digest, size))
}

impl BlobStore for Store {
    fn put_blob(&self, r: &mut dyn Read, expected: Option<&Digest>) -> io::Result<(Digest, u64)> {
        Ok(Store::put_blob(self, r, expected)?)
    }

    fn open_blob(&self, digest: &Digest) -> io::Result<Box<dyn Read>> {
        Ok(Box::new(Store::open_blob(self, digest)?))
    }

    fn blob_size(&self, digest: &Digest) -> io::Result<u64> {
        Ok(Store::blob_size(self, digest)?)
    }
}

#[cfg(test)]
pub(crate) fn sha256_digest(bytes: &[u8]) -> Digest {
    digest_from_hex(&hex::encode(Sha256::digest(bytes))).unwrap()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::test_dir;

    fn tmp_is_empty(store: &Store) -> bool {
        fs::read_dir(store.root().join("tmp"))
            .unwrap()
            .next()
            .is_none()
    }

    #[test]
    fn stores_and_reads_back() {
        let dir = test_dir("blob");
        let store = Store::open(&*dir).unwrap();
        let want = sha256_digest(b"hello");
        let (got, size) = store.put_blob(&mut &b"hello"[..], Some(&want)).unwrap();
        assert_eq!((got.clone(), size), (want.clone(), 5));
        assert!(store.has_blob(&got));
        assert_eq!(store.read_blob(&got).unwrap(), b"hello");
        assert_eq!(store.blob_size(&got).unwrap(), 5);
        assert_eq!(store.blobs().unwrap(), vec![got.clone()]);
        assert!(tmp_is_empty(&store));

        // Storing it again keeps the existing one and cleans up.
        store.put_blob(&mut &b"hello"[..], None).unwrap();
        assert!(tmp_is_empty(&store));
    }

    #[test]
    fn mismatch_names_both_digests_and_leaves_nothing() {
        let dir = test_dir("blob-mismatch");
        let store = Store::open(&*dir).unwrap();
        let want = sha256_digest(b"expected");
        let err = store
            .put_blob(&mut &b"actual"[..], Some(&want))
            .unwrap_err();
        let actual = sha256_digest(b"actual");
        assert_eq!(
            err.to_string(),
            format!("blob {want} does not match: got {actual}")
        );
        assert!(tmp_is_empty(&store));
        assert!(store.blobs().unwrap().is_empty());
    }

    #[test]
    fn failing_reader_leaves_nothing() {
        struct Broken;
        impl Read for Broken {
            fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
                Err(io::Error::other("connection reset"))
            }
        }
        let dir = test_dir("blob-broken");
        let store = Store::open(&*dir).unwrap();
        let err = store.put_blob(&mut Broken, None).unwrap_err();
        assert_eq!(
            err.to_string(),
            "failed to read blob data: connection reset"
        );
        assert!(tmp_is_empty(&store));
    }

    #[test]
    fn missing_blob_is_not_found_through_the_trait() {
        let dir = test_dir("blob-missing");
        let store = Store::open(&*dir).unwrap();
        let d = sha256_digest(b"nothing");
        let err = BlobStore::blob_size(&store, &d).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
        assert_eq!(err.to_string(), format!("no such blob: {d}"));
    }

    #[test]
    fn remove_blob() {
        let dir = test_dir("blob-remove");
        let store = Store::open(&*dir).unwrap();
        let (d, _) = store.put_blob(&mut &b"x"[..], None).unwrap();
        let lock = store.lock_exclusive().unwrap();
        assert!(store.remove_blob(&lock, &d).unwrap());
        assert!(!store.remove_blob(&lock, &d).unwrap());
        assert!(!store.has_blob(&d));
    }
}
