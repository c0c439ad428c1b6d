//! serde deserialization from [`crate::yaml::Node`], with the position and key path of the
//! innermost offending node in every error.
//!
//! Conventions the model relies on:
//! * Struct targets never see `x-*` keys: the map access drops them, so every model struct
//!   can use `#[serde(deny_unknown_fields)]` and still accept extensions anywhere.
//! * A struct that wants its extensions declares a field named [`EXTENSIONS_FIELD`]
//!   (`#[serde(rename = "x-*")]`); the map access then hands it all `x-*` entries at once,
//!   as one mapping node, after the regular keys.
//! * Map targets (`BTreeMap`, ...) keep every key: there, keys are user data (environment
//!   names, labels) and `x-foo` is a legitimate one.
//! * Scalars are read as strictly as the compose-spec schema reads them, except that
//!   booleans and numbers also accept their string spelling, because interpolation turns
//!   `${FLAG}` into a string before it reaches us (compose-go casts those the same way).

use std::fmt;

use serde::de::{self, DeserializeOwned, DeserializeSeed, IntoDeserializer, Visitor};

use crate::error::ConfigError;
use crate::yaml::{Key, Map, Mark, Node, Value};

/// Field name under which a struct receives all of its `x-*` keys as one mapping.
pub const EXTENSIONS_FIELD: &str = "x-*";

/// Deserializes a typed value from a node tree.
pub fn from_node<T: DeserializeOwned>(node: &Node) -> Result<T, ConfigError> {
    T::deserialize(NodeDe::new(node, String::new())).map_err(|e| e.0)
}

/// The serde error of [`NodeDe`]: a [`ConfigError`] whose mark and path are filled by the
/// innermost deserializer that sees it go by.
#[derive(Debug, Clone, PartialEq)]
pub struct DeError(pub ConfigError);

impl DeError {
    fn msg(message: impl Into<String>) -> Self {
        DeError(ConfigError::new(message))
    }

    /// Fills in where the error happened, unless a deeper node already did.
    fn locate(self, mark: &Mark, path: &str) -> Self {
        DeError(self.0.or_at(mark).or_path(path))
    }
}

impl fmt::Display for DeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for DeError {}

impl de::Error for DeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        DeError::msg(msg.to_string())
    }

    fn invalid_type(_unexp: de::Unexpected<'_>, exp: &dyn de::Expected) -> Self {
        DeError::msg(format!("must be {exp}"))
    }

    fn invalid_value(unexp: de::Unexpected<'_>, exp: &dyn de::Expected) -> Self {
        DeError::msg(format!("invalid value {unexp}, expected {exp}"))
    }

    fn invalid_length(len: usize, exp: &dyn de::Expected) -> Self {
        DeError::msg(format!("invalid length {len}, expected {exp}"))
    }

    fn unknown_variant(variant: &str, expected: &'static [&'static str]) -> Self {
        DeError::msg(format!(
            "invalid value {variant:?}, must be one of {}",
            quoted_list(expected)
        ))
    }

    fn unknown_field(field: &str, expected: &'static [&'static str]) -> Self {
        match closest(field, expected) {
            Some(near) => DeError::msg(format!("unknown key {field:?}, did you mean {near:?}?")),
            None => DeError::msg(format!("unknown key {field:?}")),
        }
    }

    fn missing_field(field: &'static str) -> Self {
        DeError::msg(format!("missing required key {field:?}"))
    }

    fn duplicate_field(field: &'static str) -> Self {
        DeError::msg(format!("duplicate key {field:?}"))
    }
}

fn quoted_list(items: &[&str]) -> String {
    items
        .iter()
        .map(|s| format!("{s:?}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn child_path(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_owned()
    } else {
        format!("{parent}.{key}")
    }
}

/// YAML 1.1 / compose-go spellings of booleans accepted from (interpolated) strings.
pub fn parse_bool(s: &str) -> Option<bool> {
    match s.to_ascii_lowercase().as_str() {
        "true" | "yes" | "y" | "on" => Some(true),
        "false" | "no" | "n" | "off" => Some(false),
        _ => None,
    }
}

/// A deserializer positioned on one node of the tree.
pub struct NodeDe<'a> {
    node: &'a Node,
    path: String,
}

impl<'a> NodeDe<'a> {
    pub fn new(node: &'a Node, path: String) -> Self {
        NodeDe { node, path }
    }

    fn fail(&self, message: impl Into<String>) -> DeError {
        DeError::msg(message).locate(&self.node.mark, &self.path)
    }

