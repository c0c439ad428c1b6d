//! `start`, `stop`, `restart`, `kill`, `rm`, `wait`, `rename`: each takes names or ids,
//! prints each as given when done (Docker's output), and goes on past a failing one,
//! reporting it and exiting 1 at the end.

use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use berth_engine::container::{ContainerError, Containers};
use clap::Args;

use super::signal;
use crate::cli::output::{self, Exit, Reported};

#[derive(Args, Debug)]
pub struct StartArgs {
    /// Attach STDOUT/STDERR and forward signals
    #[arg(short, long)]
    attach: bool,
    /// Attach container's STDIN
    #[arg(short, long)]
    interactive: bool,
    /// Override the key sequence for detaching a container
    #[arg(long)]
    detach_keys: Option<String>,
    #[arg(required = true)]
    containers: Vec<String>,
}

#[derive(Args, Debug)]
pub struct StopArgs {
    /// Signal to send to the container
    #[arg(short, long)]
    signal: Option<String>,
    /// Seconds to wait before killing the container
    #[arg(short = 't', long = "time", visible_alias = "timeout")]
    time: Option<i64>,
    #[arg(required = true)]
    containers: Vec<String>,
}

#[derive(Args, Debug)]
pub struct KillArgs {
    /// Signal to send to the container
    #[arg(short, long, default_value = "KILL")]
    signal: String,
    #[arg(required = true)]
    containers: Vec<String>,
}

#[derive(Args, Debug)]
pub struct RmArgs {
    /// Force the removal of a running container (uses SIGKILL)
    #[arg(short, long)]
    force: bool,
    /// Remove anonymous volumes associated with the container
    #[arg(short, long)]
    volumes: bool,
    /// Remove the specified link
    #[arg(short, long)]
    link: bool,
    #[arg(required = true)]
    containers: Vec<String>,
}

#[derive(Args, Debug)]
pub struct WaitArgs {
    #[arg(required = true)]
    containers: Vec<String>,
}

#[derive(Args, Debug)]
pub struct RenameArgs {
    container: String,
    new_name: String,
}

/// Runs `action` for each container, printing each name on success and each error on
/// its own line; fails (exit 1) if any failed.
fn each(
    root: &Path,
    names: &[String],
    mut action: impl FnMut(&Containers, &str, &str) -> anyhow::Result<Option<String>>,
) -> anyhow::Result<()> {
    let containers = super::open(root)?;
    let mut failed = false;
    for name in names {
        let result = containers
            .lookup(name)
            .map_err(anyhow::Error::from)
            .and_then(|id| action(&containers, &id, name));
        match result {
            Ok(Some(line)) => println!("{line}"),
            Ok(None) => {}
            Err(e) => {
                output::error(&e);
                failed = true;
            }
        }
    }
    if failed { Err(Reported.into()) } else { Ok(()) }
}

pub fn start(root: &Path, args: &StartArgs) -> anyhow::Result<()> {
    let berth = super::berth_binary()?;
    if args.attach || args.interactive {
        return start_attached(root, &berth, args);
    }
    each(root, &args.containers, |c, id, name| {
        if c.state(id)?.running {
            return Ok(Some(name.to_string()));
        }
        c.start(&berth, id, berth_engine::container::Attach::None)
            .map_err(|e| anyhow::Error::new(Exit::message(e.exit_code, e.message)))?;
        Ok(Some(name.to_string()))
    })
}

