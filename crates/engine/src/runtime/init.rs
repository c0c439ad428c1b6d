//! `--init` (docker-init): a tiny PID 1 that runs the command, forwards every catchable
//! signal to it, reaps every zombie of the container, and exits with the command's code
//! (128 + the signal when it was killed), as tini does.

use std::ffi::OsString;
use std::io::{self, Write};
use std::process::Command;

use rustix::process::{WaitOptions, WaitStatus};

use super::sys::{self, SignalSet};

/// Runs `docker-init [--] command args...` and never returns.
pub fn init_main(args: Vec<OsString>) -> ! {
    let mut args = args.into_iter().skip(1).peekable();
    if args.peek().is_some_and(|a| a == "--") {
        args.next();
    }
    let Some(program) = args.next() else {
        fatal(2, "usage: docker-init [--] command [args...]");
    };
    let signals = SignalSet::forwardable();
    if let Err(e) = signals.block() {
        fatal(1, &format!("block signals: {e}"));
    }
    let child = match sys::spawn_unblocked(Command::new(&program).args(args)) {
        Ok(child) => child,
        Err(e) => {
            let code = match e.kind() {
                io::ErrorKind::NotFound => 127,
                io::ErrorKind::PermissionDenied => 126,
                _ => 1,
            };
            fatal(
                code,
                &format!(
                    "exec {} failed: {}",
                    program.to_string_lossy(),
                    super::cgroup::errno_text(&e)
                ),
            );
        }
    };
    let main_pid = child.id() as i32;
    loop {
        let sig = match signals.wait() {
            Ok(sig) => sig,
            Err(e) => fatal(1, &format!("wait for signals: {e}")),
        };
        if sig != libc::SIGCHLD {
            let _ = sys::kill(main_pid, sig);
            continue;
        }
        if let Some(code) = reap(main_pid) {
            sys::exit_now(code);
        }
    }
}

/// Reaps every exited child; returns the main child's code once it is among them.
fn reap(main_pid: i32) -> Option<i32> {
    let mut main_code = None;
    loop {
        match rustix::process::wait(WaitOptions::NOHANG) {
            Ok(Some((pid, status))) => {
                if pid.as_raw_nonzero().get() == main_pid {
                    main_code = Some(code_of(status));
                }
            }
            Ok(None) | Err(_) => return main_code,
        }
    }
}

fn code_of(status: WaitStatus) -> i32 {
    match (status.exit_status(), status.terminating_signal()) {
        (Some(code), _) => code,
        (None, Some(sig)) => 128 + sig,
        (None, None) => 1,
    }
}

fn fatal(code: i32, msg: &str) -> ! {
    let _ = writeln!(io::stderr(), "docker-init: {msg}");
    sys::exit_now(code)
}
