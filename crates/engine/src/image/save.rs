//! `docker save`: images and their tags written as one archive that both `docker load`
//! and OCI tools read.

use std::io::Write;

use crate::archive::{self, SaveImage};
use crate::reference::Reference;

use super::{ImageError, Images};

impl Images {
    /// Writes the named images (references keep their tag in the archive; ids do not).
    pub fn save(&self, names: &[String], w: &mut dyn Write) -> Result<(), ImageError> {
        let _content = self.store.lock_shared()?;
        let mut images: Vec<SaveImage> = Vec::new();
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
            let diff_ids: Vec<_> = record.layers.iter().map(|l| l.diff_id.clone()).collect();
            images.push(SaveImage {
                config: record.id.clone(),
                layers: diff_ids.clone(),
                diff_ids,
                repo_tags: tag.into_iter().collect(),
            });
        }
        archive::write_docker_archive(w, &self.store, &images)?;
        Ok(())
    }
}
