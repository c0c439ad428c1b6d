//! What `compose config` prints: the canonical project as JSON or YAML, and the
//! one-per-line listings (`--services`, `--volumes`, `--hash`, ...).

use crate::error::ConfigError;
use crate::loader::Loaded;
use crate::model::Project;
use crate::yaml::{Node, Value};
use crate::{de, gojson, hash, yaml};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Yaml,
    Json,
}

/// A loaded project ready to print.
pub struct Rendered<'a> {
    loaded: &'a Loaded,
    project: Project,
}

impl<'a> Rendered<'a> {
    pub fn new(loaded: &'a Loaded, _services: &[String]) -> Result<Self, ConfigError> {
        let mut project: Project = de::from_node(&loaded.tree)?;
        project.name = loaded.name.clone();
        project.set_service_names();
        Ok(Rendered { loaded, project })
    }

    pub fn project(&self) -> &Project {
        &self.project
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
        let names: Vec<String> = if which == "*" {
            self.project.services.keys().cloned().collect()
        } else {
            which
                .split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect()
        };
        names
            .into_iter()
            .map(|name| match self.project.services.get(&name) {
                Some(svc) => Ok((name, hash::service_hash(svc))),
                None => Err(ConfigError::new(format!("no such service: {name}"))),
            })
            .collect()
    }

    /// The project as `docker compose config` prints it. Like Compose, every `$` of
    /// the output is doubled so that the output loads back to the same values.
    pub fn to_string(&self, format: Format) -> Result<String, ConfigError> {
        let text = match format {
            Format::Json => gojson::to_string_pretty(&self.project) + "\n",
            Format::Yaml => yaml::emit::to_yaml(&yaml_shape(&self.project)?),
        };
        Ok(gojson::escape_dollar_sign(&text))
    }
}

/// The project in the shape go-yaml prints it: struct order at the top (name,
/// services, networks, volumes, secrets, configs, models, extensions) and no
/// `command: null` / `entrypoint: null` (they are `omitempty` in YAML).
fn yaml_shape(project: &Project) -> Result<serde_json::Value, ConfigError> {
    let json = serde_json::to_value(project)
        .map_err(|e| ConfigError::new(format!("cannot render the project: {e}")))?;
    let serde_json::Value::Object(mut top) = json else {
        return Ok(json);
    };
    if let Some(serde_json::Value::Object(services)) = top.get_mut("services") {
        for svc in services.values_mut() {
            if let serde_json::Value::Object(svc) = svc {
                for key in ["command", "entrypoint"] {
                    if svc.get(key).is_some_and(serde_json::Value::is_null) {
                        svc.shift_remove(key);
                    }
                }
            }
        }
    }
    let mut ordered = serde_json::Map::new();
    for key in [
        "name", "services", "networks", "volumes", "secrets", "configs", "models",
    ] {
        if let Some(v) = top.shift_remove(key) {
            ordered.insert(key.to_string(), v);
        }
    }
    ordered.extend(top);
    Ok(serde_json::Value::Object(ordered))
}

/// A node tree as an ordered JSON value (mapping order kept).
pub fn to_json(node: &Node) -> serde_json::Value {
    use serde_json::Value as J;
    match &node.value {
        Value::Null => J::Null,
        Value::Bool(b) => J::Bool(*b),
        Value::Int(i) => J::from(*i),
        Value::Float(f) => serde_json::Number::from_f64(*f)
            .map(J::Number)
            .unwrap_or(J::Null),
        Value::String(s) => J::String(s.clone()),
        Value::Seq(items) => J::Array(items.iter().map(to_json).collect()),
        Value::Map(m) => J::Object(
            m.iter()
                .map(|(k, v)| (k.name.clone(), to_json(v)))
                .collect(),
        ),
    }
}
