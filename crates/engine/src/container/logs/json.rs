//! One log entry as a line of the json-file: the bytes Docker's `jsonlog.JSONLogs` writes,
//! and the decoding `docker logs` does.

use std::borrow::Cow;
use std::collections::BTreeMap;

use crate::time::{Instant, format_rfc3339};

/// Appends `{"log":…,"stream":…,"time":…}\n` to `out`, escaped as Docker's
/// `ffjsonWriteJSONBytesAsString` does: `\"`, `\\`, `\n`, `\r` short; other control bytes
/// and `<`, `>`, `&` as `\u00XX`; invalid UTF-8 as `\ufffd`; U+2028 and U+2029 escaped.
pub(crate) fn encode_entry(
    out: &mut Vec<u8>,
    log: &[u8],
    newline: bool,
    stream: &str,
    time: Instant,
) {
    out.extend_from_slice(b"{\"log\":\"");
    escape_into(out, log);
    if newline {
        out.extend_from_slice(b"\\n");
    }
    out.extend_from_slice(b"\",\"stream\":\"");
    escape_into(out, stream.as_bytes());
    out.extend_from_slice(b"\",\"time\":\"");
    out.extend_from_slice(format_rfc3339_nano(time).as_bytes());
    out.extend_from_slice(b"\"}\n");
}

fn escape_into(out: &mut Vec<u8>, s: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut rest = s;
    while !rest.is_empty() {
        let (valid, invalid) = match std::str::from_utf8(rest) {
            Ok(v) => (v, None),
            Err(e) => {
                let (good, bad) = rest.split_at(e.valid_up_to());
                let len = e.error_len().unwrap_or(bad.len());
                (std::str::from_utf8(good).unwrap_or_default(), Some(len))
            }
        };
        for c in valid.chars() {
            match c {
                '"' => out.extend_from_slice(b"\\\""),
                '\\' => out.extend_from_slice(b"\\\\"),
                '\n' => out.extend_from_slice(b"\\n"),
                '\r' => out.extend_from_slice(b"\\r"),
                c if (c as u32) < 0x20 || c == '<' || c == '>' || c == '&' => {
                    let b = c as u8;
                    out.extend_from_slice(b"\\u00");
                    out.push(HEX[usize::from(b >> 4)]);
                    out.push(HEX[usize::from(b & 0xf)]);
                }
                '\u{2028}' => out.extend_from_slice(b"\\u2028"),
                '\u{2029}' => out.extend_from_slice(b"\\u2029"),
                c => {
                    let mut buf = [0; 4];
                    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                }
            }
        }
        rest = &rest[valid.len()..];
        if let Some(len) = invalid {
            // Go's DecodeRune consumes one byte per error: one U+FFFD per bad byte.
            for _ in 0..len {
                out.extend_from_slice(b"\\ufffd");
            }
            rest = &rest[len..];
        }
    }
}

/// Go's `time.RFC3339Nano` in UTC, which the json-file driver writes: trailing zeros of the
/// fraction dropped, no fraction at all on a whole second.
pub(crate) fn format_rfc3339_nano(t: Instant) -> String {
    let secs = t.div_euclid(1_000_000_000) as i64;
    let nanos = t.rem_euclid(1_000_000_000) as u32;
    let whole = format_rfc3339(secs, None);
    if nanos == 0 {
        return whole;
    }
    let fraction = format!("{nanos:09}");
    let fraction = fraction.trim_end_matches('0');
    format!("{}.{fraction}Z", &whole[..whole.len() - 1])
}

/// `jsonmessage.RFC3339NanoFixed`, what `docker logs -t` prints: always nine digits.
pub(crate) fn format_rfc3339_fixed(t: Instant) -> String {
    format_rfc3339(
        t.div_euclid(1_000_000_000) as i64,
        Some(t.rem_euclid(1_000_000_000) as u32),
    )
}

/// One decoded line of a json-file.
#[derive(serde::Deserialize)]
pub(crate) struct Entry<'a> {
    #[serde(borrow, default)]
    pub log: Cow<'a, str>,
    #[serde(borrow, default)]
    pub stream: Cow<'a, str>,
    #[serde(borrow)]
    pub time: Cow<'a, str>,
    #[serde(default)]
    pub attrs: Option<BTreeMap<String, String>>,
}

/// `--details`: the entry's attributes as Docker prints them (sorted, `k=v` joined by
/// commas, each side query-escaped).
pub(crate) fn details_prefix(attrs: Option<&BTreeMap<String, String>>) -> String {
    let Some(attrs) = attrs else {
        return String::new();
    };
    let pairs: Vec<String> = attrs
        .iter()
        .map(|(k, v)| format!("{}={}", query_escape(k), query_escape(v)))
        .collect();
    pairs.join(",")
}

/// Go's `url.QueryEscape`.
fn query_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(char::from(b))
            }
            b' ' => out.push('+'),
            b => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(log: &[u8], newline: bool) -> String {
        let mut out = Vec::new();
        encode_entry(&mut out, log, newline, "stdout", 1_795_976_720_123_456_789);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn escapes_as_docker() {
        assert_eq!(
            line(b"hello", true),
            "{\"log\":\"hello\\n\",\"stream\":\"stdout\",\"time\":\"2026-11-29T18:25:20.123456789Z\"}\n"
        );
        assert_eq!(
            line(b"<a href=\"x\">&\\</a>\t\r\x01\x7f", false),
            "{\"log\":\"\\u003ca href=\\\"x\\\"\\u003e\\u0026\\\\\\u003c/a\\u003e\\u0009\\r\\u0001\x7f\",\"stream\":\"stdout\",\"time\":\"2026-11-29T18:25:20.123456789Z\"}\n"
        );
        assert!(
            line("é\u{2028}\u{2029}".as_bytes(), false).contains("\"log\":\"é\\u2028\\u2029\"")
        );
        // Invalid UTF-8: one U+FFFD per bad byte, as Go's DecodeRune loop.
        assert!(line(b"a\xffb\xe2\x82", false).contains("\"log\":\"a\\ufffdb\\ufffd\\ufffd\""));
        assert!(line(b"\xc3", false).contains("\"log\":\"\\ufffd\""));
    }

    #[test]
    fn times_as_go_formats_them() {
        assert_eq!(format_rfc3339_nano(1_000_000_000), "1970-01-01T00:00:01Z");
        assert_eq!(
            format_rfc3339_nano(1_000_000_000 + 120_000_000),
            "1970-01-01T00:00:01.12Z"
        );
        assert_eq!(
            format_rfc3339_fixed(1_000_000_000 + 120_000_000),
            "1970-01-01T00:00:01.120000000Z"
        );
    }

    #[test]
    fn details_are_sorted_and_escaped() {
        let attrs: BTreeMap<String, String> = [
            ("b".to_string(), "x y".to_string()),
            ("a".to_string(), "1/2".to_string()),
        ]
        .into();
        assert_eq!(details_prefix(Some(&attrs)), "a=1%2F2,b=x+y");
        assert_eq!(details_prefix(None), "");
    }
}
