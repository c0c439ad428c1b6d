//! The container's init between clone and exec: wait for the parent to put it in its
//! cgroup, then build the container around itself (namespaces, rootfs, mounts, pivot_root,
//! masked paths, hostname, limits, credentials, capabilities) and exec the program.
//! Failures go to the parent over a close-on-exec pipe as one byte of kind and a message.

use std::ffi::{CStr, CString, c_char};
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use rustix::fs::{FileType, Mode, OFlags};
use rustix::io::Errno;
use rustix::mount::{
    FsMountFlags, FsOpenFlags, MountAttrFlags, MountPropagationFlags, MoveMountFlags,
    OpenTreeFlags, UnmountFlags,
};
use rustix::process::{Gid, Uid};
use rustix::thread::{CapabilitySet, CapabilitySets};

use super::cgroup::errno_text;
use super::console::Console;
use super::plan::{
    MOUNT_ATTR_NODEV, MOUNT_ATTR_NOEXEC, MOUNT_ATTR_NOSUID, MOUNT_ATTR_RDONLY, MountSource,
    MountStep, Prepared, ProcessPlan,
};
use super::sys;

/// What the parent turns a child's failure into.
pub const KIND_SETUP: u8 = 0;
pub const KIND_NOT_IN_PATH: u8 = 1;
pub const KIND_NO_SUCH_FILE: u8 = 2;
pub const KIND_PERMISSION: u8 = 3;

pub(super) struct Failure {
    pub(super) kind: u8,
    pub(super) message: String,
}

pub(super) type Step<T> = Result<T, Failure>;

/// Wraps an error with what was being done (built only on failure).
pub(super) trait Context<T> {
    fn what(self, what: impl FnOnce() -> String) -> Step<T>;
}

impl<T, E: Into<io::Error>> Context<T> for Result<T, E> {
    fn what(self, what: impl FnOnce() -> String) -> Step<T> {
        self.map_err(|e| Failure {
            kind: KIND_SETUP,
            message: format!("{}: {}", what(), errno_text(&e.into())),
        })
    }
}

fn lossy(s: &CStr) -> std::borrow::Cow<'_, str> {
    s.to_string_lossy()
}

