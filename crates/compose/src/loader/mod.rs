//! Loading a project: discovery, environment, project name, then per file parse →
//! interpolate → canonical forms → `extends` → `include` → merge; then relative paths,
//! normalization, profiles and consistency checks. Every stage works on [`Node`] trees
//! so errors keep their file:line:column; the typed model is decoded at the end.

pub mod consistency;
pub mod discovery;
pub mod environment;
pub mod extends;
pub mod include;
pub mod names;
pub mod normalize;
pub mod options;
pub mod paths;
pub mod profiles;
pub mod project_name;
pub mod prune;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::error::{ConfigError, Warnings};
use crate::yaml::{Map, Mark, Node, Value};
use crate::{interpolate, merge, transform, yaml};

pub use environment::Environment;
pub use options::LoadOptions;

/// A loaded project: the canonical tree plus what was learned on the way.
#[derive(Clone, Debug)]
pub struct Loaded {
    pub name: String,
    /// The project directory: relative paths in the files are relative to it.
    pub working_dir: PathBuf,
    pub config_files: Vec<PathBuf>,
    /// Shell variables completed by the env files, plus `COMPOSE_PROJECT_NAME`.
    pub environment: Environment,
    /// The project in canonical long form (services, networks, volumes, ...).
    pub tree: Node,
    /// With interpolation off, the project as a mapping right after normalization,
    /// before profiles, env files and typing: what `config --no-interpolate` prints.
    pub model: Node,
    /// For services with `env_file`s: their `environment` and `env_file` before the
    /// files were folded in. Compose computes `config-hash` from those.
    pub unresolved_env: normalize::UnresolvedEnv,
    /// The same project decoded into the typed model.
    pub project: crate::model::Project,
    /// Every profile named by any service, enabled or not, sorted.
    pub all_profiles: Vec<String>,
    pub warnings: Warnings,
}

impl Loaded {
    /// `com.docker.compose.config-hash` of every service, as Compose computes it.
    pub fn service_hashes(
        &self,
    ) -> Result<std::collections::BTreeMap<String, String>, ConfigError> {
        let mut hashes = std::collections::BTreeMap::new();
        for (name, svc) in &self.project.services {
            let hash = match self.unresolved_env.get(name) {
                None => crate::hash::service_hash(svc),
                Some((environment, env_file)) => {
                    let mut svc = svc.clone();
                    svc.environment = match environment {
                        Some(e) => crate::de::from_node(e)?,
                        None => Default::default(),
                    };
                    svc.env_files = crate::de::from_node(env_file)?;
                    crate::hash::service_hash(&svc)
                }
            };
            hashes.insert(name.clone(), hash);
        }
        Ok(hashes)
    }
}

/// One compose file as read from disk (or stdin).
pub(crate) struct Source {
    pub path: PathBuf,
    pub documents: Vec<Node>,
}

