//! Registries end to end, against Debian's real `docker-registry` (distribution 2.8) that
//! each test starts on 127.0.0.1 with a port and storage of its own, seeded with the
//! busybox test image by skopeo: pull, an image already present, authentication, content
//! that does not match its digest, a connection cut in the middle of a layer. berth runs
//! with its own config file and Docker config directory, and with a proxy that does not
//! exist for any address but loopback, so no request can leave the machine.

mod harness;

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use harness::registry::{Env, Registry, seed};
use harness::state::StateRoot;

fn skopeo_digest(reference: &str, args: &[&str]) -> String {
    let out = Command::new("skopeo")
        .args(["inspect", "--format", "{{.Digest}}"])
        .args(args)
        .arg(format!("docker://{reference}"))
        .output()
        .expect("skopeo inspect");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// The layer digests of `reference`'s manifest, as the registry has it.
fn layer_digests(reference: &str) -> Vec<String> {
    let out = Command::new("skopeo")
        .args(["inspect", "--raw", "--tls-verify=false"])
        .arg(format!("docker://{reference}"))
        .output()
        .expect("skopeo inspect --raw");
    let manifest: serde_json::Value = serde_json::from_slice(&out.stdout).expect("manifest json");
    manifest["layers"]
        .as_array()
        .expect("layers")
        .iter()
        .map(|l| l["digest"].as_str().expect("digest").to_string())
        .collect()
}

fn image_id(root: &StateRoot, env: &Env, reference: &str) -> String {
    let out = env.ok(
        root,
        &["image", "inspect", "--format", "{{.Id}}", reference],
    );
    out.trim().to_string()
}

/// What the store holds: image records, layers, blobs.
fn store_counts(root: &StateRoot) -> (usize, usize, usize) {
    (
        root.count("images"),
        root.count("layers"),
        root.count("blobs/sha256"),
    )
}

#[test]
fn pull_brings_the_image_and_a_second_pull_finds_it_up_to_date() {
    harness::require_root();
    let root = StateRoot::new("reg-pull");
    let registry = Registry::start(root.path(), "registry", "", "");
    let tar = root.busybox_tar();
    let name = format!("{}/test/busybox:1.0", registry.host);
    seed(
        &tar,
        &format!("docker://{name}"),
        &["--dest-tls-verify=false"],
    );
    let digest = skopeo_digest(&name, &["--tls-verify=false"]);
    let env = Env::new(&root, "{}");

    let out = env.ok(&root, &["pull", &name]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "1.0: Pulling from test/busybox", "{out}");
    let layers = layer_digests(&name);
    let short = &layers[0]["sha256:".len()..][..12];
    assert!(
        lines.contains(&format!("{short}: Pull complete").as_str()),
        "{out}"
    );
    assert!(
        lines.contains(&format!("Digest: {digest}").as_str()),
        "{out}"
    );
    assert!(
        lines.contains(&format!("Status: Downloaded newer image for {name}").as_str()),
        "{out}"
    );
    assert_eq!(lines.last(), Some(&name.as_str()), "{out}");

    // The same image as loading the archive gives, with the registry's digest recorded.
    let loaded = StateRoot::new("reg-pull-load");
    loaded.ok(&["load", "-q", "-i", tar.to_str().expect("path")]);
    let want_id = loaded.ok(&["image", "inspect", "--format", "{{.Id}}", "busybox"]);
    assert_eq!(image_id(&root, &env, &name), want_id.trim());
    let digests = env.ok(
        &root,
        &[
            "image",
            "inspect",
            "--format",
            "{{json .RepoDigests}}",
            &name,
        ],
    );
    assert_eq!(
        digests.trim(),
        format!("[\"{}/test/busybox@{digest}\"]", registry.host)
    );
    let hello = env.ok(
        &root,
        &["run", "--rm", "--network", "none", &name, "echo", "pulled"],
    );
    assert_eq!(hello, "pulled\n");

    // Already there: no layer moves, the tag is confirmed.
    let before = store_counts(&root);
    let out = env.ok(&root, &["pull", &name]);
    assert!(
        out.contains(&format!("Status: Image is up to date for {name}")),
        "{out}"
    );
    assert!(!out.contains("Pull complete"), "{out}");
    assert_eq!(store_counts(&root), before);
    assert_eq!(env.ok(&root, &["pull", "-q", &name]), format!("{name}\n"));

    // Pinned by digest.
    let pinned = format!("{}/test/busybox@{digest}", registry.host);
    assert_eq!(
        env.ok(&root, &["pull", "-q", &pinned]),
        format!("{pinned}\n")
    );

    // A tag the registry does not have: one line, exit 1, nothing stored.
    let (code, _, err) = env.berth(
        &root,
        &["pull", &format!("{}/test/busybox:nosuch", registry.host)],
    );
    assert_eq!(code, 1, "{err}");
    assert_eq!(
        err.trim(),
        format!(
            "error: manifest for {}/test/busybox:nosuch not found: manifest unknown: manifest unknown",
            registry.host
        )
    );
    assert_eq!(store_counts(&root), before);

    // A platform the image is not for.
    let (code, _, err) = env.berth(&root, &["pull", "--platform", "linux/arm64", &name]);
    assert_eq!(code, 1);
    assert!(
        err.contains(
            "does not match the specified platform: wanted linux/arm64, actual: linux/amd64"
        ),
        "{err}"
    );

    // The registry gone: it says which and why.
    drop(registry);
    let (code, _, err) = env.berth(&root, &["pull", &name]);
    assert_eq!(code, 1);
    assert!(err.contains("cannot reach registry 127.0.0.1:"), "{err}");
    assert!(err.to_lowercase().contains("connection refused"), "{err}");
}

#[test]
fn a_blob_whose_content_does_not_match_its_digest_is_refused_and_nothing_is_stored() {
    harness::require_root();
    let root = StateRoot::new("reg-corrupt");
    let registry = Registry::start(root.path(), "registry", "", "");
    let name = format!("{}/test/busybox:1.0", registry.host);
    seed(
        &root.busybox_tar(),
        &format!("docker://{name}"),
        &["--dest-tls-verify=false"],
    );
    let layer = layer_digests(&name).remove(0);
    let file = registry.blob_file(&layer["sha256:".len()..]);
    let mut bytes = std::fs::read(&file).expect("blob file");
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    std::fs::write(&file, &bytes).expect("corrupt the blob");
    let env = Env::new(&root, "{}");
    let (code, _, err) = env.berth(&root, &["pull", &name]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains(&format!("layer {layer} from {}", registry.host)),
        "{err}"
    );
    assert!(err.contains("refused, nothing was stored"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert_eq!(store_counts(&root), (0, 0, 0), "nothing of the pull stays");
    assert_eq!(root.count("tmp"), 0, "no staging file stays");
}

/// What the proxy in front of a registry does once a connection has relayed `limit`
/// bytes of answers.
#[derive(Clone, Copy, PartialEq, Eq)]
enum AtLimit {
    /// Relay everything.
    Pass = 0,
    /// Close the connection.
    Cut = 1,
    /// Stop relaying and keep the connection open (until the registry closes it),
    /// reporting it.
    Stall = 2,
}

struct Proxy {
    host: String,
    mode: Arc<std::sync::atomic::AtomicU8>,
    stalled: std::sync::mpsc::Receiver<()>,
}

impl Proxy {
    fn set(&self, mode: AtLimit) {
        self.mode.store(mode as u8, Ordering::Relaxed);
    }
}

fn proxy(upstream: String, mode: AtLimit, limit: usize) -> Proxy {
    let listener = TcpListener::bind("127.0.0.1:0").expect("proxy");
    let host = listener.local_addr().expect("addr").to_string();
    let mode = Arc::new(std::sync::atomic::AtomicU8::new(mode as u8));
    let (stall_tx, stalled) = std::sync::mpsc::channel();
    let shared = mode.clone();
    std::thread::spawn(move || {
        for client in listener.incoming().flatten() {
            let Ok(server) = TcpStream::connect(&upstream) else {
                continue;
            };
            let (mut c_read, mut s_write) = (
                client.try_clone().expect("clone"),
                server.try_clone().expect("clone"),
            );
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut c_read, &mut s_write);
                let _ = s_write.shutdown(Shutdown::Write);
            });
            let (mode, stall_tx) = (shared.clone(), stall_tx.clone());
            std::thread::spawn(move || {
                let (mut server, mut client) = (server, client);
                let mut sent = 0;
                let mut buf = vec![0u8; 16 << 10];
                loop {
                    let n = match server.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => n,
                    };
                    let now = mode.load(Ordering::Relaxed);
                    let n = if now == AtLimit::Pass as u8 {
                        n
                    } else {
                        n.min(limit.saturating_sub(sent))
                    };
                    if n > 0 && client.write_all(&buf[..n]).is_err() {
                        break;
                    }
                    sent += n;
                    if n == 0 && now == AtLimit::Stall as u8 {
                        let _ = stall_tx.send(());
                        // Held open, the registry's bytes dropped, until the registry
                        // closes its side (it is stopped).
                        while matches!(server.read(&mut buf), Ok(n) if n > 0) {}
                        break;
                    }
                    if n == 0 {
                        break;
                    }
                }
                let _ = client.shutdown(Shutdown::Both);
                let _ = server.shutdown(Shutdown::Both);
            });
        }
    });
    Proxy {
        host,
        mode,
        stalled,
    }
}

