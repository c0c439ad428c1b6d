//! What a container shares with the host or another container, checked at create with
//! Docker's rules: `--pid`, `--ipc` and `--sysctl` (only namespaced sysctls, and not those
//! of a namespace the container shares).

use super::ContainerError;
use super::config::HostConfig;

/// Docker's namespaced sysctls outside the `net.` and `fs.mqueue.` prefixes.
const IPC_SYSCTLS: [&str; 8] = [
    "kernel.msgmax",
    "kernel.msgmnb",
    "kernel.msgmni",
    "kernel.sem",
    "kernel.shmall",
    "kernel.shmmax",
    "kernel.shmmni",
    "kernel.shm_rmid_forced",
];

pub fn check(host: &HostConfig) -> Result<(), ContainerError> {
    let bad = |m: String| Err(ContainerError::Invalid(m));
    match host.pid_mode.as_str() {
        "" | "host" => {}
        m if m.strip_prefix("container:").is_some_and(|n| !n.is_empty()) => {}
        other => {
            return bad(format!(
                "invalid --pid {other:?}: expected host or container:<name>"
            ));
        }
    }
    match host.ipc_mode.as_str() {
        "" | "private" | "shareable" | "host" | "none" => {}
        m if m.strip_prefix("container:").is_some_and(|n| !n.is_empty()) => {}
        other => {
            return bad(format!(
                "invalid IPC mode: {other:?}: expected private, shareable, host, none or container:<name>"
            ));
        }
    }
    for key in host.sysctls.iter().flatten().map(|(k, _)| k) {
        let ipc = IPC_SYSCTLS.contains(&key.as_str()) || key.starts_with("fs.mqueue.");
        if key.starts_with("net.") {
            if host.network_mode == "host" {
                return bad(format!(
                    "sysctl {key:?} is not allowed in host network namespace"
                ));
            }
        } else if ipc {
            if host.ipc_mode == "host" || host.ipc_mode.starts_with("container:") {
                return bad(format!(
                    "sysctl {key:?} is not allowed in host IPC namespace"
                ));
            }
        } else {
            return bad(format!(
                "sysctl {key:?} is not whitelisted: only namespaced sysctls (net.*, fs.mqueue.*, kernel.msg*, kernel.sem, kernel.shm*) can be set"
            ));
        }
    }
    if host.shm_size < 0 {
        return bad("SHM size can not be less than 0".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn dockers_rules() {
        let with = |k: &str, network: &str, ipc: &str| HostConfig {
            sysctls: Some(BTreeMap::from([(k.to_string(), "1".to_string())])),
            network_mode: network.into(),
            ipc_mode: ipc.into(),
            ..HostConfig::default()
        };
        assert!(check(&with("net.ipv4.ip_forward", "none", "private")).is_ok());
        assert!(check(&with("kernel.shmmax", "none", "private")).is_ok());
        let e = check(&with("net.ipv4.ip_forward", "host", "private"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("not allowed in host network namespace"), "{e}");
        let e = check(&with("kernel.sem", "none", "host"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("not allowed in host IPC namespace"), "{e}");
        let e = check(&with("vm.swappiness", "none", "private"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("is not whitelisted"), "{e}");
        let ipc = |m: &str| {
            check(&HostConfig {
                ipc_mode: m.into(),
                ..HostConfig::default()
            })
        };
        assert!(ipc("container:db").is_ok() && ipc("shareable").is_ok());
        assert!(ipc("container:").is_err() && ipc("bogus").is_err());
        let pid = |m: &str| {
            check(&HostConfig {
                pid_mode: m.into(),
                ..HostConfig::default()
            })
        };
        assert!(pid("host").is_ok() && pid("container:x").is_ok());
        assert!(pid("container:").is_err() && pid("weird").is_err());
    }
}
