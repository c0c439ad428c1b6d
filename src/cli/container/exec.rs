//! `berth exec`: run a command in a running container (`-d`, `-i`, `-e`, `--env-file`,
//! `-u`, `-w`, `--privileged`), exiting with its code.

use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};

use berth_engine::container::exec::ExecRequest;
use berth_engine::runtime::InitStdio;
use clap::Args;

use super::attach;
use crate::cli::output::Exit;

#[derive(Args, Debug)]
pub struct ExecArgs {
    /// Detached mode: run command in the background
    #[arg(short, long)]
    detach: bool,
    /// Keep STDIN open even if not attached
    #[arg(short, long)]
    interactive: bool,
    /// Allocate a pseudo-TTY
    #[arg(short, long)]
    tty: bool,
    /// Set environment variables
    #[arg(short, long = "env")]
    env: Vec<String>,
    /// Read in a file of environment variables
    #[arg(long = "env-file")]
    env_files: Vec<PathBuf>,
    /// Username or UID (format: "<name|uid>[:<group|gid>]")
    #[arg(short, long)]
    user: Option<String>,
    /// Working directory inside the container
    #[arg(short, long)]
    workdir: Option<String>,
    /// Give extended privileges to the command
    #[arg(long)]
    privileged: bool,
    /// Override the key sequence for detaching a container
    /// Override the key sequence for detaching a container
    #[arg(long = "detach-keys")]
    detach_keys: Option<String>,
    container: String,
    /// The command and its arguments
    #[arg(required = true, trailing_var_arg = true, allow_hyphen_values = true)]
    command: Vec<String>,
}

fn dup(fd: impl AsFd) -> std::io::Result<OwnedFd> {
    Ok(rustix::io::fcntl_dupfd_cloexec(fd, 3)?)
}

fn null() -> std::io::Result<OwnedFd> {
    Ok(std::fs::File::options()
        .read(true)
        .write(true)
        .open("/dev/null")?
        .into())
}

pub fn run(root: &Path, args: &ExecArgs) -> anyhow::Result<()> {
    if args.tty && args.detach {
        return Err(Exit::message(
            1,
            "exec -d -t is not supported by berth yet (a detached exec gets no terminal)".into(),
        )
        .into());
    }
    let detach_keys = attach::prepare(args.tty, args.interactive, args.detach_keys.as_deref(), 1)?;
    let mut env = Vec::new();
    for file in &args.env_files {
        env.extend(super::flags::read_env_file(file)?);
    }
    for e in &args.env {
        match e.split_once('=') {
            Some(_) => env.push(e.clone()),
            None => {
                if let Ok(v) = std::env::var(e) {
                    env.push(format!("{e}={v}"));
                }
            }
        }
    }
    let request = ExecRequest {
        cmd: args.command.clone(),
        env,
        user: args.user.clone(),
        workdir: args.workdir.clone(),
        privileged: args.privileged,
        detach: args.detach,
        health_probe: false,
    };
    let stdio = (|| -> std::io::Result<InitStdio> {
        Ok(if args.detach {
            InitStdio {
                stdin: null()?,
                stdout: null()?,
                stderr: null()?,
            }
        } else {
            InitStdio {
                stdin: if args.interactive {
                    dup(std::io::stdin())?
                } else {
                    null()?
                },
                stdout: dup(std::io::stdout())?,
                stderr: dup(std::io::stderr())?,
            }
        })
    })()
    .map_err(|e| Exit::message(1, format!("cannot set up the exec's stdio: {e}")))?;
    let containers = super::open(root)?;
    let id = containers
        .lookup(&args.container)
        .map_err(|e| Exit::error(1, &e))?;
    let window = attach::watch_window(args.tty)
        .map_err(|e| Exit::message(1, format!("cannot watch the window size: {e}")))?;
    let (terminal, console_end) = if args.tty {
        let (ours, theirs) = berth_engine::runtime::console_socket_pair()
            .map_err(|e| Exit::message(1, format!("cannot make a terminal: {e}")))?;
        let (rows, cols) = attach::window_size().unwrap_or((0, 0));
        let console = berth_engine::runtime::Console {
            socket: theirs,
            rows,
            cols,
        };
        (Some(console), Some(ours))
    } else {
        (None, None)
    };
    let exec = containers
        .exec(&id, &request, stdio, terminal)
        .map_err(|e| Exit::message(e.exit_code, e.message))?;
    if args.detach {
        return Ok(());
    }
    if let Some(end) = console_end {
        let master = berth_engine::runtime::receive_master(end.as_fd())
            .ok()
            .flatten()
            .ok_or_else(|| {
                Exit::message(
                    126,
                    "the exec'd process did not hand over its terminal".into(),
                )
            })?;
        let outcome = attach::relay(
            attach::Peer::Terminal(master),
            attach::Options {
                stdin: args.interactive,
                tty: true,
                detach_keys: Some(detach_keys),
                window,
            },
        )?;
        // Detached: the process goes on (its terminal closes with this CLI, as the
        // master is ours).
        if outcome == attach::Outcome::Detached {
            return Ok(());
        }
    }
    let code = exec
        .process
        .wait()
        .map_err(|e| Exit::message(1, format!("cannot wait for the exec'd process: {e}")))?;
    containers.exec_died(&exec, code);
    if code == 0 {
        Ok(())
    } else {
        Err(Exit::silent(code).into())
    }
}
