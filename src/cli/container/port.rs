//! `berth port CONTAINER [PRIVATE_PORT[/PROTO]]`, and the port texts of `ps` and
//! `inspect`: a running container's published ports as bound.

use std::path::Path;

use anyhow::bail;
use berth_engine::container::Container;
use serde_json::{Value, json};

#[derive(clap::Args, Debug)]
pub struct PortArgs {
    container: String,
    /// `80` or `80/udp`
    private_port: Option<String>,
}

pub fn run(root: &Path, args: &PortArgs) -> anyhow::Result<()> {
    let containers = super::open(root)?;
    let id = containers.lookup(&args.container)?;
    let c = containers.get(&id)?;
    let published = if c.state.running {
        c.state.ports.clone()
    } else {
        Vec::new()
    };
    match &args.private_port {
        None => {
            for p in &published {
                println!("{} -> {}", p.port, host_address(&p.host_ip, p.host_port));
            }
        }
        Some(wanted) => {
            let key = if wanted.contains('/') {
                wanted.to_ascii_lowercase()
            } else {
                format!("{wanted}/tcp")
            };
            let matching: Vec<_> = published.iter().filter(|p| p.port == key).collect();
            if matching.is_empty() {
                bail!("No public port '{key}' published for {}", args.container);
            }
            for p in matching {
                println!("{}", host_address(&p.host_ip, p.host_port));
            }
        }
    }
    Ok(())
}

fn host_address(ip: &str, port: u16) -> String {
    if ip.contains(':') {
        format!("[{ip}]:{port}")
    } else {
        format!("{ip}:{port}")
    }
}

/// `ps`'s `PORTS`: `0.0.0.0:8080->80/tcp, 443/tcp` (exposed ports without a binding
/// by themselves), for a running container.
pub fn ps_text(c: &Container) -> String {
    if !c.state.running {
        return String::new();
    }
    let mut out: Vec<String> = c
        .state
        .ports
        .iter()
        .map(|p| format!("{}->{}", host_address(&p.host_ip, p.host_port), p.port))
        .collect();
    for key in c
        .record
        .config
        .exposed_ports
        .iter()
        .flatten()
        .map(|(k, _)| k)
    {
        if !c.state.ports.iter().any(|p| &p.port == key) {
            out.push(key.clone());
        }
    }
    out.join(", ")
}

/// `inspect`'s `NetworkSettings.Ports`: each exposed or published port of a running
/// container, with its host bindings (`null` for none).
pub fn inspect_value(c: &Container) -> Value {
    let mut out = serde_json::Map::new();
    if !c.state.running {
        return Value::Object(out);
    }
    for key in c
        .record
        .config
        .exposed_ports
        .iter()
        .flatten()
        .map(|(k, _)| k)
    {
        out.insert(key.clone(), Value::Null);
    }
    for p in &c.state.ports {
        let entry = out.entry(p.port.clone()).or_insert_with(|| json!([]));
        if entry.is_null() {
            *entry = json!([]);
        }
        if let Value::Array(list) = entry {
            list.push(json!({"HostIp": p.host_ip, "HostPort": p.host_port.to_string()}));
        }
    }
    Value::Object(out)
}
