//! The image commands end to end, as root, on a store of the test's own: load the busybox
//! test image, list, tag, inspect, save (skopeo must accept the archive), load the saved
//! archive elsewhere (same ids), remove, and refuse bad archives without leaving anything.

mod harness;

use std::path::Path;
use std::process::Command;

use harness::require_root;
use harness::state::StateRoot as Root;
use harness::tarball::{sha256_hex, tar_of};

#[test]
fn load_list_tag_save_reload_remove() {
    require_root();
    let root = Root::new("images");
    let tar = root.busybox_tar();
    let tar = tar.to_str().expect("utf-8 path");

    assert_eq!(
        root.ok(&["load", "-i", tar]),
        "Loaded image: busybox:latest\n"
    );
    let id = root.ok(&["images", "-q"]).trim().to_string();
    assert_eq!(id.len(), 12, "short id: {id}");
    let table = root.ok(&["images"]);
    let mut lines = table.lines();
    let header = lines.next().unwrap_or_default();
    assert!(
        header.starts_with("REPOSITORY") && header.contains("IMAGE ID") && header.ends_with("SIZE"),
        "{table}"
    );
    let row: Vec<&str> = lines
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .collect();
    assert_eq!(&row[..3], &["busybox", "latest", id.as_str()], "{table}");

    root.ok(&["tag", "busybox", "example.com/tools/box:1.0"]);
    let repos = root.ok(&["images", "--format", "{{.Repository}}:{{.Tag}}"]);
    assert_eq!(repos, "busybox:latest\nexample.com/tools/box:1.0\n");

    let inspect: serde_json::Value =
        serde_json::from_str(&root.ok(&["image", "inspect", "busybox"])).expect("json");
    let full_id = inspect[0]["Id"].as_str().expect("Id").to_string();
    assert!(full_id.starts_with(&format!("sha256:{id}")), "{inspect}");
    assert_eq!(inspect[0]["Config"]["Cmd"], serde_json::json!(["sh"]));
    assert_eq!(
        inspect[0]["RootFS"]["Layers"].as_array().map(Vec::len),
        Some(1)
    );
    let lower = inspect[0]["GraphDriver"]["Data"]["LowerDir"]
        .as_str()
        .expect("LowerDir");
    assert!(
        Path::new(lower).join("bin/busybox").is_file(),
        "unpacked layer at {lower}"
    );
    assert!(Path::new(lower).join("bin/sh").is_symlink());

    let saved = root.0.join("saved.tar");
    root.ok(&["save", "-o", saved.to_str().expect("utf-8"), "busybox"]);
    let skopeo = Command::new("skopeo")
        .args(["inspect", &format!("docker-archive:{}", saved.display())])
        .output()
        .expect("skopeo must be installed (.ci/run installs it)");
    assert!(
        skopeo.status.success(),
        "skopeo: {}",
        String::from_utf8_lossy(&skopeo.stderr)
    );

    let other = Root::new("images-reload");
    assert_eq!(
        other.ok(&["load", "-i", saved.to_str().expect("utf-8")]),
        "Loaded image: busybox:latest\n"
    );
    let other_inspect: serde_json::Value =
        serde_json::from_str(&other.ok(&["image", "inspect", "busybox"])).expect("json");
    assert_eq!(
        other_inspect[0]["Id"], inspect[0]["Id"],
        "save → load keeps the image id"
    );
    assert_eq!(other_inspect[0]["RootFS"], inspect[0]["RootFS"]);

    assert_eq!(
        root.ok(&["rmi", "example.com/tools/box:1.0"]),
        "Untagged: example.com/tools/box:1.0\n"
    );
    assert_eq!(
        root.ok(&["rmi", "busybox"]),
        format!("Untagged: busybox:latest\nDeleted: {full_id}\n")
    );
    assert_eq!(root.ok(&["images", "-q"]), "");
    assert_eq!(
        (
            root.count("layers"),
            root.count("blobs/sha256"),
            root.count("images")
        ),
        (0, 0, 0)
    );
}