    fn int(&self) -> Result<i64, DeError> {
        match &self.node.value {
            Value::Int(i) => Ok(*i),
            Value::String(s) => s
                .trim()
                .parse()
                .map_err(|_| self.fail("must be an integer")),
            _ => Err(self.fail("must be an integer")),
        }
    }

    fn uint(&self, max: u64) -> Result<u64, DeError> {
        let i = self.int()?;
        u64::try_from(i)
            .ok()
            .filter(|u| *u <= max)
            .ok_or_else(|| self.fail(format!("must be an integer between 0 and {max}")))
    }

    fn sint(&self, min: i64, max: i64) -> Result<i64, DeError> {
        let i = self.int()?;
        if i < min || i > max {
            return Err(self.fail(format!("must be an integer between {min} and {max}")));
        }
        Ok(i)
    }

    fn float(&self) -> Result<f64, DeError> {
        match &self.node.value {
            Value::Int(i) => Ok(*i as f64),
            Value::Float(f) => Ok(*f),
            Value::String(s) => s.trim().parse().map_err(|_| self.fail("must be a number")),
            _ => Err(self.fail("must be a number")),
        }
    }

    /// Runs a visitor call and attributes any error it returns to this node.
    fn here<T>(&self, r: Result<T, DeError>) -> Result<T, DeError> {
        r.map_err(|e| e.locate(&self.node.mark, &self.path))
    }
}

macro_rules! uint_methods {
    ($($method:ident => $ty:ty, $visit:ident;)*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
            let v = self.uint(<$ty>::MAX as u64)?;
            self.here(visitor.$visit(v as $ty))
        }
    )*};
}

macro_rules! sint_methods {
    ($($method:ident => $ty:ty, $visit:ident;)*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
            let v = self.sint(<$ty>::MIN as i64, <$ty>::MAX as i64)?;
            self.here(visitor.$visit(v as $ty))
        }
    )*};
}

impl<'de> de::Deserializer<'de> for NodeDe<'_> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let r = match &self.node.value {
            Value::Null => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(*b),
            Value::Int(i) => visitor.visit_i64(*i),
            Value::Float(f) => visitor.visit_f64(*f),
            Value::String(s) => visitor.visit_str(s),
            Value::Seq(items) => visitor.visit_seq(SeqDe::new(items, &self.path)),
            Value::Map(map) => {
                visitor.visit_map(MapDe::new(map, &self.node.mark, &self.path, Filter::None))
            }
        };
        self.here(r)
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let b = match &self.node.value {
            Value::Bool(b) => *b,
            Value::String(s) => parse_bool(s).ok_or_else(|| self.fail("must be a boolean"))?,
            _ => return Err(self.fail("must be a boolean")),
        };
        self.here(visitor.visit_bool(b))
    }

    uint_methods! {
        deserialize_u8 => u8, visit_u8;
        deserialize_u16 => u16, visit_u16;
        deserialize_u32 => u32, visit_u32;
        deserialize_u64 => u64, visit_u64;
    }

    sint_methods! {
        deserialize_i8 => i8, visit_i8;
        deserialize_i16 => i16, visit_i16;
        deserialize_i32 => i32, visit_i32;
        deserialize_i64 => i64, visit_i64;
    }

    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let f = self.float()?;
        self.here(visitor.visit_f32(f as f32))
    }

    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let f = self.float()?;
        self.here(visitor.visit_f64(f))
    }

    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match &self.node.value {
            Value::String(s) => self.here(visitor.visit_str(s)),
            _ => Err(self.fail("must be a string")),
        }
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        if self.node.is_null() {
            return self.here(visitor.visit_none());
        }
        let (mark, path) = (self.node.mark.clone(), self.path.clone());
        visitor.visit_some(self).map_err(|e| e.locate(&mark, &path))
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match &self.node.value {
            Value::Null => self.here(visitor.visit_unit()),
            _ => Err(self.fail("must be null")),
        }
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        let (mark, path) = (self.node.mark.clone(), self.path.clone());
        visitor
            .visit_newtype_struct(self)
            .map_err(|e| e.locate(&mark, &path))
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match &self.node.value {
            Value::Seq(items) => self.here(visitor.visit_seq(SeqDe::new(items, &self.path))),
            _ => Err(self.fail("must be a sequence")),
        }
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match &self.node.value {
            Value::Map(map) => self.here(visitor.visit_map(MapDe::new(
                map,
                &self.node.mark,
                &self.path,
                Filter::None,
            ))),
            _ => Err(self.fail("must be a mapping")),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        let filter = if fields.contains(&EXTENSIONS_FIELD) {
            Filter::GroupExtensions
        } else {
            Filter::DropExtensions
        };
        match &self.node.value {
            Value::Map(map) => {
                self.here(visitor.visit_map(MapDe::new(map, &self.node.mark, &self.path, filter)))
            }
            // `key:` with nothing after it means "all defaults", as Go's decoder reads it.
            Value::Null => {
                let empty = Map::default();
                self.here(visitor.visit_map(MapDe::new(
                    &empty,
                    &self.node.mark,
                    &self.path,
                    filter,
                )))
            }
            _ => Err(self.fail("must be a mapping")),
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        match &self.node.value {
            Value::String(_) => {
                let (mark, path) = (self.node.mark.clone(), self.path.clone());
                visitor
                    .visit_enum(EnumDe { de: self })
                    .map_err(|e| e.locate(&mark, &path))
            }
            _ => Err(self.fail("must be a string")),
        }
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.here(visitor.visit_unit())
    }
}

