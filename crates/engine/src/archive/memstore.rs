//! An in-memory [`BlobStore`], for tests here and in other crates, and for building the test
//! image without a store on disk.

use std::collections::HashMap;
use std::io::{self, Read};
use std::sync::Mutex;

use sha2::{Digest as _, Sha256};

use super::BlobStore;
use crate::digest::Digest;

/// Blobs in a map, verified on the way in like the real store does.
#[derive(Debug, Default)]
pub struct MemoryBlobStore {
    blobs: Mutex<HashMap<Digest, Vec<u8>>>,
}

impl MemoryBlobStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// Stores `data` and returns its digest.
    pub fn put_bytes(&self, data: &[u8]) -> io::Result<Digest> {
        self.put_blob(&mut &data[..], None).map(|(d, _)| d)
    }

    /// A copy of a stored blob.
    pub fn get(&self, digest: &Digest) -> Option<Vec<u8>> {
        self.lock().get(digest).cloned()
    }

    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Digest, Vec<u8>>> {
        // A panic while holding the lock cannot leave the map half-updated (inserts are
        // atomic), so a poisoned lock is still usable.
        self.blobs.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// `sha256:<hex>` of `data`.
pub(crate) fn sha256_digest(data: &[u8]) -> Digest {
    let hex = hex::encode(Sha256::digest(data));
    Digest::parse(&format!("sha256:{hex}")).unwrap_or_else(|_| unreachable!("sha256 hex is valid"))
}

impl BlobStore for MemoryBlobStore {
    fn put_blob(&self, r: &mut dyn Read, expected: Option<&Digest>) -> io::Result<(Digest, u64)> {
        let mut data = Vec::new();
        r.read_to_end(&mut data)?;
        let digest = sha256_digest(&data);
        if let Some(expected) = expected
            && *expected != digest
        {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("digest mismatch: expected {expected}, got {digest}"),
            ));
        }
        let size = data.len() as u64;
        self.lock().insert(digest.clone(), data);
        Ok((digest, size))
    }

    fn open_blob(&self, digest: &Digest) -> io::Result<Box<dyn Read>> {
        let data = self.get(digest).ok_or_else(|| not_found(digest))?;
        Ok(Box::new(io::Cursor::new(data)))
    }

    fn blob_size(&self, digest: &Digest) -> io::Result<u64> {
        self.lock()
            .get(digest)
            .map(|d| d.len() as u64)
            .ok_or_else(|| not_found(digest))
    }
}

fn not_found(digest: &Digest) -> io::Error {
    io::Error::new(io::ErrorKind::NotFound, format!("blob {digest} not found"))
}
