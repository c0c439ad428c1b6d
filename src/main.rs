//! berth: Compose applications on one Linux host, with berth's own container engine.
//! This binary is the CLI only: it parses flags, calls the library crates, and prints.

mod cli;

use std::process::ExitCode;

fn main() -> ExitCode {
    cli::main()
}
