//! The embedded DNS server end to end, as root: names, aliases and round-robin answers
//! on a user network, isolation between networks, a removed container that stops
//! resolving, and forwarding of other names to an upstream. Every container that could
//! forward a query has `--dns` pointing at a fake upstream that the test serves inside a
//! container of its own: no query leaves the test's networks.

mod harness;

use std::net::IpAddr;

use harness::containers::{Guarded, inspect, read_record, root};
use harness::dns::{Client, FakeUpstream, netns_of};
use harness::networks::{create_network, detached};
use hickory_proto::op::ResponseCode;
use hickory_proto::rr::RecordType;

fn pid(root: &Guarded, id: &str) -> i64 {
    inspect(root, id)["State"]["Pid"].as_i64().expect("pid")
}

fn ip(s: &str) -> IpAddr {
    s.parse().expect("ip")
}

/// The upstream: a container at `.250` of `upstream_net` whose namespace the test serves
/// in; a container on `upstream_net` and another network reaches it through the host.
fn upstream(
    root: &Guarded,
    subnet_prefix: &str,
    names: &[(&str, IpAddr)],
) -> (String, FakeUpstream) {
    let at = format!("{subnet_prefix}.250");
    let id = detached(
        root,
        &[
            "--network",
            "upstream",
            "--ip",
            &at,
            "busybox",
            "sleep",
            "600",
        ],
    );
    let server = FakeUpstream::start(&netns_of(pid(root, &id)), ip(&at), names);
    (at, server)
}

