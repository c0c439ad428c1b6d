//! The OCI runtime spec of a container, derived at each start from its record (Docker's
//! Config and HostConfig), the resolved user and the files the supervisor prepared. The
//! runtime (`crate::runtime`) consumes it as runc consumes a bundle's `config.json`.
//!
//! Built as runtime-spec JSON and parsed into `oci_spec::runtime::Spec`, so the mapping
//! reads like the spec itself.

use std::path::Path;

use oci_spec::runtime::Spec;
use serde_json::{Value, json};

use super::ContainerError;
use super::config::DEFAULT_CAPABILITIES;
use super::record::ContainerRecord;
use super::security_opt::{self, Seccomp};
use super::user::ResolvedUser;

/// Docker's default `PATH` when the image sets none.
pub const DEFAULT_PATH: &str = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Where `--init` puts berth's init in the container (Docker's path for docker-init).
pub const INIT_PATH: &str = "/sbin/docker-init";

/// Every capability the kernel knows, by bit number: `--privileged` and `--cap-add ALL`.
use crate::runtime::CAPABILITY_NAMES as ALL_CAPABILITIES;

/// Files the supervisor wrote for the container and the berth binary for `--init`.
pub struct SpecInputs<'a> {
    pub container_dir: &'a Path,
    /// The legacy links' variables (`links::resolve`), which the container's own override.
    pub link_env: &'a [String],
    pub user: &'a ResolvedUser,
    pub init_binary: Option<&'a Path>,
    /// The container never ran: empty volumes are filled from the image (Docker does
    /// this once, when the container is created).
    pub first_start: bool,
    /// `--ipc container:<x>`: the pid of that container's init, found running.
    pub ipc_pid: Option<i32>,
    /// `--pid container:<x>`: the same for the pid namespace.
    pub pid_pid: Option<i32>,
    /// `--network container:<x>`: the same for the network namespace.
    pub net_pid: Option<i32>,
    /// Running users of the container's tmpfs volumes, found under the volumes' locks.
    pub tmpfs_holders: &'a [super::mounts::TmpfsHolder],
}

