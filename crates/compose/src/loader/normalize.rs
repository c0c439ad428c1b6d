//! Compose's normalization of a merged project: defaults, the implicit `default`
//! network, environment values taken from the shell, implicit dependencies (links,
//! `service:` namespaces, `volumes_from`), resource names, and `env_file`s folded into
//! `environment`.

use crate::dotenv;
use crate::error::{ConfigError, Warnings};
use crate::yaml::{Key, Map, Mark, Node, Value};

use super::environment::{Environment, parse_go_bool};

pub fn normalize(
    tree: &mut Node,
    name: &str,
    env: &Environment,
    _warnings: &mut Warnings,
) -> Result<(), ConfigError> {
    let mark = tree.mark.clone();
    if let Some(map) = tree.as_map_mut() {
        map.insert(
            Key::new("name", mark.clone()),
            Node::string(name, mark.clone()),
        );
    }
    default_network(tree);
    for (_, service) in services_mut(tree) {
        normalize_service(service, env);
    }
    name_resources(tree, name);
    Ok(())
}

fn services_mut(tree: &mut Node) -> impl Iterator<Item = (&Key, &mut Node)> {
    tree.get_mut("services")
        .and_then(Node::as_map_mut)
        .into_iter()
        .flat_map(|m| m.iter_mut())
}

/// Services without `networks` or `network_mode` join `default`, which then exists.
fn default_network(tree: &mut Node) {
    let mut uses_default = false;
    for (_, service) in services_mut(tree) {
        let mark = service.mark.clone();
        let Some(svc) = service.as_map_mut() else {
            continue;
        };
        if svc.contains_key("network_mode") || svc.contains_key("provider") {
            continue;
        }
        match svc.get("networks").and_then(Node::as_map) {
            Some(n) if !n.is_empty() => uses_default |= n.contains_key("default"),
            _ => {
                let mut nets = Map::default();
                nets.insert(Key::new("default", mark.clone()), Node::null(mark.clone()));
                svc.insert(Key::new("networks", mark.clone()), Node::map(nets, mark));
                uses_default = true;
            }
        }
    }
    if !uses_default {
        return;
    }
    let mark = tree.mark.clone();
    let Some(map) = tree.as_map_mut() else { return };
    let networks = map
        .entry(Key::new("networks", mark.clone()))
        .or_insert_with(|| Node::map(Map::default(), mark.clone()));
    if networks.is_null() {
        *networks = Node::map(Map::default(), mark.clone());
    }
    if let Some(n) = networks.as_map_mut() {
        n.entry(Key::new("default", mark.clone()))
            .or_insert_with(|| Node::null(mark));
    }
}

fn normalize_service(service: &mut Node, env: &Environment) {
    let mark = service.mark.clone();
    let Some(svc) = service.as_map_mut() else {
        return;
    };
    if svc.get("pull_policy").and_then(Node::as_str) == Some("if_not_present")
        && let Some(p) = svc.get_mut("pull_policy")
    {
        p.value = Value::String("missing".into());
    }
    if let Some(build) = svc.get_mut("build").and_then(Node::as_map_mut) {
        if build.get("dockerfile").is_none_or(Node::is_null)
            && build.get("dockerfile_inline").is_none_or(Node::is_null)
        {
            build.insert(
                Key::new("dockerfile", mark.clone()),
                Node::string("Dockerfile", mark.clone()),
            );
        }
        if let Some(args) = build.get_mut("args").and_then(Node::as_map_mut) {
            resolve_mapping(args, env, false);
        }
    }
    if let Some(environment) = svc.get_mut("environment").and_then(Node::as_map_mut) {
        resolve_mapping(environment, env, true);
    }

    let mut implied: Vec<(String, bool)> = Vec::new();
    for link in strings(svc.get("links")) {
        let target = match link.split(':').collect::<Vec<_>>().as_slice() {
            [name, _] => name.to_string(),
            _ => link.clone(),
        };
        implied.push((target, true));
    }
    for key in ["network_mode", "ipc", "pid", "uts", "cgroup"] {
        if let Some(target) = svc
            .get(key)
            .and_then(Node::as_str)
            .and_then(|r| r.strip_prefix("service:"))
        {
            implied.push((target.to_string(), true));
        }
    }
    for from in strings(svc.get("volumes_from")) {
        if !from.starts_with("container:") {
            let name = from.split(':').next().unwrap_or_default().to_string();
            implied.push((name, false));
        }
    }
    if implied.is_empty() {
        return;
    }
    let deps = svc
        .entry(Key::new("depends_on", mark.clone()))
        .or_insert_with(|| Node::map(Map::default(), mark.clone()));
    if deps.is_null() {
        *deps = Node::map(Map::default(), mark.clone());
    }
    let Some(deps) = deps.as_map_mut() else {
        return;
    };
    for (name, restart) in implied {
        if deps.contains_key(name.as_str()) {
            continue;
        }
        let mut dep = Map::default();
        dep.insert(
            Key::new("condition", mark.clone()),
            Node::string("service_started", mark.clone()),
        );
        dep.insert(
            Key::new("restart", mark.clone()),
            Node::new(Value::Bool(restart), mark.clone()),
        );
        dep.insert(
            Key::new("required", mark.clone()),
            Node::new(Value::Bool(true), mark.clone()),
        );
        deps.insert(Key::new(name, mark.clone()), Node::map(dep, mark.clone()));
    }
}

