//! YAML text to [`Node`] trees, built from `saphyr-parser`'s event stream.
//!
//! The tree mirrors what compose-go gets from yaml.v3: plain scalars typed by
//! [`resolve_plain`], quoted and block scalars as strings, aliases expanded into copies,
//! merge keys (`<<`) applied, duplicate keys rejected. Every node keeps the position
//! where it starts so later stages can report `file:line:column`.

use std::collections::HashMap;
use std::sync::Arc;

use saphyr_parser::{Event, Marker, Parser, ScalarStyle, ScanError, Span, Tag as RawTag};

use super::resolve::resolve_plain;
use super::{Key, Map, Mark, Node, Tag, Value};
use crate::error::ConfigError;

/// How many nodes alias expansion may produce in one stream before we call it an
/// alias bomb ("billion laughs"). Real Compose files stay far below this.
pub const MAX_ALIAS_NODES: usize = 1_000_000;

/// How deeply collections may nest (including nesting created through aliases), so
/// that no later recursive stage can exhaust the stack.
pub const MAX_DEPTH: usize = 512;

const CORE_TAG_PREFIX: &str = "tag:yaml.org,2002:";

/// Parses every document of `src`; an empty document becomes a null node, and so does
/// a stream without any document (an empty file or one with only comments).
pub fn parse_documents(src: &str, file: Arc<str>) -> Result<Vec<Node>, ConfigError> {
    let mut builder = Builder::new(file);
    for event in Parser::new_from_str(src) {
        let (event, span) = event.map_err(|e| builder.scan_error(&e))?;
        if builder.event(event, span)? == Flow::Done {
            break;
        }
    }
    Ok(builder.finish())
}

#[derive(PartialEq)]
enum Flow {
    More,
    Done,
}

/// A finished node with what the limits need to know about it.
struct Built {
    node: Node,
    /// Nodes in the subtree, the node itself included.
    size: usize,
    /// Collection nesting of the subtree (a scalar is 0).
    height: usize,
}

/// A collection being built.
struct Frame {
    mark: Mark,
    tag: Option<Tag>,
    anchor: usize,
    size: usize,
    height: usize,
    kind: FrameKind,
}

enum FrameKind {
    Seq(Vec<Node>),
    Map(MapFrame),
}

#[derive(Default)]
struct MapFrame {
    entries: Map,
    pending: Option<PendingKey>,
    /// Where the `<<` key was written, once seen.
    merge_key: Option<Mark>,
    /// Mappings to merge in, in the order written (earlier wins).
    merges: Vec<Map>,
}

enum PendingKey {
    Key(Key),
    /// `<<`, written at this mark.
    Merge(Mark),
}

struct Builder {
    file: Arc<str>,
    docs: Vec<Node>,
    stack: Vec<Frame>,
    root: Option<Node>,
    doc_mark: Mark,
    anchors: HashMap<usize, Built>,
    alias_nodes: usize,
}

impl Builder {
    fn new(file: Arc<str>) -> Self {
        Builder {
            doc_mark: Mark::new(file.clone(), 1, 1),
            file,
            docs: Vec::new(),
            stack: Vec::new(),
            root: None,
            anchors: HashMap::new(),
            alias_nodes: 0,
        }
    }

    fn mark(&self, m: &Marker) -> Mark {
        let line = u32::try_from(m.line()).unwrap_or(u32::MAX);
        let col = u32::try_from(m.col().saturating_add(1)).unwrap_or(u32::MAX);
        Mark::new(self.file.clone(), line, col)
    }

    fn scan_error(&self, e: &ScanError) -> ConfigError {
        ConfigError::at(&self.mark(e.marker()), "", e.info().to_string())
    }

    fn finish(mut self) -> Vec<Node> {
        if self.docs.is_empty() {
            self.docs
                .push(Node::null(Mark::new(self.file.clone(), 1, 1)));
        }
        self.docs
    }

