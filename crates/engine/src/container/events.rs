//! The event journal (`<root>/events.jsonl`): one line per container event, in Docker's
//! event shape (`docker events --format '{{json .}}'`), appended with `O_APPEND` so
//! concurrent writers (CLIs and supervisors) never interleave within a line. Followers
//! (`events`, `compose up --wait`, `service_healthy`) watch the file with inotify instead
//! of polling.

use std::collections::BTreeMap;
use std::fs::OpenOptions;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Event {
    pub status: String,
    pub id: String,
    pub from: String,
    #[serde(rename = "Type")]
    pub kind: String,
    #[serde(rename = "Action")]
    pub action: String,
    #[serde(rename = "Actor")]
    pub actor: Actor,
    pub scope: String,
    pub time: i64,
    #[serde(rename = "timeNano")]
    pub time_nano: i128,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Actor {
    #[serde(rename = "ID")]
    pub id: String,
    #[serde(rename = "Attributes")]
    pub attributes: BTreeMap<String, String>,
}

pub fn journal_path(root: &Path) -> PathBuf {
    root.join("events.jsonl")
}

/// A container event: `action` is Docker's (`create`, `start`, `die`, `destroy`,
/// `kill`, `stop`, `rename`, `health_status: healthy`, `oom`); the attributes are the
/// container's labels plus `image` and `name`, and whatever `extra` adds (`exitCode`,
/// `signal`, `oldName`).
pub fn container_event(
    id: &str,
    image: &str,
    name: &str,
    labels: &BTreeMap<String, String>,
    action: &str,
    extra: &[(&str, String)],
) -> Event {
    let mut attributes = labels.clone();
    attributes.insert("image".into(), image.into());
    attributes.insert("name".into(), name.into());
    for (key, value) in extra {
        attributes.insert((*key).into(), value.clone());
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    Event {
        status: action.into(),
        id: id.into(),
        from: image.into(),
        kind: "container".into(),
        action: action.into(),
        actor: Actor {
            id: id.into(),
            attributes,
        },
        scope: "local".into(),
        time: now.as_secs() as i64,
        time_nano: now.as_nanos() as i128,
    }
}

/// Appends one event as one `write` of one line. Not fsynced: the journal is for
/// followers and history, and the records (which are) remain the truth.
pub fn append(root: &Path, event: &Event) -> io::Result<()> {
    let mut line = serde_json::to_vec(event).map_err(io::Error::other)?;
    line.push(b'\n');
    let mut file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(journal_path(root))?;
    file.write_all(&line)
}

/// Every event in the journal, oldest first (lines that do not parse are skipped: a
/// writer killed in the middle of its `write` can leave a torn last line).
pub fn read_all(root: &Path) -> io::Result<Vec<Event>> {
    let text = match std::fs::read_to_string(journal_path(root)) {
        Ok(text) => text,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    Ok(text
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_appended_in_dockers_shape() {
        let dir = std::env::temp_dir().join(format!("berth-events-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let labels = BTreeMap::from([("a".to_string(), "b".to_string())]);
        let event = container_event(
            "abc",
            "busybox",
            "web",
            &labels,
            "die",
            &[("exitCode", "3".into())],
        );
        append(&dir, &event).unwrap();
        append(
            &dir,
            &container_event("abc", "busybox", "web", &labels, "destroy", &[]),
        )
        .unwrap();
        let text = std::fs::read_to_string(journal_path(&dir)).unwrap();
        let first: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
        assert_eq!(first["Type"], "container");
        assert_eq!(first["Action"], "die");
        assert_eq!(first["Actor"]["Attributes"]["exitCode"], "3");
        assert_eq!(first["Actor"]["Attributes"]["a"], "b");
        assert_eq!(first["Actor"]["Attributes"]["name"], "web");
        let all = read_all(&dir).unwrap();
        assert_eq!(
            all.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(),
            ["die", "destroy"]
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
