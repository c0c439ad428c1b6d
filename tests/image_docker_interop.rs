//! berth's archives and Docker's, both ways, against Debian's own dockerd started by the
//! test (isolated: its own data and exec roots and socket, no bridge, no iptables): an
//! image berth saves loads into Docker with the same id, and an image Docker saves loads
//! into berth with the same id.

mod harness;

use std::path::Path;

use harness::dockerd::Dockerd;
use harness::require_root;
use harness::state::StateRoot;

#[test]
fn archives_move_between_berth_and_docker_with_the_same_ids() {
    require_root();
    let root = StateRoot::new("docker-interop");
    let dockerd = Dockerd::start(
        root.path(),
        &[
            "--bridge=none",
            "--iptables=false",
            "--ip6tables=false",
            "--ip-masq=false",
        ],
    );

    // berth → Docker.
    let tar = root.busybox_tar();
    root.ok(&["load", "-i", tar.to_str().expect("utf-8")]);
    let saved = root.path().join("from-berth.tar");
    root.ok(&["save", "-o", saved.to_str().expect("utf-8"), "busybox"]);
    assert_eq!(
        dockerd
            .ok(&["load", "-i", saved.to_str().expect("utf-8")])
            .trim(),
        "Loaded image: busybox:latest"
    );
    let berth_id = root.ok(&["images", "-q", "--no-trunc"]).trim().to_string();
    let docker_id = dockerd
        .ok(&["image", "inspect", "--format", "{{.Id}}", "busybox:latest"])
        .trim()
        .to_string();
    assert_eq!(
        docker_id, berth_id,
        "Docker sees the image berth saved under the same id"
    );

    // Docker → berth: retag in Docker, save with Docker, load into a fresh berth store.
    dockerd.ok(&["tag", "busybox:latest", "example.com/from-docker:1"]);
    let from_docker = root.path().join("from-docker.tar");
    dockerd.ok(&[
        "save",
        "-o",
        from_docker.to_str().expect("utf-8"),
        "example.com/from-docker:1",
    ]);
    let other = StateRoot::new("docker-interop-back");
    assert_eq!(
        other.ok(&["load", "-i", from_docker.to_str().expect("utf-8")]),
        "Loaded image: example.com/from-docker:1\n"
    );
    assert_eq!(
        other.ok(&["images", "-q", "--no-trunc"]).trim(),
        berth_id,
        "same id after Docker's save"
    );

    // A store that holds the layer only gzip-compressed (no uncompressed blob): berth's save
    // decompresses it, and Docker takes the archive under the same id.
    let gz = root.path().join("busybox-gz.tar");
    std::fs::write(&gz, gzip_layers(&saved, "busybox-gz:latest")).expect("write archive");
    let compressed = StateRoot::new("docker-interop-gz");
    compressed.ok(&["load", "-i", gz.to_str().expect("utf-8")]);
    let from_gz = root.path().join("from-berth-gz.tar");
    compressed.ok(&["save", "-o", from_gz.to_str().expect("utf-8"), "busybox-gz"]);
    assert_eq!(
        dockerd
            .ok(&["load", "-i", from_gz.to_str().expect("utf-8")])
            .trim(),
        "Loaded image: busybox-gz:latest"
    );
    assert_eq!(
        dockerd
            .ok(&[
                "image",
                "inspect",
                "--format",
                "{{.Id}}",
                "busybox-gz:latest"
            ])
            .trim(),
        berth_id
    );
    drop(dockerd);
}

/// A docker-save archive of the one image in `archive` (a berth or Docker 25+ save), with
/// its layers gzip-compressed and tagged `tag`.
fn gzip_layers(archive: &Path, tag: &str) -> Vec<u8> {
    use harness::tarball::{gzip, sha256_hex, tar_of};
    use std::io::Read;
    let mut files = std::collections::HashMap::new();
    let mut tar = tar::Archive::new(std::fs::File::open(archive).expect("open archive"));
    for entry in tar.entries().expect("entries") {
        let mut entry = entry.expect("entry");
        let path = entry.path().expect("path").to_string_lossy().into_owned();
        let mut data = Vec::new();
        entry.read_to_end(&mut data).expect("read entry");
        files.insert(path, data);
    }
    let manifest: serde_json::Value =
        serde_json::from_slice(&files["manifest.json"]).expect("manifest.json");
    let config_path = manifest[0]["Config"].as_str().expect("Config").to_string();
    let mut out: Vec<(String, Vec<u8>)> = vec![(config_path.clone(), files[&config_path].clone())];
    let mut layers = Vec::new();
    for layer in manifest[0]["Layers"].as_array().expect("Layers") {
        let compressed = gzip(&files[layer.as_str().expect("layer path")]);
        let path = format!("blobs/sha256/{}", sha256_hex(&compressed));
        layers.push(path.clone());
        out.push((path, compressed));
    }
    let manifest =
        serde_json::json!([{"Config": config_path, "RepoTags": [tag], "Layers": layers}]);
    out.push(("manifest.json".into(), manifest.to_string().into_bytes()));
    let entries: Vec<(&str, &[u8])> = out
        .iter()
        .map(|(p, d)| (p.as_str(), d.as_slice()))
        .collect();
    tar_of(&entries)
}
