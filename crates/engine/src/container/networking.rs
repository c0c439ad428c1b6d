//! A run's network attachment, as the supervisor holds it: the endpoints given at start
//! (see `network::attach`), connected into the init's namespace before it goes on, and
//! released when the run ends (dropping this), whatever the way it ends.

use std::fs::File;
use std::net::IpAddr;
use std::os::fd::AsFd;

use super::Containers;
use super::etc_files::EtcInputs;
use super::record::ContainerRecord;
use crate::network::Networks;
use crate::network::attach::{self, Attachments};
use crate::network::dns_server::{DnsServer, Sockets, upstream_addresses};
use crate::network::proxy::{self, Proxy, Wanted};
use crate::runtime::Init;

pub struct Attachment {
    networks: Option<Networks>,
    container_id: String,
    pub items: Attachments,
    addresses: Vec<IpAddr>,
    /// `--network container:<x>`: x's directory.
    shared_from: Option<std::path::PathBuf>,
    container_dir: std::path::PathBuf,
    /// What the default bridge's legacy links give the container.
    pub linked: super::links::Linked,
}

impl Attachment {
    /// Endpoints on every network the container joins (none for `none`, `host` and
    /// `container:` modes).
    pub fn prepare(containers: &Containers, record: &ContainerRecord) -> Result<Self, String> {
        let mut out = Attachment {
            networks: None,
            container_id: record.id.clone(),
            items: Attachments::default(),
            addresses: Vec::new(),
            shared_from: None,
            container_dir: containers.dir(&record.id),
            linked: super::links::Linked::default(),
        };
        if let Some(other) = record.host_config.network_mode.strip_prefix("container:") {
            let id = containers.lookup(other).map_err(|e| e.to_string())?;
            out.shared_from = Some(containers.dir(&id));
        }
        if attach::mode_network(&record.host_config.network_mode).is_none() {
            return Ok(out);
        }
        let networks = Networks::open(containers.root()).map_err(|e| e.to_string())?;
        out.items = attach::prepare(&networks, record).map_err(|e| e.to_string())?;
        out.networks = Some(networks);
        out.linked = super::links::resolve(containers, record)?;
        if let Some(first) = out.items.items.first() {
            out.addresses = [first.endpoint.ipv4, first.endpoint.ipv6]
                .into_iter()
                .flatten()
                .collect();
        }
        Ok(out)
    }

    pub fn etc_inputs(&self) -> EtcInputs<'_> {
        let first = self.items.items.first();
        EtcInputs {
            addresses: &self.addresses,
            host_gateway: first.and_then(|a| a.network.network.ipv4().and_then(|c| c.gateway)),
            embedded_dns: first.is_some_and(|a| a.network.network.has_dns()),
            shared_from: self.shared_from.clone(),
            links: &self.linked.hosts,
        }
    }

    /// The networks whose names the container resolves through the embedded server,
    /// as (id, name).
    fn dns_networks(&self) -> Vec<(String, String)> {
        self.items
            .items
            .iter()
            .filter(|a| a.network.network.has_dns())
            .map(|a| (a.network.network.id.clone(), a.network.network.name.clone()))
            .collect()
    }

    /// Gives the init (cloned, not yet going) its interfaces and, on networks with
    /// names, its DNS server's sockets.
    pub fn connect(
        &self,
        init: &Init,
        record: &ContainerRecord,
    ) -> Result<Option<DnsServer>, String> {
        if self.items.is_empty() {
            return Ok(None);
        }
        let path = format!("/proc/{}/ns/net", init.pid());
        let netns = File::open(&path).map_err(|e| format!("open {path}: {e}"))?;
        self.items
            .connect(netns.as_fd())
            .map_err(|e| format!("cannot connect the container to its networks: {e}"))?;
        let ids = self.dns_networks();
        let Some(networks) = self.networks.clone().filter(|_| !ids.is_empty()) else {
            return Ok(None);
        };
        let dns_error = |e: std::io::Error| format!("cannot start the embedded DNS server: {e}");
        let sockets = berth_net::netns::within(netns.as_fd(), Sockets::bind)
            .and_then(|r| r)
            .map_err(dns_error)?;
        let host_resolv =
            std::fs::read_to_string(super::etc_files::HOST_RESOLV_CONF).unwrap_or_default();
        let upstreams = upstream_addresses(&super::etc_files::upstreams(
            &record.host_config,
            &host_resolv,
        ));
        DnsServer::new(
            sockets,
            networks,
            ids,
            upstreams,
            self.container_dir.clone(),
        )
        .map(Some)
        .map_err(dns_error)
    }
}

