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
    // Bind-mounted read-only as a container's /sbin/docker-init (`--init`), berth is PID 1.
    let mut args = std::env::args_os();
    if args
        .next()
        .is_some_and(|a| a.as_encoded_bytes().ends_with(b"docker-init"))
    {
        berth_engine::runtime::init_main(std::env::args_os().collect());
    }
    cli::main()
}
