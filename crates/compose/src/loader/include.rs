//! `include`: other compose projects loaded on their own (own project directory, own
//! env files) and imported into this one. A resource defined on both sides is an error
//! unless both definitions are equal.

use std::path::{Path, PathBuf};

use crate::error::{ConfigError, Warnings};
use crate::merge;
use crate::yaml::{Map, Node, Value};

use super::environment::{self, absolute};
use super::{Context, paths, read_source};

const IMPORTED: [&str; 5] = ["services", "volumes", "networks", "secrets", "configs"];

/// Loads every `include` entry of `doc` and imports its resources; removes `include`.
pub(crate) fn apply(
    ctx: &Context,
    doc: &mut Node,
    working_dir: &Path,
    included: &mut Vec<PathBuf>,
    warnings: &mut Warnings,
) -> Result<(), ConfigError> {
    let Some(map) = doc.as_map_mut() else {
        return Ok(());
    };
    let Some(include) = map.shift_remove("include") else {
        return Ok(());
    };
    let entries = match &include.value {
        Value::Seq(items) => items.clone(),
        Value::Null => Vec::new(),
        _ => return Err(ConfigError::at(&include.mark, "include", "must be a list")),
    };
    for (i, entry) in entries.iter().enumerate() {
        let at = format!("include[{i}]");
        let spec = IncludeSpec::from_node(entry, &at)?;
        let imported = load_included(ctx, &spec, working_dir, included, warnings)
            .map_err(|e| e.or_at(&entry.mark).or_path(at.clone()))?;
        import(map, imported, &at, &entry.mark)?;
    }
    Ok(())
}

struct IncludeSpec {
    paths: Vec<String>,
    project_directory: Option<String>,
    env_files: Vec<String>,
}

impl IncludeSpec {
    fn from_node(node: &Node, at: &str) -> Result<Self, ConfigError> {
        let strings = |n: Option<&Node>, key: &str| -> Result<Vec<String>, ConfigError> {
            match n.map(|n| &n.value) {
                None | Some(Value::Null) => Ok(Vec::new()),
                Some(Value::String(s)) => Ok(vec![s.clone()]),
                Some(Value::Seq(items)) => items
                    .iter()
                    .map(|i| {
                        i.as_str().map(str::to_string).ok_or_else(|| {
                            ConfigError::at(&i.mark, format!("{at}.{key}"), "must be a string")
                        })
                    })
                    .collect(),
                Some(_) => Err(ConfigError::at(
                    &node.mark,
                    format!("{at}.{key}"),
                    "must be a string or a list of strings",
                )),
            }
        };
        match &node.value {
            Value::String(s) => Ok(IncludeSpec {
                paths: vec![s.clone()],
                project_directory: None,
                env_files: Vec::new(),
            }),
            Value::Map(m) => {
                for k in m.keys() {
                    if !matches!(k.name.as_str(), "path" | "project_directory" | "env_file")
                        && !k.name.starts_with("x-")
                    {
                        return Err(ConfigError::at(
                            &k.mark,
                            format!("{at}.{}", k.name),
                            "unknown key: include entries take path, project_directory and env_file",
                        ));
                    }
                }
                let paths = strings(m.get("path"), "path")?;
                if paths.is_empty() {
                    return Err(ConfigError::at(
                        &node.mark,
                        format!("{at}.path"),
                        "is required",
                    ));
                }
                let project_directory = match m.get("project_directory") {
                    None => None,
                    Some(n) => Some(n.as_str().map(str::to_string).ok_or_else(|| {
                        ConfigError::at(
                            &n.mark,
                            format!("{at}.project_directory"),
                            "must be a string",
                        )
                    })?),
                };
                Ok(IncludeSpec {
                    paths,
                    project_directory,
                    env_files: strings(m.get("env_file"), "env_file")?,
                })
            }
            _ => Err(ConfigError::at(
                &node.mark,
                at,
                "must be a path or a mapping with `path`",
            )),
        }
    }
}

fn load_included(
    ctx: &Context,
    spec: &IncludeSpec,
    working_dir: &Path,
    included: &mut Vec<PathBuf>,
    warnings: &mut Warnings,
) -> Result<Map, ConfigError> {
    let files: Vec<PathBuf> = spec
        .paths
        .iter()
        .map(|p| absolute(working_dir, Path::new(&paths::expand_user(p, ctx.env))))
        .collect();
    let Some(main) = files.first() else {
        return Ok(Map::default());
    };
    if included.contains(main) {
        let mut chain: Vec<String> = included.iter().map(|p| p.display().to_string()).collect();
        chain.push(main.display().to_string());
        return Err(ConfigError::new(format!(
            "include cycle detected: {}",
            chain.join(" includes ")
        )));
    }
    let project_dir = match &spec.project_directory {
        None => main
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| working_dir.to_path_buf()),
        Some(d) => absolute(working_dir, Path::new(&paths::expand_user(d, ctx.env))),
    };
    let env_files: Vec<PathBuf> = if spec.env_files.is_empty() {
        let dotenv = project_dir.join(".env");
        if dotenv.is_file() {
            vec![dotenv]
        } else {
            Vec::new()
        }
    } else {
        spec.env_files
            .iter()
            .map(|f| absolute(working_dir, Path::new(f)))
            .collect()
    };
    let env = environment::with_env_files(ctx.env, &env_files)?;
    let sub = Context {
        opts: ctx.opts,
        env: &env,
    };

    let mut tree: Option<Node> = None;
    for file in &files {
        let source = read_source(file, None)?;
        for doc in source.documents {
            let Some(doc) = sub.load_document(doc, file, &project_dir, included, warnings)? else {
                continue;
            };
            let base = tree.take().unwrap_or_else(|| super::empty_map(&doc.mark));
            tree = Some(merge::merge_projects(base, doc)?);
        }
    }
    let Some(mut tree) = tree else {
        return Ok(Map::default());
    };
    crate::transform::set_defaults(&mut tree);
    paths::resolve_project(&mut tree, &project_dir, &env)?;
    Ok(tree.as_map().cloned().unwrap_or_default())
}

/// Adds the imported resources to `target`, refusing conflicting definitions.
fn import(
    target: &mut Map,
    imported: Map,
    at: &str,
    mark: &crate::yaml::Mark,
) -> Result<(), ConfigError> {
    for kind in IMPORTED {
        let Some(from) = imported.get(kind).and_then(Node::as_map) else {
            continue;
        };
        let slot = target
            .entry(crate::yaml::Key::new(kind, mark.clone()))
            .or_insert_with(|| super::empty_map(mark));
        if slot.is_null() {
            *slot = super::empty_map(mark);
        }
        let Some(to) = slot.as_map_mut() else {
            return Err(ConfigError::at(&slot.mark, kind, "must be a mapping"));
        };
        for (name, resource) in from {
            if let Some(existing) = to.get(name.name.as_str()) {
                if existing == resource {
                    continue;
                }
                return Err(ConfigError::at(
                    &existing.mark,
                    format!("{kind}.{}", name.name),
                    format!("conflicts with the resource imported by {at}"),
                ));
            }
            to.insert(name.clone(), resource.clone());
        }
    }
    Ok(())
}
