//! A compressed layer is unpacked while its uncompressed tar is written to the store, and
//! checked against its diff id only at the end of the stream: a layer whose content does
//! not match leaves nothing behind (no layer, no blob, no record, no staging), and one that
//! matches is kept as a blob under its diff id.

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
fn compressed_layer_is_kept_under_its_diff_id() {
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
    assert!(blobs.contains(&sha256(&plain)), "{blobs:?}");
    assert!(blobs.contains(&sha256(&compressed)), "{blobs:?}");
    let kept = std::fs::read(root.0.join("state/blobs/sha256").join(sha256(&plain)))
        .expect("read the uncompressed blob");
    assert_eq!(sha256(&kept), sha256(&plain));
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
}
