//! Special scalars and collections of the compose model: each newtype reads the input
//! forms compose-go accepts and serializes the way compose-go's JSON marshalers do.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use crate::gojson::format_float_sprint;

/// Go's `omitempty` for numbers and booleans.
pub(crate) fn is_zero<T: Default + PartialEq>(v: &T) -> bool {
    *v == T::default()
}

/// A scalar read as compose-go reads `string | number | boolean | null` values: numbers
/// and booleans become their Go `fmt.Sprint` spelling, null is `None`.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Scalar(pub Option<String>);

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Scalar;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string, number or boolean")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Scalar, E> {
                Ok(Scalar(Some(v.to_owned())))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Scalar, E> {
                Ok(Scalar(Some(v.to_string())))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Scalar, E> {
                Ok(Scalar(Some(v.to_string())))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Scalar, E> {
                Ok(Scalar(Some(format_float_sprint(v))))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Scalar, E> {
                Ok(Scalar(Some(v.to_string())))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Scalar, E> {
                Ok(Scalar(None))
            }
            fn visit_none<E: de::Error>(self) -> Result<Scalar, E> {
                Ok(Scalar(None))
            }
        }
        d.deserialize_any(V)
    }
}

/// A string field where the schema also allows numbers (`published`, `uid`, ...): the
/// number is kept in its string form.
#[derive(Clone, Debug, PartialEq, Eq, Default, PartialOrd, Ord, Hash)]
pub struct StringOrNumber(pub String);

impl Serialize for StringOrNumber {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for StringOrNumber {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Scalar::deserialize(d)? {
            Scalar(Some(s)) => Ok(StringOrNumber(s)),
            Scalar(None) => Err(de::Error::custom("must be a string or a number")),
        }
    }
}

impl StringOrNumber {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

// ---------------------------------------------------------------------------------------
// Duration

/// A Go `time.Duration` in nanoseconds. Reads compose's duration strings (`1m30s`, `1.5s`,
/// `500ms`, `2d`, `1w`), serializes as Go's `Duration.String()` (`1m30s`, `1h0m0s`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, PartialOrd, Ord, Hash)]
pub struct Duration(pub i64);

const NS: i128 = 1;
const US: i128 = 1_000;
const MS: i128 = 1_000_000;
const SEC: i128 = 1_000_000_000;

impl Duration {
    pub fn from_secs(s: i64) -> Self {
        Duration(s.saturating_mul(1_000_000_000))
    }

    pub fn is_zero(&self) -> bool {
        self.0 == 0
    }

    /// Parses the str2duration syntax compose-go uses: Go's `time.ParseDuration` plus the
    /// `d` and `w` units.
    pub fn parse(input: &str) -> Result<Self, String> {
        let invalid = || format!("invalid duration {input:?}");
        let (neg, mut rest) = match input.as_bytes().first() {
            Some(b'-') => (true, &input[1..]),
            Some(b'+') => (false, &input[1..]),
            _ => (false, input),
        };
        if rest == "0" {
            return Ok(Duration(0));
        }
        if rest.is_empty() {
            return Err(invalid());
        }
        let mut total: i128 = 0;
        while !rest.is_empty() {
            let int_len = rest.bytes().take_while(u8::is_ascii_digit).count();
            let int_part = &rest[..int_len];
            rest = &rest[int_len..];
            let mut frac_part = "";
            if let Some(after_dot) = rest.strip_prefix('.') {
                let frac_len = after_dot.bytes().take_while(u8::is_ascii_digit).count();
                frac_part = &after_dot[..frac_len];
                rest = &after_dot[frac_len..];
            }
            if int_part.is_empty() && frac_part.is_empty() {
                return Err(invalid());
            }
            let unit_len = rest
                .find(|c: char| c.is_ascii_digit() || c == '.')
                .unwrap_or(rest.len());
            let unit = match &rest[..unit_len] {
                "ns" => NS,
                "us" | "µs" | "μs" => US,
                "ms" => MS,
                "s" => SEC,
                "m" => 60 * SEC,
                "h" => 3600 * SEC,
                "d" => 86400 * SEC,
                "w" => 7 * 86400 * SEC,
                "" => return Err(format!("missing unit in duration {input:?}")),
                other => return Err(format!("unknown unit {other:?} in duration {input:?}")),
            };
            rest = &rest[unit_len..];
            let int: i128 = if int_part.is_empty() {
                0
            } else {
                int_part.parse().map_err(|_| invalid())?
            };
            let mut value = int.checked_mul(unit).ok_or_else(invalid)?;
            // Keep at most 18 fraction digits: beyond that they cannot change nanoseconds.
            let frac_digits = &frac_part[..frac_part.len().min(18)];
            if !frac_digits.is_empty() {
                let frac: i128 = frac_digits.parse().map_err(|_| invalid())?;
                let scale = 10i128.pow(frac_digits.len() as u32);
                value += frac * unit / scale;
            }
            total = total.checked_add(value).ok_or_else(invalid)?;
        }
        if neg {
            total = -total;
        }
        i64::try_from(total).map(Duration).map_err(|_| invalid())
    }
}

/// `whole.fraction` of `v / div`, fraction without trailing zeros (Go's `fmtFrac`).
fn push_frac(out: &mut String, v: u64, div: u64) {
    out.push_str(&(v / div).to_string());
    let rem = v % div;
    if rem != 0 {
        let digits = div.ilog10() as usize;
        let frac = format!("{rem:0digits$}");
        out.push('.');
        out.push_str(frac.trim_end_matches('0'));
    }
}

impl fmt::Display for Duration {
    /// Go's `time.Duration.String()`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 == 0 {
            return f.write_str("0s");
        }
        let mut out = String::new();
        if self.0 < 0 {
            out.push('-');
        }
        let u = self.0.unsigned_abs();
        if u < 1_000_000_000 {
            let (div, unit) = match u {
                0..1_000 => (1, "ns"),
                1_000..1_000_000 => (1_000, "µs"),
                _ => (1_000_000, "ms"),
            };
            push_frac(&mut out, u, div);
            out.push_str(unit);
        } else {
            let secs = u / 1_000_000_000;
            let (h, m) = (secs / 3600, (secs / 60) % 60);
            if h > 0 {
                out.push_str(&format!("{h}h"));
            }
            if h > 0 || m > 0 {
                out.push_str(&format!("{m}m"));
            }
            push_frac(
                &mut out,
                (secs % 60) * 1_000_000_000 + u % 1_000_000_000,
                1_000_000_000,
            );
            out.push('s');
        }
        f.write_str(&out)
    }
}

