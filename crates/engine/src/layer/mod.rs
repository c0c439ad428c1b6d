//! Layer tarballs: decompression chosen by content, and the confined unpacker that turns a
//! layer into a directory used as an overlayfs lowerdir. Unpacking is a security boundary:
//! a hostile layer must not write outside its directory (see `unpack` for the design).

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
    #[error("layer tar is truncated")]
    Truncated,
    #[error("layer tar is malformed: {0}")]
    Malformed(#[source] io::Error),
    #[error("failed to read layer: {0}")]
    Read(#[source] io::Error),
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
fn show(path: &[u8]) -> String {
    String::from_utf8_lossy(path).into_owned()
}
