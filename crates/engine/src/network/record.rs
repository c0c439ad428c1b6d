//! The records of a network: `network.json` (Docker's `network inspect` shape without
//! `Containers`, plus the bridge device berth chose) and `endpoints.json` (the containers
//! attached now, with their addresses: the network's IPAM state and the embedded DNS
//! server's records).

use std::collections::BTreeMap;
use std::net::IpAddr;

use berth_net::Subnet;
use serde::{Deserialize, Serialize};

pub const SCHEMA_VERSION: u32 = 1;

/// `docker network inspect`'s shape, field for field (Docker 20.10), `Containers` aside.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct Network {
    pub name: String,
    pub id: String,
    pub created: String,
    pub scope: String,
    pub driver: String,
    #[serde(rename = "EnableIPv6")]
    pub enable_ipv6: bool,
    #[serde(rename = "IPAM")]
    pub ipam: Ipam,
    pub internal: bool,
    pub attachable: bool,
    pub ingress: bool,
    pub config_from: ConfigFrom,
    pub config_only: bool,
    pub options: BTreeMap<String, String>,
    pub labels: BTreeMap<String, String>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct Ipam {
    pub driver: String,
    pub options: Option<BTreeMap<String, String>>,
    pub config: Vec<IpamConfig>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct IpamConfig {
    pub subnet: Subnet,
    #[serde(rename = "IPRange", default, skip_serializing_if = "Option::is_none")]
    pub ip_range: Option<Subnet>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateway: Option<IpAddr>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct ConfigFrom {
    pub network: String,
}

/// `network.json`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct NetworkFile {
    pub schema_version: u32,
    pub network: Network,
    /// The Linux bridge of a `bridge` driver network (empty until the default `bridge`
    /// network's first container creates it).
    #[serde(default)]
    pub bridge: String,
}

/// One container on the network, as `network inspect`'s `Containers` and the DNS server
/// need it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct Endpoint {
    /// The container's name, without the `/`.
    pub name: String,
    #[serde(rename = "EndpointID")]
    pub endpoint_id: String,
    pub mac_address: String,
    #[serde(
        rename = "IPv4Address",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub ipv4: Option<IpAddr>,
    #[serde(
        rename = "IPv6Address",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub ipv6: Option<IpAddr>,
    /// Names it answers to besides its name: `--network-alias`, compose service names and
    /// aliases, the hostname, the short id.
    #[serde(default)]
    pub dns_names: Vec<String>,
    /// The host side of its veth.
    #[serde(default)]
    pub host_veth: String,
    /// The supervisor that holds it; the endpoint is stale once that process is gone.
    #[serde(default)]
    pub holder: super::holder::Holder,
}

/// `endpoints.json`: container id → endpoint.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct EndpointsFile {
    pub schema_version: u32,
    pub endpoints: BTreeMap<String, Endpoint>,
}

impl Network {
    /// The IPv4 configuration, if any (the first one).
    pub fn ipv4(&self) -> Option<&IpamConfig> {
        self.ipam.config.iter().find(|c| c.subnet.is_ipv4())
    }

    pub fn ipv6(&self) -> Option<&IpamConfig> {
        self.ipam.config.iter().find(|c| !c.subnet.is_ipv4())
    }

    /// The prefix length of the subnet holding `ip`, if one does.
    pub fn prefix_of(&self, ip: IpAddr) -> Option<u8> {
        self.ipam
            .config
            .iter()
            .find(|c| c.subnet.contains(ip))
            .map(|c| c.subnet.prefix())
    }

    /// The default `bridge`, `host` and `none` networks.
    pub fn is_predefined(&self) -> bool {
        matches!(self.name.as_str(), "bridge" | "host" | "none")
    }

    /// User-defined bridge networks have the embedded DNS server; the default one not.
    pub fn has_dns(&self) -> bool {
        self.driver == "bridge" && self.name != "bridge"
    }
}
