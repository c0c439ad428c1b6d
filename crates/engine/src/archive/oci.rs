//! The OCI image layout (`oci-layout`, `index.json`, `blobs/sha256/<hex>`): index →
//! manifests (through nested indexes) → config and layers. Names come from the
//! `io.containerd.image.name` and `org.opencontainers.image.ref.name` annotations.

use std::collections::HashMap;

use oci_spec::image::{Descriptor, ImageIndex, ImageManifest, MediaType, OciLayout};

use super::load::{
    ArchiveImage, ArchiveLayer, Contents, LAYER_MEDIA_TYPES, check_config, read_json,
};
use super::{ArchiveError, BlobStore};
use crate::digest::Digest;

pub(super) const INDEX_JSON: &str = "index.json";
pub(super) const OCI_LAYOUT: &str = "oci-layout";
pub(super) const ANNOTATION_IMAGE_NAME: &str = "io.containerd.image.name";
pub(super) const ANNOTATION_REF_NAME: &str = "org.opencontainers.image.ref.name";
const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
const DOCKER_MANIFEST_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
/// Nested indexes deeper than this are refused (real ones are one level deep).
const MAX_INDEX_DEPTH: usize = 4;

/// The images of an OCI layout archive, one per manifest, tags merged.
pub(super) fn images(
    contents: &Contents,
    store: &dyn BlobStore,
) -> Result<Vec<ArchiveImage>, ArchiveError> {
    let layout = contents.file(INDEX_JSON, OCI_LAYOUT)?;
    contents.charge_json(OCI_LAYOUT, layout.size)?;
    let _: OciLayout = read_json(store, OCI_LAYOUT, &layout.digest, layout.size)?;
    let mut found = Vec::new();
    walk_index_file(contents, store, &mut found)?;
    let mut images: Vec<ArchiveImage> = Vec::new();
    for (at, descriptor, names) in found {
        let manifest =
            Digest::parse(descriptor.digest().as_ref()).map_err(|e| ArchiveError::Invalid {
                at: at.clone(),
                reason: e.to_string(),
            })?;
        // Docker writes one index entry per tag, all pointing at the same manifest.
        if let Some(image) = images
            .iter_mut()
            .find(|i| i.manifest.as_ref() == Some(&manifest))
        {
            for name in names {
                if !image.repo_tags.contains(&name) {
                    image.repo_tags.push(name);
                }
            }
            continue;
        }
        let mut image = image(contents, store, &at, &descriptor)?;
        image.repo_tags = names;
        images.push(image);
    }
    Ok(images)
}

/// For Docker 25+ archives read through manifest.json: config digest → manifest digest.
pub(super) fn manifests_by_config(
    contents: &Contents,
    store: &dyn BlobStore,
) -> Result<HashMap<Digest, Digest>, ArchiveError> {
    let mut found = Vec::new();
    walk_index_file(contents, store, &mut found)?;
    let mut map = HashMap::new();
    for (at, descriptor, _) in found {
        let image = image(contents, store, &at, &descriptor)?;
        if let Some(manifest) = image.manifest {
            map.insert(image.config, manifest);
        }
    }
    Ok(map)
}

/// An image manifest found in the index: where, its descriptor, and the names it carries.
type Found = (String, Descriptor, Vec<String>);

fn walk_index_file(
    contents: &Contents,
    store: &dyn BlobStore,
    found: &mut Vec<Found>,
) -> Result<(), ArchiveError> {
    let file = contents.file(INDEX_JSON, INDEX_JSON)?;
    contents.charge_json(INDEX_JSON, file.size)?;
    let index: ImageIndex = read_json(store, INDEX_JSON, &file.digest, file.size)?;
    walk(contents, store, INDEX_JSON, &index, &[], 0, found)
}

/// Collects the image manifests of `index` for this host's platform, descending into nested
/// indexes; names given on an index entry apply to everything below it.
fn walk(
    contents: &Contents,
    store: &dyn BlobStore,
    at: &str,
    index: &ImageIndex,
    inherited: &[String],
    depth: usize,
    found: &mut Vec<Found>,
) -> Result<(), ArchiveError> {
    for (i, descriptor) in index.manifests().iter().enumerate() {
        let at = format!("{at}: manifests[{i}]");
        if !for_this_host(descriptor) {
            continue;
        }
        let mut names = names(descriptor);
        if names.is_empty() {
            names = inherited.to_vec();
        }
        match descriptor.media_type() {
            MediaType::ImageManifest => found.push((at, descriptor.clone(), names)),
            MediaType::Other(m) if m == DOCKER_MANIFEST => {
                found.push((at, descriptor.clone(), names))
            }
            MediaType::ImageIndex => {
                nested(contents, store, &at, descriptor, &names, depth, found)?
            }
            MediaType::Other(m) if m == DOCKER_MANIFEST_LIST => {
                nested(contents, store, &at, descriptor, &names, depth, found)?
            }
            // Artifacts and signatures: not images, nothing to load.
            _ => {}
        }
    }
    Ok(())
}

