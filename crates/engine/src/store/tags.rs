//! Tags and repo digests in `repositories.json`: reference string -> image id. The single
//! source of truth for `repo_tags` and `repo_digests`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{ExclusiveLock, Store, StoreError, read_json, write_json};
use crate::digest::Digest;

const REPOSITORIES_SCHEMA: u32 = 1;

#[derive(Default, Serialize, Deserialize)]
struct Repositories {
    schema: u32,
    references: BTreeMap<String, ImageId>,
}

#[derive(Clone, Serialize, Deserialize)]
struct ImageId(Digest);

impl Store {
    /// Every reference (`name:tag` and `name@sha256:...`) and the image it points at.
    pub fn tags(&self) -> Result<BTreeMap<String, Digest>, StoreError> {
        Ok(self
            .read_repositories()?
            .references
            .into_iter()
            .map(|(r, id)| (r, id.0))
            .collect())
    }

    /// Points `reference` (already normalized by the caller) at image `id`, which must be
    /// stored, and returns the image it pointed at before, if any.
    pub fn set_tag(&self, reference: &str, id: &Digest) -> Result<Option<Digest>, StoreError> {
        let _lock = self.lock_tags()?;
        // Checked under the tags lock: remove_image takes it too, so an image cannot vanish
        // between this check and the write and leave a tag to nothing.
        if !self.has_image(id) {
            return Err(StoreError::NoSuchImage(id.to_string()));
        }
        let mut repos = self.read_repositories()?;
        let previous = repos
            .references
            .insert(reference.to_string(), ImageId(id.clone()))
            .map(|p| p.0);
        if previous.as_ref() != Some(id) {
            self.write_repositories(&repos)?;
        }
        Ok(previous)
    }

    /// Removes `reference` and returns the image it pointed at, if it existed.
    pub fn remove_tag(&self, reference: &str) -> Result<Option<Digest>, StoreError> {
        let _lock = self.lock_tags()?;
        let mut repos = self.read_repositories()?;
        let removed = repos.references.remove(reference).map(|id| id.0);
        if removed.is_some() {
            self.write_repositories(&repos)?;
        }
        Ok(removed)
    }

    /// Drops every reference to `id`; the caller holds the tags lock.
    pub(super) fn remove_references_to(&self, id: &Digest) -> Result<(), StoreError> {
        let mut repos = self.read_repositories()?;
        let before = repos.references.len();
        repos.references.retain(|_, target| target.0 != *id);
        if repos.references.len() != before {
            self.write_repositories(&repos)?;
        }
        Ok(())
    }

    /// Serializes read-modify-write of `repositories.json`. Separate from `store.lock` so a
    /// load holding the shared content lock can still tag what it loaded.
    pub(super) fn lock_tags(&self) -> Result<ExclusiveLock, StoreError> {
        ExclusiveLock::acquire(&self.repositories_lock_path())
    }

    fn read_repositories(&self) -> Result<Repositories, StoreError> {
        Ok(
            read_json(&self.repositories_path())?.unwrap_or(Repositories {
                schema: REPOSITORIES_SCHEMA,
                references: BTreeMap::new(),
            }),
        )
    }

    fn write_repositories(&self, repos: &Repositories) -> Result<(), StoreError> {
        write_json(&self.repositories_path(), repos)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::fixture::load;
    use crate::store::test_dir;

    #[test]
    fn set_move_and_remove_tags() {
        let dir = test_dir("tags");
        let store = Store::open(&*dir).unwrap();
        let a = load(&store, "config a", &["base"]).id;
        let b = load(&store, "config b", &["base"]).id;
        let tag = "docker.io/library/app:latest";

        assert_eq!(store.set_tag(tag, &a).unwrap(), None);
        assert_eq!(store.set_tag(tag, &b).unwrap(), Some(a.clone()));
        assert_eq!(
            store.tags().unwrap(),
            BTreeMap::from([(tag.to_string(), b.clone())])
        );
        assert!(store.image(&a).unwrap().repo_tags.is_empty());
        assert_eq!(store.image(&b).unwrap().repo_tags, vec![tag]);

        assert_eq!(store.remove_tag(tag).unwrap(), Some(b));
        assert_eq!(store.remove_tag(tag).unwrap(), None);
        assert!(store.tags().unwrap().is_empty());
    }

    #[test]
    fn tagging_a_missing_image_fails() {
        let dir = test_dir("tags-missing");
        let store = Store::open(&*dir).unwrap();
        let id = crate::store::blobs::sha256_digest(b"nothing");
        let err = store.set_tag("docker.io/library/x:1", &id).unwrap_err();
        assert_eq!(err.to_string(), format!("no such image: {id}"));
    }

    #[test]
    fn concurrent_tagging_loses_no_tag() {
        let dir = test_dir("tags-race");
        let store = Store::open(&*dir).unwrap();
        let id = load(&store, "config", &[]).id;
        let handles: Vec<_> = (0..4)
            .map(|t| {
                let (store, id) = (store.clone(), id.clone());
                std::thread::spawn(move || {
                    for i in 0..10 {
                        store
                            .set_tag(&format!("docker.io/library/app:{t}-{i}"), &id)
                            .unwrap();
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
        assert_eq!(store.tags().unwrap().len(), 40);
    }
}
