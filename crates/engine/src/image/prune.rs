//! `docker image prune` and the numbers of `docker system df`: which images go, removing
//! them with everything only they used, and how much space that frees.

use std::collections::BTreeMap;

use super::filter::{FilterArgs, ImageFilter, Instant};
use super::{ImageError, Images, Removal, familiar};
use crate::store::ImageRecord;

/// What a prune did. It keeps going past a failure and reports them all at the end.
#[derive(Debug, Default)]
pub struct PruneReport {
    /// In Docker's order: each image's `untagged` lines, then its `deleted` line.
    pub removals: Vec<Removal>,
    /// Unpacked bytes of the layers removed (what `images` counts as size).
    pub reclaimed: u64,
    pub errors: Vec<ImageError>,
}

/// The image line of `docker system df`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ImagesUsage {
    pub total: usize,
    /// Images used by a container (none until containers exist).
    pub active: usize,
    /// Unpacked bytes of the distinct layers of all images.
    pub size: u64,
    /// What `image prune -a` would free.
    pub reclaimable: u64,
}

impl Images {
    /// Compiles `--filter` values for this store: `before` / `since` name images here.
    pub fn image_filter(&self, args: &FilterArgs, now: Instant) -> Result<ImageFilter, ImageError> {
        ImageFilter::new(args, now, |name| {
            let image = self.resolve(name)?;
            super::filter::parse_rfc3339(&image.created).ok_or_else(|| ImageError::Config {
                digest: image.id.clone(),
                reason: format!("invalid created time {:?}", image.created),
            })
        })
    }

    /// The labels of an image (`config.Labels` of its config).
    pub fn labels(&self, image: &ImageRecord) -> Result<BTreeMap<String, String>, ImageError> {
        let config = self.config(image)?;
        Ok(config
            .raw
            .get("config")
            .and_then(|c| c.get("Labels"))
            .and_then(|l| l.as_object())
            .map(|l| {
                l.iter()
                    .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_string())))
                    .collect()
            })
            .unwrap_or_default())
    }

    /// `docker images --filter ...`: the images that pass, newest first, with only the
    /// tags a `reference` filter matched.
    pub fn list_filtered(&self, filter: &ImageFilter) -> Result<Vec<ImageRecord>, ImageError> {
        let mut out = Vec::new();
        for image in self.list()? {
            let labels = if filter.needs_labels() {
                self.labels(&image)?
            } else {
                BTreeMap::new()
            };
            out.extend(filter.select(&image, &labels));
        }
        Ok(out)
    }

    /// `docker image prune`: removes the untagged images (every image with `all`) that
    /// pass `filter`'s `until` and `label` parts, then the layers and blobs no image uses
    /// any more. Holds the exclusive store lock throughout, so no load or tag interleaves.
    pub fn prune(&self, filter: &ImageFilter, all: bool) -> Result<PruneReport, ImageError> {
        let lock = self.store.lock_exclusive()?;
        let mut report = PruneReport::default();
        let users = self.users()?;
        for image in self.list()? {
            if users.iter().any(|u| u.image == image.id.to_string()) {
                continue;
            }
            if !all && !image.repo_tags.is_empty() {
                continue;
            }
            let labels = if filter.needs_labels() {
                match self.labels(&image) {
                    Ok(l) => l,
                    Err(e) => {
                        report.errors.push(e);
                        continue;
                    }
                }
            } else {
                BTreeMap::new()
            };
            if !filter.matches_time_and_labels(&image, &labels) {
                continue;
            }
            match self.store.remove_image(&lock, &image.id) {
                Ok(removed) => {
                    let mut refs = removed.repo_tags;
                    refs.extend(removed.repo_digests);
                    report
                        .removals
                        .extend(refs.iter().map(|r| Removal::Untagged(familiar(r))));
                    report.removals.push(Removal::Deleted(image.id.clone()));
                }
                Err(e) => report.errors.push(e.into()),
            }
        }
        match self.store.unreferenced_layers(&lock) {
            Ok(layers) => {
                for chain in layers {
                    let size = self.store.layer_record(&chain).map(|r| r.size).unwrap_or(0);
                    match self.store.remove_layer(&lock, &chain) {
                        Ok(true) => report.reclaimed += size,
                        Ok(false) => {}
                        Err(e) => report.errors.push(e.into()),
                    }
                }
            }
            Err(e) => report.errors.push(e.into()),
        }
        match self.store.unreferenced_blobs(&lock) {
            Ok(blobs) => {
                for blob in blobs {
                    if let Err(e) = self.store.remove_blob(&lock, &blob) {
                        report.errors.push(e.into());
                    }
                }
            }
            Err(e) => report.errors.push(e.into()),
        }
        Ok(report)
    }

    /// The image line of `docker system df`.
    pub fn usage(&self) -> Result<ImagesUsage, ImageError> {
        let images = self.list()?;
        let users = self.users()?;
        let used = |i: &&ImageRecord| users.iter().any(|u| u.image == i.id.to_string());
        let layers: BTreeMap<_, u64> = images
            .iter()
            .flat_map(|i| i.layers.iter().map(|l| (l.chain_id.clone(), l.size)))
            .collect();
        let active_layers: BTreeMap<_, u64> = images
            .iter()
            .filter(used)
            .flat_map(|i| i.layers.iter().map(|l| (l.chain_id.clone(), l.size)))
            .collect();
        let size = layers.values().sum();
        Ok(ImagesUsage {
            total: images.len(),
            active: images.iter().filter(used).count(),
            size,
            reclaimable: size - active_layers.values().sum::<u64>(),
        })
    }
}