#[test]
fn a_cut_connection_a_killed_pull_and_a_stopped_registry_mid_layer_all_end_cleanly() {
    harness::require_root();
    let root = StateRoot::new("reg-cut");
    let mut registry = Registry::start(root.path(), "registry", "", "");
    seed(
        &root.busybox_tar(),
        &format!("docker://{}/test/busybox:1.0", registry.host),
        &["--dest-tls-verify=false"],
    );
    // The layer is about 2 MB; the manifest and config answers come first.
    let proxy = proxy(registry.host.clone(), AtLimit::Cut, 200 << 10);
    let name = format!("{}/test/busybox:1.0", proxy.host);
    let env = Env::new(&root, "{}");
    let (code, _, err) = env.berth(&root, &["pull", &name]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains(&format!(
            "cannot reach registry {}: downloading layer",
            proxy.host
        )),
        "{err}"
    );
    assert_eq!(
        store_counts(&root),
        (0, 0, 0),
        "nothing of the cut pull stays"
    );

    // Killed in the middle of a layer: only a staging file stays, which the next pull
    // sweeps; no blob in the store is other than its name says.
    proxy.set(AtLimit::Stall);
    let mut child = harness::berth_command()
        .envs(env.vars())
        .arg("--root")
        .arg(root.path().join("state"))
        .args(["pull", "-q", &name])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("berth pull");
    proxy
        .stalled
        .recv_timeout(std::time::Duration::from_secs(20))
        .expect("the pull reaches the middle of the layer");
    // The bytes before the stall are in berth's socket: wait (bounded) until it has
    // started writing them into its staging file.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while root.count("tmp") == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "no staging file appeared"
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    child.kill().expect("kill -9");
    child.wait().expect("reap");
    assert_eq!(root.count("images"), 0);
    assert!(
        root.count("tmp") > 0,
        "the killed pull's partial blob is in staging"
    );

    // The registry stopped in the middle of a layer: a clear error; once it is back, a
    // retry succeeds.
    while proxy.stalled.try_recv().is_ok() {}
    let child = harness::berth_command()
        .envs(env.vars())
        .arg("--root")
        .arg(root.path().join("state"))
        .args(["pull", "-q", &name])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("berth pull");
    proxy
        .stalled
        .recv_timeout(std::time::Duration::from_secs(20))
        .expect("the pull reaches the middle of the layer");
    registry.stop();
    let out = child.wait_with_output().expect("wait");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains(&format!(
            "cannot reach registry {}: downloading layer",
            proxy.host
        )),
        "{err}"
    );
    assert!(err.contains(" bytes") && err.contains(" after "), "{err}");
    assert_eq!(root.count("images"), 0);
    registry.resume();
    proxy.set(AtLimit::Pass);
    let out = env.ok(&root, &["pull", &name]);
    assert!(out.contains("Status: Downloaded newer image"), "{out}");
    assert_eq!(root.count("tmp"), 0, "staging swept");
    for hex in root.entries("blobs/sha256") {
        let bytes = std::fs::read(root.path().join("state/blobs/sha256").join(&hex)).expect("blob");
        assert_eq!(
            harness::tarball::sha256_hex(&bytes),
            hex,
            "blob content matches its name"
        );
    }
    let hello = env.ok(
        &root,
        &["run", "--rm", "--network", "none", &name, "echo", "whole"],
    );
    assert_eq!(hello, "whole\n");
}

