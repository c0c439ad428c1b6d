//! A real registry of the test's own (Debian's `docker-registry`, distribution 2.8) on
//! 127.0.0.1 and a port of its own, with its storage in the test directory; the berth
//! environment that makes berth use only it (its own config file and Docker config
//! directory, and a proxy that does not exist for every other address, so nothing can
//! leave the machine); and images seeded into it with skopeo.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::state::StateRoot;

pub struct Registry {
    child: Option<Child>,
    /// `127.0.0.1:<port>`.
    pub host: String,
    pub dir: PathBuf,
    config: PathBuf,
}

/// A port nobody listens on now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// Waits until `host` takes connections.
pub fn wait_listening(host: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(host).is_err() {
        assert!(Instant::now() < deadline, "nothing listens on {host}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

impl Registry {
    /// Starts a registry in `dir/<name>`; `http_extra` is YAML added under `http:` (TLS),
    /// `extra` at the top level (`auth:`).
    pub fn start(dir: &Path, name: &str, http_extra: &str, extra: &str) -> Registry {
        let dir = dir.join(name);
        std::fs::create_dir_all(&dir).expect("registry dir");
        let host = format!("127.0.0.1:{}", free_port());
        let config = dir.join("config.yml");
        std::fs::write(
            &config,
            format!(
                "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: {host}\n{http_extra}{extra}",
                dir.join("data").display()
            ),
        )
        .expect("registry config");
        let mut registry = Registry {
            child: None,
            host,
            dir,
            config,
        };
        registry.resume();
        registry
    }

    /// Stops the registry process (its storage stays).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port and storage.
    pub fn resume(&mut self) {
        let log = std::fs::File::create(self.dir.join("log")).expect("registry log");
        let child = Command::new("docker-registry")
            .arg("serve")
            .arg(&self.config)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("docker-registry (package docker-registry)");
        self.child = Some(child);
        wait_listening(&self.host);
    }

    /// The file of blob `hex` in the registry's storage.
    pub fn blob_file(&self, hex: &str) -> PathBuf {
        self.dir
            .join("data/docker/registry/v2/blobs/sha256")
            .join(&hex[..2])
            .join(hex)
            .join("data")
    }
}

impl Registry {
    /// A registry that wants basic credentials, `user:password` (htpasswd, bcrypt).
    pub fn with_basic_auth(dir: &Path, name: &str, user: &str, password: &str) -> Registry {
        let htpasswd = dir.join(format!("{name}.htpasswd"));
        let made = Command::new("htpasswd")
            .args(["-Bbc", htpasswd.to_str().expect("path"), user, password])
            .output()
            .expect("htpasswd (package apache2-utils)");
        assert!(made.status.success());
        let auth = format!(
            "auth:\n  htpasswd:\n    realm: berth-test\n    path: {}\n",
            htpasswd.display()
        );
        Registry::start(dir, name, "", &auth)
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        self.stop();
    }
}

/// `skopeo copy` of a docker-save archive into `dest` (`docker://...`), with `args`
/// (credentials, certificates).
pub fn seed(archive: &Path, dest: &str, args: &[&str]) {
    let out = Command::new("skopeo")
        .args(["copy", "-q", "--retry-times", "0"])
        .args(args)
        .arg(format!("docker-archive:{}", archive.display()))
        .arg(dest)
        .output()
        .expect("skopeo");
    assert!(
        out.status.success(),
        "skopeo copy to {dest}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The environment a registry test runs berth with: berth's config file and Docker's
/// config directory in the test's directory, and every address but loopback sent to a
/// proxy that does not exist.
pub struct Env {
    pub config: PathBuf,
    pub docker_config: PathBuf,
    vars: Vec<(String, String)>,
}

impl Env {
    /// `settings` is the JSON of berth's config file.
    pub fn new(root: &StateRoot, settings: &str) -> Env {
        let config_dir = root.path().join("berth-config");
        std::fs::create_dir_all(&config_dir).expect("config dir");
        let config = config_dir.join("config.json");
        std::fs::write(&config, settings).expect("berth config");
        let docker_config = root.path().join("docker-config");
        let vars = vec![
            ("BERTH_CONFIG".to_string(), config.display().to_string()),
            (
                "DOCKER_CONFIG".to_string(),
                docker_config.display().to_string(),
            ),
            ("HTTPS_PROXY".to_string(), "http://127.0.0.1:9".to_string()),
            ("HTTP_PROXY".to_string(), "http://127.0.0.1:9".to_string()),
            ("NO_PROXY".to_string(), "127.0.0.1,localhost".to_string()),
        ];
        Env {
            config,
            docker_config,
            vars,
        }
    }

    /// The certificate directory berth reads for `host`.
    pub fn certs_dir(&self, host: &str) -> PathBuf {
        self.config
            .parent()
            .expect("config dir")
            .join("certs.d")
            .join(host)
    }

    pub fn vars(&self) -> Vec<(&str, &str)> {
        self.vars
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect()
    }

    /// berth with this environment: (exit code, stdout, stderr).
    pub fn berth(&self, root: &StateRoot, args: &[&str]) -> (i32, String, String) {
        root.berth_env(&self.vars(), args, b"")
    }

    pub fn berth_in(&self, root: &StateRoot, args: &[&str], stdin: &[u8]) -> (i32, String, String) {
        root.berth_env(&self.vars(), args, stdin)
    }

    pub fn ok(&self, root: &StateRoot, args: &[&str]) -> String {
        let (code, out, err) = self.berth(root, args);
        assert_eq!(code, 0, "berth {args:?} failed: {err}");
        out
    }
}

/// A test CA and the certificates it signs (ECDSA P-256, made by openssl): a server
/// certificate for 127.0.0.1 and a client certificate, in `dir`.
pub struct TestCa {
    pub ca: PathBuf,
    pub server_cert: PathBuf,
    pub server_key: PathBuf,
    pub client_cert: PathBuf,
    pub client_key: PathBuf,
}

/// Runs openssl in `dir`; its standard output.
pub fn openssl(dir: &Path, args: &[&str]) -> Vec<u8> {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

impl TestCa {
    pub fn make(dir: &Path) -> TestCa {
        std::fs::create_dir_all(dir).expect("ca dir");
        let key = [
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
        ];
        let mut ca = vec!["req", "-x509"];
        ca.extend(key);
        ca.extend([
            "-keyout",
            "ca.key",
            "-out",
            "ca.crt",
            "-days",
            "2",
            "-subj",
            "/CN=berth test CA",
        ]);
        openssl(dir, &ca);
        for (name, subject, ext) in [
            (
                "server",
                "/CN=127.0.0.1",
                "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n",
            ),
            (
                "client",
                "/CN=berth test client",
                "extendedKeyUsage=clientAuth\n",
            ),
        ] {
            let mut req = vec!["req"];
            req.extend(key);
            let (keyfile, csr) = (format!("{name}.key"), format!("{name}.csr"));
            req.extend(["-keyout", &keyfile, "-out", &csr, "-subj", subject]);
            openssl(dir, &req);
            std::fs::write(dir.join(format!("{name}.ext")), ext).expect("ext");
            let (cert, extfile) = (format!("{name}.cert"), format!("{name}.ext"));
            openssl(
                dir,
                &[
                    "x509",
                    "-req",
                    "-in",
                    &csr,
                    "-CA",
                    "ca.crt",
                    "-CAkey",
                    "ca.key",
                    "-CAcreateserial",
                    "-out",
                    &cert,
                    "-days",
                    "2",
                    "-extfile",
                    &extfile,
                ],
            );
        }
        TestCa {
            ca: dir.join("ca.crt"),
            server_cert: dir.join("server.cert"),
            server_key: dir.join("server.key"),
            client_cert: dir.join("client.cert"),
            client_key: dir.join("client.key"),
        }
    }

    /// The `http:` YAML of a registry serving TLS that wants client certificates.
    pub fn registry_tls(&self) -> String {
        format!(
            "  tls:\n    certificate: {}\n    key: {}\n    clientcas:\n      - {}\n",
            self.server_cert.display(),
            self.server_key.display(),
            self.ca.display()
        )
    }
}