impl Drop for Attachment {
    fn drop(&mut self) {
        if let Some(networks) = &self.networks {
            self.items.release(networks, &self.container_id);
        }
    }
}

/// `create`'s checks, Docker's words: the networks exist, and `--ip` / aliases are only
/// for user-defined networks.
pub fn check_create(
    containers: &Containers,
    host: &super::config::HostConfig,
    networking: &super::config::NetworkingConfig,
) -> Result<(), super::ContainerError> {
    use super::ContainerError::Invalid;
    let mode = host.network_mode.as_str();
    if let Some(other) = mode.strip_prefix("container:") {
        if other.is_empty() {
            return Err(Invalid(
                "invalid --network container:: name a container".into(),
            ));
        }
        containers.lookup(other)?;
    }
    let Some(first) = attach::mode_network(mode) else {
        if let Some(name) = networking.endpoints_config.keys().next() {
            return Err(Invalid(format!(
                "container cannot be connected to network {name} with network mode {mode}"
            )));
        }
        return Ok(());
    };
    let networks = Networks::open(containers.root()).map_err(|e| Invalid(e.to_string()))?;
    let mut names: Vec<&str> = vec![first];
    names.extend(networking.endpoints_config.keys().map(String::as_str));
    for name in names {
        let file = networks.find(name).map_err(|e| Invalid(e.to_string()))?;
        let network = &file.network;
        if network.driver != "bridge" {
            return Err(Invalid(format!(
                "container cannot be connected to network {} (driver {}) this way: use --network {} alone",
                network.name, network.driver, network.name
            )));
        }
        let Some(settings) = networking.endpoints_config.get(name) else {
            continue;
        };
        check_settings(network, settings)?;
    }
    Ok(())
}

/// What a container asks of one network, checked as Docker does: static addresses and
/// aliases only on user-defined networks, static addresses inside a subnet.
fn check_settings(
    network: &crate::network::Network,
    settings: &super::config::EndpointSettings,
) -> Result<(), super::ContainerError> {
    use super::ContainerError::Invalid;
    if network.name == "bridge" {
        if settings.ipam_config.is_some() {
            return Err(Invalid(
                "user specified IP address is supported on user defined networks only".into(),
            ));
        }
        if settings.aliases.as_ref().is_some_and(|a| !a.is_empty()) {
            return Err(Invalid(
                "network-scoped alias is supported only for containers in user defined networks"
                    .into(),
            ));
        }
        if settings.links.as_ref().is_some_and(|l| !l.is_empty()) {
            return Err(Invalid(
                "links are only supported for user-defined networks".into(),
            ));
        }
    }
    for link in settings.links.iter().flatten() {
        super::links::parse(link)?;
    }
    if let Some(ipam) = &settings.ipam_config {
        check_static(network, &ipam.ipv4_address)?;
        check_static(network, &ipam.ipv6_address)?;
    }
    Ok(())
}

/// A static address must lie in one of the network's subnets (Docker checks it at start;
/// berth at create, before anything exists).
fn check_static(
    network: &crate::network::Network,
    text: &str,
) -> Result<(), super::ContainerError> {
    if text.is_empty() {
        return Ok(());
    }
    let ip: IpAddr = text
        .parse()
        .map_err(|_| super::ContainerError::Invalid(format!("invalid IP address {text:?}")))?;
    if network.ipam.config.iter().any(|c| c.subnet.contains(ip)) {
        return Ok(());
    }
    Err(super::ContainerError::Invalid(format!(
        "no configured subnet contains IP address {ip} of network {}",
        network.name
    )))
}

