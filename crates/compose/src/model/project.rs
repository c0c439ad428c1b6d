//! The top level of a compose file and its named resources (networks, volumes, secrets,
//! configs, models).

use std::collections::BTreeMap;

use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize, Serializer};

use super::service::ServiceConfig;
use super::types::{Extensions, External, Labels, Options, StringList, is_zero};

fn not(b: &bool) -> bool {
    !*b
}

/// A loaded project. Serializes as Compose's project JSON: one object with sorted keys
/// (`configs`, `models`, `name`, `networks`, `secrets`, `services`, `volumes` and the
/// top-level `x-*` extensions), empty collections left out.
#[derive(Clone, Debug, PartialEq, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Project {
    pub name: String,
    pub services: BTreeMap<String, ServiceConfig>,
    pub networks: BTreeMap<String, NetworkConfig>,
    pub volumes: BTreeMap<String, VolumeConfig>,
    pub secrets: BTreeMap<String, SecretConfig>,
    pub configs: BTreeMap<String, ConfigObjConfig>,
    pub models: BTreeMap<String, ModelConfig>,
    /// Top-level `x-*` keys (see [`crate::de::EXTENSIONS_FIELD`]).
    #[serde(rename = "x-*")]
    pub extensions: Extensions,
    /// Obsolete; accepted so that old files load (the loader warns about it).
    pub version: Option<serde_json::Value>,
    /// Resolved by the loader before the model is built; kept only to accept the key.
    pub include: Option<serde_json::Value>,
}

impl Project {
    /// Service names, sorted.
    pub fn service_names(&self) -> Vec<&str> {
        self.services.keys().map(String::as_str).collect()
    }

    pub fn service(&self, name: &str) -> Option<&ServiceConfig> {
        self.services.get(name)
    }

    pub fn service_mut(&mut self, name: &str) -> Option<&mut ServiceConfig> {
        self.services.get_mut(name)
    }

    pub fn network_names(&self) -> Vec<&str> {
        self.networks.keys().map(String::as_str).collect()
    }

    pub fn volume_names(&self) -> Vec<&str> {
        self.volumes.keys().map(String::as_str).collect()
    }

    pub fn secret_names(&self) -> Vec<&str> {
        self.secrets.keys().map(String::as_str).collect()
    }

    pub fn config_names(&self) -> Vec<&str> {
        self.configs.keys().map(String::as_str).collect()
    }

    /// Copies every map key into the `name` field of its service (Go's `json:"-"` name).
    pub fn set_service_names(&mut self) {
        for (name, service) in &mut self.services {
            service.name.clone_from(name);
        }
    }
}

