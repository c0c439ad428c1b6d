//! `docker load`: an archive's blobs go into the store, each layer is verified against
//! its diff id and unpacked once per chain id, then the image record and tags are written.

use std::io::{BufReader, Read};

use crate::archive::{self, ArchiveImage};
use crate::digest::{Digest, chain_ids};
use crate::layer::{self, UnpackOptions};
use crate::reference::Reference;
use crate::store::{ImageLayer, ImageRecord, StoreError};

use super::{ImageConfig, ImageError, Images};

/// One image an archive brought in, with the tags it set (`name:tag`, familiar form).
#[derive(Clone, Debug, PartialEq)]
pub struct LoadedImage {
    pub id: Digest,
    pub tags: Vec<String>,
}

impl Images {
    /// Loads every image of a `docker save` archive or OCI layout archive.
    pub fn load(&self, r: &mut dyn Read) -> Result<Vec<LoadedImage>, ImageError> {
        let loaded = (|| {
            let _content = self.store.lock_shared()?;
            let images = archive::read_archive(r, &self.store)?;
            images
                .iter()
                .map(|image| self.load_image(image))
                .collect::<Result<Vec<_>, _>>()
        })();
        // The archive's own files (manifest.json, index.json, ...) went into the store as
        // blobs too, and a failed load may leave layers no image uses: drop both.
        let lock = self.store.lock_exclusive()?;
        for chain in self.store.unreferenced_layers(&lock)? {
            self.store.remove_layer(&lock, &chain)?;
        }
        for blob in self.store.unreferenced_blobs(&lock)? {
            self.store.remove_blob(&lock, &blob)?;
        }
        loaded
    }

    fn load_image(&self, image: &ArchiveImage) -> Result<LoadedImage, ImageError> {
        let config = ImageConfig::parse(&image.config, &self.store.read_blob(&image.config)?)?;
        if config.diff_ids.len() != image.layers.len() {
            return Err(ImageError::Config {
                digest: image.config.clone(),
                reason: format!(
                    "names {} layers but the manifest has {}",
                    config.diff_ids.len(),
                    image.layers.len()
                ),
            });
        }
        let chains = chain_ids(&config.diff_ids);
        let mut layers = Vec::with_capacity(image.layers.len());
        let mut size = 0;
        for (i, archived) in image.layers.iter().enumerate() {
            let diff_id = &config.diff_ids[i];
            let parent = i.checked_sub(1).map(|p| &chains[p]);
            let uncompressed = self.uncompressed_blob(&archived.blob, diff_id)?;
            let record = self
                .store
                .create_layer(&chains[i], diff_id, parent, |dir| {
                    let blob = self.store.open_blob(&uncompressed)?;
                    layer::unpack(BufReader::new(blob), dir, &root_options())
                        .map(|stats| stats.bytes)
                        .map_err(|source| ImageError::Layer {
                            diff_id: diff_id.clone(),
                            source,
                        })
                })?;
            size += record.size;
            layers.push(ImageLayer {
                diff_id: diff_id.clone(),
                chain_id: chains[i].clone(),
                blob: Some(archived.blob.clone()),
                media_type: Some(archived.media_type.clone()),
                size: record.size,
            });
        }
        let record = ImageRecord {
            schema: 1,
            id: image.config.clone(),
            repo_tags: Vec::new(),
            repo_digests: Vec::new(),
            manifest: image.manifest.clone(),
            layers,
            created: config.created.clone(),
            architecture: config.architecture.clone(),
            os: config.os.clone(),
            variant: config.variant.clone(),
            size,
            parent: None,
            loaded: String::new(),
        };
        self.store.put_image(&record)?;
        let mut tags = Vec::new();
        for tag in &image.repo_tags {
            let reference = Reference::parse(tag)?.with_default_tag();
            self.store.set_tag(&reference.to_string(), &image.config)?;
            tags.push(reference.familiar_string());
        }
        Ok(LoadedImage {
            id: image.config.clone(),
            tags,
        })
    }

    /// The digest of the layer's uncompressed tar in the store. A compressed blob is
    /// decompressed into a blob of its own, verified against the diff id on the way, so
    /// that `save` can write the exact bytes the image's id covers.
    fn uncompressed_blob(&self, blob: &Digest, diff_id: &Digest) -> Result<Digest, ImageError> {
        if blob == diff_id || self.store.has_blob(diff_id) {
            return Ok(diff_id.clone());
        }
        let data_error = |source: std::io::Error| ImageError::LayerData {
            diff_id: diff_id.clone(),
            source,
        };
        let file = self.store.open_blob(blob)?;
        let mut plain =
            layer::decompressed(BufReader::new(file)).map_err(|source| ImageError::Layer {
                diff_id: diff_id.clone(),
                source,
            })?;
        match self.store.put_blob(&mut plain, Some(diff_id)) {
            Ok(_) => Ok(diff_id.clone()),
            Err(StoreError::DigestMismatch { actual, .. }) => Err(data_error(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!(
                    "uncompressed content has digest {actual}, not the diff id of the image config"
                ),
            ))),
            Err(e) => Err(e.into()),
        }
    }
}

/// The engine runs as root and keeps owners and device nodes, as Docker does.
pub(super) fn root_options() -> UnpackOptions {
    UnpackOptions {
        same_owner: true,
        allow_devices: true,
        ..UnpackOptions::default()
    }
}
