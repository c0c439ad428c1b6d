//! `push`: an image's blobs the registry does not have (asked with `HEAD`), mounted from
//! another repository of the same registry when the image came from there, or uploaded
//! (`POST` then one `PUT` with the whole blob, streamed from the store), the config, then
//! the manifest under the tag. The manifest the image was pulled or loaded with is pushed
//! byte for byte, so its digest stays the same; an image without one (import, build) gets
//! a Docker schema 2 manifest. Layers go up as the store keeps them: compressed when they
//! came compressed, the plain tar otherwise (decision 75).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use crate::digest::Digest;
use crate::reference::Reference;
use crate::registry::client::Payload;
use crate::registry::manifest::{self, Manifest};
use crate::registry::{self, Client, Registry, RegistryError};
use crate::store::ImageRecord;

use super::{ImageError, Images};

/// Blobs uploaded at once (Docker's `max-concurrent-uploads` default is 5).
pub const UPLOADS: usize = 5;

/// What happens to one layer (Docker's words); `layer` is the first 12 hex digits of its
/// diff id, as `docker push` shows them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PushStatus {
    Preparing,
    AlreadyExists,
    MountedFrom(String),
    Pushing { done: u64, total: u64 },
    Pushed,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PushEvent {
    pub layer: String,
    pub status: PushStatus,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pushed {
    pub tag: String,
    pub digest: Digest,
    pub size: usize,
    /// What had to be accepted on the way (an insecure registry's unverified certificate).
    pub warnings: Vec<String>,
}

/// One blob to bring to the registry.
struct Blob {
    digest: Digest,
    size: u64,
    /// The layer's short diff id, for progress; `None` for the config.
    shown: Option<String>,
}

impl Images {
    /// Pushes the image `reference` names (with its tag, `latest` by default).
    pub fn push(
        &self,
        registry: &Registry,
        reference: &Reference,
        events: &(dyn Fn(PushEvent) + Sync),
    ) -> Result<Pushed, ImageError> {
        let reference = reference.clone().with_default_tag();
        let record = self.resolve_reference(&reference)?;
        let _content = self.store.lock_shared()?;
        let (manifest_bytes, media_type, layer_blobs) = self.manifest_for(&record)?;
        let client = registry.client(reference.domain())?;
        let mut blobs: Vec<Blob> = layer_blobs;
        for b in &blobs {
            events(PushEvent {
                layer: b.shown.clone().unwrap_or_default(),
                status: PushStatus::Preparing,
            });
        }
        blobs.push(Blob {
            digest: record.id.clone(),
            size: self.store.blob_size(&record.id)?,
            shown: None,
        });
        // Repositories of the same registry the image is known in: mount sources.
        let sources: Vec<String> = record
            .repo_digests
            .iter()
            .chain(&record.repo_tags)
            .filter_map(|r| Reference::parse(r).ok())
            .filter(|r| r.domain() == reference.domain() && r.path() != reference.path())
            .map(|r| r.path().to_string())
            .collect();
        self.upload_all(&client, &reference, &blobs, &sources, events)?;
        let tag = reference.tag_or_default().to_string();
        let path = format!("/v2/{}/manifests/{tag}", reference.path());
        let reply = client.send(
            "PUT",
            &path,
            &registry::auth_scope(&reference, true),
            &[("Content-Type", media_type.as_str())],
            Payload::Bytes(&manifest_bytes),
        )?;
        if !(200..300).contains(&reply.status) {
            return Err(push_error(
                &client,
                &reference,
                reply.status,
                &format!("PUT {path}"),
                reply.error_message(),
            ));
        }
        let digest = Digest::of_bytes(&manifest_bytes);
        self.store
            .set_tag(&format!("{}@{digest}", reference.name()), &record.id)?;
        Ok(Pushed {
            warnings: client.warnings(),
            tag,
            digest,
            size: manifest_bytes.len(),
        })
    }

    fn resolve_reference(&self, reference: &Reference) -> Result<ImageRecord, ImageError> {
        let id = self
            .store
            .tags()?
            .get(&reference.to_string())
            .cloned()
            .ok_or_else(|| {
                RegistryError::NotFound(format!(
                    "An image does not exist locally with the tag: {}",
                    reference.familiar_name()
                ))
            })?;
        Ok(self.store.image(&id)?)
    }

    /// The manifest to push and the layer blobs it names: the stored manifest when every
    /// blob it names is in the store, else a schema 2 manifest of the stored blobs.
    fn manifest_for(
        &self,
        record: &ImageRecord,
    ) -> Result<(Vec<u8>, String, Vec<Blob>), ImageError> {
        let shown = |i: usize| record.layers[i].diff_id.hex()[..12].to_string();
        if let Some(digest) = &record.manifest
            && let Ok(bytes) = self.store.read_blob(digest)
            && let Ok(Manifest::Image { config, layers }) = manifest::parse(None, &bytes)
            && config.digest == record.id
            && layers.len() == record.layers.len()
            && layers.iter().all(|l| self.store.has_blob(&l.digest))
        {
            let media_type = serde_json::from_slice::<serde_json::Value>(&bytes)
                .ok()
                .and_then(|v| v["mediaType"].as_str().map(str::to_string))
                .unwrap_or_else(|| manifest::OCI_MANIFEST.to_string());
            let blobs = layers
                .iter()
                .enumerate()
                .map(|(i, l)| Blob {
                    digest: l.digest.clone(),
                    size: l.size,
                    shown: Some(shown(i)),
                })
                .collect();
            return Ok((bytes, media_type, blobs));
        }
        let mut blobs = Vec::new();
        let mut entries = Vec::new();
        for (i, layer) in record.layers.iter().enumerate() {
            let (digest, media_type) = match &layer.blob {
                Some(b) if self.store.has_blob(b) && *b != layer.diff_id => (
                    b.clone(),
                    docker_layer_type(layer.media_type.as_deref().unwrap_or_default()),
                ),
                _ => (
                    layer.diff_id.clone(),
                    "application/vnd.docker.image.rootfs.diff.tar",
                ),
            };
            let size = self.store.blob_size(&digest)?;
            entries.push(serde_json::json!({"mediaType": media_type, "size": size, "digest": digest.to_string()}));
            blobs.push(Blob {
                digest,
                size,
                shown: Some(shown(i)),
            });
        }
        let manifest = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": manifest::DOCKER_MANIFEST,
            "config": {
                "mediaType": manifest::DOCKER_CONFIG,
                "size": self.store.blob_size(&record.id)?,
                "digest": record.id.to_string(),
            },
            "layers": entries,
        });
        let bytes = serde_json::to_vec_pretty(&manifest)
            .map_err(|e| ImageError::Conflict(format!("cannot write the manifest: {e}")))?;
        Ok((bytes, manifest::DOCKER_MANIFEST.to_string(), blobs))
    }

    /// Brings every blob to the registry, `UPLOADS` at a time; the first error stops the
    /// ones not started yet.
    fn upload_all(
        &self,
        client: &Client,
        reference: &Reference,
        blobs: &[Blob],
        sources: &[String],
        events: &(dyn Fn(PushEvent) + Sync),
    ) -> Result<(), ImageError> {
        let next = AtomicUsize::new(0);
        let stop = AtomicBool::new(false);
        let results: Vec<Result<(), ImageError>> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..UPLOADS.min(blobs.len()))
                .map(|_| {
                    scope.spawn(|| {
                        let mut out = Vec::new();
                        loop {
                            let i = next.fetch_add(1, Ordering::Relaxed);
                            if i >= blobs.len() || stop.load(Ordering::Relaxed) {
                                return out;
                            }
                            let result = self.upload(client, reference, &blobs[i], sources, events);
                            if result.is_err() {
                                stop.store(true, Ordering::Relaxed);
                            }
                            out.push(result);
                        }
                    })
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().unwrap_or_default())
                .collect()
        });
        results.into_iter().collect()
    }

    fn upload(
        &self,
        client: &Client,
        reference: &Reference,
        blob: &Blob,
        sources: &[String],
        events: &(dyn Fn(PushEvent) + Sync),
    ) -> Result<(), ImageError> {
        let show = |status: PushStatus| {
            if let Some(layer) = &blob.shown {
                events(PushEvent {
                    layer: layer.clone(),
                    status,
                });
            }
        };
        let scope = registry::auth_scope(reference, true);
        let path = format!("/v2/{}/blobs/{}", reference.path(), blob.digest);
        let reply = client.send("HEAD", &path, &scope, &[], Payload::Empty)?;
        if reply.status == 200 {
            show(PushStatus::AlreadyExists);
            return Ok(());
        }
        let uploads = format!("/v2/{}/blobs/uploads/", reference.path());
        for from in sources {
            let mount_scope = format!("{scope} repository:{from}:pull");
            let target = format!("{uploads}?mount={}&from={from}", blob.digest);
            let reply = client.send("POST", &target, &mount_scope, &[], Payload::Empty)?;
            if reply.status == 201 {
                show(PushStatus::MountedFrom(from.clone()));
                return Ok(());
            }
        }
        let reply = client.send("POST", &uploads, &scope, &[], Payload::Empty)?;
        if reply.status != 202 {
            return Err(push_error(
                client,
                reference,
                reply.status,
                &format!("POST {uploads}"),
                reply.error_message(),
            ));
        }
        let location = reply
            .header("location")
            .map(str::to_string)
            .ok_or_else(|| {
                RegistryError::Content(format!(
                    "{} started an upload without a Location",
                    client.registry()
                ))
            })?;
        let sep = if location.contains('?') { '&' } else { '?' };
        let target = format!("{location}{sep}digest={}", blob.digest);
        show(PushStatus::Pushing {
            done: 0,
            total: blob.size,
        });
        let mut file = self.store.open_blob(&blob.digest)?;
        let reply = client.send(
            "PUT",
            &target,
            &scope,
            &[("Content-Type", "application/octet-stream")],
            Payload::Reader(&mut file, blob.size),
        )?;
        if reply.status != 201 {
            return Err(push_error(
                client,
                reference,
                reply.status,
                "the blob upload",
                reply.error_message(),
            ));
        }
        show(PushStatus::Pushed);
        Ok(())
    }
}

/// The Docker media type of a stored layer's (compressed) blob.
fn docker_layer_type(media_type: &str) -> &'static str {
    if media_type.ends_with("zstd") {
        "application/vnd.oci.image.layer.v1.tar+zstd"
    } else {
        "application/vnd.docker.image.rootfs.diff.tar.gzip"
    }
}

fn push_error(
    client: &Client,
    reference: &Reference,
    status: u16,
    what: &str,
    message: String,
) -> ImageError {
    match status {
        401 | 403 => RegistryError::Unauthorized {
            registry: client.registry().to_string(),
            message: format!(
                "denied: requested access to {} is denied ({message}); run `berth login {}` with an account that may push there",
                reference.familiar_name(),
                client.registry()
            ),
        }
        .into(),
        status => RegistryError::Status {
            registry: client.registry().to_string(),
            status,
            what: what.to_string(),
            message,
        }
        .into(),
    }
}
