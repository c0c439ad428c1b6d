//! `create`: merge the image's config into the request as Docker does, reserve the name,
//! and write the record. Either the whole container exists afterwards or nothing does.

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::os::unix::fs::symlink;

use serde_json::Value;

use super::config::{Config, HostConfig, NetworkingConfig};
use super::mount_spec::MountRequest;
use super::record::{self, CONTAINER_SCHEMA, ContainerRecord, State};
use super::{ContainerError, Containers, PROJECT_LABEL, id, mounts, resources, sharing, user};
use crate::image::Images;
use crate::runtime::CgroupSupport;
use crate::store::ImageRecord;
use crate::volume::Volumes;

/// What the CLI (or the orchestrator) asks for: Docker's `Config` and `HostConfig` with
/// only the user's values set; the image's defaults are merged in here.
#[derive(Clone, Debug, Default)]
pub struct CreateRequest {
    pub name: Option<String>,
    pub config: Config,
    pub host_config: HostConfig,
    /// The endpoint settings per network (`--ip`, `--network-alias`…).
    pub networking_config: NetworkingConfig,
    /// `-v`, `--mount` and `--tmpfs` (and a compose service's `volumes`), in order.
    pub mounts: Vec<MountRequest>,
}

/// In a container directory until its record is written: the process creating it.
const CREATOR: &str = "creator.json";

/// Whether the process that is creating the container of `dir` still runs.
fn creator_alive(dir: &std::path::Path) -> bool {
    std::fs::read(dir.join(CREATOR))
        .ok()
        .and_then(|b| serde_json::from_slice::<crate::network::holder::Holder>(&b).ok())
        .is_some_and(|h| h.alive())
}

/// A new container and the warnings about limits the host could not apply (Docker's
/// `Warnings` of the create response).
#[derive(Debug)]
pub struct Created {
    pub record: ContainerRecord,
    pub warnings: Vec<String>,
}

