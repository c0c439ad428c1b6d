//! `ps`: Docker's table, `-a`, `-q`, `-n`, `-l`, `--no-trunc`, `--filter`, `--format`.

use std::path::Path;

use anyhow::bail;
use berth_engine::container::{Container, Status};
use clap::Args;
use serde_json::{Value, json};

use crate::cli::{template, units};

#[derive(Args, Debug)]
pub struct PsArgs {
    /// Show all containers (default shows just running)
    #[arg(short, long)]
    all: bool,
    /// Only display container IDs
    #[arg(short, long)]
    quiet: bool,
    /// Show n last created containers (includes all states)
    #[arg(short = 'n', long, default_value_t = -1)]
    last: i64,
    /// Show the latest created container (includes all states)
    #[arg(short, long)]
    latest: bool,
    /// Don't truncate output
    #[arg(long)]
    no_trunc: bool,
    /// Display total file sizes
    #[arg(short, long)]
    size: bool,
    /// Filter output based on conditions provided
    #[arg(short, long)]
    filter: Vec<String>,
    /// Format output using a custom template: 'table', 'table TEMPLATE', 'json', 'TEMPLATE'
    #[arg(long)]
    format: Option<String>,
}

const DEFAULT_FORMAT: &str =
    "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}";

const HEADERS: [(&str, &str); 8] = [
    ("ID", "CONTAINER ID"),
    ("RunningFor", "CREATED"),
    ("CreatedAt", "CREATED AT"),
    ("LocalVolumes", "LOCAL VOLUMES"),
    ("Image", "IMAGE"),
    ("Command", "COMMAND"),
    ("Status", "STATUS"),
    ("Names", "NAMES"),
];

pub fn run(root: &Path, args: &PsArgs) -> anyhow::Result<()> {
    if args.size {
        bail!("ps -s/--size is not supported by berth yet");
    }
    let filters = resolve_ancestors(root, parse_filters(&args.filter)?)?;
    let containers = super::open(root)?;
    let mut all = containers.list()?;
    let link_names = link_names(&all);
    let limit = if args.latest { 1 } else { args.last };
    // As Docker: a status filter (not `exited`) and `-n`/`-l` include stopped containers.
    let show_all = args.all || limit > 0 || filters.iter().any(|(k, _)| k == "status");
    all.retain(|c| {
        (show_all || c.state.running)
            && crate::cli::filters::matches_all(&filters, |k, v| matches(c, k, v))
    });
    if limit > 0 {
        all.truncate(limit as usize);
    }
    let now = now_seconds();
    let mut rows: Vec<Value> = all.iter().map(|c| row(c, args.no_trunc, now)).collect();
    if !args.no_trunc {
        for (c, r) in all.iter().zip(&mut rows) {
            if let Some(extra) = link_names.get(&c.record.name) {
                r["Names"] = Value::from(format!("{},{}", c.record.name, extra.join(",")));
            }
        }
    }
    if args.quiet {
        for r in &rows {
            println!("{}", r["ID"].as_str().unwrap_or_default());
        }
        return Ok(());
    }
    let format = args.format.as_deref().unwrap_or(DEFAULT_FORMAT);
    if format == "json" {
        for r in &rows {
            println!("{}", serde_json::to_string(r)?);
        }
        return Ok(());
    }
    let format = if format == "table" {
        DEFAULT_FORMAT
    } else {
        format
    };
    print!(
        "{}",
        template::render_table_with_headers(format, &rows, &HEADERS)?
    );
    Ok(())
}

/// The names legacy links give containers (`web/db` for `web`'s `--link db`), which
/// Docker's `ps` lists after the container's own (but not with `--no-trunc`).
fn link_names(all: &[Container]) -> std::collections::HashMap<String, Vec<String>> {
    let mut out: std::collections::HashMap<String, Vec<String>> = Default::default();
    for c in all {
        for link in c.record.host_config.links.iter().flatten() {
            if let Some((child, path)) = link.split_once(':') {
                let entry = out.entry(child.trim_start_matches('/').to_string());
                entry
                    .or_default()
                    .push(path.trim_start_matches('/').to_string());
            }
        }
    }
    for names in out.values_mut() {
        names.sort();
    }
    out
}

fn now_seconds() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

/// One row with Docker's field names (`docker ps --format json`).
pub fn row(c: &Container, no_trunc: bool, now: i64) -> Value {
    let r = &c.record;
    let mut command = std::iter::once(r.path.as_str())
        .chain(r.args.iter().map(String::as_str))
        .collect::<Vec<_>>()
        .join(" ");
    if !no_trunc && command.chars().count() > 20 {
        command = command.chars().take(19).collect::<String>() + "…";
    }
    let id = if no_trunc {
        r.id.clone()
    } else {
        r.id[..12].to_string()
    };
    let created = berth_engine::time::unix_seconds(&r.created).unwrap_or(now);
    let mut labels: Vec<String> = r
        .config
        .labels
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    labels.sort();
    json!({
        "Command": format!("{command:?}"),
        "CreatedAt": crate::cli::units::go_time(created),
        "ID": id,
        "Image": r.config.image,
        "Labels": labels.join(","),
        "LocalVolumes": "0",
        "Mounts": "",
        "Names": r.name,
        "Networks": network_names(r),
        "Ports": super::port::ps_text(c),
        "RunningFor": format!("{} ago", units::human_duration(now - created)),
        "Size": "0B",
        "State": c.state.status.as_str(),
        "Status": status(c, now),
    })
}

