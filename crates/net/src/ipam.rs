//! The addresses of one network: its subnet, gateway and optional `--ip-range`, and which
//! endpoint holds which address. Dynamic addresses are the lowest free one in the range
//! (Docker's default, non-serial allocation), skipping the network address, the gateway
//! and IPv4's broadcast; a static `--ip` must be in the subnet and free. The caller keeps
//! the pool in the network's state under a lock, so parallel starts get distinct
//! addresses, and releases an endpoint's address when it goes (or, after a crash, keeps
//! only the endpoints that still exist: [`Pool::retain`]).

use std::collections::BTreeMap;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::subnet::Subnet;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IpamError {
    #[error("invalid gateway {gateway}: it is not in subnet {subnet}")]
    GatewayOutside { gateway: IpAddr, subnet: Subnet },
    #[error("invalid ip-range {range}: it is not inside subnet {subnet}")]
    RangeOutside { range: Subnet, subnet: Subnet },
    #[error("no configured subnet or ip-range contain the IP address {0}")]
    AddressOutside(IpAddr),
    #[error("invalid address {0}: it is the network's {1} address")]
    Reserved(IpAddr, &'static str),
    #[error("Address already in use: {address} is held by {holder}")]
    InUse { address: IpAddr, holder: String },
    #[error("no available addresses on network subnet {0}")]
    Exhausted(Subnet),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pool {
    pub subnet: Subnet,
    pub gateway: IpAddr,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub range: Option<Subnet>,
    /// Endpoint (container id) → its address.
    #[serde(default)]
    pub allocated: BTreeMap<String, IpAddr>,
}

impl Pool {
    /// A pool for `subnet`; the gateway defaults to its first address, as Docker's.
    pub fn new(
        subnet: Subnet,
        gateway: Option<IpAddr>,
        range: Option<Subnet>,
    ) -> Result<Pool, IpamError> {
        let gateway = match gateway {
            Some(g) if !subnet.contains(g) => {
                return Err(IpamError::GatewayOutside { gateway: g, subnet });
            }
            Some(g) => g,
            None => subnet.nth(1).ok_or(IpamError::Exhausted(subnet))?,
        };
        if let Some(r) = range
            && !subnet.covers(&r)
        {
            return Err(IpamError::RangeOutside { range: r, subnet });
        }
        Ok(Pool {
            subnet,
            gateway,
            range,
            allocated: BTreeMap::new(),
        })
    }

    fn reserved(&self, ip: IpAddr) -> Option<&'static str> {
        if ip == self.subnet.network() {
            Some("network")
        } else if Some(ip) == self.subnet.broadcast() {
            Some("broadcast")
        } else if ip == self.gateway {
            Some("gateway")
        } else {
            None
        }
    }

    fn holder(&self, ip: IpAddr) -> Option<&str> {
        self.allocated
            .iter()
            .find(|(_, a)| **a == ip)
            .map(|(k, _)| k.as_str())
    }

    /// The address of `endpoint`: the one it already has, `wanted`, or the lowest free.
    pub fn allocate(
        &mut self,
        endpoint: &str,
        wanted: Option<IpAddr>,
    ) -> Result<IpAddr, IpamError> {
        if let Some(have) = self.allocated.get(endpoint)
            && wanted.is_none_or(|w| w == *have)
        {
            return Ok(*have);
        }
        let address = match wanted {
            Some(ip) => {
                if !self.subnet.contains(ip) {
                    return Err(IpamError::AddressOutside(ip));
                }
                if let Some(what) = self.reserved(ip) {
                    return Err(IpamError::Reserved(ip, what));
                }
                if let Some(holder) = self.holder(ip) {
                    return Err(IpamError::InUse {
                        address: ip,
                        holder: holder.to_string(),
                    });
                }
                ip
            }
            None => self.lowest_free()?,
        };
        self.allocated.insert(endpoint.to_string(), address);
        Ok(address)
    }

    fn lowest_free(&self) -> Result<IpAddr, IpamError> {
        let span = self.range.unwrap_or(self.subnet);
        let taken: std::collections::BTreeSet<u128> = self
            .allocated
            .values()
            .filter_map(|ip| span.index_of(*ip))
            .collect();
        // Bounded by the endpoints that exist, not by the size of the subnet.
        let limit = span.size().min(taken.len() as u128 + 4);
        (0..limit)
            .filter(|i| !taken.contains(i))
            .filter_map(|i| span.nth(i))
            .find(|ip| self.reserved(*ip).is_none())
            .ok_or(IpamError::Exhausted(self.subnet))
    }

    pub fn release(&mut self, endpoint: &str) -> Option<IpAddr> {
        self.allocated.remove(endpoint)
    }

    /// Keeps the addresses of the endpoints `exists` says are still there.
    pub fn retain(&mut self, exists: impl Fn(&str) -> bool) {
        self.allocated.retain(|endpoint, _| exists(endpoint));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn pool(subnet: &str) -> Pool {
        Pool::new(subnet.parse().unwrap(), None, None).unwrap()
    }

    #[test]
    fn lowest_free_after_the_gateway_and_reuse_after_release() {
        let mut p = pool("172.18.0.0/16");
        assert_eq!(p.gateway, ip("172.18.0.1"));
        assert_eq!(p.allocate("a", None), Ok(ip("172.18.0.2")));
        assert_eq!(p.allocate("b", None), Ok(ip("172.18.0.3")));
        assert_eq!(
            p.allocate("a", None),
            Ok(ip("172.18.0.2")),
            "idempotent per endpoint"
        );
        p.release("a");
        assert_eq!(p.allocate("c", None), Ok(ip("172.18.0.2")));
        p.retain(|e| e == "c");
        assert_eq!(p.allocated.len(), 1);
    }

    #[test]
    fn fifty_endpoints_get_fifty_distinct_addresses() {
        let mut p = pool("10.9.0.0/24");
        let mut seen = std::collections::BTreeSet::new();
        for i in 0..50 {
            assert!(seen.insert(p.allocate(&format!("c{i}"), None).unwrap()));
        }
        assert!(!seen.contains(&p.gateway));
    }

    #[test]
    fn static_addresses_ranges_and_exhaustion() {
        let mut p = pool("172.18.0.0/16");
        assert_eq!(
            p.allocate("s", Some(ip("172.18.5.5"))),
            Ok(ip("172.18.5.5"))
        );
        assert_eq!(
            p.allocate("t", Some(ip("172.18.5.5")))
                .unwrap_err()
                .to_string(),
            "Address already in use: 172.18.5.5 is held by s"
        );
        assert_eq!(
            p.allocate("t", Some(ip("10.0.0.5")))
                .unwrap_err()
                .to_string(),
            "no configured subnet or ip-range contain the IP address 10.0.0.5"
        );
        assert!(matches!(
            p.allocate("t", Some(ip("172.18.0.1"))),
            Err(IpamError::Reserved(_, "gateway"))
        ));
        assert!(matches!(
            p.allocate("t", Some(ip("172.18.255.255"))),
            Err(IpamError::Reserved(_, "broadcast"))
        ));

        let mut r = Pool::new(
            "172.20.0.0/16".parse().unwrap(),
            Some(ip("172.20.0.254")),
            Some("172.20.5.0/30".parse().unwrap()),
        )
        .unwrap();
        assert_eq!(r.allocate("a", None), Ok(ip("172.20.5.0")));
        assert_eq!(r.allocate("b", None), Ok(ip("172.20.5.1")));
        assert_eq!(r.allocate("c", None), Ok(ip("172.20.5.2")));
        assert_eq!(r.allocate("d", None), Ok(ip("172.20.5.3")));
        assert_eq!(
            r.allocate("e", None),
            Err(IpamError::Exhausted("172.20.0.0/16".parse().unwrap()))
        );

        let mut tiny = pool("192.168.9.0/30");
        assert_eq!(tiny.allocate("a", None), Ok(ip("192.168.9.2")));
        assert!(
            matches!(tiny.allocate("b", None), Err(IpamError::Exhausted(_))),
            "network, gateway, a, broadcast"
        );

        assert!(matches!(
            Pool::new("10.0.0.0/24".parse().unwrap(), Some(ip("10.0.1.1")), None),
            Err(IpamError::GatewayOutside { .. })
        ));
        assert!(matches!(
            Pool::new(
                "10.0.0.0/24".parse().unwrap(),
                None,
                Some("10.0.0.0/16".parse().unwrap())
            ),
            Err(IpamError::RangeOutside { .. })
        ));
        let mut v6 = Pool::new("fd00:1::/64".parse().unwrap(), None, None).unwrap();
        assert_eq!(v6.allocate("a", None), Ok(ip("fd00:1::2")));
    }
}
