//! `berth compose logs`: every container of the project (or of the services named), each
//! line behind Compose's `name | ` prefix (the container name without the project's,
//! padded; coloured on a terminal unless `--no-color`), following with `-f` until all of
//! them have stopped.

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::sync::Mutex;

use anyhow::anyhow;
use berth_compose::orchestrator::{Orchestrator, labels};
use berth_engine::container::logs::{self, ReadOptions};
use clap::Args;

use super::ComposeArgs;

#[derive(Args, Debug)]
pub struct LogsArgs {
    /// Follow log output
    #[arg(short, long)]
    follow: bool,
    /// Number of lines to show from the end of the logs for each container
    #[arg(short = 'n', long, default_value = "all")]
    tail: String,
    /// Show logs since timestamp (e.g. 2013-01-02T13:23:37Z) or relative (e.g. 42m for 42 minutes)
    #[arg(long)]
    since: Option<String>,
    /// Show logs before a timestamp (e.g. 2013-01-02T13:23:37Z) or relative (e.g. 42m for 42 minutes)
    #[arg(long)]
    until: Option<String>,
    /// Show timestamps
    #[arg(short, long)]
    timestamps: bool,
    /// Produce monochrome output
    #[arg(long = "no-color")]
    no_color: bool,
    /// Don't print prefix in logs
    #[arg(long = "no-log-prefix")]
    no_log_prefix: bool,
    /// Services to show (all when none)
    services: Vec<String>,
}

/// Compose's prefix colours, in turn.
const COLOURS: [&str; 6] = ["36", "33", "32", "35", "34", "31"];

/// A sink that writes whole lines, each behind the prefix, to the shared output.
struct Prefixed<'a> {
    prefix: String,
    out: &'a Mutex<()>,
    stderr: bool,
    pending: Vec<u8>,
}

impl Write for Prefixed<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.pending.extend_from_slice(buf);
        while let Some(end) = self.pending.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = self.pending.drain(..=end).collect();
            let _guard = self.out.lock();
            let mut text = self.prefix.clone().into_bytes();
            text.extend_from_slice(&line);
            if self.stderr {
                std::io::stderr().lock().write_all(&text)?;
            } else {
                std::io::stdout().lock().write_all(&text)?;
            }
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Prefixed<'_> {
    /// A last line without its newline, ended.
    fn finish(&mut self) -> std::io::Result<()> {
        if !self.pending.is_empty() {
            self.pending.push(b'\n');
            self.write_all(&[])?;
        }
        Ok(())
    }
}

pub fn run(root: &Path, args: &ComposeArgs, logs_args: &LogsArgs) -> anyhow::Result<()> {
    super::with_project(root, args, |orchestrator, loaded| {
        show(root, orchestrator, &loaded.project.name, logs_args)
    })
}

fn show(
    root: &Path,
    orchestrator: &Orchestrator<'_>,
    project: &str,
    logs_args: &LogsArgs,
) -> anyhow::Result<()> {
    let mut containers = orchestrator.project_containers().map_err(|e| anyhow!(e))?;
    containers.retain(|c| {
        let service = labels::service_of(c).to_string();
        logs_args.services.is_empty() || logs_args.services.contains(&service)
    });
    let now: berth_engine::time::Instant = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as i128)
        .unwrap_or_default();
    let read = ReadOptions {
        tail: logs::parse_tail(&logs_args.tail)?,
        since: logs_args
            .since
            .as_deref()
            .map(|s| logs::parse_since(s, now))
            .transpose()?,
        until: logs_args
            .until
            .as_deref()
            .map(|s| logs::parse_until(s, now))
            .transpose()?,
        timestamps: logs_args.timestamps,
        details: false,
    };
    stream(
        root,
        project,
        &containers,
        &StreamOptions {
            follow: logs_args.follow,
            no_color: logs_args.no_color,
            no_prefix: logs_args.no_log_prefix,
            read,
        },
    )
}

pub struct StreamOptions {
    pub follow: bool,
    pub no_color: bool,
    pub no_prefix: bool,
    pub read: ReadOptions,
}

/// The name Compose shows for a container: its name without the project's prefix.
pub fn shown_name(project: &str, name: &str) -> String {
    name.strip_prefix(&format!("{project}-"))
        .unwrap_or(name)
        .to_string()
}

/// Prints the logs of `containers`, each line behind its prefix; with `follow`, until
/// every one of them has stopped.
pub fn stream(
    root: &Path,
    project: &str,
    containers: &[berth_engine::container::Container],
    opts: &StreamOptions,
) -> anyhow::Result<()> {
    let mut containers: Vec<&berth_engine::container::Container> = containers.iter().collect();
    containers.sort_by(|a, b| a.record.name.cmp(&b.record.name));
    let width = containers
        .iter()
        .map(|c| shown_name(project, &c.record.name).chars().count())
        .max()
        .unwrap_or(0);
    let colour = !opts.no_color && std::io::stdout().is_terminal();
    let out = Mutex::new(());
    let engine = crate::cli::container::open(root)?;
    let prefix_of = |i: usize, name: &str| {
        if opts.no_prefix {
            return String::new();
        }
        let padded = format!("{:<width$} | ", shown_name(project, name));
        if colour {
            format!("\x1b[{}m{padded}\x1b[0m", COLOURS[i % COLOURS.len()])
        } else {
            padded
        }
    };
    let results: Vec<anyhow::Result<()>> = std::thread::scope(|scope| {
        let handles: Vec<_> = containers
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let (out, options, engine) = (&out, &opts.read, &engine);
                let prefix = prefix_of(i, &c.record.name);
                let follow = opts.follow;
                scope.spawn(move || -> anyhow::Result<()> {
                    let dir = engine.dir(&c.record.id);
                    let mut stdout = Prefixed {
                        prefix: prefix.clone(),
                        out,
                        stderr: false,
                        pending: Vec::new(),
                    };
                    let mut stderr = Prefixed {
                        prefix,
                        out,
                        stderr: true,
                        pending: Vec::new(),
                    };
                    if follow {
                        let id = c.record.id.clone();
                        let stop = || engine.state(&id).map(|s| !s.running).unwrap_or(true);
                        logs::follow(&dir, options, &mut stdout, &mut stderr, &stop)?;
                    } else {
                        logs::read(&dir, options, &mut stdout, &mut stderr)?;
                    }
                    stdout.finish()?;
                    stderr.finish()?;
                    Ok(())
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(anyhow!("a log reader panicked")))
            })
            .collect()
    });
    for r in results {
        r?;
    }
    Ok(())
}
