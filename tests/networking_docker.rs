//! berth's networks while Debian's dockerd runs with its firewall rules, as root. Docker
//! sets the `ip filter` FORWARD policy to DROP when it turns forwarding on, and with
//! br_netfilter (built into this kernel) even traffic between two containers on one
//! bridge passes that chain: berth must add its own tagged accept rules there, reach the
//! outside, change none of Docker's rules, and take its rules away with its network.
//!
//! The test leaves the host as it found it: forwarding off before dockerd starts (so that
//! dockerd sets the DROP policy, as on a fresh host), and the nftables tables dockerd made
//! deleted after it stops.

mod harness;

use std::process::Command;

use harness::containers::root;
use harness::dockerd::Dockerd;
use harness::remote::RemoteClient;

fn nft(args: &[&str]) -> String {
    let out = Command::new("nft").args(args).output().expect("nft");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn tables() -> Vec<String> {
    nft(&["list", "tables"])
        .lines()
        .map(|l| l.trim().to_string())
        .collect()
}

/// Puts back what the test changed on the host, whatever happens in between.
struct HostState {
    ip_forward: String,
    tables_before: Vec<String>,
}

impl Drop for HostState {
    fn drop(&mut self) {
        for table in tables() {
            if !self.tables_before.contains(&table) && !table.contains("berth") {
                let words: Vec<&str> = table.split_whitespace().collect();
                if let [_, family, name] = words.as_slice() {
                    let _ = Command::new("nft")
                        .args(["delete", "table", family, name])
                        .status();
                }
            }
        }
        let _ = std::fs::write("/proc/sys/net/ipv4/ip_forward", &self.ip_forward);
    }
}

fn forward_chain() -> String {
    nft(&["list", "chain", "ip", "filter", "FORWARD"])
}

#[test]
fn berth_networks_work_beside_dockerds_firewall_and_leave_its_rules_alone() {
    let root = root("net-docker");
    let _host = HostState {
        ip_forward: std::fs::read_to_string("/proc/sys/net/ipv4/ip_forward").expect("ip_forward"),
        tables_before: tables(),
    };
    std::fs::write("/proc/sys/net/ipv4/ip_forward", "0").expect("forwarding off");
    let dockerd = Dockerd::start(root.path(), &["--bridge=none"]);
    let before = forward_chain();
    assert!(
        before.contains("policy drop"),
        "dockerd set the FORWARD policy to DROP: {before}"
    );

    let bridge = format!("brt{}d", std::process::id() % 100_000);
    root.ok(&[
        "network",
        "create",
        "--subnet",
        "10.232.40.0/24",
        "-o",
        &format!("com.docker.network.bridge.name={bridge}"),
        "beside",
    ]);
    let during = forward_chain();
    let ours: Vec<&str> = during
        .lines()
        .filter(|l| l.contains(&format!("comment \"berth:{bridge}\"")))
        .collect();
    assert_eq!(ours.len(), 2, "{during}");
    let others = |text: &str| -> Vec<String> {
        text.lines()
            .filter(|l| !l.contains("comment \"berth:"))
            .map(|l| l.trim().to_string())
            .collect()
    };
    assert_eq!(
        others(&during),
        others(&before),
        "Docker's rules are untouched"
    );

    // Two containers on one bridge (br_netfilter sends that through FORWARD).
    root.ok(&[
        "run",
        "-d",
        "--network",
        "beside",
        "--name",
        "one",
        "busybox",
        "sleep",
        "600",
    ]);
    root.ok(&[
        "run",
        "-d",
        "--network",
        "beside",
        "--name",
        "two",
        "busybox",
        "sleep",
        "600",
    ]);
    let (code, out, err) = root.berth(&["exec", "two", "ping", "-c", "1", "-W", "2", "one"]);
    assert_eq!(code, 0, "ping one from two: {out}{err}");

    // And the outside, through the host.
    let outside = RemoteClient::new("d", "10.233.3.1", "10.233.3.2");
    let accepted = outside.serve_once("10.233.3.2:7071");
    let (code, out, err) = root.berth(&["exec", "one", "sh", "-c", "nc -w 5 10.233.3.2 7071"]);
    assert_eq!((code, out.as_str()), (0, "hi\n"), "{err}");
    assert_eq!(accepted.join().expect("listener"), "10.233.3.1");

    root.ok(&["rm", "-f", "one", "two"]);
    root.ok(&["network", "rm", "beside"]);
    let after = forward_chain();
    assert!(!after.contains("berth:"), "{after}");
    assert_eq!(others(&after), others(&before));
    drop(dockerd);
}
