//! Short forms to long forms, one rule per key (owner: transform helper). STUB.
use crate::error::ConfigError;
use crate::yaml::Node;

/// Rewrites every short form in a project tree (one file's top-level mapping) into the
/// long form compose-go's canonical transform produces.
pub fn canonical(project: &mut Node) -> Result<(), ConfigError> {
    let _ = project;
    Ok(())
}
