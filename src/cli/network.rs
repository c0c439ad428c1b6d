//! `berth network create|ls|inspect|rm|prune`, with Docker's flags and output.

use std::path::Path;

use anyhow::{Context, bail};
use berth_engine::container::config::{EndpointIpamConfig, EndpointSettings};
use berth_engine::network::{CreateRequest, NetworkError, NetworkFile, Networks};
use clap::{Args, Subcommand};
use serde_json::{Value, json};

use crate::cli::{filters, output};

#[derive(Subcommand, Debug)]
pub enum NetworkCommand {
    /// Create a network
    Create(Box<CreateArgs>),
    /// List networks
    #[command(visible_alias = "list")]
    Ls(LsArgs),
    /// Display detailed information on one or more networks
    Inspect(InspectArgs),
    /// Remove one or more networks
    #[command(visible_alias = "remove")]
    Rm(RmArgs),
    /// Remove all unused networks
    Prune(PruneArgs),
    /// Connect a container to a network
    Connect(ConnectArgs),
    /// Disconnect a container from a network
    Disconnect(DisconnectArgs),
}

#[derive(Args, Debug)]
pub struct ConnectArgs {
    /// Add network-scoped alias for the container
    #[arg(long = "alias")]
    aliases: Vec<String>,
    /// IPv4 address (e.g., "172.30.100.104")
    #[arg(long)]
    ip: Option<String>,
    /// IPv6 address (e.g., "2001:db8::33")
    #[arg(long)]
    ip6: Option<String>,
    #[arg(long, hide = true)]
    link: Vec<String>,
    #[arg(long = "link-local-ip", hide = true)]
    link_local_ip: Vec<String>,
    #[arg(long = "driver-opt", hide = true)]
    driver_opt: Vec<String>,
    network: String,
    container: String,
}

#[derive(Args, Debug)]
pub struct DisconnectArgs {
    /// Force the container to disconnect from a network
    #[arg(short, long)]
    force: bool,
    network: String,
    container: String,
}

#[derive(Args, Debug)]
pub struct CreateArgs {
    /// Driver to manage the Network (bridge)
    #[arg(short, long, default_value = "bridge")]
    driver: String,
    /// Subnet in CIDR format that represents a network segment
    #[arg(long)]
    subnet: Vec<String>,
    /// IPv4 or IPv6 Gateway for the master subnet
    #[arg(long)]
    gateway: Vec<String>,
    /// Allocate container ip from a sub-range
    #[arg(long = "ip-range")]
    ip_range: Vec<String>,
    /// Restrict external access to the network
    #[arg(long)]
    internal: bool,
    /// Enable IPv6 networking
    #[arg(long)]
    ipv6: bool,
    /// Enable manual container attachment
    #[arg(long)]
    attachable: bool,
    /// Set metadata on a network
    #[arg(long = "label")]
    labels: Vec<String>,
    /// Set driver specific options
    #[arg(short = 'o', long = "opt")]
    opts: Vec<String>,
    /// IP Address Management Driver
    #[arg(long = "ipam-driver", default_value = "default")]
    ipam_driver: String,
    #[arg(long = "aux-address", hide = true)]
    aux_address: Vec<String>,
    #[arg(long = "ipam-opt", hide = true)]
    ipam_opt: Vec<String>,
    #[arg(long, hide = true)]
    ingress: bool,
    #[arg(long = "config-only", hide = true)]
    config_only: bool,
    #[arg(long = "config-from", hide = true)]
    config_from: Option<String>,
    #[arg(long, hide = true)]
    scope: Option<String>,
    name: String,
}

#[derive(Args, Debug)]
pub struct LsArgs {
    /// Only display network IDs
    #[arg(short, long)]
    quiet: bool,
    /// Do not truncate the output
    #[arg(long = "no-trunc")]
    no_trunc: bool,
    /// Provide filter values (e.g. "driver=bridge")
    #[arg(short, long)]
    filter: Vec<String>,
    /// Format output using a custom template: 'table', 'table TEMPLATE', 'json', 'TEMPLATE'
    #[arg(long)]
    format: Option<String>,
}

#[derive(Args, Debug)]
pub struct InspectArgs {
    /// Format output using a custom template: 'json', 'TEMPLATE'
    #[arg(short, long)]
    format: Option<String>,
    /// Verbose output for diagnostics
    #[arg(short, long)]
    verbose: bool,
    #[arg(required = true)]
    names: Vec<String>,
}

#[derive(Args, Debug)]
pub struct RmArgs {
    /// Do not error if the network does not exist
    #[arg(short, long)]
    force: bool,
    #[arg(required = true)]
    names: Vec<String>,
}

#[derive(Args, Debug)]
pub struct PruneArgs {
    /// Provide filter values (e.g. "label=<key>=<value>")
    #[arg(long)]
    filter: Vec<String>,
    /// Do not prompt for confirmation
    #[arg(short, long)]
    force: bool,
}

