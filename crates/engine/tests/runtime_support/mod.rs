//! Shared by the runtime tests: a busybox rootfs in its own temp directory (lower, upper,
//! work, target), a spec with Docker's defaults, running a container to completion with
//! its output captured, and the cleanup and leak checks. Runs as root.

#![allow(dead_code)] // each test binary uses a different part

use std::fs;
use std::io::Read;
use std::os::fd::OwnedFd;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

use berth_engine::container::config::{DEFAULT_MASKED_PATHS, DEFAULT_READONLY_PATHS};
use berth_engine::runtime::{
    self, DEFAULT_CAPABILITIES, ExitStatus, Init, InitPlan, InitStdio, Rootfs, SpawnError,
};
use oci_spec::runtime::{
    LinuxBuilder, LinuxCapabilitiesBuilder, LinuxNamespaceBuilder, LinuxNamespaceType, Mount,
    MountBuilder, ProcessBuilder, Spec, SpecBuilder, UserBuilder,
};

/// Fails the test (never skips it) when not root.
pub fn require_root() {
    assert!(
        rustix::process::geteuid().is_root(),
        "the runtime tests need root (namespaces, mounts, cgroups); run them as root, as CI does"
    );
}

/// A container's directories: `lower` (busybox), `upper`, `work`, `target`, under one
/// temp directory, and its own cgroups path `berth-test-<pid>-<n>/c`. Dropping it removes
/// the cgroup and the directory.
pub struct Sandbox {
    pub base: PathBuf,
    pub lower: PathBuf,
    pub upper: PathBuf,
    pub work: PathBuf,
    pub target: PathBuf,
    pub cgroup_parent: String,
}

impl Sandbox {
    pub fn new() -> Sandbox {
        require_root();
        static N: AtomicU32 = AtomicU32::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let id = format!("berth-test-{}-{n}", std::process::id());
        let base = std::env::temp_dir().join(format!("{id}-rt"));
        let _ = fs::remove_dir_all(&base);
        let sb = Sandbox {
            lower: base.join("lower"),
            upper: base.join("upper"),
            work: base.join("work"),
            target: base.join("target"),
            base,
            cgroup_parent: id,
        };
        for d in [&sb.lower, &sb.upper, &sb.work, &sb.target] {
            fs::create_dir_all(d).unwrap();
        }
        busybox_tree(&sb.lower);
        sb
    }

    pub fn cgroups_path(&self) -> String {
        format!("/{}/c", self.cgroup_parent)
    }

    pub fn rootfs(&self) -> Rootfs {
        Rootfs::Overlay {
            lowers: vec![self.lower.clone()],
            upper: self.upper.clone(),
            work: self.work.clone(),
            target: self.target.clone(),
            volatile: false,
        }
    }

    /// A spec as Docker would build it for `args` (root, default capabilities, masked and
    /// read-only paths, new pid/mount/uts/ipc/cgroup/network namespaces).
    pub fn spec(&self, args: &[&str]) -> Spec {
        spec(args, &self.cgroups_path(), Vec::new())
    }

    pub fn run(&self, args: &[&str]) -> Outcome {
        self.run_spec(self.spec(args))
    }

    /// Spawns, waits, and returns the exit status and output; removes the cgroup.
    pub fn run_spec(&self, spec: Spec) -> Outcome {
        let started = self.start(spec).unwrap_or_else(|e| panic!("spawn: {e}"));
        started.finish()
    }

    /// Spawns with captured output; the caller waits.
    pub fn start(&self, spec: Spec) -> Result<Started, SpawnError> {
        let (out_r, out_w) = rustix::pipe::pipe().unwrap();
        let (err_r, err_w) = rustix::pipe::pipe().unwrap();
        let plan = InitPlan {
            spec,
            rootfs: self.rootfs(),
            stdio: InitStdio {
                stdin: fs::File::open("/dev/null").unwrap().into(),
                stdout: out_w,
                stderr: err_w,
            },
            seccomp_cache: None,
            terminal: None,
        };
        let init = runtime::spawn(&plan)?;
        drop(plan);
        Ok(Started {
            init,
            stdout: out_r,
            stderr: err_r,
        })
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = runtime::remove_cgroup(&self.cgroup_parent);
        let _ = fs::remove_dir_all(&self.base);
    }
}

#[derive(Debug)]
pub struct Started {
    pub init: Init,
    pub stdout: OwnedFd,
    pub stderr: OwnedFd,
}

impl Started {
    /// Reads one line of stdout (to wait for a container to be ready).
    pub fn read_line(&self) -> String {
        let mut line = Vec::new();
        let mut byte = [0u8; 1];
        while let Ok(1) = rustix::io::read(&self.stdout, &mut byte) {
            if byte[0] == b'\n' {
                break;
            }
            line.push(byte[0]);
        }
        String::from_utf8_lossy(&line).into_owned()
    }

