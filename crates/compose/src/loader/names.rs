//! Names of services, volumes, secrets and configs must match `[a-zA-Z0-9._-]+`
//! (the compose-spec schema), since they become parts of container and object names.

use crate::error::ConfigError;
use crate::yaml::Node;

/// Checks the keys of the top-level sections the schema restricts.
pub fn check(tree: &Node) -> Result<(), ConfigError> {
    for kind in ["services", "volumes", "secrets", "configs"] {
        let Some(items) = tree.get(kind).and_then(Node::as_map) else {
            continue;
        };
        for key in items.keys() {
            let valid = !key.name.is_empty()
                && key
                    .name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
            if !valid {
                return Err(ConfigError::at(
                    &key.mark,
                    kind,
                    format!(
                        "invalid name {:?}: only letters, digits, '.', '_' and '-' are allowed",
                        key.name
                    ),
                ));
            }
        }
    }
    Ok(())
}
