//! rtnetlink, synchronously: the links, addresses and routes berth creates, through one
//! `NETLINK_ROUTE` socket per network namespace (netavark does the same with the same
//! packet crates; no async runtime on a container's start path). Every request asks for
//! an acknowledgement, so an error comes back as the kernel's errno with what was asked.

use std::io;
use std::net::IpAddr;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};

use netlink_packet_core::{
    NLM_F_ACK, NLM_F_CREATE, NLM_F_DUMP, NLM_F_EXCL, NLM_F_REQUEST, NetlinkHeader, NetlinkMessage,
    NetlinkPayload,
};
use netlink_packet_route::address::{AddressAttribute, AddressFlags, AddressMessage};
use netlink_packet_route::link::{
    InfoData, InfoKind, InfoVeth, LinkAttribute, LinkFlags, LinkInfo, LinkMessage,
};
use netlink_packet_route::route::{
    RouteAddress, RouteAttribute, RouteHeader, RouteMessage, RouteProtocol, RouteScope, RouteType,
};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use netlink_sys::{Socket, SocketAddr, protocols::NETLINK_ROUTE};

use crate::subnet::Subnet;

#[derive(Debug, thiserror::Error)]
#[error("{what}: {source}")]
pub struct NetlinkError {
    pub what: String,
    #[source]
    pub source: io::Error,
}

impl NetlinkError {
    fn new(what: impl Into<String>, source: io::Error) -> NetlinkError {
        NetlinkError {
            what: what.into(),
            source,
        }
    }

    /// The kernel's errno, when the kernel refused the request.
    pub fn errno(&self) -> Option<i32> {
        self.source.raw_os_error()
    }
}

type Result<T> = std::result::Result<T, NetlinkError>;

/// A netlink socket in the network namespace it was opened in.
pub struct Netlink {
    socket: Socket,
    seq: u32,
    buf: Vec<u8>,
}

impl Netlink {
    /// A socket in the calling thread's network namespace.
    pub fn open() -> Result<Netlink> {
        let wrap = |e| NetlinkError::new("open a netlink socket", e);
        let mut socket = Socket::new(NETLINK_ROUTE).map_err(wrap)?;
        socket.bind_auto().map_err(wrap)?;
        socket.connect(&SocketAddr::new(0, 0)).map_err(wrap)?;
        socket.set_ext_ack(true).map_err(wrap)?;
        Ok(Netlink {
            socket,
            seq: 0,
            buf: vec![0; 64 * 1024],
        })
    }

    /// A socket in the network namespace `netns` (an fd of `/proc/<pid>/ns/net`): the
    /// thread enters it, opens the socket and returns to its own namespace. The socket
    /// stays in `netns`.
    pub fn open_in(netns: BorrowedFd<'_>) -> Result<Netlink> {
        crate::netns::within(netns, Netlink::open)
            .map_err(|e| NetlinkError::new("enter the container's network namespace", e))?
    }

    fn request(
        &mut self,
        what: &dyn Fn() -> String,
        message: RouteNetlinkMessage,
        flags: u16,
    ) -> Result<Vec<RouteNetlinkMessage>> {
        self.seq = self.seq.wrapping_add(1);
        let mut header = NetlinkHeader::default();
        header.flags = NLM_F_REQUEST | NLM_F_ACK | flags;
        header.sequence_number = self.seq;
        let mut packet = NetlinkMessage::new(header, NetlinkPayload::from(message));
        packet.finalize();
        let mut out = vec![0; packet.buffer_len()];
        packet.serialize(&mut out);
        self.socket
            .send(&out, 0)
            .map_err(|e| NetlinkError::new(what(), e))?;

        let mut replies = Vec::new();
        loop {
            let n = self
                .socket
                .recv(&mut &mut self.buf[..], 0)
                .map_err(|e| NetlinkError::new(what(), e))?;
            let mut offset = 0;
            while offset < n {
                let reply =
                    NetlinkMessage::<RouteNetlinkMessage>::deserialize(&self.buf[offset..n])
                        .map_err(|e| {
                            NetlinkError::new(what(), io::Error::new(io::ErrorKind::InvalidData, e))
                        })?;
                let len = reply.header.length as usize;
                if len == 0 {
                    break;
                }
                // Messages in one datagram start at 4-byte boundaries (NLMSG_ALIGN).
                offset += (len + 3) & !3;
                if reply.header.sequence_number != self.seq {
                    continue;
                }
                match reply.payload {
                    NetlinkPayload::Error(e) => {
                        return match e.code {
                            None => Ok(replies),
                            Some(_) => Err(NetlinkError::new(what(), e.to_io())),
                        };
                    }
                    NetlinkPayload::Done(_) => return Ok(replies),
                    NetlinkPayload::InnerMessage(m) => replies.push(m),
                    _ => {}
                }
            }
        }
    }

