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

/// Reads the journal from the start (`since` filters by time) and then, unless `until`
/// has passed, follows it: each new line is handed to `each` as it is appended, woken by
/// inotify on the root directory (no polling). Returns at `until`, or when `each` returns
/// false.
pub fn follow(
    root: &Path,
    since: Option<i128>,
    until: Option<i128>,
    each: &mut dyn FnMut(&Event) -> bool,
) -> io::Result<()> {
    use rustix::event::{PollFd, PollFlags, Timespec, poll};
    use rustix::fs::inotify::{self, CreateFlags, WatchFlags};
    use std::io::{Read, Seek, SeekFrom};

    // Watch before the first read, so nothing appended after it is missed.
    let watch = inotify::init(CreateFlags::CLOEXEC | CreateFlags::NONBLOCK)?;
    inotify::add_watch(
        &watch,
        root,
        WatchFlags::MODIFY | WatchFlags::CREATE | WatchFlags::MOVED_TO,
    )?;
    let path = journal_path(root);
    let mut file: Option<std::fs::File> = None;
    let mut offset = 0u64;
    let mut partial: Vec<u8> = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    let now = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as i128)
            .unwrap_or_default()
    };
    loop {
        if file.is_none() {
            match std::fs::File::open(&path) {
                Ok(f) => file = Some(f),
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
        if let Some(f) = file.as_mut() {
            f.seek(SeekFrom::Start(offset))?;
            loop {
                let n = f.read(&mut buf)?;
                if n == 0 {
                    break;
                }
                offset += n as u64;
                partial.extend_from_slice(&buf[..n]);
            }
            let complete = partial
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(0, |i| i + 1);
            let lines: Vec<u8> = partial.drain(..complete).collect();
            for line in lines.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
                let Ok(event) = serde_json::from_slice::<Event>(line) else {
                    continue;
                };
                if since.is_some_and(|s| event.time_nano < s) {
                    continue;
                }
                if until.is_some_and(|u| event.time_nano > u) {
                    return Ok(());
                }
                if !each(&event) {
                    return Ok(());
                }
            }
        }
        let timeout = match until {
            None => None,
            Some(until) => {
                let left = until - now();
                if left <= 0 {
                    return Ok(());
                }
                Some(Timespec {
                    tv_sec: (left / 1_000_000_000) as i64,
                    tv_nsec: (left % 1_000_000_000) as _,
                })
            }
        };
        let mut fds = [PollFd::new(&watch, PollFlags::IN)];
        match poll(&mut fds, timeout.as_ref()) {
            Ok(_) | Err(rustix::io::Errno::INTR) => {}
            Err(e) => return Err(e.into()),
        }
        // Drain the queued inotify events; what changed is re-read from `offset`.
        let mut drain = [0u8; 4096];
        while let Ok(n) = rustix::io::read(&watch, &mut drain) {
            if n == 0 {
                break;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follow_sees_events_appended_after_it_started() {
        let dir = std::env::temp_dir().join(format!("berth-events-follow-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let labels = BTreeMap::new();
        append(
            &dir,
            &container_event("a", "busybox", "one", &labels, "create", &[]),
        )
        .unwrap();
        let writer_dir = dir.clone();
        let (seen_tx, seen_rx) = std::sync::mpsc::channel::<String>();
        let writer = std::thread::spawn(move || {
            // Writes the next event only once the follower has seen the previous one.
            assert_eq!(seen_rx.recv().unwrap(), "create");
            let labels = BTreeMap::new();
            append(
                &writer_dir,
                &container_event("a", "busybox", "one", &labels, "start", &[]),
            )
            .unwrap();
        });
        let mut actions = Vec::new();
        follow(&dir, None, None, &mut |e| {
            actions.push(e.action.clone());
            let _ = seen_tx.send(e.action.clone());
            e.action != "start"
        })
        .unwrap();
        writer.join().unwrap();
        assert_eq!(actions, ["create", "start"]);
        // With `until` in the past, it returns after what is there.
        let mut count = 0;
        follow(&dir, None, Some(1), &mut |_| {
            count += 1;
            true
        })
        .unwrap();
        assert_eq!(count, 0);
        std::fs::remove_dir_all(&dir).unwrap();
    }

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
