//! Networks under one state root:
//!
//! ```text
//! <root>/networks/<id>/network.json     the record (record::NetworkFile)
//! <root>/networks/<id>/endpoints.json   the containers attached now (record::EndpointsFile)
//! <root>/networks/<id>/lock             flock: held while endpoints.json changes
//! <root>/networks/names/<name> → <id>   the name index; creating the link reserves it
//! <root>/networks/.lock                 flock: create, remove and the predefined networks
//! ```
//!
//! The predefined `bridge`, `host` and `none` networks are recorded the first time
//! anything looks at networks; the default `bridge` network gets its subnet and Linux
//! bridge when its first container starts. A user-defined network gets both at create.
//! Host-wide choices (subnets, bridge names) are made under `host::lock`.

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use berth_net::Subnet;
use rustix::fs::{FlockOperation, flock};

use crate::store::write_atomic;

pub mod attach;
mod dns_forward;
pub mod dns_server;
mod endpoints;
pub mod holder;
pub mod host;
pub mod proxy;
pub mod record;

pub use endpoints::{EndpointRequest, host_veth_name, parse_mac};
pub use record::{Endpoint, EndpointsFile, Ipam, IpamConfig, Network, NetworkFile};

#[derive(Debug, thiserror::Error)]
pub enum NetworkError {
    #[error("failed to {action} {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        source: io::Error,
    },
    #[error("network {0} not found")]
    NotFound(String),
    #[error("network with name {0} already exists")]
    Exists(String),
    #[error("{0} is a pre-defined network and cannot be removed")]
    Predefined(String),
    #[error("error while removing network: network {name} id {id} has active endpoints")]
    ActiveEndpoints { name: String, id: String },
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Ipam(#[from] berth_net::ipam::IpamError),
    #[error("{0}")]
    Kernel(String),
    #[error("{}: {reason}", path.display())]
    Corrupt { path: PathBuf, reason: String },
}

impl NetworkError {
    pub(crate) fn io(action: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Self {
        NetworkError::Io {
            action,
            path: path.into(),
            source,
        }
    }
}

/// What `network create` asks for.
#[derive(Clone, Debug, Default)]
pub struct CreateRequest {
    pub name: String,
    /// `None`: bridge.
    pub driver: Option<String>,
    pub subnets: Vec<Subnet>,
    pub gateways: Vec<IpAddr>,
    pub ip_ranges: Vec<Subnet>,
    pub internal: bool,
    pub ipv6: bool,
    pub attachable: bool,
    pub labels: BTreeMap<String, String>,
    pub options: BTreeMap<String, String>,
}

/// The option that names a bridge network's Linux bridge.
pub const BRIDGE_NAME_OPTION: &str = "com.docker.network.bridge.name";

/// The networks under one state root.
#[derive(Clone, Debug)]
pub struct Networks {
    dir: PathBuf,
}

struct Lock {
    _file: File,
}

fn lock_file(path: &Path) -> Result<Lock, NetworkError> {
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .map_err(|e| NetworkError::io("open", path, e))?;
    flock(&file, FlockOperation::LockExclusive)
        .map_err(|e| NetworkError::io("lock", path, e.into()))?;
    Ok(Lock { _file: file })
}

/// Docker's rule for network names, which also keeps them safe as file names.
pub fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

impl Networks {
    pub fn open(root: &Path) -> Result<Networks, NetworkError> {
        let dir = root.join("networks");
        let names = dir.join("names");
        fs::create_dir_all(&names).map_err(|e| NetworkError::io("create", &names, e))?;
        Ok(Networks { dir })
    }

    fn network_dir(&self, id: &str) -> PathBuf {
        self.dir.join(id)
    }

    fn names_dir(&self) -> PathBuf {
        self.dir.join("names")
    }

    fn read(&self, id: &str) -> Result<NetworkFile, NetworkError> {
        let path = self.network_dir(id).join("network.json");
        let bytes = fs::read(&path).map_err(|e| NetworkError::io("read", &path, e))?;
        let file: NetworkFile =
            serde_json::from_slice(&bytes).map_err(|e| NetworkError::Corrupt {
                path: path.clone(),
                reason: e.to_string(),
            })?;
        if file.schema_version > record::SCHEMA_VERSION {
            return Err(NetworkError::Corrupt {
                path,
                reason: format!(
                    "written by a newer berth (schema {}; this one reads up to {})",
                    file.schema_version,
                    record::SCHEMA_VERSION
                ),
            });
        }
        Ok(file)
    }

