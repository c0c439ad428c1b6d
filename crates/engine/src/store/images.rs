//! Image records (`images/<id-hex>.json`), kept small so that listing hundreds is fast, and
//! the resolution of a name or id to an image id.

use std::collections::HashMap;
use std::fs;
use std::io;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::{
    ExclusiveLock, Store, StoreError, digest_from_hex, now_rfc3339, read_json, write_json,
};
use crate::digest::Digest;

pub const IMAGE_SCHEMA: u32 = 1;

/// One image. Holds what `images`, `inspect`, `run` and garbage collection need without
/// opening the config blob; everything else stays in the config.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageRecord {
    pub schema: u32,
    /// The config digest.
    pub id: Digest,
    /// `name:tag` references, filled from `repositories.json` when read; never stored here.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub repo_tags: Vec<String>,
    /// `name@sha256:...` references, filled like `repo_tags`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub repo_digests: Vec<String>,
    /// The manifest this image came from, if any (not for `import` or builds).
    #[serde(default)]
    pub manifest: Option<Digest>,
    /// Bottom layer first.
    pub layers: Vec<ImageLayer>,
    /// From the config, RFC 3339.
    pub created: String,
    pub architecture: String,
    pub os: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    /// Sum of the unpacked layer sizes.
    pub size: u64,
    /// The image this one was built on, for `build` and `history`.
    #[serde(default)]
    pub parent: Option<Digest>,
    /// When it entered the store, RFC 3339; `put_image` fills it when empty.
    pub loaded: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageLayer {
    pub diff_id: Digest,
    pub chain_id: Digest,
    /// The layer blob as the image came with it: compressed (gzip, zstd) or the
    /// uncompressed tar itself (then it equals `diff_id`). Kept for `save` and `push`.
    #[serde(default)]
    pub blob: Option<Digest>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// Bytes of the uncompressed layer tar (what the diff id covers). `save` needs it for
    /// the tar header before it decompresses `blob`, as the uncompressed tar is not kept as a
    /// blob of its own when the compressed one is (decision 26). Missing in records written
    /// before that, whose uncompressed tar is always stored under the diff id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tar_size: Option<u64>,
    /// Unpacked size.
    pub size: u64,
}

impl Store {
    /// Writes an image record. Its config blob and layers must already be stored, so a
    /// record never points at missing content. `repo_tags` and `repo_digests` are ignored:
    /// tags live in `repositories.json` (see `set_tag`).
    pub fn put_image(&self, record: &ImageRecord) -> Result<(), StoreError> {
        if !self.has_blob(&record.id) {
            return Err(StoreError::NoSuchBlob(record.id.clone()));
        }
        if let Some(layer) = record.layers.iter().find(|l| !self.has_layer(&l.chain_id)) {
            return Err(StoreError::NoSuchLayer(layer.chain_id.clone()));
        }
        let mut stored = record.clone();
        stored.repo_tags.clear();
        stored.repo_digests.clear();
        if stored.loaded.is_empty() {
            stored.loaded = now_rfc3339();
        }
        write_json(&self.image_path(&record.id), &stored)
    }

    pub fn has_image(&self, id: &Digest) -> bool {
        self.image_path(id).is_file()
    }

    /// One image record, with its tags and repo digests.
    pub fn image(&self, id: &Digest) -> Result<ImageRecord, StoreError> {
        let mut record = self.read_image(id)?;
        let tags = self.tags()?;
        for (reference, target) in &tags {
            if target == id {
                add_reference(&mut record, reference);
            }
        }
        Ok(record)
    }

    /// Every image record with its tags, sorted by id. One directory read, one small file
    /// per image and one read of `repositories.json`.
    pub fn images(&self) -> Result<Vec<ImageRecord>, StoreError> {
        let mut records = Vec::new();
        for id in self.image_ids()? {
            match self.read_image(&id) {
                Ok(r) => records.push(r),
                // Removed between the listing and the read: it is no longer an image.
                Err(StoreError::NoSuchImage(_)) => {}
                Err(e) => return Err(e),
            }
        }
        let index: HashMap<Digest, usize> = records
            .iter()
            .enumerate()
            .map(|(i, r)| (r.id.clone(), i))
            .collect();
        for (reference, target) in &self.tags()? {
            if let Some(&i) = index.get(target) {
                add_reference(&mut records[i], reference);
            }
        }
        Ok(records)
    }

