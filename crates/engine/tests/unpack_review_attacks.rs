//! A second hostile-layer corpus, written by attacking the unpacker: symlink chains, entries
//! replacing entries of another type, hardlinks to odd things, whiteouts in odd places, PAX
//! and GNU extension headers with odd values, sparse entries, unknown type flags, extremes of
//! time, size and depth. Every test checks that nothing next to the layer directory changed
//! and that the layer was either unpacked correctly inside its directory or refused.

mod layer_support;

use std::fs;
use std::io::Write;
use std::os::unix::fs::{FileTypeExt, MetadataExt};

use berth_engine::layer::{self, LayerError, UnpackOptions};
use layer_support::{Entry, Sandbox, Tar, require_root};
use tar::EntryType;

fn unpack(sb: &Sandbox, tar: &[u8]) -> Result<layer::UnpackStats, LayerError> {
    layer::unpack(tar, &sb.dest, &UnpackOptions::default())
}

fn as_root() -> UnpackOptions {
    UnpackOptions {
        same_owner: true,
        allow_devices: true,
        ..UnpackOptions::default()
    }
}

/// Unpacks, then checks the sentinel whatever the outcome.
fn attempt(sb: &Sandbox, tar: &[u8], opts: &UnpackOptions) -> Result<(), String> {
    let result = layer::unpack(tar, &sb.dest, opts);
    sb.assert_outside_untouched();
    result.map(|_| ()).map_err(|e| e.to_string())
}

/// A raw 512-byte header block edited by `edit`, checksummed, followed by `data`, padded.
fn raw_entry(edit: impl FnOnce(&mut tar::Header), data: &[u8]) -> Vec<u8> {
    let mut h = tar::Header::new_gnu();
    h.set_mode(0o644);
    h.set_uid(0);
    h.set_gid(0);
    h.set_mtime(1_600_000_000);
    h.set_size(data.len() as u64);
    edit(&mut h);
    h.set_cksum();
    let mut out = h.as_bytes().to_vec();
    out.extend_from_slice(data);
    out.extend(std::iter::repeat_n(0u8, (512 - data.len() % 512) % 512));
    out
}

fn set_name(h: &mut tar::Header, name: &str) {
    let field = &mut h.as_old_mut().name;
    field.fill(0);
    field[..name.len()].copy_from_slice(name.as_bytes());
}

fn end(mut tar: Vec<u8>) -> Vec<u8> {
    tar.extend([0u8; 1024]);
    tar
}

// ---- symlinks -------------------------------------------------------------------------

#[test]
fn symlink_chains_climbing_out_stay_at_the_root() {
    // a -> b -> ../.. : every hop's `..` stops at the layer root.
    let sb = Sandbox::new();
    let tar = Tar::new()
        .symlink("b", "../..")
        .symlink("a", "b")
        .file("a/sentinel/canary", b"pwned")
        .finish();
    attempt(&sb, &tar, &UnpackOptions::default()).unwrap();
    assert_eq!(fs::read(sb.path("sentinel/canary")).unwrap(), b"pwned");

    // A chain whose last hop is absolute names a path inside the layer, which is missing.
    let sb = Sandbox::new();
    let tar = Tar::new()
        .symlink("c", &sb.sentinel_str())
        .symlink("b", "c")
        .symlink("a", "b/inner")
        .file("a/passwd", b"pwned")
        .finish();
    let err = attempt(&sb, &tar, &UnpackOptions::default()).unwrap_err();
    assert!(err.contains("symlink to a missing directory"), "{err}");

    // A symlink loop is an error, not a hang.
    let sb = Sandbox::new();
    let tar = Tar::new()
        .symlink("x", "y")
        .symlink("y", "x")
        .file("x/f", b"")
        .finish();
    attempt(&sb, &tar, &UnpackOptions::default()).unwrap_err();
}

