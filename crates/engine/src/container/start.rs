//! `start` on the CLI side: spawn the container's supervisor (the same berth binary in its
//! hidden `__supervise` mode) and read its handshake. The supervisor detaches itself
//! (`setsid`) and outlives the CLI; only the pipe connects them.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::os::fd::{AsFd, AsRawFd};
use std::path::Path;
use std::process::{Command, Stdio};

use rustix::io::{FdFlags, fcntl_setfd};
use rustix::pipe::{PipeFlags, pipe_with};

use super::protocol::{Message, PROTOCOL};
use super::{ContainerError, Containers, liveness};

/// A started container: its main process runs. For a foreground `run`, `wait_exit`
/// follows the supervisor to the end.
/// How the CLI that starts a container is attached to its output.
pub enum Attach {
    /// Not at all (`-d`, `start`).
    None,
    /// The supervisor writes the output to the CLI's own stdout and stderr (`run` without
    /// `-i` or `-t`: no copy through the CLI).
    Inherit,
    /// One end of a socket pair the CLI relays through (`-i`, `-t`, `start -a`): see
    /// `attach.rs`.
    Socket(std::os::fd::OwnedFd),
}

pub struct Started {
    pub pid: i32,
    handshake: BufReader<File>,
}

/// Why a start failed, with the exit code Docker would give for it.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct StartError {
    pub message: String,
    pub exit_code: i32,
}

impl From<ContainerError> for StartError {
    fn from(e: ContainerError) -> Self {
        StartError {
            message: e.to_string(),
            exit_code: 125,
        }
    }
}

impl Containers {
    /// Starts a created or exited container. With `attach`, the supervisor writes the
    /// container's output to this process's stdout and stderr as well as to the log.
    pub fn start(&self, berth: &Path, id: &str, attach: Attach) -> Result<Started, StartError> {
        let state = self.state(id)?;
        if state.running {
            return Err(ContainerError::AlreadyRunning(id.into()).into());
        }
        // Refuse early if a supervisor is on its way up (its lock is taken first thing).
        drop(
            liveness::try_lock(&self.dir(id))?
                .ok_or_else(|| ContainerError::AlreadyRunning(id.into()))?,
        );
        // A new start: the restart policy applies again, and counts from zero.
        let _ = std::fs::remove_file(self.dir(id).join(super::NO_RESTART_MARKER));
        if state.restart_count != 0 {
            let mut fresh = state.clone();
            fresh.restart_count = 0;
            self.write_state(id, &fresh)?;
        }
        let (read, write) = pipe_with(PipeFlags::CLOEXEC)
            .map_err(|e| ContainerError::io("create a pipe for", self.dir(id), e.into()))?;
        // The write end goes to the supervisor: the only descriptor it inherits besides
        // 0, 1 and 2 (std opens everything else close-on-exec).
        fcntl_setfd(&write, FdFlags::empty())
            .map_err(|e| ContainerError::io("set up a pipe for", self.dir(id), e.into()))?;
        let inherit = matches!(attach, Attach::Inherit);
        let output = || {
            if inherit {
                Stdio::inherit()
            } else {
                Stdio::null()
            }
        };
        let attach_fd = match attach {
            Attach::Socket(fd) => {
                fcntl_setfd(&fd, FdFlags::empty()).map_err(|e| {
                    ContainerError::io("set up a socket for", self.dir(id), e.into())
                })?;
                Some(fd)
            }
            _ => None,
        };
        let spawned = Command::new(berth)
            .arg("--root")
            .arg(self.root())
            .arg("__supervise")
            .arg(id)
            .arg(write.as_raw_fd().to_string())
            .args(inherit.then_some("--attach"))
            .args(
                attach_fd
                    .as_ref()
                    .map(|fd| format!("--attach-fd={}", fd.as_raw_fd())),
            )
            // A supervisor lives as long as its container: mimalloc must neither commit
            // (touch) whole arenas up front nor keep freed pages, or each one holds ~6 MB
            // of private memory instead of ~1 MB (docs/benchmarks.md). The container's
            // own environment comes from its spec, not from this one.
            .env("MIMALLOC_ARENA_EAGER_COMMIT", "0")
            .env("MIMALLOC_PURGE_DELAY", "0")
            .stdin(Stdio::null())
            .stdout(output())
            .stderr(output())
            .spawn();
        drop(write);
        drop(attach_fd);
        spawned.map_err(|e| ContainerError::io("run the supervisor", berth, e))?;
        let mut handshake = BufReader::new(File::from(read));
        match read_message(&mut handshake)? {
            Some(Message::Started { pid, .. }) => Ok(Started { pid, handshake }),
            Some(Message::Error {
                message, exit_code, ..
            }) => Err(StartError { message, exit_code }),
            Some(Message::Exited { exit_code, .. }) => Err(StartError {
                message: format!(
                    "container exited with {exit_code} before it was reported started"
                ),
                exit_code: 125,
            }),
            None => Err(StartError {
                message: format!(
                    "the supervisor of container {id} ended before it reported the start"
                ),
                exit_code: 125,
            }),
        }
    }
}

