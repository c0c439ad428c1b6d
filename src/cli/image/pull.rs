//! `berth pull`: Docker's output, line by line when standard output is not a terminal
//! (`<layer>: Pull complete`), redrawn in place on a terminal (one line per layer with its
//! progress); `-q` prints only the reference.

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::sync::Mutex;

use anyhow::bail;
use berth_engine::image::pull::{LayerStatus, PullEvent, Pulled};

use berth_engine::reference::Reference;
use berth_engine::registry::{Platform, Registry};
use clap::Args;

#[derive(Args, Debug)]
pub struct PullArgs {
    /// Download all tagged images in the repository
    #[arg(short = 'a', long = "all-tags")]
    all_tags: bool,
    /// Skip image verification (content trust is not used by berth; accepted as Docker)
    #[arg(long = "disable-content-trust", default_value_t = true, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true", hide = true)]
    disable_content_trust: bool,
    /// Set platform if server is multi-platform capable
    #[arg(long)]
    platform: Option<String>,
    /// Suppress verbose output
    #[arg(short, long)]
    quiet: bool,
    /// NAME[:TAG|@DIGEST]
    name: String,
}

pub fn run(root: &Path, args: &PullArgs) -> anyhow::Result<()> {
    let platform = args.platform.as_deref().map(Platform::parse).transpose()?;
    let reference = Reference::parse(&args.name)?;
    if args.all_tags && (reference.tag().is_some() || reference.digest().is_some()) {
        bail!("tag can't be used with --all-tags/-a");
    }
    let registry = Registry::from_environment()?;
    let images = super::open(root)?;
    let tags: Vec<Reference> = if args.all_tags {
        let client = registry.client(reference.domain())?;
        berth_engine::registry::list_tags(&client, &reference)?
            .iter()
            .map(|t| reference.with_tag(t))
            .collect::<Result<_, _>>()?
    } else {
        vec![reference.clone()]
    };
    if !args.quiet && reference.tag().is_none() && reference.digest().is_none() && !args.all_tags {
        println!("Using default tag: latest");
    }
    let mut last = None;
    for one in &tags {
        last = Some(pull_one(
            &images,
            &registry,
            one,
            platform.as_ref(),
            args.quiet,
            Out::Stdout,
        )?);
    }
    match (last, args.all_tags) {
        (Some(_), true) => println!("{}", reference.name()),
        (Some(p), false) => println!("{}", p.reference),
        (None, _) => {}
    }
    Ok(())
}

/// Where a pull's progress goes: `pull` prints it, `run` and `create` show it on stderr.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Out {
    Stdout,
    Stderr,
}

impl Out {
    fn line(self, text: &str) {
        match self {
            Out::Stdout => {
                let _ = writeln!(std::io::stdout().lock(), "{text}");
            }
            Out::Stderr => {
                let _ = writeln!(std::io::stderr().lock(), "{text}");
            }
        }
    }

    fn is_terminal(self) -> bool {
        match self {
            Out::Stdout => std::io::stdout().is_terminal(),
            Out::Stderr => std::io::stderr().is_terminal(),
        }
    }
}

/// Pulls one reference with Docker's lines (`<tag>: Pulling from <path>`, the layers,
/// `Digest:`, `Status:`), nothing with `quiet`.
pub fn pull_one(
    images: &berth_engine::image::Images,
    registry: &Registry,
    one: &Reference,
    platform: Option<&Platform>,
    quiet: bool,
    out: Out,
) -> anyhow::Result<Pulled> {
    let target = match one.digest() {
        Some(d) => d.to_string(),
        None => one.tag_or_default().to_string(),
    };
    if !quiet {
        out.line(&format!("{target}: Pulling from {}", one.path()));
    }
    let view = Mutex::new(View::new(out));
    let events = |e: PullEvent| {
        if !quiet && let Ok(mut v) = view.lock() {
            v.show(e);
        }
    };
    let pulled = images.pull(registry, one, platform, &events)?;
    for w in &pulled.warnings {
        eprintln!("WARNING: {w}");
    }
    if !quiet {
        out.line(&format!("Digest: {}", pulled.digest));
        let shown = pulled.reference.familiar_string();
        if pulled.newer {
            out.line(&format!("Status: Downloaded newer image for {shown}"));
        } else {
            out.line(&format!("Status: Image is up to date for {shown}"));
        }
    }
    Ok(pulled)
}

/// The layers' lines: printed as they change (no terminal), or kept and redrawn.
struct View {
    out: Out,
    tty: bool,
    layers: Vec<(String, String)>,
    drawn: usize,
}

impl View {
    fn new(out: Out) -> View {
        View {
            out,
            tty: out.is_terminal(),
            layers: Vec::new(),
            drawn: 0,
        }
    }

    fn show(&mut self, e: PullEvent) {
        let text = match &e.status {
            LayerStatus::AlreadyExists => "Already exists".to_string(),
            LayerStatus::Waiting => "Waiting".to_string(),
            LayerStatus::Downloading { done: 0, .. } => "Pulling fs layer".to_string(),
            LayerStatus::Downloading { done, total } => {
                if !self.tty {
                    return;
                }
                format!("Downloading {}", bar(*done, *total))
            }
            LayerStatus::DownloadComplete => "Download complete".to_string(),
            LayerStatus::PullComplete => "Pull complete".to_string(),
        };
        if !self.tty {
            self.out.line(&format!("{}: {text}", e.layer));
            return;
        }
        let mut out: Box<dyn Write> = match self.out {
            Out::Stdout => Box::new(std::io::stdout().lock()),
            Out::Stderr => Box::new(std::io::stderr().lock()),
        };
        match self.layers.iter_mut().find(|(id, _)| *id == e.layer) {
            Some(entry) => entry.1 = text,
            None => self.layers.push((e.layer, text)),
        }
        // Up to the first line drawn, then every line again.
        if self.drawn > 0 {
            let _ = write!(out, "\x1b[{}A", self.drawn);
        }
        for (id, text) in &self.layers {
            let _ = writeln!(out, "\x1b[2K{id}: {text}");
        }
        self.drawn = self.layers.len();
        let _ = out.flush();
    }
}

/// Docker's `[=====>    ]  1.2MB/3.4MB`.
fn bar(done: u64, total: u64) -> String {
    const WIDTH: u64 = 50;
    let filled = (done.min(total) * WIDTH).checked_div(total).unwrap_or(0);
    let mut s = String::from("[");
    for i in 0..WIDTH {
        s.push(if i < filled {
            '='
        } else if i == filled {
            '>'
        } else {
            ' '
        });
    }
    s.push(']');
    format!("{s}  {}/{}", human(done), human(total))
}

fn human(bytes: u64) -> String {
    let b = bytes as f64;
    if b >= 1e9 {
        format!("{:.2}GB", b / 1e9)
    } else if b >= 1e6 {
        format!("{:.1}MB", b / 1e6)
    } else if b >= 1e3 {
        format!("{:.1}kB", b / 1e3)
    } else {
        format!("{bytes}B")
    }
}