pub fn derive(record: &ContainerRecord, inputs: &SpecInputs<'_>) -> Result<Spec, ContainerError> {
    let config = &record.config;
    let host = &record.host_config;
    let mut args: Vec<String> = std::iter::once(record.path.clone())
        .chain(record.args.iter().cloned())
        .collect();
    let init = host.init == Some(true);
    if init {
        let mut with_init = vec![INIT_PATH.to_string(), "--".to_string()];
        with_init.append(&mut args);
        args = with_init;
    }
    let mut env = vec![format!("HOSTNAME={}", config.hostname)];
    if !config.env.iter().any(|e| e.starts_with("PATH=")) {
        env.push(DEFAULT_PATH.to_string());
    }
    if config.tty && !config.env.iter().any(|e| e.starts_with("TERM=")) {
        env.push("TERM=xterm".to_string());
    }
    let own_key = |entry: &str| {
        let key = entry.split('=').next().unwrap_or_default();
        config.env.iter().any(|e| e.split('=').next() == Some(key))
    };
    env.extend(inputs.link_env.iter().filter(|e| !own_key(e)).cloned());
    env.extend(config.env.iter().cloned());
    if !env.iter().any(|e| e.starts_with("HOME=")) {
        env.push(format!("HOME={}", inputs.user.home));
    }
    let caps = capabilities(
        host.privileged,
        host.cap_add.as_deref(),
        host.cap_drop.as_deref(),
    )?;
    let security = security_opt::parse(host.security_opt.as_deref().unwrap_or_default())?;
    let cwd = if config.working_dir.is_empty() {
        "/".to_string()
    } else {
        config.working_dir.clone()
    };
    let rlimits: Vec<Value> = host
        .ulimits
        .iter()
        .map(|u| json!({"type": format!("RLIMIT_{}", u.name.to_uppercase()), "soft": u.soft, "hard": u.hard}))
        .collect();

    let dir = inputs.container_dir;
    let mut mounts = vec![
        bind(dir.join("resolv.conf"), "/etc/resolv.conf", false),
        bind(dir.join("hostname"), "/etc/hostname", false),
        bind(dir.join("hosts"), "/etc/hosts", false),
    ];
    if init {
        let binary = inputs.init_binary.ok_or_else(|| {
            ContainerError::Invalid("--init needs the berth binary, which cannot be found".into())
        })?;
        mounts.push(bind(binary.to_path_buf(), INIT_PATH, true));
    }

    mounts.extend(
        record
            .mount_points
            .iter()
            .map(|p| p.spec_json(inputs.first_start, inputs.tmpfs_holders)),
    );
    // Parents before children (`/etc` before `/etc/hosts`, `/data` before `/data/cache`),
    // as Docker sorts them; the sort is stable, so equal depths keep their order.
    mounts.sort_by_key(|m| {
        let dest = m["destination"].as_str().unwrap_or_default();
        std::path::Path::new(dest).components().count()
    });

    let mut namespaces = vec![
        json!({"type": "uts"}),
        json!({"type": "mount"}),
        json!({"type": "cgroup"}),
    ];
    // `--pid host`: the host's pid namespace (and its processes in /proc);
    // `container:<x>`: x's.
    match host.pid_mode.as_str() {
        "host" => {}
        mode if mode.starts_with("container:") => {
            let pid = inputs.pid_pid.ok_or_else(|| {
                ContainerError::Invalid(format!(
                    "cannot join PID of a non running container: {}",
                    &mode[10..]
                ))
            })?;
            namespaces.push(json!({"type": "pid", "path": format!("/proc/{pid}/ns/pid")}));
        }
        _ => namespaces.push(json!({"type": "pid"})),
    }
    // `--ipc`: private/shareable get their own namespace and /dev/shm (of `--shm-size`),
    // `host` the host's (and its /dev/shm), `container:<x>` the other container's (and its
    // /dev/shm), `none` its own without /dev/shm.
    let shm_options = |size: i64| {
        json!([
            "nosuid",
            "noexec",
            "nodev",
            "mode=1777",
            format!("size={size}")
        ])
    };
    match host.ipc_mode.as_str() {
        "host" => mounts.push(bind("/dev/shm".into(), "/dev/shm", false)),
        "none" => namespaces.push(json!({"type": "ipc"})),
        mode if mode.starts_with("container:") => {
            let pid = inputs.ipc_pid.ok_or_else(|| {
                ContainerError::Invalid(format!(
                    "cannot join IPC of a non running container: {}",
                    &mode[10..]
                ))
            })?;
            namespaces.push(json!({"type": "ipc", "path": format!("/proc/{pid}/ns/ipc")}));
            let mut shm = bind("/dev/shm".into(), "/dev/shm", false);
            if let Some(options) = shm["options"].as_array_mut() {
                options.push(json!(format!(
                    "{}/proc/{pid}/ns/mnt",
                    crate::runtime::MOUNT_NS_OPTION
                )));
            }
            mounts.push(shm);
        }
        _ => {
            namespaces.push(json!({"type": "ipc"}));
            let size = if host.shm_size > 0 {
                host.shm_size
            } else {
                64 << 20
            };
            mounts.push(json!({"destination": "/dev/shm", "type": "tmpfs", "source": "shm", "options": shm_options(size)}));
        }
    }
    // `none`, `bridge` and user networks: a namespace of its own (the supervisor gives it
    // its interfaces before the init goes on); `container:<x>` x's.
    match host.network_mode.as_str() {
        "host" => {}
        mode if mode.starts_with("container:") => {
            let pid = inputs.net_pid.ok_or_else(|| {
                ContainerError::Invalid(format!(
                    "cannot join network of a non running container: {}",
                    &mode[10..]
                ))
            })?;
            namespaces.push(json!({"type": "network", "path": format!("/proc/{pid}/ns/net")}));
        }
        _ => namespaces.push(json!({"type": "network"})),
    }
    // `--device`: each node as the host has it, read once per start (for the node made
    // in the container's /dev and for its cgroup rule).
    let nodes = host
        .devices
        .iter()
        .map(|d| Ok((d, device_node(&d.path_on_host)?)))
        .collect::<Result<Vec<_>, ContainerError>>()?;
    let (masked, readonly) = (&host.masked_paths, &host.readonly_paths);
    let mut spec = json!({
        "ociVersion": "1.2.0",
        "process": {
            "terminal": config.tty,
            "user": {
                "uid": inputs.user.uid,
                "gid": inputs.user.gid,
                "additionalGids": inputs.user.additional_gids,
            },
            "args": args,
            "env": env,
            "cwd": cwd,
            "capabilities": {
                "bounding": caps,
                "effective": caps,
                "permitted": caps,
            },
            "rlimits": rlimits,
            "noNewPrivileges": security.no_new_privileges,
        },
        "root": {"path": dir.join("rootfs"), "readonly": host.readonly_rootfs},
        "hostname": config.hostname,
        "domainname": config.domainname,
        "mounts": mounts,
        "linux": {
            "resources": resources(host, &nodes)?,
            "cgroupsPath": super::cgroups_path(&record.id),
            "namespaces": namespaces,
            "sysctl": host.sysctls.clone().unwrap_or_default(),
            "devices": nodes.iter().map(|(d, n)| json!({
                "path": d.path_in_container, "type": n.kind, "major": n.major, "minor": n.minor,
                "fileMode": n.mode, "uid": n.uid, "gid": n.gid,
            })).collect::<Vec<_>>(),
            "maskedPaths": masked,
            "readonlyPaths": readonly,
        },
    });
    if let Some(section) = seccomp_section(host.privileged, &security.seccomp, &caps) {
        spec["linux"]["seccomp"] = section;
    }
    serde_json::from_value(spec)
        .map_err(|e| ContainerError::Invalid(format!("cannot build the runtime spec: {e}")))
}

