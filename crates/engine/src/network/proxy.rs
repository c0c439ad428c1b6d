//! The userland proxy of a running container's published ports, served by its supervisor
//! from the supervisor's poll loop (as the DNS server is): host sockets bound before the
//! container starts (so a port in use fails the start before anything runs), each TCP
//! connection relayed to the container's address through buffers in both directions,
//! with half-closes passed on, and each UDP client given a flow of its own. It reaches
//! the container from every host address, 127.0.0.1 included, with no kernel rule.

use std::io::{self, Write};
use std::net::{
    IpAddr, Ipv4Addr, Ipv6Addr, Shutdown, SocketAddr, TcpListener, TcpStream, UdpSocket,
};
use std::os::fd::OwnedFd;
use std::time::{Duration, Instant};

use rustix::event::{PollFd, PollFlags};
use rustix::net::{AddressFamily, SocketFlags, SocketType};

/// Per direction of one TCP connection.
const BUFFER: usize = 64 * 1024;

/// A UDP client with no traffic for this long loses its flow.
const UDP_IDLE: Duration = Duration::from_secs(60);

/// Datagrams or connections handled per wakeup before others get their turn.
const BATCH: usize = 64;

/// A published port as bound: Docker's `NetworkSettings.Ports` entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bound {
    /// `80/tcp`.
    pub port: String,
    pub host_ip: IpAddr,
    pub host_port: u16,
}

/// What `bind` was asked: a binding of `HostConfig.PortBindings`.
#[derive(Clone, Debug)]
pub struct Wanted {
    pub port: String,
    pub host_ip: String,
    pub host_port: String,
}

/// A host port that could not be bound.
#[derive(Debug)]
pub struct BindError {
    pub address: String,
    pub proto: String,
    pub port: u16,
    pub source: io::Error,
}

enum Socket {
    Tcp(TcpListener),
    Udp(UdpSocket),
}

struct Listener {
    socket: Socket,
    target: SocketAddr,
}

/// What one direction holds between a read and a write: `data[start..]`, read into
/// spare capacity (no zeroing per connection), allocated on first use.
struct Buf {
    data: Vec<u8>,
    start: usize,
}

