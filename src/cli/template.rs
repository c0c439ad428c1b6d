//! The subset of Go's `text/template` that `--format` flags take, as `docker images`,
//! `docker ps` and `docker inspect` accept it. Values are JSON: `{{.Repository}}` looks up
//! the Go field name in an object. `table` formats get a header row and columns aligned the
//! way Docker's tabwriter aligns them.
//!
//! Supported: fields (`.`, `.A.B`), variables (`$`, `$x := ...`, `range $k, $v := ...`),
//! string, integer and boolean literals, parentheses (`(index .A 0).B`), pipes,
//! `if`/`else if`/`else`/`with`/`range`/`end`, trim markers (`{{-`, `-}}`), comments, and
//! Docker's functions `json`, `join`, `split`, `lower`, `upper`, `title`, `pad`, `truncate`
//! plus Go's `index` and `len`. Not supported: `printf` and other Go builtins, assignment
//! with `=`, `define`/`template`/`block`.

use std::fmt;

use serde_json::{Map, Value};

/// What Go prints for a missing value.
const NO_VALUE: &str = "<no value>";

/// Docker's table layout: `tabwriter.NewWriter(out, 10, 1, 3, ' ', 0)`.
const TABLE_MIN_WIDTH: usize = 10;
const TABLE_PADDING: usize = 3;

const FUNCTIONS: &[&str] = &[
    "json", "join", "split", "lower", "upper", "title", "pad", "truncate", "index", "len",
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TemplateError {
    /// The format does not parse; `line` and `column` count from 1.
    Parse {
        line: usize,
        column: usize,
        message: String,
    },
    /// A field that the value does not have, with the ones it has.
    UnknownField {
        field: String,
        available: Vec<String>,
    },
    /// Anything else that fails while rendering.
    Exec(String),
}

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TemplateError::Parse {
                line,
                column,
                message,
            } => write!(f, "template: {line}:{column}: {message}"),
            TemplateError::UnknownField { field, available } if available.is_empty() => {
                write!(f, "template: field {field:?} does not exist")
            }
            TemplateError::UnknownField { field, available } => write!(
                f,
                "template: field {field:?} does not exist; available: {}",
                available.join(", ")
            ),
            TemplateError::Exec(message) => write!(f, "template: {message}"),
        }
    }
}

impl std::error::Error for TemplateError {}

fn exec_error(message: impl Into<String>) -> TemplateError {
    TemplateError::Exec(message.into())
}

/// A parsed `--format` value.
#[derive(Debug, Clone)]
pub struct Template {
    nodes: Vec<Node>,
    table: bool,
}

