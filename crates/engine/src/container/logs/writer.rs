//! The json-file writer the supervisor feeds with the container's output: lines split per
//! stream as Docker's log copier splits them, entries encoded as its json-file driver, and
//! the live file rotated the same way.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use super::json::encode_entry;
use super::options::LogOptions;
use super::{Stream, log_path};
use crate::time::Instant;

/// Docker's copier buffer: a line that fills it without a newline is written as a partial
/// entry (no trailing `\n` in its `log`).
pub(crate) const MAX_LINE: usize = 16 * 1024;

/// Writes one container's log. Not synchronized: the supervisor owns it (behind a mutex if
/// two threads copy the pipes). Entries of one `write` call go out in one `write(2)`
/// (split only by a rotation); nothing is fsynced, as Docker.
pub struct LogWriter {
    path: PathBuf,
    file: File,
    /// Bytes in the live file, counting `pending`.
    size: u64,
    options: LogOptions,
    partial: [Partial; 2],
    /// Encoded entries not yet written.
    pending: Vec<u8>,
}

#[derive(Default)]
struct Partial {
    bytes: Vec<u8>,
    /// The time of the first piece of a line written in pieces: every later piece, the
    /// last one too, carries it (Docker's `partialTS`).
    time: Option<Instant>,
}

fn now() -> Instant {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as Instant)
        .unwrap_or_default()
}

fn open_mode() -> OpenOptions {
    let mut o = OpenOptions::new();
    o.write(true).create(true).mode(0o640);
    o
}

impl LogWriter {
    /// Opens (appending to) `<dir>/<id>-json.log`, `<id>` being `dir`'s name.
    pub fn open(dir: &Path, options: LogOptions) -> io::Result<LogWriter> {
        let path = log_path(dir)?;
        let file = open_mode().append(true).open(&path)?;
        let size = file.metadata()?.len();
        Ok(LogWriter {
            path,
            file,
            size,
            options,
            partial: Default::default(),
            pending: Vec::new(),
        })
    }

    /// The live log file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Logs a chunk of a stream's output, stamped with the current time.
    pub fn write(&mut self, stream: Stream, chunk: &[u8]) -> io::Result<()> {
        self.write_at(stream, chunk, now())
    }

    /// Logs a chunk of a stream's output read at `time` (nanoseconds since the epoch).
    pub fn write_at(&mut self, stream: Stream, mut chunk: &[u8], time: Instant) -> io::Result<()> {
        while !chunk.is_empty() {
            let partial = &mut self.partial[stream as usize];
            let room = MAX_LINE - partial.bytes.len();
            let window = &chunk[..room.min(chunk.len())];
            if let Some(q) = window.iter().position(|&b| b == b'\n') {
                partial.bytes.extend_from_slice(&window[..q]);
                chunk = &chunk[q + 1..];
                self.push(stream, true, time)?;
            } else if window.len() == room {
                partial.bytes.extend_from_slice(window);
                chunk = &chunk[room..];
                self.push(stream, false, time)?;
            } else {
                partial.bytes.extend_from_slice(window);
                chunk = &[];
            }
        }
        self.flush_pending()
    }

    /// The stream reached its end: what is left of its last line is written as a partial
    /// entry, as Docker does.
    pub fn end_stream(&mut self, stream: Stream) -> io::Result<()> {
        self.end_stream_at(stream, now())
    }

    /// [`LogWriter::end_stream`] at a given time.
    pub fn end_stream_at(&mut self, stream: Stream, time: Instant) -> io::Result<()> {
        if !self.partial[stream as usize].bytes.is_empty() {
            self.push(stream, false, time)?;
        }
        self.flush_pending()
    }

    /// Ends both streams and closes the file.
    pub fn close(mut self) -> io::Result<()> {
        let time = now();
        self.end_stream_at(Stream::Stdout, time)?;
        self.end_stream_at(Stream::Stderr, time)
    }

    /// Encodes the stream's buffered bytes as one entry: a whole line (`complete`) or a
    /// piece of one.
    fn push(&mut self, stream: Stream, complete: bool, time: Instant) -> io::Result<()> {
        if let Some(max) = self.options.max_size
            && self.size >= max
        {
            self.rotate()?;
        }
        let partial = &mut self.partial[stream as usize];
        let time = if complete {
            partial.time.take().unwrap_or(time)
        } else {
            *partial.time.get_or_insert(time)
        };
        let before = self.pending.len();
        encode_entry(
            &mut self.pending,
            &partial.bytes,
            complete,
            stream.as_str(),
            time,
        );
        partial.bytes.clear();
        self.size += (self.pending.len() - before) as u64;
        Ok(())
    }

