//! Merging compose files by the compose-spec merge rules, as compose-go v2.9.1's
//! `override` package does on canonical trees (see [`crate::transform::canonical`]):
//!
//! * mappings merge recursively; a scalar from the override wins; an override value of
//!   null keeps the base;
//! * `command`, `entrypoint`, `healthcheck.test` and each `ulimits.*` are replaced;
//! * `environment`, `labels`, `annotations`, `sysctls`, `build.args`, `build.labels`,
//!   `build.additional_contexts`, `deploy.labels`, `networks.*.labels`,
//!   `volumes.*.labels` merge by key, the override's entry (even null) winning;
//! * `logging` merges only when both files name the same driver (or one names none);
//!   otherwise the override replaces it, options included;
//! * `extra_hosts` appends the override's entries that are not already there;
//! * `networks.*.ipam.config` merges entries by subnet (compose-go's algorithm, quirks
//!   included: base subnets the override does not mention are dropped);
//! * other sequences are appended, then [`unicity`] removes redefinitions (`ports`,
//!   `volumes`, `secrets`, `dns`, ...: a later entry with the same identity replaces the
//!   earlier one in place);
//! * `!reset` removes the value (and is itself dropped), `!override` replaces the base
//!   value wholesale.

mod unicity;

pub use unicity::enforce_unicity;

use crate::error::ConfigError;
use crate::yaml::{Map, Mark, Node, Tag, Value};

/// Merges `over` into `base` (both canonical project trees), honouring `!reset` and
/// `!override`, then enforces uniqueness. For a project made of one file, call it with an
/// empty mapping as `base`: that drops `!reset` values and applies uniqueness as Compose
/// does for a single file.
pub fn merge_projects(base: Node, over: Node) -> Result<Node, ConfigError> {
    let mut merged = merge(base, over, &mut Vec::new())?;
    enforce_unicity(&mut merged)?;
    Ok(merged)
}

/// Merges one service definition onto another (used by `extends` and by file merges).
pub fn merge_services(base: Node, over: Node) -> Result<Node, ConfigError> {
    let mut path = vec!["services".to_string(), "*".to_string()];
    let mut merged = merge(base, over, &mut path)?;
    unicity::enforce_at(&mut merged, &mut path)?;
    Ok(merged)
}

/// How the values at one path combine.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Strategy {
    /// The default: mappings recurse, sequences append, scalars are replaced.
    Deep,
    /// The override replaces the base.
    Replace,
    /// Key/value mappings: entries from the override replace the base's, null included.
    ByKey,
    Logging,
    ExtraHosts,
    IpamConfig,
}

fn strategy(path: &[String]) -> Strategy {
    let segments: Vec<&str> = path.iter().map(String::as_str).collect();
    match segments.as_slice() {
        ["services", _, "command" | "entrypoint"]
        | ["services", _, "healthcheck", "test"]
        | ["services", _, "ulimits", _] => Strategy::Replace,
        [
            "services",
            _,
            "environment" | "labels" | "annotations" | "sysctls",
        ]
        | [
            "services",
            _,
            "build",
            "args" | "labels" | "additional_contexts",
        ]
        | ["services", _, "deploy", "labels"]
        | ["networks" | "volumes", _, "labels"] => Strategy::ByKey,
        ["services", _, "logging"] => Strategy::Logging,
        ["services", _, "extra_hosts"] | ["services", _, "build", "extra_hosts"] => {
            Strategy::ExtraHosts
        }
        ["networks", _, "ipam", "config"] => Strategy::IpamConfig,
        _ => Strategy::Deep,
    }
}

/// Key path for messages: `services.web.ports`.
fn dotted(path: &[String]) -> String {
    path.join(".")
}

fn merge(base: Node, over: Node, path: &mut Vec<String>) -> Result<Node, ConfigError> {
    if over.tag == Some(Tag::Override) {
        return Ok(strip_tags(over));
    }
    let strategy = strategy(path);
    if strategy == Strategy::Deep {
        // Mapping entries below carry their own `!reset` / `!override`.
        return deep(base, over, path);
    }
    let over = strip_tags(over);
    match strategy {
        Strategy::Replace => Ok(over),
        Strategy::ByKey => Ok(by_key(base, over)),
        Strategy::Logging => logging(base, over, path),
        Strategy::ExtraHosts => Ok(extra_hosts(base, over)),
        Strategy::IpamConfig => ipam_config(base, over, path),
        Strategy::Deep => deep(base, over, path),
    }
}

fn deep(base: Node, over: Node, path: &mut Vec<String>) -> Result<Node, ConfigError> {
    if over.is_null() {
        return Ok(base);
    }
    let (base_kind, over_kind) = (base.kind(), over.kind());
    match (base.value, over.value) {
        (Value::Map(base_map), Value::Map(over_map)) => {
            let merged = merge_maps(base_map, over_map, path)?;
            Ok(Node {
                value: Value::Map(merged),
                mark: base.mark,
                tag: None,
            })
        }
        (Value::Seq(mut items), Value::Seq(more)) => {
            items.extend(
                more.into_iter()
                    .filter(|v| v.tag != Some(Tag::Reset))
                    .map(strip_tags),
            );
            Ok(Node {
                value: Value::Seq(items),
                mark: base.mark,
                tag: None,
            })
        }
        (Value::Map(_) | Value::Seq(_), _) => Err(ConfigError::at(
            &over.mark,
            dotted(path),
            format!("cannot override {base_kind} with {over_kind}"),
        )),
        (_, value) => Ok(strip_tags(Node {
            value,
            mark: over.mark,
            tag: None,
        })),
    }
}

