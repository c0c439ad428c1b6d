//! Command-line front end: `berth <command>` like `docker`, `berth compose <command>`
//! like `docker compose`. Each command lives in its own file and only turns flags into
//! a request, calls a library crate, and renders the result.

mod compose;
mod image;
mod output;
mod system;
mod template;
#[allow(dead_code)] // used by the image commands as they land
mod units;

use std::ffi::OsString;
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
enum Command {
    /// Define and run multi-container applications (docker compose)
    Compose(Box<compose::ComposeArgs>),
    /// Show the berth version information
    Version,
    /// Load an image from a tar archive or STDIN
    Load(image::load::LoadArgs),
    /// Save one or more images to a tar archive (streamed to STDOUT by default)
    Save(image::save::SaveArgs),
    /// List images
    Images(image::images::ImagesArgs),
    /// Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE
    Tag(image::tag::TagArgs),
    /// Remove one or more images
    Rmi(image::rmi::RmiArgs),
    /// Return low-level information on images
    Inspect(image::inspect::InspectArgs),
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
    #[command(external_subcommand)]
    Other(Vec<OsString>),
}

/// Runs the CLI and maps failures to one `error: ...` line and an exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let root = cli.root;
    let result = match cli.command {
        Command::Compose(args) => compose::run(*args),
        Command::Version => {
            println!("berth version {}", env!("CARGO_PKG_VERSION"));
            Ok(())
        }
        Command::Load(a) | Command::Image(ImageCommand::Load(a)) => image::load::run(&root, &a),
        Command::Save(a) | Command::Image(ImageCommand::Save(a)) => image::save::run(&root, &a),
        Command::Images(a) | Command::Image(ImageCommand::Ls(a)) => image::images::run(&root, &a),
        Command::Tag(a) | Command::Image(ImageCommand::Tag(a)) => image::tag::run(&root, &a),
        Command::Rmi(a) | Command::Image(ImageCommand::Rm(a)) => image::rmi::run(&root, &a),
        Command::Inspect(a) | Command::Image(ImageCommand::Inspect(a)) => {
            image::inspect::run(&root, &a)
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
            if !e.is::<output::Reported>() {
                output::error(&e);
            }
            ExitCode::FAILURE
        }
    }
}
