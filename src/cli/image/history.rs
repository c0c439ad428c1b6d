//! `berth history`: the layers of an image as its config's history tells them, newest
//! first, in Docker's table (`-H`, `--no-trunc`, `-q`, `--format`).

use std::path::Path;

use berth_engine::image::HistoryEntry;
use clap::{ArgAction, Args};
use serde_json::json;

use crate::cli::{template, units};
use berth_engine::time::{format_rfc3339, unix_seconds};

/// Docker truncates CREATED BY to this many columns, the last one an ellipsis.
const CREATED_BY_WIDTH: usize = 45;

#[derive(Args, Debug)]
pub struct HistoryArgs {
    /// Print sizes and dates in human readable format
    #[arg(
        short = 'H',
        long,
        action = ArgAction::Set,
        num_args = 0..=1,
        require_equals = true,
        default_value_t = true,
        default_missing_value = "true"
    )]
    human: bool,
    /// Don't truncate output
    #[arg(long)]
    no_trunc: bool,
    /// Only show image IDs
    #[arg(short, long)]
    quiet: bool,
    /// Format output using a custom template: 'table', 'table TEMPLATE', 'json', 'TEMPLATE'
    #[arg(long)]
    format: Option<String>,
    /// IMAGE
    image: String,
}

pub fn run(root: &Path, args: &HistoryArgs) -> anyhow::Result<()> {
    let entries = super::open(root)?.history(&args.image)?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default();
    let rows: Vec<serde_json::Value> = entries.iter().map(|e| row(e, args, now)).collect();
    let format = match args.format.as_deref() {
        Some(f) if !f.is_empty() && f != "table" => f,
        _ if args.quiet => "{{.ID}}",
        _ if !args.human => {
            "table {{.ID}}\t{{.CreatedAt}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}"
        }
        _ => "table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}",
    };
    if format == "json" {
        for row in &rows {
            println!("{}", serde_json::to_string(row)?);
        }
        return Ok(());
    }
    let headers = [
        ("ID", "IMAGE"),
        ("CreatedSince", "CREATED"),
        ("CreatedAt", "CREATED AT"),
        ("CreatedBy", "CREATED BY"),
    ];
    print!(
        "{}",
        template::render_table_with_headers(format, &rows, &headers)?
    );
    Ok(())
}

/// One row with Docker's field names (keys sorted, as Docker's JSON output has them).
fn row(entry: &HistoryEntry, args: &HistoryArgs, now: i64) -> serde_json::Value {
    let id = match &entry.id {
        None => "<missing>".to_string(),
        Some(id) if args.no_trunc => id.to_string(),
        Some(id) => id.short().to_string(),
    };
    let created = unix_seconds(&entry.created);
    let created_at = created
        .map(|c| format_rfc3339(c, None))
        .unwrap_or_else(|| "N/A".into());
    let since = match created {
        Some(c) if args.human => format!("{} ago", units::human_duration(now - c)),
        _ => created_at.clone(),
    };
    let created_by = entry.created_by.replace('\t', " ");
    let created_by = if args.no_trunc {
        created_by
    } else {
        ellipsis(&created_by, CREATED_BY_WIDTH)
    };
    let size = if args.human {
        units::human_size(entry.size as f64)
    } else {
        entry.size.to_string()
    };
    json!({
        "Comment": entry.comment,
        "CreatedAt": created_at,
        "CreatedBy": created_by,
        "CreatedSince": since,
        "ID": id,
        "Size": size,
    })
}

/// Docker's `formatter.Ellipsis`: at most `width` characters, the last one `…` when cut.
/// (Docker counts East Asian wide characters as two columns; berth counts characters.)
fn ellipsis(s: &str, width: usize) -> String {
    if s.chars().count() <= width {
        return s.to_string();
    }
    let mut out: String = s.chars().take(width.saturating_sub(1)).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncation_like_docker() {
        let long = "/bin/sh -c #(nop) ADD file:0123456789abcdef0123456789 in /";
        let cut = ellipsis(long, CREATED_BY_WIDTH);
        assert_eq!(cut, "/bin/sh -c #(nop) ADD file:0123456789abcdef0…");
        assert_eq!(cut.chars().count(), 45);
        assert_eq!(ellipsis("short", CREATED_BY_WIDTH), "short");
    }

    #[test]
    fn rfc3339_round_trip() {
        for s in [
            "1970-01-01T00:00:00Z",
            "2024-02-29T12:34:56Z",
            "2026-11-23T23:59:59Z",
        ] {
            assert_eq!(
                unix_seconds(s).map(|c| format_rfc3339(c, None)).as_deref(),
                Some(s)
            );
        }
    }
}
