//! The supervisor: `berth __supervise <id> <fd>`, one per running container. It takes the
//! container's lock, clones the container's init while it is still single-threaded
//! (`runtime::spawn`), reports on the handshake pipe, then runs one poll loop that copies
//! the container's output into the log (and to the attached CLI) and reaps the process
//! through its pidfd. At the end it records the exit, sweeps the cgroup, applies `--rm`
//! and reports the exit code. Its lock is released by the kernel when it exits, however
//! it exits; that is what tells every command it is gone.

use std::fs::File;
use std::io::{self, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};

use rustix::event::{PollFd, PollFlags, poll};
use rustix::pipe::{PipeFlags, pipe_with};

use super::attach;
use super::attach_server::{self, Hub, Slot};
use super::logs::{LogDriver, LogWriter, Stream};
use super::protocol::{Message, PROTOCOL};
use super::record::{ContainerRecord, State, Status, SupervisorInfo};
use super::spec::{self, SpecInputs};
use super::{ContainerError, Containers, liveness, user};
use crate::runtime;

/// Runs the supervisor; returns the process exit code of the supervisor itself.
pub fn run(
    root: &Path,
    id: &str,
    handshake: OwnedFd,
    attach: bool,
    attached: Option<OwnedFd>,
) -> i32 {
    let mut report = Some(File::from(handshake));
    // Leave the CLI's session: a Ctrl-C at the terminal must not reach the supervisor.
    let _ = rustix::process::setsid();
    let containers = Containers {
        root: root.to_path_buf(),
    };
    // Held for the container's whole life, restarts included, and released only when
    // everything is recorded and cleaned up: that is what tells every command it is gone.
    let locked = take_lock(&containers, id);
    let _lock = match locked {
        Ok(lock) => lock,
        Err(message) => {
            send(
                &mut report,
                Message::Error {
                    protocol: PROTOCOL,
                    message,
                    exit_code: 125,
                },
            );
            return 1;
        }
    };
    // `attach` connects here; a supervisor that cannot listen still runs its container.
    let mut hub = Hub::new(attach::listen(&containers.dir(id)).ok());
    let _socket = RemovedOnDrop(containers.dir(id).join(attach::SOCKET));
    if let Some(fd) = attached {
        hub.add_client(fd);
    }
    let mut restarts = Restarts::new();
    let mut forward = attach;
    loop {
        let running = match prepare_and_spawn(&containers, id, restarts.count) {
            Ok(running) => running,
            Err((message, exit_code)) => {
                if report.is_none() {
                    // A restart that cannot start: the container stays exited.
                    if let Ok(state) = super::record::read_state(&containers.dir(id)) {
                        let failed = state.exited(exit_code, crate::time::now_rfc3339(), message);
                        let _ = containers.write_state(id, &failed);
                    }
                    return 1;
                }
                // Docker removes an auto-remove container whose start failed.
                if let Ok(record) = containers.record(id)
                    && record.host_config.auto_remove
                {
                    let _ = containers.remove_locked(&record);
                }
                send(
                    &mut report,
                    Message::Error {
                        protocol: PROTOCOL,
                        message,
                        exit_code,
                    },
                );
                return 1;
            }
        };
        send(
            &mut report,
            Message::Started {
                protocol: PROTOCOL,
                pid: running.init.pid(),
            },
        );
        let started = std::time::Instant::now();
        let record = running.record.clone();
        let (exit_code, end, dns) = supervise(&containers, running, forward, &mut hub);
        // The attached CLI gets the first exit (as `docker run` returns then); later runs
        // only go to the log.
        forward = false;
        match end {
            End::Finished(cleanup) => {
                send(
                    &mut report,
                    Message::Exited {
                        protocol: PROTOCOL,
                        exit_code,
                    },
                );
                drop(report.take());
                cleanup.run();
                // Closing its inotify instance waits for an SRCU grace period (10–20 ms
                // here): done after the exit is reported.
                drop(dns);
                return 0;
            }
            End::Restart => {
                drop(dns);
                send(
                    &mut report,
                    Message::Exited {
                        protocol: PROTOCOL,
                        exit_code,
                    },
                );
                report = None;
                let delay = restarts.next_delay(started.elapsed());
                if !wait_before_restart(&containers.dir(id), delay) {
                    // Stopped while waiting: it stays exited with its last code.
                    let _ = runtime::remove_cgroup(&super::cgroups_path(id));
                    if let Ok(state) = super::record::read_state(&containers.dir(id)) {
                        let exited =
                            state.exited(exit_code, state.finished_at.clone(), String::new());
                        let _ = containers.write_state(id, &exited);
                    }
                    containers.emit(&record, "stop", &[]);
                    return 0;
                }
            }
        }
    }
}

