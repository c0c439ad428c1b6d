//! Which resource knobs the host's cgroups offer (Docker's `pkg/sysinfo`), found from the
//! files of each hierarchy's root, and the OOM kills a container's cgroup counted. A
//! limit the host cannot apply is discarded with Docker's warning, not failed.

use std::fs;
use std::path::Path;

use super::cgroup::{Hierarchy, Layout, relative_path};

/// The knobs `create` checks a request against.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Support {
    pub memory: bool,
    pub swap: bool,
    pub memory_reservation: bool,
    pub oom_kill_disable: bool,
    pub cpu_shares: bool,
    pub cpu_cfs: bool,
    pub cpuset: bool,
    pub pids: bool,
    pub blkio_weight: bool,
    pub read_bps: bool,
    pub write_bps: bool,
    pub read_iops: bool,
    pub write_iops: bool,
    /// `cpuset.effective_cpus` (v1) / `cpuset.cpus.effective` (v2) of the root: `0-1`.
    pub cpus: String,
    pub mems: String,
}

impl Support {
    /// What this host offers.
    pub fn detect() -> std::io::Result<Support> {
        Ok(Support::of(&Layout::detect()?, |p| {
            fs::read_to_string(p).ok()
        }))
    }

    /// What `layout` offers, with `read` giving a file's content (`None`: absent). Pure,
    /// so recorded layouts of other hosts (cgroup v2) are tested without them.
    pub fn of(layout: &Layout, read: impl Fn(&Path) -> Option<String>) -> Support {
        if layout.is_v2() {
            return Support::of_v2(layout, read);
        }
        let mut s = Support::default();
        let exists = |h: &Hierarchy, file: &str| read(&h.mount.join(file)).is_some();
        for h in layout.hierarchies.iter().filter(|h| !h.v2) {
            if h.has("memory") {
                s.memory = exists(h, "memory.limit_in_bytes");
                s.swap = exists(h, "memory.memsw.limit_in_bytes");
                s.memory_reservation = exists(h, "memory.soft_limit_in_bytes");
                s.oom_kill_disable = exists(h, "memory.oom_control");
            }
            if h.has("cpu") {
                s.cpu_shares = exists(h, "cpu.shares");
                s.cpu_cfs = exists(h, "cpu.cfs_quota_us");
            }
            if h.has("cpuset") {
                let effective = read(&h.mount.join("cpuset.effective_cpus"))
                    .or_else(|| read(&h.mount.join("cpuset.cpus")));
                if let Some(cpus) = effective {
                    s.cpuset = true;
                    s.cpus = cpus.trim().to_string();
                    s.mems = read(&h.mount.join("cpuset.effective_mems"))
                        .or_else(|| read(&h.mount.join("cpuset.mems")))
                        .unwrap_or_default()
                        .trim()
                        .to_string();
                }
            }
            if h.has("pids") {
                // The root has no pids.max; the controller being there is the knob.
                s.pids = true;
            }
            if h.has("blkio") {
                s.blkio_weight = exists(h, "blkio.weight");
                s.read_bps = exists(h, "blkio.throttle.read_bps_device");
                s.write_bps = exists(h, "blkio.throttle.write_bps_device");
                s.read_iops = exists(h, "blkio.throttle.read_iops_device");
                s.write_iops = exists(h, "blkio.throttle.write_iops_device");
            }
        }
        s
    }

    /// cgroup v2: the root's `cgroup.controllers` says what can be delegated; there is no
    /// way to disable the OOM killer (Docker reports it unsupported too).
    fn of_v2(layout: &Layout, read: impl Fn(&Path) -> Option<String>) -> Support {
        let mut s = Support::default();
        let Some(h) = layout.hierarchies.first() else {
            return s;
        };
        let controllers = read(&h.mount.join("cgroup.controllers")).unwrap_or_default();
        let has = |c: &str| controllers.split_whitespace().any(|x| x == c);
        if has("memory") {
            s.memory = true;
            s.memory_reservation = true;
            // As Docker: memory.swap.max is there whenever the controller is.
            s.swap = true;
        }
        if has("cpu") {
            s.cpu_shares = true;
            s.cpu_cfs = true;
        }
        if has("cpuset") {
            s.cpuset = true;
            s.cpus = read(&h.mount.join("cpuset.cpus.effective"))
                .unwrap_or_default()
                .trim()
                .to_string();
            s.mems = read(&h.mount.join("cpuset.mems.effective"))
                .unwrap_or_default()
                .trim()
                .to_string();
        }
        s.pids = has("pids");
        if has("io") {
            s.blkio_weight = read(&h.mount.join("io.bfq.weight")).is_some()
                || read(&h.mount.join("io.weight")).is_some();
            (s.read_bps, s.write_bps, s.read_iops, s.write_iops) = (true, true, true, true);
        }
        s
    }
}

/// How many processes the kernel's OOM killer killed in the container's cgroup: v1's
/// `memory.oom_control` (`oom_kill N`, Linux 4.13+), v2's `memory.events`. Read after the
/// process ended and before the cgroup is removed.
pub fn oom_kills(cgroups_path: &str) -> u64 {
    let Ok(layout) = Layout::detect() else {
        return 0;
    };
    let Ok(rel) = relative_path(cgroups_path) else {
        return 0;
    };
    oom_kills_in(&layout, &rel, |p| fs::read_to_string(p).ok())
}