pub fn run(root: &Path, command: &NetworkCommand) -> anyhow::Result<()> {
    let networks = Networks::open(root)?;
    match command {
        NetworkCommand::Create(a) => create(&networks, a),
        NetworkCommand::Ls(a) => ls(&networks, a),
        NetworkCommand::Inspect(a) => inspect(&networks, a),
        NetworkCommand::Rm(a) => rm(&networks, a),
        NetworkCommand::Prune(a) => prune(&networks, a),
        NetworkCommand::Connect(a) => connect(root, a),
        NetworkCommand::Disconnect(a) => disconnect(root, a),
    }
}

fn connect(root: &Path, args: &ConnectArgs) -> anyhow::Result<()> {
    if !args.link_local_ip.is_empty() || !args.driver_opt.is_empty() {
        bail!("--link-local-ip and --driver-opt are not supported by berth yet");
    }
    for (flag, value, v4) in [("--ip", &args.ip, true), ("--ip6", &args.ip6, false)] {
        if let Some(text) = value
            && !text
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_ipv4() == v4)
        {
            bail!("invalid argument {text:?} for \"{flag}\" flag: invalid IP address");
        }
    }
    let containers = crate::cli::container::open(root)?;
    let id = containers.lookup(&args.container)?;
    let ipam = (args.ip.is_some() || args.ip6.is_some()).then(|| EndpointIpamConfig {
        ipv4_address: args.ip.clone().unwrap_or_default(),
        ipv6_address: args.ip6.clone().unwrap_or_default(),
    });
    let settings = EndpointSettings {
        ipam_config: ipam,
        links: (!args.link.is_empty()).then(|| args.link.clone()),
        aliases: (!args.aliases.is_empty()).then(|| args.aliases.clone()),
        mac_address: String::new(),
    };
    containers.connect_network(&id, &args.network, settings)?;
    Ok(())
}