/// `start -a [-i]`: one container, attached from its first byte of output; exits with
/// its code (Docker's).
fn start_attached(root: &Path, berth: &Path, args: &StartArgs) -> anyhow::Result<()> {
    use super::attach;
    let [name] = args.containers.as_slice() else {
        return Err(Exit::message(
            1,
            "you cannot start and attach multiple containers at once".into(),
        )
        .into());
    };
    let c = super::open(root)?;
    let id = c.lookup(name).map_err(|e| Exit::error(1, &e))?;
    let record = c.record(&id).map_err(|e| Exit::error(1, &e))?;
    let tty = record.config.tty;
    let stdin = args.interactive && record.config.open_stdin;
    let detach_keys = attach::prepare(tty, stdin, args.detach_keys.as_deref(), 1)?;
    let window = attach::watch_window(tty).context("cannot watch the window size")?;
    let (ours, theirs) = berth_engine::runtime::console_socket_pair().context("cannot attach")?;
    let started = c
        .start(berth, &id, berth_engine::container::Attach::Socket(theirs))
        .map_err(|e| Exit::message(e.exit_code, e.message))?;
    let outcome = attach::relay(
        attach::Peer::Supervisor(ours),
        attach::Options {
            stdin,
            tty,
            detach_keys: tty.then_some(detach_keys),
            window,
        },
    )?;
    if outcome == attach::Outcome::Detached {
        return Ok(());
    }
    match started
        .wait_exit()
        .map_err(|e| Exit::message(e.exit_code, e.message))?
    {
        0 => Ok(()),
        code => Err(Exit::silent(code).into()),
    }
}

/// The stop signal and timeout: the flags, else the container's own, else SIGTERM / 10 s.
fn stop_one(c: &Containers, id: &str, args: &StopArgs) -> anyhow::Result<()> {
    stop_with(c, id, args, false)
}

fn stop_with(c: &Containers, id: &str, args: &StopArgs, restart: bool) -> anyhow::Result<()> {
    let record = c.record(id)?;
    let signal = match args
        .signal
        .as_deref()
        .or(record.config.stop_signal.as_deref())
    {
        Some(s) => signal::parse(s)?,
        None => rustix::process::Signal::TERM,
    };
    let seconds = args.time.or(record.config.stop_timeout).unwrap_or(10);
    let timeout = (seconds >= 0).then(|| Duration::from_secs(seconds as u64));
    if restart {
        c.stop_for_restart(id, signal, timeout)?;
    } else {
        c.stop(id, signal, timeout)?;
    }
    Ok(())
}

pub fn stop(root: &Path, args: &StopArgs) -> anyhow::Result<()> {
    each(root, &args.containers, |c, id, name| {
        stop_one(c, id, args)?;
        Ok(Some(name.to_string()))
    })
}

pub fn restart(root: &Path, args: &StopArgs) -> anyhow::Result<()> {
    let berth = super::berth_binary()?;
    each(root, &args.containers, |c, id, name| {
        stop_with(c, id, args, true)?;
        c.start(&berth, id, berth_engine::container::Attach::None)
            .map_err(|e| anyhow::Error::new(Exit::message(e.exit_code, e.message)))?;
        Ok(Some(name.to_string()))
    })
}

pub fn kill(root: &Path, args: &KillArgs) -> anyhow::Result<()> {
    let signal = signal::parse(&args.signal)?;
    each(root, &args.containers, |c, id, name| {
        c.kill(id, signal).map_err(|e| match e {
            ContainerError::NotRunning(_) => {
                anyhow::anyhow!("cannot kill container: {name}: container {id} is not running")
            }
            e => e.into(),
        })?;
        Ok(Some(name.to_string()))
    })
}

pub fn rm(root: &Path, args: &RmArgs) -> anyhow::Result<()> {
    if args.link {
        anyhow::bail!("rm -l/--link is not supported by berth yet (links come with networking)");
    }
    let containers = super::open(root)?;
    let mut failed = false;
    for name in &args.containers {
        let result = containers
            .lookup(name)
            .and_then(|id| containers.remove(&id, args.force, args.volumes));
        match result {
            Ok(()) => println!("{name}"),
            // `rm -f` of a container that does not exist is not an error (as Docker).
            Err(ContainerError::NotFound(_)) if args.force => {}
            Err(e) => {
                output::error(&e.into());
                failed = true;
            }
        }
    }
    if failed { Err(Reported.into()) } else { Ok(()) }
}

pub fn wait(root: &Path, args: &WaitArgs) -> anyhow::Result<()> {
    each(root, &args.containers, |c, id, _| {
        Ok(Some(c.wait(id)?.to_string()))
    })
}

pub fn rename(root: &Path, args: &RenameArgs) -> anyhow::Result<()> {
    let containers = super::open(root)?;
    let id = containers.lookup(&args.container)?;
    containers.rename(&id, &args.new_name)?;
    Ok(())
}
