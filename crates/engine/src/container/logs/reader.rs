//! Reading a container's json-file log for `berth logs`: the files in order across
//! rotation, `--tail` from the end without reading whole files, `--since` / `--until`,
//! and the output `docker logs` prints.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};

use super::json::{Entry, details_prefix, format_rfc3339_fixed};
use super::log_path;
use crate::time::{Instant, parse_rfc3339};

/// What `berth logs` shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReadOptions {
    pub tail: Tail,
    /// Entries older than this are skipped (`--since`).
    pub since: Option<Instant>,
    /// Reading stops at the first entry newer than this (`--until`).
    pub until: Option<Instant>,
    /// `-t`: each entry prefixed with its time, nine fraction digits.
    pub timestamps: bool,
    /// `--details`: each entry prefixed with its attributes and a space.
    pub details: bool,
}

/// `--tail`: every entry, or only the last N.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Tail {
    #[default]
    All,
    Last(usize),
}

#[derive(Debug, thiserror::Error)]
pub enum LogsError {
    #[error("failed to read {}: {source}", path.display())]
    Read { path: PathBuf, source: io::Error },
    #[error("failed to watch {}: {source}", path.display())]
    Watch { path: PathBuf, source: io::Error },
    #[error("failed to write the logs: {0}")]
    Write(io::Error),
}

impl LogsError {
    pub(crate) fn read(path: &Path) -> impl FnOnce(io::Error) -> LogsError + '_ {
        move |source| LogsError::Read {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// Prints the container's log as it is now (no follow): entries of the `stdout` stream
/// to `stdout`, of `stderr` to `stderr`.
pub fn read(
    dir: &Path,
    options: &ReadOptions,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> Result<(), LogsError> {
    let mut session = Session::start(dir, options, stdout, stderr)?;
    session.flush()
}

/// Formats entries to the two sinks and remembers whether `--until` has been passed.
struct Emitter<'a> {
    options: ReadOptions,
    stdout: &'a mut dyn Write,
    stderr: &'a mut dyn Write,
    until_passed: bool,
    line: Vec<u8>,
}

impl Emitter<'_> {
    /// One line of a json-file (without its `\n`). Lines that do not decode are skipped:
    /// a file cut short by a crash must not hide everything after it.
    fn entry(&mut self, raw: &[u8]) -> Result<(), LogsError> {
        if self.until_passed {
            return Ok(());
        }
        let Ok(entry) = serde_json::from_slice::<Entry>(raw) else {
            return Ok(());
        };
        let Some(time) = parse_rfc3339(&entry.time) else {
            return Ok(());
        };
        if self.options.since.is_some_and(|since| time < since) {
            return Ok(());
        }
        if self.options.until.is_some_and(|until| time > until) {
            self.until_passed = true;
            return Ok(());
        }
        let sink: &mut dyn Write = match &*entry.stream {
            "stdout" => &mut *self.stdout,
            "stderr" => &mut *self.stderr,
            _ => return Ok(()),
        };
        self.line.clear();
        if self.options.timestamps {
            self.line
                .extend_from_slice(format_rfc3339_fixed(time).as_bytes());
            self.line.push(b' ');
        }
        if self.options.details {
            self.line
                .extend_from_slice(details_prefix(entry.attrs.as_ref()).as_bytes());
            self.line.push(b' ');
        }
        self.line.extend_from_slice(entry.log.as_bytes());
        sink.write_all(&self.line).map_err(LogsError::Write)
    }
}

/// A file's identity, which survives renames.
type FileId = (u64, u64);

struct LogFile {
    path: PathBuf,
    file: File,
    id: FileId,
}

/// A file being read forward, complete lines only; `pending` holds a line not yet ended.
struct Cursor {
    log: LogFile,
    pending: Vec<u8>,
}

impl Cursor {
    fn at(log: LogFile, offset: u64) -> Result<Cursor, LogsError> {
        let mut log = log;
        log.file
            .seek(SeekFrom::Start(offset))
            .map_err(LogsError::read(&log.path))?;
        Ok(Cursor {
            log,
            pending: Vec::new(),
        })
    }

