//! Filling a new volume from the image (Docker's copy of the content at the mount point
//! into an empty volume): run by the container's init before it mounts the volume, while
//! the rootfs is mounted and the host's paths are still reachable. The image side is
//! resolved inside the rootfs (`openat2(RESOLVE_IN_ROOT)`) and walked with fds, never
//! following a symlink; the volume side is written with `*at` calls that never follow one
//! either (`O_EXCL|O_NOFOLLOW`, `mkdirat`, `symlinkat`, `mknodat`). Owners, modes, times
//! and special files are kept.

use std::ffi::CStr;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use rustix::fs::{AtFlags, Dir, FileType, Mode, OFlags, Timestamps};
use rustix::io::Errno;

/// Bound on the depth of the copied tree (each level holds two fds).
const MAX_DEPTH: usize = 128;

/// Copies the content of `dest` (inside `root`) into the directory `volume`, if `volume`
/// is empty and `dest` is a directory in the image; otherwise does nothing.
pub fn copy_into_empty(root: BorrowedFd<'_>, dest: &CStr, volume: &CStr) -> rustix::io::Result<()> {
    let target = rustix::fs::open(
        volume,
        OFlags::DIRECTORY | OFlags::RDONLY | OFlags::CLOEXEC,
        Mode::empty(),
    )?;
    if !is_empty(target.as_fd())? {
        return Ok(());
    }
    let flags = OFlags::DIRECTORY | OFlags::RDONLY | OFlags::CLOEXEC;
    let source = match crate::in_root::open_in_root(root, dest, flags) {
        Ok(fd) => fd,
        // Not in the image (or not a directory there): nothing to copy.
        Err(Errno::NOENT | Errno::NOTDIR) => return Ok(()),
        Err(e) => return Err(e),
    };
    copy_dir(source.as_fd(), target.as_fd(), 0)?;
    // The volume's root takes the owner and mode of the image's directory (Docker's).
    let st = rustix::fs::fstat(&source)?;
    copy_meta_fd(&target, &st)
}

fn is_empty(dir: BorrowedFd<'_>) -> rustix::io::Result<bool> {
    for entry in Dir::read_from(dir)? {
        let entry = entry?;
        let name = entry.file_name().to_bytes();
        if name != b"." && name != b".." {
            return Ok(false);
        }
    }
    Ok(true)
}

fn copy_dir(from: BorrowedFd<'_>, to: BorrowedFd<'_>, depth: usize) -> rustix::io::Result<()> {
    if depth > MAX_DEPTH {
        return Err(Errno::LOOP);
    }
    for entry in Dir::read_from(from)? {
        let entry = entry?;
        let name = entry.file_name();
        if matches!(name.to_bytes(), b"." | b"..") {
            continue;
        }
        copy_entry(from, to, name, depth)?;
    }
    Ok(())
}

fn copy_entry(
    from: BorrowedFd<'_>,
    to: BorrowedFd<'_>,
    name: &CStr,
    depth: usize,
) -> rustix::io::Result<()> {
    let st = rustix::fs::statat(from, name, AtFlags::SYMLINK_NOFOLLOW)?;
    let mode = Mode::from_raw_mode(st.st_mode);
    match FileType::from_raw_mode(st.st_mode) {
        FileType::Directory => {
            rustix::fs::mkdirat(to, name, Mode::from_raw_mode(0o700))?;
            let open = OFlags::DIRECTORY | OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
            let src = rustix::fs::openat(from, name, open, Mode::empty())?;
            let dst = rustix::fs::openat(to, name, open, Mode::empty())?;
            copy_dir(src.as_fd(), dst.as_fd(), depth + 1)?;
            copy_meta_fd(&dst, &st)?;
        }
        FileType::RegularFile => {
            let src = rustix::fs::openat(
                from,
                name,
                OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                Mode::empty(),
            )?;
            let dst: OwnedFd = rustix::fs::openat(
                to,
                name,
                OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                Mode::from_raw_mode(0o600),
            )?;
            let mut reader = std::fs::File::from(src);
            let mut writer = std::fs::File::from(dst);
            std::io::copy(&mut reader, &mut writer)
                .map_err(|e| Errno::from_io_error(&e).unwrap_or(Errno::IO))?;
            copy_meta_fd(&writer, &st)?;
        }
        FileType::Symlink => {
            let target = rustix::fs::readlinkat(from, name, Vec::new())?;
            rustix::fs::symlinkat(target.as_c_str(), to, name)?;
            chown_at(to, name, &st)?;
            set_times_at(to, name, &st, AtFlags::SYMLINK_NOFOLLOW)?;
        }
        kind @ (FileType::CharacterDevice
        | FileType::BlockDevice
        | FileType::Fifo
        | FileType::Socket) => {
            rustix::fs::mknodat(to, name, kind, mode, st.st_rdev)?;
            chown_at(to, name, &st)?;
            rustix::fs::chmodat(to, name, mode, AtFlags::empty())?;
            set_times_at(to, name, &st, AtFlags::SYMLINK_NOFOLLOW)?;
        }
        FileType::Unknown => {}
    }
    Ok(())
}

/// The owner of `st` on `name` in `dir`, without following a symlink.
fn chown_at(dir: BorrowedFd<'_>, name: &CStr, st: &rustix::fs::Stat) -> rustix::io::Result<()> {
    rustix::fs::chownat(
        dir,
        name,
        Some(rustix::fs::Uid::from_raw(st.st_uid)),
        Some(rustix::fs::Gid::from_raw(st.st_gid)),
        AtFlags::SYMLINK_NOFOLLOW,
    )
}

/// Owner, then mode (a chown clears set-id bits), then times.
fn copy_meta_fd(fd: impl AsFd, st: &rustix::fs::Stat) -> rustix::io::Result<()> {
    rustix::fs::fchown(
        &fd,
        Some(rustix::fs::Uid::from_raw(st.st_uid)),
        Some(rustix::fs::Gid::from_raw(st.st_gid)),
    )?;
    rustix::fs::fchmod(&fd, Mode::from_raw_mode(st.st_mode & 0o7777))?;
    rustix::fs::futimens(&fd, &timestamps(st))
}

fn set_times_at(
    dir: BorrowedFd<'_>,
    name: &CStr,
    st: &rustix::fs::Stat,
    flags: AtFlags,
) -> rustix::io::Result<()> {
    rustix::fs::utimensat(dir, name, &timestamps(st), flags)
}

fn timestamps(st: &rustix::fs::Stat) -> Timestamps {
    Timestamps {
        last_access: rustix::fs::Timespec {
            tv_sec: st.st_atime as _,
            tv_nsec: st.st_atime_nsec as _,
        },
        last_modification: rustix::fs::Timespec {
            tv_sec: st.st_mtime as _,
            tv_nsec: st.st_mtime_nsec as _,
        },
    }
}
