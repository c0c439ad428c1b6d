//! The one error type of the loader: what went wrong, where (file:line:col) and at which
//! key path, rendered on one line the way rustc and cargo point at source.

use std::fmt;

use crate::yaml::Mark;

#[derive(Clone, Debug, PartialEq)]
pub struct ConfigError {
    /// Where the offending node starts, when it came from a file.
    pub mark: Option<Mark>,
    /// Key path in the project, e.g. `services.web.ports[1]`; empty when not applicable.
    pub path: String,
    pub message: String,
}

impl ConfigError {
    pub fn new(message: impl Into<String>) -> Self {
        ConfigError {
            mark: None,
            path: String::new(),
            message: message.into(),
        }
    }

    pub fn at(mark: &Mark, path: impl Into<String>, message: impl Into<String>) -> Self {
        let mark = if mark.file.is_empty() && mark.is_synthetic() {
            None
        } else {
            Some(mark.clone())
        };
        ConfigError {
            mark,
            path: path.into(),
            message: message.into(),
        }
    }

    /// Sets the position if none is known yet (inner errors know better).
    pub fn or_at(mut self, mark: &Mark) -> Self {
        if self.mark.is_none() && !(mark.file.is_empty() && mark.is_synthetic()) {
            self.mark = Some(mark.clone());
        }
        self
    }

    /// Sets the key path if none is known yet.
    pub fn or_path(mut self, path: impl Into<String>) -> Self {
        if self.path.is_empty() {
            self.path = path.into();
        }
        self
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(mark) = &self.mark {
            write!(f, "{mark}: ")?;
        }
        if !self.path.is_empty() {
            write!(f, "{}: ", self.path)?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for ConfigError {}

pub type Result<T, E = ConfigError> = std::result::Result<T, E>;

/// Non-fatal findings (unset variables, obsolete `version`, ...), printed by the CLI as
/// warnings in the order they were found.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Warnings(pub Vec<String>);

impl Warnings {
    pub fn push(&mut self, w: impl Into<String>) {
        let w = w.into();
        if !self.0.contains(&w) {
            self.0.push(w);
        }
    }
}
