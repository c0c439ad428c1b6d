//! A service replica as the engine's create request: Docker's `Config`, `HostConfig`,
//! endpoint settings and mounts, as Docker Compose fills them for the same service.

use std::collections::BTreeMap;

use berth_engine::container::CreateRequest;
use berth_engine::container::config::{
    EmptyObject, EndpointIpamConfig, EndpointSettings, HealthConfig, PortBinding, RestartPolicy,
};
use berth_engine::container::mount_spec::{MountRequest, MountType};

use crate::model::service::VolumeType;
use crate::model::{Project, ServiceConfig};

use super::labels;

/// What the request depends on besides the service.
pub struct Replica<'a> {
    pub project: &'a Project,
    pub service: &'a ServiceConfig,
    /// The replica's number; -1 for a one-off, as Compose labels it.
    pub number: i64,
    pub container_name: String,
    pub config_hash: &'a str,
    pub working_dir: &'a str,
    pub config_files: &'a str,
    pub oneoff: Option<&'a super::run::Oneoff<'a>>,
}

pub fn create_request(r: &Replica<'_>) -> Result<CreateRequest, String> {
    let s = r.service;
    let mut req = CreateRequest {
        name: Some(r.container_name.clone()),
        ..CreateRequest::default()
    };
    let c = &mut req.config;
    c.image = s.image.clone();
    c.cmd = s.command.0.clone();
    c.entrypoint = s.entrypoint.0.clone();
    c.env = s
        .environment
        .0
        .iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={v}")))
        .collect();
    c.hostname = s.hostname.clone();
    c.domainname = s.domainname.clone();
    c.user = s.user.clone();
    c.working_dir = s.working_dir.clone();
    c.tty = s.tty;
    c.open_stdin = s.stdin_open;
    c.stop_signal = (!s.stop_signal.is_empty()).then(|| s.stop_signal.clone());
    c.stop_timeout = s.stop_grace_period.as_ref().map(|d| d.0 / 1_000_000_000);
    c.labels = s.labels.0.clone();
    for (k, v) in [
        (labels::PROJECT, r.project.name.clone()),
        (labels::SERVICE, s.name.clone()),
        (labels::NUMBER, r.number.to_string()),
        (
            labels::ONEOFF,
            if r.oneoff.is_some() { "True" } else { "False" }.to_string(),
        ),
        (labels::CONFIG_HASH, r.config_hash.to_string()),
        (labels::WORKING_DIR, r.working_dir.to_string()),
        (labels::CONFIG_FILES, r.config_files.to_string()),
        (labels::DEPENDS_ON, depends_on(s)),
        (labels::VERSION, labels::COMPOSE_VERSION.to_string()),
    ] {
        c.labels.insert(k.to_string(), v);
    }
    if let Some(o) = r.oneoff {
        c.labels
            .insert(labels::SLUG.to_string(), o.slug.to_string());
        c.labels.extend(o.labels.iter().cloned());
        // As `docker run`: attached unless detached; stdin closes with the client's.
        c.attach_stdout = o.attached;
        c.attach_stderr = o.attached;
        c.attach_stdin = o.attached && c.open_stdin;
        c.stdin_once = o.attached && c.open_stdin;
    }
    if let Some(h) = &s.healthcheck {
        c.healthcheck = Some(if h.disable {
            HealthConfig {
                test: vec!["NONE".into()],
                ..HealthConfig::default()
            }
        } else {
            HealthConfig {
                test: h.test.0.clone(),
                interval: h.interval.as_ref().map_or(0, |d| d.0),
                timeout: h.timeout.as_ref().map_or(0, |d| d.0),
                start_period: h.start_period.as_ref().map_or(0, |d| d.0),
                start_interval: h.start_interval.as_ref().map_or(0, |d| d.0),
                retries: h.retries.map_or(0, |n| n as i64),
            }
        });
    }
    let mut exposed: BTreeMap<String, EmptyObject> = BTreeMap::new();
    for e in &s.expose.0 {
        let key = if e.contains('/') {
            e.clone()
        } else {
            format!("{e}/tcp")
        };
        exposed.insert(key, EmptyObject {});
    }
    let h = &mut req.host_config;
    for p in &s.ports {
        let protocol = if p.protocol.is_empty() {
            "tcp"
        } else {
            p.protocol.as_str()
        };
        let key = format!("{}/{protocol}", p.target);
        exposed.insert(key.clone(), EmptyObject {});
        h.port_bindings.entry(key).or_default().push(PortBinding {
            host_ip: p.host_ip.clone(),
            host_port: p.published.0.clone(),
        });
    }
    if !exposed.is_empty() {
        req.config.exposed_ports = Some(exposed);
    }
    h.restart_policy = restart_policy(&s.restart)?;
    h.auto_remove = r.oneoff.is_some_and(|o| o.auto_remove);
    h.init = s.init;
    h.privileged = s.privileged;
    h.readonly_rootfs = s.read_only;
    h.cap_add = (!s.cap_add.is_empty()).then(|| s.cap_add.clone());
    h.cap_drop = (!s.cap_drop.is_empty()).then(|| s.cap_drop.clone());
    h.security_opt = (!s.security_opt.is_empty()).then(|| s.security_opt.clone());
    h.dns = s.dns.0.clone();
    h.dns_search = s.dns_search.0.clone();
    h.dns_options = s.dns_opt.clone();
    let hosts: Vec<String> = s
        .extra_hosts
        .0
        .iter()
        .flat_map(|(host, ips)| ips.iter().map(move |ip| format!("{host}:{ip}")))
        .collect();
    h.extra_hosts = (!hosts.is_empty()).then_some(hosts);
    h.shm_size = s.shm_size.0;
    h.sysctls = (!s.sysctls.0.is_empty()).then(|| s.sysctls.0.clone());
    let limits = s.deploy.as_ref().and_then(|d| d.resources.limits.as_ref());
    h.memory = if s.mem_limit.0 > 0 {
        s.mem_limit.0
    } else {
        limits.map_or(0, |l| l.memory.0)
    };
    let cpus = if s.cpus > 0.0 {
        s.cpus
    } else {
        limits.map_or(0.0, |l| l.cpus)
    };
    h.nano_cpus = (f64::from(cpus) * 1e9).round() as i64;
    let pids = if s.pids_limit != 0 {
        s.pids_limit
    } else {
        limits.map_or(0, |l| l.pids)
    };
    h.pids_limit = (pids != 0).then_some(pids);
    for t in &s.tmpfs.0 {
        let (path, options) = t.split_once(':').unwrap_or((t, ""));
        h.tmpfs
            .get_or_insert_with(BTreeMap::new)
            .insert(path.to_string(), options.to_string());
    }
    super::host::apply(s, h)?;
    networks(r, &mut req)?;
    for (i, v) in s.volumes.iter().enumerate() {
        req.mounts.push(
            mount(r.project, v).map_err(|e| format!("services.{}.volumes[{i}]: {e}", s.name))?,
        );
    }
    Ok(req)
}

