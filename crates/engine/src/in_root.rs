//! Path resolution confined to a directory: `openat2` with `RESOLVE_IN_ROOT`, retried when
//! the kernel asks.
//!
//! With `RESOLVE_IN_ROOT` (and `RESOLVE_BENEATH`) the kernel returns `EAGAIN` when a rename or
//! a mount anywhere on the host raced with the resolution of a `..` component, because it then
//! cannot prove the walk stayed inside; openat2(2) says to retry. On a host that runs
//! several containers, mounts happen all the time, so every confined open goes through here.

use rustix::fd::{AsFd, OwnedFd};
use rustix::fs::{Mode, OFlags, ResolveFlags};
use rustix::io::Errno;
use rustix::path::Arg;

/// How often a resolution that raced with a mount or rename is tried again before the
/// `EAGAIN` is returned. Each race needs a concurrent mount or rename during one walk, so a
/// long run of them means the host is busy mounting, and the caller gets to say so.
const RETRIES: u32 = 128;

/// `openat2(dirfd, path, flags, mode, resolve)`, retried on `EAGAIN`.
pub fn openat2_retrying<P: Arg + Copy>(
    dirfd: impl AsFd,
    path: P,
    flags: OFlags,
    mode: Mode,
    resolve: ResolveFlags,
) -> rustix::io::Result<OwnedFd> {
    let dirfd = dirfd.as_fd();
    let mut left = RETRIES;
    loop {
        match rustix::fs::openat2(dirfd, path, flags, mode, resolve) {
            Err(Errno::AGAIN) if left > 0 => left -= 1,
            other => return other,
        }
    }
}

/// Opens `path` inside `root` with symlinks, `..` and absolute links all resolved as if
/// `root` were `/`, and magic links (`/proc/*/fd/*`) refused.
pub fn open_in_root<P: Arg + Copy>(
    root: impl AsFd,
    path: P,
    flags: OFlags,
) -> rustix::io::Result<OwnedFd> {
    openat2_retrying(
        root,
        path,
        flags,
        Mode::empty(),
        ResolveFlags::IN_ROOT | ResolveFlags::NO_MAGICLINKS,
    )
}