/// The attach socket goes when the supervisor does (however `run` returns).
struct RemovedOnDrop(PathBuf);

impl Drop for RemovedOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Writes a message to the CLI that started the supervisor, while it listens.
fn send(report: &mut Option<File>, message: Message) {
    if let Some(r) = report.as_mut() {
        let _ = r.write_all(&message.to_line());
    }
}

/// Docker's restart back-off: 100 ms, doubled at each restart up to a minute, back to
/// 100 ms after a run of 10 s or more.
struct Restarts {
    count: u32,
    delay: std::time::Duration,
}

impl Restarts {
    fn new() -> Restarts {
        Restarts {
            count: 0,
            delay: std::time::Duration::ZERO,
        }
    }

    fn next_delay(&mut self, ran: std::time::Duration) -> std::time::Duration {
        use std::time::Duration;
        self.count += 1;
        self.delay = if self.delay.is_zero() || ran >= Duration::from_secs(10) {
            Duration::from_millis(100)
        } else {
            (self.delay * 2).min(Duration::from_secs(60))
        };
        self.delay
    }
}

/// The container's lock, as the supervisor of a new run. Another process may hold it
/// for an instant without being a supervisor: a sibling thread of the CLI that started
/// us forked (to start another container) while it had the lock file open, and the
/// child keeps that open file, lock included, until its exec. So a busy lock is waited
/// for, up to a bound; one taken after a wait is only ours if no run happened meanwhile.
fn take_lock(containers: &Containers, id: &str) -> Result<liveness::LockGuard, String> {
    let dir = containers.dir(id);
    if let Some(lock) = liveness::try_lock(&dir).map_err(|e| e.to_string())? {
        return Ok(lock);
    }
    let busy = || format!("container {id} is already running");
    let before = super::record::read_state(&dir).map(|s| s.started_at).ok();
    let (tx, rx) = std::sync::mpsc::channel();
    let waiting = dir.clone();
    std::thread::spawn(move || {
        let _ = tx.send(liveness::lock(&waiting));
    });
    match rx.recv_timeout(std::time::Duration::from_secs(2)) {
        Ok(Ok(lock)) => {
            let after = super::record::read_state(&dir).map(|s| s.started_at).ok();
            if after == before {
                Ok(lock)
            } else {
                Err(busy())
            }
        }
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err(busy()),
    }
}

/// Sleeps `delay` unless `stop`/`kill` asks for no restart meanwhile (the marker file,
/// seen through inotify, never by polling); true to go on with the restart.
fn wait_before_restart(dir: &Path, delay: std::time::Duration) -> bool {
    use rustix::fs::inotify;
    let marker = dir.join(super::NO_RESTART_MARKER);
    let watch = inotify::init(inotify::CreateFlags::CLOEXEC).ok();
    if let Some(fd) = &watch {
        let _ = inotify::add_watch(
            fd,
            dir,
            inotify::WatchFlags::CREATE | inotify::WatchFlags::MOVED_TO,
        );
    }
    let deadline = std::time::Instant::now() + delay;
    loop {
        if marker.exists() {
            return false;
        }
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        if left.is_zero() {
            return true;
        }
        match &watch {
            Some(fd) => {
                let timeout = rustix::event::Timespec::try_from(left).ok();
                let mut fds = [PollFd::new(fd, PollFlags::IN)];
                let _ = poll(&mut fds, timeout.as_ref());
                let mut buf = [std::mem::MaybeUninit::<u8>::uninit(); 4096];
                if fds[0].revents().contains(PollFlags::IN) {
                    let _ = rustix::io::read(fd, &mut buf);
                }
            }
            None => std::thread::sleep(left),
        }
    }
}

