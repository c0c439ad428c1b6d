//! The image store on disk: content-addressed blobs, unpacked layers, image records and tags,
//! all under one root. Every record is written atomically and every directory that appears
//! under its final name is complete, so a crash at any point leaves a consistent store plus,
//! at worst, staging leftovers that `sweep_tmp` removes.
//!
//! # Layout
//!
//! ```text
//! <root>/store.lock                 content lock (flock), see "Locking"
//! <root>/repositories.lock          tags lock (flock), held briefly by tag and image mutations
//! <root>/blobs/sha256/<hex>         blobs: configs, manifests, compressed layers
//! <root>/layers/<chain-hex>/diff    one unpacked layer, an overlayfs lowerdir
//! <root>/layers/<chain-hex>/layer.json   LayerRecord
//! <root>/images/<id-hex>.json       ImageRecord (id = config digest), without tags
//! <root>/repositories.json          {"schema": 1, "references": {"docker.io/library/busybox:latest": "sha256:..."}}
//! <root>/tmp/                       staging on the same filesystem: <kind>-<pid>-<n>
//! ```
//!
//! `repositories.json` is the single source of truth for tags (`name:tag`) and repo digests
//! (`name@sha256:...`); image records on disk do not carry them, and `image()` / `images()`
//! fill `repo_tags` / `repo_digests` from it when reading, so the two can never disagree.
//!
//! # Atomicity
//!
//! Records (`images/*.json`, `repositories.json`, `layer.json`) go through [`write_atomic`].
//! Blobs stream into `tmp/`, are hashed while written, fsynced and renamed into `blobs/`.
//! Layers are unpacked into a staging directory in `tmp/`, synced (syncfs) and renamed into
//! `layers/` in one step; a rename onto an existing layer fails, which is how two loads of
//! the same layer settle: the loser discards its copy and uses the winner's. Removal goes the
//! other way: rename out of `layers/` into `tmp/`, then delete, so no half-deleted layer is
//! ever visible.
//!
//! # Locking
//!
//! - `store.lock` protects content from garbage collection. Loads, pulls and builds hold
//!   [`Store::lock_shared`] while they add blobs, layers and records (they can run in
//!   parallel: additions are lock-free through atomic renames); anything that deletes
//!   (`rmi`, prune, [`Store::remove_blob`], [`Store::remove_layer`], [`Store::remove_image`])
//!   needs the [`ExclusiveLock`], passed as a token so it cannot be forgotten. Without this a
//!   prune could delete a layer that a running load has unpacked but not yet referenced.
//! - `repositories.lock` serializes read-modify-write of `repositories.json`; the store takes
//!   it internally, always after `store.lock` and never while waiting on anything else.
//!
//! Readers take no lock: every file they read is replaced atomically.

mod atomic;
mod blobs;
mod gc;
mod images;
mod layers;
mod lock;
mod tags;

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::digest::Digest;

pub use crate::time::now_rfc3339;
pub use atomic::{replace_unsynced, sync_dir, write_atomic};

/// A suffix no other writer (thread or process) uses at the same time: `<pid>-<n>`.
pub fn unique_suffix_public() -> String {
    atomic::unique_suffix()
}
pub use gc::SweepReport;
pub use images::{IMAGE_SCHEMA, ImageLayer, ImageRecord};
pub use layers::{LAYER_SCHEMA, LayerRecord, StagedLayer};
pub use lock::{ExclusiveLock, SharedLock};

/// Everything that can go wrong in the store, naming the path, digest or name involved.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("failed to {action} {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        source: io::Error,
    },
    #[error("failed to read blob data: {0}")]
    ReadSource(#[source] io::Error),
    #[error("{} is not a directory", .0.display())]
    NotADirectory(PathBuf),
    #[error("failed to parse {}: {source}", path.display())]
    Corrupt {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("blob {expected} does not match: got {actual}")]
    DigestMismatch { expected: Digest, actual: Digest },
    #[error("blob {digest} is too large to read at once ({size} bytes)")]
    BlobTooLarge { digest: Digest, size: u64 },
    #[error("no such blob: {0}")]
    NoSuchBlob(Digest),
    #[error("no such layer: {0}")]
    NoSuchLayer(Digest),
    #[error("chain id {chain_id} does not follow from diff id {diff_id} and parent {parent}")]
    ChainIdMismatch {
        chain_id: Digest,
        diff_id: Digest,
        parent: String,
    },
    #[error("no such image: {0}")]
    NoSuchImage(String),
    #[error("image id {prefix} is ambiguous: it matches {}", candidates.join(", "))]
    AmbiguousId {
        prefix: String,
        candidates: Vec<String>,
    },
}