/// Sequence access: each item knows its index in the path.
struct SeqDe<'a> {
    items: std::iter::Enumerate<std::slice::Iter<'a, Node>>,
    path: &'a str,
}

impl<'a> SeqDe<'a> {
    fn new(items: &'a [Node], path: &'a str) -> Self {
        SeqDe {
            items: items.iter().enumerate(),
            path,
        }
    }
}

impl<'de> de::SeqAccess<'de> for SeqDe<'_> {
    type Error = DeError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, DeError> {
        match self.items.next() {
            Some((i, node)) => seed
                .deserialize(NodeDe::new(node, format!("{}[{i}]", self.path)))
                .map(Some),
            None => Ok(None),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len())
    }
}

/// What a map access does with `x-*` keys.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Filter {
    /// Plain maps: every key is data.
    None,
    /// Structs without an extensions field: extensions are accepted and dropped.
    DropExtensions,
    /// Structs with an [`EXTENSIONS_FIELD`]: extensions are handed over as one mapping.
    GroupExtensions,
}

fn is_extension(key: &str) -> bool {
    key.starts_with("x-")
}

struct MapDe<'a> {
    entries: indexmap::map::Iter<'a, Key, Node>,
    path: &'a str,
    filter: Filter,
    /// The value whose key was just returned.
    pending: Option<(&'a Key, &'a Node)>,
    /// Extensions gathered for [`Filter::GroupExtensions`], handed over at the end.
    extensions: Option<Node>,
    extensions_done: bool,
    in_extensions: bool,
}

impl<'a> MapDe<'a> {
    fn new(map: &'a Map, mark: &Mark, path: &'a str, filter: Filter) -> Self {
        let extensions = (filter == Filter::GroupExtensions).then(|| {
            let grouped: Map = map
                .iter()
                .filter(|(k, _)| is_extension(&k.name))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            Node::map(grouped, mark.clone())
        });
        MapDe {
            entries: map.iter(),
            path,
            filter,
            pending: None,
            extensions,
            extensions_done: false,
            in_extensions: false,
        }
    }
}

impl<'de> de::MapAccess<'de> for MapDe<'_> {
    type Error = DeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        for (key, node) in self.entries.by_ref() {
            if self.filter != Filter::None && is_extension(&key.name) {
                continue;
            }
            self.pending = Some((key, node));
            // Unknown-key errors point at the key but name the enclosing path.
            let de = KeyDe {
                name: &key.name,
                mark: &key.mark,
                path: self.path,
            };
            return seed.deserialize(de).map(Some);
        }
        if !self.extensions_done {
            self.extensions_done = true;
            if let Some(ext) = &self.extensions {
                self.in_extensions = true;
                let de = KeyDe {
                    name: EXTENSIONS_FIELD,
                    mark: &ext.mark,
                    path: self.path,
                };
                return seed.deserialize(de).map(Some);
            }
        }
        Ok(None)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, DeError> {
        if self.in_extensions {
            self.in_extensions = false;
            return match &self.extensions {
                Some(ext) => seed.deserialize(NodeDe::new(ext, self.path.to_owned())),
                None => Err(DeError::msg("internal error: extensions value without key")),
            };
        }
        match self.pending.take() {
            Some((key, node)) => {
                seed.deserialize(NodeDe::new(node, child_path(self.path, &key.name)))
            }
            None => Err(DeError::msg(
                "internal error: map value requested before its key",
            )),
        }
    }
}

/// Deserializes a mapping key: always a string.
struct KeyDe<'a> {
    name: &'a str,
    mark: &'a Mark,
    path: &'a str,
}

