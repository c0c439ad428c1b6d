//! Terminal output shared by the commands: errors and warnings on stderr.

use std::io::Write;

/// Prints an error chain on one line: `error: outer: inner: root cause`.
pub fn error(e: &anyhow::Error) {
    let chain: Vec<String> = e.chain().map(ToString::to_string).collect();
    let _ = writeln!(std::io::stderr(), "error: {}", chain.join(": "));
}

pub fn warning(msg: &str) {
    let _ = writeln!(std::io::stderr(), "warning: {msg}");
}

/// A failure whose details were already printed (e.g. `rmi` of several images): the
/// caller only sets the exit status.
#[derive(Debug)]
pub struct Reported;

impl std::fmt::Display for Reported {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("errors were reported above")
    }
}

impl std::error::Error for Reported {}
