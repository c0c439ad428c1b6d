//! The orchestrator: a loaded project made real with berth's engine, as Docker Compose v2
//! does it. `up` converges (networks, volumes, then containers wave by wave along
//! `depends_on`, the services of a wave in parallel), keeping containers whose
//! `config-hash` and image still match; `down` removes in reverse order. Objects carry
//! Compose's names and labels, so the two recognise each other's projects.

mod host;
pub mod labels;
mod references;
mod run;
mod secrets;
mod supported;
mod translate;
mod watch;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use berth_engine::container::{Attach, Container, ContainerError, Containers};
use berth_engine::image::Images;
use berth_engine::network::Networks;
use berth_engine::volume::{VolumeRequest, Volumes};

use crate::graph::DependencyGraph;
use crate::loader::Loaded;
use crate::model::ServiceConfig;
use crate::model::service::DependsOnCondition;

pub use run::RunOptions;

/// A progress line: the kind of object (`Network`, `Volume`, `Container`), its name,
/// and what happened (`Creating`, `Created`, `Started`…), Compose's words.
pub type Progress<'a> = &'a (dyn Fn(&str, &str, &str) + Sync);

#[derive(Clone, Debug, Default)]
pub struct UpOptions {
    pub force_recreate: bool,
    pub no_recreate: bool,
    pub no_start: bool,
    pub remove_orphans: bool,
    /// `--scale svc=N`.
    pub scale: BTreeMap<String, u32>,
    /// Stop timeout for recreated containers (`-t`).
    pub timeout: Option<Duration>,
    /// `--wait`: until every container runs (and is healthy when it has a check).
    pub wait: Option<Duration>,
    /// The services named on the command line (all when empty); their dependencies come
    /// along unless `no_deps`.
    pub services: Vec<String>,
    pub no_deps: bool,
    /// `--pull always|missing|never|policy`.
    pub pull: Option<String>,
}

#[derive(Clone, Debug, Default)]
pub struct DownOptions {
    pub volumes: bool,
    pub remove_orphans: bool,
    pub timeout: Option<Duration>,
    /// `--rmi all`: the services' images too. (`--rmi local` removes images Compose
    /// built without an `image:` name; berth builds none, so there are none.)
    pub remove_images: bool,
}

pub struct Orchestrator<'a> {
    root: PathBuf,
    berth: PathBuf,
    loaded: &'a Loaded,
    hashes: BTreeMap<String, String>,
    containers: Containers,
    images: Images,
    /// `--dry-run`: every step reported, nothing changed.
    dry_run: bool,
    /// `--parallel`: at most this many operations at once (0: no limit).
    limit: usize,
}

/// What one replica is now.
struct Existing {
    id: String,
    name: String,
    number: u32,
    hash: String,
    image: String,
    running: bool,
}

impl<'a> Orchestrator<'a> {
    /// `berth` is the binary the supervisors run.
    pub fn new(root: &Path, berth: &Path, loaded: &'a Loaded) -> Result<Self, String> {
        let hashes = loaded.service_hashes().map_err(|e| e.to_string())?;
        Ok(Orchestrator {
            root: root.to_path_buf(),
            berth: berth.to_path_buf(),
            loaded,
            hashes,
            containers: Containers::open(root).map_err(|e| e.to_string())?,
            images: Images::open(root).map_err(|e| e.to_string())?,
            dry_run: false,
            limit: 0,
        })
    }

    /// `--dry-run`: report what would be done, change nothing.
    pub fn set_dry_run(&mut self, on: bool) {
        self.dry_run = on;
    }

    /// `--parallel N`: at most `N` operations at once (0 or negative: no limit).
    pub fn set_parallel(&mut self, n: i64) {
        self.limit = usize::try_from(n).unwrap_or(0);
    }

    fn project(&self) -> &str {
        &self.loaded.project.name
    }

    /// Every check that can fail before anything exists: keys berth does not apply,
    /// builds, replica counts; returns the warnings to print.
    pub fn check(&self) -> Result<Vec<String>, String> {
        let mut warnings = Vec::new();
        for service in self.loaded.project.services.values() {
            warnings.extend(supported::check(service)?);
            platform_of(service)?;
            host::apply(
                service,
                &mut berth_engine::container::config::HostConfig::default(),
            )?;
            if let Some(d) = service
                .devices
                .iter()
                .find(|d| !Path::new(&d.source).exists())
            {
                return Err(format!(
                    "services.{}.devices: {} does not exist on this host",
                    service.name, d.source
                ));
            }
            warnings.extend(secrets::check(
                &self.loaded.project,
                &self.loaded.environment,
                service,
            )?);
            if service.image.is_empty() {
                return Err(format!(
                    "services.{}: it has no image and builds are not supported by berth yet (give it an image)",
                    service.name
                ));
            }
            if service.build.is_some() {
                return Err(format!(
                    "services.{}.build: builds are not supported by berth yet; build the image elsewhere and remove `build:`",
                    service.name
                ));
            }
            if !service.container_name.is_empty() && service.scale() > 1 {
                return Err(format!(
                    "services.{}: container_name {} cannot be used with {} replicas",
                    service.name,
                    service.container_name,
                    service.scale()
                ));
            }
        }
        Ok(warnings)
    }