    fn event(&mut self, event: Event<'_>, span: Span) -> Result<Flow, ConfigError> {
        let mark = self.mark(&span.start);
        match event {
            Event::Nothing | Event::StreamStart => {}
            Event::StreamEnd => return Ok(Flow::Done),
            Event::DocumentStart(_) => {
                self.root = None;
                self.doc_mark = mark;
            }
            Event::DocumentEnd => {
                let root = self
                    .root
                    .take()
                    .unwrap_or_else(|| Node::null(self.doc_mark.clone()));
                self.docs.push(root);
            }
            Event::Alias(id) => self.alias(id, mark)?,
            Event::Scalar(text, style, anchor, tag) => {
                self.scalar(&text, style, anchor, tag.as_deref(), mark)?
            }
            Event::SequenceStart(anchor, tag) => {
                self.start(FrameKind::Seq(Vec::new()), anchor, tag.as_deref(), mark)?
            }
            Event::MappingStart(anchor, tag) => self.start(
                FrameKind::Map(MapFrame::default()),
                anchor,
                tag.as_deref(),
                mark,
            )?,
            Event::SequenceEnd | Event::MappingEnd => self.end()?,
        }
        Ok(Flow::More)
    }

    /// Whether the innermost open collection is a mapping waiting for a key.
    fn expects_key(&self) -> bool {
        matches!(
            self.stack.last(),
            Some(Frame {
                kind: FrameKind::Map(MapFrame { pending: None, .. }),
                ..
            })
        )
    }

    fn start(
        &mut self,
        kind: FrameKind,
        anchor: usize,
        tag: Option<&RawTag>,
        mark: Mark,
    ) -> Result<(), ConfigError> {
        if self.expects_key() {
            return Err(complex_key_error(&mark, &kind));
        }
        if self.stack.len() >= MAX_DEPTH {
            return Err(too_deep(&mark));
        }
        let tag = match classify_tag(tag) {
            TagClass::Reset => Some(Tag::Reset),
            TagClass::Override => Some(Tag::Override),
            TagClass::Other(t) => Some(Tag::Other(t)),
            TagClass::None | TagClass::NonSpecific | TagClass::Core(_) => None,
        };
        self.stack.push(Frame {
            mark,
            tag,
            anchor,
            size: 1,
            height: 1,
            kind,
        });
        Ok(())
    }

    fn end(&mut self) -> Result<(), ConfigError> {
        let Some(frame) = self.stack.pop() else {
            return Ok(());
        };
        let value = match frame.kind {
            FrameKind::Seq(items) => Value::Seq(items),
            FrameKind::Map(m) => Value::Map(apply_merges(m)),
        };
        let node = Node {
            value,
            mark: frame.mark,
            tag: frame.tag,
        };
        self.complete(
            Built {
                node,
                size: frame.size,
                height: frame.height,
            },
            frame.anchor,
        )
    }

    fn scalar(
        &mut self,
        text: &str,
        style: ScalarStyle,
        anchor: usize,
        tag: Option<&RawTag>,
        mark: Mark,
    ) -> Result<(), ConfigError> {
        let class = classify_tag(tag);
        if self.expects_key() {
            let pending = scalar_key(text, style, &class, mark)?;
            return self.set_key(pending, anchor);
        }
        let node = scalar_node(text, style, class, mark)?;
        self.complete(
            Built {
                node,
                size: 1,
                height: 0,
            },
            anchor,
        )
    }

    fn alias(&mut self, id: usize, mark: Mark) -> Result<(), ConfigError> {
        let Some(target) = self.anchors.get(&id) else {
            return Err(ConfigError::at(&mark, "", "unknown anchor referenced"));
        };
        self.alias_nodes = self.alias_nodes.saturating_add(target.size);
        if self.alias_nodes > MAX_ALIAS_NODES {
            return Err(ConfigError::at(
                &mark,
                "",
                format!("document contains excessive aliasing (more than {MAX_ALIAS_NODES} nodes)"),
            ));
        }
        if self.stack.len().saturating_add(target.height) > MAX_DEPTH {
            return Err(too_deep(&mark));
        }
        let mut node = target.node.clone();
        let (size, height) = (target.size, target.height);
        if self.expects_key() {
            let Some(name) = key_text_of(&node) else {
                return Err(ConfigError::at(
                    &mark,
                    "",
                    format!("mapping keys must be scalars, found {}", node.kind()),
                ));
            };
            return self.set_key(PendingKey::Key(Key::new(name, mark)), 0);
        }
        // The copy points at where the alias is used; its contents keep the positions
        // of the anchored original.
        node.mark = mark;
        self.complete(Built { node, size, height }, 0)
    }

