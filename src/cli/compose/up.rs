//! `berth compose up`, `down` and `ps`: the orchestrator's commands, with Compose v2's
//! flags, progress lines (` Container web-1  Started`, on stderr) and exit codes.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use anyhow::{anyhow, bail};
use berth_compose::orchestrator::{DownOptions, Orchestrator, UpOptions, labels};
use clap::Args;
use serde_json::json;

use super::ComposeArgs;
use crate::cli::output;

#[derive(Args, Debug)]
pub struct UpArgs {
    /// Detached mode: run containers in the background
    #[arg(short, long)]
    detach: bool,
    /// Recreate containers even if their configuration and image haven't changed
    #[arg(long = "force-recreate")]
    force_recreate: bool,
    /// If containers already exist, don't recreate them
    #[arg(long = "no-recreate")]
    no_recreate: bool,
    /// Don't start the services after creating them
    #[arg(long = "no-start")]
    no_start: bool,
    /// Don't build an image, even if it's policy
    #[arg(long = "no-build")]
    no_build: bool,
    /// Build images before starting containers
    #[arg(long)]
    build: bool,
    /// Remove containers for services not defined in the Compose file
    #[arg(long = "remove-orphans")]
    remove_orphans: bool,
    /// Scale SERVICE to NUM instances (SERVICE=NUM)
    #[arg(long)]
    scale: Vec<String>,
    /// Use this timeout in seconds for container shutdown
    #[arg(short, long)]
    timeout: Option<u64>,
    /// Wait for services to be running|healthy (implies detached mode)
    #[arg(long)]
    wait: bool,
    /// Maximum duration in seconds to wait for the project to be running|healthy
    #[arg(long = "wait-timeout")]
    wait_timeout: Option<u64>,
    /// Stops all containers if any container was stopped
    #[arg(long = "abort-on-container-exit")]
    abort_on_container_exit: bool,
    /// Return the exit code of the selected service container (implies --abort-on-container-exit)
    #[arg(long = "exit-code-from")]
    exit_code_from: Option<String>,
    /// Produce monochrome output
    #[arg(long = "no-color")]
    no_color: bool,
    /// Don't print prefix in logs
    #[arg(long = "no-log-prefix")]
    no_log_prefix: bool,
    /// Show timestamps
    #[arg(long)]
    timestamps: bool,
    /// Don't start linked services
    #[arg(long = "no-deps")]
    no_deps: bool,
    /// Pull image before running ("always"|"missing"|"never"|"policy")
    #[arg(long, default_value = "policy")]
    pull: String,
    /// Pull without printing progress information
    #[arg(long = "quiet-pull")]
    quiet_pull: bool,
    /// Restrict attaching to the specified services
    #[arg(long)]
    attach: Vec<String>,
    /// Do not attach (stream logs) to the specified services
    #[arg(long = "no-attach")]
    no_attach: Vec<String>,
    /// Automatically attach to log output of dependent services
    #[arg(long = "attach-dependencies")]
    attach_dependencies: bool,
    /// Assume "yes" as answer to all prompts and run non-interactively (berth never
    /// prompts)
    #[arg(short = 'y', long = "yes")]
    yes: bool,
    /// Services to start (all when none)
    services: Vec<String>,
}

#[derive(Args, Debug)]
pub struct DownArgs {
    /// Remove named volumes declared in the "volumes" section of the Compose file and anonymous volumes attached to containers
    #[arg(short, long)]
    volumes: bool,
    /// Remove containers for services not defined in the Compose file
    #[arg(long = "remove-orphans")]
    remove_orphans: bool,
    /// Specify a shutdown timeout in seconds
    #[arg(short, long)]
    timeout: Option<u64>,
    /// Remove images used by services ("local" or "all")
    #[arg(long)]
    rmi: Option<String>,
}

#[derive(Args, Debug)]
pub struct PsArgs {
    /// Show all stopped containers (including those created by the run command)
    #[arg(short, long)]
    all: bool,
    /// Only display IDs
    #[arg(short, long)]
    quiet: bool,
    /// Display services
    #[arg(long)]
    services: bool,
    /// Format the output: table or json
    #[arg(long, default_value = "table")]
    format: String,
    /// Filter services by status. Values: [paused | restarting | removing | running | dead | created | exited]
    #[arg(long)]
    status: Vec<String>,
    /// Filter services by a property (supported filters: status)
    #[arg(long)]
    filter: Option<String>,
    /// Services to list (all when none)
    service_names: Vec<String>,
}

