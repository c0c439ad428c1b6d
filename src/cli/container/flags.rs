//! The flags `run` and `create` share, turned into a `CreateRequest` (Docker's Config and
//! HostConfig). Docker flags that berth does not apply yet are accepted by the parser
//! only to be refused at once, by name, before anything is created.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{Context, bail};
use berth_engine::container::config::{
    DeviceMapping, EndpointIpamConfig, EndpointSettings, HealthConfig, NetworkingConfig,
    PortBinding, RestartPolicy, ThrottleDevice, Ulimit,
};
use berth_engine::container::mount_spec;
use berth_engine::container::{Config, CreateRequest, HostConfig};
use clap::Args;

#[derive(Args, Debug, Default)]
pub struct ContainerFlags {
    /// Assign a name to the container
    #[arg(long)]
    pub name: Option<String>,
    /// Container host name
    #[arg(short = 'h', long)]
    pub hostname: Option<String>,
    /// Container NIS domain name
    #[arg(long)]
    pub domainname: Option<String>,
    /// Set meta data on a container
    #[arg(short = 'l', long = "label")]
    pub labels: Vec<String>,
    /// Read in a line delimited file of labels
    #[arg(long = "label-file")]
    pub label_files: Vec<PathBuf>,
    /// Set environment variables
    #[arg(short = 'e', long = "env")]
    pub env: Vec<String>,
    /// Read in a file of environment variables
    #[arg(long = "env-file")]
    pub env_files: Vec<PathBuf>,
    /// Overwrite the default ENTRYPOINT of the image
    #[arg(long)]
    pub entrypoint: Option<String>,
    /// Working directory inside the container
    #[arg(short = 'w', long)]
    pub workdir: Option<String>,
    /// Username or UID (format: <name|uid>[:<group|gid>])
    #[arg(short = 'u', long)]
    pub user: Option<String>,
    /// Add additional groups to join
    #[arg(long = "group-add")]
    pub group_add: Vec<String>,
    /// Connect a container to a network (bridge, a network's name, host, none,
    /// container:<name|id>)
    #[arg(long, visible_alias = "net", default_value = "default")]
    pub network: String,
    /// Run an init inside the container that forwards signals and reaps processes
    #[arg(long)]
    pub init: bool,
    /// Signal to stop the container
    #[arg(long)]
    pub stop_signal: Option<String>,
    /// Timeout (in seconds) to stop a container
    #[arg(long)]
    pub stop_timeout: Option<i64>,
    /// Add Linux capabilities
    #[arg(long = "cap-add")]
    pub cap_add: Vec<String>,
    /// Drop Linux capabilities
    #[arg(long = "cap-drop")]
    pub cap_drop: Vec<String>,
    /// Give extended privileges to this container
    #[arg(long)]
    pub privileged: bool,
    /// Ulimit options (name=soft[:hard])
    #[arg(long = "ulimit")]
    pub ulimits: Vec<String>,
    /// Security options (no-new-privileges, seccomp=unconfined|builtin|<profile.json>,
    /// systempaths=unconfined, label=disable)
    #[arg(long = "security-opt")]
    pub security_opt: Vec<String>,
    /// Logging driver for the container (json-file, none)
    #[arg(long)]
    pub log_driver: Option<String>,
    /// Log driver options
    #[arg(long = "log-opt")]
    pub log_opts: Vec<String>,
    /// Automatically remove the container when it exits
    #[arg(long)]
    pub rm: bool,

    /// Keep STDIN open even if not attached
    #[arg(short = 'i', long)]
    pub interactive: bool,
    /// Allocate a pseudo-TTY
    #[arg(short = 't', long)]
    pub tty: bool,
    /// Override the key sequence for detaching a container
    #[arg(long)]
    pub detach_keys: Option<String>,