/// Docker's `State.String()`.
pub fn status(c: &Container, now: i64) -> String {
    let s = &c.state;
    let since = |t: &str| {
        berth_engine::time::unix_seconds(t)
            .map(|t| units::human_duration(now - t))
            .unwrap_or_default()
    };
    match s.status {
        Status::Running => {
            let health = match s.health.as_ref().map(|h| h.status.as_str()) {
                Some("starting") => " (health: starting)",
                Some("healthy") => " (healthy)",
                Some("unhealthy") => " (unhealthy)",
                _ => "",
            };
            format!("Up {}{health}", since(&s.started_at))
        }
        Status::Paused => format!("Up {} (Paused)", since(&s.started_at)),
        Status::Restarting => format!("Restarting ({}) {} ago", s.exit_code, since(&s.finished_at)),
        Status::Removing => "Removal In Progress".into(),
        Status::Dead => "Dead".into(),
        Status::Created => "Created".into(),
        Status::Exited => {
            if s.finished_at == berth_engine::container::ZERO_TIME {
                String::new()
            } else {
                format!("Exited ({}) {} ago", s.exit_code, since(&s.finished_at))
            }
        }
    }
}

const FILTERS: [&str; 7] = [
    "name", "label", "status", "ancestor", "exited", "id", "health",
];

fn parse_filters(raw: &[String]) -> anyhow::Result<Vec<(String, String)>> {
    raw.iter()
        .map(|f| {
            let (k, v) = crate::cli::filters::split(f, &FILTERS)?;
            if k == "status"
                && !["created", "restarting", "running", "removing", "paused", "exited", "dead"]
                    .contains(&v)
            {
                bail!(
                    "invalid filter 'status={v}': must be one of created, restarting, running, removing, paused, exited, dead"
                );
            }
            if k == "name" {
                crate::cli::name_filter::compile(v)?;
            }
            if k == "health" && !["starting", "healthy", "unhealthy", "none"].contains(&v) {
                bail!("Unrecognised filter value for health: {v}");
            }
            if k == "exited" && v.parse::<i32>().is_err() {
                bail!("invalid filter 'exited={v}': must be an integer exit code");
            }
            Ok((k.to_string(), v.to_string()))
        })
        .collect()
}

/// `ancestor=<name, tag, id or id prefix>` becomes the image id it names, so that
/// `busybox`, `busybox:latest` and `docker.io/library/busybox` all match the same
/// containers; a name that is no image matches only the name containers were created with.
fn resolve_ancestors(
    root: &Path,
    filters: Vec<(String, String)>,
) -> anyhow::Result<Vec<(String, String)>> {
    if !filters.iter().any(|(k, _)| k == "ancestor") {
        return Ok(filters);
    }
    let images = berth_engine::image::Images::open(root)?;
    Ok(filters
        .into_iter()
        .map(|(k, v)| match (k.as_str(), images.resolve(&v)) {
            ("ancestor", Ok(image)) => (k, image.id.to_string()),
            _ => (k, v),
        })
        .collect())
}

fn matches(c: &Container, key: &str, value: &str) -> bool {
    let r = &c.record;
    match key {
        // A regular expression, matched with and without the leading `/` (checked valid
        // when the filters were parsed).
        "name" => crate::cli::name_filter::compile(value)
            .is_ok_and(|re| re.is_match(&r.name) || re.is_match(&format!("/{}", r.name))),
        "id" => r.id.starts_with(value),
        "label" => crate::cli::filters::label_matches(value, |k| {
            r.config.labels.get(k).map(String::as_str)
        }),
        "status" => c.state.status.as_str() == value,
        "health" => {
            c.state
                .health
                .as_ref()
                .map_or("none", |h| h.status.as_str())
                == value
        }
        "exited" => {
            c.state.status == Status::Exited && value.parse::<i32>().ok() == Some(c.state.exit_code)
        }
        // Resolved to an image id when the filters were parsed (see `resolve_ancestors`).
        "ancestor" => r.image == value || r.config.image == value,
        _ => false,
    }
}

/// Docker's `Networks` column: the container's networks by name (`default` is `bridge`).
fn network_names(r: &berth_engine::container::ContainerRecord) -> String {
    use berth_engine::network::attach;
    if attach::mode_network(&r.host_config.network_mode).is_none() {
        return r.host_config.network_mode.clone();
    }
    attach::container_networks(r)
        .into_iter()
        .map(|(name, _)| name)
        .collect::<Vec<_>>()
        .join(",")
}