/// Recursive mapping merge; `over` has already had its tags applied below this level
/// except for its direct entries, which say how each key combines.
fn merge_maps(mut base: Map, over: Map, path: &mut Vec<String>) -> Result<Map, ConfigError> {
    for (key, value) in over {
        match value.tag {
            Some(Tag::Reset) => {
                base.shift_remove(key.name.as_str());
            }
            Some(Tag::Override) => {
                base.insert(key, strip_tags(value));
            }
            _ => match base.get_mut(key.name.as_str()) {
                None => {
                    base.insert(key, strip_tags(value));
                }
                Some(slot) => {
                    path.push(key.name.clone());
                    let previous = std::mem::replace(slot, Node::null(slot.mark.clone()));
                    let merged = merge(previous, value, path);
                    path.pop();
                    *slot = merged?;
                }
            },
        }
    }
    Ok(base)
}

/// Drops `!reset` values and clears `!override` tags below `node` (they only mean
/// something against a base, which a value without one does not have).
pub fn strip_tags(mut node: Node) -> Node {
    strip_tags_in_place(&mut node);
    node
}

/// [`strip_tags`] without rebuilding the mappings (it runs over every merged file).
fn strip_tags_in_place(node: &mut Node) {
    node.tag = None;
    match &mut node.value {
        Value::Map(map) => {
            if map.values().any(|v| v.tag == Some(Tag::Reset)) {
                map.retain(|_, v| v.tag != Some(Tag::Reset));
            }
            map.values_mut().for_each(strip_tags_in_place);
        }
        Value::Seq(items) => {
            items.retain(|v| v.tag != Some(Tag::Reset));
            items.iter_mut().for_each(strip_tags_in_place);
        }
        _ => {}
    }
}

fn by_key(base: Node, over: Node) -> Node {
    match (base.value, over.value) {
        (Value::Map(mut base_map), Value::Map(over_map)) => {
            for (k, v) in over_map {
                base_map.insert(k, v);
            }
            untagged(Value::Map(base_map), base.mark)
        }
        (base_value, over_value) => keep_or_replace(base_value, base.mark, over_value, over.mark),
    }
}

/// The shapes a specific strategy does not combine: a null override keeps the base,
/// anything else replaces it.
fn keep_or_replace(base: Value, base_mark: Mark, over: Value, over_mark: Mark) -> Node {
    match over {
        Value::Null => untagged(base, base_mark),
        value => untagged(value, over_mark),
    }
}

fn untagged(value: Value, mark: Mark) -> Node {
    Node {
        value,
        mark,
        tag: None,
    }
}

/// Options only carry over when the driver stays the same.
fn logging(base: Node, over: Node, path: &mut Vec<String>) -> Result<Node, ConfigError> {
    let same_driver = match (base.get("driver"), over.get("driver")) {
        (Some(a), Some(b)) => a.value == b.value,
        _ => true,
    };
    if same_driver {
        deep(base, over, path)
    } else {
        Ok(over)
    }
}

fn extra_hosts(base: Node, over: Node) -> Node {
    match (base.value, over.value) {
        (Value::Seq(mut hosts), Value::Seq(more)) => {
            let fresh: Vec<Node> = more.into_iter().filter(|h| !hosts.contains(h)).collect();
            hosts.extend(fresh);
            untagged(Value::Seq(hosts), base.mark)
        }
        (base_value, over_value) => keep_or_replace(base_value, base.mark, over_value, over.mark),
    }
}

/// compose-go's `mergeIPAMConfig`: for each base entry, an override entry with the same
/// subnet is merged into it; override entries with other subnets are added once.
fn ipam_config(base: Node, over: Node, path: &mut Vec<String>) -> Result<Node, ConfigError> {
    let (Some(configs), Some(overrides)) = (base.as_seq(), over.as_seq()) else {
        return Err(ConfigError::at(
            &over.mark,
            dotted(path),
            "ipam config must be a sequence",
        ));
    };
    let subnet = |n: &Node| n.get("subnet").map(|s| s.value.clone());
    let mut out: Vec<Node> = Vec::new();
    for original in configs {
        for candidate in overrides {
            if subnet(candidate) != subnet(original) {
                if !out.iter().any(|o| subnet(o) == subnet(candidate)) {
                    out.push(candidate.clone());
                }
                continue;
            }
            let merged = deep(original.clone(), candidate.clone(), path)?;
            match out.iter_mut().find(|o| subnet(o) == subnet(&merged)) {
                Some(slot) => *slot = merged,
                None => out.push(merged),
            }
        }
    }
    Ok(Node {
        value: Value::Seq(out),
        mark: base.mark,
        tag: None,
    })
}

#[cfg(test)]
mod tests;