    /// Publish a container's port(s) to the host
    #[arg(short = 'p', long = "publish")]
    pub publish: Vec<String>,
    /// Publish all exposed ports to random ports
    #[arg(short = 'P', long = "publish-all")]
    pub publish_all: bool,
    // Docker flags that berth does not apply yet: refused by name in `to_request`.
    /// Bind mount a volume ([source:]destination[:options])
    #[arg(short = 'v', long = "volume")]
    pub volume: Vec<String>,
    /// Attach a filesystem mount to the container (type=bind|volume|tmpfs,...)
    #[arg(long)]
    pub mount: Vec<String>,
    /// Mount a tmpfs directory (destination[:options])
    #[arg(long)]
    pub tmpfs: Vec<String>,
    /// Mount volumes from the specified container(s) (container[:ro|rw])
    #[arg(long = "volumes-from")]
    pub volumes_from: Vec<String>,
    /// Memory limit (e.g. 512m, 1g)
    #[arg(short = 'm', long)]
    pub memory: Option<String>,
    /// Number of CPUs (e.g. 0.5)
    #[arg(long)]
    pub cpus: Option<String>,
    /// CPU shares (relative weight)
    #[arg(long = "cpu-shares", short = 'c')]
    pub cpu_shares: Option<String>,
    /// Tune container pids limit (-1 for unlimited)
    #[arg(long = "pids-limit")]
    pub pids_limit: Option<String>,
    /// Swap limit equal to memory plus swap: '-1' to enable unlimited swap
    #[arg(long = "memory-swap")]
    pub memory_swap: Option<String>,
    /// Memory soft limit
    #[arg(long = "memory-reservation")]
    pub memory_reservation: Option<String>,
    /// Limit CPU CFS (Completely Fair Scheduler) period
    #[arg(long = "cpu-period")]
    pub cpu_period: Option<i64>,
    /// Limit CPU CFS (Completely Fair Scheduler) quota
    #[arg(long = "cpu-quota", allow_hyphen_values = true)]
    pub cpu_quota: Option<i64>,
    /// CPUs in which to allow execution (0-3, 0,1)
    #[arg(long = "cpuset-cpus")]
    pub cpuset_cpus: Option<String>,
    /// MEMs in which to allow execution (0-3, 0,1)
    #[arg(long = "cpuset-mems")]
    pub cpuset_mems: Option<String>,
    /// Block IO (relative weight), between 10 and 1000, or 0 to disable
    #[arg(long = "blkio-weight")]
    pub blkio_weight: Option<u16>,
    /// Limit read rate (bytes per second) from a device
    #[arg(long = "device-read-bps")]
    pub device_read_bps: Vec<String>,
    /// Limit write rate (bytes per second) to a device
    #[arg(long = "device-write-bps")]
    pub device_write_bps: Vec<String>,
    /// Limit read rate (IO per second) from a device
    #[arg(long = "device-read-iops")]
    pub device_read_iops: Vec<String>,
    /// Limit write rate (IO per second) to a device
    #[arg(long = "device-write-iops")]
    pub device_write_iops: Vec<String>,
    /// Disable OOM Killer
    #[arg(long = "oom-kill-disable")]
    pub oom_kill_disable: bool,
    /// Restart policy to apply when a container exits (no, on-failure[:max-retries],
    /// always, unless-stopped)
    #[arg(long)]
    pub restart: Option<String>,
    /// Command to run to check health
    #[arg(long = "health-cmd")]
    pub health_cmd: Option<String>,
    /// Time between running the check (ms|s|m|h) (default 30s)
    #[arg(long = "health-interval")]
    pub health_interval: Option<String>,
    /// Maximum time to allow one check to run (ms|s|m|h) (default 30s)
    #[arg(long = "health-timeout")]
    pub health_timeout: Option<String>,
    /// Consecutive failures needed to report unhealthy
    #[arg(long = "health-retries", allow_negative_numbers = true)]
    pub health_retries: Option<i64>,
    /// Start period for the container to initialize before starting health-retries countdown (ms|s|m|h)
    #[arg(long = "health-start-period")]
    pub health_start_period: Option<String>,
    /// Time between running the check during the start period (ms|s|m|h) (default 5s)
    #[arg(long = "health-start-interval")]
    pub health_start_interval: Option<String>,
    /// Disable any container-specified HEALTHCHECK
    #[arg(long = "no-healthcheck")]
    pub no_healthcheck: bool,
    /// Set custom DNS servers
    #[arg(long)]
    pub dns: Vec<String>,
    /// Set custom DNS search domains
    #[arg(long = "dns-search")]
    pub dns_search: Vec<String>,
    /// Set DNS options
    #[arg(long = "dns-option", visible_alias = "dns-opt")]
    pub dns_option: Vec<String>,
    /// Add a custom host-to-IP mapping (host:ip)
    #[arg(long = "add-host")]
    pub add_host: Vec<String>,
    /// IPv4 address (e.g., 172.30.100.104)
    #[arg(long)]
    pub ip: Option<String>,
    /// IPv6 address (e.g., 2001:db8::33)
    #[arg(long)]
    pub ip6: Option<String>,
    /// Add network-scoped alias for the container
    #[arg(long = "network-alias", visible_alias = "net-alias")]
    pub network_alias: Vec<String>,
    /// Container MAC address (e.g., 92:d0:c6:0a:29:33)
    #[arg(long = "mac-address")]
    pub mac_address: Option<String>,
    /// Add a host device to the container (HOST[:CONTAINER[:PERMISSIONS]])
    #[arg(long)]
    pub device: Vec<String>,
    /// Sysctl options (name=value)
    #[arg(long)]
    pub sysctl: Vec<String>,
    /// Size of /dev/shm (e.g. 128m)
    #[arg(long = "shm-size")]
    pub shm_size: Option<String>,
    /// PID namespace to use (host)
    #[arg(long)]
    pub pid: Option<String>,
    /// IPC mode to use (private, shareable, host, none, container:<name>)
    #[arg(long)]
    pub ipc: Option<String>,
    #[arg(long, hide = true)]
    pub link: Vec<String>,
    /// Expose a port or a range of ports
    #[arg(long)]
    pub expose: Vec<String>,
    /// Mount the container's root filesystem as read only
    #[arg(long = "read-only")]
    pub read_only: bool,
    /// Set platform if server is multi-platform capable
    #[arg(long)]
    pub platform: Option<String>,
    /// Pull image before running ("always", "missing", "never")
    #[arg(long)]
    pub pull: Option<String>,
}