    /// A flock of the project, held while converging: commands on one project take
    /// turns, different projects do not wait for each other.
    fn lock(&self) -> Result<std::fs::File, String> {
        let dir = self.root.join("compose-locks");
        std::fs::create_dir_all(&dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let path = dir.join(format!("{}.lock", self.project()));
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| format!("cannot open {}: {e}", path.display()))?;
        rustix::fs::flock(&file, rustix::fs::FlockOperation::LockExclusive)
            .map_err(|e| format!("cannot lock {}: {e}", path.display()))?;
        Ok(file)
    }

    fn existing(&self) -> Result<BTreeMap<String, Vec<Existing>>, String> {
        let mut out: BTreeMap<String, Vec<Existing>> = BTreeMap::new();
        for c in self.project_containers()? {
            if labels::is_oneoff(&c) {
                continue;
            }
            let l = &c.record.config.labels;
            let service = labels::service_of(&c).to_string();
            out.entry(service).or_default().push(Existing {
                id: c.record.id.clone(),
                name: c.record.name.clone(),
                number: l
                    .get(labels::NUMBER)
                    .and_then(|n| n.parse().ok())
                    .unwrap_or(0),
                hash: l.get(labels::CONFIG_HASH).cloned().unwrap_or_default(),
                image: l.get(labels::IMAGE).cloned().unwrap_or_default(),
                running: c.state.running,
            });
        }
        for list in out.values_mut() {
            list.sort_by_key(|e| e.number);
        }
        Ok(out)
    }

    /// The project's containers, by its label.
    pub fn project_containers(&self) -> Result<Vec<Container>, String> {
        let ids = self
            .containers
            .project_ids(self.project())
            .map_err(|e| e.to_string())?;
        let mut out = Vec::new();
        for id in ids {
            if let Ok(c) = self.containers.get(&id)
                && c.record
                    .config
                    .labels
                    .get(labels::PROJECT)
                    .map(String::as_str)
                    == Some(self.project())
            {
                out.push(c);
            }
        }
        Ok(out)
    }

    fn graph(&self) -> DependencyGraph {
        let services = &self.loaded.project.services;
        DependencyGraph::new(
            services.keys().cloned(),
            services
                .iter()
                .flat_map(|(name, s)| s.depends_on.keys().map(move |d| (name.clone(), d.clone()))),
        )
    }

