//! `berth compose events`: the engine's event journal, from now on, for the project's
//! containers (the services named, or all), in Compose's two forms: the line
//! `2026-12-04 01:02:03.123456 container start <id> (image=busybox, name=demo-web-1)` and,
//! with `--json`, `{"action":..,"attributes":..,"id":..,"service":..,"time":..,"type":"container"}`.
//! As in Compose, the `com.docker.compose.*` labels are left out of the attributes.

use std::io::Write;
use std::path::Path;

use berth_compose::orchestrator::labels;
use berth_engine::container::events::{self, Event};
use clap::Args;

use super::ComposeArgs;

#[derive(Args, Debug)]
pub struct EventsArgs {
    /// Output events as a stream of json objects
    #[arg(long)]
    json: bool,
    /// Services to watch (all when none)
    services: Vec<String>,
}

pub fn run(root: &Path, args: &ComposeArgs, a: &EventsArgs) -> anyhow::Result<()> {
    let loaded = super::load_project(args, super::Stages::default(), &[])?;
    let project = loaded.project.name.clone();
    for s in &a.services {
        if !loaded.project.services.contains_key(s) {
            anyhow::bail!("no such service: {s}");
        }
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as i128)
        .unwrap_or_default();
    let containers = crate::cli::container::open(root)?;
    let mut out = std::io::stdout().lock();
    let mut failed = None;
    events::follow(containers.root(), Some(now), None, &mut |event| {
        let attrs = &event.actor.attributes;
        if event.kind != "container"
            || attrs.get(labels::PROJECT).map(String::as_str) != Some(project.as_str())
        {
            return true;
        }
        let service = attrs.get(labels::SERVICE).cloned().unwrap_or_default();
        if !a.services.is_empty() && !a.services.contains(&service) {
            return true;
        }
        let line = if a.json {
            json_line(event, &service)
        } else {
            text_line(event)
        };
        match writeln!(out, "{line}").and_then(|()| out.flush()) {
            Ok(()) => true,
            Err(e) => {
                failed = Some(e);
                false
            }
        }
    })?;
    match failed {
        // The reader went away (`events | head`): not an error.
        Some(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Some(e) => Err(e.into()),
        None => Ok(()),
    }
}

/// The attributes Compose shows: the engine's, less Compose's own labels.
fn attributes(event: &Event) -> Vec<(&String, &String)> {
    event
        .actor
        .attributes
        .iter()
        .filter(|(k, _)| !k.starts_with("com.docker.compose."))
        .collect()
}

fn split_time(event: &Event) -> (i64, u32) {
    (
        (event.time_nano / 1_000_000_000) as i64,
        (event.time_nano % 1_000_000_000) as u32,
    )
}

fn text_line(event: &Event) -> String {
    let (secs, nanos) = split_time(event);
    // `2006-01-02 15:04:05.000000`, in UTC (berth's times are UTC throughout).
    let rfc = berth_engine::time::format_rfc3339(secs, None);
    let time = format!(
        "{}.{:06}",
        rfc.trim_end_matches('Z').replace('T', " "),
        nanos / 1000
    );
    let attrs: Vec<String> = attributes(event)
        .into_iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    format!(
        "{time} container {} {} ({})",
        event.action,
        event.actor.id,
        attrs.join(", ")
    )
}

fn json_line(event: &Event, service: &str) -> String {
    let (secs, nanos) = split_time(event);
    let rfc = berth_engine::time::format_rfc3339(secs, None);
    let time = format!("{}.{nanos:09}Z", rfc.trim_end_matches('Z'));
    let attrs: serde_json::Map<String, serde_json::Value> = attributes(event)
        .into_iter()
        .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
        .collect();
    serde_json::json!({
        "action": event.action,
        "attributes": attrs,
        "id": event.actor.id,
        "service": service,
        "time": time,
        "type": "container",
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_forms_leave_composes_labels_out() {
        let labels = [
            (labels::PROJECT.to_string(), "demo".to_string()),
            ("mine".to_string(), "yes".to_string()),
        ]
        .into_iter()
        .collect();
        let mut e = events::container_event("abc", "busybox", "demo-web-1", &labels, "start", &[]);
        e.time_nano = 1_764_810_123_456_789_012;
        assert_eq!(
            text_line(&e),
            "2025-12-04 01:02:03.456789 container start abc (image=busybox, mine=yes, name=demo-web-1)"
        );
        let v: serde_json::Value = serde_json::from_str(&json_line(&e, "web")).unwrap();
        assert_eq!(v["time"], "2025-12-04T01:02:03.456789012Z");
        assert_eq!(v["service"], "web");
        assert_eq!(v["action"], "start");
        assert!(v["attributes"].get(labels::PROJECT).is_none());
        assert_eq!(v["attributes"]["mine"], "yes");
    }
}