impl ContainerFlags {
    /// The request for `image` and its command words; refuses what berth cannot apply.
    pub fn to_request(&self, image: &str, command: &[String]) -> anyhow::Result<CreateRequest> {
        let mut env = Vec::new();
        for file in &self.env_files {
            env.extend(read_env_file(file)?);
        }
        for e in &self.env {
            env.push(match e.split_once('=') {
                Some(_) => e.clone(),
                // `-e NAME` takes the value from berth's environment, or drops it.
                None => match std::env::var(e) {
                    Ok(v) => format!("{e}={v}"),
                    Err(_) => continue,
                },
            });
        }
        let mut labels = BTreeMap::new();
        for file in &self.label_files {
            for line in read_lines(file)? {
                let (k, v) = line.split_once('=').unwrap_or((line.as_str(), ""));
                labels.insert(k.to_string(), v.to_string());
            }
        }
        for l in &self.labels {
            let (k, v) = l.split_once('=').unwrap_or((l.as_str(), ""));
            labels.insert(k.to_string(), v.to_string());
        }
        let entrypoint = self.entrypoint.as_ref().map(|e| {
            if e.is_empty() {
                Vec::new()
            } else {
                vec![e.clone()]
            }
        });
        let healthcheck = self.healthcheck()?;
        let config = Config {
            hostname: self.hostname.clone().unwrap_or_default(),
            domainname: self.domainname.clone().unwrap_or_default(),
            user: self.user.clone().unwrap_or_default(),
            attach_stdin: self.interactive,
            attach_stdout: true,
            attach_stderr: true,
            open_stdin: self.interactive,
            // Docker: stdin attached with -i closes when the client's does.
            stdin_once: self.interactive,
            tty: self.tty,
            env,
            cmd: (!command.is_empty()).then(|| command.to_vec()),
            image: image.to_string(),
            working_dir: self.workdir.clone().unwrap_or_default(),
            entrypoint,
            labels,
            stop_signal: self.stop_signal.clone(),
            stop_timeout: self.stop_timeout,
            healthcheck,
            ..Config::default()
        };
        if let Some(signal) = &self.stop_signal {
            super::signal::parse(signal)?;
        }
        let network_mode = self.network.clone();
        if network_mode.is_empty() {
            bail!("invalid --network \"\": name a network, or use bridge, host or none");
        }
        let mut log_config = berth_engine::container::config::LogConfig::default();
        if let Some(driver) = &self.log_driver {
            log_config.kind = driver.clone();
        }
        for opt in &self.log_opts {
            let (k, v) = opt
                .split_once('=')
                .with_context(|| format!("invalid log opt {opt:?}: expected key=value"))?;
            log_config.config.insert(k.to_string(), v.to_string());
        }
        berth_engine::container::logs::LogDriver::from_config(
            &log_config.kind,
            log_config
                .config
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str())),
        )?;
        let security_opt = security_opts(&self.security_opt)?;
        let ulimits = self
            .ulimits
            .iter()
            .map(|u| parse_ulimit(u))
            .collect::<anyhow::Result<Vec<_>>>()?;
        berth_engine::container::spec::capabilities(
            self.privileged,
            Some(&self.cap_add),
            Some(&self.cap_drop),
        )?;
        let host_config = HostConfig {
            network_mode,
            auto_remove: self.rm,
            log_config,
            cap_add: (!self.cap_add.is_empty()).then(|| self.cap_add.clone()),
            cap_drop: (!self.cap_drop.is_empty()).then(|| self.cap_drop.clone()),
            privileged: self.privileged,
            readonly_rootfs: self.read_only,
            memory: self
                .memory
                .as_deref()
                .map(|v| parse_bytes("--memory", v))
                .transpose()?
                .unwrap_or(0),
            memory_swap: match self.memory_swap.as_deref() {
                Some("-1") => -1,
                Some(v) => parse_bytes("--memory-swap", v)?,
                None => 0,
            },
            memory_reservation: self
                .memory_reservation
                .as_deref()
                .map(|v| parse_bytes("--memory-reservation", v))
                .transpose()?
                .unwrap_or(0),
            oom_kill_disable: self.oom_kill_disable.then_some(true),
            cpu_period: self.cpu_period.unwrap_or(0),
            cpu_quota: self.cpu_quota.unwrap_or(0),
            cpuset_cpus: self.cpuset_cpus.clone().unwrap_or_default(),
            cpuset_mems: self.cpuset_mems.clone().unwrap_or_default(),
            blkio_weight: self.blkio_weight.unwrap_or(0),
            blkio_device_read_bps: throttles("--device-read-bps", &self.device_read_bps, true)?,
            blkio_device_write_bps: throttles("--device-write-bps", &self.device_write_bps, true)?,
            blkio_device_read_iops: throttles("--device-read-iops", &self.device_read_iops, false)?,
            blkio_device_write_iops: throttles(
                "--device-write-iops",
                &self.device_write_iops,
                false,
            )?,
            nano_cpus: self
                .cpus
                .as_deref()
                .map(parse_cpus)
                .transpose()?
                .unwrap_or(0),
            cpu_shares: self
                .cpu_shares
                .as_deref()
                .map(|s| {
                    s.parse::<i64>().ok().filter(|n| *n >= 0).with_context(|| {
                        format!("invalid --cpu-shares {s:?}: expected a non-negative integer")
                    })
                })
                .transpose()?
                .unwrap_or(0),
            pids_limit: self
                .pids_limit
                .as_deref()
                .map(|s| {
                    s.parse::<i64>().with_context(|| {
                        format!(
                            "invalid --pids-limit {s:?}: expected an integer (-1 for unlimited)"
                        )
                    })
                })
                .transpose()?
                .filter(|n| *n > 0),
            group_add: (!self.group_add.is_empty()).then(|| self.group_add.clone()),
            security_opt: (!security_opt.is_empty()).then_some(security_opt),
            ulimits,
            init: self.init.then_some(true),
            ..HostConfig::default()
        };
        let mut host_config = host_config;
        let mut mounts = Vec::new();
        for v in &self.volume {
            mounts.push(mount_spec::parse_volume_flag(v)?);
        }
        let mut mount_json = Vec::new();
        for m in &self.mount {
            let parsed = mount_spec::parse_mount_flag(m)?;
            mount_json.push(serde_json::json!({
                "Type": parsed.kind.as_str(),
                "Source": parsed.source.clone().unwrap_or_default(),
                "Target": parsed.target,
                "ReadOnly": parsed.read_only,
            }));
            mounts.push(parsed);
        }
        let mut tmpfs = BTreeMap::new();
        for t in &self.tmpfs {
            let parsed = mount_spec::parse_tmpfs_flag(t)?;
            tmpfs.insert(parsed.target.clone(), parsed.mode.clone());
            mounts.push(parsed);
        }
        host_config.devices = self
            .device
            .iter()
            .map(|d| parse_device(d))
            .collect::<anyhow::Result<_>>()?;
        let mut sysctls = BTreeMap::new();
        for s in &self.sysctl {
            let (k, v) = s
                .split_once('=')
                .filter(|(k, _)| !k.is_empty())
                .with_context(|| {
                    format!("invalid argument {s:?} for \"--sysctl\" flag: expected name=value")
                })?;
            sysctls.insert(k.to_string(), v.to_string());
        }
        host_config.sysctls = (!sysctls.is_empty()).then_some(sysctls);
        if let Some(size) = &self.shm_size {
            host_config.shm_size = parse_bytes("--shm-size", size)?;
        }
        if let Some(pid) = &self.pid {
            host_config.pid_mode = pid.clone();
        }
        if let Some(ipc) = &self.ipc {
            host_config.ipc_mode = ipc.clone();
        }
        if let Some(policy) = &self.restart {
            host_config.restart_policy = parse_restart(policy)?;
            if self.rm && host_config.restart_policy.name != "no" {
                bail!("conflicting options: cannot specify both --restart and --rm");
            }
        }
        host_config.binds = (!self.volume.is_empty()).then(|| self.volume.clone());
        host_config.volumes_from =
            (!self.volumes_from.is_empty()).then(|| self.volumes_from.clone());
        host_config.mounts = (!mount_json.is_empty()).then_some(mount_json);
        host_config.tmpfs = (!tmpfs.is_empty()).then_some(tmpfs);
        let networking_config = self.networking(&mut host_config)?;
        let mut config = config;
        self.ports(&mut config, &mut host_config)?;
        Ok(CreateRequest {
            name: self.name.clone(),
            config,
            host_config,
            networking_config,
            mounts,
        })
    }

    /// `-p`, `-P` and `--expose` as Docker records them: `PortBindings`, with every
    /// published or exposed port also in `ExposedPorts`.
    fn ports(&self, config: &mut Config, host_config: &mut HostConfig) -> anyhow::Result<()> {
        let mut exposed = BTreeMap::new();
        for e in &self.expose {
            for key in berth_net::ports::parse_expose(e)? {
                exposed.insert(key, Default::default());
            }
        }
        for p in &self.publish {
            for b in berth_net::ports::parse_publish(p)? {
                exposed.insert(b.port.clone(), Default::default());
                host_config
                    .port_bindings
                    .entry(b.port)
                    .or_default()
                    .push(PortBinding {
                        host_ip: b.host_ip,
                        host_port: b.host_port,
                    });
            }
        }
        host_config.publish_all_ports = self.publish_all;
        let publishing = !host_config.port_bindings.is_empty() || self.publish_all;
        match self.network.as_str() {
            "host" if publishing => {
                crate::cli::output::warning(
                    "Published ports are discarded when using host network mode",
                );
                host_config.port_bindings.clear();
                host_config.publish_all_ports = false;
            }
            "none" if publishing => bail!(
                "conflicting options: port publishing and --network none (the container has no address to publish)"
            ),
            m if m.starts_with("container:") && publishing => {
                bail!("conflicting options: port publishing and the container type network mode")
            }
            _ => {}
        }
        if !exposed.is_empty() {
            config
                .exposed_ports
                .get_or_insert_with(BTreeMap::new)
                .extend(exposed);
        }
        Ok(())
    }

    /// `--dns*`, `--add-host`, and the endpoint settings of the `--network` network
    /// (`--ip`, `--ip6`, `--network-alias`, `--mac-address`), checked as Docker does.
    fn networking(&self, host_config: &mut HostConfig) -> anyhow::Result<NetworkingConfig> {
        for server in &self.dns {
            server
                .parse::<std::net::IpAddr>()
                .map_err(|_| anyhow::anyhow!("{server} is not an ip address (in --dns)"))?;
        }
        for entry in &self.add_host {
            berth_engine::container::etc_files::parse_extra_host(entry).map_err(|e| {
                anyhow::anyhow!("invalid argument {entry:?} for \"--add-host\" flag: {e}")
            })?;
        }
        host_config.dns = self.dns.clone();
        host_config.dns_search = self.dns_search.clone();
        host_config.dns_options = self.dns_option.clone();
        host_config.extra_hosts = (!self.add_host.is_empty()).then(|| self.add_host.clone());
        host_config.links = (!self.link.is_empty()).then(|| self.link.clone());
        let check_ip = |flag: &str, value: &Option<String>, v4: bool| {
            if let Some(text) = value {
                let ok = text
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_ipv4() == v4);
                if !ok {
                    bail!("invalid argument {text:?} for \"{flag}\" flag: invalid IP address");
                }
            }
            Ok(())
        };
        check_ip("--ip", &self.ip, true)?;
        check_ip("--ip6", &self.ip6, false)?;
        if let Some(mac) = &self.mac_address
            && berth_engine::network::parse_mac(mac).is_none()
        {
            bail!("{mac} is not a valid mac address");
        }
        let mut out = NetworkingConfig::default();
        let wants_endpoint = self.ip.is_some()
            || self.ip6.is_some()
            || !self.network_alias.is_empty()
            || self.mac_address.is_some();
        if wants_endpoint {
            let Some(network) = berth_engine::network::attach::mode_network(&self.network) else {
                bail!(
                    "--ip, --ip6, --network-alias and --mac-address need a bridge network, not --network {}",
                    self.network
                );
            };
            let ipam = (self.ip.is_some() || self.ip6.is_some()).then(|| EndpointIpamConfig {
                ipv4_address: self.ip.clone().unwrap_or_default(),
                ipv6_address: self.ip6.clone().unwrap_or_default(),
            });
            out.endpoints_config.insert(
                network.to_string(),
                EndpointSettings {
                    ipam_config: ipam,
                    links: None,
                    aliases: (!self.network_alias.is_empty()).then(|| self.network_alias.clone()),
                    mac_address: self.mac_address.clone().unwrap_or_default(),
                },
            );
        }
        Ok(out)
    }

    /// `--health-*` and `--no-healthcheck` as Docker's `HealthConfig` (durations in ns).
    fn healthcheck(&self) -> anyhow::Result<Option<HealthConfig>> {
        let any = self.health_cmd.is_some()
            || self.health_interval.is_some()
            || self.health_timeout.is_some()
            || self.health_retries.is_some()
            || self.health_start_period.is_some()
            || self.health_start_interval.is_some();
        if self.no_healthcheck {
            if any {
                bail!("--no-healthcheck conflicts with --health-* options");
            }
            return Ok(Some(HealthConfig {
                test: vec!["NONE".into()],
                ..HealthConfig::default()
            }));
        }
        if !any {
            return Ok(None);
        }
        let duration = |flag: &str, v: &Option<String>| -> anyhow::Result<i64> {
            match v {
                None => Ok(0),
                Some(v) => {
                    let d = parse_go_duration(v).with_context(|| format!("invalid argument {v:?} for \"{flag}\" flag: expected a duration such as 30s, 1m30s or 500ms"))?;
                    if d != 0 && d < 1_000_000 {
                        bail!("{flag} cannot be less than 1ms");
                    }
                    Ok(d)
                }
            }
        };
        let retries = self.health_retries.unwrap_or(0);
        if retries < 0 {
            bail!("--health-retries cannot be negative");
        }
        Ok(Some(HealthConfig {
            test: self
                .health_cmd
                .as_ref()
                .map(|c| vec!["CMD-SHELL".to_string(), c.clone()])
                .unwrap_or_default(),
            interval: duration("--health-interval", &self.health_interval)?,
            timeout: duration("--health-timeout", &self.health_timeout)?,
            start_period: duration("--health-start-period", &self.health_start_period)?,
            start_interval: duration("--health-start-interval", &self.health_start_interval)?,
            retries,
        }))
    }
}

