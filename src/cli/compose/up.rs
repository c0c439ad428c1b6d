//! `berth compose up`, `down` and `ps`: the orchestrator's commands, with Compose v2's
//! flags, progress lines (` Container web-1  Started`, on stderr) and exit codes.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::time::Duration;

use anyhow::{anyhow, bail};
use berth_compose::orchestrator::{DownOptions, Orchestrator, UpOptions, labels};
use clap::Args;
use serde_json::json;

use super::{ComposeArgs, Stages};
use crate::cli::output;

#[derive(Args, Debug)]
pub struct UpArgs {
    /// Detached mode: run containers in the background
    #[arg(short, long)]
    detach: bool,
    /// Recreate containers even if their configuration and image haven't changed
    #[arg(long = "force-recreate")]
    force_recreate: bool,
    /// If containers already exist, don't recreate them
    #[arg(long = "no-recreate")]
    no_recreate: bool,
    /// Don't start the services after creating them
    #[arg(long = "no-start")]
    no_start: bool,
    /// Don't build an image, even if it's policy
    #[arg(long = "no-build")]
    no_build: bool,
    /// Build images before starting containers
    #[arg(long)]
    build: bool,
    /// Remove containers for services not defined in the Compose file
    #[arg(long = "remove-orphans")]
    remove_orphans: bool,
    /// Scale SERVICE to NUM instances (SERVICE=NUM)
    #[arg(long)]
    scale: Vec<String>,
    /// Use this timeout in seconds for container shutdown
    #[arg(short, long)]
    timeout: Option<u64>,
    /// Wait for services to be running|healthy (implies detached mode)
    #[arg(long)]
    wait: bool,
    /// Maximum duration in seconds to wait for the project to be running|healthy
    #[arg(long = "wait-timeout")]
    wait_timeout: Option<u64>,
    /// Services to start (all when none)
    services: Vec<String>,
}

#[derive(Args, Debug)]
pub struct DownArgs {
    /// Remove named volumes declared in the "volumes" section of the Compose file and anonymous volumes attached to containers
    #[arg(short, long)]
    volumes: bool,
    /// Remove containers for services not defined in the Compose file
    #[arg(long = "remove-orphans")]
    remove_orphans: bool,
    /// Specify a shutdown timeout in seconds
    #[arg(short, long)]
    timeout: Option<u64>,
    /// Remove images used by services ("local" or "all")
    #[arg(long)]
    rmi: Option<String>,
}

#[derive(Args, Debug)]
pub struct PsArgs {
    /// Show all stopped containers (including those created by the run command)
    #[arg(short, long)]
    all: bool,
    /// Only display IDs
    #[arg(short, long)]
    quiet: bool,
    /// Display services
    #[arg(long)]
    services: bool,
    /// Format the output: table or json
    #[arg(long, default_value = "table")]
    format: String,
    /// Services to list (all when none)
    service_names: Vec<String>,
}

fn progress(kind: &str, name: &str, status: &str) {
    let _ = writeln!(std::io::stderr().lock(), " {kind} {name}  {status}");
}

