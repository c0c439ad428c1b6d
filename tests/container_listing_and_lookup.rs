//! `ps` as a script reads it (`-n`, `-l`, `--no-trunc`, `--format table`, each filter and
//! Docker's rules for combining them), names and id prefixes (unique prefixes resolve,
//! shared ones are refused, a taken name is refused by `rename`), and `--stop-signal` /
//! `--stop-timeout` as `stop` applies them. Root, a state root of its own.

mod harness;

use std::time::{Duration, Instant};

use harness::containers::{inspect, root, run};

fn lines(s: &str) -> Vec<&str> {
    s.lines().collect()
}

#[test]
fn ps_flags_and_filters_follow_dockers_rules() {
    let root = root("ps-filters");
    root.ok(&[
        "create",
        "--network",
        "none",
        "--name",
        "made",
        "busybox",
        "true",
    ]);
    let (code, _, err) = run(&root, &["--name", "three", "busybox", "sh", "-c", "exit 3"]);
    assert_eq!(code, 3, "{err}");
    let (code, _, err) = run(&root, &["--name", "zero", "busybox", "true"]);
    assert_eq!(code, 0, "{err}");
    run(
        &root,
        &[
            "-d", "--name", "up", "-l", "tier=web", "-l", "team=a", "busybox", "sleep", "1000",
        ],
    );

    // Newest first; without -a only the running one.
    let names = |args: &[&str]| {
        let mut all = vec!["ps", "--format", "{{.Names}}"];
        all.extend_from_slice(args);
        root.ok(&all)
    };
    assert_eq!(names(&[]), "up\n");
    assert_eq!(names(&["-a"]), "up\nzero\nthree\nmade\n");
    assert_eq!(names(&["-n", "2"]), "up\nzero\n");
    assert_eq!(names(&["-l"]), "up\n");
    // `status` includes stopped containers by itself; `exited` does not (as Docker).
    assert_eq!(names(&["--filter", "status=exited"]), "zero\nthree\n");
    assert_eq!(names(&["--filter", "status=created"]), "made\n");
    assert_eq!(names(&["--filter", "exited=3"]), "");
    assert_eq!(names(&["-a", "--filter", "exited=3"]), "three\n");
    // One key's values OR; label values AND; different keys AND.
    assert_eq!(
        names(&["-a", "--filter", "name=zero", "--filter", "name=made"]),
        "zero\nmade\n"
    );
    assert_eq!(names(&["-a", "--filter", "name=^/?t"]), "three\n");
    assert_eq!(
        names(&["--filter", "label=tier=web", "--filter", "label=team=a"]),
        "up\n"
    );
    assert_eq!(
        names(&["--filter", "label=tier=web", "--filter", "label=team=b"]),
        ""
    );
    assert_eq!(
        names(&[
            "-a",
            "--filter",
            "ancestor=busybox",
            "--filter",
            "status=running"
        ]),
        "up\n"
    );
    assert_eq!(
        names(&["-a", "--filter", "ancestor=busybox:latest"])
            .lines()
            .count(),
        4
    );
    assert_eq!(names(&["-a", "--filter", "ancestor=other"]), "");
    let (code, _, err) = root.berth(&["ps", "--filter", "name=["]);
    assert_eq!(code, 1);
    assert_eq!(
        lines(&err),
        ["error: invalid filter 'name=[': not a regular expression: unclosed character class"]
    );
    let (code, _, err) = root.berth(&["ps", "--filter", "colour=red"]);
    assert_eq!(
        (code, lines(&err)),
        (1, vec!["error: invalid filter 'colour'"])
    );

    // Full ids and commands with --no-trunc; a table template gets Docker's headers.
    let id = root.ok(&["ps", "-q", "--no-trunc"]).trim().to_string();
    assert_eq!(id.len(), 64, "{id}");
    assert_eq!(root.ok(&["ps", "-q"]).trim(), &id[..12]);
    let table = root.ok(&[
        "ps",
        "--no-trunc",
        "--format",
        "table {{.ID}}\t{{.Command}}\t{{.Status}}",
    ]);
    let rows = lines(&table);
    assert_eq!(rows.len(), 2, "{table}");
    let header: Vec<&str> = rows[0]
        .split("  ")
        .filter(|c| !c.is_empty())
        .map(str::trim)
        .collect();
    assert_eq!(header, ["CONTAINER ID", "COMMAND", "STATUS"], "{table}");
    assert!(rows[1].starts_with(&id), "{table}");
    assert!(rows[1].contains("\"sleep 1000\""), "{table}");
    assert!(rows[1].contains("Up "), "{table}");
}

