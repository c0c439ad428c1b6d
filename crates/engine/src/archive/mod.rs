//! Image archives in and out: `docker save` tarballs, OCI layouts. STUB (owner: archive
//! helper).

use std::io::Read;

use crate::digest::Digest;

/// Where archive reading puts blobs and archive writing takes them from. The image store
/// implements it; tests use an in-memory one.
pub trait BlobStore {
    /// Stores a blob from `r`, verifying it against `expected` when given (sha256 and,
    /// when known, size), and returns its digest and size.
    fn put_blob(
        &self,
        r: &mut dyn Read,
        expected: Option<&Digest>,
    ) -> std::io::Result<(Digest, u64)>;
    /// Opens a stored blob for reading.
    fn open_blob(&self, digest: &Digest) -> std::io::Result<Box<dyn Read>>;
    /// The size of a stored blob.
    fn blob_size(&self, digest: &Digest) -> std::io::Result<u64>;
}