    pub fn finish(self) -> Outcome {
        let stderr = self.stderr;
        let err_thread = std::thread::spawn(move || {
            let mut s = String::new();
            let _ = fs::File::from(stderr).read_to_string(&mut s);
            s
        });
        let mut stdout = String::new();
        let _ = fs::File::from(self.stdout).read_to_string(&mut stdout);
        let status = self.init.wait().expect("wait");
        let stderr = err_thread.join().unwrap();
        let cgroups_path = self.init.cgroups_path().unwrap().to_string();
        runtime::remove_cgroup(&cgroups_path).expect("remove cgroup");
        Outcome {
            status,
            stdout,
            stderr,
        }
    }
}

#[derive(Debug)]
pub struct Outcome {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl Outcome {
    pub fn code(&self) -> i32 {
        self.status.code()
    }

    /// Asserts exit 0 and returns stdout.
    pub fn ok(&self) -> &str {
        assert_eq!(self.code(), 0, "container failed: {self:?}");
        &self.stdout
    }
}

pub fn spec(args: &[&str], cgroups_path: &str, mounts: Vec<Mount>) -> Spec {
    let caps: oci_spec::runtime::Capabilities = DEFAULT_CAPABILITIES.into_iter().collect();
    let process = ProcessBuilder::default()
        .args(args.iter().map(|a| a.to_string()).collect::<Vec<_>>())
        .env(vec![
            "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".to_string(),
            "HOSTNAME=testhost".to_string(),
        ])
        .cwd("/")
        .user(UserBuilder::default().uid(0u32).gid(0u32).build().unwrap())
        .capabilities(
            LinuxCapabilitiesBuilder::default()
                .bounding(caps.clone())
                .effective(caps.clone())
                .permitted(caps)
                // oci-spec's builder defaults unset sets to three capabilities, not none.
                .inheritable(oci_spec::runtime::Capabilities::new())
                .ambient(oci_spec::runtime::Capabilities::new())
                .build()
                .unwrap(),
        )
        .build()
        .unwrap();
    let namespaces = [
        LinuxNamespaceType::Pid,
        LinuxNamespaceType::Mount,
        LinuxNamespaceType::Uts,
        LinuxNamespaceType::Ipc,
        LinuxNamespaceType::Cgroup,
        LinuxNamespaceType::Network,
    ]
    .into_iter()
    .map(|t| LinuxNamespaceBuilder::default().typ(t).build().unwrap())
    .collect::<Vec<_>>();
    let linux = LinuxBuilder::default()
        .namespaces(namespaces)
        .masked_paths(
            DEFAULT_MASKED_PATHS
                .iter()
                .map(|s| s.to_string())
                .collect::<Vec<_>>(),
        )
        .readonly_paths(
            DEFAULT_READONLY_PATHS
                .iter()
                .map(|s| s.to_string())
                .collect::<Vec<_>>(),
        )
        .cgroups_path(cgroups_path)
        .build()
        .unwrap();
    SpecBuilder::default()
        // Spec::default() has a read-only root; Docker's is writable.
        .root(
            oci_spec::runtime::RootBuilder::default()
                .path("rootfs")
                .readonly(false)
                .build()
                .unwrap(),
        )
        .process(process)
        .hostname("testhost")
        .mounts(mounts)
        .linux(linux)
        .build()
        .unwrap()
}

/// A bind mount of a host path (read-only when `ro`).
pub fn bind(source: &Path, destination: &str, ro: bool) -> Mount {
    let mut options = vec!["rbind".to_string()];
    if ro {
        options.push("ro".to_string());
    }
    MountBuilder::default()
        .destination(destination)
        .typ("bind")
        .source(source)
        .options(options)
        .build()
        .unwrap()
}

/// `/bin/busybox` with a link per applet, `/etc/passwd`, `/etc/group`, `/tmp`.
fn busybox_tree(dir: &Path) {
    let bin = dir.join("bin");
    fs::create_dir_all(&bin).unwrap();
    fs::copy("/bin/busybox", bin.join("busybox")).unwrap();
    let list = Command::new("/bin/busybox").arg("--list").output().unwrap();
    for applet in String::from_utf8_lossy(&list.stdout).lines() {
        if applet != "busybox" {
            symlink("busybox", bin.join(applet)).unwrap();
        }
    }
    fs::create_dir_all(dir.join("etc")).unwrap();
    fs::write(
        dir.join("etc/passwd"),
        "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n",
    )
    .unwrap();
    fs::write(dir.join("etc/group"), "root:x:0:\nnobody:x:65534:\n").unwrap();
    fs::create_dir_all(dir.join("tmp")).unwrap();
}

/// Lines of the host's mountinfo that mention `needle`.
pub fn host_mounts_with(needle: &str) -> Vec<String> {
    fs::read_to_string("/proc/self/mountinfo")
        .unwrap()
        .lines()
        .filter(|l| l.contains(needle))
        .map(str::to_string)
        .collect()
}

/// Cgroup directories named `name` in any hierarchy.
pub fn host_cgroups_named(name: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in fs::read_dir("/sys/fs/cgroup").unwrap().flatten() {
        let p = entry.path().join(name);
        if p.exists() {
            found.push(p);
        }
    }
    if Path::new("/sys/fs/cgroup").join(name).exists() {
        found.push(Path::new("/sys/fs/cgroup").join(name));
    }
    found
}

/// sha256 of a file, for "the host binary is unchanged".
pub fn file_hash(path: &Path) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(fs::read(path).unwrap()))
}
