//! Project names: where they come from (`-p`, `COMPOSE_PROJECT_NAME`, `name:`, the
//! directory) and Compose's rule for what a valid one is.

use crate::error::ConfigError;

/// Lowercase, keep only `[a-z0-9_-]`, trim leading `_` and `-`: Compose's
/// normalization of names that were not given explicitly.
pub fn normalize(s: &str) -> String {
    let kept: String = s
        .to_lowercase()
        .chars()
        .filter(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_' || *c == '-')
        .collect();
    kept.trim_start_matches(['_', '-']).to_string()
}

/// An explicit name (`-p`, `COMPOSE_PROJECT_NAME`) must already be normal.
pub fn validate_explicit(name: &str) -> Result<(), ConfigError> {
    if normalize(name) != name || name.is_empty() {
        return Err(ConfigError::new(format!(
            "invalid project name {name:?}: must consist only of lowercase alphanumeric characters, hyphens, and underscores as well as start with a letter or number"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_like_compose() {
        assert_eq!(normalize("UNNORMALIZED PATH"), "unnormalizedpath");
        assert_eq!(normalize("_-My.App"), "myapp");
        assert_eq!(normalize("42my_project_num"), "42my_project_num");
    }

    #[test]
    fn explicit_names_must_be_normal() {
        assert!(validate_explicit("my_project").is_ok());
        assert!(validate_explicit("-my_project").is_err());
        assert!(validate_explicit("MY_PROJECT").is_err());
        assert!(validate_explicit("www.my.project").is_err());
        assert!(validate_explicit("").is_err());
    }
}