impl Serialize for Duration {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Duration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // compose-go prints the value and parses the text, so `0` is valid and `10` lacks a unit.
        match Scalar::deserialize(d)? {
            Scalar(Some(s)) => Duration::parse(&s).map_err(de::Error::custom),
            Scalar(None) => Err(de::Error::custom("must be a duration like \"10s\"")),
        }
    }
}

// ---------------------------------------------------------------------------------------
// UnitBytes

/// A byte count. Reads integers and docker/go-units sizes (`512m`, `1gb`, `1.5g`: binary
/// multiples); serializes as a decimal string, as compose-go's `UnitBytes` does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, PartialOrd, Ord, Hash)]
pub struct UnitBytes(pub i64);

impl UnitBytes {
    pub fn is_zero(&self) -> bool {
        self.0 == 0
    }

    /// go-units `RAMInBytes`: `<number>[ ][kmgtp][i][b]`, case-insensitive, powers of 1024.
    pub fn parse(input: &str) -> Result<Self, String> {
        let invalid = || format!("invalid size: {input:?}");
        let num_len = input
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(input.len());
        let (num, suffix) = input.split_at(num_len);
        if num.is_empty() || num.starts_with('.') {
            return Err(invalid());
        }
        let size: f64 = num.parse().map_err(|_| invalid())?;
        let mut suffix = suffix
            .strip_prefix(' ')
            .unwrap_or(suffix)
            .to_ascii_lowercase();
        if suffix.ends_with('b') {
            suffix.pop();
        }
        if suffix.len() == 2 && suffix.ends_with('i') {
            suffix.pop();
        }
        let mult: f64 = match suffix.as_str() {
            "" => 1.0,
            "k" => 1024.0,
            "m" => 1024f64.powi(2),
            "g" => 1024f64.powi(3),
            "t" => 1024f64.powi(4),
            "p" => 1024f64.powi(5),
            _ => return Err(invalid()),
        };
        // Go converts with int64(float64): saturating here instead of undefined behaviour.
        Ok(UnitBytes((size * mult) as i64))
    }
}