/// Docker's `RAMInBytes`: a number with an optional binary unit (`b`, `k`, `m`, `g`, `t`,
/// `p`, optionally followed by `b`). The engine checks the minimums.
fn parse_bytes(flag: &str, value: &str) -> anyhow::Result<i64> {
    let bad = || format!("invalid {flag} {value:?}: expected a size such as 512m or 1g");
    let lower = value.trim().to_ascii_lowercase();
    let lower = lower.strip_suffix('b').unwrap_or(&lower);
    let (number, shift) = match lower.chars().last() {
        Some('k') => (&lower[..lower.len() - 1], 10),
        Some('m') => (&lower[..lower.len() - 1], 20),
        Some('g') => (&lower[..lower.len() - 1], 30),
        Some('t') => (&lower[..lower.len() - 1], 40),
        Some('p') => (&lower[..lower.len() - 1], 50),
        _ => (lower, 0),
    };
    let n: f64 = number
        .parse()
        .ok()
        .filter(|n: &f64| *n >= 0.0 && n.is_finite())
        .with_context(bad)?;
    Ok((n * (1u64 << shift) as f64) as i64)
}

/// `--device-read-bps /dev/sda:1mb` (a size) or `--device-read-iops /dev/sda:1000` (a
/// count), Docker's syntax; the engine checks that the device exists.
fn throttles(flag: &str, values: &[String], bytes: bool) -> anyhow::Result<Vec<ThrottleDevice>> {
    values
        .iter()
        .map(|v| {
            let form = if bytes {
                "<device-path>:<number>[<unit>]"
            } else {
                "<device-path>:<number>"
            };
            let (path, rate) = v
                .rsplit_once(':')
                .filter(|(p, _)| p.starts_with("/dev/"))
                .with_context(|| {
                    format!(
                        "invalid {flag} {v:?}: expected {form}, e.g. /dev/sda:{}",
                        if bytes { "1mb" } else { "1000" }
                    )
                })?;
            let rate = if bytes {
                parse_bytes(flag, rate)?
            } else {
                rate.parse::<i64>().with_context(|| {
                    format!("invalid {flag} {v:?}: the rate must be a positive integer")
                })?
            };
            let rate = u64::try_from(rate)
                .ok()
                .filter(|r| *r > 0)
                .with_context(|| format!("invalid {flag} {v:?}: the rate must be positive"))?;
            Ok(ThrottleDevice {
                path: path.to_string(),
                rate,
            })
        })
        .collect()
}

