//! `exec`: a new process in a running container, as runc's `exec`. The caller (the CLI)
//! forks a helper that joins the container's cgroup and, through a pidfd of its init, all
//! its namespaces at once (`setns`; the mount namespace makes the container's root the
//! helper's root); the helper forks the process, which is then inside the container's
//! pid namespace, takes the container's credentials, capabilities and limits, enters its
//! working directory inside the root, closes every fd but 0-2 and execs. The helper waits
//! for it and exits with its code, so the caller waits for the helper. Failures before
//! the exec come back over a close-on-exec pipe, as for `spawn`.

use std::cell::Cell;
use std::ffi::CString;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;

use rustix::fs::{Mode, OFlags};
use rustix::pipe::PipeFlags;
use rustix::process::{WaitId, WaitIdOptions};
use rustix::thread::ThreadNameSpaceType;

use super::child::{self, Context, Failure};
use super::plan::{self, ProcessPlan};
use super::{InitStdio, SpawnError, setup_error, sys};

/// What to run and where.
pub struct ExecPlan {
    /// args, env, cwd, user, capabilities, rlimits, no_new_privileges.
    pub process: oci_spec::runtime::Process,
    /// A pidfd of the container's init, whose namespaces are joined (opened by the caller,
    /// which checks afterwards that the pid is still the container's).
    pub init: OwnedFd,
    pub cgroups_path: Option<String>,
    pub stdio: InitStdio,
    /// `exec -d`: the helper leaves the caller's session.
    pub detach: bool,
    /// The container's seccomp section (an exec gets the container's filter, also with
    /// `--privileged`, as Docker's).
    pub seccomp: Option<oci_spec::runtime::LinuxSeccomp>,
    pub seccomp_cache: Option<std::path::PathBuf>,
    /// `exec -t`: the process makes a terminal in the container (see `InitPlan::terminal`).
    pub terminal: Option<super::Console>,
}

/// The helper of a started exec; its exit is the process's.
#[derive(Debug)]
pub struct ExecProcess {
    pid: i32,
    pidfd: OwnedFd,
}

impl ExecProcess {
    pub fn pid(&self) -> i32 {
        self.pid
    }

    pub fn pidfd(&self) -> BorrowedFd<'_> {
        self.pidfd.as_fd()
    }

    /// Waits for the process and returns its exit code (128 + signal when killed).
    pub fn wait(&self) -> std::io::Result<i32> {
        loop {
            match rustix::process::waitid(WaitId::PidFd(self.pidfd.as_fd()), WaitIdOptions::EXITED)
            {
                Ok(Some(status)) => {
                    if let Some(code) = status.exit_status() {
                        return Ok(code);
                    }
                    if let Some(sig) = status.terminating_signal() {
                        return Ok(128 + sig);
                    }
                }
                Ok(None) | Err(rustix::io::Errno::INTR) => {}
                Err(e) => return Err(e.into()),
            }
        }
    }
}

/// Starts the process; returns once it has exec'd (or failed before). Call it from a
/// single-threaded process (the helper is forked).
pub fn exec(plan: &ExecPlan) -> Result<ExecProcess, SpawnError> {
    let process = plan::prepare_process(
        &plan.process,
        plan.seccomp.as_ref(),
        plan.seccomp_cache.as_deref(),
    )?;
    let target = plan.init.as_fd();
    let procs: Vec<CString> = match &plan.cgroups_path {
        Some(path) => super::cgroup::procs_files(path)
            .map_err(|e| setup_error("find the container's cgroup", e))?
            .iter()
            .map(|p| CString::new(p.as_os_str().as_bytes()).unwrap_or_default())
            .collect(),
        None => Vec::new(),
    };
    let (report_read, report_write) =
        rustix::pipe::pipe_with(PipeFlags::CLOEXEC).map_err(|e| setup_error("pipe", e))?;
    let stdio = [
        plan.stdio.stdin.as_fd(),
        plan.stdio.stdout.as_fd(),
        plan.stdio.stderr.as_fd(),
    ];
    // The helper takes the write end so that it can close it once the process has it.
    let report_end = Cell::new(Some(report_write));
    let helper = sys::clone_child(0, || {
        let Some(report) = report_end.take() else {
            return 125;
        };
        match join_and_fork(
            &process,
            target,
            &procs,
            stdio,
            plan.terminal.as_ref(),
            report,
            plan.detach,
        ) {
            Ok(code) => code,
            Err((f, report)) => {
                child::send_failure(&report, &f);
                125
            }
        }
    });
    drop(report_end.take());
    let helper = helper.map_err(|e| setup_error("fork", e))?;
    let (pid, pidfd) = helper;
    let started = ExecProcess { pid, pidfd };
    if let Err(e) = super::read_report(&report_read, "the exec's") {
        let _ = sys::pidfd_send_signal(started.pidfd(), libc::SIGKILL);
        let _ = started.wait();
        return Err(e);
    }
    Ok(started)
}

