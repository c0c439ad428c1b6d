//! A compressed layer is unpacked as it is decompressed and checked against its diff id
//! only at the end of the stream: a layer whose content does not match leaves nothing behind
//! (no layer, no blob, no record, no staging). One that matches is stored compressed only,
//! and `save` turns it back into the exact uncompressed bytes, checked on the way
//! (decision 26).

mod harness;

use harness::require_root;
use harness::state::StateRoot as Root;
use harness::tarball::{gzip, sha256_hex as sha256, tar_of as layer_tar};

impl Root {
    fn load(&self, archive: &[u8]) -> (i32, String) {
        let path = self.write("image.tar", archive);
        let (code, _, err) = self.berth(&["load", "-i", &path]);
        (code, err)
    }
}

/// A docker-save archive of one image, tagged `integrity:test`, whose gzip layers are
/// `layers` and whose config names `diff_ids`.
fn archive(layers: &[Vec<u8>], diff_ids: &[String]) -> Vec<u8> {
    let config = serde_json::json!({
        "architecture": "amd64",
        "os": "linux",
        "created": "2026-01-01T00:00:00Z",
        "rootfs": {
            "type": "layers",
            "diff_ids": diff_ids.iter().map(|d| format!("sha256:{d}")).collect::<Vec<_>>(),
        },
    })
    .to_string()
    .into_bytes();
    let config_path = format!("blobs/sha256/{}", sha256(&config));
    let layer_paths: Vec<String> = layers
        .iter()
        .map(|l| format!("blobs/sha256/{}", sha256(l)))
        .collect();
    let manifest = serde_json::json!([{
        "Config": config_path,
        "RepoTags": ["integrity:test"],
        "Layers": layer_paths,
    }])
    .to_string();
    let mut files: Vec<(&str, &[u8])> = vec![(&config_path, &config)];
    files.extend(
        layer_paths
            .iter()
            .map(String::as_str)
            .zip(layers.iter().map(Vec::as_slice)),
    );
    files.push(("manifest.json", manifest.as_bytes()));
    layer_tar(&files)
}

#[test]
fn layer_not_matching_its_diff_id_leaves_nothing() {
    require_root();
    let root = Root::new("load-integrity-bad");
    let good = layer_tar(&[("etc/good", b"fine")]);
    // A valid tar that unpacks without complaint, but is not the content the config names.
    let bad = layer_tar(&[("etc/evil", b"swapped")]);
    let claimed = layer_tar(&[("etc/evil", b"original")]);
    let image = archive(
        &[gzip(&good), gzip(&bad)],
        &[sha256(&good), sha256(&claimed)],
    );

    let (code, err) = root.load(&image);
    assert_eq!(code, 1, "{err}");
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    assert!(
        err.contains(&format!("layer sha256:{}", sha256(&claimed)))
            && err.contains(&format!("has digest sha256:{}", sha256(&bad))),
        "{err}"
    );
    for sub in ["layers", "blobs/sha256", "images", "tmp"] {
        assert_eq!(
            root.entries(sub),
            Vec::<String>::new(),
            "{sub} is not empty"
        );
    }
    let repositories =
        std::fs::read_to_string(root.0.join("state/repositories.json")).unwrap_or_default();
    assert!(!repositories.contains("integrity"), "{repositories}");
}

#[test]
fn compressed_layer_is_stored_once_and_saved_uncompressed() {
    require_root();
    let root = Root::new("load-integrity-good");
    let plain = layer_tar(&[("etc/hello", b"hello"), ("bin/tool", &[7u8; 100_000])]);
    let compressed = gzip(&plain);
    let (code, err) = root.load(&archive(
        std::slice::from_ref(&compressed),
        &[sha256(&plain)],
    ));
    assert_eq!(code, 0, "{err}");

    let blobs = root.entries("blobs/sha256");
    assert!(blobs.contains(&sha256(&compressed)), "{blobs:?}");
    assert!(
        !blobs.contains(&sha256(&plain)),
        "the uncompressed tar is not a second blob: {blobs:?}"
    );
    assert_eq!(root.entries("layers"), vec![sha256(&plain)]);
    assert_eq!(
        std::fs::read(
            root.0
                .join("state/layers")
                .join(sha256(&plain))
                .join("diff/etc/hello")
        )
        .expect("unpacked file"),
        b"hello"
    );
    assert_eq!(root.entries("tmp"), Vec::<String>::new());

    // save writes the uncompressed tar, byte for byte, under its diff id.
    let saved = root.save("integrity:test");
    assert_eq!(
        archive_file(&saved, &format!("blobs/sha256/{}", sha256(&plain))),
        Some(plain.clone())
    );
}

