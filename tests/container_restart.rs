//! Restart policies as a user relies on them: `on-failure:3` restarts exactly three
//! times, `always` keeps a container up until `stop` (which it obeys, also during the
//! back-off), `no` leaves it exited, `start` counts anew; `system boot` brings back
//! `always` containers after a reboot and leaves stopped `unless-stopped` ones; bad
//! policies get one line. Root.

mod harness;

use std::time::{Duration, Instant};

use harness::containers::{edit_record, inspect, root, run};

fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn on_failure_restarts_exactly_as_often_as_asked() {
    let root = root("restart-on-failure");
    let id = run(
        &root,
        &[
            "-d",
            "--restart",
            "on-failure:3",
            "busybox",
            "sh",
            "-c",
            "echo run; exit 4",
        ],
    )
    .1;
    let id = id.trim().to_string();
    // `wait` returns when the supervisor is done: after the last allowed run.
    assert_eq!(root.ok(&["wait", &id]), "4\n");
    assert_eq!(root.ok(&["logs", &id]), "run\nrun\nrun\nrun\n");
    let c = inspect(&root, &id);
    assert_eq!(c["RestartCount"], 3);
    assert_eq!(c["State"]["Status"], "exited");
    assert_eq!(c["HostConfig"]["RestartPolicy"]["Name"], "on-failure");
    assert_eq!(c["HostConfig"]["RestartPolicy"]["MaximumRetryCount"], 3);
    let events = root.ok(&[
        "events",
        "--since",
        "0",
        "--until",
        &harness::containers::events_until(),
        "--filter",
        "event=start",
    ]);
    assert_eq!(events.lines().count(), 4, "{events}");
    // A success is not a failure: no restart.
    let id = run(&root, &["-d", "--restart", "on-failure", "busybox", "true"]).1;
    assert_eq!(root.ok(&["wait", id.trim()]), "0\n");
    assert_eq!(inspect(&root, id.trim())["RestartCount"], 0);
}

#[test]
fn always_restarts_until_stopped() {
    let root = root("restart-always");
    let id = run(
        &root,
        &[
            "-d",
            "--restart",
            "always",
            "busybox",
            "sh",
            "-c",
            "echo up; sleep 0.3",
        ],
    )
    .1;
    let id = id.trim().to_string();
    wait_until("it restarted twice", || {
        inspect(&root, &id)["RestartCount"].as_u64() >= Some(2)
    });
    root.ok(&["stop", "-t", "1", &id]);
    let c = inspect(&root, &id);
    assert_eq!(c["State"]["Status"], "exited", "{c}");
    let count = c["RestartCount"].as_u64().expect("count");
    let runs = root.ok(&["logs", &id]).lines().count() as u64;
    assert_eq!(runs, count + 1);
    // Stopped stays stopped: nothing restarts it (the supervisor is gone).
    assert_eq!(root.ok(&["ps", "-q"]), "");
    // `start` runs it again, and the count starts from zero.
    root.ok(&["start", &id]);
    assert_eq!(inspect(&root, &id)["RestartCount"], 0);
    // A stop during the back-off is obeyed at once: a command that fails at once.
    root.ok(&["rm", "-f", &id]);
    let id = run(&root, &["-d", "--restart", "always", "busybox", "false"]).1;
    let id = id.trim().to_string();
    wait_until("it backs off", || {
        inspect(&root, &id)["RestartCount"].as_u64() >= Some(4)
    });
    let started = Instant::now();
    root.ok(&["stop", &id]);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "stop waited {:?}",
        started.elapsed()
    );
    assert_eq!(inspect(&root, &id)["State"]["Status"], "exited");
}

#[test]
fn system_boot_brings_back_what_the_policy_asks_for() {
    let root = root("restart-boot");
    let always = run(
        &root,
        &[
            "-d",
            "--restart",
            "always",
            "--name",
            "always",
            "busybox",
            "sleep",
            "1000",
        ],
    )
    .1;
    let unless = run(
        &root,
        &[
            "-d",
            "--restart",
            "unless-stopped",
            "--name",
            "unless",
            "busybox",
            "sleep",
            "1000",
        ],
    )
    .1;
    let stopped = run(
        &root,
        &[
            "-d",
            "--restart",
            "unless-stopped",
            "--name",
            "stopped",
            "busybox",
            "sleep",
            "1000",
        ],
    )
    .1;
    let plain = run(
        &root,
        &["-d", "--name", "plain", "busybox", "sleep", "1000"],
    )
    .1;
    root.ok(&["stop", "-t", "0", "stopped"]);
    // A reboot: every supervisor and process gone, states from another boot.
    for id in [&always, &unless, &plain] {
        let id = id.trim();
        let sup = inspect(&root, id)["State"]["Pid"].as_i64().expect("pid");
        let supervisor = std::fs::read_to_string(format!("/proc/{sup}/stat")).expect("stat");
        let ppid: i32 = supervisor
            .rsplit(')')
            .next()
            .and_then(|r| r.split_whitespace().nth(1))
            .and_then(|p| p.parse().ok())
            .expect("ppid");
        rustix::process::kill_process(
            rustix::process::Pid::from_raw(ppid).expect("pid"),
            rustix::process::Signal::KILL,
        )
        .expect("kill supervisor");
        wait_until("the supervisor is gone", || {
            !std::path::Path::new(&format!("/proc/{ppid}")).exists()
        });
        edit_record(&root, id, "state.json", |s| {
            s["BootId"] = "another-boot".into()
        });
    }
    let booted = root.ok(&["system", "boot"]);
    let mut names: Vec<&str> = booted.lines().collect();
    names.sort();
    assert_eq!(names, ["always", "unless"]);
    let running = root.ok(&["ps", "--format", "{{.Names}}"]);
    let mut running: Vec<&str> = running.lines().collect();
    running.sort();
    assert_eq!(running, ["always", "unless"]);
    assert_eq!(inspect(&root, "plain")["State"]["ExitCode"], 137);
    assert_eq!(inspect(&root, stopped.trim())["State"]["Status"], "exited");
    // Nothing more to do the second time.
    assert_eq!(root.ok(&["system", "boot"]), "");
}

#[test]
fn bad_policies_get_one_line() {
    let root = root("restart-bad");
    let cases: [(&[&str], &str); 4] = [
        (
            &["--restart", "sometimes"],
            "error: invalid restart policy \"sometimes\": expected no, always, unless-stopped or on-failure[:max-retries]",
        ),
        (
            &["--restart", "always:3"],
            "error: invalid restart policy \"always:3\": maximum retry count cannot be used with restart policy 'always'",
        ),
        (
            &["--restart", "on-failure:x"],
            "error: invalid restart policy \"on-failure:x\": the maximum retry count must be a non-negative integer",
        ),
        (
            &["--restart", "always", "--rm"],
            "error: conflicting options: cannot specify both --restart and --rm",
        ),
    ];
    for (flags, message) in cases {
        let mut args = flags.to_vec();
        args.extend_from_slice(&["busybox", "true"]);
        let (code, out, err) = run(&root, &args);
        assert_eq!((code, out.as_str()), (125, ""), "{flags:?}");
        assert_eq!(err, format!("{message}\n"), "{flags:?}");
    }
    assert_eq!(root.ok(&["ps", "-aq"]), "");
}
