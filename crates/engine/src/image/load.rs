//! `docker load`: an archive's blobs go into the store, each layer is verified against
//! its diff id and unpacked once per chain id, then the image record and tags are written.

use std::io::{self, BufReader, Read, Write};
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::archive::{self, ArchiveImage, ArchiveLayer};
use crate::digest::{Digest, chain_ids};
use crate::layer::{self, UnpackOptions};
use crate::reference::Reference;
use crate::store::{BlobWriter, ImageLayer, ImageRecord, LayerRecord, StoreError};

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
        let records = self.load_layers(image, &config.diff_ids, &chains)?;
        let mut layers = Vec::with_capacity(image.layers.len());
        let mut size = 0;
        for (i, (archived, record)) in image.layers.iter().zip(records).enumerate() {
            size += record.size;
            layers.push(ImageLayer {
                diff_id: config.diff_ids[i].clone(),
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

    /// Loads an image's layers, several at a time: each has its own directory and blob, its
    /// chain id is known from the config, and inflating one is a core's work. The first
    /// error (in layer order) is returned; what other layers finished stays for the caller's
    /// cleanup of unreferenced layers.
    fn load_layers(
        &self,
        image: &ArchiveImage,
        diff_ids: &[Digest],
        chains: &[Digest],
    ) -> Result<Vec<LayerRecord>, ImageError> {
        let count = image.layers.len();
        let workers = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(count);
        let load = |i: usize| {
            let parent = i.checked_sub(1).map(|p| &chains[p]);
            self.load_layer(&image.layers[i], &diff_ids[i], &chains[i], parent)
        };
        if workers <= 1 {
            return (0..count).map(load).collect();
        }
        let next = AtomicUsize::new(0);
        let mut results: Vec<Option<Result<LayerRecord, ImageError>>> =
            (0..count).map(|_| None).collect();
        std::thread::scope(|scope| {
            let handles: Vec<_> = (0..workers)
                .map(|_| {
                    scope.spawn(|| {
                        let mut done = Vec::new();
                        loop {
                            let i = next.fetch_add(1, Ordering::Relaxed);
                            if i >= count {
                                break done;
                            }
                            let result = load(i);
                            let failed = result.is_err();
                            done.push((i, result));
                            if failed {
                                // Stop handing out work; the others finish what they hold.
                                next.store(count, Ordering::Relaxed);
                                break done;
                            }
                        }
                    })
                })
                .collect();
            for handle in handles {
                match handle.join() {
                    Ok(done) => {
                        for (i, result) in done {
                            results[i] = Some(result);
                        }
                    }
                    Err(panic) => std::panic::resume_unwind(panic),
                }
            }
        });
        // Layers are handed out in order, so the ones never attempted (after a failure)
        // come after that failure in the list.
        let mut records = Vec::with_capacity(count);
        for result in results.into_iter().flatten() {
            records.push(result?);
        }
        if records.len() == count {
            return Ok(records);
        }
        Err(ImageError::Conflict(
            "layer loading stopped without an error".into(),
        ))
    }

    /// Unpacks a layer unless its chain id is stored, and makes sure its uncompressed tar is
    /// stored as a blob under its diff id (decision 13).
    ///
    /// A compressed layer is decompressed once: the stream is unpacked and written to the
    /// blob at the same time (decision 17), and checked against the diff id at its end; on a
    /// mismatch both the unpacked directory and the blob are discarded before either gets
    /// its name. The layer's `syncfs` also makes the blob durable, so it is not fsynced on
    /// its own.
    fn load_layer(
        &self,
        archived: &ArchiveLayer,
        diff_id: &Digest,
        chain_id: &Digest,
        parent: Option<&Digest>,
    ) -> Result<LayerRecord, ImageError> {
        let layer_error = |source| ImageError::Layer {
            diff_id: diff_id.clone(),
            source,
        };
        let stored = archived.blob == *diff_id || self.store.has_blob(diff_id);
        if stored || self.store.has_layer(chain_id) {
            let uncompressed = match stored {
                true => diff_id.clone(),
                false => self.uncompressed_blob(&archived.blob, diff_id)?,
            };
            return self.store.create_layer(chain_id, diff_id, parent, |dir| {
                let blob = self.store.open_blob(&uncompressed)?;
                layer::unpack(BufReader::new(blob), dir, &self.unpack)
                    .map(|stats| stats.bytes)
                    .map_err(layer_error)
            });
        }
        let mut verified: Option<BlobWriter> = None;
        let record = self.store.create_layer(chain_id, diff_id, parent, |dir| {
            let file = self.store.open_blob(&archived.blob)?;
            let plain = layer::decompressed(BufReader::with_capacity(STREAM_BUFFER, file))
                .map_err(layer_error)?;
            let mut tee = Tee {
                inner: plain,
                copy: self.store.blob_writer()?,
                failed: None,
            };
            // The buffer makes the tar reader's small reads (512-byte headers) into large
            // writes to the blob.
            let unpacked = layer::unpack(
                BufReader::with_capacity(STREAM_BUFFER, &mut tee),
                dir,
                &self.unpack,
            );
            if let Some(e) = tee.failed.take() {
                return Err(StoreError::io("write", self.store.root().join("tmp"), e).into());
            }
            let stats = unpacked.map_err(layer_error)?;
            let (actual, _) = tee.copy.digest()?;
            if actual != *diff_id {
                return Err(mismatch(diff_id, &actual));
            }
            verified = Some(tee.copy);
            Ok(stats.bytes)
        })?;
        match verified {
            Some(blob) => {
                blob.commit_synced(diff_id)?;
            }
            // Another load created the layer first: the blob is still needed.
            None => {
                self.uncompressed_blob(&archived.blob, diff_id)?;
            }
        }
        Ok(record)
    }

    /// The digest of the layer's uncompressed tar in the store. A compressed blob is
    /// decompressed into a blob of its own, verified against the diff id on the way, so
    /// that `save` can write the exact bytes the image's id covers.
    fn uncompressed_blob(&self, blob: &Digest, diff_id: &Digest) -> Result<Digest, ImageError> {
        if blob == diff_id || self.store.has_blob(diff_id) {
            return Ok(diff_id.clone());
        }
        let file = self.store.open_blob(blob)?;
        let mut plain =
            layer::decompressed(BufReader::new(file)).map_err(|source| ImageError::Layer {
                diff_id: diff_id.clone(),
                source,
            })?;
        match self.store.put_blob(&mut plain, Some(diff_id)) {
            Ok(_) => Ok(diff_id.clone()),
            Err(StoreError::DigestMismatch { actual, .. }) => Err(mismatch(diff_id, &actual)),
            Err(e) => Err(e.into()),
        }
    }
}

/// Read size for layer streams: large enough that the blob copy is written in few calls.
const STREAM_BUFFER: usize = 256 * 1024;

fn mismatch(diff_id: &Digest, actual: &Digest) -> ImageError {
    ImageError::LayerData {
        diff_id: diff_id.clone(),
        source: io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "uncompressed content has digest {actual}, not the diff id of the image config"
            ),
        ),
    }
}

/// Passes a stream through while copying it into a blob. A failed write ends the stream with
/// an error and is kept in `failed`, so the caller reports the store's error rather than a
/// read error of the layer.
struct Tee<R> {
    inner: R,
    copy: BlobWriter,
    failed: Option<io::Error>,
}

impl<R: Read> Read for Tee<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Err(e) = self.copy.write_all(&buf[..n]) {
            let reported = io::Error::new(e.kind(), e.to_string());
            self.failed = Some(e);
            return Err(reported);
        }
        Ok(n)
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