#[test]
fn a_symlink_replacing_a_directory_redirects_later_entries_inside_only() {
    let sb = Sandbox::new();
    let tar = Tar::new()
        .dir("d")
        .file("d/x", b"x")
        .symlink("d", "../../sentinel")
        .file("d/canary", b"pwned")
        .finish();
    let err = attempt(&sb, &tar, &UnpackOptions::default()).unwrap_err();
    assert!(err.contains("symlink to a missing directory"), "{err}");

    // Pointing at a directory of the layer: later entries land there.
    let sb = Sandbox::new();
    let tar = Tar::new()
        .dir("real")
        .dir("d")
        .file("d/x", b"x")
        .symlink("d", "/real")
        .file("d/y", b"y")
        .finish();
    attempt(&sb, &tar, &UnpackOptions::default()).unwrap();
    assert!(fs::symlink_metadata(sb.path("d")).unwrap().is_symlink());
    assert_eq!(fs::read(sb.path("real/y")).unwrap(), b"y");
    assert!(!sb.path("real/x").exists());
}

#[test]
fn a_directory_replacing_a_symlink_to_a_layer_directory_leaves_the_target_alone() {
    let sb = Sandbox::new();
    let tar = Tar::new()
        .dir("real")
        .file("real/keep", b"keep")
        .symlink("s", "real")
        .dir("s")
        .file("s/new", b"new")
        .finish();
    attempt(&sb, &tar, &UnpackOptions::default()).unwrap();
    assert!(fs::symlink_metadata(sb.path("s")).unwrap().is_dir());
    assert_eq!(fs::read(sb.path("real/keep")).unwrap(), b"keep");
    assert!(!sb.path("real/new").exists());
}

#[test]
fn very_long_symlink_targets_are_bounded() {
    let sb = Sandbox::new();
    // Longer than a ustar field: through PAX linkpath.
    let target = "t/".repeat(2047) + "x"; // 4095 bytes: within the limit
    let tar = Tar::new()
        .pax(&[("linkpath", target.as_bytes())])
        .symlink("l", "ignored")
        .finish();
    attempt(&sb, &tar, &UnpackOptions::default()).unwrap();
    assert_eq!(fs::read_link(sb.path("l")).unwrap().as_os_str().len(), 4095);

    let sb = Sandbox::new();
    let target = "t".repeat(100_000);
    let tar = Tar::new()
        .pax(&[("linkpath", target.as_bytes())])
        .symlink("l", "ignored")
        .finish();
    let err = attempt(&sb, &tar, &UnpackOptions::default()).unwrap_err();
    assert!(err.ends_with("link target is longer than the limit of 4096 bytes"));
}

// ---- replacing entries ------------------------------------------------------------------

#[test]
fn a_file_named_like_an_existing_directory_replaces_the_whole_tree() {
    let sb = Sandbox::new();
    let tar = Tar::new()
        .dir("a")
        .dir("a/b")
        .file("a/b/c", b"c")
        .symlink("a/out", &sb.sentinel_str())
        .file("a", b"now a file")
        .finish();
    attempt(&sb, &tar, &UnpackOptions::default()).unwrap();
    assert_eq!(fs::read(sb.path("a")).unwrap(), b"now a file");
}

#[test]
fn a_directory_tree_deeper_than_any_path_is_removed_without_crashing() {
    // Each symlink hop adds a path's worth of depth; replacing the top then has to remove a
    // tree far deeper than one path can name.
    let sb = Sandbox::new();
    let seg = "d/".repeat(1000);
    let mut tar = Tar::new()
        .pax(&[("path", format!("top/{seg}").as_bytes())])
        .dir("x");
    let mut link_target = format!("/top/{seg}");
    for i in 0..12 {
        let hop = format!("hop{i}");
        tar = tar
            .pax(&[("linkpath", link_target.as_bytes())])
            .symlink(&hop, "x")
            .pax(&[("path", format!("{hop}/{seg}").as_bytes())])
            .dir("x");
        link_target = format!("/{hop}/{seg}");
    }
    tar = tar.file("top", b"flat");
    // Either the tree is removed (enough fds) or the fd limit refuses the layer; never a
    // stack overflow.
    let result = attempt(&sb, &tar.finish(), &UnpackOptions::default());
    if result.is_ok() {
        assert_eq!(fs::read(sb.path("top")).unwrap(), b"flat");
    }
}

