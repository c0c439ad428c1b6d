//! Health checks, run by the supervisor: Docker's `HEALTHCHECK` / `--health-*` semantics
//! (probe every interval, or every start interval during the start period; a probe that
//! outlives its timeout is killed and fails; `retries` consecutive failures make the
//! container unhealthy, failures in the start period do not count), except that the first
//! probe runs as soon as the process has started instead of one interval later. Results
//! go to `State.Health` (the last five, as Docker keeps) and status changes to the event
//! journal (`health_status: healthy`).

use std::os::fd::{AsFd, OwnedFd};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::Containers;
use super::config::HealthConfig;
use super::exec::ExecRequest;
use crate::runtime::{ExecProcess, InitStdio};

const DEFAULT_INTERVAL: Duration = Duration::from_secs(30);
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
const DEFAULT_START_INTERVAL: Duration = Duration::from_secs(5);
const DEFAULT_RETRIES: u32 = 3;
/// Docker keeps this much of a probe's output.
const MAX_OUTPUT: usize = 4096;
const MAX_LOG: usize = 5;

/// `State.Health` as `docker inspect` prints it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct Health {
    pub status: String,
    pub failing_streak: u32,
    pub log: Vec<HealthResult>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct HealthResult {
    pub start: String,
    pub end: String,
    pub exit_code: i32,
    pub output: String,
}

impl Health {
    pub fn starting() -> Health {
        Health {
            status: "starting".into(),
            failing_streak: 0,
            log: Vec::new(),
        }
    }
}

/// The command a probe runs, from `Test`: `CMD args...` or `CMD-SHELL line`; `None` for
/// `NONE` or an empty test (no health check).
pub fn probe_command(test: &[String]) -> Option<Vec<String>> {
    match test.split_first() {
        Some((kind, rest)) if kind == "CMD" && !rest.is_empty() => Some(rest.to_vec()),
        Some((kind, rest)) if kind == "CMD-SHELL" && !rest.is_empty() => {
            Some(vec!["/bin/sh".into(), "-c".into(), rest.join(" ")])
        }
        _ => None,
    }
}

fn ns(d: i64, default: Duration) -> Duration {
    if d > 0 {
        Duration::from_nanos(d as u64)
    } else {
        default
    }
}

/// One container's checker, driven by the supervisor's poll loop.
pub struct Checker {
    command: Vec<String>,
    interval: Duration,
    timeout: Duration,
    start_interval: Duration,
    start_period_ends: Instant,
    retries: u32,
    next: Instant,
    pub running: Option<Probe>,
    /// A probe that could not start, reported at the next look.
    pending: Option<HealthResult>,
}

/// A probe in flight: its helper (exit = the probe's), its output pipe, what it printed.
pub struct Probe {
    pub process: ExecProcess,
    pub output: OwnedFd,
    collected: Vec<u8>,
    started: Instant,
    started_at: String,
    pub output_open: bool,
}

impl Probe {
    /// Keeps output up to Docker's bound; the rest is read and dropped.
    fn keep(&mut self, bytes: &[u8]) {
        let room = MAX_OUTPUT.saturating_sub(self.collected.len());
        self.collected
            .extend_from_slice(&bytes[..bytes.len().min(room)]);
    }
}

impl Checker {
    pub fn new(config: Option<&HealthConfig>) -> Option<Checker> {
        let config = config?;
        let command = probe_command(&config.test)?;
        let now = Instant::now();
        Some(Checker {
            command,
            interval: ns(config.interval, DEFAULT_INTERVAL),
            timeout: ns(config.timeout, DEFAULT_TIMEOUT),
            start_interval: ns(config.start_interval, DEFAULT_START_INTERVAL),
            start_period_ends: now + ns(config.start_period, Duration::ZERO),
            retries: if config.retries > 0 {
                config.retries as u32
            } else {
                DEFAULT_RETRIES
            },
            next: now,
            running: None,
            pending: None,
        })
    }