#[derive(Debug, Clone)]
enum Node {
    Text(String),
    Print(Pipeline),
    Branch {
        kind: BranchKind,
        pipeline: Pipeline,
        then: Vec<Node>,
        otherwise: Vec<Node>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BranchKind {
    If,
    With,
    Range,
}

/// Commands joined by `|`: each result is passed as the last argument of the next. With
/// `$x :=` (or `$i, $x :=` in `range`) in front, the result is also kept in variables.
#[derive(Debug, Clone)]
struct Pipeline {
    declare: Vec<String>,
    commands: Vec<Command>,
}

#[derive(Debug, Clone)]
enum Command {
    Operand(Operand),
    Call {
        function: String,
        args: Vec<Operand>,
    },
}

#[derive(Debug, Clone)]
enum Operand {
    /// `.` is an empty path, `.A.B` is `["A", "B"]`.
    Field(Vec<String>),
    /// `$x.A` is `("x", ["A"])`; `$` alone, the value being rendered, has an empty name.
    Variable(String, Vec<String>),
    Literal(Value),
    /// `(pipeline)`, with the fields of `(pipeline).A.B` read from its result.
    Nested(Box<Pipeline>, Vec<String>),
}

/// Parses a format the way Docker's CLI prepares it: a leading `table` marks a table, the
/// rest is trimmed of spaces, and the two-character sequences `\t` and `\n` become a tab
/// and a newline (shells do not do that inside quotes, so Docker does).
pub fn parse(format: &str) -> Result<Template, TemplateError> {
    let (table, body) = match format.strip_prefix("table") {
        Some(rest) => (true, rest),
        None => (false, format),
    };
    let body = body
        .trim_matches(' ')
        .replace("\\t", "\t")
        .replace("\\n", "\n");
    let items = lex(&body)?;
    let mut parser = Parser {
        items,
        next: 0,
        source: &body,
    };
    let (nodes, stop) = parser.parse_list()?;
    if let Some((stop, offset)) = stop {
        return Err(parse_error(
            &body,
            offset,
            format!("unexpected {{{{{stop}}}}}"),
        ));
    }
    Ok(Template { nodes, table })
}

/// Renders one row per value, each followed by a newline. For a `table` format, a header
/// row comes first and the columns are aligned; headers are the field names in capitals
/// with words split (`CreatedSince` is `CREATED SINCE`).
#[cfg(test)]
pub fn render_table(format: &str, rows: &[Value]) -> Result<String, TemplateError> {
    render_table_with_headers(format, rows, &[])
}

/// Like [`render_table`], with header labels for some fields, as each Docker command has
/// its own (`("ID", "IMAGE ID")`, `("CreatedSince", "CREATED")`).
pub fn render_table_with_headers(
    format: &str,
    rows: &[Value],
    headers: &[(&str, &str)],
) -> Result<String, TemplateError> {
    let template = parse(format)?;
    let mut body = String::new();
    for row in rows {
        body.push_str(&template.render(row)?);
        body.push('\n');
    }
    if !template.is_table() {
        return Ok(body);
    }
    let mut table = template.render_header(headers)?;
    table.push('\n');
    table.push_str(&body);
    Ok(align_columns(&table))
}

impl Template {
    /// True when the format started with `table`.
    pub fn is_table(&self) -> bool {
        self.table
    }

    /// Renders the template for one value, without a trailing newline.
    pub fn render(&self, value: &Value) -> Result<String, TemplateError> {
        let mut out = String::new();
        Renderer::new(value, None).nodes(&self.nodes, value, &mut out)?;
        Ok(out)
    }

    /// The header row: the template rendered with every field replaced by its label and the
    /// text functions left out, as Docker renders it, so `{{upper .Name}}` heads its column
    /// with `NAME` and `{{pad .Name 1 1}}` keeps its padding.
    pub fn render_header(&self, headers: &[(&str, &str)]) -> Result<String, TemplateError> {
        let mut out = String::new();
        Renderer::new(&Value::Null, Some(headers)).nodes(&self.nodes, &Value::Null, &mut out)?;
        Ok(out)
    }
}

// ---------------------------------------------------------------------------------------
// Lexing: text and actions

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Field(Vec<String>),
    /// A field chain right after `)`, read from the parenthesized result.
    ChainedField(Vec<String>),
    Variable(String, Vec<String>),
    Declare,
    Comma,
    Ident(String),
    Literal(Value),
    Pipe,
    Open,
    Close,
}

#[derive(Debug)]
enum Item {
    Text(String),
    /// The tokens of one `{{...}}` and the byte offset where it starts.
    Action(Vec<Token>, usize),
}

fn parse_error(source: &str, offset: usize, message: String) -> TemplateError {
    let before = &source[..offset.min(source.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    TemplateError::Parse {
        line,
        column,
        message,
    }
}

fn lex(source: &str) -> Result<Vec<Item>, TemplateError> {
    let mut items = Vec::new();
    let mut rest_start = 0;
    let mut trim_next_text = false;
    while let Some(found) = source[rest_start..].find("{{") {
        let open = rest_start + found;
        let mut text = &source[rest_start..open];
        if trim_next_text {
            text = text.trim_start();
        }
        let mut start = open + 2;
        // `{{- ` trims the text before; the dash must be followed by a space so that
        // `{{-3}}` stays a number.
        if source[start..].starts_with('-')
            && source[start + 1..].starts_with(|c: char| c.is_ascii_whitespace())
        {
            text = text.trim_end();
            start += 1;
        }
        if !text.is_empty() {
            items.push(Item::Text(text.to_string()));
        }
        let (tokens, end, trim_after) = lex_action(source, open, start)?;
        if let Some(tokens) = tokens {
            items.push(Item::Action(tokens, open));
        }
        trim_next_text = trim_after;
        rest_start = end;
    }
    let mut text = &source[rest_start..];
    if trim_next_text {
        text = text.trim_start();
    }
    if !text.is_empty() {
        items.push(Item::Text(text.to_string()));
    }
    Ok(items)
}

/// Lexes one action from `start` (just after `{{` at `open`) to its `}}`. Returns the
/// tokens (none for a comment), the offset after `}}`, and whether a `-}}` asks to trim
/// the text after.
fn lex_action(
    source: &str,
    open: usize,
    start: usize,
) -> Result<(Option<Vec<Token>>, usize, bool), TemplateError> {
    let bytes = source.as_bytes();
    let mut tokens = Vec::new();
    let mut i = start;
    let body = source[start..].trim_start();
    if body.starts_with("/*") {
        let comment_start = source.len() - body.len();
        let close = source[comment_start..]
            .find("*/")
            .ok_or_else(|| parse_error(source, open, "unclosed comment".to_string()))?;
        i = comment_start + close + 2;
        let after = source[i..].trim_start();
        let (end, trim) = action_end(after).ok_or_else(|| {
            parse_error(source, i, "comment ends before closing delimiter".into())
        })?;
        return Ok((None, source.len() - after.len() + end, trim));
    }
    loop {
        let Some(&b) = bytes.get(i) else {
            return Err(parse_error(source, open, "unclosed action".to_string()));
        };
        if b.is_ascii_whitespace() {
            if let Some((end, true)) = action_end(source[i..].trim_start()) {
                let after = source[i..].trim_start();
                return Ok((Some(tokens), source.len() - after.len() + end, true));
            }
            i += 1;
            continue;
        }
        if source[i..].starts_with("}}") {
            return Ok((Some(tokens), i + 2, false));
        }
        let (token, next) = lex_token(source, i)?;
        tokens.push(token);
        i = next;
    }
}

/// `}}` or `-}}` at the start of `s`: the length and whether it trims.
fn action_end(s: &str) -> Option<(usize, bool)> {
    if s.starts_with("-}}") {
        Some((3, true))
    } else if s.starts_with("}}") {
        Some((2, false))
    } else {
        None
    }
}

fn is_ident_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

fn lex_token(source: &str, i: usize) -> Result<(Token, usize), TemplateError> {
    let bytes = source.as_bytes();
    let ident_end = |from: usize| {
        from + bytes[from..]
            .iter()
            .take_while(|&&b| is_ident_byte(b))
            .count()
    };
    match bytes[i] {
        b'|' => Ok((Token::Pipe, i + 1)),
        b'(' => Ok((Token::Open, i + 1)),
        b')' => Ok((Token::Close, i + 1)),
        b'.' => {
            let (path, at) = lex_field_chain(source, i)?;
            // A lone `.` is the value itself.
            let at = if path.is_empty() { i + 1 } else { at };
            if at == i + 1 && bytes.get(at) == Some(&b'.') {
                return Err(parse_error(source, at, "unexpected \".\" in field".into()));
            }
            if i > 0 && bytes[i - 1] == b')' && !path.is_empty() {
                return Ok((Token::ChainedField(path), at));
            }
            Ok((Token::Field(path), at))
        }
        b'$' => {
            let name_end = ident_end(i + 1);
            let (path, at) = lex_field_chain(source, name_end)?;
            let name = source[i + 1..name_end].to_string();
            Ok((Token::Variable(name, path), at))
        }
        b':' if bytes.get(i + 1) == Some(&b'=') => Ok((Token::Declare, i + 2)),
        b',' => Ok((Token::Comma, i + 1)),
        b'"' => lex_quoted(source, i),
        b'`' => {
            let close = source[i + 1..]
                .find('`')
                .ok_or_else(|| parse_error(source, i, "unterminated raw string".into()))?;
            let text = &source[i + 1..i + 1 + close];
            Ok((Token::Literal(Value::String(text.into())), i + close + 2))
        }
        b'-' | b'0'..=b'9' => {
            let digits_from = if bytes[i] == b'-' { i + 1 } else { i };
            let end = ident_end(digits_from);
            let number: i64 = source[i..end]
                .parse()
                .map_err(|_| parse_error(source, i, format!("bad number {:?}", &source[i..end])))?;
            Ok((Token::Literal(Value::from(number)), end))
        }
        b if is_ident_byte(b) => {
            let end = ident_end(i);
            let word = &source[i..end];
            let token = match word {
                "true" => Token::Literal(Value::Bool(true)),
                "false" => Token::Literal(Value::Bool(false)),
                "nil" => Token::Literal(Value::Null),
                _ => Token::Ident(word.to_string()),
            };
            Ok((token, end))
        }
        _ => {
            let c = source[i..].chars().next().unwrap_or('?');
            Err(parse_error(
                source,
                i,
                format!("unexpected {c:?} in action"),
            ))
        }
    }
}

/// `.A.B` from `start`: the names and the offset after them (empty at a lone `.` or at no
/// `.` at all). A trailing `.` is an error.
fn lex_field_chain(source: &str, start: usize) -> Result<(Vec<String>, usize), TemplateError> {
    let bytes = source.as_bytes();
    let mut path = Vec::new();
    let mut at = start;
    while bytes.get(at) == Some(&b'.') {
        let name_len = bytes[at + 1..]
            .iter()
            .take_while(|&&b| is_ident_byte(b))
            .count();
        if name_len == 0 {
            break;
        }
        path.push(source[at + 1..at + 1 + name_len].to_string());
        at += 1 + name_len;
    }
    if !path.is_empty() && bytes.get(at) == Some(&b'.') {
        return Err(parse_error(source, at, "unexpected \".\" in field".into()));
    }
    Ok((path, at))
}

fn lex_quoted(source: &str, start: usize) -> Result<(Token, usize), TemplateError> {
    let mut out = String::new();
    let mut chars = source[start + 1..].char_indices();
    while let Some((at, c)) = chars.next() {
        match c {
            '"' => return Ok((Token::Literal(Value::String(out)), start + 1 + at + 1)),
            '\\' => match chars.next().map(|(_, e)| e) {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some(e @ ('\\' | '"')) => out.push(e),
                _ => {
                    return Err(parse_error(
                        source,
                        start + 1 + at,
                        "bad escape in string".into(),
                    ));
                }
            },
            c => out.push(c),
        }
    }
    Err(parse_error(
        source,
        start,
        "unterminated quoted string".into(),
    ))
}

// ---------------------------------------------------------------------------------------
// Parsing: actions into nodes

/// What ended a list of nodes: `else`, `else if ...`, or `end`.
#[derive(Debug)]
enum Stop {
    Else,
    ElseIf(Pipeline),
    End,
}

impl fmt::Display for Stop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Stop::Else | Stop::ElseIf(_) => "else",
            Stop::End => "end",
        })
    }
}

