//! The low-level runtime, runc's create+start as a library: [`spawn`] clones a container's
//! init from an OCI runtime spec and an overlay rootfs, and returns once it has exec'd.
//! [`init_main`] is the `--init` (docker-init) mode. All `unsafe` is in `sys.rs`.

mod cgroup;
mod cgroup_support;
mod child;
mod console;
mod copy_up;
mod exec;
mod init;
mod plan;
mod seccomp;
mod sys;

use std::cell::Cell;
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::PathBuf;

use oci_spec::runtime::Capability;
use rustix::pipe::PipeFlags;
use rustix::process::{WaitId, WaitIdOptions};

pub(crate) use cgroup::errno_text;
pub use cgroup::{cgroup_is_empty, cgroup_pids, remove_cgroup};
pub use cgroup_support::{Support as CgroupSupport, oom_kills};
pub use console::{
    Console, receive_master, set_size as set_terminal_size, socket_pair as console_socket_pair,
};
pub use exec::{ExecPlan, ExecProcess, exec};
pub use init::init_main;
pub use plan::CAPABILITY_NAMES;
pub use plan::{COPY_UP_OPTION, MOUNT_NS_OPTION};
pub use sys::{close_inherited_except, take_inherited_fd};

/// Everything needed to start a container's init.
pub struct InitPlan {
    /// The process (args, env, cwd, user, capabilities, rlimits, no_new_privileges),
    /// hostname, mounts and the linux section (namespaces, masked and read-only paths,
    /// cgroups path, devices, resources). `/proc`, `/dev` (+ `pts`, `shm`, `mqueue`), `/sys`
    /// and `/sys/fs/cgroup` are mounted as Docker does unless `mounts` has the same
    /// destination, which then replaces the default.
    pub spec: oci_spec::runtime::Spec,
    pub rootfs: Rootfs,
    pub stdio: InitStdio,
    /// Where compiled seccomp programs are kept between starts (see `seccomp.rs`).
    pub seccomp_cache: Option<PathBuf>,
    /// `-t`: the process makes a terminal in the container and sends its master on the
    /// console socket; `stdio` is then not used.
    pub terminal: Option<Console>,
}

pub enum Rootfs {
    /// Mounted inside the container's mount namespace only, so a dead container leaves no
    /// mount on the host.
    Overlay {
        /// Top layer first; empty means one empty layer.
        lowers: Vec<PathBuf>,
        upper: PathBuf,
        work: PathBuf,
        /// An empty directory to mount on.
        target: PathBuf,
        /// overlayfs `volatile`: no sync of the upper filesystem, in particular none when
        /// the container's mount namespace goes away at its exit (that sync flushes the
        /// whole upper filesystem and took 40 ms here). For containers whose upper dir is
        /// thrown away with them (`--rm`).
        volatile: bool,
    },
}

/// The fds that become 0, 1 and 2 of the process.
pub struct InitStdio {
    pub stdin: OwnedFd,
    pub stdout: OwnedFd,
    pub stderr: OwnedFd,
}

/// Why a container's process did not start. [`SpawnError::exit_code`] is what `docker run`
/// exits with for it.
#[derive(Debug, thiserror::Error)]
pub enum SpawnError {
    #[error("exec: {program:?}: executable file not found in $PATH")]
    NotInPath { program: String },
    #[error("exec: {program:?}: stat {program}: no such file or directory")]
    NoSuchFile { program: String },
    #[error("exec: {program:?}: permission denied")]
    PermissionDenied { program: String },
    #[error("invalid runtime spec: {0}")]
    InvalidSpec(String),
    /// A step of the setup failed; the text names the step and the error.
    #[error("{0}")]
    Setup(String),
}

impl SpawnError {
    pub fn exit_code(&self) -> i32 {
        match self {
            SpawnError::NotInPath { .. } | SpawnError::NoSuchFile { .. } => 127,
            SpawnError::PermissionDenied { .. } => 126,
            SpawnError::InvalidSpec(_) | SpawnError::Setup(_) => 125,
        }
    }
}

/// How the process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    Exited(i32),
    Signaled(i32),
}

impl ExitStatus {
    /// The shell's convention, as Docker reports it: the code, or 128 + the signal.
    pub fn code(self) -> i32 {
        match self {
            ExitStatus::Exited(code) => code,
            ExitStatus::Signaled(sig) => 128 + sig,
        }
    }
}

/// Docker's sig-proxy for a foreground `run`: blocks SIGINT, SIGTERM, SIGHUP, SIGQUIT,
/// SIGUSR1 and SIGUSR2 in the calling thread (and in the threads it starts later) and
/// hands each one that arrives to `forward`, on a thread of its own. Call it while the
/// process has no other thread, so that no thread is left to receive them by default.
///
/// Blocking and forwarding are two steps: block before the container starts (a signal
/// that arrives meanwhile stays pending instead of killing the CLI and leaving the
/// container behind), forward once its id is known. Child processes inherit the blocked
/// mask; the supervisor clears it first thing ([`unblock_signals`]).
pub struct SignalProxy(sys::SignalSet);

