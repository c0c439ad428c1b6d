//! The confined unpacker: one tar entry at a time, every path resolved inside the layer
//! directory by the kernel (see `confined`), every resource bounded (see `limits`).
//!
//! Directory metadata (owner, mode, xattrs, mtime) is applied at the end, deepest first, so
//! that creating a directory's contents neither bumps its mtime nor trips over a read-only
//! mode.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::Path;
use std::rc::Rc;

use rustix::fs::{AtFlags, FileType, Gid, Mode, OFlags, Timespec, Timestamps, Uid, XattrFlags};
use tar::EntryType;

use super::confined::{self, ParentError, Root};
use super::limits::{BoundedReader, MAX_HEADER_BYTES, StreamState, UnpackOptions};
use super::path::EntryPath;
use super::whiteout::{self, Whiteout};
use super::{LayerError, Refusal, show};

/// What an unpack did, for logs and `docker history`-like sizes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UnpackStats {
    /// Tar entries processed, whiteouts included.
    pub entries: u64,
    /// Bytes of regular-file content written.
    pub bytes: u64,
    /// `.wh.<name>` entries turned into overlay whiteouts.
    pub whiteouts: u64,
    /// Directories marked opaque.
    pub opaque_dirs: u64,
    /// Extended attributes from the layer that were not applied (see [`xattr_allowed`]).
    pub xattrs_skipped: u64,
}

/// Unpacks the uncompressed layer tar `r` into `dest`, an existing empty directory that will
/// be used as an overlayfs lowerdir. Nothing outside `dest` is created, changed or followed.
///
/// The stream is read to its end (padding after the end-of-archive blocks included, within
/// `max_total_bytes`), so a digesting reader passed in sees every byte of the diff.
pub fn unpack(r: impl Read, dest: &Path, opts: &UnpackOptions) -> Result<UnpackStats, LayerError> {
    let root = Root::open(dest).map_err(|source| LayerError::Dest {
        path: dest.to_path_buf(),
        source,
    })?;
    // Without openat2 there is no confinement; refuse up front rather than fall back to
    // string checks.
    root.probe().map_err(|source| match source.raw_os_error() {
        Some(code) if code == rustix::io::Errno::NOSYS.raw_os_error() => LayerError::NoOpenat2,
        _ => LayerError::Dest {
            path: dest.to_path_buf(),
            source,
        },
    })?;
    let (reader, stream) = BoundedReader::new(r, opts.max_total_bytes);
    let mut unpacker = Unpacker {
        root,
        opts,
        stream,
        is_root: rustix::process::geteuid().is_root(),
        declared_bytes: 0,
        dirs: BTreeMap::new(),
        stats: UnpackStats::default(),
    };
    let mut archive = tar::Archive::new(reader);
    let mut entries = archive.entries().map_err(|e| unpacker.stream_error(e))?;
    loop {
        // Whatever the parser reads to find the next entry is headers: bounded (see
        // `MAX_HEADER_BYTES`), since it buffers extension headers in memory.
        unpacker.stream.start_headers();
        let Some(entry) = entries.next() else { break };
        unpacker.stream.end_headers();
        let mut entry = entry.map_err(|e| unpacker.stream_error(e))?;
        unpacker.entry(&mut entry)?;
        // Skip what the entry did not consume (a global PAX header, data on a directory)
        // here, so the header bound above counts headers only.
        io::copy(&mut entry, &mut io::sink()).map_err(|e| unpacker.stream_error(e))?;
    }
    unpacker.stream.end_headers();
    unpacker.check_complete()?;
    // Read what follows the end-of-archive blocks (tar record padding): callers verify the
    // layer's diff id over the whole uncompressed stream, so it must all pass through.
    let mut rest = archive.into_inner();
    io::copy(&mut rest, &mut io::sink()).map_err(|e| unpacker.stream_error(e))?;
    unpacker.finish_dirs()?;
    Ok(unpacker.stats)
}

