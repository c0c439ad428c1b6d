//! Cgroups of a container on the host: which hierarchies exist (v1, hybrid or v2, found at
//! run time in `/proc/self/mountinfo`), creating `<mount>/<cgroups_path>` in each with the
//! resource limits and the device rules, joining a pid to it, and removing it again.

use std::fs;
use std::io;
use std::path::{Component, Path, PathBuf};
use std::time::{Duration, Instant};

use oci_spec::runtime::{LinuxBlockIo, LinuxDeviceCgroup, LinuxDeviceType, LinuxResources};

use super::sys;

/// One mounted cgroup hierarchy of the host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hierarchy {
    /// Where the host mounted it (`/sys/fs/cgroup/cpu`).
    pub mount: PathBuf,
    /// v1 super options to mount it again (`cpu`, `name=systemd`); empty for v2.
    pub options: Vec<String>,
    /// cgroup2 (the only hierarchy in v2 mode, the `unified` one in hybrid mode).
    pub v2: bool,
}

impl Hierarchy {
    pub(crate) fn has(&self, controller: &str) -> bool {
        self.options.iter().any(|o| o == controller)
    }

    /// The directory name this hierarchy gets under `/sys/fs/cgroup` in a container.
    pub fn name(&self) -> String {
        self.mount
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    }
}

/// The host's cgroup layout.
#[derive(Debug, Clone)]
pub struct Layout {
    pub hierarchies: Vec<Hierarchy>,
}

impl Layout {
    /// Reads the cgroup mounts of this process's mount namespace.
    pub fn detect() -> io::Result<Layout> {
        let info = fs::read_to_string("/proc/self/mountinfo")?;
        let mut hierarchies: Vec<Hierarchy> = Vec::new();
        for line in info.lines() {
            let Some((left, right)) = line.split_once(" - ") else {
                continue;
            };
            let fields: Vec<&str> = left.split(' ').collect();
            let right: Vec<&str> = right.split(' ').collect();
            if fields.len() < 5 || right.len() < 3 || fields[3] != "/" {
                continue;
            }
            let v2 = match right[0] {
                "cgroup" => false,
                "cgroup2" => true,
                _ => continue,
            };
            let options: Vec<String> = if v2 {
                Vec::new()
            } else {
                right[2]
                    .split(',')
                    .filter(|o| !matches!(*o, "rw" | "ro") && !o.starts_with("release_agent="))
                    .map(str::to_string)
                    .collect()
            };
            // A hierarchy mounted twice is the same hierarchy.
            if hierarchies
                .iter()
                .any(|h| h.v2 == v2 && h.options == options)
            {
                continue;
            }
            hierarchies.push(Hierarchy {
                mount: PathBuf::from(unescape_mountinfo(fields[4])),
                options,
                v2,
            });
        }
        Ok(Layout { hierarchies })
    }

    /// The pure v2 layout (`/sys/fs/cgroup` is cgroup2 and nothing else).
    pub fn is_v2(&self) -> bool {
        self.hierarchies.iter().all(|h| h.v2)
    }

    /// The hierarchies whose cgroup a container sees mounted under `/sys/fs/cgroup`:
    /// every v1 one (in hybrid mode the unified one is left out, as Docker does), or the
    /// v2 one.
    pub fn visible(&self) -> impl Iterator<Item = &Hierarchy> {
        let v2 = self.is_v2();
        self.hierarchies.iter().filter(move |h| h.v2 == v2)
    }

    /// The hierarchy whose `cgroup.procs` answers "which processes are in it".
    fn primary(&self) -> Option<&Hierarchy> {
        self.hierarchies
            .iter()
            .find(|h| h.has("pids"))
            .or_else(|| self.hierarchies.iter().find(|h| h.has("name=systemd")))
            .or_else(|| self.hierarchies.first())
    }
}

/// `\040` and friends in mountinfo paths.
fn unescape_mountinfo(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\'
            && i + 3 < b.len()
            && b[i + 1..i + 4].iter().all(|c| (b'0'..=b'7').contains(c))
        {
            out.push((b[i + 1] - b'0') * 64 + (b[i + 2] - b'0') * 8 + (b[i + 3] - b'0'));
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A cgroups path made relative and checked: no `..`, nothing empty.
pub fn relative_path(cgroups_path: &str) -> io::Result<PathBuf> {
    let mut out = PathBuf::new();
    for c in Path::new(cgroups_path).components() {
        match c {
            Component::RootDir | Component::CurDir => {}
            Component::Normal(n) => out.push(n),
            _ => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("invalid cgroups path {cgroups_path:?}"),
                ));
            }
        }
    }
    if out.as_os_str().is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("invalid cgroups path {cgroups_path:?}"),
        ));
    }
    Ok(out)
}

