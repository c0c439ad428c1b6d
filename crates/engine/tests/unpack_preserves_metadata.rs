//! What an unpacked layer keeps from its tar: file types, modes with setuid/setgid/sticky,
//! owners, mtimes (directories after their contents), xattrs by policy, whiteouts, and
//! tar's rule that a later entry replaces an earlier one. Runs as root (chown, mknod,
//! trusted xattrs).

mod layer_support;

use std::fs;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::Path;

use berth_engine::layer::{self, UnpackOptions};
use layer_support::{Entry, Sandbox, Tar, require_root};
use tar::EntryType;

fn as_root() -> UnpackOptions {
    UnpackOptions {
        same_owner: true,
        allow_devices: true,
        ..UnpackOptions::default()
    }
}

fn xattr(path: &Path, name: &str) -> Option<Vec<u8>> {
    let mut buf = vec![0u8; 256];
    let n = rustix::fs::lgetxattr(path, name, &mut buf[..]).ok()?;
    buf.truncate(n);
    Some(buf)
}

#[test]
fn modes_owners_and_times_are_preserved() {
    require_root();
    let sb = Sandbox::new();
    let tar = Tar::new()
        .entry(Entry {
            path: "./",
            kind: EntryType::Directory,
            mode: 0o751,
            mtime: 11,
            ..Entry::default()
        })
        .entry(Entry {
            path: "bin/su",
            data: b"su",
            mode: 0o4755,
            uid: 1234,
            gid: 5678,
            mtime: 1_234_567_890,
            ..Entry::default()
        })
        .entry(Entry {
            path: "tmp",
            kind: EntryType::Directory,
            mode: 0o1777,
            mtime: 100,
            ..Entry::default()
        })
        .entry(Entry {
            path: "tmp/inside",
            data: b"x",
            mtime: 5,
            ..Entry::default()
        })
        .entry(Entry {
            path: "shared",
            kind: EntryType::Directory,
            mode: 0o2775,
            uid: 7,
            gid: 8,
            mtime: 200,
            ..Entry::default()
        })
        .entry(Entry {
            path: "shared/link",
            kind: EntryType::Symlink,
            link: "../bin/su",
            uid: 9,
            gid: 10,
            mtime: 300,
            ..Entry::default()
        })
        .pax(&[("uid", b"3000000"), ("mtime", b"1700000000.25")])
        .entry(Entry {
            path: "big-uid",
            data: b"",
            mode: 0o600,
            ..Entry::default()
        })
        .finish();
    let stats = layer::unpack(&tar[..], &sb.dest, &as_root()).unwrap();
    assert_eq!(stats.bytes, 3);

    let su = fs::metadata(sb.path("bin/su")).unwrap();
    assert_eq!(
        (su.mode() & 0o7777, su.uid(), su.gid(), su.mtime()),
        (0o4755, 1234, 5678, 1_234_567_890)
    );
    let tmp = fs::metadata(sb.path("tmp")).unwrap();
    assert_eq!(
        (tmp.mode() & 0o7777, tmp.mtime()),
        (0o1777, 100),
        "dir mtime is set after its contents"
    );
    let shared = fs::metadata(sb.path("shared")).unwrap();
    assert_eq!(
        (
            shared.mode() & 0o7777,
            shared.uid(),
            shared.gid(),
            shared.mtime()
        ),
        (0o2775, 7, 8, 200)
    );
    let link = fs::symlink_metadata(sb.path("shared/link")).unwrap();
    assert_eq!(
        (link.uid(), link.gid(), link.mtime()),
        (9, 10, 300),
        "symlink metadata, not its target's"
    );
    let big = fs::metadata(sb.path("big-uid")).unwrap();
    assert_eq!(
        (big.uid(), big.mtime(), big.mtime_nsec()),
        (3_000_000, 1_700_000_000, 250_000_000)
    );
    let root = fs::metadata(&sb.dest).unwrap();
    assert_eq!((root.mode() & 0o7777, root.mtime()), (0o751, 11));
    sb.assert_outside_untouched();
}