/// Metadata of one entry, read from its header and PAX records.
#[derive(Debug, Clone)]
struct Meta {
    mode: u32,
    uid: u64,
    gid: u64,
    mtime: Timespec,
    xattrs: Vec<(Vec<u8>, Vec<u8>)>,
}

struct Unpacker<'o> {
    root: Root,
    opts: &'o UnpackOptions,
    stream: Rc<StreamState>,
    is_root: bool,
    /// Sum of the sizes entries declare, checked before reading any of them.
    declared_bytes: u64,
    /// Directories whose metadata is applied at the end, keyed by cleaned path.
    dirs: BTreeMap<Vec<u8>, (EntryPath, Meta)>,
    stats: UnpackStats,
}

impl Unpacker<'_> {
    fn entry<R: Read>(&mut self, entry: &mut tar::Entry<'_, R>) -> Result<(), LayerError> {
        self.stats.entries += 1;
        if self.stats.entries > self.opts.max_entries {
            return Err(LayerError::TooManyEntries(self.opts.max_entries));
        }
        let raw = entry.path_bytes().into_owned();
        if raw.len() > self.opts.max_path_len {
            return Err(LayerError::refused(
                &raw,
                Refusal::PathTooLong(self.opts.max_path_len),
            ));
        }
        // Checked before any data is read; for GNU sparse entries `size()` is the expanded
        // size, so a sparse file cannot fill the disk with zeros the stream never carried.
        self.declared_bytes = self.declared_bytes.saturating_add(entry.size());
        if self.declared_bytes > self.opts.max_total_bytes {
            return Err(LayerError::TooLarge(self.opts.max_total_bytes));
        }
        let kind = entry.header().entry_type();
        // A global PAX header carries defaults for later entries, not a file; its name is
        // meaningless.
        if kind == EntryType::XGlobalHeader {
            return Ok(());
        }
        let path =
            EntryPath::parse(&raw).map_err(|_| LayerError::refused(&raw, Refusal::PathEscapes))?;
        let meta = read_meta(entry, &raw)?;

        if let Some((parent, name)) = path.split_last() {
            match whiteout::classify(name) {
                Whiteout::None => {}
                Whiteout::Opaque => return self.opaque(&raw, parent),
                Whiteout::Remove(target) => return self.whiteout(&raw, parent, target),
                Whiteout::Ignored => return Ok(()),
                Whiteout::Invalid => return Err(LayerError::refused(&raw, Refusal::BadWhiteout)),
            }
        }

        if kind == EntryType::Directory {
            return self.directory(&raw, path, meta);
        }
        if path.is_root() {
            return Err(LayerError::refused(&raw, Refusal::ReplacesRoot));
        }
        match kind {
            EntryType::Regular | EntryType::Continuous | EntryType::GNUSparse => {
                self.file(&raw, &path, &meta, entry)
            }
            EntryType::Symlink => {
                let target = self.link_target(&raw, entry)?;
                self.symlink(&raw, &path, &meta, &target)
            }
            EntryType::Link => {
                let target = self.link_target(&raw, entry)?;
                self.hardlink(&raw, &path, &target)
            }
            EntryType::Char | EntryType::Block => {
                if !self.opts.allow_devices {
                    return Err(LayerError::refused(&raw, Refusal::Device));
                }
                let file_type = if kind == EntryType::Char {
                    FileType::CharacterDevice
                } else {
                    FileType::BlockDevice
                };
                let dev = device_number(entry, &raw)?;
                self.node(&raw, &path, &meta, file_type, dev)
            }
            EntryType::Fifo => self.node(&raw, &path, &meta, FileType::Fifo, 0),
            other => Err(LayerError::refused(&raw, Refusal::UnsupportedType(other))),
        }
    }

    fn link_target<R: Read>(
        &self,
        raw: &[u8],
        entry: &tar::Entry<'_, R>,
    ) -> Result<Vec<u8>, LayerError> {
        let target = entry
            .link_name_bytes()
            .ok_or_else(|| LayerError::refused(raw, Refusal::MissingLinkTarget))?
            .into_owned();
        if target.len() > self.opts.max_path_len {
            return Err(LayerError::refused(
                raw,
                Refusal::LinkTooLong(self.opts.max_path_len),
            ));
        }
        Ok(target)
    }

    /// Opens (creating if needed) the parent directory of an entry, inside the root.
    fn parent(&self, raw: &[u8], comps: &[Vec<u8>], create: bool) -> Result<OwnedFd, LayerError> {
        self.root.dir(comps, create).map_err(|e| match e {
            ParentError::Dangling(p) => LayerError::refused(raw, Refusal::DanglingParent(show(&p))),
            ParentError::Io(e) => LayerError::io(raw, "open parent directory", e),
        })
    }

    /// Resolves an entry's parent and clears its name for a new entry (see
    /// [`confined::clear`]). Returns the parent fd, and whether an existing directory was
    /// kept.
    fn place(
        &mut self,
        raw: &[u8],
        path: &EntryPath,
        keep_dir: bool,
    ) -> Result<(OwnedFd, bool), LayerError> {
        let Some((parent, name)) = path.split_last() else {
            return Err(LayerError::refused(raw, Refusal::ReplacesRoot));
        };
        let parent = self.parent(raw, parent, true)?;
        let kept = confined::clear(parent.as_fd(), name, keep_dir)
            .map_err(|e| LayerError::io(raw, "replace existing entry", e))?;
        if !kept {
            self.forget_dirs(path);
        }
        Ok((parent, kept))
    }

    /// Drops pending directory metadata at or below `path`, which is being replaced.
    fn forget_dirs(&mut self, path: &EntryPath) {
        self.dirs.retain(|_, (dir, _)| !dir.starts_with(path));
    }

    fn directory(&mut self, raw: &[u8], path: EntryPath, meta: Meta) -> Result<(), LayerError> {
        if !path.is_root() {
            let (parent, kept) = self.place(raw, &path, true)?;
            if !kept {
                let name = last(&path);
                // Owner-only until `finish_dirs` sets the real mode.
                rustix::fs::mkdirat(&parent, name, Mode::from_raw_mode(0o700))
                    .map_err(|e| LayerError::io(raw, "create directory", e.into()))?;
            }
        }
        self.dirs.insert(path.joined(), (path, meta));
        Ok(())
    }

    fn file<R: Read>(
        &mut self,
        raw: &[u8],
        path: &EntryPath,
        meta: &Meta,
        entry: &mut tar::Entry<'_, R>,
    ) -> Result<(), LayerError> {
        let (parent, _) = self.place(raw, path, false)?;
        // O_EXCL|O_NOFOLLOW: the name was just cleared; if anything is there now we fail
        // rather than write through it.
        let flags =
            OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        let fd = rustix::fs::openat(&parent, last(path), flags, Mode::from_raw_mode(0o600))
            .map_err(|e| LayerError::io(raw, "create file", e.into()))?;
        let mut file = File::from(fd);
        let written = self.copy_data(raw, entry, &mut file)?;
        // `size()` is the expanded size for GNU sparse entries too, so this holds for all.
        if written != entry.size() {
            return Err(LayerError::Truncated);
        }
        self.stats.bytes += written;
        self.apply_fd_meta(raw, file.as_fd(), meta)
    }

    fn copy_data<R: Read>(
        &self,
        raw: &[u8],
        from: &mut R,
        to: &mut File,
    ) -> Result<u64, LayerError> {
        let mut buf = vec![0u8; 64 * 1024];
        let mut written = 0u64;
        loop {
            let n = match from.read(&mut buf) {
                Ok(0) => return Ok(written),
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(self.stream_error(e)),
            };
            to.write_all(&buf[..n])
                .map_err(|e| LayerError::io(raw, "write file", e))?;
            written += n as u64;
        }
    }

    fn symlink(
        &mut self,
        raw: &[u8],
        path: &EntryPath,
        meta: &Meta,
        target: &[u8],
    ) -> Result<(), LayerError> {
        let (parent, _) = self.place(raw, path, false)?;
        let name = last(path);
        // The target is stored verbatim: a symlink pointing anywhere is harmless as long as
        // nothing here follows it, and the container resolves it inside its own root.
        rustix::fs::symlinkat(target, &parent, name)
            .map_err(|e| LayerError::io(raw, "create symlink", e.into()))?;
        // xattrs on a symlink would need path-based lsetxattr; Linux allows only trusted.*
        // and security.* there, which we do not take from layers anyway.
        self.stats.xattrs_skipped += meta.xattrs.len() as u64;
        self.apply_at_meta(raw, parent.as_fd(), name, meta, false)
    }

    fn hardlink(
        &mut self,
        raw: &[u8],
        path: &EntryPath,
        target_raw: &[u8],
    ) -> Result<(), LayerError> {
        let target = EntryPath::parse(target_raw)
            .map_err(|_| LayerError::refused(raw, Refusal::LinkEscapes(show(target_raw))))?;
        if target == *path {
            return Ok(());
        }
        let Some((target_parent, target_name)) = target.split_last() else {
            return Err(LayerError::refused(
                raw,
                Refusal::LinkToDirectory(show(target_raw)),
            ));
        };
        // The target must already exist inside the root; its parents resolve in the root
        // like any path, and its last component is linked as is (a symlink stays a symlink).
        let target_dir = self.root.dir(target_parent, false).map_err(|e| match e {
            ParentError::Dangling(p) => LayerError::refused(raw, Refusal::DanglingParent(show(&p))),
            ParentError::Io(e) => LayerError::io(raw, "find hardlink target", e),
        })?;
        match confined::entry_type(&target_dir, target_name) {
            Ok(Some(FileType::Directory)) => {
                return Err(LayerError::refused(
                    raw,
                    Refusal::LinkToDirectory(show(target_raw)),
                ));
            }
            Ok(Some(_)) => {}
            Ok(None) => {
                let e = io::Error::from(io::ErrorKind::NotFound);
                return Err(LayerError::io(raw, "find hardlink target", e));
            }
            Err(e) => return Err(LayerError::io(raw, "find hardlink target", e)),
        }
        let (parent, _) = self.place(raw, path, false)?;
        rustix::fs::linkat(
            &target_dir,
            target_name,
            &parent,
            last(path),
            AtFlags::empty(),
        )
        .map_err(|e| LayerError::io(raw, "create hardlink", e.into()))?;
        Ok(())
    }

    /// Devices and fifos. The caller has checked `allow_devices`.
    fn node(
        &mut self,
        raw: &[u8],
        path: &EntryPath,
        meta: &Meta,
        file_type: FileType,
        dev: u64,
    ) -> Result<(), LayerError> {
        let (parent, _) = self.place(raw, path, false)?;
        let name = last(path);
        rustix::fs::mknodat(&parent, name, file_type, Mode::from_raw_mode(0o600), dev)
            .map_err(|e| LayerError::io(raw, "create special file", e.into()))?;
        self.apply_at_meta(raw, parent.as_fd(), name, meta, true)
    }

    fn opaque(&mut self, raw: &[u8], dir: &[Vec<u8>]) -> Result<(), LayerError> {
        let dir = self.parent(raw, dir, true)?;
        whiteout::make_opaque(dir.as_fd())
            .map_err(|e| LayerError::io(raw, "mark directory opaque", e))?;
        self.stats.opaque_dirs += 1;
        Ok(())
    }

    fn whiteout(
        &mut self,
        raw: &[u8],
        parent: &[Vec<u8>],
        target: &[u8],
    ) -> Result<(), LayerError> {
        let mut comps = parent.to_vec();
        comps.push(target.to_vec());
        let (parent, _) = self.place(raw, &EntryPath::from_components(comps), false)?;
        whiteout::make_whiteout(parent.as_fd(), target)
            .map_err(|e| LayerError::io(raw, "create whiteout", e))?;
        self.stats.whiteouts += 1;
        Ok(())
    }

    /// Owner, then mode (chown clears setuid/setgid), then xattrs, then times (last, since
    /// the others change ctime only but a write would change mtime).
    fn apply_fd_meta(
        &mut self,
        raw: &[u8],
        fd: BorrowedFd<'_>,
        meta: &Meta,
    ) -> Result<(), LayerError> {
        if self.opts.same_owner {
            let (uid, gid) = owner(raw, meta)?;
            rustix::fs::fchown(fd, Some(uid), Some(gid))
                .map_err(|e| LayerError::io(raw, "change owner", e.into()))?;
        }
        rustix::fs::fchmod(fd, Mode::from_raw_mode(meta.mode))
            .map_err(|e| LayerError::io(raw, "change mode", e.into()))?;
        self.apply_xattrs(raw, fd, meta)?;
        rustix::fs::futimens(fd, &times(meta))
            .map_err(|e| LayerError::io(raw, "set times", e.into()))?;
        Ok(())
    }

    /// Metadata for entries we cannot open (symlinks, devices, fifos): `*at` calls that do
    /// not follow the final component. `chmod` is skipped for symlinks (Linux has no
    /// symlink modes); for nodes `fchmodat` is safe because we just created the name.
    fn apply_at_meta(
        &self,
        raw: &[u8],
        parent: BorrowedFd<'_>,
        name: &[u8],
        meta: &Meta,
        chmod: bool,
    ) -> Result<(), LayerError> {
        if self.opts.same_owner {
            let (uid, gid) = owner(raw, meta)?;
            rustix::fs::chownat(
                parent,
                name,
                Some(uid),
                Some(gid),
                AtFlags::SYMLINK_NOFOLLOW,
            )
            .map_err(|e| LayerError::io(raw, "change owner", e.into()))?;
        }
        if chmod {
            rustix::fs::chmodat(
                parent,
                name,
                Mode::from_raw_mode(meta.mode),
                AtFlags::empty(),
            )
            .map_err(|e| LayerError::io(raw, "change mode", e.into()))?;
        }
        rustix::fs::utimensat(parent, name, &times(meta), AtFlags::SYMLINK_NOFOLLOW)
            .map_err(|e| LayerError::io(raw, "set times", e.into()))?;
        Ok(())
    }

    fn apply_xattrs(
        &mut self,
        raw: &[u8],
        fd: BorrowedFd<'_>,
        meta: &Meta,
    ) -> Result<(), LayerError> {
        for (name, value) in &meta.xattrs {
            if !xattr_allowed(name, self.is_root) {
                self.stats.xattrs_skipped += 1;
                continue;
            }
            match rustix::fs::fsetxattr(fd, name.as_slice(), value, XattrFlags::empty()) {
                Ok(()) => {}
                // The filesystem under the store has no xattrs of this kind: the layer still
                // works, it just loses the attribute, as with Docker.
                Err(rustix::io::Errno::OPNOTSUPP) => self.stats.xattrs_skipped += 1,
                Err(e) => return Err(LayerError::io(raw, "set xattr", e.into())),
            }
        }
        Ok(())
    }

    /// Applies directory metadata, deepest first (reverse order of cleaned paths puts every
    /// child before its parent).
    fn finish_dirs(&mut self) -> Result<(), LayerError> {
        let dirs = std::mem::take(&mut self.dirs);
        for (key, (path, meta)) in dirs.into_iter().rev() {
            let Some(fd) = self.open_recorded_dir(&key, &path)? else {
                continue;
            };
            self.apply_fd_meta(&key, fd.as_fd(), &meta)?;
        }
        Ok(())
    }

    /// Reopens a directory an entry created; `None` if a later entry replaced it.
    fn open_recorded_dir(
        &self,
        key: &[u8],
        path: &EntryPath,
    ) -> Result<Option<OwnedFd>, LayerError> {
        let opened = match path.split_last() {
            None => self.root.dir(&[], false),
            Some((parent, name)) => self.root.dir(parent, false).and_then(|p| {
                confined::open_child_dir(&p, name).map_err(|e| ParentError::Io(e.into()))
            }),
        };
        match opened {
            Ok(fd) => Ok(Some(fd)),
            Err(ParentError::Io(e)) if is_replaced(&e) => Ok(None),
            Err(ParentError::Dangling(_)) => Ok(None),
            Err(ParentError::Io(e)) => Err(LayerError::io(key, "open directory", e)),
        }
    }

    /// Turns an error from the tar stream into what happened: the size bound, a stream
    /// cut short, or a read or format error.
    fn stream_error(&self, e: io::Error) -> LayerError {
        if self.stream.over_limit.get() {
            LayerError::TooLarge(self.opts.max_total_bytes)
        } else if self.stream.over_header_limit.get() {
            LayerError::HeaderTooLarge(MAX_HEADER_BYTES)
        } else if self.stream.hit_eof.get() || e.kind() == io::ErrorKind::UnexpectedEof {
            LayerError::Truncated
        } else {
            LayerError::Read(e)
        }
    }

    /// A complete tar ends with a zero block; without one the stream was cut at an entry
    /// boundary. An empty stream is an empty layer.
    fn check_complete(&self) -> Result<(), LayerError> {
        if self.stream.total.get() > 0 && self.stream.trailing_zeros.get() < 512 {
            return Err(LayerError::Truncated);
        }
        Ok(())
    }
}

