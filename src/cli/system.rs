//! `berth system df`: disk usage by type, in Docker's table (`-v` for the details,
//! `--format` for a template or JSON).

use std::path::Path;

use clap::{Args, Subcommand};
use serde_json::json;

use crate::cli::{image, template, units};

#[derive(Subcommand, Debug)]
pub enum SystemCommand {
    /// Show docker disk usage
    Df(DfArgs),
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
    }
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
    if args.verbose && args.format.is_none() {
        return verbose(&images);
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
        row("Containers", 0, 0, 0, reclaimable(0, 0)),
        row("Local Volumes", 0, 0, 0, reclaimable(0, 0)),
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

/// `docker system df -v`: one table per type.
fn verbose(images: &berth_engine::image::Images) -> anyhow::Result<()> {
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
                "Containers": "0",
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
    out.push_str(&empty(
        "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.LocalVolumes}}\t{{.Size}}\t{{.RunningFor}}\t{{.Status}}\t{{.Names}}",
        &[("ID", "CONTAINER ID"), ("RunningFor", "CREATED")],
    )?);
    out.push_str("\nLocal Volumes space usage:\n\n");
    out.push_str(&empty(
        "table {{.Name}}\t{{.Links}}\t{{.Size}}",
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