#[test]
fn hardlink_then_overwrite_of_the_target_through_another_path() {
    let sb = Sandbox::new();
    let tar = Tar::new()
        .dir("d")
        .file("d/a", b"original")
        .hardlink("h", "d/a")
        .symlink("s", "d")
        .file("s/a", b"replaced")
        .finish();
    attempt(&sb, &tar, &UnpackOptions::default()).unwrap();
    // Tar semantics: the later entry replaces the name; the hardlink keeps the old inode.
    assert_eq!(fs::read(sb.path("d/a")).unwrap(), b"replaced");
    assert_eq!(fs::read(sb.path("h")).unwrap(), b"original");

    // A hardlink onto its own target through a symlinked parent: refused, nothing outside.
    let sb = Sandbox::new();
    let tar = Tar::new()
        .file("a", b"a")
        .symlink("s", ".")
        .hardlink("s/a", "a")
        .finish();
    let _ = attempt(&sb, &tar, &UnpackOptions::default());
}

#[test]
fn hardlinks_to_devices_and_whiteouts_stay_what_they_are() {
    require_root();
    let sb = Sandbox::new();
    let tar = Tar::new()
        .file(".wh.gone", b"")
        .hardlink("also-gone", "gone")
        .entry(Entry {
            path: "null",
            kind: EntryType::Char,
            dev: (1, 3),
            mode: 0o666,
            ..Entry::default()
        })
        .hardlink("null2", "null")
        .finish();
    attempt(&sb, &tar, &as_root()).unwrap();
    let m = fs::symlink_metadata(sb.path("also-gone")).unwrap();
    assert!(m.file_type().is_char_device() && m.rdev() == 0);
    let m = fs::symlink_metadata(sb.path("null2")).unwrap();
    assert!(m.file_type().is_char_device());

    // A hardlink to the whiteout's own name (`.wh.gone`) names nothing on disk.
    let sb = Sandbox::new();
    let tar = Tar::new()
        .file(".wh.gone", b"")
        .hardlink("x", ".wh.gone")
        .finish();
    attempt(&sb, &tar, &as_root()).unwrap_err();
}

#[test]
fn xattrs_on_hardlinks_are_not_applied_to_the_target() {
    require_root();
    let sb = Sandbox::new();
    let tar = Tar::new()
        .file("a", b"a")
        .pax(&[
            ("SCHILY.xattr.user.x", b"1"),
            ("SCHILY.xattr.trusted.overlay.opaque", b"y"),
        ])
        .hardlink("h", "a")
        .finish();
    attempt(&sb, &tar, &as_root()).unwrap();
    assert_eq!(fs::metadata(sb.path("a")).unwrap().nlink(), 2);
}

// ---- whiteouts ------------------------------------------------------------------------

#[test]
fn whiteouts_of_dot_dotdot_and_the_root_are_refused() {
    for name in [".wh.", "./.wh.", ".wh..", ".wh...", "a/.wh..", "/.wh."] {
        let sb = Sandbox::new();
        let tar = Tar::new().file(name, b"").finish();
        let err = attempt(&sb, &tar, &UnpackOptions::default()).unwrap_err();
        assert!(err.ends_with("whiteout names no file"), "{name}: {err}");
    }
}

#[test]
fn whiteouts_through_symlinks_stay_inside() {
    require_root();
    let sb = Sandbox::new();
    let tar = Tar::new()
        .dir("etc")
        .file("etc/passwd", b"x")
        .symlink("s", "../../..")
        .file("s/.wh.etc", b"")
        .finish();
    attempt(&sb, &tar, &as_root()).unwrap();
    let m = fs::symlink_metadata(sb.path("etc")).unwrap();
    assert!(m.file_type().is_char_device(), "etc is now a whiteout");
}

#[test]
fn opaque_root_and_opaque_then_files() {
    require_root();
    let sb = Sandbox::new();
    let tar = Tar::new()
        .file(".wh..wh..opq", b"")
        .file("/.wh..wh..opq", b"")
        .file("d/.wh..wh..opq", b"")
        .file("d/f", b"f")
        .dir("d")
        .finish();
    attempt(&sb, &tar, &as_root()).unwrap();
    assert_eq!(fs::read(sb.path("d/f")).unwrap(), b"f");
}

// ---- headers --------------------------------------------------------------------------