    /// Emits every complete line up to the end of the file as it is now.
    fn drain(&mut self, emit: &mut Emitter<'_>) -> Result<(), LogsError> {
        let mut buf = vec![0; 64 * 1024];
        loop {
            let n = match self.log.file.read(&mut buf) {
                Ok(0) => return Ok(()),
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(LogsError::read(&self.log.path)(e)),
            };
            let mut chunk = &buf[..n];
            while let Some(q) = chunk.iter().position(|&b| b == b'\n') {
                if self.pending.is_empty() {
                    emit.entry(&chunk[..q])?;
                } else {
                    self.pending.extend_from_slice(&chunk[..q]);
                    let line = std::mem::take(&mut self.pending);
                    emit.entry(&line)?;
                }
                chunk = &chunk[q + 1..];
            }
            self.pending.extend_from_slice(chunk);
            if emit.until_passed {
                return Ok(());
            }
        }
    }
}

/// A reader positioned in the log: what has been printed, and the newest file read.
pub(crate) struct Session<'a> {
    live: PathBuf,
    emit: Emitter<'a>,
    cursor: Option<Cursor>,
}

impl<'a> Session<'a> {
    /// Prints what `options` selects of the log as it is now and keeps the newest file
    /// open for [`Session::catch_up`].
    pub(crate) fn start(
        dir: &Path,
        options: &ReadOptions,
        stdout: &'a mut dyn Write,
        stderr: &'a mut dyn Write,
    ) -> Result<Session<'a>, LogsError> {
        let live = log_path(dir).map_err(LogsError::read(dir))?;
        let mut files = snapshot(&live)?;
        // Where reading starts: in which file (index, oldest first) and at which offset.
        let mut start = (0, 0);
        if let Tail::Last(mut need) = options.tail {
            // Newest first; `--tail 0` stops at once at the end of the live file, which is
            // where following starts.
            for (i, log) in files.iter().enumerate().rev() {
                let (offset, found) =
                    tail_start(&log.file, need).map_err(LogsError::read(&log.path))?;
                start = (i, offset);
                if found >= need {
                    break;
                }
                need -= found;
            }
        }
        let mut session = Session {
            live,
            emit: Emitter {
                options: *options,
                stdout,
                stderr,
                until_passed: false,
                line: Vec::new(),
            },
            cursor: None,
        };
        let newest = files.len();
        for (i, log) in files.drain(..).enumerate().skip(start.0) {
            let offset = if i == start.0 { start.1 } else { 0 };
            let mut cursor = Cursor::at(log, offset)?;
            cursor.drain(&mut session.emit)?;
            if i + 1 == newest {
                session.cursor = Some(cursor);
            }
        }
        Ok(session)
    }

    /// Prints what was written since the last call, following the live file through any
    /// number of rotations: a rotated file is read to its end before the next one.
    pub(crate) fn catch_up(&mut self) -> Result<(), LogsError> {
        loop {
            if self.emit.until_passed {
                return Ok(());
            }
            if let Some(cursor) = &mut self.cursor {
                cursor.drain(&mut self.emit)?;
            }
            let live_id = std::fs::metadata(&self.live)
                .ok()
                .map(|m| (m.dev(), m.ino()));
            let current = self.cursor.as_ref().map(|c| c.log.id);
            if live_id.is_none() || live_id == current {
                // Unchanged, or between a rotation's rename and the new live file.
                return Ok(());
            }
            // Rotated since the drain above: the old file is final now, so read its last
            // lines before moving on.
            if let Some(cursor) = &mut self.cursor {
                cursor.drain(&mut self.emit)?;
            }
            let files = snapshot(&self.live)?;
            let newer = match current {
                Some(id) => match files.iter().position(|f| f.id == id) {
                    Some(p) => p + 1,
                    // Gone: rotated out, so every file there is newer.
                    None => 0,
                },
                None => 0,
            };
            if newer == files.len() {
                return Ok(());
            }
            let count = files.len();
            for (i, log) in files.into_iter().enumerate().skip(newer) {
                let mut cursor = Cursor::at(log, 0)?;
                if i + 1 < count {
                    cursor.drain(&mut self.emit)?;
                } else {
                    // Drained at the top of the loop.
                    self.cursor = Some(cursor);
                }
            }
        }
    }

    /// `--until` has been passed: nothing more will be printed.
    pub(crate) fn finished(&self) -> bool {
        self.emit.until_passed
    }

    pub(crate) fn flush(&mut self) -> Result<(), LogsError> {
        self.emit.stdout.flush().map_err(LogsError::Write)?;
        self.emit.stderr.flush().map_err(LogsError::Write)
    }
}

