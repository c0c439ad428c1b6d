//! The image commands end to end, as root, on a store of the test's own: load the busybox
//! test image, list, tag, inspect, save (skopeo must accept the archive), load the saved
//! archive elsewhere (same ids), remove, and refuse bad archives without leaving anything.

mod harness;

use std::path::{Path, PathBuf};
use std::process::Command;

use harness::{berth_bin, require_root};

struct Root(PathBuf);

impl Root {
    fn new(name: &str) -> Root {
        let dir = std::env::temp_dir().join(format!("berth-test-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create test root");
        Root(dir)
    }

    fn berth(&self, args: &[&str]) -> (i32, String, String) {
        let out = Command::new(berth_bin())
            .arg("--root")
            .arg(self.0.join("state"))
            .args(args)
            .current_dir(&self.0)
            .output()
            .expect("run berth");
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    fn ok(&self, args: &[&str]) -> String {
        let (code, out, err) = self.berth(args);
        assert_eq!(code, 0, "berth {args:?} failed: {err}");
        out
    }

    fn busybox_tar(&self) -> PathBuf {
        let path = self.0.join("busybox.tar");
        let mut file = std::fs::File::create(&path).expect("create archive");
        berth_engine::archive::testimage::busybox_archive(
            Path::new("/bin/busybox"),
            "busybox:latest",
            &mut file,
        )
        .expect("build the busybox test image (needs the busybox-static package)");
        path
    }

    fn count(&self, sub: &str) -> usize {
        std::fs::read_dir(self.0.join("state").join(sub))
            .map(|d| d.count())
            .unwrap_or(0)
    }
}

impl Drop for Root {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

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
