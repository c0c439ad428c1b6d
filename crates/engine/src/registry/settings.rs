//! Where registries are and how to trust them: berth's config file (`BERTH_CONFIG`, by
//! default `/etc/berth/config.json`) with Docker's `daemon.json` keys
//! `registry-mirrors` and `insecure-registries`, or, when it does not exist, those keys
//! of `/etc/docker/daemon.json` (read only). CA certificates and client certificates per
//! registry come from `certs.d/<host[:port]>/` next to berth's config file and, read only,
//! from Docker's `/etc/docker/certs.d` (Docker's layout: `*.crt` are CAs, `*.cert` with a
//! `*.key` of the same name are client certificates).

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::RegistryError;

/// berth's config file, unless `BERTH_CONFIG` names another.
pub const DEFAULT_CONFIG: &str = "/etc/berth/config.json";

/// Docker's daemon config, read for mirrors and insecure registries when berth has none.
pub const DOCKER_DAEMON_JSON: &str = "/etc/docker/daemon.json";

/// Docker's per-registry certificates, read only.
pub const DOCKER_CERTS_D: &str = "/etc/docker/certs.d";

/// The system's CA bundle (Debian's `ca-certificates`).
pub const SYSTEM_ROOTS: &str = "/etc/ssl/certs/ca-certificates.crt";

#[derive(Clone, Debug, Default)]
pub struct Settings {
    /// Mirrors of Docker Hub, tried in order before it (`http://host:port` or `https://...`).
    pub mirrors: Vec<String>,
    /// Registries reached over plain HTTP when HTTPS fails: `host[:port]` or CIDR ranges.
    pub insecure: Vec<String>,
    /// Directories holding `<host[:port]>/` certificate directories, in order.
    pub certs_dirs: Vec<PathBuf>,
    /// The file the settings came from, for messages.
    pub source: Option<PathBuf>,
}

#[derive(Deserialize, Default)]
struct File {
    #[serde(rename = "registry-mirrors", default)]
    mirrors: Vec<String>,
    #[serde(rename = "insecure-registries", default)]
    insecure: Vec<String>,
}

impl Settings {
    /// The settings in effect: `BERTH_CONFIG` or the default file, else Docker's.
    pub fn load() -> Result<Settings, RegistryError> {
        let path = std::env::var_os("BERTH_CONFIG")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(DEFAULT_CONFIG));
        Settings::load_from(&path, Path::new(DOCKER_DAEMON_JSON))
    }

    /// The settings of berth's file `own`, or of Docker's `docker` when `own` does not
    /// exist.
    pub fn load_from(own: &Path, docker: &Path) -> Result<Settings, RegistryError> {
        let own_dir = own.parent().unwrap_or(Path::new("/")).join("certs.d");
        let certs_dirs = vec![own_dir, PathBuf::from(DOCKER_CERTS_D)];
        let (file, source) = match read(own)? {
            Some(file) => (file, Some(own.to_path_buf())),
            None => match read(docker).unwrap_or(None) {
                Some(file) => (file, Some(docker.to_path_buf())),
                None => (File::default(), None),
            },
        };
        for mirror in &file.mirrors {
            if !(mirror.starts_with("http://") || mirror.starts_with("https://")) {
                return Err(RegistryError::Invalid(format!(
                    "{}: registry-mirrors: {mirror:?} must be a URL such as https://mirror.example or http://127.0.0.1:5000",
                    own.display()
                )));
            }
        }
        Ok(Settings {
            mirrors: file
                .mirrors
                .into_iter()
                .map(|m| m.trim_end_matches('/').to_string())
                .collect(),
            insecure: file.insecure,
            certs_dirs,
            source,
        })
    }

    /// Whether `host` (`name[:port]`) may be reached over plain HTTP: loopback hosts (as
    /// Docker) and those configured as insecure.
    pub fn is_insecure(&self, host: &str) -> bool {
        let name = host_name(host);
        if name == "localhost" || name.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback()) {
            return true;
        }
        self.insecure.iter().any(|entry| {
            if entry == host {
                return true;
            }
            match (cidr(entry), name.parse::<IpAddr>()) {
                (Some((net, prefix)), Ok(ip)) => in_cidr(ip, net, prefix),
                _ => false,
            }
        })
    }

    /// The certificate directories of `host`, those that exist.
    pub fn cert_dirs_of(&self, host: &str) -> Vec<PathBuf> {
        self.certs_dirs
            .iter()
            .map(|d| d.join(host))
            .filter(|d| d.is_dir())
            .collect()
    }
}

fn read(path: &Path) -> Result<Option<File>, RegistryError> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(RegistryError::Invalid(format!(
                "cannot read {}: {e}",
                path.display()
            )));
        }
    };
    serde_json::from_slice(&bytes).map(Some).map_err(|e| {
        RegistryError::Invalid(format!(
            "{}:{}:{}: {e}",
            path.display(),
            e.line(),
            e.column()
        ))
    })
}

/// `host` without its port (`[::1]:5000` → `::1`).
pub fn host_name(host: &str) -> &str {
    if let Some(rest) = host.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    match host.rsplit_once(':') {
        Some((name, port)) if port.chars().all(|c| c.is_ascii_digit()) => name,
        _ => host,
    }
}

fn cidr(entry: &str) -> Option<(IpAddr, u8)> {
    let (net, prefix) = entry.split_once('/')?;
    Some((net.parse().ok()?, prefix.parse().ok()?))
}

fn in_cidr(ip: IpAddr, net: IpAddr, prefix: u8) -> bool {
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) if prefix <= 32 => {
            let mask = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) if prefix <= 128 => {
            let mask = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_and_configured_hosts_are_insecure() {
        let s = Settings {
            insecure: vec!["reg.local:5000".into(), "10.1.0.0/16".into()],
            ..Settings::default()
        };
        for host in [
            "localhost:5000",
            "127.0.0.1:5000",
            "[::1]:5000",
            "reg.local:5000",
            "10.1.2.3:80",
        ] {
            assert!(s.is_insecure(host), "{host}");
        }
        for host in ["reg.local", "docker.io", "10.2.0.1:5000", "ghcr.io"] {
            assert!(!s.is_insecure(host), "{host}");
        }
    }

    #[test]
    fn berths_file_wins_and_dockers_is_the_fallback() {
        let dir = std::env::temp_dir().join(format!("berth-settings-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let own = dir.join("config.json");
        let docker = dir.join("daemon.json");
        std::fs::write(
            &docker,
            r#"{"registry-mirrors":["https://m.example/"],"debug":true}"#,
        )
        .unwrap();
        let s = Settings::load_from(&own, &docker).unwrap();
        assert_eq!(s.mirrors, ["https://m.example"]);
        assert_eq!(s.certs_dirs[0], dir.join("certs.d"));
        std::fs::write(&own, r#"{"insecure-registries":["r:1"]}"#).unwrap();
        let s = Settings::load_from(&own, &docker).unwrap();
        assert!(s.mirrors.is_empty());
        assert_eq!(s.insecure, ["r:1"]);
        std::fs::write(&own, "{\n  \"registry-mirrors\": [\"m.example\"]\n}").unwrap();
        let e = Settings::load_from(&own, &docker).unwrap_err().to_string();
        assert!(e.contains("must be a URL"), "{e}");
        std::fs::write(&own, "{\n  \"registry-mirrors\": 3\n}").unwrap();
        let e = Settings::load_from(&own, &docker).unwrap_err().to_string();
        assert!(e.contains("config.json:2:"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
