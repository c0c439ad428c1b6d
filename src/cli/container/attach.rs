//! Attaching the CLI's terminal or pipes to a container: the relay `run -i/-t`,
//! `start -a`, `attach` and `exec -t` share (the user's stdin to the container, its
//! output back, window size changes, detach keys), and the `attach` command.
//!
//! The peer is the container's supervisor (framed, `berth_engine::container::attach`) or,
//! for `exec -t`, the terminal master the exec'd process handed back.

use std::io::Write;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::Path;

use anyhow::{Context, bail};
use berth_engine::container::attach::{self, FrameReader};
use clap::Args;
use rustix::event::{PollFd, PollFlags, poll};
use rustix::termios::{OptionalActions, Termios};

use crate::cli::output::Exit;

/// Docker's default detach sequence, ctrl-p ctrl-q.
pub const DEFAULT_DETACH_KEYS: &[u8] = &[0x10, 0x11];

#[derive(Args, Debug)]
pub struct AttachArgs {
    /// Do not attach STDIN
    #[arg(long)]
    no_stdin: bool,
    /// Proxy all received signals to the process
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    sig_proxy: bool,
    /// Override the key sequence for detaching a container
    #[arg(long)]
    detach_keys: Option<String>,
    container: String,
}

pub enum Peer {
    Supervisor(OwnedFd),
    Terminal(OwnedFd),
}

pub struct Options {
    pub stdin: bool,
    pub tty: bool,
    /// The sequence that detaches, scanned in the user's input (with `-t`, as Docker).
    pub detach_keys: Option<Vec<u8>>,
    /// Where SIGWINCH arrives ([`berth_engine::runtime::window_changes`]), with `-t`.
    pub window: Option<OwnedFd>,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    Exited(i32),
    Detached,
    /// The peer went away without an exit code (the process's output ended).
    Ended,
}

/// Docker's `--detach-keys`: comma-separated `ctrl-<x>` (x in a-z, @, [, \, ], ^, _) or
/// single characters.
pub fn parse_detach_keys(spec: &str) -> anyhow::Result<Vec<u8>> {
    let mut keys = Vec::new();
    for part in spec.split(',') {
        let lower = part.to_ascii_lowercase();
        let key = match lower.strip_prefix("ctrl-") {
            Some(c) if c.len() == 1 => match c.as_bytes()[0] {
                b @ b'a'..=b'z' => b - b'a' + 1,
                b'@' => 0,
                b'[' => 27,
                b'\\' => 28,
                b']' => 29,
                b'^' => 30,
                b'_' => 31,
                _ => bail!(
                    "invalid --detach-keys {spec:?}: unknown key {part:?} (expected ctrl-a … ctrl-z, ctrl-@, ctrl-[, ctrl-\\, ctrl-], ctrl-^, ctrl-_ or one character)"
                ),
            },
            _ if part.len() == 1 => part.as_bytes()[0],
            _ => bail!(
                "invalid --detach-keys {spec:?}: unknown key {part:?} (expected ctrl-<key> or one character, comma-separated)"
            ),
        };
        keys.push(key);
    }
    Ok(keys)
}

/// What every attaching command checks first, in Docker's order: a terminal on stdin
/// when both `-t` and stdin are asked ("the input device is not a TTY", exit 1), then
/// `--detach-keys` (a bad one exits with `bad_keys_exit`); the keys, or Docker's default.
pub fn prepare(
    tty: bool,
    stdin: bool,
    detach_keys: Option<&str>,
    bad_keys_exit: i32,
) -> Result<Vec<u8>, Exit> {
    if tty && stdin && !is_terminal(std::io::stdin()) {
        return Err(Exit::message(1, "the input device is not a TTY".into()));
    }
    match detach_keys {
        Some(spec) => {
            parse_detach_keys(spec).map_err(|e| Exit::message(bad_keys_exit, e.to_string()))
        }
        None => Ok(DEFAULT_DETACH_KEYS.to_vec()),
    }
}

/// With `-t` and a terminal on stdout: SIGWINCH as a pipe (before any thread starts).
pub fn watch_window(tty: bool) -> std::io::Result<Option<OwnedFd>> {
    if tty && is_terminal(std::io::stdout()) {
        berth_engine::runtime::window_changes().map(Some)
    } else {
        Ok(None)
    }
}

/// Finds the detach sequence in input; bytes that might start it are held back until
/// the next byte tells (Docker's behaviour).
struct DetachScanner {
    keys: Vec<u8>,
    matched: usize,
}

impl DetachScanner {
    /// Appends to `out` what goes to the container; true when the sequence is complete.
    fn feed(&mut self, input: &[u8], out: &mut Vec<u8>) -> bool {
        for &b in input {
            if b == self.keys[self.matched] {
                self.matched += 1;
                if self.matched == self.keys.len() {
                    return true;
                }
                continue;
            }
            out.extend_from_slice(&self.keys[..self.matched]);
            self.matched = 0;
            if b == self.keys[0] {
                self.matched = 1;
                if self.keys.len() == 1 {
                    return true;
                }
            } else {
                out.push(b);
            }
        }
        false
    }
}

