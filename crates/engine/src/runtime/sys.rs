//! Every `unsafe` block of the runtime: the raw syscalls rustix does not wrap (clone3,
//! close_range, mount_setattr, pidfd_send_signal, execve over prepared arrays, signal
//! dispositions and masks, seccomp filter loading) as small named functions with safe signatures.

use std::ffi::{CStr, c_char};
use std::io;
use std::mem::MaybeUninit;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::ptr;

/// `struct clone_args` of `<linux/sched.h>` (version 2, with `cgroup`).
#[repr(C)]
#[derive(Default)]
struct CloneArgs {
    flags: u64,
    pidfd: u64,
    child_tid: u64,
    parent_tid: u64,
    exit_signal: u64,
    stack: u64,
    stack_size: u64,
    tls: u64,
    set_tid: u64,
    set_tid_size: u64,
    cgroup: u64,
}

pub const CLONE_PIDFD: u64 = 0x1000;

/// Forks with `clone3(flags | CLONE_PIDFD)` (no stack: fork semantics) and runs `child` in
/// the new process, which never returns into the caller: it exits with 125 if `child`
/// panics. Returns the child's pid and pidfd in the parent.
///
/// The caller must be single-threaded in production (the supervisor, before it starts any
/// thread): the child inherits only the calling thread, and locks other threads held stay
/// locked in it. `child` therefore avoids allocating where it can (everything is prepared
/// before the fork), and the test processes, which are multi-threaded, only risk a lock
/// that another thread held in the same malloc arena at that instant.
pub fn clone_child(flags: u64, child: impl FnOnce() -> i32) -> io::Result<(i32, OwnedFd)> {
    let mut pidfd: RawFd = -1;
    let args = CloneArgs {
        flags: flags | CLONE_PIDFD,
        pidfd: &raw mut pidfd as u64,
        exit_signal: libc::SIGCHLD as u64,
        ..CloneArgs::default()
    };
    // SAFETY: `args` is a valid, fully initialized `clone_args` of the size passed, and
    // `pidfd` outlives the call. Without CLONE_VM and with no stack this is a fork: the
    // child gets a copy of the address space and continues here with return value 0.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_clone3,
            &raw const args,
            std::mem::size_of::<CloneArgs>(),
        )
    };
    if ret < 0 {
        return Err(io::Error::last_os_error());
    }
    if ret == 0 {
        let code = std::panic::catch_unwind(std::panic::AssertUnwindSafe(child)).unwrap_or(125);
        exit_now(code);
    }
    // SAFETY: with CLONE_PIDFD the kernel stored a new pidfd that nothing else owns.
    let pidfd = unsafe { OwnedFd::from_raw_fd(pidfd) };
    Ok((ret as i32, pidfd))
}

/// Ends the process at once: no atexit handlers, no flushing of buffers that belong to
/// the parent's copy of the address space.
pub fn exit_now(code: i32) -> ! {
    // SAFETY: `_exit` has no preconditions.
    unsafe { libc::_exit(code) }
}

/// Marks every fd from `first` upwards close-on-exec (`close_range(first, ~0,
/// CLOSE_RANGE_CLOEXEC)`), so only the fds below it survive the exec.
pub fn cloexec_from(first: u32) -> io::Result<()> {
    // SAFETY: close_range takes plain integers; CLOSE_RANGE_CLOEXEC closes nothing.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_close_range,
            first,
            u32::MAX,
            libc::CLOSE_RANGE_CLOEXEC,
        )
    };
    if ret < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// `struct mount_attr` of `<linux/mount.h>`.
#[repr(C)]
struct MountAttr {
    attr_set: u64,
    attr_clr: u64,
    propagation: u64,
    userns_fd: u64,
}

