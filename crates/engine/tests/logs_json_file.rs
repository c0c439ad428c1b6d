//! The json-file log driver and `berth logs` reading it: bytes on disk, rotation, tail,
//! since/until, and following a file while it is written and rotated (synchronized on
//! content, never on sleeps).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};

use berth_engine::container::logs::{
    LogDriver, LogOptions, LogWriter, ReadOptions, Stream, Tail, follow, log_path, parse_since,
    parse_tail, read,
};

const T0: i128 = 1_795_976_720_000_000_000; // 2026-11-29T18:25:20Z
const SEC: i128 = 1_000_000_000;

struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> (TempDir, PathBuf) {
        let root = std::env::temp_dir().join(format!("berth-logs-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let dir = root.join("c0ffee");
        std::fs::create_dir_all(&dir).unwrap();
        (TempDir(root), dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn rotating(max_size: u64, max_file: u32) -> LogOptions {
    LogOptions {
        max_size: Some(max_size),
        max_file,
    }
}

fn read_all(dir: &Path, options: &ReadOptions) -> (String, String) {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    read(dir, options, &mut out, &mut err).unwrap();
    (
        String::from_utf8(out).unwrap(),
        String::from_utf8(err).unwrap(),
    )
}

fn numbered(dir: &Path, options: LogOptions, n: usize) {
    let mut w = LogWriter::open(dir, options).unwrap();
    for i in 0..n {
        let stream = if i % 2 == 0 {
            Stream::Stdout
        } else {
            Stream::Stderr
        };
        w.write_at(
            stream,
            format!("line {i}\n").as_bytes(),
            T0 + i as i128 * SEC,
        )
        .unwrap();
    }
    w.close().unwrap();
}

fn lines(range: std::ops::Range<usize>, stream: usize) -> String {
    range
        .filter(|i| i % 2 == stream)
        .map(|i| format!("line {i}\n"))
        .collect()
}

#[test]
fn written_bytes_are_dockers() {
    let (_t, dir) = TempDir::new("bytes");
    let mut w = LogWriter::open(&dir, LogOptions::default()).unwrap();
    w.write_at(
        Stream::Stdout,
        b"<b>\"quoted\" & \\ \t tab\r\n",
        T0 + 120_000_000,
    )
    .unwrap();
    w.write_at(Stream::Stderr, b"bad \xff utf8\npart", T0 + SEC)
        .unwrap();
    w.write_at(Stream::Stdout, b"no newline", T0 + 2 * SEC)
        .unwrap();
    w.end_stream_at(Stream::Stdout, T0 + 3 * SEC).unwrap();
    w.end_stream_at(Stream::Stderr, T0 + 3 * SEC).unwrap();
    let text = std::fs::read_to_string(log_path(&dir).unwrap()).unwrap();
    assert_eq!(
        text,
        concat!(
            r#"{"log":"\u003cb\u003e\"quoted\" \u0026 \\ \u0009 tab\r\n","stream":"stdout","time":"2026-11-29T18:25:20.12Z"}"#,
            "\n",
            r#"{"log":"bad \ufffd utf8\n","stream":"stderr","time":"2026-11-29T18:25:21Z"}"#,
            "\n",
            r#"{"log":"no newline","stream":"stdout","time":"2026-11-29T18:25:23Z"}"#,
            "\n",
            // Stamped when it is written, at the end of the stream.
            r#"{"log":"part","stream":"stderr","time":"2026-11-29T18:25:23Z"}"#,
            "\n",
        )
    );
    assert!(log_path(&dir).unwrap().ends_with("c0ffee/c0ffee-json.log"));
    // Read back as `docker logs` prints it, and with -t.
    let (out, err) = read_all(&dir, &ReadOptions::default());
    assert_eq!(out, "<b>\"quoted\" & \\ \t tab\r\nno newline");
    assert_eq!(err, "bad \u{fffd} utf8\npart");
    let (out, _) = read_all(
        &dir,
        &ReadOptions {
            timestamps: true,
            ..Default::default()
        },
    );
    assert_eq!(
        out,
        "2026-11-29T18:25:20.120000000Z <b>\"quoted\" & \\ \t tab\r\n2026-11-29T18:25:23.000000000Z no newline"
    );
    let (out, _) = read_all(
        &dir,
        &ReadOptions {
            details: true,
            tail: Tail::Last(2),
            ..Default::default()
        },
    );
    assert_eq!(out, " no newline");
}

#[test]
fn sixteen_kib_lines_are_split_and_read_back_whole() {
    let (_t, dir) = TempDir::new("split");
    let mut w = LogWriter::open(&dir, LogOptions::default()).unwrap();
    let long = "x".repeat(40_000);
    // Interleaved with the other stream in arbitrary chunks.
    for (i, piece) in long.as_bytes().chunks(7_000).enumerate() {
        w.write_at(Stream::Stdout, piece, T0 + i as i128).unwrap();
        w.write_at(Stream::Stderr, b"e\n", T0 + i as i128).unwrap();
    }
    w.write_at(Stream::Stdout, b"\n", T0 + 10).unwrap();
    w.close().unwrap();
    let text = std::fs::read_to_string(log_path(&dir).unwrap()).unwrap();
    let stdout: Vec<&str> = text.lines().filter(|l| l.contains("\"stdout\"")).collect();
    assert_eq!(stdout.len(), 3);
    assert!(stdout[0].starts_with(&format!("{{\"log\":\"{}\",", "x".repeat(16_384))));
    assert!(stdout[1].starts_with(&format!("{{\"log\":\"{}\",", "x".repeat(16_384))));
    assert!(stdout[2].starts_with(&format!(
        "{{\"log\":\"{}\\n\",",
        "x".repeat(40_000 - 32_768)
    )));
    assert!(
        stdout
            .iter()
            .all(|l| l.ends_with("\"time\":\"2026-11-29T18:25:20.000000002Z\"}"))
    );
    let (out, err) = read_all(&dir, &ReadOptions::default());
    assert_eq!(out, format!("{long}\n"));
    assert_eq!(err, "e\n".repeat(6));
}

#[test]
fn rotation_keeps_max_file_files_in_order() {
    let (_t, dir) = TempDir::new("rotation");
    // Each entry is 77 bytes; a file is rotated once it holds 200, so three per file.
    numbered(&dir, rotating(200, 3), 20);
    let live = log_path(&dir).unwrap();
    let names: Vec<String> = {
        let mut n: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        n.sort();
        n
    };
    assert_eq!(
        names,
        ["c0ffee-json.log", "c0ffee-json.log.1", "c0ffee-json.log.2"]
    );
    let file = |suffix: &str| {
        let text = std::fs::read_to_string(format!("{}{suffix}", live.display())).unwrap();
        text.lines()
            .map(|l| l.split('"').nth(3).unwrap().to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(file(".2"), ["line 12\\n", "line 13\\n", "line 14\\n"]);
    assert_eq!(file(".1"), ["line 15\\n", "line 16\\n", "line 17\\n"]);
    assert_eq!(file(""), ["line 18\\n", "line 19\\n"]);
    // Reading goes across the files, oldest first.
    let (out, err) = read_all(&dir, &ReadOptions::default());
    assert_eq!(out, lines(12..20, 0));
    assert_eq!(err, lines(12..20, 1));
}

#[test]
fn tail_reads_across_rotated_files_from_the_end() {
    let (_t, dir) = TempDir::new("tail");
    // Five files of three entries at most: all 14 entries are kept.
    numbered(&dir, rotating(200, 5), 14);
    for (n, first) in [
        (0, 14),
        (1, 13),
        (2, 12),
        (4, 10),
        (7, 7),
        (12, 2),
        (100, 0),
    ] {
        let (out, err) = read_all(
            &dir,
            &ReadOptions {
                tail: Tail::Last(n),
                ..Default::default()
            },
        );
        assert_eq!(out, lines(first..14, 0), "--tail {n}");
        assert_eq!(err, lines(first..14, 1), "--tail {n}");
    }
    assert_eq!(parse_tail("3").unwrap(), Tail::Last(3));
}

#[test]
fn since_and_until_filter_by_entry_time() {
    let (_t, dir) = TempDir::new("since");
    numbered(&dir, rotating(200, 5), 12);
    let since = parse_since("2026-11-29T18:25:23Z", 0).unwrap();
    let until = parse_since("1795976728", 0).unwrap();
    let (out, err) = read_all(
        &dir,
        &ReadOptions {
            since: Some(since),
            until: Some(until),
            ..Default::default()
        },
    );
    assert_eq!(out, lines(3..9, 0));
    assert_eq!(err, lines(3..9, 1));
    // A relative --since, from a `now` 5 s after the last entry.
    let since = parse_since("10s", T0 + 16 * SEC).unwrap();
    let (out, err) = read_all(
        &dir,
        &ReadOptions {
            since: Some(since),
            ..Default::default()
        },
    );
    assert_eq!(out, lines(6..12, 0));
    assert_eq!(err, lines(6..12, 1));
    // Tail first, then since (Docker's order).
    let (out, _) = read_all(
        &dir,
        &ReadOptions {
            tail: Tail::Last(8),
            since: Some(T0 + 6 * SEC),
            ..Default::default()
        },
    );
    assert_eq!(out, lines(6..12, 0));
}

#[test]
fn missing_log_reads_as_empty() {
    let (_t, dir) = TempDir::new("missing");
    assert_eq!(
        read_all(&dir, &ReadOptions::default()),
        (String::new(), String::new())
    );
}

#[test]
fn bad_options_are_one_line_errors() {
    let err = |driver: &str, opts: &[&str]| {
        LogDriver::from_config(
            driver,
            opts.iter()
                .map(|o| berth_engine::container::logs::split_log_opt(o)),
        )
        .unwrap_err()
        .to_string()
    };
    assert_eq!(
        err("json-file", &["x=1"]),
        "unknown log opt 'x' for json-file log driver"
    );
    assert_eq!(
        err("json-file", &["max-size=10q"]),
        "invalid max-size '10q': invalid suffix"
    );
    assert_eq!(
        err("json-file", &["max-file=-2"]),
        "invalid max-file '-2': must be an integer of at least 1"
    );
    assert_eq!(
        err("syslog", &[]),
        "log driver 'syslog' is not supported yet"
    );
    assert_eq!(
        LogDriver::from_config("json-file", [("max-size", "10m"), ("max-file", "3")]).unwrap(),
        LogDriver::JsonFile(rotating(10_000_000, 3))
    );
    assert_eq!(
        parse_since("soon", 0).unwrap_err().to_string(),
        "invalid value for \"since\": failed to parse value as time or duration: \"soon\""
    );
}

/// A `Write` sink that another thread can wait on until it holds some text.
#[derive(Clone, Default)]
struct Shared(Arc<(Mutex<Vec<u8>>, Condvar)>);

impl Write for Shared {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.0.lock().unwrap().extend_from_slice(buf);
        self.0.1.notify_all();
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Shared {
    fn wait_for(&self, text: &str) {
        let mut guard = self.0.0.lock().unwrap();
        while !String::from_utf8_lossy(&guard).contains(text) {
            guard = self.0.1.wait(guard).unwrap();
        }
    }
    fn text(&self) -> String {
        String::from_utf8(self.0.0.lock().unwrap().clone()).unwrap()
    }
}

/// A follower running in a thread, with its sinks and its stop flag.
struct Follower {
    out: Shared,
    err: Shared,
    stop: Arc<AtomicBool>,
    /// Set when `follow` first asks `stop`, which it does after its first read.
    asked: Arc<(Mutex<bool>, Condvar)>,
    handle: std::thread::JoinHandle<()>,
}

fn start_follow(dir: &Path, options: ReadOptions) -> Follower {
    let (out, err) = (Shared::default(), Shared::default());
    let stop = Arc::new(AtomicBool::new(false));
    let asked = Arc::new((Mutex::new(false), Condvar::new()));
    let handle = {
        let (mut out, mut err, stop, asked, dir) = (
            out.clone(),
            err.clone(),
            stop.clone(),
            asked.clone(),
            dir.to_owned(),
        );
        std::thread::spawn(move || {
            let stop_now = || {
                *asked.0.lock().unwrap() = true;
                asked.1.notify_all();
                stop.load(Ordering::SeqCst)
            };
            follow(&dir, &options, &mut out, &mut err, &stop_now).unwrap();
        })
    };
    Follower {
        out,
        err,
        stop,
        asked,
        handle,
    }
}

impl Follower {
    /// Waits until the follower has done its first read.
    fn wait_started(&self) {
        let mut asked = self.asked.0.lock().unwrap();
        while !*asked {
            asked = self.asked.1.wait(asked).unwrap();
        }
    }

    /// Marks the container exited and waits for `follow` to return.
    fn end(self, dir: &Path) {
        mark_exited(dir, &self.stop);
        self.handle.join().unwrap();
    }
}

/// What the supervisor does when the container ends: replace the state file in the
/// container directory, which wakes followers.
fn mark_exited(dir: &Path, stop: &AtomicBool) {
    stop.store(true, Ordering::SeqCst);
    std::fs::write(dir.join("state.json.tmp"), "{}").unwrap();
    std::fs::rename(dir.join("state.json.tmp"), dir.join("state.json")).unwrap();
}

#[test]
fn follow_sees_new_lines_and_ends_when_stopped() {
    let (_t, dir) = TempDir::new("follow");
    let mut w = LogWriter::open(&dir, LogOptions::default()).unwrap();
    w.write_at(Stream::Stdout, b"before\n", T0).unwrap();
    let f = start_follow(&dir, ReadOptions::default());
    let (out, err) = (f.out.clone(), f.err.clone());
    out.wait_for("before\n");
    w.write_at(Stream::Stdout, b"after\n", T0 + 1).unwrap();
    out.wait_for("after\n");
    w.write_at(Stream::Stderr, b"to stderr\n", T0 + 2).unwrap();
    err.wait_for("to stderr\n");
    // The last words before the end are printed, then follow returns.
    w.write_at(Stream::Stdout, b"last\n", T0 + 3).unwrap();
    w.close().unwrap();
    f.end(&dir);
    assert_eq!(out.text(), "before\nafter\nlast\n");
    assert_eq!(err.text(), "to stderr\n");
}

#[test]
fn follow_with_tail_zero_prints_only_new_lines() {
    let (_t, dir) = TempDir::new("follow-tail");
    let mut w = LogWriter::open(&dir, LogOptions::default()).unwrap();
    w.write_at(Stream::Stdout, b"old\n", T0).unwrap();
    let f = start_follow(
        &dir,
        ReadOptions {
            tail: Tail::Last(0),
            ..Default::default()
        },
    );
    let out = f.out.clone();
    f.wait_started();
    w.write_at(Stream::Stdout, b"new\n", T0 + 1).unwrap();
    out.wait_for("new\n");
    f.end(&dir);
    assert_eq!(out.text(), "new\n");
}

#[test]
fn follow_continues_across_rotations_without_loss_or_duplicates() {
    let (_t, dir) = TempDir::new("follow-rotate");
    let mut w = LogWriter::open(&dir, rotating(300, 3)).unwrap();
    w.write_at(Stream::Stdout, b"line 0\n", T0).unwrap();
    let f = start_follow(&dir, ReadOptions::default());
    let out = f.out.clone();
    out.wait_for("line 0\n");
    // Lock-step at first: each line seen before the next is written, through rotations.
    for i in 1..20 {
        w.write_at(Stream::Stdout, format!("line {i}\n").as_bytes(), T0)
            .unwrap();
        out.wait_for(&format!("line {i}\n"));
    }
    // Then as fast as possible: several rotations may happen between two reads. Entries are
    // 67-68 bytes and a file is rotated once it holds 300, so five entries per file; with
    // max-file 3, a burst of eight lines rotates at most twice, so the file the follower is
    // in when the burst starts is at worst `.2`: nothing is rotated out before it is read.
    for burst in 0..10 {
        let base = 20 + burst * 8;
        let chunk: String = (base..base + 8).map(|i| format!("line {i}\n")).collect();
        for line in chunk.split_inclusive('\n') {
            w.write_at(Stream::Stdout, line.as_bytes(), T0).unwrap();
        }
        out.wait_for(&format!("line {}\n", base + 7));
    }
    w.close().unwrap();
    f.end(&dir);
    let expected: String = (0..100).map(|i| format!("line {i}\n")).collect();
    assert_eq!(out.text(), expected);
    let rotated = std::fs::read_dir(&dir).unwrap().count();
    assert_eq!(rotated, 4, "three log files and the state file");
}

#[test]
fn follow_returns_at_once_when_already_stopped() {
    let (_t, dir) = TempDir::new("follow-stopped");
    numbered(&dir, LogOptions::default(), 4);
    let (mut out, mut err) = (Vec::new(), Vec::new());
    follow(&dir, &ReadOptions::default(), &mut out, &mut err, &|| true).unwrap();
    assert_eq!(String::from_utf8(out).unwrap(), lines(0..4, 0));
    assert_eq!(String::from_utf8(err).unwrap(), lines(0..4, 1));
}

#[test]
fn follow_with_until_in_the_past_ends_without_waiting() {
    let (_t, dir) = TempDir::new("follow-until");
    numbered(&dir, LogOptions::default(), 6);
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let options = ReadOptions {
        until: Some(T0 + 2 * SEC),
        ..Default::default()
    };
    follow(&dir, &options, &mut out, &mut err, &|| false).unwrap();
    assert_eq!(String::from_utf8(out).unwrap(), lines(0..3, 0));
}
