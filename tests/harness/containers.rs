//! Containers in a test's own state root: the busybox test image loaded, whatever
//! containers a test leaves (also when it fails) removed with `rm -f` before the root is
//! deleted, and the container directory's records read and edited as a crash would.

use std::process::Command;

use super::state::StateRoot as Root;

/// A root with the busybox test image loaded.
pub struct Guarded(pub Root);

impl std::ops::Deref for Guarded {
    type Target = Root;
    fn deref(&self) -> &Root {
        &self.0
    }
}

impl Drop for Guarded {
    fn drop(&mut self) {
        let (_, ids, _) = self.0.berth(&["ps", "-aq", "--no-trunc"]);
        for id in ids.lines() {
            let _ = self.0.berth(&["rm", "-f", id]);
        }
        remove_networks(&self.0);
    }
}

/// The root's user networks (`network rm`), and the bridge of its default `bridge`
/// network, which berth keeps as Docker keeps docker0.
pub fn remove_networks(root: &Root) {
    let (_, ids, _) = root.berth(&["network", "ls", "-q", "--filter", "type=custom"]);
    for id in ids.lines() {
        let _ = root.berth(&["network", "rm", id]);
    }
    let dir = root.path().join("state/networks");
    for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
        let Ok(text) = std::fs::read_to_string(entry.path().join("network.json")) else {
            continue;
        };
        let Ok(file) = serde_json::from_str::<serde_json::Value>(&text) else {
            continue;
        };
        if let Some(bridge) = file["Bridge"].as_str().filter(|b| !b.is_empty()) {
            let _ = Command::new("ip").args(["link", "del", bridge]).output();
            let _ = berth_net::nft::remove_network(bridge);
        }
    }
}

pub fn root(name: &str) -> Guarded {
    super::require_root();
    let root = Root::new(name);
    let tar = root.busybox_tar();
    root.ok(&["load", "-q", "-i", tar.to_str().expect("utf-8 path")]);
    Guarded(root)
}

/// `berth run --network none <args>`: (exit code, stdout, stderr).
pub fn run(root: &Root, args: &[&str]) -> (i32, String, String) {
    let mut all = vec!["run", "--network", "none"];
    all.extend_from_slice(args);
    root.berth(&all)
}

/// `run --network none <flags> busybox true` is refused before anything runs: exit 125,
/// nothing on stdout, one line on stderr that starts with `message`.
pub fn assert_refused(root: &Root, flags: &[&str], message: &str) {
    let mut args = flags.to_vec();
    args.extend_from_slice(&["busybox", "true"]);
    let (code, out, err) = run(root, &args);
    assert_eq!((code, out.as_str()), (125, ""), "{flags:?}: {err}");
    assert_eq!(err.lines().count(), 1, "{flags:?}: {err}");
    assert!(err.starts_with(message), "{flags:?}: {err}");
}

/// `berth --root <the test's state>`, for commands a test runs in the background.
pub fn berth_command(root: &Root) -> Command {
    let mut command = super::berth_command();
    command.arg("--root").arg(root.path().join("state"));
    command
}

/// Reads one of a container's JSON files (`state.json`, `container.json`), lets `edit`
/// change it, and writes it back: what a crash, a reboot or another berth would leave.
pub fn edit_record(root: &Root, id: &str, file: &str, edit: impl FnOnce(&mut serde_json::Value)) {
    let path = root.path().join("state/containers").join(id).join(file);
    let mut value = read_record(root, id, file);
    edit(&mut value);
    std::fs::write(&path, serde_json::to_vec(&value).expect("json")).expect("write");
}

/// One of a container's JSON files, as berth wrote it.
pub fn read_record(root: &Root, id: &str, file: &str) -> serde_json::Value {
    let path = root.path().join("state/containers").join(id).join(file);
    serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("json")
}

/// `inspect <id>` as JSON (the first element).
pub fn inspect(root: &Root, id: &str) -> serde_json::Value {
    let out = root.ok(&["inspect", id]);
    let mut all: serde_json::Value = serde_json::from_str(&out).expect("inspect json");
    all[0].take()
}

/// The next whole second, for `events --until` (whole seconds, as Docker's).
pub fn events_until() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock");
    (now.as_secs() + 1).to_string()
}
