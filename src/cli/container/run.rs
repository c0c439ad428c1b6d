//! `run` and `create`.

use std::path::Path;

use berth_engine::container::{CreateRequest, StartError};
use berth_engine::image::Images;
use clap::Args;

use super::flags::ContainerFlags;
use crate::cli::output::Exit;

#[derive(Args, Debug)]
#[command(disable_help_flag = true)]
pub struct RunArgs {
    /// Print help
    #[arg(long, action = clap::ArgAction::Help)]
    help: Option<bool>,
    /// Run container in background and print container ID
    #[arg(short, long)]
    detach: bool,
    #[command(flatten)]
    flags: ContainerFlags,
    /// The image to run
    image: String,
    /// The command and its arguments
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    command: Vec<String>,
}

#[derive(Args, Debug)]
#[command(disable_help_flag = true)]
pub struct CreateArgs {
    /// Print help
    #[arg(long, action = clap::ArgAction::Help)]
    help: Option<bool>,
    #[command(flatten)]
    flags: ContainerFlags,
    image: String,
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    command: Vec<String>,
}

/// Everything that fails before the container runs is berth's own error: exit 125,
/// except what Docker reports as 126 (cannot execute) and 127 (not found).
fn create(root: &Path, request: CreateRequest) -> Result<String, Exit> {
    let images = Images::open(root).map_err(|e| Exit::error(125, &e))?;
    let containers = super::open(root).map_err(|e| Exit::error(125, &*e))?;
    let created = containers
        .create(&images, request)
        .map_err(|e| Exit::error(125, &e))?;
    for warning in &created.warnings {
        eprintln!("WARNING: {warning}");
    }
    Ok(created.record.id)
}

pub fn run_create(root: &Path, args: &CreateArgs) -> anyhow::Result<()> {
    let request = args
        .flags
        .to_request(&args.image, &args.command)
        .map_err(|e| Exit::error(125, &*e))?;
    let id = create(root, request)?;
    println!("{id}");
    Ok(())
}

pub fn run(root: &Path, args: &RunArgs) -> anyhow::Result<()> {
    let request = args
        .flags
        .to_request(&args.image, &args.command)
        .map_err(|e| Exit::error(125, &*e))?;
    let id = create(root, request)?;
    let containers = super::open(root).map_err(|e| Exit::error(125, &*e))?;
    let berth = super::berth_binary().map_err(|e| Exit::error(125, &*e))?;
    // Signals to this process go to the container (Docker's --sig-proxy=true): blocked
    // from before the start, so that none is lost or kills the CLI in between.
    let proxy = if args.detach {
        None
    } else {
        let blocked = berth_engine::runtime::SignalProxy::block()
            .map_err(|e| Exit::message(125, format!("cannot forward signals: {e}")))?;
        Some(blocked)
    };
    let started = match containers.start(&berth, &id, !args.detach) {
        Ok(started) => started,
        Err(e) => {
            // Docker keeps a container whose start failed; with --rm nothing may stay.
            if args.flags.rm {
                let _ = containers.remove(&id, true, true);
            }
            return Err(start_error(e).into());
        }
    };
    if args.detach {
        println!("{id}");
        return Ok(());
    }
    if let Some(proxy) = proxy {
        let target_containers = containers.clone();
        let target = id.clone();
        proxy
            .forward(move |sig| {
                if let Some(signal) = rustix::process::Signal::from_named_raw(sig) {
                    let _ = target_containers.kill(&target, signal);
                }
            })
            .map_err(|e| Exit::message(125, format!("cannot forward signals: {e}")))?;
    }
    let code = started.wait_exit().map_err(start_error)?;
    if code == 0 {
        Ok(())
    } else {
        Err(Exit::silent(code).into())
    }
}

pub fn start_error(e: StartError) -> Exit {
    Exit::message(e.exit_code, e.message)
}
