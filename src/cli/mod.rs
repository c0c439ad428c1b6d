//! Command-line front end: `berth <command>` like `docker`, `berth compose <command>`
//! like `docker compose`. Each command lives in its own file and only turns flags into
//! a request, calls a library crate, and renders the result.

mod compose;
mod container;
mod filters;
mod image;
mod login;
mod name_filter;
mod network;
mod output;
mod system;
mod template;
#[allow(dead_code)] // used by the image commands as they land
mod units;
mod volume;

use std::ffi::OsString;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(
    name = "berth",
    version,
    about = "Run Compose applications with berth's own container engine"
)]
struct Cli {
    /// Root of berth's state (images, containers, volumes)
    #[arg(
        long,
        global = true,
        env = "BERTH_ROOT",
        default_value = "/var/lib/berth"
    )]
    root: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum ImageCommand {
    /// List images
    #[command(alias = "list")]
    Ls(image::images::ImagesArgs),
    /// Display detailed information on one or more images
    Inspect(image::inspect::InspectArgs),
    /// Load an image from a tar archive or STDIN
    Load(image::load::LoadArgs),
    /// Download an image from a registry
    Pull(image::pull::PullArgs),
    /// Upload an image to a registry
    Push(image::push::PushArgs),
    /// Save one or more images to a tar archive
    Save(image::save::SaveArgs),
    /// Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE
    Tag(image::tag::TagArgs),
    /// Remove one or more images
    #[command(alias = "remove")]
    Rm(image::rmi::RmiArgs),
    /// Import the contents from a tarball to create a filesystem image
    Import(image::import::ImportArgs),
    /// Show the history of an image
    History(image::history::HistoryArgs),
    /// Remove unused images
    Prune(image::prune::PruneArgs),
}

#[derive(Subcommand, Debug)]
enum ContainerCommand {
    /// Create and run a new container from an image
    Run(Box<container::run::RunArgs>),
    /// Create a new container
    Create(Box<container::run::CreateArgs>),
    /// Start one or more stopped containers
    Start(container::lifecycle::StartArgs),
    /// Stop one or more running containers
    Stop(container::lifecycle::StopArgs),
    /// Restart one or more containers
    Restart(container::lifecycle::StopArgs),
    /// Kill one or more running containers
    Kill(container::lifecycle::KillArgs),
    /// Remove one or more containers
    #[command(alias = "remove")]
    Rm(container::lifecycle::RmArgs),
    /// List containers
    #[command(alias = "list", alias = "ps")]
    Ls(container::ps::PsArgs),
    /// Fetch the logs of a container
    Logs(container::logs::LogsArgs),
    /// Display detailed information on one or more containers
    Inspect(container::inspect::InspectArgs),
    /// Block until one or more containers stop, then print their exit codes
    Wait(container::lifecycle::WaitArgs),
    /// Rename a container
    Rename(container::lifecycle::RenameArgs),
    /// List port mappings or a specific mapping for the container
    Port(container::port::PortArgs),
    /// Execute a command in a running container
    Exec(Box<container::exec::ExecArgs>),
    /// Attach local standard input, output, and error streams to a running container
    Attach(container::attach::AttachArgs),
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Define and run multi-container applications (docker compose)
    Compose(Box<compose::ComposeArgs>),
    /// Show the berth version information
    Version,
    /// Load an image from a tar archive or STDIN
    Load(image::load::LoadArgs),
    /// Download an image from a registry
    Pull(image::pull::PullArgs),
    /// Upload an image to a registry
    Push(image::push::PushArgs),
    /// Log in to a registry
    Login(login::LoginArgs),
    /// Log out from a registry
    Logout(login::LogoutArgs),
    /// Save one or more images to a tar archive (streamed to STDOUT by default)
    Save(image::save::SaveArgs),
    /// List images
    Images(image::images::ImagesArgs),
    /// Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE
    Tag(image::tag::TagArgs),
    /// Remove one or more images
    Rmi(image::rmi::RmiArgs),
    /// Return low-level information on containers and images
    Inspect(container::inspect::InspectArgs),
    /// Import the contents from a tarball to create a filesystem image
    Import(image::import::ImportArgs),
    /// Show the history of an image
    History(image::history::HistoryArgs),
    /// Manage images
    #[command(subcommand)]
    Image(ImageCommand),
    /// Manage berth (disk usage)
    #[command(subcommand)]
    System(system::SystemCommand),
    /// Create and run a new container from an image
    Run(Box<container::run::RunArgs>),
    /// Create a new container
    Create(Box<container::run::CreateArgs>),
    /// Start one or more stopped containers
    Start(container::lifecycle::StartArgs),
    /// Stop one or more running containers
    Stop(container::lifecycle::StopArgs),
    /// Restart one or more containers
    Restart(container::lifecycle::StopArgs),
    /// Kill one or more running containers
    Kill(container::lifecycle::KillArgs),
    /// Remove one or more containers
    Rm(container::lifecycle::RmArgs),
    /// List containers
    Ps(container::ps::PsArgs),
    /// Fetch the logs of a container
    Logs(container::logs::LogsArgs),
    /// Block until one or more containers stop, then print their exit codes
    Wait(container::lifecycle::WaitArgs),
    /// Rename a container
    Rename(container::lifecycle::RenameArgs),
    /// List port mappings or a specific mapping for the container
    Port(container::port::PortArgs),
    /// Get real time events from berth
    Events(container::events::EventsArgs),
    /// Attach local standard input, output, and error streams to a running container
    Attach(container::attach::AttachArgs),
    /// Execute a command in a running container
    Exec(Box<container::exec::ExecArgs>),
    /// Manage containers
    #[command(subcommand)]
    Container(ContainerCommand),
    /// Manage volumes
    #[command(subcommand)]
    Volume(volume::VolumeCommand),
    /// Manage networks
    #[command(subcommand)]
    Network(network::NetworkCommand),
    /// The supervisor of one container (started by berth itself)
    #[command(name = "__supervise", hide = true)]
    Supervise {
        id: String,
        fd: i32,
        #[arg(long)]
        attach: bool,
        #[arg(long)]
        attach_fd: Option<i32>,
    },
    #[command(external_subcommand)]
    Other(Vec<OsString>),
}

