//! Plain scalar resolution as Go's YAML decoder does it.
//!
//! Compose v2.40.3 loads files with compose-go v2, which decodes YAML with
//! `go.yaml.in/yaml/v3` (the continuation of `gopkg.in/yaml.v3`) into `interface{}`.
//! Its resolver (`resolve.go`) types a plain scalar from its first character and a few
//! fixed spellings; everything here mirrors that so that `80`, `0x50`, `true` or `~`
//! mean to us what they mean to Compose:
//!
//! * null: empty, `~`, `null`, `Null`, `NULL`;
//! * booleans: `true`, `True`, `TRUE`, `false`, `False`, `FALSE` only; YAML 1.1's `yes`,
//!   `no`, `on`, `off`, `y`, `n` stay strings (yaml.v3 only accepts them when decoding
//!   into a Go `bool`, never into `interface{}`);
//! * integers: Go's `strconv.ParseInt(s, 0, 64)` after removing every `_`: optional
//!   sign, decimal, `0x`, `0o`, `0b` and the YAML 1.1 octal `0777`;
//! * floats: `.inf`, `.nan` and friends, and decimal floats (`1.5`, `1e3`, `.5`, `1.`);
//! * timestamps (`2001-12-14`): strings. yaml.v3 recognises them but, for backward
//!   compatibility, hands the original text to `interface{}` targets, and no timestamp
//!   spelling could be mistaken for a number anyway.
//!
//! Integers beyond `i64` that fit in `u64` are a Go `uint64`; our [`Value`] has no
//! unsigned variant, so they become a [`Value::Float`] (the closest number; they stay a
//! number for schema validation, losing precision beyond 2^53). Beyond `u64`, Go falls
//! back to `ParseFloat`, and so do we.

use super::Value;

/// The typed value of a plain (unquoted, untagged) scalar.
pub fn resolve_plain(s: &str) -> Value {
    if let Some(v) = fixed_spelling(s) {
        return v;
    }
    match s.as_bytes().first() {
        Some(b'.') => match parse_go_float(s) {
            Some(f) => Value::Float(f),
            None => Value::String(s.to_string()),
        },
        Some(b'0'..=b'9' | b'+' | b'-') => {
            resolve_number(s).unwrap_or_else(|| Value::String(s.to_string()))
        }
        _ => Value::String(s.to_string()),
    }
}

/// The spellings yaml.v3 looks up in a table before trying numbers.
fn fixed_spelling(s: &str) -> Option<Value> {
    let v = match s {
        "" | "~" | "null" | "Null" | "NULL" => Value::Null,
        "true" | "True" | "TRUE" => Value::Bool(true),
        "false" | "False" | "FALSE" => Value::Bool(false),
        ".nan" | ".NaN" | ".NAN" => Value::Float(f64::NAN),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => Value::Float(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => Value::Float(f64::NEG_INFINITY),
        _ => return None,
    };
    Some(v)
}

/// Integers and floats for scalars starting with a digit or a sign.
fn resolve_number(s: &str) -> Option<Value> {
    let plain: String = s.chars().filter(|&c| c != '_').collect();
    if let Some(i) = parse_go_int(&plain) {
        return Some(Value::Int(i));
    }
    if let Some(u) = parse_go_uint(&plain) {
        // A Go uint64: see the module documentation.
        return Some(Value::Float(u as f64));
    }
    if is_yaml_style_float(&plain) {
        return parse_finite_float(&plain).map(Value::Float);
    }
    None
}

/// Go's `strconv.ParseInt(s, 0, 64)`: optional sign, base prefix, no overflow.
fn parse_go_int(s: &str) -> Option<i64> {
    let (negative, rest) = match (s.strip_prefix('-'), s.strip_prefix('+')) {
        (Some(rest), _) => (true, rest),
        (None, Some(rest)) => (false, rest),
        (None, None) => (false, s),
    };
    let magnitude = parse_go_uint(rest)?;
    if negative {
        0i64.checked_sub_unsigned(magnitude)
    } else {
        i64::try_from(magnitude).ok()
    }
}

/// Go's `strconv.ParseUint(s, 0, 64)`: no sign, `0x`/`0o`/`0b`/leading-`0` bases.
fn parse_go_uint(s: &str) -> Option<u64> {
    let (radix, digits) = split_base_prefix(s);
    let valid = !digits.is_empty() && digits.chars().all(|c| c.is_digit(radix));
    if !valid {
        return None;
    }
    u64::from_str_radix(digits, radix).ok()
}

/// The base Go's `ParseUint(s, 0, ..)` infers from the prefix, and the digits after it.
fn split_base_prefix(s: &str) -> (u32, &str) {
    let Some(after_zero) = s.strip_prefix('0').filter(|r| !r.is_empty()) else {
        return (10, s);
    };
    let mut chars = after_zero.chars();
    let radix = match chars.next() {
        Some('x' | 'X') => 16,
        Some('o' | 'O') => 8,
        Some('b' | 'B') => 2,
        _ => return (8, after_zero),
    };
    (radix, chars.as_str())
}

/// yaml.v3's `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`.
fn is_yaml_style_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = usize::from(matches!(b.first(), Some(b'-' | b'+')));
    let int_digits = count_digits(b, i);
    i += int_digits;
    if int_digits == 0 {
        // `\.[0-9]+`
        if b.get(i) != Some(&b'.') {
            return false;
        }
        let frac = count_digits(b, i + 1);
        if frac == 0 {
            return false;
        }
        i += 1 + frac;
    } else if b.get(i) == Some(&b'.') {
        i += 1 + count_digits(b, i + 1);
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'-' | b'+')) {
            i += 1;
        }
        let exp = count_digits(b, i);
        if exp == 0 {
            return false;
        }
        i += exp;
    }
    i == b.len()
}