#[test]
fn ids_resolve_by_unique_prefix_and_names_stay_unique() {
    let root = root("lookup");
    // Create until two ids share their first hex digit (at most 17 by pigeonhole).
    let mut ids: Vec<String> = Vec::new();
    let shared = loop {
        let id = root
            .ok(&["create", "--network", "none", "busybox", "true"])
            .trim()
            .to_string();
        if let Some(other) = ids.iter().find(|o| o[..1] == id[..1]) {
            break (other.clone(), id);
        }
        ids.push(id);
        assert!(ids.len() <= 16, "17 ids and no shared first digit");
    };
    let (a, b) = shared;
    let (code, _, err) = root.berth(&["inspect", &a[..1]]);
    assert_eq!(code, 1);
    assert_eq!(
        lines(&err),
        [format!(
            "error: multiple IDs found with provided prefix: {}",
            &a[..1]
        )]
    );
    // The shortest prefix that tells them apart resolves to the right one.
    let n = (1..64).find(|&n| a[..n] != b[..n]).expect("ids differ");
    assert_eq!(inspect(&root, &b[..n])["Id"], b);
    assert_eq!(inspect(&root, &a[..n])["Id"], a);

    root.ok(&["rename", &a, "first"]);
    root.ok(&["rename", &b, "second"]);
    let (code, _, err) = root.berth(&["rename", "second", "first"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("The container name \"/first\" is already in use by container")
            && err.contains(&a),
        "{err}"
    );
    assert_eq!(inspect(&root, "second")["Id"], b);
    assert_eq!(inspect(&root, &b)["Name"], "/second");
}

#[test]
fn stop_uses_the_containers_stop_signal_and_timeout() {
    let root = root("stop-opts");
    // PID 1 exits 7 on USR1 only: `stop` must send USR1, not TERM.
    let script = "trap 'exit 7' USR1; echo ready; while true; do sleep 0.1; done";
    let id = run(
        &root,
        &[
            "-d",
            "--stop-signal",
            "SIGUSR1",
            "busybox",
            "sh",
            "-c",
            script,
        ],
    );
    let id = id.1.trim().to_string();
    let config = inspect(&root, &id);
    assert_eq!(config["Config"]["StopSignal"], "SIGUSR1");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !root.ok(&["logs", &id]).contains("ready") {
        assert!(Instant::now() < deadline, "the container never got ready");
        std::thread::sleep(Duration::from_millis(20));
    }
    root.ok(&["stop", &id]);
    assert_eq!(inspect(&root, &id)["State"]["ExitCode"], 7);

    // PID 1 without handlers ignores TERM: `stop` kills it after the container's own
    // timeout (1 s, not Docker's default 10 s).
    let id = run(
        &root,
        &["-d", "--stop-timeout", "1", "busybox", "sleep", "1000"],
    );
    let id = id.1.trim().to_string();
    assert_eq!(inspect(&root, &id)["Config"]["StopTimeout"], 1);
    let started = Instant::now();
    root.ok(&["stop", &id]);
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(900),
        "stopped after {took:?}, before the timeout"
    );
    assert!(
        took < Duration::from_secs(8),
        "stopped after {took:?}: the 1 s timeout was not used"
    );
    assert_eq!(inspect(&root, &id)["State"]["ExitCode"], 137);
}
