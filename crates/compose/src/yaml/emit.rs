//! The canonical model as YAML, as `docker compose config` prints it.
//!
//! Compose marshals the project with go-yaml v3 (`yaml.NewEncoder` + `SetIndent(2)`):
//! block style, sequences indented under their key, `{}`/`[]` for empty collections,
//! no line folding, and strings quoted only when needed. The quoting rules follow the
//! encoder (`encode.go`: quote whatever would resolve to another type, YAML 1.1
//! booleans and base-60 numbers) and the libyaml-derived emitter (`emitterc.go`:
//! which characters forbid plain or single-quoted style).

use serde_json::Value as Json;

use super::Value;
use super::resolve::{is_timestamp, resolve_plain};

/// go-yaml's indentation as Compose configures it.
const INDENT: usize = 2;

/// Keys longer than this (in bytes) are written as `? key` / `: value`.
const MAX_SIMPLE_KEY_LEN: usize = 128;

/// Renders an ordered JSON value as YAML in go-yaml v3's style (2-space indent), with a
/// trailing newline.
pub fn to_yaml(value: &Json) -> String {
    let mut out = String::new();
    match value {
        Json::Object(m) if !m.is_empty() => entries(&mut out, m, 0),
        Json::Array(a) if !a.is_empty() => items(&mut out, a, 0),
        _ => scalar_line(&mut out, value, INDENT),
    }
    out
}

/// Mapping entries at `indent`; the cursor is already at that column.
fn entries(out: &mut String, map: &serde_json::Map<String, Json>, indent: usize) {
    for (i, (k, v)) in map.iter().enumerate() {
        if i > 0 {
            pad(out, indent);
        }
        if k.len() <= MAX_SIMPLE_KEY_LEN && !analyze(k).multiline {
            out.push_str(&string_scalar(k, true, indent + INDENT));
            out.push(':');
        } else {
            out.push_str("? ");
            end_line(out, &string_scalar(k, false, indent + INDENT));
            pad(out, indent);
            out.push(':');
        }
        value_after_key(out, v, indent);
    }
}

/// The value of a mapping entry whose key is at `indent`.
fn value_after_key(out: &mut String, v: &Json, indent: usize) {
    match v {
        Json::Object(m) if !m.is_empty() => {
            out.push('\n');
            pad(out, indent + INDENT);
            entries(out, m, indent + INDENT);
        }
        Json::Array(a) if !a.is_empty() => {
            out.push('\n');
            pad(out, indent + INDENT);
            items(out, a, indent + INDENT);
        }
        _ => {
            out.push(' ');
            scalar_line(out, v, indent + INDENT);
        }
    }
}

/// Sequence items whose dashes are at `indent`; the cursor is already at that column.
/// A collection item starts on the dash's line (`- key: v`, `- - x`).
fn items(out: &mut String, seq: &[Json], indent: usize) {
    for (i, v) in seq.iter().enumerate() {
        if i > 0 {
            pad(out, indent);
        }
        out.push_str("- ");
        let inner = indent + INDENT;
        match v {
            Json::Object(m) if !m.is_empty() => entries(out, m, inner),
            Json::Array(a) if !a.is_empty() => items(out, a, inner),
            _ => scalar_line(out, v, inner),
        }
    }
}

/// A scalar (or empty collection) and the end of its line; block scalar content goes
/// at `content_indent`.
fn scalar_line(out: &mut String, v: &Json, content_indent: usize) {
    let text = match v {
        Json::Null => "null".to_string(),
        Json::Bool(b) => b.to_string(),
        Json::Number(n) => match (n.is_f64(), n.as_f64()) {
            (true, Some(f)) => format_float(f),
            _ => n.to_string(),
        },
        Json::String(s) => string_scalar(s, false, content_indent),
        Json::Array(_) => "[]".to_string(),
        Json::Object(_) => "{}".to_string(),
    };
    end_line(out, &text);
}

/// Appends `text` and ends the line unless the text already ended with a line break
/// (block scalars keeping their final newline).
fn end_line(out: &mut String, text: &str) {
    out.push_str(text);
    if !text.chars().last().is_some_and(is_break) {
        out.push('\n');
    }
}

