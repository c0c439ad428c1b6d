//! `berth image inspect` (and `berth inspect` for images): Docker's JSON.

use std::path::Path;

use berth_engine::image::inspect_json;
use clap::Args;

#[derive(Args, Debug)]
pub struct InspectArgs {
    /// Format output using a custom template ('json' or a Go template)
    #[arg(short, long)]
    format: Option<String>,
    #[arg(required = true)]
    names: Vec<String>,
}

pub fn run(root: &Path, args: &InspectArgs) -> anyhow::Result<()> {
    let images = super::open(root)?;
    let mut values = Vec::new();
    for name in &args.names {
        let image = images.resolve(name)?;
        let config = images.config(&image)?;
        let lowers: Vec<_> = image
            .layers
            .iter()
            .map(|l| images.store().layer_dir(&l.chain_id))
            .collect();
        values.push(inspect_json(&image, &config, &lowers));
    }
    match args.format.as_deref() {
        None | Some("") => println!("{}", serde_json::to_string_pretty(&values)?),
        Some("json") => {
            for v in &values {
                println!("{}", serde_json::to_string(v)?);
            }
        }
        Some(format) => {
            let template = crate::cli::template::parse(format)?;
            for v in &values {
                println!("{}", template.render(v)?);
            }
        }
    }
    Ok(())
}
