//! `berth compose wait`: blocks until the project's running containers (of the services
//! named, or all) have stopped, printing each exit as Compose does; the exit code is the
//! last one's. `--down-project` then takes the project down.

use std::path::Path;
use std::sync::Mutex;

use anyhow::anyhow;
use berth_compose::orchestrator::{DownOptions, labels};
use clap::Args;

use super::{ComposeArgs, progress};
use crate::cli::output::Exit;

#[derive(Args, Debug)]
pub struct WaitArgs {
    /// Drops project when the first container stops
    #[arg(long = "down-project")]
    down_project: bool,
    /// Services to wait for (all when none)
    services: Vec<String>,
}

pub fn run(root: &Path, args: &ComposeArgs, a: &WaitArgs) -> anyhow::Result<()> {
    super::with_project(root, args, |o, loaded| {
        for s in &a.services {
            if !loaded.project.services.contains_key(s) {
                anyhow::bail!("no such service: {s}");
            }
        }
        let mut containers = o.project_containers().map_err(|e| anyhow!(e))?;
        containers.retain(|c| {
            c.state.running
                && (a.services.is_empty() || a.services.iter().any(|s| s == labels::service_of(c)))
        });
        if containers.is_empty() {
            anyhow::bail!("no containers for project {:?}", loaded.project.name);
        }
        let engine = crate::cli::container::open(root)?;
        let last: Mutex<Option<i32>> = Mutex::new(None);
        let failures: Mutex<Vec<String>> = Mutex::new(Vec::new());
        std::thread::scope(|scope| {
            for c in &containers {
                let (engine, last, failures) = (&engine, &last, &failures);
                scope.spawn(move || match engine.wait(&c.record.id) {
                    Ok(code) => {
                        println!("container {:?} exited with status code {code}", c.record.id);
                        if let Ok(mut l) = last.lock() {
                            *l = Some(code);
                        }
                    }
                    Err(e) => {
                        if let Ok(mut f) = failures.lock() {
                            f.push(format!("container {}: {e}", c.record.name));
                        }
                    }
                });
            }
        });
        let failures = failures.into_inner().unwrap_or_default();
        if !failures.is_empty() {
            return Err(Exit::message(42, failures.join("; ")).into());
        }
        if a.down_project {
            let opts = DownOptions {
                remove_orphans: true,
                ..DownOptions::default()
            };
            for w in o.down(&opts, &progress::report).map_err(|e| anyhow!(e))? {
                crate::cli::output::warning(&w);
            }
        }
        match last.into_inner().ok().flatten() {
            Some(0) | None => Ok(()),
            Some(code) => Err(Exit::silent(code).into()),
        }
    })
}
