//! `berth save`: images to a tar archive that `docker load` and OCI tools read.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::Args;

#[derive(Args, Debug)]
pub struct SaveArgs {
    /// Write to a file, instead of STDOUT
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// Images to save
    #[arg(required = true)]
    images: Vec<String>,
}

pub fn run(root: &Path, args: &SaveArgs) -> anyhow::Result<()> {
    let images = super::open(root)?;
    match &args.output {
        Some(path) => {
            // Written next to the target and renamed, so a failure leaves no partial file.
            let dir = path
                .parent()
                .filter(|d| !d.as_os_str().is_empty())
                .unwrap_or(Path::new("."));
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let tmp = dir.join(format!(".{name}.berth-{}", std::process::id()));
            let result = (|| -> anyhow::Result<()> {
                let mut file = std::io::BufWriter::new(
                    std::fs::File::create(&tmp)
                        .with_context(|| format!("cannot create {}", path.display()))?,
                );
                images.save(&args.images, &mut file)?;
                file.flush()
                    .with_context(|| format!("failed to write {}", path.display()))?;
                std::fs::rename(&tmp, path)
                    .with_context(|| format!("failed to write {}", path.display()))
            })();
            if result.is_err() {
                let _ = std::fs::remove_file(&tmp);
            }
            result
        }
        None => {
            let stdout = std::io::stdout();
            if stdout.is_terminal() {
                bail!("cowardly refusing to save to a terminal. Use the -o flag or redirect");
            }
            let mut out = std::io::BufWriter::new(stdout.lock());
            images.save(&args.images, &mut out)?;
            out.flush().context("failed to write to standard output")
        }
    }
}
