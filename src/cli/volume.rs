//! `berth volume create|ls|inspect|rm|prune`, with Docker's flags and output.

use std::path::Path;

use anyhow::bail;
use berth_engine::container::Containers;
use berth_engine::volume::{Volume, VolumeError, VolumeRequest, Volumes};
use clap::{Args, Subcommand};
use serde_json::{Value, json};

use crate::cli::{filters, output, units};

#[derive(Subcommand, Debug)]
pub enum VolumeCommand {
    /// Create a volume
    Create(CreateArgs),
    /// List volumes
    #[command(visible_alias = "list")]
    Ls(LsArgs),
    /// Display detailed information on one or more volumes
    Inspect(InspectArgs),
    /// Remove one or more volumes
    #[command(visible_alias = "remove")]
    Rm(RmArgs),
    /// Remove unused local volumes
    Prune(PruneArgs),
}

#[derive(Args, Debug)]
pub struct CreateArgs {
    /// Specify volume driver name
    #[arg(short, long)]
    driver: Option<String>,
    /// Set metadata for a volume
    #[arg(long = "label")]
    labels: Vec<String>,
    /// Set driver specific options
    #[arg(short = 'o', long = "opt")]
    opts: Vec<String>,
    name: Option<String>,
}

#[derive(Args, Debug)]
pub struct LsArgs {
    /// Only display volume names
    #[arg(short, long)]
    quiet: bool,
    /// Provide filter values (e.g. "dangling=true")
    #[arg(short, long)]
    filter: Vec<String>,
    /// Format output using a custom template: 'table', 'table TEMPLATE', 'json', 'TEMPLATE'
    #[arg(long)]
    format: Option<String>,
}

#[derive(Args, Debug)]
pub struct InspectArgs {
    /// Format output using a custom template: 'json', 'TEMPLATE'
    #[arg(short, long)]
    format: Option<String>,
    #[arg(required = true)]
    names: Vec<String>,
}

#[derive(Args, Debug)]
pub struct RmArgs {
    /// Force the removal of one or more volumes (no error for a missing one)
    #[arg(short, long)]
    force: bool,
    #[arg(required = true)]
    names: Vec<String>,
}

#[derive(Args, Debug)]
pub struct PruneArgs {
    /// Remove all unused volumes, not just anonymous ones
    #[arg(short, long)]
    all: bool,
    /// Provide filter values (e.g. "label=<key>=<value>")
    #[arg(long)]
    filter: Vec<String>,
    /// Do not prompt for confirmation
    #[arg(short, long)]
    force: bool,
}

pub fn run(root: &Path, command: &VolumeCommand) -> anyhow::Result<()> {
    let volumes = Volumes::open(root)?;
    volumes.sweep();
    match command {
        VolumeCommand::Create(a) => create(&volumes, a),
        VolumeCommand::Ls(a) => ls(root, &volumes, a),
        VolumeCommand::Inspect(a) => inspect(&volumes, a),
        VolumeCommand::Rm(a) => rm(root, &volumes, a),
        VolumeCommand::Prune(a) => prune(root, &volumes, a),
    }
}

fn create(volumes: &Volumes, args: &CreateArgs) -> anyhow::Result<()> {
    let volume = volumes.create(VolumeRequest {
        name: args.name.clone(),
        driver: args.driver.clone(),
        labels: output::key_values("--label", &args.labels)?,
        options: output::key_values("--opt", &args.opts)?,
    })?;
    println!("{}", volume.name);
    Ok(())
}

/// Volume filters: `dangling`, `driver`, `label` (`key` or `key=value`), `name` (a
/// regular expression, as Docker's).
struct Filters(Vec<(String, String)>);

impl Filters {
    fn parse(raw: &[String]) -> anyhow::Result<Filters> {
        let mut out = Vec::new();
        for f in raw {
            let (k, v) = filters::split(f, &["dangling", "driver", "label", "name"])?;
            if k == "name" {
                crate::cli::name_filter::compile(v)?;
            }
            if k == "dangling" && !["true", "false", "1", "0"].contains(&v) {
                bail!("invalid filter 'dangling={v}'");
            }
            out.push((k.to_string(), v.to_string()));
        }
        Ok(Filters(out))
    }

    fn matches(&self, v: &Volume, used: bool) -> bool {
        filters::matches_all(&self.0, |key, val| match key {
            "dangling" => matches!(val, "true" | "1") != used,
            "driver" => v.driver == val,
            "name" => crate::cli::name_filter::compile(val).is_ok_and(|re| re.is_match(&v.name)),
            _ => filters::label_matches(val, |k| v.label(k)),
        })
    }
}