/// `db:service_started:false,...`, as Compose writes the label.
fn depends_on(s: &ServiceConfig) -> String {
    s.depends_on
        .iter()
        .map(|(name, d)| {
            let condition = match d.condition {
                crate::model::service::DependsOnCondition::ServiceStarted => "service_started",
                crate::model::service::DependsOnCondition::ServiceHealthy => "service_healthy",
                crate::model::service::DependsOnCondition::ServiceCompletedSuccessfully => {
                    "service_completed_successfully"
                }
            };
            format!("{name}:{condition}:{}", d.restart)
        })
        .collect::<Vec<_>>()
        .join(",")
}

fn restart_policy(text: &str) -> Result<RestartPolicy, String> {
    let (name, count) = text.split_once(':').unwrap_or((text, ""));
    let name = match name {
        "" | "no" => "no",
        "always" | "unless-stopped" | "on-failure" => name,
        other => {
            return Err(format!(
                "restart: {other:?} is not no, always, on-failure[:N] or unless-stopped"
            ));
        }
    };
    let maximum_retry_count = if count.is_empty() {
        0
    } else {
        count
            .parse()
            .map_err(|_| format!("restart: {text:?}: the retry count must be a number"))?
    };
    Ok(RestartPolicy {
        name: name.to_string(),
        maximum_retry_count,
    })
}

