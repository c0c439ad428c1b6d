//! berth: Compose applications on one Linux host, with berth's own container engine.
//! This binary is the CLI only: it parses flags, calls the library crates, and prints.

mod cli;

use std::process::ExitCode;

/// berth builds and drops large trees of small allocations (a compose project is
/// thousands of nodes); mimalloc does that with fewer page faults than glibc's malloc
/// (docs/benchmarks.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    cli::main()
}