#[test]
fn a_registry_with_basic_auth_needs_a_login_that_is_checked_and_stored() {
    harness::require_root();
    let root = StateRoot::new("reg-basic");
    let registry = Registry::with_basic_auth(root.path(), "registry", "alice", "s3cret");
    let name = format!("{}/private/busybox:1.0", registry.host);
    seed(
        &root.busybox_tar(),
        &format!("docker://{name}"),
        &["--dest-tls-verify=false", "--dest-creds", "alice:s3cret"],
    );
    let env = Env::new(&root, "{}");

    let (code, _, err) = env.berth(&root, &["pull", &name]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(
        err.trim(),
        format!(
            "error: {0}: unauthorized: the registry needs a user name and password: run `berth login {0}`",
            registry.host
        )
    );
    assert_eq!(store_counts(&root), (0, 0, 0));

    let (code, _, err) = env.berth_in(
        &root,
        &["login", "-u", "alice", "--password-stdin", &registry.host],
        b"wrong\n",
    );
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("unauthorized"), "{err}");
    assert!(
        !env.docker_config.join("config.json").exists(),
        "a failed login stores nothing"
    );

    let (code, out, err) = env.berth_in(
        &root,
        &["login", "-u", "alice", "--password-stdin", &registry.host],
        b"s3cret\n",
    );
    assert_eq!((code, out.as_str()), (0, "Login Succeeded\n"), "{err}");
    let stored: serde_json::Value = serde_json::from_slice(
        &std::fs::read(env.docker_config.join("config.json")).expect("docker config"),
    )
    .expect("json");
    use base64::Engine as _;
    let auth = base64::engine::general_purpose::STANDARD.encode("alice:s3cret");
    assert_eq!(stored["auths"][&registry.host]["auth"], auth.as_str());

    let out = env.ok(&root, &["pull", "-q", &name]);
    assert_eq!(out, format!("{name}\n"));

    let out = env.ok(&root, &["logout", &registry.host]);
    assert_eq!(
        out,
        format!("Removing login credentials for {}\n", registry.host)
    );
    let (code, _, err) = env.berth(
        &root,
        &["pull", &format!("{}/private/busybox:other", registry.host)],
    );
    assert_eq!(code, 1);
    assert!(err.contains("unauthorized"), "{err}");
    // Pushing needs the login too.
    let copy = format!("{}/private/copy:1", registry.host);
    env.ok(&root, &["tag", &name, &copy]);
    let (code, _, err) = env.berth(&root, &["push", &copy]);
    assert_eq!(code, 1);
    assert!(
        err.contains(&format!("run `berth login {}`", registry.host)),
        "{err}"
    );
}

