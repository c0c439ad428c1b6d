//! The hostile-layer corpus: every classic escape from a layer directory, each built here as
//! a tarball, each checked for its error and for a sentinel directory next to the layer that
//! must stay untouched.

mod layer_support;

use std::fs;
use std::io::{Read, Write};
use std::os::unix::fs::MetadataExt;

use berth_engine::layer::{self, LayerError, UnpackOptions};
use layer_support::{Entry, Sandbox, Tar, require_root};

fn unpack(sb: &Sandbox, tar: &[u8]) -> Result<layer::UnpackStats, LayerError> {
    layer::unpack(tar, &sb.dest, &UnpackOptions::default())
}

fn unpack_err(sb: &Sandbox, tar: &[u8]) -> String {
    let err = unpack(sb, tar).expect_err("hostile layer was accepted");
    sb.assert_outside_untouched();
    err.to_string()
}

#[test]
fn dotdot_paths_are_refused() {
    let sb = Sandbox::new();
    let tar = Tar::new().file("../sentinel/pwned", b"x").finish();
    assert_eq!(
        unpack_err(&sb, &tar),
        r#"layer entry "../sentinel/pwned": path escapes the layer"#
    );

    let tar = Tar::new().file("a/../../../etc/passwd", b"x").finish();
    assert_eq!(
        unpack_err(&sb, &tar),
        r#"layer entry "a/../../../etc/passwd": path escapes the layer"#
    );
}

#[test]
fn dotdot_that_stays_inside_is_resolved() {
    let sb = Sandbox::new();
    let tar = Tar::new().dir("a").file("a/../b", b"ok").finish();
    unpack(&sb, &tar).unwrap();
    assert_eq!(fs::read(sb.path("b")).unwrap(), b"ok");
    sb.assert_outside_untouched();
}

#[test]
fn absolute_paths_are_confined_to_the_layer() {
    let sb = Sandbox::new();
    let abs = format!("{}/canary", sb.sentinel_str());
    let tar = Tar::new().file(&abs, b"pwned").finish();
    unpack(&sb, &tar).unwrap();
    sb.assert_outside_untouched();
    // The entry landed at the same path below the layer root.
    assert_eq!(
        fs::read(sb.dest.join(abs.trim_start_matches('/'))).unwrap(),
        b"pwned"
    );
}

#[test]
fn writing_through_a_symlinked_parent_stays_inside() {
    // `a -> /etc`, then `a/passwd`: the parent resolves as if the layer were `/`.
    let sb = Sandbox::new();
    let tar = Tar::new()
        .dir("etc")
        .symlink("a", "/etc")
        .file("a/passwd", b"layer")
        .finish();
    unpack(&sb, &tar).unwrap();
    sb.assert_outside_untouched();
    assert_eq!(fs::read(sb.path("etc/passwd")).unwrap(), b"layer");
    assert!(fs::symlink_metadata(sb.path("a")).unwrap().is_symlink());
}

#[test]
fn symlinked_parent_pointing_outside_is_refused_or_confined() {
    let sb = Sandbox::new();
    let tar = Tar::new()
        .symlink("a", &sb.sentinel_str())
        .file("a/canary", b"pwned")
        .finish();
    assert_eq!(
        unpack_err(&sb, &tar),
        r#"layer entry "a/canary": parent directory "a" is a symlink to a missing directory"#
    );

    // `..` in a symlink stops at the layer root, like `..` at `/`.
    let sb = Sandbox::new();
    let tar = Tar::new()
        .symlink("up", "../../..")
        .file("up/sentinel/canary", b"pwned")
        .finish();
    unpack(&sb, &tar).unwrap();
    sb.assert_outside_untouched();
    assert_eq!(fs::read(sb.path("sentinel/canary")).unwrap(), b"pwned");
}

#[test]
fn symlinks_pointing_outside_are_kept_but_never_followed() {
    let sb = Sandbox::new();
    let target = format!("{}/canary", sb.sentinel_str());
    let tar = Tar::new()
        .symlink("out", &target)
        .symlink("rel", "../sentinel/canary")
        .finish();
    unpack(&sb, &tar).unwrap();
    sb.assert_outside_untouched();
    assert_eq!(
        fs::read_link(sb.path("out")).unwrap().to_str(),
        Some(target.as_str())
    );
    assert_eq!(
        fs::read_link(sb.path("rel")).unwrap().to_str(),
        Some("../sentinel/canary")
    );
}

