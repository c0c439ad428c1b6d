//! Published ports end to end, as root: a busybox httpd reached through `-p` over
//! loopback and from a second network namespace acting as a remote client, UDP through
//! an echo server the test runs inside the container's namespace, `-P`, `port`, `ps`,
//! `inspect`, a port conflict named with its holder, and `--network container:`.

mod harness;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::os::fd::AsFd;
use std::time::{Duration, Instant};

use harness::containers::{inspect, root};
use harness::networks::{address_and_netns, create_network, detached};
use harness::remote::RemoteClient;

const HTTPD: &str =
    "mkdir -p /www && echo hello-from-berth > /www/index.html && exec httpd -f -p 80 -h /www";

/// An HTTP GET of `/` at `to`, retried until the server is up (bounded): the body.
fn http_get(to: SocketAddr) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let attempt = (|| -> std::io::Result<String> {
            let mut s = TcpStream::connect_timeout(&to, Duration::from_secs(2))?;
            s.set_read_timeout(Some(Duration::from_secs(5)))?;
            s.write_all(b"GET / HTTP/1.0\r\nHost: test\r\n\r\n")?;
            let mut out = String::new();
            s.read_to_string(&mut out)?;
            Ok(out)
        })();
        match attempt {
            Ok(text) if text.contains("200 OK") => return text,
            other if Instant::now() > deadline => panic!("GET {to}: {other:?}"),
            _ => std::thread::sleep(Duration::from_millis(20)),
        }
    }
}

#[test]
fn published_tcp_ports_reach_httpd_over_loopback_and_from_another_namespace() {
    let root = root("ports-tcp");
    create_network(&root, "web", "10.232.20.0/24", 'w');
    let web = detached(
        &root,
        &[
            "--network",
            "web",
            "--name",
            "web1",
            "-p",
            "127.0.0.1:18080:80",
            "-p",
            "18081:80",
            "busybox",
            "sh",
            "-c",
            HTTPD,
        ],
    );
    let page = http_get("127.0.0.1:18080".parse().unwrap());
    assert!(page.contains("hello-from-berth"), "{page}");
    let page = http_get("127.0.0.1:18081".parse().unwrap());
    assert!(page.contains("hello-from-berth"), "{page}");
    // 18080 is bound to 127.0.0.1 only; 18081 to every address.
    let remote = RemoteClient::new("r", "10.233.1.1", "10.233.1.2");
    let page = remote.get("10.233.1.1", 18081);
    assert!(
        page.as_deref()
            .is_some_and(|p| p.contains("hello-from-berth")),
        "{page:?}"
    );
    assert_eq!(
        remote.get("10.233.1.1", 18080),
        None,
        "127.0.0.1:18080 must not answer on other addresses"
    );

    let mut ports = root
        .ok(&["port", "web1"])
        .lines()
        .map(String::from)
        .collect::<Vec<_>>();
    ports.sort();
    assert_eq!(
        ports,
        ["80/tcp -> 0.0.0.0:18081", "80/tcp -> 127.0.0.1:18080"]
    );
    let ps = root.ok(&["ps", "--format", "{{.Ports}}"]);
    assert!(
        ps.contains("127.0.0.1:18080->80/tcp") && ps.contains("0.0.0.0:18081->80/tcp"),
        "{ps}"
    );
    let settings = &inspect(&root, &web)["NetworkSettings"]["Ports"]["80/tcp"];
    assert!(
        settings.as_array().is_some_and(|a| a
            .iter()
            .any(|b| b["HostIp"] == "127.0.0.1" && b["HostPort"] == "18080")),
        "{settings}"
    );

    // The same host port again: refused before the container runs, naming the holder.
    let (code, out, err) = root.berth(&[
        "run",
        "--network",
        "web",
        "-p",
        "18081:80",
        "busybox",
        "true",
    ]);
    assert_eq!((code, out.as_str()), (125, ""), "{err}");
    assert!(
        err.contains("Bind for 0.0.0.0:18081 failed: port is already allocated by container web1"),
        "{err}"
    );
    // The failed start left its address free: the network has only web1.
    let net: serde_json::Value =
        serde_json::from_str(&root.ok(&["network", "inspect", "web"])).expect("json");
    assert_eq!(
        net[0]["Containers"].as_object().map(|m| m.len()),
        Some(1),
        "{net}"
    );

    // Once web1 is gone, the ports are free again.
    root.ok(&["rm", "-f", &web]);
    assert!(
        TcpStream::connect_timeout(&"127.0.0.1:18081".parse().unwrap(), Duration::from_secs(1))
            .is_err()
    );
}

