//! Networking end to end, as root: user-defined bridge networks with their own bridge
//! names and subnets (10.232.<n>.0/24, `brt<pid><n>` bridges), containers reaching each
//! other, addresses from the network's pool, `network` commands, and what is left after
//! supervisors are killed.

mod harness;

use std::process::Command;
use std::time::{Duration, Instant};

use harness::containers::{Guarded, read_record, root};
use harness::networks::{bridge_name, create_network, detached};
use harness::remote::RemoteClient;

fn link_exists(name: &str) -> bool {
    Command::new("ip")
        .args(["link", "show", "dev", name])
        .output()
        .is_ok_and(|o| o.status.success())
}

fn inspect_network(root: &Guarded, name: &str) -> serde_json::Value {
    let out = root.ok(&["network", "inspect", name]);
    let mut all: serde_json::Value = serde_json::from_str(&out).expect("inspect json");
    all[0].take()
}

/// Waits (bounded) for the kernel's asynchronous teardown of a dead namespace's veth.
fn wait_gone(link: &str) -> bool {
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if !link_exists(link) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

#[test]
fn containers_on_a_user_network_reach_each_other_and_inspect_shows_them() {
    let root = root("net-reach");
    let id = create_network(&root, "front", "10.232.1.0/24", 'a');
    assert_eq!(id.len(), 64, "{id}");
    let bridge = bridge_name('a');
    assert!(link_exists(&bridge), "bridge {bridge} after network create");
    let ls = root.ok(&["network", "ls"]);
    let header = ls.lines().next().unwrap_or_default();
    assert!(
        header.starts_with("NETWORK ID") && header.contains("NAME") && header.contains("DRIVER"),
        "{ls}"
    );
    assert!(
        ls.lines()
            .any(|l| l.starts_with(&id[..12]) && l.contains("front") && l.contains("bridge")),
        "{ls}"
    );

    let a = detached(
        &root,
        &[
            "--network",
            "front",
            "--ip",
            "10.232.1.50",
            "--name",
            "alpha",
            "busybox",
            "sleep",
            "600",
        ],
    );
    let b = detached(
        &root,
        &[
            "--network",
            "front",
            "--name",
            "beta",
            "busybox",
            "sleep",
            "600",
        ],
    );
    // The lowest free address after the gateway (.1).
    let (code, out, err) = root.berth(&["exec", "beta", "ip", "-o", "-4", "addr", "show", "eth0"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("inet 10.232.1.2/24"), "{out}");
    let (code, out, err) =
        root.berth(&["exec", "beta", "ping", "-c", "1", "-W", "2", "10.232.1.50"]);
    assert_eq!(code, 0, "b pings a: {out}{err}");
    let (code, out, _) = root.berth(&["exec", "alpha", "ip", "route"]);
    assert_eq!(code, 0);
    assert!(out.contains("default via 10.232.1.1 dev eth0"), "{out}");
    let hosts = root.ok(&["exec", "alpha", "cat", "/etc/hosts"]);
    assert!(
        hosts.ends_with(&format!("10.232.1.50\t{}\n", &a[..12])),
        "{hosts}"
    );

    let net = inspect_network(&root, "front");
    assert_eq!(net["Name"], "front");
    assert_eq!(net["IPAM"]["Config"][0]["Subnet"], "10.232.1.0/24");
    assert_eq!(net["IPAM"]["Config"][0]["Gateway"], "10.232.1.1");
    assert_eq!(net["Containers"][&a]["Name"], "alpha");
    assert_eq!(net["Containers"][&a]["IPv4Address"], "10.232.1.50/24");
    assert_eq!(net["Containers"][&a]["MacAddress"], "02:42:0a:e8:01:32");
    assert_eq!(net["Containers"][&b]["IPv4Address"], "10.232.1.2/24");

    let (code, _, err) = root.berth(&["network", "rm", "front"]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(
        err.trim(),
        format!("error: error while removing network: network front id {id} has active endpoints")
    );
    root.ok(&["rm", "-f", &a, &b]);
    assert_eq!(
        inspect_network(&root, "front")["Containers"],
        serde_json::json!({})
    );
    assert_eq!(root.ok(&["network", "rm", "front"]), "front\n");
    assert!(!link_exists(&bridge), "bridge {bridge} after network rm");
    let (code, _, err) = root.berth(&["network", "inspect", "front"]);
    assert_eq!(code, 1);
    assert!(err.contains("network front not found"), "{err}");
}

#[test]
fn bad_network_input_is_refused_before_anything_exists() {
    let root = root("net-bad");
    let (code, out, err) = root.berth(&["run", "--network", "nosuch", "busybox", "true"]);
    assert_eq!((code, out.as_str()), (125, ""), "{err}");
    assert_eq!(err.trim(), "error: network nosuch not found");
    let (code, _, err) = root.berth(&["run", "--ip", "10.1.1.1", "busybox", "true"]);
    assert_eq!(code, 125);
    assert!(
        err.contains("user specified IP address is supported on user defined networks only"),
        "{err}"
    );
    create_network(&root, "back", "10.232.2.0/24", 'b');
    let (code, _, err) = root.berth(&[
        "run",
        "--network",
        "back",
        "--ip",
        "10.9.9.9",
        "busybox",
        "true",
    ]);
    assert_eq!(code, 125);
    assert!(
        err.contains("no configured subnet contains IP address 10.9.9.9 of network back"),
        "{err}"
    );
    let (code, _, err) = root.berth(&["network", "create", "--subnet", "10.232.2.128/25", "other"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("Pool overlaps with other one on this address space"),
        "{err}"
    );
    let (code, _, err) = root.berth(&["network", "create", "back"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("network with name back already exists"),
        "{err}"
    );
    let (code, _, err) = root.berth(&["network", "rm", "bridge"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("bridge is a pre-defined network and cannot be removed"),
        "{err}"
    );
    // Nothing was created by the refused runs.
    assert_eq!(root.ok(&["ps", "-aq"]), "");
}

#[test]
fn fifty_parallel_starts_get_fifty_distinct_addresses() {
    let root = root("net-fifty");
    create_network(&root, "many", "10.232.3.0/24", 'c');
    let threads: Vec<_> = (0..50)
        .map(|_| {
            let mut command = harness::containers::berth_command(&root);
            command.args(["run", "-d", "--network", "many", "busybox", "sleep", "600"]);
            std::thread::spawn(move || command.output().expect("run berth"))
        })
        .collect();
    let mut ids = Vec::new();
    for t in threads {
        let out = t.join().expect("thread");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        ids.push(String::from_utf8_lossy(&out.stdout).trim().to_string());
    }
    let net = inspect_network(&root, "many");
    let containers = net["Containers"].as_object().expect("containers");
    assert_eq!(containers.len(), 50, "{net}");
    let mut addresses: Vec<&str> = containers
        .values()
        .map(|c| c["IPv4Address"].as_str().unwrap_or_default())
        .collect();
    addresses.sort_unstable();
    addresses.dedup();
    assert_eq!(addresses.len(), 50, "{addresses:?}");
    for id in &ids {
        assert!(containers.contains_key(id), "{id} missing from {net}");
    }
    // Released on removal: the next container gets the lowest address again.
    root.ok(&["rm", "-f", &ids[0]]);
    let freed = net["Containers"][&ids[0]]["IPv4Address"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let lowest = addresses[0].to_string();
    let again = detached(&root, &["--network", "many", "busybox", "sleep", "600"]);
    let now = inspect_network(&root, "many");
    let got = now["Containers"][&again]["IPv4Address"]
        .as_str()
        .unwrap_or_default();
    assert!(got == freed || got == lowest, "{got} (freed {freed})");
    assert_eq!(now["Containers"].as_object().map(|m| m.len()), Some(50));
}

#[test]
fn the_subnet_pool_skips_a_route_on_the_host() {
    let root = root("net-route");
    let first = root.ok(&[
        "network",
        "create",
        "-o",
        &format!("com.docker.network.bridge.name={}", bridge_name('d')),
        "probe",
    ]);
    let subnet = inspect_network(&root, first.trim())["IPAM"]["Config"][0]["Subnet"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        subnet.ends_with("/16") || subnet.ends_with("/20"),
        "{subnet}"
    );
    root.ok(&["network", "rm", "probe"]);
    // A route for that subnet on a link of the test's own (a bridge: this kernel has no dummy links).
    let dummy = bridge_name('e');
    let made = Command::new("ip")
        .args(["link", "add", &dummy, "type", "bridge"])
        .status();
    assert!(made.is_ok_and(|s| s.success()), "ip link add {dummy}");
    struct Dummy(String);
    impl Drop for Dummy {
        fn drop(&mut self) {
            let _ = Command::new("ip").args(["link", "del", &self.0]).status();
        }
    }
    let _dummy = Dummy(dummy.clone());
    let up = Command::new("ip")
        .args(["link", "set", &dummy, "up"])
        .status();
    assert!(up.is_ok_and(|s| s.success()), "ip link set {dummy} up");
    let routed = Command::new("ip")
        .args(["route", "add", &subnet, "dev", &dummy])
        .status();
    assert!(routed.is_ok_and(|s| s.success()), "ip route add {subnet}");
    let second = root.ok(&[
        "network",
        "create",
        "-o",
        &format!("com.docker.network.bridge.name={}", bridge_name('f')),
        "next",
    ]);
    let next = inspect_network(&root, second.trim())["IPAM"]["Config"][0]["Subnet"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert_ne!(next, subnet, "the routed subnet was handed out again");
    assert!(!next.is_empty());
}

#[test]
fn killed_supervisors_leave_nothing_after_rm_and_network_rm() {
    let root = root("net-kill");
    let net_id = create_network(&root, "doomed", "10.232.4.0/24", 'g');
    // One of them runs as another user (whose init must still die with its supervisor).
    let ids: Vec<String> = ["0", "1000", "0"]
        .iter()
        .map(|user| {
            detached(
                &root,
                &["--network", "doomed", "-u", user, "busybox", "sleep", "600"],
            )
        })
        .collect();
    let net = inspect_network(&root, "doomed");
    assert_eq!(net["Containers"].as_object().map(|m| m.len()), Some(3));
    let mut inits = Vec::new();
    for id in &ids {
        let state = read_record(&root, id, "state.json");
        inits.push(state["Pid"].as_i64().expect("init pid"));
        let pid = state["Supervisor"]["pid"].as_i64().expect("supervisor pid");
        let status = Command::new("kill").args(["-9", &pid.to_string()]).status();
        assert!(status.is_ok_and(|s| s.success()));
    }
    // Each init dies with its supervisor (a zombie or gone), before any cleanup.
    let running = |pid: i64| {
        std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .ok()
            .and_then(|s| s.rsplit(") ").next().map(|r| !r.starts_with('Z')))
            .unwrap_or(false)
    };
    let deadline = Instant::now() + Duration::from_secs(5);
    while inits.iter().any(|p| running(*p)) {
        assert!(
            Instant::now() < deadline,
            "an init outlived its supervisor: {inits:?}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    for id in &ids {
        root.ok(&["rm", "-f", id]);
    }
    // `rm` forgets the endpoints of dead supervisors (the file itself, not only what
    // inspect shows).
    let path = root
        .path()
        .join("state/networks")
        .join(&net_id)
        .join("endpoints.json");
    let endpoints: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("endpoints.json"))
            .expect("json");
    assert_eq!(endpoints["Endpoints"], serde_json::json!({}), "{endpoints}");
    assert_eq!(
        inspect_network(&root, "doomed")["Containers"],
        serde_json::json!({})
    );
    root.ok(&["network", "rm", "doomed"]);
    assert!(!link_exists(&bridge_name('g')));
    for id in &ids {
        let veth = berth_engine::network::host_veth_name(id, &net_id);
        assert!(wait_gone(&veth), "veth {veth} left behind");
    }
}

/// The rules berth has in nftables for `bridge`, as `nft` lists them.
fn nft_rules_for(bridge: &str) -> Vec<String> {
    let out = Command::new("nft")
        .args(["list", "ruleset"])
        .output()
        .expect("nft");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.contains(&format!("comment \"berth:{bridge}\"")))
        .map(|l| l.trim().to_string())
        .collect()
}

#[test]
fn outbound_traffic_is_masqueraded_and_internal_networks_stay_inside() {
    let root = root("net-outbound");
    create_network(&root, "out", "10.232.30.0/24", 'o');
    root.ok(&[
        "network",
        "create",
        "--internal",
        "--subnet",
        "10.232.31.0/24",
        "-o",
        &format!("com.docker.network.bridge.name={}", bridge_name('i')),
        "inside",
    ]);
    let masq = nft_rules_for(&bridge_name('o'));
    assert!(
        masq.iter()
            .any(|r| r.contains("10.232.30.0/24") && r.contains("masquerade")),
        "{masq:?}"
    );
    let drops = nft_rules_for(&bridge_name('i'));
    assert!(
        drops.iter().all(|r| r.contains("drop")) && drops.len() == 2,
        "{drops:?}"
    );

    // A "machine outside": a namespace behind the host, which knows no route to the
    // containers' subnet; only masqueraded traffic (from the host's address) gets back.
    let outside = RemoteClient::new("o", "10.233.2.1", "10.233.2.2");
    let accepted = outside.serve_once("10.233.2.2:7070");
    let (code, out, err) = root.berth(&[
        "run",
        "--rm",
        "--network",
        "out",
        "busybox",
        "sh",
        "-c",
        "nc -w 5 10.233.2.2 7070",
    ]);
    assert_eq!((code, out.as_str()), (0, "hi\n"), "{err}");
    assert_eq!(
        accepted.join().expect("listener"),
        "10.233.2.1",
        "masqueraded as the host"
    );

    let (code, _, _) = root.berth(&[
        "run",
        "--rm",
        "--network",
        "inside",
        "busybox",
        "sh",
        "-c",
        "nc -w 2 10.233.2.2 7070",
    ]);
    assert_ne!(code, 0, "an internal network must not reach outside");
    let (code, out, _) = root.berth(&[
        "run",
        "--rm",
        "--network",
        "inside",
        "busybox",
        "ip",
        "route",
    ]);
    assert_eq!(code, 0);
    assert!(
        !out.contains("default"),
        "no default route on an internal network: {out}"
    );

    root.ok(&["network", "rm", "out", "inside"]);
    assert!(nft_rules_for(&bridge_name('o')).is_empty());
    assert!(nft_rules_for(&bridge_name('i')).is_empty());
}

#[test]
fn network_connect_and_disconnect_running_and_created_containers() {
    let root = root("net-connect");
    create_network(&root, "first", "10.232.50.0/24", 'j');
    create_network(&root, "second", "10.232.51.0/24", 'k');
    let x = detached(
        &root,
        &[
            "--network",
            "first",
            "--name",
            "xx",
            "--dns",
            "127.0.0.1",
            "busybox",
            "sleep",
            "600",
        ],
    );
    let y = detached(
        &root,
        &[
            "--network",
            "second",
            "--name",
            "yy",
            "--ip",
            "10.232.51.9",
            // Names it does not know go to a loopback address of the host, never to the
            // host's resolvers (which are off the machine).
            "--dns",
            "127.0.0.1",
            "busybox",
            "sleep",
            "600",
        ],
    );
    root.ok(&[
        "network",
        "connect",
        "--alias",
        "xalias",
        "--ip",
        "10.232.51.77",
        "second",
        "xx",
    ]);
    let (code, out, err) = root.berth(&["exec", "xx", "ip", "-o", "-4", "addr", "show"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("eth1") && out.contains("10.232.51.77/24"),
        "{out}"
    );
    let (code, out, err) = root.berth(&["exec", "xx", "ping", "-c", "1", "-W", "2", "10.232.51.9"]);
    assert_eq!(code, 0, "xx reaches yy over the new network: {out}{err}");
    let net = inspect_network(&root, "second");
    assert_eq!(
        net["Containers"][&x]["IPv4Address"], "10.232.51.77/24",
        "{net}"
    );
    // yy's DNS server sees xx on their shared network at once, alias included.
    let pid = harness::containers::inspect(&root, &y)["State"]["Pid"]
        .as_i64()
        .expect("pid");
    let mut asker = harness::dns::Client::inside(&harness::dns::netns_of(pid));
    let a = asker.ask("xalias.", hickory_proto::rr::RecordType::A);
    assert_eq!(
        a.addresses,
        ["10.232.51.77".parse::<std::net::IpAddr>().unwrap()],
        "{a:?}"
    );
    // And xx's own server has taken in the network it was connected to.
    let xpid = harness::containers::inspect(&root, &x)["State"]["Pid"]
        .as_i64()
        .expect("pid");
    let mut from_x = harness::dns::Client::inside(&harness::dns::netns_of(xpid));
    let a = from_x.ask("yy.", hickory_proto::rr::RecordType::A);
    assert_eq!(
        a.addresses,
        ["10.232.51.9".parse::<std::net::IpAddr>().unwrap()],
        "{a:?}"
    );
    let (code, _, err) = root.berth(&["network", "connect", "second", "xx"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("endpoint with name xx already exists in network second"),
        "{err}"
    );

    root.ok(&["network", "disconnect", "second", "xx"]);
    let (code, out, _) = root.berth(&["exec", "xx", "ip", "-o", "link", "show"]);
    assert_eq!(code, 0);
    assert!(!out.contains("eth1"), "{out}");
    assert!(
        inspect_network(&root, "second")["Containers"]
            .get(&x)
            .is_none()
    );
    let a = asker.ask("xalias.", hickory_proto::rr::RecordType::A);
    assert!(a.addresses.is_empty(), "{a:?}");
    let (code, _, err) = root.berth(&["network", "disconnect", "second", "xx"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("container xx is not connected to network second"),
        "{err}"
    );

    // A created container keeps the connection for its start.
    let z = root
        .ok(&["create", "--network", "first", "busybox", "sleep", "600"])
        .trim()
        .to_string();
    root.ok(&["network", "connect", "second", &z]);
    root.ok(&["start", &z]);
    let (code, out, err) = root.berth(&["exec", &z, "ip", "-o", "-4", "addr", "show", "eth1"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("10.232.51."), "{out}");

    // Off the network it was created with (`--network first`), while it runs: the
    // default route moves to the network left, and a restart joins only that one.
    root.ok(&["network", "connect", "second", "xx"]);
    root.ok(&["network", "disconnect", "first", "xx"]);
    let (code, out, err) = root.berth(&["exec", "xx", "ip", "route"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("default via 10.232.51.1"), "{out}");
    assert!(!out.contains("10.232.50."), "{out}");
    assert!(
        inspect_network(&root, "first")["Containers"]
            .get(&x)
            .is_none()
    );
    root.ok(&["restart", "-t", "0", "xx"]);
    let settings = &harness::containers::inspect(&root, &x)["NetworkSettings"]["Networks"];
    let names: Vec<&String> = settings.as_object().expect("networks").keys().collect();
    assert_eq!(names, ["second"], "{settings}");
    let (code, out, err) = root.berth(&["exec", "xx", "ip", "-o", "-4", "addr", "show"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("eth0") && out.contains("10.232.51.") && !out.contains("eth1"),
        "{out}"
    );
    let (code, out, err) = root.berth(&["exec", "xx", "ping", "-c", "1", "-W", "2", "10.232.51.9"]);
    assert_eq!(code, 0, "{out}{err}");
    // And back on it: under its own name again.
    root.ok(&["network", "connect", "first", "xx"]);
    let (code, out, err) = root.berth(&["exec", "xx", "ip", "-o", "-4", "addr", "show"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("10.232.50."), "{out}");
}

#[test]
fn a_network_whose_bridge_name_another_interface_took_is_refused_clearly() {
    let root = root("net-taken");
    create_network(&root, "taken", "10.232.62.0/24", 'n');
    let bridge = bridge_name('n');
    let ip = |args: &[&str]| {
        let ok = Command::new("ip").args(args).status();
        assert!(ok.is_ok_and(|s| s.success()), "ip {args:?}");
    };
    // As after a reboot where another program made an interface of that name first.
    ip(&["link", "del", &bridge]);
    let peer = format!("{bridge}p");
    ip(&[
        "link", "add", &bridge, "type", "veth", "peer", "name", &peer,
    ]);
    struct Veth(String);
    impl Drop for Veth {
        fn drop(&mut self) {
            let _ = Command::new("ip").args(["link", "del", &self.0]).status();
        }
    }
    let veth = Veth(bridge.clone());
    let before = root.count("containers");
    let (code, _, err) = root.berth(&["run", "--rm", "--network", "taken", "busybox", "true"]);
    assert_eq!(code, 125, "{err}");
    assert!(
        err.contains(&format!(
            "network taken: its interface {bridge} exists but is not a bridge"
        )),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
    assert_eq!(
        root.count("containers"),
        before,
        "nothing left of the refused run"
    );
    drop(veth);
    // With the interface gone, the network makes its bridge again.
    root.ok(&["run", "--rm", "--network", "taken", "busybox", "true"]);
    assert!(link_exists(&bridge));
}

#[test]
fn more_containers_than_the_kernels_inotify_instances_run_on_one_network() {
    // The kernel allows 128 inotify instances per user (fs.inotify.max_user_instances):
    // a container's DNS server must not hold one.
    let root = root("net-many");
    create_network(&root, "crowd", "10.232.63.0/24", 'z');
    let limit: usize = std::fs::read_to_string("/proc/sys/fs/inotify/max_user_instances")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(128);
    let count = limit + 12;
    assert!(count < 250, "the subnet holds them");
    for i in 0..count {
        detached(
            &root,
            &[
                "--network",
                "crowd",
                "--dns",
                "127.0.0.1",
                "--name",
                &format!("c{i}"),
                "busybox",
                "sleep",
                "600",
            ],
        );
    }
    assert_eq!(root.ok(&["ps", "-q"]).lines().count(), count);
    // The last one still resolves the first by name.
    let out = root.ok(&[
        "exec",
        &format!("c{}", count - 1),
        "ping",
        "-c",
        "1",
        "-W",
        "2",
        "c0",
    ]);
    assert!(out.contains("1 packets received"), "{out}");
}
