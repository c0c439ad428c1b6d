//! Containers end to end, as root, each test on a state root of its own: `run` in the
//! foreground and detached, exit codes, signals, `stop` timeouts, isolation as a user
//! would check it from inside, logs, `ps`/`inspect`, crash recovery, bad input.

mod harness;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use harness::containers::{berth_command, edit_record, read_record, root, run};
use harness::state::StateRoot as Root;

/// Removes every container of the root (so that no cgroup or process outlives a test).
fn cleanup(root: &Root) {
    let ids = root.ok(&["ps", "-aq", "--no-trunc"]);
    for id in ids.lines() {
        root.ok(&["rm", "-f", id]);
    }
}

#[test]
fn foreground_run_prints_output_and_returns_the_exit_code() {
    let root = root("run-exit");
    let (code, out, err) = run(&root, &["--rm", "busybox", "echo", "hello"]);
    assert_eq!((code, out.as_str()), (0, "hello\n"), "{err}");
    let (code, _, err) = run(
        &root,
        &["--rm", "busybox", "sh", "-c", "echo to-stderr >&2; exit 3"],
    );
    assert_eq!(code, 3);
    assert_eq!(err, "to-stderr\n");
    assert_eq!(run(&root, &["--rm", "busybox", "false"]).0, 1);
    // 126: found but not executable; 127: not found (Docker's codes).
    let (code, _, err) = run(&root, &["--rm", "busybox", "/etc/passwd"]);
    assert_eq!(code, 126, "{err}");
    let (code, _, err) = run(&root, &["--rm", "busybox", "no-such-binary"]);
    assert_eq!(code, 127, "{err}");
    assert!(
        err.contains("no-such-binary") && err.lines().count() == 1,
        "{err}"
    );
    // Killed by a signal: 128 + n (PID 1 ignores signals it has no handler for, except
    // SIGKILL from outside its namespace, as in Docker).
    let id = run(&root, &["-d", "busybox", "sleep", "1000"])
        .1
        .trim()
        .to_string();
    root.ok(&["kill", &id]);
    assert_eq!(root.ok(&["wait", &id]), "137\n");
    root.ok(&["rm", &id]);
    // --rm left nothing.
    assert_eq!(root.ok(&["ps", "-aq"]), "");
}

#[test]
fn detached_containers_show_in_ps_and_stop() {
    let root = root("detached");
    let id = run(
        &root,
        &[
            "-d",
            "--name",
            "sleeper",
            "--label",
            "team=core",
            "busybox",
            "sleep",
            "1000",
        ],
    )
    .1;
    let id = id.trim();
    assert_eq!(id.len(), 64, "{id}");
    let ps = root.ok(&["ps"]);
    let mut lines = ps.lines();
    let header = lines.next().unwrap_or_default();
    for col in [
        "CONTAINER ID",
        "IMAGE",
        "COMMAND",
        "CREATED",
        "STATUS",
        "PORTS",
        "NAMES",
    ] {
        assert!(header.contains(col), "{header}");
    }
    let line = lines.next().unwrap_or_default();
    assert!(line.starts_with(&id[..12]), "{line}");
    assert!(line.contains("\"sleep 1000\""), "{line}");
    assert!(line.contains(" Up "), "{line}");
    assert!(line.trim_end().ends_with("sleeper"), "{line}");
    assert_eq!(
        root.ok(&["ps", "-q", "--filter", "label=team=core"]).trim(),
        &id[..12]
    );
    assert_eq!(root.ok(&["ps", "-q", "--filter", "label=team=other"]), "");
    assert_eq!(
        root.ok(&["ps", "-q", "--filter", "name=sleep"]).trim(),
        &id[..12]
    );
    let json: serde_json::Value =
        serde_json::from_str(root.ok(&["ps", "--format", "json"]).trim()).expect("ps json");
    assert_eq!(json["State"], "running");
    assert_eq!(json["Names"], "sleeper");
    assert_eq!(
        root.ok(&["ps", "--format", "{{.Names}} {{.State}}"]),
        "sleeper running\n"
    );

    // A name conflict names the holder and creates nothing.
    let (code, _, err) = run(&root, &["-d", "--name", "sleeper", "busybox", "true"]);
    assert_eq!(code, 125);
    assert!(
        err.contains("\"/sleeper\" is already in use by container") && err.contains(id),
        "{err}"
    );
    assert_eq!(root.ok(&["ps", "-aq"]).lines().count(), 1);

    // `sleep` as PID 1 ignores SIGTERM (no handler): stop waits -t, then kills: 137.
    let started = Instant::now();
    assert_eq!(root.ok(&["stop", "-t", "1", "sleeper"]), "sleeper\n");
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(900),
        "stop returned after {took:?}"
    );
    let inspect: serde_json::Value =
        serde_json::from_str(&root.ok(&["inspect", "sleeper"])).expect("inspect json");
    let state = &inspect[0]["State"];
    assert_eq!(state["Status"], "exited");
    assert_eq!(state["ExitCode"], 137);
    assert_eq!(inspect[0]["Name"], "/sleeper");
    assert_eq!(inspect[0]["Config"]["Labels"]["team"], "core");
    assert_eq!(inspect[0]["HostConfig"]["NetworkMode"], "none");
    assert_eq!(root.ok(&["ps", "-q"]), "");
    assert!(root.ok(&["ps", "-a"]).contains("Exited (137)"));
    assert_eq!(root.ok(&["wait", "sleeper"]), "137\n");

    // Restart it, rename it, remove it.
    assert_eq!(root.ok(&["start", "sleeper"]), "sleeper\n");
    assert!(root.ok(&["ps"]).contains("sleeper"));
    root.ok(&["rename", "sleeper", "dozer"]);
    let (code, _, err) = root.berth(&["rm", "dozer"]);
    assert_eq!(code, 1);
    assert!(err.contains("container is running"), "{err}");
    assert_eq!(root.ok(&["rm", "-f", "dozer"]), "dozer\n");
    assert_eq!(root.ok(&["ps", "-aq"]), "");
    assert_cgroup_gone(id);
}

