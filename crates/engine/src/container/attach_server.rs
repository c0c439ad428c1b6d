//! The supervisor's side of attaching (protocol in `attach.rs`): the listening socket,
//! the attached CLIs, and the container's stdin (a pipe with `-i`, the terminal's master
//! with `-t`). Output goes to every client that asked for it; stdin from any client is
//! queued and written without blocking the supervisor (a container that does not read
//! its stdin must not stop its output from being logged). With `-i` and not `-t`, the
//! container's stdin is closed when a client's stdin ends and the container was created
//! with `StdinOnce` (`run -i`), as Docker's.

use std::collections::VecDeque;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use rustix::event::{PollFd, PollFlags};

use super::attach::{self, FrameReader};

/// More queued stdin than this and clients are not read until it drains.
const STDIN_QUEUE_LIMIT: usize = 1 << 20;

struct Client {
    fd: OwnedFd,
    reader: FrameReader,
    flags: u8,
}

/// The container's stdin for one run of its process.
pub struct Stdin {
    pub fd: OwnedFd,
    /// The terminal's master (`-t`): resizes apply to it, and it is never closed early.
    pub terminal: bool,
    /// `StdinOnce`: the end of a client's stdin closes the container's.
    pub once: bool,
}

#[derive(Default)]
pub struct Hub {
    listener: Option<OwnedFd>,
    clients: Vec<Client>,
    stdin: Option<Stdin>,
    queued: VecDeque<u8>,
    close_after_queue: bool,
}

/// What a poll slot of the hub is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Slot {
    Listener,
    Stdin,
    Client(usize),
}

impl Hub {
    pub fn new(listener: Option<OwnedFd>) -> Hub {
        Hub {
            listener,
            ..Hub::default()
        }
    }

    /// A CLI connected before the start (`run`, `start -a`), attached to everything.
    pub fn add_client(&mut self, fd: OwnedFd) {
        let _ = rustix::fs::fcntl_setfl(&fd, rustix::fs::OFlags::NONBLOCK);
        self.clients.push(Client {
            fd,
            reader: FrameReader::default(),
            flags: attach::WANT_STDIN | attach::WANT_STDOUT | attach::WANT_STDERR,
        });
    }

    /// The stdin of the process now running (none: /dev/null).
    pub fn set_stdin(&mut self, stdin: Option<Stdin>) {
        if let Some(s) = &stdin {
            let _ = rustix::fs::fcntl_setfl(&s.fd, rustix::fs::OFlags::NONBLOCK);
        }
        self.stdin = stdin;
        self.queued.clear();
        self.close_after_queue = false;
    }

    pub fn has_clients(&self) -> bool {
        !self.clients.is_empty()
    }

