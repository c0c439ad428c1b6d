//! YAML text to [`Node`] trees (owner: yaml helper). STUB.
use std::sync::Arc;

use super::Node;
use crate::error::ConfigError;

/// Parses every document of `src`; an empty document becomes a null node.
pub fn parse_documents(src: &str, file: Arc<str>) -> Result<Vec<Node>, ConfigError> {
    let _ = (src, file);
    Err(ConfigError::new("yaml parser not implemented"))
}
