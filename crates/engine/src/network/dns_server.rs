//! The embedded DNS server of one running container, served by its supervisor from the
//! supervisor's poll loop. Its sockets listen on 127.0.0.11:53 (UDP and TCP) inside the
//! container's network namespace (a socket keeps the namespace it was made in); queries
//! for names the container's networks know are answered from a zone built from their
//! `endpoints.json` files, rebuilt when one of them has been replaced (checked at each
//! wakeup that brings queries); everything
//! else is forwarded, unchanged, from the host's namespace to the upstream servers
//! (`--dns`, or the host's resolvers, loopback stubs included), over the transport the
//! client used (`dns_forward`).

use std::io::{self, Read, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::time::{Duration, Instant};

use berth_net::dns::{self, Reply, Zone};
use rustix::event::{PollFd, PollFlags};

use super::Networks;
use super::dns_forward::{Client, Forward};

/// Where the server listens inside the container.
pub const ADDRESS: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 11);

/// How long one upstream gets before the next is asked (then SERVFAIL).
const UPSTREAM_TIMEOUT: Duration = Duration::from_secs(2);

/// Queries waiting for an upstream at once (each holds a socket); more get SERVFAIL.
/// Well under the supervisor's 1024 open files.
const MAX_PENDING: usize = 256;

/// How long the listener rests after `accept` failed (out of file descriptors), so that
/// a listener that stays readable does not spin the poll loop.
const ACCEPT_PAUSE: Duration = Duration::from_millis(200);

/// The most a TCP client may have buffered (one message of 64 KiB and its length).
const MAX_TCP_BUFFER: usize = 65537;

/// A TCP client silent for this long is closed.
const TCP_IDLE: Duration = Duration::from_secs(30);

/// TCP clients at once.
const MAX_CONNECTIONS: usize = 64;

/// How stale the zone's view of which containers run may get: a container whose
/// supervisor was killed (and so could not update `endpoints.json`) stops resolving
/// this long after, at most.
const REVALIDATE: Duration = Duration::from_secs(1);

/// UDP datagrams handled per wakeup before others get their turn.
const BATCH: usize = 64;

struct Connection {
    id: u64,
    stream: TcpStream,
    buf: Vec<u8>,
    /// The client has closed its side; the connection stays until its forwarded
    /// queries are answered.
    eof: bool,
    last: Instant,
}

/// A slot of the poll set (see `register`).
#[derive(Clone, Copy, Debug)]
pub enum DnsSlot {
    Udp,
    Listener,
    Pending(usize),
    Connection(usize),
}

pub struct DnsServer {
    udp: UdpSocket,
    listener: TcpListener,
    /// What the files the zone comes from looked like when it was built (see `refresh`).
    stamps: Stamps,
    networks: Networks,
    /// The networks served, as (id, name).
    served: Vec<(String, String)>,
    /// The container's links on them (`EndpointSettings.Links`), as (network id,
    /// linked container, alias): names only this container resolves.
    links: Vec<(String, String, String)>,
    upstreams: Vec<SocketAddr>,
    zone: Zone,
    /// The processes holding the zone's endpoints, and when they were last seen alive.
    holders: Vec<super::holder::Holder>,
    validated: Instant,
    pending: Vec<Forward>,
    connections: Vec<Connection>,
    next_connection: u64,
    buf: Vec<u8>,
    accept_paused_until: Option<Instant>,
    container_dir: std::path::PathBuf,
}

/// Inode and modification time of the files the zone was built from: both files are
/// replaced by rename, so a new inode means new content.
#[derive(Default)]
struct Stamps {
    record: Option<(u64, i64)>,
    endpoints: Vec<Option<(u64, i64)>>,
}

fn stamp(path: &std::path::Path) -> Option<(u64, i64)> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path)
        .ok()
        .map(|m| (m.ino(), m.mtime_nsec() + m.mtime() * 1_000_000_000))
}

/// The sockets, made inside the container's namespace (by `netns::within`) before its
/// init goes on.
pub struct Sockets {
    udp: UdpSocket,
    listener: TcpListener,
}

impl Sockets {
    /// Binds 127.0.0.11:53; must run inside the container's network namespace, whose
    /// `lo` is up.
    pub fn bind() -> io::Result<Sockets> {
        let at = SocketAddr::from((ADDRESS, 53));
        let udp = UdpSocket::bind(at)?;
        udp.set_nonblocking(true)?;
        let listener = TcpListener::bind(at)?;
        listener.set_nonblocking(true)?;
        Ok(Sockets { udp, listener })
    }
}

