//! `berth compose exec|port|images|ls|pull|push|create`: per-service versions of the
//! single-container commands, resolved to the service's containers by Compose's labels.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::Path;

use anyhow::{anyhow, bail};
use berth_compose::orchestrator::{Orchestrator, UpOptions, labels};
use clap::{Args, Parser};

use super::ComposeArgs;

#[derive(Args, Debug)]
pub struct ExecArgs {
    /// Detached mode: Run command in the background
    #[arg(short, long)]
    detach: bool,
    /// Disable pseudo-TTY allocation. By default `docker compose exec` allocates a TTY
    #[arg(short = 'T', long = "no-TTY")]
    no_tty: bool,
    /// Set environment variables
    #[arg(short, long = "env")]
    env: Vec<String>,
    /// Run the command as this user
    #[arg(short, long)]
    user: Option<String>,
    /// Path to workdir directory for this command
    #[arg(short, long)]
    workdir: Option<String>,
    /// Index of the container if service has multiple replicas
    #[arg(long, default_value_t = 1)]
    index: u32,
    /// Give extended privileges to the process
    #[arg(long)]
    privileged: bool,
    service: String,
    #[arg(required = true, trailing_var_arg = true, allow_hyphen_values = true)]
    command: Vec<String>,
}

#[derive(Args, Debug)]
pub struct PortArgs {
    /// tcp or udp
    #[arg(long, default_value = "tcp")]
    protocol: String,
    /// Index of the container if service has multiple replicas
    #[arg(long, default_value_t = 1)]
    index: u32,
    service: String,
    private_port: u16,
}

#[derive(Args, Debug)]
pub struct ImagesArgs {
    /// Only display IDs
    #[arg(short, long)]
    quiet: bool,
    /// Format the output: table or json
    #[arg(long, default_value = "table")]
    format: String,
    services: Vec<String>,
}

#[derive(Args, Debug)]
pub struct LsArgs {
    /// Show all stopped Compose projects
    #[arg(short, long)]
    all: bool,
    /// Only display project names
    #[arg(short, long)]
    quiet: bool,
    /// Format the output: table or json
    #[arg(long, default_value = "table")]
    format: String,
    /// Filter output based on conditions provided (name=<project>)
    #[arg(long)]
    filter: Vec<String>,
}

#[derive(Args, Debug)]
pub struct PullArgs {
    /// Pull without printing progress information
    #[arg(short, long)]
    quiet: bool,
    /// Ignore images that can be built
    #[arg(long = "ignore-buildable")]
    ignore_buildable: bool,
    services: Vec<String>,
}

#[derive(Args, Debug)]
pub struct CreateArgs {
    /// Recreate containers even if their configuration and image haven't changed
    #[arg(long = "force-recreate")]
    force_recreate: bool,
    /// If containers already exist, don't recreate them
    #[arg(long = "no-recreate")]
    no_recreate: bool,
    /// Remove containers for services not defined in the Compose file
    #[arg(long = "remove-orphans")]
    remove_orphans: bool,
    services: Vec<String>,
}

/// The id of replica `index` of `service`.
fn replica(o: &Orchestrator<'_>, service: &str, index: u32) -> anyhow::Result<String> {
    let containers = o.project_containers().map_err(|e| anyhow!(e))?;
    containers
        .into_iter()
        .find(|c| {
            let number = c.record.config.labels.get(labels::NUMBER);
            labels::service_of(c) == service
                && number.and_then(|n| n.parse::<u32>().ok()) == Some(index)
                && !labels::is_oneoff(c)
        })
        .map(|c| c.record.id)
        .ok_or_else(|| {
            anyhow!("service \"{service}\" is not running (no container with index {index})")
        })
}

use super::print_table;
use super::with_project as with;

#[derive(Parser)]
struct ExecWrap {
    #[command(flatten)]
    exec: crate::cli::container::exec::ExecArgs,
}

