//! Container logs the way Docker's json-file driver keeps them: the supervisor writes
//! `<container dir>/<id>-json.log` (rotated to `.1`, `.2`, ...) and `berth logs` reads the
//! files back, tails them from the end and follows them through rotation with inotify.

mod follow;
mod json;
mod options;
mod reader;
mod timearg;
mod writer;

use std::path::{Path, PathBuf};

pub use follow::follow;
pub use options::{LogDriver, LogOptError, LogOptions, split_log_opt};
pub use reader::{LogsError, ReadOptions, Tail, read};
pub use timearg::{ArgError, parse_since, parse_tail, parse_until};
pub use writer::LogWriter;

/// Which of the container's output pipes a log entry came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stream {
    Stdout,
    Stderr,
}

impl Stream {
    /// The name Docker stores in the entry's `stream` field.
    pub fn as_str(self) -> &'static str {
        match self {
            Stream::Stdout => "stdout",
            Stream::Stderr => "stderr",
        }
    }
}

/// The live log file of the container whose directory is `dir`: `<dir>/<id>-json.log`, the
/// id being the directory's name (Docker's `containers/<id>/<id>-json.log`).
pub fn log_path(dir: &Path) -> std::io::Result<PathBuf> {
    let id = dir.file_name().ok_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("{} has no file name to name its log after", dir.display()),
        )
    })?;
    let mut name = id.to_os_string();
    name.push("-json.log");
    Ok(dir.join(name))
}
