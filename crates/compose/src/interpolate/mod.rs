//! `${VAR}` interpolation of a loaded Compose tree, as compose-go's `interpolation`
//! package does it: substitute in every string scalar (never in keys), then cast the
//! values Compose expects as numbers or booleans.

mod cast;
mod template;

pub use cast::{Cast, cast_for_path};
pub use template::TemplateError;

use crate::error::{ConfigError, Warnings};
use crate::yaml::{Node, Value};

/// Substitutes variables in every string scalar of `node` (never in keys), then casts
/// values at the paths where Compose expects numbers or booleans.
pub fn interpolate_node(
    node: &mut Node,
    lookup: &dyn Fn(&str) -> Option<String>,
    warnings: &mut Warnings,
) -> Result<(), ConfigError> {
    let mut path = TreePath::default();
    walk(node, &mut path, lookup, warnings)
}

/// Substitutes variables in one string.
pub fn substitute(
    template: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
    warnings: &mut Warnings,
) -> Result<String, ConfigError> {
    template::substitute(template, lookup, warnings).map_err(|e| ConfigError::new(e.to_string()))
}

/// Like [`substitute`], keeping the structured error (dotenv reports it its own way).
pub fn substitute_template(
    template: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
    warnings: &mut Warnings,
) -> Result<String, TemplateError> {
    template::substitute(template, lookup, warnings)
}

/// Where the walk is, in two spellings: compose-go's tree path (`services.web.ports.[]`),
/// used for its messages and the cast table, and ours (`services.web.ports[0]`).
#[derive(Default)]
struct TreePath {
    /// compose-go's segments: keys, and `[]` for every sequence index.
    tree: Vec<String>,
    /// The index behind each `[]` segment, for our own `a.b[1]` rendering.
    indexes: Vec<Option<usize>>,
}

impl TreePath {
    fn push_key(&mut self, key: &str) {
        self.tree.push(key.to_string());
        self.indexes.push(None);
    }

    fn push_index(&mut self, i: usize) {
        self.tree.push("[]".to_string());
        self.indexes.push(Some(i));
    }

    fn pop(&mut self) {
        self.tree.pop();
        self.indexes.pop();
    }

    /// Our key path, `services.web.ports[1]`, built only when an error needs it.
    fn ours(&self) -> String {
        let mut out = String::new();
        for (seg, index) in self.tree.iter().zip(&self.indexes) {
            match index {
                Some(i) => out.push_str(&format!("[{i}]")),
                None if out.is_empty() => out.push_str(seg),
                None => {
                    out.push('.');
                    out.push_str(seg);
                }
            }
        }
        out
    }
}

fn walk(
    node: &mut Node,
    path: &mut TreePath,
    lookup: &dyn Fn(&str) -> Option<String>,
    warnings: &mut Warnings,
) -> Result<(), ConfigError> {
    match &mut node.value {
        Value::String(s) => {
            let cast = cast::cast_for_segments(&path.tree);
            // Most values hold no variable and need no cast: leave them untouched.
            if cast.is_none() && !s.contains('$') {
                return Ok(());
            }
            let value = interpolate_string(s, cast, lookup, warnings)
                .map_err(|msg| ConfigError::at(&node.mark, path.ours(), msg))?;
            node.value = value;
        }
        Value::Map(map) => {
            for (key, child) in map.iter_mut() {
                path.push_key(&key.name);
                let r = walk(child, path, lookup, warnings);
                path.pop();
                r?;
            }
        }
        Value::Seq(items) => {
            for (i, child) in items.iter_mut().enumerate() {
                path.push_index(i);
                let r = walk(child, path, lookup, warnings);
                path.pop();
                r?;
            }
        }
        Value::Null | Value::Bool(_) | Value::Int(_) | Value::Float(_) => {}
    }
    Ok(())
}

/// One string scalar: substituted, then cast when its path says so. The error does
/// not repeat the path: the caller's `ConfigError` carries it.
fn interpolate_string(
    s: &str,
    cast: Option<Cast>,
    lookup: &dyn Fn(&str) -> Option<String>,
    warnings: &mut Warnings,
) -> Result<Value, String> {
    let substituted = template::substitute(s, lookup, warnings).map_err(|e| match e {
        TemplateError::Invalid(t) => {
            format!("invalid interpolation format {t:?}: write a literal $ as $$")
        }
        other => other.to_string(),
    })?;
    match cast {
        None => Ok(Value::String(substituted)),
        Some(c) => cast::apply(c, &substituted, warnings).map_err(|e| {
            let want = match c {
                Cast::Int | Cast::Int64 => "an integer",
                Cast::Float | Cast::Float32 => "a number",
                Cast::Bool => "true or false",
            };
            if e.contains("out of range") {
                format!("{substituted:?} is out of range")
            } else {
                format!("must be {want}, not {substituted:?}")
            }
        }),
    }
}

#[cfg(test)]
mod tests;