struct Running {
    record: ContainerRecord,
    state: State,
    init: runtime::Init,
    stdout: OwnedFd,
    stderr: OwnedFd,
    /// Where attached clients' stdin goes (`-i`, or the terminal with `-t`).
    stdin: Option<attach_server::Stdin>,
    log: Option<LogWriter>,
    health: Option<super::health::Checker>,
    /// Released when the run ends (this is dropped).
    _network: super::networking::Attachment,
    /// The embedded DNS server, on networks with names.
    dns: Option<crate::network::dns_server::DnsServer>,
    /// The userland proxy of the published ports.
    proxy: Option<crate::network::proxy::Proxy>,
}

fn prepare_and_spawn(
    containers: &Containers,
    id: &str,
    restart_count: u32,
) -> Result<Running, (String, i32)> {
    let own = |e: ContainerError| (e.to_string(), 125);
    let dir = containers.dir(id);
    let starting = super::Starting::mark(&dir);
    let record = containers.record(id).map_err(own)?;
    let previous = super::record::read_state(&dir).map_err(own)?;
    let store = crate::store::Store::open(containers.root()).map_err(|e| (e.to_string(), 125))?;
    let init_layer = super::initlayer::ensure(containers.root())
        .map_err(|e| (format!("cannot prepare the init layer: {e}"), 125))?;
    let mut lowers: Vec<PathBuf> = vec![init_layer];
    for chain in record.layers.iter().rev() {
        let digest =
            crate::Digest::parse(chain).map_err(|e| (format!("layer {chain}: {e}"), 125))?;
        lowers.push(store.layer_dir(&digest));
    }
    let upper = dir.join("upper");
    // A volatile mount (an `--rm` container) leaves `work/work/incompat/volatile`, and
    // overlayfs refuses the work dir after it: the container is starting anew anyway.
    let _ = std::fs::remove_dir_all(dir.join("work").join("work").join("incompat"));
    let mut user_layers = vec![upper.clone()];
    user_layers.extend(lowers.iter().cloned());
    let resolved = user::resolve(
        &record.config.user,
        &user_layers,
        record.host_config.group_add.as_deref().unwrap_or_default(),
    )
    .map_err(own)?;
    let network =
        super::networking::Attachment::prepare(containers, &record).map_err(|e| (e, 125))?;
    super::etc_files::write(&dir, &record, &network.etc_inputs())
        .map_err(|e| (format!("cannot prepare /etc files: {e}"), 125))?;
    let (proxy, ports) = network.publish(containers, &record).map_err(|e| (e, 125))?;
    let (holders, _volume_locks) = tmpfs_holders(containers, &record).map_err(own)?;
    let init_binary = std::env::current_exe().ok();
    let spec = spec::derive(
        &record,
        &SpecInputs {
            container_dir: &dir,
            link_env: &network.linked.env,
            user: &resolved,
            init_binary: init_binary.as_deref(),
            first_start: previous.started_at == super::record::ZERO_TIME,
            ipc_pid: running_container_pid(containers, &record.host_config.ipc_mode),
            pid_pid: running_container_pid(containers, &record.host_config.pid_mode),
            net_pid: running_container_pid(containers, &record.host_config.network_mode),
            tmpfs_holders: &holders,
        },
    )
    .map_err(own)?;
    let log_config = &record.host_config.log_config;
    let opts = log_config
        .config
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()));
    let log = match LogDriver::from_config(&log_config.kind, opts) {
        Ok(LogDriver::JsonFile(options)) => Some(
            LogWriter::open(&dir, options)
                .map_err(|e| (format!("cannot open the log: {e}"), 125))?,
        ),
        Ok(LogDriver::None) => None,
        Err(e) => return Err((e.to_string(), 125)),
    };
    let io_error = |e: io::Error| (format!("cannot set up the container's stdio: {e}"), 125);
    let (out_r, out_w) = pipe_with(PipeFlags::CLOEXEC).map_err(|e| io_error(e.into()))?;
    let (err_r, err_w) = pipe_with(PipeFlags::CLOEXEC).map_err(|e| io_error(e.into()))?;
    let config = &record.config;
    // `-i` without `-t`: a pipe whose write end the hub keeps.
    let (stdin, stdin_writer) = if config.open_stdin && !config.tty {
        let (r, w) = pipe_with(PipeFlags::CLOEXEC).map_err(|e| io_error(e.into()))?;
        (r, Some(w))
    } else {
        (
            OwnedFd::from(File::open("/dev/null").map_err(io_error)?),
            None,
        )
    };
    // `-t`: the process makes its terminal and sends the master back.
    let (terminal, console_end) = if config.tty {
        let (ours, theirs) = runtime::console_socket_pair().map_err(io_error)?;
        let [rows, cols] = record.host_config.console_size;
        let console = runtime::Console {
            socket: theirs,
            rows: u16::try_from(rows).unwrap_or(0),
            cols: u16::try_from(cols).unwrap_or(0),
        };
        (Some(console), Some(ours))
    } else {
        (None, None)
    };
    let plan = runtime::InitPlan {
        spec,
        rootfs: runtime::Rootfs::Overlay {
            lowers,
            upper,
            work: dir.join("work"),
            target: dir.join("rootfs"),
            volatile: record.host_config.auto_remove,
        },
        stdio: runtime::InitStdio {
            stdin,
            stdout: out_w,
            stderr: err_w,
        },
        seccomp_cache: Some(containers.seccomp_cache_dir()),
        terminal,
    };
    let mut dns = None;
    let init = runtime::spawn_with(&plan, |init| {
        dns = network.connect(init, &record)?;
        Ok(())
    })
    .map_err(|e| {
        let code = e.exit_code();
        (e.to_string(), code)
    })?;
    drop(plan);
    let (stdout, stdin) = match console_end {
        Some(end) => {
            let master = runtime::receive_master(end.as_fd())
                .ok()
                .flatten()
                .ok_or_else(|| {
                    let _ = init.signal(9);
                    let _ = init.wait();
                    let _ = runtime::remove_cgroup(&super::cgroups_path(id));
                    (
                        "the container did not hand over its terminal".to_string(),
                        125,
                    )
                })?;
            let writer =
                rustix::io::fcntl_dupfd_cloexec(&master, 3).map_err(|e| io_error(e.into()))?;
            let stdin = attach_server::Stdin {
                fd: writer,
                terminal: true,
                once: config.stdin_once,
            };
            (master, Some(stdin))
        }
        None => {
            let stdin = stdin_writer.map(|fd| attach_server::Stdin {
                fd,
                terminal: false,
                once: config.stdin_once,
            });
            (out_r, stdin)
        }
    };
    let checker = super::health::Checker::new(record.config.healthcheck.as_ref());
    let state = State {
        status: Status::Running,
        running: true,
        pid: init.pid(),
        exit_code: 0,
        error: String::new(),
        oom_killed: false,
        started_at: crate::time::now_rfc3339(),
        finished_at: previous.finished_at.clone(),
        boot_id: liveness::current_boot_id(),
        restart_count,
        restarting: false,
        health: checker.as_ref().map(|_| super::health::Health::starting()),
        supervisor: Some(SupervisorInfo {
            pid: std::process::id() as i32,
            protocol: PROTOCOL,
        }),
        ports,
        ..previous
    };
    if let Err(e) = containers.write_state(id, &state) {
        let _ = init.signal(9);
        let _ = init.wait();
        let _ = runtime::remove_cgroup(&super::cgroups_path(id));
        return Err(own(e));
    }
    drop(starting);
    containers.emit(&record, "start", &[]);
    Ok(Running {
        record,
        state,
        init,
        stdout,
        stderr: err_r,
        stdin,
        log,
        health: checker,
        _network: network,
        dns,
        proxy,
    })
}

