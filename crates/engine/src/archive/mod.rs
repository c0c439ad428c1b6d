//! Image archives in and out: `docker save` tarballs (legacy and Docker 25+ layouts) and OCI
//! image layouts. Reading streams every file into a [`BlobStore`] once and then resolves the
//! images from the metadata; writing produces what Docker 25+ `docker save` writes.

use std::io::Read;

use crate::digest::Digest;

mod docker;
mod load;
mod memstore;
mod oci;
mod save;
pub mod testimage;

pub use load::{
    ArchiveImage, ArchiveLayer, LAYER_MEDIA_TYPES, StoredFile, config_diff_ids, read_archive,
    read_archive_observed,
};
pub use memstore::MemoryBlobStore;
pub(crate) use oci::host_arch;
pub use save::{SaveImage, write_docker_archive};

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

/// The most entries an archive may have; more is a sign of a hostile archive.
pub const MAX_ENTRIES: usize = 100_000;
/// The largest JSON document (manifest.json, index.json, manifests, configs) read into memory.
pub const MAX_JSON_SIZE: u64 = 16 << 20;

/// What went wrong reading or writing an image archive. `at` fields name the place in the
/// archive (`manifest.json: Layers[2]`), `path` fields a file inside the archive.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    #[error("archive is truncated")]
    Truncated,
    #[error("failed to read the archive: {0}")]
    Read(#[source] std::io::Error),
    #[error("failed to write the archive: {0}")]
    Write(#[source] std::io::Error),
    #[error("not an image archive: neither manifest.json nor index.json found")]
    NotAnImage,
    #[error("archive has more than {MAX_ENTRIES} entries")]
    TooManyEntries,
    #[error("{path}: larger than {} MiB", MAX_JSON_SIZE >> 20)]
    TooLarge { path: String },
    #[error("{at}: no such file in the archive {path:?}")]
    Missing { at: String, path: String },
    #[error("{path:?}: {reason}")]
    BadEntry { path: String, reason: String },
    #[error("{path}: {source}")]
    Json {
        path: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("{at}: {reason}")]
    Invalid { at: String, reason: String },
    #[error("layer blob {blob} has media type {media_type:?}, which berth cannot unpack")]
    UnknownMediaType { blob: Digest, media_type: String },
    #[error("config {config} lists {diff_ids} diff ids but the image has {layers} layers")]
    LayerCount {
        config: Digest,
        diff_ids: usize,
        layers: usize,
    },
    #[error("{path:?}: failed to store: {source}")]
    Store {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("blob {digest}: {source}")]
    Blob {
        digest: Digest,
        #[source]
        source: std::io::Error,
    },
}

#[cfg(test)]
mod tests;