fn pad(out: &mut String, n: usize) {
    out.extend(std::iter::repeat_n(' ', n));
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Style {
    Plain,
    SingleQuoted,
    DoubleQuoted,
    Literal,
}

/// A string in the style go-yaml picks for it; `indent` is where continuation lines of
/// block and single-quoted scalars go.
fn string_scalar(s: &str, simple_key: bool, indent: usize) -> String {
    match choose_style(s, simple_key) {
        Style::Plain => s.to_string(),
        Style::SingleQuoted => single_quoted(s, indent),
        Style::DoubleQuoted => double_quoted(s),
        Style::Literal => literal(s, indent),
    }
}

/// `encoder.stringv` asks for a style, the emitter downgrades it when the text does
/// not allow it (`yaml_emitter_select_scalar_style`).
fn choose_style(s: &str, simple_key: bool) -> Style {
    let requested = if s.contains('\n') {
        Style::Literal
    } else if resolves_to_string(s) && !is_base60_float(s) && !is_old_bool(s) {
        Style::Plain
    } else {
        Style::DoubleQuoted
    };
    let a = analyze(s);
    let mut style = requested;
    if simple_key && a.multiline {
        style = Style::DoubleQuoted;
    }
    if style == Style::Plain && (!a.block_plain_allowed || (s.is_empty() && simple_key)) {
        style = Style::SingleQuoted;
    }
    if style == Style::SingleQuoted && !a.single_quoted_allowed {
        style = Style::DoubleQuoted;
    }
    if style == Style::Literal && (!a.block_allowed || simple_key) {
        style = Style::DoubleQuoted;
    }
    style
}

/// Whether go-yaml would read `s`, unquoted, back as a string.
fn resolves_to_string(s: &str) -> bool {
    let number_like = matches!(s.as_bytes().first(), Some(b'0'..=b'9' | b'+' | b'-'));
    matches!(resolve_plain(s), Value::String(_)) && !(number_like && is_timestamp(s))
}

/// YAML 1.1 booleans, still quoted so that YAML 1.1 readers get strings.
fn is_old_bool(s: &str) -> bool {
    matches!(
        s,
        "y" | "Y"
            | "yes"
            | "Yes"
            | "YES"
            | "on"
            | "On"
            | "ON"
            | "n"
            | "N"
            | "no"
            | "No"
            | "NO"
            | "off"
            | "Off"
            | "OFF"
    )
}

/// YAML 1.1 base-60 numbers: `^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$`.
fn is_base60_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = usize::from(matches!(b.first(), Some(b'-' | b'+')));
    if !b.get(i).is_some_and(u8::is_ascii_digit) {
        return false;
    }
    while b.get(i).is_some_and(|c| c.is_ascii_digit() || *c == b'_') {
        i += 1;
    }
    let mut groups = 0;
    while b.get(i) == Some(&b':') {
        i += 1;
        // `[0-5]?[0-9]`: one or two digits, the first of two at most 5.
        match (b.get(i), b.get(i + 1)) {
            (Some(d1 @ b'0'..=b'5'), Some(b'0'..=b'9')) if d1.is_ascii_digit() => i += 2,
            (Some(b'0'..=b'9'), _) => i += 1,
            _ => return false,
        }
        groups += 1;
    }
    if groups == 0 {
        return false;
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        while b.get(i).is_some_and(|c| c.is_ascii_digit() || *c == b'_') {
            i += 1;
        }
    }
    i == b.len()
}

/// What `yaml_emitter_analyze_scalar` finds out about a string.
#[derive(Debug)]
struct Analysis {
    multiline: bool,
    block_plain_allowed: bool,
    single_quoted_allowed: bool,
    block_allowed: bool,
}

