//! Resource limits as a user checks them: every `run` flag reaches the container's
//! cgroups (read on the host and from inside), knobs this host lacks are discarded with
//! Docker's warning, a memory hog is OOM-killed and reported, and contradictory limits
//! fail with one line before anything exists. Root, cgroup v1 (this host).

mod harness;

use std::os::unix::fs::FileTypeExt;

use harness::containers::{assert_refused, inspect, root, run};
use harness::state::StateRoot as Root;

/// `/sys/fs/cgroup/<hierarchy>/berth-<id>/<file>`, trimmed.
fn cgroup_file(id: &str, hierarchy: &str, file: &str) -> String {
    let path = format!("/sys/fs/cgroup/{hierarchy}/berth-{id}/{file}");
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{path}: {e}"))
        .trim()
        .to_string()
}

/// A block device of this host and its `major:minor` (from /sys/block).
fn a_block_device() -> (String, String) {
    for entry in std::fs::read_dir("/sys/block").expect("/sys/block") {
        let entry = entry.expect("entry");
        let name = entry.file_name().to_string_lossy().into_owned();
        let dev = format!("/dev/{name}");
        let is_block = std::fs::metadata(&dev).is_ok_and(|m| m.file_type().is_block_device());
        if is_block {
            let numbers = std::fs::read_to_string(entry.path().join("dev")).expect("dev");
            return (dev, numbers.trim().to_string());
        }
    }
    panic!("this host has no block device in /sys/block to throttle");
}

fn detached(root: &Root, args: &[&str]) -> (String, String) {
    let mut all = vec!["-d"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["busybox", "sleep", "1000"]);
    let (code, out, err) = run(root, &all);
    assert_eq!(code, 0, "{err}");
    (out.trim().to_string(), err)
}

#[test]
fn every_limit_flag_reaches_the_cgroup() {
    let root = root("limits-all");
    let (dev, numbers) = a_block_device();
    let read_bps = format!("{dev}:1mb");
    let write_iops = format!("{dev}:300");
    let (id, _) = detached(
        &root,
        &[
            "--memory",
            "64m",
            "--memory-swap",
            "96m",
            "--memory-reservation",
            "32m",
            "--cpu-period",
            "50000",
            "--cpu-quota",
            "25000",
            "--cpuset-cpus",
            "0",
            "--cpuset-mems",
            "0",
            "--oom-kill-disable",
            "--device-read-bps",
            &read_bps,
            "--device-write-iops",
            &write_iops,
        ],
    );
    assert_eq!(
        cgroup_file(&id, "memory", "memory.limit_in_bytes"),
        (64u64 << 20).to_string()
    );
    assert_eq!(
        cgroup_file(&id, "memory", "memory.memsw.limit_in_bytes"),
        (96u64 << 20).to_string()
    );
    assert_eq!(
        cgroup_file(&id, "memory", "memory.soft_limit_in_bytes"),
        (32u64 << 20).to_string()
    );
    assert!(cgroup_file(&id, "memory", "memory.oom_control").starts_with("oom_kill_disable 1"));
    assert_eq!(cgroup_file(&id, "cpu", "cpu.cfs_period_us"), "50000");
    assert_eq!(cgroup_file(&id, "cpu", "cpu.cfs_quota_us"), "25000");
    assert_eq!(cgroup_file(&id, "cpuset", "cpuset.cpus"), "0");
    assert_eq!(cgroup_file(&id, "cpuset", "cpuset.mems"), "0");
    assert_eq!(
        cgroup_file(&id, "blkio", "blkio.throttle.read_bps_device"),
        format!("{numbers} 1048576")
    );
    assert_eq!(
        cgroup_file(&id, "blkio", "blkio.throttle.write_iops_device"),
        format!("{numbers} 300")
    );
    // inspect shows Docker's fields with what was applied.
    let host = &inspect(&root, &id)["HostConfig"];
    assert_eq!(host["MemorySwap"], 96 << 20);
    assert_eq!(host["MemoryReservation"], 32 << 20);
    assert_eq!(host["CpuQuota"], 25000);
    assert_eq!(host["CpusetCpus"], "0");
    assert_eq!(host["OomKillDisable"], true);
    assert_eq!(host["BlkioDeviceReadBps"][0]["Path"], dev);
    assert_eq!(host["BlkioDeviceReadBps"][0]["Rate"], 1 << 20);
    assert_eq!(host["BlkioDeviceWriteIOps"][0]["Rate"], 300);

    // -m alone: swap defaults to twice the memory, as Docker's.
    let (id, _) = detached(&root, &["-m", "16m"]);
    assert_eq!(
        cgroup_file(&id, "memory", "memory.memsw.limit_in_bytes"),
        (32u64 << 20).to_string()
    );
    assert_eq!(inspect(&root, &id)["HostConfig"]["MemorySwap"], 32 << 20);

    // From inside, as the container's own cgroup root.
    let (code, out, err) = run(
        &root,
        &[
            "--rm",
            "--cpuset-cpus",
            "0",
            "busybox",
            "cat",
            "/sys/fs/cgroup/cpuset/cpuset.cpus",
        ],
    );
    assert_eq!((code, out.trim()), (0, "0"), "{err}");
}