pub fn exec(root: &Path, args: &ComposeArgs, a: &ExecArgs) -> anyhow::Result<()> {
    let id = with(root, args, |o, _| replica(o, &a.service, a.index))?;
    // Compose keeps stdin open and, on a terminal, gives the command one (unless -T).
    let mut argv: Vec<String> = vec!["exec".into()];
    if !a.detach {
        argv.push("-i".into());
        if !a.no_tty && std::io::stdin().is_terminal() {
            argv.push("-t".into());
        }
    } else {
        argv.push("-d".into());
    }
    for e in &a.env {
        argv.push("-e".into());
        argv.push(e.clone());
    }
    if let Some(u) = &a.user {
        argv.extend(["-u".into(), u.clone()]);
    }
    if let Some(w) = &a.workdir {
        argv.extend(["-w".into(), w.clone()]);
    }
    if a.privileged {
        argv.push("--privileged".into());
    }
    argv.push(id);
    argv.extend(a.command.iter().cloned());
    let wrap = ExecWrap::try_parse_from(argv)?;
    crate::cli::container::exec::run(root, &wrap.exec)
}

pub fn port(root: &Path, args: &ComposeArgs, a: &PortArgs) -> anyhow::Result<()> {
    let id = with(root, args, |o, _| replica(o, &a.service, a.index))?;
    let containers = crate::cli::container::open(root)?;
    let c = containers.get(&id)?;
    let key = format!("{}/{}", a.private_port, a.protocol);
    let found = c
        .state
        .running
        .then(|| c.state.ports.iter().find(|p| p.port == key))
        .flatten();
    match found {
        Some(p) => {
            let ip = if p.host_ip.is_empty() {
                "0.0.0.0"
            } else {
                p.host_ip.as_str()
            };
            println!("{ip}:{}", p.host_port);
            Ok(())
        }
        None => bail!("no port {key} for container {}", c.record.name),
    }
}

pub fn images(root: &Path, args: &ComposeArgs, a: &ImagesArgs) -> anyhow::Result<()> {
    with(root, args, |o, loaded| {
        let images = crate::cli::image::open(root)?;
        let mut rows = Vec::new();
        let mut containers = o.project_containers().map_err(|e| anyhow!(e))?;
        containers.sort_by(|x, y| x.record.name.cmp(&y.record.name));
        for c in containers {
            let service = labels::service_of(&c).to_string();
            if !a.services.is_empty() && !a.services.contains(&service) {
                continue;
            }
            let image = &c.record.config.image;
            let (repository, tag) = match berth_engine::reference::Reference::parse(image) {
                Ok(r) => (r.familiar_name(), r.tag_or_default().to_string()),
                Err(_) => (image.clone(), String::new()),
            };
            let record = images
                .store()
                .image(&berth_engine::Digest::parse(&c.record.image)?)
                .ok();
            let size = record.as_ref().map_or(0, |r| r.size);
            rows.push((
                c.record.name.clone(),
                repository,
                tag,
                c.record.image.clone(),
                size,
            ));
        }
        let _ = loaded;
        if a.quiet {
            let ids: std::collections::BTreeSet<&String> = rows.iter().map(|r| &r.3).collect();
            for id in ids {
                println!("{id}");
            }
            return Ok(());
        }
        if a.format == "json" {
            let list: Vec<serde_json::Value> = rows
                .iter()
                .map(|(name, repo, tag, id, size)| {
                    serde_json::json!({"ID": id, "ContainerName": name, "Repository": repo, "Tag": tag, "Size": size})
                })
                .collect();
            println!("{}", serde_json::to_string(&list)?);
            return Ok(());
        }
        let table: Vec<[String; 5]> = std::iter::once(
            ["CONTAINER", "REPOSITORY", "TAG", "IMAGE ID", "SIZE"].map(String::from),
        )
        .chain(rows.iter().map(|(name, repo, tag, id, size)| {
            [
                name.clone(),
                repo.clone(),
                tag.clone(),
                id.trim_start_matches("sha256:").chars().take(12).collect(),
                crate::cli::units::human_size(*size as f64),
            ]
        }))
        .collect();
        print_table(&table);
        Ok(())
    })
}

