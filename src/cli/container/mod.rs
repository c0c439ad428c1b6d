//! Container commands: `run`, `create`, `start`, `stop`, `restart`, `kill`, `rm`, `ps`,
//! `logs`, `inspect`, `wait`, `rename`, and the hidden `__supervise` mode.

pub mod attach;
pub mod events;
pub mod exec;
pub mod flags;
pub mod inspect;
pub mod lifecycle;
pub mod logs;
pub mod port;
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

/// `berth __supervise <id> <fd> [--attach] [--attach-fd <fd>]`: not for users; the CLI
/// starts it.
pub fn supervise(
    root: &Path,
    id: &str,
    fd: i32,
    attach: bool,
    attach_fd: Option<i32>,
) -> std::process::ExitCode {
    let keep: Vec<i32> = std::iter::once(fd).chain(attach_fd).collect();
    if let Err(e) = berth_engine::runtime::close_inherited_except(&keep)
        .and_then(|()| berth_engine::runtime::unblock_signals())
    {
        eprintln!("error: cannot close inherited descriptors: {e}");
        return std::process::ExitCode::from(125);
    }
    let taken = berth_engine::runtime::take_inherited_fd(fd).and_then(|handshake| {
        let attached = attach_fd
            .map(berth_engine::runtime::take_inherited_fd)
            .transpose()?;
        Ok((handshake, attached))
    });
    let (handshake, attached) = match taken {
        Ok(fds) => fds,
        Err(e) => {
            eprintln!("error: __supervise is started by berth itself: {e}");
            return std::process::ExitCode::from(125);
        }
    };
    let code = berth_engine::container::supervisor::run(root, id, handshake, attach, attached);
    std::process::ExitCode::from(code.clamp(0, 255) as u8)
}
