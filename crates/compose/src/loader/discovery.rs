//! Which compose files make a project: `-f`, else `COMPOSE_FILE`, else the first
//! directory from the working directory upwards that holds one of the default names,
//! together with its `*.override.*` file.

use std::path::{Path, PathBuf};

use crate::error::{ConfigError, Warnings};

use super::environment::{Environment, absolute};

const DEFAULT_NAMES: [&str; 4] = [
    "compose.yaml",
    "compose.yml",
    "docker-compose.yml",
    "docker-compose.yaml",
];
const OVERRIDE_NAMES: [&str; 4] = [
    "compose.override.yml",
    "compose.override.yaml",
    "docker-compose.override.yml",
    "docker-compose.override.yaml",
];

/// Files from `COMPOSE_FILE`, split on `COMPOSE_PATH_SEPARATOR` (default `:`).
pub fn from_env(env: &Environment, dir: &Path) -> Vec<PathBuf> {
    let Some(list) = env.get("COMPOSE_FILE").filter(|v| !v.is_empty()) else {
        return Vec::new();
    };
    let sep = env
        .get("COMPOSE_PATH_SEPARATOR")
        .filter(|s| !s.is_empty())
        .map(String::as_str)
        .unwrap_or(":");
    list.split(sep)
        .filter(|f| !f.is_empty())
        .map(|f| absolute(dir, Path::new(f)))
        .collect()
}

/// Searches `start` and its parents for a default compose file.
pub fn find_default(start: &Path, warnings: &mut Warnings) -> Result<Vec<PathBuf>, ConfigError> {
    let mut dir = Some(start);
    while let Some(d) = dir {
        let found = existing(d, &DEFAULT_NAMES);
        if let Some(winner) = found.first() {
            if found.len() > 1 {
                warnings.push(format!(
                    "Found multiple config files with supported names: {}",
                    join(&found)
                ));
                warnings.push(format!("Using {}", winner.display()));
            }
            let mut files = vec![winner.clone()];
            let overrides = existing(d, &OVERRIDE_NAMES);
            if let Some(o) = overrides.first() {
                if overrides.len() > 1 {
                    warnings.push(format!(
                        "Found multiple override files with supported names: {}",
                        join(&overrides)
                    ));
                    warnings.push(format!("Using {}", o.display()));
                }
                files.push(o.clone());
            }
            return Ok(files);
        }
        dir = d.parent();
    }
    Err(ConfigError::new(
        "no configuration file provided: not found (looked for compose.yaml, compose.yml, docker-compose.yml, docker-compose.yaml in the current directory and its parents; use -f to name one)",
    ))
}

fn existing(dir: &Path, names: &[&str]) -> Vec<PathBuf> {
    names
        .iter()
        .map(|n| dir.join(n))
        .filter(|p| p.is_file())
        .collect()
}

fn join(files: &[PathBuf]) -> String {
    files
        .iter()
        .map(|f| f.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use indexmap::IndexMap;

    #[test]
    fn compose_file_list_uses_separator() {
        let mut env = IndexMap::new();
        env.insert("COMPOSE_FILE".into(), "a.yaml;b/c.yaml".into());
        env.insert("COMPOSE_PATH_SEPARATOR".into(), ";".into());
        let files = from_env(&env, Path::new("/p"));
        assert_eq!(
            files,
            vec![PathBuf::from("/p/a.yaml"), PathBuf::from("/p/b/c.yaml")]
        );
    }

    #[test]
    fn finds_file_and_override_in_parent() {
        let root = std::env::temp_dir().join(format!("berth-disc-{}", std::process::id()));
        let sub = root.join("x/y");
        std::fs::create_dir_all(&sub).unwrap();
        std::fs::write(root.join("compose.yaml"), "services: {}\n").unwrap();
        std::fs::write(root.join("compose.override.yaml"), "services: {}\n").unwrap();
        let mut w = Warnings::default();
        let files = find_default(&sub, &mut w).unwrap();
        assert_eq!(
            files,
            vec![
                root.join("compose.yaml"),
                root.join("compose.override.yaml")
            ]
        );
        assert!(w.0.is_empty());
        std::fs::remove_dir_all(&root).unwrap();
    }
}