/// The poll loop: output to the log (and the attached CLI) until the process exits and
/// both pipes are drained. Returns the exit code.
/// How a run ended: for good (with what is left to clean up) or to be restarted.
enum End {
    Finished(Box<Cleanup>),
    Restart,
}

/// What a slot of the poll set is.
#[derive(Clone, Copy)]
enum Tag {
    Output(usize),
    Process,
    Probe,
    ProbeOutput,
    Hub(Slot),
    Dns(crate::network::dns_server::DnsSlot),
    Proxy(crate::network::proxy::ProxySlot),
}

/// A container without a PID namespace of its own (`--pid host`, `container:<x>`): the
/// kernel kills a namespace's processes when its PID 1 exits, but here nothing does, and
/// what the init left (the child of `--init`, a daemonized process) would live on, holding
/// the output pipes open. Killed as runc does, through the container's cgroup.
///
/// Repeated until the cgroup is empty (bounded): a process can fork between the read of
/// the cgroup's pids and the kill.
fn kill_leftovers(id: &str) {
    let path = super::cgroups_path(id);
    for _ in 0..100 {
        let pids = runtime::cgroup_pids(&path).unwrap_or_default();
        if pids.is_empty() {
            return;
        }
        for pid in pids {
            if let Some(pid) = rustix::process::Pid::from_raw(pid) {
                let _ = rustix::process::kill_process(pid, rustix::process::Signal::KILL);
            }
        }
        std::thread::yield_now();
    }
}

