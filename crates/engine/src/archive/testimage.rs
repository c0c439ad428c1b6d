//! A small real image for tests: Debian's static busybox in one layer, saved as a
//! docker-save archive. Built in Rust from the host's busybox binary, so tests need neither a
//! registry nor docker; the bytes are the same on every run for a given binary.

use std::io::{self, Write};
use std::path::Path;
use std::process::Command;

use super::memstore::MemoryBlobStore;
use super::oci::host_arch;
use super::save::{SaveImage, write_docker_archive};

/// When the image was "built": fixed so that the config, and with it the image id, is stable.
const CREATED: &str = "2026-01-01T00:00:00Z";
const PATH_ENV: &str = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
const PASSWD: &str =
    "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n";
const GROUP: &str = "root:x:0:\nnobody:x:65534:\n";

/// Writes a docker-save archive of a one-layer busybox image tagged `repo_tag` to `w`.
/// `busybox` is a static busybox binary (`/bin/busybox` from busybox-static).
pub fn busybox_archive(busybox: &Path, repo_tag: &str, w: &mut dyn Write) -> io::Result<()> {
    let store = MemoryBlobStore::new();
    let layer = store.put_bytes(&busybox_layer(busybox)?)?;
    let config = store.put_bytes(&config_json(layer.as_str())?)?;
    let image = SaveImage {
        config,
        layers: vec![layer.clone()],
        diff_ids: vec![layer],
        repo_tags: vec![repo_tag.to_string()],
    };
    write_docker_archive(w, &store, &[image]).map_err(io::Error::other)
}

/// The applets this busybox provides, as it lists them.
fn applets(busybox: &Path) -> io::Result<Vec<String>> {
    let out = Command::new(busybox).arg("--list").output()?;
    if !out.status.success() {
        return Err(io::Error::other(format!(
            "{} --list failed: {}",
            busybox.display(),
            out.status
        )));
    }
    let list = String::from_utf8_lossy(&out.stdout);
    Ok(list
        .lines()
        .map(str::trim)
        .filter(|a| !a.is_empty() && !a.contains('/') && *a != "busybox")
        .map(str::to_string)
        .collect())
}

enum Node {
    Dir(u32),
    File(u32, Vec<u8>),
    Symlink(&'static str),
}

/// The layer tar: the filesystem of the image, entries sorted, owners root, mtimes zero.
fn busybox_layer(busybox: &Path) -> io::Result<Vec<u8>> {
    let mut nodes: Vec<(String, Node)> = vec![
        ("bin/".into(), Node::Dir(0o755)),
        (
            "bin/busybox".into(),
            Node::File(0o755, std::fs::read(busybox)?),
        ),
        ("dev/".into(), Node::Dir(0o755)),
        ("etc/".into(), Node::Dir(0o755)),
        ("etc/group".into(), Node::File(0o644, GROUP.into())),
        ("etc/passwd".into(), Node::File(0o644, PASSWD.into())),
        ("proc/".into(), Node::Dir(0o555)),
        ("sys/".into(), Node::Dir(0o555)),
        ("tmp/".into(), Node::Dir(0o1777)),
    ];
    for applet in applets(busybox)? {
        nodes.push((format!("bin/{applet}"), Node::Symlink("busybox")));
    }
    nodes.sort_by(|a, b| a.0.cmp(&b.0));
    nodes.dedup_by(|a, b| a.0 == b.0);

    let mut tar = tar::Builder::new(Vec::new());
    for (path, node) in &nodes {
        let mut h = tar::Header::new_ustar();
        h.set_mtime(0);
        h.set_uid(0);
        h.set_gid(0);
        let data: &[u8] = match node {
            Node::Dir(mode) => {
                h.set_entry_type(tar::EntryType::Directory);
                h.set_mode(*mode);
                &[]
            }
            Node::File(mode, data) => {
                h.set_entry_type(tar::EntryType::Regular);
                h.set_mode(*mode);
                data
            }
            Node::Symlink(target) => {
                h.set_entry_type(tar::EntryType::Symlink);
                h.set_mode(0o777);
                h.set_link_name(target)?;
                &[]
            }
        };
        h.set_path(path)?;
        h.set_size(data.len() as u64);
        h.set_cksum();
        tar.append(&h, data)?;
    }
    tar.into_inner()
}

/// The image config, in Docker's shape.
fn config_json(diff_id: &str) -> io::Result<Vec<u8>> {
    let config = serde_json::json!({
        "architecture": host_arch(),
        "config": {
            "Cmd": ["sh"],
            "Env": [PATH_ENV],
        },
        "created": CREATED,
        "history": [{
            "created": CREATED,
            "created_by": "berth test image: busybox from the host",
        }],
        "os": "linux",
        "rootfs": {
            "type": "layers",
            "diff_ids": [diff_id],
        },
    });
    serde_json::to_vec(&config).map_err(io::Error::other)
}
