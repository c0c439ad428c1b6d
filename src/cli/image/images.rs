//! `berth images` / `berth image ls`: the table Docker prints, `-q`, `--digests`,
//! `--no-trunc`, `--format`.

use std::path::Path;

use berth_engine::image::{FilterArgs, familiar, filter};
use berth_engine::store::ImageRecord;
use clap::Args;
use serde_json::json;

use crate::cli::{template, units};

#[derive(Args, Debug)]
pub struct ImagesArgs {
    /// Show all images (default hides intermediate images)
    #[arg(short, long)]
    all: bool,
    /// Only show image IDs
    #[arg(short, long)]
    quiet: bool,
    /// Show digests
    #[arg(long)]
    digests: bool,
    /// Don't truncate output
    #[arg(long)]
    no_trunc: bool,
    /// Format output using a custom template: 'table', 'table TEMPLATE', 'json', 'TEMPLATE'
    #[arg(long)]
    format: Option<String>,
    /// Filter output based on conditions provided (dangling, reference, label, before,
    /// since, until)
    #[arg(short, long)]
    filter: Vec<String>,
    /// REPOSITORY[:TAG]
    repository: Option<String>,
}

pub fn run(root: &Path, args: &ImagesArgs) -> anyhow::Result<()> {
    let store = super::open(root)?;
    let filters = FilterArgs::parse(&args.filter, filter::LIST_FILTERS)?;
    let images = if args.filter.is_empty() {
        store.list()?
    } else {
        store.list_filtered(&store.image_filter(&filters, super::now_nanos())?)?
    };
    let now = (super::now_nanos() / 1_000_000_000) as i64;
    let rows: Vec<serde_json::Value> = images
        .iter()
        .flat_map(|image| rows_of(image, args, now))
        .filter(|row| matches_repository(row, args.repository.as_deref()))
        .collect();
    if args.quiet {
        let mut seen = Vec::new();
        for row in &rows {
            let id = row["ID"].as_str().unwrap_or_default().to_string();
            if !seen.contains(&id) {
                println!("{id}");
                seen.push(id);
            }
        }
        return Ok(());
    }
    let default = if args.digests {
        "table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}"
    } else {
        "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}"
    };
    let format = args.format.as_deref().unwrap_or(default);
    if format == "json" {
        for row in &rows {
            println!("{}", serde_json::to_string(row)?);
        }
        return Ok(());
    }
    let headers = [
        ("ID", "IMAGE ID"),
        ("CreatedSince", "CREATED"),
        ("CreatedAt", "CREATED AT"),
    ];
    print!(
        "{}",
        template::render_table_with_headers(format, &rows, &headers)?
    );
    Ok(())
}

/// One row per tag (or one `<none>` row), with Docker's field names.
fn rows_of(image: &ImageRecord, args: &ImagesArgs, now: i64) -> Vec<serde_json::Value> {
    let id = if args.no_trunc {
        image.id.to_string()
    } else {
        image.id.short().to_string()
    };
    let created = berth_engine::time::unix_seconds(&image.created);
    let since = created
        .map(|c| format!("{} ago", units::human_duration(now - c)))
        .unwrap_or_else(|| "N/A".into());
    let digest = image
        .repo_digests
        .first()
        .and_then(|d| d.split_once('@'))
        .map(|(_, d)| d.to_string());
    let refs: Vec<(String, String)> = if image.repo_tags.is_empty() {
        vec![("<none>".into(), "<none>".into())]
    } else {
        image
            .repo_tags
            .iter()
            .map(|t| {
                let f = familiar(t);
                match f.rsplit_once(':').filter(|(_, tag)| !tag.contains('/')) {
                    Some((repo, tag)) => (repo.to_string(), tag.to_string()),
                    None => (f, "<none>".into()),
                }
            })
            .collect()
    };
    refs.into_iter()
        .map(|(repository, tag)| {
            json!({
                "Containers": "N/A",
                "CreatedAt": created.map(units::go_time).unwrap_or_else(|| image.created.clone()),
                "CreatedSince": since,
                "Digest": digest.clone().unwrap_or_else(|| "<none>".into()),
                "ID": id,
                "Repository": repository,
                "SharedSize": "N/A",
                "Size": units::human_size(image.size as f64),
                "Tag": tag,
                "UniqueSize": "N/A",
                "VirtualSize": units::human_size(image.size as f64),
            })
        })
        .collect()
}

/// `docker images busybox` / `busybox:1.36`: repository (and tag) must match.
fn matches_repository(row: &serde_json::Value, wanted: Option<&str>) -> bool {
    let Some(wanted) = wanted else { return true };
    let (repo, tag) = match wanted.rsplit_once(':').filter(|(_, t)| !t.contains('/')) {
        Some((r, t)) => (r, Some(t)),
        None => (wanted, None),
    };
    row["Repository"] == repo && tag.is_none_or(|t| row["Tag"] == t)
}
