//! Volumes as a user relies on them: a named volume is filled from the image the first
//! time and outlives its container, anonymous volumes (`-v /path` and the image's
//! `VOLUME`) go with `rm -v` and `--rm` but named ones never do, bind mounts (`-v`
//! creates a missing host dir, `--mount` refuses it; `:ro` is read-only), tmpfs mounts,
//! `volume create|ls|inspect|rm|prune`, and bad specs refused with nothing left. Root.

mod harness;

use harness::containers::{inspect, root, run};
use harness::state::StateRoot as Root;

fn volume_names(root: &Root) -> Vec<String> {
    let out = root.ok(&["volume", "ls", "-q"]);
    out.lines().map(str::to_string).collect()
}

#[test]
fn a_named_volume_is_filled_from_the_image_and_survives_its_container() {
    let root = root("vol-named");
    // busybox's /etc has passwd and group: the new volume gets them, then keeps what the
    // container writes.
    let (code, out, err) = run(
        &root,
        &[
            "--name",
            "writer",
            "-v",
            "conf:/etc",
            "busybox",
            "sh",
            "-c",
            "cat /etc/group | head -1; echo kept > /etc/note",
        ],
    );
    assert_eq!((code, out.as_str()), (0, "root:x:0:\n"), "{err}");
    let mounts = &inspect(&root, "writer")["Mounts"];
    assert_eq!(mounts[0]["Type"], "volume");
    assert_eq!(mounts[0]["Name"], "conf");
    assert_eq!(mounts[0]["Destination"], "/etc");
    assert_eq!(mounts[0]["Driver"], "local");
    assert_eq!(mounts[0]["Mode"], "z");
    assert_eq!(mounts[0]["RW"], true);
    let data = root.path().join("state/volumes/conf/_data");
    assert_eq!(mounts[0]["Source"], data.to_str().expect("utf-8"));
    assert!(data.join("passwd").is_file());
    root.ok(&["rm", "-v", "writer"]);
    assert_eq!(
        volume_names(&root),
        ["conf"],
        "a named volume is never removed implicitly"
    );
    // A new container sees what the first one wrote; a non-empty volume is not refilled.
    let (code, out, err) = run(
        &root,
        &[
            "--rm",
            "-v",
            "conf:/etc:ro",
            "busybox",
            "sh",
            "-c",
            "cat /etc/note; echo x > /etc/other",
        ],
    );
    assert_eq!(code, 1, "{err}");
    assert_eq!(out, "kept\n");
    assert!(err.contains("Read-only file system"), "{err}");
    // `nocopy`: an empty new volume stays empty.
    let (code, out, err) = run(
        &root,
        &["--rm", "-v", "empty:/etc:nocopy", "busybox", "ls", "/etc"],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out, "hostname\nhosts\nresolv.conf\n",
        "only berth's own mount points"
    );

    // In use: `volume rm` refuses and names the container; after `rm`, it goes.
    let id = run(
        &root,
        &["-d", "-v", "conf:/data", "busybox", "sleep", "1000"],
    )
    .1;
    let id = id.trim();
    let (code, _, err) = root.berth(&["volume", "rm", "conf"]);
    assert_eq!(code, 1);
    assert_eq!(
        err,
        format!("error: remove conf: volume is in use - [{}]\n", &id[..12])
    );
    root.ok(&["rm", "-f", id]);
    assert_eq!(root.ok(&["volume", "rm", "conf", "empty"]), "conf\nempty\n");
    assert!(!root.path().join("state/volumes/conf").exists());
    let (code, _, err) = root.berth(&["volume", "rm", "conf"]);
    assert_eq!(
        (code, err.as_str()),
        (1, "error: get conf: no such volume\n")
    );
    assert_eq!(root.berth(&["volume", "rm", "-f", "conf"]).0, 0);
}