impl<'de> de::Deserializer<'de> for KeyDe<'_> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor
            .visit_str(self.name)
            .map_err(|e: DeError| e.locate(self.mark, self.path))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map struct enum identifier ignored_any
    }
}

/// Enum access for unit variants spelled as strings.
struct EnumDe<'a> {
    de: NodeDe<'a>,
}

impl<'de, 'a> de::EnumAccess<'de> for EnumDe<'a> {
    type Error = DeError;
    type Variant = UnitOnly;

    fn variant_seed<V: DeserializeSeed<'de>>(
        self,
        seed: V,
    ) -> Result<(V::Value, UnitOnly), DeError> {
        let name = self.de.node.as_str().unwrap_or_default();
        let key = KeyDe {
            name,
            mark: &self.de.node.mark,
            path: &self.de.path,
        };
        let v = seed.deserialize(key)?;
        Ok((v, UnitOnly))
    }
}

struct UnitOnly;

impl<'de> de::VariantAccess<'de> for UnitOnly {
    type Error = DeError;

    fn unit_variant(self) -> Result<(), DeError> {
        Ok(())
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, _seed: T) -> Result<T::Value, DeError> {
        Err(DeError::msg("must be a mapping"))
    }

    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, _visitor: V) -> Result<V::Value, DeError> {
        Err(DeError::msg("must be a sequence"))
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, DeError> {
        Err(DeError::msg("must be a mapping"))
    }
}

/// Lets model code deserialize a plain string through serde's enum machinery.
pub fn str_deserializer(s: &str) -> de::value::StrDeserializer<'_, DeError> {
    s.into_deserializer()
}

