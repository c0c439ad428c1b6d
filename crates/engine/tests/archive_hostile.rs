//! Hostile image archives (`docker load` input): metadata naming paths out of the archive,
//! links out of it, duplicated and mislabelled blobs, documents that are not what they
//! claim, indexes that refer to themselves or fan out, and extension headers too large to
//! buffer. Reading an archive writes nothing but blobs, so each case must end in a clear
//! error or a correct result, never a panic, a hang or unbounded memory.

use std::io::Write;

use berth_engine::Digest;
use berth_engine::archive::{ArchiveError, MemoryBlobStore, read_archive};
use serde_json::json;

const MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const INDEX: &str = "application/vnd.oci.image.index.v1+json";
const CONFIG: &str = "application/vnd.oci.image.config.v1+json";
const LAYER: &str = "application/vnd.oci.image.layer.v1.tar";

fn digest(data: &[u8]) -> Digest {
    MemoryBlobStore::new().put_bytes(data).unwrap()
}

/// A tar built entry by entry with GNU headers (long names through `././@LongLink`).
struct Archive(tar::Builder<Vec<u8>>);

impl Archive {
    fn new() -> Self {
        Archive(tar::Builder::new(Vec::new()))
    }

    fn file(mut self, path: &str, data: &[u8]) -> Self {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        self.0.append_data(&mut h, path, data).unwrap();
        self
    }

    fn link(mut self, kind: tar::EntryType, path: &str, target: &str) -> Self {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(kind);
        h.set_size(0);
        h.set_mode(0o777);
        self.0.append_link(&mut h, path, target).unwrap();
        self
    }

    fn blob(self, data: &[u8]) -> Self {
        let d = digest(data);
        self.file(&format!("blobs/sha256/{}", d.hex()), data)
    }

    fn finish(self) -> Vec<u8> {
        self.0.into_inner().unwrap()
    }
}

fn descriptor(media_type: &str, data: &[u8]) -> serde_json::Value {
    json!({"mediaType": media_type, "digest": digest(data).to_string(), "size": data.len()})
}

fn config_for(layers: &[&[u8]]) -> Vec<u8> {
    let ids: Vec<String> = layers.iter().map(|l| digest(l).to_string()).collect();
    serde_json::to_vec(&json!({
        "architecture": "amd64", "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": ids},
    }))
    .unwrap()
}

fn layer_tar() -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_size(2);
    h.set_mode(0o644);
    b.append_data(&mut h, "hello", &b"hi"[..]).unwrap();
    b.into_inner().unwrap()
}

fn manifest_json(config: &str, layers: &[&str]) -> Vec<u8> {
    serde_json::to_vec(&json!([{
        "Config": config, "RepoTags": ["evil:latest"], "Layers": layers,
    }]))
    .unwrap()
}

/// A docker-save archive with `config.json` and `layer.tar` at the given paths.
fn docker_archive(manifest: &[u8]) -> Archive {
    let layer = layer_tar();
    Archive::new()
        .file("manifest.json", manifest)
        .file("config.json", &config_for(&[&layer]))
        .file("l/layer.tar", &layer)
}

fn oci_manifest(config: &[u8], layer: &[u8], layer_type: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "schemaVersion": 2, "mediaType": MANIFEST,
        "config": descriptor(CONFIG, config),
        "layers": [descriptor(layer_type, layer)],
    }))
    .unwrap()
}

fn oci_index(manifests: Vec<serde_json::Value>) -> Vec<u8> {
    serde_json::to_vec(&json!({"schemaVersion": 2, "manifests": manifests})).unwrap()
}

