//! Service keys end to end, as root. `secrets` and `configs`: from a file (bind-mounted read-only),
//! from the environment and from inline content (written with their owner and mode),
//! at Compose's default targets and at given ones; external ones refused before anything
//! exists; `down` removes what was written. Resource, device, logging and namespace keys
//! as the container sees them. Subnets 10.232.93–94, 10.232.98; DNS forwarding points at
//! 127.0.0.1.

mod harness;

use harness::compose::{assert_refused, compose_ok, project};
use harness::containers::root;

const SERVICES: &str = "  app:
    image: busybox
    init: true
    command: [\"sleep\", \"600\"]
    dns: [127.0.0.1]
    secrets:
      - db_password
      - source: token
        target: api-token
    configs:
      - source: app_conf
        target: /etc/app.conf
      - source: inline
        uid: \"1234\"
        gid: \"99\"
        mode: 0440
secrets:
  db_password:
    file: ./db_password.txt
  token:
    environment: TOKEN_FROM_ENV
configs:
  app_conf:
    file: ./app.conf
  inline:
    content: |
      inline for ${COMPOSE_PROJECT_NAME}";

#[test]
fn secrets_and_configs_are_mounted_read_only_at_composes_targets() {
    let root = root("compose-secrets");
    let file = project(&root, "compose.yaml", SERVICES, 'a', "10.232.93.0/24");
    root.write("db_password.txt", b"s3cret\n");
    root.write("app.conf", b"listen 80\n");
    let up = ["compose", "-f", file.as_str(), "up", "-d"];
    let (code, _, err) = root.berth_env(&[("TOKEN_FROM_ENV", "tok-123")], &up, b"");
    assert_eq!(code, 0, "{err}");
    let (out, err) = compose_ok(
        &root,
        &file,
        &[
            "exec",
            "-T",
            "app",
            "sh",
            "-c",
            "cat /run/secrets/db_password /run/secrets/api-token; echo; cat /etc/app.conf /inline; \
             stat -c '%a %u %g' /inline; echo x > /run/secrets/db_password || echo read-only",
        ],
    );
    assert_eq!(
        out, "s3cret\ntok-123\nlisten 80\ninline for demo\n440 1234 99\nread-only\n",
        "{err}"
    );
    // What was written lives in the state root until down.
    let written = root.path().join("state/compose-content/demo");
    assert!(written.join("app/secrets/token").exists());
    compose_ok(&root, &file, &["down", "-t", "0"]);
    assert!(!written.exists(), "down removes {}", written.display());
}

#[test]
fn external_secrets_and_missing_files_fail_before_anything_exists() {
    let root = root("compose-secrets-errors");
    for (services, message) in [
        (
            "  app:\n    image: busybox\n    secrets: [vault]\nsecrets:\n  vault:\n    external: true",
            "secrets.vault: unsupported external secret vault",
        ),
        (
            "  app:\n    image: busybox\n    configs: [c]\nconfigs:\n  c:\n    file: ./missing.conf",
            "configs.c: file ",
        ),
    ] {
        let file = project(&root, "compose.yaml", services, 'b', "10.232.94.0/24");
        assert_refused(&root, &file, &["up", "-d"], message);
    }
}

#[test]
fn resource_device_logging_and_namespace_keys_reach_the_container() {
    let root = root("compose-host-keys");
    let services = "  app:
    image: busybox
    init: true
    command: [\"sleep\", \"600\"]
    dns: [127.0.0.1]
    ulimits:
      nofile:
        soft: 1024
        hard: 2048
    group_add: [\"4242\"]
    devices: [\"/dev/null:/dev/nothing\"]
    mem_reservation: 64m
    cpu_shares: 512
    pid: host
    logging:
      driver: json-file
      options:
        max-size: 1m";
    let file = project(&root, "compose.yaml", services, 'c', "10.232.98.0/24");
    compose_ok(&root, &file, &["up", "-d"]);
    let (out, err) = compose_ok(
        &root,
        &file,
        &[
            "exec",
            "-T",
            "app",
            "sh",
            "-c",
            "ulimit -n; ulimit -Hn; id -G; test -c /dev/nothing && echo device; cat /proc/1/comm",
        ],
    );
    // pid: host shows the host's PID 1.
    let host_init = std::fs::read_to_string("/proc/1/comm").expect("/proc/1/comm");
    assert_eq!(
        out,
        format!("1024\n2048\n0 4242\ndevice\n{host_init}"),
        "{err}"
    );
    let c = harness::containers::inspect(&root, "demo-app-1");
    assert_eq!(c["HostConfig"]["MemoryReservation"], 64 << 20);
    assert_eq!(c["HostConfig"]["CpuShares"], 512);
    assert_eq!(c["HostConfig"]["LogConfig"]["Config"]["max-size"], "1m");
    compose_ok(&root, &file, &["down", "-t", "0"]);

    // A value the engine would not apply fails before anything exists.
    let bad = project(
        &root,
        "compose.yaml",
        "  app:\n    image: busybox\n    logging:\n      driver: syslog",
        'c',
        "10.232.98.0/24",
    );
    assert_refused(&root, &bad, &["up", "-d"], "services.app.logging:");
}

#[test]
fn service_references_share_namespaces_volumes_and_names() {
    let root = root("compose-references");
    let db = "  db:
    image: busybox
    init: true
    command: [\"sh\", \"-c\", \"echo kept > /data/file; exec sleep 600\"]
    dns: [127.0.0.1]
    environment:
      ROUND: \"ROUND_VALUE\"
    volumes:
      - /data
  side:
    image: busybox
    init: true
    command: [\"sleep\", \"600\"]
    network_mode: service:db
    pid: service:db
  reader:
    image: busybox
    init: true
    command: [\"sleep\", \"600\"]
    dns: [127.0.0.1]
    volumes_from: [\"db:ro\"]
    links: [\"db:database\"]";
    let write = |round: &str| {
        project(
            &root,
            "compose.yaml",
            &db.replace("ROUND_VALUE", round),
            'd',
            "10.232.99.0/24",
        )
    };
    let file = write("1");
    compose_ok(&root, &file, &["up", "-d"]);
    let exec = |service: &str, script: &str| {
        compose_ok(&root, &file, &["exec", "-T", service, "sh", "-c", script]).0
    };
    let netns = "readlink /proc/self/ns/net";
    assert_eq!(exec("side", netns), exec("db", netns));
    assert!(exec("side", "cat /proc/*/cmdline | tr '\\0' ' '").contains("sleep 600"));
    assert_eq!(
        exec(
            "reader",
            "cat /data/file; touch /data/x 2>/dev/null || echo read-only"
        ),
        "kept\nread-only\n"
    );
    let db_ip = harness::containers::inspect(&root, "demo-db-1")["NetworkSettings"]["Networks"]
        ["demo_default"]["IPAddress"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let answer = exec("reader", "nslookup database 127.0.0.11");
    assert!(answer.contains(&db_ip), "{answer}");

    // db recreated: side, which joined its namespaces, is recreated with it.
    let side_before = harness::containers::inspect(&root, "demo-side-1")["Id"].clone();
    let file = write("2");
    compose_ok(&root, &file, &["up", "-d"]);
    let side_after = harness::containers::inspect(&root, "demo-side-1")["Id"].clone();
    assert_ne!(side_before, side_after);
    let exec = |service: &str, script: &str| {
        compose_ok(&root, &file, &["exec", "-T", service, "sh", "-c", script]).0
    };
    assert_eq!(exec("side", netns), exec("db", netns));
    compose_ok(&root, &file, &["down", "-t", "0", "-v"]);
}
