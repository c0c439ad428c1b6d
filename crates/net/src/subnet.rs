//! IPv4 and IPv6 subnets (`172.18.0.0/16`, `fd00:1::/64`): parsing as Docker's
//! `--subnet` takes them, containment, overlap and host addresses by index.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Subnet {
    /// The network address (host bits zero).
    network: IpAddr,
    prefix: u8,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubnetError {
    #[error("invalid subnet {0:?}: expected an address and a prefix length, such as 172.20.0.0/16")]
    Syntax(String),
    #[error(
        "invalid subnet {given:?}: {network}/{prefix} is its network address (the host bits must be zero)"
    )]
    HostBits {
        given: String,
        network: IpAddr,
        prefix: u8,
    },
}

fn bits(ip: IpAddr) -> (u128, u8) {
    match ip {
        IpAddr::V4(v4) => (u128::from(u32::from(v4)), 32),
        IpAddr::V6(v6) => (u128::from(v6), 128),
    }
}

fn from_bits(value: u128, v4: bool) -> IpAddr {
    if v4 {
        IpAddr::V4(Ipv4Addr::from(value as u32))
    } else {
        IpAddr::V6(Ipv6Addr::from(value))
    }
}

impl Subnet {
    /// The subnet of `prefix` bits around `ip`, host bits cleared.
    pub fn containing(ip: IpAddr, prefix: u8) -> Option<Subnet> {
        let (value, width) = bits(ip);
        (prefix <= width).then(|| Subnet {
            network: from_bits(value & mask(prefix, width), width == 32),
            prefix,
        })
    }

    pub fn network(&self) -> IpAddr {
        self.network
    }

    pub fn prefix(&self) -> u8 {
        self.prefix
    }

    pub fn is_ipv4(&self) -> bool {
        self.network.is_ipv4()
    }

    fn width(&self) -> u8 {
        if self.is_ipv4() { 32 } else { 128 }
    }

    /// How many addresses it spans (saturating for huge IPv6 subnets).
    pub fn size(&self) -> u128 {
        let host_bits = u32::from(self.width() - self.prefix);
        1u128.checked_shl(host_bits).unwrap_or(u128::MAX)
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let (value, width) = bits(ip);
        width == self.width() && value & mask(self.prefix, width) == bits(self.network).0
    }

    /// Whether the two share any address (one then contains the other).
    pub fn overlaps(&self, other: &Subnet) -> bool {
        self.is_ipv4() == other.is_ipv4()
            && (self.contains(other.network) || other.contains(self.network))
    }

    /// Whether all of `other` is inside this subnet.
    pub fn covers(&self, other: &Subnet) -> bool {
        self.prefix <= other.prefix && self.contains(other.network)
    }

    /// The address `index` places after the network address, if inside.
    pub fn nth(&self, index: u128) -> Option<IpAddr> {
        (index < self.size()).then(|| from_bits(bits(self.network).0 + index, self.is_ipv4()))
    }

    /// The index of `ip` in the subnet, if inside.
    pub fn index_of(&self, ip: IpAddr) -> Option<u128> {
        self.contains(ip).then(|| bits(ip).0 - bits(self.network).0)
    }

    /// The subnet's broadcast address (IPv4's last address; IPv6 has none).
    pub fn broadcast(&self) -> Option<IpAddr> {
        if self.is_ipv4() {
            self.nth(self.size() - 1)
        } else {
            None
        }
    }
}

fn mask(prefix: u8, width: u8) -> u128 {
    let all = if width == 32 {
        u128::from(u32::MAX)
    } else {
        u128::MAX
    };
    if prefix == 0 {
        0
    } else {
        all & !((1u128 << (width - prefix)) - 1)
    }
}

impl FromStr for Subnet {
    type Err = SubnetError;

    fn from_str(s: &str) -> Result<Subnet, SubnetError> {
        let syntax = || SubnetError::Syntax(s.to_string());
        let (addr, prefix) = s.split_once('/').ok_or_else(syntax)?;
        let ip: IpAddr = addr.parse().map_err(|_| syntax())?;
        let prefix: u8 = prefix.parse().map_err(|_| syntax())?;
        let subnet = Subnet::containing(ip, prefix).ok_or_else(syntax)?;
        if subnet.network != ip {
            return Err(SubnetError::HostBits {
                given: s.to_string(),
                network: subnet.network,
                prefix,
            });
        }
        Ok(subnet)
    }
}

impl fmt::Display for Subnet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

impl serde::Serialize for Subnet {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Subnet {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Subnet, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(text: &str) -> Subnet {
        text.parse().unwrap()
    }

    #[test]
    fn parses_prints_and_refuses_host_bits() {
        assert_eq!(s("172.18.0.0/16").to_string(), "172.18.0.0/16");
        assert_eq!(s("fd00:1::/64").to_string(), "fd00:1::/64");
        assert_eq!(
            "172.18.1.5/16".parse::<Subnet>().unwrap_err().to_string(),
            "invalid subnet \"172.18.1.5/16\": 172.18.0.0/16 is its network address (the host bits must be zero)"
        );
        for bad in [
            "172.18.0.0",
            "172.18.0.0/33",
            "x/16",
            "172.18.0.0/-1",
            "::/129",
        ] {
            assert!(
                matches!(bad.parse::<Subnet>(), Err(SubnetError::Syntax(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn containment_overlap_and_addresses() {
        let net = s("172.18.0.0/16");
        assert!(net.contains("172.18.255.254".parse().unwrap()));
        assert!(!net.contains("172.19.0.1".parse().unwrap()));
        assert!(!net.contains("::1".parse().unwrap()));
        assert!(net.overlaps(&s("172.18.4.0/24")));
        assert!(s("172.18.4.0/24").overlaps(&net));
        assert!(!net.overlaps(&s("172.19.0.0/16")));
        assert!(
            s("0.0.0.0/0").overlaps(&net),
            "a default route covers everything"
        );
        assert!(net.covers(&s("172.18.4.0/24")) && !s("172.18.4.0/24").covers(&net));
        assert_eq!(net.size(), 65536);
        assert_eq!(net.nth(1), Some("172.18.0.1".parse().unwrap()));
        assert_eq!(net.nth(65536), None);
        assert_eq!(net.broadcast(), Some("172.18.255.255".parse().unwrap()));
        assert_eq!(net.index_of("172.18.1.2".parse().unwrap()), Some(258));
        assert_eq!(s("fd00::/64").nth(2), Some("fd00::2".parse().unwrap()));
        assert_eq!(s("::/0").size(), u128::MAX);
    }
}
