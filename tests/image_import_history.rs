//! `berth import` and `berth history` end to end, as root, each test on a store of its
//! own: a rootfs tarball (plain, gzip, zstd, file or stdin) becomes a one-layer image with
//! `--change` applied; a bad change is refused without touching the store; `history`
//! shows the config's history newest first.

mod harness;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use harness::require_root;
use harness::state::StateRoot as Root;
use harness::tarball::gzip;

/// A small rootfs: `/etc/hostname` (12 bytes) and `/bin/` with a script.
fn rootfs_tar() -> Vec<u8> {
    let mut tar = tar::Builder::new(Vec::new());
    let mut add = |path: &str, kind: tar::EntryType, mode: u32, data: &[u8]| {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(kind);
        h.set_mode(mode);
        h.set_uid(0);
        h.set_gid(0);
        h.set_mtime(1_700_000_000);
        h.set_size(data.len() as u64);
        h.set_path(path).expect("tar path");
        h.set_cksum();
        tar.append(&h, data).expect("tar entry");
    };
    add("etc/", tar::EntryType::Directory, 0o755, b"");
    add(
        "etc/hostname",
        tar::EntryType::Regular,
        0o644,
        b"imported-fs\n",
    );
    add("bin/", tar::EntryType::Directory, 0o755, b"");
    add(
        "bin/hello",
        tar::EntryType::Regular,
        0o755,
        b"#!/bin/sh\necho hi\n",
    );
    tar.into_inner().expect("finish tar")
}

fn zstd(data: &[u8]) -> Vec<u8> {
    zstd::encode_all(data, 3).expect("zstd")
}

fn inspect(root: &Root, name: &str) -> serde_json::Value {
    let out = root.ok(&["image", "inspect", name]);
    let mut v: serde_json::Value = serde_json::from_str(&out).expect("inspect json");
    v[0].take()
}

/// The id printed is the sha256 of the config blob the store holds.
fn assert_id_is_config_digest(root: &Root, id: &str) {
    let hex = id.strip_prefix("sha256:").expect("sha256: id");
    assert_eq!(hex.len(), 64, "{id}");
    let config = std::fs::read(root.0.join("state/blobs/sha256").join(hex)).expect("config blob");
    let out = Command::new("sha256sum")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            c.stdin.take().expect("stdin").write_all(&config)?;
            c.wait_with_output()
        })
        .expect("sha256sum");
    let sum = String::from_utf8_lossy(&out.stdout);
    assert_eq!(sum.split_whitespace().next(), Some(hex));
}