    fn set_key(&mut self, pending: PendingKey, anchor: usize) -> Result<(), ConfigError> {
        if anchor != 0 {
            // An anchored key can be aliased later as a value: keep it as a string.
            if let PendingKey::Key(k) = &pending {
                let node = Node::string(k.name.clone(), k.mark.clone());
                self.anchors.insert(
                    anchor,
                    Built {
                        node,
                        size: 1,
                        height: 0,
                    },
                );
            }
        }
        let Some(Frame {
            kind: FrameKind::Map(m),
            ..
        }) = self.stack.last_mut()
        else {
            return Ok(());
        };
        match &pending {
            PendingKey::Key(key) => {
                if let Some((first, _)) = m.entries.get_key_value(key.name.as_str()) {
                    return Err(duplicate_key(key, &first.mark));
                }
            }
            PendingKey::Merge(mark) => {
                if let Some(first) = &m.merge_key {
                    return Err(duplicate_key(&Key::new("<<", mark.clone()), first));
                }
                m.merge_key = Some(mark.clone());
            }
        }
        m.pending = Some(pending);
        Ok(())
    }

    /// Hands a finished node to its parent (or makes it the document root).
    fn complete(&mut self, built: Built, anchor: usize) -> Result<(), ConfigError> {
        if anchor != 0 {
            let copy = Built {
                node: built.node.clone(),
                size: built.size,
                height: built.height,
            };
            self.anchors.insert(anchor, copy);
        }
        let Some(frame) = self.stack.last_mut() else {
            self.root = Some(built.node);
            return Ok(());
        };
        frame.size = frame.size.saturating_add(built.size);
        frame.height = frame.height.max(built.height.saturating_add(1));
        match &mut frame.kind {
            FrameKind::Seq(items) => items.push(built.node),
            FrameKind::Map(m) => match m.pending.take() {
                Some(PendingKey::Key(key)) => {
                    m.entries.insert(key, built.node);
                }
                Some(PendingKey::Merge(_)) => add_merge(m, built.node)?,
                // Keys are routed through `set_key`; a value without a key cannot happen.
                None => {}
            },
        }
        Ok(())
    }
}

/// The value of a merge key: a mapping or a sequence of mappings.
fn add_merge(m: &mut MapFrame, value: Node) -> Result<(), ConfigError> {
    let mark = value.mark.clone();
    let wrong = || {
        ConfigError::at(
            &mark,
            "",
            "map merge requires map or sequence of maps as the value",
        )
    };
    match value.value {
        Value::Map(map) => m.merges.push(map),
        Value::Seq(items) => {
            for item in items {
                match item.value {
                    Value::Map(map) => m.merges.push(map),
                    _ => return Err(wrong()),
                }
            }
        }
        _ => return Err(wrong()),
    }
    Ok(())
}

/// Explicit keys win over merged ones; among merged mappings the earlier wins.
fn apply_merges(m: MapFrame) -> Map {
    let mut entries = m.entries;
    for merged in m.merges {
        for (k, v) in merged {
            entries.entry(k).or_insert(v);
        }
    }
    entries
}

/// What a scalar key becomes: its text as written (null spellings become ""), or the
/// merge marker.
fn scalar_key(
    text: &str,
    style: ScalarStyle,
    class: &TagClass,
    mark: Mark,
) -> Result<PendingKey, ConfigError> {
    let plain = style == ScalarStyle::Plain;
    let name = match class {
        TagClass::None if plain && text == "<<" => return Ok(PendingKey::Merge(mark)),
        TagClass::Core(s) if s == "merge" => return Ok(PendingKey::Merge(mark)),
        TagClass::None | TagClass::Reset | TagClass::Override
            if plain && resolve_plain(text) == Value::Null =>
        {
            String::new()
        }
        TagClass::Core(s) if s == "null" => {
            resolve_core(s, text, &mark)?;
            String::new()
        }
        TagClass::Core(s) => {
            resolve_core(s, text, &mark)?;
            text.to_string()
        }
        _ => text.to_string(),
    };
    Ok(PendingKey::Key(Key::new(name, mark)))
}

/// The key text of an aliased node used as a key.
fn key_text_of(node: &Node) -> Option<String> {
    match &node.value {
        Value::Null => Some(String::new()),
        _ => node.scalar_to_string(),
    }
}

fn scalar_node(
    text: &str,
    style: ScalarStyle,
    class: TagClass,
    mark: Mark,
) -> Result<Node, ConfigError> {
    let plain = style == ScalarStyle::Plain;
    let typed = |t: &str| {
        if plain {
            resolve_plain(t)
        } else {
            Value::String(t.to_string())
        }
    };
    let (value, tag) = match class {
        TagClass::None => (typed(text), None),
        TagClass::Reset => (typed(text), Some(Tag::Reset)),
        TagClass::Override => (typed(text), Some(Tag::Override)),
        TagClass::NonSpecific => (Value::String(text.to_string()), None),
        TagClass::Core(suffix) => (resolve_core(&suffix, text, &mark)?, None),
        TagClass::Other(t) => (Value::String(text.to_string()), Some(Tag::Other(t))),
    };
    Ok(Node { value, mark, tag })
}

