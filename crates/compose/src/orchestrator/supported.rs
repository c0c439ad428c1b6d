//! Which keys of a service the orchestrator applies. Every other key that is set fails
//! the project before anything is created, with the key's path; keys that have no effect
//! on one host (`deploy.placement`, `deploy.update_config`, …) only warn.

use crate::model::ServiceConfig;

/// Service keys applied (their JSON names, as `config` prints them).
const APPLIED: &[&str] = &[
    "blkio_config",
    "cpu_period",
    "cpu_quota",
    "cpu_shares",
    "cpuset",
    "devices",
    "group_add",
    "ipc",
    "logging",
    "mem_reservation",
    "memswap_limit",
    "oom_kill_disable",
    "pid",
    "ulimits",
    "cap_add",
    "cap_drop",
    "command",
    "configs",
    "container_name",
    "depends_on",
    "deploy",
    "dns",
    "dns_opt",
    "dns_search",
    "external_links",
    "links",
    "domainname",
    "entrypoint",
    "env_file",
    "environment",
    "expose",
    "extra_hosts",
    "healthcheck",
    "hostname",
    "image",
    "init",
    "labels",
    "mem_limit",
    "networks",
    "cpus",
    "pids_limit",
    "platform",
    "ports",
    "privileged",
    "pull_policy",
    "read_only",
    "restart",
    "scale",
    "secrets",
    "security_opt",
    "shm_size",
    "stdin_open",
    "stop_grace_period",
    "stop_signal",
    "sysctls",
    "tmpfs",
    "tty",
    "user",
    "volumes",
    "volumes_from",
    "working_dir",
    "network_mode",
];

/// `deploy` keys applied, and those without effect on one host.
const DEPLOY_APPLIED: &[&str] = &["replicas", "resources", "mode"];
const DEPLOY_NO_EFFECT: &[&str] = &[
    "placement",
    "update_config",
    "rollback_config",
    "endpoint_mode",
    "labels",
];

/// Checks `service`: `Err` names the first key berth does not apply yet; `Ok` carries
/// the warnings for keys without effect here.
pub fn check(service: &ServiceConfig) -> Result<Vec<String>, String> {
    let value = serde_json::to_value(service).map_err(|e| e.to_string())?;
    let name = &service.name;
    let refuse = |key: &str| {
        Err(format!(
            "services.{name}.{key}: berth compose does not apply this key yet; remove it or run this service with Docker Compose"
        ))
    };
    let mut warnings = Vec::new();
    let Some(map) = value.as_object() else {
        return Ok(warnings);
    };
    for key in map.keys() {
        if !APPLIED.contains(&key.as_str()) {
            return refuse(key);
        }
    }
    if let Some(deploy) = map.get("deploy").and_then(|d| d.as_object()) {
        for key in deploy.keys() {
            if DEPLOY_NO_EFFECT.contains(&key.as_str()) {
                warnings.push(format!(
                    "services.{name}.deploy.{key} has no effect on a single host and is ignored"
                ));
            } else if !DEPLOY_APPLIED.contains(&key.as_str()) {
                return refuse(&format!("deploy.{key}"));
            }
        }
        if let Some(resources) = deploy.get("resources").and_then(|r| r.as_object()) {
            for (kind, limits) in resources {
                // Limits are applied; of reservations, the memory one (as Compose).
                let applied: &[&str] = match kind.as_str() {
                    "limits" => &["cpus", "memory", "pids"],
                    "reservations" => &["memory"],
                    _ => return refuse(&format!("deploy.resources.{kind}")),
                };
                for key in limits.as_object().into_iter().flatten().map(|(k, _)| k) {
                    if !applied.contains(&key.as_str()) {
                        return refuse(&format!("deploy.resources.{kind}.{key}"));
                    }
                }
            }
        }
    }
    for (net, config) in map
        .get("networks")
        .and_then(|n| n.as_object())
        .into_iter()
        .flatten()
    {
        for key in config.as_object().into_iter().flatten().map(|(k, _)| k) {
            if ![
                "aliases",
                "ipv4_address",
                "ipv6_address",
                "priority",
                "mac_address",
            ]
            .contains(&key.as_str())
            {
                return refuse(&format!("networks.{net}.{key}"));
            }
        }
    }
    if let Some(mode) = map.get("network_mode").and_then(|m| m.as_str())
        && !matches!(mode, "host" | "none" | "bridge")
        && !mode.starts_with("service:")
        && !mode.starts_with("container:")
    {
        return refuse(&format!("network_mode ({mode})"));
    }
    for (i, volume) in service.volumes.iter().enumerate() {
        if volume.image.is_some() || volume.kind == Some(crate::model::service::VolumeType::Image) {
            return refuse(&format!("volumes[{i}] (type image)"));
        }
        if volume.kind == Some(crate::model::service::VolumeType::Npipe)
            || volume.kind == Some(crate::model::service::VolumeType::Cluster)
        {
            return refuse(&format!("volumes[{i}] (type {:?})", volume.kind));
        }
        if volume
            .volume
            .as_ref()
            .is_some_and(|v| !v.subpath.is_empty())
        {
            return refuse(&format!("volumes[{i}].volume.subpath"));
        }
    }
    Ok(warnings)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service(json: &str) -> ServiceConfig {
        let mut s: ServiceConfig = serde_json::from_str(json).expect("service json");
        s.name = "web".into();
        s
    }

    #[test]
    fn unapplied_keys_are_named() {
        let e = check(&service(r#"{"image":"x","gpus":[{"driver":"nvidia"}]}"#)).unwrap_err();
        assert!(
            e.starts_with("services.web.gpus: berth compose does not apply this key yet"),
            "{e}"
        );
        let e = check(&service(
            r#"{"image":"x","deploy":{"restart_policy":{"condition":"any"}}}"#,
        ))
        .unwrap_err();
        assert!(e.starts_with("services.web.deploy.restart_policy:"), "{e}");
        let e = check(&service(r#"{"image":"x","network_mode":"nat"}"#)).unwrap_err();
        assert!(e.contains("network_mode (nat)"), "{e}");
    }

    #[test]
    fn single_host_keys_warn() {
        let w = check(&service(r#"{"image":"x","deploy":{"replicas":2,"placement":{"constraints":["node.role==manager"]}}}"#)).unwrap();
        assert_eq!(
            w,
            ["services.web.deploy.placement has no effect on a single host and is ignored"]
        );
        assert!(
            check(&service(
                r#"{"image":"x","ports":[{"target":80}],"environment":{"A":"1"}}"#
            ))
            .unwrap()
            .is_empty()
        );
    }
}
