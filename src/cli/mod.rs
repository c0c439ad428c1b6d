//! Command-line front end: `berth <command>` like `docker`, `berth compose <command>`
//! like `docker compose`. Each command lives in its own file and only turns flags into
//! a request, calls a library crate, and renders the result.

mod compose;
mod output;
#[allow(dead_code)] // used by the image commands as they land
mod template;
#[allow(dead_code)] // used by the image commands as they land
mod units;

use std::ffi::OsString;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(
    name = "berth",
    version,
    about = "Run Compose applications with berth's own container engine"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Define and run multi-container applications (docker compose)
    Compose(Box<compose::ComposeArgs>),
    /// Show the berth version information
    Version,
    #[command(external_subcommand)]
    Other(Vec<OsString>),
}

/// Runs the CLI and maps failures to one `error: ...` line and an exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Compose(args) => compose::run(*args),
        Command::Version => {
            println!("berth version {}", env!("CARGO_PKG_VERSION"));
            Ok(())
        }
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
            output::error(&e);
            ExitCode::FAILURE
        }
    }
}
