//! `images --filter`, `image prune` and `system df` end to end, as root, on a store of the
//! test's own: the busybox test image plus two small images with labels, the older of which
//! becomes dangling when the newer takes its tag (as a rebuild leaves one behind in Docker).

mod harness;

use std::process::Command;

use berth_engine::Digest;
use berth_engine::archive::{MemoryBlobStore, SaveImage, write_docker_archive};
use harness::require_root;
use harness::state::StateRoot as Root;

impl Root {
    /// `images` with the given filters, one `repository:tag` per line.
    fn names(&self, filters: &[&str]) -> String {
        let mut args = vec!["images", "--format", "{{.Repository}}:{{.Tag}}"];
        for f in filters {
            args.extend(["--filter", f]);
        }
        self.ok(&args)
    }

    fn load_busybox(&self) {
        let path = self.busybox_tar();
        self.ok(&["load", "-i", path.to_str().expect("utf-8")]);
    }

    /// Loads a one-file image made here, with `labels` and a `created` time.
    fn load_small(&self, tag: &str, content: &str, labels: serde_json::Value, created: &str) {
        let dir = self.0.join(format!("layer-{content}"));
        std::fs::create_dir_all(&dir).expect("layer dir");
        std::fs::write(dir.join("hello.txt"), content).expect("write file");
        let layer_tar = self.0.join(format!("layer-{content}.tar"));
        let status = Command::new("tar")
            .args(["--owner=0", "--group=0", "--mtime=@0", "-cf"])
            .arg(&layer_tar)
            .arg("-C")
            .arg(&dir)
            .arg("hello.txt")
            .status()
            .expect("run tar");
        assert!(status.success());
        let layer_bytes = std::fs::read(&layer_tar).expect("read layer");
        let diff_id = Digest::of_bytes(&layer_bytes);
        let arch = match std::env::consts::ARCH {
            "x86_64" => "amd64",
            "aarch64" => "arm64",
            other => other,
        };
        let config = serde_json::json!({
            "architecture": arch,
            "os": "linux",
            "created": created,
            "config": { "Cmd": ["cat", "/hello.txt"], "Labels": labels },
            "rootfs": { "type": "layers", "diff_ids": [diff_id.as_str()] },
        });
        let blobs = MemoryBlobStore::new();
        let layer = blobs.put_bytes(&layer_bytes).expect("put layer");
        let config = blobs
            .put_bytes(&serde_json::to_vec(&config).expect("json"))
            .expect("put config");
        let archive = self.0.join(format!("image-{content}.tar"));
        let mut file = std::fs::File::create(&archive).expect("create archive");
        let image = SaveImage {
            config,
            layers: vec![layer],
            diff_ids: vec![diff_id],
            repo_tags: vec![tag.to_string()],
        };
        write_docker_archive(&mut file, &blobs, &[image]).expect("write archive");
        self.ok(&["load", "-i", archive.to_str().expect("utf-8")]);
    }

    fn inspect(&self, name: &str) -> serde_json::Value {
        let out: serde_json::Value =
            serde_json::from_str(&self.ok(&["image", "inspect", name])).expect("json");
        out[0].clone()
    }

    /// busybox (2026, two tags), app:1 (2025-06, tier=db) and a dangling older app
    /// (2025-01, tier=web) whose tag app:1 took over.
    fn populated(name: &str) -> (Root, String) {
        let root = Root::new(name);
        root.load_busybox();
        root.ok(&["tag", "busybox", "busy2:x"]);
        root.load_small(
            "example.com/team/app:1",
            "one",
            serde_json::json!({"tier": "web", "team": "a"}),
            "2025-01-01T00:00:00Z",
        );
        let dangling = root.inspect("example.com/team/app:1")["Id"]
            .as_str()
            .expect("Id")
            .to_string();
        root.load_small(
            "example.com/team/app:1",
            "two",
            serde_json::json!({"tier": "db"}),
            "2025-06-01T00:00:00Z",
        );
        (root, dangling)
    }
}