/// Drops the container's endpoints (a removal after its supervisor died: nothing else
/// would, until the network changes again), so its names stop resolving at once.
pub fn forget(containers: &Containers, record: &ContainerRecord) {
    if attach::mode_network(&record.host_config.network_mode).is_none() {
        return;
    }
    let Ok(networks) = Networks::open(containers.root()) else {
        return;
    };
    for (name, _) in attach::container_networks(record) {
        if let Ok(file) = networks.find(&name) {
            let _ = networks.detach_endpoint(&file.network.id, &record.id);
        }
    }
}

impl Attachment {
    /// Binds the container's published ports on the host (`-p`, and `-P` for every
    /// exposed port without one), before the container starts: a port in use fails the
    /// start, naming the berth container that holds it.
    pub fn publish(
        &self,
        containers: &Containers,
        record: &ContainerRecord,
    ) -> Result<(Option<Proxy>, Vec<super::PublishedPort>), String> {
        let host = &record.host_config;
        let mut wanted: Vec<Wanted> = Vec::new();
        for (port, bindings) in &host.port_bindings {
            for b in bindings {
                wanted.push(Wanted {
                    port: port.clone(),
                    host_ip: b.host_ip.clone(),
                    host_port: b.host_port.clone(),
                });
            }
        }
        if host.publish_all_ports {
            for port in record.config.exposed_ports.iter().flatten().map(|(k, _)| k) {
                if !host.port_bindings.contains_key(port) {
                    wanted.push(Wanted {
                        port: port.clone(),
                        host_ip: String::new(),
                        host_port: String::new(),
                    });
                }
            }
        }
        if wanted.is_empty() || self.items.is_empty() {
            return Ok((None, Vec::new()));
        }
        let Some(target) = self.addresses.first().copied() else {
            return Ok((None, Vec::new()));
        };
        match proxy::bind(&wanted, target) {
            Ok((proxy, bound)) => Ok((
                Some(proxy),
                bound
                    .into_iter()
                    .map(|b| super::PublishedPort {
                        port: b.port,
                        host_ip: b.host_ip.to_string(),
                        host_port: b.host_port,
                    })
                    .collect(),
            )),
            Err(e) => {
                let holder = port_holder(containers, &record.id, &e.proto, e.port);
                let by = match holder {
                    Some(name) => format!("by container {name}"),
                    None => format!("({})", e.source),
                };
                Err(if e.source.kind() == std::io::ErrorKind::AddrInUse {
                    format!(
                        "Bind for {}:{} failed: port is already allocated {by}",
                        e.address, e.port
                    )
                } else {
                    format!(
                        "cannot publish {}:{}/{}: {}",
                        e.address, e.port, e.proto, e.source
                    )
                })
            }
        }
    }
}

/// The running berth container (other than `except`) that publishes `port`/`proto`.
fn port_holder(containers: &Containers, except: &str, proto: &str, port: u16) -> Option<String> {
    let suffix = format!("/{proto}");
    for id in containers.ids().ok()? {
        if id == except {
            continue;
        }
        let Ok(state) = containers.state(&id) else {
            continue;
        };
        if state.running
            && state
                .ports
                .iter()
                .any(|p| p.host_port == port && p.port.ends_with(&suffix))
            && let Ok(record) = containers.record(&id)
        {
            return Some(record.name);
        }
    }
    None
}

/// Whether `name` (a name or id as a record holds it) is the network `id`.
fn names(networks: &Networks, name: &str, id: &str) -> bool {
    networks.find(name).is_ok_and(|f| f.network.id == id)
}

/// Whether the container joins the network `id` (at its next start, or now).
fn joins(networks: &Networks, record: &super::ContainerRecord, id: &str) -> bool {
    attach::container_networks(record)
        .iter()
        .any(|(n, _)| names(networks, n, id))
}

/// The name of the container's `NetworkMode` network when that is the network `id`.
fn mode_name<'a>(
    networks: &Networks,
    record: &'a super::ContainerRecord,
    id: &str,
) -> Option<&'a str> {
    attach::mode_network(&record.host_config.network_mode).filter(|m| names(networks, m, id))
}

