//! `docker load`: an archive's blobs go into the store (compressed ones are unpacked as they
//! arrive, see `early.rs`), each layer is verified against its diff id and unpacked once per
//! chain id, then the image record and tags are written.

use std::io::{self, BufReader, Read};
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::archive::{self, ArchiveImage, ArchiveLayer};
use crate::digest::{Digest, DigestReader, chain_ids};
use crate::layer::{self, UnpackOptions};
use crate::reference::Reference;
use crate::store::{ImageLayer, ImageRecord, LayerRecord};

use super::early::{EarlyLayer, EarlyLayers};
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
            // What a pull or load killed on the way left in the staging directory.
            let _ = self.store.sweep_tmp();
            // Compressed blobs are unpacked while the rest of the archive streams in
            // (decision 27); the layers are published once the metadata says what they are.
            let early = EarlyLayers::new(self);
            let images = std::thread::scope(|scope| {
                let mut queue = early.queue(scope, layer_threads());
                let images = archive::read_archive_observed(r, &self.store, &mut |file| {
                    if let Some(queue) = &mut queue {
                        queue.offer(file);
                    }
                });
                if images.is_err() {
                    early.cancel();
                }
                drop(queue);
                images
            })?;
            images
                .iter()
                .map(|image| self.load_image(image, &early))
                .collect::<Result<Vec<_>, _>>()
        })();
        // The archive's own files (manifest.json, index.json, ...) went into the store as
        // blobs too, and a failed load may leave layers no image uses: drop both.
        self.remove_unreferenced()?;
        loaded
    }

    /// Drops the layers and blobs no image uses (what a load or pull left on the way),
    /// trying every one; the first failure is returned.
    pub(super) fn remove_unreferenced(&self) -> Result<(), ImageError> {
        let lock = self.store.lock_exclusive()?;
        let mut first = Ok(());
        for chain in self.store.unreferenced_layers(&lock)? {
            if let Err(e) = self.store.remove_layer(&lock, &chain) {
                first = first.and(Err(e.into()));
            }
        }
        for blob in self.store.unreferenced_blobs(&lock)? {
            if let Err(e) = self.store.remove_blob(&lock, &blob) {
                first = first.and(Err(e.into()));
            }
        }
        first
    }

    pub(super) fn load_image(
        &self,
        image: &ArchiveImage,
        early: &EarlyLayers<'_>,
    ) -> Result<LoadedImage, ImageError> {
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
        let records = self.load_layers(image, &config.diff_ids, &chains, early)?;
        let mut layers = Vec::with_capacity(image.layers.len());
        let mut size = 0;
        for (i, (archived, loaded)) in image.layers.iter().zip(records).enumerate() {
            size += loaded.record.size;
            layers.push(ImageLayer {
                diff_id: config.diff_ids[i].clone(),
                chain_id: chains[i].clone(),
                blob: Some(archived.blob.clone()),
                media_type: Some(archived.media_type.clone()),
                tar_size: Some(loaded.tar_size),
                size: loaded.record.size,
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
        early: &EarlyLayers<'_>,
    ) -> Result<Vec<LoadedLayer>, ImageError> {
        let count = image.layers.len();
        let workers = layer_threads().min(count);
        let load = |i: usize| {
            let parent = i.checked_sub(1).map(|p| &chains[p]);
            let archived = &image.layers[i];
            match early.take(&archived.blob) {
                Some(unpacked) => self.publish_early(unpacked, &diff_ids[i], &chains[i], parent),
                None => self.load_layer(archived, &diff_ids[i], &chains[i], parent),
            }
        };
        if workers <= 1 {
            return (0..count).map(load).collect();
        }
        let next = AtomicUsize::new(0);
        let mut results: Vec<Option<Result<LoadedLayer, ImageError>>> =
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

    /// Unpacks a layer unless its chain id is stored, and returns its record with the size of
    /// its uncompressed tar.
    ///
    /// The uncompressed tar is kept as a blob only when it is what the archive brought (a
    /// docker-save archive) or already stored; a compressed layer is stored only compressed,
    /// and `save` decompresses it again (decision 26). It is decompressed once, unpacked as
    /// it streams and checked against the diff id at the end of the stream (decision 23); on
    /// a mismatch the unpacked directory is discarded before it gets its name.
    fn load_layer(
        &self,
        archived: &ArchiveLayer,
        diff_id: &Digest,
        chain_id: &Digest,
        parent: Option<&Digest>,
    ) -> Result<LoadedLayer, ImageError> {
        let layer_error = |source| ImageError::Layer {
            diff_id: diff_id.clone(),
            source,
        };
        if archived.blob == *diff_id || self.store.has_blob(diff_id) {
            let tar_size = self.store.blob_size(diff_id)?;
            let record = self.store.create_layer(chain_id, diff_id, parent, |dir| {
                let blob = self.store.open_blob(diff_id)?;
                layer::unpack(
                    BufReader::with_capacity(STREAM_BUFFER, blob),
                    dir,
                    &self.unpack,
                )
                .map(|stats| stats.bytes)
                .map_err(layer_error)
            })?;
            return Ok(LoadedLayer { record, tar_size });
        }
        let mut unpacked_size = None;
        let record = self.store.create_layer(chain_id, diff_id, parent, |dir| {
            let file = self.store.open_blob(&archived.blob)?;
            let plain = layer::decompressed(BufReader::with_capacity(STREAM_BUFFER, file))
                .map_err(layer_error)?;
            let mut hashed = DigestReader::new(plain);
            // The unpacker reads to the end of the stream, so the digest covers all of it.
            let stats = layer::unpack(
                BufReader::with_capacity(STREAM_BUFFER, &mut hashed),
                dir,
                &self.unpack,
            )
            .map_err(layer_error)?;
            let (actual, size) = hashed.finish();
            if actual != *diff_id {
                return Err(mismatch(diff_id, &actual));
            }
            unpacked_size = Some(size);
            Ok(stats.bytes)
        })?;
        let tar_size = match unpacked_size {
            Some(size) => size,
            // The layer was already there (another image, or a concurrent load won the
            // race): this blob was not read, check it now so the record never names a blob
            // that `save` could not turn back into the diff id's bytes.
            None => self.check_compressed(&archived.blob, diff_id)?,
        };
        Ok(LoadedLayer { record, tar_size })
    }

    /// Publishes a layer unpacked while the archive streamed in, if it is the one the config
    /// names; a blob whose content has another digest fails the load as in `load_layer`.
    fn publish_early(
        &self,
        unpacked: EarlyLayer,
        diff_id: &Digest,
        chain_id: &Digest,
        parent: Option<&Digest>,
    ) -> Result<LoadedLayer, ImageError> {
        if unpacked.diff_id != *diff_id {
            return Err(mismatch(diff_id, &unpacked.diff_id));
        }
        let record = self.store.publish_staged_layer(
            unpacked.staged,
            chain_id,
            diff_id,
            parent,
            unpacked.unpacked,
        )?;
        Ok(LoadedLayer {
            record,
            tar_size: unpacked.tar_size,
        })
    }

    /// Decompresses a stored layer blob without keeping the output, checks it against the
    /// diff id and returns its size.
    fn check_compressed(&self, blob: &Digest, diff_id: &Digest) -> Result<u64, ImageError> {
        let file = self.store.open_blob(blob)?;
        let plain = layer::decompressed(BufReader::with_capacity(STREAM_BUFFER, file)).map_err(
            |source| ImageError::Layer {
                diff_id: diff_id.clone(),
                source,
            },
        )?;
        let mut hashed = DigestReader::new(plain);
        io::copy(&mut hashed, &mut io::sink()).map_err(|source| ImageError::LayerData {
            diff_id: diff_id.clone(),
            source,
        })?;
        let (actual, size) = hashed.finish();
        if actual != *diff_id {
            return Err(mismatch(diff_id, &actual));
        }
        Ok(size)
    }
}

/// A layer of the image being loaded: its store record and the size of its uncompressed tar.
struct LoadedLayer {
    record: LayerRecord,
    tar_size: u64,
}

/// Read size for layer streams: few large reads of the blob and the inflater's output.
pub(super) const STREAM_BUFFER: usize = 256 * 1024;

/// How many layers are unpacked at once: one per core, plus one so that the last layers of
/// an image share the cores instead of one core finishing alone (3 layers on 2 cores took
/// two layers' time, the third after the first two).
pub(super) fn layer_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get()) + 1
}

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

/// The engine runs as root and keeps owners and device nodes, as Docker does.
pub(super) fn root_options() -> UnpackOptions {
    UnpackOptions {
        same_owner: true,
        allow_devices: true,
        ..UnpackOptions::default()
    }
}