#[test]
fn a_file_replaces_a_symlink_instead_of_writing_through_it() {
    let sb = Sandbox::new();
    let target = format!("{}/canary", sb.sentinel_str());
    let tar = Tar::new()
        .symlink("out", &target)
        .file("out", b"pwned")
        .symlink("rel", "../sentinel/canary")
        .file("rel", b"pwned")
        .finish();
    unpack(&sb, &tar).unwrap();
    sb.assert_outside_untouched();
    for name in ["out", "rel"] {
        let m = fs::symlink_metadata(sb.path(name)).unwrap();
        assert!(m.is_file(), "{name} should now be a regular file");
        assert_eq!(fs::read(sb.path(name)).unwrap(), b"pwned");
    }
}

#[test]
fn a_directory_replaces_a_symlink_instead_of_following_it() {
    let sb = Sandbox::new();
    let tar = Tar::new()
        .symlink("d", &sb.sentinel_str())
        .dir("d")
        .file("d/canary", b"pwned")
        .finish();
    unpack(&sb, &tar).unwrap();
    sb.assert_outside_untouched();
    assert!(fs::symlink_metadata(sb.path("d")).unwrap().is_dir());
    assert_eq!(fs::read(sb.path("d/canary")).unwrap(), b"pwned");
}

#[test]
fn directory_metadata_is_not_applied_through_a_later_symlink() {
    // Directory modes and times are applied at the end; a symlink that replaced the
    // directory in between must not redirect them to the host.
    let sb = Sandbox::new();
    let tar = Tar::new()
        .entry(Entry {
            path: "x",
            kind: tar::EntryType::Directory,
            mode: 0o777,
            mtime: 1,
            ..Entry::default()
        })
        .entry(Entry {
            path: "p/inner",
            kind: tar::EntryType::Directory,
            mode: 0o777,
            mtime: 1,
            ..Entry::default()
        })
        .symlink("x", &sb.sentinel_str())
        .symlink("p", &sb.sentinel_str())
        .finish();
    unpack(&sb, &tar).unwrap();
    sb.assert_outside_untouched();
}