fn orchestrate<T>(
    root: &Path,
    args: &ComposeArgs,
    services: &[String],
    f: impl FnOnce(&Orchestrator<'_>) -> Result<T, String>,
) -> anyhow::Result<T> {
    let loaded = super::load_project(args, Stages::default(), services)?;
    let berth = crate::cli::container::berth_binary()?;
    let orchestrator = Orchestrator::new(root, &berth, &loaded).map_err(|e| anyhow!(e))?;
    f(&orchestrator).map_err(|e| anyhow!(e))
}

pub fn up(root: &Path, args: &ComposeArgs, up: &UpArgs) -> anyhow::Result<()> {
    if !up.detach && !up.wait {
        bail!(
            "`berth compose up` in the foreground (with logs attached) is not supported yet: use `up -d` and `berth compose logs`"
        );
    }
    if up.build {
        bail!("--build: berth cannot build images yet");
    }
    let mut scale = BTreeMap::new();
    for s in &up.scale {
        let (name, n) = s
            .split_once('=')
            .ok_or_else(|| anyhow!("--scale {s:?}: expected SERVICE=NUM"))?;
        let n: u32 = n
            .parse()
            .map_err(|_| anyhow!("--scale {s:?}: {n:?} is not a number of replicas"))?;
        scale.insert(name.to_string(), n);
    }
    let opts = UpOptions {
        force_recreate: up.force_recreate,
        no_recreate: up.no_recreate,
        no_start: up.no_start,
        remove_orphans: up.remove_orphans,
        scale,
        timeout: up.timeout.map(Duration::from_secs),
        wait: up
            .wait
            .then(|| Duration::from_secs(up.wait_timeout.unwrap_or(u64::MAX / 4))),
    };
    let warnings = orchestrate(root, args, &up.services, |o| o.up(&opts, &progress))?;
    for w in warnings {
        output::warning(&w);
    }
    Ok(())
}

pub fn down(root: &Path, args: &ComposeArgs, down: &DownArgs) -> anyhow::Result<()> {
    if down.rmi.is_some() {
        bail!("--rmi is not supported by berth yet");
    }
    let opts = DownOptions {
        volumes: down.volumes,
        remove_orphans: down.remove_orphans,
        timeout: down.timeout.map(Duration::from_secs),
    };
    let warnings = orchestrate(root, args, &[], |o| o.down(&opts, &progress))?;
    for w in warnings {
        output::warning(&w);
    }
    Ok(())
}

pub fn ps(root: &Path, args: &ComposeArgs, ps: &PsArgs) -> anyhow::Result<()> {
    if ps.format != "table" && ps.format != "json" {
        bail!("--format {:?}: berth supports table and json", ps.format);
    }
    let loaded = super::load_project(args, Stages::default(), &[])?;
    if ps.services {
        for name in loaded.project.services.keys() {
            if ps.service_names.is_empty() || ps.service_names.contains(name) {
                println!("{name}");
            }
        }
        return Ok(());
    }
    let berth = crate::cli::container::berth_binary()?;
    let orchestrator = Orchestrator::new(root, &berth, &loaded).map_err(|e| anyhow!(e))?;
    let mut containers = orchestrator.project_containers().map_err(|e| anyhow!(e))?;
    containers.retain(|c| {
        let service = c
            .record
            .config
            .labels
            .get(labels::SERVICE)
            .cloned()
            .unwrap_or_default();
        (ps.all || c.state.running)
            && (ps.service_names.is_empty() || ps.service_names.contains(&service))
            && c.record
                .config
                .labels
                .get(labels::ONEOFF)
                .map(String::as_str)
                != Some("True")
    });
    containers.sort_by(|a, b| a.record.name.cmp(&b.record.name));
    if ps.quiet {
        for c in &containers {
            println!("{}", c.record.id);
        }
        return Ok(());
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default();
    let rows: Vec<serde_json::Value> = containers
        .iter()
        .map(|c| {
            let mut row = crate::cli::container::ps::row(c, true, now);
            let labels = &c.record.config.labels;
            row["Name"] = json!(c.record.name);
            row["Project"] = json!(labels.get(labels::PROJECT).cloned().unwrap_or_default());
            row["Service"] = json!(labels.get(labels::SERVICE).cloned().unwrap_or_default());
            row["ExitCode"] = json!(c.state.exit_code);
            row["Health"] = json!(
                c.state
                    .health
                    .as_ref()
                    .map(|h| h.status.clone())
                    .unwrap_or_default()
            );
            row["Publishers"] = json!(publishers(c));
            row["Command"] = json!(format!(
                "{:?}",
                std::iter::once(c.record.path.as_str())
                    .chain(c.record.args.iter().map(String::as_str))
                    .collect::<Vec<_>>()
                    .join(" ")
            ));
            row
        })
        .collect();
    if ps.format == "json" {
        for r in &rows {
            println!("{}", serde_json::to_string(r)?);
        }
        return Ok(());
    }
    let headers = [
        "NAME", "IMAGE", "COMMAND", "SERVICE", "CREATED", "STATUS", "PORTS",
    ];
    let keys = [
        "Name",
        "Image",
        "Command",
        "Service",
        "RunningFor",
        "Status",
        "Ports",
    ];
    let table: Vec<Vec<String>> = std::iter::once(headers.iter().map(|h| h.to_string()).collect())
        .chain(rows.iter().map(|r| {
            keys.iter()
                .map(|k| match &r[*k] {
                    serde_json::Value::String(s) => s.clone(),
                    v => v.to_string(),
                })
                .collect()
        }))
        .collect();
    let widths: Vec<usize> = (0..headers.len())
        .map(|i| {
            table
                .iter()
                .map(|row| row[i].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    for row in &table {
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
    Ok(())
}

/// Compose's `Publishers`: one entry per published port.
fn publishers(c: &berth_engine::container::Container) -> Vec<serde_json::Value> {
    let mut out = Vec::new();
    for (key, bindings) in &c.record.host_config.port_bindings {
        let (port, protocol) = key.split_once('/').unwrap_or((key, "tcp"));
        for b in bindings {
            out.push(json!({
                "URL": if b.host_ip.is_empty() { "0.0.0.0".to_string() } else { b.host_ip.clone() },
                "TargetPort": port.parse::<u32>().unwrap_or(0),
                "PublishedPort": b.host_port.parse::<u32>().unwrap_or(0),
                "Protocol": protocol,
            }));
        }
    }
    out
}