#[test]
fn pax_records_with_odd_values_are_refused_or_ignored_never_panic() {
    let cases: &[(&str, &[u8])] = &[
        ("size", b"-1"),
        ("size", b"abc"),
        ("size", b"99999999999999999999999"),
        ("size", b"18446744073709551615"),
        ("size", b""),
        ("uid", b"-1"),
        ("uid", b"abc"),
        ("uid", b"99999999999999999999999"),
        ("uid", b"4294967295"),
        ("uid", b"4294967296"),
        ("gid", b"-5"),
        ("mtime", b"-1"),
        ("mtime", b"-99999999999999999999"),
        ("mtime", b"9223372036854775807.999999999"),
        ("mtime", b"-9223372036854775808"),
        ("mtime", b"1e10"),
        ("mtime", b"."),
        ("path", b""),
        ("path", b"/"),
        ("path", b"a\0../../sentinel/canary"),
        ("path", b"../sentinel/canary"),
        ("linkpath", b"../sentinel/canary"),
        ("linkpath", b""),
        ("SCHILY.xattr.", b"v"),
        ("SCHILY.xattr.user.\0x", b"v"),
    ];
    require_root();
    for (key, value) in cases {
        for opts in [UnpackOptions::default(), as_root()] {
            let sb = Sandbox::new();
            let tar = Tar::new()
                .pax(&[(key, value)])
                .file("f", b"data")
                .file("after", b"after")
                .finish();
            let result = attempt(&sb, &tar, &opts);
            if result.is_ok() {
                // Accepted: then the entries are where they belong.
                assert_eq!(fs::read(sb.path("after")).unwrap(), b"after", "{key}");
            }
        }
    }
}

#[test]
fn a_pax_uid_of_minus_one_is_not_silently_our_own() {
    require_root();
    let sb = Sandbox::new();
    let tar = Tar::new()
        .pax(&[("uid", b"4294967295")])
        .file("f", b"")
        .finish();
    let err = attempt(&sb, &tar, &as_root()).unwrap_err();
    assert!(err.contains("out of range"), "{err}");
}

#[test]
fn gnu_longname_and_longlink_are_checked() {
    let sb = Sandbox::new();
    let long = "l/".repeat(150) + "f";
    let mut tar = raw_entry(
        |h| {
            set_name(h, "././@LongLink");
            h.set_entry_type(EntryType::GNULongLink);
        },
        b"../sentinel/canary\0",
    );
    tar.extend(raw_entry(
        |h| {
            set_name(h, "h");
            h.set_entry_type(EntryType::Link);
        },
        b"",
    ));
    let err = attempt(&sb, &end(tar), &UnpackOptions::default()).unwrap_err();
    assert!(err.contains("escapes the layer"), "{err}");

    let mut tar = raw_entry(
        |h| {
            set_name(h, "././@LongLink");
            h.set_entry_type(EntryType::GNULongName);
        },
        long.as_bytes(),
    );
    tar.extend(raw_entry(|h| set_name(h, "short"), b"long"));
    let sb = Sandbox::new();
    attempt(&sb, &end(tar), &UnpackOptions::default()).unwrap();
    assert_eq!(fs::read(sb.path(&long)).unwrap(), b"long");
}

#[test]
fn huge_extension_headers_are_refused_before_they_are_buffered() {
    // A GNU long name or a PAX header is read into memory whole by the tar parser; a
    // hostile layer can declare gigabytes of it (compressing to almost nothing).
    for kind in [
        EntryType::GNULongName,
        EntryType::GNULongLink,
        EntryType::XHeader,
    ] {
        let sb = Sandbox::new();
        let body = vec![b'a'; 4 << 20];
        let mut tar = raw_entry(
            |h| {
                set_name(h, "././@LongLink");
                h.set_entry_type(kind);
            },
            &body,
        );
        tar.extend(raw_entry(|h| set_name(h, "f"), b""));
        let err = attempt(&sb, &end(tar), &UnpackOptions::default()).unwrap_err();
        assert!(err.contains("extension header"), "{kind:?}: {err}");
    }
    // A global PAX header is not read by the parser but must not be a way around it either.
    let sb = Sandbox::new();
    let mut tar = raw_entry(
        |h| {
            set_name(h, "pax_global_header");
            h.set_entry_type(EntryType::XGlobalHeader);
        },
        &vec![b'a'; 4 << 20],
    );
    tar.extend(raw_entry(|h| set_name(h, "f"), b"f"));
    attempt(&sb, &end(tar), &UnpackOptions::default()).unwrap();
    assert_eq!(fs::read(sb.path("f")).unwrap(), b"f");
}