    /// The image of every service, pulled when missing (`pull_policy`), before anything
    /// else is made. Returns the image ids.
    /// `services`' images; `pull` (`up --pull`) overrides their `pull_policy` unless it
    /// is `policy`.
    fn ensure_images_of<'s>(
        &self,
        services: impl Iterator<Item = &'s ServiceConfig>,
        pull: Option<&str>,
        progress: Progress<'_>,
    ) -> Result<BTreeMap<String, String>, String> {
        use berth_engine::image::pull_policy::{PullPolicy, age_of};
        let mut ids = BTreeMap::new();
        let mut registry = None;
        for s in services {
            let name = &s.name;
            let policy = match pull.filter(|p| *p != "policy") {
                Some(p) => PullPolicy::parse(p).map_err(|e| format!("--pull: {e}"))?,
                None => PullPolicy::parse(&s.pull_policy)
                    .map_err(|e| format!("services.{name}.pull_policy: {e}"))?,
            };
            let platform = platform_of(s)?;
            let mut local = self.images.resolve(&s.image).ok();
            // A local image of another platform than `platform:` asks for is not it.
            let other_platform = match (&platform, &local) {
                (Some(p), Some(r)) if r.os != p.os || r.architecture != p.architecture => {
                    local.take().map(|r| format!("{}/{}", r.os, r.architecture))
                }
                _ => None,
            };
            if policy.wants_pull(local.as_ref().and_then(|r| age_of(&r.loaded))) {
                let reference = berth_engine::reference::Reference::parse(&s.image)
                    .map_err(|e| format!("services.{name}.image: {e}"))?;
                if registry.is_none() {
                    registry = Some(
                        berth_engine::registry::Registry::from_environment()
                            .map_err(|e| e.to_string())?,
                    );
                }
                let Some(registry) = &registry else { continue };
                progress("Image", &s.image, "Pulling");
                if self.dry_run {
                    progress("Image", &s.image, "Pulled");
                    ids.insert(
                        name.clone(),
                        local.map(|r| r.id.to_string()).unwrap_or_default(),
                    );
                    continue;
                }
                let pulled = self
                    .images
                    .pull(registry, &reference, platform.as_ref(), &|_| {})
                    .map_err(|e| format!("service {name}: cannot pull {}: {e}", s.image))?;
                progress("Image", &s.image, "Pulled");
                ids.insert(name.clone(), pulled.id.to_string());
            } else {
                if let (Some(other), Some(p)) = (&other_platform, &platform) {
                    return Err(format!(
                        "services.{name}.platform: image {} is {other}, not {p} (pull_policy {:?} does not pull it)",
                        s.image, s.pull_policy
                    ));
                }
                let record = local.ok_or_else(|| {
                    format!(
                        "service {name}: no such image {} (pull_policy {:?})",
                        s.image,
                        if s.pull_policy.is_empty() {
                            "missing"
                        } else {
                            s.pull_policy.as_str()
                        }
                    )
                })?;
                ids.insert(name.clone(), record.id.to_string());
            }
        }
        Ok(ids)
    }

    /// A project network's or volume's name: its `name:`, else `<project>_<key>`.
    fn object_name(&self, key: &str, name: &str) -> String {
        if name.is_empty() {
            format!("{}_{key}", self.project())
        } else {
            name.to_string()
        }
    }

    /// A project network's or volume's labels: its own and Compose's (`kind` is
    /// `com.docker.compose.network` or `.volume`, with the key in the file).
    fn object_labels(
        &self,
        own: &BTreeMap<String, String>,
        kind: &str,
        key: &str,
    ) -> BTreeMap<String, String> {
        let mut labels = own.clone();
        labels.insert(kind.into(), key.to_string());
        labels.insert(labels::PROJECT.into(), self.project().to_string());
        labels.insert(labels::VERSION.into(), labels::COMPOSE_VERSION.into());
        labels
    }

    fn ensure_networks(&self, progress: Progress<'_>) -> Result<(), String> {
        let networks = Networks::open(&self.root).map_err(|e| e.to_string())?;
        let used: BTreeSet<&str> = self
            .loaded
            .project
            .services
            .values()
            .filter(|s| s.network_mode.is_empty())
            .flat_map(|s| s.networks.keys().map(String::as_str))
            .collect();
        for key in used {
            let Some(config) = self.loaded.project.networks.get(key) else {
                continue;
            };
            let name = self.object_name(key, &config.name);
            if networks.find(&name).is_ok() {
                continue;
            }
            if config.external.0 {
                return Err(format!(
                    "network {name} declared as external, but could not be found: create it with `berth network create {name}`"
                ));
            }
            if !config.driver.is_empty() && config.driver != "bridge" {
                return Err(format!(
                    "networks.{key}.driver: {} is not supported by berth (only bridge)",
                    config.driver
                ));
            }
            progress("Network", &name, "Creating");
            let labels = self.object_labels(&config.labels.0, labels::NETWORK, key);
            let bad = |what: &str, text: &str| {
                format!("networks.{key}.ipam.config: invalid {what} {text:?}")
            };
            let mut request = berth_engine::network::CreateRequest {
                name: name.clone(),
                internal: config.internal,
                ipv6: config.enable_ipv6.unwrap_or(false),
                attachable: config.attachable,
                labels,
                options: config.driver_opts.0.clone(),
                ..Default::default()
            };
            for c in &config.ipam.config {
                if !c.subnet.is_empty() {
                    request
                        .subnets
                        .push(c.subnet.parse().map_err(|_| bad("subnet", &c.subnet))?);
                }
                if !c.gateway.is_empty() {
                    request
                        .gateways
                        .push(c.gateway.parse().map_err(|_| bad("gateway", &c.gateway))?);
                }
                if !c.ip_range.is_empty() {
                    request.ip_ranges.push(
                        c.ip_range
                            .parse()
                            .map_err(|_| bad("ip_range", &c.ip_range))?,
                    );
                }
            }
            if !self.dry_run {
                networks
                    .create(&request)
                    .map_err(|e| format!("network {name}: {e}"))?;
            }
            progress("Network", &name, "Created");
        }
        Ok(())
    }

    fn ensure_volumes(&self, progress: Progress<'_>) -> Result<(), String> {
        let volumes = Volumes::open(&self.root).map_err(|e| e.to_string())?;
        for (key, config) in &self.loaded.project.volumes {
            let name = self.object_name(key, &config.name);
            if volumes.get(&name).is_ok() {
                continue;
            }
            if config.external.0 {
                return Err(format!(
                    "external volume \"{name}\" not found: create it with `berth volume create {name}`"
                ));
            }
            progress("Volume", &name, "Creating");
            let labels = self.object_labels(&config.labels.0, labels::VOLUME, key);
            if self.dry_run {
                progress("Volume", &name, "Created");
                continue;
            }
            volumes
                .create(VolumeRequest {
                    name: Some(name.clone()),
                    driver: (!config.driver.is_empty()).then(|| config.driver.clone()),
                    labels,
                    options: config.driver_opts.0.clone(),
                })
                .map_err(|e| format!("volume {name}: {e}"))?;
            progress("Volume", &name, "Created");
        }
        Ok(())
    }

    fn container_name(&self, s: &ServiceConfig, number: u32) -> String {
        if s.container_name.is_empty() {
            format!("{}-{}-{number}", self.project(), s.name)
        } else {
            s.container_name.clone()
        }
    }

    fn create(&self, s: &ServiceConfig, number: u32, image_id: &str) -> Result<String, String> {
        let name = self.container_name(s, number);
        self.create_container(s, i64::from(number), image_id, name, None)
    }

    /// Creates a container of `s`: replica `number`, or a one-off (`compose run`).
    fn create_container(
        &self,
        s: &ServiceConfig,
        number: i64,
        image_id: &str,
        container_name: String,
        oneoff: Option<&run::Oneoff<'_>>,
    ) -> Result<String, String> {
        if self.dry_run {
            return Ok(format!("dry-run-{container_name}"));
        }
        let files: Vec<String> = self
            .loaded
            .config_files
            .iter()
            .map(|p| p.display().to_string())
            .collect();
        let replica = translate::Replica {
            project: &self.loaded.project,
            service: s,
            number,
            container_name,
            config_hash: self
                .hashes
                .get(&s.name)
                .map(String::as_str)
                .unwrap_or_default(),
            working_dir: &self.loaded.working_dir.display().to_string(),
            config_files: &files.join(","),
            oneoff,
        };
        let mut request = translate::create_request(&replica)?;
        self.resolve_references(s, number.max(1), &mut request)?;
        request.mounts.extend(secrets::mounts(
            &self.root,
            &self.loaded.project,
            &self.loaded.environment,
            s,
        )?);
        request
            .config
            .labels
            .insert(labels::IMAGE.into(), image_id.to_string());
        let created = self
            .containers
            .create(&self.images, request)
            .map_err(|e| format!("service {}: {e}", s.name))?;
        Ok(created.record.id)
    }

    fn start(&self, id: &str, name: &str, progress: Progress<'_>) -> Result<(), String> {
        progress("Container", name, "Starting");
        if self.dry_run {
            progress("Container", name, "Started");
            return Ok(());
        }
        if let Err(e) = self.containers.start(&self.berth, id, Attach::None) {
            // Being started by someone else (an `up` killed after it had begun this
            // start): what converging wants; its supervisor says running in a moment.
            if e.message.ends_with("is already running") {
                let deadline = Instant::now() + Duration::from_secs(10);
                let what = format!("container {name} to run");
                let running = watch::until(&self.containers, id, Some(deadline), &what, |s| {
                    s.running.then_some(Ok(()))
                });
                if running.is_ok() {
                    progress("Container", name, "Running");
                    return Ok(());
                }
            }
            return Err(format!("container {name}: {}", e.message));
        }
        progress("Container", name, "Started");
        Ok(())
    }

    fn stop_and_remove(
        &self,
        id: &str,
        name: &str,
        timeout: Option<Duration>,
        progress: Progress<'_>,
    ) -> Result<(), String> {
        self.stop_one(id, name, timeout, progress)?;
        progress("Container", name, "Removing");
        if self.dry_run {
            progress("Container", name, "Removed");
            return Ok(());
        }
        match self.containers.remove(id, true, false) {
            // Gone meanwhile (a `run --rm` one-off removed by its own supervisor).
            Ok(()) | Err(ContainerError::NotFound(_)) => {}
            Err(e) => return Err(format!("container {name}: {e}")),
        }
        progress("Container", name, "Removed");
        Ok(())
    }

    /// `up`: converge the project, then (with `wait`) wait for it to be running.
    pub fn up(&self, opts: &UpOptions, progress: Progress<'_>) -> Result<Vec<String>, String> {
        let mut warnings = self.check()?;
        let waves = self.graph().start_order().map_err(|e| e.to_string())?;
        let selected = if opts.no_deps && !opts.services.is_empty() {
            for name in &opts.services {
                if !self.loaded.project.services.contains_key(name) {
                    return Err(format!("no such service: {name}"));
                }
            }
            opts.services.iter().cloned().collect()
        } else {
            self.with_dependencies(&opts.services)?
        };
        let image_ids = self.ensure_images_of(
            self.loaded
                .project
                .services
                .values()
                .filter(|s| selected.contains(&s.name)),
            opts.pull.as_deref(),
            progress,
        )?;
        let _lock = self.lock()?;
        self.ensure_networks(progress)?;
        self.ensure_volumes(progress)?;
        let existing = self.existing()?;
        let services = &self.loaded.project.services;
        let orphans: Vec<&Existing> = existing
            .iter()
            .filter(|(s, _)| !services.contains_key(*s))
            .flat_map(|(_, list)| list)
            .collect();
        if !orphans.is_empty() {
            if opts.remove_orphans {
                for o in &orphans {
                    self.stop_and_remove(&o.id, &o.name, opts.timeout, progress)?;
                }
            } else {
                let names: Vec<String> = orphans.iter().map(|o| o.name.clone()).collect();
                warnings.push(orphan_warning(&names));
            }
        }
        let recreated: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());
        for wave in &waves {
            let wave: Vec<&ServiceConfig> = wave
                .iter()
                .filter(|name| selected.contains(*name))
                .filter_map(|name| services.get(name))
                .collect();
            let converge = |s: &&ServiceConfig| {
                let existing = existing.get(&s.name).map(Vec::as_slice).unwrap_or_default();
                let image_id = image_ids.get(&s.name).cloned().unwrap_or_default();
                self.converge_service(s, existing, &image_id, opts, &recreated, progress)
            };
            for r in parallel(&wave, self.limit, &converge) {
                r?;
            }
        }
        if let Some(limit) = opts.wait {
            self.wait_running(limit, progress)?;
        }
        Ok(warnings)
    }

    /// `names` and everything they depend on, transitively (every service when empty).
    pub fn with_dependencies(&self, names: &[String]) -> Result<BTreeSet<String>, String> {
        let services = &self.loaded.project.services;
        if names.is_empty() {
            return Ok(services.keys().cloned().collect());
        }
        let mut out = BTreeSet::new();
        let mut todo: Vec<String> = names.to_vec();
        while let Some(name) = todo.pop() {
            let service = services
                .get(&name)
                .ok_or_else(|| format!("no such service: {name}"))?;
            if out.insert(name.clone()) {
                todo.extend(service.depends_on.keys().cloned());
            }
        }
        Ok(out)
    }

    fn converge_service(
        &self,
        s: &ServiceConfig,
        existing: &[Existing],
        image_id: &str,
        opts: &UpOptions,
        recreated: &Mutex<BTreeSet<String>>,
        progress: Progress<'_>,
    ) -> Result<(), String> {
        let wanted = opts
            .scale
            .get(&s.name)
            .copied()
            .unwrap_or_else(|| s.scale().max(0) as u32);
        if !opts.no_start {
            // With --no-deps, only the named services' conditions are waited for.
            let only =
                (opts.no_deps && !opts.services.is_empty()).then_some(opts.services.as_slice());
            self.wait_dependencies(s, only, progress)?;
        }
        let hash = self.hashes.get(&s.name).cloned().unwrap_or_default();
        // Dependencies recreated with `restart: true` restart this service's containers.
        let restart_for_deps = {
            let done = recreated.lock().map(|r| r.clone()).unwrap_or_default();
            s.depends_on
                .iter()
                .any(|(dep, d)| d.restart && done.contains(dep))
        };
        // Scale down: the highest numbers go.
        for e in existing
            .iter()
            .rev()
            .take(existing.len().saturating_sub(wanted as usize))
        {
            self.stop_and_remove(&e.id, &e.name, opts.timeout, progress)?;
        }
        let kept = &existing[..existing.len().min(wanted as usize)];
        let mut changed = false;
        for e in kept {
            let name = &e.name;
            let diverged = e.hash != hash
                || (!e.image.is_empty() && e.image != image_id)
                || (!self.dry_run && self.namespace_moved(s, &e.id)?);
            if opts.force_recreate || (diverged && !opts.no_recreate) {
                progress("Container", name, "Recreate");
                self.stop_and_remove(&e.id, name, opts.timeout, progress)?;
                let id = self.create(s, e.number, image_id)?;
                progress("Container", name, "Recreated");
                changed = true;
                if !opts.no_start {
                    self.start(&id, name, progress)?;
                }
            } else if !opts.no_start {
                if restart_for_deps && e.running {
                    progress("Container", name, "Restarting");
                    if !self.dry_run {
                        let record = self.containers.record(&e.id).map_err(|e| e.to_string())?;
                        let timeout = Some(opts.timeout.unwrap_or(Duration::from_secs(
                            record.config.stop_timeout.unwrap_or(10).max(0) as u64,
                        )));
                        self.containers
                            .stop(&e.id, rustix::process::Signal::TERM, timeout)
                            .map_err(|err| format!("container {name}: {err}"))?;
                    }
                    self.start(&e.id, name, progress)?;
                } else if e.running {
                    progress("Container", name, "Running");
                } else {
                    self.start(&e.id, name, progress)?;
                }
            }
        }
        let mut next = kept.iter().map(|e| e.number).max().unwrap_or(0);
        for _ in kept.len()..wanted as usize {
            next += 1;
            let name = self.container_name(s, next);
            progress("Container", &name, "Creating");
            let id = self.create(s, next, image_id)?;
            progress("Container", &name, "Created");
            changed = true;
            if !opts.no_start {
                self.start(&id, &name, progress)?;
            }
        }
        if changed && let Ok(mut r) = recreated.lock() {
            r.insert(s.name.clone());
        }
        Ok(())
    }

    /// Waits for the conditions of `s`'s `depends_on` (the dependencies started in an
    /// earlier wave).
    fn wait_dependencies(
        &self,
        s: &ServiceConfig,
        only: Option<&[String]>,
        progress: Progress<'_>,
    ) -> Result<(), String> {
        if self.dry_run {
            return Ok(());
        }
        for (dep, d) in &s.depends_on {
            if d.condition == DependsOnCondition::ServiceStarted
                || only.is_some_and(|o| !o.contains(dep))
            {
                continue;
            }
            let Some(dep_service) = self.loaded.project.services.get(dep) else {
                if d.required {
                    return Err(format!(
                        "service {} depends on {dep}, which is not in the project",
                        s.name
                    ));
                }
                continue;
            };
            let containers: Vec<Container> = self
                .project_containers()?
                .into_iter()
                .filter(|c| labels::service_of(c) == dep_service.name && !labels::is_oneoff(c))
                .collect();
            for c in containers {
                let name = c.record.name.clone();
                progress("Container", &name, "Waiting");
                match d.condition {
                    DependsOnCondition::ServiceHealthy => {
                        self.wait_healthy(&c.record.id, &name, dep)?
                    }
                    DependsOnCondition::ServiceCompletedSuccessfully => {
                        let code = self
                            .containers
                            .wait(&c.record.id)
                            .map_err(|e| e.to_string())?;
                        if code != 0 {
                            return Err(format!(
                                "service {dep} didn't complete successfully: exit {code} (service {} depends on it with condition service_completed_successfully)",
                                s.name
                            ));
                        }
                        progress("Container", &name, "Exited");
                        continue;
                    }
                    DependsOnCondition::ServiceStarted => {}
                }
                progress("Container", &name, "Healthy");
            }
        }
        Ok(())
    }

    /// Until the container's health check passes; an unhealthy or stopped container
    /// fails it, as Compose's `dependency failed to start` does.
    fn wait_healthy(&self, id: &str, name: &str, service: &str) -> Result<(), String> {
        let record = self.containers.record(id).map_err(|e| e.to_string())?;
        let has_check = record
            .config
            .healthcheck
            .as_ref()
            .is_some_and(|h| !h.test.is_empty() && h.test[0] != "NONE");
        if !has_check {
            return Err(format!(
                "dependency failed to start: container {name} has no healthcheck configured (service {service} is depended on with condition service_healthy)"
            ));
        }
        watch::until(
            &self.containers,
            id,
            None,
            &format!("container {name}"),
            |state| match state.health.as_ref().map(|h| h.status.as_str()) {
                Some("healthy") => Some(Ok(())),
                Some("unhealthy") => Some(Err(format!(
                    "dependency failed to start: container {name} is unhealthy"
                ))),
                _ if !state.running => Some(Err(format!(
                    "dependency failed to start: container {name} exited ({})",
                    state.exit_code
                ))),
                _ => None,
            },
        )
    }

    fn wait_running(&self, limit: Duration, progress: Progress<'_>) -> Result<(), String> {
        if self.dry_run {
            return Ok(());
        }
        let deadline = Instant::now() + limit;
        for c in self.project_containers()? {
            if labels::is_oneoff(&c) {
                continue;
            }
            let name = c.record.name.clone();
            let has_check = c
                .record
                .config
                .healthcheck
                .as_ref()
                .is_some_and(|h| !h.test.is_empty() && h.test[0] != "NONE");
            watch::until(
                &self.containers,
                &c.record.id,
                Some(deadline),
                &format!("container {name}"),
                |state| {
                    let health = state.health.as_ref().map(|h| h.status.clone());
                    if state.running && (!has_check || health.as_deref() == Some("healthy")) {
                        progress(
                            "Container",
                            &name,
                            if has_check { "Healthy" } else { "Running" },
                        );
                        return Some(Ok(()));
                    }
                    if !state.running || health.as_deref() == Some("unhealthy") {
                        return Some(Err(format!(
                            "container {name} is {}",
                            if state.running {
                                "unhealthy"
                            } else {
                                "not running"
                            }
                        )));
                    }
                    None
                },
            )?;
        }
        Ok(())
    }

    /// `down`: containers in reverse dependency order (a wave in parallel), then the
    /// project's networks, and with `volumes` its named volumes.
    pub fn down(&self, opts: &DownOptions, progress: Progress<'_>) -> Result<Vec<String>, String> {
        let mut warnings = Vec::new();
        let mut failures: Vec<String> = Vec::new();
        let _lock = self.lock()?;
        if !opts.remove_orphans {
            let orphans = self.orphans()?;
            if !orphans.is_empty() {
                warnings.push(orphan_warning(&orphans));
            }
        }
        let remove =
            |(id, name): &(String, String)| self.stop_and_remove(id, name, opts.timeout, progress);
        // One-off containers (`compose run`) go first: nothing depends on them.
        let oneoffs: Vec<(String, String)> = self
            .project_containers()?
            .into_iter()
            .filter(labels::is_oneoff)
            .map(|c| (c.record.id, c.record.name))
            .collect();
        failures.extend(
            parallel(&oneoffs, self.limit, &remove)
                .into_iter()
                .filter_map(Result::err),
        );
        for wave in self.by_wave(&[], false, opts.remove_orphans)? {
            // Everything else is still removed; the failures are reported at the end.
            failures.extend(
                parallel(&wave, self.limit, &remove)
                    .into_iter()
                    .filter_map(Result::err),
            );
        }
        let content = secrets::content_dir(&self.root, self.project());
        if !self.dry_run
            && failures.is_empty()
            && let Err(e) = std::fs::remove_dir_all(&content)
            && e.kind() != std::io::ErrorKind::NotFound
        {
            failures.push(format!("cannot remove {}: {e}", content.display()));
        }
        let networks = Networks::open(&self.root).map_err(|e| e.to_string())?;
        for file in networks.list().map_err(|e| e.to_string())? {
            let n = &file.network;
            if n.labels.get(labels::PROJECT).map(String::as_str) != Some(self.project()) {
                continue;
            }
            progress("Network", &n.name, "Removing");
            if self.dry_run {
                progress("Network", &n.name, "Removed");
                continue;
            }
            match networks.remove(&n.id) {
                Ok(_) => progress("Network", &n.name, "Removed"),
                Err(e) => failures.push(format!("network {}: {e}", n.name)),
            }
        }
        if opts.volumes {
            let volumes = Volumes::open(&self.root).map_err(|e| e.to_string())?;
            let lock = volumes.lock_exclusive().map_err(|e| e.to_string())?;
            let users = self.containers.volume_users().map_err(|e| e.to_string())?;
            for v in volumes.list().map_err(|e| e.to_string())? {
                let project = v.labels.as_ref().and_then(|l| l.get(labels::PROJECT));
                if project.map(String::as_str) != Some(self.project()) {
                    continue;
                }
                progress("Volume", &v.name, "Removing");
                if self.dry_run {
                    progress("Volume", &v.name, "Removed");
                    continue;
                }
                let users = users.get(&v.name).cloned().unwrap_or_default();
                match volumes.remove(&lock, &v.name, users) {
                    Ok(()) => progress("Volume", &v.name, "Removed"),
                    Err(e) => failures.push(format!("volume {}: {e}", v.name)),
                }
            }
        }
        if opts.remove_images {
            failures.extend(self.remove_images(progress));
        }
        if !failures.is_empty() {
            return Err(failures.join("; "));
        }
        Ok(warnings)
    }

    /// `down --rmi all`: each service image once; one already gone is no failure.
    fn remove_images(&self, progress: Progress<'_>) -> Vec<String> {
        let images: BTreeSet<&str> = self
            .loaded
            .project
            .services
            .values()
            .map(|s| s.image.as_str())
            .filter(|i| !i.is_empty())
            .collect();
        let mut failures = Vec::new();
        for image in images {
            progress("Image", image, "Removing");
            if self.dry_run {
                progress("Image", image, "Removed");
                continue;
            }
            match self.images.remove(image, false) {
                Ok(_) => progress("Image", image, "Removed"),
                Err(berth_engine::image::ImageError::NotFound(_)) => {
                    progress("Image", image, "Warning: No resource found to remove")
                }
                Err(e) => failures.push(format!("image {image}: {e}")),
            }
        }
        failures
    }
}

