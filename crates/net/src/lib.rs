//! berth-net: bridges, veths, IPAM, embedded DNS and port publishing.
//!
//! Built so far: subnets (`subnet.rs`) and the default address pools new networks take
//! their subnet from (`pool.rs`). Bridges, attachment, DNS and ports arrive with the
//! networking issue.

pub mod pool;
pub mod subnet;

pub use subnet::{Subnet, SubnetError};
