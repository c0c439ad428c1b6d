//! berth-net: bridges, veths, IPAM, embedded DNS and port publishing.
//!
//! Not implemented yet; networking arrives with its issue.