/// `4.261MB` → bytes, to compare a printed size with an exact one.
fn parse_size(s: &str) -> f64 {
    let split = s
        .find(|c: char| c.is_ascii_alphabetic())
        .expect("a unit in {s}");
    let (number, unit) = s.split_at(split);
    let scale = match unit {
        "B" => 1.0,
        "kB" => 1e3,
        "MB" => 1e6,
        "GB" => 1e9,
        other => panic!("unit {other}"),
    };
    number.parse::<f64>().expect("a number") * scale
}

fn assert_size(printed: &str, bytes: u64) {
    let got = parse_size(printed);
    assert!(
        (got - bytes as f64).abs() <= bytes as f64 * 0.001,
        "{printed} is not {bytes} bytes"
    );
}

#[test]
fn images_filters_select_like_docker() {
    require_root();
    let (root, dangling) = Root::populated("filters");

    assert_eq!(
        root.names(&[]),
        "busy2:x\nbusybox:latest\nexample.com/team/app:1\n<none>:<none>\n"
    );
    assert_eq!(root.names(&["dangling=true"]), "<none>:<none>\n");
    assert_eq!(
        root.ok(&["images", "-q", "--no-trunc", "--filter", "dangling=true"]),
        format!("{dangling}\n")
    );
    assert_eq!(
        root.names(&["dangling=false"]),
        "busy2:x\nbusybox:latest\nexample.com/team/app:1\n"
    );
    // Globs on the familiar name, with or without the tag; `*` stops at `/`.
    assert_eq!(
        root.names(&["reference=busy*"]),
        "busy2:x\nbusybox:latest\n"
    );
    assert_eq!(root.names(&["reference=busybox"]), "busybox:latest\n");
    assert_eq!(root.names(&["reference=*app*"]), "");
    assert_eq!(
        root.names(&["reference=*/*/app:*"]),
        "example.com/team/app:1\n"
    );
    // Same key: OR.
    assert_eq!(
        root.names(&["reference=busybox", "reference=example.com/team/app:1"]),
        "busybox:latest\nexample.com/team/app:1\n"
    );
    // Labels from the image config; several label filters must all hold.
    assert_eq!(
        root.names(&["label=tier"]),
        "example.com/team/app:1\n<none>:<none>\n"
    );
    assert_eq!(root.names(&["label=tier=web"]), "<none>:<none>\n");
    assert_eq!(
        root.names(&["label=tier", "label=team=a"]),
        "<none>:<none>\n"
    );
    // Different keys: AND.
    assert_eq!(
        root.names(&["label=tier", "dangling=false"]),
        "example.com/team/app:1\n"
    );
    // Creation time relative to a named image, or a time.
    assert_eq!(
        root.names(&["before=busybox"]),
        "example.com/team/app:1\n<none>:<none>\n"
    );
    assert_eq!(
        root.names(&["since=example.com/team/app:1"]),
        "busy2:x\nbusybox:latest\n"
    );
    assert_eq!(root.names(&["until=2025-03-01"]), "<none>:<none>\n");
    assert_eq!(root.names(&["since=busybox"]), "");

    let (code, _, err) = root.berth(&["images", "--filter", "foo=bar"]);
    assert_eq!((code, err.as_str()), (1, "error: invalid filter 'foo'\n"));
    let (code, _, err) = root.berth(&["images", "--filter", "dangling=maybe"]);
    assert_eq!(
        (code, err.as_str()),
        (1, "error: invalid filter 'dangling=[maybe]'\n")
    );
    let (code, _, err) = root.berth(&["images", "--filter", "before=nope"]);
    assert_eq!((code, err.as_str()), (1, "error: no such image: nope\n"));
}