#[test]
fn bad_input_fails_cleanly() {
    require_root();
    let root = Root::new("bad-input");
    let (code, _, err) = root.berth(&["rmi", "nope"]);
    assert_eq!((code, err.trim()), (1, "error: no such image: nope"));
    let (code, _, err) = root.berth(&["image", "inspect", "nope:1"]);
    assert_eq!((code, err.trim()), (1, "error: no such image: nope:1"));

    let tar = std::fs::read(root.busybox_tar()).expect("read archive");
    let truncated = root.0.join("truncated.tar");
    std::fs::write(&truncated, &tar[..tar.len() / 2]).expect("write");
    let (code, _, err) = root.berth(&["load", "-i", truncated.to_str().expect("utf-8")]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    assert!(err.contains("truncated"), "{err}");
    assert_eq!(
        (
            root.count("layers"),
            root.count("blobs/sha256"),
            root.count("images")
        ),
        (0, 0, 0)
    );

    let garbage = root.0.join("garbage.tar");
    std::fs::write(&garbage, b"not a tar at all").expect("write");
    let (code, _, err) = root.berth(&["load", "-i", garbage.to_str().expect("utf-8")]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(err.lines().count(), 1, "one line: {err}");
}

/// A one-file layer tar and a config naming `diff_id` as its only layer.
fn layer_and_config(diff_id: Option<&str>) -> (Vec<u8>, Vec<u8>) {
    let layer = archive(&[("hello.txt", b"hello\n".to_vec())]);
    let diff = diff_id
        .map(str::to_string)
        .unwrap_or_else(|| sha256(&layer));
    let config = serde_json::json!({
        "architecture": "amd64", "os": "linux", "created": "2026-01-01T00:00:00Z",
        "config": {}, "rootfs": {"type": "layers", "diff_ids": [diff]},
    });
    (layer, serde_json::to_vec(&config).expect("json"))
}

#[test]
fn bad_archives_fail_with_one_line_and_leave_nothing() {
    require_root();
    let root = Root::new("bad-archives");
    let manifest = |config: &str, layer: &str| {
        serde_json::to_vec(
            &serde_json::json!([{"Config": config, "RepoTags": ["bad:1"], "Layers": [layer]}]),
        )
        .expect("json")
    };

    // The layer's content does not match the diff id its config declares.
    let (layer, config) = layer_and_config(Some(&format!("sha256:{}", "0".repeat(64))));
    let wrong_digest = archive(&[
        ("config.json", config),
        ("layer.tar", layer),
        ("manifest.json", manifest("config.json", "layer.tar")),
    ]);
    // The manifest names a layer the archive does not have.
    let (_, config) = layer_and_config(None);
    let missing_layer = archive(&[
        ("config.json", config),
        ("manifest.json", manifest("config.json", "nothere.tar")),
    ]);
    // An OCI layout whose layer media type berth cannot unpack.
    let (layer, config) = layer_and_config(None);
    let (layer_digest, config_digest) = (sha256(&layer), sha256(&config));
    let oci_manifest = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest, "size": config.len()},
        "layers": [{"mediaType": "application/x-berth-unknown", "digest": layer_digest, "size": layer.len()}],
    }))
    .expect("json");
    let index = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": sha256(&oci_manifest), "size": oci_manifest.len(),
                       "annotations": {"io.containerd.image.name": "docker.io/library/bad:1"}}],
    }))
    .expect("json");
    let hex = |d: &str| format!("blobs/sha256/{}", d.trim_start_matches("sha256:"));
    let unknown_media_type = archive(&[
        ("oci-layout", br#"{"imageLayoutVersion":"1.0.0"}"#.to_vec()),
        (&hex(&config_digest), config),
        (&hex(&layer_digest), layer),
        (&hex(&sha256(&oci_manifest)), oci_manifest.clone()),
        ("index.json", index),
    ]);

    for (name, data, expect) in [
        ("wrong-digest", wrong_digest, "diff id"),
        ("missing-layer", missing_layer, "nothere.tar"),
        (
            "unknown-media-type",
            unknown_media_type,
            "application/x-berth-unknown",
        ),
    ] {
        let path = root.0.join(format!("{name}.tar"));
        std::fs::write(&path, data).expect("write archive");
        let (code, out, err) = root.berth(&["load", "-i", path.to_str().expect("utf-8")]);
        assert_eq!(code, 1, "{name}: {out}{err}");
        assert_eq!(err.lines().count(), 1, "{name}: one line: {err}");
        assert!(
            err.starts_with("error: ") && err.contains(expect),
            "{name}: {err}"
        );
        assert_eq!(
            (
                root.count("layers"),
                root.count("blobs/sha256"),
                root.count("images")
            ),
            (0, 0, 0),
            "{name}: nothing may stay in the store"
        );
        assert_eq!(root.ok(&["images", "-q"]), "", "{name}");
    }
}