/// The expected key nearest to a misspelt one, if it is close enough to be a typo.
fn closest(field: &str, expected: &[&'static str]) -> Option<&'static str> {
    expected
        .iter()
        .filter(|e| !e.starts_with("x-"))
        .map(|e| (edit_distance(field, e), *e))
        .filter(|(d, e)| *d <= 2 && *d < e.len())
        .min_by_key(|(d, _)| *d)
        .map(|(_, e)| e)
}

/// Levenshtein distance between two short keys.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
pub(crate) mod testing {
    //! Builds node trees from JSON for tests, with a distinct synthetic position per node
    //! (line = order of creation) so that error positions can be checked.

    use std::sync::Arc;

    use super::*;

    pub fn node(v: &serde_json::Value) -> Node {
        let mut line = 0;
        build(v, &mut line)
    }

    fn mark(line: &mut u32) -> Mark {
        *line += 1;
        Mark::new(Arc::from("test.yaml"), *line, 1)
    }

    fn build(v: &serde_json::Value, line: &mut u32) -> Node {
        let m = mark(line);
        let value = match v {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(*b),
            serde_json::Value::Number(n) => match n.as_i64() {
                Some(i) => Value::Int(i),
                None => Value::Float(n.as_f64().unwrap_or_default()),
            },
            serde_json::Value::String(s) => Value::String(s.clone()),
            serde_json::Value::Array(a) => Value::Seq(a.iter().map(|i| build(i, line)).collect()),
            serde_json::Value::Object(o) => Value::Map(
                o.iter()
                    .map(|(k, v)| {
                        let km = mark(line);
                        (Key::new(k.clone(), km), build(v, line))
                    })
                    .collect(),
            ),
        };
        Node::new(value, m)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde::Deserialize;
    use serde_json::json;

    use super::testing::node;
    use super::*;

    #[derive(Debug, Deserialize, PartialEq, Default)]
    #[serde(deny_unknown_fields, default)]
    struct Port {
        target: u32,
        published: Option<String>,
    }

    #[derive(Debug, Deserialize, PartialEq, Default)]
    #[serde(deny_unknown_fields, default)]
    struct Svc {
        image: String,
        ports: Vec<Port>,
        privileged: bool,
        cpus: f32,
        mode: Option<Mode>,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(rename_all = "snake_case")]
    enum Mode {
        Host,
        Ingress,
    }

    #[derive(Debug, Deserialize, PartialEq, Default)]
    #[serde(deny_unknown_fields, default)]
    struct Top {
        services: BTreeMap<String, Svc>,
        #[serde(rename = "x-*")]
        ext: BTreeMap<String, serde_json::Value>,
    }

    fn err<T: DeserializeOwned + fmt::Debug>(v: serde_json::Value) -> ConfigError {
        match from_node::<T>(&node(&v)) {
            Ok(t) => panic!("expected an error, got {t:?}"),
            Err(e) => e,
        }
    }

    #[test]
    fn decodes_nested_values() {
        let top: Top = from_node(&node(&json!({
            "services": {"web": {"image": "nginx", "ports": [{"target": 80, "published": "8080"}],
                "privileged": "true", "cpus": "0.5", "mode": "host"}},
        })))
        .unwrap();
        let web = &top.services["web"];
        assert_eq!(web.image, "nginx");
        assert_eq!(
            web.ports[0],
            Port {
                target: 80,
                published: Some("8080".into())
            }
        );
        assert!(web.privileged);
        assert_eq!(web.cpus, 0.5);
        assert_eq!(web.mode, Some(Mode::Host));
    }

    #[test]
    fn innermost_node_wins() {
        let e = err::<Top>(
            json!({"services": {"web": {"ports": [{"target": 80}, {"target": 80, "published": 8080}]}}}),
        );
        assert_eq!(e.path, "services.web.ports[1].published");
        assert_eq!(e.message, "must be a string");
        // Node order: root(1) "services"(2) map(3) "web"(4) map(5) "ports"(6) seq(7) item0(8)
        // "target"(9) 80(10) item1(11) "target"(12) 80(13) "published"(14) 8080(15).
        assert_eq!(e.mark.as_ref().map(|m| m.line), Some(15));
        assert_eq!(
            e.to_string(),
            "test.yaml:15:1: services.web.ports[1].published: must be a string"
        );
    }

    #[test]
    fn unknown_key_points_at_key() {
        let e = err::<Top>(json!({"services": {"web": {"image": "a", "foo": 1}}}));
        assert_eq!(e.path, "services.web");
        assert_eq!(e.message, "unknown key \"foo\"");
        assert_eq!(e.mark.as_ref().map(|m| m.line), Some(8));
    }

    #[test]
    fn integers_are_range_checked() {
        let e = err::<Top>(json!({"services": {"web": {"ports": [{"target": -1}]}}}));
        assert_eq!(e.path, "services.web.ports[0].target");
        assert_eq!(e.message, "must be an integer between 0 and 4294967295");
        let e = err::<Top>(json!({"services": {"web": {"ports": [{"target": "eighty"}]}}}));
        assert_eq!(e.message, "must be an integer");
        let e = err::<Top>(json!({"services": {"web": {"ports": [{"target": 1.5}]}}}));
        assert_eq!(e.message, "must be an integer");
    }

    #[test]
    fn kind_mismatches() {
        assert_eq!(
            err::<Top>(json!({"services": []})).message,
            "must be a mapping"
        );
        assert_eq!(
            err::<Top>(json!({"services": {"a": {"ports": "80"}}})).message,
            "must be a sequence"
        );
        assert_eq!(
            err::<Top>(json!({"services": {"a": {"privileged": "maybe"}}})).message,
            "must be a boolean"
        );
        assert_eq!(
            err::<Top>(json!({"services": {"a": {"cpus": []}}})).message,
            "must be a number"
        );
        assert_eq!(
            err::<Top>(json!({"services": {"a": {"image": 3}}})).message,
            "must be a string"
        );
    }

    #[test]
    fn enum_lists_allowed_values() {
        let e = err::<Top>(json!({"services": {"a": {"mode": "bridge"}}}));
        assert_eq!(e.path, "services.a.mode");
        assert_eq!(
            e.message,
            "invalid value \"bridge\", must be one of \"host\", \"ingress\""
        );
    }

    #[test]
    fn extensions_dropped_in_structs_kept_in_maps_and_grouped_on_request() {
        let top: Top = from_node(&node(&json!({
            "x-top": {"a": 1},
            "services": {"x-svc": {"image": "b"}, "web": {"image": "a", "x-ignored": true}},
        })))
        .unwrap();
        assert_eq!(top.ext.len(), 1);
        assert_eq!(top.ext["x-top"], json!({"a": 1}));
        assert!(top.services.contains_key("x-svc"));
        assert_eq!(top.services["web"].image, "a");
    }

    #[test]
    fn null_struct_means_defaults() {
        let top: Top = from_node(&node(&json!({"services": {"web": null}}))).unwrap();
        assert_eq!(top.services["web"], Svc::default());
    }

    #[test]
    fn never_panics_on_odd_roots() {
        for v in [
            json!(null),
            json!(1),
            json!("s"),
            json!([1, 2]),
            json!({"x-a": 1}),
        ] {
            let _ = from_node::<Top>(&node(&v));
        }
    }
}