use super::progress;

pub fn up(root: &Path, args: &ComposeArgs, up: &UpArgs) -> anyhow::Result<()> {
    let foreground = !up.detach && !up.wait;
    if up.exit_code_from.is_some() && up.detach {
        bail!("--exit-code-from and -d cannot be combined");
    }
    if up.abort_on_container_exit && up.detach {
        bail!("--abort-on-container-exit and -d cannot be combined");
    }
    // Blocked before any thread exists, so that Ctrl-C reaches the attached view
    // instead of killing berth with the project half made.
    let signals = if foreground {
        Some(berth_engine::runtime::SignalProxy::block()?)
    } else {
        None
    };
    if up.build {
        bail!("--build: berth cannot build images yet");
    }
    let mut scale = BTreeMap::new();
    for s in &up.scale {
        let (name, n) = s
            .split_once('=')
            .ok_or_else(|| anyhow!("--scale {s:?}: expected SERVICE=NUM"))?;
        let n: u32 = n
            .parse()
            .map_err(|_| anyhow!("--scale {s:?}: {n:?} is not a number of replicas"))?;
        scale.insert(name.to_string(), n);
    }
    let opts = UpOptions {
        force_recreate: up.force_recreate,
        no_recreate: up.no_recreate,
        no_start: up.no_start,
        remove_orphans: up.remove_orphans,
        scale,
        timeout: up.timeout.map(Duration::from_secs),
        wait: up
            .wait
            .then(|| Duration::from_secs(up.wait_timeout.unwrap_or(u64::MAX / 4))),
        services: up.services.clone(),
        no_deps: up.no_deps,
        pull: Some(up.pull.clone()),
    };
    if !matches!(up.pull.as_str(), "always" | "missing" | "never" | "policy") {
        bail!(
            "--pull {:?}: expected always, missing, never or policy",
            up.pull
        );
    }
    let _ = up.yes;
    super::with_project(root, args, |o, loaded| {
        let warnings = o
            .up(&opts, progress::reporter(up.quiet_pull))
            .map_err(|e| anyhow!(e))?;
        for w in warnings {
            output::warning(&w);
        }
        match signals {
            Some(_) if args.dry_run => Ok(()),
            Some(signals) => attached(root, o, &loaded.project.name, signals, up),
            None => Ok(()),
        }
    })
}

enum Attached {
    Signal,
    Exited {
        name: String,
        service: String,
        code: i32,
    },
    LogsDone,
}