/// `nameserver` entries as upstream addresses (port 53; IPv6 scope ids dropped).
pub fn upstream_addresses(servers: &[String]) -> Vec<SocketAddr> {
    servers
        .iter()
        .filter_map(|s| s.split('%').next()?.parse::<IpAddr>().ok())
        .filter(|ip| *ip != IpAddr::V4(ADDRESS))
        .map(|ip| SocketAddr::new(ip, 53))
        .collect()
}

impl DnsServer {
    /// A server for the container whose directory is `container_dir` (its record is
    /// watched too: `network connect` adds networks), on `served` (id, name) at first.
    pub fn new(
        sockets: Sockets,
        networks: Networks,
        served: Vec<(String, String)>,
        upstreams: Vec<SocketAddr>,
        container_dir: std::path::PathBuf,
    ) -> io::Result<DnsServer> {
        let mut server = DnsServer {
            udp: sockets.udp,
            listener: sockets.listener,
            stamps: Stamps::default(),
            networks,
            served,
            links: Vec::new(),
            upstreams,
            zone: Zone::new(),
            holders: Vec::new(),
            validated: Instant::now(),
            pending: Vec::new(),
            connections: Vec::new(),
            next_connection: 0,
            buf: vec![0u8; 65536],
            accept_paused_until: None,
            container_dir,
        };
        server.stamps.record = stamp(&server.container_dir.join("container.json"));
        server.follow_record();
        server.reload();
        Ok(server)
    }

    /// Rebuilds the zone from the networks' endpoints: every running container on them,
    /// by name and by its DNS names, also qualified with the network's name (`web.front`,
    /// as Docker's), with its address on that network; reverse names are
    /// `<container>.<network>`.
    fn reload(&mut self) {
        let stamps = self.endpoint_stamps();
        self.rebuild(stamps);
    }

    /// The stamps of the served networks' `endpoints.json`, in `served` order.
    fn endpoint_stamps(&self) -> Vec<Option<(u64, i64)>> {
        self.served
            .iter()
            .map(|(id, _)| stamp(&self.networks.endpoints_path(id)))
            .collect()
    }

    /// [`Self::reload`] with the files' stamps taken already (before reading them: a
    /// change while they are read is seen at the next wakeup).
    fn rebuild(&mut self, stamps: Vec<Option<(u64, i64)>>) {
        self.stamps.endpoints = stamps;
        let mut zone = Zone::new();
        let mut holders = Vec::new();
        for (id, network) in &self.served {
            let Ok(file) = self.networks.read_endpoints(id) else {
                continue;
            };
            for endpoint in file.endpoints.values().filter(|e| e.holder.alive()) {
                holders.push(endpoint.holder);
                for ip in [endpoint.ipv4, endpoint.ipv6].into_iter().flatten() {
                    let names = std::iter::once(&endpoint.name).chain(&endpoint.dns_names);
                    for name in names {
                        zone.insert(name, ip);
                        zone.insert(&format!("{name}.{network}"), ip);
                    }
                    zone.insert_reverse(ip, &format!("{}.{network}", endpoint.name));
                }
            }
            let links = self.links.iter().filter(|(net, _, _)| net == id);
            for (_, target, alias) in links {
                let linked = file.endpoints.iter().find(|(cid, e)| {
                    e.holder.alive()
                        && (e.name == *target
                            || (target.len() >= 12 && cid.starts_with(target.as_str())))
                });
                if let Some((_, e)) = linked {
                    for ip in [e.ipv4, e.ipv6].into_iter().flatten() {
                        zone.insert(alias, ip);
                    }
                }
            }
        }
        self.zone = zone;
        holders.sort_by_key(|h| (h.pid, h.start));
        holders.dedup();
        self.holders = holders;
        self.validated = Instant::now();
    }

    /// Takes in what changed since the zone was built: a replaced `container.json` (a
    /// `network connect`) may add networks, a replaced `endpoints.json` changes the
    /// zone. Checked by `stat` at each wakeup that brings queries (not with inotify: the
    /// kernel allows 128 inotify instances per user, and every running container would
    /// hold one), so a query never sees a zone older than the files.
    fn refresh(&mut self) {
        let record = stamp(&self.container_dir.join("container.json"));
        if record != self.stamps.record {
            self.stamps.record = record;
            self.follow_record();
            self.reload();
            return;
        }
        let endpoints = self.endpoint_stamps();
        if endpoints != self.stamps.endpoints {
            self.rebuild(endpoints);
        }
    }