fn disconnect(root: &Path, args: &DisconnectArgs) -> anyhow::Result<()> {
    let containers = crate::cli::container::open(root)?;
    let id = match containers.lookup(&args.container) {
        Ok(id) => id,
        Err(_) if args.force => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    containers.disconnect_network(&id, &args.network)?;
    Ok(())
}

fn create(networks: &Networks, args: &CreateArgs) -> anyhow::Result<()> {
    let refused: [(&str, bool); 7] = [
        ("--aux-address", !args.aux_address.is_empty()),
        ("--ipam-opt", !args.ipam_opt.is_empty()),
        ("--ingress", args.ingress),
        ("--config-only", args.config_only),
        ("--config-from", args.config_from.is_some()),
        ("--scope", args.scope.is_some()),
        ("--ipam-driver", args.ipam_driver != "default"),
    ];
    if let Some((flag, _)) = refused.iter().find(|(_, on)| *on) {
        bail!("{flag} is not supported by berth (it has one host and the default IPAM driver)");
    }
    let cidr = |flag: &str, text: &String| {
        text.parse()
            .with_context(|| format!("invalid {flag} {text:?}: expected an address in CIDR notation such as 172.28.0.0/16"))
    };
    let request = CreateRequest {
        name: args.name.clone(),
        driver: Some(args.driver.clone()),
        subnets: args
            .subnet
            .iter()
            .map(|s| cidr("--subnet", s))
            .collect::<anyhow::Result<_>>()?,
        gateways: args
            .gateway
            .iter()
            .map(|g| {
                g.parse()
                    .with_context(|| format!("invalid --gateway {g:?}: expected an IP address"))
            })
            .collect::<anyhow::Result<_>>()?,
        ip_ranges: args
            .ip_range
            .iter()
            .map(|s| cidr("--ip-range", s))
            .collect::<anyhow::Result<_>>()?,
        internal: args.internal,
        ipv6: args.ipv6,
        attachable: args.attachable,
        labels: output::key_values("--label", &args.labels)?,
        options: output::key_values("--opt", &args.opts)?,
    };
    let file = networks.create(&request)?;
    println!("{}", file.network.id);
    Ok(())
}

/// Network filters: `driver`, `id` (prefix), `label`, `name` (substring), `scope`,
/// `type` (`builtin` or `custom`), as Docker's.
struct Filters(Vec<(String, String)>);

impl Filters {
    fn parse(raw: &[String], known: &[&str]) -> anyhow::Result<Filters> {
        let mut out = Vec::new();
        for f in raw {
            let (k, v) = filters::split(f, known)?;
            if k == "type" && !["builtin", "custom"].contains(&v) {
                bail!("invalid filter: 'type'='{v}'");
            }
            out.push((k.to_string(), v.to_string()));
        }
        Ok(Filters(out))
    }

    fn matches(&self, file: &NetworkFile) -> bool {
        let n = &file.network;
        filters::matches_all(&self.0, |key, val| match key {
            "driver" => n.driver == val,
            "id" => n.id.starts_with(val),
            "name" => n.name.contains(val),
            "scope" => n.scope == val,
            "type" => (val == "builtin") == n.is_predefined(),
            _ => filters::label_matches(val, |k| n.labels.get(k).map(String::as_str)),
        })
    }
}

fn ls(networks: &Networks, args: &LsArgs) -> anyhow::Result<()> {
    let filters = Filters::parse(
        &args.filter,
        &["driver", "id", "label", "name", "scope", "type"],
    )?;
    let mut all: Vec<NetworkFile> = networks
        .list()?
        .into_iter()
        .filter(|f| filters.matches(f))
        .collect();
    all.sort_by(|a, b| a.network.name.cmp(&b.network.name));
    let rows: Vec<Value> = all
        .iter()
        .map(|f| {
            let n = &f.network;
            let id = if args.no_trunc { &n.id[..] } else { &n.id[..12] };
            json!({
                "CreatedAt": crate::cli::units::go_time(berth_engine::time::unix_seconds(&n.created).unwrap_or(0)),
                "Driver": n.driver,
                "ID": id,
                "IPv6": n.enable_ipv6.to_string(),
                "Internal": n.internal.to_string(),
                "Labels": n.labels.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(","),
                "Name": n.name,
                "Scope": n.scope,
            })
        })
        .collect();
    if args.quiet {
        for r in &rows {
            println!("{}", r["ID"].as_str().unwrap_or_default());
        }
        return Ok(());
    }
    const DEFAULT: &str = "table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}";
    const HEADERS: [(&str, &str); 8] = [
        ("ID", "NETWORK ID"),
        ("Name", "NAME"),
        ("Driver", "DRIVER"),
        ("Scope", "SCOPE"),
        ("IPv6", "IPV6"),
        ("Internal", "INTERNAL"),
        ("Labels", "LABELS"),
        ("CreatedAt", "CREATED AT"),
    ];
    output::print_listing(&rows, args.format.as_deref(), DEFAULT, &HEADERS)
}

/// Docker's `network inspect` object: the record with the running containers' endpoints
/// (`Containers`) before `Options`.
pub fn inspect_value(networks: &Networks, file: &NetworkFile) -> anyhow::Result<Value> {
    let record = serde_json::to_value(&file.network)?;
    let endpoints = networks.read_endpoints(&file.network.id)?;
    let prefix_of = |ip: std::net::IpAddr| {
        (file.network.prefix_of(ip)).unwrap_or(if ip.is_ipv4() { 32 } else { 128 })
    };
    let mut containers = serde_json::Map::new();
    for (id, e) in endpoints.endpoints.iter().filter(|(_, e)| e.holder.alive()) {
        containers.insert(
            id.clone(),
            json!({
                "Name": e.name,
                "EndpointID": e.endpoint_id,
                "MacAddress": e.mac_address,
                "IPv4Address": e.ipv4.map(|ip| format!("{ip}/{}", prefix_of(ip))).unwrap_or_default(),
                "IPv6Address": e.ipv6.map(|ip| format!("{ip}/{}", prefix_of(ip))).unwrap_or_default(),
            }),
        );
    }
    let mut out = serde_json::Map::new();
    if let Value::Object(map) = record {
        for (k, v) in map {
            if k == "Options" {
                let containers = std::mem::take(&mut containers);
                out.insert("Containers".into(), Value::Object(containers));
            }
            out.insert(k, v);
        }
    }
    Ok(Value::Object(out))
}

fn inspect(networks: &Networks, args: &InspectArgs) -> anyhow::Result<()> {
    output::inspect_each(&args.names, args.format.as_deref(), |name| {
        inspect_value(networks, &networks.find(name)?)
    })
}

fn rm(networks: &Networks, args: &RmArgs) -> anyhow::Result<()> {
    let mut failed = false;
    for name in &args.names {
        match networks.remove(name) {
            Ok(_) => println!("{name}"),
            Err(NetworkError::NotFound(_)) if args.force => {}
            Err(e) => {
                output::error(&e.into());
                failed = true;
            }
        }
    }
    if failed {
        return Err(output::Reported.into());
    }
    Ok(())
}

fn prune(networks: &Networks, args: &PruneArgs) -> anyhow::Result<()> {
    let filters = Filters::parse(&args.filter, &["label"])?;
    if !args.force
        && !output::confirm(
            "WARNING! This will remove all custom networks not used by at least one container.",
        )?
    {
        return Ok(());
    }
    let mut removed = Vec::new();
    let mut all = networks.list()?;
    all.sort_by(|a, b| a.network.name.cmp(&b.network.name));
    for file in all {
        if file.network.is_predefined() || !filters.matches(&file) {
            continue;
        }
        match networks.remove(&file.network.id) {
            Ok(_) => removed.push(file.network.name),
            // In use: prune leaves it, as Docker's does.
            Err(NetworkError::ActiveEndpoints { .. }) => {}
            Err(e) => output::error(&e.into()),
        }
    }
    if !removed.is_empty() {
        println!("Deleted Networks:");
        for name in removed {
            println!("{name}");
        }
    }
    Ok(())
}