/// `linux.seccomp` for a container holding `caps`: none when privileged or
/// `seccomp=unconfined` (Docker's rules), else the default or the custom profile resolved.
fn seccomp_section(privileged: bool, choice: &Seccomp, caps: &[String]) -> Option<Value> {
    let host = crate::seccomp::Host::current();
    match choice {
        _ if privileged => None,
        Seccomp::Unconfined => None,
        Seccomp::Default => Some(crate::seccomp::resolve(
            &crate::seccomp::default_profile(),
            caps,
            &host,
        )),
        Seccomp::Custom(profile) => Some(crate::seccomp::resolve(profile, caps, &host)),
    }
}

/// The container's own seccomp section, which its execs get too (`exec --privileged`
/// included, as Docker's).
pub fn container_seccomp(
    host: &super::config::HostConfig,
) -> Result<Option<oci_spec::runtime::LinuxSeccomp>, ContainerError> {
    let security = security_opt::parse(host.security_opt.as_deref().unwrap_or_default())?;
    let caps = capabilities(
        host.privileged,
        host.cap_add.as_deref(),
        host.cap_drop.as_deref(),
    )?;
    seccomp_section(host.privileged, &security.seccomp, &caps)
        .map(|s| {
            serde_json::from_value(s).map_err(|e| {
                ContainerError::Invalid(format!("cannot build the seccomp section: {e}"))
            })
        })
        .transpose()
}

