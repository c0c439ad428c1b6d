//! berth-net: bridges, veths, IPAM, embedded DNS and port publishing.
//!
//! Built so far: subnets (`subnet.rs`), the default address pools new networks take
//! their subnet from (`pool.rs`), a network's address allocation (`ipam.rs`), rtnetlink
//! requests for bridges, veths, addresses and routes (`netlink.rs`) and entering a
//! container's network namespace (`netns.rs`). DNS and ports arrive with the rest of the
//! networking issue.

pub mod dns;
pub mod ipam;
pub mod netlink;
pub mod netns;
pub mod nft;
pub mod pool;
pub mod ports;
pub mod subnet;

pub use netlink::{Netlink, NetlinkError};
pub use subnet::{Subnet, SubnetError};
