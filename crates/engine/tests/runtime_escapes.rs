//! Known escapes: a symlink planted in the image at a mount destination (CVE-2021-30465
//! and its simpler cousins) keeps the mount inside the rootfs, and the container's PID 1
//! cannot write its own executable through /proc/1/exe (CVE-2019-5736; with `--init` in
//! runtime_init.rs).

mod runtime_support;

use std::fs;
use std::os::unix::fs::symlink;

use oci_spec::runtime::MountBuilder;
use runtime_support::{Sandbox, bind, file_hash, host_mounts_with};

#[test]
fn a_symlinked_file_destination_stays_inside_the_rootfs() {
    let sb = Sandbox::new();
    let outside = sb.base.join("outside-hosts");
    fs::write(&outside, "HOST\n").unwrap();
    let source = sb.base.join("bind-src");
    fs::write(&source, "BIND\n").unwrap();
    // Absolute, and climbing above / on the way.
    fs::remove_file(sb.lower.join("etc/passwd")).unwrap();
    symlink(
        format!("/../../../..{}", outside.display()),
        sb.lower.join("etc/hosts"),
    )
    .unwrap();
    let spec = runtime_support::spec(
        &[
            "sh",
            "-c",
            &format!("cat /etc/hosts; cat {}", outside.display()),
        ],
        &sb.cgroups_path(),
        vec![bind(&source, "/etc/hosts", false)],
    );
    let out = sb.run_spec(spec);
    assert_eq!(out.ok(), "BIND\nBIND\n");
    assert_eq!(fs::read_to_string(&outside).unwrap(), "HOST\n");
    assert!(host_mounts_with(&sb.base.to_string_lossy()).is_empty());
}

#[test]
fn a_symlinked_directory_on_the_way_stays_inside_the_rootfs() {
    let sb = Sandbox::new();
    let outside = sb.base.join("outside-dir");
    fs::create_dir(&outside).unwrap();
    let source = sb.base.join("bind-src");
    fs::write(&source, "BIND\n").unwrap();
    // Relative, climbing out of the rootfs if followed on the host.
    symlink(
        format!("../../../../../../..{}", outside.display()),
        sb.lower.join("data"),
    )
    .unwrap();
    // /proc itself a symlink out: proc must still land inside.
    let outside_proc = sb.base.join("outside-proc");
    fs::create_dir(&outside_proc).unwrap();
    symlink(outside_proc.to_str().unwrap(), sb.lower.join("proc")).unwrap();
    let spec = runtime_support::spec(
        &["sh", "-c", "cat /data/file; head -1 /proc/self/status"],
        &sb.cgroups_path(),
        vec![bind(&source, "/data/file", true)],
    );
    let out = sb.run_spec(spec);
    assert_eq!(out.ok(), "BIND\nName:\thead\n");
    assert_eq!(fs::read_dir(&outside).unwrap().count(), 0);
    assert_eq!(fs::read_dir(&outside_proc).unwrap().count(), 0);
    // The rootfs got the directories instead (in the upper layer).
    assert!(
        sb.upper
            .join(outside.strip_prefix("/").unwrap())
            .join("file")
            .exists()
    );
}

#[test]
fn a_tmpfs_on_a_symlink_to_the_host_root_stays_inside() {
    let sb = Sandbox::new();
    symlink("/", sb.lower.join("hostroot")).unwrap();
    symlink("/etc", sb.lower.join("hostetc")).unwrap();
    let tmpfs = MountBuilder::default()
        .destination("/hostetc")
        .typ("tmpfs")
        .source("tmpfs")
        .options(vec!["size=1m".to_string()])
        .build()
        .unwrap();
    let spec = runtime_support::spec(
        &["sh", "-c", "ls -A /etc | wc -l; ls /hostroot/bin/busybox"],
        &sb.cgroups_path(),
        vec![tmpfs],
    );
    let out = sb.run_spec(spec);
    // The tmpfs covers the container's /etc (empty now), not anything of the host's.
    assert_eq!(out.ok(), "0\n/hostroot/bin/busybox\n");
    assert!(fs::read_dir("/etc").unwrap().count() > 0);
}

#[test]
fn pid_1_cannot_write_its_executable() {
    let sb = Sandbox::new();
    let me = std::env::current_exe().unwrap();
    let before = file_hash(&me);
    let busybox = file_hash(&sb.lower.join("bin/busybox"));
    let out = sb.run(&[
        "sh",
        "-c",
        "readlink /proc/1/exe; echo x >> /proc/1/exe && echo WROTE; \
         for p in /proc/[0-9]*; do echo x >> $p/exe && echo WROTE $p; done; true",
    ]);
    assert_eq!(out.ok(), "/bin/busybox\n");
    assert!(out.stderr.contains("/proc/1/exe"), "{out:?}");
    assert_eq!(file_hash(&me), before);
    assert_eq!(file_hash(&sb.lower.join("bin/busybox")), busybox);
}
