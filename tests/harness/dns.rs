//! DNS for the networking tests: a fake upstream server that a test runs inside the
//! network namespace of a container of its own (so no query ever leaves the host's test
//! networks), and a client that asks a container's embedded server from inside that
//! container's namespace.

use std::fs::File;
use std::net::{IpAddr, SocketAddr, UdpSocket};
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
/// else, and records every name it was asked.
pub struct FakeUpstream {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
    pub asked: Arc<Mutex<Vec<String>>>,
}

impl FakeUpstream {
    /// Serves on `ip:53` inside `netns`.
    pub fn start(netns: &File, ip: IpAddr, names: &[(&str, IpAddr)]) -> FakeUpstream {
        let socket = berth_net::netns::within(netns.as_fd(), || UdpSocket::bind((ip, 53)))
            .expect("enter the netns")
            .expect("bind the fake upstream");
        socket
            .set_read_timeout(Some(Duration::from_millis(50)))
            .expect("timeout");
        let names: Vec<(String, IpAddr)> =
            names.iter().map(|(n, ip)| (n.to_string(), *ip)).collect();
        let stop = Arc::new(AtomicBool::new(false));
        let asked = Arc::new(Mutex::new(Vec::new()));
        let (s, a) = (stop.clone(), asked.clone());
        let thread = std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while !s.load(Ordering::Relaxed) {
                let Ok((n, from)) = socket.recv_from(&mut buf) else {
                    continue;
                };
                let Ok(request) = Message::from_vec(&buf[..n]) else {
                    continue;
                };
                let Some(q) = request.queries.first() else {
                    continue;
                };
                let asked_name = q.name().to_ascii().to_ascii_lowercase();
                a.lock().expect("lock").push(asked_name.clone());
                let mut response =
                    Message::new(request.metadata.id, MessageType::Response, OpCode::Query);
                response.metadata.recursion_desired = request.metadata.recursion_desired;
                response.metadata.recursion_available = true;
                response.add_query(q.clone());
                match names.iter().find(|(n, _)| format!("{n}.") == asked_name) {
                    Some((_, IpAddr::V4(v4))) if q.query_type() == RecordType::A => {
                        response.add_answer(Record::from_rdata(
                            q.name().clone(),
                            60,
                            RData::A(A(*v4)),
                        ));
                    }
                    Some(_) => {}
                    None => response.metadata.response_code = ResponseCode::NXDomain,
                }
                let _ = socket.send_to(&response.to_vec().expect("encode"), from);
            }
        });
        FakeUpstream {
            stop,
            thread: Some(thread),
            asked,
        }
    }

    pub fn asked(&self) -> Vec<String> {
        self.asked.lock().expect("lock").clone()
    }
}

impl Drop for FakeUpstream {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A UDP DNS client inside a container's namespace, asking 127.0.0.11.
pub struct Client {
    socket: UdpSocket,
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
        Client { socket, next_id: 1 }
    }

    pub fn ask(&mut self, name: &str, kind: RecordType) -> Answer {
        let id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1);
        let mut m = Message::new(id, MessageType::Query, OpCode::Query);
        m.metadata.recursion_desired = true;
        m.add_query(Query::query(Name::from_ascii(name).expect("name"), kind));
        self.socket
            .send(&m.to_vec().expect("encode"))
            .expect("send");
        let mut buf = [0u8; 4096];
        let n = self
            .socket
            .recv(&mut buf)
            .expect("an answer from 127.0.0.11");
        let answer = Message::from_vec(&buf[..n]).expect("decode");
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
}
