//! The OCI spec turned, in the parent, into everything the child needs as ready C strings
//! and numbers: the child runs between clone and exec, where it should neither allocate
//! much nor fail on anything that could have been checked before.

use std::ffi::{CString, OsStr};
use std::fs;
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use oci_spec::runtime::{
    Capability, LinuxDeviceType, LinuxNamespaceType, Mount, PosixRlimitType, Spec,
};
use rustix::fs::{Mode, OFlags};
use rustix::process::{Resource, Rlimit};
use rustix::thread::{CapabilitySet, LinkNameSpaceType};

use super::cgroup::Layout;
use super::{Rootfs, SpawnError};

pub const CLONE_NEWNS: u64 = 0x0002_0000;
pub const CLONE_NEWCGROUP: u64 = 0x0200_0000;
pub const CLONE_NEWUTS: u64 = 0x0400_0000;
pub const CLONE_NEWIPC: u64 = 0x0800_0000;
pub const CLONE_NEWPID: u64 = 0x2000_0000;
pub const CLONE_NEWNET: u64 = 0x4000_0000;

pub const MOUNT_ATTR_RDONLY: u64 = 0x1;
pub const MOUNT_ATTR_NOSUID: u64 = 0x2;
pub const MOUNT_ATTR_NODEV: u64 = 0x4;
pub const MOUNT_ATTR_NOEXEC: u64 = 0x8;
pub const MOUNT_ATTR_ATIME: u64 = 0x70;
pub const MOUNT_ATTR_NOATIME: u64 = 0x10;
pub const MOUNT_ATTR_STRICTATIME: u64 = 0x20;
pub const MOUNT_ATTR_NODIRATIME: u64 = 0x80;

const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// What is mounted at one destination.
pub enum MountSource {
    /// A new filesystem (`fsopen`): type, `source` and `fsconfig` keys (value or flag).
    Fs {
        fstype: CString,
        source: Option<CString>,
        data: Vec<(CString, Option<CString>)>,
    },
    /// A copy of a host path's mount tree (`open_tree(OPEN_TREE_CLONE)`); with `mount_ns`,
    /// the path is looked up in that mount namespace (another container's `/dev/shm`).
    Bind {
        source: CString,
        recursive: bool,
        mount_ns: Option<OwnedFd>,
    },
    /// The container's own cgroup in every visible hierarchy (read-only).
    Cgroup,
}

pub struct MountStep {
    /// Absolute destination inside the container, for messages and resolution.
    pub dest: CString,
    pub source: MountSource,
    /// `MOUNT_ATTR_*` to set and to clear.
    pub attr_set: u64,
    pub attr_clr: u64,
    /// The destination is created as a file (binds of files), else as a directory.
    pub file: bool,
    /// `/dev` as a tmpfs: the standard nodes and links are created in it.
    pub populate_dev: bool,
    /// A bind of an empty volume: first filled with the image's content at `dest`.
    pub copy_up: bool,
}

/// The mount option (berth's own, beside runc's `tmpcopyup` for tmpfs) that asks to
/// fill an empty bind-mounted volume from the image's content at the destination.
pub const COPY_UP_OPTION: &str = "berth.copyup";

/// Mount option prefix (berth's own): `berth.mntns=/proc/<pid>/ns/mnt` takes a bind's
/// source from that mount namespace (`--ipc container:<x>` shares x's `/dev/shm`).
pub const MOUNT_NS_OPTION: &str = "berth.mntns=";

pub struct DeviceNode {
    pub path: CString,
    pub file_type: rustix::fs::FileType,
    pub mode: Mode,
    pub dev: rustix::fs::Dev,
    pub uid: u32,
    pub gid: u32,
}

/// A v1 hierarchy (or the v2 one) to mount inside the container.
pub struct CgroupMount {
    pub name: CString,
    pub v2: bool,
    pub flags: Vec<CString>,
    pub strings: Vec<(CString, CString)>,
}