impl Serialize for UnitBytes {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for UnitBytes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = UnitBytes;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a byte size like \"512m\" or an integer")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<UnitBytes, E> {
                Ok(UnitBytes(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<UnitBytes, E> {
                i64::try_from(v)
                    .map(UnitBytes)
                    .map_err(|_| E::custom("byte size out of range"))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<UnitBytes, E> {
                UnitBytes::parse(v).map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}

// ---------------------------------------------------------------------------------------
// FileMode

/// Permission bits of a mounted secret or config. Reads an integer (YAML octal already
/// resolved) or an octal string; serializes as Go's `"0%o"` (`"0440"`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Hash)]
pub struct FileMode(pub i64);

impl Serialize for FileMode {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        // Go's %o prints a sign before the digits.
        let text = if self.0 < 0 {
            format!("0-{:o}", self.0.unsigned_abs())
        } else {
            format!("0{:o}", self.0)
        };
        s.serialize_str(&text)
    }
}

impl<'de> Deserialize<'de> for FileMode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = FileMode;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a file mode (integer or octal string)")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<FileMode, E> {
                Ok(FileMode(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<FileMode, E> {
                i64::try_from(v)
                    .map(FileMode)
                    .map_err(|_| E::custom("file mode out of range"))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<FileMode, E> {
                i64::from_str_radix(v, 8)
                    .map(FileMode)
                    .map_err(|_| E::custom(format!("invalid octal file mode {v:?}")))
            }
        }
        d.deserialize_any(V)
    }
}

// ---------------------------------------------------------------------------------------
// ShellCommand

/// `command` / `entrypoint`: unset (`null` in JSON) differs from explicitly empty (`[]`),
/// which clears the image's value. A string is split with shell-word rules.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct ShellCommand(pub Option<Vec<String>>);

impl ShellCommand {
    pub fn is_unset(&self) -> bool {
        self.0.is_none()
    }
}

impl Serialize for ShellCommand {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match &self.0 {
            None => s.serialize_none(),
            Some(args) => args.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for ShellCommand {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ShellCommand;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or a list of strings")
            }
            fn visit_unit<E: de::Error>(self) -> Result<ShellCommand, E> {
                Ok(ShellCommand(None))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<ShellCommand, E> {
                shell_split(v)
                    .map(|a| ShellCommand(Some(a)))
                    .map_err(E::custom)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<ShellCommand, A::Error> {
                let mut args = Vec::new();
                while let Some(a) = seq.next_element::<String>()? {
                    args.push(a);
                }
                Ok(ShellCommand(Some(args)))
            }
        }
        d.deserialize_any(V)
    }
}

/// Splits a command line the way mattn/go-shellwords does (no variable or backtick
/// expansion): blanks separate words, quotes group, a backslash escapes the next character
/// outside single quotes, and an unquoted `;`, `&`, `|`, `<` or `>` ends the command.
pub fn shell_split(line: &str) -> Result<Vec<String>, String> {
    let mut args = Vec::new();
    let mut buf = String::new();
    let mut have_word = false;
    let (mut escaped, mut single, mut double) = (false, false, false);
    for c in line.chars() {
        if escaped {
            buf.push(c);
            escaped = false;
            have_word = true;
            continue;
        }
        match c {
            '\\' if single => buf.push(c),
            '\\' => escaped = true,
            ' ' | '\t' | '\r' | '\n' if !single && !double => {
                if have_word {
                    args.push(std::mem::take(&mut buf));
                    have_word = false;
                }
            }
            '\'' if !double => {
                single = !single;
                have_word = true;
            }
            '"' if !single => {
                double = !double;
                have_word = true;
            }
            ';' | '&' | '|' | '<' | '>' if !single && !double => break,
            _ => {
                buf.push(c);
                have_word = true;
            }
        }
    }
    if escaped || single || double {
        return Err("invalid command line string".to_owned());
    }
    if have_word {
        args.push(buf);
    }
    Ok(args)
}

// ---------------------------------------------------------------------------------------
// Lists

/// A string or a list of strings (`dns`, `tmpfs`, `cache_from`, ...).
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize)]
#[serde(transparent)]
pub struct StringList(pub Vec<String>);

impl StringList {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<'de> Deserialize<'de> for StringList {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = StringList;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or a list of strings")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<StringList, E> {
                Ok(StringList(vec![v.to_owned()]))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<StringList, A::Error> {
                let mut out = Vec::new();
                while let Some(s) = seq.next_element::<String>()? {
                    out.push(s);
                }
                Ok(StringList(out))
            }
        }
        d.deserialize_any(V)
    }
}

/// A scalar or list of scalars kept as strings (`expose`).
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize)]
#[serde(transparent)]
pub struct StringOrNumberList(pub Vec<String>);