/// Parsed nodes and what ended them, with its offset (none at the end of input).
type NodesUntil = (Vec<Node>, Option<(Stop, usize)>);

struct Parser<'s> {
    items: Vec<Item>,
    next: usize,
    source: &'s str,
}

impl Parser<'_> {
    /// Nodes up to the next `else` or `end` (returned with its offset) or the end of input.
    fn parse_list(&mut self) -> Result<NodesUntil, TemplateError> {
        let mut nodes = Vec::new();
        while let Some(item) = self.items.get(self.next) {
            self.next += 1;
            let (tokens, offset) = match item {
                Item::Text(text) => {
                    nodes.push(Node::Text(text.clone()));
                    continue;
                }
                Item::Action(tokens, offset) => (tokens.clone(), *offset),
            };
            let keyword = match tokens.first() {
                Some(Token::Ident(word)) => word.as_str(),
                _ => "",
            };
            let branch = match keyword {
                "if" => Some(BranchKind::If),
                "with" => Some(BranchKind::With),
                "range" => Some(BranchKind::Range),
                _ => None,
            };
            match (keyword, branch) {
                (_, Some(kind)) => {
                    let pipeline = self.pipeline(&tokens[1..], offset)?;
                    if kind != BranchKind::Range && pipeline.declare.len() > 1 {
                        return Err(self.error(offset, "only range declares two variables"));
                    }
                    nodes.push(self.branch(kind, pipeline, offset)?);
                }
                ("end", _) if tokens.len() == 1 => return Ok((nodes, Some((Stop::End, offset)))),
                ("else", _) if tokens.len() == 1 => {
                    return Ok((nodes, Some((Stop::Else, offset))));
                }
                ("else", _) if tokens.get(1) == Some(&Token::Ident("if".into())) => {
                    let pipeline = self.pipeline(&tokens[2..], offset)?;
                    return Ok((nodes, Some((Stop::ElseIf(pipeline), offset))));
                }
                _ => {
                    let pipeline = self.pipeline(&tokens, offset)?;
                    if pipeline.declare.len() > 1 {
                        return Err(self.error(offset, "only range declares two variables"));
                    }
                    nodes.push(Node::Print(pipeline));
                }
            }
        }
        Ok((nodes, None))
    }

    /// The body of an `if`, `with` or `range` whose action was just read, up to its `end`.
    fn branch(
        &mut self,
        kind: BranchKind,
        pipeline: Pipeline,
        offset: usize,
    ) -> Result<Node, TemplateError> {
        let (then, stop) = self.parse_list()?;
        let otherwise = match stop {
            Some((Stop::End, _)) => Vec::new(),
            Some((Stop::Else, _)) => match self.parse_list()? {
                (nodes, Some((Stop::End, _))) => nodes,
                (_, Some((_, at))) => return Err(self.error(at, "expected {{end}} after {{else}}")),
                (_, None) => return Err(self.error(offset, "missing {{end}}")),
            },
            // `else if` is an `if` nested in the else branch that shares its `end`.
            Some((Stop::ElseIf(inner), at)) => vec![self.branch(BranchKind::If, inner, at)?],
            None => return Err(self.error(offset, "missing {{end}}")),
        };
        Ok(Node::Branch {
            kind,
            pipeline,
            then,
            otherwise,
        })
    }

    fn error(&self, offset: usize, message: &str) -> TemplateError {
        parse_error(self.source, offset, message.to_string())
    }

    fn pipeline(&self, tokens: &[Token], offset: usize) -> Result<Pipeline, TemplateError> {
        let (declare, tokens) = match tokens.iter().position(|t| *t == Token::Declare) {
            Some(at) => (self.declarations(&tokens[..at], offset)?, &tokens[at + 1..]),
            None => (Vec::new(), tokens),
        };
        if tokens.is_empty() {
            return Err(self.error(offset, "missing value for command"));
        }
        let mut commands = Vec::new();
        for part in split_top_level(tokens, &Token::Pipe) {
            commands.push(self.command(part, offset)?);
        }
        Ok(Pipeline { declare, commands })
    }

    /// `$x` or `$k, $v` before `:=`.
    fn declarations(&self, tokens: &[Token], offset: usize) -> Result<Vec<String>, TemplateError> {
        let parts = split_top_level(tokens, &Token::Comma);
        let names: Option<Vec<String>> = parts
            .iter()
            .map(|part| match part {
                [Token::Variable(name, path)] if !name.is_empty() && path.is_empty() => {
                    Some(name.clone())
                }
                _ => None,
            })
            .collect();
        match names {
            Some(names) if names.len() <= 2 => Ok(names),
            _ => Err(self.error(offset, "expected one or two variables before :=")),
        }
    }

    fn command(&self, tokens: &[Token], offset: usize) -> Result<Command, TemplateError> {
        match tokens.split_first() {
            None => Err(self.error(offset, "missing command in pipeline")),
            Some((Token::Ident(name), rest)) => {
                if !FUNCTIONS.contains(&name.as_str()) {
                    let message = match name.as_str() {
                        "end" | "else" => format!("unexpected {{{{{name}}}}}"),
                        _ => format!("function {name:?} not defined"),
                    };
                    return Err(parse_error(self.source, offset, message));
                }
                let args = self.operands(rest, offset)?;
                Ok(Command::Call {
                    function: name.clone(),
                    args,
                })
            }
            Some(_) => {
                let mut operands = self.operands(tokens, offset)?;
                match (operands.pop(), operands.is_empty()) {
                    (Some(operand), true) => Ok(Command::Operand(operand)),
                    _ => Err(self.error(offset, "can't give argument to non-function")),
                }
            }
        }
    }

    fn operands(&self, mut tokens: &[Token], offset: usize) -> Result<Vec<Operand>, TemplateError> {
        let mut operands = Vec::new();
        while let Some((first, rest)) = tokens.split_first() {
            let operand = match first {
                Token::Field(path) => Operand::Field(path.clone()),
                Token::Variable(name, path) => Operand::Variable(name.clone(), path.clone()),
                Token::Literal(value) => Operand::Literal(value.clone()),
                Token::Open => {
                    let close = matching_close(rest)
                        .ok_or_else(|| self.error(offset, "unclosed left paren"))?;
                    let inner = self.pipeline(&rest[..close], offset)?;
                    if !inner.declare.is_empty() {
                        return Err(self.error(offset, "unexpected := in parentheses"));
                    }
                    tokens = &rest[close + 1..];
                    let path = match tokens.split_first() {
                        Some((Token::ChainedField(path), after)) => {
                            tokens = after;
                            path.clone()
                        }
                        _ => Vec::new(),
                    };
                    operands.push(Operand::Nested(Box::new(inner), path));
                    continue;
                }
                Token::ChainedField(_) | Token::Declare | Token::Comma => {
                    return Err(self.error(offset, "unexpected token in command"));
                }
                Token::Close => return Err(self.error(offset, "unexpected right paren")),
                Token::Pipe => return Err(self.error(offset, "unexpected \"|\"")),
                Token::Ident(name) => {
                    let message = format!("function {name:?} as an argument needs parentheses");
                    return Err(parse_error(self.source, offset, message));
                }
            };
            operands.push(operand);
            tokens = rest;
        }
        Ok(operands)
    }
}