    /// Removes an image record and every tag and repo digest pointing at it, and returns
    /// the record as it was. Its blobs and layers stay until garbage collection. Tags go
    /// first: a crash in between leaves an untagged image, never a tag to nothing.
    pub fn remove_image(
        &self,
        _lock: &ExclusiveLock,
        id: &Digest,
    ) -> Result<ImageRecord, StoreError> {
        let record = self.image(id)?;
        let _tags = self.lock_tags()?;
        self.remove_references_to(id)?;
        let path = self.image_path(id);
        match fs::remove_file(&path) {
            Ok(()) => Ok(record),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(record),
            Err(e) => Err(StoreError::io("remove", &path, e)),
        }
    }

    /// The ids of all stored images, sorted, without reading any record.
    pub fn image_ids(&self) -> Result<Vec<Digest>, StoreError> {
        let dir = self.images_dir();
        let mut ids = Vec::new();
        for entry in fs::read_dir(&dir).map_err(|e| StoreError::io("read", &dir, e))? {
            let entry = entry.map_err(|e| StoreError::io("read", &dir, e))?;
            let name = entry.file_name();
            if let Some(id) = name
                .to_str()
                .and_then(|n| n.strip_suffix(".json"))
                .and_then(digest_from_hex)
            {
                ids.push(id);
            }
        }
        ids.sort();
        Ok(ids)
    }

    /// Finds the image meant by what a user typed, in Docker's order:
    /// 1. a full id, `sha256:<64 hex>` or `<64 hex>`;
    /// 2. a reference stored in `repositories.json`: `reference` when given (the caller
    ///    normalizes `busybox` to `docker.io/library/busybox:latest`), else `raw` as is;
    /// 3. a unique prefix of an id's hex, optionally after `sha256:`; an ambiguous prefix is
    ///    an error naming the candidates.
    pub fn resolve(&self, raw: &str, reference: Option<&str>) -> Result<Digest, StoreError> {
        if let Some(id) = full_id(raw).filter(|id| self.has_image(id)) {
            return Ok(id);
        }
        if let Some(id) = self.tags()?.remove(reference.unwrap_or(raw)) {
            return Ok(id);
        }
        let prefix = raw.strip_prefix("sha256:").unwrap_or(raw);
        if !prefix.is_empty()
            && prefix
                .bytes()
                .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        {
            let mut matches: Vec<Digest> = self
                .image_ids()?
                .into_iter()
                .filter(|id| id.hex().starts_with(prefix))
                .collect();
            match matches.len() {
                0 => {}
                1 => return Ok(matches.remove(0)),
                _ => {
                    return Err(StoreError::AmbiguousId {
                        prefix: raw.to_string(),
                        candidates: matches.iter().map(|d| d.hex()[..12].to_string()).collect(),
                    });
                }
            }
        }
        Err(StoreError::NoSuchImage(raw.to_string()))
    }

    fn image_path(&self, id: &Digest) -> PathBuf {
        self.images_dir().join(format!("{}.json", id.hex()))
    }

    fn read_image(&self, id: &Digest) -> Result<ImageRecord, StoreError> {
        read_json(&self.image_path(id))?.ok_or_else(|| StoreError::NoSuchImage(id.to_string()))
    }
}

fn full_id(s: &str) -> Option<Digest> {
    match s.len() {
        64 => digest_from_hex(s),
        _ => Digest::parse(s).ok(),
    }
}

