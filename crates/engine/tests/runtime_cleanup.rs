//! A container leaves nothing on the host: its rootfs and mounts exist only in its own
//! mount namespace, and `remove_cgroup` kills what is left and removes its cgroup in every
//! hierarchy, idempotently. A failed spawn cleans up after itself. Also measures `spawn`.

mod runtime_support;

use std::time::{Duration, Instant};

use berth_engine::runtime;
use oci_spec::runtime::MountBuilder;
use runtime_support::{Sandbox, host_cgroups_named, host_mounts_with};

#[test]
fn nothing_is_left_after_the_process_ends_and_its_cgroup_is_removed() {
    let sb = Sandbox::new();
    let base = sb.base.to_string_lossy().into_owned();
    let started = sb
        .start(sb.spec(&["sh", "-c", "sleep 100 & sleep 100 & echo ready; wait"]))
        .unwrap();
    assert_eq!(started.read_line(), "ready");
    // Running: the rootfs is not mounted on the host, the cgroup exists everywhere.
    assert!(
        host_mounts_with(&base).is_empty(),
        "{:?}",
        host_mounts_with(&base)
    );
    let cgroups_path = sb.cgroups_path();
    assert_eq!(runtime::cgroup_pids(&cgroups_path).unwrap().len(), 3);
    assert!(!runtime::cgroup_is_empty(&cgroups_path).unwrap());
    let hierarchies = host_cgroups_named(&sb.cgroup_parent);
    assert!(hierarchies.len() >= 2, "{hierarchies:?}");

    // Removing the cgroup of a live container kills everything in it.
    runtime::remove_cgroup(&cgroups_path).unwrap();
    assert_eq!(started.init.wait().unwrap().code(), 137);
    runtime::remove_cgroup(&cgroups_path).unwrap();
    runtime::remove_cgroup(&sb.cgroup_parent).unwrap();
    runtime::remove_cgroup(&sb.cgroup_parent).unwrap();
    assert!(runtime::cgroup_is_empty(&cgroups_path).unwrap());
    assert!(host_cgroups_named(&sb.cgroup_parent).is_empty());
    assert!(host_mounts_with(&base).is_empty());
}

#[test]
fn a_failed_spawn_leaves_no_cgroup_and_no_process() {
    let sb = Sandbox::new();
    let err = sb.start(sb.spec(&["no-such-program"])).unwrap_err();
    assert_eq!(err.exit_code(), 127);
    assert!(runtime::cgroup_is_empty(&sb.cgroups_path()).unwrap());
    assert!(host_cgroups_named(&format!("{}/c", sb.cgroup_parent)).is_empty());

    let bad = MountBuilder::default()
        .destination("/mnt")
        .typ("no-such-fs")
        .build()
        .unwrap();
    let spec = runtime_support::spec(&["true"], &sb.cgroups_path(), vec![bad]);
    let err = sb.start(spec).unwrap_err();
    assert_eq!(err.exit_code(), 125);
    assert_eq!(err.to_string(), "mount no-such-fs on /mnt: no such device");
    assert!(host_cgroups_named(&format!("{}/c", sb.cgroup_parent)).is_empty());
    assert!(host_mounts_with(&sb.base.to_string_lossy()).is_empty());
}

#[test]
fn an_image_without_layers_gets_an_empty_rootfs() {
    let sb = Sandbox::new();
    let spec = runtime_support::spec(
        &["/bin/busybox", "ls", "/"],
        &sb.cgroups_path(),
        vec![runtime_support::bind(&sb.lower.join("bin"), "/bin", true)],
    );
    let plan = runtime::InitPlan {
        spec,
        rootfs: runtime::Rootfs::Overlay {
            lowers: Vec::new(),
            upper: sb.upper.clone(),
            work: sb.work.clone(),
            target: sb.target.clone(),
            volatile: true,
        },
        stdio: runtime::InitStdio {
            stdin: std::fs::File::open("/dev/null").unwrap().into(),
            stdout: std::fs::File::create(sb.base.join("out")).unwrap().into(),
            stderr: std::fs::File::create(sb.base.join("err")).unwrap().into(),
        },
        seccomp_cache: None,
        terminal: None,
    };
    let init = runtime::spawn(&plan).unwrap();
    assert_eq!(init.wait().unwrap().code(), 0);
    runtime::remove_cgroup(&sb.cgroups_path()).unwrap();
    let out = std::fs::read_to_string(sb.base.join("out")).unwrap();
    assert_eq!(
        out.split_whitespace().collect::<Vec<_>>(),
        ["bin", "dev", "proc", "sys"]
    );
    assert!(host_mounts_with(&sb.base.to_string_lossy()).is_empty());
}

/// Not a pass/fail bound (debug builds, a shared machine): prints the figures.
#[test]
fn spawn_time_of_busybox_true() {
    let sb = Sandbox::new();
    let mut spawn = Vec::new();
    let mut total = Vec::new();
    for _ in 0..30 {
        let spec = sb.spec(&["true"]);
        let t0 = Instant::now();
        let started = sb.start(spec).unwrap();
        let t1 = Instant::now();
        assert_eq!(started.init.wait().unwrap().code(), 0);
        runtime::remove_cgroup(&sb.cgroups_path()).unwrap();
        let t2 = Instant::now();
        spawn.push(t1 - t0);
        total.push(t2 - t0);
    }
    let median = |v: &mut Vec<Duration>| {
        v.sort();
        v[v.len() / 2]
    };
    eprintln!(
        "spawn of busybox true: median {:?}; spawn + wait + remove_cgroup: median {:?}",
        median(&mut spawn),
        median(&mut total)
    );
}