/// Docker's default device rules (runc's `AllowedDevices`): deny everything, allow mknod
/// of any node, and read/write/mknod of the standard ones.
const DEFAULT_DEVICE_RULES: &[(&str, &str)] = &[
    ("devices.deny", "a"),
    ("devices.allow", "c *:* m"),
    ("devices.allow", "b *:* m"),
    ("devices.allow", "c 1:3 rwm"),
    ("devices.allow", "c 1:8 rwm"),
    ("devices.allow", "c 1:7 rwm"),
    ("devices.allow", "c 5:0 rwm"),
    ("devices.allow", "c 1:5 rwm"),
    ("devices.allow", "c 1:9 rwm"),
    ("devices.allow", "c 5:1 rwm"),
    ("devices.allow", "c 136:* rwm"),
    ("devices.allow", "c 5:2 rwm"),
];

/// The container's cgroup in every hierarchy, created by [`Cgroup::create`].
#[derive(Debug)]
pub struct Cgroup {
    path: String,
    dirs: Vec<PathBuf>,
}

impl Cgroup {
    /// Creates `<mount>/<path>` in every hierarchy, with the limits and device rules.
    /// On failure whatever was created is removed again.
    pub fn create(
        layout: &Layout,
        cgroups_path: &str,
        resources: Option<&LinuxResources>,
    ) -> Result<Cgroup, String> {
        let rel = relative_path(cgroups_path).map_err(|e| e.to_string())?;
        let mut cgroup = Cgroup {
            path: cgroups_path.to_string(),
            dirs: Vec::new(),
        };
        let result = (|| {
            for h in &layout.hierarchies {
                let dir = h.mount.join(&rel);
                create_dirs(h, &rel)
                    .map_err(|e| format!("create cgroup {}: {}", dir.display(), errno_text(&e)))?;
                cgroup.dirs.push(dir.clone());
                apply(h, &dir, resources)?;
            }
            Ok(())
        })();
        match result {
            Ok(()) => Ok(cgroup),
            Err(e) => {
                let _ = remove_cgroup(cgroups_path);
                Err(e)
            }
        }
    }

    /// Moves `pid` into the cgroup in every hierarchy.
    pub fn join(&self, pid: i32) -> Result<(), String> {
        let pid = pid.to_string();
        for dir in &self.dirs {
            let procs = dir.join("cgroup.procs");
            fs::write(&procs, &pid)
                .map_err(|e| format!("join cgroup {}: {}", procs.display(), errno_text(&e)))?;
        }
        Ok(())
    }

    /// The cgroups path it was created for.
    pub fn path(&self) -> &str {
        &self.path
    }
}

/// mkdir -p of `rel` under the hierarchy; on v1 cpuset every new directory gets its
/// parent's cpus and mems (it is created empty and takes no task before that), on v2 every
/// ancestor delegates the controllers it has.
fn create_dirs(h: &Hierarchy, rel: &Path) -> io::Result<()> {
    let mut dir = h.mount.clone();
    for c in rel.components() {
        let parent = dir.clone();
        dir.push(c);
        if h.v2 {
            enable_subtree_controllers(&parent);
        }
        match fs::create_dir(&dir) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
        if h.has("cpuset") {
            for file in ["cpuset.cpus", "cpuset.mems"] {
                let value = fs::read_to_string(parent.join(file))?;
                fs::write(dir.join(file), value.trim())?;
            }
        }
    }
    Ok(())
}

/// Best effort: a v2 parent lists its controllers in `cgroup.subtree_control` so that
/// the limits can be written below it.
fn enable_subtree_controllers(dir: &Path) {
    let Ok(available) = fs::read_to_string(dir.join("cgroup.controllers")) else {
        return;
    };
    let wanted: Vec<String> = available
        .split_whitespace()
        .filter(|c| matches!(*c, "cpu" | "cpuset" | "io" | "memory" | "pids"))
        .map(|c| format!("+{c}"))
        .collect();
    if !wanted.is_empty() {
        let _ = fs::write(dir.join("cgroup.subtree_control"), wanted.join(" "));
    }
}