    /// Rebuilds the zone if one of its holders has died since it was last checked
    /// (at most once per `REVALIDATE`, and only when queries come).
    fn revalidate(&mut self) {
        if self.validated.elapsed() < REVALIDATE {
            return;
        }
        if self.holders.iter().all(|h| h.alive()) {
            self.validated = Instant::now();
        } else {
            self.reload();
        }
    }

    /// Takes in the networks with names that the container's record has now (a
    /// `network connect` while it runs), watching their endpoints from then on.
    fn follow_record(&mut self) {
        let Ok(bytes) = std::fs::read(self.container_dir.join("container.json")) else {
            return;
        };
        let Ok(record) = serde_json::from_slice::<crate::container::ContainerRecord>(&bytes) else {
            return;
        };
        let mut served = Vec::new();
        let mut links = Vec::new();
        for (name, settings) in super::attach::container_networks(&record) {
            if let Ok(file) = self.networks.find(&name)
                && file.network.has_dns()
            {
                for link in settings.links.iter().flatten() {
                    if let Ok((target, alias)) = crate::container::links::parse(link) {
                        links.push((
                            file.network.id.clone(),
                            target.to_string(),
                            alias.to_string(),
                        ));
                    }
                }
                served.push((file.network.id, file.network.name));
            }
        }
        self.links = links;
        if !served.is_empty() {
            self.served = served;
        }
    }