/// Splits `tokens` at `separator` outside parentheses.
fn split_top_level<'t>(tokens: &'t [Token], separator: &Token) -> Vec<&'t [Token]> {
    let mut parts = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    for (i, token) in tokens.iter().enumerate() {
        match token {
            Token::Open => depth += 1,
            Token::Close => depth = depth.saturating_sub(1),
            t if t == separator && depth == 0 => {
                parts.push(&tokens[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&tokens[start..]);
    parts
}

/// The index of the `)` closing a `(` just before `tokens`.
fn matching_close(tokens: &[Token]) -> Option<usize> {
    let mut depth = 0usize;
    for (i, token) in tokens.iter().enumerate() {
        match token {
            Token::Open => depth += 1,
            Token::Close if depth == 0 => return Some(i),
            Token::Close => depth -= 1,
            _ => {}
        }
    }
    None
}

// ---------------------------------------------------------------------------------------
// Rendering

struct Renderer<'h> {
    /// Set when rendering the header row of a table: labels for some fields.
    headers: Option<&'h [(&'h str, &'h str)]>,
    /// Variables in scope, innermost last; `$` (empty name) is the value being rendered.
    vars: Vec<(String, Value)>,
}

impl<'h> Renderer<'h> {
    fn new(root: &Value, headers: Option<&'h [(&'h str, &'h str)]>) -> Self {
        Renderer {
            headers,
            vars: vec![(String::new(), root.clone())],
        }
    }

    /// Renders `nodes`; variables declared in them go out of scope at the end, as in Go.
    fn nodes(
        &mut self,
        nodes: &[Node],
        dot: &Value,
        out: &mut String,
    ) -> Result<(), TemplateError> {
        let scope = self.vars.len();
        let result = self.nodes_in_scope(nodes, dot, out);
        self.vars.truncate(scope);
        result
    }

    fn nodes_in_scope(
        &mut self,
        nodes: &[Node],
        dot: &Value,
        out: &mut String,
    ) -> Result<(), TemplateError> {
        for node in nodes {
            match node {
                Node::Text(text) => out.push_str(text),
                // A declaration prints nothing.
                Node::Print(pipeline) if !pipeline.declare.is_empty() => {
                    let value = self.pipeline(pipeline, dot)?;
                    self.declare(&pipeline.declare, value);
                }
                Node::Print(pipeline) => out.push_str(&display(&self.pipeline(pipeline, dot)?)),
                Node::Branch {
                    kind,
                    pipeline,
                    then,
                    otherwise,
                } => {
                    let value = self.pipeline(pipeline, dot)?;
                    if *kind != BranchKind::Range {
                        self.declare(&pipeline.declare, value.clone());
                    }
                    let body = Body {
                        then,
                        otherwise,
                        declare: &pipeline.declare,
                    };
                    self.branch(*kind, &value, body, dot, out)?;
                }
            }
        }
        Ok(())
    }

    fn declare(&mut self, names: &[String], value: Value) {
        if let Some(name) = names.first() {
            self.vars.push((name.clone(), value));
        }
    }

    fn branch(
        &mut self,
        kind: BranchKind,
        value: &Value,
        body: Body<'_>,
        dot: &Value,
        out: &mut String,
    ) -> Result<(), TemplateError> {
        if !is_true(value) {
            return self.nodes(body.otherwise, dot, out);
        }
        match kind {
            BranchKind::If => self.nodes(body.then, dot, out),
            BranchKind::With => self.nodes(body.then, value, out),
            // A header row has one line per table, whatever a row's list holds.
            BranchKind::Range if self.headers.is_some() => {
                self.iteration(&body, value.clone(), value, out)
            }
            BranchKind::Range => match value {
                Value::Array(items) => items
                    .iter()
                    .enumerate()
                    .try_for_each(|(i, v)| self.iteration(&body, Value::from(i), v, out)),
                // Go ranges over a map in key order.
                Value::Object(map) => {
                    let mut keys: Vec<&String> = map.keys().collect();
                    keys.sort();
                    keys.into_iter().try_for_each(|k| {
                        self.iteration(&body, Value::String(k.clone()), &map[k.as_str()], out)
                    })
                }
                other => Err(exec_error(format!(
                    "range can't iterate over {}",
                    display(other)
                ))),
            },
        }
    }

    /// One pass of a `range` body, with `$x` (or `$k, $v`) set to the element (and its
    /// index or key).
    fn iteration(
        &mut self,
        body: &Body<'_>,
        key: Value,
        element: &Value,
        out: &mut String,
    ) -> Result<(), TemplateError> {
        let scope = self.vars.len();
        match body.declare {
            [value] => self.vars.push((value.clone(), element.clone())),
            [k, v] => {
                self.vars.push((k.clone(), key));
                self.vars.push((v.clone(), element.clone()));
            }
            _ => {}
        }
        let result = self.nodes(body.then, element, out);
        self.vars.truncate(scope);
        result
    }

    fn pipeline(&self, pipeline: &Pipeline, dot: &Value) -> Result<Value, TemplateError> {
        let mut piped = None;
        for command in &pipeline.commands {
            piped = Some(self.command(command, dot, piped)?);
        }
        Ok(piped.unwrap_or(Value::Null))
    }

    fn command(
        &self,
        command: &Command,
        dot: &Value,
        piped: Option<Value>,
    ) -> Result<Value, TemplateError> {
        match command {
            Command::Operand(operand) if piped.is_none() => self.operand(operand, dot),
            Command::Operand(_) => Err(exec_error("can't give argument to non-function")),
            Command::Call { function, args } => {
                let mut values = args
                    .iter()
                    .map(|a| self.operand(a, dot))
                    .collect::<Result<Vec<_>, _>>()?;
                values.extend(piped);
                if self.headers.is_some() {
                    header_call(function, values)
                } else {
                    call(function, values)
                }
            }
        }
    }

    fn operand(&self, operand: &Operand, dot: &Value) -> Result<Value, TemplateError> {
        match operand {
            Operand::Literal(value) => Ok(value.clone()),
            Operand::Field(path) => self.fields(dot, path),
            Operand::Variable(name, path) => {
                let value = self
                    .vars
                    .iter()
                    .rev()
                    .find(|(n, _)| n == name)
                    .map(|(_, v)| v)
                    .ok_or_else(|| exec_error(format!("undefined variable ${name}")))?;
                self.fields(value, path)
            }
            Operand::Nested(pipeline, path) => {
                let value = self.pipeline(pipeline, dot)?;
                self.fields(&value, path)
            }
        }
    }

    /// Reads `path` from `value`; in a header row, a field is its column label.
    fn fields(&self, value: &Value, path: &[String]) -> Result<Value, TemplateError> {
        match self.headers {
            Some(headers) if !path.is_empty() => Ok(Value::String(header_label(path, headers))),
            _ => lookup(value, path),
        }
    }
}

/// The branches of an `if`, `with` or `range` and the variables `range` sets.
struct Body<'n> {
    then: &'n [Node],
    otherwise: &'n [Node],
    declare: &'n [String],
}

fn lookup(dot: &Value, path: &[String]) -> Result<Value, TemplateError> {
    let mut current = dot;
    for name in path {
        current = match current {
            Value::Object(map) => map.get(name).ok_or_else(|| unknown_field(name, map))?,
            // Optional parts of a value are null; reading through them gives no value
            // rather than an error, so `{{.State.Health.Status}}` works without a check.
            Value::Null => return Ok(Value::Null),
            other => {
                return Err(exec_error(format!(
                    "can't evaluate field {name} in {}",
                    kind_of(other)
                )));
            }
        };
    }
    Ok(current.clone())
}

fn unknown_field(name: &str, map: &Map<String, Value>) -> TemplateError {
    TemplateError::UnknownField {
        field: name.to_string(),
        available: map.keys().cloned().collect(),
    }
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "nil",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "list",
        Value::Object(_) => "map",
    }
}