/// Errors meaning "this path is no longer a directory": a later entry replaced it.
fn is_replaced(e: &io::Error) -> bool {
    matches!(
        rustix::io::Errno::from_io_error(e),
        Some(rustix::io::Errno::NOENT | rustix::io::Errno::NOTDIR | rustix::io::Errno::LOOP)
    )
}

/// Which layer xattrs we apply. `user.*` and POSIX ACLs are the file's own business.
/// `security.capability` (file capabilities, e.g. ping's cap_net_raw) is applied when
/// running as root, as Docker does; without root the kernel would refuse it. Other
/// `security.*` (SELinux, Smack labels) are host policy, not image content. `trusted.*` is
/// never taken from a layer: overlayfs keeps its own metadata there (`opaque`, `redirect`,
/// `metacopy`, `origin`), and a layer forging it could change what the merged view shows;
/// opaque directories come only from `.wh..wh..opq`.
pub(crate) fn xattr_allowed(name: &[u8], is_root: bool) -> bool {
    name.starts_with(b"user.")
        || name == b"system.posix_acl_access"
        || name == b"system.posix_acl_default"
        || (is_root && name == b"security.capability")
}

fn last(path: &EntryPath) -> &[u8] {
    path.split_last().map(|(_, name)| name).unwrap_or(b".")
}

