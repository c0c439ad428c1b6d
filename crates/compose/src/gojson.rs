//! JSON exactly as Go's encoding/json writes it (owner: model helper). STUB.
use serde::Serialize;

/// `json.MarshalIndent(v, "", "  ")`.
pub fn to_string_pretty<T: Serialize + ?Sized>(v: &T) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default()
}

/// `json.Marshal(v)`.
pub fn to_string_compact<T: Serialize + ?Sized>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

/// A float64 as `fmt.Sprint` prints it.
pub fn format_float_sprint(f: f64) -> String {
    f.to_string()
}
