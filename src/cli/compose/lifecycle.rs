//! `berth compose stop|start|restart|kill|rm`: the project's containers in dependency
//! order (dependents first when stopping), with Compose's flags and progress lines.

use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;
use std::time::Duration;

use anyhow::anyhow;
use berth_compose::orchestrator::Orchestrator;
use clap::Args;

use super::ComposeArgs;

#[derive(Args, Debug)]
pub struct StopArgs {
    /// Specify a shutdown timeout in seconds
    #[arg(short, long)]
    timeout: Option<u64>,
    services: Vec<String>,
}

#[derive(Args, Debug)]
pub struct StartArgs {
    services: Vec<String>,
}

#[derive(Args, Debug)]
pub struct KillArgs {
    /// SIGNAL to send to the container
    #[arg(short, long, default_value = "SIGKILL")]
    signal: String,
    /// Remove containers for services not defined in the Compose file
    #[arg(long = "remove-orphans")]
    remove_orphans: bool,
    services: Vec<String>,
}

#[derive(Args, Debug)]
pub struct RmArgs {
    /// Don't ask to confirm removal
    #[arg(short, long)]
    force: bool,
    /// Stop the containers, if required, before removing
    #[arg(short, long)]
    stop: bool,
    /// Remove any anonymous volumes attached to containers
    #[arg(short, long)]
    volumes: bool,
    services: Vec<String>,
}

use super::progress;

fn with<T>(
    root: &Path,
    args: &ComposeArgs,
    f: impl FnOnce(&Orchestrator<'_>) -> Result<T, String>,
) -> anyhow::Result<T> {
    super::with_project(root, args, |o, _| f(o).map_err(|e| anyhow!(e)))
}

pub fn stop(root: &Path, args: &ComposeArgs, a: &StopArgs) -> anyhow::Result<()> {
    with(root, args, |o| {
        o.stop(&a.services, a.timeout.map(Duration::from_secs), &progress)
    })
}

pub fn start(root: &Path, args: &ComposeArgs, a: &StartArgs) -> anyhow::Result<()> {
    with(root, args, |o| o.start_existing(&a.services, &progress))
}

pub fn restart(root: &Path, args: &ComposeArgs, a: &StopArgs) -> anyhow::Result<()> {
    with(root, args, |o| {
        o.restart(&a.services, a.timeout.map(Duration::from_secs), &progress)
    })
}

pub fn kill(root: &Path, args: &ComposeArgs, a: &KillArgs) -> anyhow::Result<()> {
    let signal = berth_engine::container::signal::parse(&a.signal)
        .ok_or_else(|| anyhow!("invalid signal {:?}", a.signal))?;
    with(root, args, |o| {
        // As Compose: --remove-orphans widens the signal to orphans (it removes nothing).
        o.kill(&a.services, signal, a.remove_orphans, &progress)
    })
}

pub fn rm(root: &Path, args: &ComposeArgs, a: &RmArgs) -> anyhow::Result<()> {
    with(root, args, |o| {
        if !a.force && !a.stop {
            let stopped: Vec<String> = o
                .project_containers()?
                .into_iter()
                .filter(|c| !c.state.running)
                .map(|c| c.record.name)
                .collect();
            if stopped.is_empty() {
                println!("No stopped containers");
                return Ok(());
            }
            println!("Going to remove {}", stopped.join(", "));
            if !std::io::stdin().is_terminal() {
                return Err(
                    "not removing without confirmation: use -f (standard input is not a terminal)"
                        .into(),
                );
            }
            print!("Are you sure? [yN] ");
            let _ = std::io::stdout().flush();
            let mut answer = String::new();
            let _ = std::io::stdin().lock().read_line(&mut answer);
            if !answer.trim().eq_ignore_ascii_case("y") {
                return Ok(());
            }
        }
        let removed = o.rm(&a.services, a.stop, a.volumes, &progress)?;
        if removed.is_empty() {
            println!("No stopped containers");
        }
        Ok(())
    })
}
