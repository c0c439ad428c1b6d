//! Seccomp as a user checks it from inside a container: the default profile refuses
//! `unshare` and `mount`, answers `clone3` with ENOSYS so that glibc's threads work,
//! follows capabilities (`--cap-add SYS_ADMIN` may mount), is off for `--privileged` and
//! `seccomp=unconfined`, and a custom Docker-format profile applies, to execs too. Root.

mod harness;

use std::path::{Path, PathBuf};
use std::process::Command;

use harness::containers::{assert_refused, inspect, root, run};

/// A static program that probes `clone3` and makes a thread with glibc's
/// `pthread_create` (glibc ≥ 2.34 tries clone3 first and falls back to clone only on
/// ENOSYS), built with the host's C compiler.
fn threads_probe(dir: &Path) -> PathBuf {
    let src = dir.join("threads.c");
    std::fs::write(
        &src,
        r#"
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
static void *work(void *arg) { return arg; }
int main(void) {
    long r = syscall(435 /* clone3 */, NULL, 0);
    printf("clone3: %s\n", r == -1 ? strerrorname_np(errno) : "returned");
    pthread_t t;
    void *out = NULL;
    int rc = pthread_create(&t, NULL, work, (void *)7);
    if (rc == 0) pthread_join(t, &out);
    printf("thread: %s\n", rc == 0 && out == (void *)7 ? "ok" : strerrorname_np(rc));
    return 0;
}
"#,
    )
    .expect("write probe source");
    let bin = dir.join("threads");
    let out = Command::new("cc")
        .args(["-static", "-pthread", "-O1", "-o"])
        .arg(&bin)
        .arg(&src)
        .output()
        .expect("cc (build-essential) is needed to build the thread probe");
    assert!(
        out.status.success(),
        "cc: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    bin
}

#[test]
fn default_profile_refuses_namespaces_and_mounts_and_keeps_threads_working() {
    let root = root("seccomp-default");
    let status = |flags: &[&str]| {
        let mut args = vec!["--rm"];
        args.extend_from_slice(flags);
        args.extend_from_slice(&["busybox", "sh", "-c", "grep '^Seccomp:' /proc/self/status"]);
        let (code, out, err) = run(&root, &args);
        assert_eq!(code, 0, "{flags:?}: {err}");
        out
    };
    assert_eq!(status(&[]), "Seccomp:\t2\n", "filter mode by default");
    assert_eq!(status(&["--privileged"]), "Seccomp:\t0\n");
    assert_eq!(
        status(&["--security-opt", "seccomp=unconfined"]),
        "Seccomp:\t0\n"
    );

    // A user namespace needs no capability: only the filter stops it.
    let (code, _, err) = run(&root, &["--rm", "busybox", "unshare", "-U", "true"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("Operation not permitted"), "{err}");
    let (code, out, err) = run(
        &root,
        &[
            "--rm",
            "--security-opt",
            "seccomp=unconfined",
            "busybox",
            "sh",
            "-c",
            "unshare -U true && echo unshared",
        ],
    );
    assert_eq!((code, out.as_str()), (0, "unshared\n"), "{err}");

    let mount = "mkdir /m && mount -t tmpfs none /m && echo mounted";
    let (code, out, _) = run(&root, &["--rm", "busybox", "sh", "-c", mount]);
    assert_ne!(code, 0);
    assert_eq!(out, "");
    // The profile follows capabilities: with CAP_SYS_ADMIN, mount is allowed.
    let (code, out, err) = run(
        &root,
        &[
            "--rm",
            "--cap-add",
            "SYS_ADMIN",
            "busybox",
            "sh",
            "-c",
            mount,
        ],
    );
    assert_eq!((code, out.as_str()), (0, "mounted\n"), "{err}");

    // clone3 gets ENOSYS and threads work, with and without no_new_privs (the filter
    // goes in at a different point).
    let probe = threads_probe(root.path());
    let volume = format!("{}:/threads:ro", probe.display());
    for extra in [&[][..], &["--security-opt", "no-new-privileges"][..]] {
        let mut args = vec!["--rm", "-v", &volume];
        args.extend_from_slice(extra);
        args.extend_from_slice(&["busybox", "/threads"]);
        let (code, out, err) = run(&root, &args);
        assert_eq!(
            (code, out.as_str()),
            (0, "clone3: ENOSYS\nthread: ok\n"),
            "{extra:?}: {err}"
        );
    }
    // Without a filter the kernel itself answers (a NULL clone_args is EINVAL or EFAULT).
    let (code, out, err) = run(
        &root,
        &[
            "--rm",
            "-v",
            &volume,
            "--security-opt",
            "seccomp=unconfined",
            "busybox",
            "/threads",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        !out.contains("ENOSYS") && out.ends_with("thread: ok\n"),
        "{out}"
    );
}

#[test]
fn a_custom_profile_applies_to_the_container_and_its_execs() {
    let root = root("seccomp-custom");
    let profile = root.path().join("no-mkdir.json");
    std::fs::write(
        &profile,
        r#"{
  "defaultAction": "SCMP_ACT_ALLOW",
  "syscalls": [
    {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13,
     "comment": "EACCES instead of EPERM, to see the profile's own answer"}
  ]
}"#,
    )
    .expect("write profile");
    let opt = format!("seccomp={}", profile.display());
    let (code, _, err) = run(
        &root,
        &["--rm", "--security-opt", &opt, "busybox", "mkdir", "/x"],
    );
    assert_eq!(code, 1);
    assert!(err.contains("Permission denied"), "{err}");
    // Without the profile the same command works.
    let (code, _, err) = run(&root, &["--rm", "busybox", "mkdir", "/x"]);
    assert_eq!(code, 0, "{err}");

    // The profile is kept in the container (as Docker's CLI sends its content): a later
    // edit of the file changes nothing, and execs get the same filter.
    let (code, id, err) = run(
        &root,
        &["-d", "--security-opt", &opt, "busybox", "sleep", "60"],
    );
    assert_eq!(code, 0, "{err}");
    let id = id.trim();
    std::fs::write(&profile, "not json").expect("overwrite profile");
    let opts = inspect(&root, id)["HostConfig"]["SecurityOpt"].clone();
    let kept = opts[0].as_str().expect("SecurityOpt[0]");
    assert!(
        kept.starts_with("seccomp={") && kept.contains("mkdirat"),
        "{kept}"
    );
    for privileged in [&[][..], &["--privileged"][..]] {
        let mut args = vec!["exec"];
        args.extend_from_slice(privileged);
        args.extend_from_slice(&[id, "mkdir", "/y"]);
        let (code, _, err) = root.berth(&args);
        assert_eq!(code, 1, "{privileged:?}");
        assert!(err.contains("Permission denied"), "{privileged:?}: {err}");
    }
    root.ok(&["rm", "-f", id]);
}

#[test]
fn bad_profiles_and_options_are_refused_before_anything_is_created() {
    let root = root("seccomp-refused");
    let dir = root.path();
    let typo = dir.join("typo.json");
    std::fs::write(
        &typo,
        "{\n  \"defaultAction\": \"SCMP_ACT_ALLOW\",\n  \"syscall\": []\n}\n",
    )
    .expect("write");
    let missing = dir.join("missing.json");
    let cases = [
        (
            format!("seccomp={}", typo.display()),
            format!("error: {}: invalid seccomp profile: unknown field `syscall`", typo.display()),
        ),
        (
            format!("seccomp={}", missing.display()),
            format!("error: opening seccomp profile ({}) failed", missing.display()),
        ),
        ("apparmor=unconfined".to_string(), "error: --security-opt \"apparmor=unconfined\": AppArmor profiles are not supported by berth".to_string()),
        ("seccomp=".to_string(), "error: invalid --security-opt seccomp=\"\"".to_string()),
    ];
    for (opt, message) in &cases {
        assert_refused(&root, &["--security-opt", opt], message);
    }
    let (_, all, _) = root.berth(&["ps", "-aq"]);
    assert_eq!(all, "", "nothing created");
}