/// The terminal in raw mode for as long as this lives.
struct RawMode {
    saved: Termios,
}

impl RawMode {
    fn enter(fd: BorrowedFd<'_>) -> std::io::Result<RawMode> {
        let saved = rustix::termios::tcgetattr(fd)?;
        let mut raw = saved.clone();
        raw.make_raw();
        rustix::termios::tcsetattr(fd, OptionalActions::Now, &raw)?;
        Ok(RawMode { saved })
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        let _ = rustix::termios::tcsetattr(std::io::stdin(), OptionalActions::Now, &self.saved);
    }
}

pub fn is_terminal(fd: impl AsFd) -> bool {
    rustix::termios::isatty(fd)
}

/// The window size of the user's terminal (stdout's, as Docker takes it), if it is one.
pub fn window_size() -> Option<(u16, u16)> {
    let size = rustix::termios::tcgetwinsize(std::io::stdout()).ok()?;
    (size.ws_row > 0 && size.ws_col > 0).then_some((size.ws_row, size.ws_col))
}

fn send(peer: &Peer, bytes: &[u8]) -> std::io::Result<()> {
    match peer {
        Peer::Supervisor(fd) | Peer::Terminal(fd) => attach::write_all(fd.as_fd(), bytes),
    }
}

fn send_stdin(peer: &Peer, data: &[u8]) -> std::io::Result<()> {
    match peer {
        Peer::Supervisor(_) => send(peer, &attach::frame(attach::STDIN, data)),
        Peer::Terminal(_) => send(peer, data),
    }
}

fn send_size(peer: &Peer) {
    let Some((rows, cols)) = window_size() else {
        return;
    };
    match peer {
        Peer::Supervisor(_) => {
            let _ = send(peer, &attach::resize_frame(rows, cols));
        }
        Peer::Terminal(fd) => {
            let _ = berth_engine::runtime::set_terminal_size(fd.as_fd(), rows, cols);
        }
    }
}

pub fn relay(peer: Peer, options: Options) -> anyhow::Result<Outcome> {
    let stdin = std::io::stdin();
    let _raw = if options.tty && options.stdin && is_terminal(&stdin) {
        Some(RawMode::enter(stdin.as_fd()).context("cannot put the terminal in raw mode")?)
    } else {
        None
    };
    if let Peer::Supervisor(_) = &peer {
        let mut flags = attach::WANT_STDOUT | attach::WANT_STDERR;
        if options.stdin {
            flags |= attach::WANT_STDIN;
        }
        // A container that already ended has closed its side: what it wrote is still to
        // be read, so only other errors fail the attach.
        match send(&peer, &attach::frame(attach::HELLO, &[flags])) {
            Err(e)
                if !matches!(
                    e.kind(),
                    std::io::ErrorKind::BrokenPipe | std::io::ErrorKind::ConnectionReset
                ) =>
            {
                return Err(e).context("cannot attach");
            }
            _ => {}
        }
    }
    if options.window.is_some() {
        send_size(&peer);
    }
    let mut scanner = options
        .detach_keys
        .clone()
        .filter(|k| !k.is_empty())
        .map(|keys| DetachScanner { keys, matched: 0 });
    let mut stdin_open = options.stdin;
    let mut frames = FrameReader::default();
    let mut buf = vec![0u8; 64 * 1024];
    let mut to_container = Vec::new();
    let (out, err) = (std::io::stdout(), std::io::stderr());
    loop {
        let peer_fd = match &peer {
            Peer::Supervisor(fd) | Peer::Terminal(fd) => fd.as_fd(),
        };
        let mut fds = vec![PollFd::from_borrowed_fd(peer_fd, PollFlags::IN)];
        if stdin_open {
            fds.push(PollFd::from_borrowed_fd(stdin.as_fd(), PollFlags::IN));
        }
        if let Some(w) = &options.window {
            fds.push(PollFd::new(w, PollFlags::IN));
        }
        match poll(&mut fds, None) {
            Ok(_) => {}
            Err(rustix::io::Errno::INTR) => continue,
            Err(e) => return Err(e).context("poll"),
        }
        let peer_ready = !fds[0].revents().is_empty();
        let stdin_ready = stdin_open && !fds[1].revents().is_empty();
        let window_ready = options.window.is_some() && !fds[fds.len() - 1].revents().is_empty();
        drop(fds);

        if window_ready {
            if let Some(w) = &options.window {
                let _ = rustix::io::read(w, &mut [0u8; 64]);
            }
            send_size(&peer);
        }
        if stdin_ready {
            match rustix::io::read(&stdin, &mut buf) {
                Ok(0) | Err(_) => {
                    stdin_open = false;
                    if let Peer::Supervisor(_) = &peer {
                        let _ = send(&peer, &attach::frame(attach::STDIN_CLOSE, &[]));
                    }
                }
                Ok(n) => {
                    to_container.clear();
                    let detached = match scanner.as_mut() {
                        Some(s) => s.feed(&buf[..n], &mut to_container),
                        None => {
                            to_container.extend_from_slice(&buf[..n]);
                            false
                        }
                    };
                    if !to_container.is_empty() && send_stdin(&peer, &to_container).is_err() {
                        stdin_open = false;
                    }
                    if detached {
                        return Ok(Outcome::Detached);
                    }
                }
            }
        }
        if peer_ready {
            let n = match rustix::io::read(peer_fd, &mut buf) {
                Ok(n) => n,
                Err(rustix::io::Errno::INTR | rustix::io::Errno::AGAIN) => continue,
                // EIO: the exec'd process and everything holding its terminal are gone.
                Err(_) => 0,
            };
            if n == 0 {
                return Ok(Outcome::Ended);
            }
            match &peer {
                Peer::Terminal(_) => {
                    let mut o = out.lock();
                    let _ = o.write_all(&buf[..n]).and_then(|()| o.flush());
                }
                Peer::Supervisor(_) => {
                    frames.push(&buf[..n]);
                    while let Some((kind, payload)) = frames
                        .next_frame()
                        .context("the supervisor sent a bad frame")?
                    {
                        match kind {
                            attach::STDOUT => {
                                let mut o = out.lock();
                                let _ = o.write_all(&payload).and_then(|()| o.flush());
                            }
                            attach::STDERR => {
                                let mut e = err.lock();
                                let _ = e.write_all(&payload).and_then(|()| e.flush());
                            }
                            attach::EXIT if payload.len() == 4 => {
                                let code = i32::from_be_bytes([
                                    payload[0], payload[1], payload[2], payload[3],
                                ]);
                                return Ok(Outcome::Exited(code));
                            }
                            _ => {}
                        }
                    }
                }
            }
        }
    }
}