/// `linux.resources` from the HostConfig's limits, with Docker's mapping (`--cpus` is a
/// CFS quota over a 100 ms period; throttled devices by their `major:minor`).
fn resources(
    host: &super::config::HostConfig,
    nodes: &[(&super::config::DeviceMapping, HostDevice)],
) -> Result<Value, ContainerError> {
    let mut resources = json!({});
    let mut memory = json!({});
    if host.memory > 0 {
        memory["limit"] = json!(host.memory);
    }
    if host.memory_swap != 0 && host.memory > 0 {
        memory["swap"] = json!(host.memory_swap);
    }
    if host.memory_reservation > 0 {
        memory["reservation"] = json!(host.memory_reservation);
    }
    if host.oom_kill_disable == Some(true) {
        memory["disableOOMKiller"] = json!(true);
    }
    set_if_any(&mut resources, "memory", memory);
    let mut cpu = json!({});
    if host.cpu_shares > 0 {
        cpu["shares"] = json!(host.cpu_shares);
    }
    if host.nano_cpus > 0 {
        const PERIOD: i64 = 100_000;
        cpu["period"] = json!(PERIOD);
        cpu["quota"] = json!(host.nano_cpus * PERIOD / 1_000_000_000);
    }
    if host.cpu_period > 0 {
        cpu["period"] = json!(host.cpu_period);
    }
    if host.cpu_quota != 0 {
        cpu["quota"] = json!(host.cpu_quota);
    }
    if !host.cpuset_cpus.is_empty() {
        cpu["cpus"] = json!(host.cpuset_cpus);
    }
    if !host.cpuset_mems.is_empty() {
        cpu["mems"] = json!(host.cpuset_mems);
    }
    set_if_any(&mut resources, "cpu", cpu);
    if let Some(limit) = host.pids_limit.filter(|l| *l > 0) {
        resources["pids"] = json!({"limit": limit});
    }
    let mut block_io = json!({});
    if host.blkio_weight > 0 {
        block_io["weight"] = json!(host.blkio_weight);
    }
    let throttles = [
        ("throttleReadBpsDevice", &host.blkio_device_read_bps),
        ("throttleWriteBpsDevice", &host.blkio_device_write_bps),
        ("throttleReadIOPSDevice", &host.blkio_device_read_iops),
        ("throttleWriteIOPSDevice", &host.blkio_device_write_iops),
    ];
    for (key, devices) in throttles {
        if devices.is_empty() {
            continue;
        }
        let mut list = Vec::new();
        for d in devices {
            let (major, minor) = super::resources::block_device(d)?;
            list.push(json!({"major": major, "minor": minor, "rate": d.rate}));
        }
        block_io[key] = json!(list);
    }
    set_if_any(&mut resources, "blockIO", block_io);
    // Added to Docker's default device rules by the runtime: every device for
    // `--privileged`, each `--device` with its permissions.
    let mut rules = Vec::new();
    if host.privileged {
        rules.push(json!({"allow": true, "access": "rwm"}));
    }
    for (d, n) in nodes {
        rules.push(json!({"allow": true, "type": n.kind, "major": n.major, "minor": n.minor, "access": d.cgroup_permissions}));
    }
    if !rules.is_empty() {
        resources["devices"] = json!(rules);
    }
    Ok(resources)
}

/// A host device node: type (`c`/`b`), numbers, mode and owner.
pub struct HostDevice {
    pub kind: &'static str,
    pub major: u32,
    pub minor: u32,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
}

/// Type (`c`/`b`), numbers, mode and owner of a host device node.
pub fn device_node(path: &str) -> Result<HostDevice, ContainerError> {
    use std::os::unix::fs::{FileTypeExt, MetadataExt};
    let meta = std::fs::metadata(path).map_err(|e| {
        ContainerError::Invalid(format!(
            "error gathering device information while adding custom device {path:?}: {}",
            crate::runtime::errno_text(&e)
        ))
    })?;
    let kind = if meta.file_type().is_char_device() {
        "c"
    } else if meta.file_type().is_block_device() {
        "b"
    } else {
        return Err(ContainerError::Invalid(format!(
            "error gathering device information while adding custom device {path:?}: not a device node"
        )));
    };
    let rdev = meta.rdev();
    Ok(HostDevice {
        kind,
        major: rustix::fs::major(rdev),
        minor: rustix::fs::minor(rdev),
        mode: meta.mode() & 0o7777,
        uid: meta.uid(),
        gid: meta.gid(),
    })
}

fn set_if_any(resources: &mut Value, key: &str, section: Value) {
    if section.as_object().is_some_and(|o| !o.is_empty()) {
        resources[key] = section;
    }
}

