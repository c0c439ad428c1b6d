//! After merging, a sequence may define the same thing twice (the same port, two mounts
//! on one target): the later definition replaces the earlier one, in the earlier one's
//! place. compose-go's `EnforceUnicity`, applied to single files too.

use super::dotted;
use crate::error::ConfigError;
use crate::yaml::{Node, Value};

/// What identifies an entry of a sequence, per path.
#[derive(Clone, Copy)]
enum Identity {
    /// Strings compared up to the first `=` (`cap_add`, `dns`, `tmpfs`, ...).
    KeyValue,
    /// `target` (volumes, devices).
    Target,
    /// `target`, else `<dir>/<source>` (secrets, configs).
    Mount(&'static str),
    /// `path` (env_file).
    Path,
    /// The string itself (expose).
    Text,
    /// `host_ip:published:target/protocol`.
    Port,
}

fn identity_for(path: &[String]) -> Option<Identity> {
    let segments: Vec<&str> = path.iter().map(String::as_str).collect();
    Some(match segments.as_slice() {
        ["services", _, "volumes" | "devices"] => Identity::Target,
        ["services", _, "secrets"] => Identity::Mount("/run/secrets"),
        ["services", _, "configs"] => Identity::Mount(""),
        ["services", _, "env_file"] => Identity::Path,
        ["services", _, "expose"] => Identity::Text,
        ["services", _, "ports"] => Identity::Port,
        [
            "services",
            _,
            "cap_add" | "cap_drop" | "dns" | "dns_opt" | "dns_search",
        ]
        | ["services", _, "links" | "profiles" | "tmpfs"]
        | ["services", _, "build", "tags" | "platforms"]
        | ["services", _, "networks", _, "aliases" | "link_local_ips"] => Identity::KeyValue,
        _ => return None,
    })
}

/// Removes redefinitions from every sequence of a project that has an identity.
pub fn enforce_unicity(project: &mut Node) -> Result<(), ConfigError> {
    enforce_at(project, &mut Vec::new())
}

pub(super) fn enforce_at(node: &mut Node, path: &mut Vec<String>) -> Result<(), ConfigError> {
    match &mut node.value {
        Value::Map(map) => {
            for (key, value) in map.iter_mut() {
                path.push(key.name.clone());
                let result = enforce_at(value, path);
                path.pop();
                result?;
            }
        }
        Value::Seq(items) => {
            if let Some(identity) = identity_for(path) {
                let mut out: Vec<Node> = Vec::with_capacity(items.len());
                let mut seen: Vec<String> = Vec::with_capacity(items.len());
                for (i, entry) in std::mem::take(items).into_iter().enumerate() {
                    let id = identify(&entry, identity).map_err(|e| {
                        ConfigError::at(&entry.mark, format!("{}[{i}]", dotted(path)), e)
                    })?;
                    match seen.iter().position(|s| *s == id) {
                        Some(j) => {
                            if let Some(slot) = out.get_mut(j) {
                                *slot = entry;
                            }
                        }
                        None => {
                            seen.push(id);
                            out.push(entry);
                        }
                    }
                }
                *items = out;
            }
        }
        _ => {}
    }
    Ok(())
}

fn text(node: Option<&Node>) -> String {
    node.and_then(Node::scalar_to_string).unwrap_or_default()
}

fn identify(entry: &Node, identity: Identity) -> Result<String, String> {
    match identity {
        Identity::KeyValue => {
            let s = entry
                .scalar_to_string()
                .ok_or_else(|| format!("unexpected {}", entry.kind()))?;
            Ok(s.split_once('=').map_or(s.clone(), |(k, _)| k.to_string()))
        }
        Identity::Text => entry
            .scalar_to_string()
            .ok_or_else(|| format!("unsupported expose value: {}", entry.kind())),
        Identity::Target => match entry.get("target").and_then(Node::as_str) {
            Some(t) => Ok(t.to_string()),
            None => Err("missing a mount target".to_string()),
        },
        Identity::Mount(dir) => match (entry.as_str(), entry.get("target")) {
            (Some(source), _) => Ok(format!("{dir}/{source}")),
            (None, Some(target)) => Ok(text(Some(target))),
            (None, None) => Ok(format!("{dir}/{}", text(entry.get("source")))),
        },
        Identity::Path => match (entry.as_str(), entry.get("path")) {
            (Some(p), _) => Ok(p.to_string()),
            (None, Some(p)) => Ok(text(Some(p))),
            (None, None) => Err("env_file entry is missing a path".to_string()),
        },
        Identity::Port => {
            if entry.as_map().is_none() {
                return entry
                    .scalar_to_string()
                    .ok_or_else(|| format!("unexpected {}", entry.kind()));
            }
            let target = entry.get("target").ok_or("missing a target port")?;
            let host = entry
                .get("host_ip")
                .map_or("0.0.0.0".to_string(), |h| text(Some(h)));
            let protocol = entry
                .get("protocol")
                .map_or("tcp".to_string(), |p| text(Some(p)));
            Ok(format!(
                "{host}:{}:{}/{protocol}",
                text(entry.get("published")),
                text(Some(target))
            ))
        }
    }
}
