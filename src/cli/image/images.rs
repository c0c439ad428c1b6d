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
    let created = parse_rfc3339(&image.created);
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
                "CreatedAt": image.created,
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

/// Seconds since the epoch of an RFC 3339 UTC time (`2026-01-01T00:00:00Z`, optional
/// fraction, `Z` or `+00:00`).
pub(super) fn parse_rfc3339(s: &str) -> Option<i64> {
    let (date, time) = s.split_once('T')?;
    let mut d = date.split('-').map(|p| p.parse::<i64>().ok());
    let (y, m, day) = (d.next()??, d.next()??, d.next()??);
    let time = time.trim_end_matches('Z');
    let (time, offset) = match time.rfind(['+', '-']) {
        Some(i) => {
            let (t, o) = time.split_at(i);
            let sign = if o.starts_with('-') { -1 } else { 1 };
            let mut parts = o[1..].split(':').map(|p| p.parse::<i64>().ok());
            (
                t,
                sign * (parts.next()?? * 3600 + parts.next().flatten().unwrap_or(0) * 60),
            )
        }
        None => (time, 0),
    };
    let mut t = time.split(':');
    let (h, min) = (
        t.next()?.parse::<i64>().ok()?,
        t.next()?.parse::<i64>().ok()?,
    );
    let sec = t.next()?.split('.').next()?.parse::<i64>().ok()?;
    // Days from civil (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + h * 3600 + min * 60 + sec - offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_seconds() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_rfc3339("2026-01-01T00:00:00Z"), Some(1_767_225_600));
        assert_eq!(
            parse_rfc3339("2026-01-01T01:00:00.123456789+01:00"),
            Some(1_767_225_600)
        );
        assert_eq!(parse_rfc3339("garbage"), None);
    }
}
