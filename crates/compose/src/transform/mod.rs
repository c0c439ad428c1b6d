//! Short forms to long forms, one rule per key, so that every later stage (merge, typed
//! model) sees one shape per attribute. Mirrors compose-go's `transform` package plus the
//! shape changes compose-go does at decode time in `types` (`UnmarshalYAML` /
//! `DecodeMapstructure`); scalar parsing stays with the typed model.
//!
//! Where each rule lives (`services.*` keys unless stated):
//!
//! | key | short → long | module | compose-go origin |
//! | --- | --- | --- | --- |
//! | `ports` | `"[ip:][host:]target[/proto]"`, int → one `{target, published?, host_ip?, protocol, mode}` per port; `published` int → string | [`ports`] | transform/ports.go + types.ParsePortConfig |
//! | `expose` | ints → strings | [`ports`] | types decode |
//! | `volumes` | `"src:dst:opts"` → `{type, source?, target, read_only?, bind?, volume?}` | [`volumes`] | transform/volume.go + format/volume.go |
//! | `depends_on` | list → `{name: {condition: service_started, required: true}}`; defaults filled in maps | [`services`] | transform/dependson.go |
//! | `environment`, `build.args` | `["K=v", "K"]` → `{K: "v", K: null}` | [`services`] | types.MappingWithEquals |
//! | `labels`, `annotations`, `sysctls`, `deploy.labels`, `build.labels`, `build.additional_contexts`, top-level `*.labels`, `*.driver_opts` | `["k=v", "k"]` → `{k: "v", k: ""}` | [`services`] | types.Labels / Mapping |
//! | `extra_hosts`, `build.extra_hosts` | list or map → list of `"host=ip"` | [`services`] | types.HostsList |
//! | `build` | string → `{context}` | [`services`] | transform/build.go |
//! | `build.ssh` | `["default", "id=path"]` → `{default: null, id: path}` | [`services`] | transform/ssh.go |
//! | `build.secrets.*`, `secrets.*`, `configs.*` | string → `{source}` | [`services`] | transform/secrets.go |
//! | `networks`, `models` | list → `{name: null}` | [`services`] | transform/services.go |
//! | `env_file` | string / list → `[{path, required: true, format?}]` | [`services`] | transform/envfile.go |
//! | `label_file`, `dns`, `dns_search`, `dns_opt`, `tmpfs` | string → list | [`services`] | StringOrList |
//! | `devices.*` | `"src[:dst[:perm]]"` → `{source, target, permissions}` | [`services`] | transform/device.go |
//! | `ulimits.*`, `build.ulimits.*` | int → `{single: n}` | [`services`] | types.UlimitsConfig |
//! | `extends` | string → `{service}` | [`services`] | transform/extends.go |
//! | `gpus` | string → `[{count: "all"}]` | [`services`] | transform/gpus.go |
//! | `healthcheck.test` | string → `["CMD-SHELL", s]` | [`services`] | types.HealthCheckTest |
//! | `develop.watch` | `path: [a, b]` → one entry per path | [`services`] | transform/canonical.go |
//! | top-level `networks/volumes/secrets/configs.*` | null → `{}`; `external: {name}` → `name` + `external: true` | [`project`] | transform/external.go, loader |
//! | `include.*` | string → `{path: [..]}`; `path`/`env_file` string → list | [`project`] | transform/include.go |
//!
//! Left to the typed model (scalar parsing, not shape): shell-splitting `command` /
//! `entrypoint` strings, durations, byte units, `gpus` / device `count: all` → -1, and
//! printing `{single: n}` ulimits back as a bare integer.
//! Defaults that must wait until files are merged (build context `.`, secret target) are in
//! [`set_defaults`]; paths are resolved by a later stage.

pub(crate) mod ports;
mod project;
mod services;
pub(crate) mod volumes;

pub use ports::{PortMapping, parse_port_spec};
pub use volumes::{VolumeSpec, parse_volume_spec};

use crate::error::{ConfigError, Warnings};
use crate::yaml::{Key, Map, Mark, Node, Value};

/// Rewrites every short form in a project tree (one file's top-level mapping) into the
/// long form compose-go's canonical transform produces.
pub fn canonical(project: &mut Node) -> Result<(), ConfigError> {
    let mut warnings = Warnings::default();
    canonical_with_warnings(project, &mut warnings)
}