fn owner(raw: &[u8], meta: &Meta) -> Result<(Uid, Gid), LayerError> {
    let bad = || {
        LayerError::Malformed(io::Error::other(format!(
            "entry {:?}: uid or gid out of range",
            show(raw)
        )))
    };
    let uid = u32::try_from(meta.uid).map_err(|_| bad())?;
    let gid = u32::try_from(meta.gid).map_err(|_| bad())?;
    // u32::MAX is "no change" to chown; refuse it rather than silently keep our own ids.
    if uid == u32::MAX || gid == u32::MAX {
        return Err(bad());
    }
    Ok((Uid::from_raw(uid), Gid::from_raw(gid)))
}

fn times(meta: &Meta) -> Timestamps {
    Timestamps {
        last_access: meta.mtime,
        last_modification: meta.mtime,
    }
}

fn device_number<R: Read>(entry: &tar::Entry<'_, R>, raw: &[u8]) -> Result<u64, LayerError> {
    let malformed =
        |e| LayerError::Malformed(io::Error::other(format!("entry {:?}: {e}", show(raw))));
    let major = entry
        .header()
        .device_major()
        .map_err(malformed)?
        .unwrap_or(0);
    let minor = entry
        .header()
        .device_minor()
        .map_err(malformed)?
        .unwrap_or(0);
    Ok(rustix::fs::makedev(major, minor))
}

