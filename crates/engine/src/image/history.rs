//! `docker history`: the config's `history` entries, newest first, each non-empty one
//! with the size of the layer it made (from the store's layer records, in order).

use serde_json::Value;

use crate::digest::Digest;
use crate::store::ImageRecord;

use super::{ImageError, Images};

/// One row of `history`.
#[derive(Clone, Debug, PartialEq)]
pub struct HistoryEntry {
    /// The image's id on the newest entry; `None` (`<missing>`) on the others, as Docker
    /// shows for images that were not built locally.
    pub id: Option<Digest>,
    /// RFC 3339, as in the config (empty when the entry has none).
    pub created: String,
    pub created_by: String,
    pub comment: String,
    /// Unpacked size of the layer the entry made; 0 for `empty_layer` entries.
    pub size: u64,
    pub empty_layer: bool,
}

impl Images {
    /// The history of the image `name` (an id, id prefix or reference), newest first.
    pub fn history(&self, name: &str) -> Result<Vec<HistoryEntry>, ImageError> {
        let image = self.resolve(name)?;
        let config = self.config(&image)?;
        history_of(&image, &config.raw)
    }
}

fn history_of(image: &ImageRecord, config: &Value) -> Result<Vec<HistoryEntry>, ImageError> {
    let text = |v: &Value, key: &str| {
        v.get(key)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let entries = config
        .get("history")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let mut layers = image.layers.iter();
    let mut out = Vec::with_capacity(entries.len());
    for entry in entries {
        let empty_layer = entry
            .get("empty_layer")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let size = if empty_layer {
            0
        } else {
            layers
                .next()
                .map(|l| l.size)
                .ok_or_else(|| ImageError::Config {
                    digest: image.id.clone(),
                    reason: format!(
                        "history has more non-empty entries than the {} layers of rootfs",
                        image.layers.len()
                    ),
                })?
        };
        out.push(HistoryEntry {
            id: None,
            created: text(entry, "created"),
            created_by: text(entry, "created_by"),
            comment: text(entry, "comment"),
            size,
            empty_layer,
        });
    }
    out.reverse();
    if let Some(newest) = out.first_mut() {
        newest.id = Some(image.id.clone());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::ImageLayer;
    use serde_json::json;

    fn image(sizes: &[u64]) -> ImageRecord {
        let digest = |n: usize| Digest::of_bytes(n.to_string().as_bytes());
        ImageRecord {
            schema: 1,
            id: digest(99),
            repo_tags: Vec::new(),
            repo_digests: Vec::new(),
            manifest: None,
            layers: sizes
                .iter()
                .enumerate()
                .map(|(i, &size)| ImageLayer {
                    diff_id: digest(i),
                    chain_id: digest(i),
                    blob: None,
                    media_type: None,
                    tar_size: None,
                    size,
                })
                .collect(),
            created: String::new(),
            architecture: "amd64".into(),
            os: "linux".into(),
            variant: None,
            size: sizes.iter().sum(),
            parent: None,
            loaded: String::new(),
        }
    }

    #[test]
    fn newest_first_with_layer_sizes() {
        let config = json!({"history": [
            {"created": "2024-01-01T00:00:00Z", "created_by": "ADD rootfs.tar /"},
            {"created": "2024-01-02T00:00:00Z", "created_by": "ENV A=1", "empty_layer": true},
            {"created": "2024-01-03T00:00:00Z", "created_by": "RUN make", "comment": "c"},
        ]});
        let image = image(&[100, 20]);
        let rows = history_of(&image, &config).expect("history");
        let summary: Vec<_> = rows
            .iter()
            .map(|r| {
                (
                    r.id.is_some(),
                    r.created_by.as_str(),
                    r.size,
                    r.comment.as_str(),
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                (true, "RUN make", 20, "c"),
                (false, "ENV A=1", 0, ""),
                (false, "ADD rootfs.tar /", 100, ""),
            ]
        );
        assert_eq!(rows[0].id.as_ref(), Some(&image.id));
    }

    #[test]
    fn no_history_is_no_rows_and_too_many_entries_is_an_error() {
        assert_eq!(history_of(&image(&[1]), &json!({})).expect("empty"), []);
        let config = json!({"history": [{"created_by": "a"}, {"created_by": "b"}]});
        let err = history_of(&image(&[1]), &config).expect_err("too many");
        assert!(err.to_string().contains("more non-empty entries"), "{err}");
    }
}