fn nested(
    contents: &Contents,
    store: &dyn BlobStore,
    at: &str,
    descriptor: &Descriptor,
    names: &[String],
    depth: usize,
    found: &mut Vec<Found>,
) -> Result<(), ArchiveError> {
    if depth >= MAX_INDEX_DEPTH {
        return Err(ArchiveError::Invalid {
            at: at.to_string(),
            reason: format!("indexes nested more than {MAX_INDEX_DEPTH} deep"),
        });
    }
    let digest = descriptor.digest().to_string();
    let file = contents.blob(at, &digest, descriptor.size())?;
    contents.charge_json(at, file.size)?;
    let index: ImageIndex = read_json(store, &blob_path(&digest), &file.digest, file.size)?;
    walk(
        contents,
        store,
        &format!("{at} ({digest})"),
        &index,
        names,
        depth + 1,
        found,
    )
}

/// The image a manifest descriptor points at, its blobs checked to be in the archive.
fn image(
    contents: &Contents,
    store: &dyn BlobStore,
    at: &str,
    descriptor: &Descriptor,
) -> Result<ArchiveImage, ArchiveError> {
    let digest = descriptor.digest().to_string();
    let file = contents.blob(at, &digest, descriptor.size())?;
    contents.charge_json(at, file.size)?;
    let manifest: ImageManifest = read_json(store, &blob_path(&digest), &file.digest, file.size)?;
    let at = format!("{at} ({digest})");
    let layers = manifest
        .layers()
        .iter()
        .enumerate()
        .map(|(i, layer)| {
            let at = format!("{at}: layers[{i}]");
            let blob = contents.blob(&at, layer.digest().as_ref(), layer.size())?;
            let media_type = layer.media_type().to_string();
            if !LAYER_MEDIA_TYPES.contains(&media_type.as_str()) {
                return Err(ArchiveError::UnknownMediaType {
                    blob: blob.digest.clone(),
                    media_type,
                });
            }
            Ok(ArchiveLayer {
                blob: blob.digest.clone(),
                media_type,
                size: blob.size,
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let config = manifest.config();
    let config = contents.blob(
        &format!("{at}: config"),
        config.digest().as_ref(),
        config.size(),
    )?;
    check_config(contents, store, config, layers.len())?;
    Ok(ArchiveImage {
        config: config.digest.clone(),
        manifest: Some(file.digest.clone()),
        layers,
        repo_tags: Vec::new(),
    })
}

pub(super) fn blob_path(digest: &str) -> String {
    format!("blobs/{}", digest.replacen(':', "/", 1))
}

/// The names on an index entry. containerd's full name wins; the OCI ref name is used only
/// when it is a whole reference, since a bare tag (`latest`) names no repository.
fn names(descriptor: &Descriptor) -> Vec<String> {
    let Some(annotations) = descriptor.annotations() else {
        return Vec::new();
    };
    if let Some(name) = annotations.get(ANNOTATION_IMAGE_NAME) {
        return vec![name.clone()];
    }
    match annotations.get(ANNOTATION_REF_NAME) {
        Some(name) if name.contains(['/', ':']) => vec![name.clone()],
        _ => Vec::new(),
    }
}

/// Whether an index entry is for this host: no platform given, or linux on this CPU.
/// Attestations (`unknown/unknown`) and other platforms are skipped, since multi-platform
/// saves carry blobs only for some platforms.
fn for_this_host(descriptor: &Descriptor) -> bool {
    match descriptor.platform() {
        None => true,
        Some(p) => p.os().to_string() == "linux" && p.architecture().to_string() == host_arch(),
    }
}

/// This host's CPU in Go's GOARCH names, which image configs and platforms use.
pub(crate) fn host_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "x86" => "386",
        "aarch64" => "arm64",
        "powerpc64" => "ppc64le",
        "loongarch64" => "loong64",
        other => other,
    }
}