fn supervise(
    containers: &Containers,
    mut running: Running,
    attach: bool,
    hub: &mut Hub,
) -> (i32, End, Option<crate::network::dns_server::DnsServer>) {
    let mut forward = attach;
    let mut open = [true, true];
    let mut exit: Option<i32> = None;
    let mut buf = vec![0u8; 64 * 1024];
    hub.set_stdin(running.stdin.take());
    while open[0] || open[1] || exit.is_none() {
        let mut fds = Vec::with_capacity(8);
        let mut tags = Vec::with_capacity(8);
        if open[0] {
            fds.push(PollFd::new(&running.stdout, PollFlags::IN));
            tags.push(Tag::Output(0));
        }
        if open[1] {
            fds.push(PollFd::new(&running.stderr, PollFlags::IN));
            tags.push(Tag::Output(1));
        }
        if exit.is_none() {
            fds.push(PollFd::from_borrowed_fd(
                running.init.pidfd(),
                PollFlags::IN,
            ));
            tags.push(Tag::Process);
        }
        let mut timeout = None;
        if let Some(probe) = running.health.as_ref().and_then(|h| h.running.as_ref()) {
            fds.push(PollFd::from_borrowed_fd(
                probe.process.pidfd(),
                PollFlags::IN,
            ));
            tags.push(Tag::Probe);
            if probe.output_open {
                fds.push(PollFd::new(&probe.output, PollFlags::IN));
                tags.push(Tag::ProbeOutput);
            }
        }
        if let Some(h) = running.health.as_ref().filter(|_| exit.is_none()) {
            let left = h
                .deadline()
                .saturating_duration_since(std::time::Instant::now());
            timeout = rustix::event::Timespec::try_from(left).ok();
        }
        let mut slots = Vec::new();
        hub.register(&mut fds, &mut slots);
        tags.extend(slots.into_iter().map(Tag::Hub));
        if let Some(dns) = running.dns.as_ref().filter(|_| exit.is_none()) {
            let mut slots = Vec::new();
            dns.register(&mut fds, &mut slots);
            tags.extend(slots.into_iter().map(Tag::Dns));
            sooner(&mut timeout, dns.deadline());
        }
        if let Some(proxy) = running.proxy.as_ref().filter(|_| exit.is_none()) {
            let mut slots = Vec::new();
            proxy.register(&mut fds, &mut slots);
            tags.extend(slots.into_iter().map(Tag::Proxy));
            sooner(&mut timeout, proxy.deadline());
        }
        match poll(&mut fds, timeout.as_ref()) {
            Ok(_) => {}
            Err(rustix::io::Errno::INTR) => continue,
            Err(_) => break,
        }
        let ready: Vec<(Tag, PollFlags)> = fds
            .iter()
            .zip(&tags)
            .filter(|(fd, _)| !fd.revents().is_empty())
            .map(|(fd, tag)| (*tag, fd.revents()))
            .collect();
        drop(fds);
        let mut probe_ended = false;
        for (tag, revents) in ready {
            let w = match tag {
                Tag::Probe => {
                    probe_ended = true;
                    continue;
                }
                Tag::ProbeOutput => {
                    if let Some(h) = running.health.as_mut() {
                        h.read_output();
                    }
                    continue;
                }
                Tag::Process => {
                    // Not reaped yet: the pid in the state stays this process's until the
                    // exit is recorded (`stop`/`kill` signal it by that pid).
                    exit = Some(running.init.exit_status().map(|s| s.code()).unwrap_or(137));
                    if !running.record.host_config.pid_mode.is_empty() {
                        kill_leftovers(&running.record.id);
                    }
                    continue;
                }
                Tag::Hub(slot) => {
                    hub.ready(slot);
                    continue;
                }
                Tag::Dns(slot) => {
                    if let Some(dns) = running.dns.as_mut() {
                        dns.ready(slot);
                    }
                    continue;
                }
                Tag::Proxy(slot) => {
                    if let Some(proxy) = running.proxy.as_mut() {
                        proxy.ready(slot, revents);
                    }
                    continue;
                }
                Tag::Output(w) => w,
            };
            let (fd, stream) = if w == 0 {
                (running.stdout.as_fd(), Stream::Stdout)
            } else {
                (running.stderr.as_fd(), Stream::Stderr)
            };
            match rustix::io::read(fd, &mut buf) {
                Ok(0) => open[w] = false,
                Ok(n) => {
                    let chunk = &buf[..n];
                    if let Some(log) = running.log.as_mut() {
                        let _ = log.write(stream, chunk);
                    }
                    if hub.has_clients() {
                        let kind = if w == 0 {
                            attach::STDOUT
                        } else {
                            attach::STDERR
                        };
                        hub.output(kind, chunk);
                    }
                    if forward {
                        let ok = if w == 0 {
                            io::stdout()
                                .write_all(chunk)
                                .and_then(|()| io::stdout().flush())
                        } else {
                            io::stderr().write_all(chunk)
                        };
                        // The CLI went away: keep logging, stop forwarding.
                        forward = ok.is_ok();
                    }
                }
                Err(rustix::io::Errno::INTR | rustix::io::Errno::AGAIN) => {}
                // EIO: a terminal whose every slave is closed.
                Err(_) => open[w] = false,
            }
        }
        hub.sweep();
        if let Some(dns) = running.dns.as_mut() {
            dns.sweep();
        }
        if let Some(proxy) = running.proxy.as_mut() {
            proxy.sweep();
        }
        if exit.is_none() {
            check_health(containers, &mut running, probe_ended);
        }
    }
    // A probe still running when the container ended goes with it.
    if let Some(h) = running.health.as_mut() {
        h.abandon();
    }
    if let Some(log) = running.log.take() {
        let _ = log.close();
    }
    let exit_code = exit.unwrap_or(137);
    let end = finish(containers, &running.record, &running.state, exit_code);
    let _ = running.init.wait();
    hub.exited(exit_code);
    (exit_code, end, running.dns.take())
}

