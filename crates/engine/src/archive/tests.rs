//! Archive round trips and the errors a broken archive gets.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::*;
use crate::archive::memstore::sha256_digest;

const BUSYBOX: &str = "/bin/busybox";

fn busybox_tar() -> Vec<u8> {
    let mut out = Vec::new();
    testimage::busybox_archive(Path::new(BUSYBOX), "busybox:latest", &mut out).unwrap();
    out
}

fn tar_of(entries: &[(&str, &[u8])], links: &[(&str, &str)]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (path, data) in entries {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        b.append_data(&mut h, path, *data).unwrap();
    }
    for (path, target) in links {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Symlink);
        h.set_size(0);
        h.set_mode(0o777);
        b.append_link(&mut h, path, target).unwrap();
    }
    b.into_inner().unwrap()
}

/// The entries of a tar other than `skip`, as a new tar.
fn without(archive: &[u8], skip: &str) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    let mut a = tar::Archive::new(archive);
    for e in a.entries().unwrap() {
        let e = e.unwrap();
        if e.path().unwrap().to_str() != Some(skip) {
            let h = e.header().clone();
            b.append(&h, e).unwrap();
        }
    }
    b.into_inner().unwrap()
}

fn config_for(layers: &[&[u8]]) -> Vec<u8> {
    let ids: Vec<String> = layers
        .iter()
        .map(|l| sha256_digest(l).to_string())
        .collect();
    serde_json::to_vec(&serde_json::json!({
        "architecture": "amd64", "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": ids},
    }))
    .unwrap()
}

fn temp_file(name: &str, data: &[u8]) -> PathBuf {
    let path = std::env::temp_dir().join(format!("berth-archive-{}-{name}", std::process::id()));
    std::fs::File::create(&path)
        .unwrap()
        .write_all(data)
        .unwrap();
    path
}

fn skopeo_inspect(transport: &str, path: &Path) -> serde_json::Value {
    let out = Command::new("skopeo")
        .args(["inspect", &format!("{transport}:{}", path.display())])
        .output()
        .expect("skopeo must be installed for this test");
    assert!(
        out.status.success(),
        "skopeo inspect {transport} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn busybox_image_reads_back_with_its_config_and_layer() {
    let archive = busybox_tar();
    let store = MemoryBlobStore::new();
    let images = read_archive(&mut &archive[..], &store).unwrap();
    assert_eq!(images.len(), 1);
    let image = &images[0];
    assert_eq!(image.repo_tags, ["busybox:latest"]);
    assert!(
        image.manifest.is_some(),
        "docker 25+ archives link the manifest"
    );
    assert_eq!(image.layers.len(), 1);
    assert_eq!(
        image.layers[0].media_type,
        "application/vnd.oci.image.layer.v1.tar"
    );
    let diff_ids = config_diff_ids(&store, &image.config).unwrap();
    assert_eq!(diff_ids, [image.layers[0].blob.clone()]);

    // The layer holds busybox, its applets as symlinks, and the base directories.
    let layer = store.get(&image.layers[0].blob).unwrap();
    let mut seen = std::collections::HashMap::new();
    for e in tar::Archive::new(&layer[..]).entries().unwrap() {
        let e = e.unwrap();
        let path = e.path().unwrap().to_string_lossy().into_owned();
        seen.insert(path, (e.header().entry_type(), e.header().mode().unwrap()));
    }
    assert_eq!(seen["bin/busybox"], (tar::EntryType::Regular, 0o755));
    assert_eq!(seen["bin/sh"].0, tar::EntryType::Symlink);
    assert_eq!(seen["tmp/"], (tar::EntryType::Directory, 0o1777));
    assert!(seen.contains_key("etc/passwd") && seen.contains_key("etc/group"));
}

#[test]
fn busybox_image_bytes_are_stable() {
    assert_eq!(busybox_tar(), busybox_tar());
}

#[test]
fn save_load_save_is_byte_identical() {
    let first = busybox_tar();
    let store = MemoryBlobStore::new();
    let images = read_archive(&mut &first[..], &store).unwrap();
    let save: Vec<SaveImage> = images
        .iter()
        .map(|i| SaveImage {
            config: i.config.clone(),
            layers: i.layers.iter().map(|l| l.blob.clone()).collect(),
            diff_ids: config_diff_ids(&store, &i.config).unwrap(),
            repo_tags: i.repo_tags.clone(),
        })
        .collect();
    let mut second = Vec::new();
    write_docker_archive(&mut second, &store, &save).unwrap();
    assert!(first == second, "save -> load -> save changed the bytes");
}

#[test]
fn skopeo_accepts_the_archive_as_docker_and_oci() {
    let path = temp_file("skopeo.tar", &busybox_tar());
    let docker = skopeo_inspect("docker-archive", &path);
    let oci = skopeo_inspect("oci-archive", &path);
    std::fs::remove_file(&path).unwrap();
    for inspected in [&docker, &oci] {
        assert_eq!(inspected["Os"], "linux");
        assert_eq!(inspected["Layers"].as_array().unwrap().len(), 1);
    }
    assert_eq!(docker["Architecture"], oci::host_arch());
}

#[test]
fn oci_layout_without_manifest_json_reads_names_from_annotations() {
    let archive = without(&busybox_tar(), "manifest.json");
    let store = MemoryBlobStore::new();
    let images = read_archive(&mut &archive[..], &store).unwrap();
    assert_eq!(images.len(), 1);
    assert_eq!(images[0].repo_tags, ["docker.io/library/busybox:latest"]);
    assert!(images[0].manifest.is_some());
}

#[test]
fn legacy_docker_save_with_a_symlinked_layer_and_gzip() {
    let layer: &[u8] = &tar_of(&[("hello", b"hi")], &[]);
    let config = config_for(&[layer, layer]);
    let config_name = format!("{}.json", sha256_digest(&config).hex());
    let manifest = serde_json::to_vec(&serde_json::json!([{
        "Config": config_name,
        "RepoTags": ["hello:1"],
        "Layers": ["aaa/layer.tar", "bbb/layer.tar"],
    }]))
    .unwrap();
    let archive = tar_of(
        &[
            ("aaa/layer.tar", layer),
            (&config_name, &config),
            ("manifest.json", &manifest),
        ],
        &[("bbb/layer.tar", "../aaa/layer.tar")],
    );
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&archive).unwrap();
    let archive = gz.finish().unwrap();

    let store = MemoryBlobStore::new();
    let images = read_archive(&mut &archive[..], &store).unwrap();
    assert_eq!(images[0].repo_tags, ["hello:1"]);
    assert_eq!(images[0].manifest, None);
    assert_eq!(images[0].layers.len(), 2);
    assert_eq!(images[0].layers[0], images[0].layers[1]);
    assert_eq!(images[0].layers[0].blob, sha256_digest(layer));
}