impl StoreError {
    pub(crate) fn io(action: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Self {
        StoreError::Io {
            action,
            path: path.into(),
            source,
        }
    }

    /// The closest `io::ErrorKind`, for the `io::Result` of the `BlobStore` trait.
    fn io_kind(&self) -> io::ErrorKind {
        match self {
            StoreError::Io { source, .. } | StoreError::ReadSource(source) => source.kind(),
            StoreError::NoSuchBlob(_) | StoreError::NoSuchLayer(_) | StoreError::NoSuchImage(_) => {
                io::ErrorKind::NotFound
            }
            StoreError::DigestMismatch { .. } | StoreError::Corrupt { .. } => {
                io::ErrorKind::InvalidData
            }
            _ => io::ErrorKind::Other,
        }
    }
}

impl From<StoreError> for io::Error {
    fn from(e: StoreError) -> Self {
        io::Error::new(e.io_kind(), e)
    }
}

/// The image store rooted at one directory. Cheap to clone; holds no open files.
#[derive(Clone, Debug)]
pub struct Store {
    root: PathBuf,
}

impl Store {
    /// Opens the store at `root`, creating the layout if it is missing, and checks that the
    /// root is a directory we can write to (so a read-only or foreign root fails here, with
    /// its path, rather than halfway through a load).
    pub fn open(root: impl Into<PathBuf>) -> Result<Store, StoreError> {
        let store = Store { root: root.into() };
        for dir in [
            store.blobs_dir(),
            store.layers_dir(),
            store.images_dir(),
            store.tmp_dir(),
        ] {
            fs::create_dir_all(&dir).map_err(|e| StoreError::io("create", &dir, e))?;
        }
        store.check_writable()?;
        Ok(store)
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Blocks until no one else holds the content lock, then holds it until the guard drops.
    pub fn lock_exclusive(&self) -> Result<ExclusiveLock, StoreError> {
        ExclusiveLock::acquire(&self.root.join("store.lock"))
    }

    /// Blocks while someone holds the content lock exclusively; shared holders coexist.
    pub fn lock_shared(&self) -> Result<SharedLock, StoreError> {
        SharedLock::acquire(&self.root.join("store.lock"))
    }

    fn check_writable(&self) -> Result<(), StoreError> {
        let meta = fs::metadata(&self.root).map_err(|e| StoreError::io("stat", &self.root, e))?;
        if !meta.is_dir() {
            return Err(StoreError::NotADirectory(self.root.clone()));
        }
        rustix::fs::access(&self.root, rustix::fs::Access::WRITE_OK)
            .map_err(|errno| StoreError::io("write to", &self.root, errno.into()))
    }

    fn blobs_dir(&self) -> PathBuf {
        self.root.join("blobs").join("sha256")
    }

    fn layers_dir(&self) -> PathBuf {
        self.root.join("layers")
    }

    fn images_dir(&self) -> PathBuf {
        self.root.join("images")
    }

    fn tmp_dir(&self) -> PathBuf {
        self.root.join("tmp")
    }

    fn repositories_path(&self) -> PathBuf {
        self.root.join("repositories.json")
    }

    fn repositories_lock_path(&self) -> PathBuf {
        self.root.join("repositories.lock")
    }

    /// A fresh staging path in `tmp/`: `<kind>-<pid>-<n>`, so `sweep_tmp` can tell whose it is.
    fn staging_path(&self, kind: &str) -> PathBuf {
        self.tmp_dir()
            .join(format!("{kind}-{}", atomic::unique_suffix()))
    }
}

/// Reads and parses a JSON record; `Ok(None)` if the file does not exist.
fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<Option<T>, StoreError> {
    let bytes = match fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(StoreError::io("read", path, e)),
    };
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|source| StoreError::Corrupt {
            path: path.to_path_buf(),
            source,
        })
}

