//! Crash-safe file replacement: a record on disk is either the old version or the new one,
//! never a torn mix, even if the machine loses power in the middle of a write.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use super::StoreError;

/// Prefix of the temporary files `write_atomic` leaves behind if it is killed; `sweep_tmp`
/// recognizes them by it.
pub(crate) const TEMP_PREFIX: &str = ".tmp-";

/// Writes `bytes` to `path` so that readers see either the old content or the new one: temp
/// file in the same directory (so the rename cannot cross filesystems), write, fsync, rename
/// over `path`, fsync the directory (so the rename itself survives a crash).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    let dir = parent_dir(path);
    let tmp = unique_temp_path(dir, file_name(path));
    let result = write_synced(&tmp, bytes)
        .and_then(|()| fs::rename(&tmp, path))
        .map_err(|source| StoreError::io("write", path, source));
    if result.is_err() {
        // Best effort: the error that matters is the write's, and sweep_tmp catches leftovers.
        let _ = fs::remove_file(&tmp);
    }
    result?;
    sync_dir(dir)
}

/// Replaces `path` atomically for concurrent readers (temp file + rename) without waiting
/// for the disk: after a power loss the file may hold the old content, or be empty on a
/// filesystem without a journal. For state that is cheap to lose and checked when read
/// (a container's state file), where an fsync per transition would cost more than the
/// transition itself.
pub fn replace_unsynced(path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    let tmp = unique_temp_path(parent_dir(path), file_name(path));
    let result = File::create_new(&tmp)
        .and_then(|mut f| f.write_all(bytes))
        .and_then(|()| fs::rename(&tmp, path))
        .map_err(|source| StoreError::io("write", path, source));
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Flushes a directory's entries (new names, renames, removals) to disk.
pub fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|source| StoreError::io("sync", dir, source))
}

/// A name in `dir` that no other writer (thread or process) uses at the same time:
/// `.tmp-<pid>-<counter>-<name>`. The pid lets `sweep_tmp` tell a dead writer's leftovers
/// from a live one's.
pub(crate) fn unique_temp_path(dir: &Path, name: &str) -> PathBuf {
    dir.join(format!("{TEMP_PREFIX}{}-{name}", unique_suffix()))
}

/// `<pid>-<counter>`, unique within this process and, through the pid, across processes.
pub(crate) fn unique_suffix() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{}-{n}", std::process::id())
}

/// A staging file or directory in `tmp/` that is removed when dropped, so that every error
/// path (and a panic in a caller's callback) cleans up; `keep` disarms it once the entry has
/// been renamed into place.
pub(crate) struct Staging {
    path: PathBuf,
    armed: bool,
}

impl Staging {
    pub(crate) fn new(path: PathBuf) -> Self {
        Staging { path, armed: true }
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) fn keep(mut self) {
        self.armed = false;
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if self.armed {
            // Best effort: sweep_tmp removes whatever this misses once we are gone.
            let _ = remove_any(&self.path);
        }
    }
}

/// Removes a file or a directory tree; a missing entry is not an error.
pub(crate) fn remove_any(path: &Path) -> io::Result<()> {
    let result = match fs::symlink_metadata(path) {
        Ok(meta) if meta.is_dir() => fs::remove_dir_all(path),
        Ok(_) => fs::remove_file(path),
        Err(e) => Err(e),
    };
    match result {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

fn write_synced(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut file = File::create_new(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

fn file_name(path: &Path) -> &str {
    path.file_name().and_then(|n| n.to_str()).unwrap_or("file")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::test_dir;

    #[test]
    fn replaces_content_and_leaves_no_temp_file() {
        let dir = test_dir("atomic");
        let path = dir.join("record.json");
        write_atomic(&path, b"one").unwrap();
        write_atomic(&path, b"two").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"two");
        let names: Vec<_> = fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec!["record.json"]);
    }

    #[test]
    fn failed_write_names_the_path() {
        let dir = test_dir("atomic-missing");
        let path = dir.join("no/such/dir/record.json");
        let err = write_atomic(&path, b"x").unwrap_err().to_string();
        assert!(
            err.starts_with(&format!("failed to write {}", path.display())),
            "{err}"
        );
    }
}
