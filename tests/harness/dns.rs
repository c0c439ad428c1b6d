//! DNS for the networking tests: a fake upstream server that a test runs inside the
//! network namespace of a container of its own (so no query ever leaves the host's test
//! networks), and a client that asks a container's embedded server from inside that
//! container's namespace.

use std::fs::File;
use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::os::fd::AsFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hickory_proto::op::{Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::rdata::A;
use hickory_proto::rr::{Name, RData, Record, RecordType};

/// The network namespace of a running container (by its init's pid).
pub fn netns_of(pid: i64) -> File {
    File::open(format!("/proc/{pid}/ns/net")).expect("open the container's netns")
}

/// A fake upstream: answers `A` for the names it is given, NXDOMAIN for anything
/// else, over UDP and TCP, and records every name it was asked (and over which).
pub struct FakeUpstream {
    stop: Arc<AtomicBool>,
    threads: Vec<std::thread::JoinHandle<()>>,
    pub asked: Arc<Mutex<Vec<String>>>,
    pub asked_over_tcp: Arc<Mutex<Vec<String>>>,
}

/// The fake upstream's answer to `query`, and the name asked.
fn respond(names: &[(String, IpAddr)], query: &[u8]) -> Option<(String, Vec<u8>)> {
    let request = Message::from_vec(query).ok()?;
    let q = request.queries.first()?;
    let asked_name = q.name().to_ascii().to_ascii_lowercase();
    let mut response = Message::new(request.metadata.id, MessageType::Response, OpCode::Query);
    response.metadata.recursion_desired = request.metadata.recursion_desired;
    response.metadata.recursion_available = true;
    response.add_query(q.clone());
    match names.iter().find(|(n, _)| format!("{n}.") == asked_name) {
        Some((_, IpAddr::V4(v4))) if q.query_type() == RecordType::A => {
            response.add_answer(Record::from_rdata(q.name().clone(), 60, RData::A(A(*v4))));
        }
        Some(_) => {}
        None => response.metadata.response_code = ResponseCode::NXDomain,
    }
    Some((asked_name, response.to_vec().expect("encode")))
}

impl FakeUpstream {
    /// Serves on `ip:53` (UDP and TCP) inside `netns`.
    pub fn start(netns: &File, ip: IpAddr, names: &[(&str, IpAddr)]) -> FakeUpstream {
        let (socket, listener) = berth_net::netns::within(netns.as_fd(), || {
            Ok::<_, std::io::Error>((UdpSocket::bind((ip, 53))?, TcpListener::bind((ip, 53))?))
        })
        .expect("enter the netns")
        .expect("bind the fake upstream");
        socket
            .set_read_timeout(Some(Duration::from_millis(50)))
            .expect("timeout");
        listener.set_nonblocking(true).expect("nonblocking");
        let names: Arc<Vec<(String, IpAddr)>> =
            Arc::new(names.iter().map(|(n, ip)| (n.to_string(), *ip)).collect());
        let stop = Arc::new(AtomicBool::new(false));
        let asked = Arc::new(Mutex::new(Vec::new()));
        let asked_over_tcp = Arc::new(Mutex::new(Vec::new()));
        let (s, a, n) = (stop.clone(), asked.clone(), names.clone());
        let udp = std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while !s.load(Ordering::Relaxed) {
                let Ok((len, from)) = socket.recv_from(&mut buf) else {
                    continue;
                };
                if let Some((name, answer)) = respond(&n, &buf[..len]) {
                    a.lock().expect("lock").push(name);
                    let _ = socket.send_to(&answer, from);
                }
            }
        });
        let (s, a, t) = (stop.clone(), asked.clone(), asked_over_tcp.clone());
        let tcp = std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                let Ok((mut stream, _)) = listener.accept() else {
                    std::thread::sleep(Duration::from_millis(10));
                    continue;
                };
                let _ = stream.set_nonblocking(false);
                let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
                // One framed query per connection, answered the same way.
                let mut len = [0u8; 2];
                if stream.read_exact(&mut len).is_err() {
                    continue;
                }
                let mut query = vec![0u8; usize::from(u16::from_be_bytes(len))];
                if stream.read_exact(&mut query).is_err() {
                    continue;
                }
                if let Some((name, answer)) = respond(&names, &query) {
                    a.lock().expect("lock").push(name.clone());
                    t.lock().expect("lock").push(name);
                    let mut framed = (answer.len() as u16).to_be_bytes().to_vec();
                    framed.extend_from_slice(&answer);
                    let _ = stream.write_all(&framed);
                }
            }
        });
        FakeUpstream {
            stop,
            threads: vec![udp, tcp],
            asked,
            asked_over_tcp,
        }
    }

    pub fn asked(&self) -> Vec<String> {
        self.asked.lock().expect("lock").clone()
    }

    pub fn asked_over_tcp(&self) -> Vec<String> {
        self.asked_over_tcp.lock().expect("lock").clone()
    }
}

