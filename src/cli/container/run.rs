//! `run` and `create`.

use std::path::Path;

use berth_engine::container::{Attach, CreateRequest, StartError};
use berth_engine::image::Images;
use clap::Args;

use super::attach;
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
fn create(root: &Path, request: CreateRequest, flags: &ContainerFlags) -> Result<String, Exit> {
    let images = Images::open(root).map_err(|e| Exit::error(125, &e))?;
    let containers = super::open(root).map_err(|e| Exit::error(125, &*e))?;
    bring_image(&images, &request.config.image, flags).map_err(|e| Exit::error(125, &*e))?;
    let created = containers
        .create(&images, request)
        .map_err(|e| Exit::error(125, &e))?;
    for warning in &created.warnings {
        eprintln!("WARNING: {warning}");
    }
    Ok(created.record.id)
}

/// `--pull missing` (the default), `always` or `never`, and `--platform`: Docker's run
/// and create pull an image they do not have, showing the pull on stderr.
fn bring_image(images: &Images, image: &str, flags: &ContainerFlags) -> anyhow::Result<()> {
    use berth_engine::image::ImageError;
    let policy = flags.pull.as_deref().unwrap_or("missing");
    let platform = flags
        .platform
        .as_deref()
        .map(berth_engine::registry::Platform::parse)
        .transpose()?;
    let present = match images.resolve(image) {
        Ok(record) => Some(record),
        Err(ImageError::NotFound(_)) => None,
        Err(e) => return Err(e.into()),
    };
    let wanted = match (policy, &present) {
        ("always", _) => true,
        ("missing", Some(_)) | ("never", Some(_)) => false,
        ("missing", None) => true,
        ("never", None) => anyhow::bail!("No such image: {image} (--pull never)"),
        (other, _) => anyhow::bail!(
            "invalid pull option: '{other}': must be one of \"always\", \"missing\" or \"never\""
        ),
    };
    if !wanted {
        if let (Some(p), Some(record)) = (&platform, &present)
            && (record.os != p.os || record.architecture != p.architecture)
        {
            anyhow::bail!(
                "image {image} is {}/{}, not the requested platform {p}: pull it with --platform {p}",
                record.os,
                record.architecture
            );
        }
        return Ok(());
    }
    // An id or id prefix is not pulled.
    let reference = berth_engine::reference::Reference::parse(image)?;
    if present.is_none() {
        eprintln!(
            "Unable to find image '{}' locally",
            if reference.digest().is_some() {
                reference.familiar_string()
            } else {
                reference.clone().with_default_tag().familiar_string()
            }
        );
    }
    let registry = berth_engine::registry::Registry::from_environment()?;
    crate::cli::image::pull::pull_one(
        images,
        &registry,
        &reference,
        platform.as_ref(),
        false,
        crate::cli::image::pull::Out::Stderr,
    )?;
    Ok(())
}

pub fn run_create(root: &Path, args: &CreateArgs) -> anyhow::Result<()> {
    let request = args
        .flags
        .to_request(&args.image, &args.command)
        .map_err(|e| Exit::error(125, &*e))?;
    let id = create(root, request, &args.flags)?;
    println!("{id}");
    Ok(())
}

pub fn run(root: &Path, args: &RunArgs) -> anyhow::Result<()> {
    let flags = &args.flags;
    let attached_io = !args.detach && (flags.interactive || flags.tty);
    let detach_keys = attach::prepare(
        flags.tty,
        attached_io && flags.interactive,
        flags.detach_keys.as_deref(),
        125,
    )?;
    let mut request = flags
        .to_request(&args.image, &args.command)
        .map_err(|e| Exit::error(125, &*e))?;
    // Docker's run: nothing attached with -d (and stdin is not closed with a client's).
    let config = &mut request.config;
    if args.detach {
        config.attach_stdin = false;
        config.attach_stdout = false;
        config.attach_stderr = false;
        config.stdin_once = false;
    }
    if flags.tty
        && !args.detach
        && let Some((rows, cols)) = attach::window_size()
    {
        request.host_config.console_size = [u32::from(rows), u32::from(cols)];
    }
    let id = create(root, request, flags)?;
    start_attached(
        root,
        &id,
        &Session {
            detach: args.detach,
            interactive: flags.interactive,
            tty: flags.tty,
            rm: flags.rm,
            detach_keys,
        },
    )
}

/// How a created container is started: `run`'s and `compose run`'s attach flags.
pub struct Session {
    pub detach: bool,
    pub interactive: bool,
    pub tty: bool,
    /// The container is removed when its start fails (`--rm`).
    pub rm: bool,
    /// From [`attach::prepare`], before the container was created.
    pub detach_keys: Vec<u8>,
}

/// Starts a created container: detached (printing its id), or attached with signals
/// forwarded (or a terminal relayed) until it exits, whose code becomes ours.
pub fn start_attached(root: &Path, id: &str, session: &Session) -> anyhow::Result<()> {
    let attached_io = !session.detach && (session.interactive || session.tty);
    let containers = super::open(root).map_err(|e| Exit::error(125, &*e))?;
    let berth = super::berth_binary().map_err(|e| Exit::error(125, &*e))?;
    // With a terminal the keys go to the container (Ctrl-C included) and the window
    // size follows ours; SIGWINCH is blocked before any thread exists.
    let window = attach::watch_window(attached_io && session.tty)
        .map_err(|e| Exit::message(125, format!("cannot watch the window size: {e}")))?;
    // Signals to this process go to the container (Docker's --sig-proxy=true, not with
    // a terminal): blocked from before the start, so that none is lost or kills the CLI
    // in between.
    let proxy = if session.detach || session.tty {
        None
    } else {
        let blocked = berth_engine::runtime::SignalProxy::block()
            .map_err(|e| Exit::message(125, format!("cannot forward signals: {e}")))?;
        Some(blocked)
    };
    let (mode, relay_end) = if session.detach {
        (Attach::None, None)
    } else if attached_io {
        let (ours, theirs) = berth_engine::runtime::console_socket_pair()
            .map_err(|e| Exit::message(125, format!("cannot attach: {e}")))?;
        (Attach::Socket(theirs), Some(ours))
    } else {
        (Attach::Inherit, None)
    };
    let started = match containers.start(&berth, id, mode) {
        Ok(started) => started,
        Err(e) => {
            // Docker keeps a container whose start failed; with --rm nothing may stay.
            if session.rm {
                let _ = containers.remove(id, true, true);
            }
            return Err(start_error(e).into());
        }
    };
    if session.detach {
        println!("{id}");
        return Ok(());
    }
    if let Some(proxy) = proxy {
        let target_containers = containers.clone();
        let target = id.to_string();
        proxy
            .forward(move |sig| {
                if let Some(signal) = rustix::process::Signal::from_named_raw(sig) {
                    let _ = target_containers.kill(&target, signal);
                }
            })
            .map_err(|e| Exit::message(125, format!("cannot forward signals: {e}")))?;
    }
    if let Some(end) = relay_end {
        let outcome = attach::relay(
            attach::Peer::Supervisor(end),
            attach::Options {
                stdin: session.interactive,
                tty: session.tty,
                detach_keys: session.tty.then(|| session.detach_keys.clone()),
                window,
            },
        )?;
        // Detached: the container goes on; `docker run` returns 0.
        if outcome == attach::Outcome::Detached {
            return Ok(());
        }
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
