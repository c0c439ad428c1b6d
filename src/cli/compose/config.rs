//! `berth compose config`: the project as Compose sees it, in canonical form.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, bail};
use berth_compose::render;
use clap::Args;

use super::{ComposeArgs, Stages, load_project};

#[derive(Args, Debug)]
pub struct ConfigArgs {
    /// Format the output. Values: [yaml | json]
    #[arg(long, default_value = "yaml")]
    format: String,
    /// Print the service names, one per line
    #[arg(long)]
    services: bool,
    /// Print the volume names, one per line
    #[arg(long)]
    volumes: bool,
    /// Print the network names, one per line
    #[arg(long)]
    networks: bool,
    /// Print the profile names, one per line
    #[arg(long)]
    profiles: bool,
    /// Print the image names, one per line
    #[arg(long)]
    images: bool,
    /// Print the service config hash, one per line ("*" for all services)
    #[arg(long)]
    hash: Option<String>,
    /// Only validate the configuration, don't print anything
    #[arg(short, long)]
    quiet: bool,
    /// Save to file (default to stdout)
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// Don't interpolate environment variables
    #[arg(long)]
    no_interpolate: bool,
    /// Don't normalize compose model
    #[arg(long)]
    no_normalize: bool,
    /// Don't check model consistency
    #[arg(long)]
    no_consistency: bool,
    /// Don't resolve file paths
    #[arg(long)]
    no_path_resolution: bool,
    /// Pin image tags to digests (needs a registry: not supported yet)
    #[arg(long)]
    resolve_image_digests: bool,
    /// Services to include (their profiles are enabled)
    services_args: Vec<String>,
}

pub fn run(global: &ComposeArgs, args: &ConfigArgs) -> anyhow::Result<()> {
    if args.resolve_image_digests {
        bail!("--resolve-image-digests is not supported yet: berth has no registry client yet");
    }
    let format = match args.format.as_str() {
        "yaml" | "" => render::Format::Yaml,
        "json" => render::Format::Json,
        other => bail!("unsupported format {other:?}: use yaml or json"),
    };
    let stages = Stages {
        interpolate: !args.no_interpolate,
        normalize: !args.no_normalize,
        consistency: !args.no_consistency,
        resolve_paths: !args.no_path_resolution,
    };
    let loaded = load_project(global, stages, &args.services_args)?;
    let project = render::Rendered::new(&loaded);

    if args.quiet {
        std::mem::forget(loaded);
        return Ok(());
    }
    let text = if args.services {
        lines(project.service_names())
    } else if args.volumes {
        lines(project.volume_names())
    } else if args.networks {
        lines(project.network_names())
    } else if args.profiles {
        lines(project.profile_names())
    } else if args.images {
        lines(project.images())
    } else if let Some(which) = &args.hash {
        lines(
            project
                .hashes(which)?
                .into_iter()
                .map(|(s, h)| format!("{s} {h}"))
                .collect(),
        )
    } else if args.no_interpolate {
        project.model_to_string(format)
    } else {
        project.to_string(format)?
    };
    // The process ends right after printing: freeing the project tree would only
    // cost time (a tenth of a large project's run).
    std::mem::forget(loaded);
    match &args.output {
        Some(path) => std::fs::write(path, text)
            .with_context(|| format!("failed to write {}", path.display())),
        None => std::io::stdout()
            .write_all(text.as_bytes())
            .context("failed to write to standard output"),
    }
}

fn lines(items: Vec<String>) -> String {
    items.into_iter().map(|l| l + "\n").collect()
}