impl Drop for FakeUpstream {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

/// A UDP DNS client inside a container's namespace, asking 127.0.0.11.
pub struct Client {
    socket: UdpSocket,
    netns: File,
    next_id: u16,
}

/// One answer: its code and the addresses in the order given.
#[derive(Debug)]
pub struct Answer {
    pub code: ResponseCode,
    pub addresses: Vec<IpAddr>,
    pub names: Vec<String>,
}

impl Client {
    pub fn inside(netns: &File) -> Client {
        let socket = berth_net::netns::within(netns.as_fd(), || {
            let s = UdpSocket::bind(("127.0.0.1", 0))?;
            s.connect(SocketAddr::from(([127, 0, 0, 11], 53)))?;
            Ok::<_, std::io::Error>(s)
        })
        .expect("enter the netns")
        .expect("client socket");
        socket
            .set_read_timeout(Some(Duration::from_secs(5)))
            .expect("timeout");
        Client {
            socket,
            netns: netns.try_clone().expect("netns fd"),
            next_id: 1,
        }
    }

    fn query(&mut self, name: &str, kind: RecordType) -> (u16, Vec<u8>) {
        let id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1);
        let mut m = Message::new(id, MessageType::Query, OpCode::Query);
        m.metadata.recursion_desired = true;
        m.add_query(Query::query(Name::from_ascii(name).expect("name"), kind));
        (id, m.to_vec().expect("encode"))
    }

    pub fn ask(&mut self, name: &str, kind: RecordType) -> Answer {
        let (id, query) = self.query(name, kind);
        self.socket.send(&query).expect("send");
        let mut buf = [0u8; 4096];
        let n = self
            .socket
            .recv(&mut buf)
            .expect("an answer from 127.0.0.11");
        decode(id, &buf[..n])
    }

    /// The same question over TCP, on a connection of its own.
    pub fn ask_tcp(&mut self, name: &str, kind: RecordType) -> Answer {
        let (id, query) = self.query(name, kind);
        let mut stream = berth_net::netns::within(self.netns.as_fd(), || {
            TcpStream::connect(SocketAddr::from(([127, 0, 0, 11], 53)))
        })
        .expect("enter the netns")
        .expect("connect to 127.0.0.11:53 over TCP");
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .expect("timeout");
        let mut framed = (query.len() as u16).to_be_bytes().to_vec();
        framed.extend_from_slice(&query);
        stream.write_all(&framed).expect("send");
        let mut len = [0u8; 2];
        stream.read_exact(&mut len).expect("an answer's length");
        let mut answer = vec![0u8; usize::from(u16::from_be_bytes(len))];
        stream.read_exact(&mut answer).expect("an answer");
        decode(id, &answer)
    }
}

fn decode(id: u16, bytes: &[u8]) -> Answer {
    let answer = Message::from_vec(bytes).expect("decode");
    assert_eq!(answer.metadata.id, id, "the answer keeps the query's id");
    Answer {
        code: answer.metadata.response_code,
        addresses: answer
            .answers
            .iter()
            .filter_map(|r| match &r.data {
                RData::A(a) => Some(IpAddr::V4(a.0)),
                RData::AAAA(a) => Some(IpAddr::V6(a.0)),
                _ => None,
            })
            .collect(),
        names: answer
            .answers
            .iter()
            .filter_map(|r| match &r.data {
                RData::PTR(p) => Some(p.0.to_ascii()),
                _ => None,
            })
            .collect(),
    }
}
