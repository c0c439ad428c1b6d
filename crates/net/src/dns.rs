//! The embedded DNS server's answers: a zone of the names a container may resolve (the
//! containers sharing a network with it: names, aliases, hostnames, short ids) and
//! reverse names of their addresses. A name the zone knows is answered here for every
//! query type (NODATA where it has no record of that type); anything else is for the
//! upstream servers, forwarded as it came (same id). Names with several addresses are
//! answered in a rotated order, one step per query (Docker's round-robin).

use std::collections::HashMap;
use std::net::IpAddr;

use hickory_proto::op::{Edns, Message, MessageType, Metadata, OpCode, ResponseCode};
use hickory_proto::rr::rdata::{A, AAAA, PTR};
use hickory_proto::rr::{Name, RData, Record, RecordType};

/// The TTL of berth's records: short, so that a client's cache does not outlive a
/// recreate that changed an address (Docker's 600 s and aardvark-dns's 86400 s do).
pub const TTL: u32 = 10;

/// The largest UDP answer without EDNS (RFC 1035).
const PLAIN_UDP: usize = 512;

#[derive(Debug, Default)]
struct Entry {
    addresses: Vec<IpAddr>,
    turn: usize,
}

/// The names one container can resolve.
#[derive(Debug, Default)]
pub struct Zone {
    names: HashMap<String, Entry>,
    reverse: HashMap<IpAddr, String>,
}

/// What to do with one query.
#[derive(Debug, PartialEq)]
pub enum Reply {
    /// Send these bytes back.
    Answer(Vec<u8>),
    /// Not ours: forward the query upstream unchanged.
    Forward,
    /// Not a DNS message at all: drop it.
    Drop,
}