/// `berth attach`: the running container's output (and stdin unless `--no-stdin` or it
/// was not created with `-i`) until it exits (its code) or the user detaches (exit 1 and
/// "read escape sequence", as Docker's).
pub fn run(root: &Path, args: &AttachArgs) -> anyhow::Result<()> {
    let containers = super::open(root)?;
    let id = containers
        .lookup(&args.container)
        .map_err(|e| Exit::error(1, &e))?;
    let record = containers.record(&id).map_err(|e| Exit::error(1, &e))?;
    if !containers
        .state(&id)
        .map_err(|e| Exit::error(1, &e))?
        .running
    {
        return Err(Exit::message(
            1,
            "You cannot attach to a stopped container, start it first".into(),
        )
        .into());
    }
    let tty = record.config.tty;
    let stdin = record.config.open_stdin && !args.no_stdin;
    let detach_keys = prepare(tty, stdin, args.detach_keys.as_deref(), 1)?;
    let window = watch_window(tty).context("cannot watch the window size")?;
    if args.sig_proxy && !tty {
        let proxy =
            berth_engine::runtime::SignalProxy::block().context("cannot forward signals")?;
        let (c, target) = (containers.clone(), id.clone());
        proxy
            .forward(move |sig| {
                if let Some(signal) = rustix::process::Signal::from_named_raw(sig) {
                    let _ = c.kill(&target, signal);
                }
            })
            .context("cannot forward signals")?;
    }
    let socket = attach::connect(&containers.dir(&id)).map_err(|e| {
        Exit::message(
            1,
            format!("cannot attach to container {}: {e}", args.container),
        )
    })?;
    let outcome = relay(
        Peer::Supervisor(socket),
        Options {
            stdin,
            tty,
            detach_keys: tty.then_some(detach_keys),
            window,
        },
    )?;
    match outcome {
        Outcome::Exited(0) | Outcome::Ended => Ok(()),
        Outcome::Exited(code) => Err(Exit::silent(code).into()),
        Outcome::Detached => Err(Exit::message(1, "read escape sequence".into()).into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detach_keys_parse_like_docker() {
        assert_eq!(
            parse_detach_keys("ctrl-p,ctrl-q").unwrap(),
            vec![0x10, 0x11]
        );
        assert_eq!(parse_detach_keys("ctrl-a,x").unwrap(), vec![1, b'x']);
        assert_eq!(parse_detach_keys("ctrl-@,ctrl-_").unwrap(), vec![0, 31]);
        assert!(
            parse_detach_keys("ctrl-1")
                .unwrap_err()
                .to_string()
                .contains("unknown key \"ctrl-1\"")
        );
        assert!(parse_detach_keys("alt-x").is_err());
    }

    #[test]
    fn the_scanner_holds_a_possible_sequence_and_lets_a_broken_one_through() {
        let mut s = DetachScanner {
            keys: DEFAULT_DETACH_KEYS.to_vec(),
            matched: 0,
        };
        let mut out = Vec::new();
        assert!(!s.feed(b"ab\x10", &mut out));
        assert_eq!(out, b"ab", "ctrl-p held back");
        assert!(!s.feed(b"c", &mut out));
        assert_eq!(out, b"ab\x10c", "released when the sequence breaks");
        assert!(!s.feed(b"\x10\x10", &mut out));
        assert_eq!(out, b"ab\x10c\x10", "a second ctrl-p may still start it");
        assert!(s.feed(b"\x11rest", &mut out));
        assert_eq!(out, b"ab\x10c\x10");
    }
}
