//! `pull`: a reference's manifest from its registry (Docker Hub's mirrors first), the
//! platform's manifest of an index, the config, then the layers the store does not have,
//! downloaded several at a time and verified (size and sha256) as they stream into the
//! blob store; each is unpacked as soon as it is stored while the others still download
//! (the same early unpacking as `load`), and the image is recorded as `load` records it.
//! A failed pull leaves no blob or layer behind that no image uses.

use std::io::{self, Read};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;

use crate::archive::{ArchiveImage, ArchiveLayer, StoredFile};
use crate::digest::{Digest, chain_ids};
use crate::reference::Reference;
use crate::registry::manifest::{self, Descriptor, Manifest, Platform};
use crate::registry::{self, Client, Registry, RegistryError};
use crate::store::StoreError;

use super::early::EarlyLayers;
use super::{ImageConfig, ImageError, Images};

/// Layers downloaded at once (Docker's `max-concurrent-downloads` default).
pub const DOWNLOADS: usize = 3;

/// The most a config blob may be.
const MAX_CONFIG: u64 = 8 << 20;

/// What happens to one layer (Docker's progress words).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LayerStatus {
    AlreadyExists,
    /// Queued behind other downloads.
    Waiting,
    Downloading {
        done: u64,
        total: u64,
    },
    DownloadComplete,
    PullComplete,
}

/// A pull's progress: a layer (the first 12 hex digits of its blob digest) and its status.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PullEvent {
    pub layer: String,
    pub status: LayerStatus,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pulled {
    /// The image id (its config digest).
    pub id: Digest,
    /// The digest of the manifest the reference names (an index's, for multi-platform
    /// images), as `Digest:` shows it.
    pub digest: Digest,
    /// The tag or digest reference now pointing at the image (`docker.io/library/x:1`).
    pub reference: Reference,
    /// Whether the reference pointed at another image (or none) before.
    pub newer: bool,
    /// What had to be accepted on the way (an insecure registry's unverified certificate).
    pub warnings: Vec<String>,
}

