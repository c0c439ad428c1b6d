//! A container's terminal (`-t`), made as runc makes it: the process opens the pty inside
//! the container's own devpts (so `tty` names `/dev/pts/0` there and the slave belongs to
//! the container's user), sends the master to the parent over a socket (SCM_RIGHTS),
//! becomes a session leader with the slave as its controlling terminal, and uses the
//! slave as 0, 1 and 2. The parent (the supervisor, or the CLI for `exec -t`) keeps the
//! master: it reads the output, writes the input and sets the window size.

use std::mem::MaybeUninit;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use rustix::net::{
    AddressFamily, RecvAncillaryBuffer, RecvAncillaryMessage, RecvFlags, SendAncillaryBuffer,
    SendAncillaryMessage, SendFlags, SocketFlags, SocketType,
};
use rustix::pty::OpenptFlags;
use rustix::termios::Winsize;

/// What the process needs to make its terminal: the socket the master goes back on and
/// the window size to start with (Docker's `ConsoleSize`, rows then columns; 0 = unset).
#[derive(Debug)]
pub struct Console {
    pub socket: OwnedFd,
    pub rows: u16,
    pub cols: u16,
}

/// A connected pair: the [`Console`] end for the process, the other for [`receive_master`].
pub fn socket_pair() -> std::io::Result<(OwnedFd, OwnedFd)> {
    Ok(rustix::net::socketpair(
        AddressFamily::UNIX,
        SocketType::STREAM,
        SocketFlags::CLOEXEC,
        None,
    )?)
}

/// In the process, inside the container's root: opens the pty, hands the master over,
/// and returns the slave, already the controlling terminal of a new session. Allocates
/// nothing (it runs between clone and exec).
pub(super) fn open_in_container(console: &Console, uid: u32) -> rustix::io::Result<OwnedFd> {
    let master =
        rustix::pty::openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY | OpenptFlags::CLOEXEC)?;
    rustix::pty::unlockpt(&master)?;
    let slave = rustix::pty::ioctl_tiocgptpeer(&master, OpenptFlags::RDWR | OpenptFlags::NOCTTY)?;
    if console.rows > 0 && console.cols > 0 {
        set_size(master.as_fd(), console.rows, console.cols)?;
    }
    // The container's user owns its terminal (group `tty` stays, as devpts made it).
    rustix::fs::fchown(&slave, Some(rustix::fs::Uid::from_raw(uid)), None)?;
    send_fd(console.socket.as_fd(), master.as_fd())?;
    drop(master);
    rustix::process::setsid()?;
    rustix::process::ioctl_tiocsctty(&slave)?;
    Ok(slave)
}

fn send_fd(socket: BorrowedFd<'_>, fd: BorrowedFd<'_>) -> rustix::io::Result<()> {
    let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(1))];
    let mut control = SendAncillaryBuffer::new(&mut space);
    let fds = [fd];
    control.push(SendAncillaryMessage::ScmRights(&fds));
    let byte = [0u8];
    rustix::net::sendmsg(
        socket,
        &[std::io::IoSlice::new(&byte)],
        &mut control,
        SendFlags::empty(),
    )?;
    Ok(())
}

/// In the parent, once the process has exec'd (or failed): the master it sent, if any.
pub fn receive_master(socket: BorrowedFd<'_>) -> std::io::Result<Option<OwnedFd>> {
    let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(1))];
    let mut control = RecvAncillaryBuffer::new(&mut space);
    let mut byte = [0u8];
    rustix::net::recvmsg(
        socket,
        &mut [std::io::IoSliceMut::new(&mut byte)],
        &mut control,
        RecvFlags::DONTWAIT | RecvFlags::CMSG_CLOEXEC,
    )
    .map(|_| ())
    .or_else(|e| {
        if e == rustix::io::Errno::AGAIN {
            Ok(())
        } else {
            Err(e)
        }
    })?;
    for message in control.drain() {
        if let RecvAncillaryMessage::ScmRights(mut fds) = message {
            return Ok(fds.next());
        }
    }
    Ok(None)
}

/// Sets a terminal's window size (the kernel tells the foreground process group with
/// SIGWINCH).
pub fn set_size(fd: BorrowedFd<'_>, rows: u16, cols: u16) -> rustix::io::Result<()> {
    rustix::termios::tcsetwinsize(
        fd,
        Winsize {
            ws_row: rows,
            ws_col: cols,
            ws_xpixel: 0,
            ws_ypixel: 0,
        },
    )
}