/// `mount_setattr(fd, "", AT_EMPTY_PATH [| AT_RECURSIVE], {set, clear})` on a mount (an
/// `open_tree` or `fsmount` fd, or an `O_PATH` fd of a mount root).
pub fn mount_setattr(fd: BorrowedFd<'_>, recursive: bool, set: u64, clear: u64) -> io::Result<()> {
    let attr = MountAttr {
        attr_set: set,
        attr_clr: clear,
        propagation: 0,
        userns_fd: 0,
    };
    let mut flags = libc::AT_EMPTY_PATH as u32;
    if recursive {
        flags |= libc::AT_RECURSIVE as u32;
    }
    // SAFETY: the path is a valid empty C string, `attr` is a valid `mount_attr` of the
    // size passed, and both outlive the call.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_mount_setattr,
            fd.as_raw_fd(),
            c"".as_ptr(),
            flags,
            &raw const attr,
            std::mem::size_of::<MountAttr>(),
        )
    };
    if ret < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Sends `sig` to the process behind `pidfd` (any signal number, real-time ones too).
pub fn pidfd_send_signal(pidfd: BorrowedFd<'_>, sig: i32) -> io::Result<()> {
    // SAFETY: a null siginfo is allowed and means "as kill(2) would send it".
    let ret = unsafe {
        libc::syscall(
            libc::SYS_pidfd_send_signal,
            pidfd.as_raw_fd(),
            sig,
            ptr::null::<libc::siginfo_t>(),
            0,
        )
    };
    if ret < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// `kill(pid, sig)` with any signal number.
pub fn kill(pid: i32, sig: i32) -> io::Result<()> {
    // SAFETY: kill takes plain integers.
    if unsafe { libc::kill(pid, sig) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Sets every signal's disposition back to the default and unblocks all signals, so the
/// container's process starts clean whatever the supervisor did (Rust's std ignores
/// SIGPIPE, and `SIG_IGN` survives exec).
pub fn reset_signals() -> io::Result<()> {
    for sig in 1..=libc::SIGRTMAX() {
        if sig == libc::SIGKILL || sig == libc::SIGSTOP {
            continue;
        }
        // SAFETY: SIG_DFL is always a valid disposition; signals the C library reserves
        // fail with EINVAL, which is ignored.
        unsafe { libc::signal(sig, libc::SIG_DFL) };
    }
    set_signal_mask(&empty_sigset())
}

/// Clears the signal mask, leaving dispositions alone.
pub fn unblock_all_signals() -> io::Result<()> {
    set_signal_mask(&empty_sigset())
}

fn empty_sigset() -> libc::sigset_t {
    let mut set = MaybeUninit::<libc::sigset_t>::uninit();
    // SAFETY: sigemptyset initializes the set it is given.
    unsafe {
        libc::sigemptyset(set.as_mut_ptr());
        set.assume_init()
    }
}

fn set_signal_mask(set: &libc::sigset_t) -> io::Result<()> {
    // SAFETY: `set` is an initialized sigset_t; the old mask is not asked for.
    let ret = unsafe { libc::sigprocmask(libc::SIG_SETMASK, set, ptr::null_mut()) };
    if ret < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// The signals the init forwards: every catchable one except those the kernel sends for a
/// fault of the init itself, and the terminal stop signals (as tini).
pub struct SignalSet(libc::sigset_t);

impl SignalSet {
    /// The set of exactly `signals`.
    pub fn of(signals: &[i32]) -> SignalSet {
        let mut set = MaybeUninit::<libc::sigset_t>::uninit();
        // SAFETY: sigemptyset initializes the set; sigaddset takes valid signal numbers
        // (an invalid one only makes it return -1).
        let set = unsafe {
            libc::sigemptyset(set.as_mut_ptr());
            for &sig in signals {
                libc::sigaddset(set.as_mut_ptr(), sig);
            }
            set.assume_init()
        };
        SignalSet(set)
    }

    pub fn forwardable() -> SignalSet {
        let mut set = MaybeUninit::<libc::sigset_t>::uninit();
        // SAFETY: sigfillset initializes the set; sigdelset takes valid signal numbers.
        let set = unsafe {
            libc::sigfillset(set.as_mut_ptr());
            for sig in [
                libc::SIGFPE,
                libc::SIGILL,
                libc::SIGSEGV,
                libc::SIGBUS,
                libc::SIGABRT,
                libc::SIGTRAP,
                libc::SIGSYS,
                libc::SIGTTIN,
                libc::SIGTTOU,
            ] {
                libc::sigdelset(set.as_mut_ptr(), sig);
            }
            set.assume_init()
        };
        SignalSet(set)
    }

    /// Blocks the set, so its signals wait for [`SignalSet::wait`].
    pub fn block(&self) -> io::Result<()> {
        // SAFETY: `self.0` is an initialized sigset_t.
        let ret = unsafe { libc::sigprocmask(libc::SIG_BLOCK, &self.0, ptr::null_mut()) };
        if ret < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// Waits for one signal of the (blocked) set and returns its number.
    pub fn wait(&self) -> io::Result<i32> {
        loop {
            // SAFETY: `self.0` is an initialized sigset_t; the siginfo is not asked for.
            let sig = unsafe { libc::sigwaitinfo(&self.0, ptr::null_mut()) };
            if sig >= 0 {
                return Ok(sig);
            }
            let err = io::Error::last_os_error();
            if err.kind() != io::ErrorKind::Interrupted {
                return Err(err);
            }
        }
    }
}

/// Makes `fds` the process's 0, 1 and 2 (without close-on-exec), whatever numbers they
/// have now, even if they are among 0, 1 and 2 themselves.
pub fn install_stdio(fds: [BorrowedFd<'_>; 3]) -> io::Result<()> {
    let mut high = Vec::with_capacity(3);
    for fd in fds {
        high.push(rustix::io::fcntl_dupfd_cloexec(fd, 3)?);
    }
    for (target, fd) in high.iter().enumerate() {
        // SAFETY: dup3 onto 0, 1 or 2 replaces those descriptors, which this process is
        // about to hand to the container's program; `fd` is open and distinct from target.
        if unsafe { libc::dup3(fd.as_raw_fd(), target as RawFd, 0) } < 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// `execve(path, argv, envp)`; returns only on failure. `argv` and `envp` are
/// null-terminated arrays of pointers into C strings that the caller keeps alive.
pub fn execve(path: &CStr, argv: &[*const c_char], envp: &[*const c_char]) -> io::Error {
    if argv.last().is_none_or(|p| !p.is_null()) || envp.last().is_none_or(|p| !p.is_null()) {
        return io::Error::from_raw_os_error(libc::EINVAL);
    }
    // SAFETY: both arrays are null-terminated (checked above) and point to C strings that
    // the caller owns for the duration of the call.
    unsafe { libc::execve(path.as_ptr(), argv.as_ptr(), envp.as_ptr()) };
    io::Error::last_os_error()
}

/// Brings the loopback interface of the current network namespace up (`SIOCSIFFLAGS`).
pub fn loopback_up() -> io::Result<()> {
    let sock = rustix::net::socket(
        rustix::net::AddressFamily::INET,
        rustix::net::SocketType::DGRAM,
        None,
    )?;
    // SAFETY: ifreq is plain old data; all-zero is a valid value.
    let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
    for (dst, src) in req.ifr_name.iter_mut().zip(b"lo\0") {
        *dst = *src as c_char;
    }
    // SAFETY: SIOCGIFFLAGS reads into a valid ifreq that outlives the call.
    if unsafe { libc::ioctl(sock.as_fd().as_raw_fd(), libc::SIOCGIFFLAGS, &raw mut req) } < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: after SIOCGIFFLAGS the union holds the flags.
    unsafe { req.ifr_ifru.ifru_flags |= (libc::IFF_UP | libc::IFF_RUNNING) as i16 };
    // SAFETY: SIOCSIFFLAGS reads a valid ifreq that outlives the call.
    if unsafe { libc::ioctl(sock.as_fd().as_raw_fd(), libc::SIOCSIFFLAGS, &raw const req) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Moves the process into a new cgroup namespace rooted at its current cgroups.
pub fn unshare_cgroup_namespace() -> io::Result<()> {
    // SAFETY: rustix marks unshare unsafe because some flags (CLONE_FILES, CLONE_FS) change
    // state other threads share; CLONE_NEWCGROUP affects only the namespace of this
    // process's future cgroup views.
    unsafe { rustix::thread::unshare_unsafe(rustix::thread::UnshareFlags::NEWCGROUP) }?;
    Ok(())
}

/// Spawns `cmd` with an empty signal mask (std's posix_spawn path passes the caller's mask
/// on, and the init blocks every signal it forwards).
pub fn spawn_unblocked(cmd: &mut std::process::Command) -> io::Result<std::process::Child> {
    use std::os::unix::process::CommandExt;
    // SAFETY: the hook runs between fork and exec and calls only sigemptyset and
    // sigprocmask, which are async-signal-safe and allocate nothing.
    unsafe {
        cmd.pre_exec(|| set_signal_mask(&empty_sigset()));
    }
    cmd.spawn()
}

/// Takes ownership of a descriptor a parent passed down by number (the supervisor's
/// handshake pipe). Checks first that `raw` is open, so a wrong number is an error, not
/// a descriptor that some other part of the process owns.
pub fn take_inherited_fd(raw: RawFd) -> io::Result<OwnedFd> {
    if raw < 3 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("fd {raw} is not an inherited pipe"),
        ));
    }
    // SAFETY: fcntl(F_GETFD) only queries the descriptor table; any number is allowed.
    let flags = unsafe { libc::fcntl(raw, libc::F_GETFD) };
    if flags < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `raw` is open (checked above) and was inherited for us alone: nothing else in
    // this process knows its number, so taking ownership does not alias another owner.
    let fd = unsafe { OwnedFd::from_raw_fd(raw) };
    rustix::io::fcntl_setfd(&fd, rustix::io::FdFlags::CLOEXEC)?;
    Ok(fd)
}

/// Closes every descriptor from 3 up except `keep`: what a supervisor inherited from
/// whoever started the CLI (a jobserver pipe, a test runner's fds) must not stay open for
/// the container's whole life. Call it first thing, before anything in this process has
/// opened a descriptor of its own.
pub fn close_inherited_except(keep: &[RawFd]) -> io::Result<()> {
    let mut keep: Vec<u32> = keep
        .iter()
        .map(|&fd| u32::try_from(fd).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput)))
        .collect::<Result<_, _>>()?;
    keep.sort_unstable();
    // The gaps between the kept descriptors, from 3 up.
    let mut ranges = Vec::new();
    let mut first = 3u32;
    for &k in &keep {
        if k >= first {
            if k > first {
                ranges.push((first, k - 1));
            }
            first = k.saturating_add(1);
        }
    }
    ranges.push((first, u32::MAX));
    for (first, last) in ranges {
        // SAFETY: close_range takes plain integers; at this point no object of this process
        // owns a descriptor in these ranges (the caller's contract), so none is closed
        // behind an owner's back.
        let ret = unsafe { libc::syscall(libc::SYS_close_range, first, last, 0) };
        if ret < 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// Installs a seccomp BPF program on the calling thread (`SECCOMP_SET_MODE_FILTER`). The
/// caller has `no_new_privs` set or CAP_SYS_ADMIN.
pub fn load_seccomp_filter(program: &[libc::sock_filter], flags: u32) -> io::Result<()> {
    let len =
        u16::try_from(program.len()).map_err(|_| io::Error::from_raw_os_error(libc::E2BIG))?;
    let prog = libc::sock_fprog {
        len,
        filter: program.as_ptr().cast_mut(),
    };
    // SAFETY: `prog` points at `len` valid instructions that outlive the call; the kernel
    // copies the program and does not keep the pointer.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_seccomp,
            libc::SECCOMP_SET_MODE_FILTER,
            flags,
            &prog as *const libc::sock_fprog,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}
