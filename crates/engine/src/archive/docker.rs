//! The `docker save` format: `manifest.json` lists each image's config, tags and layers as
//! paths in the archive, either the legacy `<id>/layer.tar` layout or Docker 25+'s
//! `blobs/sha256/<hex>` one (then also an OCI layout, which gives the manifest digest).

use std::collections::{BTreeMap, HashMap};

use oci_spec::image::Descriptor;
use serde::{Deserialize, Serialize};

use super::load::{
    ArchiveImage, ArchiveLayer, Contents, LAYER_MEDIA_TYPES, check_config, read_json,
};
use super::{ArchiveError, BlobStore, oci};
use crate::digest::Digest;

pub(super) const MANIFEST_JSON: &str = "manifest.json";

/// One element of `manifest.json`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct ManifestEntry {
    pub config: String,
    /// `null` for untagged images.
    pub repo_tags: Option<Vec<String>>,
    pub layers: Vec<String>,
    /// Descriptors of layers whose media type the path alone does not say (foreign layers),
    /// keyed by digest.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub layer_sources: BTreeMap<String, Descriptor>,
}

/// The images of a docker-save archive.
pub(super) fn images(
    contents: &Contents,
    store: &dyn BlobStore,
) -> Result<Vec<ArchiveImage>, ArchiveError> {
    let file = contents.file(MANIFEST_JSON, MANIFEST_JSON)?;
    contents.charge_json(MANIFEST_JSON, file.size)?;
    let entries: Vec<ManifestEntry> = read_json(store, MANIFEST_JSON, &file.digest, file.size)?;
    // Docker 25+ archives are OCI layouts too; the index links configs to manifests. Older
    // archives have no manifest, which is fine: the manifest digest is optional.
    let manifests = if contents.has(oci::INDEX_JSON) {
        oci::manifests_by_config(contents, store).unwrap_or_default()
    } else {
        HashMap::new()
    };
    let many = entries.len() > 1;
    entries
        .iter()
        .enumerate()
        .map(|(i, entry)| {
            let at = |field: &str| match many {
                true => format!("{MANIFEST_JSON}: [{i}].{field}"),
                false => format!("{MANIFEST_JSON}: {field}"),
            };
            image(contents, store, entry, &at, &manifests)
        })
        .collect()
}

fn image(
    contents: &Contents,
    store: &dyn BlobStore,
    entry: &ManifestEntry,
    at: &dyn Fn(&str) -> String,
    manifests: &HashMap<Digest, Digest>,
) -> Result<ArchiveImage, ArchiveError> {
    let layers = entry
        .layers
        .iter()
        .enumerate()
        .map(|(i, path)| {
            let file = contents.file(&at(&format!("Layers[{i}]")), path)?;
            let media_type = match entry.layer_sources.get(file.digest.as_str()) {
                Some(source) => source.media_type().to_string(),
                None => file.compression.layer_media_type().to_string(),
            };
            if !LAYER_MEDIA_TYPES.contains(&media_type.as_str()) {
                return Err(ArchiveError::UnknownMediaType {
                    blob: file.digest.clone(),
                    media_type,
                });
            }
            Ok(ArchiveLayer {
                blob: file.digest.clone(),
                media_type,
                size: file.size,
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let config = contents.file(&at("Config"), &entry.config)?;
    check_config(contents, store, config, layers.len())?;
    Ok(ArchiveImage {
        config: config.digest.clone(),
        manifest: manifests.get(&config.digest).cloned(),
        layers,
        repo_tags: entry.repo_tags.clone().unwrap_or_default(),
    })
}
