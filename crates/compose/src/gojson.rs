//! JSON exactly as Go's encoding/json writes it: serde_json's writer with a formatter
//! that escapes strings like Go (HTML characters, U+2028/U+2029) and prints floats with
//! Go's rules (shortest digits, exponent only below 1e-6 or from 1e21 on).
use std::io;

use serde::Serialize;
use serde_json::ser::{CharEscape, CompactFormatter, Formatter, PrettyFormatter};

/// `json.MarshalIndent(v, "", "  ")`.
pub fn to_string_pretty<T: Serialize + ?Sized>(v: &T) -> String {
    write_with(v, PrettyFormatter::with_indent(b"  "))
}

/// `json.Marshal(v)`.
pub fn to_string_compact<T: Serialize + ?Sized>(v: &T) -> String {
    write_with(v, CompactFormatter)
}

fn write_with<T: Serialize + ?Sized, F: Formatter>(v: &T, inner: F) -> String {
    let mut buf = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(&mut buf, GoFormatter(inner));
    // Serialization only fails for non-string map keys, which the model never has.
    if v.serialize(&mut ser).is_err() {
        return String::new();
    }
    String::from_utf8(buf).unwrap_or_default()
}

/// A float64 as `fmt.Sprint` prints it (`%v` is `%g` with shortest digits: exponent form
/// when the decimal exponent is below -4 or at least 6, e.g. `1e+06`).
pub fn format_float_sprint(f: f64) -> String {
    if let Some(s) = non_finite(f) {
        return s.to_string();
    }
    let (digits, exp) = shortest_digits(&format!("{f:e}"));
    let neg = if f.is_sign_negative() { "-" } else { "" };
    if !(-4..6).contains(&exp) {
        format!("{neg}{}", exponent_form(&digits, exp))
    } else {
        format!("{neg}{}", fixed_form(&digits, exp))
    }
}

/// A float64 as encoding/json writes it.
pub fn format_float_json(f: f64) -> String {
    let abs = f.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        json_exponent(&format!("{f:e}"))
    } else {
        format!("{f}")
    }
}

/// A float32 as encoding/json writes it (Go formats it with bitSize 32).
pub fn format_float32_json(f: f32) -> String {
    let abs = f.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        json_exponent(&format!("{f:e}"))
    } else {
        format!("{f}")
    }
}

/// Doubles every `$`, as `docker compose config` does to its whole output so that the
/// printed model can be loaded again without interpolation changing it.
pub fn escape_dollar_sign(s: &str) -> String {
    s.replace('$', "$$")
}

fn non_finite(f: f64) -> Option<&'static str> {
    match f {
        f if f.is_nan() => Some("NaN"),
        f if f == f64::INFINITY => Some("+Inf"),
        f if f == f64::NEG_INFINITY => Some("-Inf"),
        _ => None,
    }
}

/// Splits Rust's shortest `{:e}` output (`-1.25e-7`) into its digits (`125`) and
/// decimal exponent (`-7`); the sign is dropped.
fn shortest_digits(e_form: &str) -> (String, i32) {
    let (mantissa, exp) = e_form.split_once('e').unwrap_or((e_form, "0"));
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    (digits, exp.parse().unwrap_or(0))
}

/// Go's `%e` with shortest digits: `d.ddde±XX`, at least two exponent digits.
fn exponent_form(digits: &str, exp: i32) -> String {
    let (first, rest) = digits.split_at(digits.len().min(1));
    let dot = if rest.is_empty() { "" } else { "." };
    let sign = if exp < 0 { '-' } else { '+' };
    format!("{first}{dot}{rest}e{sign}{:02}", exp.unsigned_abs())
}

/// Plain decimal notation of `0.digits × 10^(exp+1)`.
fn fixed_form(digits: &str, exp: i32) -> String {
    let point = exp + 1;
    if point <= 0 {
        let zeros = "0".repeat(point.unsigned_abs() as usize);
        return format!("0.{zeros}{digits}");
    }
    let point = point as usize;
    if point >= digits.len() {
        return format!("{digits}{}", "0".repeat(point - digits.len()));
    }
    let (int, frac) = digits.split_at(point);
    format!("{int}.{frac}")
}

/// encoding/json's exponent form: Go's `%e` with `e-07` shortened to `e-7`.
fn json_exponent(e_form: &str) -> String {
    let neg = if e_form.starts_with('-') { "-" } else { "" };
    let (digits, exp) = shortest_digits(e_form);
    let s = exponent_form(&digits, exp);
    let s = match s.strip_suffix(|c: char| c.is_ascii_digit()) {
        Some(head) if head.ends_with("e-0") => {
            let last = &s[s.len() - 1..];
            format!("{}{last}", &head[..head.len() - 1])
        }
        _ => s,
    };
    format!("{neg}{s}")
}

/// Wraps serde_json's compact or pretty formatter with Go's string escaping and
/// float formatting; everything else (layout, `{}` / `[]` when empty) already matches.
struct GoFormatter<F>(F);

