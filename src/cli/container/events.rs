//! `events`: the event journal, past (`--since`) and live, in Docker's formats.

use std::io::Write;
use std::path::Path;

use berth_engine::container::events::{self, Event};
use berth_engine::container::logs;
use clap::Args;

#[derive(Args, Debug)]
pub struct EventsArgs {
    /// Show all events created since timestamp
    #[arg(long)]
    since: Option<String>,
    /// Stream events until this timestamp
    #[arg(long)]
    until: Option<String>,
    /// Filter output based on conditions provided (container, event, image, label, type)
    #[arg(short, long)]
    filter: Vec<String>,
    /// Format output using a custom template: 'json' or a Go template
    #[arg(long)]
    format: Option<String>,
}

pub fn run(root: &Path, args: &EventsArgs) -> anyhow::Result<()> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as i128)
        .unwrap_or_default();
    let since = args
        .since
        .as_deref()
        .map(|s| logs::parse_since(s, now))
        .transpose()?;
    let until = args
        .until
        .as_deref()
        .map(|s| logs::parse_until(s, now))
        .transpose()?;
    let mut filters = Vec::new();
    for f in &args.filter {
        let (key, value) =
            crate::cli::filters::split(f, &["container", "event", "image", "label", "type"])?;
        filters.push((key.to_string(), value.to_string()));
    }
    let template = match args.format.as_deref() {
        None | Some("json") => None,
        Some(f) => Some(crate::cli::template::parse(f)?),
    };
    let json = args.format.as_deref() == Some("json");
    // Without --since, only what happens from now on (as Docker).
    let since = since.or(Some(now));
    let containers = super::open(root)?;
    let mut out = std::io::stdout().lock();
    let mut failed: Option<anyhow::Error> = None;
    events::follow(containers.root(), since, until, &mut |event| {
        if !passes(event, &filters) {
            return true;
        }
        let line = if json {
            serde_json::to_string(event).map_err(anyhow::Error::from)
        } else if let Some(t) = &template {
            serde_json::to_value(event)
                .map_err(anyhow::Error::from)
                .and_then(|v| t.render(&v).map_err(anyhow::Error::from))
        } else {
            Ok(default_line(event))
        };
        match line.and_then(|l| {
            writeln!(out, "{l}")
                .and_then(|()| out.flush())
                .map_err(Into::into)
        }) {
            Ok(()) => true,
            Err(e) => {
                failed = Some(e);
                false
            }
        }
    })?;
    match failed {
        // The reader went away (`events | head`): not an error.
        Some(e)
            if e.downcast_ref::<std::io::Error>()
                .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe) =>
        {
            Ok(())
        }
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// Docker's line: `2026-11-23T19:57:00.123456789Z container start <id> (image=busybox, name=web)`.
fn default_line(event: &Event) -> String {
    let secs = (event.time_nano / 1_000_000_000) as i64;
    let nanos = (event.time_nano % 1_000_000_000) as u32;
    let rfc = berth_engine::time::format_rfc3339(secs, None);
    let time = format!("{}.{nanos:09}Z", rfc.trim_end_matches('Z'));
    let attributes: Vec<String> = event
        .actor
        .attributes
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    format!(
        "{time} {} {} {} ({})",
        event.kind,
        event.action,
        event.actor.id,
        attributes.join(", ")
    )
}

/// Docker's rule: values of one key are ORed (labels are ANDed), keys are ANDed.
fn passes(event: &Event, filters: &[(String, String)]) -> bool {
    crate::cli::filters::matches_all(filters, |k, v| matches(event, k, v))
}

fn matches(event: &Event, key: &str, value: &str) -> bool {
    let attr = |k: &str| event.actor.attributes.get(k).map(String::as_str);
    match key {
        "container" => event.actor.id.starts_with(value) || attr("name") == Some(value),
        // `health_status: healthy`, `exec_start: ls` match their bare action too, as
        // Docker's filter does.
        "event" => event.action == value || event.action.split(':').next() == Some(value),
        "image" => event.from == value || attr("image") == Some(value),
        "label" => crate::cli::filters::label_matches(value, attr),
        "type" => event.kind == value,
        _ => false,
    }
}
