//! `compose run`: a one-off container of a service, as Docker Compose v2 makes it. Its
//! dependencies are brought up first (unless `--no-deps`) and their `depends_on`
//! conditions waited for; the container is named `<project>-<service>-run-<slug>`, carries
//! `com.docker.compose.oneoff=True` and the slug, publishes no ports unless asked, and has
//! no restart policy.

use crate::model::ServiceConfig;
use crate::model::service::{
    ServicePortConfig, ServiceVolumeBind, ServiceVolumeConfig, VolumeType,
};
use crate::model::types::StringOrNumber;
use crate::transform::ports::parse_port_spec;
use crate::transform::volumes::parse_volume_spec;

use super::{Orchestrator, Progress, UpOptions};

/// `compose run`'s options, as its flags give them.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    pub service: String,
    /// Replaces the service's command when not empty.
    pub command: Vec<String>,
    /// `--entrypoint`, already split into words; it also clears the service's command
    /// when no command is given.
    pub entrypoint: Option<Vec<String>>,
    /// `-e KEY=VALUE`, or `-e KEY` for the value in berth's environment.
    pub env: Vec<String>,
    /// `-l KEY=VALUE`.
    pub labels: Vec<String>,
    pub name: Option<String>,
    pub user: Option<String>,
    pub workdir: Option<String>,
    pub no_deps: bool,
    /// `--service-ports`: the service's own published ports.
    pub service_ports: bool,
    /// `-p`: ports to publish instead.
    pub publish: Vec<String>,
    /// `-v`: mounts added to the service's.
    pub volumes: Vec<String>,
    pub tty: bool,
    pub interactive: bool,
    /// `--rm`: the engine removes the container when it exits.
    pub rm: bool,
    pub detach: bool,
    /// `--use-aliases`: the service's name and aliases on its networks.
    pub use_aliases: bool,
    pub remove_orphans: bool,
    /// `--cap-add` / `--cap-drop`: added to the service's, and taken out of the other list.
    pub cap_add: Vec<String>,
    pub cap_drop: Vec<String>,
}

