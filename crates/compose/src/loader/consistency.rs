//! Compose's consistency checks of a loaded project: references to undefined services,
//! networks, volumes, secrets and configs; mutually exclusive keys; dependency cycles.

use crate::error::ConfigError;
use crate::graph::DependencyGraph;
use crate::yaml::Node;

/// Checks the canonical, normalized project tree. `disabled` are services turned off
/// by profiles: depending on them is allowed only when the dependency is not required.
pub fn check(tree: &Node, disabled: &[String]) -> Result<(), ConfigError> {
    let empty = crate::yaml::Map::default();
    let services = tree
        .get("services")
        .and_then(Node::as_map)
        .unwrap_or(&empty);
    let defined = |kind: &str, name: &str| {
        tree.get(kind)
            .and_then(Node::as_map)
            .is_some_and(|m| m.contains_key(name))
    };

    for (key, service) in services {
        let name = &key.name;
        let at = |sub: &str| format!("services.{name}.{sub}");
        if service.get("image").is_none()
            && service.get("build").is_none()
            && service.get("provider").is_none()
        {
            return Err(ConfigError::at(
                &key.mark,
                format!("services.{name}"),
                "has neither an image nor a build context specified: set `image:` or `build:`",
            ));
        }
        if let Some(deps) = service.get("depends_on").and_then(Node::as_map) {
            for (dep, cfg) in deps {
                if services.contains_key(dep.name.as_str()) {
                    continue;
                }
                let required = !matches!(
                    cfg.get("required").map(|r| &r.value),
                    Some(crate::yaml::Value::Bool(false))
                );
                if disabled.contains(&dep.name) && !required {
                    continue;
                }
                let why = if disabled.contains(&dep.name) {
                    " (it is disabled by its profiles)"
                } else {
                    ""
                };
                return Err(ConfigError::at(
                    &dep.mark,
                    at("depends_on"),
                    format!(
                        "service {name:?} depends on undefined service {:?}{why}",
                        dep.name
                    ),
                ));
            }
        }
        if let Some(mode) = service.get("network_mode") {
            if service
                .get("networks")
                .and_then(Node::as_map)
                .is_some_and(|n| !n.is_empty())
            {
                return Err(ConfigError::at(
                    &mode.mark,
                    at("network_mode"),
                    format!(
                        "service {name} declares mutually exclusive `network_mode` and `networks`"
                    ),
                ));
            }
            if let Some(target) = mode.as_str().and_then(|m| m.strip_prefix("service:"))
                && !services.contains_key(target)
            {
                return Err(ConfigError::at(
                    &mode.mark,
                    at("network_mode"),
                    format!("service {target:?} not found for network_mode \"service:{target}\""),
                ));
            }
        }
        if let Some(nets) = service.get("networks").and_then(Node::as_map) {
            for net in nets.keys() {
                if !defined("networks", &net.name) {
                    return Err(ConfigError::at(
                        &net.mark,
                        at("networks"),
                        format!(
                            "service {name:?} refers to undefined network {}: define it under the top-level `networks:`",
                            net.name
                        ),
                    ));
                }
            }
        }
        if let Some(volumes) = service.get("volumes").and_then(Node::as_seq) {
            for v in volumes {
                if v.get("type").and_then(Node::as_str) != Some("volume") {
                    continue;
                }
                if let Some(src) = v
                    .get("source")
                    .and_then(Node::as_str)
                    .filter(|s| !s.is_empty())
                    && !defined("volumes", src)
                {
                    return Err(ConfigError::at(
                        &v.mark,
                        at("volumes"),
                        format!(
                            "service {name:?} refers to undefined volume {src}: define it under the top-level `volumes:`, or write a path (./{src}) for a bind mount"
                        ),
                    ));
                }
            }
        }
        for (kind, what) in [("secrets", "secret"), ("configs", "config")] {
            if let Some(items) = service.get(kind).and_then(Node::as_seq) {
                for item in items {
                    if let Some(src) = item.get("source").and_then(Node::as_str)
                        && !defined(kind, src)
                    {
                        return Err(ConfigError::at(
                            &item.mark,
                            at(kind),
                            format!(
                                "service {name:?} refers to undefined {what} {src}: define it under the top-level `{kind}:`"
                            ),
                        ));
                    }
                }
            }
        }
        if let Some(cn) = service.get("container_name") {
            let replicas = scale_of(service);
            if replicas > 1 {
                return Err(ConfigError::at(
                    &cn.mark,
                    at("container_name"),
                    format!(
                        "can't set container_name and {name} as container name must be unique ({replicas} replicas requested)"
                    ),
                ));
            }
        }
    }
    if let Some(secrets) = tree.get("secrets").and_then(Node::as_map) {
        for (key, secret) in secrets {
            let external = secret
                .get("external")
                .is_some_and(|e| matches!(e.value, crate::yaml::Value::Bool(true)));
            let has = |k: &str| {
                secret
                    .get(k)
                    .and_then(Node::as_str)
                    .is_some_and(|s| !s.is_empty())
            };
            if !external && !has("file") && !has("environment") {
                return Err(ConfigError::at(
                    &key.mark,
                    format!("secrets.{}", key.name),
                    format!(
                        "secret {:?} must declare either `file` or `environment`",
                        key.name
                    ),
                ));
            }
        }
    }
    DependencyGraph::from_tree(tree)?
        .start_order()
        .map(|_| ())
        .map_err(|e| {
            // Point at the `depends_on` of the first service of the cycle.
            let first = e
                .message
                .split(": ")
                .nth(1)
                .and_then(|c| c.split(" -> ").next())
                .unwrap_or_default()
                .to_string();
            match services
                .get(first.as_str())
                .and_then(|s| s.get("depends_on"))
            {
                Some(deps) => e
                    .or_at(&deps.mark)
                    .or_path(format!("services.{first}.depends_on")),
                None => e,
            }
        })
}