#[test]
fn owners_are_ours_without_same_owner() {
    require_root();
    let sb = Sandbox::new();
    let tar = Tar::new()
        .entry(Entry {
            path: "f",
            uid: 1234,
            gid: 5678,
            ..Entry::default()
        })
        .finish();
    layer::unpack(&tar[..], &sb.dest, &UnpackOptions::default()).unwrap();
    let m = fs::metadata(sb.path("f")).unwrap();
    assert_eq!((m.uid(), m.gid()), (0, 0));
}

#[test]
fn special_files_are_created_when_allowed() {
    require_root();
    let sb = Sandbox::new();
    let tar = Tar::new()
        .entry(Entry {
            path: "dev/null",
            kind: EntryType::Char,
            dev: (1, 3),
            mode: 0o666,
            ..Entry::default()
        })
        .entry(Entry {
            path: "dev/sda",
            kind: EntryType::Block,
            dev: (8, 0),
            mode: 0o660,
            gid: 6,
            ..Entry::default()
        })
        .entry(Entry {
            path: "run/fifo",
            kind: EntryType::Fifo,
            mode: 0o620,
            ..Entry::default()
        })
        .file("data", b"same inode")
        .hardlink("data-link", "data")
        .finish();
    layer::unpack(&tar[..], &sb.dest, &as_root()).unwrap();
    let null = fs::metadata(sb.path("dev/null")).unwrap();
    assert!(null.file_type().is_char_device());
    assert_eq!(
        (null.rdev(), null.mode() & 0o7777),
        (rustix::fs::makedev(1, 3), 0o666)
    );
    let sda = fs::metadata(sb.path("dev/sda")).unwrap();
    assert!(sda.file_type().is_block_device());
    assert_eq!((sda.rdev(), sda.gid()), (rustix::fs::makedev(8, 0), 6));
    assert!(
        fs::metadata(sb.path("run/fifo"))
            .unwrap()
            .file_type()
            .is_fifo()
    );
    let data = fs::metadata(sb.path("data")).unwrap();
    assert_eq!(
        data.ino(),
        fs::metadata(sb.path("data-link")).unwrap().ino()
    );
    assert_eq!(data.nlink(), 2);
}

#[test]
fn fifos_are_allowed_without_devices() {
    let sb = Sandbox::new();
    let tar = Tar::new()
        .entry(Entry {
            path: "fifo",
            kind: EntryType::Fifo,
            ..Entry::default()
        })
        .finish();
    layer::unpack(&tar[..], &sb.dest, &UnpackOptions::default()).unwrap();
    assert!(fs::metadata(sb.path("fifo")).unwrap().file_type().is_fifo());
}

#[test]
fn xattrs_follow_the_policy() {
    require_root();
    let sb = Sandbox::new();
    // cap_net_raw in the permitted set, VFS_CAP_REVISION_2.
    let cap: &[u8] = &[
        0, 0, 0, 2, 0, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    ];
    let tar = Tar::new()
        .pax(&[
            ("SCHILY.xattr.user.note", b"hello"),
            ("SCHILY.xattr.security.capability", cap),
            ("SCHILY.xattr.trusted.overlay.redirect", b"/elsewhere"),
            (
                "SCHILY.xattr.security.selinux",
                b"system_u:object_r:shadow_t:s0",
            ),
        ])
        .entry(Entry {
            path: "ping",
            data: b"ping",
            mode: 0o755,
            ..Entry::default()
        })
        .pax(&[("SCHILY.xattr.trusted.overlay.opaque", b"y")])
        .dir("forged")
        .finish();
    let stats = layer::unpack(&tar[..], &sb.dest, &as_root()).unwrap();
    let ping = sb.path("ping");
    assert_eq!(xattr(&ping, "user.note").as_deref(), Some(&b"hello"[..]));
    assert!(xattr(&ping, "security.capability").is_some());
    assert_eq!(xattr(&ping, "trusted.overlay.redirect"), None);
    assert_eq!(
        xattr(&sb.path("forged"), "trusted.overlay.opaque"),
        None,
        "opaque only from .wh..wh..opq"
    );
    assert_eq!(stats.xattrs_skipped, 3);
}