/// The network namespace of a running container.
fn netns_of(state: &super::record::State) -> Result<File, super::ContainerError> {
    let path = format!("/proc/{}/ns/net", state.pid);
    File::open(&path).map_err(|e| super::ContainerError::io("open", &path, e))
}

/// A running container's default routes after its networks changed.
fn reroute(
    networks: &Networks,
    record: &super::ContainerRecord,
    netns: &File,
) -> Result<(), super::ContainerError> {
    attach::route_through_first(networks, record, netns.as_fd())
        .map_err(|e| super::ContainerError::Invalid(e.to_string()))
}

impl Containers {
    /// `network connect`: the container joins `network` (recorded for its next starts,
    /// and at once while it runs: a new `ethN` in its namespace). Docker's words for a
    /// container that is connected already or whose mode has no networks.
    pub fn connect_network(
        &self,
        id: &str,
        network: &str,
        settings: super::config::EndpointSettings,
    ) -> Result<(), super::ContainerError> {
        use super::ContainerError::Invalid;
        let mut record = self.record(id)?;
        let networks = Networks::open(self.root()).map_err(|e| Invalid(e.to_string()))?;
        let file = networks.find(network).map_err(|e| Invalid(e.to_string()))?;
        let name = file.network.name.clone();
        let mode = record.host_config.network_mode.clone();
        if attach::mode_network(&mode).is_none() {
            return Err(Invalid(format!(
                "container {} cannot be connected to network {name}: its network mode is {mode}",
                record.name
            )));
        }
        if file.network.driver != "bridge" {
            return Err(Invalid(format!(
                "container cannot be connected to network {name} (driver {}) in addition to others",
                file.network.driver
            )));
        }
        if joins(&networks, &record, &file.network.id) {
            return Err(Invalid(format!(
                "endpoint with name {} already exists in network {name}",
                record.name
            )));
        }
        check_settings(&file.network, &settings)?;
        for link in settings.links.iter().flatten() {
            let (target, _) = super::links::parse(link)?;
            self.lookup(target)?;
        }
        let state = self.state(id)?;
        // Back on the network it was created with: under that name, first again.
        let mode_key = mode_name(&networks, &record, &file.network.id).map(str::to_string);
        if mode_key.is_some() {
            record.left_mode_network = false;
        }
        let key = mode_key.unwrap_or_else(|| name.clone());
        record
            .networking_config
            .endpoints_config
            .insert(key, settings.clone());
        if state.running {
            let holder = state
                .supervisor
                .as_ref()
                .and_then(|s| crate::network::holder::Holder::of(s.pid))
                .ok_or_else(|| Invalid(format!("container {} is not running", record.name)))?;
            let netns = netns_of(&state)?;
            attach::connect_running(&networks, &record, &name, &settings, holder, netns.as_fd())
                .map_err(|e| Invalid(e.to_string()))?;
            reroute(&networks, &record, &netns)?;
        }
        super::record::write_record(&self.dir(id), &record)
    }

    /// `network disconnect`: the opposite of `connect_network`, the network the
    /// container was created with (`--network`) included.
    pub fn disconnect_network(&self, id: &str, network: &str) -> Result<(), super::ContainerError> {
        use super::ContainerError::Invalid;
        let mut record = self.record(id)?;
        let networks = Networks::open(self.root()).map_err(|e| Invalid(e.to_string()))?;
        let file = networks.find(network).map_err(|e| Invalid(e.to_string()))?;
        let network_id = file.network.id.as_str();
        if !joins(&networks, &record, network_id) {
            return Err(Invalid(format!(
                "container {} is not connected to network {}",
                record.name, file.network.name
            )));
        }
        let state = self.state(id)?;
        if state.running {
            attach::disconnect_running(&networks, network_id, &record.id)
                .map_err(|e| Invalid(e.to_string()))?;
        }
        if mode_name(&networks, &record, network_id).is_some() {
            record.left_mode_network = true;
        }
        record
            .networking_config
            .endpoints_config
            .retain(|k, _| !names(&networks, k, network_id));
        if state.running {
            reroute(&networks, &record, &netns_of(&state)?)?;
        }
        super::record::write_record(&self.dir(id), &record)
    }
}
