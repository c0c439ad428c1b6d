//! Compose's progress output (`--progress`): on a terminal (`auto`, `tty`) the live view,
//! `[+] Running 3/4` and one line per object redrawn as it changes (✔ when done, ✘ when
//! it failed, the time it took); `plain` prints each change as a line
//! (` Container demo-web-1  Started`); `quiet` nothing. Always on stderr.

use std::io::{IsTerminal, Write};
use std::sync::{Mutex, OnceLock};
use std::time::Instant;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Plain,
    Tty,
    /// Compose's `--progress json`: one object per change, `{"id":..,"text":..}`.
    Json,
    Quiet,
}

static MODE: OnceLock<Mode> = OnceLock::new();
/// `--dry-run`: Compose's prefix on every line, `"dry-run": true` in JSON.
static DRY_RUN: OnceLock<bool> = OnceLock::new();
const DRY_RUN_PREFIX: &str = " DRY-RUN MODE - ";

fn dry_run() -> bool {
    DRY_RUN.get().copied().unwrap_or(false)
}
static VIEW: Mutex<Vec<Line>> = Mutex::new(Vec::new());

struct Line {
    kind: String,
    name: String,
    status: String,
    since: Instant,
    took: Option<f64>,
}

/// Sets the mode from `--progress` (`auto`, `tty`, `plain`, `quiet`) and `--ansi`.
pub fn set(progress: &str, ansi: &str, dry_run: bool) -> anyhow::Result<()> {
    let _ = DRY_RUN.set(dry_run);
    let tty = std::io::stderr().is_terminal();
    let mode = match (progress, ansi) {
        (_, a) if !matches!(a, "auto" | "never" | "always") => {
            anyhow::bail!("--ansi {a:?}: expected never, always or auto")
        }
        ("quiet", _) => Mode::Quiet,
        ("json", _) => Mode::Json,
        ("plain", _) | (_, "never") => Mode::Plain,
        ("tty", _) | (_, "always") => Mode::Tty,
        ("auto", _) => {
            if tty {
                Mode::Tty
            } else {
                Mode::Plain
            }
        }
        (p, _) => anyhow::bail!("--progress {p:?}: expected auto, tty, plain, json or quiet"),
    };
    let _ = MODE.set(mode);
    Ok(())
}

/// Statuses after which an object's line is finished.
fn done(status: &str) -> bool {
    matches!(
        status,
        "Created"
            | "Started"
            | "Running"
            | "Recreated"
            | "Removed"
            | "Stopped"
            | "Healthy"
            | "Exited"
            | "Pulled"
            | "Killed"
            | "Pushed"
    )
}

/// One change: `kind` (`Network`, `Volume`, `Container`, `Image`), its name, its status.
pub fn report(kind: &str, name: &str, status: &str) {
    match MODE.get().copied().unwrap_or(Mode::Plain) {
        Mode::Quiet => {}
        Mode::Plain => {
            let prefix = if dry_run() { DRY_RUN_PREFIX } else { "" };
            let _ = writeln!(std::io::stderr().lock(), "{prefix} {kind} {name}  {status}");
        }
        Mode::Json => {
            let mut message = serde_json::json!({"id": format!("{kind} {name}"), "text": status});
            if dry_run() {
                message["dry-run"] = serde_json::Value::Bool(true);
            }
            let _ = writeln!(std::io::stderr().lock(), "{message}");
        }
        Mode::Tty => {
            let Ok(mut lines) = VIEW.lock() else { return };
            let drawn = lines.len();
            match lines.iter_mut().find(|l| l.kind == kind && l.name == name) {
                Some(l) => {
                    if l.took.is_some() && !done(status) {
                        l.since = Instant::now();
                        l.took = None;
                    }
                    l.status = status.to_string();
                    if done(status) && l.took.is_none() {
                        l.took = Some(l.since.elapsed().as_secs_f64());
                    }
                }
                None => lines.push(Line {
                    kind: kind.to_string(),
                    name: name.to_string(),
                    status: status.to_string(),
                    since: Instant::now(),
                    took: done(status).then_some(0.0),
                }),
            }
            draw(&lines, drawn);
        }
    }
}

fn report_quiet_pull(kind: &str, name: &str, status: &str) {
    if kind != "Image" {
        report(kind, name, status);
    }
}

/// The progress printer, without the image pulls' lines with `--quiet-pull`.
pub fn reporter(quiet_pull: bool) -> &'static (dyn Fn(&str, &str, &str) + Sync) {
    if quiet_pull {
        &report_quiet_pull
    } else {
        &report
    }
}

fn draw(lines: &[Line], drawn: usize) {
    let mut out = std::io::stderr().lock();
    if drawn > 0 {
        // Up over the title and the lines drawn before.
        let _ = write!(out, "\x1b[{}A", drawn + 1);
    }
    let finished = lines.iter().filter(|l| l.took.is_some()).count();
    let _ = writeln!(out, "\x1b[2K[+] Running {finished}/{}", lines.len());
    let width = lines
        .iter()
        .map(|l| l.kind.len() + 1 + l.name.len() + if dry_run() { DRY_RUN_PREFIX.len() } else { 0 })
        .max()
        .unwrap_or(0);
    for l in lines {
        let mark = if l.took.is_some() {
            "\x1b[32m✔\x1b[0m"
        } else {
            "⠿"
        };
        let prefix = if dry_run() { DRY_RUN_PREFIX } else { "" };
        let label = format!("{prefix}{} {}", l.kind, l.name);
        let took = l.took.unwrap_or_else(|| l.since.elapsed().as_secs_f64());
        let _ = writeln!(
            out,
            "\x1b[2K {mark} {label:<width$}  {:<10} {took:>5.1}s",
            l.status
        );
    }
    let _ = out.flush();
}

/// The view's last word after a failure: the lines not finished are marked failed.
pub fn fail() {
    if MODE.get().copied() != Some(Mode::Tty) {
        return;
    }
    let Ok(mut lines) = VIEW.lock() else { return };
    if lines.is_empty() {
        return;
    }
    let drawn = lines.len();
    for l in lines.iter_mut().filter(|l| l.took.is_none()) {
        l.status = "Error".into();
        l.took = Some(l.since.elapsed().as_secs_f64());
    }
    draw(&lines, drawn);
}