#[test]
fn whiteouts_become_overlay_whiteouts() {
    require_root();
    let sb = Sandbox::new();
    let tar = Tar::new()
        .file(".wh.gone", b"")
        .dir("etc")
        .file("etc/.wh.old.conf", b"")
        .dir("opq")
        .file("opq/.wh..wh..opq", b"")
        .file("opq/new", b"new")
        .file(".wh..wh.plnk", b"")
        .finish();
    let stats = layer::unpack(&tar[..], &sb.dest, &as_root()).unwrap();
    assert_eq!((stats.whiteouts, stats.opaque_dirs), (2, 1));
    for name in ["gone", "etc/old.conf"] {
        let m = fs::symlink_metadata(sb.path(name)).unwrap();
        assert!(
            m.file_type().is_char_device() && m.rdev() == 0,
            "{name} is a 0:0 char device"
        );
    }
    assert_eq!(
        xattr(&sb.path("opq"), "trusted.overlay.opaque").as_deref(),
        Some(&b"y"[..])
    );
    assert!(!sb.path(".wh..wh.plnk").exists() && !sb.path(".wh.gone").exists());
}

#[test]
fn later_entries_replace_earlier_ones() {
    let sb = Sandbox::new();
    let tar = Tar::new()
        .dir("was-dir")
        .file("was-dir/child", b"x")
        .file("was-dir", b"now a file")
        .file("was-file", b"x")
        .dir("was-file")
        .file("was-file/child", b"y")
        .dir("kept")
        .file("kept/a", b"a")
        .entry(Entry {
            path: "kept",
            kind: EntryType::Directory,
            mode: 0o700,
            ..Entry::default()
        })
        .file("twice", b"first")
        .file("twice", b"second")
        .finish();
    layer::unpack(&tar[..], &sb.dest, &UnpackOptions::default()).unwrap();
    assert_eq!(fs::read(sb.path("was-dir")).unwrap(), b"now a file");
    assert_eq!(fs::read(sb.path("was-file/child")).unwrap(), b"y");
    assert_eq!(
        fs::read(sb.path("kept/a")).unwrap(),
        b"a",
        "a directory over a directory merges"
    );
    assert_eq!(
        fs::metadata(sb.path("kept")).unwrap().mode() & 0o7777,
        0o700
    );
    assert_eq!(fs::read(sb.path("twice")).unwrap(), b"second");
    sb.assert_outside_untouched();
}

#[test]
fn empty_layers_unpack_to_nothing() {
    for tar in [Vec::new(), vec![0u8; 1024], Tar::new().finish()] {
        let sb = Sandbox::new();
        let stats = layer::unpack(&tar[..], &sb.dest, &UnpackOptions::default()).unwrap();
        assert_eq!(stats.entries, 0);
        assert_eq!(fs::read_dir(&sb.dest).unwrap().count(), 0);
    }
}

#[test]
fn zstd_layers_are_detected_by_content() {
    let sb = Sandbox::new();
    let tar = Tar::new()
        .dir("etc")
        .file("etc/os-release", b"ID=berth")
        .finish();
    let zst = zstd::stream::encode_all(&tar[..], 3).unwrap();
    layer::unpack(
        layer::decompressed(&zst[..]).unwrap(),
        &sb.dest,
        &UnpackOptions::default(),
    )
    .unwrap();
    assert_eq!(fs::read(sb.path("etc/os-release")).unwrap(), b"ID=berth");
}

#[test]
fn the_whole_stream_is_read_for_the_diff_id() {
    let sb = Sandbox::new();
    let mut tar = Tar::new().file("f", b"x").finish();
    tar.extend([0u8; 8192]); // record padding after the end-of-archive blocks
    let mut reader = &tar[..];
    layer::unpack(&mut reader, &sb.dest, &UnpackOptions::default()).unwrap();
    assert!(reader.is_empty(), "{} bytes left unread", reader.len());
}
