//! Container commands: `run`, `create`, `start`, `stop`, `restart`, `kill`, `rm`, `ps`,
//! `logs`, `inspect`, `wait`, `rename`, and the hidden `__supervise` mode.

pub mod events;
pub mod exec;
pub mod flags;
pub mod inspect;
pub mod lifecycle;
pub mod logs;
pub mod ps;
pub mod run;
pub mod signal;

use std::path::{Path, PathBuf};

use anyhow::Context;
use berth_engine::container::Containers;

pub fn open(root: &Path) -> anyhow::Result<Containers> {
    Containers::open(root).with_context(|| format!("cannot open the state root {}", root.display()))
}

/// The berth binary itself, re-executed as each container's supervisor.
pub fn berth_binary() -> anyhow::Result<PathBuf> {
    std::env::current_exe().context("cannot find the berth binary to start a supervisor")
}

/// `berth __supervise <id> <fd> [--attach]`: not for users; the CLI starts it.
pub fn supervise(root: &Path, id: &str, fd: i32, attach: bool) -> std::process::ExitCode {
    if let Err(e) = berth_engine::runtime::close_inherited_except(fd)
        .and_then(|()| berth_engine::runtime::unblock_signals())
    {
        eprintln!("error: cannot close inherited descriptors: {e}");
        return std::process::ExitCode::from(125);
    }
    let handshake = match berth_engine::runtime::take_inherited_fd(fd) {
        Ok(fd) => fd,
        Err(e) => {
            eprintln!("error: __supervise is started by berth itself: {e}");
            return std::process::ExitCode::from(125);
        }
    };
    let code = berth_engine::container::supervisor::run(root, id, handshake, attach);
    std::process::ExitCode::from(code.clamp(0, 255) as u8)
}