fn oom_kills_in(layout: &Layout, rel: &Path, read: impl Fn(&Path) -> Option<String>) -> u64 {
    let counter = |text: String, key: &str| {
        text.lines()
            .filter_map(|l| l.split_once(' '))
            .find(|(k, _)| *k == key)
            .and_then(|(_, v)| v.trim().parse::<u64>().ok())
    };
    for h in &layout.hierarchies {
        let found = if h.v2 {
            read(&h.mount.join(rel).join("memory.events")).and_then(|t| counter(t, "oom_kill"))
        } else if h.has("memory") {
            read(&h.mount.join(rel).join("memory.oom_control")).and_then(|t| counter(t, "oom_kill"))
        } else {
            None
        };
        if let Some(n) = found {
            return n;
        }
    }
    0
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::path::PathBuf;

    use super::*;

    fn v1(options: &str) -> Hierarchy {
        Hierarchy {
            mount: PathBuf::from(format!("/sys/fs/cgroup/{}", options.replace(',', "_"))),
            options: options.split(',').map(str::to_string).collect(),
            v2: false,
        }
    }

    fn files(list: &[(&str, &str)]) -> impl Fn(&Path) -> Option<String> {
        let map: BTreeMap<PathBuf, String> = list
            .iter()
            .map(|(p, c)| (PathBuf::from(p), c.to_string()))
            .collect();
        move |p| map.get(p).cloned()
    }

    /// This project's CI host: cgroup v1 with swap accounting, no `blkio.weight` (the
    /// mq-deadline scheduler), the throttle files.
    #[test]
    fn a_v1_host_without_blkio_weight() {
        let layout = Layout {
            hierarchies: vec![
                v1("memory"),
                v1("cpu,cpuacct"),
                v1("cpuset"),
                v1("pids"),
                v1("blkio"),
            ],
        };
        let s = Support::of(
            &layout,
            files(&[
                ("/sys/fs/cgroup/memory/memory.limit_in_bytes", "x"),
                ("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes", "x"),
                ("/sys/fs/cgroup/memory/memory.soft_limit_in_bytes", "x"),
                ("/sys/fs/cgroup/memory/memory.oom_control", "x"),
                ("/sys/fs/cgroup/cpu_cpuacct/cpu.shares", "x"),
                ("/sys/fs/cgroup/cpu_cpuacct/cpu.cfs_quota_us", "x"),
                ("/sys/fs/cgroup/cpuset/cpuset.effective_cpus", "0-1\n"),
                ("/sys/fs/cgroup/cpuset/cpuset.effective_mems", "0\n"),
                ("/sys/fs/cgroup/blkio/blkio.throttle.read_bps_device", ""),
                ("/sys/fs/cgroup/blkio/blkio.throttle.write_bps_device", ""),
                ("/sys/fs/cgroup/blkio/blkio.throttle.read_iops_device", ""),
                ("/sys/fs/cgroup/blkio/blkio.throttle.write_iops_device", ""),
            ]),
        );
        assert!(s.memory && s.swap && s.memory_reservation && s.oom_kill_disable);
        assert!(s.cpu_shares && s.cpu_cfs && s.cpuset && s.pids);
        assert!(!s.blkio_weight);
        assert!(s.read_bps && s.write_bps && s.read_iops && s.write_iops);
        assert_eq!((s.cpus.as_str(), s.mems.as_str()), ("0-1", "0"));
    }

    /// A pure v2 host (Debian 12's default) as its root cgroup reads.
    #[test]
    fn a_v2_host_with_every_controller() {
        let layout = Layout {
            hierarchies: vec![Hierarchy {
                mount: PathBuf::from("/sys/fs/cgroup"),
                options: Vec::new(),
                v2: true,
            }],
        };
        let s = Support::of(
            &layout,
            files(&[
                (
                    "/sys/fs/cgroup/cgroup.controllers",
                    "cpuset cpu io memory hugetlb pids rdma misc\n",
                ),
                ("/sys/fs/cgroup/cpuset.cpus.effective", "0-3\n"),
                ("/sys/fs/cgroup/cpuset.mems.effective", "0\n"),
            ]),
        );
        assert!(s.memory && s.swap && s.memory_reservation && s.cpu_cfs && s.pids);
        assert!(!s.oom_kill_disable, "v2 cannot disable the OOM killer");
        assert!(
            !s.blkio_weight,
            "no io.weight without a weight-aware scheduler"
        );
        assert!(s.read_bps && s.write_iops);
        assert_eq!(s.cpus, "0-3");
        let none = Support::of(
            &layout,
            files(&[("/sys/fs/cgroup/cgroup.controllers", "memory\n")]),
        );
        assert!(none.memory && !none.cpu_cfs && !none.pids && !none.cpuset);
    }

    #[test]
    fn oom_kills_are_read_from_v1_and_v2_counters() {
        let rel = Path::new("berth-abc");
        let layout = Layout {
            hierarchies: vec![v1("cpu"), v1("memory")],
        };
        let read = files(&[(
            "/sys/fs/cgroup/memory/berth-abc/memory.oom_control",
            "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n",
        )]);
        assert_eq!(oom_kills_in(&layout, rel, read), 2);
        let v2 = Layout {
            hierarchies: vec![Hierarchy {
                mount: PathBuf::from("/sys/fs/cgroup"),
                options: Vec::new(),
                v2: true,
            }],
        };
        let read = files(&[(
            "/sys/fs/cgroup/berth-abc/memory.events",
            "low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\noom_group_kill 0\n",
        )]);
        assert_eq!(oom_kills_in(&v2, rel, read), 1);
        assert_eq!(oom_kills_in(&v2, rel, files(&[])), 0);
    }
}