/// Reads mode, owner, mtime and xattrs. PAX records override the header fields: they carry
/// ids above 2^21 and sub-second mtimes that ustar cannot hold.
fn read_meta<R: Read>(entry: &mut tar::Entry<'_, R>, raw: &[u8]) -> Result<Meta, LayerError> {
    let malformed = |e: io::Error| {
        LayerError::Malformed(io::Error::other(format!("entry {:?}: {e}", show(raw))))
    };
    let header = entry.header();
    let mut meta = Meta {
        mode: header.mode().map_err(malformed)? & 0o7777,
        uid: header.uid().map_err(malformed)?,
        gid: header.gid().map_err(malformed)?,
        mtime: Timespec {
            tv_sec: i64::try_from(header.mtime().map_err(malformed)?).unwrap_or(i64::MAX),
            tv_nsec: 0,
        },
        xattrs: Vec::new(),
    };
    let Some(pax) = entry.pax_extensions().map_err(malformed)? else {
        return Ok(meta);
    };
    for ext in pax {
        let ext = ext.map_err(malformed)?;
        let (key, value) = (ext.key_bytes(), ext.value_bytes());
        if let Some(name) = key.strip_prefix(b"SCHILY.xattr.") {
            meta.xattrs.push((name.to_vec(), value.to_vec()));
            continue;
        }
        let text = std::str::from_utf8(value).ok();
        match key {
            b"uid" => meta.uid = text.and_then(|t| t.parse().ok()).unwrap_or(meta.uid),
            b"gid" => meta.gid = text.and_then(|t| t.parse().ok()).unwrap_or(meta.gid),
            b"mtime" => meta.mtime = text.and_then(parse_pax_time).unwrap_or(meta.mtime),
            _ => {}
        }
    }
    Ok(meta)
}

