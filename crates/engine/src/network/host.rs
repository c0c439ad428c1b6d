//! What networks share with everything else on the host: bridge names, subnets (host
//! routes), `net.ipv4.ip_forward`. Choices are made under one host-wide lock
//! (`/run/berth/network.lock`), so two state roots (or two tests) never pick the same
//! bridge name or subnet; nothing here touches a link berth did not create.

use std::fs::{self, File, OpenOptions};
use std::net::IpAddr;
use std::path::Path;

use berth_net::{Netlink, NetlinkError, Subnet, pool};
use rustix::fs::{FlockOperation, flock};

use super::NetworkError;
use super::record::Network;

const LOCK_DIR: &str = "/run/berth";

/// Held while a bridge name or subnet is chosen and its bridge created.
pub struct HostLock {
    _file: File,
}

pub fn lock() -> Result<HostLock, NetworkError> {
    let dir = Path::new(LOCK_DIR);
    fs::create_dir_all(dir).map_err(|e| NetworkError::io("create", dir, e))?;
    let path = dir.join("network.lock");
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| NetworkError::io("open", &path, e))?;
    flock(&file, FlockOperation::LockExclusive)
        .map_err(|e| NetworkError::io("lock", &path, e.into()))?;
    Ok(HostLock { _file: file })
}

fn kernel(e: NetlinkError) -> NetworkError {
    NetworkError::Kernel(e.to_string())
}

/// The first free subnet of Docker's default pools: not a route of the host, not
/// another network of this root (whose bridge may not exist now, after a reboot).
pub fn free_subnet(_lock: &HostLock, ours: &[Network]) -> Result<Subnet, NetworkError> {
    let mut used = Netlink::open()
        .and_then(|mut nl| nl.route_destinations())
        .map_err(kernel)?;
    used.extend(
        ours.iter()
            .flat_map(|n| n.ipam.config.iter().map(|c| c.subnet)),
    );
    pool::first_free(pool::default_candidates(), &used).ok_or_else(|| {
        NetworkError::Invalid(
            "could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network".into(),
        )
    })
}

/// `berth0`, `berth1`, …: the first name no link has and no network of this root uses
/// (the default `bridge` network's device).
pub fn free_default_bridge_name(_lock: &HostLock, ours: &[String]) -> Result<String, NetworkError> {
    let links = Netlink::open()
        .and_then(|mut nl| nl.link_names())
        .map_err(kernel)?;
    (0..1000)
        .map(|i| format!("berth{i}"))
        .find(|n| !links.contains(n) && !ours.contains(n))
        .ok_or_else(|| NetworkError::Invalid("no free bridge name berth0…berth999".into()))
}

/// Whether a link called `name` exists.
pub fn link_exists(_lock: &HostLock, name: &str) -> Result<bool, NetworkError> {
    let mut nl = Netlink::open().map_err(kernel)?;
    Ok(nl.link_index(name).map_err(kernel)?.is_some())
}

/// Creates the bridge of `network` with its gateway addresses, up, unless it exists
/// (after a reboot it does not); returns its index.
pub fn ensure_bridge(_lock: &HostLock, name: &str, network: &Network) -> Result<u32, NetworkError> {
    let mut nl = Netlink::open().map_err(kernel)?;
    if let Some((index, bridge)) = nl.link_index_and_bridge(name).map_err(kernel)? {
        return adopt(&mut nl, index, bridge, name, network);
    }
    let index = nl.add_bridge(name).map_err(kernel)?;
    let configured = (|| {
        for c in &network.ipam.config {
            if let Some(gateway) = c.gateway {
                nl.add_address(index, gateway, c.subnet.prefix())?;
            }
        }
        Ok::<_, NetlinkError>(())
    })();
    if let Err(e) = configured {
        let _ = nl.delete_link(name);
        return Err(kernel(e));
    }
    let rules = berth_net::nft::NetworkRules {
        bridge: name.to_string(),
        subnets: network.ipam.config.iter().map(|c| c.subnet).collect(),
        internal: network.internal,
    };
    let ready = berth_net::nft::add_network(&rules)
        .map_err(|e| NetworkError::Kernel(e.to_string()))
        .and_then(|()| {
            if !network.internal && network.ipv4().is_some() {
                enable_ip_forward()?;
            }
            Ok(())
        });
    if let Err(e) = ready {
        let _ = berth_net::nft::remove_network(name);
        let _ = nl.delete_link(name);
        return Err(e);
    }
    Ok(index)
}

/// The network's bridge exists already (another command made it a moment ago, or it
/// outlived its rules): it must be a bridge, and gets back a gateway address it lost.
fn adopt(
    nl: &mut Netlink,
    index: u32,
    bridge: bool,
    name: &str,
    network: &Network,
) -> Result<u32, NetworkError> {
    if !bridge {
        return Err(NetworkError::Invalid(format!(
            "network {}: its interface {name} exists but is not a bridge (another program made it); remove that interface or the network",
            network.name
        )));
    }
    for c in &network.ipam.config {
        if let Some(gateway) = c.gateway {
            match nl.add_address(index, gateway, c.subnet.prefix()) {
                Err(e) if e.errno() != Some(berth_net::netlink::libc_eexist()) => {
                    return Err(kernel(e));
                }
                _ => {}
            }
        }
    }
    Ok(index)
}

/// Deletes the bridge `name` and its nftables rules (nothing when they are gone already).
pub fn delete_bridge(name: &str) -> Result<(), NetworkError> {
    let mut nl = Netlink::open().map_err(kernel)?;
    nl.delete_link(name).map_err(kernel)?;
    berth_net::nft::remove_network(name).map_err(|e| NetworkError::Kernel(e.to_string()))
}

/// Containers on a bridge network reach the outside through the host: the one host-wide
/// setting berth changes, as Docker does (decision 66).
fn enable_ip_forward() -> Result<(), NetworkError> {
    let path = Path::new("/proc/sys/net/ipv4/ip_forward");
    if fs::read_to_string(path).is_ok_and(|v| v.trim() == "1") {
        return Ok(());
    }
    fs::write(path, "1").map_err(|e| NetworkError::io("write", path, e))
}

/// The gateway of a subnet, as Docker chooses it: given, or the first address.
pub fn default_gateway(subnet: &Subnet) -> Option<IpAddr> {
    subnet.nth(1)
}
