//! Image operations over the store: `load`, `save`, `tag`, `rmi`, listing and inspecting.
//! Each returns values for the CLI to render; nothing here prints.

mod change;
mod config;
mod early;
pub mod filter;
mod history;
mod import;
mod load;
mod prune;
pub mod pull;
pub mod pull_policy;
pub mod push;
mod remove;
mod save;

use std::path::Path;

pub use change::ChangeError;
pub use config::ImageConfig;
pub use filter::{FilterArgs, FilterError, ImageFilter};
pub use history::HistoryEntry;
pub use import::ImportOptions;
pub use load::LoadedImage;
pub use prune::{ImagesUsage, PruneReport};
pub use remove::Removal;

use crate::digest::Digest;
use crate::reference::{Reference, ReferenceError};
use crate::store::{ImageRecord, Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Archive(#[from] crate::archive::ArchiveError),
    #[error(transparent)]
    Reference(#[from] ReferenceError),
    #[error(transparent)]
    Change(#[from] ChangeError),
    #[error("cannot read the tarball: {0}")]
    Import(crate::layer::LayerError),
    #[error("layer {diff_id}: {source}")]
    Layer {
        diff_id: Digest,
        source: crate::layer::LayerError,
    },
    #[error("layer {diff_id}: {source}")]
    LayerData {
        diff_id: Digest,
        source: std::io::Error,
    },
    #[error("image config {digest}: {reason}")]
    Config { digest: Digest, reason: String },
    #[error("no such image: {0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    Filter(#[from] filter::FilterError),
    #[error("failed to write the archive: {0}")]
    Write(std::io::Error),
    #[error(transparent)]
    Registry(#[from] crate::registry::RegistryError),
}

/// The images of one store.
pub struct Images {
    store: Store,
    unpack: crate::layer::UnpackOptions,
}

impl Images {
    pub fn open(root: &Path) -> Result<Self, ImageError> {
        Ok(Images {
            store: Store::open(root)?,
            unpack: load::root_options(),
        })
    }

    /// Bounds for unpacking layers (entries, bytes, path length); owners and devices
    /// are always kept, as the engine runs as root.
    pub fn with_limits(
        mut self,
        max_entries: Option<u64>,
        max_total_bytes: Option<u64>,
        max_path_len: Option<usize>,
    ) -> Self {
        if let Some(n) = max_entries {
            self.unpack.max_entries = n;
        }
        if let Some(n) = max_total_bytes {
            self.unpack.max_total_bytes = n;
        }
        if let Some(n) = max_path_len {
            self.unpack.max_path_len = n;
        }
        self
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The containers of the same state root that use an image (they share the root).
    pub(crate) fn users(&self) -> Result<Vec<crate::container::ImageUser>, ImageError> {
        crate::container::Containers::open(self.store.root())
            .and_then(|c| c.image_users())
            .map_err(|e| ImageError::Conflict(format!("cannot list the containers: {e}")))
    }

    /// The image a user means by `name`: a full id, an id prefix, or a reference
    /// (`busybox` = `docker.io/library/busybox:latest`).
    pub fn resolve(&self, name: &str) -> Result<ImageRecord, ImageError> {
        let normalized = Reference::parse(name)
            .ok()
            .map(|r| r.with_default_tag().to_string());
        match self.store.resolve(name, normalized.as_deref()) {
            Ok(id) => Ok(self.store.image(&id)?),
            Err(StoreError::NoSuchImage(_)) => Err(ImageError::NotFound(name.to_string())),
            Err(e) => Err(e.into()),
        }
    }

    /// All images, newest first (as `docker images` lists them).
    pub fn list(&self) -> Result<Vec<ImageRecord>, ImageError> {
        let mut images = self.store.images()?;
        images.sort_by(|a, b| b.created.cmp(&a.created).then_with(|| a.id.cmp(&b.id)));
        Ok(images)
    }

    /// `docker tag SOURCE TARGET`.
    pub fn tag(&self, source: &str, target: &str) -> Result<(), ImageError> {
        let image = self.resolve(source)?;
        let target = Reference::parse(target)?;
        if target.digest().is_some() {
            return Err(ImageError::Conflict(format!(
                "refusing to create a tag with a digest reference: {target}"
            )));
        }
        let _content = self.store.lock_shared()?;
        self.store
            .set_tag(&target.with_default_tag().to_string(), &image.id)?;
        Ok(())
    }

    /// The parsed config blob of an image.
    pub fn config(&self, image: &ImageRecord) -> Result<ImageConfig, ImageError> {
        let bytes = self.store.read_blob(&image.id)?;
        ImageConfig::parse(&image.id, &bytes)
    }
}

/// `docker.io/library/busybox:latest` as Docker shows it: `busybox:latest`.
pub fn familiar(reference: &str) -> String {
    Reference::parse(reference)
        .map(|r| r.familiar_string())
        .unwrap_or_else(|_| reference.to_string())
}

/// `docker image inspect`'s JSON for one image.
pub fn inspect_json(
    image: &ImageRecord,
    config: &ImageConfig,
    lower_dirs: &[std::path::PathBuf],
) -> serde_json::Value {
    use serde_json::json;
    let raw = &config.raw;
    let text = |key: &str| raw.get(key).and_then(|v| v.as_str()).unwrap_or_default();
    let mut out = json!({
        "Id": image.id.as_str(),
        "RepoTags": image.repo_tags.iter().map(|t| familiar(t)).collect::<Vec<_>>(),
        "RepoDigests": image.repo_digests.iter().map(|t| familiar(t)).collect::<Vec<_>>(),
        "Parent": image.parent.as_ref().map(|p| p.to_string()).unwrap_or_default(),
        "Comment": text("comment"),
        "Created": image.created,
        "DockerVersion": text("docker_version"),
        "Author": text("author"),
        "Config": raw.get("config").cloned().unwrap_or(serde_json::Value::Null),
        "Architecture": image.architecture,
        "Os": image.os,
        "Size": image.size,
        "GraphDriver": {
            "Data": {
                "LowerDir": lower_dirs.iter().rev().map(|p| p.display().to_string()).collect::<Vec<_>>().join(":"),
            },
            "Name": "overlay",
        },
        "RootFS": {
            "Type": "layers",
            "Layers": config.diff_ids.iter().map(Digest::as_str).collect::<Vec<_>>(),
        },
        "Metadata": { "LastTagTime": "0001-01-01T00:00:00Z" },
    });
    if let (Some(variant), Some(obj)) = (&image.variant, out.as_object_mut()) {
        obj.insert("Variant".into(), json!(variant));
    }
    out
}