#[test]
fn push_then_pull_into_a_fresh_root_gives_the_same_image_and_digest() {
    harness::require_root();
    let root = StateRoot::new("reg-push");
    let registry = Registry::start(root.path(), "registry", "", "");
    let env = Env::new(&root, "{}");
    let tar = root.busybox_tar();
    env.ok(&root, &["load", "-q", "-i", tar.to_str().expect("path")]);
    let name = format!("{}/team/busybox:2.0", registry.host);
    env.ok(&root, &["tag", "busybox", &name]);
    let id = image_id(&root, &env, &name);

    let out = env.ok(&root, &["push", &name]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[0],
        format!(
            "The push refers to repository [{}/team/busybox]",
            registry.host
        )
    );
    assert!(lines.iter().any(|l| l.ends_with(": Pushed")), "{out}");
    let last = lines.last().copied().unwrap_or_default();
    assert!(
        last.starts_with("2.0: digest: sha256:") && last.contains(" size: "),
        "{out}"
    );
    let digest = last.split_whitespace().nth(2).expect("digest").to_string();
    assert_eq!(skopeo_digest(&name, &["--tls-verify=false"]), digest);

    // Again: the registry has every layer.
    let out = env.ok(&root, &["push", &name]);
    assert!(out.contains(": Layer already exists"), "{out}");
    assert!(!out.contains(": Pushed"), "{out}");
    // To another repository of the same registry: mounted, not uploaded.
    let other = format!("{}/other/busybox:2.0", registry.host);
    env.ok(&root, &["tag", &name, &other]);
    let out = env.ok(&root, &["push", &other]);
    assert!(out.contains(": Mounted from team/busybox"), "{out}");

    let fresh = StateRoot::new("reg-push-fresh");
    let fresh_env = Env::new(&fresh, "{}");
    let out = fresh_env.ok(&fresh, &["pull", &name]);
    assert!(out.contains(&format!("Digest: {digest}")), "{out}");
    assert_eq!(image_id(&fresh, &fresh_env, &name), id);
    let hello = fresh_env.ok(
        &fresh,
        &[
            "run",
            "--rm",
            "--network",
            "none",
            &name,
            "echo",
            "round trip",
        ],
    );
    assert_eq!(hello, "round trip\n");

    // `run` pulls what it does not have, showing the pull on stderr; `--pull never` does not.
    let auto = StateRoot::new("reg-push-run");
    let auto_env = Env::new(&auto, "{}");
    let (code, _, err) = auto_env.berth(
        &auto,
        &[
            "run",
            "--rm",
            "--pull",
            "never",
            "--network",
            "none",
            &name,
            "true",
        ],
    );
    assert_eq!(code, 125);
    assert!(err.contains(&format!("No such image: {name}")), "{err}");
    let (code, out, err) = auto_env.berth(
        &auto,
        &["run", "--rm", "--network", "none", &name, "echo", "auto"],
    );
    assert_eq!((code, out.as_str()), (0, "auto\n"), "{err}");
    assert!(
        err.starts_with(&format!(
            "Unable to find image '{name}' locally\n2.0: Pulling from team/busybox\n"
        )),
        "{err}"
    );
    assert!(err.contains(&format!("Digest: {digest}")), "{err}");
    let (code, _, err) = auto_env.berth(
        &auto,
        &[
            "run",
            "--rm",
            "--pull",
            "sometimes",
            "--network",
            "none",
            &name,
            "true",
        ],
    );
    assert_eq!(code, 125);
    assert!(err.contains("invalid pull option: 'sometimes'"), "{err}");

    let (code, _, err) = env.berth(
        &root,
        &["push", &format!("{}/team/nothing:1", registry.host)],
    );
    assert_eq!(code, 1);
    assert_eq!(
        err.trim(),
        format!(
            "error: An image does not exist locally with the tag: {}/team/nothing",
            registry.host
        )
    );
}

#[test]
fn a_tls_registry_is_trusted_through_certs_d_with_its_ca_and_client_certificate() {
    harness::require_root();
    let root = StateRoot::new("reg-tls");
    let ca = harness::registry::TestCa::make(&root.path().join("ca"));
    let registry = Registry::start(root.path(), "registry", &ca.registry_tls(), "");
    // skopeo's certificate directory has the same layout as certs.d.
    let skopeo_certs = root.path().join("skopeo-certs");
    std::fs::create_dir_all(&skopeo_certs).expect("skopeo certs");
    std::fs::copy(&ca.ca, skopeo_certs.join("ca.crt")).expect("copy ca");
    std::fs::copy(&ca.client_cert, skopeo_certs.join("client.cert")).expect("copy cert");
    std::fs::copy(&ca.client_key, skopeo_certs.join("client.key")).expect("copy key");
    let name = format!("{}/secure/busybox:1.0", registry.host);
    seed(
        &root.busybox_tar(),
        &format!("docker://{name}"),
        &["--dest-cert-dir", skopeo_certs.to_str().expect("path")],
    );
    let env = Env::new(&root, "{}");
    let pull = |root: &StateRoot| env.berth(root, &["pull", "-q", &name]);

    // Nothing in certs.d: the server's certificate has an unknown issuer.
    let (code, _, err) = pull(&root);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains(&format!("cannot reach registry {}: TLS:", registry.host)),
        "{err}"
    );
    assert!(
        err.contains(&format!("certs.d/{}/ca.crt", registry.host)),
        "{err}"
    );

    // The CA alone: the registry still wants a client certificate.
    let dir = env.certs_dir(&registry.host);
    std::fs::create_dir_all(&dir).expect("certs.d");
    std::fs::copy(&ca.ca, dir.join("ca.crt")).expect("copy ca");
    let (code, _, err) = pull(&root);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("the registry wants a client certificate"),
        "{err}"
    );

    // CA and client certificate: verified, no warning.
    std::fs::copy(&ca.client_cert, dir.join("client.cert")).expect("copy cert");
    std::fs::copy(&ca.client_key, dir.join("client.key")).expect("copy key");
    let (code, out, err) = pull(&root);
    assert_eq!((code, out.trim()), (0, name.as_str()), "{err}");
    assert!(!err.contains("WARNING"), "{err}");

    // Without the CA, a loopback registry is insecure (as Docker has it): its
    // certificate is taken, with a warning that says so.
    std::fs::remove_file(dir.join("ca.crt")).expect("remove ca");
    let other = StateRoot::new("reg-tls-noca");
    let (code, out, err) = pull(&other);
    assert_eq!((code, out.trim()), (0, name.as_str()), "{err}");
    assert!(
        err.contains("WARNING: the TLS certificate of 127.0.0.1:"),
        "{err}"
    );
    assert!(err.contains("is not verified"), "{err}");
}

