//! A pseudo-terminal the test owns, standing in for the user's terminal: the test sets
//! its size, types into the master and reads what berth shows there.

use std::os::fd::{AsFd, OwnedFd};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rustix::event::{PollFd, PollFlags, Timespec, poll};
use rustix::pty::OpenptFlags;
use rustix::termios::Winsize;

pub struct Pty {
    master: OwnedFd,
    slave: Option<OwnedFd>,
    seen: String,
}

impl Pty {
    pub fn open(rows: u16, cols: u16) -> Pty {
        let master =
            rustix::pty::openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY | OpenptFlags::CLOEXEC)
                .expect("open /dev/ptmx");
        rustix::pty::unlockpt(&master).expect("unlockpt");
        let slave = rustix::pty::ioctl_tiocgptpeer(
            &master,
            OpenptFlags::RDWR | OpenptFlags::NOCTTY | OpenptFlags::CLOEXEC,
        )
        .expect("open the pty's slave");
        let pty = Pty {
            master,
            slave: Some(slave),
            seen: String::new(),
        };
        pty.resize(rows, cols);
        pty
    }

    /// Sets the window size, as a terminal emulator does when its window changes (the
    /// kernel would send SIGWINCH to a controlling terminal's foreground group; the test
    /// sends it to the process itself).
    pub fn resize(&self, rows: u16, cols: u16) {
        let size = Winsize {
            ws_row: rows,
            ws_col: cols,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        rustix::termios::tcsetwinsize(&self.master, size).expect("set the window size");
    }

    /// Starts `command` with the terminal as its stdin, stdout and stderr; the test keeps
    /// only the master, so that the terminal hangs up when the command is gone.
    pub fn spawn(&mut self, command: &mut Command) -> Child {
        let slave = self.slave.take().expect("one command per pty");
        let dup = |fd: &OwnedFd| Stdio::from(fd.try_clone().expect("dup the slave"));
        command
            .stdin(dup(&slave))
            .stdout(dup(&slave))
            .stderr(dup(&slave));
        command.spawn().expect("start berth on the pty")
    }

    pub fn write(&self, bytes: &[u8]) {
        let mut left = bytes;
        while !left.is_empty() {
            let n = rustix::io::write(&self.master, left).expect("type into the pty");
            left = &left[n..];
        }
    }

    /// Reads until the output since the last match contains `needle`; the output read
    /// so far when it does not within 20 s.
    pub fn expect(&mut self, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(at) = self.seen.find(needle) {
                let upto = at + needle.len();
                let before = self.seen[..upto].to_string();
                self.seen.drain(..upto);
                return before;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(
                !left.is_zero(),
                "no {needle:?} on the terminal; it shows:\n{}",
                self.seen
            );
            if !self.read_some(left) {
                panic!(
                    "the terminal closed before {needle:?}; it showed:\n{}",
                    self.seen
                );
            }
        }
    }

    /// Waits for more output; false once the terminal has hung up.
    fn read_some(&mut self, timeout: Duration) -> bool {
        let mut fds = [PollFd::new(&self.master, PollFlags::IN)];
        let timeout = Timespec::try_from(timeout).expect("timeout");
        if poll(&mut fds, Some(&timeout)).expect("poll the pty") == 0 {
            return true;
        }
        let mut buf = [0u8; 4096];
        match rustix::io::read(self.master.as_fd(), &mut buf) {
            Ok(0) | Err(_) => false,
            Ok(n) => {
                self.seen.push_str(&String::from_utf8_lossy(&buf[..n]));
                true
            }
        }
    }

    /// Everything until the terminal hangs up (its last user is gone).
    pub fn rest(&mut self) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        while self.read_some(deadline.saturating_duration_since(Instant::now())) {
            assert!(
                Instant::now() < deadline,
                "the terminal stays open; it shows:\n{}",
                self.seen
            );
        }
        std::mem::take(&mut self.seen)
    }
}

/// Waits (at most 20 s) for a child to exit; its exit code.
pub fn wait(child: &mut Child) -> i32 {
    let pid = rustix::process::Pid::from_child(child);
    let pidfd =
        rustix::process::pidfd_open(pid, rustix::process::PidfdFlags::empty()).expect("pidfd_open");
    let mut fds = [PollFd::new(&pidfd, PollFlags::IN)];
    let timeout = Timespec {
        tv_sec: 20,
        tv_nsec: 0,
    };
    let ready = poll(&mut fds, Some(&timeout)).expect("poll the pidfd");
    assert_eq!(ready, 1, "berth did not exit within 20 s");
    child.wait().expect("wait").code().unwrap_or(-1)
}