fn analyze(s: &str) -> Analysis {
    if s.is_empty() {
        return Analysis {
            multiline: false,
            block_plain_allowed: true,
            single_quoted_allowed: true,
            block_allowed: false,
        };
    }
    let mut block_indicators = s.starts_with("---") || s.starts_with("...");
    let (mut line_breaks, mut special, mut tabs) = (false, false, false);
    let (mut leading_space, mut leading_break) = (false, false);
    let (mut trailing_space, mut trailing_break) = (false, false);
    let (mut break_space, mut space_break) = (false, false);
    let (mut prev_space, mut prev_break) = (false, false);
    let mut preceded_by_ws = true;
    let chars: Vec<char> = s.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        let next = chars.get(i + 1).copied();
        let followed_by_ws = next.is_none_or(|n| n == ' ' || n == '\t');
        let first = i == 0;
        let last = next.is_none();
        if first {
            match c {
                '#' | ',' | '[' | ']' | '{' | '}' | '&' | '*' | '!' | '|' | '>' | '\'' | '"'
                | '%' | '@' | '`' => block_indicators = true,
                '?' | ':' | '-' if followed_by_ws => block_indicators = true,
                _ => {}
            }
        } else {
            match c {
                ':' if followed_by_ws => block_indicators = true,
                '#' if preceded_by_ws => block_indicators = true,
                _ => {}
            }
        }
        if c == '\t' {
            tabs = true;
        } else if !is_printable(c) {
            special = true;
        }
        if c == ' ' {
            leading_space |= first;
            trailing_space |= last;
            break_space |= prev_break;
            (prev_space, prev_break) = (true, false);
        } else if is_break(c) {
            line_breaks = true;
            leading_break |= first;
            trailing_break |= last;
            space_break |= prev_space;
            (prev_space, prev_break) = (false, true);
        } else {
            (prev_space, prev_break) = (false, false);
        }
        preceded_by_ws = matches!(c, ' ' | '\t' | '\0') || is_break(c);
    }
    let edge_ws = leading_space || leading_break || trailing_space || trailing_break;
    let unquotable = break_space || space_break || tabs || special;
    Analysis {
        multiline: line_breaks,
        block_plain_allowed: !(edge_ws || unquotable || line_breaks || block_indicators),
        single_quoted_allowed: !unquotable,
        block_allowed: !(trailing_space || space_break || special),
    }
}