fn write(dir: &Path, file: &str, value: &str) -> Result<(), String> {
    let path = dir.join(file);
    fs::write(&path, value)
        .map_err(|e| format!("write {value:?} to {}: {}", path.display(), errno_text(&e)))
}

/// Writes the spec's limits to the files of this hierarchy.
fn apply(h: &Hierarchy, dir: &Path, resources: Option<&LinuxResources>) -> Result<(), String> {
    if h.has("devices") {
        // Docker's defaults, then the spec's own rules (`--device`, `--privileged`) on top.
        for (file, value) in DEFAULT_DEVICE_RULES {
            write(dir, file, value)?;
        }
        for rule in resources
            .and_then(|r| r.devices().as_ref())
            .into_iter()
            .flatten()
        {
            let (file, value) = device_rule(rule);
            write(dir, file, &value)?;
        }
    }
    let Some(r) = resources else {
        return Ok(());
    };
    if let Some(m) = r.memory() {
        if h.has("memory") {
            if let Some(limit) = m.limit() {
                write(dir, "memory.limit_in_bytes", &limit.to_string())?;
            }
            if let Some(swap) = m.swap()
                && dir.join("memory.memsw.limit_in_bytes").exists()
            {
                write(dir, "memory.memsw.limit_in_bytes", &swap.to_string())?;
            }
            if let Some(res) = m.reservation() {
                write(dir, "memory.soft_limit_in_bytes", &res.to_string())?;
            }
            if m.disable_oom_killer() == Some(true) {
                write(dir, "memory.oom_control", "1")?;
            }
        }
        if h.v2 && dir.join("memory.max").exists() {
            if let Some(limit) = m.limit() {
                write(dir, "memory.max", &v2_max(limit))?;
                if let Some(swap) = m.swap() {
                    let swap = if swap < 0 || limit < 0 {
                        -1
                    } else {
                        swap - limit
                    };
                    write(dir, "memory.swap.max", &v2_max(swap))?;
                }
            }
            if let Some(res) = m.reservation() {
                write(dir, "memory.low", &v2_max(res))?;
            }
        }
    }
    if let Some(c) = r.cpu() {
        if h.has("cpu") {
            if let Some(shares) = c.shares() {
                write(dir, "cpu.shares", &shares.to_string())?;
            }
            if let Some(period) = c.period() {
                write(dir, "cpu.cfs_period_us", &period.to_string())?;
            }
            if let Some(quota) = c.quota() {
                write(dir, "cpu.cfs_quota_us", &quota.to_string())?;
            }
        }
        if h.v2 && dir.join("cpu.max").exists() {
            if let Some(shares) = c.shares() {
                let weight = 1 + (shares.clamp(2, 262_144) - 2) * 9999 / 262_142;
                write(dir, "cpu.weight", &weight.to_string())?;
            }
            if c.quota().is_some() || c.period().is_some() {
                let quota = c.quota().map_or("max".to_string(), v2_max);
                let period = c.period().unwrap_or(100_000);
                write(dir, "cpu.max", &format!("{quota} {period}"))?;
            }
        }
        if h.has("cpuset") || (h.v2 && dir.join("cpuset.cpus").exists()) {
            if let Some(cpus) = c.cpus() {
                write(dir, "cpuset.cpus", cpus)?;
            }
            if let Some(mems) = c.mems() {
                write(dir, "cpuset.mems", mems)?;
            }
        }
    }
    if let Some(p) = r.pids()
        && (h.has("pids") || (h.v2 && dir.join("pids.max").exists()))
    {
        write(dir, "pids.max", &v2_max(p.limit()))?;
    }
    if let Some(b) = r.block_io() {
        apply_block_io(h, dir, b)?;
    }
    Ok(())
}