/// Go's `time.ParseDuration` for the units Docker users write (`h`, `m`, `s`, `ms`, `us`,
/// `ns`, combined: `1m30s`, fractions: `1.5s`), in nanoseconds.
fn parse_go_duration(s: &str) -> Option<i64> {
    if s == "0" {
        return Some(0);
    }
    let mut total = 0f64;
    let mut rest = s;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let (number, tail) = rest.split_at(digits);
        let value: f64 = number.parse().ok()?;
        let unit_len = tail
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(tail.len());
        let (unit, tail) = tail.split_at(unit_len);
        let scale = match unit {
            "h" => 3.6e12,
            "m" => 6e10,
            "s" => 1e9,
            "ms" => 1e6,
            "us" | "µs" => 1e3,
            "ns" => 1.0,
            _ => return None,
        };
        total += value * scale;
        rest = tail;
    }
    Some(total as i64)
}

/// `--restart no|always|unless-stopped|on-failure[:N]` (Docker's names and checks).
fn parse_restart(value: &str) -> anyhow::Result<RestartPolicy> {
    let (name, count) = match value.split_once(':') {
        Some((n, c)) => (n, Some(c)),
        None => (value, None),
    };
    let maximum_retry_count = match (name, count) {
        ("on-failure", Some(c)) => c
            .parse::<i64>()
            .ok()
            .filter(|n| *n >= 0)
            .with_context(|| format!("invalid restart policy {value:?}: the maximum retry count must be a non-negative integer"))?,
        ("no" | "always" | "unless-stopped", Some(_)) => {
            bail!("invalid restart policy {value:?}: maximum retry count cannot be used with restart policy '{name}'")
        }
        ("no" | "always" | "unless-stopped" | "on-failure", None) => 0,
        _ => bail!("invalid restart policy {value:?}: expected no, always, unless-stopped or on-failure[:max-retries]"),
    };
    Ok(RestartPolicy {
        name: name.to_string(),
        maximum_retry_count,
    })
}