impl Containers {
    /// Creates a container from `request.config.image`.
    pub fn create(
        &self,
        images: &Images,
        request: CreateRequest,
    ) -> Result<Created, ContainerError> {
        let mut request = request;
        let support = if resources::requested(&request.host_config) {
            CgroupSupport::detect().map_err(|e| {
                ContainerError::io("read the cgroup mounts in", "/proc/self/mountinfo", e)
            })?
        } else {
            CgroupSupport::default()
        };
        let warnings = resources::verify(&mut request.host_config, &support)?;
        sharing::check(&request.host_config)?;
        super::networking::check_create(self, &request.host_config, &request.networking_config)?;
        let links = super::links::check_create(
            self,
            &mut request.host_config,
            &mut request.networking_config,
        )?;
        let security = super::security_opt::parse(
            request
                .host_config
                .security_opt
                .as_deref()
                .unwrap_or_default(),
        )?;
        for d in &request.host_config.devices {
            super::spec::device_node(&d.path_on_host)?;
        }
        let shared = [
            ("IPC", &request.host_config.ipc_mode),
            ("PID", &request.host_config.pid_mode),
        ];
        for (what, mode) in shared {
            if let Some(other) = mode.strip_prefix("container:") {
                let id = self.lookup(other)?;
                if !self.state(&id)?.running {
                    return Err(ContainerError::Invalid(format!(
                        "cannot join {what} of a non running container: {other}"
                    )));
                }
            }
        }
        if let Some(name) = &request.name
            && !id::valid_name(name.strip_prefix('/').unwrap_or(name))
        {
            return Err(ContainerError::InvalidName(name.clone()));
        }
        // Shared store lock from resolving the image to writing the record: an `rmi` or
        // `image prune` (exclusive) either sees this container or runs before it.
        let _content = images.store().lock_shared()?;
        let image = images.resolve(&request.config.image).map_err(|e| match e {
            crate::image::ImageError::NotFound(name) => {
                ContainerError::Invalid(format!("no such image: {name} (`berth pull` brings it)"))
            }
            e => e.into(),
        })?;
        let image_config = images.config(&image)?;
        let empty = Value::Object(Default::default());
        let defaults = image_config.raw.get("config").unwrap_or(&empty);
        let id =
            id::new_id().map_err(|e| ContainerError::io("generate an id in", self.root(), e))?;
        let config = merge_image_config(request.config, defaults, &id);
        let (path, args) = command_line(&config)?;
        let layers = layer_dirs(&image);
        // Resolve the user now, so that a missing user fails before anything exists
        // (Docker only finds out at start); the supervisor resolves again at each start.
        let layer_paths: Vec<_> = layers
            .iter()
            .rev()
            .map(|chain| images.store().layer_dir(chain))
            .collect();
        user::resolve(
            &config.user,
            &layer_paths,
            &request.host_config.group_add.clone().unwrap_or_default(),
        )?;

        mounts::check(&request.mounts)?;
        let mut inherited = Vec::new();
        for from in request.host_config.volumes_from.iter().flatten() {
            let (source, mode) = match from.rsplit_once(':') {
                Some((c, m @ ("ro" | "rw"))) => (c, Some(m)),
                Some((_, m)) => {
                    return Err(ContainerError::Invalid(format!(
                        "invalid --volumes-from {from:?}: mode {m:?} must be ro or rw"
                    )));
                }
                None => (from.as_str(), None),
            };
            let source = self.record(&self.lookup(source)?)?;
            inherited.extend(mounts::inherit(&source.mount_points, mode));
        }
        let image_volumes: Vec<String> = config
            .volumes
            .iter()
            .flatten()
            .map(|(k, _)| k.clone())
            .collect();
        // Shared volume lock from choosing volumes to writing the record: a `volume rm`
        // (exclusive) either sees this container use them or runs before it. A container
        // without mounts takes none.
        let volumes =
            Volumes::open(self.root()).map_err(|e| ContainerError::Invalid(e.to_string()))?;
        let uses_volumes =
            !request.mounts.is_empty() || !inherited.is_empty() || !image_volumes.is_empty();
        let _volumes_lock = uses_volumes
            .then(|| volumes.lock_shared())
            .transpose()
            .map_err(|e| ContainerError::Invalid(e.to_string()))?;
        let name = request.name.map(|n| n.trim_start_matches('/').to_string());
        // The directory and who is making it, before the name: a name whose holder has
        // neither a record nor a live creator is free again (its creator was killed).
        let dir = self.dir(&id);
        fs::create_dir_all(&dir).map_err(|e| ContainerError::io("create", &dir, e))?;
        let creator =
            serde_json::to_vec(&crate::network::holder::Holder::this_process()).unwrap_or_default();
        if let Err(e) = fs::write(dir.join(CREATOR), creator) {
            let _ = fs::remove_dir_all(&dir);
            return Err(ContainerError::io("write", dir.join(CREATOR), e));
        }
        let name = match self.reserve_name(name.as_deref(), &id) {
            Ok(name) => name,
            Err(e) => {
                let _ = fs::remove_dir_all(&dir);
                return Err(e);
            }
        };
        let resolved = match mounts::resolve(&request.mounts, &inherited, &image_volumes, &volumes)
        {
            Ok(r) => r,
            Err(e) => {
                let _ = fs::remove_file(self.names_dir().join(&name));
                let _ = fs::remove_dir_all(&dir);
                return Err(e);
            }
        };
        request.host_config.links = super::links::inspect_form(&links, &name);
        let record = ContainerRecord {
            schema_version: CONTAINER_SCHEMA,
            id: id.clone(),
            created: crate::time::now_rfc3339(),
            path,
            args,
            image: image.id.to_string(),
            name: name.clone(),
            config,
            host_config: with_default_paths(request.host_config, security.unconfined_system_paths),
            networking_config: request.networking_config,
            layers: layers.iter().map(|d| d.to_string()).collect(),
            mount_points: resolved.points,
            left_mode_network: false,
        };
        if let Err(e) = self.write_new(&record) {
            let _ = fs::remove_dir_all(self.dir(&id));
            let _ = fs::remove_file(self.names_dir().join(&name));
            mounts::remove_created(&volumes, &resolved.created);
            return Err(e);
        }
        self.emit(&record, "create", &[]);
        Ok(Created { record, warnings })
    }

