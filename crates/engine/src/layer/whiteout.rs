//! OCI whiteouts, turned into what overlayfs understands: `.wh.<name>` becomes a 0:0
//! character device `<name>`, and `.wh..wh..opq` marks its directory opaque with the
//! `trusted.overlay.opaque=y` xattr. Both need root (CAP_MKNOD, CAP_SYS_ADMIN), as overlay
//! lowerdirs built by the image store do.

use std::io;
use std::os::fd::BorrowedFd;

use rustix::fs::{FileType, Mode, XattrFlags};

const PREFIX: &[u8] = b".wh.";
const OPAQUE: &[u8] = b".wh..wh..opq";
/// aufs kept its own bookkeeping under `.wh..wh.` (`.wh..wh.plnk`, `.wh..wh.aufs`); Docker
/// drops those entries and so do we.
const AUFS_META: &[u8] = b".wh..wh.";

pub(crate) const OPAQUE_XATTR: &str = "trusted.overlay.opaque";

/// What a final path component means, whiteout-wise.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Whiteout<'a> {
    /// Not a whiteout: an ordinary entry.
    None,
    /// The parent directory hides everything below it in lower layers.
    Opaque,
    /// The named sibling is deleted.
    Remove(&'a [u8]),
    /// aufs metadata, ignored.
    Ignored,
    /// `.wh.`, `.wh..` and the like: a whiteout naming no file, or a path.
    Invalid,
}

pub(crate) fn classify(name: &[u8]) -> Whiteout<'_> {
    if name == OPAQUE {
        return Whiteout::Opaque;
    }
    if name.starts_with(AUFS_META) {
        return Whiteout::Ignored;
    }
    match name.strip_prefix(PREFIX) {
        None => Whiteout::None,
        Some(b"" | b"." | b"..") => Whiteout::Invalid,
        Some(target) => Whiteout::Remove(target),
    }
}

/// Creates the overlay whiteout for `name` in `parent`. The caller has cleared the name.
pub(crate) fn make_whiteout(parent: BorrowedFd<'_>, name: &[u8]) -> io::Result<()> {
    rustix::fs::mknodat(
        parent,
        name,
        FileType::CharacterDevice,
        Mode::empty(),
        rustix::fs::makedev(0, 0),
    )?;
    Ok(())
}

/// Marks the directory `dir` opaque for overlayfs.
pub(crate) fn make_opaque(dir: BorrowedFd<'_>) -> io::Result<()> {
    rustix::fs::fsetxattr(dir, OPAQUE_XATTR, b"y", XattrFlags::empty())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_classified() {
        assert_eq!(classify(b"file"), Whiteout::None);
        assert_eq!(classify(b".whatever"), Whiteout::None);
        assert_eq!(classify(b".wh.file"), Whiteout::Remove(b"file"));
        assert_eq!(classify(b".wh..hidden"), Whiteout::Remove(b".hidden"));
        assert_eq!(classify(b".wh..wh..opq"), Whiteout::Opaque);
        assert_eq!(classify(b".wh..wh.plnk"), Whiteout::Ignored);
    }

    #[test]
    fn whiteouts_that_name_no_file_are_invalid() {
        assert_eq!(classify(b".wh."), Whiteout::Invalid);
        assert_eq!(classify(b".wh.."), Whiteout::Invalid);
        assert_eq!(classify(b".wh..."), Whiteout::Invalid);
    }
}
