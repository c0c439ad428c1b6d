//! The CLI ↔ supervisor handshake: the CLI starts `berth __supervise` with the write end
//! of a pipe; the supervisor reports on it, one JSON line per message, then closes it.
//! Every message carries the protocol version, so a CLI can tell a supervisor of another
//! build and say so instead of misreading it.

use serde::{Deserialize, Serialize};

/// Bumped when a message changes meaning; additions of optional fields do not bump it.
pub const PROTOCOL: u32 = 1;

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "event", rename_all = "lowercase")]
pub enum Message {
    /// The container's process runs (its state file says so already).
    Started { protocol: u32, pid: i32 },
    /// The start failed; nothing of it is left. `exit_code` is Docker's for the cause
    /// (125 berth's own error, 126 cannot execute, 127 not found).
    Error {
        protocol: u32,
        message: String,
        exit_code: i32,
    },
    /// The process ended and everything after it (state, `--rm`) is done.
    Exited { protocol: u32, exit_code: i32 },
}

impl Message {
    pub fn protocol(&self) -> u32 {
        match self {
            Message::Started { protocol, .. }
            | Message::Error { protocol, .. }
            | Message::Exited { protocol, .. } => *protocol,
        }
    }

    pub fn to_line(&self) -> Vec<u8> {
        let mut line = serde_json::to_vec(self).unwrap_or_default();
        line.push(b'\n');
        line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_tagged_json_lines() {
        let m = Message::Exited {
            protocol: PROTOCOL,
            exit_code: 3,
        };
        assert_eq!(
            String::from_utf8(m.to_line()).unwrap(),
            "{\"event\":\"exited\",\"protocol\":1,\"exit_code\":3}\n"
        );
        let back: Message = serde_json::from_slice(&m.to_line()).unwrap();
        assert_eq!(back, m);
    }
}