/// `--device /dev/fuse`, `/dev/sda:/dev/xvda`, `/dev/sda:/dev/xvda:r` (Docker's syntax;
/// permissions any of `rwm`, default all three).
fn parse_device(spec: &str) -> anyhow::Result<DeviceMapping> {
    let parts: Vec<&str> = spec.split(':').collect();
    let perms_ok = |p: &str| !p.is_empty() && p.chars().all(|c| matches!(c, 'r' | 'w' | 'm'));
    let (host, container, perms) = match parts.as_slice() {
        [h] => (*h, *h, "rwm"),
        [h, p] if perms_ok(p) => (*h, *h, *p),
        [h, c] => (*h, *c, "rwm"),
        [h, c, p] if perms_ok(p) => (*h, *c, *p),
        _ => bail!(
            "invalid device specification {spec:?}: expected HOST[:CONTAINER[:PERMISSIONS]] with permissions of r, w and m"
        ),
    };
    if !host.starts_with('/') || !container.starts_with('/') {
        bail!("invalid device specification {spec:?}: device paths must be absolute");
    }
    Ok(DeviceMapping {
        path_on_host: host.to_string(),
        path_in_container: container.to_string(),
        cgroup_permissions: perms.to_string(),
    })
}

/// `--cpus 1.5` as Docker's `NanoCpus`.
fn parse_cpus(value: &str) -> anyhow::Result<i64> {
    let cpus: f64 = value
        .parse()
        .ok()
        .filter(|c: &f64| *c > 0.0 && c.is_finite())
        .with_context(|| {
            format!("invalid --cpus {value:?}: expected a positive number such as 0.5")
        })?;
    let available = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1) as f64;
    if cpus < 0.01 || cpus > available {
        bail!(
            "range of CPUs is from 0.01 to {available:.2}, as there are only {available} CPUs available"
        );
    }
    Ok((cpus * 1e9) as i64)
}