/// gzip and zstd layers: save → load → save gives the same bytes and the same image id,
/// although the first store keeps only the compressed blobs.
#[test]
fn compressed_layers_round_trip_byte_identical() {
    require_root();
    let first = Root::new("load-integrity-roundtrip-1");
    let base = layer_tar(&[("etc/base", b"base"), ("lib/big", &[3u8; 300_000])]);
    let top = layer_tar(&[("etc/top", b"top")]);
    let zstd_top = zstd::stream::encode_all(&top[..], 3).expect("zstd");
    let (code, err) = first.load(&archive(
        &[gzip(&base), zstd_top],
        &[sha256(&base), sha256(&top)],
    ));
    assert_eq!(code, 0, "{err}");
    let saved = first.save("integrity:test");
    for layer in [&base, &top] {
        assert_eq!(
            archive_file(&saved, &format!("blobs/sha256/{}", sha256(layer))).as_ref(),
            Some(layer)
        );
    }

    let second = Root::new("load-integrity-roundtrip-2");
    let (code, err) = second.load(&saved);
    assert_eq!(code, 0, "{err}");
    assert_eq!(second.save("integrity:test"), saved);
    assert_eq!(
        second.ok(&["images", "-q", "--no-trunc"]),
        first.ok(&["images", "-q", "--no-trunc"])
    );
    // Removing the image from the first store leaves nothing behind.
    first.ok(&["rmi", "integrity:test"]);
    for sub in ["layers", "blobs/sha256", "images", "tmp"] {
        assert_eq!(first.entries(sub), Vec::<String>::new(), "{sub}");
    }
}

/// A stored compressed blob that no longer decompresses to the diff id (disk corruption, a
/// hand-edited store): save fails with one line naming the layer and the blob, and leaves
/// no output file.
#[test]
fn save_refuses_a_corrupt_compressed_blob() {
    require_root();
    let root = Root::new("load-integrity-corrupt");
    let plain = layer_tar(&[("etc/hello", b"hello")]);
    let compressed = gzip(&plain);
    let (code, err) = root.load(&archive(
        std::slice::from_ref(&compressed),
        &[sha256(&plain)],
    ));
    assert_eq!(code, 0, "{err}");
    let other = gzip(&layer_tar(&[("etc/hello", b"HELLO")]));
    std::fs::write(
        root.0.join("state/blobs/sha256").join(sha256(&compressed)),
        &other,
    )
    .expect("corrupt the blob");

    let out = root.0.join("out.tar");
    let (code, _, err) =
        root.berth(&["save", "-o", out.to_str().expect("utf-8"), "integrity:test"]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    assert!(
        err.contains(&format!("sha256:{}", sha256(&plain)))
            && err.contains(&format!("blob sha256:{}", sha256(&compressed)))
            && err.contains("the stored blob is corrupt"),
        "{err}"
    );
    assert!(!out.exists());
    let leftovers: Vec<_> = std::fs::read_dir(&root.0)
        .expect("read test dir")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("out.tar"))
        .collect();
    assert_eq!(leftovers, Vec::<String>::new());
}

impl Root {
    /// `berth save` of one image to a file; the archive's bytes.
    fn save(&self, name: &str) -> Vec<u8> {
        let out = self.0.join("saved.tar");
        self.ok(&["save", "-o", out.to_str().expect("utf-8"), name]);
        std::fs::read(&out).expect("read saved archive")
    }
}

