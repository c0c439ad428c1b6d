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
        "NetworkSettings": network_settings(&r.host_config.network_mode),
    });
    // Docker prints `State.Health` only for a container with a health check.
    if let Some(health) = &s.health {
        value["State"]["Health"] = json!(health);
    }
    value
}

/// Docker's `NetworkSettings` of a container without an address (`none`, `host`).
fn network_settings(mode: &str) -> Value {
    json!({
        "Bridge": "",
        "SandboxID": "",
        "SandboxKey": "",
        "Ports": {},
        "HairpinMode": false,
        "LinkLocalIPv6Address": "",
        "LinkLocalIPv6PrefixLen": 0,
        "SecondaryIPAddresses": Value::Null,
        "SecondaryIPv6Addresses": Value::Null,
        "EndpointID": "",
        "Gateway": "",
        "GlobalIPv6Address": "",
        "GlobalIPv6PrefixLen": 0,
        "IPAddress": "",
        "IPPrefixLen": 0,
        "IPv6Gateway": "",
        "MacAddress": "",
        "Networks": {
            mode.to_string(): {
                "IPAMConfig": Value::Null,
                "Links": Value::Null,
                "Aliases": Value::Null,
                "MacAddress": "",
                "NetworkID": "",
                "EndpointID": "",
                "Gateway": "",
                "IPAddress": "",
                "IPPrefixLen": 0,
                "IPv6Gateway": "",
                "GlobalIPv6Address": "",
                "GlobalIPv6PrefixLen": 0,
                "DriverOpts": Value::Null,
                "DNSNames": Value::Null,
            }
        },
    })
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
