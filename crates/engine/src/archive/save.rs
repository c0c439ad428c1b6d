//! Writing what Docker 25+ `docker save` writes: an OCI image layout (`oci-layout`,
//! `index.json`, `blobs/sha256/<hex>`) that is also a docker-save archive (`manifest.json`
//! pointing into `blobs/`). The bytes depend only on the images, so save → load → save is
//! byte-identical: entries sorted, JSON keys sorted, mtimes and owners zero.

use std::collections::{BTreeMap, HashMap};
use std::io::{self, Read, Write};
use std::str::FromStr;

use oci_spec::image::{
    Descriptor, ImageIndexBuilder, ImageManifestBuilder, MediaType, OciLayoutBuilder,
};
use serde::Serialize;

use super::docker::{MANIFEST_JSON, ManifestEntry};
use super::memstore::sha256_digest;
use super::oci::{ANNOTATION_IMAGE_NAME, ANNOTATION_REF_NAME, INDEX_JSON, OCI_LAYOUT, blob_path};
use super::{ArchiveError, BlobStore};
use crate::digest::Digest;

/// An image to save; its blobs are in the store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SaveImage {
    pub config: Digest,
    /// Uncompressed layer tar blobs, base first.
    pub layers: Vec<Digest>,
    /// The config's diff ids; for uncompressed layers these equal `layers`.
    pub diff_ids: Vec<Digest>,
    /// Familiar names (`busybox:latest`); written to manifest.json and the index.
    pub repo_tags: Vec<String>,
}

/// A blob to write: from the store, or made here (manifests).
enum Blob {
    Stored(u64),
    Made(Vec<u8>),
}

/// Writes `images` as a Docker 25+ style `docker save` archive.
pub fn write_docker_archive(
    w: &mut dyn Write,
    store: &dyn BlobStore,
    images: &[SaveImage],
) -> Result<(), ArchiveError> {
    let mut blobs: BTreeMap<Digest, Blob> = BTreeMap::new();
    let mut index_entries = Vec::new();
    let mut manifest_json = Vec::new();
    for image in images {
        let (manifest, descriptor) = manifest(store, image, &mut blobs)?;
        index_entries.extend(index_descriptors(&descriptor, &image.repo_tags)?);
        blobs.insert(manifest_digest(&descriptor)?, Blob::Made(manifest));
        manifest_json.push(ManifestEntry {
            config: blob_path(image.config.as_str()),
            repo_tags: (!image.repo_tags.is_empty()).then(|| image.repo_tags.clone()),
            layers: image.layers.iter().map(|l| blob_path(l.as_str())).collect(),
            layer_sources: BTreeMap::new(),
        });
    }
    let index = ImageIndexBuilder::default()
        .schema_version(2u32)
        .media_type(MediaType::ImageIndex)
        .manifests(index_entries)
        .build()
        .map_err(invalid("index.json"))?;
    let layout = OciLayoutBuilder::default()
        .image_layout_version("1.0.0")
        .build()
        .map_err(invalid(OCI_LAYOUT))?;

    let mut tar = tar::Builder::new(w);
    append_dir(&mut tar, "blobs/")?;
    append_dir(&mut tar, "blobs/sha256/")?;
    for (digest, blob) in &blobs {
        let path = blob_path(digest.as_str());
        match blob {
            Blob::Made(data) => append_file(&mut tar, &path, data.len() as u64, &mut &data[..])?,
            Blob::Stored(size) => {
                let blob_err = |source| ArchiveError::Blob {
                    digest: digest.clone(),
                    source,
                };
                let mut r = store.open_blob(digest).map_err(blob_err)?;
                let mut exact = Exact {
                    inner: &mut r,
                    left: *size,
                    failed: None,
                };
                let appended = append_file(&mut tar, &path, *size, &mut exact);
                // A failed read is the blob's fault (missing, short, corrupt), not the
                // output's: say which blob.
                if let Some(source) = exact.failed.take() {
                    return Err(blob_err(source));
                }
                appended?;
            }
        }
    }
    for (path, doc) in [
        (INDEX_JSON, canonical_json(&index)?),
        (MANIFEST_JSON, canonical_json(&manifest_json)?),
        (OCI_LAYOUT, canonical_json(&layout)?),
    ] {
        append_file(&mut tar, path, doc.len() as u64, &mut &doc[..])?;
    }
    tar.into_inner()
        .map_err(ArchiveError::Write)?
        .flush()
        .map_err(ArchiveError::Write)
}

/// The OCI manifest of one image (bytes and descriptor); its config and layers are added to
/// `blobs`.
fn manifest(
    store: &dyn BlobStore,
    image: &SaveImage,
    blobs: &mut BTreeMap<Digest, Blob>,
) -> Result<(Vec<u8>, Descriptor), ArchiveError> {
    let at = format!("image {}", image.config);
    if image.layers != image.diff_ids {
        return Err(ArchiveError::Invalid {
            at,
            reason: "layers must be the uncompressed tars named by the diff ids".into(),
        });
    }
    let mut add = |digest: &Digest, media_type: MediaType| -> Result<Descriptor, ArchiveError> {
        let size = store
            .blob_size(digest)
            .map_err(|source| ArchiveError::Blob {
                digest: digest.clone(),
                source,
            })?;
        blobs.insert(digest.clone(), Blob::Stored(size));
        Ok(Descriptor::new(media_type, size, oci_digest(digest)?))
    };
    let config = add(&image.config, MediaType::ImageConfig)?;
    let layers = image
        .layers
        .iter()
        .map(|l| add(l, MediaType::ImageLayer))
        .collect::<Result<Vec<_>, _>>()?;
    let manifest = ImageManifestBuilder::default()
        .schema_version(2u32)
        .media_type(MediaType::ImageManifest)
        .config(config)
        .layers(layers)
        .build()
        .map_err(invalid(&at))?;
    let bytes = canonical_json(&manifest)?;
    let digest = sha256_digest(&bytes);
    let descriptor = Descriptor::new(
        MediaType::ImageManifest,
        bytes.len() as u64,
        oci_digest(&digest)?,
    );
    Ok((bytes, descriptor))
}