/// Shortens the poll timeout to `deadline` when that comes first.
fn sooner(timeout: &mut Option<rustix::event::Timespec>, deadline: Option<std::time::Instant>) {
    let Some(at) = deadline else {
        return;
    };
    let left = at.saturating_duration_since(std::time::Instant::now());
    let later = timeout.is_none_or(|t| {
        std::time::Duration::new(t.tv_sec.max(0) as u64, t.tv_nsec.max(0) as u32) > left
    });
    if later {
        *timeout = rustix::event::Timespec::try_from(left).ok();
    }
}

/// Collects a finished (or overdue) probe into the state and starts the next one.
fn check_health(containers: &Containers, running: &mut Running, probe_ended: bool) {
    let Some(checker) = running.health.as_mut() else {
        return;
    };
    if let Some((result, in_start)) = checker.take_result(probe_ended) {
        let retries = checker.retries();
        let health = running
            .state
            .health
            .get_or_insert_with(super::health::Health::starting);
        let changed = super::health::record(health, result, in_start, retries);
        let _ = containers.write_state(&running.record.id, &running.state);
        if let Some(status) = changed {
            containers.emit(&running.record, &format!("health_status: {status}"), &[]);
        }
    }
    if let Some(checker) = running.health.as_mut() {
        checker.maybe_start(containers, &running.record.id);
    }
}

