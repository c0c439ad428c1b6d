//! `inspect` of containers: Docker's JSON shape (`docker inspect <container>`).

use berth_engine::container::{Container, Containers};
use serde_json::{Value, json};

/// The container as `docker inspect` prints it.
pub fn container_json(containers: &Containers, c: &Container) -> Value {
    let r = &c.record;
    let s = &c.state;
    let dir = containers.dir(&r.id);
    let store = berth_engine::store::Store::open(containers.root()).ok();
    let lowers: Vec<String> = r
        .layers
        .iter()
        .rev()
        .filter_map(|chain| {
            let digest = berth_engine::Digest::parse(chain).ok()?;
            Some(store.as_ref()?.layer_dir(&digest).display().to_string())
        })
        .collect();
    let log_path = if r.host_config.log_config.kind == "json-file" {
        dir.join(format!("{}-json.log", r.id)).display().to_string()
    } else {
        String::new()
    };
    let mut value = json!({
        "Id": r.id,
        "Created": r.created,
        "Path": r.path,
        "Args": r.args,
        "State": {
            "Status": s.status.as_str(),
            "Running": s.running,
            "Paused": s.paused,
            "Restarting": s.restarting,
            "OOMKilled": s.oom_killed,
            "Dead": s.dead,
            "Pid": s.pid,
            "ExitCode": s.exit_code,
            "Error": s.error,
            "StartedAt": s.started_at,
            "FinishedAt": s.finished_at,
        },
        "Image": r.image,
        "ResolvConfPath": dir.join("resolv.conf"),
        "HostnamePath": dir.join("hostname"),
        "HostsPath": dir.join("hosts"),
        "LogPath": log_path,
        "Name": format!("/{}", r.name),
        "RestartCount": s.restart_count,
        "Driver": "overlay2",
        "Platform": "linux",
        "MountLabel": "",
        "ProcessLabel": "",
        "AppArmorProfile": "",
        "ExecIDs": Value::Null,
        "HostConfig": r.host_config,
        "GraphDriver": {
            "Data": {
                "LowerDir": lowers.join(":"),
                "MergedDir": dir.join("rootfs"),
                "UpperDir": dir.join("upper"),
                "WorkDir": dir.join("work"),
            },
            "Name": "overlay2",
        },
        "Mounts": r.mount_points.iter().map(|m| m.inspect_json()).collect::<Vec<_>>(),
        "Config": r.config,
        "NetworkSettings": network_settings(containers, c),
    });
    // Docker prints `State.Health` only for a container with a health check.
    if let Some(health) = &s.health {
        value["State"]["Health"] = json!(health);
    }
    value
}

