//! What a service names of other services, resolved to their containers as Docker Compose
//! resolves them at create: `network_mode`, `pid` and `ipc` `service:<x>` share the
//! namespace of x's first container (`container:<id>`); `volumes_from` `<x>` or
//! `service:<x>` that container's volumes; `links` `<x>[:alias]` every container of x,
//! under the alias, `<x>-<n>` and `<project>-<x>-<n>`; `external_links` are given as is.
//! The loader has made each referenced service a dependency, so its containers exist.

use std::collections::BTreeMap;

use berth_engine::container::CreateRequest;

use crate::model::ServiceConfig;

use super::{Existing, Orchestrator};

/// The project's replicas by service, as `Orchestrator::existing` reads them (once per
/// container created or checked).
type Replicas = BTreeMap<String, Vec<Existing>>;

/// Whether `s` names another service's containers at all (only then are the project's
/// containers read).
fn has_references(s: &ServiceConfig) -> bool {
    [&s.network_mode, &s.pid, &s.ipc]
        .iter()
        .any(|m| m.starts_with("service:"))
        || !s.volumes_from.is_empty()
        || !s.links.is_empty()
        || !s.external_links.is_empty()
}

/// The first (lowest-numbered) container of `service`.
fn first_of<'r>(replicas: &'r Replicas, service: &str) -> Result<&'r Existing, String> {
    replicas
        .get(service)
        .and_then(|list| list.first())
        .ok_or_else(|| format!("service {service} has no container yet"))
}

/// `container:<id>` for `service:<x>`, the mode itself otherwise.
fn resolved_mode(
    replicas: &Replicas,
    mode: &str,
    key: &str,
    s: &ServiceConfig,
) -> Result<String, String> {
    match mode.strip_prefix("service:") {
        Some(x) => {
            let first =
                first_of(replicas, x).map_err(|e| format!("services.{}.{key}: {e}", s.name))?;
            Ok(format!("container:{}", first.id))
        }
        None => Ok(mode.to_string()),
    }
}

/// The namespace modes of `s` that name a service, with their keys.
fn shared_modes(s: &ServiceConfig) -> impl Iterator<Item = (&String, &'static str)> {
    [
        (&s.network_mode, "network_mode"),
        (&s.pid, "pid"),
        (&s.ipc, "ipc"),
    ]
    .into_iter()
    .filter(|(m, _)| m.starts_with("service:"))
}

impl Orchestrator<'_> {
    /// Fills the request's namespaces, `volumes_from` and links from the containers of
    /// the services `s` names.
    pub(super) fn resolve_references(
        &self,
        s: &ServiceConfig,
        number: i64,
        request: &mut CreateRequest,
    ) -> Result<(), String> {
        if !has_references(s) {
            return Ok(());
        }
        let replicas = self.existing()?;
        let h = &mut request.host_config;
        if s.network_mode.starts_with("service:") {
            h.network_mode = resolved_mode(&replicas, &s.network_mode, "network_mode", s)?;
            request.networking_config.endpoints_config.clear();
        }
        h.pid_mode = resolved_mode(&replicas, &s.pid, "pid", s)?;
        h.ipc_mode = resolved_mode(&replicas, &s.ipc, "ipc", s)?;
        let mut from = Vec::new();
        for v in &s.volumes_from {
            if let Some(container) = v.strip_prefix("container:") {
                from.push(container.to_string());
                continue;
            }
            let v = v.strip_prefix("service:").unwrap_or(v);
            let (service, mode) = match v.split_once(':') {
                Some((service, mode)) => (service, Some(mode)),
                None => (v, None),
            };
            let name = &first_of(&replicas, service)
                .map_err(|e| format!("services.{}.volumes_from: {e}", s.name))?
                .name;
            from.push(match mode {
                Some(mode) => format!("{name}:{mode}"),
                None => name.clone(),
            });
        }
        if !from.is_empty() {
            h.volumes_from = Some(from);
        }
        let mut links = Vec::new();
        for link in &s.links {
            let (service, alias) = link.split_once(':').unwrap_or((link, link));
            for e in replicas.get(service).into_iter().flatten() {
                links.push(format!("{}:{alias}", e.name));
                links.push(format!("{}:{service}-{number}", e.name));
                links.push(format!("{}:{}-{service}-{number}", e.name, self.project()));
            }
        }
        links.extend(s.external_links.iter().cloned());
        links.sort();
        links.dedup();
        if !links.is_empty() {
            // The engine moves them to the first network's endpoint, as Docker's CLI does.
            h.links = Some(links);
        }
        Ok(())
    }

    /// Whether a container of `s` shares a namespace with a container that is no longer
    /// the first of its service (it was recreated): then it is recreated too, since the
    /// namespace it joined is gone.
    pub(super) fn namespace_moved(&self, s: &ServiceConfig, id: &str) -> Result<bool, String> {
        if shared_modes(s).next().is_none() {
            return Ok(false);
        }
        let replicas = self.existing()?;
        let record = self.containers.record(id).map_err(|e| e.to_string())?;
        let h = &record.host_config;
        for (mode, key) in shared_modes(s) {
            let now = match key {
                "network_mode" => &h.network_mode,
                "pid" => &h.pid_mode,
                _ => &h.ipc_mode,
            };
            // A service with no container to join fails here, before anything is stopped.
            if resolved_mode(&replicas, mode, key, s)? != *now {
                return Ok(true);
            }
        }
        Ok(false)
    }
}