/// An archive of the given files, for archives that are wrong on purpose.
fn archive(entries: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let files: Vec<(&str, &[u8])> = entries.iter().map(|(p, d)| (*p, d.as_slice())).collect();
    tar_of(&files)
}

fn sha256(data: &[u8]) -> String {
    format!("sha256:{}", sha256_hex(data))
}

#[test]
fn layer_bounds_come_from_the_environment() {
    require_root();
    let root = Root::new("layer-bounds");
    let tar = root.busybox_tar();
    let run = |env: (&str, &str)| {
        harness::berth_command()
            .arg("--root")
            .arg(root.path().join("state"))
            .args(["load", "-i", tar.to_str().expect("utf-8")])
            .env(env.0, env.1)
            .output()
            .expect("run berth")
    };
    let out = run(("BERTH_LAYER_MAX_ENTRIES", "10"));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("more than 10 entries"), "{err}");
    assert_eq!((root.count("layers"), root.count("images")), (0, 0));
    let out = run(("BERTH_LAYER_MAX_BYTES", "lots"));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        err.trim(),
        "error: BERTH_LAYER_MAX_BYTES=\"lots\" is not a positive whole number"
    );
    let out = run(("BERTH_LAYER_MAX_PATH", "4096"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The listing formats a script reads, `load` from stdin (plain and gzip) with `-q`
/// silent, and one archive of several images that loads back with every tag.
#[test]
fn formats_stdin_loads_and_a_multi_image_save() {
    require_root();
    let root = Root::new("image-formats");
    let tar = std::fs::read(root.busybox_tar()).expect("read archive");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, &tar).expect("gzip");
    let gz = gz.finish().expect("gzip");
    let (code, out, err) = root.berth_with(&["load", "-q"], &gz);
    assert_eq!((code, out.as_str()), (0, ""), "{err}");
    let id = root.ok(&["images", "-q", "--no-trunc"]).trim().to_string();
    assert!(id.starts_with("sha256:"), "{id}");
    root.ok(&["tag", "busybox", "localhost:5000/team/bb:v1"]);

    let json = root.ok(&["images", "--format", "json"]);
    let rows: Vec<serde_json::Value> = json
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert_eq!(rows.len(), 2, "{json}");
    let bb = rows
        .iter()
        .find(|r| r["Repository"] == "busybox")
        .expect("busybox row");
    assert_eq!(bb["Tag"], "latest");
    assert_eq!(bb["ID"], id["sha256:".len()..][..12]);
    assert_eq!(bb["Digest"], "<none>");
    // Go's time.Time.String(), as Docker prints it.
    let created = bb["CreatedAt"].as_str().expect("CreatedAt");
    assert!(
        created.len() == 29 && created.ends_with(" +0000 UTC") && &created[10..11] == " ",
        "{created}"
    );
    let table = root.ok(&["images", "--format", "table {{.Repository}}:{{.Tag}}"]);
    assert_eq!(
        table,
        "REPOSITORY:TAG\nbusybox:latest\nlocalhost:5000/team/bb:v1\n"
    );
    let digests = root.ok(&["images", "--digests"]);
    assert!(
        digests
            .lines()
            .next()
            .unwrap_or_default()
            .contains("DIGEST"),
        "{digests}"
    );

    // Two names in one archive; a fresh store gets both back from stdin.
    root.ok(&["tag", "busybox", "other:2"]);
    let out = root.path().join("two.tar");
    let out = out.to_str().expect("utf-8 path");
    root.ok(&["save", "-o", out, "busybox", "other:2"]);
    let other = Root::new("image-formats-reload");
    let (code, loaded, err) = other.berth_with(&["load"], &std::fs::read(out).expect("read saved"));
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        loaded,
        "Loaded image: busybox:latest\nLoaded image: other:2\n"
    );
    assert_eq!(other.ok(&["images", "-q", "--no-trunc"]).trim(), id);
}
