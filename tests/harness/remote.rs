//! A network namespace with a veth to the host, standing for a machine outside: a client
//! that is not on the host's loopback, or a server that containers reach through the
//! host's routing (and masquerade).

use std::fs::File;
use std::process::Command;

/// A network namespace with a veth to the host: a client that is not on the host's
/// loopback. Removed (with its veth) on drop.
pub struct RemoteClient {
    pub name: String,
    host_end: String,
}

impl RemoteClient {
    pub fn new(tag: &str, host_ip: &str, client_ip: &str) -> RemoteClient {
        let id = std::process::id() % 100_000;
        let c = RemoteClient {
            name: format!("berth-test-{tag}-{id}"),
            host_end: format!("brt{id}{tag}h"),
        };
        let peer = format!("brt{id}{tag}p");
        let ip = |args: &[&str]| {
            let ok = Command::new("ip")
                .args(args)
                .status()
                .is_ok_and(|s| s.success());
            assert!(ok, "ip {args:?}");
        };
        ip(&["netns", "add", &c.name]);
        ip(&[
            "link",
            "add",
            &c.host_end,
            "type",
            "veth",
            "peer",
            "name",
            &peer,
        ]);
        ip(&["link", "set", &peer, "netns", &c.name]);
        ip(&["addr", "add", &format!("{host_ip}/30"), "dev", &c.host_end]);
        ip(&["link", "set", &c.host_end, "up"]);
        ip(&[
            "-n",
            &c.name,
            "addr",
            "add",
            &format!("{client_ip}/30"),
            "dev",
            &peer,
        ]);
        ip(&["-n", &c.name, "link", "set", &peer, "up"]);
        ip(&["-n", &c.name, "link", "set", "lo", "up"]);
        c
    }

    /// An HTTP GET from inside the namespace with busybox `nc` (Debian's static busybox
    /// `wget` crashes on this host): the response if it is a 200.
    pub fn get(&self, ip: &str, port: u16) -> Option<String> {
        let script = format!("printf 'GET / HTTP/1.0\\r\\n\\r\\n' | busybox nc -w 3 {ip} {port}");
        let out = Command::new("ip")
            .args(["netns", "exec", &self.name, "sh", "-c", &script])
            .output()
            .expect("ip netns exec");
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        text.contains("200 OK").then_some(text)
    }
}

impl Drop for RemoteClient {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["link", "del", &self.host_end])
            .status();
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .status();
    }
}

impl RemoteClient {
    /// Its namespace, to make sockets in (`berth_net::netns::within`).
    pub fn netns(&self) -> File {
        File::open(format!("/run/netns/{}", self.name)).expect("open the namespace")
    }

    /// A TCP server at `at` inside the namespace that answers one connection with `hi`;
    /// the thread returns the address the connection came from.
    pub fn serve_once(&self, at: &str) -> std::thread::JoinHandle<String> {
        use std::os::fd::AsFd;
        let listener =
            berth_net::netns::within(self.netns().as_fd(), || std::net::TcpListener::bind(at))
                .expect("enter the netns")
                .expect("listen outside");
        std::thread::spawn(move || {
            let (mut stream, peer) = listener.accept().expect("a connection from the container");
            let _ = std::io::Write::write_all(&mut stream, b"hi\n");
            peer.ip().to_string()
        })
    }
}
