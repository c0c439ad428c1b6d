//! What `docker compose config` leaves out: empty `dns` entries, and top-level
//! networks, volumes, secrets, configs and models that no service uses.

use std::collections::HashSet;

use crate::yaml::{Node, Value};

/// Drops empty strings from every `services.*.dns` and the key when nothing is left
/// (`dns: ${UNSET}` means "no DNS setting", not one empty server).
pub fn empty_dns(doc: &mut Node) {
    let Some(services) = doc.get_mut("services").and_then(Node::as_map_mut) else {
        return;
    };
    for (_, service) in services.iter_mut() {
        let Some(svc) = service.as_map_mut() else {
            continue;
        };
        let Some(dns) = svc.get_mut("dns") else {
            continue;
        };
        if let Some(items) = dns.as_seq_mut() {
            items.retain(|i| !i.as_str().is_some_and(str::is_empty) && !i.is_null());
        }
        let empty = match &dns.value {
            Value::Seq(items) => items.is_empty(),
            Value::String(s) => s.is_empty(),
            Value::Null => true,
            _ => false,
        };
        if empty && dns.tag.is_none() {
            svc.shift_remove("dns");
        }
    }
}

/// Removes the top-level resources no (enabled) service refers to.
pub fn unused_resources(tree: &mut Node) {
    let mut used: [HashSet<String>; 5] = Default::default();
    let [networks, volumes, secrets, configs, models] = &mut used;
    let keys = |n: Option<&Node>| -> Vec<String> {
        n.and_then(Node::as_map)
            .map(|m| m.keys().map(|k| k.name.clone()).collect())
            .unwrap_or_default()
    };
    let sources = |n: Option<&Node>| -> Vec<String> {
        n.and_then(Node::as_seq)
            .map(|items| {
                items
                    .iter()
                    .filter_map(|i| i.get("source").and_then(Node::as_str).map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    for service in tree
        .get("services")
        .and_then(Node::as_map)
        .into_iter()
        .flat_map(|m| m.values())
    {
        networks.extend(keys(service.get("networks")));
        for v in service
            .get("volumes")
            .and_then(Node::as_seq)
            .into_iter()
            .flatten()
        {
            if v.get("type").and_then(Node::as_str) == Some("volume")
                && let Some(src) = v
                    .get("source")
                    .and_then(Node::as_str)
                    .filter(|s| !s.is_empty())
            {
                volumes.insert(src.to_string());
            }
        }
        secrets.extend(sources(service.get("secrets")));
        secrets.extend(sources(service.get("build").and_then(|b| b.get("secrets"))));
        configs.extend(sources(service.get("configs")));
        models.extend(keys(service.get("models")));
    }
    let Some(map) = tree.as_map_mut() else { return };
    for (kind, used) in ["networks", "volumes", "secrets", "configs", "models"]
        .into_iter()
        .zip(used)
    {
        let Some(resources) = map.get_mut(kind) else {
            continue;
        };
        if let Some(r) = resources.as_map_mut() {
            r.retain(|k, _| used.contains(&k.name));
        }
        if resources.as_map().is_none_or(|m| m.is_empty()) {
            map.shift_remove(kind);
        }
    }
}