/// PAX times are decimal seconds with an optional fraction: `1700000000.123456789`.
fn parse_pax_time(text: &str) -> Option<Timespec> {
    let (secs, frac) = text.split_once('.').unwrap_or((text, ""));
    let tv_sec: i64 = secs.parse().ok()?;
    let digits: String = frac.chars().take(9).collect();
    if !digits.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let tv_nsec = if digits.is_empty() {
        0
    } else {
        digits.parse::<i64>().ok()? * 10i64.pow(9 - digits.len() as u32)
    };
    // A negative time with a fraction counts the fraction towards zero; keep it simple and
    // valid by dropping the fraction there.
    let tv_nsec = if tv_sec < 0 { 0 } else { tv_nsec };
    Some(Timespec { tv_sec, tv_nsec })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pax_times_parse_with_and_without_fraction() {
        let t = parse_pax_time("1700000000.5").unwrap();
        assert_eq!((t.tv_sec, t.tv_nsec), (1_700_000_000, 500_000_000));
        let t = parse_pax_time("12").unwrap();
        assert_eq!((t.tv_sec, t.tv_nsec), (12, 0));
        let t = parse_pax_time("1.1234567891").unwrap();
        assert_eq!(t.tv_nsec, 123_456_789);
        assert!(parse_pax_time("x.1").is_none());
        assert!(parse_pax_time("1.x").is_none());
    }

    #[test]
    fn xattr_policy() {
        assert!(xattr_allowed(b"user.foo", false));
        assert!(xattr_allowed(b"system.posix_acl_access", false));
        assert!(!xattr_allowed(b"security.capability", false));
        assert!(xattr_allowed(b"security.capability", true));
        assert!(!xattr_allowed(b"security.selinux", true));
        assert!(!xattr_allowed(b"trusted.overlay.opaque", true));
        assert!(!xattr_allowed(b"trusted.overlay.redirect", true));
    }
}
