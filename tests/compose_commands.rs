//! `compose wait`, `events --json`, `ps --status`, `kill --remove-orphans` and
//! `down --rmi all` end to end, as root. Subnet 10.232.97; DNS forwarding points at
//! 127.0.0.1.

mod harness;

use std::io::{BufRead, BufReader};
use std::process::Stdio;

use harness::compose::{compose, compose_ok, project};
use harness::containers::{berth_command, root};

const SERVICES: &str = "  web:
    image: busybox
    init: true
    command: [\"sleep\", \"600\"]
    dns: [127.0.0.1]
  job:
    image: busybox
    command: [\"sh\", \"-c\", \"sleep 1; exit 4\"]
    dns: [127.0.0.1]";

/// `ps --format json` names for extra `ps` arguments.
fn names(root: &harness::containers::Guarded, file: &str, extra: &[&str]) -> Vec<String> {
    let mut args = vec!["ps", "--format", "json"];
    args.extend_from_slice(extra);
    let (out, _) = compose_ok(root, file, &args);
    let mut names: Vec<String> = out
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("json line");
            v["Name"].as_str().unwrap_or_default().to_string()
        })
        .collect();
    names.sort();
    names
}

#[test]
fn wait_events_status_filters_orphans_and_image_removal() {
    let root = root("compose-commands");
    let file = project(&root, "compose.yaml", SERVICES, 'a', "10.232.97.0/24");

    // Events of the project, from now on, as JSON lines.
    let mut events = berth_command(&root)
        .args(["compose", "-f", &file, "events", "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("events");
    let stdout = events.stdout.take().expect("stdout");
    // A bound on the reading below: the follower is killed if the events never come
    // (and not once it has been reaped, so that its pid cannot be someone else's).
    let reaped = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (pid, watch) = (events.id().to_string(), reaped.clone());
    std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_secs(60));
        if !watch.load(std::sync::atomic::Ordering::SeqCst) {
            let _ = std::process::Command::new("kill")
                .args(["-9", &pid])
                .status();
        }
    });
    let (code, _, err) = compose(&root, &file, &["up", "-d"]);
    assert_eq!(code, 0, "{err}");

    // wait: until job exits (one second after its start), with its code.
    let (code, out, err) = compose(&root, &file, &["wait", "job"]);
    assert_eq!(code, 4, "{err}");
    let job_id = root.ok(&["inspect", "-f", "{{.Id}}", "demo-job-1"]);
    assert_eq!(
        out,
        format!("container {:?} exited with status code 4\n", job_id.trim())
    );

    // The events seen: web's start, with Compose's service and without its labels.
    let mut seen = Vec::new();
    for line in BufReader::new(stdout).lines() {
        let v: serde_json::Value = serde_json::from_str(&line.expect("line")).expect("json");
        let done = v["service"] == "job" && v["action"] == "die";
        seen.push(v);
        if done {
            break;
        }
    }
    reaped.store(true, std::sync::atomic::Ordering::SeqCst);
    let _ = events.kill();
    let _ = events.wait();
    let web_start = seen
        .iter()
        .find(|v| v["service"] == "web" && v["action"] == "start")
        .unwrap_or_else(|| panic!("web start in {seen:?}"));
    assert_eq!(web_start["type"], "container");
    assert_eq!(web_start["attributes"]["name"], "demo-web-1");
    assert!(
        web_start["attributes"]
            .get("com.docker.compose.project")
            .is_none()
    );

    // Status filters look at stopped containers too.
    assert_eq!(names(&root, &file, &["--status", "exited"]), ["demo-job-1"]);
    assert_eq!(
        names(&root, &file, &["--filter", "status=running"]),
        ["demo-web-1"]
    );
    let (code, _, err) = compose(&root, &file, &["ps", "--status", "sleeping"]);
    assert_ne!(code, 0);
    assert!(err.contains("--status \"sleeping\""), "{err}");

    // kill: web, gone from the file, is left alone; with --remove-orphans it is killed
    // too (and kept, as Compose keeps it).
    let only_job = project(
        &root,
        "compose.yaml",
        "  job:\n    image: busybox\n    command: [\"true\"]\n    dns: [127.0.0.1]",
        'a',
        "10.232.97.0/24",
    );
    compose_ok(&root, &only_job, &["kill"]);
    assert_eq!(names(&root, &only_job, &[]), ["demo-web-1"]);
    compose_ok(&root, &only_job, &["kill", "--remove-orphans"]);
    assert!(names(&root, &only_job, &[]).is_empty());
    assert_eq!(
        names(&root, &only_job, &["-a"]),
        ["demo-job-1", "demo-web-1"]
    );

    // down --rmi all: the services' image goes too (the orphan with --remove-orphans).
    let (_, err) = compose_ok(
        &root,
        &only_job,
        &["down", "--rmi", "all", "--remove-orphans"],
    );
    assert!(err.contains(" Image busybox  Removed"), "{err}");
    assert_eq!(root.ok(&["images", "-q"]), "");
    let (code, _, err) = compose(&root, &only_job, &["down", "--rmi", "some"]);
    assert_ne!(code, 0);
    assert!(err.contains("--rmi \"some\""), "{err}");
}