impl SignalProxy {
    pub fn block() -> io::Result<SignalProxy> {
        let set = sys::SignalSet::of(&[
            libc::SIGINT,
            libc::SIGTERM,
            libc::SIGHUP,
            libc::SIGQUIT,
            libc::SIGUSR1,
            libc::SIGUSR2,
        ]);
        set.block()?;
        Ok(SignalProxy(set))
    }

    pub fn forward(self, forward: impl Fn(i32) + Send + 'static) -> io::Result<()> {
        let set = self.0;
        std::thread::Builder::new()
            .name("signal-proxy".into())
            .spawn(move || {
                while let Ok(sig) = set.wait() {
                    forward(sig);
                }
            })?;
        Ok(())
    }
}

/// SIGWINCH as readable bytes: blocked in the calling thread (call it before the process
/// starts any thread, which would otherwise take the signal and ignore it), then waited
/// for on a thread of its own that writes one byte to the returned pipe per change.
pub fn window_changes() -> io::Result<OwnedFd> {
    let set = sys::SignalSet::of(&[libc::SIGWINCH]);
    set.block()?;
    let (read, write) = rustix::pipe::pipe_with(PipeFlags::CLOEXEC)?;
    std::thread::Builder::new()
        .name("window-size".into())
        .spawn(move || {
            while set.wait().is_ok() {
                if rustix::io::write(&write, &[1]).is_err() {
                    break;
                }
            }
        })?;
    Ok(read)
}

/// Unblocks every signal (a supervisor started by a CLI that blocked some).
pub fn unblock_signals() -> io::Result<()> {
    sys::unblock_all_signals()
}

/// A running container init (until [`Init::wait`] reaps it).
#[derive(Debug)]
pub struct Init {
    pid: i32,
    pidfd: OwnedFd,
    cgroups_path: Option<String>,
}

impl Init {
    /// Its pid in the caller's pid namespace.
    pub fn pid(&self) -> i32 {
        self.pid
    }

