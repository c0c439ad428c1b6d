//! Every filesystem access of the unpacker goes through here, relative to a directory fd.
//!
//! Parent directories are resolved by the kernel with `openat2(root, path, RESOLVE_IN_ROOT |
//! RESOLVE_NO_MAGICLINKS)`: symlinks met on the way are followed as if `root` were `/`, so
//! `a -> /etc` makes `a/x` mean `<root>/etc/x`, never the host's `/etc`, and `..` stops at
//! the root. This is what Docker gets by unpacking in a chroot, without the chroot. The final
//! component is then created or replaced relative to the parent fd with calls that never
//! follow a symlink (`O_EXCL|O_NOFOLLOW`, `mkdirat`, `symlinkat`, `mknodat`, `linkat`
//! without `AT_SYMLINK_FOLLOW`, `unlinkat`), so a symlink in the layer is only ever a
//! symlink, never a door.

use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::Path;

use rustix::fs::{AtFlags, Dir, FileType, Mode, OFlags, ResolveFlags};

use super::path::join;

/// Flags for directories we open: a real fd (not `O_PATH`) so `fsetxattr`, `fchown` and
/// `futimens` work on it too.
const DIR_FLAGS: OFlags = OFlags::RDONLY
    .union(OFlags::DIRECTORY)
    .union(OFlags::CLOEXEC);

/// The layer directory, the root every entry is resolved in.
pub(crate) struct Root {
    fd: OwnedFd,
}

/// Why a parent directory could not be opened.
#[derive(Debug)]
pub(crate) enum ParentError {
    /// A component is a symlink whose target does not exist inside the root; creating the
    /// target would mean creating a directory the layer never named, so we stop.
    Dangling(Vec<u8>),
    Io(io::Error),
}

impl Root {
    pub(crate) fn open(dest: &Path) -> io::Result<Root> {
        let fd = rustix::fs::open(dest, DIR_FLAGS | OFlags::NOFOLLOW, Mode::empty())?;
        Ok(Root { fd })
    }

    /// Resolves the root itself through `openat2`, to fail early where it is missing.
    pub(crate) fn probe(&self) -> io::Result<()> {
        self.resolve(&[])?;
        Ok(())
    }

    /// Opens the directory `comps` names, resolved inside the root. With `create`, missing
    /// directories are made (mode 0755, as tar and Docker do for implied parents).
    pub(crate) fn dir(&self, comps: &[Vec<u8>], create: bool) -> Result<OwnedFd, ParentError> {
        match self.resolve(comps) {
            Err(e) if e == rustix::io::Errno::NOENT && create => self.create_dirs(comps),
            other => other.map_err(|e| ParentError::Io(e.into())),
        }
    }

    fn resolve(&self, comps: &[Vec<u8>]) -> rustix::io::Result<OwnedFd> {
        let path = if comps.is_empty() {
            b".".to_vec()
        } else {
            join(comps)
        };
        crate::in_root::open_in_root(&self.fd, path.as_slice(), DIR_FLAGS)
    }

    /// Walks `comps` from the root, creating what is missing. Each prefix is resolved from the
    /// root again (not from the previous fd) so that an absolute symlink on the way is read
    /// relative to the layer root.
    fn create_dirs(&self, comps: &[Vec<u8>]) -> Result<OwnedFd, ParentError> {
        let mut current = self.resolve(&[]).map_err(|e| ParentError::Io(e.into()))?;
        for i in 0..comps.len() {
            current = match self.resolve(&comps[..=i]) {
                Ok(fd) => fd,
                Err(rustix::io::Errno::NOENT) => {
                    match rustix::fs::mkdirat(&current, comps[i].as_slice(), Mode::from(0o755)) {
                        Ok(()) => {}
                        // The name exists yet did not resolve: a symlink to nowhere.
                        Err(rustix::io::Errno::EXIST) => {
                            return Err(ParentError::Dangling(join(&comps[..=i])));
                        }
                        Err(e) => return Err(ParentError::Io(e.into())),
                    }
                    open_child_dir(&current, &comps[i]).map_err(|e| ParentError::Io(e.into()))?
                }
                Err(e) => return Err(ParentError::Io(e.into())),
            };
        }
        Ok(current)
    }
}

