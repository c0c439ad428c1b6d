//! Which process holds an endpoint: its supervisor, named by pid and start time (field 22
//! of `/proc/<pid>/stat`, in clock ticks since boot), so a recycled pid is not mistaken
//! for it. Asking needs no lock of the container: probing a container's lock would
//! briefly take it and make a concurrent start of that container fail.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Holder {
    pub pid: i32,
    pub start: u64,
}

impl Holder {
    /// The calling process.
    pub fn this_process() -> Holder {
        let pid = std::process::id() as i32;
        Holder {
            pid,
            start: start_time(pid).unwrap_or(0),
        }
    }

    /// Another process (a running container's supervisor), if it exists.
    pub fn of(pid: i32) -> Option<Holder> {
        Some(Holder {
            pid,
            start: start_time(pid)?,
        })
    }

    /// Whether the holding process still runs (and is the same process; a zombie, whose
    /// parent has not reaped it yet, has ended).
    pub fn alive(&self) -> bool {
        self.pid > 0 && start_time(self.pid) == Some(self.start)
    }
}

fn start_time(pid: i32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) is in parentheses and may hold spaces or ')'.
    let mut rest = stat[stat.rfind(')')? + 2..].split(' ');
    if matches!(rest.next(), Some("Z" | "X")) {
        return None;
    }
    rest.nth(18)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_alive_and_a_stranger_is_not() {
        let me = Holder::this_process();
        assert!(me.start > 0);
        assert!(me.alive());
        let other = Holder {
            start: me.start + 1,
            ..me
        };
        assert!(!other.alive());
        assert!(!Holder::default().alive());
    }
}