    pub fn retries(&self) -> u32 {
        self.retries
    }

    /// When the loop must wake up next: the probe's deadline, or the next probe.
    pub fn deadline(&self) -> Instant {
        match &self.running {
            Some(p) => p.started + self.timeout,
            None => self.next,
        }
    }

    /// Starts a probe if one is due.
    pub fn maybe_start(&mut self, containers: &Containers, id: &str) {
        if self.running.is_some() || Instant::now() < self.next {
            return;
        }
        let started = Instant::now();
        let started_at = crate::time::now_rfc3339();
        match start_probe(containers, id, &self.command) {
            Ok((process, output)) => {
                self.running = Some(Probe {
                    process,
                    output,
                    collected: Vec::new(),
                    started,
                    started_at,
                    output_open: true,
                });
            }
            Err(message) => {
                // Could not even start (the command is missing): a failed probe.
                self.next = started + self.period(started);
                let result = HealthResult {
                    start: started_at,
                    end: crate::time::now_rfc3339(),
                    exit_code: -1,
                    output: message,
                };
                self.pending = Some(result);
            }
        }
    }

    fn period(&self, at: Instant) -> Duration {
        if at < self.start_period_ends {
            self.start_interval
        } else {
            self.interval
        }
    }

    /// Kills a probe still running (the container ended).
    pub fn abandon(&mut self) {
        if let Some(p) = self.running.take() {
            if let Some(group) = rustix::process::Pid::from_raw(p.process.pid()) {
                let _ = rustix::process::kill_process_group(group, rustix::process::Signal::KILL);
            }
            let _ = p.process.wait();
        }
    }

    /// Output of the running probe (the pipe is readable).
    pub fn read_output(&mut self) {
        let Some(p) = self.running.as_mut() else {
            return;
        };
        let mut buf = [0u8; 4096];
        match rustix::io::read(&p.output, &mut buf) {
            Ok(0) => p.output_open = false,
            Ok(n) => p.keep(&buf[..n]),
            Err(rustix::io::Errno::INTR | rustix::io::Errno::AGAIN) => {}
            Err(_) => p.output_open = false,
        }
    }

    /// The result of a probe that ended (its helper exited) or timed out (killed), if
    /// any; also one that could not start.
    pub fn take_result(&mut self, ended: bool) -> Option<(HealthResult, bool)> {
        if let Some(r) = self.pending.take() {
            let in_start = Instant::now() < self.start_period_ends;
            return Some((r, in_start));
        }
        let p = self.running.as_ref()?;
        let timed_out = Instant::now() >= p.started + self.timeout;
        if !ended && !timed_out {
            return None;
        }
        let mut p = self.running.take()?;
        let (exit_code, output) = if ended {
            // Whatever is still in the pipe.
            let _ = rustix::io::ioctl_fionbio(&p.output, true);
            let mut buf = [0u8; 4096];
            while let Ok(n) = rustix::io::read(&p.output, &mut buf) {
                if n == 0 {
                    break;
                }
                p.keep(&buf[..n]);
            }
            let code = p.process.wait().unwrap_or(-1);
            (code, String::from_utf8_lossy(&p.collected).into_owned())
        } else {
            // The helper leads its own process group, which holds the probe too.
            if let Some(group) = rustix::process::Pid::from_raw(p.process.pid()) {
                let _ = rustix::process::kill_process_group(group, rustix::process::Signal::KILL);
            }
            let _ = p.process.wait();
            (
                -1,
                format!(
                    "Health check exceeded timeout ({})",
                    go_duration(self.timeout)
                ),
            )
        };
        let started = p.started;
        self.next = started + self.period(started);
        let in_start = started < self.start_period_ends;
        Some((
            HealthResult {
                start: p.started_at,
                end: crate::time::now_rfc3339(),
                exit_code,
                output,
            },
            in_start,
        ))
    }
}

