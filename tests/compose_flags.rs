//! Compose's global flags and `up`'s selection flags end to end, as root: `--dry-run`
//! reports every step and changes nothing, `--progress json` writes one object per change,
//! `--parallel 1` still converges, `up --no-deps` starts the named service alone,
//! `up --pull never` refuses a missing image, `platform:` must match the local image, `version` prints Compose's forms.
//! Subnets 10.232.95–96; DNS forwarding points at 127.0.0.1.

mod harness;

use harness::compose::{assert_no_project, assert_refused, compose, compose_ok, project, ps};
use harness::containers::root;

const SERVICES: &str = "  web:
    image: busybox
    init: true
    command: [\"sleep\", \"600\"]
    dns: [127.0.0.1]
    scale: 2
    depends_on: [db]
  db:
    image: busybox
    init: true
    command: [\"sleep\", \"600\"]
    dns: [127.0.0.1]";

#[test]
fn dry_run_reports_every_step_and_changes_nothing() {
    let root = root("compose-dry-run");
    let file = project(&root, "compose.yaml", SERVICES, 'a', "10.232.95.0/24");
    let (_, err) = compose_ok(&root, &file, &["--dry-run", "up", "-d"]);
    for line in [
        " DRY-RUN MODE -  Network demo_default  Created",
        " DRY-RUN MODE -  Container demo-db-1  Started",
        " DRY-RUN MODE -  Container demo-web-2  Started",
    ] {
        assert!(err.contains(line), "{line} in {err}");
    }
    assert_no_project(&root);

    // For real, with one operation at a time and JSON progress.
    let (_, err) = compose_ok(
        &root,
        &file,
        &["--parallel", "1", "--progress", "json", "up", "-d"],
    );
    let events: Vec<serde_json::Value> = err
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect();
    assert!(
        events
            .iter()
            .any(|e| e["id"] == "Container demo-web-2" && e["text"] == "Started"),
        "{err}"
    );
    assert_eq!(ps(&root, &file).len(), 3);

    // A dry-run down leaves everything running.
    let (_, err) = compose_ok(&root, &file, &["--dry-run", "down", "-t", "0"]);
    assert!(
        err.contains(" DRY-RUN MODE -  Container demo-web-1  Removed"),
        "{err}"
    );
    assert!(
        err.contains(" DRY-RUN MODE -  Network demo_default  Removed"),
        "{err}"
    );
    assert_eq!(root.ok(&["ps", "-q"]).lines().count(), 3);
    compose_ok(&root, &file, &["down", "-t", "0"]);
    assert_eq!(root.ok(&["ps", "-aq"]), "");
}

#[test]
fn up_no_deps_and_pull_policies_select_what_is_made() {
    let root = root("compose-up-select");
    let file = project(&root, "compose.yaml", SERVICES, 'b', "10.232.96.0/24");
    compose_ok(&root, &file, &["up", "-d", "--no-deps", "web"]);
    let names: Vec<String> = ps(&root, &file).into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["demo-web-1", "demo-web-2"]);
    compose_ok(&root, &file, &["down", "-t", "0"]);
    // --no-deps without services: all of them.
    compose_ok(&root, &file, &["up", "-d", "--no-deps"]);
    assert_eq!(ps(&root, &file).len(), 3);
    compose_ok(&root, &file, &["down", "-t", "0"]);

    let (code, _, err) = compose(&root, &file, &["up", "-d", "--pull", "sometimes"]);
    assert_ne!(code, 0);
    assert!(err.contains("--pull \"sometimes\""), "{err}");
    let missing = project(
        &root,
        "missing.yaml",
        "  app:\n    image: busybox:not-here",
        'b',
        "10.232.96.0/24",
    );
    let (code, _, err) = compose(&root, &missing, &["up", "-d", "--pull", "never"]);
    assert_ne!(code, 0);
    assert!(err.contains("no such image busybox:not-here"), "{err}");

    // platform: the local image must be of that platform.
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    };
    let other = if arch == "amd64" { "arm64" } else { "amd64" };
    let on = |platform: &str| {
        project(
            &root,
            "platform.yaml",
            &format!(
                "  app:\n    image: busybox\n    platform: {platform}\n    pull_policy: never\n    command: [\"true\"]"
            ),
            'b',
            "10.232.96.0/24",
        )
    };
    assert_refused(
        &root,
        &on(&format!("linux/{other}")),
        &["up", "-d"],
        &format!("services.app.platform: image busybox is linux/{arch}, not linux/{other}"),
    );
    assert_refused(&root, &on("plan9"), &["up", "-d"], "services.app.platform:");
    let same = on(&format!("linux/{arch}"));
    compose_ok(&root, &same, &["up", "-d"]);
    compose_ok(&root, &same, &["down"]);
    assert_no_project(&root);
}

#[test]
fn version_prints_composes_forms() {
    let root = root("compose-version");
    let (out, _) = compose_ok(&root, "-", &["version", "--short"]);
    let short = out.trim();
    assert!(
        !short.is_empty() && short.split('.').all(|p| p.parse::<u32>().is_ok()),
        "{out}"
    );
    let (out, _) = compose_ok(&root, "-", &["version"]);
    assert_eq!(out, format!("berth compose version v{short}\n"));
    let (out, _) = compose_ok(&root, "-", &["version", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(v["version"], format!("v{short}"));
}