impl<F: Formatter> Formatter for GoFormatter<F> {
    fn write_f64<W: ?Sized + io::Write>(&mut self, w: &mut W, value: f64) -> io::Result<()> {
        w.write_all(format_float_json(value).as_bytes())
    }

    fn write_f32<W: ?Sized + io::Write>(&mut self, w: &mut W, value: f32) -> io::Result<()> {
        w.write_all(format_float32_json(value).as_bytes())
    }

    fn write_string_fragment<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        let mut start = 0;
        for (i, c) in fragment.char_indices() {
            let esc = match c {
                '<' => "\\u003c",
                '>' => "\\u003e",
                '&' => "\\u0026",
                '\u{2028}' => "\\u2028",
                '\u{2029}' => "\\u2029",
                _ => continue,
            };
            w.write_all(&fragment.as_bytes()[start..i])?;
            w.write_all(esc.as_bytes())?;
            start = i + c.len_utf8();
        }
        w.write_all(&fragment.as_bytes()[start..])
    }

    fn write_char_escape<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        escape: CharEscape,
    ) -> io::Result<()> {
        // Go (1.22+) writes the same short escapes as serde_json and `\u00XX` in lower
        // case for other control characters; serde_json never asks for `\/`.
        self.0.write_char_escape(w, escape)
    }

    // Layout is delegated to the wrapped formatter.
    fn begin_array<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_array(w)
    }
    fn end_array<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_array(w)
    }
    fn begin_array_value<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.0.begin_array_value(w, first)
    }
    fn end_array_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_array_value(w)
    }
    fn begin_object<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_object(w)
    }
    fn end_object<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object(w)
    }
    fn begin_object_key<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.0.begin_object_key(w, first)
    }
    fn end_object_key<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object_key(w)
    }
    fn begin_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_object_value(w)
    }
    fn end_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object_value(w)
    }
}

/// A string quoted as Go's `strconv.Quote` (and `%q`) quotes it, for messages that
/// quote user values the way Compose does.
pub fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if c.is_control() || c == '\u{feff}' => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Serialize;

    #[test]
    fn sprint_floats() {
        assert_eq!(format_float_sprint(1e6), "1e+06");
        assert_eq!(format_float_sprint(1.5), "1.5");
        assert_eq!(format_float_sprint(3.0), "3");
        assert_eq!(format_float_sprint(1e-5), "1e-05");
        assert_eq!(format_float_sprint(0.0001), "0.0001");
        assert_eq!(format_float_sprint(123456.0), "123456");
        assert_eq!(format_float_sprint(1234567.0), "1.234567e+06");
        assert_eq!(format_float_sprint(-2.5e-7), "-2.5e-07");
        assert_eq!(format_float_sprint(1e100), "1e+100");
        assert_eq!(format_float_sprint(0.0), "0");
    }

    #[test]
    fn json_floats() {
        assert_eq!(format_float_json(1e-7), "1e-7");
        assert_eq!(format_float_json(1e21), "1e+21");
        assert_eq!(format_float_json(1e20), "100000000000000000000");
        assert_eq!(format_float_json(0.000001), "0.000001");
        assert_eq!(format_float_json(-1.5e-10), "-1.5e-10");
        assert_eq!(format_float_json(2.0), "2");
        assert_eq!(format_float_json(0.1), "0.1");
        assert_eq!(format_float32_json(0.001), "0.001");
        assert_eq!(format_float32_json(0.1), "0.1");
    }

    #[derive(Serialize)]
    struct Sample {
        b: String,
        a: Vec<u8>,
        e: std::collections::BTreeMap<String, u8>,
        f: f32,
        g: f64,
    }

    fn sample() -> Sample {
        Sample {
            b: "<a & b>\u{2028}\u{2029}\n\r\t\u{8}\u{c}\u{1}\u{7f}\"\\/é".into(),
            a: vec![],
            e: Default::default(),
            f: 0.001,
            g: 1e-7,
        }
    }

    #[test]
    fn compact_like_go() {
        assert_eq!(
            to_string_compact(&sample()),
            r#"{"b":"\u003ca \u0026 b\u003e\u2028\u2029\n\r\t\b\f\u0001\u007f\"\\/é","a":[],"e":{},"f":0.001,"g":1e-7}"#
                .replace("\\u007f", "\u{7f}")
        );
    }

    #[test]
    fn indented_like_go() {
        let want = "{\n  \"b\": \"\\u003ca \\u0026 b\\u003e\\u2028\\u2029\\n\\r\\t\\b\\f\\u0001\u{7f}\\\"\\\\/é\",\n  \"a\": [],\n  \"e\": {},\n  \"f\": 0.001,\n  \"g\": 1e-7\n}";
        assert_eq!(to_string_pretty(&sample()), want);
        assert_eq!(to_string_pretty(&vec![1, 2]), "[\n  1,\n  2\n]");
    }

    #[test]
    fn dollars_are_doubled() {
        assert_eq!(escape_dollar_sign("a$b$$"), "a$$b$$$$");
    }
}