#[test]
fn anonymous_volumes_go_with_rm_v_and_with_rm() {
    let root = root("vol-anon");
    // `-v /path` alone is anonymous; `rm` without -v keeps it, `rm -v` removes it.
    let id = run(&root, &["-d", "-v", "/scratch", "busybox", "sleep", "1000"]).1;
    let id = id.trim().to_string();
    let anon = inspect(&root, &id)["Mounts"][0]["Name"]
        .as_str()
        .expect("name")
        .to_string();
    assert_eq!(anon.len(), 64);
    let labels = root.ok(&["volume", "inspect", "--format", "{{json .Labels}}", &anon]);
    assert_eq!(labels, "{\"com.docker.volume.anonymous\":\"\"}\n");
    root.ok(&["rm", "-f", &id]);
    assert_eq!(volume_names(&root), vec![anon.clone()]);
    let id = run(
        &root,
        &[
            "-d",
            "-v",
            "/scratch",
            "-v",
            "keep:/keep",
            "busybox",
            "sleep",
            "1000",
        ],
    )
    .1;
    root.ok(&["rm", "-f", "-v", id.trim()]);
    let mut expected = vec![anon.clone(), "keep".to_string()];
    expected.sort();
    assert_eq!(volume_names(&root), expected);
    // `--rm` takes its anonymous volumes along.
    let (code, _, err) = run(&root, &["--rm", "-v", "/tmp/x", "busybox", "true"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(volume_names(&root), expected);
    // prune: anonymous unused ones by default, every unused one with -a.
    let out = root.ok(&["volume", "prune", "-f"]);
    assert_eq!(
        out,
        format!("Deleted Volumes:\n{anon}\n\nTotal reclaimed space: 0B\n")
    );
    assert_eq!(volume_names(&root), ["keep"]);
    let out = root.ok(&["volume", "prune", "-f", "-a"]);
    assert!(out.starts_with("Deleted Volumes:\nkeep\n"), "{out}");
    assert_eq!(volume_names(&root), Vec::<String>::new());
}

#[test]
fn bind_and_tmpfs_mounts() {
    let root = root("vol-bind");
    let host = root.path().join("site");
    std::fs::create_dir(&host).expect("mkdir");
    std::fs::write(host.join("index.html"), "hello\n").expect("write");
    let host = host.to_str().expect("utf-8").to_string();
    let ro = format!("{host}:/srv:ro");
    let (code, out, err) = run(
        &root,
        &[
            "--rm",
            "-v",
            &ro,
            "busybox",
            "sh",
            "-c",
            "cat /srv/index.html; touch /srv/new",
        ],
    );
    assert_eq!((code, out.as_str()), (1, "hello\n"), "{err}");
    assert!(err.contains("Read-only file system"), "{err}");
    // Read-write: the host sees the write.
    let rw = format!("type=bind,source={host},target=/srv");
    let (code, _, err) = run(
        &root,
        &[
            "--name",
            "binder",
            "--mount",
            &rw,
            "busybox",
            "sh",
            "-c",
            "echo w > /srv/new",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        std::fs::read_to_string(format!("{host}/new")).expect("read"),
        "w\n"
    );
    let m = &inspect(&root, "binder")["Mounts"][0];
    assert_eq!(
        (
            m["Type"].as_str(),
            m["Source"].as_str(),
            m["Propagation"].as_str()
        ),
        (Some("bind"), Some(host.as_str()), Some("rprivate"))
    );
    assert!(m.get("Name").is_none() && m.get("Driver").is_none(), "{m}");
    // `-v` creates a missing host directory; `--mount` refuses it.
    let missing = root.path().join("made/by/berth");
    let spec = format!("{}:/m", missing.display());
    let (code, _, err) = run(&root, &["--rm", "-v", &spec, "busybox", "true"]);
    assert_eq!(code, 0, "{err}");
    assert!(missing.is_dir());
    let other = root.path().join("not-there");
    let spec = format!("type=bind,src={},dst=/m", other.display());
    let (code, _, err) = run(&root, &["--rm", "--mount", &spec, "busybox", "true"]);
    assert_eq!(code, 125);
    assert_eq!(
        err,
        format!(
            "error: invalid mount config for type \"bind\": bind source path does not exist: {}\n",
            other.display()
        )
    );
    assert!(!other.exists());
    // tmpfs: a fresh filesystem with Docker's options and the size asked for.
    let (code, out, err) = run(
        &root,
        &[
            "--rm",
            "--tmpfs",
            "/run:size=1m",
            "busybox",
            "sh",
            "-c",
            "grep ' /run ' /proc/mounts",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        out.starts_with("tmpfs /run tmpfs rw,nosuid,nodev,noexec,relatime,size=1024k"),
        "{out}"
    );
    let (code, out, err) = run(
        &root,
        &[
            "--rm",
            "--mount",
            "type=tmpfs,target=/t,tmpfs-mode=1770",
            "busybox",
            "stat",
            "-c",
            "%a",
            "/t",
        ],
    );
    assert_eq!((code, out.as_str()), (0, "1770\n"), "{err}");
}

#[test]
fn volume_commands_and_bad_specs() {
    let root = root("vol-cmds");
    assert_eq!(
        root.ok(&["volume", "create", "--label", "team=db", "db"]),
        "db\n"
    );
    assert_eq!(
        root.ok(&["volume", "create", "db"]),
        "db\n",
        "creating again returns it"
    );
    let anon = root.ok(&["volume", "create"]);
    assert_eq!(anon.trim().len(), 64);
    let table = root.ok(&["volume", "ls", "--filter", "label=team=db"]);
    assert_eq!(table, "DRIVER    VOLUME NAME\nlocal     db\n");
    // `name` is a regular expression (as Docker's): anchored, so that the anonymous
    // volume's random hex name cannot match by chance.
    let json = root.ok(&["volume", "ls", "--format", "json", "--filter", "name=^db$"]);
    let row: serde_json::Value = serde_json::from_str(json.trim()).expect("json");
    assert_eq!(
        (
            row["Name"].as_str(),
            row["Labels"].as_str(),
            row["Scope"].as_str()
        ),
        (Some("db"), Some("team=db"), Some("local"))
    );
    assert_eq!(
        root.ok(&["volume", "ls", "-q", "--filter", "dangling=true"])
            .lines()
            .count(),
        2
    );
    let inspected: serde_json::Value =
        serde_json::from_str(&root.ok(&["volume", "inspect", "db"])).expect("json");
    assert_eq!(inspected[0]["Labels"]["team"], "db");
    assert_eq!(inspected[0]["Driver"], "local");

    let cases: [(&[&str], &str); 6] = [
        (
            &["volume", "create", "a/b"],
            "error: create a/b: \"a/b\" includes invalid characters for a local volume name",
        ),
        (
            &["volume", "create", "-d", "nfs", "x1"],
            "error: create x1: driver \"nfs\" is not supported by berth (only the local driver)",
        ),
        (
            &[
                "volume",
                "create",
                "-o",
                "type=ext4",
                "-o",
                "device=/dev/zram0",
                "x2",
            ],
            "error: create x2: volume type \"ext4\" is not supported by berth yet",
        ),
        (
            &[
                "run",
                "--network",
                "none",
                "-v",
                "db:data",
                "busybox",
                "true",
            ],
            "error: invalid volume specification: 'db:data': invalid mount config for type \"volume\": invalid mount path: 'data' mount path must be absolute",
        ),
        (
            &[
                "run",
                "--network",
                "none",
                "-v",
                "/a:/x",
                "-v",
                "b1:/x",
                "busybox",
                "true",
            ],
            "error: Duplicate mount point: /x",
        ),
        (
            &[
                "run",
                "--network",
                "none",
                "--mount",
                "type=volume,target=/x,volume-driver=nfs",
                "busybox",
                "true",
            ],
            "error: invalid argument",
        ),
    ];
    for (args, message) in cases {
        let (code, out, err) = root.berth(args);
        assert_ne!(code, 0, "{args:?}");
        assert_eq!(out, "", "{args:?}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.starts_with(message), "{args:?}: {err}");
    }
    assert_eq!(
        root.berth(&["run", "--network", "none", "-v", "/y", "busybox", "true"])
            .0,
        0,
        "a valid anonymous mount runs"
    );
    assert_eq!(root.ok(&["ps", "-aq"]).lines().count(), 1);
    let mut names = volume_names(&root);
    names.retain(|n| n != "db" && n != anon.trim());
    assert_eq!(
        names.len(),
        1,
        "only the last run's anonymous volume was added: {names:?}"
    );
}

/// An image `VOLUME` becomes an anonymous volume filled from the image, unless the user
/// mounts something there.
#[test]
fn an_image_volume_is_an_anonymous_volume_filled_from_the_image() {
    let root = root("vol-image");
    let busybox = std::fs::read("/bin/busybox").expect("busybox-static");
    let mut builder = tar::Builder::new(Vec::new());
    for (path, data, mode) in [
        ("bin/busybox", &busybox[..], 0o755),
        ("data/seed", b"from the image\n", 0o644),
    ] {
        let mut header = tar::Header::new_ustar();
        header.set_size(data.len() as u64);
        header.set_mode(mode);
        header.set_uid(0);
        header.set_gid(0);
        header.set_mtime(0);
        header.set_cksum();
        builder
            .append_data(&mut header, path, data)
            .expect("append");
    }
    let tar = builder.into_inner().expect("tar");
    let tar = root.write("rootfs.tar", &tar);
    root.ok(&[
        "import",
        "--change",
        "VOLUME /data",
        "--change",
        "CMD [\"/bin/busybox\", \"cat\", \"/data/seed\"]",
        &tar,
        "seeded:1",
    ]);
    let (code, out, err) = run(&root, &["--name", "seeded", "seeded:1"]);
    assert_eq!((code, out.as_str()), (0, "from the image\n"), "{err}");
    let mounts = &inspect(&root, "seeded")["Mounts"];
    assert_eq!(mounts.as_array().map(Vec::len), Some(1), "{mounts}");
    assert_eq!(mounts[0]["Destination"], "/data");
    assert_eq!(mounts[0]["Mode"], "");
    let name = mounts[0]["Name"].as_str().expect("name");
    let seed = root
        .path()
        .join("state/volumes")
        .join(name)
        .join("_data/seed");
    assert_eq!(
        std::fs::read_to_string(seed).expect("seed"),
        "from the image\n"
    );
    // The user's own mount at the same place replaces it.
    let (code, out, err) = run(
        &root,
        &["--name", "mine", "-v", "own:/data:nocopy", "seeded:1"],
    );
    assert_eq!(code, 1, "{out}{err}");
    let mounts = &inspect(&root, "mine")["Mounts"];
    assert_eq!(mounts.as_array().map(Vec::len), Some(1), "{mounts}");
    assert_eq!(mounts[0]["Name"], "own");
}

/// `--volumes-from`: another container's volumes and binds at the same places, read-only
/// when asked; the volumes stay in use while either container exists.
#[test]
fn volumes_from_shares_another_containers_mounts() {
    let root = root("vol-from");
    let (code, _, err) = run(
        &root,
        &[
            "--name",
            "source",
            "-v",
            "shared:/shared",
            "-v",
            "/anon",
            "busybox",
            "sh",
            "-c",
            "echo hi > /shared/f; echo a > /anon/f",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = run(
        &root,
        &[
            "--name",
            "reader",
            "--volumes-from",
            "source:ro",
            "busybox",
            "sh",
            "-c",
            "cat /shared/f /anon/f; touch /shared/g",
        ],
    );
    assert_eq!((code, out.as_str()), (1, "hi\na\n"), "{err}");
    assert!(err.contains("Read-only file system"), "{err}");
    let from = inspect(&root, "source")["Mounts"].clone();
    let reader = inspect(&root, "reader")["Mounts"].clone();
    assert_eq!(reader.as_array().map(Vec::len), Some(2), "{reader}");
    for (a, b) in from
        .as_array()
        .expect("mounts")
        .iter()
        .zip(reader.as_array().expect("mounts"))
    {
        assert_eq!(
            (&a["Name"], &a["Destination"]),
            (&b["Name"], &b["Destination"])
        );
        assert_eq!(b["RW"], false);
    }
    let anon = from[1]["Name"].as_str().expect("anonymous").to_string();
    // rm -v of the reader keeps the source's anonymous volume, which the source still uses.
    root.ok(&["rm", "-v", "reader"]);
    assert!(root.ok(&["volume", "ls", "-q"]).contains(&anon));
    let (code, _, err) = run(&root, &["--volumes-from", "nobody", "busybox", "true"]);
    assert_eq!(
        (code, err.as_str()),
        (125, "error: No such container: nobody\n")
    );
    root.ok(&["rm", "-v", "source"]);
    assert_eq!(root.ok(&["volume", "ls", "-q"]), "shared\n");
}

#[test]
fn local_driver_options_bind_a_host_directory_or_share_one_tmpfs() {
    let root = root("volume-options");
    // type=none,o=bind,device=: the host directory is the volume's content.
    let device = root.path().join("device");
    std::fs::create_dir_all(&device).expect("device dir");
    std::fs::write(device.join("f"), "from-host\n").expect("write");
    let dev = format!("device={}", device.display());
    root.ok(&[
        "volume",
        "create",
        "-o",
        "type=none",
        "-o",
        "o=bind",
        "-o",
        &dev,
        "hostdir",
    ]);
    let info: serde_json::Value =
        serde_json::from_str(&root.ok(&["volume", "inspect", "hostdir"])).expect("json");
    assert_eq!(
        info[0]["Options"],
        serde_json::json!({"device": device.display().to_string(), "o": "bind", "type": "none"})
    );
    let (code, out, err) = run(
        &root,
        &[
            "--rm",
            "-v",
            "hostdir:/d",
            "busybox",
            "sh",
            "-c",
            "cat /d/f; echo from-container > /d/g",
        ],
    );
    assert_eq!((code, out.as_str()), (0, "from-host\n"), "{err}");
    assert_eq!(
        std::fs::read_to_string(device.join("g")).expect("g"),
        "from-container\n"
    );
    // Removing the volume leaves the host directory alone, as Docker's.
    root.ok(&["volume", "rm", "hostdir"]);
    assert!(device.join("g").exists());

    // o=bind,ro: the container cannot write.
    root.ok(&[
        "volume",
        "create",
        "-o",
        "type=none",
        "-o",
        "o=bind,ro",
        "-o",
        &dev,
        "hostro",
    ]);
    let (code, _, err) = run(
        &root,
        &["--rm", "-v", "hostro:/d", "busybox", "touch", "/d/h"],
    );
    assert_eq!(code, 1);
    assert!(err.contains("Read-only file system"), "{err}");

    // type=tmpfs: the running users share one tmpfs; it goes with the last of them.
    root.ok(&[
        "volume",
        "create",
        "-o",
        "type=tmpfs",
        "-o",
        "device=tmpfs",
        "-o",
        "o=size=10m",
        "scratch",
    ]);
    let (code, first, err) = run(
        &root,
        &[
            "-d",
            "-v",
            "scratch:/t",
            "busybox",
            "sh",
            "-c",
            "echo shared > /t/x; exec sleep 60",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let first = first.trim();
    // The first user has written (an exec sees it) before the second starts.
    let (code, out, _) = root.berth(&["exec", first, "cat", "/t/x"]);
    assert_eq!((code, out.as_str()), (0, "shared\n"));
    let (code, out, err) = run(
        &root,
        &[
            "--rm",
            "-v",
            "scratch:/u",
            "busybox",
            "sh",
            "-c",
            "cat /u/x; grep ' /u ' /proc/mounts; echo back > /u/y",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        out.starts_with("shared\ntmpfs /u tmpfs rw,nosuid,nodev,relatime,size=10240k"),
        "{out}"
    );
    let (_, out, _) = root.berth(&["exec", first, "cat", "/t/y"]);
    assert_eq!(
        out, "back\n",
        "the second user's write is in the first's tmpfs"
    );
    root.ok(&["rm", "-f", first]);
    let (code, out, _) = run(&root, &["--rm", "-v", "scratch:/u", "busybox", "ls", "/u"]);
    assert_eq!(
        (code, out.as_str()),
        (0, ""),
        "a new tmpfs once nobody used it"
    );
    // Nothing of it on the host.
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").expect("mountinfo");
    assert!(
        !mounts.contains(root.path().to_str().expect("utf-8")),
        "{mounts}"
    );

    // Refusals name the option; nothing is created.
    for (opts, message) in [
        (
            &[
                "-o",
                "type=nfs",
                "-o",
                "o=addr=127.0.0.1",
                "-o",
                "device=:/x",
            ][..],
            "error: create bad: volume type \"nfs\" is not supported by berth yet",
        ),
        (
            &["-o", "type=none", "-o", "device=/tmp"][..],
            "error: create bad: type=none needs o=bind",
        ),
        (
            &["-o", "size=1g"][..],
            "error: create bad: invalid option key: \"size\"",
        ),
    ] {
        let mut args = vec!["volume", "create"];
        args.extend_from_slice(opts);
        args.push("bad");
        let (code, _, err) = root.berth(&args);
        assert_eq!(code, 1, "{opts:?}");
        assert!(err.starts_with(message), "{opts:?}: {err}");
    }
    assert!(!volume_names(&root).contains(&"bad".to_string()));
    let missing = format!("device={}", root.path().join("missing").display());
    root.ok(&[
        "volume",
        "create",
        "-o",
        "type=none",
        "-o",
        "o=bind",
        "-o",
        &missing,
        "gone",
    ]);
    let (code, _, err) = run(&root, &["--rm", "-v", "gone:/d", "busybox", "true"]);
    assert_eq!(code, 125);
    assert!(
        err.starts_with("error: failed to mount local volume gone: device "),
        "{err}"
    );
    let (_, all, _) = root.berth(&["ps", "-aq"]);
    assert_eq!(all, "");
}
