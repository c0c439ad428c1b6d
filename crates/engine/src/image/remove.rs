//! `docker rmi`: untag, and delete an image (and content nothing else uses) once no tag
//! points at it.

use crate::digest::Digest;
use crate::reference::Reference;

use super::{ImageError, Images, familiar};

/// One line of `docker rmi`'s output.
#[derive(Clone, Debug, PartialEq)]
pub enum Removal {
    Untagged(String),
    Deleted(Digest),
}

impl Images {
    /// Removes what `name` names. A reference only untags, unless it was the image's last
    /// tag; an id deletes the image, which needs `force` when several tags point at it.
    pub fn remove(&self, name: &str, force: bool) -> Result<Vec<Removal>, ImageError> {
        let lock = self.store.lock_exclusive()?;
        let image = self.resolve(name)?;
        let by_reference = Reference::parse(name)
            .ok()
            .map(|r| r.with_default_tag().to_string())
            .filter(|r| {
                self.store
                    .tags()
                    .map(|t| t.get(r) == Some(&image.id))
                    .unwrap_or(false)
            });
        let mut out = Vec::new();
        let tags: Vec<String> = self
            .store
            .tags()?
            .into_iter()
            .filter(|(_, id)| *id == image.id)
            .map(|(r, _)| r)
            .collect();
        if let Some(reference) = by_reference {
            self.store.remove_tag(&reference)?;
            out.push(Removal::Untagged(familiar(&reference)));
            if tags.len() > 1 {
                return Ok(out);
            }
        } else if tags.len() > 1 && !force {
            return Err(ImageError::Conflict(format!(
                "unable to delete {} (must be forced) - image is referenced in multiple repositories",
                image.id.short()
            )));
        } else {
            for t in &tags {
                self.store.remove_tag(t)?;
                out.push(Removal::Untagged(familiar(t)));
            }
        }
        self.store.remove_image(&lock, &image.id)?;
        out.push(Removal::Deleted(image.id.clone()));
        for chain in self.store.unreferenced_layers(&lock)? {
            self.store.remove_layer(&lock, &chain)?;
        }
        for blob in self.store.unreferenced_blobs(&lock)? {
            self.store.remove_blob(&lock, &blob)?;
        }
        Ok(out)
    }
}
