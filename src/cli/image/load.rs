//! `berth load`: images from a `docker save` or OCI archive (file or standard input).

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::Args;

#[derive(Args, Debug)]
pub struct LoadArgs {
    /// Read from tar archive file, instead of STDIN
    #[arg(short, long)]
    input: Option<PathBuf>,
    /// Suppress the load output
    #[arg(short, long)]
    quiet: bool,
}

pub fn run(root: &Path, args: &LoadArgs) -> anyhow::Result<()> {
    let images = super::open(root)?;
    let loaded = match &args.input {
        Some(path) => {
            let mut file = std::fs::File::open(path)
                .with_context(|| format!("cannot open {}", path.display()))?;
            images
                .load(&mut file)
                .with_context(|| format!("failed to load {}", path.display()))?
        }
        None => {
            let stdin = std::io::stdin();
            if stdin.is_terminal() {
                bail!(
                    "requested load from stdin, but stdin is a terminal: pipe an archive in or use -i FILE"
                );
            }
            images
                .load(&mut stdin.lock())
                .context("failed to load the archive from standard input")?
        }
    };
    if args.quiet {
        return Ok(());
    }
    for image in loaded {
        if image.tags.is_empty() {
            println!("Loaded image ID: {}", image.id);
        }
        for tag in image.tags {
            println!("Loaded image: {tag}");
        }
    }
    Ok(())
}
