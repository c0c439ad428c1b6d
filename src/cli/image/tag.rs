//! `berth tag SOURCE TARGET`.

use std::path::Path;

use clap::Args;

#[derive(Args, Debug)]
pub struct TagArgs {
    /// SOURCE_IMAGE[:TAG]
    source: String,
    /// TARGET_IMAGE[:TAG]
    target: String,
}

pub fn run(root: &Path, args: &TagArgs) -> anyhow::Result<()> {
    super::open(root)?.tag(&args.source, &args.target)?;
    Ok(())
}