/// `--ulimit nofile=1024:2048` (Docker's syntax; `-1` is unlimited).
fn parse_ulimit(spec: &str) -> anyhow::Result<Ulimit> {
    let bad =
        || format!("invalid ulimit {spec:?}: expected name=soft[:hard], e.g. nofile=1024:2048");
    let (name, values) = spec.split_once('=').with_context(bad)?;
    const NAMES: [&str; 16] = [
        "core",
        "cpu",
        "data",
        "fsize",
        "locks",
        "memlock",
        "msgqueue",
        "nice",
        "nofile",
        "nproc",
        "rss",
        "rtprio",
        "rttime",
        "sigpending",
        "stack",
        "as",
    ];
    if !NAMES.contains(&name) {
        bail!("invalid ulimit {spec:?}: unknown ulimit type {name:?}");
    }
    let parse = |v: &str| v.parse::<i64>().with_context(bad);
    let (soft, hard) = match values.split_once(':') {
        Some((s, h)) => (parse(s)?, parse(h)?),
        None => (parse(values)?, parse(values)?),
    };
    if soft > hard && hard >= 0 {
        bail!("invalid ulimit {spec:?}: soft limit {soft} is larger than the hard limit {hard}");
    }
    Ok(Ulimit {
        name: name.to_string(),
        soft,
        hard,
    })
}