#[test]
fn signals_reach_pid_1_and_stop_uses_the_stop_signal() {
    let root = root("signals");
    // A shell that traps USR1 and TERM (PID 1 gets only signals it handles).
    let script = "trap 'echo got-usr1' USR1; trap 'echo got-term; exit 7' TERM; echo ready; while true; do sleep 0.1; done";
    let id = run(&root, &["-d", "busybox", "sh", "-c", script])
        .1
        .trim()
        .to_string();
    wait_for_log(&root, &id, "ready");
    root.ok(&["kill", "-s", "USR1", &id]);
    wait_for_log(&root, &id, "got-usr1");
    root.ok(&["stop", "-t", "30", &id]);
    assert_eq!(root.ok(&["wait", &id]), "7\n");
    assert!(root.ok(&["logs", &id]).contains("got-term"));
    let (code, _, err) = root.berth(&["kill", &id]);
    assert_eq!(code, 1);
    assert!(err.contains("is not running"), "{err}");
    cleanup(&root);
}

#[test]
fn init_reaps_zombies_and_forwards_signals() {
    let root = root("init");
    // Orphans re-parented to PID 1 must be reaped: with --init there is no zombie left.
    let (code, out, err) = run(
        &root,
        &[
            "--rm",
            "--init",
            "busybox",
            "sh",
            "-c",
            "(sleep 0.2 &) ; sleep 0.5; ps -o stat,comm | grep -c '^Z' || true",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.trim(), "0", "zombies left: {out}");
    // PID 1 is the init, the command its child.
    let (_, out, _) = run(
        &root,
        &["--rm", "--init", "busybox", "cat", "/proc/1/cmdline"],
    );
    assert!(out.starts_with("/sbin/docker-init"), "{out:?}");
    // TERM is forwarded to `sleep`, which dies of it: 143.
    let id = run(&root, &["-d", "--init", "busybox", "sleep", "1000"])
        .1
        .trim()
        .to_string();
    root.ok(&["stop", "-t", "10", &id]);
    assert_eq!(root.ok(&["wait", &id]), "143\n");
    cleanup(&root);
}

#[test]
fn isolation_matches_dockers_defaults() {
    let root = root("isolation");
    let sh = |script: &str| {
        let (code, out, err) = run(&root, &["--rm", "busybox", "sh", "-c", script]);
        assert_eq!(code, 0, "{script}: {err}");
        out
    };
    assert!(sh("grep CapEff /proc/self/status").contains("00000000a80425fb"));
    assert_eq!(sh("cat /proc/kcore | wc -c").trim(), "0");
    assert_eq!(
        sh("echo 1 > /proc/sys/kernel/ostype 2>/dev/null && echo writable || echo ro").trim(),
        "ro"
    );
    assert_eq!(sh("echo $$").trim(), "1");
    let id_len = sh("hostname").trim().len();
    assert_eq!(id_len, 12);
    assert_eq!(sh("cat /etc/hostname").trim().len(), 12);
    assert!(sh("cat /etc/hosts").contains("127.0.0.1\tlocalhost"));
    // --network none: only lo, and it is up.
    assert_eq!(
        sh("ls /sys/class/net")
            .split_whitespace()
            .collect::<Vec<_>>(),
        ["lo"]
    );
    // User, group and workdir.
    assert_eq!(
        sh("id -u; id -g").split_whitespace().collect::<Vec<_>>(),
        ["0", "0"]
    );
    let (_, out, _) = run(
        &root,
        &[
            "--rm",
            "-u",
            "1000:1000",
            "-w",
            "/tmp",
            "busybox",
            "sh",
            "-c",
            "id -u; id -g; pwd",
        ],
    );
    assert_eq!(
        out.split_whitespace().collect::<Vec<_>>(),
        ["1000", "1000", "/tmp"]
    );
    // Capabilities can be dropped and added.
    let (_, out, _) = run(
        &root,
        &[
            "--rm",
            "--cap-drop",
            "ALL",
            "busybox",
            "grep",
            "CapEff",
            "/proc/self/status",
        ],
    );
    assert!(out.contains("0000000000000000"), "{out}");
    // Limits and flags a user checks from inside.
    let (_, out, err) = run(
        &root,
        &[
            "--rm",
            "--ulimit",
            "nofile=1024:2048",
            "--security-opt",
            "no-new-privileges",
            "-h",
            "box",
            "--read-only",
            "busybox",
            "sh",
            "-c",
            "ulimit -n; ulimit -Hn; grep NoNewPrivs /proc/self/status; hostname; touch /x 2>/dev/null && echo writable || echo read-only",
        ],
    );
    assert_eq!(
        out.lines().map(str::trim).collect::<Vec<_>>(),
        ["1024", "2048", "NoNewPrivs:\t1", "box", "read-only"],
        "{err}"
    );
    // Env: image + -e, HOSTNAME and PATH as Docker sets them.
    let (_, out, _) = run(&root, &["--rm", "-e", "FOO=bar", "busybox", "env"]);
    assert!(
        out.contains("FOO=bar") && out.contains("PATH=") && out.contains("HOSTNAME="),
        "{out}"
    );
}

#[test]
fn pid_1_holds_only_stdio_descriptors() {
    let root = root("fds");
    // CVE-2024-21626: no host descriptor leaks into the container; read from the host.
    for init in [false, true] {
        let mut args = vec!["-d"];
        if init {
            args.push("--init");
        }
        args.extend(["busybox", "sleep", "1000"]);
        let id = run(&root, &args).1.trim().to_string();
        let pid = root
            .ok(&["inspect", "--format", "{{.State.Pid}}", &id])
            .trim()
            .to_string();
        let fds = || {
            let mut fds: Vec<String> = std::fs::read_dir(format!("/proc/{pid}/fd"))
                .expect("fd dir")
                .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
                .collect();
            fds.sort();
            fds
        };
        // With --init, PID 1 briefly holds the pipe std's spawn uses to learn whether the
        // command's exec worked: wait (bounded) for that to end; a leaked descriptor stays.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while fds() != ["0", "1", "2"] && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        assert_eq!(fds(), ["0", "1", "2"], "init={init}");
        let cwd = std::fs::read_link(format!("/proc/{pid}/cwd")).expect("cwd");
        assert_eq!(cwd, Path::new("/"), "init={init}");
        root.ok(&["rm", "-f", &id]);
    }
}

#[test]
fn the_host_binary_cannot_be_written_from_inside() {
    let root = root("exe");
    let berth = harness::berth_bin();
    let before = std::fs::read(&berth).expect("read berth");
    // With --init, PID 1 runs berth's binary: from a read-only bind mount.
    let (code, out, err) = run(
        &root,
        &[
            "--rm",
            "--init",
            "busybox",
            "sh",
            "-c",
            "for p in /proc/[0-9]*; do (echo x >> $p/exe) 2>/dev/null && echo WROTE $p; done; echo done",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.trim(), "done", "{out}");
    assert_eq!(
        std::fs::read(&berth).expect("read berth"),
        before,
        "berth binary changed"
    );
}

#[test]
fn logs_are_json_file_and_follow_sees_new_lines() {
    let root = root("logs");
    let id = run(
        &root,
        &[
            "-d",
            "busybox",
            "sh",
            "-c",
            "echo one; echo two >&2; read x < /dev/null; sleep 1000",
        ],
    )
    .1
    .trim()
    .to_string();
    wait_for_log(&root, &id, "two");
    let log_path = root
        .path()
        .join("state/containers")
        .join(&id)
        .join(format!("{id}-json.log"));
    let text = std::fs::read_to_string(&log_path).expect("json log");
    let first: serde_json::Value =
        serde_json::from_str(text.lines().next().unwrap_or_default()).expect("json line");
    assert_eq!(first["log"], "one\n");
    assert_eq!(first["stream"], "stdout");
    let (code, out, err) = root.berth(&["logs", &id]);
    assert_eq!((code, out.as_str(), err.as_str()), (0, "one\n", "two\n"));
    assert_eq!(root.ok(&["logs", "--tail", "1", &id]), "");
    // `logs -f` ends when the container stops, after printing everything.
    let mut follow = berth_command(&root)
        .args(["logs", "-f", &id])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("logs -f");
    root.ok(&["stop", "-t", "0", &id]);
    let out = follow_output(&mut follow);
    assert_eq!(out, "one\n");
    cleanup(&root);
}

#[test]
fn log_rotation_keeps_max_file_files() {
    let root = root("rotation");
    let (code, _, err) = run(
        &root,
        &[
            "--log-opt",
            "max-size=1k",
            "--log-opt",
            "max-file=3",
            "--name",
            "chatty",
            "busybox",
            "sh",
            "-c",
            "i=0; while [ $i -lt 200 ]; do echo line-$i; i=$((i+1)); done",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let id = root
        .ok(&["inspect", "--format", "{{.Id}}", "chatty"])
        .trim()
        .to_string();
    let dir = root.path().join("state/containers").join(&id);
    let logs: Vec<_> = std::fs::read_dir(&dir)
        .expect("container dir")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("-json.log"))
        .collect();
    assert_eq!(logs.len(), 3, "{logs:?}");
    let out = root.ok(&["logs", "chatty"]);
    assert!(out.ends_with("line-199\n"), "{out}");
    cleanup(&root);
}

#[test]
fn a_killed_supervisor_is_reconciled_to_the_truth() {
    let root = root("reconcile");
    let id = run(&root, &["-d", "busybox", "sleep", "1000"])
        .1
        .trim()
        .to_string();
    let state = read_record(&root, &id, "state.json");
    let supervisor = state["Supervisor"]["pid"].as_i64().expect("supervisor pid");
    let status = Command::new("kill")
        .args(["-9", &supervisor.to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    // The container's process dies with its supervisor; `ps` shows the truth.
    let ps = root.ok(&["ps", "-a", "--format", "{{.Status}}"]);
    assert!(ps.starts_with("Exited (137)"), "{ps}");
    assert_eq!(root.ok(&["ps", "-q"]), "");
    let error = root.ok(&["inspect", "--format", "{{.State.Error}}", &id]);
    assert!(
        error.starts_with("the container's supervisor ended unexpectedly"),
        "{error}"
    );
    root.ok(&["rm", &id]);
    assert_cgroup_gone(&id);
}

#[test]
fn a_state_from_another_boot_is_dead() {
    let root = root("reboot");
    let id = root
        .ok(&["create", "--network", "none", "busybox", "true"])
        .trim()
        .to_string();
    // What a reboot leaves: a state that says running, from another boot, no supervisor.
    edit_record(&root, &id, "state.json", |state| {
        state["Status"] = "running".into();
        state["Running"] = true.into();
        state["Pid"] = 999_999.into();
        state["BootId"] = "00000000-0000-0000-0000-000000000000".into();
    });
    assert!(root.ok(&["ps", "-a"]).contains("Exited (137)"));
    let error = root.ok(&["inspect", "--format", "{{.State.Error}}", &id]);
    assert_eq!(
        error,
        "the host restarted while the container was running\n"
    );
    root.ok(&["rm", &id]);
    assert_eq!(root.ok(&["ps", "-aq"]), "");
}

#[test]
fn twenty_parallel_runs_succeed() {
    let root = root("parallel");
    // All twenty are spawned before any is waited for, so they run at the same time.
    let children: Vec<_> = (0..20)
        .map(|i| {
            berth_command(&root)
                .args(["run", "--rm", "--network", "none", "busybox"])
                .args(["sh", "-c", &format!("sleep 0.2; echo n{i}")])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("spawn berth run")
        })
        .collect();
    for (i, child) in children.into_iter().enumerate() {
        let out = child.wait_with_output().expect("wait berth run");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(String::from_utf8_lossy(&out.stdout), format!("n{i}\n"));
    }
    assert_eq!(root.ok(&["ps", "-aq"]), "");
}

#[test]
fn bad_input_gets_one_line_and_leaves_nothing() {
    let root = root("bad-input");
    // An image without any command: `berth import` of a rootfs with no --change.
    let rootfs = root.write(
        "rootfs.tar",
        &harness::tarball::tar_of(&[("hello.txt", b"hi\n")]),
    );
    root.ok(&["import", &rootfs, "nocmd:1"]);
    let cases: [(&[&str], i32, &str); 5] = [
        (
            &[
                "run",
                "--network",
                "none",
                "--pull",
                "never",
                "no-such-image",
            ],
            125,
            "No such image: no-such-image (--pull never)",
        ),
        (
            &[
                "run",
                "--network",
                "none",
                "-u",
                "nobody-here",
                "busybox",
                "true",
            ],
            125,
            "unable to find user nobody-here",
        ),
        (
            &["run", "--network", "none", "nocmd:1"],
            125,
            "No command specified",
        ),
        (
            &[
                "run",
                "--network",
                "none",
                "-p",
                "8080:80",
                "busybox",
                "true",
            ],
            125,
            "conflicting options: port publishing and --network none",
        ),
        (
            &[
                "run",
                "--network",
                "none",
                "--name",
                "bad/name",
                "busybox",
                "true",
            ],
            125,
            "Invalid container name",
        ),
    ];
    for (args, want_code, want) in cases {
        let (code, out, err) = root.berth(args);
        assert_eq!(code, want_code, "{args:?}: {err}");
        assert_eq!(out, "");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.contains(want), "{args:?}: {err}");
    }
    assert_eq!(root.ok(&["ps", "-aq"]), "");
    let (code, _, err) = root.berth(&["stop", "nothing-here"]);
    assert_eq!(code, 1);
    assert_eq!(err, "error: No such container: nothing-here\n");
    assert_eq!(root.ok(&["rm", "-f", "nothing-here"]), "");
}

fn wait_for_log(root: &Root, id: &str, text: &str) {
    // Reads `logs -f` (both streams) until the text is there: no sleep, the follower wakes
    // on writes.
    let mut child = Command::new("sh")
        .envs(harness::OFFLINE_ENV)
        .args(["-c", "exec \"$0\" --root \"$1\" logs -f \"$2\" 2>&1"])
        .arg(harness::berth_bin())
        .arg(root.path().join("state"))
        .arg(id)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("logs -f");
    let stdout = child.stdout.take().expect("stdout");
    let mut reader = std::io::BufReader::new(stdout);
    let mut line = String::new();
    loop {
        line.clear();
        let n = std::io::BufRead::read_line(&mut reader, &mut line).expect("read");
        assert!(n > 0, "log ended before {text:?} appeared");
        if line.contains(text) {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
}

fn follow_output(child: &mut std::process::Child) -> String {
    let mut out = String::new();
    if let Some(mut stdout) = child.stdout.take() {
        std::io::Read::read_to_string(&mut stdout, &mut out).expect("read");
    }
    let status = child.wait().expect("wait");
    assert!(status.success());
    out
}

fn assert_cgroup_gone(id: &str) {
    for hierarchy in ["memory", "pids", "cpu", "freezer"] {
        let path = Path::new("/sys/fs/cgroup")
            .join(hierarchy)
            .join(format!("berth-{id}"));
        assert!(!path.exists(), "{} left behind", path.display());
    }
}

#[test]
fn rmi_keeps_an_image_that_a_container_uses() {
    let root = root("rmi-in-use");
    let id = root
        .ok(&["create", "--network", "none", "busybox", "true"])
        .trim()
        .to_string();
    let (code, _, err) = root.berth(&["rmi", "busybox"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("must force") && err.contains(&id[..12]),
        "{err}"
    );
    let image = root.ok(&["images", "-q"]).trim().to_string();
    let (code, _, err) = root.berth(&["rmi", &image]);
    assert_eq!(code, 1);
    assert!(err.contains("being used by stopped container"), "{err}");
    // `image prune -a` keeps it too.
    root.ok(&["image", "prune", "-a", "-f"]);
    assert_eq!(root.ok(&["images", "-q"]).trim(), image);
    // Forced: the tag goes, the image stays for its container, which still runs.
    assert_eq!(
        root.ok(&["rmi", "-f", "busybox"]),
        "Untagged: busybox:latest\n"
    );
    assert_eq!(root.ok(&["images", "-q"]).trim(), image);
    assert_eq!(root.berth(&["start", &id]).0, 0);
    root.ok(&["rm", "-f", &id]);
    assert!(root.ok(&["rmi", &image]).contains("Deleted: "));
}

#[test]
fn a_foreground_run_forwards_signals_to_the_container() {
    let root = root("sig-proxy");
    let script = "trap 'echo got-int; exit 5' INT; echo ready; while true; do sleep 0.1; done";
    let mut child = berth_command(&root)
        .args([
            "run",
            "--rm",
            "--network",
            "none",
            "busybox",
            "sh",
            "-c",
            script,
        ])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("run");
    let mut reader = std::io::BufReader::new(child.stdout.take().expect("stdout"));
    let mut line = String::new();
    std::io::BufRead::read_line(&mut reader, &mut line).expect("read");
    assert_eq!(line, "ready\n");
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut reader, &mut rest).expect("read");
    assert_eq!(rest, "got-int\n");
    assert_eq!(child.wait().expect("wait").code(), Some(5));
    assert_eq!(root.ok(&["ps", "-aq"]), "");
}

#[test]
fn events_are_journaled_and_followed() {
    let root = root("events");
    // Follow (from the start of this root's journal, so it does not matter whether the
    // follower is up before the container starts), only `start` events, in JSON.
    let mut follow = berth_command(&root)
        .args([
            "events",
            "--since",
            "0",
            "--filter",
            "event=start",
            "--format",
            "json",
        ])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("events");
    let (code, _, err) = run(
        &root,
        &["--rm", "--name", "ev", "-l", "k=v", "busybox", "true"],
    );
    assert_eq!(code, 0, "{err}");
    let mut reader = std::io::BufReader::new(follow.stdout.take().expect("stdout"));
    let mut line = String::new();
    std::io::BufRead::read_line(&mut reader, &mut line).expect("read");
    let _ = follow.kill();
    let _ = follow.wait();
    let event: serde_json::Value = serde_json::from_str(&line).expect("event json");
    assert_eq!(event["Action"], "start");
    assert_eq!(event["Actor"]["Attributes"]["name"], "ev");
    assert_eq!(event["Actor"]["Attributes"]["k"], "v");
    // The whole history: create, start, die (with the code), destroy. `--until` is in
    // whole seconds (as Docker's), so the next second bounds it.
    let until = (std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs()
        + 1)
    .to_string();
    let args = [
        "events",
        "--since",
        "0",
        "--until",
        &until,
        "--filter",
        "container=ev",
    ];
    let (code, out, err) = root.berth(&args);
    assert_eq!(code, 0, "{err}");
    let actions: Vec<&str> = out
        .lines()
        .map(|l| l.split(' ').nth(2).unwrap_or_default())
        .collect();
    assert_eq!(actions, ["create", "start", "die", "destroy"], "{out}");
    assert!(
        out.lines()
            .nth(2)
            .unwrap_or_default()
            .contains("exitCode=0"),
        "{out}"
    );
}

#[test]
fn a_record_from_a_newer_berth_is_refused_by_name() {
    let root = root("schema");
    let id = root
        .ok(&["create", "--network", "none", "busybox", "true"])
        .trim()
        .to_string();
    edit_record(&root, &id, "container.json", |record| {
        record["SchemaVersion"] = 99.into()
    });
    let (code, _, err) = root.berth(&["ps", "-a"]);
    assert_eq!(code, 1);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("written by a newer berth (schema 99"), "{err}");
    // Put it back so that the guard can remove it.
    edit_record(&root, &id, "container.json", |record| {
        record["SchemaVersion"] = 1.into()
    });
}

/// A docker-save archive of an image with `count` layers: busybox in the first, one file
/// `/layer-N` in each of the others.
fn many_layer_archive(count: usize) -> Vec<u8> {
    use harness::tarball::{sha256_hex, tar_of};
    let mut first = tar::Builder::new(Vec::new());
    let busybox = std::fs::read("/bin/busybox").expect("busybox-static");
    let mut header = tar::Header::new_gnu();
    header.set_size(busybox.len() as u64);
    header.set_mode(0o755);
    header.set_uid(0);
    header.set_gid(0);
    header.set_mtime(0);
    header.set_cksum();
    first
        .append_data(&mut header, "bin/busybox", busybox.as_slice())
        .expect("tar");
    for applet in ["sh", "ls", "cat", "grep", "wc"] {
        let mut link = tar::Header::new_gnu();
        link.set_entry_type(tar::EntryType::Symlink);
        link.set_size(0);
        link.set_mode(0o777);
        link.set_uid(0);
        link.set_gid(0);
        link.set_mtime(0);
        first
            .append_link(&mut link, format!("bin/{applet}"), "busybox")
            .expect("tar");
    }
    let mut layers = vec![first.into_inner().expect("tar")];
    for n in 1..count {
        let name = format!("layer-{n}");
        layers.push(tar_of(&[(name.as_str(), name.as_bytes())]));
    }
    let diff_ids: Vec<String> = layers
        .iter()
        .map(|l| format!("sha256:{}", sha256_hex(l)))
        .collect();
    let config = serde_json::to_vec(&serde_json::json!({
        "architecture": "amd64",
        "os": "linux",
        "config": {"Cmd": ["sh"], "Env": ["PATH=/bin"]},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
    }))
    .expect("json");
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    let config_name = format!("blobs/sha256/{}", sha256_hex(&config));
    let mut layer_names = Vec::new();
    for layer in &layers {
        let name = format!("blobs/sha256/{}", sha256_hex(layer));
        layer_names.push(name.clone());
        files.push((name, layer.clone()));
    }
    files.push((config_name.clone(), config));
    let manifest = serde_json::to_vec(&serde_json::json!([
        {"Config": config_name, "RepoTags": ["layered:1"], "Layers": layer_names}
    ]))
    .expect("json");
    files.push(("manifest.json".into(), manifest));
    let refs: Vec<(&str, &[u8])> = files
        .iter()
        .map(|(n, d)| (n.as_str(), d.as_slice()))
        .collect();
    tar_of(&refs)
}

#[test]
fn an_image_with_seventy_layers_runs() {
    let root = root("layers");
    // 70 lowerdirs of ~100 bytes each: more than the 4 KiB a mount option string can hold,
    // so this needs the new mount API's one `lowerdir+` per layer.
    let archive = root.write("layered.tar", &many_layer_archive(70));
    root.ok(&["load", "-q", "-i", &archive]);
    let (code, out, err) = run(
        &root,
        &[
            "--rm",
            "layered:1",
            "sh",
            "-c",
            "ls / | grep -c '^layer-'; cat /layer-1 /layer-69",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "69\nlayer-1layer-69");
}

#[test]
fn auto_removed_containers_behave_as_dockers() {
    let root = root("auto-remove");
    // `wait` of an --rm container prints its exit code, although it is gone by then.
    let script = "trap 'exit 3' TERM; while true; do sleep 0.1; done";
    let id = run(&root, &["-d", "--rm", "busybox", "sh", "-c", script])
        .1
        .trim()
        .to_string();
    let waiter = berth_command(&root)
        .args(["wait", &id])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("wait");
    // Once `wait` holds the container's lock file open it is blocked on it.
    let fds = format!("/proc/{}/fd", waiter.id());
    let started = Instant::now();
    while !std::fs::read_dir(&fds)
        .into_iter()
        .flatten()
        .flatten()
        .any(|e| std::fs::read_link(e.path()).is_ok_and(|t| t.ends_with("lock")))
    {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "wait never blocked"
        );
        std::thread::yield_now();
    }
    root.ok(&["kill", "-s", "TERM", &id]);
    let out = waiter.wait_with_output().expect("wait");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "3\n");
    assert_eq!(root.ok(&["ps", "-aq"]), "");
    // `restart` keeps an --rm container (it runs again).
    run(
        &root,
        &["-d", "--rm", "--name", "rr", "busybox", "sleep", "1000"],
    );
    assert_eq!(root.ok(&["restart", "-t", "0", "rr"]), "rr\n");
    assert!(root.ok(&["ps", "--format", "{{.Names}}"]).contains("rr"));
    root.ok(&["rm", "-f", "rr"]);
    // A failed start of an --rm container removes it, as a failed `run --rm` does.
    root.ok(&[
        "create",
        "--rm",
        "--network",
        "none",
        "--name",
        "bad",
        "busybox",
        "no-such-cmd",
    ]);
    let (code, _, err) = root.berth(&["start", "bad"]);
    assert_eq!(code, 1);
    assert!(err.contains("no-such-cmd"), "{err}");
    assert_eq!(root.ok(&["ps", "-aq"]), "");
    // `rm -f` racing an --rm container's own removal is quiet.
    for _ in 0..5 {
        let id = run(&root, &["-d", "--rm", "busybox", "true"]).1;
        let (code, _, err) = root.berth(&["rm", "-f", id.trim()]);
        assert_eq!((code, err.as_str()), (0, ""));
    }
    assert_eq!(root.ok(&["ps", "-aq"]), "");
}

#[test]
fn resource_limits_reach_the_cgroup() {
    let root = root("limits");
    let args = [
        "-d",
        "--memory",
        "64m",
        "--cpus",
        "0.5",
        "--cpu-shares",
        "512",
        "--pids-limit",
        "50",
        "busybox",
        "sleep",
        "1000",
    ];
    let id = run(&root, &args).1.trim().to_string();
    // From the host, the container's own cgroups.
    let read = |hierarchy: &str, file: &str| {
        std::fs::read_to_string(format!("/sys/fs/cgroup/{hierarchy}/berth-{id}/{file}"))
            .unwrap_or_else(|e| panic!("{hierarchy}/{file}: {e}"))
            .trim()
            .to_string()
    };
    assert_eq!(
        read("memory", "memory.limit_in_bytes"),
        (64u64 << 20).to_string()
    );
    assert_eq!(read("pids", "pids.max"), "50");
    assert_eq!(read("cpu", "cpu.cfs_quota_us"), "50000");
    assert_eq!(read("cpu", "cpu.cfs_period_us"), "100000");
    assert_eq!(read("cpu", "cpu.shares"), "512");
    // From inside, as a user would look (the container's cgroup namespace root).
    let (_, out, err) = run(
        &root,
        &[
            "--rm",
            "--memory",
            "32m",
            "busybox",
            "cat",
            "/sys/fs/cgroup/memory/memory.limit_in_bytes",
        ],
    );
    assert_eq!(out.trim(), (32u64 << 20).to_string(), "{err}");
    // Bad values: one line, nothing created.
    let (code, _, err) = run(&root, &["--memory", "1k", "busybox", "true"]);
    assert_eq!(code, 125);
    assert!(err.contains("minimum memory limit allowed is 6MB"), "{err}");
    root.ok(&["rm", "-f", &id]);
    assert_eq!(root.ok(&["ps", "-aq"]), "");
}

#[test]
fn a_name_held_by_a_killed_create_is_taken_back_and_a_live_one_is_not() {
    let root = root("name-holder");
    let state = root.path().join("state");
    let names = state.join("names");
    let hold = |name: &str, id: &str, creator: serde_json::Value| {
        let dir = state.join("containers").join(id);
        std::fs::create_dir_all(&dir).expect("dir");
        std::fs::write(dir.join("creator.json"), creator.to_string()).expect("creator");
        std::fs::create_dir_all(&names).expect("names");
        std::os::unix::fs::symlink(id, names.join(name)).expect("name link");
        dir
    };
    // A creator that is gone (no such process start time): the name is free again.
    let dead = hold(
        "taken",
        &"d".repeat(64),
        serde_json::json!({"Pid": std::process::id(), "Start": 1}),
    );
    let (code, out, err) = root.berth(&[
        "create",
        "--name",
        "taken",
        "--network",
        "none",
        "busybox",
        "true",
    ]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(!dead.exists(), "the dead creator's leftovers are gone");
    // A live creator (this test process) keeps it.
    let stat = std::fs::read_to_string("/proc/self/stat").expect("stat");
    let start: u64 = stat[stat.rfind(')').expect(")") + 2..]
        .split(' ')
        .nth(19)
        .expect("start time")
        .parse()
        .expect("number");
    let live = hold(
        "busy",
        &"e".repeat(64),
        serde_json::json!({"Pid": std::process::id(), "Start": start}),
    );
    let (code, _, err) = root.berth(&[
        "create",
        "--name",
        "busy",
        "--network",
        "none",
        "busybox",
        "true",
    ]);
    assert_eq!(code, 125, "{err}");
    assert!(err.contains("is already in use"), "{err}");
    assert!(live.exists());
    let _ = std::fs::remove_dir_all(&live);
    let _ = std::fs::remove_file(names.join("busy"));
}

#[test]
fn a_sigterm_right_after_the_start_reaches_the_init() {
    // Before the init has run a single instruction, SIGTERM must wait for it rather
    // than be dropped (a PID 1 without a handler ignores it): stop then ends the
    // container with SIGTERM (143), not with SIGKILL after the grace period (137).
    let root = root("init-early-term");
    for _ in 0..5 {
        let id = run(&root, &["-d", "--init", "busybox", "sleep", "600"])
            .1
            .trim()
            .to_string();
        root.ok(&["stop", "-t", "30", &id]);
        let code = root.ok(&["inspect", "--format", "{{.State.ExitCode}}", &id]);
        assert_eq!(
            code.trim(),
            "143",
            "SIGTERM reached the command through the init"
        );
        root.ok(&["rm", &id]);
    }
}
