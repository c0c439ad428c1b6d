//! `berth rmi`: untag and remove images.

use std::path::Path;

use berth_engine::image::Removal;
use clap::Args;

#[derive(Args, Debug)]
pub struct RmiArgs {
    /// Force removal of the image
    #[arg(short, long)]
    force: bool,
    #[arg(required = true)]
    images: Vec<String>,
}

/// Removes every named image; reports each failure and exits 1 if any failed, as Docker.
pub fn run(root: &Path, args: &RmiArgs) -> anyhow::Result<()> {
    let images = super::open(root)?;
    let mut failed = 0;
    for name in &args.images {
        match images.remove(name, args.force) {
            Ok(removals) => {
                for r in removals {
                    match r {
                        Removal::Untagged(t) => println!("Untagged: {t}"),
                        Removal::Deleted(id) => println!("Deleted: {id}"),
                    }
                }
            }
            Err(e) => {
                failed += 1;
                crate::cli::output::error(&anyhow::Error::new(e));
            }
        }
    }
    if failed > 0 {
        return Err(crate::cli::output::Reported.into());
    }
    Ok(())
}
