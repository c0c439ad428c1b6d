//! `berth system df`: disk usage by type, in Docker's table (`-v` for the details,
//! `--format` for a template or JSON).

use std::path::Path;

use clap::{Args, Subcommand};
use serde_json::json;

use crate::cli::{image, output, template, units};

#[derive(Subcommand, Debug)]
pub enum SystemCommand {
    /// Show docker disk usage
    Df(DfArgs),
    /// Start the containers whose restart policy asks for it after a reboot (what
    /// dockerd does when it starts; run by contrib/systemd/berth-boot.service)
    Boot,
}

#[derive(Args, Debug)]
pub struct DfArgs {
    /// Show detailed information on space usage
    #[arg(short, long)]
    verbose: bool,
    /// Format output using a custom template: 'table', 'table TEMPLATE', 'json', 'TEMPLATE'
    #[arg(long)]
    format: Option<String>,
}

pub fn run(root: &Path, command: &SystemCommand) -> anyhow::Result<()> {
    match command {
        SystemCommand::Df(args) => df(root, args),
        SystemCommand::Boot => boot(root),
    }
}

/// `always` containers that ran before, and `unless-stopped` ones not stopped by hand.
fn boot(root: &Path) -> anyhow::Result<()> {
    let containers = crate::cli::container::open(root)?;
    let berth = crate::cli::container::berth_binary()?;
    let mut failed = false;
    for c in containers.boot_candidates()? {
        match containers.start(&berth, &c.record.id, berth_engine::container::Attach::None) {
            Ok(_) => println!("{}", c.record.name),
            Err(e) => {
                output::error(&anyhow::anyhow!("{}: {e}", c.record.name));
                failed = true;
            }
        }
    }
    if failed {
        return Err(output::Reported.into());
    }
    Ok(())
}

/// `units.HumanSize`: Docker's df uses four significant digits.
fn size(bytes: u64) -> String {
    units::human_size_with_precision(bytes as f64, 4)
}

/// `4.261MB (100%)` when there is anything at all, else just the size.
fn reclaimable(reclaimable: u64, total: u64) -> String {
    match (reclaimable * 100).checked_div(total) {
        Some(percent) => format!("{} ({percent}%)", size(reclaimable)),
        None => size(reclaimable),
    }
}

fn df(root: &Path, args: &DfArgs) -> anyhow::Result<()> {
    let images = image::open(root)?;
    let usage = images.usage()?;
    let containers = container_usage(root)?;
    let volumes = volume_usage(root)?;
    if args.verbose && args.format.is_none() {
        return verbose(&images, &containers, &volumes);
    }
    let row = |kind: &str, total: usize, active: usize, bytes: u64, reclaim: String| {
        json!({
            "Type": kind,
            "TotalCount": total.to_string(),
            "Active": active.to_string(),
            "Size": size(bytes),
            "Reclaimable": reclaim,
        })
    };
    let rows = vec![
        row(
            "Images",
            usage.total,
            usage.active,
            usage.size,
            reclaimable(usage.reclaimable, usage.size),
        ),
        row(
            "Containers",
            containers.len(),
            containers.iter().filter(|c| c.running).count(),
            containers.iter().map(|c| c.size).sum(),
            reclaimable(
                containers
                    .iter()
                    .filter(|c| !c.running)
                    .map(|c| c.size)
                    .sum(),
                containers.iter().map(|c| c.size).sum(),
            ),
        ),
        row(
            "Local Volumes",
            volumes.len(),
            volumes.iter().filter(|v| v.links > 0).count(),
            volumes.iter().map(|v| v.size).sum(),
            reclaimable(
                volumes
                    .iter()
                    .filter(|v| v.links == 0)
                    .map(|v| v.size)
                    .sum(),
                volumes.iter().map(|v| v.size).sum(),
            ),
        ),
        row("Build Cache", 0, 0, 0, size(0)),
    ];
    let format = args.format.as_deref().unwrap_or("table");
    if format == "json" {
        for row in &rows {
            println!("{}", serde_json::to_string(row)?);
        }
        return Ok(());
    }
    let format = if format == "table" {
        "table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}"
    } else {
        format
    };
    let headers = [("TotalCount", "TOTAL")];
    print!(
        "{}",
        template::render_table_with_headers(format, &rows, &headers)?
    );
    Ok(())
}

/// A container's share of `system df`: its writable layer.
struct ContainerUsage {
    row: serde_json::Value,
    image: String,
    running: bool,
    size: u64,
}

fn container_usage(root: &Path) -> anyhow::Result<Vec<ContainerUsage>> {
    let containers = crate::cli::container::open(root)?;
    let now = (image::now_nanos() / 1_000_000_000) as i64;
    Ok(containers
        .list()?
        .into_iter()
        .map(|c| {
            let size = berth_engine::volume::tree_size(&containers.dir(&c.record.id).join("upper"));
            let mut row = crate::cli::container::ps::row(&c, false, now);
            let volumes = c
                .record
                .mount_points
                .iter()
                .filter(|m| !m.name.is_empty())
                .count();
            row["LocalVolumes"] = json!(volumes.to_string());
            row["Size"] = json!(self::size(size));
            ContainerUsage {
                row,
                image: c.record.image.clone(),
                running: c.state.running,
                size,
            }
        })
        .collect())
}

