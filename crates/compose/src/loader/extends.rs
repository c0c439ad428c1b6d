//! `extends`: a service built on another one, from the same file or another file.
//! The base is fully resolved first (it may extend too), and the extending service is
//! merged over it with the file-merge rules. A base from another file has its relative paths rebased on that file's
//! directory.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::error::{ConfigError, Warnings};
use crate::interpolate;
use crate::merge;
use crate::transform;
use crate::yaml::{Map, Node};

use super::{Context, paths, read_source};

/// Resolves `extends` of every service in `doc` (one canonical document of `file`).
pub(crate) fn apply(
    ctx: &Context,
    doc: &mut Node,
    file: &Path,
    warnings: &mut Warnings,
) -> Result<(), ConfigError> {
    let Some(services) = doc.get("services").and_then(Node::as_map) else {
        return Ok(());
    };
    let names: Vec<String> = services
        .iter()
        .filter(|(_, s)| s.get("extends").is_some())
        .map(|(k, _)| k.name.clone())
        .collect();
    if names.is_empty() {
        return Ok(());
    }
    let mut resolver = Resolver {
        ctx,
        warnings,
        files: HashMap::new(),
    };
    let mut services = services.clone();
    for name in names {
        let mut stack = Vec::new();
        let resolved = resolver.resolve(file, &services, &name, &mut stack)?;
        if let Some(slot) = services.get_mut(name.as_str()) {
            *slot = resolved;
        }
    }
    if let Some(slot) = doc.get_mut("services")
        && let Some(map) = slot.as_map_mut()
    {
        *map = services;
    }
    Ok(())
}

struct Resolver<'a, 'w> {
    ctx: &'a Context<'a>,
    warnings: &'w mut Warnings,
    /// Services of other files, loaded once each.
    files: HashMap<PathBuf, Map>,
}

impl Resolver<'_, '_> {
    /// The service `name` of `services` (defined in `file`) with its `extends` chain applied.
    fn resolve(
        &mut self,
        file: &Path,
        services: &Map,
        name: &str,
        stack: &mut Vec<(PathBuf, String)>,
    ) -> Result<Node, ConfigError> {
        let Some(service) = services.get(name) else {
            return Err(ConfigError::new(format!(
                "service {name:?} not found in {}",
                file.display()
            )));
        };
        let Some(ext) = service.get("extends") else {
            return Ok(service.clone());
        };
        let key = (file.to_path_buf(), name.to_string());
        if stack.contains(&key) {
            // Name files only when the chain leaves the file it starts in.
            let one_file = stack.iter().all(|(f, _)| f == file);
            let chain: Vec<String> = stack
                .iter()
                .chain(std::iter::once(&key))
                .map(|(f, s)| {
                    if one_file {
                        s.clone()
                    } else {
                        format!("{s} ({})", f.display())
                    }
                })
                .collect();
            return Err(ConfigError::at(
                &ext.mark,
                format!("services.{name}.extends"),
                format!("circular reference: {}", chain.join(" -> ")),
            ));
        }
        let target = ext
            .get("service")
            .and_then(Node::as_str)
            .ok_or_else(|| {
                ConfigError::at(
                    &ext.mark,
                    format!("services.{name}.extends"),
                    "must name a service",
                )
            })?
            .to_string();
        let other_file = ext.get("file").and_then(Node::as_str).map(str::to_string);

        stack.push(key);
        let base = match other_file {
            Some(rel) => {
                let dir = file.parent().unwrap_or(Path::new("/"));
                let path = super::environment::absolute(
                    dir,
                    Path::new(&paths::expand_user(&rel, self.ctx.env)),
                );
                let other = self.services_of(&path).map_err(|e| {
                    e.or_at(&ext.mark)
                        .or_path(format!("services.{name}.extends.file"))
                })?;
                if other.get(target.as_str()).is_none() {
                    return Err(ConfigError::at(
                        &ext.mark,
                        format!("services.{name}.extends"),
                        format!(
                            "cannot extend service {name:?}: service {target:?} not found in {}",
                            path.display()
                        ),
                    ));
                }
                let mut base = self.resolve(&path, &other, &target, stack)?;
                let base_dir = path.parent().unwrap_or(Path::new("/")).to_path_buf();
                paths::resolve_service(&mut base, &base_dir, self.ctx.env)?;
                base
            }
            None => {
                if services.get(target.as_str()).is_none() {
                    return Err(ConfigError::at(
                        &ext.mark,
                        format!("services.{name}.extends"),
                        format!(
                            "cannot extend service {name:?} in {}: service {target:?} not found",
                            file.display()
                        ),
                    ));
                }
                self.resolve(file, services, &target, stack)?
            }
        };
        stack.pop();

        // The compose-spec says `depends_on` and `volumes_from` are not inherited, but
        // Compose v2.40.3 inherits them; berth matches Compose (docs/decisions.md).
        let mut service = service.clone();
        if let Some(map) = service.as_map_mut() {
            map.shift_remove("extends");
        }
        if base.is_null() {
            return Ok(service);
        }
        merge::merge_services(base, service)
    }

    /// The `services` of another compose file, interpolated and in canonical form.
    fn services_of(&mut self, path: &Path) -> Result<Map, ConfigError> {
        if let Some(s) = self.files.get(path) {
            return Ok(s.clone());
        }
        let source = read_source(path, None)?;
        let mut merged: Option<Node> = None;
        for mut doc in source.documents {
            if doc.is_null() {
                continue;
            }
            if self.ctx.opts.interpolate {
                let env = self.ctx.env;
                let lookup = |k: &str| env.get(k).cloned();
                interpolate::interpolate_node(&mut doc, &lookup, self.warnings)?;
            }
            transform::canonical_with_warnings(&mut doc, self.warnings)?;
            merged = Some(match merged {
                None => doc,
                Some(base) => merge::merge_projects(base, doc)?,
            });
        }
        let services = merged
            .as_ref()
            .and_then(|d| d.get("services"))
            .and_then(Node::as_map)
            .cloned()
            .ok_or_else(|| ConfigError::new(format!("{}: no services section", path.display())))?;
        self.files.insert(path.to_path_buf(), services.clone());
        Ok(services)
    }
}