#[test]
fn sparse_entries_are_bounded_by_their_expanded_size() {
    // One 4-byte data section at the end of an otherwise empty file of `real` bytes.
    let sparse = |real: u64| {
        raw_entry(
            |h| {
                set_name(h, "sparse");
                h.set_entry_type(EntryType::GNUSparse);
                let gnu = h.as_gnu_mut().unwrap();
                gnu.sparse[0].set_offset(real - 4);
                gnu.sparse[0].set_length(4);
                gnu.set_real_size(real);
                h.set_size(4);
            },
            b"data",
        )
    };
    let sb = Sandbox::new();
    attempt(&sb, &end(sparse((1 << 20) + 4)), &UnpackOptions::default()).unwrap();
    let content = fs::read(sb.path("sparse")).unwrap();
    assert_eq!(content.len(), (1 << 20) + 4);
    assert_eq!(&content[1 << 20..], b"data");

    // Claims a 1 TiB file: refused before anything is written.
    let sb = Sandbox::new();
    let err = attempt(&sb, &end(sparse(1 << 40)), &UnpackOptions::default()).unwrap_err();
    assert!(err.contains("larger than"), "{err}");
    assert!(!sb.path("sparse").exists());

    // Sections that do not add up to the declared real size are malformed.
    let sb = Sandbox::new();
    let mut bad = sparse(10);
    bad[483..495].copy_from_slice(b"00000000100\0"); // realsize field: 64, not 10
    let h = tar::Header::from_byte_slice(&bad[..512]).clone();
    let mut h = h;
    h.set_cksum();
    bad[..512].copy_from_slice(h.as_bytes());
    attempt(&sb, &end(bad), &UnpackOptions::default()).unwrap_err();
}

#[test]
fn odd_paths_are_normalised_inside_the_layer() {
    let sb = Sandbox::new();
    let tar = Tar::new()
        .file("a//b", b"1")
        .file("./c", b"2")
        .file("d/", b"3") // a regular file with a trailing slash
        .file(".//./e/.", b"4")
        .finish();
    attempt(&sb, &tar, &UnpackOptions::default()).unwrap();
    assert_eq!(fs::read(sb.path("a/b")).unwrap(), b"1");
    assert_eq!(fs::read(sb.path("c")).unwrap(), b"2");
    assert_eq!(fs::read(sb.path("d")).unwrap(), b"3");
    assert_eq!(fs::read(sb.path("e")).unwrap(), b"4");
}

#[test]
fn unknown_type_flags_are_refused() {
    for flag in [b'Z', b'V', b'M', b'N', b'A', b'D', b'I', b'X'] {
        let sb = Sandbox::new();
        let tar = raw_entry(
            |h| {
                set_name(h, "odd");
                h.set_entry_type(EntryType::new(flag));
            },
            b"",
        );
        let err = attempt(&sb, &end(tar), &UnpackOptions::default()).unwrap_err();
        assert!(
            err.contains("unsupported entry type"),
            "{}: {err}",
            flag as char
        );
    }
}

#[test]
fn setuid_survives_chown_and_capabilities_survive_both() {
    require_root();
    let sb = Sandbox::new();
    // VFS_CAP_REVISION_2, effective, cap_net_raw permitted.
    let mut cap = vec![0u8; 20];
    cap[..4].copy_from_slice(&0x0200_0001u32.to_le_bytes());
    cap[4..8].copy_from_slice(&(1u32 << 13).to_le_bytes());
    let tar = Tar::new()
        .pax(&[("SCHILY.xattr.security.capability", &cap)])
        .entry(Entry {
            path: "bin/ping",
            data: b"ping",
            mode: 0o6755,
            uid: 0,
            gid: 0,
            ..Entry::default()
        })
        .entry(Entry {
            path: "bin/su",
            data: b"su",
            mode: 0o4711,
            uid: 1000,
            gid: 1000,
            ..Entry::default()
        })
        .finish();
    attempt(&sb, &tar, &as_root()).unwrap();
    let ping = fs::metadata(sb.path("bin/ping")).unwrap();
    assert_eq!(ping.mode() & 0o7777, 0o6755);
    let mut buf = [0u8; 64];
    let n = rustix::fs::getxattr(sb.path("bin/ping"), "security.capability", &mut buf[..]).unwrap();
    assert_eq!(n, 20);
    let su = fs::metadata(sb.path("bin/su")).unwrap();
    assert_eq!((su.mode() & 0o7777, su.uid()), (0o4711, 1000));

    // A capability value the kernel does not accept is a clear error.
    let sb = Sandbox::new();
    let tar = Tar::new()
        .pax(&[("SCHILY.xattr.security.capability", b"garbage")])
        .file("x", b"")
        .finish();
    let err = attempt(&sb, &tar, &as_root()).unwrap_err();
    assert!(err.contains("set xattr"), "{err}");
}