fn manifest_digest(descriptor: &Descriptor) -> Result<Digest, ArchiveError> {
    Digest::parse(descriptor.digest().as_ref()).map_err(invalid("index.json"))
}

/// One index entry per tag, named the way Docker names them (full name for containerd, the
/// tag alone as the OCI ref name); one unnamed entry for an untagged image.
fn index_descriptors(
    manifest: &Descriptor,
    repo_tags: &[String],
) -> Result<Vec<Descriptor>, ArchiveError> {
    if repo_tags.is_empty() {
        return Ok(vec![manifest.clone()]);
    }
    Ok(repo_tags
        .iter()
        .map(|tag| {
            let (full, tag_part) = full_name(tag);
            let mut d = manifest.clone();
            d.set_annotations(Some(HashMap::from([
                (ANNOTATION_IMAGE_NAME.to_string(), full),
                (ANNOTATION_REF_NAME.to_string(), tag_part),
            ])));
            d
        })
        .collect())
}

/// `busybox:latest` → (`docker.io/library/busybox:latest`, `latest`). A minimal form of
/// Docker's normalization, enough for names that are already valid tags.
fn full_name(familiar: &str) -> (String, String) {
    let (name, tag) = match familiar.rsplit_once(':') {
        Some((n, t)) if !t.contains('/') => (n, t),
        _ => (familiar, "latest"),
    };
    let first = name.split('/').next().unwrap_or_default();
    let has_domain = name.contains('/') && (first.contains(['.', ':']) || first == "localhost");
    let full = match (has_domain, name.contains('/')) {
        (true, _) => name.to_string(),
        (false, true) => format!("docker.io/{name}"),
        (false, false) => format!("docker.io/library/{name}"),
    };
    (format!("{full}:{tag}"), tag.to_string())
}

fn oci_digest(d: &Digest) -> Result<oci_spec::image::Digest, ArchiveError> {
    oci_spec::image::Digest::from_str(d.as_str()).map_err(invalid(d.as_str()))
}

fn invalid<E: std::fmt::Display>(at: &str) -> impl Fn(E) -> ArchiveError + '_ {
    move |e| ArchiveError::Invalid {
        at: at.to_string(),
        reason: e.to_string(),
    }
}

/// JSON with object keys sorted: oci-spec keeps annotations in a `HashMap`, whose order
/// changes from run to run, and the bytes must not.
fn canonical_json<T: Serialize>(value: &T) -> Result<Vec<u8>, ArchiveError> {
    let value = serde_json::to_value(value).map_err(|e| ArchiveError::Write(e.into()))?;
    serde_json::to_vec(&sorted(value)).map_err(|e| ArchiveError::Write(e.into()))
}

fn sorted(value: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match value {
        Value::Object(map) => {
            let mut entries: Vec<_> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(entries.into_iter().map(|(k, v)| (k, sorted(v))).collect())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(sorted).collect()),
        other => other,
    }
}

fn header(path: &str, size: u64, mode: u32, kind: tar::EntryType) -> io::Result<tar::Header> {
    let mut h = tar::Header::new_ustar();
    h.set_path(path)?;
    h.set_size(size);
    h.set_mode(mode);
    h.set_entry_type(kind);
    h.set_mtime(0);
    h.set_uid(0);
    h.set_gid(0);
    h.set_cksum();
    Ok(h)
}

fn append_dir<W: Write>(tar: &mut tar::Builder<W>, path: &str) -> Result<(), ArchiveError> {
    let h = header(path, 0, 0o755, tar::EntryType::Directory).map_err(ArchiveError::Write)?;
    tar.append(&h, io::empty()).map_err(ArchiveError::Write)
}

fn append_file<W: Write>(
    tar: &mut tar::Builder<W>,
    path: &str,
    size: u64,
    data: &mut dyn Read,
) -> Result<(), ArchiveError> {
    let h = header(path, size, 0o644, tar::EntryType::Regular).map_err(ArchiveError::Write)?;
    tar.append(&h, data).map_err(ArchiveError::Write)
}

/// Yields exactly `left` bytes or fails: a blob shorter than its recorded size would
/// otherwise leave a corrupt tar behind. A read error is kept in `failed`, so the caller can
/// tell it from a write error.
struct Exact<'a> {
    inner: &'a mut dyn Read,
    left: u64,
    failed: Option<io::Error>,
}

impl Read for Exact<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.left == 0 {
            return Ok(0);
        }
        let max = buf
            .len()
            .min(usize::try_from(self.left).unwrap_or(usize::MAX));
        let error = match self.inner.read(&mut buf[..max]) {
            Ok(0) => io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "blob is shorter than its size",
            ),
            Ok(n) => {
                self.left -= n as u64;
                return Ok(n);
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => return Err(e),
            Err(e) => e,
        };
        let reported = io::Error::new(error.kind(), error.to_string());
        self.failed = Some(error);
        Err(reported)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn familiar_names_get_docker_io_and_a_tag() {
        let f = |s| full_name(s);
        assert_eq!(
            f("busybox:latest"),
            ("docker.io/library/busybox:latest".into(), "latest".into())
        );
        assert_eq!(
            f("me/app"),
            ("docker.io/me/app:latest".into(), "latest".into())
        );
        assert_eq!(
            f("localhost:5000/app:v1"),
            ("localhost:5000/app:v1".into(), "v1".into())
        );
    }
}