    fn flush_pending(&mut self) -> io::Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let result = self.file.write_all(&self.pending);
        self.pending.clear();
        result
    }

    /// Docker's rotation: drop `.<max-file - 1>`, shift `.N` to `.N+1` (oldest first, so a
    /// name is never overwritten while it holds a file still wanted), move the live file to
    /// `.1` (or unlink it when only one file is kept), start a new live file.
    fn rotate(&mut self) -> io::Result<()> {
        self.flush_pending()?;
        let max = self.options.max_file;
        if max < 2 {
            remove_if_exists(&self.path)?;
        } else {
            remove_if_exists(&rotated(&self.path, max - 1))?;
            for i in (2..max).rev() {
                rename_if_exists(&rotated(&self.path, i - 1), &rotated(&self.path, i))?;
            }
            rename_if_exists(&self.path, &rotated(&self.path, 1))?;
        }
        self.file = open_mode().truncate(true).open(&self.path)?;
        self.size = 0;
        Ok(())
    }
}

/// `<live>.<n>`.
pub(crate) fn rotated(live: &Path, n: u32) -> PathBuf {
    let mut name = live.as_os_str().to_os_string();
    name.push(format!(".{n}"));
    PathBuf::from(name)
}

fn remove_if_exists(path: &Path) -> io::Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