#[test]
fn names_aliases_and_round_robin_on_a_user_network() {
    let root = root("dns-names");
    create_network(&root, "upstream", "10.232.10.0/24", 'u');
    create_network(&root, "apps", "10.232.11.0/24", 'a');
    create_network(&root, "elsewhere", "10.232.12.0/24", 'e');
    let (upstream_ip, server) = upstream(&root, "10.232.10", &[("outside.test", ip("10.99.0.7"))]);
    let dns = ["--dns", upstream_ip.as_str(), "--dns-search", "."];
    let mut webs = Vec::new();
    for n in 1..=3 {
        let name = format!("web{n}");
        let mut args = vec![
            "--network",
            "apps",
            "--network-alias",
            "web",
            "--name",
            &name,
        ];
        args.extend_from_slice(&dns);
        args.extend_from_slice(&["busybox", "sleep", "600"]);
        webs.push(detached(&root, &args));
    }
    let mut args = vec![
        "--network",
        "apps",
        "--name",
        "client",
        "--hostname",
        "clienthost",
    ];
    args.extend_from_slice(&dns);
    args.extend_from_slice(&["busybox", "sleep", "600"]);
    let client = detached(&root, &args);
    let mut args = vec!["--network", "elsewhere", "--name", "stranger"];
    args.extend_from_slice(&dns);
    args.extend_from_slice(&["busybox", "sleep", "600"]);
    detached(&root, &args);

    let address = |id: &str| {
        ip(
            inspect(&root, id)["NetworkSettings"]["Networks"]["apps"]["IPAddress"]
                .as_str()
                .unwrap_or_default(),
        )
    };
    let web_ips: Vec<IpAddr> = webs.iter().map(|w| address(w)).collect();

    // resolv.conf points at the embedded server.
    let resolv = root.ok(&["exec", "client", "cat", "/etc/resolv.conf"]);
    assert_eq!(
        resolv
            .lines()
            .filter(|l| l.starts_with("nameserver"))
            .collect::<Vec<_>>(),
        ["nameserver 127.0.0.11"],
        "{resolv}"
    );

    // From inside the client, with the container's own resolver.
    let (code, out, err) = root.berth(&["exec", "client", "ping", "-c", "1", "-W", "2", "web2"]);
    assert_eq!(code, 0, "ping web2: {out}{err}");
    assert!(out.contains(&web_ips[1].to_string()), "{out}");
    let mut first_seen = std::collections::BTreeSet::new();
    for _ in 0..30 {
        let (code, out, err) = root.berth(&["exec", "client", "nslookup", "web"]);
        assert_eq!(code, 0, "nslookup web: {out}{err}");
        let listed: Vec<IpAddr> = out
            .lines()
            .skip_while(|l| !l.starts_with("Name:"))
            .filter_map(|l| l.strip_prefix("Address:"))
            .filter_map(|a| a.trim().parse().ok())
            .collect();
        let mut sorted = listed.clone();
        sorted.sort();
        let mut want = web_ips.clone();
        want.sort();
        assert_eq!(sorted, want, "{out}");
        first_seen.insert(listed[0]);
    }
    assert_eq!(
        first_seen.len(),
        3,
        "every replica first at least once: {first_seen:?}"
    );

    // With the test's own client from inside the client's namespace.
    let mut asker = Client::inside(&netns_of(pid(&root, &client)));
    let mut firsts = std::collections::BTreeSet::new();
    for _ in 0..30 {
        let a = asker.ask("web.", RecordType::A);
        assert_eq!(a.code, ResponseCode::NoError);
        assert_eq!(a.addresses.len(), 3, "{a:?}");
        firsts.insert(a.addresses[0]);
    }
    assert_eq!(firsts.len(), 3, "{firsts:?}");
    let a = asker.ask("web1.", RecordType::A);
    assert_eq!(a.addresses, [web_ips[0]]);
    // Short id and hostname too; AAAA of an IPv4-only name is NODATA, not forwarded.
    let a = asker.ask(&format!("{}.", &client[..12]), RecordType::A);
    assert_eq!(a.addresses.len(), 1, "{a:?}");
    let a = asker.ask("clienthost.", RecordType::A);
    assert_eq!(a.addresses.len(), 1, "{a:?}");
    let a = asker.ask("web1.", RecordType::AAAA);
    assert_eq!((a.code, a.addresses.len()), (ResponseCode::NoError, 0));
    let reverse = match web_ips[0] {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            format!("{}.{}.{}.{}.in-addr.arpa.", o[3], o[2], o[1], o[0])
        }
        IpAddr::V6(_) => unreachable!("IPv4 network"),
    };
    let a = asker.ask(&reverse, RecordType::PTR);
    assert_eq!(a.names, ["web1.apps."], "{a:?}");
    let a = asker.ask("web2.apps.", RecordType::A);
    assert_eq!(a.addresses, [web_ips[1]], "{a:?}");

    // A container on another network is not known here: the upstream says NXDOMAIN.
    let a = asker.ask("stranger.", RecordType::A);
    assert_eq!(a.code, ResponseCode::NXDomain, "{a:?}");
    // Other names go upstream, and the upstream's answer comes back.
    let a = asker.ask("outside.test.", RecordType::A);
    assert_eq!(
        (a.code, a.addresses.clone()),
        (ResponseCode::NoError, vec![ip("10.99.0.7")])
    );
    let asked = server.asked();
    assert!(asked.contains(&"outside.test.".to_string()), "{asked:?}");
    assert!(asked.contains(&"stranger.".to_string()), "{asked:?}");
    assert!(
        !asked.iter().any(|n| n.starts_with("web")),
        "known names are never forwarded: {asked:?}"
    );
    let (code, out, _) = root.berth(&["exec", "client", "nslookup", "outside.test"]);
    assert_eq!(code, 0);
    assert!(out.contains("10.99.0.7"), "{out}");
    // Over TCP: known names answered here, others forwarded upstream over TCP.
    let a = asker.ask_tcp("web1.", RecordType::A);
    assert_eq!(a.addresses, [web_ips[0]], "{a:?}");
    let a = asker.ask_tcp("outside.test.", RecordType::A);
    assert_eq!(
        (a.code, a.addresses.clone()),
        (ResponseCode::NoError, vec![ip("10.99.0.7")])
    );
    assert_eq!(server.asked_over_tcp(), ["outside.test."]);

    // A removed container stops resolving at once.
    root.ok(&["rm", "-f", "web3"]);
    let a = asker.ask("web3.", RecordType::A);
    assert_eq!(a.code, ResponseCode::NXDomain, "{a:?}");
    let a = asker.ask("web.", RecordType::A);
    assert_eq!(a.addresses.len(), 2, "{a:?}");
    assert!(!a.addresses.contains(&web_ips[2]));

    // A container whose supervisor was killed (nothing updated the network's records)
    // stops resolving within a second or so.
    let supervisor = read_record(&root, &webs[1], "state.json")["Supervisor"]["pid"]
        .as_i64()
        .expect("supervisor pid");
    let killed = std::process::Command::new("kill")
        .args(["-9", &supervisor.to_string()])
        .status();
    assert!(killed.is_ok_and(|s| s.success()));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(3);
    loop {
        let a = asker.ask("web2.", RecordType::A);
        if a.code == ResponseCode::NXDomain {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "web2 still resolves 3 s after its supervisor was killed: {a:?}"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let a = asker.ask("web.", RecordType::A);
    assert_eq!(a.addresses, vec![web_ips[0]], "{a:?}");
}

#[test]
fn the_default_bridge_has_no_embedded_dns() {
    let root = root("dns-bridge");
    let id = detached(&root, &["busybox", "sleep", "600"]);
    let settings = &inspect(&root, &id)["NetworkSettings"];
    let address = settings["IPAddress"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(!address.is_empty(), "{settings}");
    assert_eq!(
        settings["Networks"]["bridge"]["IPAddress"],
        address.as_str()
    );
    let resolv = root.ok(&["exec", &id, "cat", "/etc/resolv.conf"]);
    assert!(!resolv.contains("127.0.0.11"), "{resolv}");
    assert!(
        !resolv.lines().any(|l| l.starts_with("nameserver 127.")),
        "loopback servers are unreachable from a container: {resolv}"
    );
    assert!(
        resolv.lines().any(|l| l.starts_with("nameserver ")),
        "a server the container can reach: {resolv}"
    );
    let hosts = root.ok(&["exec", &id, "cat", "/etc/hosts"]);
    assert!(
        hosts.ends_with(&format!("{address}\t{}\n", &id[..12])),
        "{hosts}"
    );
}

#[test]
fn links_on_the_default_bridge_write_hosts_and_env_and_on_a_user_network_a_private_name() {
    let root = root("dns-links");
    let db = detached(
        &root,
        &[
            "--name",
            "db",
            "-e",
            "PGDATA=/data",
            "--expose",
            "5432",
            "busybox",
            "sleep",
            "600",
        ],
    );
    let db_ip = inspect(&root, &db)["NetworkSettings"]["IPAddress"]
        .as_str()
        .expect("address")
        .to_string();
    let web = detached(
        &root,
        &[
            "--name", "web", "--link", "db:my-db", "busybox", "sleep", "600",
        ],
    );
    let hosts = root.ok(&["exec", &web, "cat", "/etc/hosts"]);
    assert!(
        hosts.contains(&format!("{db_ip}\tmy-db {} db\n", &db[..12])),
        "{hosts}"
    );
    let env = root.ok(&["exec", &web, "env"]);
    for want in [
        format!("MY_DB_PORT=tcp://{db_ip}:5432"),
        format!("MY_DB_PORT_5432_TCP_ADDR={db_ip}"),
        "MY_DB_PORT_5432_TCP_PORT=5432".to_string(),
        "MY_DB_NAME=/web/my-db".to_string(),
        "MY_DB_ENV_PGDATA=/data".to_string(),
    ] {
        assert!(env.lines().any(|l| l == want), "{want} in {env}");
    }
    assert!(!env.contains("MY_DB_ENV_PATH"), "{env}");
    // The alias reaches the linked container.
    root.ok(&["exec", &web, "ping", "-c", "1", "-W", "2", "my-db"]);
    assert_eq!(
        inspect(&root, &web)["HostConfig"]["Links"],
        serde_json::json!(["/db:/web/my-db"])
    );
    let names = root.ok(&["ps", "--filter", "name=^db$", "--format", "{{.Names}}"]);
    assert_eq!(names.trim(), "db,web/my-db");

    // The linked container must run when the linking one starts.
    root.ok(&["stop", "-t", "0", "db"]);
    root.ok(&["stop", "-t", "0", "web"]);
    let (code, _, err) = root.berth(&["start", "web"]);
    assert_ne!(code, 0);
    assert!(
        err.contains("Cannot link to a non running container: /db AS /web/my-db"),
        "{err}"
    );

    // Bad links are refused before anything exists.
    let before = root.count("containers");
    for (args, message) in [
        (
            vec!["--link", "nosuch", "busybox", "true"],
            "could not get container for nosuch",
        ),
        (
            vec!["--network", "host", "--link", "db", "busybox", "true"],
            "host type networking can't be used with links",
        ),
        (
            vec!["--link", "db:a/b", "busybox", "true"],
            "invalid --link \"db:a/b\"",
        ),
    ] {
        let mut all = vec!["run"];
        all.extend(args);
        let (code, _, err) = root.berth(&all);
        assert_eq!(code, 125, "{err}");
        assert!(err.contains(message), "{message} in {err}");
    }
    assert_eq!(root.count("containers"), before);

    // On a user network the alias is a name the linking container alone resolves.
    create_network(&root, "upstream", "10.232.61.0/24", 'm');
    create_network(&root, "linked", "10.232.60.0/24", 'l');
    let (upstream_ip, _server) = upstream(&root, "10.232.61", &[("tgt", ip("10.99.0.9"))]);
    let on_net = |name: &str, extra: &[&str]| {
        let mut args = vec!["--network", "linked", "--name", name, "--dns", &upstream_ip];
        args.extend_from_slice(extra);
        args.extend_from_slice(&["busybox", "sleep", "600"]);
        detached(&root, &args)
    };
    let target = on_net("target", &[]);
    let asker = on_net("asker", &["--link", "target:tgt"]);
    let other = on_net("other", &[]);
    let target_ip = inspect(&root, &target)["NetworkSettings"]["Networks"]["linked"]["IPAddress"]
        .as_str()
        .map(ip)
        .expect("address");
    assert_eq!(
        inspect(&root, &asker)["NetworkSettings"]["Networks"]["linked"]["Links"],
        serde_json::json!(["target:tgt"])
    );
    let a = Client::inside(&netns_of(pid(&root, &asker))).ask("tgt.", RecordType::A);
    assert_eq!(
        (a.code, a.addresses),
        (ResponseCode::NoError, vec![target_ip])
    );
    let a = Client::inside(&netns_of(pid(&root, &other))).ask("tgt.", RecordType::A);
    assert_eq!(
        (a.code, a.addresses),
        (ResponseCode::NoError, vec![ip("10.99.0.9")]),
        "another container's query for the alias goes upstream"
    );
}