/// Docker's `NetworkSettings`: per network the settings asked for and, while the
/// container runs, its endpoint; the top-level address fields mirror the default
/// `bridge` network's endpoint, as Docker's do.
fn network_settings(containers: &Containers, c: &Container) -> Value {
    use berth_engine::network::attach;
    let r = &c.record;
    let running = c.state.running;
    let networks = berth_engine::network::Networks::open(containers.root()).ok();
    let mut per_network = serde_json::Map::new();
    let mut top = json!({
        "EndpointID": "",
        "Gateway": "",
        "GlobalIPv6Address": "",
        "GlobalIPv6PrefixLen": 0,
        "IPAddress": "",
        "IPPrefixLen": 0,
        "IPv6Gateway": "",
        "MacAddress": "",
    });
    let wanted = if attach::mode_network(&r.host_config.network_mode).is_some() {
        attach::container_networks(r)
    } else {
        vec![(r.host_config.network_mode.clone(), Default::default())]
    };
    for (name, settings) in wanted {
        let file = networks.as_ref().and_then(|n| n.find(&name).ok());
        let endpoint = match (&networks, &file) {
            (Some(n), Some(f)) if running => n
                .read_endpoints(&f.network.id)
                .ok()
                .and_then(|e| e.endpoints.get(&r.id).cloned())
                .filter(|e| e.holder.alive()),
            _ => None,
        };
        let network = file.as_ref().map(|f| &f.network);
        let gateway = |v4: bool| {
            network
                .and_then(|n| if v4 { n.ipv4() } else { n.ipv6() })
                .and_then(|c| c.gateway)
                .map(|g| g.to_string())
                .unwrap_or_default()
        };
        let mut entry = json!({
            "IPAMConfig": settings.ipam_config,
            "Links": settings.links,
            "Aliases": settings.aliases,
            "MacAddress": "",
            "NetworkID": network.map(|n| n.id.clone()).unwrap_or_default(),
            "EndpointID": "",
            "Gateway": "",
            "IPAddress": "",
            "IPPrefixLen": 0,
            "IPv6Gateway": "",
            "GlobalIPv6Address": "",
            "GlobalIPv6PrefixLen": 0,
            "DriverOpts": Value::Null,
            "DNSNames": Value::Null,
        });
        if let (Some(e), Some(n)) = (&endpoint, network) {
            entry["MacAddress"] = json!(e.mac_address);
            entry["EndpointID"] = json!(e.endpoint_id);
            if let Some(ip) = e.ipv4 {
                entry["Gateway"] = json!(gateway(true));
                entry["IPAddress"] = json!(ip.to_string());
                entry["IPPrefixLen"] = json!(n.prefix_of(ip).unwrap_or(0));
            }
            if let Some(ip) = e.ipv6 {
                entry["IPv6Gateway"] = json!(gateway(false));
                entry["GlobalIPv6Address"] = json!(ip.to_string());
                entry["GlobalIPv6PrefixLen"] = json!(n.prefix_of(ip).unwrap_or(0));
            }
            if n.has_dns() {
                let mut names = vec![r.name.clone()];
                names.extend(e.dns_names.iter().cloned());
                entry["DNSNames"] = json!(names);
            }
            if n.name == "bridge" {
                for key in [
                    "EndpointID",
                    "Gateway",
                    "GlobalIPv6Address",
                    "GlobalIPv6PrefixLen",
                    "IPAddress",
                    "IPPrefixLen",
                    "IPv6Gateway",
                    "MacAddress",
                ] {
                    top[key] = entry[key].clone();
                }
            }
        }
        let key = network.map(|n| n.name.clone()).unwrap_or(name);
        per_network.insert(key, entry);
    }
    let sandbox = if running && attach::mode_network(&r.host_config.network_mode).is_some() {
        format!("/proc/{}/ns/net", c.state.pid)
    } else {
        String::new()
    };
    let mut out = json!({
        "Bridge": "",
        "SandboxID": "",
        "SandboxKey": sandbox,
        "Ports": super::port::inspect_value(c),
        "HairpinMode": false,
        "LinkLocalIPv6Address": "",
        "LinkLocalIPv6PrefixLen": 0,
        "SecondaryIPAddresses": Value::Null,
        "SecondaryIPv6Addresses": Value::Null,
    });
    if let (Value::Object(o), Value::Object(t)) = (&mut out, top) {
        o.extend(t);
        o.insert("Networks".into(), Value::Object(per_network));
    }
    out
}

#[derive(clap::Args, Debug)]
pub struct InspectArgs {
    /// Format output using a custom template ('json' or a Go template)
    #[arg(short, long)]
    format: Option<String>,
    /// Return JSON for specified type (container, image)
    #[arg(long = "type")]
    kind: Option<String>,
    /// Display total file sizes if the type is container
    #[arg(short, long)]
    size: bool,
    #[arg(required = true)]
    names: Vec<String>,
}

/// `berth inspect`: each name as a container first, then as an image (Docker's order),
/// unless `--type` says which.
pub fn run(root: &std::path::Path, args: &InspectArgs) -> anyhow::Result<()> {
    let kind = args.kind.as_deref().unwrap_or("");
    if !matches!(kind, "" | "container" | "image") {
        anyhow::bail!("\"{kind}\" is not a valid value for --type");
    }
    let containers = super::open(root)?;
    let images = berth_engine::image::Images::open(root)?;
    let mut values = Vec::new();
    let mut failed = false;
    for name in &args.names {
        let found = if kind != "image" {
            match containers.lookup(name) {
                Ok(id) => Some(containers.get(&id)?),
                // Only "not found" moves on to images (Docker's order); an ambiguous
                // prefix is said as it is.
                Err(e @ berth_engine::container::ContainerError::Ambiguous(_)) => {
                    eprintln!("error: {e}");
                    failed = true;
                    continue;
                }
                Err(_) => None,
            }
        } else {
            None
        };
        let value = match found {
            Some(c) => Some(container_json(&containers, &c)),
            None if kind != "container" => {
                crate::cli::image::inspect::image_json(&images, name).ok()
            }
            None => None,
        };
        match value {
            Some(v) => values.push(v),
            None => {
                eprintln!("error: No such object: {name}");
                failed = true;
            }
        }
    }
    crate::cli::image::inspect::print(&values, args.format.as_deref())?;
    if failed {
        Err(crate::cli::output::Reported.into())
    } else {
        Ok(())
    }
}
