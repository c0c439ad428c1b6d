//! `berth logs -f`: print the log, then whatever is written to it, through rotations, until
//! the container has ended.
//!
//! Wakeups come from inotify on the container's directory (rustix's wrapper: no extra
//! thread or crate, unlike `notify`, which runs a watcher thread and brings mio along, and a
//! blocking `poll` on one fd is all that is needed here). Every write to the live file,
//! every rename of a rotation and the state file replaced in the same directory wake the
//! reader; it never sleeps on a timer.

use std::io::{self, Write};
use std::os::fd::OwnedFd;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use rustix::event::{PollFd, PollFlags, Timespec, poll};
use rustix::fs::inotify::{self, CreateFlags, ReadFlags, WatchFlags};
use rustix::io::Errno;

use super::reader::{LogsError, ReadOptions, Session};
use crate::time::Instant;

/// Prints the log as [`super::read`] does, then follows it: new entries are printed as
/// they are written, a rotated file is read to its end before the next one. `stop` is
/// asked at every wakeup (every change in `dir`); once it returns true, what is left is
/// printed and `follow` returns. It also returns when `--until` has passed (the only timed
/// wait) or when `dir` is removed.
pub fn follow(
    dir: &Path,
    options: &ReadOptions,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
    stop: &dyn Fn() -> bool,
) -> Result<(), LogsError> {
    let watch_error = |source: io::Error| LogsError::Watch {
        path: dir.to_path_buf(),
        source,
    };
    // Watch before the first read, so nothing written after it goes unnoticed.
    let fd = inotify::init(CreateFlags::CLOEXEC | CreateFlags::NONBLOCK)
        .map_err(|e| watch_error(e.into()))?;
    inotify::add_watch(
        &fd,
        dir,
        WatchFlags::MODIFY
            | WatchFlags::CLOSE_WRITE
            | WatchFlags::CREATE
            | WatchFlags::DELETE
            | WatchFlags::MOVED_FROM
            | WatchFlags::MOVED_TO
            | WatchFlags::ATTRIB
            | WatchFlags::DELETE_SELF
            | WatchFlags::MOVE_SELF
            | WatchFlags::ONLYDIR,
    )
    .map_err(|e| watch_error(e.into()))?;

    let mut session = Session::start(dir, options, stdout, stderr)?;
    let mut buf = vec![0; 4096];
    loop {
        // Asked before reading: whatever was written before the container ended is in
        // the files by the time `stop` says so.
        let stopping = stop();
        session.catch_up()?;
        session.flush()?;
        if stopping || session.finished() {
            return Ok(());
        }
        match wait(&fd, &mut buf, options.until).map_err(watch_error)? {
            Wake::Changed => {}
            Wake::Deadline | Wake::DirGone => {
                session.catch_up()?;
                return session.flush();
            }
        }
    }
}

enum Wake {
    Changed,
    /// `--until` is in the past now.
    Deadline,
    DirGone,
}

fn now() -> Instant {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as Instant)
        .unwrap_or_default()
}

/// Blocks until something changes in the watched directory (or `deadline`), then reads
/// every queued event.
fn wait(fd: &OwnedFd, buf: &mut [u8], deadline: Option<Instant>) -> io::Result<Wake> {
    loop {
        let timeout = match deadline {
            None => None,
            Some(deadline) => {
                let left = deadline - now();
                if left <= 0 {
                    return Ok(Wake::Deadline);
                }
                Some(Timespec {
                    tv_sec: (left / 1_000_000_000).min(i64::MAX as i128) as i64,
                    tv_nsec: (left % 1_000_000_000) as _,
                })
            }
        };
        let mut fds = [PollFd::new(fd, PollFlags::IN)];
        match poll(&mut fds, timeout.as_ref()) {
            Ok(0) | Err(Errno::INTR) => continue,
            Ok(_) => {}
            Err(e) => return Err(e.into()),
        }
        let mut gone = false;
        loop {
            match rustix::io::read(fd, &mut *buf) {
                Ok(0) | Err(Errno::AGAIN) => break,
                Ok(n) => gone |= says_dir_gone(&buf[..n]),
                Err(Errno::INTR) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        return Ok(if gone { Wake::DirGone } else { Wake::Changed });
    }
}

/// Whether a batch of raw `inotify_event`s (wd, mask, cookie, len, name[len]) says the
/// watched directory itself went away.
fn says_dir_gone(mut events: &[u8]) -> bool {
    let gone =
        ReadFlags::IGNORED | ReadFlags::DELETE_SELF | ReadFlags::MOVE_SELF | ReadFlags::UNMOUNT;
    let field = |b: &[u8], at: usize| {
        b.get(at..at + 4)
            .and_then(|s| s.try_into().ok())
            .map(u32::from_ne_bytes)
    };
    while let (Some(mask), Some(len)) = (field(events, 4), field(events, 12)) {
        if ReadFlags::from_bits_retain(mask).intersects(gone) {
            return true;
        }
        events = events.get(16 + len as usize..).unwrap_or_default();
    }
    false
}
