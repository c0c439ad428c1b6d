//! Profiles: services with `profiles:` run only when one of them is active
//! (`--profile`, `COMPOSE_PROFILES`, `*` for all) or when named on the command line.

use crate::error::ConfigError;
use crate::yaml::Node;

/// Removes the services whose profiles are not active and returns their names.
/// Services named in `selected` are enabled whatever their profiles.
pub fn apply(
    tree: &mut Node,
    active: &[String],
    selected: &[String],
) -> Result<Vec<String>, ConfigError> {
    let Some(services) = tree.get_mut("services").and_then(Node::as_map_mut) else {
        return Ok(Vec::new());
    };
    let all = active.iter().any(|p| p == "*");
    let mut disabled = Vec::new();
    services.retain(|name, service| {
        let profiles: Vec<&str> = service
            .get("profiles")
            .and_then(Node::as_seq)
            .map(|p| p.iter().filter_map(Node::as_str).collect())
            .unwrap_or_default();
        let enabled = profiles.is_empty()
            || all
            || profiles.iter().any(|p| active.iter().any(|a| a == p))
            || selected.contains(&name.name);
        if !enabled {
            disabled.push(name.name.clone());
        }
        enabled
    });
    Ok(disabled)
}

/// Every profile any service names, sorted and without duplicates.
pub fn all(tree: &Node) -> Vec<String> {
    let mut names: Vec<String> = tree
        .get("services")
        .and_then(Node::as_map)
        .into_iter()
        .flat_map(|m| m.values())
        .filter_map(|s| s.get("profiles").and_then(Node::as_seq))
        .flat_map(|p| p.iter().filter_map(|n| n.as_str().map(str::to_string)))
        .collect();
    names.sort();
    names.dedup();
    names
}

/// Keeps only the services named on the command line and everything they depend on.
/// No names keeps every service.
pub fn select(tree: &mut Node, selected: &[String]) -> Result<(), ConfigError> {
    if selected.is_empty() {
        return Ok(());
    }
    let Some(services) = tree.get_mut("services").and_then(Node::as_map_mut) else {
        return Err(ConfigError::new(format!(
            "no such service: {}",
            selected[0]
        )));
    };
    let mut keep: Vec<String> = Vec::new();
    let mut todo: Vec<String> = selected.to_vec();
    while let Some(name) = todo.pop() {
        if keep.contains(&name) {
            continue;
        }
        let Some(service) = services.get(name.as_str()) else {
            return Err(ConfigError::new(format!(
                "no such service: {name} (the project has: {})",
                services
                    .keys()
                    .map(|k| k.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        };
        todo.extend(
            crate::graph::service_dependencies(service)
                .into_iter()
                .filter(|d| services.contains_key(d.as_str())),
        );
        keep.push(name);
    }
    services.retain(|k, _| keep.contains(&k.name));
    Ok(())
}
