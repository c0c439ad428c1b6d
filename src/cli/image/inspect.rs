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
        values.push(image_json(&images, name)?);
    }
    print(&values, args.format.as_deref())
}

/// One image as `docker image inspect` shows it.
pub fn image_json(
    images: &berth_engine::image::Images,
    name: &str,
) -> anyhow::Result<serde_json::Value> {
    let image = images.resolve(name)?;
    let config = images.config(&image)?;
    let lowers: Vec<_> = image
        .layers
        .iter()
        .map(|l| images.store().layer_dir(&l.chain_id))
        .collect();
    Ok(inspect_json(&image, &config, &lowers))
}

/// Prints inspect results as Docker does: a JSON array indented by four spaces, one
/// compact object per line for `json`, or a template per object.
pub fn print(values: &[serde_json::Value], format: Option<&str>) -> anyhow::Result<()> {
    match format {
        None | Some("") => {
            let mut out = Vec::new();
            let formatter = serde_json::ser::PrettyFormatter::with_indent(b"    ");
            let mut ser = serde_json::Serializer::with_formatter(&mut out, formatter);
            serde::Serialize::serialize(values, &mut ser)?;
            println!("{}", String::from_utf8_lossy(&out));
        }
        Some("json") => {
            for v in values {
                println!("{}", serde_json::to_string(v)?);
            }
        }
        Some(format) => {
            let template = crate::cli::template::parse(format)?;
            for v in values {
                println!("{}", template.render(v)?);
            }
        }
    }
    Ok(())
}