    /// Readable (poll) once the process has exited.
    pub fn pidfd(&self) -> BorrowedFd<'_> {
        self.pidfd.as_fd()
    }

    /// The cgroups path it runs in (to give to [`remove_cgroup`] after it ended).
    pub fn cgroups_path(&self) -> Option<&str> {
        self.cgroups_path.as_deref()
    }

    /// Blocks until the process exits and reaps it.
    pub fn wait(&self) -> io::Result<ExitStatus> {
        self.wait_with(WaitIdOptions::EXITED)
    }

    /// Blocks until the process exits and returns its status *without* reaping it: the
    /// zombie keeps its pid, so nothing else can get that pid while the caller still
    /// advertises it (the supervisor, until the exit is recorded); [`Init::wait`] reaps.
    pub fn exit_status(&self) -> io::Result<ExitStatus> {
        self.wait_with(WaitIdOptions::EXITED | WaitIdOptions::NOWAIT)
    }

    fn wait_with(&self, options: WaitIdOptions) -> io::Result<ExitStatus> {
        loop {
            match rustix::process::waitid(WaitId::PidFd(self.pidfd.as_fd()), options) {
                Ok(Some(status)) => {
                    if let Some(code) = status.exit_status() {
                        return Ok(ExitStatus::Exited(code));
                    }
                    if let Some(sig) = status.terminating_signal() {
                        return Ok(ExitStatus::Signaled(sig));
                    }
                }
                Ok(None) => {}
                Err(rustix::io::Errno::INTR) => {}
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Sends signal number `sig` to the process.
    pub fn signal(&self, sig: i32) -> io::Result<()> {
        sys::pidfd_send_signal(self.pidfd.as_fd(), sig)
    }
}

/// Docker's default capability set (`CapEff: 00000000a80425fb` for root).
pub const DEFAULT_CAPABILITIES: [Capability; 14] = [
    Capability::Chown,
    Capability::DacOverride,
    Capability::Fsetid,
    Capability::Fowner,
    Capability::Mknod,
    Capability::NetRaw,
    Capability::Setgid,
    Capability::Setuid,
    Capability::Setfcap,
    Capability::Setpcap,
    Capability::NetBindService,
    Capability::SysChroot,
    Capability::Kill,
    Capability::AuditWrite,
];

/// Reads a child's report pipe to EOF: nothing means the exec happened (the pipe was
/// close-on-exec), a kind byte and a message mean it failed before.
fn read_report(report: &OwnedFd, whose: &str) -> Result<(), SpawnError> {
    let mut bytes = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match rustix::io::read(report, &mut buf) {
            Ok(0) => break,
            Ok(n) => bytes.extend_from_slice(&buf[..n]),
            Err(rustix::io::Errno::INTR) => {}
            Err(e) => return Err(setup_error(&format!("read {whose} report"), e)),
        }
    }
    let Some((&kind, message)) = bytes.split_first() else {
        return Ok(());
    };
    let message = String::from_utf8_lossy(message).into_owned();
    Err(match kind {
        child::KIND_NOT_IN_PATH => SpawnError::NotInPath { program: message },
        child::KIND_NO_SUCH_FILE => SpawnError::NoSuchFile { program: message },
        child::KIND_PERMISSION => SpawnError::PermissionDenied { program: message },
        _ => SpawnError::Setup(message),
    })
}

fn setup_error(what: &str, e: impl Into<io::Error>) -> SpawnError {
    SpawnError::Setup(format!("{what}: {}", cgroup::errno_text(&e.into())))
}

/// Starts the container's init and returns once it has exec'd the program (or failed
/// before). Must be called from a single-threaded process (see `sys::clone_child`).
pub fn spawn(plan: &InitPlan) -> Result<Init, SpawnError> {
    spawn_with(plan, |_| Ok(()))
}

/// `spawn`, with `hook` run once the init exists in its namespaces and cgroup but before
/// it goes on to set up its root and exec: the place to give it its network interfaces
/// (its network namespace is `/proc/<pid>/ns/net`). An error from the hook kills the init.
pub fn spawn_with(
    plan: &InitPlan,
    hook: impl FnOnce(&Init) -> Result<(), String>,
) -> Result<Init, SpawnError> {
    let layout = cgroup::Layout::detect().map_err(|e| setup_error("read cgroup mounts", e))?;
    let prepared = plan::prepare(
        &plan.spec,
        &plan.rootfs,
        &layout,
        plan.seccomp_cache.as_deref(),
    )?;
    let linux = plan.spec.linux().as_ref();
    let cgroups_path = linux
        .and_then(|l| l.cgroups_path().as_ref())
        .map(|p| p.to_string_lossy().into_owned());
    let cgroup = match &cgroups_path {
        Some(path) => Some(
            cgroup::Cgroup::create(&layout, path, linux.and_then(|l| l.resources().as_ref()))
                .map_err(SpawnError::Setup)?,
        ),
        None => None,
    };
    let cleanup_cgroup = || {
        if let Some(c) = &cgroup {
            let _ = remove_cgroup(c.path());
        }
    };

    let pipes = rustix::pipe::pipe_with(PipeFlags::CLOEXEC)
        .and_then(|go| Ok((go, rustix::pipe::pipe_with(PipeFlags::CLOEXEC)?)));
    let ((go_read, go_write), (report_read, report_write)) = match pipes {
        Ok(p) => p,
        Err(e) => {
            cleanup_cgroup();
            return Err(setup_error("pipe", e));
        }
    };
    // The child takes its ends and closes the parent's; the parent the other way round.
    let child_ends = Cell::new(Some((go_read, report_write)));
    let parent_ends = Cell::new(Some((go_write, report_read)));
    let stdio = [
        plan.stdio.stdin.as_fd(),
        plan.stdio.stdout.as_fd(),
        plan.stdio.stderr.as_fd(),
    ];
    if let Some(ns) = &prepared.join_pid {
        // The caller's children from now on (this init, later execs) are born there.
        if let Err(e) = rustix::thread::move_into_link_name_space(ns.as_fd(), None) {
            cleanup_cgroup();
            return Err(setup_error("join the pid namespace", e));
        }
    }
    let cloned = sys::clone_child(prepared.clone_flags, || {
        drop(parent_ends.take());
        match child_ends.take() {
            Some((go, report)) => child::run(&prepared, stdio, plan.terminal.as_ref(), go, report),
            None => 125,
        }
    });
    drop(child_ends.take());
    let (pid, pidfd) = match cloned {
        Ok(c) => c,
        Err(e) => {
            cleanup_cgroup();
            return Err(setup_error("clone3", e));
        }
    };
    let Some((go_write, report_read)) = parent_ends.take() else {
        cleanup_cgroup();
        return Err(SpawnError::Setup("pipe ends lost".into()));
    };
    let init = Init {
        pid,
        pidfd,
        cgroups_path,
    };
    let fail = |e: SpawnError| {
        let _ = init.signal(libc::SIGKILL);
        let _ = init.wait();
        cleanup_cgroup();
        e
    };

    if let Some(c) = &cgroup {
        c.join(pid).map_err(|e| fail(SpawnError::Setup(e)))?;
    }
    hook(&init).map_err(|e| fail(SpawnError::Setup(e)))?;
    rustix::io::write(&go_write, &[1])
        .map_err(|e| fail(setup_error("start the container's init", e)))?;
    drop(go_write);

    if let Err(e) = read_report(&report_read, "the init's") {
        return Err(fail(e));
    }
    Ok(init)
}
