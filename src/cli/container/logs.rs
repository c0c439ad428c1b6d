//! `logs`: `-f`, `--tail`, `--since`, `--until`, `-t`, `--details`.

use std::path::Path;

use anyhow::bail;
use berth_engine::container::logs::{self, ReadOptions};
use clap::Args;

#[derive(Args, Debug)]
pub struct LogsArgs {
    /// Follow log output
    #[arg(short, long)]
    follow: bool,
    /// Number of lines to show from the end of the logs
    #[arg(short = 'n', long, default_value = "all")]
    tail: String,
    /// Show logs since timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m")
    #[arg(long)]
    since: Option<String>,
    /// Show logs before a timestamp or relative time
    #[arg(long)]
    until: Option<String>,
    /// Show timestamps
    #[arg(short, long)]
    timestamps: bool,
    /// Show extra details provided to logs
    #[arg(long)]
    details: bool,
    container: String,
}

pub fn run(root: &Path, args: &LogsArgs) -> anyhow::Result<()> {
    let containers = super::open(root)?;
    let id = containers.lookup(&args.container)?;
    let record = containers.record(&id)?;
    if record.host_config.log_config.kind != "json-file" {
        bail!("configured logging driver does not support reading");
    }
    let now: berth_engine::time::Instant = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as i128)
        .unwrap_or_default();
    let options = ReadOptions {
        tail: logs::parse_tail(&args.tail)?,
        since: args
            .since
            .as_deref()
            .map(|s| logs::parse_since(s, now))
            .transpose()?,
        until: args
            .until
            .as_deref()
            .map(|s| logs::parse_until(s, now))
            .transpose()?,
        timestamps: args.timestamps,
        details: args.details,
    };
    let dir = containers.dir(&id);
    let mut stdout = std::io::stdout().lock();
    let mut stderr = std::io::stderr();
    if args.follow {
        // Following ends when the container is not running any more (Docker's rule); the
        // check is one state read and one non-blocking flock, at each inotify wakeup.
        let stop = || containers.state(&id).map(|s| !s.running).unwrap_or(true);
        logs::follow(&dir, &options, &mut stdout, &mut stderr, &stop)?;
    } else {
        logs::read(&dir, &options, &mut stdout, &mut stderr)?;
    }
    Ok(())
}
