//! `berth image prune`: remove dangling images (every unused image with `-a`), asking
//! first unless `-f`, and print what went and the space reclaimed, as Docker does.

use std::path::Path;

use berth_engine::image::{FilterArgs, Removal, filter};
use clap::Args;

use crate::cli::{output, units};

#[derive(Args, Debug)]
pub struct PruneArgs {
    /// Remove all unused images, not just dangling ones
    #[arg(short, long)]
    all: bool,
    /// Provide filter values (e.g. "until=<timestamp>", "label=<key>=<value>")
    #[arg(long)]
    filter: Vec<String>,
    /// Do not prompt for confirmation
    #[arg(short, long)]
    force: bool,
}

pub fn run(root: &Path, args: &PruneArgs) -> anyhow::Result<()> {
    let filters = FilterArgs::parse(&args.filter, filter::PRUNE_FILTERS)?;
    // Like Docker's CLI, `-a` is `dangling=false`; a `dangling` filter can say the same.
    let all = args.all || filters.dangling()? == Some(false);
    let images = super::open(root)?;
    let filter = images.image_filter(&filters, super::now_nanos())?;
    if !args.force && !confirm(all)? {
        return Ok(());
    }
    let report = images.prune(&filter, all)?;
    let mut out = String::new();
    if !report.removals.is_empty() {
        out.push_str("Deleted Images:\n");
        for r in &report.removals {
            match r {
                Removal::Untagged(t) => out.push_str(&format!("untagged: {t}\n")),
                Removal::Deleted(id) => out.push_str(&format!("deleted: {id}\n")),
            }
        }
        out.push('\n');
    }
    out.push_str(&format!(
        "Total reclaimed space: {}\n",
        units::human_size_with_precision(report.reclaimed as f64, 4)
    ));
    print!("{out}");
    for e in &report.errors {
        output::error(&anyhow::anyhow!("{e}"));
    }
    if !report.errors.is_empty() {
        return Err(output::Reported.into());
    }
    Ok(())
}

/// Docker's warning for this prune, asked on a terminal (see `output::confirm`).
fn confirm(all: bool) -> anyhow::Result<bool> {
    let warning = if all {
        "WARNING! This will remove all images without at least one container associated to them."
    } else {
        "WARNING! This will remove all dangling images."
    };
    output::confirm(warning)
}