#[test]
fn hardlinks_to_paths_outside_are_refused() {
    let sb = Sandbox::new();
    let tar = Tar::new().hardlink("h", "../sentinel/canary").finish();
    assert_eq!(
        unpack_err(&sb, &tar),
        r#"layer entry "h": hardlink target "../sentinel/canary" escapes the layer"#
    );

    // An absolute target means the same path inside the layer, where nothing exists.
    let sb = Sandbox::new();
    let abs = format!("{}/canary", sb.sentinel_str());
    let tar = Tar::new().hardlink("h", &abs).finish();
    let err = unpack_err(&sb, &tar);
    assert!(
        err.starts_with(r#"layer entry "h": failed to find hardlink target: "#),
        "{err}"
    );
    assert_eq!(fs::metadata(sb.sentinel.join("canary")).unwrap().nlink(), 1);
}

#[test]
fn hardlinks_through_escaping_symlinks_are_refused() {
    // The target's parent is a symlink out of the layer.
    let sb = Sandbox::new();
    let tar = Tar::new()
        .symlink("s", &sb.sentinel_str())
        .hardlink("h", "s/canary")
        .finish();
    let err = unpack_err(&sb, &tar);
    assert!(
        err.starts_with(r#"layer entry "h": failed to find hardlink target: "#),
        "{err}"
    );

    // The target itself is a symlink out: the link is to the symlink, not to what it names.
    let sb = Sandbox::new();
    let abs = format!("{}/canary", sb.sentinel_str());
    let tar = Tar::new()
        .symlink("s", &abs)
        .hardlink("h", "s")
        .file("h", b"pwned")
        .hardlink("h2", "s")
        .finish();
    unpack(&sb, &tar).unwrap();
    sb.assert_outside_untouched();
    assert!(fs::symlink_metadata(sb.path("h2")).unwrap().is_symlink());
    assert_eq!(fs::read(sb.path("h")).unwrap(), b"pwned");
    assert_eq!(fs::metadata(sb.sentinel.join("canary")).unwrap().nlink(), 1);
}

#[test]
fn whiteouts_naming_paths_outside_are_refused() {
    let sb = Sandbox::new();
    let tar = Tar::new().file("../sentinel/.wh.canary", b"").finish();
    assert_eq!(
        unpack_err(&sb, &tar),
        r#"layer entry "../sentinel/.wh.canary": path escapes the layer"#
    );

    let sb = Sandbox::new();
    let tar = Tar::new().file(".wh..", b"").finish();
    assert_eq!(
        unpack_err(&sb, &tar),
        r#"layer entry ".wh..": whiteout names no file"#
    );

    let sb = Sandbox::new();
    let tar = Tar::new()
        .symlink("s", &sb.sentinel_str())
        .file("s/.wh.canary", b"")
        .finish();
    assert_eq!(
        unpack_err(&sb, &tar),
        r#"layer entry "s/.wh.canary": parent directory "s" is a symlink to a missing directory"#
    );

    let sb = Sandbox::new();
    let tar = Tar::new()
        .symlink("s", &sb.sentinel_str())
        .file("s/.wh..wh..opq", b"")
        .finish();
    assert_eq!(
        unpack_err(&sb, &tar),
        r#"layer entry "s/.wh..wh..opq": parent directory "s" is a symlink to a missing directory"#
    );
}

#[test]
fn whiteout_of_a_symlink_replaces_the_symlink_only() {
    require_root();
    let sb = Sandbox::new();
    let tar = Tar::new()
        .symlink("s", &sb.sentinel_str())
        .file(".wh.s", b"")
        .finish();
    let stats = unpack(&sb, &tar).unwrap();
    sb.assert_outside_untouched();
    assert_eq!(stats.whiteouts, 1);
    let m = fs::symlink_metadata(sb.path("s")).unwrap();
    assert_eq!(
        (m.mode() & 0o170000, m.rdev()),
        (0o020000, 0),
        "s should be a 0:0 char device"
    );
}

#[test]
fn device_nodes_are_refused_unless_allowed() {
    let sb = Sandbox::new();
    let tar = Tar::new()
        .entry(Entry {
            path: "dev/sda",
            kind: tar::EntryType::Block,
            dev: (8, 0),
            mode: 0o660,
            ..Entry::default()
        })
        .finish();
    assert_eq!(
        unpack_err(&sb, &tar),
        r#"layer entry "dev/sda": device nodes are not allowed here"#
    );

    let tar = Tar::new()
        .entry(Entry {
            path: "dev/mem",
            kind: tar::EntryType::Char,
            dev: (1, 1),
            ..Entry::default()
        })
        .finish();
    assert_eq!(
        unpack_err(&sb, &tar),
        r#"layer entry "dev/mem": device nodes are not allowed here"#
    );
}

#[test]
fn a_decompression_bomb_stops_at_the_byte_limit() {
    let sb = Sandbox::new();
    // 4 MiB of zeros, a few KiB compressed, against a 1 MiB limit.
    let zeros = vec![0u8; 4 << 20];
    let tar = Tar::new().file("bomb", &zeros).finish();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&tar).unwrap();
    let gz = gz.finish().unwrap();
    assert!(
        gz.len() < 64 << 10,
        "the bomb should be small: {}",
        gz.len()
    );
    let opts = UnpackOptions {
        max_total_bytes: 1 << 20,
        ..UnpackOptions::default()
    };
    let err = layer::unpack(layer::decompressed(&gz[..]).unwrap(), &sb.dest, &opts).unwrap_err();
    assert_eq!(
        err.to_string(),
        "layer is larger than 1048576 bytes uncompressed"
    );
    sb.assert_outside_untouched();
}

#[test]
fn headers_alone_count_towards_the_byte_limit() {
    // Empty files declare no size; the stream bound still counts their headers.
    let sb = Sandbox::new();
    let mut tar = Tar::new();
    for i in 0..200 {
        tar = tar.file(&format!("f{i}"), b"");
    }
    let opts = UnpackOptions {
        max_total_bytes: 64 << 10,
        ..UnpackOptions::default()
    };
    let err = layer::unpack(&tar.finish()[..], &sb.dest, &opts).unwrap_err();
    assert_eq!(
        err.to_string(),
        "layer is larger than 65536 bytes uncompressed"
    );
    sb.assert_outside_untouched();
}

/// An endless supply of empty-file headers, generated as read, so a million-entry tar
/// costs nothing until it is read.
struct ManyEntries {
    next: u64,
    total: u64,
    block: Vec<u8>,
    pos: usize,
}

impl Read for ManyEntries {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.pos == self.block.len() {
            if self.next == self.total {
                return Ok(0);
            }
            self.block = Tar::new()
                .file(&format!("f{}", self.next), b"")
                .unterminated();
            self.next += 1;
            self.pos = 0;
        }
        let n = buf.len().min(self.block.len() - self.pos);
        buf[..n].copy_from_slice(&self.block[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

#[test]
fn a_million_entries_stop_at_the_entry_limit() {
    let sb = Sandbox::new();
    let tar = ManyEntries {
        next: 0,
        total: 1_000_000,
        block: Vec::new(),
        pos: 0,
    };
    let opts = UnpackOptions {
        max_entries: 1000,
        ..UnpackOptions::default()
    };
    let err = layer::unpack(tar, &sb.dest, &opts).unwrap_err();
    assert_eq!(err.to_string(), "layer has more than 1000 entries");
    sb.assert_outside_untouched();
}

#[test]
fn long_paths_stop_at_the_path_limit() {
    let sb = Sandbox::new();
    let long = "d/".repeat(40) + "f";
    let opts = UnpackOptions {
        max_path_len: 64,
        ..UnpackOptions::default()
    };
    let err =
        layer::unpack(&Tar::new().file(&long, b"").finish()[..], &sb.dest, &opts).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(r#"layer entry "{long}": path is longer than the limit of 64 bytes"#)
    );

    let err = layer::unpack(
        &Tar::new().symlink("l", &long).finish()[..],
        &sb.dest,
        &opts,
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        r#"layer entry "l": link target is longer than the limit of 64 bytes"#
    );

    // PAX paths beyond the default 4096 bytes.
    let huge = "p".repeat(5000);
    let tar = Tar::new()
        .pax(&[("path", huge.as_bytes())])
        .file("short", b"")
        .finish();
    let err = layer::unpack(&tar[..], &sb.dest, &UnpackOptions::default()).unwrap_err();
    assert!(
        err.to_string()
            .ends_with("path is longer than the limit of 4096 bytes"),
        "{err}"
    );
    sb.assert_outside_untouched();
}

#[test]
fn truncated_tars_are_reported() {
    let data = vec![b'x'; 10_000];
    let whole = Tar::new().file("a", b"first").file("big", &data);
    let unterminated = whole.unterminated();
    let header_end = 1024; // `a`'s header and data block
    for cut in [unterminated.len(), 3000, header_end + 100, header_end] {
        let sb = Sandbox::new();
        let err =
            layer::unpack(&unterminated[..cut], &sb.dest, &UnpackOptions::default()).unwrap_err();
        assert_eq!(err.to_string(), "layer tar is truncated", "cut at {cut}");
    }
    let sb = Sandbox::new();
    layer::unpack(&whole.finish()[..], &sb.dest, &UnpackOptions::default()).unwrap();
    assert_eq!(fs::read(sb.path("big")).unwrap().len(), 10_000);
}

#[test]
fn a_truncated_gzip_layer_is_reported() {
    let tar = Tar::new().file("f", &vec![7u8; 100_000]).finish();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&tar).unwrap();
    let gz = gz.finish().unwrap();
    let sb = Sandbox::new();
    let err = layer::unpack(
        layer::decompressed(&gz[..gz.len() / 2]).unwrap(),
        &sb.dest,
        &UnpackOptions::default(),
    )
    .unwrap_err();
    assert_eq!(err.to_string(), "layer tar is truncated");
}

#[test]
fn an_entry_cannot_replace_the_layer_root() {
    let sb = Sandbox::new();
    let err = unpack(&sb, &Tar::new().symlink("./", &sb.sentinel_str()).finish()).unwrap_err();
    assert_eq!(
        err.to_string(),
        r#"layer entry "./": a non-directory entry cannot replace the layer root"#
    );
    sb.assert_outside_untouched();
}

#[test]
fn a_file_over_a_hardlink_does_not_change_the_linked_file() {
    let sb = Sandbox::new();
    let tar = Tar::new()
        .file("orig", b"original")
        .hardlink("h", "orig")
        .file("h", b"replaced")
        .finish();
    unpack(&sb, &tar).unwrap();
    assert_eq!(fs::read(sb.path("orig")).unwrap(), b"original");
    assert_eq!(fs::read(sb.path("h")).unwrap(), b"replaced");
}

#[test]
fn pax_and_gnu_long_paths_are_checked_like_header_paths() {
    let sb = Sandbox::new();
    let tar = Tar::new()
        .pax(&[("path", b"../sentinel/pwned")])
        .file("harmless", b"x")
        .finish();
    assert_eq!(
        unpack_err(&sb, &tar),
        r#"layer entry "../sentinel/pwned": path escapes the layer"#
    );

    let tar = Tar::new()
        .pax(&[("linkpath", b"../sentinel/canary")])
        .hardlink("h", "harmless")
        .finish();
    assert_eq!(
        unpack_err(&sb, &tar),
        r#"layer entry "h": hardlink target "../sentinel/canary" escapes the layer"#
    );

    let name = format!("{}/../../sentinel/pwned", "d".repeat(120));
    let tar = Tar::new()
        .entry(Entry {
            path: "././@LongLink",
            kind: tar::EntryType::GNULongName,
            data: name.as_bytes(),
            ..Entry::default()
        })
        .file("short", b"x")
        .finish();
    let err = unpack_err(&sb, &tar);
    assert_eq!(
        err,
        format!(r#"layer entry "{name}": path escapes the layer"#)
    );
}
