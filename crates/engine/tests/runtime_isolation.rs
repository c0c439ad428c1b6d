//! What a process inside sees: Docker's capability set, masked and read-only paths, its own
//! hostname, /dev, /sys and cgroup, the user and working directory of the spec, and from
//! the host, nothing but 0, 1 and 2 open in PID 1 (CVE-2024-21626).

mod runtime_support;

use std::fs;

use oci_spec::runtime::{ProcessBuilder, UserBuilder};
use runtime_support::{Sandbox, bind};

#[test]
fn capabilities_are_dockers_default_set() {
    let sb = Sandbox::new();
    let out = sb.run(&["grep", "^Cap", "/proc/self/status"]);
    let status = out.ok();
    assert!(status.contains("CapEff:\t00000000a80425fb"), "{status}");
    assert!(status.contains("CapPrm:\t00000000a80425fb"), "{status}");
    assert!(status.contains("CapBnd:\t00000000a80425fb"), "{status}");
    assert!(status.contains("CapInh:\t0000000000000000"), "{status}");
    assert!(status.contains("CapAmb:\t0000000000000000"), "{status}");
}

#[test]
fn masked_paths_are_empty_and_proc_sys_is_read_only() {
    let sb = Sandbox::new();
    let out = sb.run(&[
        "sh",
        "-c",
        "wc -c < /proc/keys; wc -c < /proc/timer_list; ls -A /proc/acpi | wc -l; \
         ls -A /sys/firmware | wc -l; \
         echo x > /proc/sys/kernel/domainname && echo WROTE; \
         touch /sys/x && echo WROTE; \
         for p in /proc/sys /proc/bus /proc/fs /proc/irq; do \
           grep -c \" $p ro,\" /proc/self/mountinfo; done",
    ]);
    assert_eq!(out.stdout, "0\n0\n0\n0\n1\n1\n1\n1\n", "{out:?}");
    assert!(out.stderr.contains("Read-only file system"), "{out:?}");
}

#[test]
fn hostname_dev_and_cgroup_are_the_containers_own() {
    let sb = Sandbox::new();
    let out = sb.run(&[
        "sh",
        "-c",
        "hostname; ls /dev | tr '\\n' ' '; echo; \
         readlink /dev/ptmx; readlink /dev/fd; cat /proc/self/cgroup | head -3; \
         ls /sys/fs/cgroup | tr '\\n' ' '; echo; grep -qx 1 /sys/fs/cgroup/pids/cgroup.procs && echo pid1-in-own-cgroup; \
         touch /sys/fs/cgroup/x 2>/dev/null || echo ro; \
         ip link 2>/dev/null | grep -c UP; cat /proc/1/cmdline | tr '\\0' ' '; echo",
    ]);
    let lines: Vec<&str> = out.ok().lines().collect();
    assert_eq!(lines[0], "testhost");
    for node in [
        "core", "fd", "full", "mqueue", "null", "ptmx", "pts", "random", "shm", "stderr", "stdin",
        "stdout", "tty", "urandom", "zero",
    ] {
        assert!(
            lines[1].split(' ').any(|n| n == node),
            "no /dev/{node}: {lines:?}"
        );
    }
    assert_eq!(lines[2], "pts/ptmx");
    assert_eq!(lines[3], "/proc/self/fd");
    assert!(lines[4..7].iter().all(|l| l.ends_with(":/")), "{lines:?}");
    for h in ["cpu", "memory", "pids", "devices", "systemd"] {
        assert!(
            lines[7].split(' ').any(|n| n == h),
            "no {h} cgroup: {lines:?}"
        );
    }
    // Only the container's own processes, from the cgroup namespace's root.
    assert_eq!(lines[8], "pid1-in-own-cgroup");
    assert_eq!(lines[9], "ro");
    // Only lo, and it is up.
    assert_eq!(lines[10], "1");
    assert!(lines[11].starts_with("sh -c hostname"), "{lines:?}");
}

#[test]
fn user_groups_cwd_env_and_binds_come_from_the_spec() {
    let sb = Sandbox::new();
    let hosts = sb.base.join("hosts");
    fs::write(&hosts, "127.0.0.1 localhost\n").unwrap();
    let mut spec = runtime_support::spec(
        &[
            "sh",
            "-c",
            "id; pwd; echo $FOO; cat /etc/hosts; echo x >> /etc/hosts || echo ro",
        ],
        &sb.cgroups_path(),
        vec![bind(&hosts, "/etc/hosts", true)],
    );
    let process = spec.process().clone().unwrap();
    let process = ProcessBuilder::default()
        .args(process.args().clone().unwrap())
        .env(vec!["FOO=bar".to_string(), "PATH=/bin".to_string()])
        .cwd("/work/dir")
        .user(
            UserBuilder::default()
                .uid(65534u32)
                .gid(65534u32)
                .additional_gids(vec![0u32])
                .build()
                .unwrap(),
        )
        .capabilities(process.capabilities().clone().unwrap())
        .build()
        .unwrap();
    spec.set_process(Some(process));
    let out = sb.run_spec(spec);
    let lines: Vec<&str> = out.ok().lines().collect();
    assert_eq!(
        lines[0],
        "uid=65534(nobody) gid=65534(nobody) groups=0(root)"
    );
    assert_eq!(lines[1], "/work/dir");
    assert_eq!(lines[2], "bar");
    assert_eq!(lines[3], "127.0.0.1 localhost");
    assert_eq!(lines[4], "ro");
    assert_eq!(fs::read_to_string(&hosts).unwrap(), "127.0.0.1 localhost\n");
}

#[test]
fn only_stdio_is_open_in_pid_1() {
    let sb = Sandbox::new();
    // A few extra fds without close-on-exec in the parent, which must not leak in.
    let leaked: Vec<_> = (0..3)
        .map(|_| {
            rustix::fs::open(
                "/sys/fs/cgroup",
                rustix::fs::OFlags::RDONLY,
                rustix::fs::Mode::empty(),
            )
            .unwrap()
        })
        .collect();
    let started = sb.start(sb.spec(&["sleep", "100"])).unwrap();
    let mut fds: Vec<String> = fs::read_dir(format!("/proc/{}/fd", started.init.pid()))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    fds.sort();
    let cwd = fs::read_link(format!("/proc/{}/cwd", started.init.pid())).unwrap();
    started.init.signal(libc::SIGKILL).unwrap();
    started.finish();
    drop(leaked);
    assert_eq!(fds, ["0", "1", "2"]);
    assert_eq!(cwd, std::path::Path::new("/"));
}

#[test]
fn a_read_only_root_keeps_its_writable_mounts() {
    let sb = Sandbox::new();
    let mut spec = sb.spec(&[
        "sh",
        "-c",
        "touch /x 2>/dev/null || echo ro; touch /dev/shm/x && echo rw",
    ]);
    let root = oci_spec::runtime::RootBuilder::default()
        .path("rootfs")
        .readonly(true)
        .build()
        .unwrap();
    spec.set_root(Some(root));
    assert_eq!(sb.run_spec(spec).ok(), "ro\nrw\n");
    let mut spec = sb.spec(&["sh", "-c", "touch /x /dev/shm/x && echo rw"]);
    spec.set_root(None);
    assert_eq!(sb.run_spec(spec).ok(), "rw\n");
}