fn rename_if_exists(from: &Path, to: &Path) -> io::Result<()> {
    match std::fs::rename(from, to) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: Instant = 1_795_976_720_000_000_001;

    fn dir() -> (tempdir::Dir, PathBuf) {
        let d = tempdir::Dir::new();
        let c = d.path().join("abc");
        std::fs::create_dir(&c).unwrap();
        (d, c)
    }

    mod tempdir {
        pub struct Dir(std::path::PathBuf);
        impl Dir {
            pub fn new() -> Dir {
                use std::sync::atomic::{AtomicU32, Ordering};
                static N: AtomicU32 = AtomicU32::new(0);
                let p = std::env::temp_dir().join(format!(
                    "berth-logs-unit-{}-{}",
                    std::process::id(),
                    N.fetch_add(1, Ordering::Relaxed)
                ));
                std::fs::create_dir_all(&p).unwrap();
                Dir(p)
            }
            pub fn path(&self) -> &std::path::Path {
                &self.0
            }
        }
        impl Drop for Dir {
            fn drop(&mut self) {
                let _ = std::fs::remove_dir_all(&self.0);
            }
        }
    }

    fn read(path: &Path) -> String {
        std::fs::read_to_string(path).unwrap()
    }

    #[test]
    fn splits_lines_per_stream_across_chunks() {
        let (_d, c) = dir();
        let mut w = LogWriter::open(&c, LogOptions::default()).unwrap();
        assert_eq!(w.path(), c.join("abc-json.log"));
        w.write_at(Stream::Stdout, b"hel", T0).unwrap();
        w.write_at(Stream::Stderr, b"oops\nerr", T0 + 1).unwrap();
        w.write_at(Stream::Stdout, b"lo\n\nworld", T0 + 2).unwrap();
        w.end_stream_at(Stream::Stdout, T0 + 3).unwrap();
        w.end_stream_at(Stream::Stderr, T0 + 4).unwrap();
        assert_eq!(
            read(w.path()),
            concat!(
                "{\"log\":\"oops\\n\",\"stream\":\"stderr\",\"time\":\"2026-11-29T18:25:20.000000002Z\"}\n",
                "{\"log\":\"hello\\n\",\"stream\":\"stdout\",\"time\":\"2026-11-29T18:25:20.000000003Z\"}\n",
                "{\"log\":\"\\n\",\"stream\":\"stdout\",\"time\":\"2026-11-29T18:25:20.000000003Z\"}\n",
                "{\"log\":\"world\",\"stream\":\"stdout\",\"time\":\"2026-11-29T18:25:20.000000004Z\"}\n",
                "{\"log\":\"err\",\"stream\":\"stderr\",\"time\":\"2026-11-29T18:25:20.000000005Z\"}\n",
            )
        );
    }

    #[test]
    fn long_lines_become_16k_pieces_stamped_with_the_first_piece() {
        let (_d, c) = dir();
        let mut w = LogWriter::open(&c, LogOptions::default()).unwrap();
        let mut line = vec![b'a'; MAX_LINE];
        line.extend_from_slice(&[b'b'; MAX_LINE]);
        line.extend_from_slice(b"cc\n");
        w.write_at(Stream::Stdout, &line[..100], T0).unwrap();
        w.write_at(Stream::Stdout, &line[100..], T0 + 1).unwrap();
        // Exactly 16 KiB then a newline: the newline does not fit, so an empty last piece.
        w.write_at(Stream::Stdout, &[b'd'; MAX_LINE], T0 + 2)
            .unwrap();
        w.write_at(Stream::Stdout, b"\n", T0 + 3).unwrap();
        w.close().unwrap();
        let text = read(&c.join("abc-json.log"));
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 5);
        let t1 = "\"stream\":\"stdout\",\"time\":\"2026-11-29T18:25:20.000000002Z\"}";
        assert_eq!(
            lines[0],
            format!("{{\"log\":\"{}\",{t1}", "a".repeat(MAX_LINE))
        );
        assert_eq!(
            lines[1],
            format!("{{\"log\":\"{}\",{t1}", "b".repeat(MAX_LINE))
        );
        assert_eq!(lines[2], format!("{{\"log\":\"cc\\n\",{t1}"));
        let t3 = "\"stream\":\"stdout\",\"time\":\"2026-11-29T18:25:20.000000003Z\"}";
        assert_eq!(
            lines[3],
            format!("{{\"log\":\"{}\",{t3}", "d".repeat(MAX_LINE))
        );
        assert_eq!(lines[4], format!("{{\"log\":\"\\n\",{t3}"));
    }

    #[test]
    fn rotates_once_the_live_file_has_reached_max_size() {
        let (_d, c) = dir();
        let options = LogOptions {
            max_size: Some(200),
            max_file: 3,
        };
        let mut w = LogWriter::open(&c, options).unwrap();
        // Each entry is 77 bytes: three fit under 200 (the third crosses it), the fourth
        // starts a new file.
        for i in 0..10 {
            w.write_at(Stream::Stdout, format!("line {i}\n").as_bytes(), T0)
                .unwrap();
        }
        w.close().unwrap();
        let live = c.join("abc-json.log");
        let count = |p: &Path| read(p).lines().count();
        assert_eq!(count(&live), 1); // line 9
        assert_eq!(count(&rotated(&live, 1)), 3); // 6..8
        assert_eq!(count(&rotated(&live, 2)), 3); // 3..5
        assert!(!rotated(&live, 3).exists());
        assert!(read(&rotated(&live, 2)).starts_with("{\"log\":\"line 3\\n\""));
        assert!(read(&live).starts_with("{\"log\":\"line 9\\n\""));
    }

    #[test]
    fn max_file_one_truncates_by_replacing() {
        let (_d, c) = dir();
        let options = LogOptions {
            max_size: Some(1),
            max_file: 1,
        };
        let mut w = LogWriter::open(&c, options).unwrap();
        for i in 0..3 {
            w.write_at(Stream::Stderr, format!("{i}\n").as_bytes(), T0)
                .unwrap();
        }
        let live = c.join("abc-json.log");
        assert_eq!(std::fs::read_dir(&c).unwrap().count(), 1);
        assert!(read(&live).starts_with("{\"log\":\"2\\n\""));
    }

    #[test]
    fn reopening_appends_and_counts_the_existing_size() {
        let (_d, c) = dir();
        let options = LogOptions {
            max_size: Some(50),
            max_file: 2,
        };
        let mut w = LogWriter::open(&c, options).unwrap();
        w.write_at(Stream::Stdout, b"first run\n", T0).unwrap();
        w.close().unwrap();
        let mut w = LogWriter::open(&c, options).unwrap();
        w.write_at(Stream::Stdout, b"second run\n", T0).unwrap();
        let live = c.join("abc-json.log");
        assert!(read(&rotated(&live, 1)).contains("first run"));
        assert!(read(&live).contains("second run"));
    }
}
