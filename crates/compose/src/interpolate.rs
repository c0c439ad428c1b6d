//! `${VAR}` interpolation of scalar values (owner: text helper). STUB.
use crate::error::{ConfigError, Warnings};
use crate::yaml::Node;

/// Substitutes variables in every string scalar of `node` (never in keys), then casts
/// values at the paths where Compose expects numbers or booleans.
pub fn interpolate_node(
    node: &mut Node,
    lookup: &dyn Fn(&str) -> Option<String>,
    warnings: &mut Warnings,
) -> Result<(), ConfigError> {
    let _ = (node, lookup, warnings);
    Ok(())
}

/// Substitutes variables in one string.
pub fn substitute(
    template: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
    warnings: &mut Warnings,
) -> Result<String, ConfigError> {
    let _ = (lookup, warnings);
    Ok(template.to_string())
}
