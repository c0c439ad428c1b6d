//! Top-level sections other than `services`: `networks`, `volumes`, `secrets`, `configs`
//! and `include`.

use super::{bool_at, child, invalid_type, is_dropped, item, key, map_at, set_value, str_at};
use crate::error::{ConfigError, Warnings};
use crate::yaml::{Map, Node, Value};

/// `networks` / `volumes` / `secrets` / `configs`: an empty entry is an empty mapping,
/// labels lists become mappings and the legacy `external: {name: x}` becomes
/// `name: x` + `external: true` (with Compose's deprecation warning).
pub(super) fn resources(
    section: &str,
    node: &mut Node,
    warnings: &mut Warnings,
) -> Result<(), ConfigError> {
    let Some(entries) = node.as_map_mut() else {
        if node.is_null() {
            return Ok(());
        }
        return Err(invalid_type(node, section, section));
    };
    for (name, resource) in entries.iter_mut() {
        if is_dropped(resource) {
            continue;
        }
        let path = child(section, &name.name);
        if resource.is_null() {
            set_value(resource, Value::Map(Map::default()));
        }
        let mark = resource.mark.clone();
        let Some(fields) = resource.as_map_mut() else {
            return Err(invalid_type(resource, &path, "resource definition"));
        };
        if let Some(labels) = fields.get_mut("labels") {
            labels_to_map(labels, &child(&path, "labels"))?;
        }
        let legacy_name = match fields.get("external").map(|e| &e.value) {
            Some(Value::Map(external)) => Some(external.get("name").cloned()),
            _ => None,
        };
        if let Some(legacy_name) = legacy_name {
            if let Some(external_name) = legacy_name {
                warnings.push(format!(
                    "{path}: external.name is deprecated. Please set name and external: true"
                ));
                fields.entry(key("name", &mark)).or_insert(external_name);
            }
            if let Some(external) = fields.get_mut("external") {
                let m = external.mark.clone();
                *external = bool_at(true, &m);
            }
        }
    }
    Ok(())
}

/// `labels: ["k=v", "k"]` → `{k: "v", k: ""}`.
fn labels_to_map(node: &mut Node, path: &str) -> Result<(), ConfigError> {
    let Some(items) = node.as_seq() else {
        return Ok(());
    };
    let mut map = Map::default();
    for (i, entry) in items.iter().enumerate() {
        let Some(text) = entry.scalar_to_string() else {
            return Err(invalid_type(entry, &item(path, i), "label"));
        };
        let (k, v) = text.split_once('=').unwrap_or((&text, ""));
        map.insert(key(k, &entry.mark), str_at(v, &entry.mark));
    }
    set_value(node, Value::Map(map));
    Ok(())
}

/// `include`: `- path` → `- {path: [path]}`; `path` and `env_file` strings become lists.
pub(super) fn include(node: &mut Node) -> Result<(), ConfigError> {
    let Some(entries) = node.as_seq_mut() else {
        return Err(invalid_type(node, "include", "include"));
    };
    for (i, entry) in entries.iter_mut().enumerate() {
        let path = item("include", i);
        if let Value::String(file) = &entry.value {
            let long = map_at(
                &entry.mark,
                vec![("path", str_at(file.clone(), &entry.mark))],
            );
            set_value(entry, long.value);
        }
        let Some(fields) = entry.as_map_mut() else {
            return Err(invalid_type(entry, &path, "include"));
        };
        for attr in ["path", "env_file"] {
            if let Some(value) = fields.get_mut(attr)
                && value.as_str().is_some()
            {
                let single = Node::new(
                    std::mem::replace(&mut value.value, Value::Null),
                    value.mark.clone(),
                );
                set_value(value, Value::Seq(vec![single]));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::error::Warnings;
    use crate::transform::canonical_with_warnings;
    use crate::transform::testutil::{json, node};
    use serde_json::json;

    fn long(project: serde_json::Value) -> (serde_json::Value, Warnings) {
        let mut n = node(project);
        let mut w = Warnings::default();
        let r = canonical_with_warnings(&mut n, &mut w);
        assert!(r.is_ok(), "{r:?}");
        (json(&n), w)
    }

    #[test]
    fn legacy_external_name() {
        let (p, w) = long(json!({"networks": {"front": {"external": {"name": "realfront"}}}}));
        assert_eq!(
            p,
            json!({"networks": {"front": {"external": true, "name": "realfront"}}})
        );
        assert_eq!(
            w.0,
            vec!["networks.front: external.name is deprecated. Please set name and external: true"]
        );
    }

    #[test]
    fn empty_resources_and_labels() {
        let (p, _) = long(
            json!({"volumes": {"v": null, "w": {"labels": ["a=1", "b"]}}, "secrets": {"s": {"file": "./s"}}}),
        );
        assert_eq!(
            p,
            json!({"volumes": {"v": {}, "w": {"labels": {"a": "1", "b": ""}}}, "secrets": {"s": {"file": "./s"}}})
        );
    }

    #[test]
    fn include_forms() {
        let (p, _) = long(
            json!({"include": ["a.yaml", {"path": "b.yaml", "env_file": "b.env"}, {"path": ["c.yaml", "d.yaml"]}]}),
        );
        assert_eq!(
            p,
            json!({"include": [{"path": ["a.yaml"]}, {"path": ["b.yaml"], "env_file": ["b.env"]}, {"path": ["c.yaml", "d.yaml"]}]})
        );
    }
}