/// [`canonical`], also reporting deprecated forms it rewrote (e.g. `external.name`).
pub fn canonical_with_warnings(
    project: &mut Node,
    warnings: &mut Warnings,
) -> Result<(), ConfigError> {
    let Some(top) = project.as_map_mut() else {
        return Err(ConfigError::at(
            &project.mark,
            "",
            format!("top-level object must be a mapping, not {}", project.kind()),
        ));
    };
    for (key, value) in top.iter_mut() {
        if is_dropped(value) {
            continue;
        }
        match key.name.as_str() {
            "services" => services::services(value)?,
            "networks" | "volumes" | "secrets" | "configs" => {
                project::resources(&key.name, value, warnings)?
            }
            "include" => project::include(value)?,
            _ => {}
        }
    }
    Ok(())
}

/// Fills the defaults compose-go sets once all files are merged (`SetDefaultValues`):
/// `build.context: .`, `secrets[].target: /run/secrets/<source>`, and port `protocol` /
/// `mode` for long forms that omit them. Run after [`crate::merge::merge_projects`]:
/// filling `build.context` earlier would let an override's default hide the base context.
pub fn set_defaults(project: &mut Node) {
    let Some(services) = project.get_mut("services").and_then(Node::as_map_mut) else {
        return;
    };
    for service in services.values_mut() {
        services::set_service_defaults(service);
    }
}

/// A node the merge stage will remove (`!reset`): its shape does not matter.
fn is_dropped(node: &Node) -> bool {
    node.tag == Some(crate::yaml::Tag::Reset)
}

/// Key path of a mapping entry, for error messages (`services.web`).
fn child(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// Key path of a sequence item (`services.web.ports[0]`).
fn item(path: &str, index: usize) -> String {
    format!("{path}[{index}]")
}

/// A mapping key created by a rule, placed where the short form was written.
fn key(name: &str, mark: &Mark) -> Key {
    Key::new(name, mark.clone())
}

/// Builds a mapping node from `(key, value)` pairs, every key at `mark`.
fn map_at(mark: &Mark, entries: Vec<(&str, Node)>) -> Node {
    let mut map = Map::default();
    for (name, value) in entries {
        map.insert(key(name, mark), value);
    }
    Node::map(map, mark.clone())
}

fn str_at(s: impl Into<String>, mark: &Mark) -> Node {
    Node::string(s, mark.clone())
}

fn int_at(i: i64, mark: &Mark) -> Node {
    Node::new(Value::Int(i), mark.clone())
}

fn bool_at(b: bool, mark: &Mark) -> Node {
    Node::new(Value::Bool(b), mark.clone())
}

/// Replaces a node's value, keeping its mark and tag (a `!override` stays an override).
fn set_value(node: &mut Node, value: Value) {
    node.value = value;
}

/// The error for a value whose type no form of the attribute accepts.
fn invalid_type(node: &Node, path: &str, what: &str) -> ConfigError {
    ConfigError::at(
        &node.mark,
        path,
        format!("invalid {what}: got {}", node.kind()),
    )
}

#[cfg(test)]
pub(crate) mod testutil {
    //! Builds nodes from JSON for side-by-side short/long form tests.
    use super::*;

    pub fn node(v: serde_json::Value) -> Node {
        let mark = Mark::new("test.yaml".into(), 1, 1);
        let value = match v {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(b),
            serde_json::Value::Number(n) => match n.as_i64() {
                Some(i) => Value::Int(i),
                None => Value::Float(n.as_f64().unwrap_or_default()),
            },
            serde_json::Value::String(s) => Value::String(s),
            serde_json::Value::Array(a) => Value::Seq(a.into_iter().map(node).collect()),
            serde_json::Value::Object(o) => Value::Map(
                o.into_iter()
                    .map(|(k, v)| (Key::new(k, mark.clone()), node(v)))
                    .collect(),
            ),
        };
        Node::new(value, mark)
    }

    pub fn json(n: &Node) -> serde_json::Value {
        match &n.value {
            Value::Null => serde_json::Value::Null,
            Value::Bool(b) => serde_json::json!(b),
            Value::Int(i) => serde_json::json!(i),
            Value::Float(f) => serde_json::json!(f),
            Value::String(s) => serde_json::json!(s),
            Value::Seq(s) => serde_json::Value::Array(s.iter().map(json).collect()),
            Value::Map(m) => serde_json::Value::Object(
                m.iter().map(|(k, v)| (k.name.clone(), json(v))).collect(),
            ),
        }
    }

    /// Canonicalises `{"services": {"web": service}}` and returns the web service.
    pub fn service(service: serde_json::Value) -> Result<serde_json::Value, ConfigError> {
        let mut project = node(serde_json::json!({ "services": { "web": service } }));
        canonical(&mut project)?;
        Ok(json(&project)["services"]["web"].clone())
    }
}