/// A volume's share of `system df`: its data and how many containers use it.
struct VolumeUsage {
    name: String,
    links: usize,
    size: u64,
}

fn volume_usage(root: &Path) -> anyhow::Result<Vec<VolumeUsage>> {
    let volumes = berth_engine::volume::Volumes::open(root)?;
    let users = crate::cli::container::open(root)?.volume_users()?;
    Ok(volumes
        .list()?
        .into_iter()
        .map(|v| VolumeUsage {
            links: users.get(&v.name).map_or(0, Vec::len),
            size: volumes.size(&v.name),
            name: v.name,
        })
        .collect())
}

/// `docker system df -v`: one table per type.
fn verbose(
    images: &berth_engine::image::Images,
    containers: &[ContainerUsage],
    volumes: &[VolumeUsage],
) -> anyhow::Result<()> {
    let now = (image::now_nanos() / 1_000_000_000) as i64;
    let list = images.list()?;
    let mut layer_users = std::collections::BTreeMap::new();
    for i in &list {
        for l in &i.layers {
            *layer_users.entry(l.chain_id.clone()).or_insert(0usize) += 1;
        }
    }
    let rows: Vec<serde_json::Value> = list
        .iter()
        .map(|i| {
            let (repository, tag) = i
                .repo_tags
                .first()
                .map(|t| berth_engine::image::familiar(t))
                .and_then(|f| {
                    f.rsplit_once(':')
                        .filter(|(_, tag)| !tag.contains('/'))
                        .map(|(r, t)| (r.to_string(), t.to_string()))
                })
                .unwrap_or_else(|| ("<none>".into(), "<none>".into()));
            let shared: u64 = i
                .layers
                .iter()
                .filter(|l| layer_users.get(&l.chain_id).copied().unwrap_or(0) > 1)
                .map(|l| l.size)
                .sum();
            let created = berth_engine::time::unix_seconds(&i.created);
            json!({
                "Repository": repository,
                "Tag": tag,
                "ID": i.id.short(),
                "CreatedSince": created
                    .map(|c| format!("{} ago", units::human_duration(now - c)))
                    .unwrap_or_else(|| "N/A".into()),
                "Size": size(i.size),
                "SharedSize": size(shared),
                "UniqueSize": size(i.size.saturating_sub(shared)),
                "Containers": containers.iter().filter(|c| c.image == i.id.to_string()).count().to_string(),
            })
        })
        .collect();
    let headers = [
        ("ID", "IMAGE ID"),
        ("CreatedSince", "CREATED"),
        ("SharedSize", "SHARED SIZE"),
        ("UniqueSize", "UNIQUE SIZE"),
    ];
    let mut out = String::from("Images space usage:\n\n");
    out.push_str(&template::render_table_with_headers(
        "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}\t{{.SharedSize}}\t{{.UniqueSize}}\t{{.Containers}}",
        &rows,
        &headers,
    )?);
    let empty = |format: &str, headers: &[(&str, &str)]| {
        template::render_table_with_headers(format, &[], headers)
    };
    out.push_str("\nContainers space usage:\n\n");
    let rows: Vec<serde_json::Value> = containers.iter().map(|c| c.row.clone()).collect();
    out.push_str(&template::render_table_with_headers(
        "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.LocalVolumes}}\t{{.Size}}\t{{.RunningFor}}\t{{.Status}}\t{{.Names}}",
        &rows,
        &[("ID", "CONTAINER ID"), ("RunningFor", "CREATED"), ("LocalVolumes", "LOCAL VOLUMES")],
    )?);
    out.push_str("\nLocal Volumes space usage:\n\n");
    let rows: Vec<serde_json::Value> = volumes
        .iter()
        .map(|v| json!({"Name": v.name, "Links": v.links.to_string(), "Size": size(v.size)}))
        .collect();
    out.push_str(&template::render_table_with_headers(
        "table {{.Name}}\t{{.Links}}\t{{.Size}}",
        &rows,
        &[("Name", "VOLUME NAME")],
    )?);
    out.push_str("\nBuild cache usage: 0B\n\n");
    out.push_str(&empty(
        "table {{.ID}}\t{{.CacheType}}\t{{.Size}}\t{{.CreatedSince}}\t{{.LastUsedSince}}\t{{.UsageCount}}\t{{.Shared}}",
        &[
            ("ID", "CACHE ID"),
            ("CreatedSince", "CREATED"),
            ("LastUsedSince", "LAST USED"),
            ("UsageCount", "USAGE"),
        ],
    )?);
    print!("{out}");
    Ok(())
}
