//! A container's network attachment at start, done by its supervisor between the clone
//! of the init (whose new network namespace then exists) and the init's go-ahead: per
//! network an endpoint (addresses from the network's IPAM), a veth pair whose host end
//! is a port of the network's bridge and whose inner end is made straight inside the
//! container's namespace as `eth0`, `eth1`…, addresses, and the default route via the
//! first network with a way out. When the container's namespace goes, the kernel deletes
//! its veths; the endpoints are removed by the supervisor at the exit (or, after a
//! crash, by the next attachment to the network).

use std::net::IpAddr;
use std::os::fd::BorrowedFd;

use berth_net::{Netlink, NetlinkError};

use super::endpoints::parse_mac;
use super::{EndpointRequest, NetworkError, NetworkFile, Networks};
use crate::container::ContainerRecord;
use crate::container::config::EndpointSettings;

/// The network a container's `NetworkMode` names, if it is a network (`bridge`,
/// `default` or a user network; not `none`, `host` or `container:…`).
pub fn mode_network(mode: &str) -> Option<&str> {
    match mode {
        "none" | "host" | "" => None,
        m if m.starts_with("container:") => None,
        "default" => Some("bridge"),
        m => Some(m),
    }
}

/// The networks a container joins, in interface order: its `NetworkMode` network first
/// (unless `network disconnect` took it off), then the other networks of its endpoint
/// settings by name.
pub fn container_networks(record: &ContainerRecord) -> Vec<(String, EndpointSettings)> {
    let endpoints = &record.networking_config.endpoints_config;
    let Some(first) = mode_network(&record.host_config.network_mode) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    if !record.left_mode_network {
        out.push((
            first.to_string(),
            endpoints.get(first).cloned().unwrap_or_default(),
        ));
    }
    for (name, settings) in endpoints {
        if name != first {
            out.push((name.clone(), settings.clone()));
        }
    }
    out
}

/// One network the container is attached to.
#[derive(Clone, Debug)]
pub struct Attached {
    pub network: NetworkFile,
    pub endpoint: super::Endpoint,
    bridge_index: u32,
}

/// All of a container's attachments, in interface order.
#[derive(Clone, Debug, Default)]
pub struct Attachments {
    pub items: Vec<Attached>,
}

fn parse_ip(text: &str, what: &str) -> Result<Option<IpAddr>, NetworkError> {
    if text.is_empty() {
        return Ok(None);
    }
    text.parse()
        .map(Some)
        .map_err(|_| NetworkError::Invalid(format!("invalid {what} address {text:?}")))
}

/// Finds the container's networks and gives it an endpoint on each (undone on error).
pub fn prepare(networks: &Networks, record: &ContainerRecord) -> Result<Attachments, NetworkError> {
    let mut done = Attachments::default();
    for (name, settings) in container_networks(record) {
        match prepare_one(networks, record, &name, &settings, None) {
            Ok(a) => done.items.push(a),
            Err(e) => {
                done.release(networks, &record.id);
                return Err(e);
            }
        }
    }
    Ok(done)
}

fn prepare_one(
    networks: &Networks,
    record: &ContainerRecord,
    name: &str,
    settings: &EndpointSettings,
    holder: Option<super::holder::Holder>,
) -> Result<Attached, NetworkError> {
    let file = networks.find(name)?;
    if file.network.driver != "bridge" {
        return Err(NetworkError::Invalid(format!(
            "container cannot be connected to network {name} (driver {}) in addition to others; use --network {name} alone",
            file.network.driver
        )));
    }
    let (file, bridge_index) = networks.ready_bridge(file)?;
    let ipam = settings.ipam_config.clone().unwrap_or_default();
    let mut dns_names: Vec<String> = Vec::new();
    if file.network.has_dns() {
        for n in settings.aliases.iter().flatten() {
            if !dns_names.contains(n) && *n != record.name {
                dns_names.push(n.clone());
            }
        }
        let short = record.id[..12].to_string();
        if !dns_names.contains(&short) {
            dns_names.push(short);
        }
        let hostname = &record.config.hostname;
        if !hostname.is_empty() && *hostname != record.name && !dns_names.contains(hostname) {
            dns_names.push(hostname.clone());
        }
    }
    let request = EndpointRequest {
        container_id: record.id.clone(),
        name: record.name.clone(),
        dns_names,
        ipv4: parse_ip(&ipam.ipv4_address, "IPv4")?,
        ipv6: parse_ip(&ipam.ipv6_address, "IPv6")?,
        mac: (!settings.mac_address.is_empty()).then(|| settings.mac_address.clone()),
        holder,
    };
    let endpoint = networks.attach_endpoint(&file, &request)?;
    Ok(Attached {
        network: file,
        endpoint,
        bridge_index,
    })
}

fn kernel(e: NetlinkError) -> NetworkError {
    NetworkError::Kernel(e.to_string())
}