impl Images {
    /// Pulls `reference` for `platform` (the host's when `None`), reporting progress.
    pub fn pull(
        &self,
        registry: &Registry,
        reference: &Reference,
        platform: Option<&Platform>,
        events: &(dyn Fn(PullEvent) + Sync),
    ) -> Result<Pulled, ImageError> {
        let clients = registry.clients_for(reference)?;
        let mut last = None;
        for (i, client) in clients.iter().enumerate() {
            let is_mirror = i + 1 < clients.len();
            match self.pull_from(client, reference, platform, events) {
                Ok(pulled) => return Ok(pulled),
                // A mirror that cannot serve the image hands over to the next source.
                Err(ImageError::Registry(e)) if is_mirror => last = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(ImageError::Registry(last.unwrap_or_else(|| {
            RegistryError::Invalid(format!("no registry to pull {reference} from"))
        })))
    }

    fn pull_from(
        &self,
        client: &Client,
        reference: &Reference,
        platform: Option<&Platform>,
        events: &(dyn Fn(PullEvent) + Sync),
    ) -> Result<Pulled, ImageError> {
        let reference = if reference.digest().is_some() {
            reference.clone()
        } else {
            reference.clone().with_default_tag()
        };
        let target = match reference.digest() {
            Some(d) => d.to_string(),
            None => reference.tag_or_default().to_string(),
        };
        let top = registry::fetch_manifest(client, &reference, &target, reference.digest())?;
        let mut from_index = true;
        let (image_manifest, manifest) = match manifest::parse(
            top.content_type.as_deref(),
            &top.bytes,
        )? {
            Manifest::Index(entries) => {
                let wanted = platform.cloned().unwrap_or_else(Platform::host);
                let chosen = manifest::select(&entries, &wanted).ok_or_else(|| {
                    RegistryError::NotFound(format!(
                        "no matching manifest for {wanted} in the manifest list entries of {} (it has {})",
                        reference.familiar_string(),
                        manifest::offered(&entries)
                    ))
                })?;
                let fetched = registry::fetch_manifest(
                    client,
                    &reference,
                    &chosen.digest.to_string(),
                    Some(&chosen.digest),
                )?;
                let parsed = manifest::parse(fetched.content_type.as_deref(), &fetched.bytes)?;
                (fetched, parsed)
            }
            image => {
                from_index = false;
                (top.clone(), image)
            }
        };
        let Manifest::Image { config, layers } = manifest else {
            return Err(RegistryError::Content(format!(
                "the manifest {} of {} is an index inside an index",
                image_manifest.digest,
                reference.familiar_string()
            ))
            .into());
        };
        let _content = self.store.lock_shared()?;
        // What a pull or load killed on the way left in the staging directory.
        let _ = self.store.sweep_tmp();
        let id = config.digest.clone();
        if !self.store.has_image(&id) {
            let result = self.fetch_image(
                client,
                &reference,
                &image_manifest,
                &config,
                &layers,
                events,
            );
            if let Err(e) = result {
                drop(_content);
                // Best effort: the pull's own error is the one to report.
                let _ = self.remove_unreferenced();
                return Err(e);
            }
        }
        // A single-platform image must be the platform asked for (Docker's check).
        if let Some(wanted) = platform.filter(|_| !from_index) {
            let record = self.store.image(&id)?;
            let actual = Platform {
                os: record.os.clone(),
                architecture: record.architecture.clone(),
                variant: record.variant.clone().filter(|v| !v.is_empty()),
            };
            if actual.os != wanted.os
                || actual.architecture != wanted.architecture
                || wanted
                    .variant
                    .as_ref()
                    .is_some_and(|v| Some(v) != actual.variant.as_ref())
            {
                return Err(RegistryError::NotFound(format!(
                    "image with reference {} was found but does not match the specified platform: wanted {wanted}, actual: {actual}",
                    reference.familiar_string()
                ))
                .into());
            }
        }
        let previous = match reference.digest() {
            Some(_) => Some(id.clone()),
            None => self.store.set_tag(&reference.to_string(), &id)?,
        };
        self.store
            .set_tag(&format!("{}@{}", reference.name(), top.digest), &id)?;
        Ok(Pulled {
            warnings: client.warnings(),
            newer: previous.as_ref() != Some(&id),
            id,
            digest: top.digest,
            reference,
        })
    }

    /// Brings an image the store does not have: config, missing layers, record.
    fn fetch_image(
        &self,
        client: &Client,
        reference: &Reference,
        image_manifest: &registry::FetchedManifest,
        config: &Descriptor,
        layers: &[Descriptor],
        events: &(dyn Fn(PullEvent) + Sync),
    ) -> Result<(), ImageError> {
        if config.size > MAX_CONFIG {
            return Err(RegistryError::Content(format!(
                "the image config {} is {} bytes; berth reads configs of at most {MAX_CONFIG}",
                config.digest, config.size
            ))
            .into());
        }
        let reply = registry::fetch_blob(client, reference, &config.digest)?;
        let bytes = reply.bytes(MAX_CONFIG)?;
        self.store
            .put_blob(&mut bytes.as_slice(), Some(&config.digest))
            .map_err(|e| content_error(e, "config", &config.digest, client))?;
        let parsed = ImageConfig::parse(&config.digest, &bytes)?;
        if parsed.diff_ids.len() != layers.len() {
            return Err(ImageError::Config {
                digest: config.digest.clone(),
                reason: format!(
                    "names {} layers but the manifest has {}",
                    parsed.diff_ids.len(),
                    layers.len()
                ),
            });
        }
        for layer in layers {
            if !crate::archive::LAYER_MEDIA_TYPES.contains(&layer.media_type.as_str()) {
                return Err(RegistryError::Content(format!(
                    "layer {} has media type {:?}, which berth cannot unpack",
                    layer.digest, layer.media_type
                ))
                .into());
            }
        }
        let chains = chain_ids(&parsed.diff_ids);
        // A layer the store has (under its chain id) is not downloaded again when its
        // blob is there too, or its uncompressed tar (a layer that came from `load`).
        let mut archived = Vec::with_capacity(layers.len());
        let mut wanted = Vec::new();
        let mut whole_manifest = true;
        for (i, layer) in layers.iter().enumerate() {
            let have_layer = self.store.has_layer(&chains[i]);
            if have_layer && self.store.has_blob(&layer.digest) {
                events(exists(layer));
                archived.push(archive_layer(layer));
            } else if have_layer && self.store.has_blob(&parsed.diff_ids[i]) {
                events(exists(layer));
                whole_manifest = false;
                archived.push(ArchiveLayer {
                    blob: parsed.diff_ids[i].clone(),
                    media_type: "application/vnd.oci.image.layer.v1.tar".into(),
                    size: self.store.blob_size(&parsed.diff_ids[i])?,
                });
            } else {
                if wanted.len() >= DOWNLOADS {
                    events(PullEvent {
                        layer: short(&layer.digest),
                        status: LayerStatus::Waiting,
                    });
                }
                wanted.push(layer.clone());
                archived.push(archive_layer(layer));
            }
        }
        // The manifest is kept when the record names it (every layer as it names them).
        if whole_manifest {
            self.store.put_blob(
                &mut image_manifest.bytes.as_slice(),
                Some(&image_manifest.digest),
            )?;
        }
        let early = EarlyLayers::new(self);
        let downloaded = std::thread::scope(|scope| {
            let mut queue = early.queue(scope, super::load::layer_threads());
            let result = self.download_all(client, reference, &wanted, events, &mut |file| {
                if let Some(queue) = &mut queue {
                    queue.offer(file);
                }
            });
            if result.is_err() {
                early.cancel();
            }
            drop(queue);
            result
        });
        downloaded?;
        let image = ArchiveImage {
            config: config.digest.clone(),
            manifest: whole_manifest.then(|| image_manifest.digest.clone()),
            layers: archived,
            repo_tags: Vec::new(),
        };
        self.load_image(&image, &early)?;
        for layer in &wanted {
            events(PullEvent {
                layer: short(&layer.digest),
                status: LayerStatus::PullComplete,
            });
        }
        Ok(())
    }

    /// Downloads `layers` into the blob store, `DOWNLOADS` at a time, handing each stored
    /// blob to `stored` (on this thread) as soon as it is complete. The first error stops
    /// the downloads not yet started and is returned.
    fn download_all(
        &self,
        client: &Client,
        reference: &Reference,
        layers: &[Descriptor],
        events: &(dyn Fn(PullEvent) + Sync),
        stored: &mut dyn FnMut(&StoredFile),
    ) -> Result<(), ImageError> {
        let next = AtomicUsize::new(0);
        let stop = AtomicBool::new(false);
        let (sender, receiver) = mpsc::channel();
        std::thread::scope(|scope| {
            for _ in 0..DOWNLOADS.min(layers.len()) {
                let sender = sender.clone();
                let (next, stop) = (&next, &stop);
                scope.spawn(move || {
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= layers.len() || stop.load(Ordering::Relaxed) {
                            return;
                        }
                        let result = self.download(client, reference, &layers[i], events, stop);
                        if sender.send(result).is_err() {
                            return;
                        }
                    }
                });
            }
            drop(sender);
            let mut first_error = None;
            for result in receiver {
                match result {
                    Ok(file) if first_error.is_none() => stored(&file),
                    Ok(_) => {}
                    Err(e) => {
                        stop.store(true, Ordering::Relaxed);
                        first_error.get_or_insert(e);
                    }
                }
            }
            first_error.map_or(Ok(()), Err)
        })
    }

    fn download(
        &self,
        client: &Client,
        reference: &Reference,
        layer: &Descriptor,
        events: &(dyn Fn(PullEvent) + Sync),
        stop: &AtomicBool,
    ) -> Result<StoredFile, ImageError> {
        let id = short(&layer.digest);
        events(PullEvent {
            layer: id.clone(),
            status: LayerStatus::Downloading {
                done: 0,
                total: layer.size,
            },
        });
        let reply = registry::fetch_blob(client, reference, &layer.digest)?;
        let mut reader = Progress {
            inner: reply.into_reader(),
            left: layer.size,
            done: 0,
            reported: 0,
            total: layer.size,
            id: &id,
            events,
            stop,
            failed: None,
        };
        let stored = self.store.put_blob(&mut reader, Some(&layer.digest));
        if let Some(reason) = reader.failed.take() {
            return Err(RegistryError::Unreachable {
                registry: client.registry().to_string(),
                reason: format!("downloading layer {id}: {reason}"),
            }
            .into());
        }
        let (digest, size) =
            stored.map_err(|e| content_error(e, "layer", &layer.digest, client))?;
        if size != layer.size {
            return Err(RegistryError::Content(format!(
                "layer {id} from {} is {size} bytes, not the {} its manifest gives",
                client.registry(),
                layer.size
            ))
            .into());
        }
        events(PullEvent {
            layer: id,
            status: LayerStatus::DownloadComplete,
        });
        Ok(StoredFile {
            digest,
            size,
            compressed: layer.media_type.ends_with("gzip") || layer.media_type.ends_with("zstd"),
        })
    }
}

fn short(digest: &Digest) -> String {
    digest.hex()[..12].to_string()
}

fn exists(layer: &Descriptor) -> PullEvent {
    PullEvent {
        layer: short(&layer.digest),
        status: LayerStatus::AlreadyExists,
    }
}

fn archive_layer(layer: &Descriptor) -> ArchiveLayer {
    ArchiveLayer {
        blob: layer.digest.clone(),
        media_type: layer.media_type.clone(),
        size: layer.size,
    }
}

/// A blob whose content is not what the manifest names: the registry's fault, said so.
fn content_error(e: StoreError, what: &str, digest: &Digest, client: &Client) -> ImageError {
    match e {
        StoreError::DigestMismatch { actual, .. } => RegistryError::Content(format!(
            "{what} {digest} from {} has content with digest {actual}: refused, nothing was stored",
            client.registry()
        ))
        .into(),
        e => e.into(),
    }
}

/// A layer's stream: at most its size, with progress reported every 1 MiB, stopped when
/// another download failed; a read error is kept to be reported as the registry's.
struct Progress<'a, R> {
    inner: R,
    left: u64,
    done: u64,
    reported: u64,
    total: u64,
    id: &'a str,
    events: &'a (dyn Fn(PullEvent) + Sync),
    stop: &'a AtomicBool,
    failed: Option<String>,
}

impl<R: Read> Read for Progress<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.stop.load(Ordering::Relaxed) {
            return Err(io::Error::other("stopped: another layer failed"));
        }
        let n = match self.inner.read(buf) {
            Ok(n) => n,
            Err(e) => {
                self.failed = Some(format!("{e} after {} of {} bytes", self.done, self.total));
                return Err(e);
            }
        };
        if n as u64 > self.left {
            let e = format!(
                "the registry sent more than the {} bytes of the manifest",
                self.total
            );
            self.failed = Some(e.clone());
            return Err(io::Error::other(e));
        }
        if n == 0 && self.left > 0 {
            let e = format!(
                "the connection ended after {} of {} bytes",
                self.done, self.total
            );
            self.failed = Some(e.clone());
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, e));
        }
        self.left -= n as u64;
        self.done += n as u64;
        if self.done - self.reported >= 1 << 20 || (self.left == 0 && n > 0) {
            self.reported = self.done;
            (self.events)(PullEvent {
                layer: self.id.to_string(),
                status: LayerStatus::Downloading {
                    done: self.done,
                    total: self.total,
                },
            });
        }
        Ok(n)
    }
}
