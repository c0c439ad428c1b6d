//! `endpoints.json`: which containers are attached to a network now, with their
//! addresses. Changed only under the network's `lock`, so parallel starts get distinct
//! addresses; an endpoint whose container no longer runs (its supervisor was killed, the
//! host rebooted) is dropped by the next change, which frees its address. The file is
//! runtime state: replaced without fsync, and read as empty if a crash tore it.

use std::fs;
use std::net::IpAddr;
use std::path::PathBuf;

use berth_net::ipam::Pool;
use sha2::{Digest as _, Sha256};

use super::record::{Endpoint, EndpointsFile, NetworkFile, SCHEMA_VERSION};
use super::{NetworkError, Networks, host, lock_file};
use crate::store::replace_unsynced;

/// One container joining one network.
#[derive(Clone, Debug, Default)]
pub struct EndpointRequest {
    pub container_id: String,
    pub name: String,
    pub dns_names: Vec<String>,
    pub ipv4: Option<IpAddr>,
    pub ipv6: Option<IpAddr>,
    pub mac: Option<String>,
    /// The supervisor holding the endpoint (default: the calling process).
    pub holder: Option<super::holder::Holder>,
}

impl Networks {
    /// The file the embedded DNS servers watch.
    pub fn endpoints_path(&self, network_id: &str) -> PathBuf {
        self.network_dir(network_id).join("endpoints.json")
    }