impl Attachments {
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Creates the veths into `netns` (the container's new network namespace) and
    /// configures them there.
    pub fn connect(&self, netns: BorrowedFd<'_>) -> Result<(), NetworkError> {
        if self.items.is_empty() {
            return Ok(());
        }
        let mut host = Netlink::open().map_err(kernel)?;
        let mut inner = Netlink::open_in(netns).map_err(kernel)?;
        // Up now, not only when the init gets there: the embedded DNS server binds
        // 127.0.0.11 in here before the init goes on.
        if let Some(lo) = inner.link_index("lo").map_err(kernel)? {
            inner.set_up(lo).map_err(kernel)?;
        }
        let mut routed_v4 = false;
        let mut routed_v6 = false;
        for (n, a) in self.items.iter().enumerate() {
            a.plug(&mut host, &mut inner, netns, &format!("eth{n}"))?;
            if a.network.network.internal {
                continue;
            }
            if !routed_v4
                && a.endpoint.ipv4.is_some()
                && let Some(gw) = a.network.network.ipv4().and_then(|c| c.gateway)
            {
                inner.add_default_route(gw).map_err(kernel)?;
                routed_v4 = true;
            }
            if !routed_v6
                && a.endpoint.ipv6.is_some()
                && let Some(gw) = a.network.network.ipv6().and_then(|c| c.gateway)
            {
                inner.add_default_route(gw).map_err(kernel)?;
                routed_v6 = true;
            }
        }
        Ok(())
    }

    /// Removes the endpoints (at the container's exit, or when its start failed).
    pub fn release(&self, networks: &Networks, container_id: &str) {
        for a in &self.items {
            let _ = networks.detach_endpoint(&a.network.network.id, container_id);
        }
    }
}

impl Attached {
    /// The veth pair of this endpoint, its inner end made inside `netns` as
    /// `interface`, with its addresses, up.
    pub fn plug(
        &self,
        host: &mut Netlink,
        inner: &mut Netlink,
        netns: BorrowedFd<'_>,
        interface: &str,
    ) -> Result<(), NetworkError> {
        let mac = parse_mac(&self.endpoint.mac_address).ok_or_else(|| {
            NetworkError::Invalid(format!(
                "invalid MAC address {:?}",
                self.endpoint.mac_address
            ))
        })?;
        let veth = &self.endpoint.host_veth;
        if let Err(e) = host.add_veth(veth, self.bridge_index, interface, mac, netns) {
            // A namespace of this container's previous run may still be going away (the
            // kernel tears namespaces down asynchronously) with the old veth.
            if e.errno() != Some(libc::EEXIST) {
                return Err(kernel(e));
            }
            host.delete_link(veth).map_err(kernel)?;
            host.add_veth(veth, self.bridge_index, interface, mac, netns)
                .map_err(kernel)?;
        }
        let index = inner
            .link_index(interface)
            .map_err(kernel)?
            .ok_or_else(|| NetworkError::Kernel(format!("{interface} vanished")))?;
        for ip in [self.endpoint.ipv4, self.endpoint.ipv6]
            .into_iter()
            .flatten()
        {
            let prefix =
                (self.network.network.prefix_of(ip)).unwrap_or(if ip.is_ipv4() { 32 } else { 128 });
            inner.add_address(index, ip, prefix).map_err(kernel)?;
        }
        inner.set_up(index).map_err(kernel)
    }
}

/// `network connect` of a running container: an endpoint on `name` held by its
/// supervisor `holder`, plugged into the namespace `netns` as the first free `ethN`.
pub fn connect_running(
    networks: &Networks,
    record: &ContainerRecord,
    name: &str,
    settings: &EndpointSettings,
    holder: super::holder::Holder,
    netns: BorrowedFd<'_>,
) -> Result<(), NetworkError> {
    let attached = prepare_one(networks, record, name, settings, Some(holder))?;
    let plugged = (|| {
        let mut host = Netlink::open().map_err(kernel)?;
        let mut inner = Netlink::open_in(netns).map_err(kernel)?;
        let names = inner.link_names().map_err(kernel)?;
        let interface = (0..)
            .map(|n| format!("eth{n}"))
            .find(|i| !names.contains(i))
            .unwrap_or_default();
        attached.plug(&mut host, &mut inner, netns, &interface)
    })();
    if let Err(e) = plugged {
        let _ = networks.detach_endpoint(&attached.network.network.id, &record.id);
        let _ = Netlink::open().and_then(|mut nl| nl.delete_link(&attached.endpoint.host_veth));
        return Err(e);
    }
    Ok(())
}

/// `network disconnect` of a running container: its veth goes (the kernel takes the
/// inner end with it) and its endpoint with it.
pub fn disconnect_running(
    networks: &Networks,
    network_id: &str,
    container_id: &str,
) -> Result<(), NetworkError> {
    let veth = super::endpoints::host_veth_name(container_id, network_id);
    Netlink::open()
        .and_then(|mut nl| nl.delete_link(&veth))
        .map_err(kernel)?;
    networks.detach_endpoint(network_id, container_id)
}

/// After `network connect` or `disconnect` of a running container: a default route (per
/// address family) through the first of its networks, in interface order, that can give
/// one, if it has none (the network that gave it may have just gone). As Docker's, the
/// container keeps reaching out while any non-internal network is left.
pub fn route_through_first(
    networks: &Networks,
    record: &ContainerRecord,
    netns: BorrowedFd<'_>,
) -> Result<(), NetworkError> {
    let mut inner = Netlink::open_in(netns).map_err(kernel)?;
    let (mut v4, mut v6) = (false, false);
    for (name, _) in container_networks(record) {
        let Ok(file) = networks.find(&name) else {
            continue;
        };
        if file.network.internal {
            continue;
        }
        let Ok(endpoints) = networks.read_endpoints(&file.network.id) else {
            continue;
        };
        let Some(endpoint) = endpoints.endpoints.get(&record.id) else {
            continue;
        };
        let gateways = [
            (
                endpoint.ipv4.is_some(),
                file.network.ipv4().and_then(|c| c.gateway),
                &mut v4,
            ),
            (
                endpoint.ipv6.is_some(),
                file.network.ipv6().and_then(|c| c.gateway),
                &mut v6,
            ),
        ];
        for (has_address, gateway, done) in gateways {
            let (true, Some(gw), false) = (has_address, gateway, *done) else {
                continue;
            };
            // EEXIST: the route it has stays.
            match inner.add_default_route(gw) {
                Err(e) if e.errno() != Some(libc::EEXIST) => return Err(kernel(e)),
                _ => *done = true,
            }
        }
    }
    Ok(())
}
