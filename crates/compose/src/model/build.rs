//! `services.*.build`, after the transform step turned `build: ./dir` into `{context}`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::service::ServiceSecretConfig;
use super::types::{
    HostsList, Labels, Mapping, MappingWithEquals, SshConfig, StringList, UlimitsConfig, UnitBytes,
};

/// compose-go `BuildConfig`, fields in its order.
#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BuildConfig {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub context: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub dockerfile: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub dockerfile_inline: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub entitlements: Vec<String>,
    #[serde(skip_serializing_if = "MappingWithEquals::is_empty")]
    pub args: MappingWithEquals,
    /// Schema: boolean or string; compose-go keeps the text.
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "super::service::bool_or_string"
    )]
    pub provenance: String,
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "super::service::bool_or_string"
    )]
    pub sbom: String,
    #[serde(skip_serializing_if = "SshConfig::is_empty")]
    pub ssh: SshConfig,
    #[serde(skip_serializing_if = "Labels::is_empty")]
    pub labels: Labels,
    #[serde(skip_serializing_if = "StringList::is_empty")]
    pub cache_from: StringList,
    #[serde(skip_serializing_if = "StringList::is_empty")]
    pub cache_to: StringList,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub no_cache: bool,
    #[serde(skip_serializing_if = "Mapping::is_empty")]
    pub additional_contexts: Mapping,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub pull: bool,
    #[serde(skip_serializing_if = "HostsList::is_empty")]
    pub extra_hosts: HostsList,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub isolation: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub network: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub target: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub secrets: Vec<ServiceSecretConfig>,
    #[serde(skip_serializing_if = "UnitBytes::is_zero")]
    pub shm_size: UnitBytes,
    #[serde(skip_serializing_if = "StringList::is_empty")]
    pub tags: StringList,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub ulimits: BTreeMap<String, UlimitsConfig>,
    #[serde(skip_serializing_if = "StringList::is_empty")]
    pub platforms: StringList,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub privileged: bool,
}
