//! Manifests as registries serve them: OCI image indexes and Docker manifest lists (one
//! manifest per platform) and OCI / Docker schema 2 image manifests (a config and
//! layers), and the choice of a platform from an index, as Docker makes it.

use serde::Deserialize;

use super::RegistryError;
use crate::digest::Digest;

pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
pub const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";

/// The `Accept` header of a manifest request: every kind berth reads.
pub const ACCEPT: &str = "application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json";

#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    #[serde(default)]
    pub media_type: String,
    pub digest: Digest,
    pub size: u64,
    #[serde(default)]
    pub platform: Option<Platform>,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
pub struct Platform {
    pub architecture: String,
    pub os: String,
    #[serde(default)]
    pub variant: Option<String>,
}

impl std::fmt::Display for Platform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(v) = &self.variant {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

impl Platform {
    /// `os/arch[/variant]` as `--platform` takes it (`linux/amd64`, `linux/arm64/v8`).
    pub fn parse(text: &str) -> Result<Platform, RegistryError> {
        let parts: Vec<&str> = text.split('/').collect();
        let bad = || {
            RegistryError::Invalid(format!(
                "invalid platform {text:?}: expected os/arch[/variant], such as linux/amd64 or linux/arm64/v8"
            ))
        };
        if parts.iter().any(|p| p.is_empty()) || !(2..=3).contains(&parts.len()) {
            return Err(bad());
        }
        let architecture = match parts[1].to_ascii_lowercase().as_str() {
            "x86_64" | "x86-64" => "amd64".to_string(),
            "aarch64" => "arm64".to_string(),
            a => a.to_string(),
        };
        Ok(Platform {
            os: parts[0].to_ascii_lowercase(),
            architecture,
            variant: parts.get(2).map(|v| v.to_ascii_lowercase()),
        })
    }

    /// This host's platform.
    pub fn host() -> Platform {
        let (architecture, variant) = match std::env::consts::ARCH {
            "x86_64" => ("amd64", None),
            "aarch64" => ("arm64", Some("v8")),
            "x86" => ("386", None),
            "arm" => ("arm", Some("v7")),
            "powerpc64" => ("ppc64le", None),
            a => (a, None),
        };
        Platform {
            architecture: architecture.to_string(),
            os: "linux".to_string(),
            variant: variant.map(str::to_string),
        }
    }

    /// Whether an index entry for `offered` serves `self` (a variant is only compared
    /// when both name one; arm64's default variant is v8).
    fn served_by(&self, offered: &Platform) -> bool {
        let norm = |p: &Platform| match (p.architecture.as_str(), p.variant.as_deref()) {
            ("arm64", None) => Some("v8".to_string()),
            (_, v) => v.map(str::to_string),
        };
        self.os == offered.os
            && self.architecture == offered.architecture
            && match (norm(self), norm(offered)) {
                (Some(a), Some(b)) => a == b,
                _ => true,
            }
    }
}

/// A fetched manifest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Manifest {
    Index(Vec<Descriptor>),
    Image {
        config: Descriptor,
        layers: Vec<Descriptor>,
    },
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Raw {
    #[serde(default)]
    schema_version: Option<u32>,
    #[serde(default)]
    media_type: Option<String>,
    #[serde(default)]
    manifests: Option<Vec<Descriptor>>,
    #[serde(default)]
    config: Option<Descriptor>,
    #[serde(default)]
    layers: Option<Vec<Descriptor>>,
}

/// Reads a manifest; its kind comes from its `mediaType` or, when it has none (OCI
/// allows that), the `Content-Type` it was served with, or its shape.
pub fn parse(content_type: Option<&str>, bytes: &[u8]) -> Result<Manifest, RegistryError> {
    let raw: Raw = serde_json::from_slice(bytes)
        .map_err(|e| RegistryError::Content(format!("unreadable manifest: {e}")))?;
    let content_type = content_type.map(|c| c.split(';').next().unwrap_or(c).trim());
    let kind = raw
        .media_type
        .as_deref()
        .or(content_type)
        .unwrap_or_default();
    if raw.schema_version == Some(1)
        || kind.starts_with("application/vnd.docker.distribution.manifest.v1")
    {
        return Err(RegistryError::Content(
            "the registry serves this image as a Docker schema 1 manifest, which Docker and berth no longer read; push it again with a current client".into(),
        ));
    }
    match (kind, raw.manifests, raw.config, raw.layers) {
        (OCI_INDEX | DOCKER_LIST, Some(m), _, _) => Ok(Manifest::Index(m)),
        (OCI_MANIFEST | DOCKER_MANIFEST, _, Some(config), layers) => Ok(Manifest::Image {
            config,
            layers: layers.unwrap_or_default(),
        }),
        (_, Some(m), None, _) => Ok(Manifest::Index(m)),
        (_, None, Some(config), Some(layers)) => Ok(Manifest::Image { config, layers }),
        _ => Err(RegistryError::Content(format!(
            "unsupported manifest (media type {kind:?})"
        ))),
    }
}

/// The manifest of an index that serves `wanted`, as Docker picks it: the first match
/// (attestation entries, with platform `unknown/unknown`, never match).
pub fn select<'a>(entries: &'a [Descriptor], wanted: &Platform) -> Option<&'a Descriptor> {
    entries.iter().find(|d| {
        d.platform
            .as_ref()
            .is_some_and(|offered| wanted.served_by(offered))
    })
}