fn read_lines(file: &PathBuf) -> anyhow::Result<Vec<String>> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    Ok(text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect())
}

/// Docker's `--env-file`: `NAME=value` lines, `NAME` alone takes berth's environment.
pub fn read_env_file(file: &PathBuf) -> anyhow::Result<Vec<String>> {
    let mut env = Vec::new();
    for (n, line) in read_lines(file)?.into_iter().enumerate() {
        match line.split_once('=') {
            Some((k, _)) if k.is_empty() || k.contains(char::is_whitespace) => {
                bail!("{}:{}: invalid variable name {k:?}", file.display(), n + 1)
            }
            Some(_) => env.push(line),
            None => {
                if let Ok(v) = std::env::var(&line) {
                    env.push(format!("{line}={v}"));
                }
            }
        }
    }
    Ok(env)
}

/// `--security-opt` as Docker's CLI sends it: a `seccomp=<file>` is replaced by the
/// file's JSON (compacted), so the container keeps the profile it was created with; every
/// option is checked before anything is created.
fn security_opts(opts: &[String]) -> anyhow::Result<Vec<String>> {
    let mut out = Vec::with_capacity(opts.len());
    for opt in opts {
        let file = opt
            .strip_prefix("seccomp=")
            .or_else(|| opt.strip_prefix("seccomp:"))
            .filter(|v| {
                !matches!(*v, "unconfined" | "builtin" | "") && !v.trim_start().starts_with('{')
            });
        let Some(file) = file else {
            out.push(opt.clone());
            continue;
        };
        let text = std::fs::read_to_string(file)
            .with_context(|| format!("opening seccomp profile ({file}) failed"))?;
        berth_engine::seccomp::Profile::parse(&text).map_err(|e| anyhow::anyhow!("{file}: {e}"))?;
        let value: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| anyhow::anyhow!("{file}: {e}"))?;
        out.push(format!("seccomp={}", serde_json::to_string(&value)?));
    }
    berth_engine::container::security_opt::parse(&out)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_cpus_parse_like_dockers() {
        let m = |v| parse_bytes("--memory", v);
        assert_eq!(m("64m").unwrap(), 64 << 20);
        assert_eq!(m("1g").unwrap(), 1 << 30);
        assert_eq!(m("512MB").unwrap(), 512 << 20);
        assert_eq!(m("7340032").unwrap(), 7 << 20);
        assert_eq!(m("1k").unwrap(), 1024);
        assert!(m("lots").is_err());
        let t = throttles("--device-read-bps", &["/dev/vda:1mb".into()], true).unwrap();
        assert_eq!((t[0].path.as_str(), t[0].rate), ("/dev/vda", 1 << 20));
        let e = throttles("--device-read-iops", &["vda:10".into()], false).unwrap_err();
        assert!(
            e.to_string().contains("expected <device-path>:<number>"),
            "{e}"
        );
        assert!(throttles("--device-write-iops", &["/dev/vda:0".into()], false).is_err());
        assert_eq!(parse_cpus("0.5").unwrap(), 500_000_000);
        assert!(parse_cpus("0.001").is_err());
        assert!(parse_cpus("-1").is_err());
    }

    #[test]
    fn go_durations() {
        assert_eq!(parse_go_duration("30s"), Some(30_000_000_000));
        assert_eq!(parse_go_duration("1m30s"), Some(90_000_000_000));
        assert_eq!(parse_go_duration("500ms"), Some(500_000_000));
        assert_eq!(parse_go_duration("1.5s"), Some(1_500_000_000));
        assert_eq!(parse_go_duration("0"), Some(0));
        assert_eq!(parse_go_duration("10"), None);
        assert_eq!(parse_go_duration("5x"), None);
    }

    #[test]
    fn ulimits_parse_like_dockers() {
        assert_eq!(parse_ulimit("nofile=1024:2048").unwrap().hard, 2048);
        assert_eq!(parse_ulimit("nproc=10").unwrap().soft, 10);
        assert!(parse_ulimit("nofile=2:1").is_err());
        assert!(
            parse_ulimit("bogus=1")
                .unwrap_err()
                .to_string()
                .contains("unknown ulimit type")
        );
    }
}
