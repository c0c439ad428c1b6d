//! What the caller (the CLI) tells the loader: the `docker compose` global flags and
//! the process environment.

use std::path::PathBuf;

use indexmap::IndexMap;

/// Inputs of one project load. Mirrors the global flags of `docker compose`.
#[derive(Clone, Debug)]
pub struct LoadOptions {
    /// `-f` files in order; `-` reads standard input. Empty means discovery.
    pub files: Vec<PathBuf>,
    /// `-p`.
    pub project_name: Option<String>,
    /// `--project-directory`.
    pub project_directory: Option<PathBuf>,
    /// `--env-file` files in order (later wins). Empty means `<project dir>/.env`.
    pub env_files: Vec<PathBuf>,
    /// `--profile`.
    pub profiles: Vec<String>,
    /// Services named on the command line: their profiles are enabled.
    pub services: Vec<String>,
    /// The process environment (shell variables win over env files).
    pub environment: IndexMap<String, String>,
    /// The current directory, absolute and symlink-resolved.
    pub working_dir: PathBuf,
    /// Contents of standard input when a file is `-`.
    pub stdin: Option<String>,
    pub interpolate: bool,
    pub normalize: bool,
    pub consistency: bool,
    pub resolve_paths: bool,
}

impl LoadOptions {
    /// Options with every stage enabled, for `dir` and the given environment.
    pub fn new(working_dir: PathBuf, environment: IndexMap<String, String>) -> Self {
        LoadOptions {
            files: Vec::new(),
            project_name: None,
            project_directory: None,
            env_files: Vec::new(),
            profiles: Vec::new(),
            services: Vec::new(),
            environment,
            working_dir,
            stdin: None,
            interpolate: true,
            normalize: true,
            consistency: true,
            resolve_paths: true,
        }
    }
}