impl StringOrNumberList {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<'de> Deserialize<'de> for StringOrNumberList {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = StringOrNumberList;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string, a number or a list of them")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(StringOrNumberList(vec![v.to_owned()]))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                Ok(StringOrNumberList(vec![v.to_string()]))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some(s) = seq.next_element::<StringOrNumber>()? {
                    out.push(s.0);
                }
                Ok(StringOrNumberList(out))
            }
        }
        d.deserialize_any(V)
    }
}

// ---------------------------------------------------------------------------------------
// Mappings

/// `KEY: value` pairs where a missing value is the empty string (labels, sysctls, driver
/// options...). Also reads the `["KEY=value"]` list form.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize)]
#[serde(transparent)]
pub struct Mapping(pub BTreeMap<String, String>);

/// Labels are a [`Mapping`]; Go keeps a separate name for them.
pub type Labels = Mapping;
/// Driver options passed as-is to the runtime.
pub type Options = Mapping;

impl Mapping {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }
}

impl<'de> Deserialize<'de> for Mapping {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let m = MappingWithEquals::deserialize(d)?;
        Ok(Mapping(
            m.0.into_iter()
                .map(|(k, v)| (k, v.unwrap_or_default()))
                .collect(),
        ))
    }
}

/// `KEY: value` pairs where a key without value stays unset (`null`), to be resolved from
/// the environment later (`environment`, build `args`).
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize)]
#[serde(transparent)]
pub struct MappingWithEquals(pub BTreeMap<String, Option<String>>);

impl MappingWithEquals {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<'de> Deserialize<'de> for MappingWithEquals {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = MappingWithEquals;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a mapping or a list of KEY=VALUE strings")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut out = BTreeMap::new();
                while let Some((k, v)) = map.next_entry::<String, Scalar>()? {
                    out.insert(k, v.0);
                }
                Ok(MappingWithEquals(out))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut out = BTreeMap::new();
                while let Some(item) = seq.next_element::<StringOrNumber>()? {
                    match item.0.split_once('=') {
                        Some((k, v)) => out.insert(k.to_owned(), Some(v.to_owned())),
                        None => out.insert(item.0, None),
                    };
                }
                Ok(MappingWithEquals(out))
            }
        }
        d.deserialize_any(V)
    }
}

/// Options whose values may repeat (`provider.options`).
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize)]
#[serde(transparent)]
pub struct MultiOptions(pub BTreeMap<String, Vec<String>>);

impl MultiOptions {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// One value or a list of values, as strings.
struct OneOrMany(Vec<String>);

impl<'de> Deserialize<'de> for OneOrMany {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = OneOrMany;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a scalar or a list of scalars")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<OneOrMany, E> {
                Ok(OneOrMany(vec![v.to_owned()]))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<OneOrMany, E> {
                Ok(OneOrMany(vec![v.to_string()]))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<OneOrMany, E> {
                Ok(OneOrMany(vec![format_float_sprint(v)]))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<OneOrMany, E> {
                Ok(OneOrMany(vec![v.to_string()]))
            }
            fn visit_unit<E: de::Error>(self) -> Result<OneOrMany, E> {
                Ok(OneOrMany(vec![String::new()]))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<OneOrMany, A::Error> {
                let mut out = Vec::new();
                while let Some(s) = seq.next_element::<Scalar>()? {
                    out.push(s.0.unwrap_or_default());
                }
                Ok(OneOrMany(out))
            }
        }
        d.deserialize_any(V)
    }
}

impl<'de> Deserialize<'de> for MultiOptions {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let m = BTreeMap::<String, OneOrMany>::deserialize(d)?;
        Ok(MultiOptions(m.into_iter().map(|(k, v)| (k, v.0)).collect()))
    }
}

// ---------------------------------------------------------------------------------------
// extra_hosts

/// Host name to IP addresses (`extra_hosts`). Reads a mapping (`host: ip` or
/// `host: [ip, ...]`) or a list of `host=ip` / `host:ip`; serializes as the sorted list of
/// `host=ip` strings, as compose-go does.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct HostsList(pub BTreeMap<String, Vec<String>>);

impl HostsList {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `host<sep>ip` entries, sorted.
    pub fn as_list(&self, sep: &str) -> Vec<String> {
        let mut list: Vec<String> = self
            .0
            .iter()
            .flat_map(|(h, ips)| ips.iter().map(move |ip| format!("{h}{sep}{ip}")))
            .collect();
        list.sort();
        list
    }

