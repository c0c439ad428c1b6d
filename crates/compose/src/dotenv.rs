//! `.env` files and service `env_file`s, parsed as compose-go's dotenv does (owner: text helper). STUB.
use indexmap::IndexMap;

use crate::error::ConfigError;

/// Parses dotenv text. A key written without `=` takes its value from `lookup`; when the
/// lookup has none it maps to `None`. `file` is used in error messages.
pub fn parse(
    src: &str,
    file: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<IndexMap<String, Option<String>>, ConfigError> {
    let _ = (src, file, lookup);
    Ok(IndexMap::new())
}