/// The log files there are now, oldest first: `.N` ... `.1`, then the live file.
///
/// One listing taken while the writer rotates can miss a file in the middle: the names come
/// from `readdir` and the files are opened afterwards, so a listing made in the middle of a
/// rotation (`.1` already moved to `.2`, the live file not yet moved to `.1`) has no `.1`,
/// and by the time the files are opened the old live file is at `.1`, never opened, and a
/// new live file has replaced it. `readdir` may also miss an entry renamed while it runs.
/// A follower would then jump from the file before to the file after, losing a whole file
/// that is still on disk. So listings are taken until two in a row find the same files
/// with no new live file appearing during the second: a file renamed during one listing
/// stands still during the other (each rotation moves a file once, and the next rotation
/// only starts once the live file has been replaced), so two equal listings saw every file.
fn snapshot(live: &Path) -> Result<Vec<LogFile>, LogsError> {
    snapshot_with(live, &mut || {})
}

/// [`snapshot`], calling `listed` between reading the directory and opening the files (a
/// writer's rotation can be injected there in tests).
fn snapshot_with(live: &Path, listed: &mut dyn FnMut()) -> Result<Vec<LogFile>, LogsError> {
    let mut last: Option<Vec<LogFile>> = None;
    loop {
        let files = listing(live, listed)?;
        if let (Some(files), Some(last)) = (&files, &last)
            && files.len() == last.len()
            && files.iter().zip(last).all(|(a, b)| a.id == b.id)
        {
            break;
        }
        last = files;
    }
    Ok(last.unwrap_or_default())
}

/// One listing of the log files, oldest first, or `None` when the live file was replaced
/// meanwhile. Opened newest first, so that a rotation running meanwhile only moves files to
/// names not yet opened (a file seen twice is kept once).
fn listing(live: &Path, listed: &mut dyn FnMut()) -> Result<Option<Vec<LogFile>>, LogsError> {
    let dir = live.parent().unwrap_or(Path::new("."));
    let mut files: Vec<LogFile> = Vec::new();
    let live_id = match open(live)? {
        Some(log) => {
            let id = log.id;
            files.push(log);
            Some(id)
        }
        None => None,
    };
    let prefix = format!(
        "{}.",
        live.file_name().unwrap_or_default().to_string_lossy()
    );
    let mut numbers: Vec<u32> = Vec::new();
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Some(Vec::new())),
        Err(e) => return Err(LogsError::read(dir)(e)),
    };
    for entry in entries {
        let entry = entry.map_err(LogsError::read(dir))?;
        let name = entry.file_name();
        if let Some(n) = name
            .to_str()
            .and_then(|n| n.strip_prefix(&prefix))
            .filter(|n| n.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|n| n.parse().ok())
        {
            numbers.push(n);
        }
    }
    numbers.sort_unstable();
    listed();
    for path in numbers.into_iter().map(|n| super::writer::rotated(live, n)) {
        if let Some(log) = open(&path)?
            && files.iter().all(|f| f.id != log.id)
        {
            files.push(log);
        }
    }
    let live_now = std::fs::metadata(live).ok().map(|m| (m.dev(), m.ino()));
    if live_now != live_id {
        return Ok(None);
    }
    files.reverse();
    Ok(Some(files))
}