/// Loads the project the options describe.
pub fn load(opts: &LoadOptions) -> Result<Loaded, ConfigError> {
    let mut warnings = Warnings::default();
    let cwd = &opts.working_dir;
    let explicit: Vec<PathBuf> = opts
        .files
        .iter()
        .map(|f| {
            if f.as_os_str() == "-" {
                f.clone()
            } else {
                environment::absolute(cwd, f)
            }
        })
        .collect();

    // The env files live in the project directory as far as it is known before discovery.
    let early_dir = project_dir(opts.project_directory.as_deref(), &explicit, cwd);
    // `--env-file` paths are relative to the current directory, `.env` sits in the project's.
    let env_files = if opts.env_files.is_empty() {
        environment::env_files(&[], &early_dir, &opts.environment)
    } else {
        environment::env_files(&opts.env_files, cwd, &opts.environment)
    };
    let mut env = environment::with_env_files(&opts.environment, &env_files)?;

    let files = if !explicit.is_empty() {
        explicit
    } else {
        let from_env = discovery::from_env(&env, &early_dir);
        if from_env.is_empty() {
            discovery::find_default(&early_dir, &mut warnings)?
        } else {
            from_env
        }
    };
    let working_dir = project_dir(opts.project_directory.as_deref(), &files, cwd);

    let sources = files
        .iter()
        .map(|f| read_source(f, opts.stdin.as_deref()))
        .collect::<Result<Vec<_>, _>>()?;

    let name = resolve_project_name(opts, &env, &sources, &working_dir, &mut warnings)?;
    env.insert("COMPOSE_PROJECT_NAME".to_string(), name.clone());

    let ctx = Context { opts, env: &env };
    let mut tree: Option<Node> = None;
    let mut included = Vec::new();
    for source in sources {
        for doc in source.documents {
            let Some(file_tree) = ctx.load_document(
                doc,
                &source.path,
                &working_dir,
                &mut included,
                &mut warnings,
            )?
            else {
                continue;
            };
            // Merging even the first file drops its `!reset` values and duplicates.
            let base = tree.take().unwrap_or_else(|| empty_map(&file_tree.mark));
            tree = Some(merge::merge_projects(base, file_tree)?);
        }
    }
    let mut tree = match tree {
        Some(t) if t.as_map().is_some_and(|m| !m.is_empty()) => t,
        _ => {
            let first = files
                .first()
                .map(|f| f.display().to_string())
                .unwrap_or_default();
            return Err(ConfigError::new(format!("{first}: empty compose file")));
        }
    };

    names::check(&tree)?;
    transform::set_defaults(&mut tree);
    if opts.resolve_paths {
        paths::resolve_project(&mut tree, &working_dir, &env)?;
    }
    if opts.normalize {
        normalize::normalize(&mut tree, &name, &env, &mut warnings)?;
    }
    // Only `config --no-interpolate` prints this stage; don't pay for a copy otherwise.
    let model = if opts.interpolate {
        Node::null(tree.mark.clone())
    } else {
        tree.clone()
    };
    let all_profiles = profiles::all(&tree);
    let active = active_profiles(opts, &env);
    let disabled = profiles::apply(&mut tree, &active, &opts.services)?;
    profiles::select(&mut tree, &opts.services)?;
    if opts.consistency {
        consistency::check(&tree, &disabled)?;
    }
    normalize::resolve_label_files(&mut tree, &env)?;
    let unresolved_env = normalize::resolve_env_files(&mut tree, &env)?;
    prune::unused_resources(&mut tree);

    let mut project: crate::model::Project = crate::de::from_node(&tree)?;
    project.name = name.clone();
    project.set_service_names();
    if opts.consistency {
        consistency::check_typed(&project, &tree)?;
    }

    Ok(Loaded {
        name,
        working_dir,
        config_files: files,
        environment: env,
        tree,
        unresolved_env,
        model,
        project,
        all_profiles,
        warnings,
    })
}

/// `--profile`, else `COMPOSE_PROFILES` (comma separated).
fn active_profiles(opts: &LoadOptions, env: &Environment) -> Vec<String> {
    if !opts.profiles.is_empty() {
        return opts.profiles.clone();
    }
    env.get("COMPOSE_PROFILES")
        .map(|p| {
            p.split(',')
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// `--project-directory`, else the directory of the first file, else the current one.
fn project_dir(explicit: Option<&Path>, files: &[PathBuf], cwd: &Path) -> PathBuf {
    if let Some(d) = explicit {
        return environment::absolute(cwd, d);
    }
    files
        .iter()
        .find(|f| f.as_os_str() != "-")
        .and_then(|f| f.parent().map(Path::to_path_buf))
        .unwrap_or_else(|| cwd.to_path_buf())
}

pub(crate) fn read_source(path: &Path, stdin: Option<&str>) -> Result<Source, ConfigError> {
    let (text, label) = if path.as_os_str() == "-" {
        (stdin.unwrap_or_default().to_string(), "-".to_string())
    } else {
        let label = path.display().to_string();
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigError::new(format!("failed to read {label}: {}", io_reason(&e))))?;
        (text, label)
    };
    let documents = yaml::parse::parse_documents(&text, Arc::from(label.as_str()))?;
    Ok(Source {
        path: path.to_path_buf(),
        documents,
    })
}

fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory".to_string(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        _ => e.to_string(),
    }
}

