//! Shared by the layer-unpacking tests: tarballs built byte by byte (so hostile paths the
//! `tar` crate's builder refuses can be written), a sandbox with a sentinel directory next to
//! the layer directory, and the root check.

#![allow(dead_code)] // each test binary uses a different part

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

/// Fails the test (never skips it) when not root: CI runs these as root, and a skipped
/// security test looks exactly like a passing one.
pub fn require_root() {
    assert!(
        rustix::process::geteuid().is_root(),
        "this test needs root (mknod, chown, trusted xattrs or mount); run it as root, as CI does"
    );
}

/// A temporary directory holding `dest` (the empty layer directory) and `sentinel` (a
/// sibling that no entry may touch). Removed on drop.
pub struct Sandbox {
    pub base: PathBuf,
    pub dest: PathBuf,
    pub sentinel: PathBuf,
    snapshot: Vec<String>,
}

impl Sandbox {
    pub fn new() -> Sandbox {
        static N: AtomicU32 = AtomicU32::new(0);
        let base = std::env::temp_dir().join(format!(
            "berth-layer-test-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = fs::remove_dir_all(&base);
        let dest = base.join("dest");
        let sentinel = base.join("sentinel");
        fs::create_dir_all(&dest).unwrap();
        fs::create_dir_all(sentinel.join("inner")).unwrap();
        fs::write(sentinel.join("canary"), b"canary").unwrap();
        fs::write(sentinel.join("inner/passwd"), b"root:x:0:0").unwrap();
        let mut sandbox = Sandbox {
            base,
            dest,
            sentinel,
            snapshot: Vec::new(),
        };
        sandbox.snapshot = sandbox.outside_view();
        sandbox
    }

    /// Absolute path of the sentinel as a string, for symlink targets and absolute entries.
    pub fn sentinel_str(&self) -> String {
        self.sentinel.to_str().unwrap().to_string()
    }

    /// Everything observable outside `dest`: the base listing and the whole sentinel tree
    /// with type, mode, owner, mtime, link count and content.
    fn outside_view(&self) -> Vec<String> {
        let mut out = Vec::new();
        for e in fs::read_dir(&self.base).unwrap() {
            out.push(format!("base: {:?}", e.unwrap().file_name()));
        }
        walk(&self.sentinel, &mut out);
        out.sort();
        out
    }

    /// Asserts that nothing outside `dest` changed.
    pub fn assert_outside_untouched(&self) {
        assert_eq!(
            self.outside_view(),
            self.snapshot,
            "something outside the layer directory changed"
        );
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dest.join(rel)
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.base);
    }
}

fn walk(dir: &Path, out: &mut Vec<String>) {
    let m = fs::symlink_metadata(dir).unwrap();
    out.push(describe(dir, &m));
    for e in fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        let m = fs::symlink_metadata(&p).unwrap();
        if m.is_dir() {
            walk(&p, out);
        } else {
            out.push(describe(&p, &m));
        }
    }
}

fn describe(p: &Path, m: &fs::Metadata) -> String {
    let content = if m.is_file() {
        String::from_utf8_lossy(&fs::read(p).unwrap()).into_owned()
    } else {
        String::new()
    };
    format!(
        "{} mode={:o} uid={} gid={} mtime={} nlink={} {content}",
        p.display(),
        m.mode(),
        m.uid(),
        m.gid(),
        m.mtime(),
        m.nlink()
    )
}

/// A tar written header by header. Names go into the header bytes directly, so `..`,
/// absolute paths and other things `tar::Builder` refuses can be written.
#[derive(Default)]
pub struct Tar {
    bytes: Vec<u8>,
}

pub struct Entry<'a> {
    pub path: &'a str,
    pub kind: tar::EntryType,
    pub data: &'a [u8],
    pub link: &'a str,
    pub mode: u32,
    pub uid: u64,
    pub gid: u64,
    pub mtime: u64,
    pub dev: (u32, u32),
}

impl Default for Entry<'_> {
    fn default() -> Self {
        Entry {
            path: "",
            kind: tar::EntryType::Regular,
            data: b"",
            link: "",
            mode: 0o644,
            uid: 0,
            gid: 0,
            mtime: 1_600_000_000,
            dev: (0, 0),
        }
    }
}

impl Tar {
    pub fn new() -> Tar {
        Tar::default()
    }

    pub fn entry(mut self, e: Entry<'_>) -> Tar {
        let mut h = tar::Header::new_ustar();
        put(&mut h.as_old_mut().name, e.path.as_bytes());
        put(&mut h.as_old_mut().linkname, e.link.as_bytes());
        h.set_entry_type(e.kind);
        h.set_size(e.data.len() as u64);
        h.set_mode(e.mode);
        h.set_uid(e.uid);
        h.set_gid(e.gid);
        h.set_mtime(e.mtime);
        h.set_device_major(e.dev.0).unwrap();
        h.set_device_minor(e.dev.1).unwrap();
        h.set_cksum();
        self.bytes.extend_from_slice(h.as_bytes());
        self.bytes.extend_from_slice(e.data);
        let pad = (512 - e.data.len() % 512) % 512;
        self.bytes.extend(std::iter::repeat_n(0u8, pad));
        self
    }

    pub fn file(self, path: &str, data: &[u8]) -> Tar {
        self.entry(Entry {
            path,
            data,
            ..Entry::default()
        })
    }

    pub fn dir(self, path: &str) -> Tar {
        self.entry(Entry {
            path,
            kind: tar::EntryType::Directory,
            mode: 0o755,
            ..Entry::default()
        })
    }

    pub fn symlink(self, path: &str, target: &str) -> Tar {
        self.entry(Entry {
            path,
            kind: tar::EntryType::Symlink,
            link: target,
            mode: 0o777,
            ..Entry::default()
        })
    }

    pub fn hardlink(self, path: &str, target: &str) -> Tar {
        self.entry(Entry {
            path,
            kind: tar::EntryType::Link,
            link: target,
            ..Entry::default()
        })
    }

    /// A PAX extended header applying `records` to the next entry.
    pub fn pax(self, records: &[(&str, &[u8])]) -> Tar {
        let mut data = Vec::new();
        for (key, value) in records {
            let body_len = key.len() + value.len() + 3; // ' ', '=', '\n'
            let mut len = body_len + 1;
            while len != body_len + len.to_string().len() {
                len = body_len + len.to_string().len();
            }
            data.extend_from_slice(format!("{len} {key}=").as_bytes());
            data.extend_from_slice(value);
            data.push(b'\n');
        }
        self.entry(Entry {
            path: "PaxHeader",
            kind: tar::EntryType::XHeader,
            data: &data,
            ..Entry::default()
        })
    }

    /// The tar without its end-of-archive blocks.
    pub fn unterminated(&self) -> Vec<u8> {
        self.bytes.clone()
    }

    pub fn finish(mut self) -> Vec<u8> {
        self.bytes.extend([0u8; 1024]);
        self.bytes
    }
}

fn put(field: &mut [u8], value: &[u8]) {
    assert!(
        value.len() <= field.len(),
        "test path too long for a ustar field"
    );
    field[..value.len()].copy_from_slice(value);
}