fn oci_base() -> Archive {
    Archive::new().file("oci-layout", br#"{"imageLayoutVersion":"1.0.0"}"#)
}

fn read(archive: &[u8]) -> Result<Vec<berth_engine::archive::ArchiveImage>, ArchiveError> {
    read_archive(&mut &archive[..], &MemoryBlobStore::new())
}

fn read_err(archive: &[u8]) -> String {
    read(archive)
        .expect_err("hostile archive was accepted")
        .to_string()
}

#[test]
fn manifest_paths_climbing_out_are_missing_and_absolute_ones_stay_inside() {
    let archive = docker_archive(&manifest_json("../config.json", &["l/layer.tar"])).finish();
    let err = read_err(&archive);
    assert!(err.contains("no such file in the archive"), "{err}");

    let archive = docker_archive(&manifest_json("config.json", &["/etc/../../l/layer.tar"]));
    let err = read_err(&archive.finish());
    assert!(err.contains("no such file in the archive"), "{err}");

    // An absolute path names the archive's own file, never the host's.
    let archive = docker_archive(&manifest_json("/config.json", &["/l/layer.tar"])).finish();
    let images = read(&archive).unwrap();
    assert_eq!(images[0].layers.len(), 1);

    let archive = docker_archive(&manifest_json("/etc/passwd", &["l/layer.tar"])).finish();
    let err = read_err(&archive);
    assert!(err.contains("no such file in the archive"), "{err}");
}

#[test]
fn links_out_of_the_archive_and_link_loops_are_refused() {
    let archive = docker_archive(&manifest_json("config.json", &["out/layer.tar"]))
        .link(tar::EntryType::Symlink, "out", "../../../../etc")
        .finish();
    let err = read_err(&archive);
    assert!(
        err.contains("no such file") || err.contains("outside"),
        "{err}"
    );

    let archive = docker_archive(&manifest_json("config.json", &["evil.tar"]))
        .link(tar::EntryType::Symlink, "evil.tar", "/etc/../../passwd")
        .finish();
    assert!(read_err(&archive).contains("link points outside the archive"));

    let archive = docker_archive(&manifest_json("config.json", &["a"]))
        .link(tar::EntryType::Symlink, "a", "b")
        .link(tar::EntryType::Symlink, "b", "a")
        .finish();
    assert!(read_err(&archive).contains("too many levels of links"));

    let archive = docker_archive(&manifest_json("config.json", &["h"]))
        .link(tar::EntryType::Link, "h", "../../etc/shadow")
        .finish();
    assert!(read_err(&archive).contains("link points outside the archive"));
}

#[test]
fn duplicated_entries_last_one_wins_and_blob_names_are_verified_each_time() {
    let layer = layer_tar();
    // Two manifest.json: the later replaces the earlier, as tar extraction would.
    let archive = Archive::new()
        .file("manifest.json", b"not json")
        .file("config.json", &config_for(&[&layer]))
        .file("l/layer.tar", &layer)
        .file(
            "manifest.json",
            &manifest_json("config.json", &["l/layer.tar"]),
        )
        .finish();
    assert_eq!(read(&archive).unwrap().len(), 1);

    // A second blobs/sha256/<hex> with other content is refused, not silently preferred.
    let d = digest(&layer);
    let archive = docker_archive(&manifest_json("config.json", &["l/layer.tar"]))
        .blob(&layer)
        .file(&format!("blobs/sha256/{}", d.hex()), b"different content")
        .finish();
    let err = read_err(&archive);
    assert!(err.contains("digest mismatch"), "{err}");
}

#[test]
fn a_blob_name_that_is_a_link_must_still_match_its_content() {
    // `blobs/sha256/<digest of the layer>` is a symlink to a file with other content; the
    // manifest names the layer by that digest.
    let layer = layer_tar();
    let other = b"other content".to_vec();
    let config = config_for(&[&layer]);
    // The descriptor's size must match what the link reaches for the size check to pass.
    let fake = serde_json::to_vec(&json!({
        "schemaVersion": 2, "mediaType": MANIFEST,
        "config": descriptor(CONFIG, &config),
        "layers": [{"mediaType": LAYER, "digest": digest(&layer).to_string(), "size": other.len()}],
    }))
    .unwrap();
    let archive = oci_base()
        .file("index.json", &oci_index(vec![descriptor(MANIFEST, &fake)]))
        .blob(&fake)
        .blob(&config)
        .file("other", &other)
        .link(
            tar::EntryType::Symlink,
            &format!("blobs/sha256/{}", digest(&layer).hex()),
            "../../other",
        )
        .finish();
    let err = read_err(&archive);
    assert!(err.contains("holds content with digest"), "{err}");

    // The same through a hard link.
    let archive = oci_base()
        .file("index.json", &oci_index(vec![descriptor(MANIFEST, &fake)]))
        .blob(&fake)
        .blob(&config)
        .file("other", &other)
        .link(
            tar::EntryType::Link,
            &format!("blobs/sha256/{}", digest(&layer).hex()),
            "other",
        )
        .finish();
    let err = read_err(&archive);
    assert!(err.contains("holds content with digest"), "{err}");
}

#[test]
fn a_config_that_is_not_json_or_nests_too_deep_is_an_error() {
    let layer = layer_tar();
    for config in [
        b"not json at all".to_vec(),
        b"{\"rootfs\": 7}".to_vec(),
        [b"[".repeat(100_000), b"]".repeat(100_000)].concat(),
        b"{\"rootfs\":{\"diff_ids\":[\"sha256:nothex\"]}}".to_vec(),
    ] {
        let archive = Archive::new()
            .file(
                "manifest.json",
                &manifest_json("config.json", &["l/layer.tar"]),
            )
            .file("config.json", &config)
            .file("l/layer.tar", &layer)
            .finish();
        read_err(&archive);
    }
    // A manifest.json nested deep is refused by the parser's recursion limit, no crash.
    let deep = [b"[".repeat(1_000_000), b"]".repeat(1_000_000)].concat();
    read_err(&docker_archive(&deep).finish());
}

#[test]
fn a_giant_manifest_json_is_refused() {
    let mut big = b"[".to_vec();
    big.extend(std::iter::repeat_n(b' ', 17 << 20));
    big.push(b']');
    let err = read_err(&docker_archive(&big).finish());
    assert!(err.contains("larger than 16 MiB"), "{err}");
}

#[test]
fn an_index_that_refers_to_itself_is_refused() {
    // An index blob cannot contain its own digest, but two can name each other only by
    // chance of a hash collision; what a hostile archive can build is a chain, refused by
    // depth, and a fan-out, refused by the metadata budget below.
    let mut inner = oci_index(vec![]);
    for _ in 0..6 {
        inner = oci_index(vec![descriptor(INDEX, &inner)]);
    }
    let mut archive = oci_base().file("index.json", &inner);
    let mut level = oci_index(vec![]);
    archive = archive.blob(&level);
    for _ in 0..6 {
        level = oci_index(vec![descriptor(INDEX, &level)]);
        archive = archive.blob(&level);
    }
    let err = read_err(&archive.finish());
    assert!(err.contains("nested more than"), "{err}");
}

#[test]
fn an_index_fanning_out_to_one_large_index_is_bounded() {
    // One nested index of ~2 MiB, named 2000 times at each of two levels: 4 million
    // parses of 2 MiB without a bound.
    let mut padding = Vec::new();
    for i in 0..20_000 {
        padding.push(json!({"mediaType": "application/vnd.example+json",
            "digest": format!("sha256:{:064x}", i), "size": 1}));
    }
    let leaf = oci_index(padding);
    let leaf_desc = descriptor(INDEX, &leaf);
    let middle = oci_index(vec![leaf_desc; 2000]);
    let middle_desc = descriptor(INDEX, &middle);
    let top_fan = vec![middle_desc; 2000];
    let archive = oci_base()
        .file("index.json", &oci_index(top_fan))
        .blob(&leaf)
        .blob(&middle)
        .finish();
    let started = std::time::Instant::now();
    let err = read_err(&archive);
    assert!(err.contains("too many times"), "{err}");
    assert!(started.elapsed() < std::time::Duration::from_secs(60));
}

#[test]
fn a_media_type_that_lies_about_compression_still_loads_and_unpacks_by_content() {
    // The manifest says gzip; the blob is a plain tar. The unpacker picks the decompressor
    // from the magic bytes, so the layer still unpacks.
    let layer = layer_tar();
    let config = config_for(&[&layer]);
    let manifest = oci_manifest(
        &config,
        &layer,
        "application/vnd.oci.image.layer.v1.tar+gzip",
    );
    let archive = oci_base()
        .file(
            "index.json",
            &oci_index(vec![descriptor(MANIFEST, &manifest)]),
        )
        .blob(&manifest)
        .blob(&config)
        .blob(&layer)
        .finish();
    let store = MemoryBlobStore::new();
    let images = read_archive(&mut &archive[..], &store).unwrap();
    let blob = store.get(&images[0].layers[0].blob).unwrap();
    let mut out = Vec::new();
    std::io::Read::read_to_end(
        &mut berth_engine::layer::decompressed(&blob[..]).unwrap(),
        &mut out,
    )
    .unwrap();
    assert_eq!(out, layer);

    // A media type berth does not know is named.
    let manifest = oci_manifest(&config, &layer, "application/x-evil");
    let archive = oci_base()
        .file(
            "index.json",
            &oci_index(vec![descriptor(MANIFEST, &manifest)]),
        )
        .blob(&manifest)
        .blob(&config)
        .blob(&layer)
        .finish();
    assert!(read_err(&archive).contains("which berth cannot unpack"));
}

#[test]
fn blob_names_that_do_not_match_their_content_are_refused() {
    let layer = layer_tar();
    let wrong = digest(b"something else");
    let archive = docker_archive(&manifest_json("config.json", &["l/layer.tar"]))
        .file(&format!("blobs/sha256/{}", wrong.hex()), &layer)
        .finish();
    let err = read_err(&archive);
    assert!(err.contains("digest mismatch"), "{err}");
}

#[test]
fn huge_extension_headers_in_an_archive_are_refused() {
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(tar::EntryType::GNULongName);
    h.set_size(64 << 20);
    h.as_gnu_mut().unwrap().name[..13].copy_from_slice(b"././@LongLink");
    h.set_mode(0o644);
    h.set_cksum();
    let mut raw = h.as_bytes().to_vec();
    raw.extend(std::iter::repeat_n(b'a', 64 << 20));
    raw.extend(tar::Header::new_gnu().as_bytes()); // a (broken) entry after it
    raw.extend([0u8; 1024]);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&raw).unwrap();
    let gz = gz.finish().unwrap();
    drop(raw);
    let err = read_err(&gz);
    assert!(err.contains("extension header"), "{err}");
}