/// Go's notion of "true" for `if`: not false, zero, empty or nil.
fn is_true(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}

/// A value printed as Go's template prints it: lists as `[a b]`, maps as `map[k:v]` with
/// keys in order, nil as `<no value>`.
fn display(value: &Value) -> String {
    match value {
        Value::Null => NO_VALUE.to_string(),
        Value::String(s) => s.clone(),
        Value::Bool(_) | Value::Number(_) => value.to_string(),
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(display).collect();
            format!("[{}]", items.join(" "))
        }
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            let entries: Vec<String> = entries
                .into_iter()
                .map(|(k, v)| format!("{k}:{}", display(v)))
                .collect();
            format!("map[{}]", entries.join(" "))
        }
    }
}

fn call(function: &str, args: Vec<Value>) -> Result<Value, TemplateError> {
    match (function, args.as_slice()) {
        ("json", [v]) => serde_json::to_string(v)
            .map(Value::String)
            .map_err(|e| exec_error(format!("json: {e}"))),
        ("join", [Value::Array(items), sep]) => {
            let items: Vec<String> = items.iter().map(display).collect();
            Ok(Value::String(items.join(&display(sep))))
        }
        ("join", [Value::Null, _]) => Ok(Value::String(String::new())),
        ("split", [s, sep]) => Ok(Value::Array(split(&display(s), &display(sep)))),
        ("lower", [s]) => Ok(Value::String(display(s).to_lowercase())),
        ("upper", [s]) => Ok(Value::String(display(s).to_uppercase())),
        ("title", [s]) => Ok(Value::String(title(&display(s)))),
        ("pad", [s, before, after]) => Ok(Value::String(pad(
            &display(s),
            int_arg(function, before)?,
            int_arg(function, after)?,
        ))),
        ("truncate", [s, n]) => {
            let n = int_arg(function, n)?;
            Ok(Value::String(display(s).chars().take(n).collect()))
        }
        ("index", [v, keys @ ..]) => keys.iter().try_fold(v.clone(), |v, k| index(&v, k)),
        ("len", [v]) => match v {
            Value::String(s) => Ok(Value::from(s.len())),
            Value::Array(a) => Ok(Value::from(a.len())),
            Value::Object(o) => Ok(Value::from(o.len())),
            other => Err(exec_error(format!("len of {}", kind_of(other)))),
        },
        _ => Err(exec_error(format!(
            "wrong arguments for {function}: {}",
            args.iter().map(kind_of).collect::<Vec<_>>().join(", ")
        ))),
    }
}

