//! Relative paths made absolute: build contexts, env files, bind sources, secret and
//! config files, `extends.file`, watch paths and local bind-type volume devices.
//! Remote build contexts (URLs, git references) and Windows paths are left as written.

use std::path::Path;

use crate::error::ConfigError;
use crate::yaml::{Node, Value};

use super::environment::{Environment, absolute};

/// Resolves every path of a canonical project tree against `dir`.
pub fn resolve_project(tree: &mut Node, dir: &Path, env: &Environment) -> Result<(), ConfigError> {
    let Some(map) = tree.as_map_mut() else {
        return Ok(());
    };
    if let Some(services) = map.get_mut("services").and_then(Node::as_map_mut) {
        for (_, service) in services.iter_mut() {
            resolve_service(service, dir, env)?;
        }
    }
    for kind in ["configs", "secrets"] {
        if let Some(items) = map.get_mut(kind).and_then(Node::as_map_mut) {
            for (_, item) in items.iter_mut() {
                if let Some(file) = item.get_mut("file") {
                    maybe_unix(file, dir, env);
                }
            }
        }
    }
    if let Some(volumes) = map.get_mut("volumes").and_then(Node::as_map_mut) {
        for (_, volume) in volumes.iter_mut() {
            if volume.get("driver").and_then(Node::as_str) != Some("local") {
                continue;
            }
            let Some(opts) = volume.get_mut("driver_opts") else {
                continue;
            };
            if opts.get("o").and_then(Node::as_str) == Some("bind")
                && let Some(device) = opts.get_mut("device")
            {
                maybe_unix(device, dir, env);
            }
        }
    }
    Ok(())
}

/// Resolves the paths of one canonical service definition against `dir`.
pub fn resolve_service(
    service: &mut Node,
    dir: &Path,
    env: &Environment,
) -> Result<(), ConfigError> {
    let Some(svc) = service.as_map_mut() else {
        return Ok(());
    };
    if let Some(build) = svc.get_mut("build") {
        if let Some(ctx) = build.get_mut("context") {
            context_path(ctx, dir, env);
        }
        if let Some(extra) = build
            .get_mut("additional_contexts")
            .and_then(Node::as_map_mut)
        {
            for (_, ctx) in extra.iter_mut() {
                context_path(ctx, dir, env);
            }
        }
    }
    if let Some(files) = svc.get_mut("env_file").and_then(Node::as_seq_mut) {
        for f in files.iter_mut() {
            if let Some(p) = f.get_mut("path") {
                plain_path(p, dir, env);
            }
        }
    }
    if let Some(files) = svc.get_mut("label_file").and_then(Node::as_seq_mut) {
        for f in files.iter_mut() {
            plain_path(f, dir, env);
        }
    }
    if let Some(file) = svc.get_mut("extends").and_then(|e| e.get_mut("file")) {
        plain_path(file, dir, env);
    }
    if let Some(watch) = svc
        .get_mut("develop")
        .and_then(|d| d.get_mut("watch"))
        .and_then(Node::as_seq_mut)
    {
        for rule in watch.iter_mut() {
            if let Some(p) = rule.get_mut("path") {
                plain_path(p, dir, env);
                if let Some(s) = p.as_str()
                    && let Ok(real) = std::fs::canonicalize(s)
                {
                    p.value = Value::String(real.display().to_string());
                }
            }
        }
    }
    if let Some(volumes) = svc.get_mut("volumes").and_then(Node::as_seq_mut) {
        for volume in volumes.iter_mut() {
            if volume.get("type").and_then(Node::as_str) != Some("bind") {
                continue;
            }
            match volume.get_mut("source") {
                Some(src) => maybe_unix(src, dir, env),
                None => {
                    return Err(ConfigError::at(
                        &volume.mark,
                        "volumes",
                        "invalid mount config for type \"bind\": field Source must not be empty",
                    ));
                }
            }
        }
    }
    Ok(())
}

/// `~` and `~/x` expanded to the home directory.
pub fn expand_user(p: &str, env: &Environment) -> String {
    let home = || {
        env.get("HOME")
            .cloned()
            .or_else(|| std::env::var("HOME").ok())
    };
    if p == "~" {
        if let Some(h) = home() {
            return h;
        }
    } else if let Some(rest) = p.strip_prefix("~/")
        && let Some(h) = home()
    {
        return format!("{}/{rest}", h.trim_end_matches('/'));
    }
    p.to_string()
}

fn plain_path(node: &mut Node, dir: &Path, env: &Environment) {
    if let Some(s) = node.as_str() {
        if s.is_empty() {
            return;
        }
        let expanded = expand_user(s, env);
        node.value = Value::String(absolute(dir, Path::new(&expanded)).display().to_string());
    }
}

/// Like [`plain_path`], but Windows absolute paths stay as written.
fn maybe_unix(node: &mut Node, dir: &Path, env: &Environment) {
    if node.as_str().is_some_and(is_windows_absolute) {
        return;
    }
    plain_path(node, dir, env);
}

fn context_path(node: &mut Node, dir: &Path, env: &Environment) {
    if node.as_str().is_some_and(is_remote_context) {
        return;
    }
    plain_path(node, dir, env);
}

/// A build context the builder fetches itself: any URL-like reference or git remote.
fn is_remote_context(s: &str) -> bool {
    s.contains("://") || s.starts_with("git@") || s.starts_with("github.com/")
}

fn is_windows_absolute(s: &str) -> bool {
    let b = s.as_bytes();
    (b.len() >= 3 && b[0].is_ascii_alphabetic() && b[1] == b':' && (b[2] == b'\\' || b[2] == b'/'))
        || s.starts_with("\\\\")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::Mark;

    fn env() -> Environment {
        let mut e = Environment::new();
        e.insert("HOME".into(), "/root".into());
        e
    }

    #[test]
    fn expands_home() {
        assert_eq!(expand_user("~/x", &env()), "/root/x");
        assert_eq!(expand_user("~", &env()), "/root");
        assert_eq!(expand_user("~x", &env()), "~x");
    }

    #[test]
    fn windows_and_remote_paths_stay() {
        let mut n = Node::string("C:\\docker\\project", Mark::synthetic());
        maybe_unix(&mut n, Path::new("/p"), &env());
        assert_eq!(n.as_str(), Some("C:\\docker\\project"));
        let mut n = Node::string("https://github.com/a/b.git", Mark::synthetic());
        context_path(&mut n, Path::new("/p"), &env());
        assert_eq!(n.as_str(), Some("https://github.com/a/b.git"));
        let mut n = Node::string("./app/../web", Mark::synthetic());
        context_path(&mut n, Path::new("/p"), &env());
        assert_eq!(n.as_str(), Some("/p/web"));
    }
}