fn read_err(archive: &[u8]) -> String {
    read_archive(&mut &archive[..], &MemoryBlobStore::new())
        .unwrap_err()
        .to_string()
}

#[test]
fn missing_layer_is_named_with_its_place_in_manifest_json() {
    let config = config_for(&[b"x"]);
    let manifest = br#"[{"Config":"c.json","RepoTags":null,"Layers":["abc/layer.tar"]}]"#;
    let archive = tar_of(&[("c.json", &config), ("manifest.json", manifest)], &[]);
    assert_eq!(
        read_err(&archive),
        r#"manifest.json: Layers[0]: no such file in the archive "abc/layer.tar""#
    );
}

#[test]
fn layer_count_must_match_the_config() {
    let config = config_for(&[]);
    let manifest = br#"[{"Config":"c.json","RepoTags":[],"Layers":["l.tar"]}]"#;
    let archive = tar_of(
        &[
            ("c.json", &config),
            ("l.tar", b"x"),
            ("manifest.json", manifest),
        ],
        &[],
    );
    assert!(read_err(&archive).contains("lists 0 diff ids but the image has 1 layers"));
}

#[test]
fn symlink_out_of_the_archive_is_refused() {
    let manifest = br#"[{"Config":"c.json","RepoTags":[],"Layers":[]}]"#;
    let archive = tar_of(
        &[("manifest.json", manifest)],
        &[("c.json", "../../etc/passwd")],
    );
    assert!(read_err(&archive).contains("link points outside the archive"));
}

#[test]
fn unknown_layer_media_type_is_named() {
    let archive = busybox_tar();
    let store = MemoryBlobStore::new();
    let image = read_archive(&mut &archive[..], &store).unwrap().remove(0);
    // Rewrite the manifest with a foreign layer type and point the index at it.
    let manifest = store.get(image.manifest.as_ref().unwrap()).unwrap();
    let manifest = String::from_utf8(manifest)
        .unwrap()
        .replace(
            "application/vnd.oci.image.layer.v1.tar",
            "application/x-foo",
        )
        .into_bytes();
    let digest = sha256_digest(&manifest);
    let index = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "manifests": [{
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": digest.to_string(), "size": manifest.len(),
        }],
    }))
    .unwrap();
    let mut entries = vec![
        (
            "oci-layout".to_string(),
            br#"{"imageLayoutVersion":"1.0.0"}"#.to_vec(),
        ),
        ("index.json".to_string(), index),
        (format!("blobs/sha256/{}", digest.hex()), manifest),
    ];
    for d in [&image.config, &image.layers[0].blob] {
        entries.push((format!("blobs/sha256/{}", d.hex()), store.get(d).unwrap()));
    }
    let refs: Vec<(&str, &[u8])> = entries.iter().map(|(p, d)| (p.as_str(), &d[..])).collect();
    let err = read_err(&tar_of(&refs, &[]));
    assert_eq!(
        err,
        format!(
            "layer blob {} has media type \"application/x-foo\", which berth cannot unpack",
            image.layers[0].blob
        )
    );
}

#[test]
fn truncated_archive_says_so() {
    let archive = busybox_tar();
    assert_eq!(
        read_err(&archive[..archive.len() / 2]),
        "archive is truncated"
    );
}

#[test]
fn a_tar_without_image_metadata_is_not_an_image() {
    let archive = tar_of(&[("hello", b"hi")], &[]);
    assert_eq!(
        read_err(&archive),
        "not an image archive: neither manifest.json nor index.json found"
    );
}

#[test]
fn blob_with_a_wrong_digest_is_refused() {
    let name = format!("blobs/sha256/{}", sha256_digest(b"a").hex());
    let archive = tar_of(&[(&name, b"b")], &[]);
    assert!(read_err(&archive).contains("digest mismatch"));
}
