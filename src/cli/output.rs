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
