//! `docker save`: images and their tags written as one archive that both `docker load`
//! and OCI tools read. A layer whose uncompressed tar is not stored as a blob is written by
//! decompressing its compressed blob, checked against the diff id as it streams.

use std::collections::HashMap;
use std::io::{self, BufReader, Read, Write};

use sha2::{Digest as _, Sha256};

use crate::archive::{self, BlobStore, SaveImage};
use crate::digest::{Digest, DigestReader};
use crate::layer;
use crate::reference::Reference;
use crate::store::{ImageRecord, Store};

use super::{ImageError, Images};

impl Images {
    /// Writes the named images (references keep their tag in the archive; ids do not).
    pub fn save(&self, names: &[String], w: &mut dyn Write) -> Result<(), ImageError> {
        let _content = self.store.lock_shared()?;
        let mut images: Vec<SaveImage> = Vec::new();
        let mut source = LayerSource {
            store: &self.store,
            compressed: HashMap::new(),
        };
        for name in names {
            let record = self.resolve(name)?;
            let tag = match Reference::parse(name) {
                Ok(r)
                    if !record
                        .id
                        .hex()
                        .starts_with(name.trim_start_matches("sha256:")) =>
                {
                    Some(r.with_default_tag().familiar_string())
                }
                _ => None,
            };
            if let Some(existing) = images.iter_mut().find(|i| i.config == record.id) {
                existing.repo_tags.extend(tag);
                continue;
            }
            source.add(&record)?;
            let diff_ids: Vec<_> = record.layers.iter().map(|l| l.diff_id.clone()).collect();
            images.push(SaveImage {
                config: record.id.clone(),
                layers: diff_ids.clone(),
                diff_ids,
                repo_tags: tag.into_iter().collect(),
            });
        }
        archive::write_docker_archive(w, &source, &images)?;
        Ok(())
    }
}

/// The store as the archive writer reads it: blobs as they are, except the uncompressed tars
/// of layers stored only compressed (decision 26), which are decompressed on the fly.
struct LayerSource<'a> {
    store: &'a Store,
    /// Diff id → the compressed blob it comes from and the uncompressed size.
    compressed: HashMap<Digest, (Digest, u64)>,
}

impl LayerSource<'_> {
    /// Notes the layers of `image` whose uncompressed tar must come from a compressed blob.
    /// The caller holds the content lock, so what is stored now stays until the end.
    fn add(&mut self, image: &ImageRecord) -> Result<(), ImageError> {
        for l in &image.layers {
            if self.store.has_blob(&l.diff_id) || self.compressed.contains_key(&l.diff_id) {
                continue;
            }
            // No uncompressed tar and no compressed blob: the store lost content; opening
            // the diff id's blob reports it.
            let Some(blob) = &l.blob else { continue };
            let size = match l.tar_size {
                Some(size) => size,
                None => self.measure(blob, &l.diff_id)?,
            };
            self.compressed
                .insert(l.diff_id.clone(), (blob.clone(), size));
        }
        Ok(())
    }

    /// The uncompressed size of a layer whose record does not say (not written by `load`
    /// since decision 26): one extra pass, checked against the diff id.
    fn measure(&self, blob: &Digest, diff_id: &Digest) -> Result<u64, ImageError> {
        let mut hashed = DigestReader::new(self.decompressed(blob, diff_id)?);
        io::copy(&mut hashed, &mut io::sink()).map_err(|source| ImageError::LayerData {
            diff_id: diff_id.clone(),
            source,
        })?;
        let (actual, size) = hashed.finish();
        if actual != *diff_id {
            return Err(ImageError::LayerData {
                diff_id: diff_id.clone(),
                source: corrupt(blob, &actual),
            });
        }
        Ok(size)
    }

    fn decompressed(
        &self,
        blob: &Digest,
        diff_id: &Digest,
    ) -> Result<Box<dyn Read + 'static>, ImageError> {
        let file = self.store.open_blob(blob)?;
        layer::decompressed(BufReader::with_capacity(256 * 1024, file)).map_err(|source| {
            ImageError::Layer {
                diff_id: diff_id.clone(),
                source,
            }
        })
    }
}

impl BlobStore for LayerSource<'_> {
    fn put_blob(&self, _: &mut dyn Read, _: Option<&Digest>) -> io::Result<(Digest, u64)> {
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "saving does not store blobs",
        ))
    }

    fn open_blob(&self, digest: &Digest) -> io::Result<Box<dyn Read>> {
        match self.compressed.get(digest) {
            Some((blob, size)) => Ok(Box::new(CheckedTar {
                inner: self.decompressed(blob, digest).map_err(io::Error::other)?,
                blob: blob.clone(),
                diff_id: digest.clone(),
                hasher: Sha256::new(),
                left: *size,
            })),
            None => BlobStore::open_blob(self.store, digest),
        }
    }

    fn blob_size(&self, digest: &Digest) -> io::Result<u64> {
        match self.compressed.get(digest) {
            Some((_, size)) => Ok(*size),
            None => BlobStore::blob_size(self.store, digest),
        }
    }
}

/// A decompressed layer tar that yields exactly the recorded size and fails the read that
/// completes it unless the bytes hash to the diff id: the archive writer stops there, and a
/// corrupt blob never ends up in an archive under a digest it does not have.
struct CheckedTar {
    inner: Box<dyn Read>,
    blob: Digest,
    diff_id: Digest,
    hasher: Sha256,
    left: u64,
}

impl Read for CheckedTar {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.left == 0 || buf.is_empty() {
            return Ok(0);
        }
        let max = buf
            .len()
            .min(usize::try_from(self.left).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..max])?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "blob {} decompresses to fewer bytes than the layer's recorded size",
                    self.blob
                ),
            ));
        }
        self.hasher.update(&buf[..n]);
        self.left -= n as u64;
        if self.left == 0 {
            let actual = Digest::from_sha256(&self.hasher.clone().finalize().into());
            if actual != self.diff_id {
                return Err(corrupt(&self.blob, &actual));
            }
        }
        Ok(n)
    }
}

fn corrupt(blob: &Digest, actual: &Digest) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!(
            "decompressing blob {blob} gives content with digest {actual} instead: \
             the stored blob is corrupt"
        ),
    )
}