fn scale_of(service: &Node) -> i64 {
    let int = |n: Option<&Node>| match n.map(|n| &n.value) {
        Some(crate::yaml::Value::Int(i)) => Some(*i),
        _ => None,
    };
    int(service.get("scale"))
        .or_else(|| int(service.get("deploy").and_then(|d| d.get("replicas"))))
        .unwrap_or(1)
}

/// The checks Compose makes on decoded values: settings given twice with different
/// values, health check commands, build file choices.
pub fn check_typed(project: &crate::model::Project, tree: &Node) -> Result<(), ConfigError> {
    for (name, s) in &project.services {
        let node = tree.get("services").and_then(|m| m.get(name));
        let at = |key: &str| {
            let mark = node
                .and_then(|n| n.get(key))
                .or(node)
                .map(|n| n.mark.clone())
                .unwrap_or_default();
            move |e: ConfigError| e.or_at(&mark)
        };
        let conflict = |key: &str, deploy_key: &str| {
            Err(at(key)(ConfigError::new(format!(
                "services.{name}: can't set distinct values on '{key}' and '{deploy_key}': use one of them"
            ))))
        };
        if let (Some(deploy), Some(scale)) = (&s.deploy, s.scale)
            && deploy.replicas.is_some_and(|r| r != scale)
        {
            return conflict("scale", "deploy.replicas");
        }
        if let Some(deploy) = &s.deploy {
            if let Some(limits) = &deploy.resources.limits {
                if limits.memory.0 != 0 && s.mem_limit.0 != 0 && limits.memory.0 != s.mem_limit.0 {
                    return conflict("mem_limit", "deploy.resources.limits.memory");
                }
                if limits.cpus != 0.0 && s.cpus != 0.0 && limits.cpus != s.cpus {
                    return conflict("cpus", "deploy.resources.limits.cpus");
                }
                if limits.pids != 0 && s.pids_limit != 0 && limits.pids != s.pids_limit {
                    return conflict("pids_limit", "deploy.resources.limits.pids");
                }
            }
            if let Some(res) = &deploy.resources.reservations
                && res.memory.0 != 0
                && s.mem_reservation.0 != 0
                && res.memory.0 != s.mem_reservation.0
            {
                return conflict("mem_reservation", "deploy.resources.reservations.memory");
            }
        }
        if let Some(hc) = &s.healthcheck
            && let Some(first) = hc.test.0.first()
            && !matches!(first.as_str(), "CMD" | "CMD-SHELL" | "NONE")
        {
            return Err(at("healthcheck")(ConfigError::new(format!(
                "services.{name}.healthcheck.test: must start with \"CMD\", \"CMD-SHELL\" or \"NONE\", not {first:?}"
            ))));
        }
        if let Some(build) = &s.build
            && !build.dockerfile.is_empty()
            && !build.dockerfile_inline.is_empty()
        {
            return Err(at("build")(ConfigError::new(format!(
                "services.{name}.build: `dockerfile` and `dockerfile_inline` are mutually exclusive"
            ))));
        }
    }
    Ok(())
}