#[test]
fn import_with_changes_then_inspect_history_and_images() {
    require_root();
    let root = Root::new("import-changes");
    let tar = root.write("rootfs.tar", &rootfs_tar());
    let out = root.ok(&[
        "import",
        "--change",
        r#"CMD ["sh"]"#,
        "--change",
        "ENV A=1",
        "-c",
        "EXPOSE 80/tcp 443",
        "-m",
        "msg",
        &tar,
        "example.com/imported:v1",
    ]);
    let id = out.trim().to_string();
    assert_eq!(out, format!("{id}\n"), "only the id on stdout");
    assert_id_is_config_digest(&root, &id);

    let image = inspect(&root, "example.com/imported:v1");
    assert_eq!(image["Id"], id.as_str());
    assert_eq!(image["Config"]["Cmd"], serde_json::json!(["sh"]));
    assert_eq!(image["Config"]["Env"], serde_json::json!(["A=1"]));
    assert_eq!(
        image["Config"]["ExposedPorts"],
        serde_json::json!({"80/tcp": {}, "443/tcp": {}})
    );
    assert_eq!(image["Comment"], "msg");
    assert_eq!(image["Os"], "linux");
    assert_eq!(image["RootFS"]["Layers"].as_array().map(Vec::len), Some(1));
    let lower = image["GraphDriver"]["Data"]["LowerDir"]
        .as_str()
        .expect("LowerDir");
    assert_eq!(
        std::fs::read_to_string(Path::new(lower).join("etc/hostname")).expect("unpacked"),
        "imported-fs\n"
    );

    let history = root.ok(&["history", "example.com/imported:v1"]);
    let lines: Vec<&str> = history.lines().collect();
    assert_eq!(lines.len(), 2, "{history}");
    assert!(
        lines[0].starts_with("IMAGE ")
            && lines[0].contains("CREATED BY")
            && lines[0].ends_with("COMMENT"),
        "{history}"
    );
    let short = &id["sha256:".len().."sha256:".len() + 12];
    assert!(lines[1].starts_with(short), "{history}");
    assert!(lines[1].ends_with("msg"), "{history}");

    let images = root.ok(&["images", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}"]);
    assert_eq!(images, format!("example.com/imported:v1 {short}\n"));
}

#[test]
fn import_gzip_zstd_and_stdin_give_the_same_layer() {
    require_root();
    let root = Root::new("import-formats");
    let plain = rootfs_tar();
    let gz = root.write("rootfs.tar.gz", &gzip(&plain));
    let zst = root.write("rootfs.tar.zst", &zstd(&plain));
    root.ok(&["import", &gz, "gz"]);
    root.ok(&["import", &zst, "zst"]);
    let (code, out, err) = root.berth_with(&["import", "-", "stdin"], &plain);
    assert_eq!(code, 0, "import from stdin: {err}");
    assert!(out.starts_with("sha256:"), "{out}");

    let layers: Vec<_> = ["gz", "zst", "stdin"]
        .iter()
        .map(|name| inspect(&root, name)["RootFS"]["Layers"].clone())
        .collect();
    assert_eq!(layers[0], layers[1]);
    assert_eq!(layers[0], layers[2]);
    // One unpacked layer shared by the three images.
    assert_eq!(root.count("layers"), 1);
    // Docker's default comment: a file is streamed like stdin, so both say `-`.
    let comments = root.ok(&["history", "--format", "{{.Comment}}", "stdin"]);
    assert_eq!(comments, "Imported from -\n");
}

#[test]
fn bad_change_is_one_error_and_leaves_the_store_empty() {
    require_root();
    let root = Root::new("import-bad-change");
    let tar = root.write("rootfs.tar", &rootfs_tar());
    let (code, out, err) = root.berth(&["import", "--change", "RUN make", &tar, "bad"]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(out, "");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("error: ") && err.contains("RUN is not a valid change command"),
        "{err}"
    );
    assert_eq!(root.count("blobs/sha256"), 0);
    assert_eq!(root.count("layers"), 0);
    assert_eq!(root.count("images"), 0);
    assert_eq!(root.ok(&["images", "-q"]), "");

    // Not a tarball at all: refused, and nothing stays behind either.
    let junk = root.write("junk.tar", b"this is not a tar archive, not even close");
    let (code, _, err) = root.berth(&["import", &junk]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(root.count("blobs/sha256"), 0, "{err}");
    assert_eq!(root.count("layers"), 0);
}

#[test]
fn history_of_the_busybox_test_image() {
    require_root();
    let root = Root::new("history-busybox");
    let path = root.busybox_tar();
    root.ok(&["load", "-i", path.to_str().expect("utf-8")]);
    let id = inspect(&root, "busybox")["Id"]
        .as_str()
        .expect("Id")
        .to_string();
    let size = inspect(&root, "busybox")["Size"].as_u64().expect("Size");

    let quiet = root.ok(&["history", "-q", "--no-trunc", "busybox"]);
    assert_eq!(quiet, format!("{id}\n"));

    let table = root.ok(&["history", "--no-trunc", "-H=false", "busybox"]);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 2, "{table}");
    let header: Vec<&str> = lines[0]
        .split("   ")
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    assert_eq!(
        header,
        ["IMAGE", "CREATED AT", "CREATED BY", "SIZE", "COMMENT"]
    );
    assert!(lines[1].starts_with(&id), "{table}");
    assert!(
        lines[1].contains("berth test image: busybox from the host"),
        "{table}"
    );
    assert!(
        lines[1].contains(&format!(" {size}")),
        "size in bytes: {table}"
    );

    // Shorter than the 45 columns Docker truncates CREATED BY to: shown whole.
    let by = root.ok(&["history", "--format", "{{.CreatedBy}}", "busybox"]);
    assert_eq!(by, "berth test image: busybox from the host\n");

    let json: serde_json::Value =
        serde_json::from_str(&root.ok(&["history", "--format", "json", "busybox"])).expect("json");
    assert_eq!(json["ID"], &id["sha256:".len().."sha256:".len() + 12]);
    assert!(
        json["Size"].as_str().is_some_and(|s| s.ends_with("B")),
        "{json}"
    );
    assert!(
        json["CreatedSince"]
            .as_str()
            .is_some_and(|s| s.ends_with(" ago")),
        "{json}"
    );

    let (code, _, err) = root.berth(&["history", "nosuchimage"]);
    assert_eq!(code, 1);
    assert!(
        err.starts_with("error: no such image: nosuchimage"),
        "{err}"
    );
}
