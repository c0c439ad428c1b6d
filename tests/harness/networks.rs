//! Networks of a test: bridge names of the test process (`brt<pid><tag>`, within
//! Linux's 15 characters), `network create` with the test's own subnet, detached runs.

use super::containers::Guarded;

/// A bridge name of this test process (`brt`, pid, a letter).
pub fn bridge_name(tag: char) -> String {
    format!("brt{}{tag}", std::process::id() % 100_000)
}

/// `network create` with the test's subnet and bridge; returns the network id.
pub fn create_network(root: &Guarded, name: &str, subnet: &str, tag: char) -> String {
    let bridge = format!("com.docker.network.bridge.name={}", bridge_name(tag));
    root.ok(&["network", "create", "--subnet", subnet, "-o", &bridge, name])
        .trim()
        .to_string()
}

/// `run -d <args>`: the container id.
pub fn detached(root: &Guarded, args: &[&str]) -> String {
    let mut all = vec!["run", "-d"];
    all.extend_from_slice(args);
    root.ok(&all).trim().to_string()
}

/// A container's address on `network` and its network namespace, from its inspect
/// output: where a test serves on its behalf.
pub fn address_and_netns(container: &serde_json::Value, network: &str) -> (String, std::fs::File) {
    let address = container["NetworkSettings"]["Networks"][network]["IPAddress"]
        .as_str()
        .expect("address")
        .to_string();
    let pid = container["State"]["Pid"].as_i64().expect("pid");
    (address, super::dns::netns_of(pid))
}
