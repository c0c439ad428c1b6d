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
        let users = self.users()?;
        let users: Vec<_> = users
            .iter()
            .filter(|u| u.image == image.id.to_string())
            .collect();
        let mut out = Vec::new();
        let tags: Vec<String> = self
            .store
            .tags()?
            .into_iter()
            .filter(|(_, id)| *id == image.id)
            .map(|(r, _)| r)
            .collect();
        let short = |c: &str| c.chars().take(12).collect::<String>();
        if let Some(reference) = by_reference {
            // The last tag of an image a container uses is kept (Docker's conflict),
            // unless forced; even then the image stays, for its containers.
            if tags.len() <= 1
                && !force
                && let Some(user) = users.first()
            {
                return Err(ImageError::Conflict(format!(
                    "unable to remove repository reference \"{name}\" (must force) - container {} is using its referenced image {}",
                    short(&user.container),
                    image.id.short()
                )));
            }
            self.store.remove_tag(&reference)?;
            out.push(Removal::Untagged(familiar(&reference)));
            if tags.len() > 1 || !users.is_empty() {
                return Ok(out);
            }
        } else if let Some(user) = users.iter().find(|u| u.running) {
            return Err(ImageError::Conflict(format!(
                "unable to delete {} (cannot be forced) - image is being used by running container {}",
                image.id.short(),
                short(&user.container)
            )));
        } else if let Some(user) = users.first() {
            return Err(ImageError::Conflict(format!(
                "unable to delete {} (must be forced) - image is being used by stopped container {}",
                image.id.short(),
                short(&user.container)
            )));
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
