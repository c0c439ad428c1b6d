//! The userland proxy of a running container's published ports, served by its supervisor
//! from the supervisor's poll loop (as the DNS server is): host sockets bound before the
//! container starts (so a port in use fails the start before anything runs), each TCP
//! connection relayed to the container's address through buffers in both directions,
//! with half-closes passed on, and each UDP client given a flow of its own. It reaches
//! the container from every host address, 127.0.0.1 included, with no kernel rule.

use std::io::{self, Read, Write};
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

struct Buf {
    data: Vec<u8>,
    start: usize,
    end: usize,
}

impl Buf {
    fn new() -> Buf {
        Buf {
            data: Vec::new(),
            start: 0,
            end: 0,
        }
    }
    fn is_empty(&self) -> bool {
        self.start == self.end
    }
    fn has_room(&self) -> bool {
        self.end < BUFFER
    }
    /// Reads what `from` has into the free space; `Ok(false)` at EOF.
    fn fill(&mut self, from: &mut TcpStream) -> io::Result<bool> {
        if self.data.is_empty() {
            self.data = vec![0u8; BUFFER];
        }
        while self.end < BUFFER {
            match from.read(&mut self.data[self.end..]) {
                Ok(0) => return Ok(false),
                Ok(n) => self.end += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(true)
    }
    /// Writes what it holds to `to`, as far as `to` takes it.
    fn drain(&mut self, to: &mut TcpStream) -> io::Result<()> {
        while self.start < self.end {
            match to.write(&self.data[self.start..self.end]) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => self.start += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
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

/// A TCP connection to `to` started without waiting (completion shows as writable).
fn connect_nonblocking(to: SocketAddr) -> io::Result<TcpStream> {
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

    pub fn ready(&mut self, slot: ProxySlot) {
        match slot {
            ProxySlot::Listener(i) => self.accept(i),
            ProxySlot::Client(i) | ProxySlot::Backend(i) => {
                if let Some(p) = self.pairs.get_mut(i) {
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
                    let client = match l.accept() {
                        Ok((client, _)) => client,
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                        Err(_) => {
                            self.accept_paused_until = Some(Instant::now() + ACCEPT_PAUSE);
                            break;
                        }
                    };
                    if client.set_nonblocking(true).is_err() {
                        continue;
                    }
                    let _ = client.set_nodelay(true);
                    // A container not listening: the client's connection is closed.
                    let Ok(backend) = connect_nonblocking(target) else {
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
                    // A connect to the container's address usually completes at once,
                    // and the client's request may be there already: no poll round.
                    if let Some(p) = self.pairs.last_mut() {
                        p.pump();
                    }
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
            match rustix::net::sockopt::socket_error(&self.backend) {
                Ok(Ok(())) => {
                    // Writable means connected; not yet writable shows as ENOTCONN.
                    if self.backend.peer_addr().is_err() {
                        return;
                    }
                    self.connected = true;
                }
                _ => {
                    self.close();
                    return;
                }
            }
        }
        let result = (|| -> io::Result<()> {
            if !self.client_eof && self.up.has_room() && !self.up.fill(&mut self.client)? {
                self.client_eof = true;
            }
            self.up.drain(&mut self.backend)?;
            if !self.backend_eof && self.down.has_room() && !self.down.fill(&mut self.backend)? {
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
        if result.is_err() || (self.up_shut && self.down_shut) {
            self.close();
        }
    }

    fn close(&mut self) {
        let _ = self.client.shutdown(Shutdown::Both);
        let _ = self.backend.shutdown(Shutdown::Both);
        self.closed = true;
    }
}
