//! berth-net: bridges, veths, IPAM, embedded DNS and port publishing.
//!
//! Built so far: subnets (`subnet.rs`), the default address pools new networks take
//! their subnet from (`pool.rs`) and a network's address allocation (`ipam.rs`).
//! Bridges, attachment, DNS and ports arrive with the rest of the networking issue.

pub mod ipam;
pub mod pool;
pub mod subnet;

pub use subnet::{Subnet, SubnetError};