impl Started {
    /// Waits for the end of the container (and of `--rm`); returns its exit code.
    pub fn wait_exit(mut self) -> Result<i32, StartError> {
        loop {
            match read_message(&mut self.handshake)? {
                Some(Message::Exited { exit_code, .. }) => return Ok(exit_code),
                Some(_) => continue,
                None => {
                    return Err(StartError {
                        message: "the container's supervisor ended without reporting the exit"
                            .into(),
                        exit_code: 125,
                    });
                }
            }
        }
    }

    /// The read end of the handshake, for callers that wait on it with other fds.
    pub fn handshake_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.handshake.get_ref().as_fd()
    }
}

fn read_message(reader: &mut BufReader<File>) -> Result<Option<Message>, StartError> {
    let mut line = String::new();
    loop {
        line.clear();
        match reader.read_line(&mut line) {
            Ok(0) => return Ok(None),
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                return Err(StartError {
                    message: format!("cannot read from the supervisor: {e}"),
                    exit_code: 125,
                });
            }
        }
        let message: Message = serde_json::from_str(&line).map_err(|_| StartError {
            message: format!("the supervisor sent an unreadable message: {}", line.trim()),
            exit_code: 125,
        })?;
        if message.protocol() != PROTOCOL {
            return Err(StartError {
                message: format!(
                    "the supervisor speaks protocol {}, this berth speaks {PROTOCOL}; use the same berth build for both",
                    message.protocol()
                ),
                exit_code: 125,
            });
        }
        return Ok(Some(message));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn reader_of(line: &str) -> BufReader<File> {
        let (read, write) = pipe_with(PipeFlags::CLOEXEC).expect("pipe");
        let mut write = File::from(write);
        write.write_all(line.as_bytes()).expect("write");
        drop(write);
        BufReader::new(File::from(read))
    }

    /// A supervisor of another build is reported by name, never misread.
    #[test]
    fn another_protocol_is_reported_clearly() {
        let line = format!(
            "{{\"event\":\"started\",\"protocol\":{},\"pid\":1}}\n",
            PROTOCOL + 1
        );
        let Err(e) = read_message(&mut reader_of(&line)) else {
            panic!("a newer protocol was accepted");
        };
        assert_eq!(
            e.message,
            format!(
                "the supervisor speaks protocol {}, this berth speaks {PROTOCOL}; use the same berth build for both",
                PROTOCOL + 1
            )
        );
        let ok = format!("{{\"event\":\"started\",\"protocol\":{PROTOCOL},\"pid\":7}}\n");
        assert!(matches!(
            read_message(&mut reader_of(&ok)),
            Ok(Some(Message::Started { pid: 7, .. }))
        ));
        let Err(e) = read_message(&mut reader_of("garbage\n")) else {
            panic!("garbage was accepted");
        };
        assert!(
            e.message
                .starts_with("the supervisor sent an unreadable message"),
            "{}",
            e.message
        );
    }
}