#[test]
fn prune_removes_dangling_then_everything() {
    require_root();
    let (root, dangling) = Root::populated("prune");
    let sizes: Vec<u64> = ["busybox", "example.com/team/app:1", dangling.as_str()]
        .iter()
        .map(|n| root.inspect(n)["Size"].as_u64().expect("Size"))
        .collect();
    let total: u64 = sizes.iter().sum();

    // system df: three images, none in use, all reclaimable.
    let df = root.ok(&["system", "df"]);
    let lines: Vec<Vec<&str>> = df.lines().map(|l| l.split_whitespace().collect()).collect();
    assert_eq!(
        lines[0],
        ["TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE"],
        "{df}"
    );
    assert_eq!(&lines[1][..3], ["Images", "3", "0"], "{df}");
    assert_size(lines[1][3], total);
    assert_eq!(lines[1][3], lines[1][4], "{df}");
    assert_eq!(lines[1][5], "(100%)", "{df}");
    assert_eq!(lines[2], ["Containers", "0", "0", "0B", "0B"], "{df}");
    assert_eq!(lines[3], ["Local", "Volumes", "0", "0", "0B", "0B"], "{df}");
    assert_eq!(lines[4], ["Build", "Cache", "0", "0", "0B", "0B"], "{df}");
    assert_eq!(
        root.ok(&["system", "df", "--format", "{{.Type}}={{.TotalCount}}"]),
        "Images=3\nContainers=0\nLocal Volumes=0\nBuild Cache=0\n"
    );

    // No terminal and no -f: refused, nothing removed.
    let (code, out, err) = root.berth(&["image", "prune"]);
    assert_eq!((code, out.as_str()), (1, ""), "{err}");
    assert!(
        err.starts_with("error: ") && err.contains("--force"),
        "{err}"
    );
    assert_eq!(root.count("images"), 3);

    // Without -a: only the dangling image, and only its own layer.
    let out = root.ok(&["image", "prune", "-f"]);
    let (head, total_line) = out
        .rsplit_once("\n\n")
        .expect("blank line before the total");
    assert_eq!(head, format!("Deleted Images:\ndeleted: {dangling}"));
    let reclaimed = total_line
        .strip_prefix("Total reclaimed space: ")
        .expect("total line")
        .trim_end();
    assert_size(reclaimed, sizes[2]);
    assert_eq!(root.names(&["dangling=true"]), "");
    assert_eq!((root.count("images"), root.count("layers")), (2, 2));
    // Nothing dangling left: nothing to do.
    assert_eq!(
        root.ok(&["image", "prune", "-f"]),
        "Total reclaimed space: 0B\n"
    );

    // -a with a label filter: only the matching image, tags first.
    let app = root.inspect("example.com/team/app:1")["Id"]
        .as_str()
        .expect("Id")
        .to_string();
    let out = root.ok(&["image", "prune", "-a", "-f", "--filter", "label=tier=db"]);
    assert!(
        out.starts_with(&format!(
            "Deleted Images:\nuntagged: example.com/team/app:1\ndeleted: {app}\n\nTotal reclaimed space: "
        )),
        "{out}"
    );
    let (code, _, err) = root.berth(&["image", "prune", "-f", "--filter", "reference=x"]);
    assert_eq!(
        (code, err.as_str()),
        (1, "error: invalid filter 'reference'\n")
    );

    // -a: everything, and the store is empty.
    let busybox = root.inspect("busybox")["Id"]
        .as_str()
        .expect("Id")
        .to_string();
    let out = root.ok(&["image", "prune", "-a", "-f"]);
    let (head, total_line) = out
        .rsplit_once("\n\n")
        .expect("blank line before the total");
    assert_eq!(
        head,
        format!("Deleted Images:\nuntagged: busy2:x\nuntagged: busybox:latest\ndeleted: {busybox}")
    );
    assert_size(
        total_line
            .strip_prefix("Total reclaimed space: ")
            .expect("total")
            .trim_end(),
        sizes[0],
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
    let df = root.ok(&["system", "df"]);
    assert_eq!(
        df.lines()
            .nth(1)
            .map(|l| l.split_whitespace().collect::<Vec<_>>()),
        Some(vec!["Images", "0", "0", "0B", "0B"]),
        "{df}"
    );
}