/// In the helper: cgroup, namespaces, then the process; returns the process's exit code.
fn join_and_fork(
    process: &ProcessPlan,
    target: BorrowedFd<'_>,
    procs: &[CString],
    stdio: [BorrowedFd<'_>; 3],
    console: Option<&super::Console>,
    report: OwnedFd,
    detach: bool,
) -> Result<i32, (Failure, OwnedFd)> {
    match join(target, procs, detach) {
        Ok(()) => {}
        Err(f) => return Err((f, report)),
    }
    // Detached, the helper outlives the caller: it must not hold the caller's stdio (a
    // pipe the caller's reader waits on would never reach EOF).
    if detach && let Err(e) = sys::install_stdio(stdio) {
        let message = format!("set up stdio: {}", super::errno_text(&e));
        return Err((
            Failure {
                kind: child::KIND_SETUP,
                message,
            },
            report,
        ));
    }
    let forked = sys::clone_child(0, || match start_process(process, stdio, console) {
        Ok(never) => match never {},
        Err(f) => {
            child::send_failure(&report, &f);
            1
        }
    });
    let pidfd = match forked {
        Ok((_, pidfd)) => pidfd,
        Err(e) => {
            return Err((
                Failure {
                    kind: child::KIND_SETUP,
                    message: format!("fork into the container: {}", super::errno_text(&e)),
                },
                report,
            ));
        }
    };
    // The process holds the report pipe until its exec; the helper lets go of it.
    drop(report);
    let waiter = ExecProcess { pid: 0, pidfd };
    Ok(waiter.wait().unwrap_or(125))
}

/// The helper joins the container's cgroup and namespaces.
fn join(target: BorrowedFd<'_>, procs: &[CString], detach: bool) -> Result<(), Failure> {
    // Not dumpable while it runs the host's binary inside the container's namespaces.
    rustix::process::set_dumpable_behavior(rustix::process::DumpableBehavior::NotDumpable)
        .what(|| "set not dumpable".into())?;
    if detach {
        let _ = rustix::process::setsid();
    }
    for file in procs {
        let fd = rustix::fs::open(
            file.as_c_str(),
            OFlags::WRONLY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .what(|| format!("join cgroup {}", file.to_string_lossy()))?;
        rustix::io::write(&fd, b"0").what(|| format!("join cgroup {}", file.to_string_lossy()))?;
    }
    let all = ThreadNameSpaceType::MOUNT
        | ThreadNameSpaceType::HOST_NAME_AND_NIS_DOMAIN_NAME
        | ThreadNameSpaceType::INTER_PROCESS_COMMUNICATION
        | ThreadNameSpaceType::NETWORK
        | ThreadNameSpaceType::CONTROL_GROUP
        | ThreadNameSpaceType::from_bits_retain(super::plan::CLONE_NEWPID as u32);
    rustix::thread::move_into_thread_name_spaces(target, all)
        .what(|| "join the container's namespaces".into())
}

/// In the process, inside the container: limits, cwd (resolved in the root), stdio,
/// credentials, only 0-2 left open, exec.
fn start_process(
    p: &ProcessPlan,
    stdio: [BorrowedFd<'_>; 3],
    console: Option<&super::Console>,
) -> Result<std::convert::Infallible, Failure> {
    rustix::process::set_parent_process_death_signal(None)
        .what(|| "clear the death signal".into())?;
    sys::reset_signals().what(|| "reset signals".into())?;
    for (resource, limit) in &p.rlimits {
        rustix::process::setrlimit(*resource, *limit).what(|| format!("setrlimit {resource:?}"))?;
    }
    let root = rustix::fs::open(
        c"/",
        OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .what(|| "open the container's root".into())?;
    let cwd = crate::in_root::open_in_root(
        &root,
        p.cwd.as_c_str(),
        OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
    )
    .what(|| format!("chdir to {}", p.cwd.to_string_lossy()))?;
    rustix::process::fchdir(&cwd).what(|| format!("chdir to {}", p.cwd.to_string_lossy()))?;
    drop(cwd);
    drop(root);
    child::install_io(stdio, console, p.uid)?;
    child::lock_down(p)?;
    sys::cloexec_from(3).what(|| "close_range".into())?;
    Err(child::exec(p))
}