    fn write(&self, file: &NetworkFile) -> Result<(), NetworkError> {
        let path = self.network_dir(&file.network.id).join("network.json");
        let bytes = serde_json::to_vec_pretty(file).map_err(|e| NetworkError::Corrupt {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        write_atomic(&path, &bytes).map_err(|e| NetworkError::Invalid(e.to_string()))
    }

    fn ids(&self) -> Result<Vec<String>, NetworkError> {
        let entries =
            fs::read_dir(&self.dir).map_err(|e| NetworkError::io("read", &self.dir, e))?;
        Ok(entries
            .filter_map(|e| e.ok())
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|n| n.len() == 64 && n.bytes().all(|b| b.is_ascii_hexdigit()))
            .collect())
    }

    /// Whether the network's name points at it: a directory without that (a create that
    /// lost the race for the name, or one a crash cut short) is not a network.
    fn is_named(&self, file: &NetworkFile) -> bool {
        fs::read_link(self.names_dir().join(&file.network.name))
            .is_ok_and(|t| t.as_os_str() == file.network.id.as_str())
    }

    /// Every network, in the order they were made.
    pub fn list(&self) -> Result<Vec<NetworkFile>, NetworkError> {
        self.ensure_predefined()?;
        let mut all: Vec<NetworkFile> = self
            .ids()?
            .iter()
            .filter_map(|id| self.read(id).ok())
            .filter(|f| self.is_named(f))
            .collect();
        all.sort_by(|a, b| a.network.created.cmp(&b.network.created));
        Ok(all)
    }

    /// By name, full id or unique id prefix (Docker's order).
    pub fn find(&self, name_or_id: &str) -> Result<NetworkFile, NetworkError> {
        self.ensure_predefined()?;
        if valid_name(name_or_id)
            && let Ok(target) = fs::read_link(self.names_dir().join(name_or_id))
            && let Ok(file) = self.read(&target.to_string_lossy())
        {
            return Ok(file);
        }
        if !name_or_id.is_empty() && name_or_id.bytes().all(|b| b.is_ascii_hexdigit()) {
            let matches: Vec<String> = self
                .ids()?
                .into_iter()
                .filter(|id| id.starts_with(name_or_id))
                .filter(|id| self.read(id).is_ok_and(|f| self.is_named(&f)))
                .collect();
            if matches.len() == 1 {
                return self.read(&matches[0]);
            }
            if matches.len() > 1 {
                return Err(NetworkError::Invalid(format!(
                    "network {name_or_id} is ambiguous ({} matches found based on ID prefix)",
                    matches.len()
                )));
            }
        }
        Err(NetworkError::NotFound(name_or_id.to_string()))
    }

    fn ensure_predefined(&self) -> Result<(), NetworkError> {
        let names = self.names_dir();
        if ["bridge", "host", "none"]
            .iter()
            .all(|n| names.join(n).symlink_metadata().is_ok())
        {
            return Ok(());
        }
        let _lock = lock_file(&self.dir.join(".lock"))?;
        for (name, driver) in [("bridge", "bridge"), ("host", "host"), ("none", "null")] {
            if names.join(name).symlink_metadata().is_ok() {
                continue;
            }
            let mut network = blank(name, driver)?;
            if name == "bridge" {
                network.ipam.options = None;
                for (k, v) in [
                    ("com.docker.network.bridge.default_bridge", "true"),
                    ("com.docker.network.bridge.enable_icc", "true"),
                    ("com.docker.network.bridge.enable_ip_masquerade", "true"),
                    ("com.docker.network.bridge.host_binding_ipv4", "0.0.0.0"),
                    ("com.docker.network.driver.mtu", "1500"),
                ] {
                    network.options.insert(k.into(), v.into());
                }
            } else {
                network.ipam.options = None;
            }
            self.install(NetworkFile {
                schema_version: record::SCHEMA_VERSION,
                network,
                bridge: String::new(),
            })?;
        }
        Ok(())
    }

    /// Writes a new network's directory and then its name link (the link makes it exist).
    fn install(&self, file: NetworkFile) -> Result<NetworkFile, NetworkError> {
        let dir = self.network_dir(&file.network.id);
        fs::create_dir(&dir).map_err(|e| NetworkError::io("create", &dir, e))?;
        self.write(&file)?;
        let link = self.names_dir().join(&file.network.name);
        if let Err(e) = std::os::unix::fs::symlink(&file.network.id, &link) {
            let _ = fs::remove_dir_all(&dir);
            return Err(if e.kind() == io::ErrorKind::AlreadyExists {
                NetworkError::Exists(file.network.name.clone())
            } else {
                NetworkError::io("create", &link, e)
            });
        }
        Ok(file)
    }

    /// `network create`: checks, subnet (given or from the pools), bridge, record.
    pub fn create(&self, request: &CreateRequest) -> Result<NetworkFile, NetworkError> {
        let name = &request.name;
        if !valid_name(name) {
            return Err(NetworkError::Invalid(format!(
                "invalid network name {name:?}: only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed"
            )));
        }
        let driver = request.driver.as_deref().unwrap_or("bridge");
        if driver != "bridge" {
            return Err(NetworkError::Invalid(format!(
                "network driver {driver:?} is not supported by berth (only bridge; host and none are predefined)"
            )));
        }
        for key in request.options.keys() {
            if key != BRIDGE_NAME_OPTION {
                return Err(NetworkError::Invalid(format!(
                    "network option {key:?} is not supported by berth yet (only {BRIDGE_NAME_OPTION})"
                )));
            }
        }
        self.ensure_predefined()?;
        if self.names_dir().join(name).symlink_metadata().is_ok() {
            return Err(NetworkError::Exists(name.clone()));
        }
        let _lock = lock_file(&self.dir.join(".lock"))?;
        let host = host::lock()?;
        let ours: Vec<Network> = self
            .ids()?
            .iter()
            .filter_map(|id| self.read(id).ok())
            .map(|f| f.network)
            .collect();
        let mut network = blank(name, "bridge")?;
        network.ipam.config = ipam_config(request, &ours, &host)?;
        network.enable_ipv6 = request.ipv6;
        network.internal = request.internal;
        network.attachable = request.attachable;
        network.labels = request.labels.clone();
        network.options = request.options.clone();

        let bridge = match request.options.get(BRIDGE_NAME_OPTION) {
            Some(b) => {
                if b.is_empty()
                    || b.len() > 15
                    || b.contains('/')
                    || b.contains(char::is_whitespace)
                {
                    return Err(NetworkError::Invalid(format!(
                        "invalid bridge name {b:?}: at most 15 characters, no '/' or spaces"
                    )));
                }
                let taken_by_ours = self
                    .ids()?
                    .iter()
                    .filter_map(|id| self.read(id).ok())
                    .any(|f| &f.bridge == b);
                if taken_by_ours || host::link_exists(&host, b)? {
                    return Err(NetworkError::Invalid(format!(
                        "bridge name {b} is already used by another network interface on this host"
                    )));
                }
                b.clone()
            }
            None => format!("berth-{}", &network.id[..9]),
        };
        host::ensure_bridge(&host, &bridge, &network)?;
        let file = NetworkFile {
            schema_version: record::SCHEMA_VERSION,
            network,
            bridge: bridge.clone(),
        };
        match self.install(file) {
            Ok(file) => Ok(file),
            Err(e) => {
                let _ = host::delete_bridge(&bridge);
                Err(e)
            }
        }
    }

    /// `network rm`: refused while a running container is attached; deletes the bridge.
    pub fn remove(&self, name_or_id: &str) -> Result<Network, NetworkError> {
        // Looked up under the lock: a concurrent `rm` of the same network finds nothing.
        self.ensure_predefined()?;
        let _lock = lock_file(&self.dir.join(".lock"))?;
        let file = self.find(name_or_id)?;
        if file.network.is_predefined() {
            return Err(NetworkError::Predefined(file.network.name));
        }
        let id = file.network.id.clone();
        let _network_lock = lock_file(&self.network_dir(&id).join("lock"))?;
        let live = self
            .read_endpoints(&id)?
            .endpoints
            .values()
            .any(|e| e.holder.alive());
        if live {
            return Err(NetworkError::ActiveEndpoints {
                name: file.network.name,
                id,
            });
        }
        if !file.bridge.is_empty() {
            let _host = host::lock()?;
            host::delete_bridge(&file.bridge)?;
        }
        let link = self.names_dir().join(&file.network.name);
        if self.is_named(&file) {
            fs::remove_file(&link).map_err(|e| NetworkError::io("remove", &link, e))?;
        }
        let dir = self.network_dir(&id);
        fs::remove_dir_all(&dir).map_err(|e| NetworkError::io("remove", &dir, e))?;
        Ok(file.network)
    }
}

fn new_id() -> Result<String, NetworkError> {
    crate::container::id::new_id().map_err(|e| NetworkError::Kernel(format!("random id: {e}")))
}

fn blank(name: &str, driver: &str) -> Result<Network, NetworkError> {
    Ok(Network {
        name: name.to_string(),
        id: new_id()?,
        created: crate::time::now_rfc3339(),
        scope: "local".into(),
        driver: driver.into(),
        enable_ipv6: false,
        ipam: Ipam {
            driver: "default".into(),
            options: Some(BTreeMap::new()),
            config: Vec::new(),
        },
        internal: false,
        attachable: false,
        ingress: false,
        config_from: record::ConfigFrom::default(),
        config_only: false,
        options: BTreeMap::new(),
        labels: BTreeMap::new(),
    })
}

/// `--subnet`, `--gateway`, `--ip-range` paired as Docker pairs them (the n-th gateway
/// and range belong to the subnet that contains them), or a free subnet from the pools.
fn ipam_config(
    request: &CreateRequest,
    ours: &[Network],
    host: &host::HostLock,
) -> Result<Vec<IpamConfig>, NetworkError> {
    if request.subnets.is_empty() {
        if !request.gateways.is_empty() || !request.ip_ranges.is_empty() {
            return Err(NetworkError::Invalid(
                "--gateway and --ip-range need a --subnet".into(),
            ));
        }
        let subnet = host::free_subnet(host, ours)?;
        return Ok(vec![IpamConfig {
            subnet,
            ip_range: None,
            gateway: host::default_gateway(&subnet),
        }]);
    }
    let mut config = Vec::new();
    for subnet in &request.subnets {
        if let Some(other) = ours
            .iter()
            .find(|n| n.ipam.config.iter().any(|c| c.subnet.overlaps(subnet)))
        {
            return Err(NetworkError::Invalid(format!(
                "Pool overlaps with other one on this address space (network {})",
                other.name
            )));
        }
        if config
            .iter()
            .any(|c: &IpamConfig| c.subnet.overlaps(subnet))
        {
            return Err(NetworkError::Invalid(format!(
                "multiple overlapping subnet configuration is not supported: {subnet}"
            )));
        }
        let gateway = request
            .gateways
            .iter()
            .find(|g| subnet.contains(**g))
            .copied();
        let ip_range = request.ip_ranges.iter().find(|r| subnet.covers(r)).copied();
        // The checks of the pool (gateway inside, range inside) with Docker's words.
        let pool = berth_net::ipam::Pool::new(*subnet, gateway, ip_range)?;
        config.push(IpamConfig {
            subnet: *subnet,
            ip_range,
            gateway: Some(pool.gateway),
        });
    }
    for g in &request.gateways {
        if !request.subnets.iter().any(|s| s.contains(*g)) {
            return Err(NetworkError::Invalid(format!(
                "no matching subnet for gateway {g}"
            )));
        }
    }
    for r in &request.ip_ranges {
        if !request.subnets.iter().any(|s| s.covers(r)) {
            return Err(NetworkError::Invalid(format!(
                "no matching subnet for range {r}"
            )));
        }
    }
    if request.subnets.iter().any(|s| !s.is_ipv4()) && !request.ipv6 {
        return Err(NetworkError::Invalid(
            "an IPv6 --subnet needs --ipv6".into(),
        ));
    }
    if request.ipv6 && request.subnets.iter().all(|s| s.is_ipv4()) {
        return Err(NetworkError::Invalid(
            "--ipv6 needs an IPv6 --subnet: berth has no default IPv6 pool".into(),
        ));
    }
    if request.subnets.iter().all(|s| !s.is_ipv4()) {
        let subnet = host::free_subnet(host, ours)?;
        config.insert(
            0,
            IpamConfig {
                subnet,
                ip_range: None,
                gateway: host::default_gateway(&subnet),
            },
        );
    }
    Ok(config)
}
