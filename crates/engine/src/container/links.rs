//! Legacy links (`--link <container>[:alias]`), as Docker has them. On the default
//! `bridge` network, which has no embedded DNS server, a link writes the linked
//! container's address into the linking one's `/etc/hosts` (as `alias hostname name`) and
//! its exposed ports, name and environment into the linking one's environment
//! (`ALIAS_PORT_80_TCP_ADDR=…`), each time the linking container starts; the linked
//! container must be running then. `HostConfig.Links` holds them in Docker's inspect form,
//! `/<linked>:/<linking>/<alias>`. On a user-defined network a link is only a name: the
//! embedded DNS server answers the alias, for the linking container alone, with the linked
//! container's address there (`EndpointSettings.Links`, as given).

use super::config::{HostConfig, NetworkingConfig};
use super::record::ContainerRecord;
use super::{ContainerError, Containers};
use crate::network::Networks;
use crate::network::attach::mode_network;

/// `<container>[:alias]`, as given to `--link` (the alias defaults to the name).
pub fn parse(spec: &str) -> Result<(&str, &str), ContainerError> {
    let (name, alias) = spec.split_once(':').unwrap_or((spec, spec));
    let name = name.trim_start_matches('/');
    let alias = alias.trim_start_matches('/');
    if name.is_empty() || alias.is_empty() || alias.contains(['/', ':']) {
        return Err(ContainerError::Invalid(format!(
            "invalid --link {spec:?}: expected <container>[:alias]"
        )));
    }
    Ok((name, alias))
}

/// `create`'s part: the linked containers exist; on the default bridge the links are
/// returned as (linked container's name, alias) for `inspect_form`, on a user-defined
/// network they move to the first network's endpoint settings (Docker's CLI puts them
/// there too).
pub fn check_create(
    containers: &Containers,
    host: &mut HostConfig,
    networking: &mut NetworkingConfig,
) -> Result<Vec<(String, String)>, ContainerError> {
    let Some(given) = host.links.take().filter(|l| !l.is_empty()) else {
        return Ok(Vec::new());
    };
    let mode = host.network_mode.as_str();
    if mode == "host" {
        return Err(ContainerError::Invalid(
            "conflicting options: host type networking can't be used with links. This would result in undefined behavior".into(),
        ));
    }
    if mode.starts_with("container:") {
        return Err(ContainerError::Invalid(
            "conflicting options: container type network can't be used with links. This would result in undefined behavior".into(),
        ));
    }
    let Some(network) = mode_network(mode) else {
        return Err(ContainerError::Invalid(format!(
            "--link needs a bridge network, not --network {mode}"
        )));
    };
    let mut out = Vec::new();
    for spec in &given {
        let (name, alias) = parse(spec)?;
        let id = containers.lookup(name).map_err(|e| match e {
            ContainerError::NotFound(_) => ContainerError::Invalid(format!(
                "could not get container for {name}: No such container: {name}"
            )),
            e => e,
        })?;
        out.push((containers.record(&id)?.name, alias.to_string()));
    }
    if network == "bridge" {
        return Ok(out);
    }
    let settings = networking
        .endpoints_config
        .entry(network.to_string())
        .or_default();
    settings.links = Some(given);
    Ok(Vec::new())
}

/// `HostConfig.Links` as Docker's inspect shows them: `/<linked>:/<linking>/<alias>`.
pub fn inspect_form(links: &[(String, String)], linking: &str) -> Option<Vec<String>> {
    (!links.is_empty()).then(|| {
        links
            .iter()
            .map(|(name, alias)| format!("/{name}:/{linking}/{alias}"))
            .collect()
    })
}

/// (linked container's name, alias) of one `HostConfig.Links` entry.
fn from_inspect_form(entry: &str) -> Option<(&str, &str)> {
    let (name, path) = entry.split_once(':')?;
    Some((name.trim_start_matches('/'), path.rsplit('/').next()?))
}