/// Applies a result to the health state; the new status if it changed.
pub fn record(
    health: &mut Health,
    result: HealthResult,
    in_start_period: bool,
    retries: u32,
) -> Option<String> {
    let before = health.status.clone();
    if result.exit_code == 0 {
        health.failing_streak = 0;
        health.status = "healthy".into();
    } else if !in_start_period {
        health.failing_streak += 1;
        if health.failing_streak >= retries {
            health.status = "unhealthy".into();
        }
    }
    health.log.push(result);
    if health.log.len() > MAX_LOG {
        health.log.remove(0);
    }
    (health.status != before).then(|| health.status.clone())
}

fn start_probe(
    containers: &Containers,
    id: &str,
    command: &[String],
) -> Result<(ExecProcess, OwnedFd), String> {
    let (read, write) =
        rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC).map_err(|e| e.to_string())?;
    let null: OwnedFd = std::fs::File::open("/dev/null")
        .map_err(|e| e.to_string())?
        .into();
    let err = rustix::io::fcntl_dupfd_cloexec(write.as_fd(), 3).map_err(|e| e.to_string())?;
    let request = ExecRequest {
        cmd: command.to_vec(),
        // A session (and process group) of its own, so a timeout kills the probe with it.
        detach: true,
        health_probe: true,
        ..ExecRequest::default()
    };
    let process = containers
        .exec(
            id,
            &request,
            InitStdio {
                stdin: null,
                stdout: write,
                stderr: err,
            },
            None,
        )
        .map_err(|e| e.message)?;
    Ok((process.process, read))
}

/// Go's `time.Duration.String()` for whole seconds and milliseconds (`30s`, `1m30s`,
/// `500ms`), as Docker words the timeout.
pub fn go_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms < 1000 {
        return format!("{ms}ms");
    }
    let secs = d.as_secs_f64();
    let (h, rest) = ((secs / 3600.0).floor(), secs % 3600.0);
    let (m, s) = ((rest / 60.0).floor(), rest % 60.0);
    let s_text = if s.fract() == 0.0 {
        format!("{}s", s as u64)
    } else {
        format!("{s}s")
    };
    match (h as u64, m as u64) {
        (0, 0) => s_text,
        (0, m) => format!("{m}m{s_text}"),
        (h, m) => format!("{h}h{m}m{s_text}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tests_become_commands() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(probe_command(&s(&["CMD", "true"])), Some(s(&["true"])));
        assert_eq!(
            probe_command(&s(&["CMD-SHELL", "curl -f x || exit 1"])),
            Some(s(&["/bin/sh", "-c", "curl -f x || exit 1"]))
        );
        assert_eq!(probe_command(&s(&["NONE"])), None);
        assert_eq!(probe_command(&[]), None);
    }

    #[test]
    fn retries_and_the_start_period() {
        let mut h = Health::starting();
        let r = |code| HealthResult {
            start: String::new(),
            end: String::new(),
            exit_code: code,
            output: String::new(),
        };
        assert_eq!(
            record(&mut h, r(1), true, 2),
            None,
            "failures in the start period do not count"
        );
        assert_eq!(h.failing_streak, 0);
        assert_eq!(record(&mut h, r(0), true, 2).as_deref(), Some("healthy"));
        assert_eq!(record(&mut h, r(1), false, 2), None);
        assert_eq!(record(&mut h, r(1), false, 2).as_deref(), Some("unhealthy"));
        for _ in 0..5 {
            record(&mut h, r(1), false, 2);
        }
        assert_eq!(h.log.len(), 5);
        assert_eq!(h.failing_streak, 7);
        assert_eq!(go_duration(Duration::from_secs(30)), "30s");
        assert_eq!(go_duration(Duration::from_secs(90)), "1m30s");
        assert_eq!(go_duration(Duration::from_millis(500)), "500ms");
    }
}