    fn from_entries(entries: Vec<String>) -> Result<Self, String> {
        let mut list: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for entry in entries {
            let (host, ips) = entry
                .split_once('=')
                .or_else(|| entry.split_once(':'))
                .ok_or_else(|| format!("invalid additional host, missing IP: {entry}"))?;
            list.entry(host.to_owned())
                .or_default()
                .extend(ips.split(',').map(str::to_owned));
        }
        HostsList(list).cleaned()
    }

    /// Rejects unusable host names and strips brackets from IPv6 addresses (`[::1]`).
    fn cleaned(mut self) -> Result<Self, String> {
        for (host, ips) in &mut self.0 {
            if host.is_empty() || host.contains([':', '=']) {
                return Err(format!("bad host name '{host}'"));
            }
            for ip in ips.iter_mut() {
                if ip.len() > 2 && ip.starts_with('[') && ip.ends_with(']') {
                    *ip = ip[1..ip.len() - 1].to_owned();
                }
            }
        }
        Ok(self)
    }
}

impl Serialize for HostsList {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.as_list("=").serialize(s)
    }
}

impl<'de> Deserialize<'de> for HostsList {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = HostsList;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a mapping or a list of host=ip strings")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<HostsList, A::Error> {
                let mut out = BTreeMap::new();
                while let Some((k, v)) = map.next_entry::<String, OneOrMany>()? {
                    out.insert(k, v.0);
                }
                HostsList(out).cleaned().map_err(de::Error::custom)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<HostsList, A::Error> {
                let mut entries = Vec::new();
                while let Some(s) = seq.next_element::<String>()? {
                    entries.push(s);
                }
                HostsList::from_entries(entries).map_err(de::Error::custom)
            }
        }
        d.deserialize_any(V)
    }
}

// ---------------------------------------------------------------------------------------
// build.ssh

/// One SSH agent socket or key exposed to a build.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct SshKey {
    pub id: String,
    pub path: String,
}

/// `build.ssh`: canonical form is a mapping `id: path` (`default:` without path); the
/// `["default", "id=path"]` list form is read too. Serialized as a list of `id` or
/// `id=path` strings (compose-go emits invalid JSON for keys with a path; we keep the
/// short-syntax spelling instead).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct SshConfig(pub Vec<SshKey>);

impl SshConfig {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Serialize for SshConfig {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let items: Vec<String> = self
            .0
            .iter()
            .map(|k| {
                if k.path.is_empty() {
                    k.id.clone()
                } else {
                    format!("{}={}", k.id, k.path)
                }
            })
            .collect();
        items.serialize(s)
    }
}

impl<'de> Deserialize<'de> for SshConfig {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = SshConfig;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a mapping or a list of id[=path] strings")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<SshConfig, E> {
                Ok(SshConfig(vec![ssh_key(v)]))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<SshConfig, A::Error> {
                let mut out = Vec::new();
                while let Some((id, path)) = map.next_entry::<String, Scalar>()? {
                    out.push(SshKey {
                        id,
                        path: path.0.unwrap_or_default(),
                    });
                }
                Ok(SshConfig(out))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<SshConfig, A::Error> {
                let mut out = Vec::new();
                while let Some(s) = seq.next_element::<String>()? {
                    out.push(ssh_key(&s));
                }
                Ok(SshConfig(out))
            }
        }
        d.deserialize_any(V)
    }
}

fn ssh_key(s: &str) -> SshKey {
    match s.split_once('=') {
        Some((id, path)) => SshKey {
            id: id.to_owned(),
            path: path.to_owned(),
        },
        None => SshKey {
            id: s.to_owned(),
            path: String::new(),
        },
    }
}

// ---------------------------------------------------------------------------------------
// Small scalars

/// `external:` of networks, volumes, secrets and configs. The legacy `{name: ...}` form
/// means `true` (the transform step moves the name).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize)]
#[serde(transparent)]
pub struct External(pub bool);

impl External {
    pub fn is_false(&self) -> bool {
        !self.0
    }
}