/// What the default bridge's links give a starting container.
#[derive(Debug, Default)]
pub struct Linked {
    /// `/etc/hosts` lines (`address\tnames`).
    pub hosts: Vec<String>,
    /// Environment entries, before the container's own.
    pub env: Vec<String>,
}

/// Reads the linked containers of `record` at its start: each must be running on the
/// default bridge.
pub fn resolve(containers: &Containers, record: &ContainerRecord) -> Result<Linked, String> {
    let mut out = Linked::default();
    let links = record.host_config.links.as_deref().unwrap_or_default();
    if links.is_empty() {
        return Ok(out);
    }
    let networks = Networks::open(containers.root()).map_err(|e| e.to_string())?;
    let bridge = networks.find("bridge").map_err(|e| e.to_string())?;
    let endpoints = networks
        .read_endpoints(&bridge.network.id)
        .map_err(|e| e.to_string())?;
    for entry in links {
        let Some((name, alias)) = from_inspect_form(entry) else {
            continue;
        };
        let not_running = || {
            format!(
                "Cannot link to a non running container: /{name} AS /{}/{alias}",
                record.name
            )
        };
        // A removed container takes its links with it, as in Docker.
        let Ok(id) = containers.lookup(name) else {
            continue;
        };
        let child = containers.record(&id).map_err(|e| e.to_string())?;
        let ip = endpoints
            .endpoints
            .get(&id)
            .filter(|e| e.holder.alive())
            .and_then(|e| e.ipv4)
            .ok_or_else(not_running)?;
        let mut names = format!("{alias} {}", child.config.hostname);
        if alias != child.name {
            names.push(' ');
            names.push_str(&child.name);
        }
        out.hosts.push(format!("{ip}\t{names}"));
        let ports: Vec<String> = child
            .config
            .exposed_ports
            .iter()
            .flatten()
            .map(|(k, _)| k.clone())
            .collect();
        out.env.extend(env_vars(
            &format!("/{}/{alias}", record.name),
            &ip.to_string(),
            &ports,
            &child.config.env,
        ));
    }
    Ok(out)
}

