//! Compose projects in a test's state root: the file with its own bridge and subnet,
//! and `berth compose` run over it.

use super::containers::Guarded;
use super::networks::bridge_name;

/// Writes `compose.yaml` (with the project's network) and returns its path.
pub fn project(root: &Guarded, file: &str, services: &str, tag: char, subnet: &str) -> String {
    named_project(root, "demo", file, services, tag, subnet)
}

pub fn named_project(
    root: &Guarded,
    name: &str,
    file: &str,
    services: &str,
    tag: char,
    subnet: &str,
) -> String {
    let text = format!(
        "name: {name}\nservices:\n{services}\nnetworks:\n  default:\n    driver_opts:\n      com.docker.network.bridge.name: {}\n    ipam:\n      config:\n        - subnet: {subnet}\n",
        bridge_name(tag)
    );
    root.write(file, text.as_bytes())
}

/// Whether `first` and `then` are both in `text`, in that order.
pub fn comes_before(text: &str, first: &str, then: &str) -> bool {
    matches!((text.find(first), text.find(then)), (Some(a), Some(b)) if a < b)
}

pub fn compose(root: &Guarded, file: &str, args: &[&str]) -> (i32, String, String) {
    let mut all = vec!["compose", "-f", file];
    all.extend_from_slice(args);
    root.berth(&all)
}

pub fn compose_ok(root: &Guarded, file: &str, args: &[&str]) -> (String, String) {
    let (code, out, err) = compose(root, file, args);
    assert_eq!(code, 0, "compose {args:?}: {err}");
    (out, err)
}

/// `ps --format json` as (name, id) pairs, sorted by name.
pub fn ps(root: &Guarded, file: &str) -> Vec<(String, String)> {
    let (out, _) = compose_ok(root, file, &["ps", "-a", "--format", "json"]);
    let mut rows: Vec<(String, String)> = out
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("json line");
            (
                v["Name"].as_str().unwrap_or_default().to_string(),
                v["ID"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    rows.sort();
    rows
}

/// `compose <args>` fails with one line containing `message`, and nothing of project
/// `demo` exists afterwards (no container, no network).
pub fn assert_refused(root: &Guarded, file: &str, args: &[&str], message: &str) {
    let (code, _, err) = compose(root, file, args);
    assert_ne!(code, 0, "{args:?}");
    assert!(err.contains(message), "{args:?}: {message} in {err}");
    assert_eq!(err.trim().lines().count(), 1, "{args:?}: one line: {err}");
    assert_no_project(root);
}

/// Nothing of project `demo` exists: no container, no network.
pub fn assert_no_project(root: &Guarded) {
    assert_eq!(root.ok(&["ps", "-aq"]), "");
    assert_eq!(
        root.ok(&["network", "ls", "-q", "--filter", "name=demo"]),
        ""
    );
}