/// `ls`: the projects that have containers in this state root, from their labels.
pub fn ls(root: &Path, a: &LsArgs) -> anyhow::Result<()> {
    let containers = crate::cli::container::open(root)?;
    let mut projects: BTreeMap<String, (BTreeMap<String, usize>, String)> = BTreeMap::new();
    for c in containers.list()? {
        let l = &c.record.config.labels;
        let Some(project) = l.get(labels::PROJECT) else {
            continue;
        };
        let entry = projects.entry(project.clone()).or_default();
        *entry
            .0
            .entry(c.state.status.as_str().to_string())
            .or_default() += 1;
        if let Some(files) = l.get(labels::CONFIG_FILES) {
            entry.1 = files.clone();
        }
    }
    let mut names_wanted = Vec::new();
    for f in &a.filter {
        match f.split_once('=') {
            Some(("name", v)) => names_wanted.push(v.to_string()),
            _ => bail!("invalid filter {f:?}: berth supports name=<project>"),
        }
    }
    let rows: Vec<(String, String, String)> = projects
        .into_iter()
        .filter(|(name, (states, _))| {
            (a.all || states.contains_key("running"))
                && (names_wanted.is_empty() || names_wanted.contains(name))
        })
        .map(|(name, (states, files))| {
            let status: Vec<String> = states.iter().map(|(s, n)| format!("{s}({n})")).collect();
            (name, status.join(", "), files)
        })
        .collect();
    if a.quiet {
        for (name, _, _) in &rows {
            println!("{name}");
        }
        return Ok(());
    }
    if a.format == "json" {
        let list: Vec<serde_json::Value> = rows
            .iter()
            .map(|(n, s, f)| serde_json::json!({"Name": n, "Status": s, "ConfigFiles": f}))
            .collect();
        println!("{}", serde_json::to_string(&list)?);
        return Ok(());
    }
    let table: Vec<[String; 3]> =
        std::iter::once(["NAME", "STATUS", "CONFIG FILES"].map(String::from))
            .chain(rows.into_iter().map(|(n, s, f)| [n, s, f]))
            .collect();
    print_table(&table);
    Ok(())
}

pub fn pull(root: &Path, args: &ComposeArgs, a: &PullArgs) -> anyhow::Result<()> {
    with(root, args, |_, loaded| {
        let images = crate::cli::image::open(root)?;
        let registry = berth_engine::registry::Registry::from_environment()?;
        for (name, s) in &loaded.project.services {
            if !a.services.is_empty() && !a.services.contains(name) {
                continue;
            }
            if s.image.is_empty() || (a.ignore_buildable && s.build.is_some()) {
                continue;
            }
            let reference = berth_engine::reference::Reference::parse(&s.image)?;
            if !a.quiet {
                eprintln!(" {name} Pulling");
            }
            images.pull(&registry, &reference, None, &|_| {})?;
            if !a.quiet {
                eprintln!(" {name} Pulled");
            }
        }
        Ok(())
    })
}

pub fn push(root: &Path, args: &ComposeArgs, services: &[String]) -> anyhow::Result<()> {
    with(root, args, |_, loaded| {
        let images = crate::cli::image::open(root)?;
        let registry = berth_engine::registry::Registry::from_environment()?;
        for (name, s) in &loaded.project.services {
            if (!services.is_empty() && !services.contains(name)) || s.image.is_empty() {
                continue;
            }
            let reference = berth_engine::reference::Reference::parse(&s.image)?;
            eprintln!(" {name} Pushing");
            images.push(&registry, &reference, &|_| {})?;
            eprintln!(" {name} Pushed");
        }
        Ok(())
    })
}

pub fn create(root: &Path, args: &ComposeArgs, a: &CreateArgs) -> anyhow::Result<()> {
    with(root, args, |o, _| {
        let opts = UpOptions {
            force_recreate: a.force_recreate,
            no_recreate: a.no_recreate,
            no_start: true,
            remove_orphans: a.remove_orphans,
            services: a.services.clone(),
            ..UpOptions::default()
        };
        let warnings = o
            .up(&opts, &|kind, name, status| {
                eprintln!(" {kind} {name}  {status}")
            })
            .map_err(|e| anyhow!(e))?;
        for w in warnings {
            crate::cli::output::warning(&w);
        }
        Ok(())
    })
}
