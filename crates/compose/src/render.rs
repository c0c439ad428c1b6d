//! What `compose config` prints: the canonical project as JSON or YAML, and the
//! one-per-line listings (`--services`, `--volumes`, `--hash`, ...).

use crate::error::ConfigError;
use crate::loader::Loaded;
use crate::model::Project;
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
    project: &'a Project,
}

impl<'a> Rendered<'a> {
    pub fn new(loaded: &'a Loaded) -> Self {
        Rendered {
            loaded,
            project: &loaded.project,
        }
    }

    pub fn project(&self) -> &Project {
        self.project
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

    /// Services in dependency order (dependencies first; alphabetical within a wave).
    /// Compose prints the same order but, walking the graph in parallel, not always
    /// the same order among independent services.
    pub fn service_names(&self) -> Vec<String> {
        match crate::graph::DependencyGraph::from_tree(&self.loaded.tree)
            .and_then(|g| g.start_order())
        {
            Ok(waves) => waves.into_iter().flatten().collect(),
            Err(_) => self.keys("services"),
        }
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
        let hashes = self.loaded.service_hashes()?;
        let mut names: Vec<String> = if which == "*" {
            hashes.keys().cloned().collect()
        } else {
            which
                .split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect()
        };
        names.sort();
        names
            .into_iter()
            .map(|name| match hashes.get(&name) {
                Some(h) => Ok((name, h.clone())),
                None => Err(ConfigError::new(format!("no such service: {name}"))),
            })
            .collect()
    }

    /// The project as `docker compose config` prints it. Like Compose, every `$` of
    /// the output is doubled so that the output loads back to the same values.
    pub fn to_string(&self, format: Format) -> Result<String, ConfigError> {
        let text = match format {
            Format::Json => gojson::to_string_pretty(self.project),
            Format::Yaml => yaml::emit::to_yaml(&yaml_shape(self.project, &self.loaded.tree)?),
        };
        Ok(gojson::escape_dollar_sign(&text))
    }

    /// The project as the loader's mapping, before it is typed: what `config
    /// --no-interpolate` prints (keys sorted, values as written, `$` not doubled).
    pub fn model_to_string(&self, format: Format) -> String {
        let json = sorted_json(&self.loaded.model);
        match format {
            Format::Json => gojson::to_string_pretty(&json),
            Format::Yaml => yaml::emit::to_yaml(&json),
        }
    }
}

/// The project in the shape go-yaml prints it: struct order at the top (name,
/// services, networks, volumes, secrets, configs, models, extensions) and no
/// `command: null` / `entrypoint: null` (they are `omitempty` in YAML).
fn yaml_shape(project: &Project, tree: &Node) -> Result<serde_json::Value, ConfigError> {
    use serde_json::Value as J;
    // Through Go's JSON text so that f32 values keep their short form (0.3, not
    // 0.30000001192092896).
    let json: J = serde_json::from_str(&gojson::to_string_compact(project))
        .map_err(|e| ConfigError::new(format!("cannot render the project: {e}")))?;
    let J::Object(mut top) = json else {
        return Ok(json);
    };
    if !project.models.is_empty() {
        let models = serde_json::to_value(&project.models)
            .map_err(|e| ConfigError::new(format!("cannot render the models: {e}")))?;
        top.insert("models".to_string(), models);
    }
    let is_empty_object = |v: Option<&J>| v.and_then(J::as_object).is_some_and(|o| o.is_empty());
    if let Some(J::Object(services)) = top.get_mut("services") {
        for svc in services.values_mut().filter_map(J::as_object_mut) {
            for key in ["command", "entrypoint"] {
                if svc.get(key).is_some_and(J::is_null) {
                    svc.shift_remove(key);
                }
            }
            // blkio devices carry Go field names in JSON but yaml tags in YAML.
            if let Some(blkio) = svc.get_mut("blkio_config").and_then(J::as_object_mut) {
                for list in blkio.values_mut().filter_map(J::as_array_mut) {
                    for dev in list.iter_mut().filter_map(J::as_object_mut) {
                        *dev = std::mem::take(dev)
                            .into_iter()
                            .map(|(k, v)| (k.to_lowercase(), v))
                            .collect();
                    }
                }
            }
            // go-yaml omits zero-valued structs marked `omitempty`; JSON cannot.
            if let Some(deploy) = svc.get_mut("deploy").and_then(J::as_object_mut) {
                for key in ["resources", "placement"] {
                    if is_empty_object(deploy.get(key)) {
                        deploy.shift_remove(key);
                    }
                }
            }
        }
    }
    if let Some(J::Object(networks)) = top.get_mut("networks") {
        for net in networks.values_mut().filter_map(J::as_object_mut) {
            if is_empty_object(net.get("ipam")) {
                net.shift_remove("ipam");
            }
        }
    }
    // YAML keeps the `x-*` keys of services and resources (inline extensions), after
    // their fields and sorted; JSON drops them.
    for kind in ["services", "networks", "volumes", "secrets", "configs"] {
        let Some(J::Object(items)) = top.get_mut(kind) else {
            continue;
        };
        for (name, item) in items.iter_mut() {
            let Some(fields) = item.as_object_mut() else {
                continue;
            };
            let Some(source) = tree
                .get(kind)
                .and_then(|m| m.get(name))
                .and_then(Node::as_map)
            else {
                continue;
            };
            let mut ext: Vec<(&String, &Node)> = source
                .iter()
                .filter(|(k, _)| k.name.starts_with("x-"))
                .map(|(k, v)| (&k.name, v))
                .collect();
            ext.sort_by(|a, b| a.0.cmp(b.0));
            for (k, v) in ext {
                fields.insert(k.clone(), sorted_json(v));
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

/// A node tree as JSON with every mapping's keys sorted, as Go marshals a
/// `map[string]any`.
pub fn sorted_json(node: &Node) -> serde_json::Value {
    use serde_json::Value as J;
    match &node.value {
        Value::Map(m) => {
            let mut entries: Vec<(&String, &Node)> = m.iter().map(|(k, v)| (&k.name, v)).collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            J::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| (k.clone(), sorted_json(v)))
                    .collect(),
            )
        }
        Value::Seq(items) => J::Array(items.iter().map(sorted_json).collect()),
        _ => to_json(node),
    }
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
