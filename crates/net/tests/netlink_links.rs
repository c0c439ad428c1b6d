//! rtnetlink requests against the real kernel (root): a bridge with an address, a veth
//! pair whose inner end is made straight inside another network namespace, an address
//! and a default route in there, and deletion. The other namespace belongs to an
//! `unshare -n` child that the test starts and kills; its veth end goes with it.

use std::fs::File;
use std::os::fd::AsFd;
use std::process::{Child, Command, Stdio};

use berth_net::{Netlink, Subnet};

struct Namespace(Child);

impl Drop for Namespace {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Deletes the test's bridge and veth even when an assertion fails.
struct Links(Vec<String>);

impl Drop for Links {
    fn drop(&mut self) {
        if let Ok(mut nl) = Netlink::open() {
            for name in &self.0 {
                let _ = nl.delete_link(name);
            }
        }
    }
}

fn ip(args: &[&str]) -> String {
    let out = Command::new("ip").args(args).output().expect("run ip");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn bridge_veth_address_route_and_deletion() {
    assert!(
        rustix::process::geteuid().is_root(),
        "this test needs root: run the suite as root"
    );
    let bridge = format!("berthnl{}", std::process::id() % 100_000);
    let veth = format!("bvethnl{}", std::process::id() % 100_000);
    let mut nl = Netlink::open().unwrap();
    let _ = nl.delete_link(&bridge);
    let _links = Links(vec![veth.clone(), bridge.clone()]);

    let index = nl.add_bridge(&bridge).unwrap();
    let gateway = "10.231.7.1".parse().unwrap();
    nl.add_address(index, gateway, 24).unwrap();
    let again = nl.add_bridge(&bridge).unwrap_err();
    assert_eq!(again.errno(), Some(17), "{again}");
    assert!(
        again
            .to_string()
            .starts_with(&format!("create bridge {bridge}: "))
    );
    assert_eq!(nl.link_index(&bridge).unwrap(), Some(index));
    assert!(ip(&["-o", "addr", "show", "dev", &bridge]).contains("10.231.7.1/24"));
    let routes = nl.route_destinations().unwrap();
    let subnet: Subnet = "10.231.7.0/24".parse().unwrap();
    assert!(routes.contains(&subnet), "{routes:?}");

    let child = Command::new("unshare")
        .args(["-n", "sleep", "600"])
        .stdin(Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id();
    let ns = Namespace(child);
    // unshare has switched namespaces once its exec of sleep is visible.
    let target = loop {
        let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        if comm.trim() == "sleep" {
            break File::open(format!("/proc/{pid}/ns/net")).unwrap();
        }
        std::thread::yield_now();
    };
    let mac = [0x02, 0x42, 0xac, 0x11, 0x00, 0x07];
    nl.add_veth(&veth, index, "eth0", mac, target.as_fd())
        .unwrap();
    assert!(ip(&["-o", "link", "show", "dev", &veth]).contains(&format!("master {bridge}")));

    let mut inner = Netlink::open_in(target.as_fd()).unwrap();
    let eth0 = inner.link_index("eth0").unwrap().expect("eth0 inside");
    inner.set_up(eth0).unwrap();
    inner
        .add_address(eth0, "10.231.7.2".parse().unwrap(), 24)
        .unwrap();
    inner.add_default_route(gateway).unwrap();
    let names = inner.link_names().unwrap();
    assert!(names.contains(&"eth0".to_string()), "{names:?}");
    assert!(!names.contains(&veth), "{names:?}");
    let out = Command::new("nsenter")
        .args(["-t", &pid.to_string(), "-n", "ip", "route"])
        .output()
        .unwrap();
    let inside = String::from_utf8_lossy(&out.stdout);
    assert!(
        inside.contains("default via 10.231.7.1 dev eth0"),
        "{inside}"
    );
    let link = Command::new("nsenter")
        .args([
            "-t",
            &pid.to_string(),
            "-n",
            "ip",
            "-o",
            "link",
            "show",
            "eth0",
        ])
        .output()
        .unwrap();
    let link = String::from_utf8_lossy(&link.stdout);
    assert!(
        link.contains("02:42:ac:11:00:07") && link.contains("UP"),
        "{link}"
    );
    // The thread is back in the host's namespace.
    assert_eq!(nl.link_index(&bridge).unwrap(), Some(index));

    drop(ns);
    assert!(nl.delete_link(&bridge).unwrap());
    assert!(!nl.delete_link(&bridge).unwrap());
    assert_eq!(nl.link_index(&bridge).unwrap(), None);
}