    /// Adds the hub's fds to a poll set, each with its slot.
    pub fn register<'a>(&'a self, fds: &mut Vec<PollFd<'a>>, slots: &mut Vec<Slot>) {
        if let Some(l) = &self.listener {
            fds.push(PollFd::new(l, PollFlags::IN));
            slots.push(Slot::Listener);
        }
        if let Some(s) = self.stdin.as_ref().filter(|_| !self.queued.is_empty()) {
            fds.push(PollFd::new(&s.fd, PollFlags::OUT));
            slots.push(Slot::Stdin);
        }
        if self.queued.len() < STDIN_QUEUE_LIMIT {
            for (i, c) in self.clients.iter().enumerate() {
                fds.push(PollFd::new(&c.fd, PollFlags::IN));
                slots.push(Slot::Client(i));
            }
        }
    }

    /// Handles one ready slot. Clients that went away are dropped after all slots of a
    /// poll round are handled ([`Hub::sweep`]), so that indices stay valid.
    pub fn ready(&mut self, slot: Slot) {
        match slot {
            Slot::Listener => self.accept(),
            Slot::Stdin => self.flush_stdin(),
            Slot::Client(i) => self.read_client(i),
        }
    }

    fn accept(&mut self) {
        let Some(l) = &self.listener else { return };
        while let Ok(fd) = rustix::net::accept_with(
            l,
            rustix::net::SocketFlags::CLOEXEC | rustix::net::SocketFlags::NONBLOCK,
        ) {
            self.clients.push(Client {
                fd,
                reader: FrameReader::default(),
                flags: 0,
            });
        }
    }

    fn read_client(&mut self, i: usize) {
        let mut buf = [0u8; 16 * 1024];
        let n = match rustix::io::read(&self.clients[i].fd, &mut buf) {
            Ok(n) => n,
            Err(rustix::io::Errno::INTR | rustix::io::Errno::AGAIN) => return,
            Err(_) => 0,
        };
        if n == 0 {
            let had_stdin = self.clients[i].flags & attach::WANT_STDIN != 0;
            self.clients[i].flags = u8::MAX; // marks it for the sweep
            if had_stdin && self.stdin.as_ref().is_some_and(|s| s.once && !s.terminal) {
                self.close_after_queue = true;
                self.flush_stdin();
            }
            return;
        }
        self.clients[i].reader.push(&buf[..n]);
        loop {
            let frame = self.clients[i].reader.next_frame();
            let (kind, payload) = match frame {
                Ok(Some(f)) => f,
                Ok(None) => break,
                Err(_) => {
                    self.clients[i].flags = u8::MAX;
                    break;
                }
            };
            let wants_stdin = self.clients[i].flags & attach::WANT_STDIN != 0;
            match kind {
                attach::HELLO => self.clients[i].flags = payload.first().copied().unwrap_or(0) & 7,
                attach::STDIN if wants_stdin && self.stdin.is_some() && !self.close_after_queue => {
                    self.queued.extend(payload);
                    self.flush_stdin();
                }
                attach::STDIN_CLOSE if wants_stdin => {
                    self.clients[i].flags &= !attach::WANT_STDIN;
                    self.client_stdin_ended(i);
                }
                attach::RESIZE if payload.len() == 4 => {
                    if let Some(s) = self.stdin.as_ref().filter(|s| s.terminal) {
                        let rows = u16::from_be_bytes([payload[0], payload[1]]);
                        let cols = u16::from_be_bytes([payload[2], payload[3]]);
                        let _ = crate::runtime::set_terminal_size(s.fd.as_fd(), rows, cols);
                    }
                }
                _ => {}
            }
        }
    }

    /// A client's stdin ended: with `StdinOnce` (and no terminal) the container's stdin
    /// closes; otherwise that client's attachment ends (Docker closes its output then).
    fn client_stdin_ended(&mut self, i: usize) {
        if self.stdin.as_ref().is_some_and(|s| s.once && !s.terminal) {
            self.close_after_queue = true;
            self.flush_stdin();
        } else {
            self.clients[i].flags = u8::MAX;
        }
    }

    fn flush_stdin(&mut self) {
        let Some(s) = &self.stdin else { return };
        while !self.queued.is_empty() {
            let (front, _) = self.queued.as_slices();
            match rustix::io::write(&s.fd, front) {
                Ok(n) => {
                    self.queued.drain(..n);
                }
                Err(rustix::io::Errno::INTR) => {}
                Err(rustix::io::Errno::AGAIN) => return,
                // The process closed its stdin: nothing more will be read.
                Err(_) => {
                    self.queued.clear();
                    break;
                }
            }
        }
        if self.close_after_queue {
            self.stdin = None;
        }
    }

    /// Drops the clients that went away in the last round.
    pub fn sweep(&mut self) {
        self.clients.retain(|c| c.flags != u8::MAX);
    }

    /// Output of the process, to every client that wants that stream.
    pub fn output(&mut self, kind: u8, data: &[u8]) {
        let want = if kind == attach::STDERR {
            attach::WANT_STDERR
        } else {
            attach::WANT_STDOUT
        };
        let frame = attach::frame(kind, data);
        for c in self
            .clients
            .iter_mut()
            .filter(|c| c.flags != u8::MAX && c.flags & want != 0)
        {
            if write_frame(c.fd.as_fd(), &frame).is_err() {
                c.flags = u8::MAX;
            }
        }
        self.sweep();
    }

    /// The process exited and its output is drained: every client gets the code and is
    /// let go (a restarted process is not attached to, as with Docker).
    pub fn exited(&mut self, code: i32) {
        let frame = attach::frame(attach::EXIT, &code.to_be_bytes());
        for c in self.clients.drain(..) {
            let _ = write_frame(c.fd.as_fd(), &frame);
        }
        self.stdin = None;
        self.queued.clear();
    }
}

/// A client that stops reading for 5 s is let go rather than stalling the container.
fn write_frame(fd: BorrowedFd<'_>, mut data: &[u8]) -> std::io::Result<()> {
    while !data.is_empty() {
        match rustix::io::write(fd, data) {
            Ok(n) => data = &data[n..],
            Err(rustix::io::Errno::INTR) => {}
            Err(rustix::io::Errno::AGAIN) => {
                let mut fds = [PollFd::from_borrowed_fd(fd, PollFlags::OUT)];
                let timeout = rustix::event::Timespec {
                    tv_sec: 5,
                    tv_nsec: 0,
                };
                if rustix::event::poll(&mut fds, Some(&timeout))? == 0 {
                    return Err(std::io::ErrorKind::TimedOut.into());
                }
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}
