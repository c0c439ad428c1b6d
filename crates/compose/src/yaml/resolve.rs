//! Plain scalar resolution as Go's YAML decoder does it (owner: yaml helper). STUB.
use super::Value;

/// The typed value of a plain (unquoted, untagged) scalar.
pub fn resolve_plain(s: &str) -> Value {
    Value::String(s.to_string())
}