/// Opens a directory directly below `parent`, refusing to follow a symlink there.
pub(crate) fn open_child_dir(parent: impl AsFd, name: &[u8]) -> rustix::io::Result<OwnedFd> {
    crate::in_root::openat2_retrying(
        parent,
        name,
        DIR_FLAGS | OFlags::NOFOLLOW,
        Mode::empty(),
        ResolveFlags::BENEATH | ResolveFlags::NO_SYMLINKS,
    )
}

/// The type of `name` in `parent`, without following it; `None` if absent.
pub(crate) fn entry_type(parent: impl AsFd, name: &[u8]) -> io::Result<Option<FileType>> {
    match rustix::fs::statat(parent, name, AtFlags::SYMLINK_NOFOLLOW) {
        Ok(st) => Ok(Some(FileType::from_raw_mode(st.st_mode))),
        Err(rustix::io::Errno::NOENT) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Makes room for a new entry called `name`: a later tar entry replaces an earlier one.
/// An existing directory is kept when `keep_dir` (a directory entry over a directory merges,
/// as tar does); anything else is removed, never written through. Returns whether a
/// directory was kept.
pub(crate) fn clear(parent: BorrowedFd<'_>, name: &[u8], keep_dir: bool) -> io::Result<bool> {
    match entry_type(parent, name)? {
        None => Ok(false),
        Some(FileType::Directory) if keep_dir => Ok(true),
        Some(FileType::Directory) => {
            remove_tree(parent, name)?;
            Ok(false)
        }
        Some(_) => {
            rustix::fs::unlinkat(parent, name, AtFlags::empty())?;
            Ok(false)
        }
    }
}

/// Removes directory `name` and everything below it, fd-relative, following no symlink.
///
/// Depth-first with an explicit stack, not recursion: a layer can build a tree far deeper
/// than any one path (each symlink hop to the bottom adds another path's worth), and a
/// recursive walk would overflow the stack and abort the process. Each level holds one fd,
/// so a tree deeper than the fd limit fails with EMFILE, an error like any other.
fn remove_tree(parent: BorrowedFd<'_>, name: &[u8]) -> io::Result<()> {
    struct Level {
        dir: OwnedFd,
        name: Vec<u8>,
        subdirs: Vec<Vec<u8>>,
    }
    let open = |parent: BorrowedFd<'_>, name: &[u8]| -> io::Result<Level> {
        let dir = open_child_dir(parent, name)?;
        let subdirs = clear_files(dir.as_fd())?;
        Ok(Level {
            dir,
            name: name.to_vec(),
            subdirs,
        })
    };
    let mut stack = vec![open(parent, name)?];
    while let Some(top) = stack.last_mut() {
        if let Some(child) = top.subdirs.pop() {
            let level = open(top.dir.as_fd(), &child)?;
            stack.push(level);
            continue;
        }
        let Some(done) = stack.pop() else { break };
        let above = match stack.last() {
            Some(level) => level.dir.as_fd(),
            None => parent,
        };
        rustix::fs::unlinkat(above, done.name.as_slice(), AtFlags::REMOVEDIR)?;
    }
    Ok(())
}

/// Unlinks every non-directory in `dir` and returns the names of its subdirectories.
fn clear_files(dir: BorrowedFd<'_>) -> io::Result<Vec<Vec<u8>>> {
    let mut children = Vec::new();
    let mut entries = Dir::read_from(dir)?;
    while let Some(entry) = entries.read() {
        let entry = entry?;
        let child = entry.file_name().to_bytes();
        if child != b"." && child != b".." {
            children.push(child.to_vec());
        }
    }
    let mut subdirs = Vec::new();
    for child in children {
        if entry_type(dir, &child)? == Some(FileType::Directory) {
            subdirs.push(child);
        } else {
            rustix::fs::unlinkat(dir, child.as_slice(), AtFlags::empty())?;
        }
    }
    Ok(subdirs)
}