/// Lower case, without the root's trailing dot.
fn key(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

impl Zone {
    pub fn new() -> Zone {
        Zone::default()
    }

    /// Adds `ip` under `name`.
    pub fn insert(&mut self, name: &str, ip: IpAddr) {
        let name = key(name);
        if name.is_empty() {
            return;
        }
        let entry = self.names.entry(name).or_default();
        if !entry.addresses.contains(&ip) {
            entry.addresses.push(ip);
        }
    }

    /// Makes `name` the answer to the reverse query of `ip` (the first one given stays).
    pub fn insert_reverse(&mut self, ip: IpAddr, name: &str) {
        self.reverse.entry(ip).or_insert_with(|| key(name));
    }

    /// Answers `query` (wire format, as received over UDP when `udp`).
    pub fn answer(&mut self, query: &[u8], udp: bool) -> Reply {
        let Ok(request) = Message::from_vec(query) else {
            return match query {
                [a, b, ..] => {
                    Reply::Answer(error(u16::from_be_bytes([*a, *b]), ResponseCode::FormErr))
                }
                _ => Reply::Drop,
            };
        };
        // A response sent to the server, or anything but a standard query (NOTIFY,
        // UPDATE…), is not answered or passed on.
        if request.metadata.message_type != MessageType::Query
            || request.metadata.op_code != OpCode::Query
        {
            return Reply::Drop;
        }
        if request.queries.len() != 1 {
            return Reply::Forward;
        }
        let question = &request.queries[0];
        let qname = key(&question.name().to_ascii());
        let qtype = question.query_type();
        let mut answers: Vec<Record> = Vec::new();
        if let Some(entry) = self.names.get_mut(&qname) {
            let n = entry.addresses.len();
            let start = entry.turn % n.max(1);
            for i in 0..n {
                let ip = entry.addresses[(start + i) % n];
                let data = match (ip, qtype) {
                    (IpAddr::V4(v4), RecordType::A | RecordType::ANY) => RData::A(A(v4)),
                    (IpAddr::V6(v6), RecordType::AAAA | RecordType::ANY) => RData::AAAA(AAAA(v6)),
                    _ => continue,
                };
                answers.push(Record::from_rdata(question.name().clone(), TTL, data));
            }
            // One step per answered query (a NODATA, such as the AAAA query a resolver
            // sends beside the A one, does not move it).
            if !answers.is_empty() {
                entry.turn = entry.turn.wrapping_add(1);
            }
        } else if qtype == RecordType::PTR
            && let Some(ip) = reverse_address(question.name())
            && let Some(target) = self.reverse.get(&ip)
            && let Ok(target) = Name::from_ascii(format!("{target}."))
        {
            answers.push(Record::from_rdata(
                question.name().clone(),
                TTL,
                RData::PTR(PTR(target)),
            ));
        } else {
            return Reply::Forward;
        }
        let mut response = Message::new(request.metadata.id, MessageType::Response, OpCode::Query);
        response.metadata = Metadata::response_from_request(&request.metadata);
        response.metadata.recursion_available = true;
        response.metadata.authoritative = true;
        response.add_query(question.clone());
        let limit = match &request.edns {
            Some(edns) => {
                let mut ours = Edns::new();
                ours.set_max_payload(edns.max_payload().max(PLAIN_UDP as u16));
                response.set_edns(ours);
                usize::from(edns.max_payload()).max(PLAIN_UDP)
            }
            None => PLAIN_UDP,
        };
        response.add_answers(answers);
        match response.to_vec() {
            Ok(bytes) if !udp || bytes.len() <= limit => Reply::Answer(bytes),
            Ok(_) => response
                .truncate()
                .to_vec()
                .map(Reply::Answer)
                .unwrap_or(Reply::Drop),
            Err(_) => Reply::Answer(error(request.metadata.id, ResponseCode::ServFail)),
        }
    }
}

/// The address a `*.in-addr.arpa.` / `*.ip6.arpa.` name stands for (a full one only).
fn reverse_address(name: &Name) -> Option<IpAddr> {
    let net = name.parse_arpa_name().ok()?;
    let full = if net.addr().is_ipv4() { 32 } else { 128 };
    (net.prefix_len() == full).then(|| net.addr())
}

fn error(id: u16, code: ResponseCode) -> Vec<u8> {
    let mut m = Message::error_msg(id, OpCode::Query, code);
    m.metadata.recursion_available = true;
    m.to_vec().unwrap_or_default()
}

/// The id of a DNS message (its first two bytes).
pub fn message_id(bytes: &[u8]) -> Option<u16> {
    match bytes {
        [a, b, ..] => Some(u16::from_be_bytes([*a, *b])),
        _ => None,
    }
}

/// A SERVFAIL answer to `query` (no upstream answered).
pub fn servfail(query: &[u8]) -> Option<Vec<u8>> {
    let request = Message::from_vec(query).ok()?;
    let mut m = Message::error_msg(request.metadata.id, OpCode::Query, ResponseCode::ServFail);
    m.metadata.recursion_desired = request.metadata.recursion_desired;
    m.metadata.recursion_available = true;
    m.queries = request.queries;
    m.to_vec().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_proto::op::Query;

    fn query(name: &str, kind: RecordType, id: u16) -> Vec<u8> {
        let mut m = Message::new(id, MessageType::Query, OpCode::Query);
        m.metadata.recursion_desired = true;
        m.add_query(Query::query(Name::from_ascii(name).unwrap(), kind));
        m.to_vec().unwrap()
    }

    fn answered(reply: Reply) -> Message {
        match reply {
            Reply::Answer(bytes) => Message::from_vec(&bytes).unwrap(),
            other => panic!("expected an answer, got {other:?}"),
        }
    }

    fn zone() -> Zone {
        let mut z = Zone::new();
        for (name, ip) in [
            ("web-1", "10.0.0.2"),
            ("web", "10.0.0.2"),
            ("web", "10.0.0.3"),
            ("web", "10.0.0.4"),
            ("db", "10.0.0.9"),
            ("v6", "fd00::5"),
        ] {
            z.insert(name, ip.parse().unwrap());
        }
        z.insert_reverse("10.0.0.2".parse().unwrap(), "web-1.net");
        z.insert_reverse("10.0.0.9".parse().unwrap(), "db.net");
        z
    }

    fn addresses(m: &Message) -> Vec<String> {
        m.answers.iter().map(|r| r.data.to_string()).collect()
    }

    #[test]
    fn a_name_with_several_addresses_rotates_one_step_per_query() {
        let mut z = zone();
        let first: Vec<String> = (0..3)
            .map(|i| {
                let m = answered(z.answer(&query("web.", RecordType::A, i), true));
                assert_eq!(m.metadata.id, i);
                assert_eq!(m.answers.len(), 3);
                assert_eq!(m.metadata.response_code, ResponseCode::NoError);
                addresses(&m)[0].clone()
            })
            .collect();
        assert_eq!(first, ["10.0.0.2", "10.0.0.3", "10.0.0.4"]);
    }

    #[test]
    fn known_names_get_nodata_for_other_types_and_are_case_insensitive() {
        let mut z = zone();
        let m = answered(z.answer(&query("DB.", RecordType::AAAA, 7), true));
        assert_eq!(m.metadata.response_code, ResponseCode::NoError);
        assert!(m.answers.is_empty());
        let m = answered(z.answer(&query("db.", RecordType::MX, 8), true));
        assert!(m.answers.is_empty());
        let m = answered(z.answer(&query("v6.", RecordType::AAAA, 9), true));
        assert_eq!(addresses(&m), ["fd00::5"]);
        let m = answered(z.answer(&query("Db.", RecordType::A, 10), true));
        assert_eq!(addresses(&m), ["10.0.0.9"]);
        assert!(m.metadata.recursion_available && m.metadata.recursion_desired);
    }

    #[test]
    fn unknown_names_are_forwarded_and_reverse_names_answered() {
        let mut z = zone();
        assert_eq!(
            z.answer(&query("example.org.", RecordType::A, 1), true),
            Reply::Forward
        );
        let m = answered(z.answer(&query("9.0.0.10.in-addr.arpa.", RecordType::PTR, 2), true));
        assert_eq!(addresses(&m), ["db.net."]);
        let m = answered(z.answer(&query("2.0.0.10.in-addr.arpa.", RecordType::PTR, 3), true));
        assert_eq!(addresses(&m), ["web-1.net."]);
        assert_eq!(
            z.answer(&query("1.1.1.10.in-addr.arpa.", RecordType::PTR, 4), true),
            Reply::Forward
        );
    }

    #[test]
    fn garbage_gets_formerr_or_is_dropped() {
        let mut z = zone();
        assert_eq!(z.answer(&[1], true), Reply::Drop);
        let m = answered(z.answer(&[0x12, 0x34, 0xff], true));
        assert_eq!(m.metadata.id, 0x1234);
        assert_eq!(m.metadata.response_code, ResponseCode::FormErr);
        let fail = Message::from_vec(&servfail(&query("x.", RecordType::A, 5)).unwrap()).unwrap();
        assert_eq!(fail.metadata.response_code, ResponseCode::ServFail);
        assert_eq!(fail.metadata.id, 5);
        assert_eq!(message_id(&[0, 9, 1]), Some(9));
        let mut response = Message::from_vec(&query("db.", RecordType::A, 6)).unwrap();
        response.metadata.message_type = MessageType::Response;
        assert_eq!(z.answer(&response.to_vec().unwrap(), true), Reply::Drop);
    }

    #[test]
    fn a_big_udp_answer_is_truncated_without_edns() {
        let mut z = Zone::new();
        for i in 0..60u8 {
            z.insert("many", IpAddr::from([10, 1, 0, i]));
        }
        let m = answered(z.answer(&query("many.", RecordType::A, 1), true));
        assert!(m.metadata.truncation && m.answers.is_empty());
        let m = answered(z.answer(&query("many.", RecordType::A, 2), false));
        assert_eq!(m.answers.len(), 60);
    }
}