/// An OCI layout in `dir` whose tag `1` is an index of two single-layer images, one per
/// platform (`amd64`, `arm64/v8`), each layer holding a file that names its platform.
/// Returns the config digests (image ids), amd64's first.
fn two_platform_layout(dir: &std::path::Path) -> (String, String) {
    use harness::tarball::{sha256_hex, tar_of};
    let blobs = dir.join("blobs/sha256");
    std::fs::create_dir_all(&blobs).expect("layout");
    let put = |bytes: &[u8]| {
        let hex = sha256_hex(bytes);
        std::fs::write(blobs.join(&hex), bytes).expect("blob");
        (format!("sha256:{hex}"), bytes.len())
    };
    let mut entries = Vec::new();
    let mut ids = Vec::new();
    for (arch, variant) in [("amd64", None), ("arm64", Some("v8"))] {
        let layer = tar_of(&[("platform", arch.as_bytes())]);
        let (layer_digest, layer_size) = put(&layer);
        let config = serde_json::json!({
            "architecture": arch, "os": "linux", "variant": variant,
            "config": {"Cmd": ["/bin/true"]},
            "rootfs": {"type": "layers", "diff_ids": [layer_digest]},
        });
        let (config_digest, config_size) = put(&serde_json::to_vec(&config).expect("json"));
        let manifest = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest, "size": config_size},
            "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": layer_digest, "size": layer_size}],
        });
        let (manifest_digest, manifest_size) = put(&serde_json::to_vec(&manifest).expect("json"));
        let mut platform = serde_json::json!({"architecture": arch, "os": "linux"});
        if let Some(v) = variant {
            platform["variant"] = v.into();
        }
        entries.push(serde_json::json!({
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": manifest_digest, "size": manifest_size, "platform": platform,
        }));
        ids.push(config_digest);
    }
    let index = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": entries,
    });
    let (index_digest, index_size) = put(&serde_json::to_vec(&index).expect("json"));
    let top = serde_json::json!({
        "schemaVersion": 2,
        "manifests": [{
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "digest": index_digest, "size": index_size,
            "annotations": {"org.opencontainers.image.ref.name": "1"},
        }],
    });
    std::fs::write(
        dir.join("index.json"),
        serde_json::to_vec(&top).expect("json"),
    )
    .expect("index");
    std::fs::write(dir.join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#).expect("layout");
    (ids.remove(0), ids.remove(0))
}

#[test]
fn a_manifest_list_gives_the_hosts_platform_or_the_one_asked_for() {
    harness::require_root();
    let root = StateRoot::new("reg-multi");
    let registry = Registry::start(root.path(), "registry", "", "");
    let layout = root.path().join("layout");
    let (amd64, arm64) = two_platform_layout(&layout);
    let name = format!("{}/multi/app:1", registry.host);
    let out = Command::new("skopeo")
        .args(["copy", "-q", "--all", "--dest-tls-verify=false"])
        .arg(format!("oci:{}:1", layout.display()))
        .arg(format!("docker://{name}"))
        .output()
        .expect("skopeo");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let raw = Command::new("skopeo")
        .args(["inspect", "--raw", "--tls-verify=false"])
        .arg(format!("docker://{name}"))
        .output()
        .expect("skopeo inspect --raw");
    let index_digest = format!("sha256:{}", harness::tarball::sha256_hex(&raw.stdout));
    let env = Env::new(&root, "{}");

    let out = env.ok(&root, &["pull", &name]);
    assert!(out.contains(&format!("Digest: {index_digest}")), "{out}");
    assert_eq!(image_id(&root, &env, &name), amd64, "{out}");
    let arch = env.ok(
        &root,
        &["image", "inspect", "--format", "{{.Architecture}}", &name],
    );
    assert_eq!(arch.trim(), "amd64");

    let out = env.ok(&root, &["pull", "--platform", "linux/arm64", &name]);
    assert!(out.contains("Status: Downloaded newer image"), "{out}");
    assert_eq!(image_id(&root, &env, &name), arm64);
    // The digest reference is the index's, and points at the image pulled last (one
    // reference, one image, as Docker's reference store has it).
    let digests = env.ok(
        &root,
        &[
            "image",
            "inspect",
            "--format",
            "{{json .RepoDigests}}",
            &arm64,
        ],
    );
    assert_eq!(
        digests.trim(),
        format!("[\"{}/multi/app@{index_digest}\"]", registry.host)
    );

    let (code, _, err) = env.berth(&root, &["pull", "--platform", "linux/s390x", &name]);
    assert_eq!(code, 1);
    assert!(
        err.contains("no matching manifest for linux/s390x in the manifest list entries"),
        "{err}"
    );
    assert!(err.contains("linux/amd64, linux/arm64/v8"), "{err}");
}