/// The platforms an index offers, for a message when none matches.
pub fn offered(entries: &[Descriptor]) -> String {
    let list: Vec<String> = entries
        .iter()
        .filter_map(|d| d.platform.as_ref())
        .filter(|p| p.os != "unknown")
        .map(Platform::to_string)
        .collect();
    list.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    const D1: &str = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
    const D2: &str = "sha256:2222222222222222222222222222222222222222222222222222222222222222";

    fn index() -> String {
        format!(
            r#"{{"schemaVersion":2,"mediaType":"{OCI_INDEX}","manifests":[
            {{"mediaType":"{OCI_MANIFEST}","digest":"{D1}","size":10,"platform":{{"architecture":"arm64","os":"linux","variant":"v8"}}}},
            {{"mediaType":"{OCI_MANIFEST}","digest":"{D2}","size":11,"platform":{{"architecture":"amd64","os":"linux"}}}},
            {{"mediaType":"{OCI_MANIFEST}","digest":"{D1}","size":12,"platform":{{"architecture":"unknown","os":"unknown"}}}}]}}"#
        )
    }

    #[test]
    fn indexes_pick_the_platform() {
        let Manifest::Index(entries) = parse(None, index().as_bytes()).unwrap() else {
            panic!("not an index");
        };
        let amd = select(&entries, &Platform::parse("linux/amd64").unwrap()).unwrap();
        assert_eq!(amd.digest.to_string(), D2);
        let arm = select(&entries, &Platform::parse("linux/arm64").unwrap()).unwrap();
        assert_eq!(arm.size, 10);
        assert!(select(&entries, &Platform::parse("linux/arm64/v7").unwrap()).is_none());
        assert!(select(&entries, &Platform::parse("windows/amd64").unwrap()).is_none());
        assert_eq!(offered(&entries), "linux/arm64/v8, linux/amd64");
    }

    #[test]
    fn image_manifests_and_kinds() {
        let m = format!(
            r#"{{"schemaVersion":2,"config":{{"mediaType":"{DOCKER_CONFIG}","digest":"{D1}","size":5}},"layers":[{{"mediaType":"x","digest":"{D2}","size":7}}]}}"#
        );
        let Manifest::Image { config, layers } =
            parse(Some(DOCKER_MANIFEST), m.as_bytes()).unwrap()
        else {
            panic!("not an image manifest");
        };
        assert_eq!(config.size, 5);
        assert_eq!(layers.len(), 1);
        let v1 = br#"{"schemaVersion":1,"name":"x","fsLayers":[]}"#;
        assert!(
            parse(None, v1)
                .unwrap_err()
                .to_string()
                .contains("schema 1")
        );
        assert!(parse(None, b"{").is_err());
    }

    #[test]
    fn platforms_parse_like_dockers() {
        assert_eq!(
            Platform::parse("linux/x86_64").unwrap().architecture,
            "amd64"
        );
        assert_eq!(
            Platform::parse("Linux/ARM64/V8").unwrap().to_string(),
            "linux/arm64/v8"
        );
        for bad in ["linux", "linux/", "/amd64", "a/b/c/d"] {
            assert!(Platform::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(Platform::host().os, "linux");
    }
}
