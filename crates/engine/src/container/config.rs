//! Docker's own shapes for a container's configuration, as `docker inspect` prints them
//! and the Docker API exchanges them: `Config` (what runs) and `HostConfig` (how it is
//! isolated and wired to the host). The record stores these as they are, so `inspect`
//! needs no translation; the OCI runtime spec is derived from them at start (`spec.rs`).
//!
//! Field order is Docker's (serde keeps declaration order), so `inspect` output lines up
//! with Docker's field for field.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// `Config` of a container (Docker's `container.Config`).
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct Config {
    pub hostname: String,
    pub domainname: String,
    pub user: String,
    pub attach_stdin: bool,
    pub attach_stdout: bool,
    pub attach_stderr: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exposed_ports: Option<BTreeMap<String, EmptyObject>>,
    pub tty: bool,
    pub open_stdin: bool,
    pub stdin_once: bool,
    pub env: Vec<String>,
    pub cmd: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub healthcheck: Option<HealthConfig>,
    /// The image as the user named it (`busybox`, not its id).
    pub image: String,
    pub volumes: Option<BTreeMap<String, EmptyObject>>,
    pub working_dir: String,
    pub entrypoint: Option<Vec<String>>,
    pub on_build: Option<Vec<String>>,
    pub labels: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_signal: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_timeout: Option<i64>,
}

/// One `--device-read-bps` (bytes per second) or `--device-read-iops` (operations per
/// second) limit: Docker's `blkiodev.ThrottleDevice`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct ThrottleDevice {
    pub path: String,
    pub rate: u64,
}

/// Docker's `NetworkingConfig` of a create request: the endpoint settings per network
/// (aliases, static addresses, MAC address), by network name.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct NetworkingConfig {
    #[serde(default)]
    pub endpoints_config: BTreeMap<String, EndpointSettings>,
}

/// What a container asks of one network (Docker's `EndpointSettings`, the part a
/// create request sets).
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct EndpointSettings {
    #[serde(
        rename = "IPAMConfig",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub ipam_config: Option<EndpointIpamConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub links: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aliases: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub mac_address: String,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct EndpointIpamConfig {
    #[serde(
        rename = "IPv4Address",
        default,
        skip_serializing_if = "String::is_empty"
    )]
    pub ipv4_address: String,
    #[serde(
        rename = "IPv6Address",
        default,
        skip_serializing_if = "String::is_empty"
    )]
    pub ipv6_address: String,
}

/// Docker's `HealthConfig`: the test (`["CMD", ...]`, `["CMD-SHELL", "..."]`, `["NONE"]`)
/// and durations in nanoseconds (0: the default).
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct HealthConfig {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub test: Vec<String>,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub interval: i64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub timeout: i64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub start_period: i64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub start_interval: i64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub retries: i64,
}

fn is_zero(n: &i64) -> bool {
    *n == 0
}

/// One `--device` (Docker's `DeviceMapping`).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct DeviceMapping {
    pub path_on_host: String,
    pub path_in_container: String,
    pub cgroup_permissions: String,
}

/// `{}` in Docker's JSON (a Go `struct{}` used as a set member).
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct EmptyObject {}