/// The foreground `up`: every container's logs behind its prefix until all have
/// stopped; Ctrl-C stops the project (a second one kills it); with
/// `--abort-on-container-exit` (or `--exit-code-from`) the first exit stops the rest.
fn attached(
    root: &Path,
    o: &Orchestrator<'_>,
    project: &str,
    signals: berth_engine::runtime::SignalProxy,
    up: &UpArgs,
) -> anyhow::Result<()> {
    use std::sync::mpsc;
    let mut containers = o.project_containers().map_err(|e| anyhow!(e))?;
    // Compose attaches to the services named (with their dependencies only with
    // --attach-dependencies), or those of --attach, less those of --no-attach.
    let named: Vec<String> = if !up.attach.is_empty() {
        up.attach.clone()
    } else if up.attach_dependencies {
        o.with_dependencies(&up.services)
            .map_err(|e| anyhow!(e))?
            .into_iter()
            .collect()
    } else {
        up.services.clone()
    };
    containers.retain(|c| {
        let service = labels::service_of(c);
        !labels::is_oneoff(c)
            && (named.is_empty() || named.iter().any(|s| s == service))
            && !up.no_attach.iter().any(|s| s == service)
    });
    let mut names: Vec<String> = containers
        .iter()
        .map(|c| super::logs::shown_name(project, &c.record.name))
        .collect();
    names.sort();
    println!("Attaching to {}", names.join(", "));
    let (tx, rx) = mpsc::channel::<Attached>();
    let signal_tx = tx.clone();
    signals.forward(move |_| {
        let _ = signal_tx.send(Attached::Signal);
    })?;
    let engine = crate::cli::container::open(root)?;
    let abort = up.abort_on_container_exit || up.exit_code_from.is_some();
    std::thread::scope(|scope| -> anyhow::Result<()> {
        let logs_tx = tx.clone();
        let containers = &containers;
        scope.spawn(move || {
            let opts = super::logs::StreamOptions {
                follow: true,
                no_color: up.no_color,
                no_prefix: up.no_log_prefix,
                read: berth_engine::container::logs::ReadOptions {
                    tail: berth_engine::container::logs::Tail::All,
                    since: None,
                    until: None,
                    timestamps: up.timestamps,
                    details: false,
                },
            };
            let _ = super::logs::stream(root, project, containers, &opts);
            let _ = logs_tx.send(Attached::LogsDone);
        });
        for c in containers.iter() {
            let (tx, engine) = (tx.clone(), &engine);
            scope.spawn(move || {
                if let Ok(code) = engine.wait(&c.record.id) {
                    let service = labels::service_of(c).to_string();
                    let _ = tx.send(Attached::Exited {
                        name: super::logs::shown_name(project, &c.record.name),
                        service,
                        code,
                    });
                }
            });
        }
        drop(tx);
        let mut codes: BTreeMap<String, i32> = BTreeMap::new();
        let mut stopping = false;
        let mut first_exit: Option<i32> = None;
        let mut exited = 0;
        let mut logs_done = false;
        let timeout = up.timeout.map(Duration::from_secs);
        for event in rx.iter() {
            match event {
                Attached::Signal if stopping => {
                    let _ = o.kill(&[], rustix::process::Signal::KILL, false, &progress);
                }
                Attached::Signal => {
                    stopping = true;
                    eprintln!("Gracefully stopping... (press Ctrl+C again to force)");
                    scope.spawn(move || {
                        let _ = o.stop(&[], timeout, &progress);
                    });
                }
                Attached::Exited {
                    name,
                    service,
                    code,
                } => {
                    exited += 1;
                    println!("{name} exited with code {code}");
                    codes.entry(service).or_insert(code);
                    first_exit.get_or_insert(code);
                    if abort && !stopping {
                        stopping = true;
                        eprintln!("Aborting on container exit...");
                        scope.spawn(move || {
                            let _ = o.stop(&[], timeout, &progress);
                        });
                    }
                }
                Attached::LogsDone => logs_done = true,
            }
            if logs_done && exited >= containers.len() {
                break;
            }
        }
        let code = match &up.exit_code_from {
            Some(service) => codes.get(service).copied().unwrap_or(0),
            None if abort => first_exit.unwrap_or(0),
            None if stopping => 130,
            None => 0,
        };
        if code != 0 {
            return Err(output::Exit {
                code,
                message: None,
            }
            .into());
        }
        Ok(())
    })
}

pub fn down(root: &Path, args: &ComposeArgs, down: &DownArgs) -> anyhow::Result<()> {
    let remove_images = match down.rmi.as_deref() {
        None | Some("local") => false,
        Some("all") => true,
        Some(other) => bail!("--rmi {other:?}: expected local or all"),
    };
    let opts = DownOptions {
        remove_images,
        volumes: down.volumes,
        remove_orphans: down.remove_orphans,
        timeout: down.timeout.map(Duration::from_secs),
    };
    let warnings = super::with_project(root, args, |o, _| {
        o.down(&opts, &progress).map_err(|e| anyhow!(e))
    })?;
    for w in warnings {
        output::warning(&w);
    }
    Ok(())
}

pub fn ps(root: &Path, args: &ComposeArgs, ps: &PsArgs) -> anyhow::Result<()> {
    if ps.format != "table" && ps.format != "json" {
        bail!("--format {:?}: berth supports table and json", ps.format);
    }
    super::with_project(root, args, |orchestrator, loaded| {
        list(orchestrator, loaded, ps)
    })
}

