//! Two unpacked layers stacked as overlayfs lowerdirs show the merged view Docker shows:
//! a whited-out file is gone and an opaque directory hides what the lower layer had in it.
//! Runs as root (whiteouts, trusted xattrs, mount).

mod layer_support;

use std::fs;
use std::path::{Path, PathBuf};

use berth_engine::layer::{self, UnpackOptions};
use layer_support::{Sandbox, Tar, require_root};
use rustix::mount::{MountFlags, UnmountFlags};

/// Unmounts on drop, so a failed assertion does not leave a mount behind.
struct Mounted(PathBuf);

impl Mounted {
    fn overlay(lowerdirs: &[&Path], target: &Path) -> Mounted {
        let lower: Vec<String> = lowerdirs.iter().map(|p| p.display().to_string()).collect();
        let data = std::ffi::CString::new(format!("lowerdir={}", lower.join(":"))).unwrap();
        rustix::mount::mount(
            "overlay",
            target,
            "overlay",
            MountFlags::RDONLY,
            data.as_c_str(),
        )
        .expect("mount overlay");
        Mounted(target.to_path_buf())
    }
}

impl Drop for Mounted {
    fn drop(&mut self) {
        let _ = rustix::mount::unmount(&self.0, UnmountFlags::DETACH);
    }
}

fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn whiteouts_and_opaque_dirs_shape_the_merged_view() {
    require_root();
    let sb = Sandbox::new();
    let lower = sb.base.join("lower");
    let upper = sb.base.join("upper");
    let merged = sb.base.join("merged");
    for d in [&lower, &upper, &merged] {
        fs::create_dir(d).unwrap();
    }
    let opts = UnpackOptions {
        same_owner: true,
        allow_devices: true,
        ..UnpackOptions::default()
    };

    let first = Tar::new()
        .dir("etc")
        .file("etc/keep.conf", b"keep")
        .file("etc/gone.conf", b"gone")
        .dir("opq")
        .file("opq/old", b"old")
        .dir("opq/sub")
        .file("opq/sub/deep", b"deep")
        .finish();
    layer::unpack(&first[..], &lower, &opts).unwrap();

    let second = Tar::new()
        .dir("etc")
        .file("etc/.wh.gone.conf", b"")
        .dir("opq")
        .file("opq/.wh..wh..opq", b"")
        .file("opq/new", b"new")
        .finish();
    let gz = {
        use std::io::Write;
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(&second).unwrap();
        enc.finish().unwrap()
    };
    layer::unpack(layer::decompressed(&gz[..]).unwrap(), &upper, &opts).unwrap();

    let mount = Mounted::overlay(&[&upper, &lower], &merged);
    assert_eq!(names(&merged.join("etc")), ["keep.conf"]);
    assert_eq!(fs::read(merged.join("etc/keep.conf")).unwrap(), b"keep");
    assert_eq!(names(&merged.join("opq")), ["new"]);
    assert_eq!(fs::read(merged.join("opq/new")).unwrap(), b"new");
    drop(mount);
    assert!(names(&merged).is_empty(), "unmounted");
}