impl Orchestrator<'_> {
    /// Brings the dependencies of the service up, then creates (but does not start) its
    /// one-off container, returning the container's id. Every option is checked before
    /// anything is created. Returns the id and the warnings to print.
    pub fn run_oneoff(
        &self,
        opts: &RunOptions,
        progress: Progress<'_>,
    ) -> Result<(String, Vec<String>), String> {
        let base = self
            .loaded
            .project
            .services
            .get(&opts.service)
            .ok_or_else(|| format!("no such service: {}", opts.service))?;
        let service = self.oneoff_service(base, opts)?;
        let labels = parse_labels(&opts.labels)?;
        let mut deps = if opts.no_deps {
            Default::default()
        } else {
            self.with_dependencies(std::slice::from_ref(&opts.service))?
        };
        deps.remove(&opts.service);
        let warnings = if deps.is_empty() {
            let warnings = self.check()?;
            // Networks and volumes still come first.
            let _lock = self.lock()?;
            self.ensure_networks(progress)?;
            self.ensure_volumes(progress)?;
            warnings
        } else {
            let up = UpOptions {
                remove_orphans: opts.remove_orphans,
                services: deps.into_iter().collect(),
                ..UpOptions::default()
            };
            let warnings = self.up(&up, progress)?;
            self.wait_dependencies(&service, None, progress)?;
            warnings
        };
        let image_id = self.image_of(&service, progress)?;
        let slug = berth_engine::container::id::new_id()
            .map_err(|e| format!("cannot draw a container id: {e}"))?;
        let name = match &opts.name {
            Some(n) => n.clone(),
            None => format!("{}-{}-run-{}", self.project(), service.name, &slug[..12]),
        };
        let oneoff = Oneoff {
            slug: &slug,
            use_aliases: opts.use_aliases,
            auto_remove: opts.rm,
            attached: !opts.detach,
            labels,
        };
        let id = self.create_container(&service, -1, &image_id, name, Some(&oneoff))?;
        Ok((id, warnings))
    }

    /// The service as `run` changes it: command, entrypoint, environment, user, working
    /// directory, ports, mounts, terminal; no restart policy and one replica.
    fn oneoff_service(
        &self,
        base: &ServiceConfig,
        opts: &RunOptions,
    ) -> Result<ServiceConfig, String> {
        let mut s = base.clone();
        s.tty = opts.tty;
        s.stdin_open = opts.interactive;
        s.container_name = String::new();
        if !opts.command.is_empty() {
            s.command.0 = Some(opts.command.clone());
        }
        if let Some(entrypoint) = &opts.entrypoint {
            s.entrypoint.0 = Some(entrypoint.clone());
            if opts.command.is_empty() {
                s.command.0 = Some(Vec::new());
            }
        }
        if !opts.cap_add.is_empty() {
            s.cap_add.extend(opts.cap_add.iter().cloned());
            s.cap_drop.retain(|c| !opts.cap_add.contains(c));
        }
        if !opts.cap_drop.is_empty() {
            s.cap_drop.extend(opts.cap_drop.iter().cloned());
            s.cap_add.retain(|c| !opts.cap_drop.contains(c));
        }
        if let Some(u) = &opts.user {
            s.user = u.clone();
        }
        if let Some(w) = &opts.workdir {
            s.working_dir = w.clone();
        }
        for e in &opts.env {
            match e.split_once('=') {
                Some((k, v)) => {
                    s.environment.0.insert(k.to_string(), Some(v.to_string()));
                }
                // `-e KEY`: the value from the environment, dropped when it has none.
                None => match self.loaded.environment.get(e) {
                    Some(v) => {
                        s.environment.0.insert(e.clone(), Some(v.clone()));
                    }
                    None => {
                        s.environment.0.remove(e);
                    }
                },
            }
        }
        if !opts.publish.is_empty() && opts.service_ports {
            return Err("--service-ports and --publish are incompatible".into());
        }
        if !opts.service_ports {
            s.ports.clear();
        }
        for p in &opts.publish {
            for m in parse_port_spec(p).map_err(|e| format!("--publish {p}: {e}"))? {
                s.ports.push(ServicePortConfig {
                    host_ip: m.host_ip,
                    target: u32::from(m.target),
                    published: StringOrNumber(m.published),
                    protocol: m.protocol,
                    mode: "ingress".into(),
                    ..ServicePortConfig::default()
                });
            }
        }
        for v in &opts.volumes {
            s.volumes.push(self.volume_flag(v)?);
        }
        s.restart = String::new();
        if let Some(d) = &mut s.deploy {
            d.restart_policy = None;
        }
        s.scale = Some(1);
        Ok(s)
    }

    /// A `-v` flag as a service mount: relative bind sources are relative to the project
    /// directory, as Compose resolves them.
    fn volume_flag(&self, spec: &str) -> Result<ServiceVolumeConfig, String> {
        let v = parse_volume_spec(spec).map_err(|e| format!("--volume {spec}: {e}"))?;
        let bind = v.kind == "bind";
        let source = if bind && !v.source.starts_with('/') {
            let relative = v.source.strip_prefix("./").unwrap_or(&v.source);
            self.loaded.working_dir.join(relative).display().to_string()
        } else {
            v.source.clone()
        };
        if !bind && !v.source.is_empty() && !self.loaded.project.volumes.contains_key(&v.source) {
            return Err(format!(
                "--volume {spec}: no volume {} in the project (declare it under the top-level `volumes:`)",
                v.source
            ));
        }
        Ok(ServiceVolumeConfig {
            kind: Some(if bind {
                VolumeType::Bind
            } else {
                VolumeType::Volume
            }),
            source,
            target: v.target,
            read_only: v.read_only,
            bind: v.bind.map(|b| ServiceVolumeBind {
                propagation: b.propagation.unwrap_or_default(),
                create_host_path: b.create_host_path,
                ..ServiceVolumeBind::default()
            }),
            ..ServiceVolumeConfig::default()
        })
    }

    /// The id of a service's image, pulled as its `pull_policy` says.
    fn image_of(&self, s: &ServiceConfig, progress: Progress<'_>) -> Result<String, String> {
        self.ensure_images_of(std::iter::once(s), None, progress)?
            .remove(&s.name)
            .ok_or_else(|| format!("service {}: no image", s.name))
    }
}

/// What makes a container a one-off.
pub(super) struct Oneoff<'a> {
    pub slug: &'a str,
    pub use_aliases: bool,
    pub auto_remove: bool,
    /// Not `-d`: the CLI attaches to it.
    pub attached: bool,
    pub labels: Vec<(String, String)>,
}

fn parse_labels(flags: &[String]) -> Result<Vec<(String, String)>, String> {
    flags
        .iter()
        .map(|l| {
            l.split_once('=')
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .ok_or_else(|| format!("--label {l}: a label must be set as KEY=VALUE"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_need_a_value() {
        assert_eq!(
            parse_labels(&["a=b=c".into()]).unwrap(),
            vec![("a".to_string(), "b=c".to_string())]
        );
        let e = parse_labels(&["a".into()]).unwrap_err();
        assert!(e.contains("KEY=VALUE"), "{e}");
    }
}