/// The content of the regular file at `path` in a tar archive.
fn archive_file(archive: &[u8], path: &str) -> Option<Vec<u8>> {
    use std::io::Read;
    let mut tar = tar::Archive::new(archive);
    for entry in tar.entries().expect("tar entries") {
        let mut entry = entry.expect("tar entry");
        if entry.path().expect("entry path").to_str() == Some(path) {
            let mut data = Vec::new();
            entry.read_to_end(&mut data).expect("read entry");
            return Some(data);
        }
    }
    None
}

/// Compressed blobs are unpacked while the archive streams in, before the manifest says which
/// are layers (decision 27): one that is not a layer is discarded, a second load of the same
/// image leaves the store as it was, and an archive cut short after its layers leaves
/// nothing.
#[test]
fn early_unpacking_leaves_only_what_images_use() {
    require_root();
    let root = Root::new("load-integrity-early");
    let plain = layer_tar(&[("etc/hello", b"hello")]);
    let compressed = gzip(&plain);
    let stray = gzip(&layer_tar(&[("etc/stray", b"not a layer")]));
    let mut image = archive(std::slice::from_ref(&compressed), &[sha256(&plain)]);
    // The stray blob goes in as an extra file of the archive, before manifest.json.
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    let mut tar = tar::Archive::new(&image[..]);
    for entry in tar.entries().expect("entries") {
        let mut entry = entry.expect("entry");
        let path = entry.path().expect("path").to_string_lossy().into_owned();
        let mut data = Vec::new();
        std::io::Read::read_to_end(&mut entry, &mut data).expect("read");
        files.push((path, data));
    }
    files.insert(
        1,
        (format!("blobs/sha256/{}", sha256(&stray)), stray.clone()),
    );
    let entries: Vec<(&str, &[u8])> = files
        .iter()
        .map(|(p, d)| (p.as_str(), d.as_slice()))
        .collect();
    let with_stray = layer_tar(&entries);

    for _ in 0..2 {
        let (code, err) = root.load(&with_stray);
        assert_eq!(code, 0, "{err}");
        assert_eq!(root.entries("layers"), vec![sha256(&plain)]);
        let blobs = root.entries("blobs/sha256");
        assert_eq!(blobs.len(), 2, "config and layer only: {blobs:?}");
        assert!(!blobs.contains(&sha256(&stray)), "{blobs:?}");
        assert_eq!(root.entries("tmp"), Vec::<String>::new());
    }

    let cut = Root::new("load-integrity-early-cut");
    // Cut inside manifest.json, the last file: the layer blob is complete and was unpacked.
    image.truncate(image.len() - 1536);
    let (code, err) = cut.load(&image);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("truncated"), "{err}");
    for sub in ["layers", "blobs/sha256", "images", "tmp"] {
        assert_eq!(cut.entries(sub), Vec::<String>::new(), "{sub}");
    }
}

/// A record written before layers carried `tar_size` still saves: the size is measured by
/// decompressing once (and checked), giving the same archive.
#[test]
fn save_without_recorded_tar_size_measures_it() {
    require_root();
    let root = Root::new("load-integrity-no-size");
    let plain = layer_tar(&[("etc/hello", b"hello"), ("bin/tool", &[9u8; 50_000])]);
    let (code, err) = root.load(&archive(&[gzip(&plain)], &[sha256(&plain)]));
    assert_eq!(code, 0, "{err}");
    let saved = root.save("integrity:test");

    let images = root.entries("images");
    assert_eq!(images.len(), 1, "{images:?}");
    let path = root.0.join("state/images").join(&images[0]);
    let mut record: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).expect("read record")).expect("json");
    for layer in record["layers"].as_array_mut().expect("layers") {
        assert!(
            layer
                .as_object_mut()
                .expect("layer")
                .remove("tar_size")
                .is_some()
        );
    }
    std::fs::write(&path, record.to_string()).expect("write record");
    assert_eq!(root.save("integrity:test"), saved);
}