#[test]
fn mtimes_far_in_the_past_and_future() {
    let sb = Sandbox::new();
    let mut tar = raw_entry(
        |h| {
            set_name(h, "future");
            // Base-256: the largest value the field can hold.
            let field = &mut h.as_old_mut().mtime;
            field.fill(0xff);
            field[0] = 0x80;
        },
        b"",
    );
    tar.extend(raw_entry(
        |h| {
            set_name(h, "octal-max");
            h.as_old_mut().mtime.copy_from_slice(b"77777777777\0");
        },
        b"",
    ));
    tar.extend(
        Tar::new()
            .pax(&[("mtime", b"-62135596800")])
            .file("past", b"")
            .finish(),
    );
    attempt(&sb, &tar, &UnpackOptions::default()).unwrap();
    for name in ["future", "octal-max", "past"] {
        assert!(sb.path(name).exists(), "{name}");
    }
}

#[test]
fn concatenated_tars_stop_at_the_first_end_of_archive() {
    let sb = Sandbox::new();
    let mut tar = Tar::new().file("first", b"1").finish();
    tar.extend(Tar::new().file("../sentinel/pwned", b"2").finish());
    attempt(&sb, &tar, &UnpackOptions::default()).unwrap();
    assert_eq!(fs::read(sb.path("first")).unwrap(), b"1");
    assert!(!sb.path("pwned").exists());
}

#[test]
fn huge_device_numbers_are_refused_or_made_inside() {
    require_root();
    for field in [
        *b"7777777\0",
        [0x80, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
    ] {
        let sb = Sandbox::new();
        let tar = raw_entry(
            |h| {
                set_name(h, "dev");
                h.set_entry_type(EntryType::Block);
                h.as_gnu_mut().unwrap().dev_major = field;
                h.as_gnu_mut().unwrap().dev_minor = field;
            },
            b"",
        );
        let _ = attempt(&sb, &end(tar), &as_root());
    }
}

#[test]
fn a_truncated_tar_without_end_blocks_and_a_garbage_tail() {
    let sb = Sandbox::new();
    let mut tar = Tar::new().file("a", b"a").unterminated();
    tar.extend([0xffu8; 512]);
    attempt(&sb, &tar, &UnpackOptions::default()).unwrap_err();

    // Data that ends with zeros but no end-of-archive blocks is still incomplete if a
    // header is cut.
    let sb = Sandbox::new();
    let tar = Tar::new().file("a", &[0u8; 1024]).unterminated();
    let _ = attempt(&sb, &tar[..700], &UnpackOptions::default()).unwrap_err();
}

#[test]
fn gzip_bombs_of_extension_headers_stay_small() {
    // 64 MiB of long name, a few KiB compressed.
    let body = vec![b'a'; 64 << 20];
    let mut tar = raw_entry(
        |h| {
            set_name(h, "././@LongLink");
            h.set_entry_type(EntryType::GNULongName);
        },
        &body,
    );
    tar.extend(raw_entry(|h| set_name(h, "f"), b""));
    let tar = end(tar);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&tar).unwrap();
    let gz = gz.finish().unwrap();
    drop(tar);
    let sb = Sandbox::new();
    let err = layer::unpack(
        layer::decompressed(&gz[..]).unwrap(),
        &sb.dest,
        &UnpackOptions::default(),
    )
    .unwrap_err();
    sb.assert_outside_untouched();
    assert!(err.to_string().contains("extension header"), "{err}");
}

#[test]
fn nul_bytes_in_names_are_refused() {
    let sb = Sandbox::new();
    let tar = Tar::new()
        .pax(&[("path", b"ok\0/../../sentinel/canary")])
        .file("x", b"pwned")
        .finish();
    let _ = unpack(&sb, &tar);
    sb.assert_outside_untouched();
    let tar = Tar::new()
        .pax(&[("linkpath", b"/etc\0/passwd")])
        .symlink("l", "x")
        .finish();
    let sb = Sandbox::new();
    let _ = unpack(&sb, &tar);
    sb.assert_outside_untouched();
}