/// Docker renders the header row with the text functions passing their first argument
/// through, so the header shows the label and not, say, the label in JSON.
fn header_call(function: &str, args: Vec<Value>) -> Result<Value, TemplateError> {
    match function {
        "pad" => call(function, args),
        _ => Ok(args.into_iter().next().unwrap_or(Value::Null)),
    }
}

fn int_arg(function: &str, value: &Value) -> Result<usize, TemplateError> {
    value
        .as_u64()
        .and_then(|n| usize::try_from(n).ok())
        .ok_or_else(|| {
            exec_error(format!(
                "{function} needs a non-negative integer, got {}",
                display(value)
            ))
        })
}

/// Go's `index`: a map entry (missing ones are empty, as in Go's `map[string]string`) or a
/// list element.
fn index(value: &Value, key: &Value) -> Result<Value, TemplateError> {
    match (value, key) {
        (Value::Object(map), Value::String(k)) => {
            Ok(map.get(k).cloned().unwrap_or(Value::String(String::new())))
        }
        (Value::Array(items), Value::Number(n)) => n
            .as_u64()
            .and_then(|i| items.get(usize::try_from(i).ok()?))
            .cloned()
            .ok_or_else(|| exec_error(format!("index out of range: {n}"))),
        (Value::Null, _) => Ok(Value::Null),
        (v, k) => Err(exec_error(format!(
            "can't index {} with {}",
            kind_of(v),
            kind_of(k)
        ))),
    }
}

/// Go's `strings.Split`: an empty separator splits into characters.
fn split(s: &str, separator: &str) -> Vec<Value> {
    if separator.is_empty() {
        return s.chars().map(|c| Value::String(c.to_string())).collect();
    }
    s.split(separator)
        .map(|part| Value::String(part.to_string()))
        .collect()
}