fn strings(node: Option<&Node>) -> Vec<String> {
    node.and_then(Node::as_seq)
        .map(|items| {
            items
                .iter()
                .filter_map(|i| i.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// Null values take the shell's value; unknown ones stay null (`keep_unset`) or go.
fn resolve_mapping(map: &mut Map, env: &Environment, keep_unset: bool) {
    let mut drop = Vec::new();
    for (k, v) in map.iter_mut() {
        if !v.is_null() {
            continue;
        }
        match env.get(&k.name) {
            Some(value) => v.value = Value::String(value.clone()),
            None if keep_unset => {}
            None => drop.push(k.name.clone()),
        }
    }
    for k in drop {
        map.shift_remove(k.as_str());
    }
}

/// Resources without `name:` are named `<project>_<key>`, or `<key>` when external.
fn name_resources(tree: &mut Node, project: &str) {
    let Some(map) = tree.as_map_mut() else { return };
    for kind in ["networks", "volumes", "configs", "secrets"] {
        let Some(resources) = map.get_mut(kind).and_then(Node::as_map_mut) else {
            continue;
        };
        for (key, resource) in resources.iter_mut() {
            if resource.is_null() {
                *resource = Node::map(Map::default(), key.mark.clone());
            }
            let mark = resource.mark.clone();
            let Some(r) = resource.as_map_mut() else {
                continue;
            };
            if r.get("name").is_some_and(|n| !n.is_null()) {
                continue;
            }
            let external = r
                .get("external")
                .and_then(|x| x.scalar_to_string())
                .and_then(|s| parse_go_bool(&s))
                .unwrap_or(false);
            let name = if external {
                key.name.clone()
            } else {
                format!("{project}_{}", key.name)
            };
            r.insert(Key::new("name", mark.clone()), Node::string(name, mark));
        }
    }
}

/// Resolves `environment` values from the shell and folds each service's `env_file`s
/// into its `environment` (file values first, then the service's own values over them),
/// dropping `env_file`, as `docker compose config` does.
pub fn resolve_env_files(tree: &mut Node, env: &Environment) -> Result<UnresolvedEnv, ConfigError> {
    let mut unresolved = UnresolvedEnv::new();
    let Some(services) = tree.get_mut("services").and_then(Node::as_map_mut) else {
        return Ok(unresolved);
    };
    for (name, service) in services.iter_mut() {
        let mark = service.mark.clone();
        let Some(svc) = service.as_map_mut() else {
            continue;
        };
        // Values written without `=` take the shell's value, whatever else is skipped.
        if let Some(environment) = svc.get_mut("environment").and_then(Node::as_map_mut) {
            resolve_mapping(environment, env, true);
        }
        let Some(files) = svc.shift_remove("env_file") else {
            continue;
        };
        let mut merged = Map::default();
        for (i, file) in files
            .as_seq()
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .enumerate()
        {
            let at = format!("services.{}.env_file[{i}]", name.name);
            read_env_file(file, env, &mut merged).map_err(|e| e.or_at(&file.mark).or_path(at))?;
        }
        let own = overlay(svc, "environment", merged, mark);
        unresolved.insert(name.name.clone(), (own, files));
    }
    Ok(unresolved)
}

/// Puts the service's own `key` mapping over the values read from files and stores the
/// result under `key`; returns the service's own mapping as it was.
fn overlay(svc: &mut Map, key: &str, mut from_files: Map, mark: Mark) -> Option<Node> {
    let own = svc.shift_remove(key);
    if let Some(map) = own.as_ref().and_then(Node::as_map) {
        for (k, v) in map {
            from_files.insert(k.clone(), v.clone());
        }
    }
    if !from_files.is_empty() {
        let at = own.as_ref().map(|o| o.mark.clone()).unwrap_or(mark);
        svc.insert(Key::new(key, at.clone()), Node::map(from_files, at));
    }
    own
}

/// Per service: `environment` and `env_file` as they were before the files were read.
pub type UnresolvedEnv = std::collections::BTreeMap<String, (Option<Node>, Node)>;

/// Folds each service's `label_file`s into its `labels` (file labels first, the
/// service's own over them) and drops `label_file`.
pub fn resolve_label_files(tree: &mut Node, env: &Environment) -> Result<(), ConfigError> {
    let Some(services) = tree.get_mut("services").and_then(Node::as_map_mut) else {
        return Ok(());
    };
    for (name, service) in services.iter_mut() {
        let mark = service.mark.clone();
        let Some(svc) = service.as_map_mut() else {
            continue;
        };
        let Some(files) = svc.shift_remove("label_file") else {
            continue;
        };
        let mut merged = Map::default();
        for (i, file) in files
            .as_seq()
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .enumerate()
        {
            let at = format!("services.{}.label_file[{i}]", name.name);
            let path = file.as_str().unwrap_or_default();
            let text = std::fs::read_to_string(path).map_err(|e| {
                ConfigError::at(
                    &file.mark,
                    at.clone(),
                    format!("failed to read label file {path}: {e}"),
                )
            })?;
            let lookup = |k: &str| env.get(k).cloned();
            let fmark = Mark::new(std::sync::Arc::from(path), 0, 0);
            for (k, v) in dotenv::parse(&text, path, &lookup).map_err(|e| e.or_path(at.clone()))? {
                merged.insert(
                    Key::new(k, fmark.clone()),
                    Node::string(v.unwrap_or_default(), fmark.clone()),
                );
            }
        }
        overlay(svc, "labels", merged, mark);
    }
    Ok(())
}

fn read_env_file(file: &Node, env: &Environment, into: &mut Map) -> Result<(), ConfigError> {
    let path = file.get("path").and_then(Node::as_str).unwrap_or_default();
    let required = file
        .get("required")
        .map(|r| !matches!(r.value, Value::Bool(false)))
        .unwrap_or(true);
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => return Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(ConfigError::new(format!("env file {path} not found")));
        }
        Err(e) => {
            return Err(ConfigError::new(format!(
                "failed to read env file {path}: {e}"
            )));
        }
    };
    let raw = file.get("format").and_then(Node::as_str) == Some("raw");
    let parsed = if raw {
        parse_raw(&text)
    } else {
        let lookup = |k: &str| env.get(k).cloned();
        dotenv::parse(&text, path, &lookup)?
    };
    let mark = Mark::new(std::sync::Arc::from(path), 0, 0);
    // A bare key the environment does not set is left out, as Compose does.
    for (k, v) in parsed {
        if let Some(v) = v {
            into.insert(Key::new(k, mark.clone()), Node::string(v, mark.clone()));
        }
    }
    Ok(())
}

/// `format: raw` env files: `KEY=VALUE` lines taken literally, no quotes, no interpolation.
fn parse_raw(text: &str) -> indexmap::IndexMap<String, Option<String>> {
    text.lines()
        .map(|l| l.trim_start())
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| match l.split_once('=') {
            Some((k, v)) => (k.trim().to_string(), Some(v.to_string())),
            None => (l.trim().to_string(), None),
        })
        .collect()
}
