//! `berth push`: Docker's output (`<layer>: Pushed`, then `<tag>: digest: … size: …`);
//! `-q` prints only the reference, `-a` pushes every local tag of the repository.

use std::io::Write;
use std::path::Path;
use std::sync::Mutex;

use anyhow::bail;
use berth_engine::image::push::{PushEvent, PushStatus};
use berth_engine::reference::Reference;
use berth_engine::registry::Registry;
use clap::Args;

#[derive(Args, Debug)]
pub struct PushArgs {
    /// Push all tags of an image to the repository
    #[arg(short = 'a', long = "all-tags")]
    all_tags: bool,
    /// Skip image signing (content trust is not used by berth; accepted as Docker)
    #[arg(long = "disable-content-trust", default_value_t = true, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true", hide = true)]
    disable_content_trust: bool,
    /// Suppress verbose output
    #[arg(short, long)]
    quiet: bool,
    /// NAME[:TAG]
    name: String,
}

pub fn run(root: &Path, args: &PushArgs) -> anyhow::Result<()> {
    let reference = Reference::parse(&args.name)?;
    if reference.digest().is_some() {
        bail!(
            "cannot push a digest reference: push {} by its tag",
            reference.familiar_name()
        );
    }
    if args.all_tags && reference.tag().is_some() {
        bail!("tag can't be used with --all-tags/-a");
    }
    let images = super::open(root)?;
    let tags: Vec<Reference> = if args.all_tags {
        let prefix = format!("{}:", reference.name());
        let mut tags: Vec<Reference> = images
            .store()
            .tags()?
            .keys()
            .filter(|k| k.starts_with(&prefix))
            .filter_map(|k| Reference::parse(k).ok())
            .collect();
        tags.sort_by_key(|r| r.tag_or_default().to_string());
        if tags.is_empty() {
            bail!(
                "An image does not exist locally with the tag: {}",
                reference.familiar_name()
            );
        }
        tags
    } else {
        if reference.tag().is_none() && !args.quiet {
            println!("Using default tag: latest");
        }
        vec![reference.clone().with_default_tag()]
    };
    let registry = Registry::from_environment()?;
    if !args.quiet {
        println!(
            "The push refers to repository [{}]",
            reference.familiar_name()
        );
    }
    for one in &tags {
        let printed = Mutex::new(());
        let events = |e: PushEvent| {
            if args.quiet {
                return;
            }
            let text = match &e.status {
                PushStatus::Preparing => "Preparing".to_string(),
                PushStatus::AlreadyExists => "Layer already exists".to_string(),
                PushStatus::MountedFrom(from) => format!("Mounted from {from}"),
                PushStatus::Pushing { .. } => return,
                PushStatus::Pushed => "Pushed".to_string(),
            };
            let _guard = printed.lock();
            let _ = writeln!(std::io::stdout().lock(), "{}: {text}", e.layer);
        };
        let pushed = images.push(&registry, one, &events)?;
        for w in &pushed.warnings {
            eprintln!("WARNING: {w}");
        }
        if args.quiet {
            println!("{}", one.familiar_string());
        } else {
            println!(
                "{}: digest: {} size: {}",
                pushed.tag, pushed.digest, pushed.size
            );
        }
    }
    Ok(())
}