/// A scalar with an explicit `!!` tag, converted as yaml.v3 does (`!!int "12"` is 12,
/// `!!float 1` is 1.0, `!!int abc` is an error).
fn resolve_core(suffix: &str, text: &str, mark: &Mark) -> Result<Value, ConfigError> {
    let resolved = resolve_plain(text);
    let found = short_tag(&resolved);
    let value = match (suffix, resolved) {
        ("int", v @ Value::Int(_)) => v,
        ("float", v @ Value::Float(_)) => v,
        ("float", Value::Int(i)) => Value::Float(i as f64),
        ("bool", v @ Value::Bool(_)) => v,
        ("null", Value::Null) => Value::Null,
        ("int" | "float" | "bool" | "null", _) => {
            let msg = format!("cannot decode !!{found} `{text}` as a !!{suffix}");
            return Err(ConfigError::at(mark, "", msg));
        }
        // `!!str`, `!!timestamp` (a string for interface{} targets), `!!binary` and
        // any other core tag keep the text.
        _ => Value::String(text.to_string()),
    };
    Ok(value)
}

fn short_tag(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Int(_) => "int",
        Value::Float(_) => "float",
        Value::String(_) | Value::Seq(_) | Value::Map(_) => "str",
    }
}

/// The explicit tags we tell apart.
enum TagClass {
    None,
    Reset,
    Override,
    /// `!` alone: the node is a string even when plain.
    NonSpecific,
    /// `!!suffix`.
    Core(String),
    Other(String),
}

fn classify_tag(tag: Option<&RawTag>) -> TagClass {
    let Some(tag) = tag else {
        return TagClass::None;
    };
    match (tag.handle.as_str(), tag.suffix.as_str()) {
        ("!", "reset") => TagClass::Reset,
        ("!", "override") => TagClass::Override,
        ("!", "") | ("", "!") => TagClass::NonSpecific,
        (CORE_TAG_PREFIX, suffix) => TagClass::Core(suffix.to_string()),
        ("", suffix) if suffix.starts_with(CORE_TAG_PREFIX) => {
            TagClass::Core(suffix.trim_start_matches(CORE_TAG_PREFIX).to_string())
        }
        (handle, suffix) => TagClass::Other(format!("{handle}{suffix}")),
    }
}

fn complex_key_error(mark: &Mark, kind: &FrameKind) -> ConfigError {
    let what = match kind {
        FrameKind::Seq(_) => "a sequence",
        FrameKind::Map(_) => "a mapping",
    };
    ConfigError::at(
        mark,
        "",
        format!("mapping keys must be scalars, found {what}"),
    )
}

fn too_deep(mark: &Mark) -> ConfigError {
    ConfigError::at(
        mark,
        "",
        format!("yaml nesting is deeper than {MAX_DEPTH} levels"),
    )
}