#[test]
fn publish_all_takes_ephemeral_ports_and_udp_is_relayed() {
    let root = root("ports-udp");
    create_network(&root, "udpnet", "10.232.21.0/24", 'x');
    let id = detached(
        &root,
        &[
            "--network",
            "udpnet",
            "--expose",
            "80",
            "-P",
            "-p",
            "127.0.0.1::9999/udp",
            "busybox",
            "sh",
            "-c",
            HTTPD,
        ],
    );
    let c = inspect(&root, &id);
    let tcp_port: u16 = c["NetworkSettings"]["Ports"]["80/tcp"][0]["HostPort"]
        .as_str()
        .and_then(|p| p.parse().ok())
        .expect("an ephemeral host port for 80/tcp");
    assert!(tcp_port > 0);
    let page = http_get(SocketAddr::from(([127, 0, 0, 1], tcp_port)));
    assert!(page.contains("hello-from-berth"));
    let udp_port: u16 = root
        .ok(&["port", &id, "9999/udp"])
        .trim()
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .expect("port 9999/udp");

    // A UDP echo server inside the container's namespace, on its address.
    let (address, netns) = address_and_netns(&c, "udpnet");
    let server =
        berth_net::netns::within(netns.as_fd(), || UdpSocket::bind((address.as_str(), 9999)))
            .expect("enter the netns")
            .expect("bind the echo server");
    server
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let echo = std::thread::spawn(move || {
        let mut buf = [0u8; 512];
        for _ in 0..2 {
            let (n, from) = server
                .recv_from(&mut buf)
                .expect("a datagram through the proxy");
            let mut reply = b"echo:".to_vec();
            reply.extend_from_slice(&buf[..n]);
            server.send_to(&reply, from).expect("reply");
        }
    });
    let client = UdpSocket::bind("127.0.0.1:0").expect("client");
    client
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    client.connect(("127.0.0.1", udp_port)).expect("connect");
    let mut buf = [0u8; 512];
    for word in ["one", "two"] {
        client.send(word.as_bytes()).expect("send");
        let n = client
            .recv(&mut buf)
            .expect("the echo back through the proxy");
        assert_eq!(&buf[..n], format!("echo:{word}").as_bytes());
    }
    echo.join().expect("echo server");
}

#[test]
fn network_container_mode_shares_the_stack() {
    let root = root("ports-shared");
    create_network(&root, "shared", "10.232.22.0/24", 's');
    let first = detached(
        &root,
        &[
            "--network",
            "shared",
            "--name",
            "first",
            "busybox",
            "sh",
            "-c",
            HTTPD,
        ],
    );
    let second = detached(
        &root,
        &["--network", "container:first", "busybox", "sleep", "600"],
    );
    let address = inspect(&root, &first)["NetworkSettings"]["Networks"]["shared"]["IPAddress"]
        .as_str()
        .expect("address")
        .to_string();
    let (code, out, err) = root.berth(&["exec", &second, "ip", "-o", "-4", "addr", "show", "eth0"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains(&format!("inet {address}/24")), "{out}");
    // Docker: it also shares first's /etc/hosts and resolv.conf (and so its DNS server).
    for file in ["/etc/hosts", "/etc/resolv.conf"] {
        assert_eq!(
            root.ok(&["exec", &second, "cat", file]),
            root.ok(&["exec", "first", "cat", file]),
            "{file}"
        );
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (code, out, _) = root.berth(&[
            "exec",
            &second,
            "sh",
            "-c",
            "printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 3 127.0.0.1 80",
        ]);
        if code == 0 && out.contains("200 OK") {
            assert!(out.contains("hello-from-berth"), "{out}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "httpd of first over the shared loopback"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let (code, _, err) = root.berth(&["run", "--network", "container:nosuch", "busybox", "true"]);
    assert_eq!(code, 125);
    assert!(err.contains("nosuch"), "{err}");
}

#[test]
fn the_proxy_passes_half_closes_on_and_keeps_up_with_many_connections() {
    let root = root("ports-relay");
    create_network(&root, "relay", "10.232.23.0/24", 'h');
    // A container that only sleeps: the test serves inside its namespace, so it decides
    // who closes first. Port 7000 has that server; nothing listens on 7001.
    let id = detached(
        &root,
        &[
            "--network",
            "relay",
            "-p",
            "127.0.0.1:18083:7000",
            "-p",
            "127.0.0.1:18084:7001",
            "busybox",
            "sleep",
            "600",
        ],
    );
    let c = inspect(&root, &id);
    let (address, netns) = address_and_netns(&c, "relay");
    let listener = berth_net::netns::within(netns.as_fd(), || {
        std::net::TcpListener::bind((address.as_str(), 7000))
    })
    .expect("enter the netns")
    .expect("bind the server");
    const ROUNDS: usize = 500;
    // Reads until the client's half-close, then answers with the byte count and closes.
    let server = std::thread::spawn(move || {
        for _ in 0..=ROUNDS {
            let (mut s, _) = listener.accept().expect("a connection through the proxy");
            let mut got = Vec::new();
            s.read_to_end(&mut got).expect("read to the half-close");
            s.write_all(got.len().to_string().as_bytes())
                .expect("answer");
        }
    });
    let exchange = |payload: &[u8]| -> String {
        let mut s = TcpStream::connect("127.0.0.1:18083").expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        s.write_all(payload).expect("send");
        s.shutdown(std::net::Shutdown::Write).expect("half-close");
        let mut answer = String::new();
        s.read_to_string(&mut answer).expect("the answer");
        answer
    };
    // More than the proxy's buffers hold, in one direction, before the answer comes back.
    let big = vec![7u8; 1_000_003];
    assert_eq!(exchange(&big), "1000003");
    // The client closes first every time, so each relayed connection leaves a TIME_WAIT
    // on the proxy's side; every one of them must still get through.
    for i in 0..ROUNDS {
        let payload = format!("request {i}");
        assert_eq!(
            exchange(payload.as_bytes()),
            payload.len().to_string(),
            "round {i}"
        );
    }
    server.join().expect("server");

    // Nothing listens on 7001: the proxy accepts, and the client then sees its
    // connection end, at once rather than at a timeout.
    let mut s = TcpStream::connect("127.0.0.1:18084").expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let mut buf = [0u8; 16];
    let read = s.read(&mut buf);
    assert!(
        matches!(read, Ok(0))
            || read
                .as_ref()
                .is_err_and(|e| e.kind() != std::io::ErrorKind::WouldBlock),
        "{read:?}"
    );
}
