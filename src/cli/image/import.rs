//! `berth import`: a rootfs tarball (file or standard input; plain, gzip or zstd) as a
//! one-layer image; prints the new image's id, as Docker does.

use std::io::IsTerminal;
use std::path::Path;

use anyhow::{Context, bail};
use berth_engine::image::ImportOptions;
use clap::Args;

#[derive(Args, Debug)]
pub struct ImportArgs {
    /// Apply Dockerfile instruction to the created image
    #[arg(short, long = "change", value_name = "CHANGE")]
    change: Vec<String>,
    /// Set commit message for imported image
    #[arg(short, long)]
    message: Option<String>,
    /// Set platform if server is multi-platform capable
    #[arg(long)]
    platform: Option<String>,
    /// file|URL|- (a rootfs tarball, or - for standard input)
    source: String,
    /// REPOSITORY[:TAG]
    reference: Option<String>,
}

pub fn run(root: &Path, args: &ImportArgs) -> anyhow::Result<()> {
    if args.source.starts_with("http://") || args.source.starts_with("https://") {
        bail!(
            "importing from a URL is not supported yet: download {} and import the file",
            args.source
        );
    }
    let images = super::open(root)?;
    let options = ImportOptions {
        // Docker streams a local file as the request body, so its comment says `-` too.
        source: "-".to_string(),
        changes: args.change.clone(),
        message: args.message.clone(),
        reference: args.reference.clone(),
        platform: args.platform.clone(),
    };
    let id = if args.source == "-" {
        let stdin = std::io::stdin();
        if stdin.is_terminal() {
            bail!(
                "requested import from stdin, but stdin is a terminal: pipe a tarball in or name a file"
            );
        }
        images
            .import(&mut stdin.lock(), &options)
            .context("failed to import the tarball from standard input")?
    } else {
        let mut file = std::fs::File::open(&args.source)
            .with_context(|| format!("cannot open {}", args.source))?;
        images
            .import(&mut file, &options)
            .with_context(|| format!("failed to import {}", args.source))?
    };
    println!("{id}");
    Ok(())
}