/// How many ASCII digits follow position `from`.
fn count_digits(b: &[u8], from: usize) -> usize {
    b.iter()
        .skip(from)
        .take_while(|c| c.is_ascii_digit())
        .count()
}

/// Go's `strconv.ParseFloat(s, 64)` for scalars starting with `.`: underscores only
/// between digits, out-of-range values are an error (Go reports `ErrRange`).
fn parse_go_float(s: &str) -> Option<f64> {
    let b = s.as_bytes();
    for (i, &c) in b.iter().enumerate() {
        if c == b'_' {
            let before = i.checked_sub(1).and_then(|j| b.get(j));
            let after = b.get(i + 1);
            if !before.is_some_and(u8::is_ascii_digit) || !after.is_some_and(u8::is_ascii_digit) {
                return None;
            }
        }
    }
    let plain: String = s.chars().filter(|&c| c != '_').collect();
    // Rust also accepts `inf`/`nan` spellings; none of them starts with `.`, and the
    // other caller has checked the YAML float shape already.
    if !plain
        .bytes()
        .all(|c| c.is_ascii_digit() || matches!(c, b'.' | b'e' | b'E' | b'+' | b'-'))
    {
        return None;
    }
    parse_finite_float(&plain)
}

fn parse_finite_float(s: &str) -> Option<f64> {
    s.parse::<f64>().ok().filter(|f| f.is_finite())
}

/// Whether yaml.v3 would resolve `s` as a timestamp (used by the emitter, which must
/// quote such strings). The accepted shapes are Go's `time.Parse` layouts
/// `2006-1-2T15:4:5.999999999Z07:00` (also with `t`), `2006-1-2 15:4:5.999999999` and
/// `2006-1-2`, with their range checks.
pub fn is_timestamp(s: &str) -> bool {
    let mut p = Cursor {
        b: s.as_bytes(),
        i: 0,
    };
    let Some(year) = p.fixed_digits(4) else {
        return false;
    };
    if !p.eat(b'-') {
        return false;
    }
    let Some(month) = p.short_num() else {
        return false;
    };
    if !p.eat(b'-') {
        return false;
    }
    let Some(day) = p.short_num() else {
        return false;
    };
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return false;
    }
    if p.done() {
        return true;
    }
    let zoned = match p.next() {
        Some(b'T' | b't') => true,
        Some(b' ') => false,
        _ => return false,
    };
    if !p.clock() {
        return false;
    }
    if zoned && !p.zone() {
        return false;
    }
    p.done()
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400)) => {
            29
        }
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// A tiny reader for the timestamp shapes.
struct Cursor<'a> {
    b: &'a [u8],
    i: usize,
}