impl<'de> Deserialize<'de> for External {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = External;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a boolean")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<External, E> {
                Ok(External(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<External, E> {
                crate::de::parse_bool(v)
                    .map(External)
                    .ok_or_else(|| E::custom("must be a boolean"))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<External, A::Error> {
                while map.next_entry::<String, de::IgnoredAny>()?.is_some() {}
                Ok(External(true))
            }
        }
        d.deserialize_any(V)
    }
}

/// Number of devices to reserve; `all` is `-1`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize)]
#[serde(transparent)]
pub struct DeviceCount(pub i64);

impl DeviceCount {
    pub fn is_zero(&self) -> bool {
        self.0 == 0
    }
}

impl<'de> Deserialize<'de> for DeviceCount {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = DeviceCount;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an integer or \"all\"")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<DeviceCount, E> {
                Ok(DeviceCount(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<DeviceCount, E> {
                i64::try_from(v)
                    .map(DeviceCount)
                    .map_err(|_| E::custom("device count out of range"))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<DeviceCount, E> {
                if v.eq_ignore_ascii_case("all") {
                    return Ok(DeviceCount(-1));
                }
                v.parse().map(DeviceCount).map_err(|_| {
                    E::custom(format!(
                        "invalid value {v:?}, the only value allowed is 'all' or a number"
                    ))
                })
            }
        }
        d.deserialize_any(V)
    }
}

/// `healthcheck.test`: a string is shorthand for `["CMD-SHELL", string]`.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize)]
#[serde(transparent)]
pub struct HealthCheckTest(pub Vec<String>);

impl HealthCheckTest {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<'de> Deserialize<'de> for HealthCheckTest {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = HealthCheckTest;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or a list of strings")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<HealthCheckTest, E> {
                Ok(HealthCheckTest(vec!["CMD-SHELL".to_owned(), v.to_owned()]))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<HealthCheckTest, A::Error> {
                let mut out = Vec::new();
                while let Some(s) = seq.next_element::<String>()? {
                    out.push(s);
                }
                Ok(HealthCheckTest(out))
            }
        }
        d.deserialize_any(V)
    }
}

/// One ulimit: a single value, or soft and hard limits. Serialized as the bare number when
/// single, else as `{soft, hard}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct UlimitsConfig {
    pub single: i64,
    pub soft: i64,
    pub hard: i64,
}

impl Serialize for UlimitsConfig {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        if self.single != 0 {
            return s.serialize_i64(self.single);
        }
        let mut m = s.serialize_map(None)?;
        if self.soft != 0 {
            m.serialize_entry("soft", &self.soft)?;
        }
        if self.hard != 0 {
            m.serialize_entry("hard", &self.hard)?;
        }
        m.end()
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UlimitPair {
    #[serde(default)]
    single: i64,
    #[serde(default)]
    soft: i64,
    #[serde(default)]
    hard: i64,
}

impl<'de> Deserialize<'de> for UlimitsConfig {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // Integers come first because the map form needs its own (positioned) decoding.
        struct Either(UlimitsConfig);
        impl<'de> Deserialize<'de> for Either {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl<'de> Visitor<'de> for V {
                    type Value = Either;
                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        f.write_str("an integer or a mapping with soft and hard")
                    }
                    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Either, E> {
                        Ok(Either(UlimitsConfig {
                            single: v,
                            soft: 0,
                            hard: 0,
                        }))
                    }
                    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Either, E> {
                        let v = i64::try_from(v).map_err(|_| E::custom("ulimit out of range"))?;
                        self.visit_i64(v)
                    }
                    fn visit_str<E: de::Error>(self, v: &str) -> Result<Either, E> {
                        v.trim()
                            .parse::<i64>()
                            .map_err(|_| E::custom("must be an integer"))
                            .and_then(|i| self.visit_i64(i))
                    }
                    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Either, A::Error> {
                        let p =
                            UlimitPair::deserialize(de::value::MapAccessDeserializer::new(map))?;
                        Ok(Either(UlimitsConfig {
                            single: p.single,
                            soft: p.soft,
                            hard: p.hard,
                        }))
                    }
                }
                d.deserialize_any(V)
            }
        }
        Either::deserialize(d).map(|e| e.0)
    }
}

// ---------------------------------------------------------------------------------------
// Extensions

/// `x-*` values, kept as JSON with mapping keys sorted (Go marshals its maps sorted).
#[derive(Clone, Debug, PartialEq, Default, Serialize)]
#[serde(transparent)]
pub struct Extensions(pub BTreeMap<String, serde_json::Value>);

impl Extensions {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<'de> Deserialize<'de> for Extensions {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let m = BTreeMap::<String, serde_json::Value>::deserialize(d)?;
        Ok(Extensions(
            m.into_iter().map(|(k, v)| (k, sorted(v))).collect(),
        ))
    }
}