    fn write_new(&self, record: &ContainerRecord) -> Result<(), ContainerError> {
        let written = self.write_new_record(record);
        if written.is_ok() {
            let _ = fs::remove_file(self.dir(&record.id).join(CREATOR));
        }
        written
    }

    fn write_new_record(&self, record: &ContainerRecord) -> Result<(), ContainerError> {
        let dir = self.dir(&record.id);
        for sub in ["upper", "work", "rootfs"] {
            let path = dir.join(sub);
            fs::create_dir_all(&path).map_err(|e| ContainerError::io("create", &path, e))?;
        }
        record::write_state(&dir, &State::created())?;
        if let Some(project) = record.config.labels.get(PROJECT_LABEL) {
            let index = self.projects_dir().join(project);
            fs::create_dir_all(&index).map_err(|e| ContainerError::io("create", &index, e))?;
            let link = index.join(&record.id);
            symlink(format!("../../containers/{}", record.id), &link)
                .or_else(|e| {
                    if e.kind() == io::ErrorKind::AlreadyExists {
                        Ok(())
                    } else {
                        Err(e)
                    }
                })
                .map_err(|e| ContainerError::io("create", &link, e))?;
        }
        // Written last: a directory without a record is invisible (and swept).
        record::write_record(&dir, record)
    }

    /// Reserves `name` (or a generated one) for `id` by creating `names/<name>`; creating
    /// the link is atomic, so of two concurrent creates exactly one gets a name.
    fn reserve_name(&self, name: Option<&str>, id: &str) -> Result<String, ContainerError> {
        match name {
            Some(name) => self.link_name(name, id).map(|()| name.to_string()),
            None => {
                for attempt in 0..20 {
                    let name = id::generated_name(attempt)
                        .map_err(|e| ContainerError::io("generate a name in", self.root(), e))?;
                    match self.link_name(&name, id) {
                        Ok(()) => return Ok(name),
                        Err(ContainerError::NameInUse { .. }) => continue,
                        Err(e) => return Err(e),
                    }
                }
                Err(ContainerError::Invalid(
                    "could not find a free generated name".into(),
                ))
            }
        }
    }

    pub(super) fn link_name(&self, name: &str, id: &str) -> Result<(), ContainerError> {
        let link = self.names_dir().join(name);
        for _ in 0..2 {
            match symlink(id, &link) {
                Ok(()) => return Ok(()),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                    let holder = fs::read_link(&link)
                        .map(|t| t.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    let holder_dir = self.dir(&holder);
                    if holder_dir.join("container.json").exists() || creator_alive(&holder_dir) {
                        return Err(ContainerError::NameInUse {
                            name: name.into(),
                            id: holder,
                        });
                    }
                    // The holder is gone (its creator died between reserving the name and
                    // writing the record): its leftovers go and the name is reused.
                    if !holder.is_empty() && holder_dir.exists() {
                        let _ = fs::remove_dir_all(&holder_dir);
                    }
                    let _ = fs::remove_file(&link);
                }
                Err(e) => return Err(ContainerError::io("create", &link, e)),
            }
        }
        Err(ContainerError::NameInUse {
            name: name.into(),
            id: String::new(),
        })
    }
}

