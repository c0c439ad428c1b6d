//! The YAML tree every loader stage works on: typed scalars (resolved as Go's yaml
//! decoder resolves plain scalars), ordered mappings, and the source position of every
//! node so that any later error can point at file:line:column.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use indexmap::IndexMap;

/// Where a node starts: file path as given to the loader, 1-based line and column.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Mark {
    pub file: Arc<str>,
    pub line: u32,
    pub col: u32,
}

impl Mark {
    pub fn new(file: Arc<str>, line: u32, col: u32) -> Self {
        Mark { file, line, col }
    }

    /// A mark for nodes that do not come from a file (defaults, command-line values).
    pub fn synthetic() -> Self {
        Mark::default()
    }

    pub fn is_synthetic(&self) -> bool {
        self.line == 0
    }
}

impl fmt::Display for Mark {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_synthetic() {
            write!(f, "{}", self.file)
        } else {
            write!(f, "{}:{}:{}", self.file, self.line, self.col)
        }
    }
}

/// A mapping key: its text and where it was written. Equality and hashing use the text
/// only, so a `Map` can be indexed by `&str`.
#[derive(Clone, Debug)]
pub struct Key {
    pub name: String,
    pub mark: Mark,
}

impl Key {
    pub fn new(name: impl Into<String>, mark: Mark) -> Self {
        Key {
            name: name.into(),
            mark,
        }
    }
}

impl PartialEq for Key {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}
impl Eq for Key {}
impl Hash for Key {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.name.hash(state)
    }
}
impl std::borrow::Borrow<str> for Key {
    fn borrow(&self) -> &str {
        &self.name
    }
}

/// Mappings keep their order; foldhash because every key of every file goes through it.
pub type Map = IndexMap<Key, Node, foldhash::fast::RandomState>;

/// Tags the loader gives meaning to; any other explicit tag is kept as written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Tag {
    /// `!reset`: the value removes what earlier files set.
    Reset,
    /// `!override`: the value replaces what earlier files set instead of merging.
    Override,
    Other(String),
}

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    String(String),
    Seq(Vec<Node>),
    Map(Map),
}

#[derive(Clone, Debug)]
pub struct Node {
    pub value: Value,
    pub mark: Mark,
    pub tag: Option<Tag>,
}

impl PartialEq for Node {
    /// Nodes compare by value (and tag), never by position.
    fn eq(&self, other: &Self) -> bool {
        self.value == other.value && self.tag == other.tag
    }
}

impl Node {
    pub fn new(value: Value, mark: Mark) -> Self {
        Node {
            value,
            mark,
            tag: None,
        }
    }

    pub fn string(s: impl Into<String>, mark: Mark) -> Self {
        Node::new(Value::String(s.into()), mark)
    }

    pub fn null(mark: Mark) -> Self {
        Node::new(Value::Null, mark)
    }

    pub fn map(map: Map, mark: Mark) -> Self {
        Node::new(Value::Map(map), mark)
    }

    pub fn seq(items: Vec<Node>, mark: Mark) -> Self {
        Node::new(Value::Seq(items), mark)
    }

    pub fn is_null(&self) -> bool {
        matches!(self.value, Value::Null)
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_map(&self) -> Option<&Map> {
        match &self.value {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    pub fn as_map_mut(&mut self) -> Option<&mut Map> {
        match &mut self.value {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    pub fn as_seq(&self) -> Option<&Vec<Node>> {
        match &self.value {
            Value::Seq(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_seq_mut(&mut self) -> Option<&mut Vec<Node>> {
        match &mut self.value {
            Value::Seq(s) => Some(s),
            _ => None,
        }
    }

    /// Looks up `key` when this node is a mapping.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.as_map().and_then(|m| m.get(key))
    }

    pub fn get_mut(&mut self, key: &str) -> Option<&mut Node> {
        self.as_map_mut().and_then(|m| m.get_mut(key))
    }

    /// The scalar as Go's `fmt.Sprint` would print the decoded value (used where Compose
    /// turns numbers and booleans into strings, e.g. environment values and labels).
    /// `None` for null, sequences and mappings.
    pub fn scalar_to_string(&self) -> Option<String> {
        match &self.value {
            Value::String(s) => Some(s.clone()),
            Value::Bool(b) => Some(b.to_string()),
            Value::Int(i) => Some(i.to_string()),
            Value::Float(f) => Some(crate::gojson::format_float_sprint(*f)),
            Value::Null | Value::Seq(_) | Value::Map(_) => None,
        }
    }

    /// What kind of value this is, in the words of error messages.
    pub fn kind(&self) -> &'static str {
        match &self.value {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Int(_) => "an integer",
            Value::Float(_) => "a number",
            Value::String(_) => "a string",
            Value::Seq(_) => "a sequence",
            Value::Map(_) => "a mapping",
        }
    }
}