/// The lifecycle commands over the project's containers: `stop`, `start`, `restart`,
/// `kill` and `rm`, in dependency order (reverse for stopping), a wave in parallel.
impl Orchestrator<'_> {
    /// The project's containers of `services` (all when empty), by wave: dependencies
    /// first when `forward`, dependents first otherwise.
    fn by_wave(
        &self,
        services: &[String],
        forward: bool,
        orphans: bool,
    ) -> Result<Vec<Vec<(String, String)>>, String> {
        let existing = self.existing()?;
        let graph = self.graph();
        let mut waves = if forward {
            graph.start_order()
        } else {
            graph.stop_order()
        }
        .map_err(|e| e.to_string())?;
        // Orphans (services no longer in the file) go with the first stop wave.
        if orphans && !forward {
            let known = &self.loaded.project.services;
            waves.insert(
                0,
                existing
                    .keys()
                    .filter(|s| !known.contains_key(*s))
                    .cloned()
                    .collect(),
            );
        }
        let mut out = Vec::new();
        for wave in waves {
            let ids: Vec<(String, String)> = wave
                .iter()
                .filter(|s| services.is_empty() || services.contains(s))
                .flat_map(|s| existing.get(s).into_iter().flatten())
                .map(|e| (e.id.clone(), e.name.clone()))
                .collect();
            if !ids.is_empty() {
                out.push(ids);
            }
        }
        Ok(out)
    }

    /// The names of the project's containers whose service is no longer in the file.
    fn orphans(&self) -> Result<Vec<String>, String> {
        let services = &self.loaded.project.services;
        Ok(self
            .existing()?
            .iter()
            .filter(|(s, _)| !services.contains_key(*s))
            .flat_map(|(_, list)| list.iter().map(|e| e.name.clone()))
            .collect())
    }

    fn each_wave(
        &self,
        waves: &[Vec<(String, String)>],
        f: &(dyn Fn(&str, &str) -> Result<(), String> + Sync),
    ) -> Result<(), String> {
        for wave in waves {
            for r in parallel(wave, self.limit, &|(id, name)| f(id, name)) {
                r?;
            }
        }
        Ok(())
    }

    fn stop_one(
        &self,
        id: &str,
        name: &str,
        timeout: Option<Duration>,
        progress: Progress<'_>,
    ) -> Result<(), String> {
        let record = match self.containers.record(id) {
            Ok(r) => r,
            // Removed meanwhile: nothing to stop.
            Err(ContainerError::NotFound(_)) => return Ok(()),
            Err(e) => return Err(e.to_string()),
        };
        if !self
            .containers
            .state(id)
            .map(|s| s.running)
            .unwrap_or(false)
        {
            return Ok(());
        }
        progress("Container", name, "Stopping");
        if self.dry_run {
            progress("Container", name, "Stopped");
            return Ok(());
        }
        let signal = record
            .config
            .stop_signal
            .as_deref()
            .and_then(berth_engine::container::signal::parse)
            .unwrap_or(rustix::process::Signal::TERM);
        let timeout = timeout
            .or_else(|| {
                record
                    .config
                    .stop_timeout
                    .filter(|t| *t >= 0)
                    .map(|t| Duration::from_secs(t as u64))
            })
            .unwrap_or(Duration::from_secs(10));
        match self.containers.stop(id, signal, Some(timeout)) {
            Ok(()) | Err(ContainerError::NotFound(_)) => {}
            Err(e) => return Err(format!("container {name}: {e}")),
        }
        progress("Container", name, "Stopped");
        Ok(())
    }

    /// `stop`: dependents first.
    pub fn stop(
        &self,
        services: &[String],
        timeout: Option<Duration>,
        progress: Progress<'_>,
    ) -> Result<(), String> {
        let waves = self.by_wave(services, false, true)?;
        self.each_wave(&waves, &|id, name| {
            self.stop_one(id, name, timeout, progress)
        })
    }

    /// `start`: dependencies first; containers that run already are left alone.
    pub fn start_existing(
        &self,
        services: &[String],
        progress: Progress<'_>,
    ) -> Result<(), String> {
        let waves = self.by_wave(services, true, true)?;
        self.each_wave(&waves, &|id, name| {
            if self
                .containers
                .state(id)
                .map(|s| s.running)
                .unwrap_or(false)
            {
                return Ok(());
            }
            self.start(id, name, progress)
        })
    }

    /// `restart`: stopped then started again, in dependency order.
    pub fn restart(
        &self,
        services: &[String],
        timeout: Option<Duration>,
        progress: Progress<'_>,
    ) -> Result<(), String> {
        self.stop(services, timeout, progress)?;
        let waves = self.by_wave(services, true, true)?;
        self.each_wave(&waves, &|id, name| {
            progress("Container", name, "Restarting");
            self.start(id, name, progress)
        })
    }

    /// `kill -s SIGNAL`: every running container at once (orphans' too with `orphans`).
    pub fn kill(
        &self,
        services: &[String],
        signal: rustix::process::Signal,
        orphans: bool,
        progress: Progress<'_>,
    ) -> Result<(), String> {
        let all: Vec<(String, String)> = self
            .by_wave(services, false, orphans)?
            .into_iter()
            .flatten()
            .collect();
        self.each_wave(&[all], &|id, name| {
            if !self
                .containers
                .state(id)
                .map(|s| s.running)
                .unwrap_or(false)
            {
                return Ok(());
            }
            progress("Container", name, "Killing");
            if !self.dry_run {
                self.containers
                    .kill(id, signal)
                    .map_err(|e| format!("container {name}: {e}"))?;
            }
            progress("Container", name, "Killed");
            Ok(())
        })
    }

    /// `rm`: stopped containers (running ones too with `stop`), with their anonymous
    /// volumes when `volumes`. Returns the names removed.
    pub fn rm(
        &self,
        services: &[String],
        stop: bool,
        volumes: bool,
        progress: Progress<'_>,
    ) -> Result<Vec<String>, String> {
        if stop {
            self.stop(services, None, progress)?;
        }
        let all: Vec<(String, String)> = self
            .by_wave(services, false, true)?
            .into_iter()
            .flatten()
            .collect();
        let removed = Mutex::new(Vec::new());
        self.each_wave(&[all], &|id, name| {
            if self
                .containers
                .state(id)
                .map(|s| s.running)
                .unwrap_or(false)
            {
                return Ok(());
            }
            progress("Container", name, "Removing");
            if !self.dry_run {
                self.containers
                    .remove(id, false, volumes)
                    .map_err(|e| format!("container {name}: {e}"))?;
            }
            progress("Container", name, "Removed");
            if let Ok(mut r) = removed.lock() {
                r.push(name.to_string());
            }
            Ok(())
        })?;
        Ok(removed.into_inner().unwrap_or_default())
    }
}