fn is_break(c: char) -> bool {
    matches!(c, '\n' | '\r' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

/// libyaml's printable set (only the Basic Multilingual Plane, as go-yaml checks it).
fn is_printable(c: char) -> bool {
    matches!(c, '\n' | ' '..='~' | '\u{A0}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}')
        && c != '\u{FEFF}'
}

fn single_quoted(s: &str, indent: usize) -> String {
    let mut out = String::from("'");
    let mut after_break = false;
    for c in s.chars() {
        if is_break(c) {
            out.push(c);
            after_break = true;
            continue;
        }
        if after_break {
            pad(&mut out, indent);
            after_break = false;
        }
        if c == '\'' {
            out.push_str("''");
        } else {
            out.push(c);
        }
    }
    out.push('\'');
    out
}

fn double_quoted(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        let escaped = !is_printable(c) || is_break(c) || c == '"' || c == '\\';
        if !escaped {
            out.push(c);
            continue;
        }
        let short = match c {
            '\0' => "0",
            '\u{7}' => "a",
            '\u{8}' => "b",
            '\t' => "t",
            '\n' => "n",
            '\u{b}' => "v",
            '\u{c}' => "f",
            '\r' => "r",
            '\u{1b}' => "e",
            '"' => "\"",
            '\\' => "\\",
            '\u{85}' => "N",
            '\u{A0}' => "_",
            '\u{2028}' => "L",
            '\u{2029}' => "P",
            _ => "",
        };
        out.push('\\');
        if !short.is_empty() {
            out.push_str(short);
        } else {
            let v = u32::from(c);
            let hex = if v <= 0xFF {
                format!("x{v:02X}")
            } else if v <= 0xFFFF {
                format!("u{v:04X}")
            } else {
                format!("U{v:08X}")
            };
            out.push_str(&hex);
        }
    }
    out.push('"');
    out
}

/// A literal block scalar: header with indentation and chomping hints, then the lines
/// at `indent` (empty lines stay empty).
fn literal(s: &str, indent: usize) -> String {
    let mut out = String::from("|");
    if s.starts_with(' ') || s.chars().next().is_some_and(is_break) {
        out.push_str(&INDENT.to_string());
    }
    let mut rev = s.chars().rev();
    match (rev.next(), rev.next()) {
        (Some(last), _) if !is_break(last) => out.push('-'),
        (Some(_), None) => out.push('+'),
        (Some(_), Some(before)) if is_break(before) => out.push('+'),
        _ => {}
    }
    out.push('\n');
    let mut at_line_start = true;
    for c in s.chars() {
        if is_break(c) {
            out.push(c);
            at_line_start = true;
        } else {
            if at_line_start {
                pad(&mut out, indent);
                at_line_start = false;
            }
            out.push(c);
        }
    }
    out
}

/// A float64 as Go's `strconv.FormatFloat(f, 'g', -1, 64)`, which go-yaml uses.
fn format_float(f: f64) -> String {
    if f.is_nan() {
        return ".nan".to_string();
    }
    if f.is_infinite() {
        return if f > 0.0 { ".inf" } else { "-.inf" }.to_string();
    }
    // `{:e}` gives the shortest round-trip digits, e.g. `1.5e6`, `-1e-7`.
    let sci = format!("{f:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((sci.as_str(), "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let (sign, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => ("-", m),
        None => ("", mantissa),
    };
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    // Shortest `%g` switches to exponent form below 1e-4 and from 1e6 (strconv uses a
    // precision of 6 for that decision; only fmt's `%v` uses 21).
    if !(-4..6).contains(&exp) {
        return go_exponent(sign, &digits, exp);
    }
    plain_decimal(sign, &digits, exp)
}

fn go_exponent(sign: &str, digits: &str, exp: i32) -> String {
    let (first, rest) = digits.split_at(digits.len().min(1));
    let frac = if rest.is_empty() {
        String::new()
    } else {
        format!(".{rest}")
    };
    let esign = if exp < 0 { '-' } else { '+' };
    format!("{sign}{first}{frac}e{esign}{:02}", exp.unsigned_abs())
}

fn plain_decimal(sign: &str, digits: &str, exp: i32) -> String {
    let nd = digits.len() as i32;
    let point = exp + 1; // digits before the decimal point
    if point <= 0 {
        let zeros = "0".repeat(point.unsigned_abs() as usize);
        format!("{sign}0.{zeros}{digits}")
    } else if point >= nd {
        let zeros = "0".repeat((point - nd) as usize);
        format!("{sign}{digits}{zeros}")
    } else {
        let (int, frac) = digits.split_at(point as usize);
        format!("{sign}{int}.{frac}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn compose_layout() {
        let v = json!({
            "name": "yt",
            "services": {"web": {
                "command": ["echo", "a: b"],
                "environment": {"A": "1"},
                "image": "nginx",
                "networks": {"default": null},
                "ports": [{"target": 80, "published": "8080", "protocol": "tcp"}],
                "tmpfs": [],
                "labels": {},
            }},
        });
        let want = "name: yt
services:
  web:
    command:
      - echo
      - 'a: b'
    environment:
      A: \"1\"
    image: nginx
    networks:
      default: null
    ports:
      - target: 80
        published: \"8080\"
        protocol: tcp
    tmpfs: []
    labels: {}
";
        assert_eq!(to_yaml(&v), want);
    }

    /// Strings and how `docker compose config` printed them (Compose v2.40.3).
    #[test]
    fn string_quoting_matches_go_yaml() {
        let cases = [
            ("echo", "echo"),
            ("a: b", "'a: b'"),
            ("80", "\"80\""),
            ("true", "\"true\""),
            ("", "\"\""),
            ("- x", "'- x'"),
            ("  lead", "'  lead'"),
            ("trail ", "'trail '"),
            ("#hash", "'#hash'"),
            ("a #b", "'a #b'"),
            ("yes", "\"yes\""),
            ("on", "\"on\""),
            ("1.5", "\"1.5\""),
            ("0x10", "\"0x10\""),
            ("1e3", "\"1e3\""),
            ("~", "\"~\""),
            ("null", "\"null\""),
            ("@at", "'@at'"),
            ("`bt", "'`bt'"),
            ("it's", "it's"),
            ("say \"hi\"", "say \"hi\""),
            ("tab\there", "\"tab\\there\""),
            ("2001-12-14", "\"2001-12-14\""),
            ("08", "\"08\""),
            ("0777", "\"0777\""),
            (".inf", "\".inf\""),
            ("-", "'-'"),
            ("?", "'?'"),
            ("a:b", "a:b"),
            (":x", ":x"),
            ("!x", "'!x'"),
            ("&x", "'&x'"),
            ("*x", "'*x'"),
            ("%x", "'%x'"),
            ("|x", "'|x'"),
            (">x", "'>x'"),
            ("x:", "'x:'"),
            ("\u{e9}", "\u{e9}"),
            ("{x", "'{x'"),
            ("[x", "'[x'"),
            (",x", "',x'"),
            ("x,y", "x,y"),
            (" ", "' '"),
            ("\u{1}ctl", "\"\\x01ctl\""),
            ("\u{a0} nbsp", "\u{a0} nbsp"),
            ("tr\r", "\"tr\\r\""),
            ("n\u{85}el", "\"n\\Nel\""),
            ("1:20", "\"1:20\""),
            ("---", "'---'"),
            ("...", "'...'"),
            ("y", "\"y\""),
            ("a\u{2028}b", "'a\u{2028}  b'"),
            ("\u{1F600} x", "\"\\U0001F600 x\""),
            ("a \nb", "\"a \\nb\""),
        ];
        for (s, want) in cases {
            let got = to_yaml(&json!({ "k": s }));
            assert_eq!(got, format!("k: {want}\n"), "{s:?}");
        }
    }

    #[test]
    fn literal_blocks() {
        let v = json!({"c": ["multi\nline\n", "multi\nline", "x\n", "\n", "x\n\n", " a\nb", "a\n  b\n"]});
        let want = "c:
  - |
    multi
    line
  - |-
    multi
    line
  - |
    x
  - |2+

  - |+
    x

  - |2-
     a
    b
  - |
    a
      b
";
        assert_eq!(to_yaml(&v), want);
    }

    #[test]
    fn keys() {
        let long = "k".repeat(129);
        let mut m = serde_json::Map::new();
        m.insert(String::new(), json!("empty key"));
        m.insert("a\nb".into(), json!("multiline key"));
        m.insert(long.clone(), json!("long key"));
        m.insert("y".into(), json!("y"));
        m.insert("80".into(), json!({"x": 1}));
        let want = format!(
            "\"\": empty key\n? |-\n  a\n  b\n: multiline key\n? {long}\n: long key\n\"y\": \"y\"\n\"80\":\n  x: 1\n"
        );
        assert_eq!(to_yaml(&Json::Object(m)), want);
    }

    #[test]
    fn nested_collections() {
        let v = json!({"nested": [[1, 2], [3, [4]], [], {}, [{"a": 1, "b": ["x"]}]], "m": [{"k": {"z": 1}}]});
        let want = "nested:
  - - 1
    - 2
  - - 3
    - - 4
  - []
  - {}
  - - a: 1
      b:
        - x
m:
  - k:
      z: 1
";
        assert_eq!(to_yaml(&v), want);
    }

    #[test]
    fn scalars_and_roots() {
        assert_eq!(to_yaml(&json!(null)), "null\n");
        assert_eq!(to_yaml(&json!({})), "{}\n");
        assert_eq!(to_yaml(&json!([])), "[]\n");
        assert_eq!(
            to_yaml(&json!([true, 1, -2, 1.5])),
            "- true\n- 1\n- -2\n- 1.5\n"
        );
        assert_eq!(
            to_yaml(&json!(18446744073709551615u64)),
            "18446744073709551615\n"
        );
    }

    #[test]
    fn floats_as_go_formats_them() {
        let cases = [
            (1e6, "1e+06"),
            (1e-7, "1e-07"),
            (123456.0, "123456"),
            (1234567.0, "1.234567e+06"),
            (0.0001, "0.0001"),
            (0.00012, "0.00012"),
            (1.5, "1.5"),
            (-2.5, "-2.5"),
            (0.0, "0"),
            (1e21, "1e+21"),
            (1.0e100, "1e+100"),
        ];
        for (f, want) in cases {
            assert_eq!(format_float(f), want, "{f}");
        }
    }
}