/// Runs in the child; the return value is its exit code when it fails before exec.
pub fn run(
    p: &Prepared,
    stdio: [BorrowedFd<'_>; 3],
    console: Option<&Console>,
    go: OwnedFd,
    report: OwnedFd,
) -> i32 {
    let failure = match setup(p, stdio, console, go) {
        Ok(never) => match never {},
        Err(f) => f,
    };
    send_failure(&report, &failure);
    1
}

/// One byte of kind and the message, on the close-on-exec report pipe.
pub(super) fn send_failure(report: &OwnedFd, failure: &Failure) {
    let mut msg = Vec::with_capacity(failure.message.len() + 1);
    msg.push(failure.kind);
    msg.extend_from_slice(failure.message.as_bytes());
    let _ = rustix::io::write(report, &msg);
}

fn setup(
    p: &Prepared,
    stdio: [BorrowedFd<'_>; 3],
    console: Option<&Console>,
    go: OwnedFd,
) -> Step<std::convert::Infallible> {
    // The parent is single-threaded, so the death signal follows the supervisor itself.
    // (getppid() is 0 in a new pid namespace; the go pipe's EOF tells a dead parent.)
    rustix::process::set_parent_process_death_signal(Some(rustix::process::Signal::KILL))
        .what(|| "set parent death signal".into())?;
    // Not dumpable until exec: nothing in the container may ptrace or open /proc/<pid>/
    // of this process while it still runs the host's binary.
    rustix::process::set_dumpable_behavior(rustix::process::DumpableBehavior::NotDumpable)
        .what(|| "set not dumpable".into())?;
    sys::reset_signals().what(|| "reset signals".into())?;
    // berth's own init takes the signals it forwards with sigwait once it runs; blocked
    // from here (the mask survives exec), a SIGTERM sent the moment the container starts
    // waits for it instead of being dropped (a PID 1 without a handler ignores it).
    if p.process.program == crate::container::spec::INIT_PATH {
        sys::SignalSet::forwardable()
            .block()
            .what(|| "block the init's signals".into())?;
    }

    let mut byte = [0u8; 1];
    match rustix::io::read(&go, &mut byte) {
        Ok(1) => {}
        Ok(_) => sys::exit_now(1),
        Err(e) => return Err(e).what(|| "wait for the parent".into()),
    }
    drop(go);

    if p.unshare_cgroup {
        sys::unshare_cgroup_namespace().what(|| "unshare cgroup namespace".into())?;
    }
    for (fd, typ, name) in &p.joins {
        rustix::thread::move_into_link_name_space(fd.as_fd(), Some(*typ))
            .what(|| format!("join {name} namespace"))?;
    }
    if p.new_net {
        sys::loopback_up().what(|| "bring lo up".into())?;
    }
    rustix::process::umask(Mode::empty());

    // Nothing mounted from here on propagates to the host.
    rustix::mount::mount_change(
        c"/",
        MountPropagationFlags::DOWNSTREAM | MountPropagationFlags::REC,
    )
    .what(|| "make / rslave".into())?;

    let root = mount_rootfs(p)?;
    for m in &p.mounts {
        mount_one(p, root.as_fd(), m)?;
    }
    for d in &p.devices {
        make_device(root.as_fd(), d)?;
    }
    // Created now, as Docker does, in case the rootfs is about to become read-only.
    drop(
        resolve_or_create(root.as_fd(), p.process.cwd.as_bytes(), false)
            .what(|| format!("working directory {}", lossy(&p.process.cwd)))?,
    );
    if p.readonly_root {
        sys::mount_setattr(root.as_fd(), false, MOUNT_ATTR_RDONLY, 0)
            .what(|| "make the rootfs read-only".into())?;
    }

    rustix::process::fchdir(&root).what(|| "chdir to rootfs".into())?;
    rustix::process::pivot_root(c".", c".").what(|| "pivot_root".into())?;
    rustix::mount::unmount(c".", UnmountFlags::DETACH).what(|| "detach old root".into())?;
    rustix::process::chdir(c"/").what(|| "chdir /".into())?;
    drop(root);
    let root = rustix::fs::open(
        c"/",
        OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .what(|| "open new root".into())?;

    for (path, value) in &p.sysctls {
        let what = || format!("sysctl {}", lossy(path));
        let fd =
            crate::in_root::open_in_root(&root, path.as_c_str(), OFlags::WRONLY | OFlags::CLOEXEC)
                .what(what)?;
        rustix::io::write(&fd, value.as_bytes()).what(what)?;
    }
    for path in &p.masked {
        mask(root.as_fd(), path)?;
    }
    for path in &p.readonly {
        make_readonly(root.as_fd(), path)?;
    }
    if let Some(name) = &p.set_hostname {
        rustix::system::sethostname(name).what(|| "sethostname".into())?;
    }
    for (resource, limit) in &p.process.rlimits {
        rustix::process::setrlimit(*resource, *limit).what(|| format!("setrlimit {resource:?}"))?;
    }

    // The working directory is created like Docker does, and entered through a path
    // resolved inside the new root (CVE-2024-21626).
    let cwd = resolve_or_create(root.as_fd(), p.process.cwd.as_bytes(), false)
        .what(|| format!("working directory {}", lossy(&p.process.cwd)))?;
    rustix::process::fchdir(&cwd).what(|| format!("chdir to {}", lossy(&p.process.cwd)))?;
    drop(cwd);
    drop(root);

    install_io(stdio, console, p.process.uid)?;
    rustix::process::umask(Mode::from_bits_retain(0o022));
    lock_down(&p.process)?;
    // Only 0, 1 and 2 survive the exec.
    sys::cloexec_from(3).what(|| "close_range".into())?;
    Err(exec(&p.process))
}

/// Mounts the overlay (only in this mount namespace) on the target and returns its root.
fn mount_rootfs(p: &Prepared) -> Step<OwnedFd> {
    let mut lowers: Vec<&CStr> = p.lowers.iter().map(|l| l.as_c_str()).collect();
    let empty;
    if lowers.is_empty() {
        // overlayfs needs a lower layer: an empty directory in a tmpfs that the overlay
        // then covers.
        let tmp = new_fs(
            c"tmpfs",
            Some(c"tmpfs"),
            &[(c"mode", Some(c"755"))],
            0,
            || "mount tmpfs for an empty lower layer".into(),
        )?;
        move_to_path(tmp.as_fd(), &p.target)
            .what(|| "mount tmpfs for an empty lower layer".into())?;
        rustix::fs::mkdirat(&tmp, c"empty", Mode::from_bits_retain(0o755))
            .what(|| "create the empty lower layer".into())?;
        let mut path = p.target.as_bytes().to_vec();
        path.extend_from_slice(b"/empty");
        empty = CString::new(path).unwrap_or_default();
        lowers.push(&empty);
    }
    let what = || format!("mount overlay on {}", lossy(&p.target));
    let fs = rustix::mount::fsopen(c"overlay", FsOpenFlags::FSOPEN_CLOEXEC).what(what)?;
    let configured = (|| {
        for lower in &lowers {
            rustix::mount::fsconfig_set_string(&fs, c"lowerdir+", *lower)?;
        }
        rustix::mount::fsconfig_set_string(&fs, c"upperdir", p.upper.as_c_str())?;
        rustix::mount::fsconfig_set_string(&fs, c"workdir", p.work.as_c_str())?;
        // As Docker: no index, so an upper dir can be mounted again over other lowers.
        let _ = rustix::mount::fsconfig_set_string(&fs, c"index", c"off");
        if p.volatile {
            rustix::mount::fsconfig_set_flag(&fs, c"volatile")?;
        }
        rustix::mount::fsconfig_create(&fs)
    })();
    if let Err(e) = configured {
        return Err(fs_failure(&fs, e, what()));
    }
    let mnt = rustix::mount::fsmount(&fs, FsMountFlags::FSMOUNT_CLOEXEC, MountAttrFlags::empty())
        .what(what)?;
    move_to_path(mnt.as_fd(), &p.target).what(what)?;
    Ok(mnt)
}

/// A failed `fsconfig` with the kernel's own message from the context when it left one.
fn fs_failure(fs: &OwnedFd, e: Errno, what: String) -> Failure {
    let mut buf = [0u8; 256];
    let detail = match rustix::io::read(fs, &mut buf) {
        Ok(n) if n > 2 => format!(" ({})", String::from_utf8_lossy(&buf[2..n]).trim()),
        _ => String::new(),
    };
    Failure {
        kind: KIND_SETUP,
        message: format!("{what}: {}{detail}", errno_text(&e.into())),
    }
}

fn move_to_path(mnt: BorrowedFd<'_>, target: &CStr) -> rustix::io::Result<()> {
    rustix::mount::move_mount(
        mnt,
        c"",
        rustix::fs::CWD,
        target,
        MoveMountFlags::MOVE_MOUNT_F_EMPTY_PATH,
    )
}

/// Attaches a detached mount onto an fd resolved inside the rootfs (never a path that
/// could be swapped for a symlink in between: CVE-2021-30465).
fn move_to_fd(mnt: BorrowedFd<'_>, target: BorrowedFd<'_>) -> rustix::io::Result<()> {
    rustix::mount::move_mount(
        mnt,
        c"",
        target,
        c"",
        MoveMountFlags::MOVE_MOUNT_F_EMPTY_PATH | MoveMountFlags::MOVE_MOUNT_T_EMPTY_PATH,
    )
}

/// A new detached filesystem mount.
fn new_fs(
    fstype: &CStr,
    source: Option<&CStr>,
    data: &[(&CStr, Option<&CStr>)],
    attrs: u64,
    what: impl Fn() -> String,
) -> Step<OwnedFd> {
    let fs = rustix::mount::fsopen(fstype, FsOpenFlags::FSOPEN_CLOEXEC).what(&what)?;
    let configured = (|| {
        if let Some(source) = source {
            rustix::mount::fsconfig_set_string(&fs, c"source", source)?;
        }
        for (key, value) in data {
            match value {
                Some(v) => rustix::mount::fsconfig_set_string(&fs, *key, *v)?,
                None => rustix::mount::fsconfig_set_flag(&fs, *key)?,
            }
        }
        rustix::mount::fsconfig_create(&fs)
    })();
    if let Err(e) = configured {
        return Err(fs_failure(&fs, e, what()));
    }
    rustix::mount::fsmount(
        &fs,
        FsMountFlags::FSMOUNT_CLOEXEC,
        MountAttrFlags::from_bits_retain(attrs as u32),
    )
    .what(&what)
}

/// `openat2(root, path, O_PATH, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)`: symlinks,
/// `..` and absolute links all stay inside `root` (retried when a host mount races).
fn resolve(root: BorrowedFd<'_>, path: &[u8]) -> rustix::io::Result<OwnedFd> {
    crate::in_root::open_in_root(root, path, OFlags::PATH | OFlags::CLOEXEC)
}

fn split_last(path: &[u8]) -> (&[u8], &[u8]) {
    match path.iter().rposition(|&c| c == b'/') {
        Some(0) => (b"/", &path[1..]),
        Some(i) => (&path[..i], &path[i + 1..]),
        None => (b"/", path),
    }
}

/// Resolves `path` inside `root`, creating what is missing (directories, and the last
/// component as a file when `file`). A dangling symlink, last or on the way, is followed
/// inside the root; at most 40 of them.
fn resolve_or_create(root: BorrowedFd<'_>, path: &[u8], file: bool) -> rustix::io::Result<OwnedFd> {
    let mut budget = 40;
    create_in(root, path, file, &mut budget)
}

fn create_in(
    root: BorrowedFd<'_>,
    path: &[u8],
    file: bool,
    budget: &mut u32,
) -> rustix::io::Result<OwnedFd> {
    let mut path = path.to_vec();
    loop {
        match resolve(root, &path) {
            Err(Errno::NOENT) => {}
            other => return other,
        }
        if *budget == 0 {
            return Err(Errno::LOOP);
        }
        *budget -= 1;
        let (parent, name) = split_last(&path);
        if name.is_empty() {
            return Err(Errno::NOENT);
        }
        let dir = create_in(root, parent, false, budget)?;
        let created = if file {
            rustix::fs::openat(
                &dir,
                name,
                OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::WRONLY | OFlags::CLOEXEC,
                Mode::from_bits_retain(0o644),
            )
            .map(drop)
        } else {
            rustix::fs::mkdirat(&dir, name, Mode::from_bits_retain(0o755))
        };
        match created {
            Ok(()) => {}
            // Something is there that does not resolve: a dangling symlink.
            Err(Errno::EXIST) => {
                let target = rustix::fs::readlinkat(&dir, name, Vec::new())?;
                let target = target.as_bytes();
                path = if target.starts_with(b"/") {
                    target.to_vec()
                } else {
                    let mut p = parent.to_vec();
                    p.push(b'/');
                    p.extend_from_slice(target);
                    p
                };
            }
            Err(e) => return Err(e),
        }
    }
}

fn mount_one(p: &Prepared, root: BorrowedFd<'_>, m: &MountStep) -> Step<()> {
    let dest = lossy(&m.dest);
    let target = resolve_or_create(root, m.dest.as_bytes(), m.file)
        .what(|| format!("mount destination {dest}"))?;
    match &m.source {
        MountSource::Fs {
            fstype,
            source,
            data,
        } => {
            let data: Vec<(&CStr, Option<&CStr>)> = data
                .iter()
                .map(|(k, v)| (k.as_c_str(), v.as_deref()))
                .collect();
            let what = || format!("mount {} on {dest}", lossy(fstype));
            let mnt = new_fs(fstype, source.as_deref(), &data, m.attr_set, what)?;
            move_to_fd(mnt.as_fd(), target.as_fd()).what(what)?;
            if m.populate_dev {
                populate_dev(mnt.as_fd())?;
            }
        }
        MountSource::Bind {
            source,
            recursive,
            mount_ns,
        } => {
            if m.copy_up {
                super::copy_up::copy_into_empty(root, &m.dest, source)
                    .what(|| format!("fill the volume at {dest} from the image"))?;
            }
            let what = || format!("bind mount {} on {dest}", lossy(source));
            let mut flags = OpenTreeFlags::OPEN_TREE_CLONE | OpenTreeFlags::OPEN_TREE_CLOEXEC;
            if *recursive {
                flags |= OpenTreeFlags::AT_RECURSIVE;
            }
            let tree = match mount_ns {
                None => rustix::mount::open_tree(rustix::fs::CWD, source.as_c_str(), flags)
                    .what(what)?,
                // A mount of another namespace can only be cloned from inside it: visit it,
                // clone, come back (single-threaded, before pivot_root, so nothing else
                // sees the visit), and attach the detached copy here.
                Some(ns) => {
                    let own = rustix::fs::open(
                        c"/proc/self/ns/mnt",
                        OFlags::RDONLY | OFlags::CLOEXEC,
                        Mode::empty(),
                    )
                    .what(what)?;
                    rustix::thread::move_into_link_name_space(
                        ns.as_fd(),
                        Some(rustix::thread::LinkNameSpaceType::Mount),
                    )
                    .what(what)?;
                    let cloned =
                        rustix::mount::open_tree(rustix::fs::CWD, source.as_c_str(), flags);
                    rustix::thread::move_into_link_name_space(
                        own.as_fd(),
                        Some(rustix::thread::LinkNameSpaceType::Mount),
                    )
                    .what(|| "return to the container's mount namespace".into())?;
                    cloned.what(what)?
                }
            };
            if m.attr_set != 0 || m.attr_clr != 0 {
                sys::mount_setattr(tree.as_fd(), *recursive, m.attr_set, m.attr_clr).what(what)?;
            }
            move_to_fd(tree.as_fd(), target.as_fd()).what(what)?;
        }
        MountSource::Cgroup => mount_cgroups(p, target.as_fd(), m.attr_set)?,
    }
    Ok(())
}

/// `/sys/fs/cgroup`: v2 is one read-only cgroup2 mount; v1 is a tmpfs with every hierarchy
/// mounted read-only in it, the tmpfs itself made read-only at the end. The cgroup
/// namespace makes the container's own cgroup the root of each.
fn mount_cgroups(p: &Prepared, target: BorrowedFd<'_>, attrs: u64) -> Step<()> {
    let attrs = attrs | MOUNT_ATTR_RDONLY;
    if let [only] = p.cgroup_mounts.as_slice()
        && only.v2
    {
        let what = || "mount cgroup2 on /sys/fs/cgroup".to_string();
        let mnt = new_fs(c"cgroup2", Some(c"cgroup2"), &[], attrs, what)?;
        return move_to_fd(mnt.as_fd(), target).what(what);
    }
    let tmp = new_fs(
        c"tmpfs",
        Some(c"tmpfs"),
        &[(c"mode", Some(c"755"))],
        MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC,
        || "mount tmpfs on /sys/fs/cgroup".into(),
    )?;
    move_to_fd(tmp.as_fd(), target).what(|| "mount tmpfs on /sys/fs/cgroup".into())?;
    for h in &p.cgroup_mounts {
        let what = || format!("mount cgroup {} on /sys/fs/cgroup", lossy(&h.name));
        rustix::fs::mkdirat(&tmp, h.name.as_c_str(), Mode::from_bits_retain(0o755)).what(what)?;
        let mut data: Vec<(&CStr, Option<&CStr>)> =
            h.flags.iter().map(|f| (f.as_c_str(), None)).collect();
        data.extend(
            h.strings
                .iter()
                .map(|(k, v)| (k.as_c_str(), Some(v.as_c_str()))),
        );
        let mnt = new_fs(c"cgroup", Some(c"cgroup"), &data, attrs, what)?;
        let dir = rustix::fs::openat(
            &tmp,
            h.name.as_c_str(),
            OFlags::PATH | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .what(what)?;
        move_to_fd(mnt.as_fd(), dir.as_fd()).what(what)?;
    }
    sys::mount_setattr(tmp.as_fd(), false, MOUNT_ATTR_RDONLY, 0)
        .what(|| "make /sys/fs/cgroup read-only".into())
}

/// The standard nodes and links of Docker's `/dev`.
fn populate_dev(dev: BorrowedFd<'_>) -> Step<()> {
    for (name, major, minor) in [
        (c"null", 1, 3),
        (c"zero", 1, 5),
        (c"full", 1, 7),
        (c"random", 1, 8),
        (c"urandom", 1, 9),
        (c"tty", 5, 0),
    ] {
        rustix::fs::mknodat(
            dev,
            name,
            FileType::CharacterDevice,
            Mode::from_bits_retain(0o666),
            rustix::fs::makedev(major, minor),
        )
        .what(|| format!("mknod /dev/{}", lossy(name)))?;
    }
    for (name, target) in [
        (c"fd", c"/proc/self/fd"),
        (c"stdin", c"/proc/self/fd/0"),
        (c"stdout", c"/proc/self/fd/1"),
        (c"stderr", c"/proc/self/fd/2"),
        (c"core", c"/proc/kcore"),
        (c"ptmx", c"pts/ptmx"),
    ] {
        rustix::fs::symlinkat(target, dev, name)
            .what(|| format!("symlink /dev/{}", lossy(name)))?;
    }
    Ok(())
}

fn make_device(root: BorrowedFd<'_>, d: &super::plan::DeviceNode) -> Step<()> {
    let what = || format!("create device {}", lossy(&d.path));
    let (parent, name) = split_last(d.path.as_bytes());
    let dir = resolve_or_create(root, parent, false).what(what)?;
    match rustix::fs::mknodat(&dir, name, d.file_type, d.mode, d.dev) {
        Ok(()) | Err(Errno::EXIST) => {}
        Err(e) => return Err(e).what(what),
    }
    rustix::fs::chownat(
        &dir,
        name,
        Some(Uid::from_raw(d.uid)),
        Some(Gid::from_raw(d.gid)),
        rustix::fs::AtFlags::SYMLINK_NOFOLLOW,
    )
    .what(what)
}

/// Masks a path: `/dev/null` over a file, an empty read-only tmpfs over a directory.
fn mask(root: BorrowedFd<'_>, path: &CString) -> Step<()> {
    let what = || format!("mask {}", lossy(path));
    let target = match resolve(root, path.as_bytes()) {
        Ok(fd) => fd,
        Err(Errno::NOENT) => return Ok(()),
        Err(e) => return Err(e).what(what),
    };
    let stat = rustix::fs::fstat(&target).what(what)?;
    let mnt = if FileType::from_raw_mode(stat.st_mode) == FileType::Directory {
        new_fs(c"tmpfs", Some(c"tmpfs"), &[], MOUNT_ATTR_RDONLY, what)?
    } else {
        rustix::mount::open_tree(
            rustix::fs::CWD,
            c"/dev/null",
            OpenTreeFlags::OPEN_TREE_CLONE | OpenTreeFlags::OPEN_TREE_CLOEXEC,
        )
        .what(what)?
    };
    move_to_fd(mnt.as_fd(), target.as_fd()).what(what)
}

/// Read-only paths: a recursive read-only copy of the mount tree mounted over itself.
fn make_readonly(root: BorrowedFd<'_>, path: &CString) -> Step<()> {
    let what = || format!("make {} read-only", lossy(path));
    let target = match resolve(root, path.as_bytes()) {
        Ok(fd) => fd,
        Err(Errno::NOENT) => return Ok(()),
        Err(e) => return Err(e).what(what),
    };
    let tree = rustix::mount::open_tree(
        &target,
        c"",
        OpenTreeFlags::OPEN_TREE_CLONE
            | OpenTreeFlags::OPEN_TREE_CLOEXEC
            | OpenTreeFlags::AT_RECURSIVE
            | OpenTreeFlags::AT_EMPTY_PATH,
    )
    .what(what)?;
    sys::mount_setattr(tree.as_fd(), true, MOUNT_ATTR_RDONLY, 0).what(what)?;
    move_to_fd(tree.as_fd(), target.as_fd()).what(what)
}

/// 0, 1 and 2 of the process: the given fds, or the terminal it makes in the container.
pub(super) fn install_io(
    stdio: [BorrowedFd<'_>; 3],
    console: Option<&Console>,
    uid: u32,
) -> Step<()> {
    match console {
        None => sys::install_stdio(stdio).what(|| "set up stdio".into()),
        Some(console) => {
            let slave = super::console::open_in_container(console, uid)
                .what(|| "set up the terminal".into())?;
            let fd = slave.as_fd();
            sys::install_stdio([fd, fd, fd]).what(|| "set up the terminal as stdio".into())
        }
    }
}

/// Credentials, `no_new_privs` and the seccomp filter, in runc's order: with
/// `no_new_privs` the filter goes in last, so it need not allow the credential calls;
/// without it the kernel wants CAP_SYS_ADMIN to load a filter, so it goes in first, while
/// the process still has every capability (the default profile allows what follows).
pub(super) fn lock_down(p: &ProcessPlan) -> Step<()> {
    if !p.no_new_privs {
        load_seccomp(p)?;
    }
    credentials(p)?;
    if p.no_new_privs {
        rustix::thread::set_no_new_privs(true).what(|| "set no_new_privs".into())?;
        load_seccomp(p)?;
    }
    Ok(())
}

fn load_seccomp(p: &ProcessPlan) -> Step<()> {
    match &p.seccomp {
        Some(f) => {
            sys::load_seccomp_filter(&f.program, f.flags).what(|| "load the seccomp filter".into())
        }
        None => Ok(()),
    }
}

/// Bounding set, then groups and ids (keeping the permitted set across the uid change),
/// then the spec's effective, permitted, inheritable and ambient sets.
pub(super) fn credentials(p: &ProcessPlan) -> Step<()> {
    for cap in 0..=p.last_cap.min(63) {
        let bit = CapabilitySet::from_bits_retain(1 << cap);
        if !p.bounding.contains(bit) {
            match rustix::thread::remove_capability_from_bounding_set(bit) {
                Ok(()) | Err(Errno::INVAL) => {}
                Err(e) => {
                    return Err(e).what(|| format!("drop capability {cap} from the bounding set"));
                }
            }
        }
    }
    rustix::thread::set_keep_capabilities(true).what(|| "keep capabilities".into())?;
    let groups: Vec<Gid> = p.groups.iter().map(|g| Gid::from_raw(*g)).collect();
    rustix::thread::set_thread_groups(&groups).what(|| "setgroups".into())?;
    let gid = Gid::from_raw(p.gid);
    rustix::thread::set_thread_res_gid(gid, gid, gid).what(|| format!("setresgid {}", p.gid))?;
    let death_signal = rustix::process::parent_process_death_signal()
        .what(|| "read the parent death signal".into())?;
    let uid = Uid::from_raw(p.uid);
    rustix::thread::set_thread_res_uid(uid, uid, uid).what(|| format!("setresuid {}", p.uid))?;
    // A change of the effective ids clears the parent death signal: restore it, so that
    // a container of a non-root user also dies with its supervisor (as runc does).
    rustix::process::set_parent_process_death_signal(death_signal)
        .what(|| "restore the parent death signal".into())?;
    rustix::thread::set_keep_capabilities(false).what(|| "keep capabilities".into())?;
    rustix::thread::set_capabilities(
        None,
        CapabilitySets {
            effective: p.effective,
            permitted: p.permitted,
            inheritable: p.inheritable,
        },
    )
    .what(|| "set capabilities".into())?;
    rustix::thread::clear_ambient_capability_set().what(|| "clear ambient capabilities".into())?;
    for cap in 0..64 {
        let bit = CapabilitySet::from_bits_retain(1 << cap);
        if p.ambient.contains(bit) {
            rustix::thread::configure_capability_in_ambient_set(bit, true)
                .what(|| format!("raise ambient capability {cap}"))?;
        }
    }
    Ok(())
}

/// execve of each candidate in turn, as Go's exec.LookPath then execve would: a missing
/// file tries the next `$PATH` entry, a permission error is remembered.
pub(super) fn exec(p: &ProcessPlan) -> Failure {
    let mut argv: Vec<*const c_char> = p.argv.iter().map(|a| a.as_ptr()).collect();
    argv.push(std::ptr::null());
    let mut envp: Vec<*const c_char> = p.env.iter().map(|e| e.as_ptr()).collect();
    envp.push(std::ptr::null());
    let mut denied = false;
    for candidate in &p.candidates {
        let err = sys::execve(candidate, &argv, &envp);
        let errno = Errno::from_io_error(&err).unwrap_or(Errno::IO);
        match errno {
            Errno::NOENT | Errno::NOTDIR => {}
            Errno::ACCESS => denied = true,
            _ => {
                return Failure {
                    kind: KIND_SETUP,
                    message: format!("exec {}: {}", lossy(candidate), errno_text(&err)),
                };
            }
        }
    }
    let kind = if denied {
        KIND_PERMISSION
    } else if p.program_has_slash {
        KIND_NO_SUCH_FILE
    } else {
        KIND_NOT_IN_PATH
    };
    Failure {
        kind,
        message: p.program.clone(),
    }
}