/// Opens one log file, `None` when there is none at `path`.
fn open(path: &Path) -> Result<Option<LogFile>, LogsError> {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(LogsError::read(path)(e)),
    };
    let meta = file.metadata().map_err(LogsError::read(path))?;
    let id = (meta.dev(), meta.ino());
    Ok(Some(LogFile {
        path: path.to_path_buf(),
        file,
        id,
    }))
}

/// Where the last `need` complete lines of `file` start, reading backwards in blocks, and
/// how many complete lines were found (fewer than `need` when the file has fewer). Bytes
/// after the last newline (a line being written) do not count.
fn tail_start(file: &File, need: usize) -> io::Result<(u64, usize)> {
    let mut pos = file.metadata()?.len();
    let mut buf = vec![0; 64 * 1024];
    let mut seen_end = false;
    let mut lines = 0;
    while pos > 0 {
        let n = buf.len().min(pos as usize);
        pos -= n as u64;
        file.read_exact_at(&mut buf[..n], pos)?;
        for i in (0..n).rev() {
            if buf[i] != b'\n' {
                continue;
            }
            let after = pos + i as u64 + 1;
            if !seen_end {
                seen_end = true;
                if need == 0 {
                    return Ok((after, 0));
                }
                continue;
            }
            lines += 1;
            if lines == need {
                return Ok((after, lines));
            }
        }
    }
    Ok((0, if seen_end { lines + 1 } else { 0 }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tail_of(content: &str, need: usize) -> (u64, usize) {
        let path = std::env::temp_dir().join(format!(
            "berth-logs-tail-{}-{}-{need}",
            std::process::id(),
            content.len()
        ));
        std::fs::write(&path, content).unwrap();
        let r = tail_start(&File::open(&path).unwrap(), need).unwrap();
        std::fs::remove_file(&path).unwrap();
        r
    }

    /// The interleaving that lost a whole file while following: the directory is read in
    /// the middle of a rotation (`.1` already moved to `.2`, the live file not yet moved to
    /// `.1`), and the rotation ends before the files are opened.
    #[test]
    fn snapshot_taken_during_a_rotation_misses_no_file() {
        let dir =
            std::env::temp_dir().join(format!("berth-logs-snapshot-{}/c0ffee", std::process::id()));
        let _ = std::fs::remove_dir_all(dir.parent().unwrap());
        std::fs::create_dir_all(&dir).unwrap();
        let live = log_path(&dir).unwrap();
        let rotated = |n| super::super::writer::rotated(&live, n);
        // Mid-rotation with max-file 3: `.2` dropped, `.1` (f) moved to `.2`, g still live.
        std::fs::write(rotated(2), "f\n").unwrap();
        std::fs::write(&live, "g\n").unwrap();
        let mut rotations = 0;
        let files = snapshot_with(&live, &mut || {
            if rotations == 0 {
                std::fs::rename(&live, rotated(1)).unwrap();
                std::fs::write(&live, "h\n").unwrap();
            }
            rotations += 1;
        })
        .unwrap();
        let text: Vec<String> = files
            .iter()
            .map(|f| {
                let mut s = String::new();
                (&f.file).read_to_string(&mut s).unwrap();
                s
            })
            .collect();
        assert_eq!(text, ["f\n", "g\n", "h\n"]);
        std::fs::remove_dir_all(dir.parent().unwrap()).unwrap();
    }

    #[test]
    fn tail_start_counts_complete_lines_from_the_end() {
        assert_eq!(tail_of("a\nb\nc\n", 1), (4, 1));
        assert_eq!(tail_of("a\nb\nc\n", 2), (2, 2));
        assert_eq!(tail_of("a\nb\nc\n", 3), (0, 3));
        assert_eq!(tail_of("a\nb\nc\n", 5), (0, 3));
        assert_eq!(tail_of("a\nb\nc\npart", 1), (4, 1));
        assert_eq!(tail_of("a\nb\nc\npart", 0), (6, 0));
        assert_eq!(tail_of("part", 2), (0, 0));
        assert_eq!(tail_of("", 2), (0, 0));
    }
}
