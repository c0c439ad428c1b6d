//! Entering a network namespace for a moment. A thread can change its network namespace
//! on its own (`setns(CLONE_NEWNET)` is per thread, also in a multi-threaded process);
//! sockets keep the namespace they were created in, so a socket opened here works in
//! the container's namespace after the thread has returned to its own.

use std::fs::File;
use std::io;
use std::os::fd::{AsFd, BorrowedFd};

use rustix::thread::{LinkNameSpaceType, move_into_link_name_space};

/// Runs `f` in the network namespace `netns`, then returns the calling thread to the
/// namespace it was in (an error there is reported, never ignored: the thread would
/// otherwise go on in the container's namespace).
pub fn within<T>(netns: BorrowedFd<'_>, f: impl FnOnce() -> T) -> io::Result<T> {
    let own = File::open("/proc/thread-self/ns/net")?;
    move_into_link_name_space(netns, Some(LinkNameSpaceType::Network))?;
    let out = f();
    move_into_link_name_space(own.as_fd(), Some(LinkNameSpaceType::Network))?;
    Ok(out)
}
