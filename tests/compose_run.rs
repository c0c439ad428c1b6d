//! `berth compose run` end to end, as root: dependencies first, then a one-off container
//! with Compose's name and labels, the command's output and exit code, the flags that
//! change what runs, `--rm`, `-d`, `--no-deps`, bad input refused before anything
//! exists, and `down` removing one-off containers too. Subnets 10.232.90–92; every
//! container points DNS forwarding at 127.0.0.1.

mod harness;

use harness::compose::{assert_no_project, assert_refused, compose, compose_ok, project, ps};
use harness::containers::{inspect, root};

const SERVICES: &str = "  app:
    image: busybox
    command: [\"echo\", \"from the file\"]
    dns: [127.0.0.1]
    restart: always
    environment:
      FROM_FILE: file
    ports:
      - \"127.0.0.1::8080\"
    depends_on:
      db:
        condition: service_healthy
  db:
    image: busybox
    init: true
    command: [\"sleep\", \"600\"]
    dns: [127.0.0.1]
    healthcheck:
      test: [\"CMD\", \"true\"]
      interval: 100ms";

/// The one-off containers of the project: their names, from `ps -a --format json`.
fn oneoffs(root: &harness::containers::Guarded, file: &str) -> Vec<String> {
    ps(root, file)
        .into_iter()
        .map(|(name, _)| name)
        .filter(|n| n.contains("-run-"))
        .collect()
}

#[test]
fn run_starts_dependencies_then_a_oneoff_whose_exit_code_is_ours() {
    let root = root("compose-run");
    let file = project(&root, "compose.yaml", SERVICES, 'a', "10.232.90.0/24");
    std::fs::write(root.path().join("note.txt"), "mounted\n").expect("write");
    let (code, out, err) = compose(
        &root,
        &file,
        &[
            "run",
            "-e",
            "EXTRA=given",
            "-u",
            "1234",
            "-w",
            "/tmp",
            "-v",
            "./note.txt:/note.txt:ro",
            "app",
            "sh",
            "-c",
            "echo $FROM_FILE $EXTRA $(id -u) $(pwd); cat /note.txt; nslookup db >/dev/null && echo resolved; exit 3",
        ],
    );
    assert_eq!(code, 3, "{err}");
    assert_eq!(out, "file given 1234 /tmp\nmounted\nresolved\n", "{err}");
    // The dependency was brought up and waited for.
    assert!(err.contains(" Container demo-db-1  Started"), "{err}");
    assert!(err.contains(" Container demo-db-1  Healthy"), "{err}");
    let names = oneoffs(&root, &file);
    assert_eq!(names.len(), 1, "{names:?}");
    let name = &names[0];
    let slug = name
        .strip_prefix("demo-app-run-")
        .expect("Compose's one-off name");
    assert_eq!(slug.len(), 12, "{name}");
    let c = inspect(&root, name);
    let labels = &c["Config"]["Labels"];
    assert_eq!(labels["com.docker.compose.oneoff"], "True");
    assert_eq!(labels["com.docker.compose.service"], "app");
    assert_eq!(labels["com.docker.compose.container-number"], "-1");
    let full_slug = labels["com.docker.compose.slug"]
        .as_str()
        .unwrap_or_default();
    assert!(
        full_slug.starts_with(slug) && full_slug.len() == 64,
        "{full_slug}"
    );
    // No restart policy and no published ports unless asked.
    assert_eq!(c["HostConfig"]["RestartPolicy"]["Name"], "no");
    assert_eq!(c["HostConfig"]["PortBindings"], serde_json::json!({}));
    // No replica of app was made: run is not up.
    assert!(ps(&root, &file).iter().all(|(n, _)| n != "demo-app-1"));

    // --rm leaves nothing; --entrypoint replaces the command too.
    let (code, out, err) = compose(
        &root,
        &file,
        &["run", "--rm", "--entrypoint", "echo entry", "app"],
    );
    assert_eq!((code, out.as_str()), (0, "entry\n"), "{err}");
    assert_eq!(oneoffs(&root, &file).len(), 1);

    // -d prints the id of a running container.
    let (out, _) = compose_ok(&root, &file, &["run", "-d", "app", "sleep", "600"]);
    let id = out.trim();
    assert_eq!(id.len(), 64, "{out}");
    assert_eq!(inspect(&root, id)["State"]["Running"], true);
    // A running `--rm` one-off goes with down too (removed by its own supervisor).
    compose_ok(&root, &file, &["run", "--rm", "-d", "app", "sleep", "600"]);

    // down removes the one-off containers with the rest, and the network after them.
    let (_, err) = compose_ok(&root, &file, &["down", "-t", "0"]);
    assert!(ps(&root, &file).is_empty(), "{err}");
    assert_no_project(&root);
}

#[test]
fn run_no_deps_runs_alone_and_stdin_reaches_the_command() {
    let root = root("compose-run-nodeps");
    let file = project(&root, "compose.yaml", SERVICES, 'b', "10.232.91.0/24");
    let mut all = vec!["compose", "-f", file.as_str()];
    all.extend_from_slice(&["run", "--rm", "-T", "--no-deps", "app", "cat"]);
    let (code, out, err) = root.berth_with(&all, b"piped in\n");
    assert_eq!((code, out.as_str()), (0, "piped in\n"), "{err}");
    // db was not started; only the project's network exists.
    assert!(ps(&root, &file).is_empty(), "{err}");
    compose_ok(&root, &file, &["down"]);
}

#[test]
fn run_refuses_bad_input_before_anything_exists() {
    let root = root("compose-run-errors");
    let file = project(&root, "compose.yaml", SERVICES, 'c', "10.232.92.0/24");
    for (args, message) in [
        (vec!["run", "nosuch"], "no such service: nosuch"),
        (
            vec!["run", "--service-ports", "-p", "8080", "app"],
            "--service-ports and --publish are incompatible",
        ),
        (vec!["run", "-p", "99999", "app"], "--publish 99999"),
        (vec!["run", "-l", "novalue", "app"], "KEY=VALUE"),
        (
            vec!["run", "-v", "undeclared:/x", "app"],
            "no volume undeclared in the project",
        ),
        (
            vec!["run", "--entrypoint", "'unclosed", "app"],
            "--entrypoint",
        ),
    ] {
        assert_refused(&root, &file, &args, message);
    }
}