/// Docker's restart policies; `stop`/`kill` (the no-restart marker) always win.
fn wants_restart(dir: &Path, record: &ContainerRecord, state: &State, exit_code: i32) -> bool {
    if dir.join(super::NO_RESTART_MARKER).exists() {
        return false;
    }
    let policy = &record.host_config.restart_policy;
    match policy.name.as_str() {
        "always" | "unless-stopped" => true,
        "on-failure" => {
            exit_code != 0
                && (policy.maximum_retry_count <= 0
                    || i64::from(state.restart_count) < policy.maximum_retry_count)
        }
        _ => false,
    }
}

/// Records the exit, emits `die`, and for `--rm` makes the container cease to exist;
/// returns what is left to clean up after the exit has been reported.
fn finish(containers: &Containers, record: &ContainerRecord, state: &State, exit_code: i32) -> End {
    let id = &record.id;
    let cgroups_path = super::cgroups_path(id);
    let restart = wants_restart(&containers.dir(id), record, state, exit_code);
    // `restart` of an `--rm` container keeps it (as Docker does): it leaves a marker.
    let keep = containers.dir(id).join(super::KEEP_MARKER);
    let auto_remove = record.host_config.auto_remove && std::fs::remove_file(&keep).is_err();
    // Read before the cgroup goes: Docker reports an OOM kill of any process in it.
    let oom_killed = runtime::oom_kills(&cgroups_path) > 0;
    if oom_killed {
        containers.emit(record, "oom", &[]);
    }
    if restart {
        let _ = runtime::remove_cgroup(&cgroups_path);
        let mut restarting = state.exited(exit_code, crate::time::now_rfc3339(), String::new());
        restarting.status = super::Status::Restarting;
        restarting.running = true;
        restarting.restarting = true;
        restarting.oom_killed = oom_killed;
        restarting.supervisor = state.supervisor.clone();
        let _ = containers.write_state(id, &restarting);
        containers.emit(record, "die", &[("exitCode", exit_code.to_string())]);
        return End::Restart;
    }
    // A container that stays is fully cleaned up before its state says exited, so that
    // "exited" means only the supervisor's exit is left (see `remove_stopped`).
    if !auto_remove {
        let _ = runtime::remove_cgroup(&cgroups_path);
    }
    if !auto_remove {
        let mut exited = state.exited(exit_code, crate::time::now_rfc3339(), String::new());
        exited.oom_killed = oom_killed;
        let _ = containers.write_state(id, &exited);
    }
    // For `--rm` the `die` event is where the exit code stays (`wait` reads it there):
    // the container is unlisted next, with no exited state in between that a crash could
    // leave behind (a running state with a free lock is reconciled and removed).
    containers.emit(record, "die", &[("exitCode", exit_code.to_string())]);
    if auto_remove {
        // Gone for everyone at once; its files and cgroup go after the exit is reported.
        End::Finished(Box::new(Cleanup {
            cgroups_path: Some(cgroups_path),
            removed: containers.unlist(record).ok(),
            volumes_of: Some((containers.clone(), record.clone())),
        }))
    } else {
        End::Finished(Box::new(Cleanup {
            cgroups_path: None,
            removed: None,
            volumes_of: None,
        }))
    }
}

