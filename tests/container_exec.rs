//! `exec` into a running container: output and exit code, the container's env plus `-e`,
//! `-u`, `-w`, `-i`, `-d`, `--privileged`; the exec'd process has the container's
//! capabilities and only fds 0-2 (CVE-2024-21626), runs inside the rootfs, and no host
//! binary is reachable from inside (CVE-2019-5736); bad input gets one line. Root.

mod harness;

use std::time::{Duration, Instant};

use harness::containers::{root, run};

/// The container's processes as the host sees them (pid, argv), from its pids cgroup.
fn processes(id: &str) -> Vec<(i32, Vec<String>)> {
    let procs = std::fs::read_to_string(format!("/sys/fs/cgroup/pids/berth-{id}/cgroup.procs"))
        .expect("cgroup.procs");
    procs
        .lines()
        .filter_map(|l| l.trim().parse::<i32>().ok())
        .map(|pid| {
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            let argv = cmdline
                .split(|b| *b == 0)
                .filter(|a| !a.is_empty())
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .collect();
            (pid, argv)
        })
        .collect()
}

#[test]
fn exec_runs_in_the_container_as_asked() {
    let root = root("exec");
    let id = run(
        &root,
        &[
            "-d",
            "--name",
            "target",
            "-e",
            "FROM_RUN=1",
            "-w",
            "/etc",
            "busybox",
            "sleep",
            "1000",
        ],
    )
    .1;
    let id = id.trim().to_string();

    let (code, out, err) = root.berth(&[
        "exec",
        "target",
        "sh",
        "-c",
        "echo $FROM_RUN $HOSTNAME; pwd; id -u; grep CapEff /proc/self/status; exit 3",
    ]);
    assert_eq!(code, 3, "{err}");
    assert_eq!(
        out,
        format!("1 {}\n/etc\n0\nCapEff:\t00000000a80425fb\n", &id[..12])
    );
    let (code, out, err) = root.berth(&[
        "exec",
        "-e",
        "FROM_RUN=2",
        "-e",
        "EXTRA=x",
        "-u",
        "65534:65534",
        "-w",
        "/tmp",
        "target",
        "sh",
        "-c",
        "echo $FROM_RUN $EXTRA; pwd; id",
    ]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "2 x\n/tmp\nuid=65534(nobody) gid=65534(nobody)\n");
    let (_, out, _) = root.berth(&[
        "exec",
        "--privileged",
        "target",
        "grep",
        "CapEff",
        "/proc/self/status",
    ]);
    // Every capability this host can hand on (Docker's --privileged), its own bounding set.
    let status = std::fs::read_to_string("/proc/self/status").expect("status");
    let bounding = status
        .lines()
        .find_map(|l| l.strip_prefix("CapBnd:"))
        .expect("CapBnd")
        .trim();
    assert_eq!(out, format!("CapEff:\t{bounding}\n"));
    // -i: standard input reaches the process; without it, it reads nothing.
    assert_eq!(
        root.berth_with(&["exec", "-i", "target", "cat"], b"piped\n")
            .1,
        "piped\n"
    );
    assert_eq!(
        root.berth_with(&["exec", "target", "cat"], b"piped\n").1,
        ""
    );
    // It shares the container's pid namespace: PID 1 is the container's.
    assert_eq!(
        root.ok(&["exec", "target", "cat", "/proc/1/cmdline"]),
        "sleep\u{0}1000\u{0}"
    );

    // -d returns at once; the process runs on with only 0-2 open and its cwd inside.
    assert_eq!(root.ok(&["exec", "-d", "target", "sleep", "1234"]), "");
    let deadline = Instant::now() + Duration::from_secs(10);
    let pid = loop {
        if let Some((pid, _)) = processes(&id)
            .into_iter()
            .find(|(_, argv)| argv == &["sleep", "1234"])
        {
            break pid;
        }
        assert!(
            Instant::now() < deadline,
            "exec -d never started: {:?}",
            processes(&id)
        );
        std::thread::sleep(Duration::from_millis(10));
    };
    let mut fds: Vec<String> = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .expect("fds")
        .map(|e| e.expect("fd").file_name().to_string_lossy().into_owned())
        .collect();
    fds.sort();
    assert_eq!(fds, ["0", "1", "2"]);
    let cwd = std::fs::read_link(format!("/proc/{pid}/cwd")).expect("cwd");
    assert_eq!(
        cwd,
        std::path::Path::new("/etc"),
        "the cwd is the container's /etc, seen from its own root"
    );
    let root_link = std::fs::read_link(format!("/proc/{pid}/root")).expect("root");
    let init_root = std::fs::read_link(format!(
        "/proc/{}/root",
        processes(&id)
            .iter()
            .find(|(_, a)| a == &["sleep", "1000"])
            .expect("init")
            .0
    ))
    .expect("root");
    assert_eq!(root_link, init_root);
    // From inside, no process runs a binary that is not the container's busybox.
    let exes = root.ok(&[
        "exec",
        "target",
        "sh",
        "-c",
        "for p in /proc/[0-9]*; do readlink $p/exe; done",
    ]);
    assert!(exes.lines().all(|e| e == "/bin/busybox"), "{exes}");
}