/// Runs the CLI and maps failures to one `error: ...` line and an exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let root = cli.root;
    let result = match cli.command {
        Command::Compose(args) => compose::run(*args, &root),
        Command::Version => {
            println!("berth version {}", env!("CARGO_PKG_VERSION"));
            Ok(())
        }
        Command::Load(a) | Command::Image(ImageCommand::Load(a)) => image::load::run(&root, &a),
        Command::Pull(a) | Command::Image(ImageCommand::Pull(a)) => image::pull::run(&root, &a),
        Command::Push(a) | Command::Image(ImageCommand::Push(a)) => image::push::run(&root, &a),
        Command::Login(a) => login::login(&a),
        Command::Logout(a) => login::logout(&a),
        Command::Save(a) | Command::Image(ImageCommand::Save(a)) => image::save::run(&root, &a),
        Command::Images(a) | Command::Image(ImageCommand::Ls(a)) => image::images::run(&root, &a),
        Command::Tag(a) | Command::Image(ImageCommand::Tag(a)) => image::tag::run(&root, &a),
        Command::Rmi(a) | Command::Image(ImageCommand::Rm(a)) => image::rmi::run(&root, &a),
        Command::Image(ImageCommand::Inspect(a)) => image::inspect::run(&root, &a),
        Command::Inspect(a) | Command::Container(ContainerCommand::Inspect(a)) => {
            container::inspect::run(&root, &a)
        }
        Command::Run(a) | Command::Container(ContainerCommand::Run(a)) => {
            container::run::run(&root, &a)
        }
        Command::Create(a) | Command::Container(ContainerCommand::Create(a)) => {
            container::run::run_create(&root, &a)
        }
        Command::Start(a) | Command::Container(ContainerCommand::Start(a)) => {
            container::lifecycle::start(&root, &a)
        }
        Command::Stop(a) | Command::Container(ContainerCommand::Stop(a)) => {
            container::lifecycle::stop(&root, &a)
        }
        Command::Restart(a) | Command::Container(ContainerCommand::Restart(a)) => {
            container::lifecycle::restart(&root, &a)
        }
        Command::Kill(a) | Command::Container(ContainerCommand::Kill(a)) => {
            container::lifecycle::kill(&root, &a)
        }
        Command::Rm(a) | Command::Container(ContainerCommand::Rm(a)) => {
            container::lifecycle::rm(&root, &a)
        }
        Command::Ps(a) | Command::Container(ContainerCommand::Ls(a)) => {
            container::ps::run(&root, &a)
        }
        Command::Logs(a) | Command::Container(ContainerCommand::Logs(a)) => {
            container::logs::run(&root, &a)
        }
        Command::Wait(a) | Command::Container(ContainerCommand::Wait(a)) => {
            container::lifecycle::wait(&root, &a)
        }
        Command::Rename(a) | Command::Container(ContainerCommand::Rename(a)) => {
            container::lifecycle::rename(&root, &a)
        }
        Command::Port(a) | Command::Container(ContainerCommand::Port(a)) => {
            container::port::run(&root, &a)
        }
        Command::Events(a) => container::events::run(&root, &a),
        Command::Attach(a) | Command::Container(ContainerCommand::Attach(a)) => {
            container::attach::run(&root, &a)
        }
        Command::Exec(a) | Command::Container(ContainerCommand::Exec(a)) => {
            container::exec::run(&root, &a)
        }
        Command::Volume(c) => volume::run(&root, &c),
        Command::Network(c) => network::run(&root, &c),
        Command::Supervise {
            id,
            fd,
            attach,
            attach_fd,
        } => {
            return container::supervise(&root, &id, fd, attach, attach_fd);
        }
        Command::Import(a) | Command::Image(ImageCommand::Import(a)) => {
            image::import::run(&root, &a)
        }
        Command::History(a) | Command::Image(ImageCommand::History(a)) => {
            image::history::run(&root, &a)
        }
        Command::Image(ImageCommand::Prune(a)) => image::prune::run(&root, &a),
        Command::System(c) => system::run(&root, &c),
        Command::Other(args) => {
            let name = args
                .first()
                .map(|a| a.to_string_lossy().into_owned())
                .unwrap_or_default();
            Err(anyhow::anyhow!(
                "`berth {name}` is not implemented yet; see the compatibility table in the README"
            ))
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            if let Some(exit) = e.downcast_ref::<output::Exit>() {
                if let Some(message) = &exit.message {
                    let _ = writeln!(std::io::stderr(), "error: {message}");
                }
                return ExitCode::from(exit.code.clamp(0, 255) as u8);
            }
            if !e.is::<output::Reported>() {
                output::error(&e);
            }
            ExitCode::FAILURE
        }
    }
}