    pub fn read_endpoints(&self, network_id: &str) -> Result<EndpointsFile, NetworkError> {
        let path = self.endpoints_path(network_id);
        match fs::read(&path) {
            Ok(bytes) => Ok(serde_json::from_slice(&bytes).unwrap_or_default()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(EndpointsFile::default()),
            Err(e) => Err(NetworkError::io("read", &path, e)),
        }
    }

    fn write_endpoints(&self, network_id: &str, file: &EndpointsFile) -> Result<(), NetworkError> {
        let path = self.endpoints_path(network_id);
        let bytes = serde_json::to_vec(file).map_err(|e| NetworkError::Corrupt {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        replace_unsynced(&path, &bytes).map_err(|e| NetworkError::Invalid(e.to_string()))
    }

    /// The default `bridge` network gets its subnet and bridge name on first use, as
    /// Docker's daemon gives them at its start; any bridge network gets its bridge back
    /// after a reboot. Returns the record and the bridge's index.
    pub fn ready_bridge(&self, file: NetworkFile) -> Result<(NetworkFile, u32), NetworkError> {
        if !file.bridge.is_empty()
            && let Ok(Some((index, true))) =
                berth_net::Netlink::open().and_then(|mut nl| nl.link_index_and_bridge(&file.bridge))
        {
            return Ok((file, index));
        }
        let _lock = lock_file(&self.dir.join(".lock"))?;
        let hostwide = host::lock()?;
        let mut file = self.read(&file.network.id)?;
        if file.bridge.is_empty() {
            let others: Vec<NetworkFile> = self
                .ids()?
                .iter()
                .filter(|id| **id != file.network.id)
                .filter_map(|id| self.read(id).ok())
                .collect();
            let networks: Vec<_> = others.iter().map(|f| f.network.clone()).collect();
            let bridges: Vec<String> = others.iter().map(|f| f.bridge.clone()).collect();
            let subnet = host::free_subnet(&hostwide, &networks)?;
            file.network.ipam.config = vec![super::IpamConfig {
                subnet,
                ip_range: None,
                gateway: host::default_gateway(&subnet),
            }];
            file.bridge = host::free_default_bridge_name(&hostwide, &bridges)?;
            file.network
                .options
                .insert(super::BRIDGE_NAME_OPTION.into(), file.bridge.clone());
            self.write(&file)?;
        }
        let index = host::ensure_bridge(&hostwide, &file.bridge, &file.network)?;
        Ok((file, index))
    }

    /// Gives `request.container_id` its addresses on `network` (the static ones it asks
    /// for, or the lowest free) and records the endpoint.
    pub fn attach_endpoint(
        &self,
        network: &NetworkFile,
        request: &EndpointRequest,
    ) -> Result<Endpoint, NetworkError> {
        let id = &network.network.id;
        let _lock = lock_file(&self.network_dir(id).join("lock"))?;
        if !self.network_dir(id).join("network.json").exists() {
            return Err(NetworkError::NotFound(network.network.name.clone()));
        }
        let mut file = self.read_endpoints(id)?;
        file.schema_version = SCHEMA_VERSION;
        file.endpoints
            .retain(|c, e| *c == request.container_id || e.holder.alive());

        let pool_for = |config: Option<&super::IpamConfig>,
                        pick: fn(&Endpoint) -> Option<IpAddr>| {
            config
                .map(|c| {
                    let mut pool = Pool::new(c.subnet, c.gateway, c.ip_range)?;
                    for (cid, e) in &file.endpoints {
                        if *cid != request.container_id
                            && let Some(ip) = pick(e)
                        {
                            pool.allocated.insert(cid.clone(), ip);
                        }
                    }
                    Ok::<_, NetworkError>(pool)
                })
                .transpose()
        };
        let v4_pool = pool_for(network.network.ipv4(), |e| e.ipv4)?;
        let v6_pool = if network.network.enable_ipv6 {
            pool_for(network.network.ipv6(), |e| e.ipv6)?
        } else {
            None
        };
        let ipv4 = match v4_pool {
            Some(mut pool) => Some(pool.allocate(&request.container_id, request.ipv4)?),
            None if request.ipv4.is_some() => {
                return Err(NetworkError::Invalid(format!(
                    "network {} has no IPv4 subnet for --ip",
                    network.network.name
                )));
            }
            None => None,
        };
        let ipv6 = match v6_pool {
            Some(mut pool) => Some(pool.allocate(&request.container_id, request.ipv6)?),
            None if request.ipv6.is_some() => {
                return Err(NetworkError::Invalid(format!(
                    "network {} has no IPv6 subnet for --ip6 (create it with --ipv6 --subnet)",
                    network.network.name
                )));
            }
            None => None,
        };
        if let Some(mac) = &request.mac
            && let Some((holder, _)) = file
                .endpoints
                .iter()
                .find(|(c, e)| **c != request.container_id && e.mac_address == *mac)
        {
            return Err(NetworkError::Invalid(format!(
                "MAC address {mac} is already used by container {holder} on network {}",
                network.network.name
            )));
        }
        let endpoint = Endpoint {
            name: request.name.clone(),
            endpoint_id: endpoint_id(&request.container_id, id),
            mac_address: request
                .mac
                .clone()
                .unwrap_or_else(|| mac_from(ipv4, &request.container_id)),
            ipv4,
            ipv6,
            dns_names: request.dns_names.clone(),
            host_veth: host_veth_name(&request.container_id, id),
            holder: request
                .holder
                .unwrap_or_else(super::holder::Holder::this_process),
        };
        file.endpoints
            .insert(request.container_id.clone(), endpoint.clone());
        self.write_endpoints(id, &file)?;
        Ok(endpoint)
    }

    /// Removes the container's endpoint (its address is free again).
    pub fn detach_endpoint(
        &self,
        network_id: &str,
        container_id: &str,
    ) -> Result<(), NetworkError> {
        let dir = self.network_dir(network_id);
        if !dir.exists() {
            return Ok(());
        }
        let _lock = lock_file(&dir.join("lock"))?;
        let mut file = self.read_endpoints(network_id)?;
        if file.endpoints.remove(container_id).is_some() {
            file.schema_version = SCHEMA_VERSION;
            self.write_endpoints(network_id, &file)?;
        }
        Ok(())
    }
}

fn digest(container_id: &str, network_id: &str) -> String {
    let mut h = Sha256::new();
    h.update(container_id.as_bytes());
    h.update(b"/");
    h.update(network_id.as_bytes());
    hex::encode(h.finalize())
}

fn endpoint_id(container_id: &str, network_id: &str) -> String {
    digest(container_id, network_id)
}

/// `bveth` and 10 hex digits: berth's own prefix, unique per container and network,
/// within Linux's 15 characters.
pub fn host_veth_name(container_id: &str, network_id: &str) -> String {
    format!("bveth{}", &digest(container_id, network_id)[..10])
}

/// Docker 20.10's MAC for an IPv4 endpoint: `02:42` and the four address bytes (unique on
/// the network because the address is); otherwise from the container id.
fn mac_from(ipv4: Option<IpAddr>, container_id: &str) -> String {
    let bytes: [u8; 4] = match ipv4 {
        Some(IpAddr::V4(a)) => a.octets(),
        _ => {
            let d = Sha256::digest(container_id.as_bytes());
            [d[0], d[1], d[2], d[3]]
        }
    };
    format!(
        "02:42:{:02x}:{:02x}:{:02x}:{:02x}",
        bytes[0], bytes[1], bytes[2], bytes[3]
    )
}

/// `aa:bb:cc:dd:ee:ff` as bytes.
pub fn parse_mac(text: &str) -> Option<[u8; 6]> {
    let mut out = [0u8; 6];
    let mut parts = text.split(':');
    for b in &mut out {
        let p = parts.next()?;
        if p.len() != 2 {
            return None;
        }
        *b = u8::from_str_radix(p, 16).ok()?;
    }
    parts.next().is_none().then_some(out)
}
