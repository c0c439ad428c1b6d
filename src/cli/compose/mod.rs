//! `berth compose`: the project commands of `docker compose`, with its global flags.

mod config;
mod events;
mod lifecycle;
mod logs;
mod progress;
mod run;
mod service_cmds;
mod up;
mod wait;

use std::ffi::OsString;
use std::path::PathBuf;

use anyhow::{Context, bail};
use berth_compose::loader::{self, LoadOptions, Loaded};
use clap::{Args, Subcommand};

use super::output;

#[derive(Args, Debug)]
pub struct ComposeArgs {
    /// Compose configuration files
    #[arg(short = 'f', long = "file")]
    file: Vec<PathBuf>,
    /// Project name
    #[arg(short = 'p', long = "project-name")]
    project_name: Option<String>,
    /// Specify an alternate working directory (default: the path of the first Compose file)
    #[arg(long = "project-directory")]
    project_directory: Option<PathBuf>,
    /// Specify an alternate environment file
    #[arg(long = "env-file")]
    env_file: Vec<PathBuf>,
    /// Specify a profile to enable
    #[arg(long = "profile")]
    profile: Vec<String>,
    /// Set type of progress output (auto, tty, plain, json, quiet)
    #[arg(long, default_value = "auto")]
    progress: String,
    /// Execute command in dry run mode
    #[arg(long = "dry-run")]
    dry_run: bool,
    /// Control max parallelism, -1 for unlimited
    #[arg(long, default_value_t = -1, allow_negative_numbers = true)]
    parallel: i64,
    /// Control when to print ANSI control characters ("never"|"always"|"auto")
    #[arg(long, default_value = "auto")]
    ansi: String,
    #[command(subcommand)]
    command: ComposeCommand,
}

#[derive(Subcommand, Debug)]
enum ComposeCommand {
    /// Parse, resolve and render compose file in canonical format
    Config(config::ConfigArgs),
    /// Create and start containers
    Up(up::UpArgs),
    /// Stop and remove containers, networks
    Down(up::DownArgs),
    /// List containers
    Ps(up::PsArgs),
    /// View output from containers
    Logs(logs::LogsArgs),
    /// Stop services
    Stop(lifecycle::StopArgs),
    /// Start services
    Start(lifecycle::StartArgs),
    /// Restart service containers
    Restart(lifecycle::StopArgs),
    /// Force stop service containers
    Kill(lifecycle::KillArgs),
    /// Removes stopped service containers
    Rm(lifecycle::RmArgs),
    /// Execute a command in a running container
    Exec(service_cmds::ExecArgs),
    /// Print the public port for a port binding
    Port(service_cmds::PortArgs),
    /// List images used by the created containers
    Images(service_cmds::ImagesArgs),
    /// List running compose projects
    Ls(service_cmds::LsArgs),
    /// Pull service images
    Pull(service_cmds::PullArgs),
    /// Push service images
    Push { services: Vec<String> },
    /// Run a one-off command on a service
    Run(run::RunArgs),
    /// Creates containers for a service
    Create(service_cmds::CreateArgs),
    /// Block until containers of all (or specified) services stop.
    Wait(wait::WaitArgs),
    /// Receive real time events from containers
    Events(events::EventsArgs),
    /// Show the Docker Compose version information
    Version(VersionArgs),
    #[command(external_subcommand)]
    Other(Vec<OsString>),
}

pub fn run(args: ComposeArgs, root: &std::path::Path) -> anyhow::Result<()> {
    progress::set(&args.progress, &args.ansi, args.dry_run)?;
    if args.dry_run
        && let Some(name) = match &args.command {
            ComposeCommand::Exec(_) => Some("exec"),
            ComposeCommand::Pull(_) => Some("pull"),
            ComposeCommand::Push { .. } => Some("push"),
            _ => None,
        }
    {
        bail!("--dry-run is not supported by berth for `compose {name}` yet");
    }
    let result = dispatch(&args, root);
    if result.is_err() {
        progress::fail();
    }
    result
}

fn dispatch(args: &ComposeArgs, root: &std::path::Path) -> anyhow::Result<()> {
    match &args.command {
        ComposeCommand::Config(c) => config::run(args, c),
        ComposeCommand::Up(u) => up::up(root, args, u),
        ComposeCommand::Down(d) => up::down(root, args, d),
        ComposeCommand::Ps(p) => up::ps(root, args, p),
        ComposeCommand::Logs(l) => logs::run(root, args, l),
        ComposeCommand::Stop(a) => lifecycle::stop(root, args, a),
        ComposeCommand::Start(a) => lifecycle::start(root, args, a),
        ComposeCommand::Restart(a) => lifecycle::restart(root, args, a),
        ComposeCommand::Kill(a) => lifecycle::kill(root, args, a),
        ComposeCommand::Rm(a) => lifecycle::rm(root, args, a),
        ComposeCommand::Exec(a) => service_cmds::exec(root, args, a),
        ComposeCommand::Port(a) => service_cmds::port(root, args, a),
        ComposeCommand::Images(a) => service_cmds::images(root, args, a),
        ComposeCommand::Ls(a) => service_cmds::ls(root, a),
        ComposeCommand::Pull(a) => service_cmds::pull(root, args, a),
        ComposeCommand::Push { services } => service_cmds::push(root, args, services),
        ComposeCommand::Run(a) => run::run(root, args, a),
        ComposeCommand::Create(a) => service_cmds::create(root, args, a),
        ComposeCommand::Version(v) => version(v),
        ComposeCommand::Wait(a) => wait::run(root, args, a),
        ComposeCommand::Events(a) => events::run(root, args, a),
        ComposeCommand::Other(a) => {
            let name = a
                .first()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            bail!(
                "`berth compose {name}` is not implemented yet; see the compatibility table in the README"
            )
        }
    }
}