/// Go's `strings.Title`: a capital at the start of every word.
fn title(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut at_word_start = true;
    for c in s.chars() {
        if at_word_start {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
        at_word_start = !(c.is_alphanumeric() || c == '_');
    }
    out
}

/// Docker's `pad`: spaces around a non-empty string.
fn pad(s: &str, before: usize, after: usize) -> String {
    if s.is_empty() {
        return String::new();
    }
    format!("{}{s}{}", " ".repeat(before), " ".repeat(after))
}

/// The header of a column showing `path`: its label if one is given for the path
/// (`Config.Image`) or its last field (`Image`), else that field in capitals with its words
/// split (`CreatedSince` is `CREATED SINCE`, `IPAddress` is `IP ADDRESS`).
fn header_label(path: &[String], headers: &[(&str, &str)]) -> String {
    let joined = path.join(".");
    let last = path.last().map_or("", String::as_str);
    let given = headers
        .iter()
        .find(|(field, _)| *field == joined)
        .or_else(|| headers.iter().find(|(field, _)| *field == last));
    match given {
        Some((_, label)) => (*label).to_string(),
        None => split_words(last).to_uppercase(),
    }
}

fn split_words(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::with_capacity(name.len() + 4);
    for (i, &c) in chars.iter().enumerate() {
        let prev = i.checked_sub(1).map(|p| chars[p]);
        let next = chars.get(i + 1);
        let starts_word = c.is_uppercase()
            && prev.is_some_and(|p| {
                p.is_lowercase()
                    || p.is_ascii_digit()
                    || (p.is_uppercase() && next.is_some_and(|n| n.is_lowercase()))
            });
        if starts_word {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

/// Aligns tab-separated cells the way Go's `text/tabwriter` does with Docker's settings:
/// a cell ending in a tab is padded to the widest cell of its column plus 3, and at least
/// 10; the last cell of a line is not padded. Columns are measured over each run of
/// consecutive lines that have them, as tabwriter does.
fn align_columns(text: &str) -> String {
    let lines: Vec<Vec<&str>> = text.split('\n').map(|l| l.split('\t').collect()).collect();
    let mut out = String::with_capacity(text.len() * 2);
    let mut widths = Vec::new();
    align_block(&lines, 0, lines.len(), &mut widths, &mut out);
    out
}

fn align_block(
    lines: &[Vec<&str>],
    mut first: usize,
    end: usize,
    widths: &mut Vec<usize>,
    out: &mut String,
) {
    let column = widths.len();
    let has_column = |line: &Vec<&str>| column + 1 < line.len();
    let mut this = first;
    while this < end {
        if !has_column(&lines[this]) {
            this += 1;
            continue;
        }
        write_lines(lines, first, this, widths, out);
        first = this;
        let mut width = TABLE_MIN_WIDTH;
        while this < end && has_column(&lines[this]) {
            width = width.max(lines[this][column].chars().count() + TABLE_PADDING);
            this += 1;
        }
        widths.push(width);
        align_block(lines, first, this, widths, out);
        widths.pop();
        first = this;
    }
    write_lines(lines, first, end, widths, out);
}

fn write_lines(lines: &[Vec<&str>], first: usize, end: usize, widths: &[usize], out: &mut String) {
    for (i, line) in lines.iter().enumerate().take(end).skip(first) {
        for (j, cell) in line.iter().enumerate() {
            out.push_str(cell);
            if let Some(width) = widths.get(j) {
                let padding = width.saturating_sub(cell.chars().count());
                out.extend(std::iter::repeat_n(' ', padding));
            }
        }
        if i + 1 < lines.len() {
            out.push('\n');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn image() -> Value {
        json!({
            "ID": "5891b5b522d5",
            "Repository": "busybox",
            "Tag": "latest",
            "Size": 4261550,
            "Labels": {"maintainer": "me", "org.opencontainers.image.version": "1.36"},
            "RepoTags": ["busybox:latest", "busybox:1.36"],
            "Config": {"Env": ["PATH=/bin"], "Healthcheck": null},
        })
    }

    fn render(format: &str, value: &Value) -> String {
        parse(format)
            .and_then(|t| t.render(value))
            .unwrap_or_else(|e| panic!("{format:?}: {e}"))
    }

    fn render_err(format: &str, value: &Value) -> String {
        match parse(format).and_then(|t| t.render(value)) {
            Ok(out) => panic!("{format:?} should fail, rendered {out:?}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn fields_and_text() {
        assert_eq!(
            render("{{.Repository}}:{{.Tag}}", &image()),
            "busybox:latest"
        );
        assert_eq!(render("id={{ .ID }}", &image()), "id=5891b5b522d5");
        assert_eq!(render("{{.Size}}", &image()), "4261550");
        assert_eq!(render("plain text", &image()), "plain text");
    }

    #[test]
    fn nested_fields() {
        assert_eq!(render("{{.Labels.maintainer}}", &image()), "me");
        assert_eq!(render("{{.Config.Env}}", &image()), "[PATH=/bin]");
    }

    #[test]
    fn escaped_tab_and_newline_become_real_ones() {
        assert_eq!(
            render(r"{{.ID}}\t{{.Tag}}\n", &image()),
            "5891b5b522d5\tlatest\n"
        );
    }

    #[test]
    fn null_prints_no_value_and_reads_through() {
        assert_eq!(render("{{.Config.Healthcheck}}", &image()), "<no value>");
        assert_eq!(
            render("{{.Config.Healthcheck.Test}}", &image()),
            "<no value>"
        );
    }

    #[test]
    fn maps_and_lists_print_like_go() {
        assert_eq!(
            render("{{.Labels}}", &image()),
            "map[maintainer:me org.opencontainers.image.version:1.36]"
        );
        assert_eq!(
            render("{{.RepoTags}}", &image()),
            "[busybox:latest busybox:1.36]"
        );
    }

    #[test]
    fn json_of_the_value_and_of_a_field() {
        assert_eq!(render("{{json .Labels.maintainer}}", &image()), "\"me\"");
        assert_eq!(
            render("{{json .RepoTags}}", &image()),
            r#"["busybox:latest","busybox:1.36"]"#
        );
        let whole = render("{{json .}}", &json!({"B": 1, "A": "<x>"}));
        // Field order is kept and HTML is not escaped, as Docker's encoder does.
        assert_eq!(whole, r#"{"B":1,"A":"<x>"}"#);
        assert_eq!(render("{{.Labels | json}}", &json!({"Labels": {}})), "{}");
    }

    #[test]
    fn docker_string_functions() {
        let v = json!({"Name": "hello world_x-y", "List": ["a", "b"], "Csv": "a,b,c"});
        assert_eq!(render(r#"{{join .List ", "}}"#, &v), "a, b");
        assert_eq!(render(r#"{{split .Csv ","}}"#, &v), "[a b c]");
        assert_eq!(render(r#"{{join (split .Csv ",") "+"}}"#, &v), "a+b+c");
        assert_eq!(render(r#"{{split "abc" ""}}"#, &v), "[a b c]");
        assert_eq!(render("{{upper .Name}}", &v), "HELLO WORLD_X-Y");
        assert_eq!(render("{{lower \"ABC\"}}", &v), "abc");
        assert_eq!(render("{{title .Name}}", &v), "Hello World_x-Y");
        assert_eq!(render("{{.Name | upper}}", &v), "HELLO WORLD_X-Y");
        assert_eq!(render("[{{pad .Name 1 2}}]", &v), "[ hello world_x-y  ]");
        assert_eq!(render("[{{pad \"\" 1 2}}]", &v), "[]");
        assert_eq!(render("{{truncate .Name 5}}", &v), "hello");
        assert_eq!(render("{{truncate .Name 99}}", &v), "hello world_x-y");
        assert_eq!(render("{{len .List}}", &v), "2");
    }

    #[test]
    fn index_maps_and_lists() {
        assert_eq!(
            render(
                r#"{{index .Labels "org.opencontainers.image.version"}}"#,
                &image()
            ),
            "1.36"
        );
        assert_eq!(render(r#"[{{index .Labels "missing"}}]"#, &image()), "[]");
        assert_eq!(render("{{index .RepoTags 1}}", &image()), "busybox:1.36");
        assert!(render_err("{{index .RepoTags 5}}", &image()).contains("out of range"));
    }

    #[test]
    fn conditionals_and_loops() {
        let v = json!({"On": true, "Off": false, "Ports": ["80/tcp", "443/tcp"], "None": []});
        assert_eq!(render("{{if .On}}yes{{end}}", &v), "yes");
        assert_eq!(render("{{if .Off}}yes{{else}}no{{end}}", &v), "no");
        assert_eq!(
            render("{{if .Off}}a{{else if .On}}b{{else}}c{{end}}", &v),
            "b"
        );
        assert_eq!(
            render("{{range .Ports}}<{{.}}>{{end}}", &v),
            "<80/tcp><443/tcp>"
        );
        assert_eq!(render("{{range .None}}x{{else}}empty{{end}}", &v), "empty");
        assert_eq!(render("{{with .Ports}}{{index . 0}}{{end}}", &v), "80/tcp");
        let nets = json!({"Networks": {"b": {"IP": "10.0.0.2"}, "a": {"IP": "10.0.0.1"}}});
        assert_eq!(
            render("{{range .Networks}}{{.IP}} {{end}}", &nets),
            "10.0.0.1 10.0.0.2 "
        );
    }

    #[test]
    fn variables() {
        let v = json!({
            "Name": "web",
            "Labels": {"b": "2", "a": "1"},
            "Ports": {"80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8080"}]},
            "List": ["x", "y"],
        });
        assert_eq!(
            render("{{range $k, $v := .Labels}}{{$k}}={{$v}};{{end}}", &v),
            "a=1;b=2;"
        );
        assert_eq!(
            render("{{range $i, $e := .List}}{{$i}}:{{$e}} {{end}}", &v),
            "0:x 1:y "
        );
        assert_eq!(
            render("{{range $e := .List}}{{$.Name}}/{{$e}} {{end}}", &v),
            "web/x web/y "
        );
        assert_eq!(render("{{$n := .Name}}{{upper $n}}", &v), "WEB");
        assert_eq!(render("{{with $p := .Ports}}{{len $p}}{{end}}", &v), "1");
        // As in `docker inspect`'s documented example for published ports.
        assert_eq!(
            render(
                "{{range $p, $conf := .Ports}}{{$p}} -> {{(index $conf 0).HostPort}}{{end}}",
                &v
            ),
            "80/tcp -> 8080"
        );
        assert!(render_err("{{$nope}}", &v).contains("undefined variable $nope"));
        // A variable declared in a range body is gone after the range.
        assert!(render_err("{{range .List}}{{$x := .}}{{end}}{{$x}}", &v).contains("undefined"));
    }

    #[test]
    fn trim_markers_and_comments() {
        let v = json!({"A": "a"});
        assert_eq!(render("x  {{- .A -}}  y", &v), "xay");
        assert_eq!(render("x{{/* why */}}y", &v), "xy");
        assert_eq!(render("{{-3}}", &v), "-3");
    }

    #[test]
    fn unknown_field_lists_the_available_ones() {
        let message = render_err(
            "{{.Foo}}",
            &json!({"ID": "x", "Repository": "r", "Tag": "t"}),
        );
        assert_eq!(
            message,
            r#"template: field "Foo" does not exist; available: ID, Repository, Tag"#
        );
        let nested = render_err("{{.Labels.x.y}}", &image());
        assert!(nested.contains("field \"x\" does not exist"), "{nested}");
        assert!(
            render_err("{{.Tag.Foo}}", &image()).contains("can't evaluate field Foo in string")
        );
    }

    #[test]
    fn parse_errors_point_at_the_action() {
        let err = |format: &str| parse(format).map(|_| ()).unwrap_err().to_string();
        assert_eq!(err("ab{{.ID"), "template: 1:3: unclosed action");
        assert_eq!(
            err("{{printf \"%s\" .ID}}"),
            "template: 1:1: function \"printf\" not defined"
        );
        assert!(err("{{if .A}}x").contains("missing {{end}}"));
        assert!(err("x{{end}}").contains("unexpected {{end}}"));
        assert!(err("{{\"open}}").contains("unterminated quoted string"));
        assert!(err("{{$x, $y := .}}").contains("only range declares two variables"));
        assert!(err("{{$x.A := .}}").contains("expected one or two variables"));
        assert!(err("{{.A .B}}").contains("non-function"));
        assert!(err("{{json (.A}}").contains("unclosed left paren"));
        assert!(err("a\n{{.A.}}").starts_with("template: 2:"));
    }

    #[test]
    fn malformed_formats_fail_without_panicking() {
        let inputs = [
            "{{",
            "}}",
            "{{}}",
            "{{-}}",
            "{{ -}}",
            "{{(}}",
            "{{)}}",
            "{{|}}",
            "{{.}}{{",
            "é{{é}}",
            "{{\"\\",
            "{{`",
            "{{/*",
            "{{/* */",
            "{{- /* x */ -}}",
            "{{else}}",
            "{{if}}{{end}}",
            "{{range .}}",
            "{{.A|}}",
            "{{|.A}}",
            "{{json}}",
            "{{index}}",
            "{{pad .A -1 2}}",
            "{{truncate .A \"x\"}}",
            "{{len 3}}",
            "{{99999999999999999999}}",
        ];
        for input in inputs {
            let _ = parse(input).and_then(|t| t.render(&json!({"A": "a"})));
        }
        assert_eq!(render("{{- /* x */ -}}", &json!({})), "");
    }

    #[test]
    fn plain_formats_render_one_line_per_row() {
        let rows = [json!({"ID": "a"}), json!({"ID": "b"})];
        assert_eq!(render_table("{{.ID}}", &rows).unwrap(), "a\nb\n");
        assert_eq!(render_table("{{.ID}}", &[]).unwrap(), "");
    }

    #[test]
    fn table_has_a_header_and_aligned_columns() {
        let rows = [
            json!({"Repository": "busybox", "Tag": "latest", "ID": "5891b5b522d5"}),
            json!({"Repository": "ghcr.io/some/long-name", "Tag": "1", "ID": "e3b0c44298fc"}),
        ];
        let out = render_table("table {{.Repository}}\\t{{.Tag}}\\t{{.ID}}", &rows).unwrap();
        let want = "\
REPOSITORY               TAG       ID
busybox                  latest    5891b5b522d5
ghcr.io/some/long-name   1         e3b0c44298fc
";
        assert_eq!(out, want);
    }

    #[test]
    fn table_headers_can_be_given_and_are_derived_otherwise() {
        let rows = [json!({"ID": "abc", "CreatedSince": "2 days ago", "IPAddress": "x"})];
        let format = "table {{.ID}}\t{{.CreatedSince}}\t{{.IPAddress}}";
        let out = render_table_with_headers(format, &rows, &[("ID", "IMAGE ID")]).unwrap();
        let header = out.lines().next().unwrap_or_default();
        assert_eq!(header, "IMAGE ID   CREATED SINCE   IP ADDRESS");
    }

    #[test]
    fn table_header_skips_text_functions() {
        let rows = [json!({"Names": ["a", "b"], "Labels": {"k": "v"}})];
        let out = render_table(r#"table {{join .Names ","}}\t{{json .Labels}}"#, &rows).unwrap();
        assert_eq!(out, "NAMES     LABELS\na,b       {\"k\":\"v\"}\n");
    }

    #[test]
    fn table_without_rows_still_prints_the_header() {
        assert_eq!(
            render_table("table {{.ID}}\t{{.Tag}}", &[]).unwrap(),
            "ID        TAG\n"
        );
    }

    #[test]
    fn aligns_like_go_tabwriter_with_docker_settings() {
        // Minimum width 10 including padding 3; the last cell is never padded.
        assert_eq!(
            align_columns("a\tb\nccc\td\n"),
            "a         b\nccc       d\n"
        );
        assert_eq!(align_columns("abcdefghijkl\tx\n"), "abcdefghijkl   x\n");
        // A line with fewer cells ends the column block, as in tabwriter.
        assert_eq!(
            align_columns("a\tb\nno tabs here\nlonger-cell-here\tc\n"),
            "a         b\nno tabs here\nlonger-cell-here   c\n"
        );
    }

    #[test]
    fn splits_words_for_headers() {
        assert_eq!(split_words("CreatedSince"), "Created Since");
        assert_eq!(split_words("IPAddress"), "IP Address");
        assert_eq!(split_words("ID"), "ID");
        assert_eq!(split_words("Size2Go"), "Size2 Go");
    }
}