impl Cursor<'_> {
    fn done(&self) -> bool {
        self.i >= self.b.len()
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn next(&mut self) -> Option<u8> {
        let c = self.peek()?;
        self.i += 1;
        Some(c)
    }

    fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn digit(&mut self) -> Option<u32> {
        let c = self.peek().filter(u8::is_ascii_digit)?;
        self.i += 1;
        Some(u32::from(c - b'0'))
    }

    fn fixed_digits(&mut self, n: usize) -> Option<u32> {
        (0..n).try_fold(0, |acc, _| Some(acc * 10 + self.digit()?))
    }

    /// Go's `getnum(s, false)`: one or two digits.
    fn short_num(&mut self) -> Option<u32> {
        let first = self.digit()?;
        Some(match self.digit() {
            Some(second) => first * 10 + second,
            None => first,
        })
    }

    /// `15:4:5` with optional `.999999999` (or `,`) fraction.
    fn clock(&mut self) -> bool {
        let parts = (|| {
            let h = self.short_num()?;
            self.eat(b':').then_some(())?;
            let m = self.short_num()?;
            self.eat(b':').then_some(())?;
            let s = self.short_num()?;
            Some((h, m, s))
        })();
        let Some((h, m, s)) = parts else { return false };
        if h > 23 || m > 59 || s > 59 {
            return false;
        }
        let frac_start = self.i;
        if matches!(self.peek(), Some(b'.' | b',')) {
            self.i += 1;
            if self.digit().is_none() {
                self.i = frac_start;
                return true;
            }
            while self.digit().is_some() {}
        }
        true
    }

    /// `Z07:00`: `Z` or `±hh:mm`.
    fn zone(&mut self) -> bool {
        if self.eat(b'Z') {
            return true;
        }
        if !matches!(self.next(), Some(b'+' | b'-')) {
            return false;
        }
        let (Some(h), true, Some(m)) = (self.fixed_digits(2), self.eat(b':'), self.fixed_digits(2))
        else {
            return false;
        };
        h <= 24 && m <= 60
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> Value {
        Value::String(v.to_string())
    }

    #[test]
    fn nulls() {
        for v in ["", "~", "null", "Null", "NULL"] {
            assert_eq!(resolve_plain(v), Value::Null, "{v}");
        }
        assert_eq!(resolve_plain("nULL"), s("nULL"));
    }

    #[test]
    fn booleans_are_yaml_1_2_only() {
        for v in ["true", "True", "TRUE"] {
            assert_eq!(resolve_plain(v), Value::Bool(true));
        }
        for v in ["false", "False", "FALSE"] {
            assert_eq!(resolve_plain(v), Value::Bool(false));
        }
        for v in ["yes", "no", "on", "off", "y", "n", "Yes", "OFF", "tRue"] {
            assert_eq!(resolve_plain(v), s(v));
        }
    }

    #[test]
    fn integers() {
        let cases = [
            ("0", 0),
            ("-0", 0),
            ("80", 80),
            ("+12", 12),
            ("-12", -12),
            ("1_000", 1000),
            ("0x1F", 31),
            ("0X1f", 31),
            ("-0x10", -16),
            ("0o17", 15),
            ("0O17", 15),
            ("0b101", 5),
            ("-0b101", -5),
            ("0777", 511),
            ("9223372036854775807", i64::MAX),
            ("-9223372036854775808", i64::MIN),
            ("1__0", 10),
            ("1_", 1),
        ];
        for (text, want) in cases {
            assert_eq!(resolve_plain(text), Value::Int(want), "{text}");
        }
    }

    #[test]
    fn big_integers_become_floats() {
        assert_eq!(
            resolve_plain("18446744073709551615"),
            Value::Float(18446744073709551615.0)
        );
        assert_eq!(resolve_plain("99999999999999999999"), Value::Float(1e20));
        assert_eq!(
            resolve_plain("-9223372036854775809"),
            Value::Float(-9223372036854775809.0)
        );
        // Too big for u64 and not decimal: a string, as in Go.
        assert_eq!(
            resolve_plain("0x1ffffffffffffffff"),
            s("0x1ffffffffffffffff")
        );
    }

    #[test]
    fn floats() {
        let cases = [
            ("1.5", 1.5),
            ("1e3", 1000.0),
            ("1E3", 1000.0),
            ("-1.5e-3", -0.0015),
            ("+.5", 0.5),
            (".5", 0.5),
            ("1.", 1.0),
            ("08", 8.0),
            ("09.5", 9.5),
            ("1_000.5", 1000.5),
            (".5_5", 0.55),
        ];
        for (text, want) in cases {
            assert_eq!(resolve_plain(text), Value::Float(want), "{text}");
        }
        assert!(matches!(resolve_plain(".nan"), Value::Float(f) if f.is_nan()));
        assert_eq!(resolve_plain(".Inf"), Value::Float(f64::INFINITY));
        assert_eq!(resolve_plain("+.INF"), Value::Float(f64::INFINITY));
        assert_eq!(resolve_plain("-.inf"), Value::Float(f64::NEG_INFINITY));
    }

    #[test]
    fn strings() {
        for v in [
            "abc",
            "1e999",
            ".",
            "._5",
            ".Nan",
            "nan",
            "inf",
            "+inf",
            "-",
            "+",
            "1.2.3",
            "0x",
            "0b2",
            "1e",
            "1:20",
            "<<",
            "2001-12-14",
            "12:30",
            "_1",
            "0x1p3",
            "1 2",
            "--1",
            "1e+",
            ".5e",
            "0o8",
        ] {
            assert_eq!(resolve_plain(v), s(v), "{v}");
        }
    }

    #[test]
    fn timestamps() {
        for v in [
            "2001-12-14",
            "2001-1-2",
            "2001-12-14T21:59:43.10Z",
            "2001-12-14t21:59:43+05:00",
            "2001-12-14 21:59:43.10",
            "2000-02-29",
        ] {
            assert!(is_timestamp(v), "{v}");
        }
        for v in [
            "2001-12-14 21:59:43.10 -5",
            "2001-13-14",
            "2001-02-30",
            "1900-02-29",
            "201-12-14",
            "2001-12-14T21:59:43",
            "2001-12-14x",
            "2001-12",
        ] {
            assert!(!is_timestamp(v), "{v}");
        }
    }
}