/// `-p`, then `COMPOSE_PROJECT_NAME`, then the last `name:` in the files, then the
/// project directory's name.
fn resolve_project_name(
    opts: &LoadOptions,
    env: &Environment,
    sources: &[Source],
    working_dir: &Path,
    warnings: &mut Warnings,
) -> Result<String, ConfigError> {
    if let Some(name) = &opts.project_name {
        project_name::validate_explicit(name)?;
        return Ok(name.clone());
    }
    if let Some(name) = env.get("COMPOSE_PROJECT_NAME").filter(|n| !n.is_empty()) {
        project_name::validate_explicit(name)?;
        return Ok(name.clone());
    }
    let mut from_file = None;
    for source in sources {
        for doc in &source.documents {
            if let Some(n) = doc.get("name") {
                from_file = Some(n.clone());
            }
        }
    }
    if let Some(node) = from_file {
        let raw = node.scalar_to_string().unwrap_or_default();
        let name = if opts.interpolate {
            let lookup = |k: &str| env.get(k).cloned();
            interpolate::substitute(&raw, &lookup, warnings)
                .map_err(|e| e.or_at(&node.mark).or_path("name"))?
        } else {
            raw
        };
        let name = if opts.normalize {
            project_name::normalize(&name)
        } else {
            name
        };
        if !name.is_empty() {
            return Ok(name);
        }
    }
    let dir = working_dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = project_name::normalize(&dir);
    if name.is_empty() {
        return Err(ConfigError::new(
            "project name must not be empty: set one with -p, COMPOSE_PROJECT_NAME or `name:`",
        ));
    }
    Ok(name)
}

/// Shared state of one load: options and the project environment.
pub(crate) struct Context<'a> {
    pub opts: &'a LoadOptions,
    pub env: &'a Environment,
}

impl Context<'_> {
    /// One YAML document of a file, up to (not including) the merge with earlier files.
    /// `None` for an empty document.
    pub fn load_document(
        &self,
        doc: Node,
        file: &Path,
        working_dir: &Path,
        included: &mut Vec<PathBuf>,
        warnings: &mut Warnings,
    ) -> Result<Option<Node>, ConfigError> {
        let mut doc = match doc.value {
            Value::Null => return Ok(None),
            Value::Map(_) => doc,
            _ => {
                return Err(ConfigError::at(
                    &doc.mark,
                    "",
                    format!("top-level object must be a mapping, not {}", doc.kind()),
                ));
            }
        };
        if self.opts.interpolate {
            let lookup = |k: &str| self.env.get(k).cloned();
            interpolate::interpolate_node(&mut doc, &lookup, warnings)?;
        }
        transform::canonical_with_warnings(&mut doc, warnings)?;
        prune::empty_dns(&mut doc);
        extends::apply(self, &mut doc, file, warnings)?;
        included.push(file.to_path_buf());
        include::apply(self, &mut doc, working_dir, included, warnings)?;
        included.pop();
        if let Some(map) = doc.as_map_mut()
            && map.shift_remove("version").is_some()
        {
            warnings.push(format!(
                    "{}: the attribute `version` is obsolete, it will be ignored, please remove it to avoid potential confusion",
                    file.display()
                ));
        }
        Ok(Some(doc))
    }
}

/// An empty mapping node at `mark`.
pub(crate) fn empty_map(mark: &Mark) -> Node {
    Node::map(Map::default(), mark.clone())
}
