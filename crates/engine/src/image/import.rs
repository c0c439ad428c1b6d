//! `docker import`: a rootfs tarball (plain, gzip or zstd) becomes a one-layer image. The
//! uncompressed tar is kept as a blob (its digest is the diff id), unpacked once, and a
//! config is written for it, with `--change` instructions applied.

use std::io::{BufReader, Read};

use serde_json::{Map, Value, json};

use crate::archive::host_arch;
use crate::digest::Digest;
use crate::layer;
use crate::reference::Reference;
use crate::store::{ImageLayer, ImageRecord, now_rfc3339};

use super::change::apply_changes;
use super::{ImageError, Images};

/// The media type recorded for the layer: the blob is the uncompressed tar.
const LAYER_TAR: &str = "application/vnd.oci.image.layer.v1.tar";

/// What `import` is asked to do besides reading the tarball.
#[derive(Clone, Debug, Default)]
pub struct ImportOptions {
    /// Where the tarball came from, as the default comment names it (`Imported from -`).
    pub source: String,
    /// Dockerfile instructions applied to the config (`CMD ["sh"]`, `ENV A=1`...).
    pub changes: Vec<String>,
    /// The history comment; `Imported from <source>` when unset or empty.
    pub message: Option<String>,
    /// `REPOSITORY[:TAG]` to tag the image with.
    pub reference: Option<String>,
    /// `os[/arch[/variant]]`; only the host's platform is accepted.
    pub platform: Option<String>,
}

impl Images {
    /// Imports a rootfs tarball and returns the new image's id. Everything that can be
    /// refused without reading the tarball (changes, reference, platform) is checked first,
    /// so a bad request leaves the store untouched.
    pub fn import(&self, r: &mut dyn Read, options: &ImportOptions) -> Result<Digest, ImageError> {
        let mut config = Map::new();
        apply_changes(&mut config, &options.changes)?;
        let reference = options
            .reference
            .as_deref()
            .map(|r| Reference::parse(r).map(Reference::with_default_tag))
            .transpose()?;
        if let Some(reference) = &reference
            && reference.digest().is_some()
        {
            return Err(ImageError::Conflict(format!(
                "refusing to import as a digest reference {reference}: use REPOSITORY[:TAG]"
            )));
        }
        if let Some(platform) = &options.platform {
            check_platform(platform)?;
        }
        let comment = match options.message.as_deref() {
            Some(m) if !m.is_empty() => m.to_string(),
            _ => format!("Imported from {}", options.source),
        };

        let imported = (|| {
            let _content = self.store.lock_shared()?;
            let id = self.import_layer(r, config, &comment)?;
            if let Some(reference) = &reference {
                self.store.set_tag(&reference.to_string(), &id)?;
            }
            Ok(id)
        })();
        if imported.is_err() {
            // A tarball that failed to unpack leaves its blob (and perhaps nothing else).
            let lock = self.store.lock_exclusive()?;
            for chain in self.store.unreferenced_layers(&lock)? {
                self.store.remove_layer(&lock, &chain)?;
            }
            for blob in self.store.unreferenced_blobs(&lock)? {
                self.store.remove_blob(&lock, &blob)?;
            }
        }
        imported
    }

    fn import_layer(
        &self,
        r: &mut dyn Read,
        config: Map<String, Value>,
        comment: &str,
    ) -> Result<Digest, ImageError> {
        let mut plain = layer::decompressed(BufReader::new(r)).map_err(ImageError::Import)?;
        let (diff_id, tar_size) = self.store.put_blob(&mut plain, None)?;
        // One layer: its chain id is its diff id.
        let layer = self.store.create_layer(&diff_id, &diff_id, None, |dir| {
            let blob = self.store.open_blob(&diff_id)?;
            layer::unpack(BufReader::new(blob), dir, &self.unpack)
                .map(|stats| stats.bytes)
                .map_err(|source| ImageError::Layer {
                    diff_id: diff_id.clone(),
                    source,
                })
        })?;

        let created = now_rfc3339();
        // Keys sorted, like the configs `save` writes; Docker leaves `created_by` out of
        // the history entry when it is empty.
        let image_config = json!({
            "architecture": host_arch(),
            "comment": comment,
            "config": config,
            "created": created,
            "history": [{ "comment": comment, "created": created }],
            "os": "linux",
            "rootfs": { "diff_ids": [diff_id.as_str()], "type": "layers" },
        });
        let bytes = serde_json::to_vec(&image_config).map_err(|e| ImageError::Config {
            digest: diff_id.clone(),
            reason: format!("cannot serialize the image config: {e}"),
        })?;
        let (id, _) = self.store.put_blob(&mut bytes.as_slice(), None)?;
        let record = ImageRecord {
            schema: 1,
            id: id.clone(),
            repo_tags: Vec::new(),
            repo_digests: Vec::new(),
            manifest: None,
            layers: vec![ImageLayer {
                diff_id: diff_id.clone(),
                chain_id: diff_id.clone(),
                blob: Some(diff_id.clone()),
                media_type: Some(LAYER_TAR.to_string()),
                tar_size: Some(tar_size),
                size: layer.size,
            }],
            created,
            architecture: host_arch().to_string(),
            os: "linux".to_string(),
            variant: None,
            size: layer.size,
            parent: None,
            loaded: String::new(),
        };
        self.store.put_image(&record)?;
        Ok(id)
    }
}

/// Accepts `linux`, `linux/<host arch>` (with an optional variant) and `<host arch>`, in
/// Go's or the kernel's spelling (`amd64`, `x86_64`).
fn check_platform(platform: &str) -> Result<(), ImageError> {
    let host = host_arch();
    let arch_name = |a: &str| match a {
        "x86_64" | "x86-64" => "amd64".to_string(),
        "aarch64" => "arm64".to_string(),
        other => other.to_ascii_lowercase(),
    };
    let parts: Vec<&str> = platform.split('/').collect();
    let ok = match parts.as_slice() {
        [os] if os.eq_ignore_ascii_case("linux") => true,
        [arch] => arch_name(arch) == host,
        [os, arch] | [os, arch, _] => os.eq_ignore_ascii_case("linux") && arch_name(arch) == host,
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(ImageError::Conflict(format!(
            "platform {platform:?} is not this host's (linux/{host}): berth imports images \
             for the host's platform only"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_host_platform() {
        let host = host_arch();
        for ok in ["linux", &format!("linux/{host}"), host, "LINUX"] {
            assert!(check_platform(ok).is_ok(), "{ok}");
        }
        for bad in ["windows", "linux/s390x", "linux/riscv64/v1", "a/b/c/d", ""] {
            if bad.ends_with(host) {
                continue;
            }
            let err = check_platform(bad).expect_err(bad).to_string();
            assert!(err.contains("host's platform only"), "{err}");
        }
    }
}