impl Buf {
    fn new() -> Buf {
        Buf {
            data: Vec::new(),
            start: 0,
        }
    }
    fn is_empty(&self) -> bool {
        self.start == self.data.len()
    }
    fn has_room(&self) -> bool {
        self.data.len() < BUFFER
    }
    /// Reads what `from` has into the free space; `Ok(false)` at EOF.
    fn fill(&mut self, from: &TcpStream) -> io::Result<bool> {
        if self.data.capacity() == 0 {
            self.data.reserve_exact(BUFFER);
        }
        while self.data.len() < BUFFER {
            match rustix::io::read(from, rustix::buffer::spare_capacity(&mut self.data)) {
                Ok(0) => return Ok(false),
                Ok(_) => {}
                Err(rustix::io::Errno::AGAIN) => break,
                Err(rustix::io::Errno::INTR) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(true)
    }
    /// Writes what it holds to `to`, as far as `to` takes it.
    fn drain(&mut self, to: &mut TcpStream) -> io::Result<()> {
        while self.start < self.data.len() {
            match to.write(&self.data[self.start..]) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => self.start += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        if self.is_empty() {
            self.start = 0;
            self.data.clear();
        }
        Ok(())
    }
}

struct Pair {
    client: TcpStream,
    backend: TcpStream,
    connected: bool,
    /// Client to container.
    up: Buf,
    /// Container to client.
    down: Buf,
    client_eof: bool,
    backend_eof: bool,
    up_shut: bool,
    down_shut: bool,
    closed: bool,
}

struct Flow {
    listener: usize,
    client: SocketAddr,
    socket: UdpSocket,
    last: Instant,
}

/// A slot of the poll set (see `register`).
#[derive(Clone, Copy, Debug)]
pub enum ProxySlot {
    Listener(usize),
    Client(usize),
    Backend(usize),
    Flow(usize),
}

#[derive(Default)]
pub struct Proxy {
    listeners: Vec<Listener>,
    pairs: Vec<Pair>,
    flows: Vec<Flow>,
    buf: Vec<u8>,
    /// After `accept` failed (out of file descriptors) the TCP listeners rest until
    /// then, so that a listener that stays readable does not spin the poll loop.
    accept_paused_until: Option<Instant>,
    source_ports: SourcePorts,
}

/// How long the TCP listeners rest after `accept` failed.
const ACCEPT_PAUSE: Duration = Duration::from_millis(200);

fn unspecified(v4: bool) -> IpAddr {
    if v4 {
        IpAddr::V4(Ipv4Addr::UNSPECIFIED)
    } else {
        IpAddr::V6(Ipv6Addr::UNSPECIFIED)
    }
}

/// Binds every wanted port on the host (an empty host port: an ephemeral one; a range:
/// its first free port), relaying to `target` (the container's address).
pub fn bind(wanted: &[Wanted], target: IpAddr) -> Result<(Proxy, Vec<Bound>), BindError> {
    let mut proxy = Proxy::default();
    let mut bound = Vec::new();
    for w in wanted {
        let Some((container_port, proto)) = berth_net::ports::split_key(&w.port) else {
            continue;
        };
        let host_ip: IpAddr = if w.host_ip.is_empty() {
            unspecified(target.is_ipv4())
        } else {
            w.host_ip.parse().map_err(|_| BindError {
                address: w.host_ip.clone(),
                proto: proto.to_string(),
                port: 0,
                source: io::Error::new(io::ErrorKind::InvalidInput, "invalid host IP"),
            })?
        };
        let candidates = berth_net::ports::host_candidates(&w.host_port).unwrap_or_default();
        let mut last_error = None;
        let mut made = None;
        for port in &candidates {
            let at = SocketAddr::new(host_ip, *port);
            let socket = match proto {
                "udp" => UdpSocket::bind(at).map(Socket::Udp),
                _ => TcpListener::bind(at).map(Socket::Tcp),
            };
            match socket {
                Ok(s) => {
                    made = Some(s);
                    break;
                }
                Err(e) => last_error = Some((*port, e)),
            }
        }
        let Some(socket) = made else {
            let (port, source) = last_error.unwrap_or((0, io::Error::other("no host port to try")));
            return Err(BindError {
                address: host_ip.to_string(),
                proto: proto.to_string(),
                port,
                source,
            });
        };
        let local = match &socket {
            Socket::Tcp(l) => l.set_nonblocking(true).and_then(|()| l.local_addr()),
            Socket::Udp(u) => u.set_nonblocking(true).and_then(|()| u.local_addr()),
        }
        .map_err(|source| BindError {
            address: host_ip.to_string(),
            proto: proto.to_string(),
            port: 0,
            source,
        })?;
        bound.push(Bound {
            port: w.port.clone(),
            host_ip,
            host_port: local.port(),
        });
        proxy.listeners.push(Listener {
            socket,
            target: SocketAddr::new(target, container_port),
        });
    }
    proxy.buf = vec![0u8; 65536];
    Ok((proxy, bound))
}

/// Source ports for connections to the container, chosen by the proxy rather than the
/// kernel. The proxy usually passes a client's close on first, so the host side of each
/// relayed connection ends in TIME_WAIT; at a few thousand connections a second those
/// fill the even half of the ephemeral range within seconds, and every kernel-chosen
/// connect then scans it (measured: three quarters of the proxy's CPU in
/// `__inet_check_established`). A socket bound to a port before `connect` may take over
/// a TIME_WAIT entry of the same four-tuple when the connection used TCP timestamps
/// (PAWS keeps that safe; it is what `tcp_tw_reuse` does, for this socket only), so the
/// proxy walks the range itself and binds each connection's port.
struct SourcePorts {
    low: u16,
    high: u16,
    next: u16,
}

/// Ports tried before the kernel is left to choose.
const SOURCE_TRIES: usize = 8;

impl SourcePorts {
    fn new() -> SourcePorts {
        let (low, high) = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
            .ok()
            .and_then(|s| {
                let mut it = s.split_whitespace().map(|v| v.parse::<u16>());
                Some((it.next()?.ok()?, it.next()?.ok()?))
            })
            .filter(|(l, h)| l < h)
            .unwrap_or((32768, 60999));
        // Supervisors start at different places in the range.
        let span = u32::from(high - low) + 1;
        let offset = std::process::id() % span;
        SourcePorts {
            low,
            high,
            next: low + offset as u16,
        }
    }

    /// The next odd port of the range: the kernel's own connects start with even ones
    /// (and leave odd ones to `bind`), so odd ports are the ones most likely free.
    fn take(&mut self) -> u16 {
        let mut port = self.next | 1;
        if port > self.high {
            port = self.low | 1;
        }
        self.next = if port >= self.high - 1 {
            self.low
        } else {
            port + 2
        };
        port
    }

    /// A TCP connection to `to` started without waiting (completion shows as writable).
    fn connect(&mut self, to: SocketAddr) -> io::Result<TcpStream> {
        for _ in 0..SOURCE_TRIES {
            let port = self.take();
            match connect_nonblocking(to, Some(port)) {
                Ok(s) => return Ok(s),
                // Held by a socket that does not share, or the same four-tuple live or
                // in TIME_WAIT without timestamps: the next port.
                Err(e)
                    if matches!(
                        rustix::io::Errno::from_io_error(&e),
                        Some(rustix::io::Errno::ADDRINUSE | rustix::io::Errno::ADDRNOTAVAIL)
                    ) => {}
                Err(e) => return Err(e),
            }
        }
        connect_nonblocking(to, None)
    }
}

impl Default for SourcePorts {
    fn default() -> SourcePorts {
        SourcePorts::new()
    }
}

/// A TCP connection to `to` started without waiting, from `source` port when given.
pub(super) fn connect_nonblocking(to: SocketAddr, source: Option<u16>) -> io::Result<TcpStream> {
    let family = if to.is_ipv4() {
        AddressFamily::INET
    } else {
        AddressFamily::INET6
    };
    let fd: OwnedFd = rustix::net::socket_with(
        family,
        SocketType::STREAM,
        SocketFlags::NONBLOCK | SocketFlags::CLOEXEC,
        None,
    )?;
    if let Some(port) = source {
        rustix::net::sockopt::set_socket_reuseaddr(&fd, true)?;
        rustix::net::bind(&fd, &SocketAddr::new(unspecified(to.is_ipv4()), port))?;
    }
    match rustix::net::connect(&fd, &to) {
        Ok(()) | Err(rustix::io::Errno::INPROGRESS) => Ok(TcpStream::from(fd)),
        Err(e) => Err(e.into()),
    }
}

impl Proxy {
    pub fn register<'a>(&'a self, fds: &mut Vec<PollFd<'a>>, slots: &mut Vec<ProxySlot>) {
        for (i, l) in self.listeners.iter().enumerate() {
            let fd = match &l.socket {
                Socket::Tcp(_) if self.accept_paused_until.is_some() => continue,
                Socket::Tcp(s) => PollFd::new(s, PollFlags::IN),
                Socket::Udp(s) => PollFd::new(s, PollFlags::IN),
            };
            fds.push(fd);
            slots.push(ProxySlot::Listener(i));
        }
        for (i, p) in self.pairs.iter().enumerate() {
            if p.closed {
                continue;
            }
            let mut client = PollFlags::empty();
            if p.connected && !p.client_eof && p.up.has_room() {
                client |= PollFlags::IN;
            }
            if !p.down.is_empty() {
                client |= PollFlags::OUT;
            }
            let mut backend = PollFlags::empty();
            if !p.connected || !p.up.is_empty() {
                backend |= PollFlags::OUT;
            }
            if p.connected && !p.backend_eof && p.down.has_room() {
                backend |= PollFlags::IN;
            }
            // Errors and hang-ups are reported whatever is asked.
            fds.push(PollFd::new(&p.client, client));
            slots.push(ProxySlot::Client(i));
            fds.push(PollFd::new(&p.backend, backend));
            slots.push(ProxySlot::Backend(i));
        }
        for (i, f) in self.flows.iter().enumerate() {
            fds.push(PollFd::new(&f.socket, PollFlags::IN));
            slots.push(ProxySlot::Flow(i));
        }
    }

    /// Serves a slot that poll found ready with `revents`.
    pub fn ready(&mut self, slot: ProxySlot, revents: PollFlags) {
        match slot {
            ProxySlot::Listener(i) => self.accept(i),
            ProxySlot::Client(i) => {
                if let Some(p) = self.pairs.get_mut(i) {
                    // A client reset before the container side is there.
                    if !p.connected && revents.intersects(PollFlags::ERR | PollFlags::HUP) {
                        p.closed = true;
                        return;
                    }
                    p.pump();
                }
            }
            ProxySlot::Backend(i) => {
                if let Some(p) = self.pairs.get_mut(i) {
                    if !p.connected {
                        // Asked for writability only: the connect is done, one way or
                        // the other.
                        if revents.intersects(PollFlags::ERR | PollFlags::HUP) {
                            p.closed = true;
                            return;
                        }
                        p.connected = true;
                    }
                    p.pump();
                }
            }
            ProxySlot::Flow(i) => self.answer_flow(i),
        }
    }

    /// When the poll loop must wake up for paused listeners.
    pub fn deadline(&self) -> Option<Instant> {
        self.accept_paused_until
    }

    /// Drops closed connections and idle UDP flows.
    pub fn sweep(&mut self) {
        self.pairs.retain(|p| !p.closed);
        let now = Instant::now();
        if self.accept_paused_until.is_some_and(|t| t <= now) {
            self.accept_paused_until = None;
        }
        self.flows.retain(|f| now.duration_since(f.last) < UDP_IDLE);
    }

    fn accept(&mut self, i: usize) {
        let Some(listener) = self.listeners.get(i) else {
            return;
        };
        let target = listener.target;
        match &listener.socket {
            Socket::Tcp(l) => {
                for _ in 0..BATCH {
                    let flags = SocketFlags::NONBLOCK | SocketFlags::CLOEXEC;
                    let client = match rustix::net::accept_with(l, flags) {
                        Ok(fd) => TcpStream::from(fd),
                        Err(rustix::io::Errno::AGAIN) => break,
                        Err(rustix::io::Errno::INTR | rustix::io::Errno::CONNABORTED) => continue,
                        Err(_) => {
                            self.accept_paused_until = Some(Instant::now() + ACCEPT_PAUSE);
                            break;
                        }
                    };
                    let _ = client.set_nodelay(true);
                    // A container not listening: the client's connection is closed.
                    let Ok(backend) = self.source_ports.connect(target) else {
                        continue;
                    };
                    let _ = backend.set_nodelay(true);
                    self.pairs.push(Pair {
                        client,
                        backend,
                        connected: false,
                        up: Buf::new(),
                        down: Buf::new(),
                        client_eof: false,
                        backend_eof: false,
                        up_shut: false,
                        down_shut: false,
                        closed: false,
                    });
                }
            }
            Socket::Udp(u) => {
                for _ in 0..BATCH {
                    let Ok((n, from)) = u.recv_from(&mut self.buf) else {
                        break;
                    };
                    let existing = self
                        .flows
                        .iter_mut()
                        .find(|f| f.listener == i && f.client == from);
                    let flow = match existing {
                        Some(f) => f,
                        None => {
                            let any = SocketAddr::new(unspecified(target.is_ipv4()), 0);
                            let made = UdpSocket::bind(any).and_then(|s| {
                                s.set_nonblocking(true)?;
                                s.connect(target)?;
                                Ok(s)
                            });
                            let Ok(socket) = made else {
                                continue;
                            };
                            self.flows.push(Flow {
                                listener: i,
                                client: from,
                                socket,
                                last: Instant::now(),
                            });
                            let Some(f) = self.flows.last_mut() else {
                                continue;
                            };
                            f
                        }
                    };
                    flow.last = Instant::now();
                    let _ = flow.socket.send(&self.buf[..n]);
                }
            }
        }
    }

    fn answer_flow(&mut self, i: usize) {
        let Some(flow) = self.flows.get_mut(i) else {
            return;
        };
        let Some(Socket::Udp(listener)) = self.listeners.get(flow.listener).map(|l| &l.socket)
        else {
            return;
        };
        for _ in 0..BATCH {
            match flow.socket.recv(&mut self.buf) {
                Ok(n) => {
                    flow.last = Instant::now();
                    let _ = listener.send_to(&self.buf[..n], flow.client);
                }
                Err(_) => break,
            }
        }
    }
}

impl Pair {
    /// Moves whatever can move, in both directions, without blocking.
    fn pump(&mut self) {
        if !self.connected {
            // Only a client's hang-up is reported before the connect is done; its EOF is
            // read once the container side is there.
            return;
        }
        let result = (|| -> io::Result<()> {
            if !self.client_eof && self.up.has_room() && !self.up.fill(&self.client)? {
                self.client_eof = true;
            }
            self.up.drain(&mut self.backend)?;
            if !self.backend_eof && self.down.has_room() && !self.down.fill(&self.backend)? {
                self.backend_eof = true;
            }
            self.down.drain(&mut self.client)?;
            if self.client_eof && self.up.is_empty() && !self.up_shut {
                let _ = self.backend.shutdown(Shutdown::Write);
                self.up_shut = true;
            }
            if self.backend_eof && self.down.is_empty() && !self.down_shut {
                let _ = self.client.shutdown(Shutdown::Write);
                self.down_shut = true;
            }
            Ok(())
        })();
        // Both sockets are closed when the pair is swept.
        if result.is_err() || (self.up_shut && self.down_shut) {
            self.closed = true;
        }
    }
}