/// Docker's link variables for the link `name` (`/<linking>/<alias>`) to a container at
/// `ip` exposing `ports` (`80/tcp`) with environment `env`.
pub fn env_vars(name: &str, ip: &str, ports: &[String], env: &[String]) -> Vec<String> {
    let alias = name
        .rsplit('/')
        .next()
        .unwrap_or(name)
        .to_ascii_uppercase()
        .replace('-', "_");
    let mut ports: Vec<(u16, String)> = ports
        .iter()
        .filter_map(|p| {
            let (num, proto) = p.split_once('/').unwrap_or((p, "tcp"));
            Some((num.parse().ok()?, proto.to_string()))
        })
        .collect();
    // TCP first, then by protocol, each by number (Docker's order).
    ports.sort_by(|a, b| (a.1 != "tcp", &a.1, a.0).cmp(&(b.1 != "tcp", &b.1, b.0)));
    // Docker's walk: a range's variables come after those of the port that ends it.
    let mut out = Vec::new();
    let (mut start, mut end) = (0usize, 0usize);
    for (i, (num, proto)) in ports.iter().enumerate() {
        if i == 0 {
            out.push(format!("{alias}_PORT={proto}://{ip}:{num}"));
        }
        let prefix = format!("{alias}_PORT_{num}_{}", proto.to_ascii_uppercase());
        out.push(format!("{prefix}={proto}://{ip}:{num}"));
        out.push(format!("{prefix}_ADDR={ip}"));
        out.push(format!("{prefix}_PORT={num}"));
        out.push(format!("{prefix}_PROTO={proto}"));
        let (end_num, end_proto) = &ports[end];
        if u32::from(*num) == u32::from(*end_num) + 1 && proto == end_proto {
            end = i;
            if i + 1 < ports.len() {
                continue;
            }
        }
        if end != start {
            let (first, first_proto) = &ports[start];
            let last = ports[end].0;
            let prefix = format!("{alias}_PORT_{first}_{}", first_proto.to_ascii_uppercase());
            out.push(format!("{prefix}_START={first_proto}://{ip}:{first}"));
            out.push(format!("{prefix}_PORT_START={first}"));
            out.push(format!("{prefix}_END={first_proto}://{ip}:{last}"));
            out.push(format!("{prefix}_PORT_END={last}"));
        }
        (start, end) = (i, i);
    }
    out.push(format!("{alias}_NAME={name}"));
    for entry in env {
        let Some((key, value)) = entry.split_once('=') else {
            continue;
        };
        if key != "HOME" && key != "PATH" {
            out.push(format!("{alias}_ENV_{key}={value}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_takes_the_alias_or_the_name() {
        assert_eq!(parse("db:mydb").unwrap(), ("db", "mydb"));
        assert_eq!(parse("db").unwrap(), ("db", "db"));
        assert_eq!(parse("/db").unwrap(), ("db", "db"));
        for bad in ["", ":x", "db:", "db:a/b"] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn inspect_form_round_trips() {
        let links = vec![("db".to_string(), "mydb".to_string())];
        let stored = inspect_form(&links, "web").unwrap();
        assert_eq!(stored, ["/db:/web/mydb"]);
        assert_eq!(from_inspect_form(&stored[0]), Some(("db", "mydb")));
        assert_eq!(inspect_form(&[], "web"), None);
    }

    #[test]
    fn env_vars_are_dockers() {
        let env = env_vars(
            "/web/my-db",
            "172.17.0.2",
            &["5432/tcp".into(), "53/udp".into()],
            &["PATH=/bin".into(), "PGDATA=/data".into(), "EMPTY=".into()],
        );
        assert_eq!(
            env,
            [
                "MY_DB_PORT=tcp://172.17.0.2:5432",
                "MY_DB_PORT_5432_TCP=tcp://172.17.0.2:5432",
                "MY_DB_PORT_5432_TCP_ADDR=172.17.0.2",
                "MY_DB_PORT_5432_TCP_PORT=5432",
                "MY_DB_PORT_5432_TCP_PROTO=tcp",
                "MY_DB_PORT_53_UDP=udp://172.17.0.2:53",
                "MY_DB_PORT_53_UDP_ADDR=172.17.0.2",
                "MY_DB_PORT_53_UDP_PORT=53",
                "MY_DB_PORT_53_UDP_PROTO=udp",
                "MY_DB_NAME=/web/my-db",
                "MY_DB_ENV_PGDATA=/data",
                "MY_DB_ENV_EMPTY=",
            ]
        );
    }

    #[test]
    fn consecutive_ports_make_a_range() {
        let env = env_vars(
            "/web/db",
            "10.0.0.2",
            &["81/tcp".into(), "80/tcp".into(), "82/tcp".into()],
            &[],
        );
        let ranges: Vec<&String> = env
            .iter()
            .filter(|e| e.contains("_START") || e.contains("_END"))
            .collect();
        assert_eq!(
            ranges,
            [
                "DB_PORT_80_TCP_START=tcp://10.0.0.2:80",
                "DB_PORT_80_TCP_PORT_START=80",
                "DB_PORT_80_TCP_END=tcp://10.0.0.2:82",
                "DB_PORT_80_TCP_PORT_END=82",
            ]
        );
        assert_eq!(env[0], "DB_PORT=tcp://10.0.0.2:80");
        assert_eq!(env.len(), 1 + 3 * 4 + 4 + 1);
        // A range broken by another port: its variables follow that port's.
        let env = env_vars(
            "/web/db",
            "10.0.0.2",
            &["80/tcp".into(), "81/tcp".into(), "90/tcp".into()],
            &[],
        );
        let at = |s: &str| env.iter().position(|e| e == s).unwrap();
        assert!(at("DB_PORT_90_TCP_PROTO=tcp") < at("DB_PORT_80_TCP_START=tcp://10.0.0.2:80"));
        assert!(env.contains(&"DB_PORT_80_TCP_PORT_END=81".to_string()));
    }
}