/// `--blkio-weight` and the `--device-{read,write}-{bps,iops}` throttles: v1's
/// `blkio.weight` and `blkio.throttle.*_device` files, v2's `io.weight` and `io.max`.
fn apply_block_io(h: &Hierarchy, dir: &Path, b: &LinuxBlockIo) -> Result<(), String> {
    if let Some(weight) = b.weight() {
        if h.has("blkio") {
            write(dir, "blkio.weight", &weight.to_string())?;
        }
        if h.v2 && dir.join("io.weight").exists() {
            let weight = 1 + (u32::from(weight).clamp(10, 1000) - 10) * 9999 / 990;
            write(dir, "io.weight", &weight.to_string())?;
        }
    }
    let throttles = [
        ("read_bps_device", "rbps", b.throttle_read_bps_device()),
        ("write_bps_device", "wbps", b.throttle_write_bps_device()),
        ("read_iops_device", "riops", b.throttle_read_iops_device()),
        ("write_iops_device", "wiops", b.throttle_write_iops_device()),
    ];
    for (v1_file, v2_key, devices) in throttles {
        for d in devices.iter().flatten() {
            let device = format!("{}:{}", d.major(), d.minor());
            if h.has("blkio") {
                let file = format!("blkio.throttle.{v1_file}");
                write(dir, &file, &format!("{device} {}", d.rate()))?;
            }
            if h.v2 && dir.join("io.max").exists() {
                write(dir, "io.max", &format!("{device} {v2_key}={}", d.rate()))?;
            }
        }
    }
    Ok(())
}

/// v2 files spell "no limit" `max`.
fn v2_max(n: i64) -> String {
    if n < 0 {
        "max".to_string()
    } else {
        n.to_string()
    }
}

/// `devices.allow` / `devices.deny` line of an OCI device rule.
fn device_rule(rule: &LinuxDeviceCgroup) -> (&'static str, String) {
    let file = if rule.allow() {
        "devices.allow"
    } else {
        "devices.deny"
    };
    let typ = match rule.typ() {
        Some(LinuxDeviceType::C) | Some(LinuxDeviceType::U) => "c",
        Some(LinuxDeviceType::B) => "b",
        _ => "a",
    };
    let access = rule.access().clone().unwrap_or_else(|| "rwm".to_string());
    if typ == "a" {
        return (file, "a".to_string());
    }
    let num = |n: Option<i64>| n.map_or("*".to_string(), |n| n.to_string());
    (
        file,
        format!("{typ} {}:{} {access}", num(rule.major()), num(rule.minor())),
    )
}

/// The pids in the cgroup (its own `cgroup.procs`, not its children's).
pub fn cgroup_pids(cgroups_path: &str) -> io::Result<Vec<i32>> {
    let rel = relative_path(cgroups_path)?;
    let layout = Layout::detect()?;
    let Some(h) = layout.primary() else {
        return Ok(Vec::new());
    };
    match read_pids(&h.mount.join(rel)) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Vec::new()),
        other => other,
    }
}

/// The `cgroup.procs` files of an existing cgroup in every hierarchy (where an `exec`'d
/// process writes itself).
pub fn procs_files(cgroups_path: &str) -> io::Result<Vec<PathBuf>> {
    let rel = relative_path(cgroups_path)?;
    let layout = Layout::detect()?;
    Ok(layout
        .hierarchies
        .iter()
        .map(|h| h.mount.join(&rel).join("cgroup.procs"))
        .filter(|p| p.exists())
        .collect())
}

/// True when no process is left in the cgroup (or it does not exist).
pub fn cgroup_is_empty(cgroups_path: &str) -> io::Result<bool> {
    Ok(cgroup_pids(cgroups_path)?.is_empty())
}

fn read_pids(dir: &Path) -> io::Result<Vec<i32>> {
    Ok(fs::read_to_string(dir.join("cgroup.procs"))?
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect())
}

/// Kills every process left in the cgroup and below, and removes its directories in every
/// hierarchy. Idempotent (a missing cgroup is not an error); keeps going after a failure
/// and reports the first one.
pub fn remove_cgroup(cgroups_path: &str) -> io::Result<()> {
    let rel = relative_path(cgroups_path)?;
    let layout = Layout::detect()?;
    let mut first_error = None;
    for h in &layout.hierarchies {
        let dir = h.mount.join(&rel);
        if let Err(e) = remove_tree(&dir)
            && first_error.is_none()
        {
            first_error = Some(io::Error::new(
                e.kind(),
                format!("remove cgroup {}: {}", dir.display(), errno_text(&e)),
            ));
        }
    }
    first_error.map_or(Ok(()), Err)
}