/// The service's `platform:`, parsed.
fn platform_of(s: &ServiceConfig) -> Result<Option<berth_engine::registry::Platform>, String> {
    if s.platform.is_empty() {
        return Ok(None);
    }
    berth_engine::registry::Platform::parse(&s.platform)
        .map(Some)
        .map_err(|e| format!("services.{}.platform: {e}", s.name))
}

/// Compose's warning about containers of services no longer in the file.
fn orphan_warning(names: &[String]) -> String {
    format!(
        "Found orphan containers ([{}]) for this project. If you removed or renamed this service in your compose file, you can run this command with the --remove-orphans flag to clean it up.",
        names.join(" ")
    )
}

/// Runs `f` on every item at once, a thread each, or at most `limit` at a time when it
/// is not 0 (`--parallel`); the results in the items' order.
fn parallel<T: Sync>(
    items: &[T],
    limit: usize,
    f: &(dyn Fn(&T) -> Result<(), String> + Sync),
) -> Vec<Result<(), String>> {
    let size = if limit == 0 {
        items.len().max(1)
    } else {
        limit
    };
    let mut out = Vec::with_capacity(items.len());
    for chunk in items.chunks(size) {
        std::thread::scope(|scope| {
            let handles: Vec<_> = chunk
                .iter()
                .map(|item| scope.spawn(move || f(item)))
                .collect();
            out.extend(handles.into_iter().map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err("a parallel operation panicked".into()))
            }));
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::parallel;

    #[test]
    fn parallel_keeps_order_and_honours_the_limit() {
        let running = AtomicUsize::new(0);
        let peak = AtomicUsize::new(0);
        let items: Vec<u32> = (0..7).collect();
        let f = |n: &u32| {
            let now = running.fetch_add(1, Ordering::SeqCst) + 1;
            peak.fetch_max(now, Ordering::SeqCst);
            std::thread::yield_now();
            running.fetch_sub(1, Ordering::SeqCst);
            if n.is_multiple_of(2) {
                Ok(())
            } else {
                Err(n.to_string())
            }
        };
        let results = parallel(&items, 2, &f);
        assert!(peak.load(Ordering::SeqCst) <= 2);
        let errors: Vec<String> = results.into_iter().filter_map(Result::err).collect();
        assert_eq!(errors, ["1", "3", "5"]);
        assert_eq!(parallel(&items, 0, &f).len(), 7);
    }
}
