//! The project environment: the shell's variables, completed (never overridden) by the
//! `.env` file of the project directory or by the `--env-file` files.

use std::path::{Path, PathBuf};

use indexmap::IndexMap;

use crate::dotenv;
use crate::error::ConfigError;

pub type Environment = IndexMap<String, String>;

/// The env files to read: the explicit ones, else `<dir>/.env` when it is a file.
/// `COMPOSE_DISABLE_ENV_FILE` turns the default off, as in Compose.
pub fn env_files(explicit: &[PathBuf], dir: &Path, shell: &Environment) -> Vec<PathBuf> {
    if !explicit.is_empty() {
        return explicit.iter().map(|f| absolute(dir, f)).collect();
    }
    if shell
        .get("COMPOSE_DISABLE_ENV_FILE")
        .is_some_and(|v| parse_go_bool(v) == Some(true))
    {
        return Vec::new();
    }
    let default = dir.join(".env");
    if default.is_file() {
        vec![default]
    } else {
        Vec::new()
    }
}

/// Reads `files` in order (a later file overrides an earlier one) and adds their
/// variables to `shell` where the shell does not set them already.
pub fn with_env_files(shell: &Environment, files: &[PathBuf]) -> Result<Environment, ConfigError> {
    let mut from_files: Environment = IndexMap::new();
    for file in files {
        let display = file.display().to_string();
        let text = std::fs::read_to_string(file).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                ConfigError::new(format!("couldn't find env file: {display}"))
            } else {
                ConfigError::new(format!("failed to read env file {display}: {e}"))
            }
        })?;
        let parsed = {
            let lookup = |k: &str| from_files.get(k).or_else(|| shell.get(k)).cloned();
            dotenv::parse(&text, &display, &lookup)?
        };
        for (k, v) in parsed {
            if let Some(v) = v {
                from_files.insert(k, v);
            }
        }
    }
    let mut env = shell.clone();
    for (k, v) in from_files {
        env.entry(k).or_insert(v);
    }
    Ok(env)
}

/// `strconv.ParseBool`.
pub fn parse_go_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// `dir.join(p)` unless `p` is absolute; `.` and `..` are folded lexically as Go's
/// `filepath.Join` does.
pub fn absolute(dir: &Path, p: &Path) -> PathBuf {
    clean(&dir.join(p))
}

/// Lexical clean of a path, like Go's `filepath.Clean` (no symlink resolution).
pub fn clean(p: &Path) -> PathBuf {
    use std::path::Component;
    let mut out: Vec<Component> = Vec::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => match out.last() {
                Some(Component::Normal(_)) => {
                    out.pop();
                }
                Some(Component::RootDir) => {}
                _ => out.push(c),
            },
            _ => out.push(c),
        }
    }
    if out.is_empty() {
        return PathBuf::from(".");
    }
    out.iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_folds_dots() {
        assert_eq!(clean(Path::new("/a/./b/../c")), PathBuf::from("/a/c"));
        assert_eq!(clean(Path::new("/../a")), PathBuf::from("/a"));
        assert_eq!(clean(Path::new("a/../..")), PathBuf::from(".."));
        assert_eq!(clean(Path::new("")), PathBuf::from("."));
    }

    #[test]
    fn go_bools() {
        assert_eq!(parse_go_bool("T"), Some(true));
        assert_eq!(parse_go_bool("0"), Some(false));
        assert_eq!(parse_go_bool("yes"), None);
    }
}