#[test]
fn exec_bad_input_gets_one_line() {
    let root = root("exec-bad");
    run(&root, &["-d", "--name", "live", "busybox", "sleep", "1000"]);
    root.ok(&[
        "create",
        "--network",
        "none",
        "--name",
        "stopped",
        "busybox",
        "true",
    ]);
    let cases: [(&[&str], i32, &str); 5] = [
        (
            &["exec", "live", "no-such-binary"],
            126,
            "error: exec: \"no-such-binary\": executable file not found in $PATH",
        ),
        (
            &["exec", "live", "/no/such"],
            126,
            "error: exec: \"/no/such\": stat /no/such: no such file or directory",
        ),
        (&["exec", "stopped", "true"], 1, "error: container "),
        (
            &["exec", "nobody-here", "true"],
            1,
            "error: No such container: nobody-here",
        ),
        (
            &["exec", "-u", "nosuchuser", "live", "true"],
            1,
            "error: unable to find user nosuchuser",
        ),
    ];
    for (args, code, message) in cases {
        let (got, out, err) = root.berth(args);
        assert_eq!(got, code, "{args:?}: {err}");
        assert_eq!(out, "", "{args:?}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.starts_with(message), "{args:?}: {err}");
    }
    // Nothing of the failed execs is left in the container.
    let ps = root.ok(&["exec", "live", "ps", "-o", "args"]);
    assert_eq!(ps, "COMMAND\nsleep 1000\nps -o args\n");
}

#[test]
fn execs_are_journaled_as_dockers() {
    let root = root("exec-events");
    let (code, id, err) = run(&root, &["-d", "busybox", "sleep", "60"]);
    assert_eq!(code, 0, "{err}");
    let id = id.trim();
    let (code, _, _) = root.berth(&["exec", id, "sh", "-c", "exit 3"]);
    assert_eq!(code, 3);
    let until = harness::containers::events_until();
    let container = format!("container={id}");
    let events = |filters: &[&str], format: &str| {
        let mut args = vec![
            "events", "--since", "0", "--until", &until, "--filter", &container,
        ];
        for f in filters {
            args.extend_from_slice(&["--filter", f]);
        }
        args.extend_from_slice(&["--format", format]);
        root.ok(&args)
    };
    // Values of one filter key are ORed, as Docker's; the bare action matches
    // `exec_start: <command>`.
    let all = events(
        &["event=exec_create", "event=exec_start", "event=exec_die"],
        "{{.Action}}|{{.Actor.Attributes.execID}}",
    );
    let lines: Vec<(&str, &str)> = all.lines().map(|l| l.split_once('|').expect("|")).collect();
    let actions: Vec<&str> = lines.iter().map(|(a, _)| *a).collect();
    assert_eq!(
        actions,
        [
            "exec_create: sh -c exit 3",
            "exec_start: sh -c exit 3",
            "exec_die"
        ]
    );
    let exec_id = lines[0].1;
    assert_eq!(exec_id.len(), 64, "{all}");
    assert!(
        lines.iter().all(|(_, e)| *e == exec_id),
        "one exec id: {all}"
    );
    let died = events(&["event=exec_die"], "{{.Actor.Attributes.exitCode}}");
    assert_eq!(died, "3\n");
    root.ok(&["rm", "-f", id]);
}