fn labels_text(v: &Volume) -> String {
    v.labels
        .iter()
        .flatten()
        .map(|(k, val)| format!("{k}={val}"))
        .collect::<Vec<_>>()
        .join(",")
}

fn ls(root: &Path, volumes: &Volumes, args: &LsArgs) -> anyhow::Result<()> {
    let filters = Filters::parse(&args.filter)?;
    let used = if filters.0.iter().any(|(k, _)| k == "dangling") {
        Containers::open(root)?.volume_users()?
    } else {
        Default::default()
    };
    let rows: Vec<Value> = volumes
        .list()?
        .into_iter()
        .filter(|v| filters.matches(v, used.contains_key(&v.name)))
        .map(|v| {
            json!({
                "Availability": "N/A",
                "Driver": v.driver,
                "Group": "N/A",
                "Labels": labels_text(&v),
                "Links": "N/A",
                "Mountpoint": v.mountpoint,
                "Name": v.name,
                "Scope": v.scope,
                "Size": "N/A",
                "Status": "N/A",
            })
        })
        .collect();
    if args.quiet {
        for r in &rows {
            println!("{}", r["Name"].as_str().unwrap_or_default());
        }
        return Ok(());
    }
    const DEFAULT: &str = "table {{.Driver}}\t{{.Name}}";
    const HEADERS: [(&str, &str); 5] = [
        ("Driver", "DRIVER"),
        ("Name", "VOLUME NAME"),
        ("Mountpoint", "MOUNTPOINT"),
        ("Labels", "LABELS"),
        ("Scope", "SCOPE"),
    ];
    output::print_listing(&rows, args.format.as_deref(), DEFAULT, &HEADERS)
}

fn inspect(volumes: &Volumes, args: &InspectArgs) -> anyhow::Result<()> {
    output::inspect_each(&args.names, args.format.as_deref(), |name| {
        Ok(serde_json::to_value(volumes.get(name)?)?)
    })
}

fn rm(root: &Path, volumes: &Volumes, args: &RmArgs) -> anyhow::Result<()> {
    let containers = Containers::open(root)?;
    let lock = volumes.lock_exclusive()?;
    let users = containers.volume_users()?;
    let mut failed = false;
    for name in &args.names {
        let users = users.get(name).cloned().unwrap_or_default();
        let result = volumes.remove(&lock, name, users);
        match result {
            Ok(()) => println!("{name}"),
            Err(VolumeError::NotFound(_)) if args.force => {}
            Err(e) => {
                output::error(&e.into());
                failed = true;
            }
        }
    }
    if failed {
        return Err(output::Reported.into());
    }
    Ok(())
}

fn prune(root: &Path, volumes: &Volumes, args: &PruneArgs) -> anyhow::Result<()> {
    let filters = Filters::parse(&args.filter)?;
    if filters.0.iter().any(|(k, _)| k != "label") {
        bail!("volume prune accepts only label filters (label=<key>[=<value>])");
    }
    if !args.force && !confirm(args.all)? {
        return Ok(());
    }
    let containers = Containers::open(root)?;
    let lock = volumes.lock_exclusive()?;
    let users = containers.volume_users()?;
    let mut out = String::new();
    let mut reclaimed = 0u64;
    let mut errors = Vec::new();
    for v in volumes.list()? {
        if users.contains_key(&v.name)
            || !(args.all || v.is_anonymous())
            || !filters.matches(&v, false)
        {
            continue;
        }
        let size = volumes.size(&v.name);
        // No container uses it: `users` was read under the exclusive lock.
        match volumes.remove(&lock, &v.name, Vec::new()) {
            Ok(()) => {
                if out.is_empty() {
                    out.push_str("Deleted Volumes:\n");
                }
                out.push_str(&format!("{}\n", v.name));
                reclaimed += size;
            }
            Err(e) => errors.push(e),
        }
    }
    if !out.is_empty() {
        out.push('\n');
    }
    out.push_str(&format!(
        "Total reclaimed space: {}\n",
        units::human_size_with_precision(reclaimed as f64, 4)
    ));
    print!("{out}");
    for e in &errors {
        output::error(&anyhow::anyhow!("{e}"));
    }
    if !errors.is_empty() {
        return Err(output::Reported.into());
    }
    Ok(())
}

/// Docker's warning for this prune, asked on a terminal (see `output::confirm`).
fn confirm(all: bool) -> anyhow::Result<bool> {
    let warning = if all {
        "WARNING! This will remove all local volumes not used by at least one container."
    } else {
        "WARNING! This will remove anonymous local volumes not used by at least one container."
    };
    output::confirm(warning)
}
