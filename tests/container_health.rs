//! Health checks as `ps`, `inspect`, `events` and `depends_on: service_healthy` see them:
//! the first probe runs as soon as the process starts (not one interval later), states
//! go starting → healthy → unhealthy after `retries` failures, an overdue probe is
//! killed and fails with Docker's text, `--no-healthcheck` has none, bad flags get one
//! line. Root.

mod harness;

use std::time::{Duration, Instant};

use harness::containers::{assert_refused, inspect, root, run};

fn wait_for(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn health(root: &harness::state::StateRoot, id: &str) -> serde_json::Value {
    inspect(root, id)["State"]["Health"].clone()
}

#[test]
fn states_follow_the_probe() {
    let root = root("health");
    // A 30 s interval: healthy within seconds proves the first probe ran at once.
    let id = run(
        &root,
        &[
            "-d",
            "--health-cmd",
            "test -f /tmp/ready",
            "--health-interval",
            "30s",
            "--health-start-period",
            "1m",
            "--health-start-interval",
            "100ms",
            "--health-retries",
            "2",
            "busybox",
            "sh",
            "-c",
            "sleep 0.5; touch /tmp/ready; sleep 1000",
        ],
    )
    .1;
    let id = id.trim().to_string();
    assert_eq!(health(&root, &id)["Status"], "starting");
    assert!(
        root.ok(&["ps", "--format", "{{.Status}}"])
            .contains("(health: starting)")
    );
    let started = Instant::now();
    wait_for("healthy", Duration::from_secs(10), || {
        health(&root, &id)["Status"] == "healthy"
    });
    assert!(started.elapsed() < Duration::from_secs(10));
    let h = health(&root, &id);
    assert_eq!(
        h["FailingStreak"], 0,
        "failures in the start period do not count: {h}"
    );
    assert_eq!(
        h["Log"]
            .as_array()
            .and_then(|l| l.last())
            .map(|l| l["ExitCode"].clone()),
        Some(0.into())
    );
    assert!(
        root.ok(&["ps", "--format", "{{.Status}}"])
            .contains("(healthy)")
    );
    assert_eq!(
        root.ok(&["ps", "-q", "--no-trunc", "--filter", "health=healthy"])
            .trim(),
        id
    );
    assert_eq!(root.ok(&["ps", "-q", "--filter", "health=unhealthy"]), "");
    root.ok(&["rm", "-f", &id]);

    // Failing from the start with no start period: unhealthy after `retries` probes.
    let id = run(
        &root,
        &[
            "-d",
            "--health-cmd",
            "echo nope; exit 3",
            "--health-interval",
            "100ms",
            "--health-retries",
            "3",
            "busybox",
            "sleep",
            "1000",
        ],
    )
    .1;
    let id = id.trim().to_string();
    wait_for("unhealthy", Duration::from_secs(10), || {
        health(&root, &id)["Status"] == "unhealthy"
    });
    let h = health(&root, &id);
    assert!(h["FailingStreak"].as_u64() >= Some(3), "{h}");
    let last = &h["Log"]
        .as_array()
        .expect("log")
        .last()
        .expect("a result")
        .clone();
    assert_eq!(
        (last["ExitCode"].as_i64(), last["Output"].as_str()),
        (Some(3), Some("nope\n"))
    );
    let events = root.ok(&[
        "events",
        "--since",
        "0",
        "--until",
        &harness::containers::events_until(),
        "--filter",
        &format!("container={id}"),
    ]);
    assert!(
        events.contains(" container health_status: unhealthy "),
        "{events}"
    );
    root.ok(&["rm", "-f", &id]);
}

#[test]
fn an_overdue_probe_is_killed_and_fails() {
    let root = root("health-timeout");
    let id = run(
        &root,
        &[
            "-d",
            "--health-cmd",
            "sleep 30",
            "--health-timeout",
            "200ms",
            "--health-retries",
            "1",
            "busybox",
            "sleep",
            "1000",
        ],
    )
    .1;
    let id = id.trim().to_string();
    wait_for("unhealthy", Duration::from_secs(10), || {
        health(&root, &id)["Status"] == "unhealthy"
    });
    let last = health(&root, &id)["Log"][0].clone();
    assert_eq!(last["ExitCode"], -1);
    assert_eq!(last["Output"], "Health check exceeded timeout (200ms)");
    // The probe is gone from the container.
    let ps = root.ok(&["exec", &id, "ps", "-o", "args"]);
    assert!(!ps.contains("sleep 30"), "{ps}");
    // No health check at all: no Health, no suffix.
    let plain = run(
        &root,
        &["-d", "--no-healthcheck", "busybox", "sleep", "1000"],
    )
    .1;
    assert!(
        inspect(&root, plain.trim())["State"]
            .get("Health")
            .is_none()
    );
    let cases: [(&[&str], &str); 3] = [
        (
            &["--health-interval", "5x", "--health-cmd", "true"],
            "error: invalid argument \"5x\" for \"--health-interval\" flag",
        ),
        (
            &["--health-retries", "-1", "--health-cmd", "true"],
            "error: --health-retries cannot be negative",
        ),
        (
            &["--no-healthcheck", "--health-cmd", "true"],
            "error: --no-healthcheck conflicts with --health-* options",
        ),
    ];
    for (flags, message) in cases {
        assert_refused(&root, flags, message);
    }
}