fn list(
    orchestrator: &Orchestrator<'_>,
    loaded: &berth_compose::loader::Loaded,
    ps: &PsArgs,
) -> anyhow::Result<()> {
    if ps.services {
        for name in loaded.project.services.keys() {
            if ps.service_names.is_empty() || ps.service_names.contains(name) {
                println!("{name}");
            }
        }
        return Ok(());
    }
    let mut statuses = ps.status.clone();
    if let Some(f) = &ps.filter {
        match f.split_once('=') {
            Some(("status", v)) => statuses.push(v.to_string()),
            _ => bail!("--filter {f:?}: the only filter is status=<status>"),
        }
    }
    const STATUSES: [&str; 7] = [
        "paused",
        "restarting",
        "removing",
        "running",
        "dead",
        "created",
        "exited",
    ];
    if let Some(bad) = statuses.iter().find(|s| !STATUSES.contains(&s.as_str())) {
        bail!("--status {bad:?}: expected one of {}", STATUSES.join(", "));
    }
    // A status filter looks at every container, as Compose's does.
    let all = ps.all || !statuses.is_empty();
    let mut containers = orchestrator.project_containers().map_err(|e| anyhow!(e))?;
    containers.retain(|c| {
        let service = labels::service_of(c).to_string();
        (all || c.state.running)
            && (statuses.is_empty() || statuses.iter().any(|s| s == c.state.status.as_str()))
            && (ps.service_names.is_empty() || ps.service_names.contains(&service))
            && (all || !labels::is_oneoff(c))
    });
    containers.sort_by(|a, b| a.record.name.cmp(&b.record.name));
    if ps.quiet {
        for c in &containers {
            println!("{}", c.record.id);
        }
        return Ok(());
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default();
    let rows: Vec<serde_json::Value> = containers
        .iter()
        .map(|c| {
            let mut row = crate::cli::container::ps::row(c, true, now);
            let labels = &c.record.config.labels;
            row["Name"] = json!(c.record.name);
            row["Project"] = json!(labels.get(labels::PROJECT).cloned().unwrap_or_default());
            row["Service"] = json!(labels::service_of(c));
            row["ExitCode"] = json!(c.state.exit_code);
            row["Health"] = json!(
                c.state
                    .health
                    .as_ref()
                    .map(|h| h.status.clone())
                    .unwrap_or_default()
            );
            row["Publishers"] = json!(publishers(c));
            row["Command"] = json!(format!(
                "{:?}",
                std::iter::once(c.record.path.as_str())
                    .chain(c.record.args.iter().map(String::as_str))
                    .collect::<Vec<_>>()
                    .join(" ")
            ));
            row
        })
        .collect();
    if ps.format == "json" {
        for r in &rows {
            println!("{}", serde_json::to_string(r)?);
        }
        return Ok(());
    }
    let headers = [
        "NAME", "IMAGE", "COMMAND", "SERVICE", "CREATED", "STATUS", "PORTS",
    ];
    let keys = [
        "Name",
        "Image",
        "Command",
        "Service",
        "RunningFor",
        "Status",
        "Ports",
    ];
    let table: Vec<Vec<String>> = std::iter::once(headers.iter().map(|h| h.to_string()).collect())
        .chain(rows.iter().map(|r| {
            keys.iter()
                .map(|k| match &r[*k] {
                    serde_json::Value::String(s) => s.clone(),
                    v => v.to_string(),
                })
                .collect()
        }))
        .collect();
    super::print_table(&table);
    Ok(())
}

/// Compose's `Publishers`: one entry per published port.
fn publishers(c: &berth_engine::container::Container) -> Vec<serde_json::Value> {
    let mut out = Vec::new();
    for (key, bindings) in &c.record.host_config.port_bindings {
        let (port, protocol) = key.split_once('/').unwrap_or((key, "tcp"));
        for b in bindings {
            out.push(json!({
                "URL": if b.host_ip.is_empty() { "0.0.0.0".to_string() } else { b.host_ip.clone() },
                "TargetPort": port.parse::<u32>().unwrap_or(0),
                "PublishedPort": b.host_port.parse::<u32>().unwrap_or(0),
                "Protocol": protocol,
            }));
        }
    }
    out
}
