//! Attaching to a container's stdio: the protocol between the supervisor, which owns the
//! container's stdin and output (pipes, or the terminal's master with `-t`), and the
//! CLIs attached to it (`run` without `-d` when `-i` or `-t`, `start -a`, `attach`).
//!
//! One stream socket per attached CLI: the one `run` / `start -a` hands the supervisor at
//! its start (so no output is missed), or a connection to `attach.sock` in the container's
//! directory. Frames both ways are Docker's stdcopy header (kind, three zero bytes, a
//! big-endian u32 length) and the payload. The supervisor sends [`STDOUT`], [`STDERR`]
//! and, when the process has exited and its output is drained, [`EXIT`] (an i32); the
//! CLI sends [`HELLO`] (what it attaches), [`STDIN`], [`STDIN_CLOSE`] and [`RESIZE`]
//! (rows, columns as u16).

use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::path::Path;

use rustix::net::{AddressFamily, SocketAddrUnix, SocketFlags, SocketType};

pub const STDOUT: u8 = 1;
pub const STDERR: u8 = 2;
pub const EXIT: u8 = 3;
pub const HELLO: u8 = 10;
pub const STDIN: u8 = 11;
pub const STDIN_CLOSE: u8 = 12;
pub const RESIZE: u8 = 13;

/// [`HELLO`] flags.
pub const WANT_STDIN: u8 = 1;
pub const WANT_STDOUT: u8 = 2;
pub const WANT_STDERR: u8 = 4;

/// The socket file in a container's directory.
pub const SOCKET: &str = "attach.sock";

/// Largest payload either side sends or accepts.
pub const MAX_PAYLOAD: usize = 1 << 20;

pub fn frame(kind: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(8 + payload.len());
    out.extend_from_slice(&[kind, 0, 0, 0]);
    out.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    out.extend_from_slice(payload);
    out
}

pub fn resize_frame(rows: u16, cols: u16) -> Vec<u8> {
    let mut payload = [0u8; 4];
    payload[..2].copy_from_slice(&rows.to_be_bytes());
    payload[2..].copy_from_slice(&cols.to_be_bytes());
    frame(RESIZE, &payload)
}

/// Frames out of a byte stream that arrives in pieces.
#[derive(Debug, Default)]
pub struct FrameReader {
    buf: Vec<u8>,
}

impl FrameReader {
    pub fn push(&mut self, data: &[u8]) {
        self.buf.extend_from_slice(data);
    }

    /// The next whole frame, or an error for a frame no peer of ours sends.
    pub fn next_frame(&mut self) -> io::Result<Option<(u8, Vec<u8>)>> {
        if self.buf.len() < 8 {
            return Ok(None);
        }
        let len = u32::from_be_bytes([self.buf[4], self.buf[5], self.buf[6], self.buf[7]]) as usize;
        if len > MAX_PAYLOAD || self.buf[1..4] != [0, 0, 0] {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "not an attach frame",
            ));
        }
        if self.buf.len() < 8 + len {
            return Ok(None);
        }
        let payload = self.buf[8..8 + len].to_vec();
        let kind = self.buf[0];
        self.buf.drain(..8 + len);
        Ok(Some((kind, payload)))
    }
}

/// `/proc/self/fd/<dir>/attach.sock`: a socket path is limited to 108 bytes, and a
/// container's directory under a deep state root is longer than that.
fn address(dir: BorrowedFd<'_>) -> io::Result<SocketAddrUnix> {
    Ok(SocketAddrUnix::new(format!(
        "/proc/self/fd/{}/{SOCKET}",
        dir.as_raw_fd()
    ))?)
}

fn open_dir(dir: &Path) -> io::Result<OwnedFd> {
    Ok(rustix::fs::open(
        dir,
        rustix::fs::OFlags::PATH | rustix::fs::OFlags::DIRECTORY | rustix::fs::OFlags::CLOEXEC,
        rustix::fs::Mode::empty(),
    )?)
}

/// The supervisor's listening socket, only for root (mode 0600); a stale file from a
/// dead supervisor is replaced.
pub fn listen(dir: &Path) -> io::Result<OwnedFd> {
    let _ = std::fs::remove_file(dir.join(SOCKET));
    let dirfd = open_dir(dir)?;
    let socket = rustix::net::socket_with(
        AddressFamily::UNIX,
        SocketType::STREAM,
        SocketFlags::CLOEXEC | SocketFlags::NONBLOCK,
        None,
    )?;
    // The supervisor is single-threaded here: the umask change is seen by nothing else.
    let old = rustix::process::umask(rustix::fs::Mode::from_bits_retain(0o077));
    let bound = rustix::net::bind(&socket, &address(dirfd.as_fd())?);
    rustix::process::umask(old);
    bound?;
    rustix::net::listen(&socket, 16)?;
    Ok(socket)
}

/// A CLI's connection to a running container's supervisor.
pub fn connect(dir: &Path) -> io::Result<OwnedFd> {
    let dirfd = open_dir(dir)?;
    let socket = rustix::net::socket_with(
        AddressFamily::UNIX,
        SocketType::STREAM,
        SocketFlags::CLOEXEC,
        None,
    )?;
    rustix::net::connect(&socket, &address(dirfd.as_fd())?)?;
    Ok(socket)
}

/// Writes all of `data` to a blocking or non-blocking fd, waiting for room when needed.
pub fn write_all(fd: BorrowedFd<'_>, mut data: &[u8]) -> io::Result<()> {
    while !data.is_empty() {
        match rustix::io::write(fd, data) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => data = &data[n..],
            Err(rustix::io::Errno::INTR) => {}
            Err(rustix::io::Errno::AGAIN) => {
                let mut fds = [rustix::event::PollFd::from_borrowed_fd(
                    fd,
                    rustix::event::PollFlags::OUT,
                )];
                rustix::event::poll(&mut fds, None)?;
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_survive_being_split_anywhere() {
        let mut bytes = frame(STDOUT, b"hello");
        bytes.extend(resize_frame(33, 101));
        bytes.extend(frame(STDIN_CLOSE, b""));
        for split in 0..bytes.len() {
            let mut r = FrameReader::default();
            let mut got = Vec::new();
            r.push(&bytes[..split]);
            while let Some(f) = r.next_frame().unwrap() {
                got.push(f);
            }
            r.push(&bytes[split..]);
            while let Some(f) = r.next_frame().unwrap() {
                got.push(f);
            }
            assert_eq!(
                got,
                vec![
                    (STDOUT, b"hello".to_vec()),
                    (RESIZE, vec![0, 33, 0, 101]),
                    (STDIN_CLOSE, vec![])
                ],
                "split at {split}"
            );
        }
    }

    #[test]
    fn garbage_is_an_error_not_a_huge_allocation() {
        let mut r = FrameReader::default();
        r.push(b"GET / HTTP/1.1\r\n");
        assert!(r.next_frame().is_err());
        let mut r = FrameReader::default();
        r.push(&[STDIN, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]);
        assert!(r.next_frame().is_err());
    }
}