/// Sorts a reference into the tags or the repo digests of its image.
fn add_reference(record: &mut ImageRecord, reference: &str) {
    if reference.contains('@') {
        record.repo_digests.push(reference.to_string());
    } else {
        record.repo_tags.push(reference.to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::fixture::load;
    use crate::store::test_dir;
    use std::time::Instant;

    #[test]
    fn round_trips_a_record_without_tags_on_disk() {
        let dir = test_dir("image");
        let store = Store::open(&*dir).unwrap();
        let rec = load(&store, "config", &["base", "top"]);
        store.set_tag("docker.io/library/app:1", &rec.id).unwrap();
        let name = format!("docker.io/library/app@{}", rec.layers[0].diff_id);
        store.set_tag(&name, &rec.id).unwrap();

        let read = store.image(&rec.id).unwrap();
        assert_eq!(read.repo_tags, vec!["docker.io/library/app:1"]);
        assert_eq!(read.repo_digests, vec![name]);
        assert!(!read.loaded.is_empty());
        assert_eq!(read.layers, rec.layers);
        assert_eq!(store.images().unwrap(), vec![read]);

        let on_disk = fs::read_to_string(store.image_path(&rec.id)).unwrap();
        assert!(!on_disk.contains("repo_tags"), "{on_disk}");
    }

    #[test]
    fn refuses_a_record_over_missing_content() {
        let dir = test_dir("image-missing");
        let store = Store::open(&*dir).unwrap();
        let rec = load(&store, "config", &["base"]);
        let mut other = rec.clone();
        other.id = crate::store::blobs::sha256_digest(b"not stored");
        let err = store.put_image(&other).unwrap_err();
        assert!(matches!(err, StoreError::NoSuchBlob(_)), "{err}");
    }

    #[test]
    fn resolves_ids_prefixes_and_references() {
        let dir = test_dir("resolve");
        let store = Store::open(&*dir).unwrap();
        let a = load(&store, "config a", &["base"]).id;
        store
            .set_tag("docker.io/library/busybox:latest", &a)
            .unwrap();

        assert_eq!(store.resolve(a.as_str(), None).unwrap(), a);
        assert_eq!(store.resolve(a.hex(), None).unwrap(), a);
        assert_eq!(store.resolve(&a.hex()[..5], None).unwrap(), a);
        assert_eq!(
            store
                .resolve(&format!("sha256:{}", &a.hex()[..5]), None)
                .unwrap(),
            a
        );
        assert_eq!(
            store
                .resolve("busybox", Some("docker.io/library/busybox:latest"))
                .unwrap(),
            a
        );
        assert_eq!(
            store
                .resolve("docker.io/library/busybox:latest", None)
                .unwrap(),
            a
        );
        let err = store
            .resolve("nginx", Some("docker.io/library/nginx:latest"))
            .unwrap_err();
        assert_eq!(err.to_string(), "no such image: nginx");
    }

    #[test]
    fn ambiguous_prefix_names_the_candidates() {
        let dir = test_dir("resolve-ambiguous");
        let store = Store::open(&*dir).unwrap();
        // Load configs until two ids share a first hex digit (at most 17 tries).
        let mut by_first: HashMap<char, Digest> = HashMap::new();
        let (first, a, b) = (0..)
            .find_map(|i| {
                let id = load(&store, &format!("config {i}"), &[]).id;
                let c = id.hex().chars().next().unwrap();
                by_first.insert(c, id.clone()).map(|prev| (c, prev, id))
            })
            .unwrap();
        let err = store
            .resolve(&first.to_string(), None)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with(&format!("image id {first} is ambiguous: it matches ")),
            "{err}"
        );
        assert!(
            err.contains(&a.hex()[..12]) && err.contains(&b.hex()[..12]),
            "{err}"
        );
    }

    #[test]
    fn remove_image_drops_its_tags_and_keeps_content() {
        let dir = test_dir("image-remove");
        let store = Store::open(&*dir).unwrap();
        let rec = load(&store, "config", &["base"]);
        store.set_tag("docker.io/library/app:1", &rec.id).unwrap();
        store.set_tag("docker.io/library/app:2", &rec.id).unwrap();
        let lock = store.lock_exclusive().unwrap();
        let removed = store.remove_image(&lock, &rec.id).unwrap();
        assert_eq!(removed.repo_tags.len(), 2);
        assert!(store.tags().unwrap().is_empty());
        assert!(store.images().unwrap().is_empty());
        assert!(store.has_blob(&rec.id));
        let err = store.remove_image(&lock, &rec.id).unwrap_err();
        assert_eq!(err.to_string(), format!("no such image: {}", rec.id));
    }

    /// The CLI's `images` must list 500 images in 20 ms end to end; the store's share of
    /// that has to be a fraction. Generous bound so a loaded CI machine does not flake.
    #[test]
    fn lists_500_images_quickly() {
        let dir = test_dir("image-many");
        let store = Store::open(&*dir).unwrap();
        let base = load(&store, "config base", &["base"]);
        // Written directly, without fsync: the setup is not what is measured, and 1500
        // fsyncs take seconds on a busy disk.
        let mut references = serde_json::Map::new();
        for i in 0..500 {
            let mut rec = base.clone();
            rec.id = crate::store::blobs::sha256_digest(format!("config {i}").as_bytes());
            fs::write(store.image_path(&rec.id), serde_json::to_vec(&rec).unwrap()).unwrap();
            references.insert(format!("docker.io/library/app:{i}"), rec.id.as_str().into());
        }
        let repos = serde_json::json!({"schema": 1, "references": references});
        fs::write(store.repositories_path(), repos.to_string()).unwrap();
        let start = Instant::now();
        let images = store.images().unwrap();
        let elapsed = start.elapsed();
        assert_eq!(images.len(), 501);
        assert_eq!(
            images.iter().filter(|i| i.repo_tags.len() == 1).count(),
            500
        );
        assert!(elapsed.as_millis() < 200, "{elapsed:?}");
    }
}