/// The service's networks: the first (by priority) is the network mode; each gets the
/// service name and its aliases as DNS names.
fn networks(r: &Replica<'_>, req: &mut CreateRequest) -> Result<(), String> {
    let s = r.service;
    if !s.network_mode.is_empty() {
        req.host_config.network_mode = s.network_mode.clone();
        return Ok(());
    }
    for (i, key) in s.networks_by_priority().into_iter().enumerate() {
        let network = r.project.networks.get(key).ok_or_else(|| {
            format!(
                "services.{}.networks: no network {key} in the project",
                s.name
            )
        })?;
        let name = if network.name.is_empty() {
            format!("{}_{key}", r.project.name)
        } else {
            network.name.clone()
        };
        let config = s.networks.get(key).cloned().flatten().unwrap_or_default();
        // One-off containers get the service's names only with `run --use-aliases`.
        let mut aliases = Vec::new();
        if r.oneoff.is_none_or(|o| o.use_aliases) {
            aliases.push(s.name.clone());
            aliases.extend(config.aliases.iter().cloned());
        }
        let ipam =
            (!config.ipv4_address.is_empty() || !config.ipv6_address.is_empty()).then(|| {
                EndpointIpamConfig {
                    ipv4_address: config.ipv4_address.clone(),
                    ipv6_address: config.ipv6_address.clone(),
                }
            });
        if i == 0 {
            req.host_config.network_mode = name.clone();
        }
        req.networking_config.endpoints_config.insert(
            name,
            EndpointSettings {
                ipam_config: ipam,
                links: None,
                aliases: (!aliases.is_empty()).then_some(aliases),
                mac_address: config.mac_address.clone(),
            },
        );
    }
    Ok(())
}

fn mount(
    project: &Project,
    v: &crate::model::service::ServiceVolumeConfig,
) -> Result<MountRequest, String> {
    let kind = match v.kind {
        Some(VolumeType::Bind) => MountType::Bind,
        Some(VolumeType::Tmpfs) => MountType::Tmpfs,
        Some(VolumeType::Volume) | None => MountType::Volume,
        Some(other) => return Err(format!("volume type {other:?} is not supported")),
    };
    let source = match kind {
        MountType::Volume if v.source.is_empty() => None,
        MountType::Volume => Some(
            project
                .volumes
                .get(&v.source)
                .map(|vol| {
                    if vol.name.is_empty() {
                        format!("{}_{}", project.name, v.source)
                    } else {
                        vol.name.clone()
                    }
                })
                .ok_or_else(|| format!("no volume {} in the project", v.source))?,
        ),
        MountType::Tmpfs => None,
        MountType::Bind => Some(v.source.clone()),
    };
    Ok(MountRequest {
        kind,
        source,
        target: v.target.clone(),
        read_only: v.read_only,
        mode: String::new(),
        propagation: v
            .bind
            .as_ref()
            .map(|b| b.propagation.clone())
            .unwrap_or_default(),
        no_copy: v.volume.as_ref().is_some_and(|x| x.nocopy),
        create_source: v.bind.as_ref().is_some_and(|b| b.create_host_path),
        tmpfs_size: v
            .tmpfs
            .as_ref()
            .map(|t| t.size.0)
            .filter(|n| *n > 0)
            .map(|n| n as u64),
        tmpfs_mode: v.tmpfs.as_ref().map(|t| t.mode).filter(|m| *m != 0),
        tmpfs_options: Vec::new(),
    })
}