/// go-yaml's wording: `mapping key "x" already defined at line 3`.
fn duplicate_key(key: &Key, first: &Mark) -> ConfigError {
    let msg = format!(
        "mapping key {} already defined at line {}",
        crate::gojson::go_quote(&key.name),
        first.line
    );
    ConfigError::at(&key.mark, "", msg)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(src: &str) -> Result<Vec<Node>, ConfigError> {
        parse_documents(src, Arc::from("c.yaml"))
    }

    fn one(src: &str) -> Node {
        let mut docs = parse(src).unwrap();
        assert_eq!(docs.len(), 1);
        docs.remove(0)
    }

    fn err(src: &str) -> String {
        parse(src).unwrap_err().to_string()
    }

    fn at(n: &Node) -> (u32, u32) {
        (n.mark.line, n.mark.col)
    }

    #[test]
    fn scalars_are_typed_only_when_plain() {
        let n = one("a: 80\nb: '80'\nc: \"true\"\nd: true\ne: ~\nf:\ng: |\n  x\nh: 1.5\n");
        assert_eq!(n.get("a").unwrap().value, Value::Int(80));
        assert_eq!(n.get("b").unwrap().value, Value::String("80".into()));
        assert_eq!(n.get("c").unwrap().value, Value::String("true".into()));
        assert_eq!(n.get("d").unwrap().value, Value::Bool(true));
        assert_eq!(n.get("e").unwrap().value, Value::Null);
        assert_eq!(n.get("f").unwrap().value, Value::Null);
        assert_eq!(n.get("g").unwrap().value, Value::String("x\n".into()));
        assert_eq!(n.get("h").unwrap().value, Value::Float(1.5));
    }

    #[test]
    fn marks_are_one_based() {
        let n = one("services:\n  web:\n    image: nginx\n    ports: [80]\n");
        assert_eq!(at(&n), (1, 1));
        let web = n.get("services").unwrap().get("web").unwrap();
        assert_eq!(at(web), (3, 5));
        let image = web.get("image").unwrap();
        assert_eq!(at(image), (3, 12));
        let (key, _) = web.as_map().unwrap().get_key_value("ports").unwrap();
        assert_eq!((key.mark.line, key.mark.col), (4, 5));
        assert_eq!(at(&web.get("ports").unwrap().as_seq().unwrap()[0]), (4, 13));
        assert_eq!(&*image.mark.file, "c.yaml");
    }

    #[test]
    fn explicit_tags_convert() {
        let n = one(
            "a: !!int \"12\"\nb: !!float 1\nc: !!str 12\nd: !!bool \"true\"\ne: !!null ''\nf: ! 12\n",
        );
        assert_eq!(n.get("a").unwrap().value, Value::Int(12));
        assert_eq!(n.get("b").unwrap().value, Value::Float(1.0));
        assert_eq!(n.get("c").unwrap().value, Value::String("12".into()));
        assert_eq!(n.get("d").unwrap().value, Value::Bool(true));
        assert_eq!(n.get("e").unwrap().value, Value::Null);
        assert_eq!(n.get("f").unwrap().value, Value::String("12".into()));
        assert_eq!(
            err("a: !!int abc\n"),
            "c.yaml:1:4: cannot decode !!str `abc` as a !!int"
        );
        assert_eq!(
            err("a: !!bool yes\n"),
            "c.yaml:1:4: cannot decode !!str `yes` as a !!bool"
        );
    }

    #[test]
    fn reset_and_override_tags() {
        let n = one("a: !reset []\nb: !reset null\nc: !override {x: 1}\nd: !reset\ne: !custom 5\n");
        let a = n.get("a").unwrap();
        assert_eq!(
            (a.tag.clone(), a.value.clone()),
            (Some(Tag::Reset), Value::Seq(vec![]))
        );
        let b = n.get("b").unwrap();
        assert_eq!(
            (b.tag.clone(), b.value.clone()),
            (Some(Tag::Reset), Value::Null)
        );
        let c = n.get("c").unwrap();
        assert_eq!(c.tag, Some(Tag::Override));
        assert_eq!(c.get("x").unwrap().value, Value::Int(1));
        let d = n.get("d").unwrap();
        assert_eq!(
            (d.tag.clone(), d.value.clone()),
            (Some(Tag::Reset), Value::Null)
        );
        let e = n.get("e").unwrap();
        assert_eq!(e.tag, Some(Tag::Other("!custom".into())));
        assert_eq!(e.value, Value::String("5".into()));
    }

    #[test]
    fn keys_are_their_text() {
        let n = one("80: a\ntrue: b\n~: c\n0x10: d\n'q': e\n1.50: f\n");
        let keys: Vec<&str> = n
            .as_map()
            .unwrap()
            .keys()
            .map(|k| k.name.as_str())
            .collect();
        assert_eq!(keys, ["80", "true", "", "0x10", "q", "1.50"]);
    }

    #[test]
    fn complex_keys_are_rejected() {
        assert_eq!(
            err("? [a]\n: b\n"),
            "c.yaml:1:3: mapping keys must be scalars, found a sequence"
        );
        assert!(err("{? {a: 1} : b}").contains("found a mapping"));
        assert!(err("x: &a [1]\ny: {*a : b}\n").contains("found a sequence"));
    }

    #[test]
    fn duplicate_keys() {
        assert_eq!(
            err("a: 1\nb:\n  x: 1\n  x: 2\n"),
            "c.yaml:4:3: mapping key \"x\" already defined at line 3"
        );
        // As in yaml.v3, keys compare by their text, whatever the quoting.
        assert!(err("1: a\n\"1\": b\n").contains("mapping key \"1\" already defined at line 1"));
        assert_eq!(
            err("<<: {a: 1}\n<<: {b: 1}\n"),
            "c.yaml:2:1: mapping key \"<<\" already defined at line 1"
        );
    }

    #[test]
    fn anchors_and_aliases_copy() {
        let n = one("a: &x {k: v}\nb: *x\nc: &s hello\nd: [*s, *s]\n");
        assert_eq!(n.get("a"), n.get("b"));
        let b = n.get("b").unwrap();
        assert_eq!(at(b), (2, 4));
        assert_eq!(at(b.get("k").unwrap()), (1, 11));
        let d = n.get("d").unwrap().as_seq().unwrap();
        assert_eq!(d[1].value, Value::String("hello".into()));
        assert!(err("a: *nope\n").starts_with("c.yaml:1:"));
    }

    #[test]
    fn merge_keys() {
        let src = "base: &b {image: a, env: {A: 1}}\nother: &o {image: z, extra: 1}\nweb:\n  <<: *b\n  image: c\nmulti:\n  <<: [*o, *b]\n";
        let n = one(src);
        let web = n.get("web").unwrap();
        assert_eq!(web.get("image").unwrap().value, Value::String("c".into()));
        assert_eq!(
            web.get("env").unwrap().get("A").unwrap().value,
            Value::Int(1)
        );
        assert!(web.get("<<").is_none());
        let multi = n.get("multi").unwrap();
        assert_eq!(multi.get("image").unwrap().value, Value::String("z".into()));
        assert_eq!(multi.get("extra").unwrap().value, Value::Int(1));
        assert!(multi.get("env").is_some());
        // A merged key is no duplicate of an explicit one, in either order.
        let n = one("a: &a {x: 1}\nb:\n  x: 2\n  <<: *a\n");
        assert_eq!(n.get("b").unwrap().get("x").unwrap().value, Value::Int(2));
        // A quoted `<<` is an ordinary key.
        let n = one("'<<': {x: 1}\n");
        assert!(n.get("<<").is_some());
        assert_eq!(
            err("a:\n  <<: [1]\n"),
            "c.yaml:2:7: map merge requires map or sequence of maps as the value"
        );
        assert!(err("a:\n  <<: 1\n").contains("map merge requires"));
    }

    #[test]
    fn documents() {
        assert_eq!(parse("").unwrap(), vec![Node::null(Mark::synthetic())]);
        assert_eq!(parse("# only a comment\n").unwrap().len(), 1);
        let docs = parse("a: 1\n---\n---\nb: 2\n").unwrap();
        assert_eq!(docs.len(), 3);
        assert!(docs[1].is_null());
        assert_eq!(docs[2].get("b").unwrap().value, Value::Int(2));
    }

    #[test]
    fn syntax_errors_have_positions() {
        let e = parse("services:\n  web:\n    image: a\n  x: : b\n").unwrap_err();
        assert!(e.mark.is_some(), "{e}");
        assert!(!e.message.is_empty());
        let e = parse("a: [1, 2\n").unwrap_err();
        assert!(e.to_string().starts_with("c.yaml:"), "{e}");
    }

    #[test]
    fn alias_bombs_are_stopped() {
        let mut src = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..10 {
            let p = i - 1;
            src.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        let e = parse(&src).unwrap_err();
        assert!(e.message.contains("excessive aliasing"), "{e}");
    }

    #[test]
    fn nesting_is_bounded() {
        let deep = "[".repeat(MAX_DEPTH + 1) + &"]".repeat(MAX_DEPTH + 1);
        assert!(parse(&deep).is_err());
        let ok = "[".repeat(100) + &"]".repeat(100);
        assert!(parse(&ok).is_ok());
        let mut chain = String::from("a0: &a0 [x]\n");
        for i in 1..=MAX_DEPTH {
            chain.push_str(&format!("a{i}: &a{i} [*a{}]\n", i - 1));
        }
        assert!(parse(&chain).unwrap_err().message.contains("nesting"));
    }

    mod never_panics {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn on_arbitrary_text(s in "\\PC*") {
                let _ = parse(&s);
            }

            #[test]
            fn on_arbitrary_bytes(b in proptest::collection::vec(any::<u8>(), 0..200)) {
                let _ = parse(&String::from_utf8_lossy(&b));
            }

            #[test]
            fn on_yamlish_text(s in "([ \\n\\t:,\\-?\\[\\]{}&*!|>'\"#%@`<~.]|[a-c0-9]|!reset|<<|---|\\.\\.\\.){0,80}") {
                let _ = parse(&s);
            }
        }
    }
}