#[test]
fn a_missing_knob_is_discarded_with_dockers_warning() {
    let root = root("limits-warn");
    // This host's scheduler offers no blkio.weight; where it does, the weight applies.
    let has_weight = std::path::Path::new("/sys/fs/cgroup/blkio/blkio.weight").exists();
    let (id, err) = detached(&root, &["--blkio-weight", "300"]);
    let weight = &inspect(&root, &id)["HostConfig"]["BlkioWeight"];
    if has_weight {
        assert_eq!(err, "");
        assert_eq!(weight, 300);
    } else {
        assert_eq!(
            err,
            "WARNING: Your kernel does not support Block I/O weight or the cgroup is not mounted. Weight discarded.\n"
        );
        assert_eq!(weight, 0);
    }
    let (_, err) = detached(&root, &["--oom-kill-disable"]);
    assert!(
        err.contains(
            "WARNING: OOM killer is disabled for the container, but no memory limit is set"
        ),
        "{err}"
    );
}

#[test]
fn a_memory_hog_is_oom_killed_and_reported() {
    let root = root("limits-oom");
    // dd fills a 64 MiB buffer from /dev/zero under a 16 MiB limit without swap.
    let (code, _, err) = run(
        &root,
        &[
            "--name",
            "hog",
            "-m",
            "16m",
            "--memory-swap",
            "16m",
            "busybox",
            "dd",
            "if=/dev/zero",
            "of=/dev/null",
            "bs=64M",
            "count=1",
        ],
    );
    assert_eq!(code, 137, "{err}");
    let state = &inspect(&root, "hog")["State"];
    assert_eq!(state["OOMKilled"], true);
    assert_eq!(state["ExitCode"], 137);
    let events = root.ok(&[
        "events",
        "--since",
        "0",
        "--until",
        &harness::containers::events_until(),
        "--filter",
        "container=hog",
    ]);
    let actions: Vec<&str> = events.lines().filter_map(|l| l.split(' ').nth(2)).collect();
    assert_eq!(actions, ["create", "start", "oom", "die"], "{events}");
    // A container that stays within its limit is not reported.
    let (code, _, err) = run(&root, &["--name", "fine", "-m", "16m", "busybox", "true"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(inspect(&root, "fine")["State"]["OOMKilled"], false);
}

#[test]
fn contradictory_limits_fail_before_anything_exists() {
    let root = root("limits-bad");
    let cases: [(&[&str], &str); 9] = [
        (&["-m", "1k"], "error: minimum memory limit allowed is 6MB"),
        (
            &["-m", "64m", "--memory-swap", "32m"],
            "error: minimum memoryswap limit should be larger than memory limit, see usage (--memory-swap is memory plus swap)",
        ),
        (
            &["--memory-swap", "32m"],
            "error: you should always set the memory limit when using memoryswap limit, see usage",
        ),
        (
            &["-m", "8m", "--memory-reservation", "16m"],
            "error: minimum memory limit can not be less than memory reservation limit, see usage",
        ),
        (
            &["--cpus", "0.5", "--cpu-quota", "5000"],
            "error: conflicting options: Nano CPUs and CPU Quota cannot both be set",
        ),
        (
            &["--cpu-period", "10"],
            "error: CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)",
        ),
        (
            &["--cpuset-cpus", "0-999"],
            "error: requested CPUs are not available - requested 0-999, available: ",
        ),
        (
            &["--device-read-bps", "/dev/berth-no-such-disk:1mb"],
            "error: cannot throttle /dev/berth-no-such-disk: no such file or directory",
        ),
        (
            &["--device-write-iops", "sda:10"],
            "error: invalid --device-write-iops \"sda:10\": expected <device-path>:<number>, e.g. /dev/sda:1000",
        ),
    ];
    for (flags, message) in cases {
        assert_refused(&root, flags, message);
    }
    assert_eq!(root.ok(&["ps", "-aq"]), "");
    assert_eq!(root.entries("containers"), Vec::<String>::new());
    assert_eq!(root.entries("names"), Vec::<String>::new());
}
