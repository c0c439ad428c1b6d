//! `--init`: the host binary bind-mounted read-only as /sbin/docker-init is PID 1; it runs
//! the command, forwards signals, reaps zombies and exits with the command's code, and the
//! container cannot write the host binary through /proc/<pid>/exe (CVE-2019-5736).
//!
//! This test binary is that init itself (it dispatches on argv[0] as berth's main does),
//! so it has its own main instead of libtest's.

mod runtime_support;

use std::ffi::OsString;
use std::fs;
use std::time::Duration;

use berth_engine::runtime;
use oci_spec::runtime::{Mount, MountBuilder, Spec};
use runtime_support::{Sandbox, file_hash};

fn main() {
    let args: Vec<OsString> = std::env::args_os().collect();
    if args[0].as_encoded_bytes().ends_with(b"docker-init") {
        runtime::init_main(args);
    }
    runtime_support::require_root();
    let filter = args
        .iter()
        .skip(1)
        .find(|a| !a.as_encoded_bytes().starts_with(b"-"));
    let tests: [(&str, fn()); 5] = [
        (
            "exit_codes_pass_through_the_init",
            exit_codes_pass_through_the_init,
        ),
        ("signals_are_forwarded", signals_are_forwarded),
        ("zombies_are_reaped", zombies_are_reaped),
        (
            "the_init_binary_cannot_be_written",
            the_init_binary_cannot_be_written,
        ),
        (
            "the_binary_dispatches_on_its_name_only",
            the_binary_dispatches_on_its_name_only,
        ),
    ];
    let mut failed = Vec::new();
    for (name, test) in tests {
        if filter.is_some_and(|f| !name.contains(&*f.to_string_lossy())) {
            continue;
        }
        let ok = std::panic::catch_unwind(test).is_ok();
        println!("test {name} ... {}", if ok { "ok" } else { "FAILED" });
        if !ok {
            failed.push(name);
        }
    }
    if !failed.is_empty() {
        println!("failed: {failed:?}");
        std::process::exit(1);
    }
}

fn init_mount() -> Mount {
    MountBuilder::default()
        .destination("/sbin/docker-init")
        .typ("bind")
        .source(std::env::current_exe().unwrap())
        .options(vec!["bind".to_string(), "ro".to_string()])
        .build()
        .unwrap()
}

fn with_init(sb: &Sandbox, args: &[&str]) -> Spec {
    let mut full = vec!["/sbin/docker-init", "--"];
    full.extend_from_slice(args);
    runtime_support::spec(&full, &sb.cgroups_path(), vec![init_mount()])
}

fn exit_codes_pass_through_the_init() {
    let sb = Sandbox::new();
    assert_eq!(sb.run_spec(with_init(&sb, &["true"])).code(), 0);
    assert_eq!(sb.run_spec(with_init(&sb, &["false"])).code(), 1);
    let out = sb.run_spec(with_init(&sb, &["no-such-program"]));
    assert_eq!(out.code(), 127);
    assert!(
        out.stderr
            .starts_with("docker-init: exec no-such-program failed"),
        "{out:?}"
    );
    assert_eq!(sb.run_spec(with_init(&sb, &["/etc/passwd"])).code(), 126);
    assert_eq!(
        sb.run_spec(with_init(&sb, &["sh", "-c", "kill -9 $$"]))
            .code(),
        137
    );
}

fn signals_are_forwarded() {
    let sb = Sandbox::new();
    // A program without a handler dies of the forwarded SIGTERM: 143.
    let started = sb
        .start(with_init(&sb, &["sh", "-c", "echo ready; exec sleep 100"]))
        .unwrap();
    assert_eq!(started.read_line(), "ready");
    started.init.signal(libc::SIGTERM).unwrap();
    assert_eq!(started.finish().code(), 143);

    let started = sb
        .start(with_init(
            &sb,
            &[
                "sh",
                "-c",
                "trap 'echo got USR1; exit 7' USR1; echo ready; while :; do sleep 0.05; done",
            ],
        ))
        .unwrap();
    assert_eq!(started.read_line(), "ready");
    started.init.signal(libc::SIGUSR1).unwrap();
    let out = started.finish();
    assert_eq!((out.code(), out.stdout.as_str()), (7, "got USR1\n"));
}

/// Zombies whose parent is `parent` (host pid), seen from the host: exited processes no
/// longer show in cgroup.procs.
fn zombies(parent: i32) -> usize {
    fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| fs::read_to_string(e.path().join("stat")).ok())
        .filter(|stat| {
            let Some((_, rest)) = stat.rsplit_once(')') else {
                return false;
            };
            let fields: Vec<&str> = rest.split_whitespace().collect();
            fields.len() > 1 && fields[0] == "Z" && fields[1] == parent.to_string()
        })
        .count()
}

fn zombies_are_reaped() {
    // An orphan whose parent exits is reparented to PID 1, and becomes a zombie when it
    // ends unless PID 1 reaps it.
    let script = "sh -c 'sleep 0.05 &'; echo ready; exec sleep 100";
    let sb = Sandbox::new();
    let started = sb.start(with_init(&sb, &["sh", "-c", script])).unwrap();
    assert_eq!(started.read_line(), "ready");
    std::thread::sleep(Duration::from_millis(400));
    let with_init = zombies(started.init.pid());
    started.init.signal(libc::SIGKILL).unwrap();
    started.finish();

    // The control: `sleep` as PID 1 reaps nothing.
    let started = sb.start(sb.spec(&["sh", "-c", script])).unwrap();
    assert_eq!(started.read_line(), "ready");
    std::thread::sleep(Duration::from_millis(400));
    let without_init = zombies(started.init.pid());
    started.init.signal(libc::SIGKILL).unwrap();
    started.finish();

    assert_eq!((with_init, without_init), (0, 1));
}

fn the_init_binary_cannot_be_written() {
    let sb = Sandbox::new();
    let me = std::env::current_exe().unwrap();
    let before = file_hash(&me);
    let out = sb.run_spec(with_init(
        &sb,
        &[
            "sh",
            "-c",
            "readlink /proc/1/exe; \
             for p in /proc/[0-9]*; do echo x >> $p/exe && echo WROTE $p; done; \
             echo x >> /sbin/docker-init && echo WROTE; true",
        ],
    ));
    assert_eq!(out.code(), 0, "{out:?}");
    assert_eq!(out.stdout, "/sbin/docker-init\n", "{out:?}");
    assert!(out.stderr.contains("/proc/1/exe"), "{out:?}");
    assert_eq!(file_hash(&me), before);
}

fn the_binary_dispatches_on_its_name_only() {
    // Run under another name, the binary is the test runner, not an init: checked by this
    // very process running at all. Under the name docker-init it runs the command.
    let dir = Sandbox::new();
    let link = dir.base.join("docker-init");
    std::os::unix::fs::symlink(std::env::current_exe().unwrap(), &link).unwrap();
    let status = std::process::Command::new(&link)
        .args(["--", "/bin/sh", "-c", "exit 5"])
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(5));
}
