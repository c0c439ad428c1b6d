//! The queries the embedded DNS server forwards upstream, each from a socket of its own
//! in the host's namespace: over UDP for a client that asked over UDP, over TCP for one
//! that asked over TCP (as Docker's server does), so that a client which got a truncated
//! answer over UDP and asks again over TCP gets the whole answer.

use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream, UdpSocket};
use std::os::fd::{AsFd, BorrowedFd};
use std::time::Instant;

use berth_net::dns;
use rustix::event::PollFlags;

/// Where a forwarded query's answer goes.
#[derive(Clone, Copy)]
pub enum Client {
    Udp(SocketAddr),
    /// A TCP connection of the server, by its id.
    Tcp(u64),
}

/// One query on its way to one upstream.
pub struct Forward {
    link: Link,
    pub query: Vec<u8>,
    pub client: Client,
    /// The index of the upstream asked.
    pub upstream: usize,
    pub deadline: Instant,
    /// Answered or given up: removed by the server's sweep.
    pub done: bool,
}

enum Link {
    Udp(UdpSocket),
    Tcp {
        stream: TcpStream,
        /// The query with its length in front, and how much of it is sent.
        framed: Vec<u8>,
        sent: usize,
        answer: Vec<u8>,
    },
}

/// The most a TCP answer can take: a 64 KiB message and its length.
const MAX_TCP_ANSWER: usize = 65537;

impl Forward {
    /// Sends `query` to `to` (UDP) or starts the connection that will carry it (TCP).
    pub fn start(
        query: &[u8],
        client: Client,
        upstream: usize,
        to: SocketAddr,
        deadline: Instant,
    ) -> io::Result<Forward> {
        let link = match client {
            Client::Udp(_) => {
                let any: SocketAddr = if to.is_ipv4() {
                    (Ipv4Addr::UNSPECIFIED, 0).into()
                } else {
                    (Ipv6Addr::UNSPECIFIED, 0).into()
                };
                let socket = UdpSocket::bind(any)?;
                socket.set_nonblocking(true)?;
                socket.connect(to)?;
                socket.send(query)?;
                Link::Udp(socket)
            }
            Client::Tcp(_) => {
                let len = u16::try_from(query.len())
                    .map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
                let mut framed = Vec::with_capacity(query.len() + 2);
                framed.extend_from_slice(&len.to_be_bytes());
                framed.extend_from_slice(query);
                Link::Tcp {
                    stream: super::proxy::connect_nonblocking(to, None)?,
                    framed,
                    sent: 0,
                    answer: Vec::new(),
                }
            }
        };
        Ok(Forward {
            link,
            query: query.to_vec(),
            client,
            upstream,
            deadline,
            done: false,
        })
    }

    pub fn fd(&self) -> BorrowedFd<'_> {
        match &self.link {
            Link::Udp(s) => s.as_fd(),
            Link::Tcp { stream, .. } => stream.as_fd(),
        }
    }

    /// What to poll for: the rest of the query to write, or the answer to read.
    pub fn interest(&self) -> PollFlags {
        match &self.link {
            Link::Tcp { framed, sent, .. } if *sent < framed.len() => PollFlags::OUT,
            _ => PollFlags::IN,
        }
    }

    /// Moves the exchange on: `Ok(Some(answer))` once the upstream's answer to this
    /// query is in, `Ok(None)` while it is not yet, `Err` when this upstream failed
    /// (refused, reset, closed early, or not DNS).
    pub fn progress(&mut self, buf: &mut [u8]) -> io::Result<Option<Vec<u8>>> {
        let answer = match &mut self.link {
            Link::Udp(socket) => match socket.recv(buf) {
                Ok(n) => buf[..n].to_vec(),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(None),
                Err(e) => return Err(e),
            },
            Link::Tcp {
                stream,
                framed,
                sent,
                answer,
            } => {
                while *sent < framed.len() {
                    match stream.write(&framed[*sent..]) {
                        Ok(n) => *sent += n,
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(None),
                        Err(e) => return Err(e),
                    }
                }
                let closed = loop {
                    match stream.read(buf) {
                        Ok(0) => break true,
                        Ok(n) => answer.extend_from_slice(&buf[..n]),
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => break false,
                        Err(e) => return Err(e),
                    }
                    if answer.len() > MAX_TCP_ANSWER {
                        return Err(io::ErrorKind::InvalidData.into());
                    }
                };
                let len = match answer.get(..2) {
                    Some(&[a, b]) => usize::from(u16::from_be_bytes([a, b])),
                    _ => usize::MAX,
                };
                match answer.get(2..len.saturating_add(2)) {
                    Some(message) => message.to_vec(),
                    // The upstream closed before its whole answer.
                    None if closed => return Err(io::ErrorKind::UnexpectedEof.into()),
                    None => return Ok(None),
                }
            }
        };
        // Not the answer to this query (a stray datagram): keep waiting.
        if dns::message_id(&answer) != dns::message_id(&self.query) {
            return match self.link {
                Link::Udp(_) => Ok(None),
                Link::Tcp { .. } => Err(io::ErrorKind::InvalidData.into()),
            };
        }
        Ok(Some(answer))
    }
}