    /// Adds the server's descriptors to a poll set.
    pub fn register<'a>(&'a self, fds: &mut Vec<PollFd<'a>>, slots: &mut Vec<DnsSlot>) {
        fds.push(PollFd::new(&self.udp, PollFlags::IN));
        slots.push(DnsSlot::Udp);
        if self.accept_paused_until.is_none() {
            fds.push(PollFd::new(&self.listener, PollFlags::IN));
            slots.push(DnsSlot::Listener);
        }
        for (i, p) in self.pending.iter().enumerate() {
            fds.push(PollFd::from_borrowed_fd(p.fd(), p.interest()));
            slots.push(DnsSlot::Pending(i));
        }
        for (i, c) in self.connections.iter().enumerate() {
            if !c.eof {
                fds.push(PollFd::new(&c.stream, PollFlags::IN));
                slots.push(DnsSlot::Connection(i));
            }
        }
    }

    /// When the poll loop must wake up: for an upstream that did not answer, a paused
    /// listener, an idle TCP client.
    pub fn deadline(&self) -> Option<Instant> {
        let pending = self.pending.iter().map(|p| p.deadline);
        let idle = self.connections.iter().map(|c| c.last + TCP_IDLE);
        pending.chain(idle).chain(self.accept_paused_until).min()
    }

    /// Handles what a poll reported ready, in the order the slots were given. Slots
    /// index `pending` and `connections` as registered: those handled here are marked and
    /// removed only in `sweep`.
    pub fn ready(&mut self, slot: DnsSlot) {
        match slot {
            DnsSlot::Udp => {
                self.refresh();
                self.revalidate();
                self.serve_udp();
            }
            DnsSlot::Listener => self.accept(),
            DnsSlot::Pending(i) => self.relay(i),
            DnsSlot::Connection(i) => {
                self.refresh();
                self.revalidate();
                self.serve_tcp(i);
            }
        }
    }

    /// Drops finished forwards and closed connections, and retries or fails overdue
    /// forwards. Call once after each round of `ready`.
    pub fn sweep(&mut self) {
        let now = Instant::now();
        let mut i = 0;
        while i < self.pending.len() {
            let p = &self.pending[i];
            if p.done {
                self.pending.swap_remove(i);
                continue;
            }
            if p.deadline <= now {
                let p = self.pending.swap_remove(i);
                self.retry(p);
                continue;
            }
            i += 1;
        }
        if self.accept_paused_until.is_some_and(|t| t <= now) {
            self.accept_paused_until = None;
        }
        let waiting: Vec<u64> = self
            .pending
            .iter()
            .filter(|p| !p.done)
            .filter_map(|p| match p.client {
                Client::Tcp(id) => Some(id),
                Client::Udp(_) => None,
            })
            .collect();
        self.connections.retain(|c| {
            let answered_all = c.eof && !waiting.contains(&c.id);
            c.id != u64::MAX && !answered_all && now.duration_since(c.last) < TCP_IDLE
        });
    }

    fn serve_udp(&mut self) {
        for _ in 0..BATCH {
            let (n, from) = match self.udp.recv_from(&mut self.buf) {
                Ok(r) => r,
                Err(_) => return,
            };
            let query = self.buf[..n].to_vec();
            match self.zone.answer(&query, true) {
                Reply::Answer(bytes) => {
                    let _ = self.udp.send_to(&bytes, from);
                }
                Reply::Forward => self.forward(query, Client::Udp(from), 0),
                Reply::Drop => {}
            }
        }
    }

    fn accept(&mut self) {
        loop {
            let stream = match self.listener.accept() {
                Ok((stream, _)) => stream,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(_) => {
                    self.accept_paused_until = Some(Instant::now() + ACCEPT_PAUSE);
                    return;
                }
            };
            if self.connections.len() >= MAX_CONNECTIONS || stream.set_nonblocking(true).is_err() {
                continue;
            }
            self.next_connection += 1;
            self.connections.push(Connection {
                id: self.next_connection,
                stream,
                buf: Vec::new(),
                eof: false,
                last: Instant::now(),
            });
        }
    }

    fn serve_tcp(&mut self, i: usize) {
        let Some(c) = self.connections.get_mut(i) else {
            return;
        };
        let mut chunk = [0u8; 4096];
        c.last = Instant::now();
        let mut broken = false;
        let eof = loop {
            if c.buf.len() > MAX_TCP_BUFFER {
                // More than one message can be: not a DNS client.
                broken = true;
                break true;
            }
            match c.stream.read(&mut chunk) {
                Ok(0) => break true,
                Ok(n) => c.buf.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break false,
                Err(_) => {
                    broken = true;
                    break true;
                }
            }
        };
        let id = c.id;
        let mut queries = Vec::new();
        while c.buf.len() >= 2 {
            let len = usize::from(u16::from_be_bytes([c.buf[0], c.buf[1]]));
            if c.buf.len() < 2 + len {
                break;
            }
            queries.push(c.buf[2..2 + len].to_vec());
            c.buf.drain(..2 + len);
        }
        for query in queries {
            match self.zone.answer(&query, false) {
                Reply::Answer(bytes) => self.reply_tcp(id, &bytes),
                Reply::Forward => self.forward(query, Client::Tcp(id), 0),
                Reply::Drop => {}
            }
        }
        if let Some(c) = self.connections.iter_mut().find(|c| c.id == id) {
            if broken {
                // Marked for `sweep`.
                c.id = u64::MAX;
                c.buf.clear();
            } else if eof {
                // Half-closed: answers still go back (see `sweep`).
                c.eof = true;
            }
        }
    }

    fn reply_tcp(&mut self, id: u64, bytes: &[u8]) {
        let Some(c) = self.connections.iter_mut().find(|c| c.id == id) else {
            return;
        };
        let Ok(len) = u16::try_from(bytes.len()) else {
            return;
        };
        let mut framed = Vec::with_capacity(bytes.len() + 2);
        framed.extend_from_slice(&len.to_be_bytes());
        framed.extend_from_slice(bytes);
        // A client that cannot take a small answer now is dropped.
        if c.stream.write_all(&framed).is_err() {
            c.id = u64::MAX;
            c.buf.clear();
        }
    }

    fn answer_client(&mut self, client: &Client, bytes: &[u8]) {
        match client {
            Client::Udp(to) => {
                let _ = self.udp.send_to(bytes, to);
            }
            Client::Tcp(id) => self.reply_tcp(*id, bytes),
        }
    }

    /// Sends `query` to upstream `upstream` (or the next that takes it), or answers
    /// SERVFAIL when there is none left.
    fn forward(&mut self, query: Vec<u8>, client: Client, upstream: usize) {
        if self.pending.len() < MAX_PENDING {
            let deadline = Instant::now() + UPSTREAM_TIMEOUT;
            for (index, to) in self.upstreams.iter().enumerate().skip(upstream) {
                if let Ok(f) = Forward::start(&query, client, index, *to, deadline) {
                    return self.pending.push(f);
                }
            }
        }
        self.servfail(&query, &client);
    }

    fn servfail(&mut self, query: &[u8], client: &Client) {
        if let Some(bytes) = dns::servfail(query) {
            self.answer_client(client, &bytes);
        }
    }

    fn retry(&mut self, p: Forward) {
        self.forward(p.query, p.client, p.upstream + 1);
    }

    /// An upstream's answer goes back to the client as it came; a failed upstream has
    /// the next one asked at once.
    fn relay(&mut self, i: usize) {
        let Some(p) = self.pending.get_mut(i) else {
            return;
        };
        match p.progress(&mut self.buf) {
            Ok(None) => {}
            Ok(Some(answer)) => {
                p.done = true;
                let client = p.client;
                self.answer_client(&client, &answer);
            }
            Err(_) => p.deadline = Instant::now(),
        }
    }
}