#[test]
fn a_mirror_serves_docker_hub_images_and_a_dead_one_hands_over_to_docker_hub() {
    harness::require_root();
    let root = StateRoot::new("reg-mirror");
    let mut mirror = Registry::start(root.path(), "mirror", "", "");
    seed(
        &root.busybox_tar(),
        &format!("docker://{}/library/busybox:latest", mirror.host),
        &["--dest-tls-verify=false"],
    );
    let digest = skopeo_digest(
        &format!("{}/library/busybox:latest", mirror.host),
        &["--tls-verify=false"],
    );
    let env = Env::new(
        &root,
        &format!(r#"{{"registry-mirrors": ["http://{}"]}}"#, mirror.host),
    );
    let out = env.ok(&root, &["pull", "busybox"]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "Using default tag: latest", "{out}");
    assert_eq!(lines[1], "latest: Pulling from library/busybox", "{out}");
    assert!(
        lines.contains(&format!("Digest: {digest}").as_str()),
        "{out}"
    );
    assert!(
        lines.contains(&"Status: Downloaded newer image for busybox:latest"),
        "{out}"
    );
    assert_eq!(
        lines.last(),
        Some(&"docker.io/library/busybox:latest"),
        "{out}"
    );
    let digests = env.ok(
        &root,
        &[
            "image",
            "inspect",
            "--format",
            "{{json .RepoDigests}}",
            "busybox",
        ],
    );
    assert_eq!(digests.trim(), format!("[\"busybox@{digest}\"]"));

    // The mirror gone: berth goes on to Docker Hub, which the test's dead proxy stands
    // for, and says so.
    mirror.stop();
    let (code, _, err) = env.berth(&root, &["pull", "busybox"]);
    assert_eq!(code, 1);
    assert!(err.contains("cannot reach registry docker.io:"), "{err}");
    assert!(err.contains("through the proxy 127.0.0.1:9"), "{err}");

    // A mirror that is not a URL is refused with the file and the key.
    let bad = Env::new(&root, "{\n  \"registry-mirrors\": [\"mirror.example\"]\n}");
    let (code, _, err) = bad.berth(&root, &["pull", "busybox"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("config.json: registry-mirrors: \"mirror.example\" must be a URL"),
        "{err}"
    );
}

/// A token server for the registry's token auth, as the distribution spec has it: basic
/// credentials `alice:s3cret` get pull and push on every repository, anonymous clients
/// pull on `public/*` only, wrong credentials get 401. Tokens are JWTs signed (RS256,
/// by openssl) with a certificate the registry trusts and carried in the `x5c` header.
struct TokenServer {
    url: String,
    issued: Arc<std::sync::Mutex<Vec<String>>>,
}

fn token_server(dir: &std::path::Path, service: &'static str) -> TokenServer {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    let b64url = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let run = |args: &[&str]| harness::registry::openssl(dir, args);
    run(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "token.key",
        "-out",
        "token.crt",
        "-days",
        "2",
        "-subj",
        "/CN=berth test token issuer",
    ]);
    let der = run(&["x509", "-in", "token.crt", "-outform", "DER"]);
    let header = b64url.encode(
        serde_json::to_vec(
            &serde_json::json!({"typ": "JWT", "alg": "RS256", "x5c": [b64.encode(&der)]}),
        )
        .expect("json"),
    );
    let listener = TcpListener::bind("127.0.0.1:0").expect("token server");
    let url = format!("http://{}/token", listener.local_addr().expect("addr"));
    let issued = Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = issued.clone();
    let dir = dir.to_path_buf();
    let good = format!("Basic {}", b64.encode("alice:s3cret"));
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = std::io::BufReader::new(stream.try_clone().expect("clone"));
            let mut request = String::new();
            let mut authorization = None;
            loop {
                let mut line = String::new();
                if std::io::BufRead::read_line(&mut reader, &mut line).unwrap_or(0) == 0
                    || line == "\r\n"
                {
                    break;
                }
                if request.is_empty() {
                    request = line.clone();
                } else if let Some(v) = line
                    .strip_prefix("Authorization: ")
                    .or_else(|| line.strip_prefix("authorization: "))
                {
                    authorization = Some(v.trim().to_string());
                }
            }
            let query = request
                .split_whitespace()
                .nth(1)
                .unwrap_or_default()
                .split_once('?')
                .map(|(_, q)| q.to_string())
                .unwrap_or_default();
            let scopes: Vec<String> = query
                .split('&')
                .filter_map(|kv| kv.strip_prefix("scope="))
                .map(|s| {
                    s.replace("%3A", ":")
                        .replace("%2F", "/")
                        .replace("%2C", ",")
                        .replace("%20", " ")
                })
                .collect();
            let user = match authorization.as_deref() {
                None => None,
                Some(a) if a == good => Some("alice"),
                Some(_) => {
                    let body = r#"{"errors":[{"code":"UNAUTHORIZED","message":"wrong user name or password"}]}"#;
                    let _ = write!(
                        &stream,
                        "HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    continue;
                }
            };
            let mut access = Vec::new();
            for scope in &scopes {
                let mut parts = scope.splitn(3, ':');
                let (Some(kind), Some(name), Some(_)) = (parts.next(), parts.next(), parts.next())
                else {
                    continue;
                };
                let actions: Vec<&str> = match user {
                    Some(_) => vec!["pull", "push"],
                    None if name.starts_with("public/") => vec!["pull"],
                    None => vec![],
                };
                access.push(serde_json::json!({"type": kind, "name": name, "actions": actions}));
            }
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .expect("time")
                .as_secs();
            let claims = serde_json::json!({
                "iss": "berth-test-issuer", "sub": user.unwrap_or(""), "aud": service,
                "exp": now + 300, "nbf": now - 10, "iat": now, "jti": format!("{now}-{}", access.len()),
                "access": access,
            });
            let signing_input = format!(
                "{header}.{}",
                b64url.encode(serde_json::to_vec(&claims).expect("json"))
            );
            let input_file = dir.join(format!("input-{}", std::process::id()));
            std::fs::write(&input_file, &signing_input).expect("input");
            let signature = Command::new("openssl")
                .args(["dgst", "-sha256", "-sign", "token.key"])
                .arg(&input_file)
                .current_dir(&dir)
                .output()
                .expect("openssl sign")
                .stdout;
            let token = format!("{signing_input}.{}", b64url.encode(signature));
            log.lock().expect("log").push(format!(
                "{}:{}",
                user.unwrap_or("anonymous"),
                scopes.join(" ")
            ));
            let body = serde_json::json!({"token": token}).to_string();
            let _ = write!(
                &stream,
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    TokenServer { url, issued }
}

#[test]
fn a_token_auth_registry_gives_anonymous_and_logged_in_tokens() {
    harness::require_root();
    let root = StateRoot::new("reg-token");
    let service = "berth-test-registry";
    let tokens = token_server(root.path(), service);
    let auth = format!(
        "auth:\n  token:\n    realm: {}\n    service: {service}\n    issuer: berth-test-issuer\n    rootcertbundle: {}\n",
        tokens.url,
        root.path().join("token.crt").display()
    );
    let registry = Registry::start(root.path(), "registry", "", &auth);
    let tar = root.busybox_tar();
    for repo in ["public/busybox", "private/busybox"] {
        seed(
            &tar,
            &format!("docker://{}/{repo}:1", registry.host),
            &["--dest-tls-verify=false", "--dest-creds", "alice:s3cret"],
        );
    }
    let env = Env::new(&root, "{}");
    let public = format!("{}/public/busybox:1", registry.host);
    let private = format!("{}/private/busybox:1", registry.host);

    // Anonymous: a token for public repositories, none that lets it into private ones.
    assert_eq!(
        env.ok(&root, &["pull", "-q", &public]),
        format!("{public}\n")
    );
    assert!(
        tokens
            .issued
            .lock()
            .expect("log")
            .iter()
            .any(|t| t == "anonymous:repository:public/busybox:pull")
    );
    let (code, _, err) = env.berth(&root, &["pull", &private]);
    assert_eq!(code, 1);
    assert!(
        err.contains(&format!("pull access denied for {}/private/busybox, repository does not exist or may require 'berth login'", registry.host)),
        "{err}"
    );

    let (code, _, err) = env.berth_in(
        &root,
        &["login", "-u", "alice", "--password-stdin", &registry.host],
        b"nope\n",
    );
    assert_eq!(code, 1);
    assert!(err.contains("wrong user name or password"), "{err}");
    let (code, out, err) = env.berth_in(
        &root,
        &["login", "-u", "alice", "--password-stdin", &registry.host],
        b"s3cret\n",
    );
    assert_eq!((code, out.as_str()), (0, "Login Succeeded\n"), "{err}");
    assert_eq!(
        env.ok(&root, &["pull", "-q", &private]),
        format!("{private}\n")
    );
    let copy = format!("{}/private/copy:1", registry.host);
    env.ok(&root, &["tag", &private, &copy]);
    let out = env.ok(&root, &["push", &copy]);
    assert!(out.contains(": Mounted from private/busybox"), "{out}");
    assert!(
        tokens
            .issued
            .lock()
            .expect("log")
            .iter()
            .any(|t| t.starts_with("alice:repository:private/copy:pull,push"))
    );
}

#[test]
fn credentials_go_through_the_configured_credential_helper() {
    harness::require_root();
    let root = StateRoot::new("reg-helper");
    let registry = Registry::with_basic_auth(root.path(), "registry", "bob", "hunter2");
    let name = format!("{}/helped/busybox:1", registry.host);
    seed(
        &root.busybox_tar(),
        &format!("docker://{name}"),
        &["--dest-tls-verify=false", "--dest-creds", "bob:hunter2"],
    );
    // A helper in Docker's protocol, keeping what it is given in a file of the test.
    let bin = root.path().join("bin");
    std::fs::create_dir_all(&bin).expect("bin");
    let store = root.path().join("helper-store.json");
    let script = format!(
        "#!/bin/sh\nset -e\ncase \"$1\" in\n  store) cat > {s} ;;\n  get) read url || true; if [ -f {s} ]; then cat {s}; else echo 'credentials not found in native keychain'; exit 1; fi ;;\n  erase) rm -f {s} ;;\nesac\n",
        s = store.display()
    );
    let helper = bin.join("docker-credential-berthtest");
    std::fs::write(&helper, script).expect("helper");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&helper, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let env = Env::new(&root, "{}");
    std::fs::create_dir_all(&env.docker_config).expect("docker config dir");
    std::fs::write(
        env.docker_config.join("config.json"),
        r#"{"credsStore":"berthtest"}"#,
    )
    .expect("docker config");
    let path = format!("{}:/usr/local/bin:/usr/bin:/bin", bin.display());
    let mut vars = env.vars();
    vars.push(("PATH", &path));
    let berth = |args: &[&str], stdin: &[u8]| root.berth_env(&vars, args, stdin);

    let (code, _, err) = berth(&["pull", &name], b"");
    assert_eq!(code, 1, "nothing stored yet: {err}");
    assert!(err.contains("unauthorized"), "{err}");
    let (code, out, err) = berth(
        &["login", "-u", "bob", "--password-stdin", &registry.host],
        b"hunter2\n",
    );
    assert_eq!((code, out.as_str()), (0, "Login Succeeded\n"), "{err}");
    let kept: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&store).expect("the helper stored it"))
            .expect("json");
    assert_eq!(kept["Username"], "bob");
    assert_eq!(kept["Secret"], "hunter2");
    assert_eq!(kept["ServerURL"], registry.host.as_str());
    let config = std::fs::read_to_string(env.docker_config.join("config.json")).expect("config");
    assert!(
        !config.contains("hunter2") && !config.contains("auth\""),
        "{config}"
    );
    let (code, out, err) = berth(&["pull", "-q", &name], b"");
    assert_eq!((code, out.trim()), (0, name.as_str()), "{err}");
    let (code, _, err) = berth(&["logout", &registry.host], b"");
    assert_eq!(code, 0, "{err}");
    assert!(!store.exists(), "logout erased it through the helper");
}

/// An OCI layout in `dir` with one single-platform image per `(tag, layers)`, each layer a
/// plain tar.
fn layout_of(dir: &std::path::Path, images: &[(&str, &[Vec<u8>])]) {
    use harness::tarball::sha256_hex;
    let blobs = dir.join("blobs/sha256");
    std::fs::create_dir_all(&blobs).expect("layout");
    let put = |bytes: &[u8]| {
        let hex = sha256_hex(bytes);
        std::fs::write(blobs.join(&hex), bytes).expect("blob");
        (format!("sha256:{hex}"), bytes.len())
    };
    let mut entries = Vec::new();
    for (tag, layers) in images {
        let described: Vec<(String, usize)> = layers.iter().map(|l| put(l)).collect();
        let config = serde_json::json!({
            "architecture": "amd64", "os": "linux", "config": {"Cmd": ["/bin/true"]},
            "rootfs": {"type": "layers", "diff_ids": described.iter().map(|d| d.0.clone()).collect::<Vec<_>>()},
        });
        let (config_digest, config_size) = put(&serde_json::to_vec(&config).expect("json"));
        let manifest = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest, "size": config_size},
            "layers": described.iter().map(|(d, n)| serde_json::json!({"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": d, "size": n})).collect::<Vec<_>>(),
        });
        let (digest, size) = put(&serde_json::to_vec(&manifest).expect("json"));
        entries.push(serde_json::json!({
            "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": digest, "size": size,
            "annotations": {"org.opencontainers.image.ref.name": tag},
        }));
    }
    let index = serde_json::json!({"schemaVersion": 2, "manifests": entries});
    std::fs::write(
        dir.join("index.json"),
        serde_json::to_vec(&index).expect("json"),
    )
    .expect("index");
    std::fs::write(dir.join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#).expect("layout");
}

