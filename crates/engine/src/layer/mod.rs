//! Layer tarballs: decompression chosen by content, and the confined unpacker that turns a
//! layer into a directory used as an overlayfs lowerdir.
//!
//! Unpacking is a security boundary: a layer is untrusted input and must not create, change
//! or follow anything outside its directory. The design, and the choices behind it:
//!
//! - Paths are cleaned lexically first (`path`): a leading `/` means the layer root (Docker,
//!   containerd and GNU tar all treat it so, and old layers carry such paths); `..` that
//!   would climb above the root is refused, not clamped, because no honest writer emits it.
//! - Every parent directory is then resolved by the kernel with `openat2(root, parent,
//!   RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)` (`confined`): symlinks inside the layer are
//!   followed as if the layer were `/`, as Docker's chroot-based unpacker does, so `a ->
//!   /etc` then `a/passwd` writes `<layer>/etc/passwd`; a parent that is a symlink to a
//!   missing directory is refused rather than invented. No string check is trusted alone.
//! - The final component is created relative to the parent fd with calls that never follow
//!   it; whatever was there before is removed first (tar semantics: a later entry replaces an
//!   earlier one), so a file over a symlink replaces the symlink.
//! - Hardlink targets are cleaned and resolved the same way and must already exist inside
//!   the layer; the link is made to the target itself, so linking a symlink yields a symlink.
//! - Character and block devices only with `UnpackOptions::allow_devices`; fifos always.
//! - Entries, uncompressed stream bytes (headers included, which is what stops
//!   decompression bombs) and path lengths are bounded by `UnpackOptions`.
//! - `trusted.*` xattrs are never taken from a layer (overlayfs metadata lives there), nor
//!   `security.*` except `security.capability` as root; see `unpack::xattr_allowed`.
//!
//! Assumptions: nothing else writes to the layer directory while it is unpacked (the store
//! unpacks into a fresh private directory), and on error the directory is left partial for
//! the caller to remove. Whiteouts and opaque directories need root (CAP_MKNOD for 0:0
//! character devices, CAP_SYS_ADMIN for `trusted.overlay.opaque`).

mod confined;
mod decompress;
mod limits;
mod path;
mod unpack;
mod whiteout;

use std::io;

use thiserror::Error;

pub use decompress::decompressed;
pub use limits::UnpackOptions;
pub use unpack::{UnpackStats, unpack};

/// Why unpacking a layer failed. Entry paths are shown as they appear in the tar.
#[derive(Debug, Error)]
pub enum LayerError {
    /// The layer asked for something the unpacker refuses to do.
    #[error("layer entry {path:?}: {refusal}")]
    Refused { path: String, refusal: Refusal },
    /// A filesystem operation for an accepted entry failed.
    #[error("layer entry {path:?}: failed to {op}: {source}")]
    Io {
        path: String,
        op: &'static str,
        #[source]
        source: io::Error,
    },
    #[error("layer has more than {0} entries")]
    TooManyEntries(u64),
    #[error("layer is larger than {0} bytes uncompressed")]
    TooLarge(u64),
    #[error("layer has an extension header (PAX, GNU long name or sparse map) over {0} bytes")]
    HeaderTooLarge(u64),
    #[error("layer tar is truncated")]
    Truncated,
    #[error("layer tar is malformed: {0}")]
    Malformed(#[source] io::Error),
    #[error("failed to read layer: {0}")]
    Read(#[source] io::Error),
    #[error("unpacking layers needs openat2 (Linux 5.6 or later, not blocked by seccomp)")]
    NoOpenat2,
    #[error("failed to open layer directory {path}: {source}")]
    Dest {
        path: std::path::PathBuf,
        #[source]
        source: io::Error,
    },
}

/// What an entry asked for that was refused.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum Refusal {
    #[error("path escapes the layer")]
    PathEscapes,
    #[error("hardlink target {0:?} escapes the layer")]
    LinkEscapes(String),
    #[error("hardlink target {0:?} is a directory")]
    LinkToDirectory(String),
    #[error("device nodes are not allowed here")]
    Device,
    #[error("path is longer than the limit of {0} bytes")]
    PathTooLong(usize),
    #[error("link target is longer than the limit of {0} bytes")]
    LinkTooLong(usize),
    #[error("unsupported entry type {0:?}")]
    UnsupportedType(tar::EntryType),
    #[error("a non-directory entry cannot replace the layer root")]
    ReplacesRoot,
    #[error("whiteout names no file")]
    BadWhiteout,
    #[error("parent directory {0:?} is a symlink to a missing directory")]
    DanglingParent(String),
    #[error("hardlink without a target")]
    MissingLinkTarget,
}

impl LayerError {
    fn refused(path: &[u8], refusal: Refusal) -> Self {
        LayerError::Refused {
            path: show(path),
            refusal,
        }
    }

    fn io(path: &[u8], op: &'static str, source: io::Error) -> Self {
        LayerError::Io {
            path: show(path),
            op,
            source,
        }
    }
}

/// Tar paths are bytes; errors show them lossily, which is enough to point at the entry.
/// A hostile path can be up to a megabyte long; messages keep its first kilobyte.
fn show(path: &[u8]) -> String {
    const SHOWN: usize = 1024;
    match path.get(..SHOWN) {
        Some(head) if path.len() > SHOWN => format!("{}...", String::from_utf8_lossy(head)),
        _ => String::from_utf8_lossy(path).into_owned(),
    }
}
