//! Merging compose files by the compose-spec merge rules (owner: transform helper). STUB.
use crate::error::ConfigError;
use crate::yaml::Node;

/// Merges `over` into `base` (both canonical project trees), honouring `!reset` and
/// `!override`.
pub fn merge_projects(base: Node, over: Node) -> Result<Node, ConfigError> {
    let _ = base;
    Ok(over)
}

/// Merges one service definition onto another (used by `extends` and by file merges).
pub fn merge_services(base: Node, over: Node) -> Result<Node, ConfigError> {
    let _ = base;
    Ok(over)
}
