//! The parts of an image config (the JSON blob an image id is the digest of) that the
//! store and `inspect` need. The raw JSON is kept so `inspect` can show every field.

use crate::digest::Digest;

use super::ImageError;

#[derive(Clone, Debug)]
pub struct ImageConfig {
    pub raw: serde_json::Value,
    pub diff_ids: Vec<Digest>,
    pub created: String,
    pub architecture: String,
    pub os: String,
    pub variant: Option<String>,
}

impl ImageConfig {
    pub fn parse(digest: &Digest, bytes: &[u8]) -> Result<Self, ImageError> {
        let bad = |reason: String| ImageError::Config {
            digest: digest.clone(),
            reason,
        };
        let raw: serde_json::Value =
            serde_json::from_slice(bytes).map_err(|e| bad(format!("not valid JSON: {e}")))?;
        let text = |key: &str| {
            raw.get(key)
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_string()
        };
        let rootfs = raw
            .get("rootfs")
            .ok_or_else(|| bad("has no rootfs".into()))?;
        if rootfs.get("type").and_then(|t| t.as_str()) != Some("layers") {
            return Err(bad("rootfs.type must be \"layers\"".into()));
        }
        let diff_ids = rootfs
            .get("diff_ids")
            .and_then(|d| d.as_array())
            .ok_or_else(|| bad("has no rootfs.diff_ids".into()))?
            .iter()
            .map(|d| {
                d.as_str()
                    .and_then(|s| Digest::parse(s).ok())
                    .ok_or_else(|| bad(format!("invalid diff id {d}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let variant = raw
            .get("variant")
            .and_then(|v| v.as_str())
            .map(str::to_string);
        Ok(ImageConfig {
            created: text("created"),
            architecture: text("architecture"),
            os: text("os"),
            variant,
            diff_ids,
            raw,
        })
    }
}