pub struct Prepared {
    pub clone_flags: u64,
    pub unshare_cgroup: bool,
    pub new_net: bool,
    pub set_hostname: Option<Vec<u8>>,
    pub joins: Vec<(OwnedFd, LinkNameSpaceType, &'static str)>,
    /// A pid namespace to clone the init into (`--pid container:<x>`): joined by the
    /// parent for its children before the clone, since a process cannot change its own.
    pub join_pid: Option<OwnedFd>,
    pub lowers: Vec<CString>,
    pub upper: CString,
    pub work: CString,
    pub target: CString,
    pub volatile: bool,
    pub mounts: Vec<MountStep>,
    /// `root.readonly` (`--read-only`): the overlay mount is made read-only after the
    /// other mounts are on it.
    pub readonly_root: bool,
    pub cgroup_mounts: Vec<CgroupMount>,
    pub devices: Vec<DeviceNode>,
    /// `linux.sysctl` as `/proc/sys/...` paths and values, written after `/proc` is up.
    pub sysctls: Vec<(CString, CString)>,
    pub masked: Vec<CString>,
    pub readonly: Vec<CString>,
    pub process: ProcessPlan,
}

/// The process of a spec as the child needs it (the container's init, or an `exec`).
pub struct ProcessPlan {
    pub rlimits: Vec<(Resource, Rlimit)>,
    pub no_new_privs: bool,
    pub uid: u32,
    pub gid: u32,
    pub groups: Vec<u32>,
    pub bounding: CapabilitySet,
    pub effective: CapabilitySet,
    pub permitted: CapabilitySet,
    pub inheritable: CapabilitySet,
    pub ambient: CapabilitySet,
    pub last_cap: u32,
    pub cwd: CString,
    pub program: String,
    /// Where to look for the program: itself when it has a slash, else each `$PATH` entry.
    pub candidates: Vec<CString>,
    pub program_has_slash: bool,
    pub argv: Vec<CString>,
    pub env: Vec<CString>,
    /// `linux.seccomp` compiled; loaded last before the exec.
    pub seccomp: Option<super::seccomp::Filter>,
}

fn invalid(msg: impl Into<String>) -> SpawnError {
    SpawnError::InvalidSpec(msg.into())
}

pub fn cstring(s: impl AsRef<OsStr>) -> Result<CString, SpawnError> {
    let s = s.as_ref();
    CString::new(s.as_bytes()).map_err(|_| invalid(format!("{s:?} contains a NUL byte")))
}

/// Docker's standard mounts; a spec mount with the same destination replaces one.
const DEFAULT_MOUNTS: &[(&str, &str, &str, &[&str])] = &[
    ("/proc", "proc", "proc", &["nosuid", "noexec", "nodev"]),
    (
        "/dev",
        "tmpfs",
        "tmpfs",
        &["nosuid", "strictatime", "mode=755", "size=65536k"],
    ),
    (
        "/dev/pts",
        "devpts",
        "devpts",
        &[
            "nosuid",
            "noexec",
            "newinstance",
            "ptmxmode=0666",
            "mode=0620",
            "gid=5",
        ],
    ),
    (
        "/sys",
        "sysfs",
        "sysfs",
        &["nosuid", "noexec", "nodev", "ro"],
    ),
    (
        "/sys/fs/cgroup",
        "cgroup",
        "cgroup",
        &["ro", "nosuid", "noexec", "nodev"],
    ),
    (
        "/dev/mqueue",
        "mqueue",
        "mqueue",
        &["nosuid", "noexec", "nodev"],
    ),
    (
        "/dev/shm",
        "tmpfs",
        "shm",
        &["nosuid", "noexec", "nodev", "mode=1777", "size=67108864"],
    ),
];

/// `/a//b/` → `/a/b`, for comparing destinations.
fn normalize_dest(p: &Path) -> String {
    let mut out = String::new();
    for c in p
        .to_string_lossy()
        .split('/')
        .filter(|c| !c.is_empty() && *c != ".")
    {
        out.push('/');
        out.push_str(c);
    }
    if out.is_empty() { "/".to_string() } else { out }
}

pub fn prepare(
    spec: &Spec,
    rootfs: &Rootfs,
    layout: &Layout,
    seccomp_cache: Option<&Path>,
) -> Result<Prepared, SpawnError> {
    let process = spec
        .process()
        .as_ref()
        .ok_or_else(|| invalid("no process"))?;
    let linux = spec
        .linux()
        .as_ref()
        .ok_or_else(|| invalid("no linux section"))?;

    // Namespaces: new ones are clone flags (cgroup: unshared once in its cgroup), ones
    // with a path are opened here and joined by the child.
    let mut clone_flags = 0;
    let mut unshare_cgroup = false;
    let mut new_net = false;
    let mut has_uts = false;
    let mut joins = Vec::new();
    let mut join_pid = None;
    for ns in linux.namespaces().iter().flatten() {
        let (flag, link_type, name) = match ns.typ() {
            LinuxNamespaceType::Pid => (CLONE_NEWPID, None, "pid"),
            LinuxNamespaceType::Mount => (CLONE_NEWNS, None, "mount"),
            LinuxNamespaceType::Uts => (
                CLONE_NEWUTS,
                Some(LinkNameSpaceType::HostNameAndNISDomainName),
                "uts",
            ),
            LinuxNamespaceType::Ipc => (
                CLONE_NEWIPC,
                Some(LinkNameSpaceType::InterProcessCommunication),
                "ipc",
            ),
            LinuxNamespaceType::Network => {
                (CLONE_NEWNET, Some(LinkNameSpaceType::Network), "network")
            }
            LinuxNamespaceType::Cgroup => (CLONE_NEWCGROUP, None, "cgroup"),
            other => return Err(invalid(format!("{other} namespaces are not supported"))),
        };
        if flag == CLONE_NEWUTS {
            has_uts = true;
        }
        match (ns.path(), link_type) {
            (None, _) if flag == CLONE_NEWCGROUP => unshare_cgroup = true,
            (None, _) => {
                clone_flags |= flag;
                new_net |= flag == CLONE_NEWNET;
            }
            (Some(path), Some(link_type)) => {
                let fd = rustix::fs::open(path, OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty())
                    .map_err(|e| {
                        SpawnError::Setup(format!(
                            "open {name} namespace {}: {}",
                            path.display(),
                            super::cgroup::errno_text(&e.into())
                        ))
                    })?;
                joins.push((fd, link_type, name));
            }
            (Some(path), None) if flag == CLONE_NEWPID => {
                let fd = rustix::fs::open(path, OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty())
                    .map_err(|e| {
                        SpawnError::Setup(format!(
                            "open pid namespace {}: {}",
                            path.display(),
                            super::cgroup::errno_text(&e.into())
                        ))
                    })?;
                join_pid = Some(fd);
            }
            (Some(_), None) => {
                return Err(invalid(format!(
                    "joining an existing {name} namespace is not supported"
                )));
            }
        }
    }
    if clone_flags & CLONE_NEWNS == 0 {
        return Err(invalid("a new mount namespace is required"));
    }

    let Rootfs::Overlay {
        lowers,
        upper,
        work,
        target,
        volatile,
    } = rootfs;
    let lowers = lowers.iter().map(cstring).collect::<Result<Vec<_>, _>>()?;

    // Mounts: the defaults in Docker's order (each replaced by a spec mount with the same
    // destination), then the spec's other mounts in their order.
    let spec_mounts: Vec<&Mount> = spec.mounts().iter().flatten().collect();
    let mut used = vec![false; spec_mounts.len()];
    let mut mounts = Vec::new();
    for (dest, typ, source, options) in DEFAULT_MOUNTS {
        let replacement = spec_mounts
            .iter()
            .position(|m| normalize_dest(m.destination()) == *dest);
        match replacement {
            Some(i) => {
                used[i] = true;
                mounts.push(mount_step(spec_mounts[i])?);
            }
            None => {
                let options: Vec<String> = options.iter().map(|o| o.to_string()).collect();
                mounts.push(step(dest, typ, Some(Path::new(source)), &options)?);
            }
        }
    }
    for (m, used) in spec_mounts.iter().zip(&used) {
        if !used {
            mounts.push(mount_step(m)?);
        }
    }

    let cgroup_mounts = layout
        .visible()
        .map(|h| {
            let mut flags = Vec::new();
            let mut strings = Vec::new();
            for o in &h.options {
                match o.split_once('=') {
                    Some((k, v)) => strings.push((cstring(k)?, cstring(v)?)),
                    None => flags.push(cstring(o)?),
                }
            }
            Ok(CgroupMount {
                name: cstring(h.name())?,
                v2: h.v2,
                flags,
                strings,
            })
        })
        .collect::<Result<Vec<_>, SpawnError>>()?;

    let mut devices = Vec::new();
    for d in linux.devices().iter().flatten() {
        let file_type = match d.typ() {
            LinuxDeviceType::C | LinuxDeviceType::U => rustix::fs::FileType::CharacterDevice,
            LinuxDeviceType::B => rustix::fs::FileType::BlockDevice,
            LinuxDeviceType::P => rustix::fs::FileType::Fifo,
            LinuxDeviceType::A => return Err(invalid("device type \"a\" cannot be created")),
        };
        devices.push(DeviceNode {
            path: cstring(normalize_dest(d.path()))?,
            file_type,
            mode: Mode::from_bits_truncate(d.file_mode().unwrap_or(0o666)),
            dev: rustix::fs::makedev(d.major() as u32, d.minor() as u32),
            uid: d.uid().unwrap_or(0),
            gid: d.gid().unwrap_or(0),
        });
    }

    let paths = |list: &Option<Vec<String>>| -> Result<Vec<CString>, SpawnError> {
        list.iter().flatten().map(cstring).collect()
    };

    let process = prepare_process(process, linux.seccomp().as_ref(), seccomp_cache)?;

    Ok(Prepared {
        clone_flags,
        unshare_cgroup,
        new_net,
        set_hostname: if has_uts {
            spec.hostname().as_ref().map(|h| h.as_bytes().to_vec())
        } else {
            None
        },
        joins,
        join_pid,
        lowers,
        upper: cstring(upper)?,
        work: cstring(work)?,
        target: cstring(target)?,
        volatile: *volatile,
        mounts,
        readonly_root: spec
            .root()
            .as_ref()
            .is_some_and(|r| r.readonly().unwrap_or(false)),
        cgroup_mounts,
        devices,
        sysctls: linux
            .sysctl()
            .iter()
            .flatten()
            .map(|(k, v)| {
                if k.contains('/') || k.split('.').any(|c| c.is_empty() || c == "..") {
                    return Err(invalid(format!("invalid sysctl name {k:?}")));
                }
                Ok((
                    cstring(format!("proc/sys/{}", k.replace('.', "/")))?,
                    cstring(v)?,
                ))
            })
            .collect::<Result<_, _>>()?,
        masked: paths(linux.masked_paths())?,
        readonly: paths(linux.readonly_paths())?,
        process,
    })
}

/// The process part of a spec: credentials, capabilities, limits, cwd and the program.
pub fn prepare_process(
    process: &oci_spec::runtime::Process,
    seccomp: Option<&oci_spec::runtime::LinuxSeccomp>,
    seccomp_cache: Option<&Path>,
) -> Result<ProcessPlan, SpawnError> {
    let mut rlimits = Vec::new();
    for r in process.rlimits().iter().flatten() {
        let resource = match r.typ() {
            PosixRlimitType::RlimitCpu => Resource::Cpu,
            PosixRlimitType::RlimitFsize => Resource::Fsize,
            PosixRlimitType::RlimitData => Resource::Data,
            PosixRlimitType::RlimitStack => Resource::Stack,
            PosixRlimitType::RlimitCore => Resource::Core,
            PosixRlimitType::RlimitRss => Resource::Rss,
            PosixRlimitType::RlimitNproc => Resource::Nproc,
            PosixRlimitType::RlimitNofile => Resource::Nofile,
            PosixRlimitType::RlimitMemlock => Resource::Memlock,
            PosixRlimitType::RlimitAs => Resource::As,
            PosixRlimitType::RlimitLocks => Resource::Locks,
            PosixRlimitType::RlimitSigpending => Resource::Sigpending,
            PosixRlimitType::RlimitMsgqueue => Resource::Msgqueue,
            PosixRlimitType::RlimitNice => Resource::Nice,
            PosixRlimitType::RlimitRtprio => Resource::Rtprio,
            PosixRlimitType::RlimitRttime => Resource::Rttime,
        };
        let limit = |n: u64| if n == u64::MAX { None } else { Some(n) };
        rlimits.push((
            resource,
            Rlimit {
                current: limit(r.soft()),
                maximum: limit(r.hard()),
            },
        ));
    }

    let caps = process.capabilities().as_ref();
    let set = |pick: fn(
        &oci_spec::runtime::LinuxCapabilities,
    ) -> &Option<oci_spec::runtime::Capabilities>| {
        caps.and_then(|c| pick(c).as_ref())
            .map(|s| capability_set(s.iter()))
            .unwrap_or(Ok(CapabilitySet::empty()))
    };
    let bounding = set(|c| c.bounding())?;
    let effective = set(|c| c.effective())?;
    let permitted = set(|c| c.permitted())?;
    let inheritable = set(|c| c.inheritable())?;
    let ambient = set(|c| c.ambient())?;
    let last_cap = fs::read_to_string("/proc/sys/kernel/cap_last_cap")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(40);

    let args = process
        .args()
        .as_ref()
        .filter(|a| !a.is_empty())
        .ok_or_else(|| invalid("no process args"))?;
    let program = args[0].clone();
    let env: Vec<String> = process.env().clone().unwrap_or_default();
    let path_var = env
        .iter()
        .rev()
        .find_map(|e| e.strip_prefix("PATH="))
        .unwrap_or(DEFAULT_PATH);
    let program_has_slash = program.contains('/');
    let candidates = if program_has_slash {
        vec![cstring(&program)?]
    } else if program.is_empty() {
        Vec::new()
    } else {
        path_var
            .split(':')
            .map(|dir| {
                let dir = if dir.is_empty() { "." } else { dir };
                cstring(format!("{}/{program}", dir.trim_end_matches('/')))
            })
            .collect::<Result<_, _>>()?
    };

    let user = process.user();
    let cwd = process.cwd();
    if !cwd.is_absolute() {
        return Err(invalid(format!("cwd {} is not absolute", cwd.display())));
    }

    Ok(ProcessPlan {
        rlimits,
        no_new_privs: process.no_new_privileges().unwrap_or(false),
        uid: user.uid(),
        gid: user.gid(),
        groups: user.additional_gids().clone().unwrap_or_default(),
        bounding,
        effective,
        permitted,
        inheritable,
        ambient,
        last_cap,
        cwd: cstring(cwd)?,
        program,
        candidates,
        program_has_slash,
        argv: args.iter().map(cstring).collect::<Result<_, _>>()?,
        env: env.iter().map(cstring).collect::<Result<_, _>>()?,
        seccomp: seccomp
            .map(|s| super::seccomp::compile_cached(s, seccomp_cache))
            .transpose()?,
    })
}

fn mount_step(m: &Mount) -> Result<MountStep, SpawnError> {
    let dest = normalize_dest(m.destination());
    let typ = m.typ().as_deref().unwrap_or("none");
    step(
        &dest,
        typ,
        m.source().as_deref(),
        m.options().as_deref().unwrap_or(&[]),
    )
}

/// One mount from its type and fstab-style options (flags become mount attributes, the
/// rest `fsconfig` keys).
fn step(
    dest: &str,
    typ: &str,
    source: Option<&Path>,
    options: &[String],
) -> Result<MountStep, SpawnError> {
    if !dest.starts_with('/') || dest == "/" {
        return Err(invalid(format!(
            "mount destination {dest:?} must be an absolute path below /"
        )));
    }
    let mut attr_set = 0;
    let mut attr_clr = 0;
    let mut bind = typ == "bind";
    let mut recursive = false;
    let mut copy_up = false;
    let mut mount_ns = None;
    let mut ns_root: Option<String> = None;
    let mut data = Vec::new();
    for o in options {
        match o.as_str() {
            "ro" => attr_set |= MOUNT_ATTR_RDONLY,
            "rw" => attr_clr |= MOUNT_ATTR_RDONLY,
            "nosuid" => attr_set |= MOUNT_ATTR_NOSUID,
            "suid" => attr_clr |= MOUNT_ATTR_NOSUID,
            "nodev" => attr_set |= MOUNT_ATTR_NODEV,
            "dev" => attr_clr |= MOUNT_ATTR_NODEV,
            "noexec" => attr_set |= MOUNT_ATTR_NOEXEC,
            "exec" => attr_clr |= MOUNT_ATTR_NOEXEC,
            "noatime" => attr_set = (attr_set & !MOUNT_ATTR_ATIME) | MOUNT_ATTR_NOATIME,
            "strictatime" => attr_set = (attr_set & !MOUNT_ATTR_ATIME) | MOUNT_ATTR_STRICTATIME,
            "relatime" => attr_set &= !MOUNT_ATTR_ATIME,
            "nodiratime" => attr_set |= MOUNT_ATTR_NODIRATIME,
            "bind" => bind = true,
            COPY_UP_OPTION => copy_up = true,
            o if o.starts_with(MOUNT_NS_OPTION) => {
                let path = &o[MOUNT_NS_OPTION.len()..];
                let fd = rustix::fs::open(path, OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty())
                    .map_err(|e| {
                        SpawnError::Setup(format!(
                            "open mount namespace {path}: {}",
                            super::cgroup::errno_text(&e.into())
                        ))
                    })?;
                mount_ns = Some(fd);
                // The source is a path in that namespace: looked at through its root.
                ns_root = path
                    .strip_suffix("/ns/mnt")
                    .map(|pid_dir| format!("{pid_dir}/root"));
            }
            "rbind" => {
                bind = true;
                recursive = true;
            }
            // Every mount is a slave of the host's already; Docker's tmpfs copy-up is not
            // done.
            "private" | "rprivate" | "slave" | "rslave" | "shared" | "rshared" | "unbindable"
            | "runbindable" | "tmpcopyup" | "defaults" => {}
            other => match other.split_once('=') {
                Some((k, v)) => data.push((cstring(k)?, Some(cstring(v)?))),
                None => data.push((cstring(other)?, None)),
            },
        }
    }
    let (source, file, populate_dev) = if bind {
        let source =
            source.ok_or_else(|| invalid(format!("bind mount on {dest} has no source")))?;
        let seen_at = match &ns_root {
            Some(root) => std::path::PathBuf::from(format!("{root}{}", source.display())),
            None => source.to_path_buf(),
        };
        let meta = fs::metadata(&seen_at).map_err(|e| {
            SpawnError::Setup(format!(
                "bind mount source {}: {}",
                source.display(),
                super::cgroup::errno_text(&e)
            ))
        })?;
        (
            MountSource::Bind {
                source: cstring(source)?,
                recursive,
                mount_ns,
            },
            !meta.is_dir(),
            false,
        )
    } else if typ == "cgroup" || typ == "cgroup2" {
        (MountSource::Cgroup, false, false)
    } else {
        (
            MountSource::Fs {
                fstype: cstring(typ)?,
                source: source.map(cstring).transpose()?,
                data,
            },
            false,
            dest == "/dev" && typ == "tmpfs",
        )
    };
    Ok(MountStep {
        dest: cstring(dest)?,
        source,
        attr_set,
        attr_clr,
        file,
        populate_dev,
        copy_up: copy_up && bind,
    })
}

/// The capability names of the spec as one set.
fn capability_set<'a>(
    caps: impl Iterator<Item = &'a Capability>,
) -> Result<CapabilitySet, SpawnError> {
    let mut set = CapabilitySet::empty();
    for cap in caps {
        let name = serde_json::to_value(cap)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        let bit = CAPABILITY_NAMES
            .iter()
            .position(|n| *n == name)
            .ok_or_else(|| invalid(format!("unknown capability {name:?}")))?;
        set |= CapabilitySet::from_bits_retain(1 << bit);
    }
    Ok(set)
}

/// Capability names by number (`<linux/capability.h>`).
pub const CAPABILITY_NAMES: [&str; 41] = [
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn destinations_are_normalized() {
        assert_eq!(normalize_dest(Path::new("/etc//hosts/")), "/etc/hosts");
        assert_eq!(normalize_dest(Path::new("dev/./shm")), "/dev/shm");
    }

    #[test]
    fn options_split_into_attributes_and_fsconfig_keys() {
        let opts: Vec<String> = ["ro", "nosuid", "mode=755", "newinstance"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let s = step("/x", "tmpfs", Some(Path::new("tmpfs")), &opts).unwrap();
        assert_eq!(s.attr_set, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID);
        let MountSource::Fs { data, .. } = s.source else {
            panic!("not an fs mount")
        };
        assert_eq!(data.len(), 2);
        assert_eq!(data[1], (c"newinstance".to_owned(), None));
    }

    #[test]
    fn docker_default_capabilities_are_a80425fb() {
        let caps: Vec<Capability> = super::super::DEFAULT_CAPABILITIES.to_vec();
        assert_eq!(capability_set(caps.iter()).unwrap().bits(), 0xa804_25fb);
    }
}
