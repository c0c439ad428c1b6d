//! What a container shares, as a user checks it from inside: `--pid host|container:<x>`
//! sees the host's or x's processes, `--ipc host|container:<x>` shares SysV IPC and /dev/shm, `--shm-size` sizes
//! its own /dev/shm, `--sysctl` sets namespaced sysctls (and refuses the others),
//! `--device` adds a node with its cgroup permissions. Root.

mod harness;

use std::os::unix::fs::FileTypeExt;

use harness::containers::{assert_refused, root, run};

/// A block device of this host that can be opened for reading (the sandbox may refuse
/// some), and its `major:minor`.
fn a_readable_block_device() -> String {
    for entry in std::fs::read_dir("/sys/block").expect("/sys/block") {
        let dev = format!(
            "/dev/{}",
            entry.expect("entry").file_name().to_string_lossy()
        );
        let is_block = std::fs::metadata(&dev).is_ok_and(|m| m.file_type().is_block_device());
        if is_block && std::fs::File::open(&dev).is_ok() {
            return dev;
        }
    }
    panic!("this host has no readable block device to give a container");
}

#[test]
fn pid_ipc_and_shm_modes() {
    let root = root("sharing");
    // The host's pid namespace: our own pid is visible inside.
    let me = std::process::id().to_string();
    let (code, out, err) = run(
        &root,
        &[
            "--rm",
            "--pid",
            "host",
            "busybox",
            "sh",
            "-c",
            &format!("test -d /proc/{me} && echo seen"),
        ],
    );
    assert_eq!((code, out.as_str()), (0, "seen\n"), "{err}");
    let (code, out, _) = run(
        &root,
        &[
            "--rm",
            "busybox",
            "sh",
            "-c",
            &format!("test -d /proc/{me} || echo private"),
        ],
    );
    assert_eq!((code, out.as_str()), (0, "private\n"));

    // Without a pid namespace of its own, what the init leaves is killed with the
    // container (the kernel does not), so `rm -f` ends and nothing lives on.
    let id = run(
        &root,
        &[
            "-d",
            "--pid",
            "host",
            "--init",
            "busybox",
            "sh",
            "-c",
            "sleep 7654321 & exec sleep 7654322",
        ],
    )
    .1;
    root.ok(&["rm", "-f", id.trim()]);
    let left = |arg: &str| {
        std::fs::read_dir("/proc")
            .expect("/proc")
            .filter_map(|e| std::fs::read(e.ok()?.path().join("cmdline")).ok())
            .any(|c| c.ends_with(format!("sleep\u{0}{arg}\u{0}").as_bytes()))
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while (left("7654321") || left("7654322")) && std::time::Instant::now() < deadline {
        std::thread::yield_now();
    }
    assert!(
        !left("7654321") && !left("7654322"),
        "the container's processes live on"
    );

    // Another container's pid namespace: its processes are visible, ours in its.
    let host = run(
        &root,
        &["-d", "--name", "pidhost", "busybox", "sleep", "1000"],
    )
    .1;
    let script = "cat /proc/1/cmdline; echo";
    let (code, out, err) = run(
        &root,
        &[
            "--rm",
            "--pid",
            "container:pidhost",
            "busybox",
            "sh",
            "-c",
            script,
        ],
    );
    assert_eq!((code, out.as_str()), (0, "sleep\u{0}1000\u{0}\n"), "{err}");
    root.ok(&["rm", "-f", host.trim()]);
    let (code, _, err) = run(
        &root,
        &["--rm", "--pid", "container:pidhost", "busybox", "true"],
    );
    assert_eq!(
        (code, err.as_str()),
        (125, "error: No such container: pidhost\n")
    );

    let (code, out, err) = run(
        &root,
        &[
            "--rm",
            "--shm-size",
            "8m",
            "busybox",
            "sh",
            "-c",
            "grep ' /dev/shm ' /proc/mounts",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("size=8192k"), "{out}");

    // IPC shared with another container: its /dev/shm and its SysV namespace.
    let owner = run(
        &root,
        &[
            "-d",
            "--name",
            "owner",
            "--ipc",
            "shareable",
            "busybox",
            "sh",
            "-c",
            "echo secret > /dev/shm/note; sleep 1000",
        ],
    )
    .1;
    let owner = owner.trim().to_string();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while root
        .berth(&["exec", "owner", "test", "-f", "/dev/shm/note"])
        .0
        != 0
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the owner never wrote its note"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let (code, out, err) = run(
        &root,
        &[
            "--rm",
            "--ipc",
            "container:owner",
            "busybox",
            "cat",
            "/dev/shm/note",
        ],
    );
    assert_eq!((code, out.as_str()), (0, "secret\n"), "{err}");
    let ns = |pid: &str| std::fs::read_link(format!("/proc/{pid}/ns/ipc")).expect("ns");
    let owner_pid = root
        .ok(&["inspect", "--format", "{{.State.Pid}}", &owner])
        .trim()
        .to_string();
    let (code, out, err) = run(
        &root,
        &[
            "--rm",
            "--ipc",
            "container:owner",
            "busybox",
            "readlink",
            "/proc/self/ns/ipc",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(std::path::Path::new(out.trim()), ns(&owner_pid));
    root.ok(&["rm", "-f", "owner"]);
    let (code, _, err) = run(
        &root,
        &["--rm", "--ipc", "container:owner", "busybox", "true"],
    );
    assert_eq!(code, 125);
    assert_eq!(err, "error: No such container: owner\n");
}

#[test]
fn sysctls_and_devices() {
    let root = root("sysctl-device");
    let (code, out, err) = run(
        &root,
        &[
            "--rm",
            "--sysctl",
            "net.ipv4.ip_forward=1",
            "--sysctl",
            "kernel.shmmax=123456",
            "busybox",
            "cat",
            "/proc/sys/net/ipv4/ip_forward",
            "/proc/sys/kernel/shmmax",
        ],
    );
    assert_eq!((code, out.as_str()), (0, "1\n123456\n"), "{err}");
    // The host's own values are untouched.
    assert_ne!(
        std::fs::read_to_string("/proc/sys/kernel/shmmax")
            .expect("shmmax")
            .trim(),
        "123456"
    );

    let dev = a_readable_block_device();
    let spec = format!("{dev}:/dev/disk0:r");
    let script = "test -b /dev/disk0 && echo node; dd if=/dev/disk0 of=/dev/null bs=512 count=1 2>/dev/null && echo read; echo x 2>/dev/null > /dev/disk0 || echo no-write";
    let (code, out, err) = run(
        &root,
        &["--rm", "--device", &spec, "busybox", "sh", "-c", script],
    );
    assert_eq!((code, out.as_str()), (0, "node\nread\nno-write\n"), "{err}");
    let (_, out, _) = run(
        &root,
        &[
            "--rm",
            "busybox",
            "sh",
            "-c",
            "test -e /dev/disk0 || echo absent",
        ],
    );
    assert_eq!(out, "absent\n");

    let cases: [(&[&str], &str); 6] = [
        (
            &["--sysctl", "vm.swappiness=1"],
            "error: sysctl \"vm.swappiness\" is not whitelisted",
        ),
        (
            &["--sysctl", "nothing"],
            "error: invalid argument \"nothing\" for \"--sysctl\" flag: expected name=value",
        ),
        (
            &["--pid", "container:other"],
            "error: No such container: other",
        ),
        (&["--ipc", "weird"], "error: invalid IPC mode: \"weird\""),
        (
            &["--device", "/dev/berth-none"],
            "error: error gathering device information while adding custom device \"/dev/berth-none\": no such file or directory",
        ),
        (
            &["--device", "/dev/null:/x:rwz"],
            "error: invalid device specification",
        ),
    ];
    for (flags, message) in cases {
        assert_refused(&root, flags, message);
    }
    let (code, _, err) = root.berth(&[
        "run",
        "--network",
        "host",
        "--rm",
        "--sysctl",
        "net.ipv4.ip_forward=1",
        "busybox",
        "true",
    ]);
    assert_eq!(code, 125);
    assert!(
        err.contains("not allowed in host network namespace"),
        "{err}"
    );
    assert_eq!(root.ok(&["ps", "-aq"]), "");
}
