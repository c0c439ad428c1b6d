//! Terminal output shared by the commands: errors and warnings on stderr.

use std::io::{BufRead, IsTerminal, Write};

/// Docker's prune prompt; without a terminal there is no one to ask, so `-f` is required.
pub fn confirm(warning: &str) -> anyhow::Result<bool> {
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        anyhow::bail!(
            "refusing to prune without confirmation: stdin is not a terminal; use --force (-f) to prune without asking"
        );
    }
    print!("{warning}\nAre you sure you want to continue? [y/N] ");
    std::io::stdout().flush()?;
    let mut answer = String::new();
    stdin.lock().read_line(&mut answer)?;
    Ok(matches!(answer.trim().to_lowercase().as_str(), "y" | "yes"))
}

/// Prints an error chain on one line: `error: outer: inner: root cause`.
pub fn error(e: &anyhow::Error) {
    let _ = writeln!(std::io::stderr(), "error: {}", one_line(e));
}

/// The chain joined with `: `, leaving out a cause whose text the message before it
/// already ends with (library errors often print their source themselves).
fn one_line(e: &anyhow::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if parts.last().is_some_and(|prev| prev.ends_with(&text)) {
            continue;
        }
        parts.push(text);
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Inner;
    impl std::fmt::Display for Inner {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("permission denied")
        }
    }
    impl std::error::Error for Inner {}

    #[derive(Debug)]
    struct Outer(Inner);
    impl std::fmt::Display for Outer {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "failed to create /x: {}", self.0)
        }
    }
    impl std::error::Error for Outer {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }

    #[test]
    fn a_cause_is_not_repeated() {
        let e = anyhow::Error::new(Outer(Inner)).context("cannot open the store");
        assert_eq!(
            one_line(&e),
            "cannot open the store: failed to create /x: permission denied"
        );
    }
}

pub fn warning(msg: &str) {
    let _ = writeln!(std::io::stderr(), "warning: {msg}");
}

/// A failure with a specific exit code (Docker's: 125 berth's own error, 126 cannot
/// execute, 127 not found, or the container's own code for `run`), and an optional
/// message printed as `error: ...`.
#[derive(Debug)]
pub struct Exit {
    pub code: i32,
    pub message: Option<String>,
}

impl Exit {
    pub fn error(code: i32, e: &(dyn std::error::Error + 'static)) -> Exit {
        let mut parts: Vec<String> = Vec::new();
        let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(e);
        while let Some(c) = cause {
            let text = c.to_string();
            if !parts.last().is_some_and(|prev| prev.ends_with(&text)) {
                parts.push(text);
            }
            cause = c.source();
        }
        Exit::message(code, parts.join(": "))
    }

    pub fn message(code: i32, message: String) -> Exit {
        Exit {
            code,
            message: Some(message),
        }
    }

    pub fn silent(code: i32) -> Exit {
        Exit {
            code,
            message: None,
        }
    }
}

impl std::fmt::Display for Exit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.message {
            Some(m) => f.write_str(m),
            None => write!(f, "exit status {}", self.code),
        }
    }
}

impl std::error::Error for Exit {}

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

/// `inspect` of several objects, Docker's way: every one that is found is printed
/// (JSON, or `format`), each one that is not gets its error line, and the exit is 1 if
/// any was missing.
pub fn inspect_each(
    names: &[String],
    format: Option<&str>,
    mut get: impl FnMut(&str) -> anyhow::Result<serde_json::Value>,
) -> anyhow::Result<()> {
    let mut values = Vec::new();
    let mut failed = false;
    for name in names {
        match get(name) {
            Ok(v) => values.push(v),
            Err(e) => {
                error(&e);
                failed = true;
            }
        }
    }
    crate::cli::image::inspect::print(&values, format)?;
    if failed {
        return Err(Reported.into());
    }
    Ok(())
}

/// `--label k=v`, `--opt k=v` and the like as a map (a bare `k` is `k=`).
pub fn key_values(
    flag: &str,
    values: &[String],
) -> anyhow::Result<std::collections::BTreeMap<String, String>> {
    let mut out = std::collections::BTreeMap::new();
    for v in values {
        let (k, val) = v.split_once('=').unwrap_or((v.as_str(), ""));
        if k.is_empty() {
            anyhow::bail!("invalid {flag} {v:?}: expected key=value");
        }
        out.insert(k.to_string(), val.to_string());
    }
    Ok(out)
}

/// An `ls` listing: `--format` absent or `table` is `default`; `json` prints each row
/// as a JSON line; anything else is a template (`table …` with `headers`).
pub fn print_listing(
    rows: &[serde_json::Value],
    format: Option<&str>,
    default: &str,
    headers: &[(&str, &str)],
) -> anyhow::Result<()> {
    let format = match format {
        None | Some("table") => default,
        Some(f) => f,
    };
    if format == "json" {
        for r in rows {
            println!("{}", serde_json::to_string(r)?);
        }
        return Ok(());
    }
    print!(
        "{}",
        crate::cli::template::render_table_with_headers(format, rows, headers)?
    );
    Ok(())
}