/// Serializes a record and writes it atomically.
fn write_json<T: serde::Serialize>(path: &Path, value: &T) -> Result<(), StoreError> {
    // Serializing our own plain records cannot fail; map it anyway rather than panic.
    let bytes = serde_json::to_vec(value).map_err(|e| StoreError::io("write", path, e.into()))?;
    write_atomic(path, &bytes)
}

/// Parses `sha256:<hex>` names found on disk (file names, record fields); anything else in
/// our directories is not ours and is skipped.
fn digest_from_hex(hex: &str) -> Option<Digest> {
    Digest::parse(&format!("sha256:{hex}")).ok()
}

/// A scratch directory for one test, removed when dropped.
#[cfg(test)]
pub(crate) struct TestDir(PathBuf);

#[cfg(test)]
pub(crate) fn test_dir(name: &str) -> TestDir {
    let path = std::env::temp_dir().join(format!(
        "berth-store-test-{name}-{}",
        atomic::unique_suffix()
    ));
    fs::create_dir_all(&path).unwrap();
    TestDir(path)
}

#[cfg(test)]
impl std::ops::Deref for TestDir {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

#[cfg(test)]
impl AsRef<Path> for TestDir {
    fn as_ref(&self) -> &Path {
        &self.0
    }
}

#[cfg(test)]
impl Drop for TestDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_creates_the_layout() {
        let dir = test_dir("open");
        let store = Store::open(dir.join("root")).unwrap();
        for sub in ["blobs/sha256", "layers", "images", "tmp"] {
            assert!(store.root().join(sub).is_dir(), "{sub}");
        }
        // Opening again is fine.
        Store::open(dir.join("root")).unwrap();
    }

    #[test]
    fn open_refuses_a_file() {
        let dir = test_dir("open-file");
        let file = dir.join("root");
        fs::write(&file, b"").unwrap();
        let err = Store::open(&file).unwrap_err().to_string();
        assert!(err.contains(&*file.to_string_lossy()), "{err}");
    }
}

/// Test fixtures: a whole image loaded the way a loader would.
#[cfg(test)]
pub(crate) mod fixture {
    use super::*;
    use crate::store::blobs::sha256_digest;
    use crate::store::layers::chain_id;

    /// Stores a config blob and one layer per entry of `layers` (each the layer's content
    /// name), and an image record over them; returns the record.
    pub fn load(store: &Store, config: &str, layers: &[&str]) -> ImageRecord {
        let (id, _) = store.put_blob(&mut config.as_bytes(), None).unwrap();
        let mut parent: Option<Digest> = None;
        let mut image_layers = Vec::new();
        for content in layers {
            let (blob, _) = store.put_blob(&mut content.as_bytes(), None).unwrap();
            let diff_id = sha256_digest(format!("diff {content}").as_bytes());
            let chain = chain_id(parent.as_ref(), &diff_id);
            let rec = store
                .create_layer(&chain, &diff_id, parent.as_ref(), |d| {
                    fs::write(d.join("content"), content)
                        .map_err(|e| StoreError::io("write", d, e))?;
                    Ok::<_, StoreError>(content.len() as u64)
                })
                .unwrap();
            image_layers.push(ImageLayer {
                diff_id,
                chain_id: chain.clone(),
                blob: Some(blob),
                media_type: Some("application/vnd.oci.image.layer.v1.tar+gzip".into()),
                tar_size: None,
                size: rec.size,
            });
            parent = Some(chain);
        }
        let record = ImageRecord {
            schema: IMAGE_SCHEMA,
            id,
            repo_tags: vec![],
            repo_digests: vec![],
            manifest: None,
            size: image_layers.iter().map(|l| l.size).sum(),
            layers: image_layers,
            created: "2024-01-01T00:00:00Z".into(),
            architecture: "amd64".into(),
            os: "linux".into(),
            variant: None,
            parent: None,
            loaded: String::new(),
        };
        store.put_image(&record).unwrap();
        record
    }
}
