//! What `compose config` prints: the canonical project as JSON or YAML, and the
//! one-per-line listings (`--services`, `--volumes`, `--hash`, ...).

use crate::error::ConfigError;
use crate::loader::Loaded;
use crate::yaml::{Node, Value};
use crate::{gojson, yaml};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Yaml,
    Json,
}

/// A loaded project ready to print.
pub struct Rendered<'a> {
    loaded: &'a Loaded,
}

impl<'a> Rendered<'a> {
    pub fn new(loaded: &'a Loaded, _services: &[String]) -> Result<Self, ConfigError> {
        Ok(Rendered { loaded })
    }

    fn keys(&self, kind: &str) -> Vec<String> {
        let mut names: Vec<String> = self
            .loaded
            .tree
            .get(kind)
            .and_then(Node::as_map)
            .map(|m| m.keys().map(|k| k.name.clone()).collect())
            .unwrap_or_default();
        names.sort();
        names
    }

    pub fn service_names(&self) -> Vec<String> {
        self.keys("services")
    }

    pub fn volume_names(&self) -> Vec<String> {
        self.keys("volumes")
    }

    pub fn network_names(&self) -> Vec<String> {
        self.keys("networks")
    }

    pub fn profile_names(&self) -> Vec<String> {
        self.loaded.all_profiles.clone()
    }

    /// The image of every service: `image:`, else the name a build would get.
    pub fn images(&self) -> Vec<String> {
        let Some(services) = self.loaded.tree.get("services").and_then(Node::as_map) else {
            return Vec::new();
        };
        let mut images: Vec<(String, String)> = services
            .iter()
            .map(|(k, s)| {
                let image = s
                    .get("image")
                    .and_then(Node::as_str)
                    .map(str::to_string)
                    .unwrap_or_else(|| format!("{}-{}", self.loaded.name, k.name));
                (k.name.clone(), image)
            })
            .collect();
        images.sort();
        images.into_iter().map(|(_, i)| i).collect()
    }

    /// `(service, config-hash)` for `*` or a comma-separated list of services.
    pub fn hashes(&self, which: &str) -> Result<Vec<(String, String)>, ConfigError> {
        let _ = which;
        Err(ConfigError::new("--hash is not implemented yet"))
    }

    pub fn to_string(&self, format: Format) -> Result<String, ConfigError> {
        let json = to_json(&self.loaded.tree);
        Ok(match format {
            Format::Json => gojson::to_string_pretty(&json),
            Format::Yaml => yaml::emit::to_yaml(&json),
        })
    }
}

/// A node tree as an ordered JSON value (mapping order kept).
pub fn to_json(node: &Node) -> serde_json::Value {
    use serde_json::Value as J;
    match &node.value {
        Value::Null => J::Null,
        Value::Bool(b) => J::Bool(*b),
        Value::Int(i) => J::from(*i),
        Value::Float(f) => serde_json::Number::from_f64(*f).map(J::Number).unwrap_or(J::Null),
        Value::String(s) => J::String(s.clone()),
        Value::Seq(items) => J::Array(items.iter().map(to_json).collect()),
        Value::Map(m) => J::Object(m.iter().map(|(k, v)| (k.name.clone(), to_json(v))).collect()),
    }
}