impl Serialize for Project {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        // Go builds a map[string]any and marshals it, so keys come out sorted, extensions
        // interleaved with the rest.
        enum Entry<'a> {
            Configs(&'a BTreeMap<String, ConfigObjConfig>),
            Name(&'a str),
            Networks(&'a BTreeMap<String, NetworkConfig>),
            Secrets(&'a BTreeMap<String, SecretConfig>),
            Services(&'a BTreeMap<String, ServiceConfig>),
            Volumes(&'a BTreeMap<String, VolumeConfig>),
            Ext(&'a serde_json::Value),
        }
        let mut entries: Vec<(&str, Entry<'_>)> = vec![("name", Entry::Name(&self.name))];
        if !self.configs.is_empty() {
            entries.push(("configs", Entry::Configs(&self.configs)));
        }
        // Compose v2.40.3's JSON encoding of a project leaves models out (its YAML
        // keeps them; see `render`).
        if !self.networks.is_empty() {
            entries.push(("networks", Entry::Networks(&self.networks)));
        }
        if !self.secrets.is_empty() {
            entries.push(("secrets", Entry::Secrets(&self.secrets)));
        }
        entries.push(("services", Entry::Services(&self.services)));
        if !self.volumes.is_empty() {
            entries.push(("volumes", Entry::Volumes(&self.volumes)));
        }
        for (k, v) in &self.extensions.0 {
            entries.push((k.as_str(), Entry::Ext(v)));
        }
        entries.sort_by(|a, b| a.0.cmp(b.0));
        let mut m = s.serialize_map(Some(entries.len()))?;
        for (k, e) in entries {
            match e {
                Entry::Configs(v) => m.serialize_entry(k, v)?,
                Entry::Name(v) => m.serialize_entry(k, v)?,
                Entry::Networks(v) => m.serialize_entry(k, v)?,
                Entry::Secrets(v) => m.serialize_entry(k, v)?,
                Entry::Services(v) => m.serialize_entry(k, v)?,
                Entry::Volumes(v) => m.serialize_entry(k, v)?,
                Entry::Ext(v) => m.serialize_entry(k, v)?,
            }
        }
        m.end()
    }
}

#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NetworkConfig {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub driver: String,
    #[serde(skip_serializing_if = "Options::is_empty")]
    pub driver_opts: Options,
    /// Not a pointer in Go: always printed (`"ipam": {}`).
    pub ipam: IpamConfig,
    #[serde(skip_serializing_if = "External::is_false")]
    pub external: External,
    #[serde(skip_serializing_if = "not")]
    pub internal: bool,
    #[serde(skip_serializing_if = "not")]
    pub attachable: bool,
    #[serde(skip_serializing_if = "Labels::is_empty")]
    pub labels: Labels,
    #[serde(skip)]
    pub custom_labels: Labels,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enable_ipv4: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enable_ipv6: Option<bool>,
}

#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IpamConfig {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub driver: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub config: Vec<IpamPool>,
    /// In the schema, not in compose-go's model: read, then dropped.
    #[serde(skip_serializing)]
    pub options: Options,
}

#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IpamPool {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub subnet: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub gateway: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub ip_range: String,
    #[serde(rename = "aux_addresses", skip_serializing_if = "Labels::is_empty")]
    pub auxiliary_addresses: Labels,
}

#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct VolumeConfig {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub driver: String,
    #[serde(skip_serializing_if = "Options::is_empty")]
    pub driver_opts: Options,
    #[serde(skip_serializing_if = "External::is_false")]
    pub external: External,
    #[serde(skip_serializing_if = "Labels::is_empty")]
    pub labels: Labels,
    #[serde(skip)]
    pub custom_labels: Labels,
}

/// compose-go `FileObjectConfig`, the shape shared by secrets and configs.
#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FileObjectConfig {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub file: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub environment: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub content: String,
    #[serde(skip_serializing_if = "External::is_false")]
    pub external: External,
    #[serde(skip_serializing_if = "Labels::is_empty")]
    pub labels: Labels,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub driver: String,
    #[serde(skip_serializing_if = "Options::is_empty")]
    pub driver_opts: Options,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub template_driver: String,
}

/// A top-level secret. Its `content` (loaded from the environment) is never printed.
#[derive(Clone, Debug, PartialEq, Default, Deserialize)]
#[serde(transparent)]
pub struct SecretConfig(pub FileObjectConfig);

impl Serialize for SecretConfig {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut shown = self.0.clone();
        shown.content.clear();
        shown.serialize(s)
    }
}

/// A top-level config. When it comes from `environment`, the loaded `content` is not
/// printed: the source is.
#[derive(Clone, Debug, PartialEq, Default, Deserialize)]
#[serde(transparent)]
pub struct ConfigObjConfig(pub FileObjectConfig);

impl Serialize for ConfigObjConfig {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.0.environment.is_empty() {
            return self.0.serialize(s);
        }
        let mut shown = self.0.clone();
        shown.content.clear();
        shown.serialize(s)
    }
}

/// A top-level AI model.
#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ModelConfig {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub model: String,
    #[serde(skip_serializing_if = "is_zero")]
    pub context_size: i64,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub runtime_flags: Vec<String>,
}

/// One `include` entry, long form (read by the loader before the project is typed).
#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IncludeConfig {
    #[serde(skip_serializing_if = "StringList::is_empty")]
    pub path: StringList,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub project_directory: String,
    #[serde(skip_serializing_if = "StringList::is_empty")]
    pub env_file: StringList,
}
