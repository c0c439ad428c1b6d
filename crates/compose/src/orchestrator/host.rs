//! A service's resource, device, logging and namespace keys onto the engine's
//! `HostConfig`, as Docker Compose fills them: `ulimits`, `devices`, `group_add`,
//! `mem_reservation` (or `deploy.resources.reservations.memory`), `memswap_limit`,
//! `oom_kill_disable`, `cpu_shares`, `cpu_period`, `cpu_quota`, `cpuset`, `blkio_config`,
//! `logging`, `pid` and `ipc`. Values the engine would not apply are refused here, with
//! the key's path.

use berth_engine::container::config::{DeviceMapping, HostConfig, ThrottleDevice, Ulimit};
use berth_engine::container::logs::LogDriver;

use crate::model::ServiceConfig;

pub fn apply(s: &ServiceConfig, h: &mut HostConfig) -> Result<(), String> {
    let at = |key: &str| format!("services.{}.{key}", s.name);
    for (name, u) in &s.ulimits {
        let (soft, hard) = if u.single != 0 {
            (u.single, u.single)
        } else {
            (u.soft, u.hard)
        };
        h.ulimits.push(Ulimit {
            name: name.clone(),
            soft,
            hard,
        });
    }
    for d in &s.devices {
        h.devices.push(DeviceMapping {
            path_on_host: d.source.clone(),
            path_in_container: if d.target.is_empty() {
                d.source.clone()
            } else {
                d.target.clone()
            },
            cgroup_permissions: if d.permissions.is_empty() {
                "rwm".into()
            } else {
                d.permissions.clone()
            },
        });
    }
    if !s.group_add.is_empty() {
        h.group_add = Some(s.group_add.iter().map(|g| g.0.clone()).collect());
    }
    let reservations = s
        .deploy
        .as_ref()
        .and_then(|d| d.resources.reservations.as_ref());
    h.memory_reservation = if s.mem_reservation.0 > 0 {
        s.mem_reservation.0
    } else {
        reservations.map_or(0, |r| r.memory.0)
    };
    h.memory_swap = s.mem_swap_limit.0;
    h.oom_kill_disable = s.oom_kill_disable.then_some(true);
    h.cpu_shares = s.cpu_shares;
    h.cpu_period = s.cpu_period;
    h.cpu_quota = s.cpu_quota;
    h.cpuset_cpus = s.cpuset.clone();
    if let Some(b) = &s.blkio_config {
        if !b.weight_device.is_empty() {
            return Err(format!(
                "{}: per-device weights are not supported by berth yet",
                at("blkio_config.weight_device")
            ));
        }
        h.blkio_weight = b.weight;
        let rates = |list: &[crate::model::service::ThrottleDevice]| -> Vec<ThrottleDevice> {
            list.iter()
                .map(|t| ThrottleDevice {
                    path: t.path.clone(),
                    rate: t.rate.0.max(0) as u64,
                })
                .collect()
        };
        h.blkio_device_read_bps = rates(&b.device_read_bps);
        h.blkio_device_write_bps = rates(&b.device_write_bps);
        h.blkio_device_read_iops = rates(&b.device_read_iops);
        h.blkio_device_write_iops = rates(&b.device_write_iops);
    }
    if let Some(l) = &s.logging {
        LogDriver::from_config(
            &l.driver,
            l.options.0.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        )
        .map_err(|e| format!("{}: {e}", at("logging")))?;
        h.log_config.kind = if l.driver.is_empty() {
            "json-file".into()
        } else {
            l.driver.clone()
        };
        h.log_config.config = l.options.0.clone().into_iter().collect();
    }
    // `service:<x>` becomes `container:<id>` once x's container exists (references.rs).
    let shared = |m: &str| m.starts_with("service:") || m.starts_with("container:");
    h.pid_mode = match s.pid.as_str() {
        "" | "host" => s.pid.clone(),
        m if shared(m) => s.pid.clone(),
        other => {
            return Err(format!(
                "{}: {other:?} is not a pid mode (host, service:<name> or container:<name>)",
                at("pid")
            ));
        }
    };
    h.ipc_mode = match s.ipc.as_str() {
        "" | "host" | "private" | "shareable" | "none" => s.ipc.clone(),
        m if shared(m) => s.ipc.clone(),
        other => {
            return Err(format!(
                "{}: {other:?} is not an ipc mode (host, private, shareable, none, service:<name> or container:<name>)",
                at("ipc")
            ));
        }
    };
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(json: &str) -> Result<HostConfig, String> {
        let mut s: ServiceConfig = serde_json::from_str(json).expect("service json");
        s.name = "web".into();
        let mut h = HostConfig::default();
        apply(&s, &mut h).map(|()| h)
    }

    #[test]
    fn keys_land_where_docker_compose_puts_them() {
        let h = host(
            r#"{"image":"x","ulimits":{"nofile":{"soft":1024,"hard":2048},"nproc":65535},
                "devices":[{"source":"/dev/null","target":"/dev/nothing","permissions":"r"}],
                "group_add":["wheel"],"mem_reservation":"64m","memswap_limit":"1g",
                "cpu_shares":512,"cpuset":"0","pid":"host","ipc":"shareable",
                "logging":{"driver":"json-file","options":{"max-size":"1m","max-file":"2"}},
                "blkio_config":{"weight":300,"device_read_bps":[{"path":"/dev/sda","rate":"1mb"}]}}"#,
        )
        .unwrap();
        let limits: Vec<(String, i64, i64)> = h
            .ulimits
            .iter()
            .map(|u| (u.name.clone(), u.soft, u.hard))
            .collect();
        assert_eq!(
            limits,
            [
                ("nofile".to_string(), 1024, 2048),
                ("nproc".to_string(), 65535, 65535)
            ]
        );
        assert_eq!(h.devices[0].path_in_container, "/dev/nothing");
        assert_eq!(h.devices[0].cgroup_permissions, "r");
        assert_eq!(h.group_add, Some(vec!["wheel".to_string()]));
        assert_eq!(h.memory_reservation, 64 << 20);
        assert_eq!(h.memory_swap, 1 << 30);
        assert_eq!((h.cpu_shares, h.cpuset_cpus.as_str()), (512, "0"));
        assert_eq!(
            (h.pid_mode.as_str(), h.ipc_mode.as_str()),
            ("host", "shareable")
        );
        assert_eq!(h.log_config.config["max-size"], "1m");
        assert_eq!(h.blkio_weight, 300);
        assert_eq!(h.blkio_device_read_bps[0].rate, 1 << 20);
    }

    #[test]
    fn values_the_engine_would_not_apply_are_refused() {
        let e = host(r#"{"image":"x","logging":{"driver":"syslog"}}"#).unwrap_err();
        assert!(e.starts_with("services.web.logging:"), "{e}");
        let e = host(r#"{"image":"x","pid":"private"}"#).unwrap_err();
        assert!(e.starts_with("services.web.pid:"), "{e}");
        let e = host(r#"{"image":"x","ipc":"shared"}"#).unwrap_err();
        assert!(e.starts_with("services.web.ipc:"), "{e}");
    }
}