#[derive(Args, Debug)]
pub struct VersionArgs {
    /// Format the output. Values: [pretty | json]
    #[arg(short, long, default_value = "pretty")]
    format: String,
    /// Shows only Compose's version number
    #[arg(long)]
    short: bool,
}

/// Compose's three forms, with berth's own version.
fn version(v: &VersionArgs) -> anyhow::Result<()> {
    let number = env!("CARGO_PKG_VERSION");
    if v.short {
        println!("{number}");
        return Ok(());
    }
    match v.format.as_str() {
        "pretty" | "" => println!("berth compose version v{number}"),
        "json" => println!("{}", serde_json::json!({ "version": format!("v{number}") })),
        other => bail!("--format {other:?}: expected pretty or json"),
    }
    Ok(())
}

/// Stage switches a command may turn off (`config --no-interpolate`, ...).
#[derive(Clone, Copy, Debug)]
pub struct Stages {
    pub interpolate: bool,
    pub normalize: bool,
    pub consistency: bool,
    pub resolve_paths: bool,
}

impl Default for Stages {
    fn default() -> Self {
        Stages {
            interpolate: true,
            normalize: true,
            consistency: true,
            resolve_paths: true,
        }
    }
}

/// Compose's tables: columns padded to their widest cell, three spaces apart.
pub fn print_table<R: AsRef<[String]>>(rows: &[R]) {
    let columns = rows.first().map_or(0, |r| r.as_ref().len());
    let widths: Vec<usize> = (0..columns)
        .map(|i| {
            rows.iter()
                .map(|r| r.as_ref().get(i).map_or(0, |c| c.chars().count()))
                .max()
                .unwrap_or(0)
        })
        .collect();
    for row in rows {
        let row = row.as_ref();
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            if i + 1 < row.len() {
                line.push_str(&format!("{cell:<w$}   ", w = widths[i]));
            } else {
                line.push_str(cell);
            }
        }
        println!("{}", line.trim_end());
    }
}

/// One progress change, shown as `--progress` says (see `progress.rs`).
pub fn progress(kind: &str, name: &str, status: &str) {
    progress::report(kind, name, status);
}

/// Loads the whole project and hands it, with its orchestrator over the state root
/// `root`, to `f`.
pub fn with_project<T>(
    root: &std::path::Path,
    args: &ComposeArgs,
    f: impl FnOnce(&berth_compose::orchestrator::Orchestrator<'_>, &Loaded) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    let loaded = load_project(args, Stages::default(), &[])?;
    let o = orchestrator(root, args, &loaded)?;
    f(&o, &loaded)
}

/// The orchestrator of a loaded project, with `--dry-run` and `--parallel`.
pub fn orchestrator<'a>(
    root: &std::path::Path,
    args: &ComposeArgs,
    loaded: &'a Loaded,
) -> anyhow::Result<berth_compose::orchestrator::Orchestrator<'a>> {
    let berth = super::container::berth_binary()?;
    let mut o = berth_compose::orchestrator::Orchestrator::new(root, &berth, loaded)
        .map_err(|e| anyhow::anyhow!(e))?;
    o.set_dry_run(args.dry_run);
    o.set_parallel(args.parallel);
    Ok(o)
}

/// Loads the project the global flags describe and prints the loader's warnings.
pub fn load_project(
    args: &ComposeArgs,
    stages: Stages,
    services: &[String],
) -> anyhow::Result<Loaded> {
    let cwd = std::env::current_dir().context("cannot determine the current directory")?;
    let cwd = std::fs::canonicalize(&cwd).unwrap_or(cwd);
    let mut opts = LoadOptions::new(cwd, std::env::vars().collect());
    opts.files = args.file.clone();
    opts.project_name = args.project_name.clone();
    opts.project_directory = args.project_directory.clone();
    opts.env_files = args.env_file.clone();
    opts.profiles = args.profile.clone();
    opts.services = services.to_vec();
    opts.interpolate = stages.interpolate;
    opts.normalize = stages.normalize;
    opts.consistency = stages.consistency;
    opts.resolve_paths = stages.resolve_paths;
    if opts.files.iter().any(|f| f.as_os_str() == "-") {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)
            .context("failed to read the compose file from standard input")?;
        opts.stdin = Some(text);
    }
    let loaded = loader::load(&opts)?;
    for w in &loaded.warnings.0 {
        output::warning(w);
    }
    Ok(loaded)
}
