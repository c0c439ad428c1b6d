//! `berth compose up -d`, `ps` and `down` end to end, as root: Compose's names and labels,
//! convergence (a second `up` changes nothing, a changed service alone is recreated),
//! scaling, dependency conditions, orphans, volumes kept or removed, keys berth does not
//! apply refused before anything exists, and several replicas behind one DNS name. Each
//! project has its own network subnet (10.232.7x) and bridge name, and its containers
//! point DNS forwarding at 127.0.0.1, so no query leaves the machine.

mod harness;

use std::collections::BTreeSet;

use harness::compose::{comes_before, compose, compose_ok, named_project, project, ps};
use harness::containers::{Guarded, inspect, root};
use harness::networks::bridge_name;

const SERVICES: &str = "  web:
    image: busybox
    command: [\"httpd\", \"-f\", \"-p\", \"80\"]
    dns: [127.0.0.1]
    environment:
      GREETING: hello
    depends_on: [db]
  db:
    image: busybox
    command: [\"sleep\", \"600\"]
    dns: [127.0.0.1]
    volumes:
      - data:/data
volumes:
  data: {}";

#[test]
fn up_converges_and_down_cleans_up_with_composes_names_and_labels() {
    let root = root("compose-up");
    let file = project(&root, "compose.yaml", SERVICES, 'p', "10.232.70.0/24");
    let (_, err) = compose_ok(&root, &file, &["up", "-d"]);
    for line in [
        " Network demo_default  Created",
        " Volume demo_data  Created",
        " Container demo-db-1  Started",
        " Container demo-web-1  Started",
    ] {
        assert!(err.contains(line), "{line} in {err}");
    }
    // db (a dependency) starts before web.
    assert!(
        comes_before(&err, "demo-db-1  Started", "demo-web-1  Starting"),
        "{err}"
    );
    let first = ps(&root, &file);
    assert_eq!(
        first.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(),
        ["demo-db-1", "demo-web-1"]
    );

    // Compose's labels and DNS names.
    let web = inspect(&root, "demo-web-1");
    let labels = &web["Config"]["Labels"];
    assert_eq!(labels["com.docker.compose.project"], "demo");
    assert_eq!(labels["com.docker.compose.service"], "web");
    assert_eq!(labels["com.docker.compose.container-number"], "1");
    assert_eq!(labels["com.docker.compose.oneoff"], "False");
    assert_eq!(
        labels["com.docker.compose.depends_on"],
        "db:service_started:false"
    );
    assert_eq!(
        labels["com.docker.compose.project.config_files"],
        file.as_str()
    );
    let (hash, _) = compose_ok(&root, &file, &["config", "--hash", "web"]);
    assert_eq!(
        format!(
            "web {}",
            labels["com.docker.compose.config-hash"]
                .as_str()
                .unwrap_or_default()
        ),
        hash.trim()
    );
    assert!(
        labels["com.docker.compose.image"]
            .as_str()
            .unwrap_or_default()
            .starts_with("sha256:")
    );
    assert_eq!(
        web["NetworkSettings"]["Networks"]["demo_default"]["Aliases"][0],
        "web"
    );
    let net = root.ok(&["network", "inspect", "demo_default"]);
    assert!(
        net.contains("\"com.docker.compose.network\": \"default\""),
        "{net}"
    );
    let out = root.ok(&["exec", "demo-web-1", "ping", "-c", "1", "-W", "2", "db"]);
    assert!(out.contains("1 packets received"), "{out}");

    // `ps --format json`: JSON Lines with Compose's keys.
    let (out, _) = compose_ok(&root, &file, &["ps", "--format", "json"]);
    let row: serde_json::Value =
        serde_json::from_str(out.lines().next().unwrap_or_default()).expect("json");
    for key in [
        "Command",
        "CreatedAt",
        "ExitCode",
        "Health",
        "ID",
        "Image",
        "Labels",
        "LocalVolumes",
        "Mounts",
        "Name",
        "Names",
        "Networks",
        "Ports",
        "Project",
        "Publishers",
        "RunningFor",
        "Service",
        "Size",
        "State",
        "Status",
    ] {
        assert!(row.get(key).is_some(), "{key} in {row}");
    }

    // Again, unchanged: nothing is recreated or restarted.
    let (_, err) = compose_ok(&root, &file, &["up", "-d"]);
    assert!(err.contains(" Container demo-web-1  Running"), "{err}");
    assert!(
        !err.contains("Recreate") && !err.contains("Created"),
        "{err}"
    );
    assert_eq!(ps(&root, &file), first);

    // One service changed: it alone is recreated.
    let changed = SERVICES.replace("GREETING: hello", "GREETING: bonjour");
    project(&root, "compose.yaml", &changed, 'p', "10.232.70.0/24");
    let (_, err) = compose_ok(&root, &file, &["up", "-d", "-t", "0"]);
    assert!(err.contains(" Container demo-web-1  Recreated"), "{err}");
    let now = ps(&root, &file);
    assert_eq!(now[0], first[0], "db kept");
    assert_ne!(now[1].1, first[1].1, "web recreated");
    let env = root.ok(&["exec", "demo-web-1", "env"]);
    assert!(env.contains("GREETING=bonjour"), "{env}");

    // Scale up, then down: the lowest numbers stay.
    compose_ok(&root, &file, &["up", "-d", "--scale", "db=5"]);
    let names: Vec<String> = ps(&root, &file).into_iter().map(|(n, _)| n).collect();
    assert_eq!(names.len(), 6, "{names:?}");
    compose_ok(&root, &file, &["up", "-d", "-t", "0", "--scale", "db=2"]);
    let names: BTreeSet<String> = ps(&root, &file).into_iter().map(|(n, _)| n).collect();
    assert_eq!(
        names,
        ["demo-db-1", "demo-db-2", "demo-web-1"]
            .map(String::from)
            .into()
    );

    // A service gone from the file: an orphan, warned about, then removed on request.
    let only_db = format!(
        "  db:\n{}",
        SERVICES.split("  db:\n").nth(1).unwrap_or_default()
    );
    project(&root, "compose.yaml", &only_db, 'p', "10.232.70.0/24");
    let (_, err) = compose_ok(&root, &file, &["up", "-d", "--scale", "db=2"]);
    assert!(
        err.contains("Found orphan containers ([demo-web-1])"),
        "{err}"
    );
    let (_, err) = compose_ok(
        &root,
        &file,
        &["up", "-d", "-t", "0", "--scale", "db=2", "--remove-orphans"],
    );
    assert!(err.contains(" Container demo-web-1  Removed"), "{err}");

    // down keeps the named volume; down -v removes it.
    compose_ok(&root, &file, &["down", "-t", "0"]);
    assert!(ps(&root, &file).is_empty());
    assert!(
        root.ok(&["volume", "ls", "-q"])
            .lines()
            .any(|v| v == "demo_data")
    );
    let (code, _, _) = root.berth(&["network", "inspect", "demo_default"]);
    assert_ne!(code, 0, "the project's network is gone");
    compose_ok(&root, &file, &["up", "-d"]);
    compose_ok(&root, &file, &["down", "-v", "-t", "0"]);
    assert!(
        !root
            .ok(&["volume", "ls", "-q"])
            .lines()
            .any(|v| v == "demo_data")
    );
    assert_eq!(root.ok(&["ps", "-aq"]), "");
}

#[test]
fn keys_berth_does_not_apply_fail_before_anything_exists() {
    let root = root("compose-refuse");
    let services = "  web:\n    image: busybox\n    command: [\"true\"]\n    gpus: all\n  db:\n    image: busybox\n    build: .\n";
    let file = project(&root, "compose.yaml", services, 'q', "10.232.71.0/24");
    let (code, _, err) = compose(&root, &file, &["up", "-d"]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("berth compose does not apply this key yet")
            || err.contains("builds are not supported"),
        "{err}"
    );
    assert_eq!(root.ok(&["ps", "-aq"]), "");
    let (code, _, _) = root.berth(&["network", "inspect", "demo_default"]);
    assert_ne!(code, 0, "no network was made");
    // The same in the foreground.
    let (code, _, err) = compose(&root, &file, &["up"]);
    assert_eq!(code, 1);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert_eq!(root.ok(&["ps", "-aq"]), "");
}

#[test]
fn dependency_conditions_wait_for_health_and_completion() {
    let root = root("compose-deps");
    let services = "  migrate:
    image: busybox
    command: [\"sh\", \"-c\", \"echo migrated > /shared/done\"]
    volumes: [\"shared:/shared\"]
  db:
    image: busybox
    command: [\"sh\", \"-c\", \"sleep 1; touch /tmp/ready; exec sleep 600\"]
    dns: [127.0.0.1]
    init: true
    healthcheck:
      test: [\"CMD\", \"test\", \"-f\", \"/tmp/ready\"]
      interval: 200ms
      retries: 20
  app:
    image: busybox
    command: [\"sleep\", \"600\"]
    dns: [127.0.0.1]
    init: true
    volumes: [\"shared:/shared\"]
    depends_on:
      db: {condition: service_healthy}
      migrate: {condition: service_completed_successfully}
volumes:
  shared: {}";
    let file = project(&root, "compose.yaml", services, 'r', "10.232.72.0/24");
    let (_, err) = compose_ok(&root, &file, &["up", "-d"]);
    assert!(
        comes_before(&err, "demo-db-1  Healthy", "demo-app-1  Starting"),
        "{err}"
    );
    assert!(
        comes_before(&err, "demo-migrate-1  Exited", "demo-app-1  Starting"),
        "{err}"
    );
    let done = root.ok(&["exec", "demo-app-1", "cat", "/shared/done"]);
    assert_eq!(done, "migrated\n");
    let health = inspect(&root, "demo-db-1")["State"]["Health"]["Status"].clone();
    assert_eq!(health, "healthy");
    compose_ok(&root, &file, &["down", "-v", "-t", "0"]);

    // A check that never passes fails `up` with a message naming the container.
    let never = services
        .replace(
            "[\"CMD\", \"test\", \"-f\", \"/tmp/ready\"]",
            "[\"CMD\", \"false\"]",
        )
        .replace("retries: 20", "retries: 2");
    project(&root, "compose.yaml", &never, 'r', "10.232.72.0/24");
    let (code, _, err) = compose(&root, &file, &["up", "-d"]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("dependency failed to start: container demo-db-1 is unhealthy"),
        "{err}"
    );
    assert!(
        !ps(&root, &file).iter().any(|(n, _)| n == "demo-app-1"),
        "app was not created"
    );
    compose_ok(&root, &file, &["down", "-v", "-t", "0"]);
}

#[test]
fn replicas_answer_in_rotating_order_and_restart_true_dependents_restart() {
    use hickory_proto::rr::RecordType;
    let root = root("compose-dns");
    let services = "  web:
    image: busybox
    command: [\"sleep\", \"600\"]
    init: true
    dns: [127.0.0.1]
    scale: 3
    networks:
      default:
        aliases: [www]
  client:
    image: busybox
    command: [\"sleep\", \"600\"]
    init: true
    dns: [127.0.0.1]
    environment:
      V: \"1\"
  worker:
    image: busybox
    command: [\"sleep\", \"600\"]
    init: true
    dns: [127.0.0.1]
    depends_on:
      client: {condition: service_started, restart: true}";
    let file = project(&root, "compose.yaml", services, 's', "10.232.73.0/24");
    compose_ok(&root, &file, &["up", "-d"]);
    let ips: BTreeSet<std::net::IpAddr> = (1..=3)
        .map(|n| {
            inspect(&root, &format!("demo-web-{n}"))["NetworkSettings"]["Networks"]["demo_default"]
                ["IPAddress"]
                .as_str()
                .expect("address")
                .parse()
                .expect("ip")
        })
        .collect();
    assert_eq!(ips.len(), 3);
    let pid = inspect(&root, "demo-client-1")["State"]["Pid"]
        .as_i64()
        .expect("pid");
    let mut asker = harness::dns::Client::inside(&harness::dns::netns_of(pid));
    for name in ["web.", "www."] {
        let mut first = BTreeSet::new();
        for _ in 0..30 {
            let a = asker.ask(name, RecordType::A);
            assert_eq!(
                a.addresses.iter().copied().collect::<BTreeSet<_>>(),
                ips,
                "{name}: {a:?}"
            );
            first.insert(a.addresses[0]);
        }
        assert_eq!(first, ips, "{name}: every replica first at least once");
    }

    // client changes: it is recreated, and worker (restart: true) restarted, same id.
    let worker = inspect(&root, "demo-worker-1");
    let changed = services.replace("V: \"1\"", "V: \"2\"");
    project(&root, "compose.yaml", &changed, 's', "10.232.73.0/24");
    let (_, err) = compose_ok(&root, &file, &["up", "-d", "-t", "0"]);
    assert!(err.contains(" Container demo-client-1  Recreated"), "{err}");
    assert!(
        err.contains(" Container demo-worker-1  Restarting"),
        "{err}"
    );
    let after = inspect(&root, "demo-worker-1");
    assert_eq!(after["Id"], worker["Id"], "restarted, not recreated");
    assert_ne!(after["State"]["StartedAt"], worker["State"]["StartedAt"]);
    compose_ok(&root, &file, &["down", "-t", "0"]);
}

#[test]
fn ten_projects_with_the_same_services_up_and_down_in_parallel() {
    let root = root("compose-many");
    let services = "  web:
    image: busybox
    command: [\"sleep\", \"600\"]
    init: true
    dns: [127.0.0.1]
  api:
    image: busybox
    command: [\"sleep\", \"600\"]
    init: true
    dns: [127.0.0.1]
    depends_on: [web]
  db:
    image: busybox
    command: [\"sleep\", \"600\"]
    init: true
    dns: [127.0.0.1]";
    let files: Vec<(String, String)> = (0..10)
        .map(|i| {
            let name = format!("fixture{i}");
            let tag = char::from(b'0' + i as u8);
            let file = named_project(
                &root,
                &name,
                &format!("{name}.yaml"),
                services,
                tag,
                &format!("10.232.{}.0/24", 80 + i),
            );
            (name, file)
        })
        .collect();
    std::thread::scope(|scope| {
        for (_, file) in &files {
            let root = &root;
            scope.spawn(move || compose_ok(root, file, &["up", "-d"]));
        }
    });
    for (name, file) in &files {
        let names: Vec<String> = ps(&root, file).into_iter().map(|(n, _)| n).collect();
        assert_eq!(
            names,
            [
                format!("{name}-api-1"),
                format!("{name}-db-1"),
                format!("{name}-web-1")
            ]
        );
        let out = root.ok(&[
            "exec",
            &format!("{name}-api-1"),
            "ping",
            "-c",
            "1",
            "-W",
            "2",
            "web",
        ]);
        assert!(out.contains("1 packets received"), "{out}");
    }
    assert_eq!(root.ok(&["ps", "-q"]).lines().count(), 30);
    std::thread::scope(|scope| {
        for (_, file) in &files {
            let root = &root;
            scope.spawn(move || compose_ok(root, file, &["down", "-t", "0"]));
        }
    });
    assert_eq!(root.ok(&["ps", "-aq"]), "");
    let (out, _) = (
        root.ok(&["network", "ls", "-q", "--filter", "type=custom"]),
        (),
    );
    assert_eq!(out, "", "every project network removed");
    for i in 0..10 {
        let bridge = bridge_name(char::from(b'0' + i as u8));
        let gone = std::process::Command::new("ip")
            .args(["link", "show", "dev", &bridge])
            .output()
            .is_ok_and(|o| !o.status.success());
        assert!(gone, "bridge {bridge} removed");
    }
}

#[test]
fn an_up_killed_midway_is_finished_by_the_next_up() {
    use std::io::BufRead;
    let root = root("compose-kill");
    let services: String = (0..12)
        .map(|i| {
            format!("  s{i:02}:\n    image: busybox\n    command: [\"sleep\", \"600\"]\n    init: true\n    dns: [127.0.0.1]\n")
        })
        .collect();
    let file = project(
        &root,
        "compose.yaml",
        services.trim_end(),
        't',
        "10.232.74.0/24",
    );
    let mut child = harness::berth_command()
        .arg("--root")
        .arg(root.path().join("state"))
        .args(["compose", "-f", &file, "up", "-d"])
        .current_dir(root.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("compose up");
    let stderr = child.stderr.take().expect("stderr");
    let mut lines = std::io::BufReader::new(stderr).lines();
    // Killed once the first container has started, the others still to come.
    let seen = lines
        .by_ref()
        .map_while(Result::ok)
        .find(|l| l.ends_with("  Started"));
    assert!(seen.is_some(), "up started a container");
    child.kill().expect("kill -9");
    child.wait().expect("reap");
    let (_, err) = compose_ok(&root, &file, &["up", "-d"]);
    let names: Vec<String> = ps(&root, &file).into_iter().map(|(n, _)| n).collect();
    let want: Vec<String> = (0..12).map(|i| format!("demo-s{i:02}-1")).collect();
    assert_eq!(
        names, want,
        "one container per service after the second up: {err}"
    );
    let running = root.ok(&[
        "ps",
        "-q",
        "--filter",
        "label=com.docker.compose.project=demo",
    ]);
    assert_eq!(running.lines().count(), 12, "all running");
    compose_ok(&root, &file, &["down", "-t", "0"]);
    assert_eq!(root.ok(&["ps", "-aq"]), "");
}

#[test]
fn logs_prefix_each_line_with_the_container_and_follow_until_all_stop() {
    let root = root("compose-logs");
    let services = "  one:
    image: busybox
    command: [\"sh\", \"-c\", \"echo from-one; echo err-one >&2\"]
  two:
    image: busybox
    command: [\"sh\", \"-c\", \"echo from-two; sleep 0.3; echo late-two\"]
    scale: 2";
    let file = project(&root, "compose.yaml", services, 'u', "10.232.75.0/24");
    compose_ok(&root, &file, &["up", "-d"]);
    // -f returns once every container has stopped, with everything they printed.
    let (out, err) = compose_ok(&root, &file, &["logs", "-f"]);
    assert!(out.contains("one-1 | from-one\n"), "{out}");
    assert!(err.contains("one-1 | err-one\n"), "{err}");
    for n in [1, 2] {
        assert!(out.contains(&format!("two-{n} | from-two\n")), "{out}");
        assert!(out.contains(&format!("two-{n} | late-two\n")), "{out}");
    }
    let (out, _) = compose_ok(&root, &file, &["logs", "--no-log-prefix", "one"]);
    assert_eq!(out, "from-one\n");
    let (out, _) = compose_ok(&root, &file, &["logs", "-n", "1", "two"]);
    assert_eq!(out.lines().count(), 2, "{out}");
    compose_ok(&root, &file, &["down", "-t", "0"]);
}

#[test]
fn up_in_the_foreground_streams_logs_and_ends_as_compose_does() {
    use std::io::BufRead;
    let root = root("compose-fg");
    let services = "  job:
    image: busybox
    command: [\"sh\", \"-c\", \"echo working; exit 3\"]
  svc:
    image: busybox
    command: [\"sleep\", \"600\"]
    init: true";
    let file = project(&root, "compose.yaml", services, 'v', "10.232.76.0/24");
    // The first exit stops the rest; the code is that container's.
    let (code, out, err) = compose(
        &root,
        &file,
        &["up", "--abort-on-container-exit", "-t", "0"],
    );
    assert_eq!(code, 3, "{out}{err}");
    assert!(out.contains("Attaching to job-1, svc-1\n"), "{out}");
    assert!(out.contains("job-1 | working\n"), "{out}");
    assert!(out.contains("job-1 exited with code 3\n"), "{out}");
    assert!(err.contains("Aborting on container exit..."), "{err}");
    assert_eq!(root.ok(&["ps", "-q"]), "", "svc was stopped");
    // --no-attach: svc runs without its logs shown.
    let (code, out, err) = compose(
        &root,
        &file,
        &[
            "up",
            "--no-attach",
            "svc",
            "--abort-on-container-exit",
            "-t",
            "0",
        ],
    );
    assert_eq!(code, 3, "{out}{err}");
    assert!(
        out.starts_with(
            "Attaching to job-1
"
        ),
        "{out}"
    );
    assert_eq!(root.ok(&["ps", "-q"]), "", "svc was stopped");
    // --exit-code-from takes the named service's code.
    let (code, out, err) = compose(&root, &file, &["up", "--exit-code-from", "svc", "-t", "0"]);
    let reported: Option<i32> = out
        .lines()
        .find_map(|l| l.strip_prefix("svc-1 exited with code "))
        .and_then(|c| c.trim().parse().ok());
    assert!(
        reported.is_some_and(|r| r != 0),
        "svc was stopped: {out}{err}"
    );
    assert_eq!(Some(code), reported, "the exit code is svc's: {out}{err}");

    // Ctrl-C stops the project gracefully.
    let mut child = harness::berth_command()
        .arg("--root")
        .arg(root.path().join("state"))
        .args(["compose", "-f", &file, "up", "-t", "0", "svc"])
        .current_dir(root.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("compose up");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = std::io::BufReader::new(stdout).lines();
    let attached = lines
        .by_ref()
        .map_while(Result::ok)
        .find(|l| l.starts_with("Attaching to"));
    assert_eq!(attached.as_deref(), Some("Attaching to svc-1"));
    let sent = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
    assert!(sent.is_ok_and(|s| s.success()));
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    let out = child.wait_with_output().expect("wait");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{rest:?} {err}");
    assert!(
        err.contains("Gracefully stopping... (press Ctrl+C again to force)"),
        "{err}"
    );
    assert!(
        rest.iter().any(|l| l.starts_with("svc-1 exited with code")),
        "{rest:?}"
    );
    assert_eq!(root.ok(&["ps", "-q"]), "");
    compose_ok(&root, &file, &["down", "-t", "0"]);
}

#[test]
fn stop_start_restart_kill_and_rm_act_on_the_projects_containers() {
    let root = root("compose-life");
    let services = "  web:
    image: busybox
    command: [\"sleep\", \"600\"]
    init: true
    depends_on: [db]
  db:
    image: busybox
    command: [\"sleep\", \"600\"]
    init: true";
    let file = project(&root, "compose.yaml", services, 'w', "10.232.77.0/24");
    compose_ok(&root, &file, &["up", "-d"]);
    let running = |root: &Guarded| root.ok(&["ps", "-q"]).lines().count();
    let (_, err) = compose_ok(&root, &file, &["stop", "-t", "0"]);
    // Dependents first.
    assert!(
        comes_before(&err, "demo-web-1  Stopped", "demo-db-1  Stopping"),
        "{err}"
    );
    assert_eq!(running(&root), 0);
    let (_, err) = compose_ok(&root, &file, &["start"]);
    assert!(
        comes_before(&err, "demo-db-1  Started", "demo-web-1  Starting"),
        "{err}"
    );
    assert_eq!(running(&root), 2);
    let before = inspect(&root, "demo-db-1")["State"]["StartedAt"].clone();
    compose_ok(&root, &file, &["restart", "-t", "0", "db"]);
    assert_ne!(inspect(&root, "demo-db-1")["State"]["StartedAt"], before);
    assert_eq!(running(&root), 2);
    compose_ok(&root, &file, &["kill", "web"]);
    // The signal is sent; the exit follows.
    assert_eq!(root.ok(&["wait", "demo-web-1"]).trim(), "137");
    assert_eq!(running(&root), 1);
    let (code, out, err) = compose(&root, &file, &["rm"]);
    assert_eq!(code, 1, "no confirmation without a terminal: {out}{err}");
    assert!(out.contains("Going to remove demo-web-1"), "{out}");
    compose_ok(&root, &file, &["rm", "-f"]);
    assert_eq!(root.ok(&["ps", "-aq"]).lines().count(), 1, "db still runs");
    compose_ok(&root, &file, &["rm", "-f", "-s"]);
    assert_eq!(root.ok(&["ps", "-aq"]), "");
    compose_ok(&root, &file, &["down"]);
}

#[test]
fn exec_port_images_ls_and_create_find_the_services_containers() {
    let root = root("compose-cmds");
    let services = "  web:
    image: busybox
    command: [\"sleep\", \"600\"]
    init: true
    scale: 2
    ports: [\"127.0.0.1::80\"]";
    let file = project(&root, "compose.yaml", services, 'x', "10.232.78.0/24");
    let (_, err) = compose_ok(&root, &file, &["create"]);
    assert!(err.contains(" Container demo-web-2  Created"), "{err}");
    assert_eq!(root.ok(&["ps", "-q"]), "", "create starts nothing");
    compose_ok(&root, &file, &["up", "-d"]);
    let (out, _) = compose_ok(
        &root,
        &file,
        &[
            "exec",
            "--index",
            "2",
            "-e",
            "X=two",
            "web",
            "sh",
            "-c",
            "echo $X $(hostname)",
        ],
    );
    let id2 = inspect(&root, "demo-web-2")["Id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert_eq!(out, format!("two {}\n", &id2[..12]));
    let (code, _, err) = compose(&root, &file, &["exec", "--index", "3", "web", "true"]);
    assert_eq!(code, 1);
    assert!(err.contains("no container with index 3"), "{err}");
    let (out, _) = compose_ok(&root, &file, &["port", "web", "80"]);
    let published =
        inspect(&root, "demo-web-1")["NetworkSettings"]["Ports"]["80/tcp"][0]["HostPort"]
            .as_str()
            .unwrap_or_default()
            .to_string();
    assert_eq!(out, format!("127.0.0.1:{published}\n"));
    let (out, _) = compose_ok(&root, &file, &["images"]);
    assert!(
        out.lines()
            .next()
            .unwrap_or_default()
            .starts_with("CONTAINER"),
        "{out}"
    );
    assert!(
        out.contains("demo-web-1") && out.contains("busybox"),
        "{out}"
    );
    let out = root.ok(&["compose", "ls", "--format", "json"]);
    let list: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(list[0]["Name"], "demo");
    assert_eq!(list[0]["Status"], "running(2)");
    assert_eq!(list[0]["ConfigFiles"], file.as_str());
    compose_ok(&root, &file, &["down", "-t", "0"]);
    assert_eq!(root.ok(&["compose", "ls", "-q"]), "");
}

#[test]
fn progress_is_a_live_view_on_a_terminal_lines_otherwise_or_nothing() {
    let root = root("compose-progress");
    let services = "  one:
    image: busybox
    command: [\"sleep\", \"600\"]
    init: true";
    let file = project(&root, "compose.yaml", services, 'y', "10.232.79.0/24");
    let mut pty = harness::pty::Pty::open(24, 100);
    let mut command = harness::berth_command();
    command
        .arg("--root")
        .arg(root.path().join("state"))
        .args(["compose", "-f", &file, "up", "-d"])
        .current_dir(root.path());
    let mut child = pty.spawn(&mut command);
    let seen = pty.expect("Started");
    assert_eq!(harness::pty::wait(&mut child), 0, "{seen}");
    assert!(seen.contains("[+] Running 2/2"), "{seen}");
    assert!(seen.contains("✔\x1b[0m Network demo_default"), "{seen}");
    assert!(seen.contains("Started"), "{seen}");
    assert!(seen.contains("\x1b[2K"), "lines are redrawn: {seen}");
    let mut quiet = vec![
        "compose",
        "-f",
        file.as_str(),
        "--progress",
        "quiet",
        "down",
        "-t",
        "0",
    ];
    let (code, _, err) = root.berth(&quiet);
    assert_eq!((code, err.as_str()), (0, ""));
    quiet[4] = "bogus";
    let (code, _, err) = root.berth(&quiet);
    assert_ne!(code, 0);
    assert!(
        err.contains("expected auto, tty, plain, json or quiet"),
        "{err}"
    );
}