/// Docker's masked and read-only paths, unless `--privileged` or
/// `--security-opt systempaths=unconfined` (as the daemon fills them in
/// at create, so `inspect` shows them and the spec is derived from them).
fn with_default_paths(mut host: HostConfig, unconfined_system_paths: bool) -> HostConfig {
    if !host.privileged && !unconfined_system_paths {
        let owned = |paths: &[&str]| paths.iter().map(|p| p.to_string()).collect();
        if host.masked_paths.is_empty() {
            host.masked_paths = owned(&super::config::DEFAULT_MASKED_PATHS);
        }
        if host.readonly_paths.is_empty() {
            host.readonly_paths = owned(&super::config::DEFAULT_READONLY_PATHS);
        }
    }
    host
}

/// Chain ids of the image's layers, bottom first.
fn layer_dirs(image: &ImageRecord) -> Vec<crate::Digest> {
    image.layers.iter().map(|l| l.chain_id.clone()).collect()
}

/// Docker's merge of the image config into the container config (moby `daemon/commit.go`
/// `merge`, `daemon/create.go`): user values win; env by key; labels by key; the image's
/// `Cmd` only when the user set neither a command nor an entrypoint.
fn merge_image_config(mut config: Config, image: &Value, id: &str) -> Config {
    let strings = |key: &str| -> Option<Vec<String>> {
        image.get(key).and_then(|v| v.as_array()).map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect()
        })
    };
    let text = |key: &str| {
        image
            .get(key)
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_string()
    };
    if config.hostname.is_empty() {
        config.hostname = id[..12].to_string();
    }
    if config.user.is_empty() {
        config.user = text("User");
    }
    let mut env = strings("Env").unwrap_or_default();
    for entry in std::mem::take(&mut config.env) {
        let key = entry.split('=').next().unwrap_or_default().to_string();
        match env
            .iter_mut()
            .find(|e| e.split('=').next() == Some(key.as_str()))
        {
            Some(existing) => *existing = entry,
            None => env.push(entry),
        }
    }
    config.env = env;
    if config.working_dir.is_empty() {
        config.working_dir = text("WorkingDir");
    }
    let user_entrypoint = config.entrypoint.as_ref().is_some_and(|e| !e.is_empty());
    if !user_entrypoint {
        if config.cmd.as_ref().is_none_or(|c| c.is_empty()) {
            config.cmd = strings("Cmd");
        }
        if config.entrypoint.is_none() {
            config.entrypoint = strings("Entrypoint");
        }
    }
    let mut labels: BTreeMap<String, String> = image
        .get("Labels")
        .and_then(|v| v.as_object())
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_string())))
                .collect()
        })
        .unwrap_or_default();
    labels.append(&mut config.labels);
    config.labels = labels;
    if config.stop_signal.is_none() {
        let signal = text("StopSignal");
        if !signal.is_empty() {
            config.stop_signal = Some(signal);
        }
    }
    if let Some(ports) = image.get("ExposedPorts").and_then(|v| v.as_object()) {
        let exposed = config.exposed_ports.get_or_insert_with(BTreeMap::new);
        for port in ports.keys() {
            exposed.entry(port.clone()).or_default();
        }
    }
    // Docker's merge of a HEALTHCHECK: the user's test replaces the image's; durations
    // and retries the user left at 0 come from the image.
    if let Some(from_image) = image
        .get("Healthcheck")
        .and_then(|h| serde_json::from_value::<super::config::HealthConfig>(h.clone()).ok())
    {
        let merged = match config.healthcheck.take() {
            None => from_image,
            Some(mut user) => {
                if user.test.is_empty() {
                    user.test = from_image.test;
                }
                let pick = |u: i64, i: i64| if u == 0 { i } else { u };
                user.interval = pick(user.interval, from_image.interval);
                user.timeout = pick(user.timeout, from_image.timeout);
                user.start_period = pick(user.start_period, from_image.start_period);
                user.start_interval = pick(user.start_interval, from_image.start_interval);
                user.retries = pick(user.retries, from_image.retries);
                user
            }
        };
        config.healthcheck = Some(merged);
    }
    if let Some(volumes) = image.get("Volumes").and_then(|v| v.as_object()) {
        let all = config.volumes.get_or_insert_with(BTreeMap::new);
        for path in volumes.keys() {
            all.entry(path.clone()).or_default();
        }
    }
    config
}