/// Depth first: children, then the directory itself once its processes are gone.
fn remove_tree(dir: &Path) -> io::Result<()> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    let mut result = Ok(());
    for entry in entries {
        let entry = entry?;
        if entry.file_type()?.is_dir()
            && let Err(e) = remove_tree(&entry.path())
        {
            result = Err(e);
        }
    }
    result?;
    // A frozen process cannot die: thaw first.
    if dir.join("freezer.state").exists() {
        let _ = fs::write(dir.join("freezer.state"), "THAWED");
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let pids = match read_pids(dir) {
            Ok(pids) => pids,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e),
        };
        for pid in &pids {
            let _ = sys::kill(*pid, libc::SIGKILL);
        }
        if pids.is_empty() {
            match fs::remove_dir(dir) {
                Ok(()) => return Ok(()),
                Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
                // Exiting processes may still pin it for a moment.
                Err(e) if e.raw_os_error() == Some(libc::EBUSY) && Instant::now() < deadline => {}
                Err(e) => return Err(e),
            }
        } else if Instant::now() >= deadline {
            return Err(io::Error::from_raw_os_error(libc::EBUSY));
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// An OS error as berth words it: lowercase, without Rust's "(os error N)".
pub(crate) fn errno_text(e: &io::Error) -> String {
    let text = e.to_string();
    let text = match text.find(" (os error ") {
        Some(i) => &text[..i],
        None => &text,
    };
    let mut chars = text.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cgroups_paths_are_made_relative_and_checked() {
        assert_eq!(
            relative_path("/berth/abc").unwrap(),
            PathBuf::from("berth/abc")
        );
        assert_eq!(relative_path("x").unwrap(), PathBuf::from("x"));
        assert!(relative_path("/a/../b").is_err());
        assert!(relative_path("/").is_err());
    }

    #[test]
    fn mountinfo_escapes_are_undone() {
        assert_eq!(unescape_mountinfo(r"/a\040b"), "/a b");
        assert_eq!(unescape_mountinfo(r"/plain"), "/plain");
    }

    /// The interface files the kernel gives a v2 cgroup with the cpuset, cpu, io,
    /// memory and pids controllers enabled (Documentation/admin-guide/cgroup-v2.rst):
    /// cgroupfs makes them at mkdir, so the fake hierarchy has them made beforehand.
    const V2_FILES: &[&str] = &[
        "cgroup.procs",
        "cgroup.controllers",
        "cgroup.subtree_control",
        "cgroup.events",
        "cpu.max",
        "cpu.weight",
        "cpu.stat",
        "cpuset.cpus",
        "cpuset.mems",
        "cpuset.cpus.effective",
        "io.max",
        "io.weight",
        "io.stat",
        "memory.max",
        "memory.low",
        "memory.high",
        "memory.swap.max",
        "memory.events",
        "pids.max",
        "pids.current",
    ];

    /// A cgroup2 hierarchy in a temp dir: the root with its controllers, and the
    /// container's cgroup `berth/test` with its interface files. `io.max` is a FIFO read
    /// by a thread, since the kernel takes one rule per write and a plain file would keep
    /// only the last; the thread's output is every write, concatenated in order.
    /// Removes the fake hierarchy however the test ends.
    struct Removed(PathBuf);

    impl Drop for Removed {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    impl std::ops::Deref for Removed {
        type Target = Path;
        fn deref(&self) -> &Path {
            &self.0
        }
    }

    fn fake_v2(name: &str) -> (Removed, Layout, std::thread::JoinHandle<String>) {
        let root =
            std::env::temp_dir().join(format!("berth-cgroup-v2-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        fs::create_dir_all(root.join("berth/test")).unwrap();
        fs::write(
            root.join("cgroup.controllers"),
            "cpuset cpu io memory hugetlb pids rdma misc\n",
        )
        .unwrap();
        fs::write(root.join("cgroup.subtree_control"), "").unwrap();
        fs::write(
            root.join("berth/cgroup.controllers"),
            "cpuset cpu io memory pids\n",
        )
        .unwrap();
        let dir = root.join("berth/test");
        for f in V2_FILES.iter().filter(|f| **f != "io.max") {
            fs::write(dir.join(f), "").unwrap();
        }
        let fifo = dir.join("io.max");
        rustix::fs::mknodat(
            rustix::fs::CWD,
            &fifo,
            rustix::fs::FileType::Fifo,
            rustix::fs::Mode::from_bits_truncate(0o600),
            0,
        )
        .unwrap();
        let reader = std::thread::spawn(move || {
            let mut all = String::new();
            // Writes that meet one open of the FIFO arrive as one read: the output is
            // their concatenation, in order.
            loop {
                let chunk = fs::read_to_string(&fifo).unwrap();
                if let Some(last) = chunk.strip_suffix("END") {
                    all.push_str(last);
                    return all;
                }
                all.push_str(&chunk);
            }
        });
        let layout = Layout {
            hierarchies: vec![Hierarchy {
                mount: root.clone(),
                options: Vec::new(),
                v2: true,
            }],
        };
        (Removed(root), layout, reader)
    }

    fn finish(root: &Path, reader: std::thread::JoinHandle<String>) -> String {
        fs::write(root.join("berth/test/io.max"), "END").unwrap();
        reader.join().unwrap()
    }

    fn read(root: &Path, file: &str) -> String {
        fs::read_to_string(root.join("berth/test").join(file)).unwrap()
    }

    #[test]
    fn v2_limits_are_written_in_v2_terms() {
        let (root, layout, reader) = fake_v2("limits");
        let resources: LinuxResources = serde_json::from_value(serde_json::json!({
            "memory": {"limit": 104_857_600, "swap": 209_715_200, "reservation": 52_428_800},
            "cpu": {"shares": 512, "quota": 50_000, "period": 100_000, "cpus": "0", "mems": "0"},
            "pids": {"limit": 64},
            "blockIO": {
                "weight": 500,
                "throttleReadBpsDevice": [{"major": 8, "minor": 0, "rate": 1_048_576}],
                "throttleWriteIOPSDevice": [{"major": 8, "minor": 0, "rate": 100}]
            }
        }))
        .unwrap();
        let cgroup = Cgroup::create(&layout, "/berth/test", Some(&resources)).unwrap();
        // The ancestors delegate what they can to their children.
        assert_eq!(
            fs::read_to_string(root.join("cgroup.subtree_control")).unwrap(),
            "+cpuset +cpu +io +memory +pids"
        );
        assert_eq!(read(&root, "memory.max"), "104857600");
        // v2 counts swap apart from memory: memory+swap 200 MiB is 100 MiB of swap.
        assert_eq!(read(&root, "memory.swap.max"), "104857600");
        assert_eq!(read(&root, "memory.low"), "52428800");
        assert_eq!(read(&root, "cpu.max"), "50000 100000");
        // shares 2..262144 onto weight 1..10000 (runc's mapping): 512 is 20.
        assert_eq!(read(&root, "cpu.weight"), "20");
        assert_eq!(read(&root, "cpuset.cpus"), "0");
        assert_eq!(read(&root, "pids.max"), "64");
        // blkio weight 10..1000 onto io.weight 1..10000: 500 is 4950.
        assert_eq!(read(&root, "io.weight"), "4950");
        cgroup.join(4242).unwrap();
        assert_eq!(read(&root, "cgroup.procs"), "4242");
        assert_eq!(finish(&root, reader), "8:0 rbps=10485768:0 wiops=100");
    }

    #[test]
    fn v2_unlimited_values_are_max() {
        let (root, layout, reader) = fake_v2("unlimited");
        let resources: LinuxResources = serde_json::from_value(serde_json::json!({
            "memory": {"limit": 104_857_600, "swap": -1},
            "cpu": {"quota": -1},
            "pids": {"limit": -1}
        }))
        .unwrap();
        Cgroup::create(&layout, "/berth/test", Some(&resources)).unwrap();
        assert_eq!(read(&root, "memory.max"), "104857600");
        assert_eq!(read(&root, "memory.swap.max"), "max");
        assert_eq!(read(&root, "cpu.max"), "max 100000");
        assert_eq!(read(&root, "pids.max"), "max");
        assert_eq!(
            finish(&root, reader),
            "",
            "no throttle asked, no io.max write"
        );
    }

    #[test]
    fn errno_text_is_lowercase_without_the_number() {
        let e = io::Error::from_raw_os_error(libc::EPERM);
        assert_eq!(errno_text(&e), "operation not permitted");
    }
}