fn bind(source: std::path::PathBuf, destination: &str, readonly: bool) -> Value {
    let mut options = vec!["rbind", "rprivate"];
    if readonly {
        options.push("ro");
    }
    json!({"destination": destination, "type": "bind", "source": source, "options": options})
}

/// Every capability this process may hand on (its bounding set, `CapBnd`), as Docker's
/// `--privileged` means "all capabilities available here": a sandboxed host may lack some,
/// and asking for one it lacks fails the start.
fn available_capabilities() -> Vec<String> {
    let bounding = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("CapBnd:"))
                .and_then(|v| u64::from_str_radix(v.trim(), 16).ok())
        })
        .unwrap_or(u64::MAX);
    ALL_CAPABILITIES
        .iter()
        .enumerate()
        .filter(|(bit, _)| *bit < 64 && bounding & (1 << bit) != 0)
        .map(|(_, c)| c.to_string())
        .collect()
}

/// Docker's capability rules: the default set, `--cap-add` / `--cap-drop` by name with
/// or without `CAP_`, `ALL` in either, `--privileged` = every capability.
pub fn capabilities(
    privileged: bool,
    add: Option<&[String]>,
    drop: Option<&[String]>,
) -> Result<Vec<String>, ContainerError> {
    if privileged {
        return Ok(available_capabilities());
    }
    let normalize = |c: &String| -> Result<String, ContainerError> {
        let upper = c.to_uppercase();
        if upper == "ALL" {
            return Ok(upper);
        }
        let name = if upper.starts_with("CAP_") {
            upper
        } else {
            format!("CAP_{upper}")
        };
        if ALL_CAPABILITIES.contains(&name.as_str()) {
            Ok(name)
        } else {
            Err(ContainerError::Invalid(format!(
                "unknown capability: {c:?}"
            )))
        }
    };
    let add: Vec<String> = add
        .unwrap_or_default()
        .iter()
        .map(normalize)
        .collect::<Result<_, _>>()?;
    let drop: Vec<String> = drop
        .unwrap_or_default()
        .iter()
        .map(normalize)
        .collect::<Result<_, _>>()?;
    let mut caps: Vec<String> = if add.iter().any(|c| c == "ALL") {
        available_capabilities()
    } else {
        DEFAULT_CAPABILITIES.iter().map(|c| c.to_string()).collect()
    };
    if drop.iter().any(|c| c == "ALL") {
        caps.clear();
    } else {
        caps.retain(|c| !drop.contains(c));
    }
    for c in add {
        if c != "ALL" && !caps.contains(&c) && !drop.contains(&c) {
            caps.push(c);
        }
    }
    Ok(caps)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The bit positions of the default set give Docker's `CapEff: 00000000a80425fb`.
    #[test]
    fn the_default_set_is_dockers() {
        let bits: u64 = capabilities(false, None, None)
            .unwrap()
            .iter()
            .map(|c| 1u64 << ALL_CAPABILITIES.iter().position(|a| a == c).unwrap())
            .sum();
        assert_eq!(format!("{bits:016x}"), "00000000a80425fb");
    }

    #[test]
    fn add_and_drop_follow_dockers_rules() {
        let caps =
            capabilities(false, Some(&["net_admin".into()]), Some(&["CHOWN".into()])).unwrap();
        assert!(caps.contains(&"CAP_NET_ADMIN".to_string()));
        assert!(!caps.contains(&"CAP_CHOWN".to_string()));
        let only = capabilities(false, Some(&["KILL".into()]), Some(&["ALL".into()])).unwrap();
        assert_eq!(only, ["CAP_KILL"]);
        assert_eq!(
            capabilities(true, None, None).unwrap(),
            available_capabilities()
        );
        assert!(available_capabilities().len() > 14);
        assert_eq!(
            capabilities(false, Some(&["FLY".into()]), None)
                .unwrap_err()
                .to_string(),
            "unknown capability: \"FLY\""
        );
    }
}