/// Docker's `Path` and `Args`: entrypoint + cmd, split at the first word.
fn command_line(config: &Config) -> Result<(String, Vec<String>), ContainerError> {
    let mut words: Vec<String> = config.entrypoint.clone().unwrap_or_default();
    words.extend(config.cmd.clone().unwrap_or_default());
    let mut words = words.into_iter();
    match words.next() {
        Some(path) => Ok((path, words.collect())),
        None => Err(ContainerError::Invalid("No command specified".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn image() -> Value {
        json!({
            "Env": ["PATH=/bin", "A=image"],
            "Cmd": ["sh"],
            "Entrypoint": null,
            "WorkingDir": "/srv",
            "Labels": {"from": "image", "both": "image"},
            "User": "daemon",
            "StopSignal": "SIGQUIT",
        })
    }

    fn id() -> String {
        "a".repeat(64)
    }

    #[test]
    fn an_image_healthcheck_is_merged_with_the_users() {
        let mut image = image();
        image["Healthcheck"] =
            json!({"Test": ["CMD", "check"], "Interval": 5_000_000_000i64, "Retries": 4});
        let merged = merge_image_config(Config::default(), &image, &id());
        let hc = merged.healthcheck.expect("from the image");
        assert_eq!(
            (hc.test, hc.interval, hc.retries),
            (
                vec!["CMD".to_string(), "check".to_string()],
                5_000_000_000,
                4
            )
        );
        let user = Config {
            healthcheck: Some(super::super::config::HealthConfig {
                retries: 9,
                ..Default::default()
            }),
            ..Config::default()
        };
        let hc = merge_image_config(user, &image, &id())
            .healthcheck
            .expect("merged");
        assert_eq!(
            (hc.test.len(), hc.interval, hc.retries),
            (2, 5_000_000_000, 9)
        );
    }

    #[test]
    fn image_defaults_fill_what_the_user_left_empty() {
        let user = Config {
            env: vec!["A=user".into(), "B=1".into()],
            labels: BTreeMap::from([("both".to_string(), "user".to_string())]),
            ..Config::default()
        };
        let merged = merge_image_config(user, &image(), &id());
        assert_eq!(merged.env, ["PATH=/bin", "A=user", "B=1"]);
        assert_eq!(merged.cmd.as_deref(), Some(&["sh".to_string()][..]));
        assert_eq!(merged.working_dir, "/srv");
        assert_eq!(merged.user, "daemon");
        assert_eq!(merged.hostname, "aaaaaaaaaaaa");
        assert_eq!(merged.labels["both"], "user");
        assert_eq!(merged.labels["from"], "image");
        assert_eq!(merged.stop_signal.as_deref(), Some("SIGQUIT"));
    }

    #[test]
    fn a_user_entrypoint_drops_the_image_cmd() {
        let user = Config {
            entrypoint: Some(vec!["echo".into()]),
            ..Config::default()
        };
        let merged = merge_image_config(user, &image(), &id());
        assert_eq!(merged.cmd, None);
        assert_eq!(command_line(&merged).unwrap(), ("echo".to_string(), vec![]));
    }

    #[test]
    fn a_user_cmd_replaces_the_image_cmd() {
        let user = Config {
            cmd: Some(vec!["echo".into(), "hi".into()]),
            ..Config::default()
        };
        let merged = merge_image_config(user, &image(), &id());
        assert_eq!(
            command_line(&merged).unwrap(),
            ("echo".to_string(), vec!["hi".to_string()])
        );
    }

    #[test]
    fn no_command_at_all_is_refused() {
        let user = Config {
            entrypoint: Some(vec![]),
            ..Config::default()
        };
        let merged = merge_image_config(user, &json!({}), &id());
        assert_eq!(
            command_line(&merged).unwrap_err().to_string(),
            "No command specified"
        );
    }
}