/// Re-inserts every object's keys in sorted order (serde_json here preserves insertion order).
fn sorted(v: serde_json::Value) -> serde_json::Value {
    match v {
        serde_json::Value::Object(o) => {
            let mut entries: Vec<_> = o.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            serde_json::Value::Object(entries.into_iter().map(|(k, v)| (k, sorted(v))).collect())
        }
        serde_json::Value::Array(a) => {
            serde_json::Value::Array(a.into_iter().map(sorted).collect())
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::de::from_node;
    use crate::de::testing::node;

    fn load<T: serde::de::DeserializeOwned>(v: serde_json::Value) -> T {
        from_node(&node(&v)).unwrap()
    }

    fn load_err<T: serde::de::DeserializeOwned + fmt::Debug>(v: serde_json::Value) -> String {
        from_node::<T>(&node(&v)).unwrap_err().to_string()
    }

    fn out<T: Serialize>(v: &T) -> serde_json::Value {
        serde_json::to_value(v).unwrap()
    }

    #[test]
    fn duration_parses_compose_syntax_and_prints_like_go() {
        for (input, ns, text) in [
            ("1m30s", 90 * SEC, "1m30s"),
            ("10s", 10 * SEC, "10s"),
            ("1.5s", 1_500 * MS, "1.5s"),
            ("500ms", 500 * MS, "500ms"),
            ("1h", 3600 * SEC, "1h0m0s"),
            ("2m", 120 * SEC, "2m0s"),
            ("1d", 86400 * SEC, "24h0m0s"),
            ("1us", US, "1µs"),
            ("1.5ms", 1_500 * US, "1.5ms"),
            ("0", 0, "0s"),
            ("1h2m3.004s", 3723 * SEC + 4 * MS, "1h2m3.004s"),
        ] {
            let d: Duration = load(json!(input));
            assert_eq!(i128::from(d.0), ns, "{input}");
            assert_eq!(out(&d), json!(text), "{input}");
        }
        let zero: Duration = load(json!(0));
        assert_eq!(zero.0, 0);
        assert!(load_err::<Duration>(json!("10")).contains("missing unit"));
        assert!(load_err::<Duration>(json!("10x")).contains("unknown unit"));
        assert!(load_err::<Duration>(json!(10)).contains("missing unit"));
    }

    #[test]
    fn unit_bytes() {
        for (input, n) in [
            (json!("512m"), 512 << 20),
            (json!("1gb"), 1 << 30),
            (json!("100k"), 102_400),
            (json!("1.5g"), 1_610_612_736),
            (json!("10 MiB"), 10 << 20),
            (json!(1024), 1024),
            (json!("1024"), 1024),
        ] {
            let b: UnitBytes = load(input.clone());
            assert_eq!(b.0, n, "{input}");
        }
        assert_eq!(out(&UnitBytes(52_428_800)), json!("52428800"));
        assert!(load_err::<UnitBytes>(json!("12x")).contains("invalid size"));
        assert!(load_err::<UnitBytes>(json!(true)).contains("must be a byte size"));
    }

    #[test]
    fn file_mode_is_octal_text() {
        let m: FileMode = load(json!("0440"));
        assert_eq!(m.0, 0o440);
        assert_eq!(out(&m), json!("0440"));
        let m: FileMode = load(json!(288));
        assert_eq!(out(&m), json!("0440"));
        assert!(load_err::<FileMode>(json!("0998")).contains("invalid octal"));
    }

    #[test]
    fn shell_command_unset_vs_empty() {
        assert_eq!(out(&ShellCommand(None)), json!(null));
        let empty: ShellCommand = load(json!([]));
        assert_eq!(out(&empty), json!([]));
        let blank: ShellCommand = load(json!(""));
        assert_eq!(out(&blank), json!([]));
        let c: ShellCommand = load(json!("bundle exec thin -p 3000"));
        assert_eq!(out(&c), json!(["bundle", "exec", "thin", "-p", "3000"]));
        assert!(load_err::<ShellCommand>(json!([1])).contains("must be a string"));
    }

    #[test]
    fn shell_split_rules() {
        let s = |l: &str| shell_split(l).unwrap();
        assert_eq!(s(r#"echo "hello world""#), ["echo", "hello world"]);
        assert_eq!(
            s(r#"sh -c 'echo $HOME; ls'"#),
            ["sh", "-c", "echo $HOME; ls"]
        );
        assert_eq!(s(r#"a\ b c"#), ["a b", "c"]);
        assert_eq!(s(r#"x "" y"#), ["x", "", "y"]);
        assert_eq!(s(r#"'a\b'"#), [r"a\b"]);
        assert_eq!(s(r#""a\"b""#), [r#"a"b"#]);
        assert_eq!(s("  a\tb\n"), ["a", "b"]);
        assert_eq!(s("echo a; echo b"), ["echo", "a"]);
        assert!(shell_split("'open").is_err());
        assert!(shell_split("trailing\\").is_err());
    }

    #[test]
    fn mappings() {
        let m: Mapping = load(json!({"a": 1, "b": true, "c": null, "d": "x", "e": 1.5}));
        assert_eq!(
            out(&m),
            json!({"a": "1", "b": "true", "c": "", "d": "x", "e": "1.5"})
        );
        let m: Mapping = load(json!(["A=1", "B", "C=x=y"]));
        assert_eq!(out(&m), json!({"A": "1", "B": "", "C": "x=y"}));
        let e: MappingWithEquals = load(json!({"A": null, "B": "", "C": 3}));
        assert_eq!(out(&e), json!({"A": null, "B": "", "C": "3"}));
        let e: MappingWithEquals = load(json!(["A", "B=", "C=3"]));
        assert_eq!(out(&e), json!({"A": null, "B": "", "C": "3"}));
        assert!(load_err::<Mapping>(json!({"a": [1]})).contains("a string, number or boolean"));
        let mo: MultiOptions = load(json!({"a": "x", "b": [1, "y"]}));
        assert_eq!(out(&mo), json!({"a": ["x"], "b": ["1", "y"]}));
    }

    #[test]
    fn hosts_list_serializes_sorted_pairs() {
        let h: HostsList = load(json!([
            "zulu=127.0.0.2",
            "alpha:50.31.209.229",
            "zulu=[ff02::1]"
        ]));
        assert_eq!(
            out(&h),
            json!(["alpha=50.31.209.229", "zulu=127.0.0.2", "zulu=ff02::1"])
        );
        let h: HostsList = load(json!({"myhost": ["0.0.0.2", "0.0.0.1"]}));
        assert_eq!(out(&h), json!(["myhost=0.0.0.1", "myhost=0.0.0.2"]));
        assert!(load_err::<HostsList>(json!(["nohost"])).contains("missing IP"));
    }

    #[test]
    fn small_scalars() {
        let s: SshConfig = load(json!({"default": null, "key": "/id_rsa"}));
        assert_eq!(out(&s), json!(["default", "key=/id_rsa"]));
        let s: SshConfig = load(json!(["default"]));
        assert_eq!(out(&s), json!(["default"]));
        let e: External = load(json!({"name": "n"}));
        assert!(e.0);
        let c: DeviceCount = load(json!("all"));
        assert_eq!(out(&c), json!(-1));
        assert!(load_err::<DeviceCount>(json!("some")).contains("'all' or a number"));
        let t: HealthCheckTest = load(json!("curl -f x"));
        assert_eq!(out(&t), json!(["CMD-SHELL", "curl -f x"]));
        let l: StringOrNumberList = load(json!([3000, "8000"]));
        assert_eq!(out(&l), json!(["3000", "8000"]));
        let l: StringList = load(json!("/run"));
        assert_eq!(out(&l), json!(["/run"]));
        assert!(load_err::<StringList>(json!([1])).contains("must be a string"));
    }

    #[test]
    fn ulimits() {
        let u: UlimitsConfig = load(json!(65535));
        assert_eq!(out(&u), json!(65535));
        let u: UlimitsConfig = load(json!({"soft": 20000, "hard": 40000}));
        assert_eq!(out(&u), json!({"soft": 20000, "hard": 40000}));
        let e = load_err::<UlimitsConfig>(json!({"soft": 1, "bogus": 2}));
        assert!(e.contains("unknown key \"bogus\""), "{e}");
    }

    #[test]
    fn extensions_are_sorted() {
        let e: Extensions = load(json!({"x-b": {"z": 1, "a": [{"y": 1, "b": 2}]}, "x-a": 1}));
        let text = serde_json::to_string(&e).unwrap();
        assert_eq!(text, r#"{"x-a":1,"x-b":{"a":[{"b":2,"y":1}],"z":1}}"#);
    }
}