#[test]
fn shared_layers_are_not_fetched_again_all_tags_move_and_a_terminal_sees_progress() {
    harness::require_root();
    let root = StateRoot::new("reg-shared");
    let registry = Registry::start(root.path(), "registry", "", "");
    let base = harness::tarball::tar_of(&[("base.txt", b"the base layer\n")]);
    // Incompressible and over a few MiB, so that a terminal sees it download.
    let mut noise = vec![0u8; 3 << 20];
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for b in noise.iter_mut() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        *b = x as u8;
    }
    let app = harness::tarball::tar_of(&[("app.bin", &noise)]);
    let layout = root.path().join("layout");
    layout_of(
        &layout,
        &[
            ("base", std::slice::from_ref(&base)),
            ("app", &[base.clone(), app.clone()]),
        ],
    );
    let repo = format!("{}/shared/img", registry.host);
    for tag in ["base", "app"] {
        let out = Command::new("skopeo")
            .args(["copy", "-q", "--dest-tls-verify=false"])
            .arg(format!("oci:{}:{tag}", layout.display()))
            .arg(format!("docker://{repo}:{tag}"))
            .output()
            .expect("skopeo");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // The layers as the registry has them (skopeo compresses them on the way).
    let app_layers = layer_digests(&format!("{repo}:app"));
    assert_eq!(layer_digests(&format!("{repo}:base"))[0], app_layers[0]);
    let (base_id, app_id) = (
        app_layers[0][7..19].to_string(),
        app_layers[1][7..19].to_string(),
    );
    let short = |layer: &[u8]| {
        if *layer == *base {
            base_id.clone()
        } else {
            app_id.clone()
        }
    };
    let env = Env::new(&root, "{}");
    let out = env.ok(&root, &["pull", &format!("{repo}:base")]);
    assert!(
        out.contains(&format!("{}: Pull complete", short(&base))),
        "{out}"
    );
    let out = env.ok(&root, &["pull", &format!("{repo}:app")]);
    assert!(
        out.contains(&format!("{}: Already exists", short(&base))),
        "{out}"
    );
    assert!(
        out.contains(&format!("{}: Pull complete", short(&app))),
        "{out}"
    );
    assert!(
        !out.contains(&format!("{}: Pull complete", short(&base))),
        "{out}"
    );

    // Every tag of the repository, into a fresh root.
    let all = StateRoot::new("reg-shared-all");
    let all_env = Env::new(&all, "{}");
    let out = all_env.ok(&all, &["pull", "-a", &repo]);
    assert!(out.contains("app: Pulling from shared/img"), "{out}");
    assert!(out.contains("base: Pulling from shared/img"), "{out}");
    assert_eq!(out.lines().last(), Some(repo.as_str()), "{out}");
    let tags = all_env.ok(&all, &["images", "--format", "{{.Tag}}", &repo]);
    let mut tags: Vec<&str> = tags.lines().collect();
    tags.sort();
    assert_eq!(tags, ["app", "base"]);
    let (code, _, err) = all_env.berth(&all, &["pull", "-a", &format!("{repo}:app")]);
    assert_eq!(code, 1);
    assert!(
        err.contains("tag can't be used with --all-tags/-a"),
        "{err}"
    );

    // And back up under another name, every tag at once.
    let copy = format!("{}/copied/img", registry.host);
    for tag in ["app", "base"] {
        all_env.ok(
            &all,
            &["tag", &format!("{repo}:{tag}"), &format!("{copy}:{tag}")],
        );
    }
    let out = all_env.ok(&all, &["push", "-a", &copy]);
    assert!(out.contains("app: digest: sha256:"), "{out}");
    assert!(out.contains("base: digest: sha256:"), "{out}");

    // On a terminal the layers' lines are redrawn with their progress.
    let tty_root = StateRoot::new("reg-shared-tty");
    let mut pty = harness::pty::Pty::open(24, 120);
    let mut command = harness::berth_command();
    command
        .envs(env.vars())
        .arg("--root")
        .arg(tty_root.path().join("state"))
        .args(["pull", &format!("{repo}:app")]);
    let mut child = pty.spawn(&mut command);
    let seen = pty.expect("Status: Downloaded newer image");
    assert_eq!(harness::pty::wait(&mut child), 0, "{seen}");
    assert!(seen.contains("Downloading ["), "{seen}");
    assert!(seen.contains("\x1b[2K"), "lines are redrawn: {seen}");
    assert!(
        seen.contains(&format!("{}: Pull complete", short(&app))),
        "{seen}"
    );
}
