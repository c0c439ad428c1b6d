//! Waiting for a container's state to reach a condition without polling: its directory
//! is watched (inotify) for the state file being replaced, and the state is read again
//! at each replacement; a one-second re-read covers a supervisor that died without
//! writing (the engine's reads reconcile that).

use std::path::Path;
use std::time::{Duration, Instant};

use berth_engine::container::{Containers, State};
use rustix::event::{PollFd, PollFlags, Timespec, poll};
use rustix::fs::inotify::{self, CreateFlags, WatchFlags};

/// Calls `check` with the state of `id` now and after each change, until it gives a
/// result or `deadline` passes (`Err` naming `what`).
pub fn until<T>(
    containers: &Containers,
    id: &str,
    deadline: Option<Instant>,
    what: &str,
    mut check: impl FnMut(&State) -> Option<Result<T, String>>,
) -> Result<T, String> {
    let dir = containers.dir(id);
    let watch = inotify::init(CreateFlags::CLOEXEC | CreateFlags::NONBLOCK)
        .map_err(|e| format!("cannot watch {}: {e}", dir.display()))?;
    inotify::add_watch(
        &watch,
        Path::new(&dir),
        WatchFlags::MOVED_TO | WatchFlags::CLOSE_WRITE | WatchFlags::DELETE_SELF,
    )
    .map_err(|e| format!("cannot watch {}: {e}", dir.display()))?;
    loop {
        let state = containers.state(id).map_err(|e| e.to_string())?;
        if let Some(result) = check(&state) {
            return result;
        }
        let mut wait = Duration::from_secs(1);
        if let Some(deadline) = deadline {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(format!("timeout waiting for {what}"));
            }
            wait = wait.min(left);
        }
        let timeout = Timespec {
            tv_sec: wait.as_secs() as i64,
            tv_nsec: i64::from(wait.subsec_nanos()),
        };
        let mut fds = [PollFd::new(&watch, PollFlags::IN)];
        let _ = poll(&mut fds, Some(&timeout));
        let mut buf = [std::mem::MaybeUninit::<u8>::uninit(); 1024];
        let mut events = inotify::Reader::new(&watch, &mut buf);
        while events.next().is_ok() {}
    }
}
