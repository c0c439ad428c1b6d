//! The default address pools a new network's subnet comes from, as Docker's (libnetwork's
//! local-scope defaults): 172.17.0.0/16 (the default `bridge` network) through
//! 172.31.0.0/16, then 192.168.0.0/16 in /20s. A subnet is free when it overlaps no
//! subnet in use: another network's, or a route of the host (a LAN, a VPN).

use std::net::{IpAddr, Ipv4Addr};

use crate::subnet::Subnet;

/// The candidates in Docker's order.
pub fn default_candidates() -> impl Iterator<Item = Subnet> {
    let v4 = |a, b, c, d| IpAddr::V4(Ipv4Addr::new(a, b, c, d));
    let wide = (17..=31u8).filter_map(move |b| Subnet::containing(v4(172, b, 0, 0), 16));
    let narrow = (0..16u8).filter_map(move |i| Subnet::containing(v4(192, 168, i * 16, 0), 20));
    wide.chain(narrow)
}

/// The first candidate that overlaps nothing in `used`; `None` when the pools are full.
/// Routes that cover everything (a default route, `0.0.0.0/0`) do not count as use.
pub fn first_free<'a>(
    candidates: impl IntoIterator<Item = Subnet>,
    used: impl IntoIterator<Item = &'a Subnet> + Clone,
) -> Option<Subnet> {
    candidates.into_iter().find(|c| {
        !used
            .clone()
            .into_iter()
            .any(|u| u.prefix() > 0 && u.overlaps(c))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(text: &str) -> Subnet {
        text.parse().unwrap()
    }

    #[test]
    fn dockers_order_skipping_what_is_used() {
        let all: Vec<String> = default_candidates().map(|c| c.to_string()).collect();
        assert_eq!(all.len(), 15 + 16);
        assert_eq!(all[0], "172.17.0.0/16");
        assert_eq!(all[14], "172.31.0.0/16");
        assert_eq!(all[15], "192.168.0.0/20");
        assert_eq!(all[30], "192.168.240.0/20");

        assert_eq!(
            first_free(default_candidates(), &[]),
            Some(s("172.17.0.0/16"))
        );
        // A network on 172.17, a host route into 172.18 and a default route.
        let used = [s("172.17.0.0/16"), s("172.18.5.0/24"), s("0.0.0.0/0")];
        assert_eq!(
            first_free(default_candidates(), &used),
            Some(s("172.19.0.0/16"))
        );
        // A LAN covering all of 172.16/12 moves new networks to 192.168.
        let used = [s("172.16.0.0/12"), s("192.168.0.0/20")];
        assert_eq!(
            first_free(default_candidates(), &used),
            Some(s("192.168.16.0/20"))
        );
        let everything = [s("172.16.0.0/12"), s("192.168.0.0/16")];
        assert_eq!(first_free(default_candidates(), &everything), None);
    }
}