/// `HostConfig` of a container (Docker's `container.HostConfig`), every field Docker
/// prints, in its order.
/// One host side of a published port (Docker's `PortBinding`; an empty `HostPort` is
/// an ephemeral port, `a-b` the first free one of the range).
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct PortBinding {
    #[serde(default)]
    pub host_ip: String,
    #[serde(default)]
    pub host_port: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct HostConfig {
    pub binds: Option<Vec<String>>,
    #[serde(rename = "ContainerIDFile")]
    pub container_id_file: String,
    pub log_config: LogConfig,
    pub network_mode: String,
    pub port_bindings: BTreeMap<String, Vec<PortBinding>>,
    pub restart_policy: RestartPolicy,
    pub auto_remove: bool,
    pub volume_driver: String,
    pub volumes_from: Option<Vec<String>>,
    pub console_size: [u32; 2],
    pub cap_add: Option<Vec<String>>,
    pub cap_drop: Option<Vec<String>>,
    pub cgroupns_mode: String,
    pub dns: Vec<String>,
    pub dns_options: Vec<String>,
    pub dns_search: Vec<String>,
    pub extra_hosts: Option<Vec<String>>,
    pub group_add: Option<Vec<String>>,
    pub ipc_mode: String,
    pub cgroup: String,
    pub links: Option<Vec<String>>,
    pub oom_score_adj: i64,
    pub pid_mode: String,
    pub privileged: bool,
    pub publish_all_ports: bool,
    pub readonly_rootfs: bool,
    pub security_opt: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tmpfs: Option<BTreeMap<String, String>>,
    #[serde(rename = "UTSMode")]
    pub uts_mode: String,
    pub userns_mode: String,
    pub shm_size: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sysctls: Option<BTreeMap<String, String>>,
    pub runtime: String,
    pub isolation: String,
    pub cpu_shares: i64,
    pub memory: i64,
    pub nano_cpus: i64,
    pub cgroup_parent: String,
    pub blkio_weight: u16,
    pub blkio_weight_device: Vec<serde_json::Value>,
    pub blkio_device_read_bps: Vec<ThrottleDevice>,
    pub blkio_device_write_bps: Vec<ThrottleDevice>,
    #[serde(rename = "BlkioDeviceReadIOps")]
    pub blkio_device_read_iops: Vec<ThrottleDevice>,
    #[serde(rename = "BlkioDeviceWriteIOps")]
    pub blkio_device_write_iops: Vec<ThrottleDevice>,
    pub cpu_period: i64,
    pub cpu_quota: i64,
    pub cpu_realtime_period: i64,
    pub cpu_realtime_runtime: i64,
    pub cpuset_cpus: String,
    pub cpuset_mems: String,
    pub devices: Vec<DeviceMapping>,
    pub device_cgroup_rules: Option<Vec<String>>,
    pub device_requests: Option<Vec<serde_json::Value>>,
    pub memory_reservation: i64,
    pub memory_swap: i64,
    pub memory_swappiness: Option<i64>,
    pub oom_kill_disable: Option<bool>,
    pub pids_limit: Option<i64>,
    pub ulimits: Vec<Ulimit>,
    pub cpu_count: i64,
    pub cpu_percent: i64,
    #[serde(rename = "IOMaximumIOps")]
    pub io_maximum_iops: u64,
    #[serde(rename = "IOMaximumBandwidth")]
    pub io_maximum_bandwidth: u64,
    /// `--mount` as given (Docker's `mount.Mount` JSON), for `inspect`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mounts: Option<Vec<serde_json::Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub init: Option<bool>,
    pub masked_paths: Vec<String>,
    pub readonly_paths: Vec<String>,
}

impl Default for HostConfig {
    fn default() -> Self {
        HostConfig {
            binds: None,
            container_id_file: String::new(),
            log_config: LogConfig::default(),
            network_mode: "bridge".into(),
            port_bindings: BTreeMap::new(),
            restart_policy: RestartPolicy::default(),
            auto_remove: false,
            volume_driver: String::new(),
            volumes_from: None,
            console_size: [0, 0],
            cap_add: None,
            cap_drop: None,
            cgroupns_mode: "private".into(),
            dns: Vec::new(),
            dns_options: Vec::new(),
            dns_search: Vec::new(),
            extra_hosts: None,
            group_add: None,
            ipc_mode: "private".into(),
            cgroup: String::new(),
            links: None,
            oom_score_adj: 0,
            pid_mode: String::new(),
            privileged: false,
            publish_all_ports: false,
            readonly_rootfs: false,
            security_opt: None,
            tmpfs: None,
            uts_mode: String::new(),
            userns_mode: String::new(),
            shm_size: 67_108_864,
            sysctls: None,
            runtime: "berth".into(),
            isolation: String::new(),
            cpu_shares: 0,
            memory: 0,
            nano_cpus: 0,
            cgroup_parent: String::new(),
            blkio_weight: 0,
            blkio_weight_device: Vec::new(),
            blkio_device_read_bps: Vec::new(),
            blkio_device_write_bps: Vec::new(),
            blkio_device_read_iops: Vec::new(),
            blkio_device_write_iops: Vec::new(),
            cpu_period: 0,
            cpu_quota: 0,
            cpu_realtime_period: 0,
            cpu_realtime_runtime: 0,
            cpuset_cpus: String::new(),
            cpuset_mems: String::new(),
            devices: Vec::new(),
            device_cgroup_rules: None,
            device_requests: None,
            memory_reservation: 0,
            memory_swap: 0,
            memory_swappiness: None,
            oom_kill_disable: None,
            pids_limit: None,
            ulimits: Vec::new(),
            cpu_count: 0,
            cpu_percent: 0,
            io_maximum_iops: 0,
            io_maximum_bandwidth: 0,
            mounts: None,
            init: None,
            masked_paths: Vec::new(),
            readonly_paths: Vec::new(),
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct LogConfig {
    #[serde(rename = "Type")]
    pub kind: String,
    pub config: BTreeMap<String, String>,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            kind: "json-file".into(),
            config: BTreeMap::new(),
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct RestartPolicy {
    pub name: String,
    pub maximum_retry_count: i64,
}

impl Default for RestartPolicy {
    fn default() -> Self {
        RestartPolicy {
            name: "no".into(),
            maximum_retry_count: 0,
        }
    }
}

/// `--ulimit name=soft[:hard]`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct Ulimit {
    pub name: String,
    pub soft: i64,
    pub hard: i64,
}

/// Docker's default capability set (moby `oci/caps/defaults.go`); with it, a root process
/// shows `CapEff: 00000000a80425fb`.
pub const DEFAULT_CAPABILITIES: [&str; 14] = [
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_FSETID",
    "CAP_FOWNER",
    "CAP_MKNOD",
    "CAP_NET_RAW",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETFCAP",
    "CAP_SETPCAP",
    "CAP_NET_BIND_SERVICE",
    "CAP_SYS_CHROOT",
    "CAP_KILL",
    "CAP_AUDIT_WRITE",
];

/// Docker's masked paths (unreadable in the container unless `--privileged`).
pub const DEFAULT_MASKED_PATHS: [&str; 12] = [
    "/proc/asound",
    "/proc/acpi",
    "/proc/interrupts",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/sys/firmware",
    "/sys/devices/virtual/powercap",
];

/// Docker's read-only paths.
pub const DEFAULT_READONLY_PATHS: [&str; 5] = [
    "/proc/bus",
    "/proc/fs",
    "/proc/irq",
    "/proc/sys",
    "/proc/sysrq-trigger",
];