/// The slow part of the end of a container, done after the exit is reported (the CLI of a
/// foreground `run` returns meanwhile) but before the supervisor exits and releases the
/// lock (so `wait`, `stop` and `rm` still see it all done).
struct Cleanup {
    cgroups_path: Option<String>,
    removed: Option<PathBuf>,
    /// An `--rm` container whose anonymous volumes go with it.
    volumes_of: Option<(Containers, ContainerRecord)>,
}

impl Cleanup {
    fn run(self) {
        if let Some(path) = self.cgroups_path {
            let _ = runtime::remove_cgroup(&path);
        }
        if let Some(dir) = self.removed {
            let _ = std::fs::remove_dir_all(dir);
        }
        if let Some((containers, record)) = self.volumes_of {
            containers.remove_anonymous_volumes(&record);
        }
    }
}

/// `--ipc container:<x>` / `--pid container:<x>`: the pid of x's init while x runs.
/// For each tmpfs volume of `record`, a running container that has it mounted (if any),
/// found and kept under the volume's mount lock until this container runs too.
fn tmpfs_holders(
    containers: &Containers,
    record: &ContainerRecord,
) -> Result<
    (
        Vec<super::mounts::TmpfsHolder>,
        Vec<crate::store::ExclusiveLock>,
    ),
    ContainerError,
> {
    let names: Vec<&str> = record
        .mount_points
        .iter()
        .filter(|m| m.volume_tmpfs.is_some())
        .map(|m| m.name.as_str())
        .collect();
    if names.is_empty() {
        return Ok((Vec::new(), Vec::new()));
    }
    let volumes = crate::volume::Volumes::open(containers.root())
        .map_err(|e| ContainerError::Invalid(e.to_string()))?;
    let mut locks = Vec::new();
    for name in &names {
        locks.push(
            volumes
                .lock_mount(name)
                .map_err(|e| ContainerError::Invalid(e.to_string()))?,
        );
    }
    let mut holders = Vec::new();
    for id in containers.ids()? {
        if id == record.id {
            continue;
        }
        let Ok(other) = containers.record(&id) else {
            continue;
        };
        let Ok(state) = containers.state(&id) else {
            continue;
        };
        if !state.running {
            continue;
        }
        for m in other
            .mount_points
            .iter()
            .filter(|m| m.volume_tmpfs.is_some())
        {
            if names.contains(&m.name.as_str())
                && !holders
                    .iter()
                    .any(|h: &super::mounts::TmpfsHolder| h.volume == m.name)
            {
                holders.push(super::mounts::TmpfsHolder {
                    volume: m.name.clone(),
                    pid: state.pid,
                    destination: m.destination.clone(),
                });
            }
        }
    }
    Ok((holders, locks))
}

fn running_container_pid(containers: &Containers, mode: &str) -> Option<i32> {
    let name = mode.strip_prefix("container:")?;
    let id = containers.lookup(name).ok()?;
    let state = containers.state(&id).ok()?;
    state.running.then_some(state.pid)
}