    /// The index of the link called `name`, if there is one.
    pub fn link_index(&mut self, name: &str) -> Result<Option<u32>> {
        let mut m = LinkMessage::default();
        m.attributes.push(LinkAttribute::IfName(name.to_string()));
        let what = || format!("look up link {name}");
        match self.request(&what, RouteNetlinkMessage::GetLink(m), 0) {
            Ok(replies) => Ok(replies.into_iter().find_map(|r| match r {
                RouteNetlinkMessage::NewLink(l) => Some(l.header.index),
                _ => None,
            })),
            Err(e) if e.errno() == Some(libc_enodev()) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The index of the link called `name` and whether it is a bridge, if there is one.
    pub fn link_index_and_bridge(&mut self, name: &str) -> Result<Option<(u32, bool)>> {
        let mut m = LinkMessage::default();
        m.attributes.push(LinkAttribute::IfName(name.to_string()));
        let what = || format!("look up link {name}");
        match self.request(&what, RouteNetlinkMessage::GetLink(m), 0) {
            Ok(replies) => Ok(replies.into_iter().find_map(|r| match r {
                RouteNetlinkMessage::NewLink(l) => {
                    let bridge = l.attributes.iter().any(|a| match a {
                        LinkAttribute::LinkInfo(info) => info
                            .iter()
                            .any(|i| matches!(i, LinkInfo::Kind(InfoKind::Bridge))),
                        _ => false,
                    });
                    Some((l.header.index, bridge))
                }
                _ => None,
            })),
            Err(e) if e.errno() == Some(libc_enodev()) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The names of every link in this namespace.
    pub fn link_names(&mut self) -> Result<Vec<String>> {
        let what = || "list links".to_string();
        let replies = self.request(
            &what,
            RouteNetlinkMessage::GetLink(LinkMessage::default()),
            NLM_F_DUMP,
        )?;
        Ok(replies
            .into_iter()
            .filter_map(|r| match r {
                RouteNetlinkMessage::NewLink(l) => l.attributes.into_iter().find_map(|a| match a {
                    LinkAttribute::IfName(n) => Some(n),
                    _ => None,
                }),
                _ => None,
            })
            .collect())
    }

    /// Creates bridge `name`, up (`EEXIST` when the name is taken).
    pub fn add_bridge(&mut self, name: &str) -> Result<u32> {
        let mut m = LinkMessage::default();
        m.header.flags = LinkFlags::Up;
        m.header.change_mask = LinkFlags::Up;
        m.attributes.push(LinkAttribute::IfName(name.to_string()));
        m.attributes
            .push(LinkAttribute::LinkInfo(vec![LinkInfo::Kind(
                InfoKind::Bridge,
            )]));
        let what = || format!("create bridge {name}");
        self.request(
            &what,
            RouteNetlinkMessage::NewLink(m),
            NLM_F_CREATE | NLM_F_EXCL,
        )?;
        self.link_index(name)?
            .ok_or_else(|| NetlinkError::new(what(), io::Error::from(io::ErrorKind::NotFound)))
    }

    /// Creates a veth pair: `host` here, up, a port of bridge `master`; `peer`, down, with
    /// MAC address `peer_mac`, created straight in the namespace `peer_netns`.
    pub fn add_veth(
        &mut self,
        host: &str,
        master: u32,
        peer: &str,
        peer_mac: [u8; 6],
        peer_netns: BorrowedFd<'_>,
    ) -> Result<()> {
        // The peer cannot be created up: a veth opens only once both ends exist
        // (`ENOTCONN` otherwise); the caller sets it up from inside.
        let mut inner = LinkMessage::default();
        inner
            .attributes
            .push(LinkAttribute::IfName(peer.to_string()));
        inner
            .attributes
            .push(LinkAttribute::Address(peer_mac.to_vec()));
        inner
            .attributes
            .push(LinkAttribute::NetNsFd(peer_netns.as_fd().as_raw_fd()));

        let mut m = LinkMessage::default();
        m.header.flags = LinkFlags::Up;
        m.header.change_mask = LinkFlags::Up;
        m.attributes.push(LinkAttribute::IfName(host.to_string()));
        m.attributes.push(LinkAttribute::Controller(master));
        m.attributes.push(LinkAttribute::LinkInfo(vec![
            LinkInfo::Kind(InfoKind::Veth),
            LinkInfo::Data(InfoData::Veth(InfoVeth::Peer(inner))),
        ]));
        let what = || format!("create veth pair {host} / {peer}");
        self.request(
            &what,
            RouteNetlinkMessage::NewLink(m),
            NLM_F_CREATE | NLM_F_EXCL,
        )?;
        Ok(())
    }

    /// Sets link `index` up.
    pub fn set_up(&mut self, index: u32) -> Result<()> {
        let mut m = LinkMessage::default();
        m.header.index = index;
        m.header.flags = LinkFlags::Up;
        m.header.change_mask = LinkFlags::Up;
        let what = || format!("set link {index} up");
        self.request(&what, RouteNetlinkMessage::SetLink(m), 0)?;
        Ok(())
    }

    /// Deletes link `name`; `false` when there was none.
    pub fn delete_link(&mut self, name: &str) -> Result<bool> {
        let mut m = LinkMessage::default();
        m.attributes.push(LinkAttribute::IfName(name.to_string()));
        let what = || format!("delete link {name}");
        match self.request(&what, RouteNetlinkMessage::DelLink(m), 0) {
            Ok(_) => Ok(true),
            Err(e) if e.errno() == Some(libc_enodev()) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Adds `address/prefix` to link `index` (`EEXIST` if it has it).
    pub fn add_address(&mut self, index: u32, address: IpAddr, prefix: u8) -> Result<()> {
        let mut m = AddressMessage::default();
        m.header.index = index;
        m.header.prefix_len = prefix;
        m.header.family = family(address);
        m.attributes.push(AddressAttribute::Local(address));
        m.attributes.push(AddressAttribute::Address(address));
        if address.is_ipv6() {
            // Usable at once, as Docker's: addresses from the IPAM are unique on the
            // network, and duplicate detection would leave them tentative for a second.
            m.attributes
                .push(AddressAttribute::Flags(AddressFlags::Nodad));
        }
        let what = || format!("add address {address}/{prefix} to link {index}");
        self.request(
            &what,
            RouteNetlinkMessage::NewAddress(m),
            NLM_F_CREATE | NLM_F_EXCL,
        )?;
        Ok(())
    }

    /// Adds the default route via `gateway`.
    pub fn add_default_route(&mut self, gateway: IpAddr) -> Result<()> {
        let mut m = RouteMessage::default();
        m.header.address_family = family(gateway);
        m.header.table = RouteHeader::RT_TABLE_MAIN;
        m.header.protocol = RouteProtocol::Boot;
        m.header.scope = RouteScope::Universe;
        m.header.kind = RouteType::Unicast;
        m.attributes
            .push(RouteAttribute::Gateway(route_address(gateway)));
        let what = || format!("add the default route via {gateway}");
        self.request(
            &what,
            RouteNetlinkMessage::NewRoute(m),
            NLM_F_CREATE | NLM_F_EXCL,
        )?;
        Ok(())
    }

    /// The destinations of the routes in the main table (IPv4 and IPv6): what a new
    /// network's subnet must not overlap.
    pub fn route_destinations(&mut self) -> Result<Vec<Subnet>> {
        let mut out = Vec::new();
        for af in [AddressFamily::Inet, AddressFamily::Inet6] {
            let mut m = RouteMessage::default();
            m.header.address_family = af;
            let what = || "list routes".to_string();
            for reply in self.request(&what, RouteNetlinkMessage::GetRoute(m), NLM_F_DUMP)? {
                let RouteNetlinkMessage::NewRoute(r) = reply else {
                    continue;
                };
                if r.header.table != RouteHeader::RT_TABLE_MAIN {
                    continue;
                }
                let dest = r.attributes.iter().find_map(|a| match a {
                    RouteAttribute::Destination(RouteAddress::Inet(ip)) => Some(IpAddr::V4(*ip)),
                    RouteAttribute::Destination(RouteAddress::Inet6(ip)) => Some(IpAddr::V6(*ip)),
                    _ => None,
                });
                if let Some(ip) = dest
                    && let Some(s) = Subnet::containing(ip, r.header.destination_prefix_length)
                {
                    out.push(s);
                }
            }
        }
        Ok(out)
    }
}

fn family(ip: IpAddr) -> AddressFamily {
    match ip {
        IpAddr::V4(_) => AddressFamily::Inet,
        IpAddr::V6(_) => AddressFamily::Inet6,
    }
}

fn route_address(ip: IpAddr) -> RouteAddress {
    match ip {
        IpAddr::V4(a) => RouteAddress::Inet(a),
        IpAddr::V6(a) => RouteAddress::Inet6(a),
    }
}

/// `EEXIST`, as `errno` reports it.
pub fn libc_eexist() -> i32 {
    rustix::io::Errno::EXIST.raw_os_error()
}

fn libc_enodev() -> i32 {
    rustix::io::Errno::NODEV.raw_os_error()
}
