//! The values `berth logs` takes on its command line, read the way Docker's client reads
//! them (`timetypes.GetTimestamp`): `--since` / `--until` as a Go duration before now
//! (`10m`, `1h30m`), an RFC 3339 time or date (with or without a zone), or Unix seconds
//! with an optional fraction; `--tail` as a count or `all`.
//!
//! Times without a zone are taken as UTC (Docker takes them in the client's local zone;
//! berth has no time-zone database).

use super::reader::Tail;
use crate::time::{Instant, days_of, fraction_nanos};

const NANOS: i128 = 1_000_000_000;

/// A bad `--since`, `--until` or `--tail`, naming the flag and the value.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("invalid value for \"{flag}\": {reason}")]
pub struct ArgError {
    flag: &'static str,
    reason: String,
}

/// `--since` relative to `now` (nanoseconds since the epoch).
pub fn parse_since(value: &str, now: Instant) -> Result<Instant, ArgError> {
    timestamp(value, now).map_err(|reason| ArgError {
        flag: "since",
        reason,
    })
}

/// `--until` relative to `now`.
pub fn parse_until(value: &str, now: Instant) -> Result<Instant, ArgError> {
    timestamp(value, now).map_err(|reason| ArgError {
        flag: "until",
        reason,
    })
}

/// `--tail`: `all`, or a number of lines (a negative number means all, as Docker).
pub fn parse_tail(value: &str) -> Result<Tail, ArgError> {
    if value == "all" {
        return Ok(Tail::All);
    }
    match value.parse::<i64>() {
        Ok(n) if n < 0 => Ok(Tail::All),
        Ok(n) => Ok(Tail::Last(usize::try_from(n).unwrap_or(usize::MAX))),
        Err(_) => Err(ArgError {
            flag: "tail",
            reason: format!("{value:?} is neither a number of lines nor \"all\""),
        }),
    }
}

fn timestamp(value: &str, now: Instant) -> Result<Instant, String> {
    if value != "0"
        && let Some(d) = go_duration(value)
    {
        // Docker sends `now - d` as whole Unix seconds.
        return Ok((now - d).div_euclid(NANOS) * NANOS);
    }
    if let Some(t) = date_time(value) {
        return Ok(t);
    }
    if value.contains('-') {
        return Err(format!("cannot parse {value:?} as a time"));
    }
    unix_seconds(value)
        .ok_or_else(|| format!("failed to parse value as time or duration: {value:?}"))
}

/// Go's `time.ParseDuration`: an optional sign, then one or more decimal numbers each with
/// a unit (`ns`, `us`, `µs`, `μs`, `ms`, `s`, `m`, `h`); `0` alone is zero.
fn go_duration(s: &str) -> Option<i128> {
    let (negative, mut rest) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    if rest == "0" {
        return Some(0);
    }
    if rest.is_empty() {
        return None;
    }
    let mut total: i128 = 0;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit() && c != '.')
            .unwrap_or(rest.len());
        let (number, tail) = rest.split_at(digits);
        let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
        if whole.is_empty() && fraction.is_empty() {
            return None;
        }
        let unit_len = tail
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(tail.len());
        let (unit, next) = tail.split_at(unit_len);
        let scale: i128 = match unit {
            "ns" => 1,
            "us" | "µs" | "μs" => 1_000,
            "ms" => 1_000_000,
            "s" => NANOS,
            "m" => 60 * NANOS,
            "h" => 3600 * NANOS,
            _ => return None,
        };
        let whole: i128 = if whole.is_empty() {
            0
        } else {
            whole.parse().ok()?
        };
        let mut value = whole.checked_mul(scale)?;
        if !fraction.is_empty() {
            if !fraction.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            // Enough digits for nanosecond precision of an hour.
            let digits = &fraction[..fraction.len().min(18)];
            let f: i128 = digits.parse().ok()?;
            value += f * scale / 10i128.pow(digits.len() as u32);
        }
        total = total.checked_add(value)?;
        if total > i128::from(i64::MAX) {
            return None;
        }
        rest = next;
    }
    Some(if negative { -total } else { total })
}

/// The date forms Docker accepts: `2006-01-02`, `2006-01-02T15`, `2006-01-02T15:04`,
/// `2006-01-02T15:04:05` with an optional fraction, each with an optional zone (`Z`,
/// `+07:00`, `-07:00`); a zone is only looked for where Docker looks for one (a `Z`, a `+`
/// or a third `-` in the value).
fn date_time(value: &str) -> Option<Instant> {
    let zoned = value.contains(['z', 'Z', '+']) || value.matches('-').count() == 3;
    let (rest, offset) = if zoned {
        split_zone(value)?
    } else {
        (value, 0)
    };
    let (date, clock) = match rest.split_once('T') {
        Some((date, clock)) => (date, Some(clock)),
        None => (rest, None),
    };
    if date.len() != 10 || date.as_bytes()[4] != b'-' || date.as_bytes()[7] != b'-' {
        return None;
    }
    let days = days_of(date)?;
    let mut secs = days * 86_400;
    let mut nanos = 0;
    if let Some(clock) = clock {
        let (hms, fraction) = match clock.split_once('.') {
            Some((hms, f)) if !f.is_empty() => (hms, Some(f)),
            Some(_) => return None,
            None => (clock, None),
        };
        let parts: Vec<&str> = hms.split(':').collect();
        if parts
            .iter()
            .any(|p| p.len() != 2 || !p.bytes().all(|b| b.is_ascii_digit()))
        {
            return None;
        }
        let limits = [23, 59, 59];
        let mut unit = 3600;
        for (part, limit) in parts.iter().zip(limits) {
            let v: i64 = part.parse().ok()?;
            if v > limit {
                return None;
            }
            secs += v * unit;
            unit /= 60;
        }
        if parts.len() > 3 || (fraction.is_some() && parts.len() != 3) {
            return None;
        }
        if let Some(f) = fraction {
            nanos = fraction_nanos(f)?;
        }
    } else if value.contains('.') {
        return None;
    }
    Some(i128::from(secs - offset) * NANOS + i128::from(nanos))
}

/// Splits a trailing `Z` or `±hh:mm` off; the offset in seconds east of UTC.
fn split_zone(value: &str) -> Option<(&str, i64)> {
    if let Some(rest) = value.strip_suffix(['Z', 'z']) {
        return Some((rest, 0));
    }
    let (rest, zone) = value.split_at(value.len().checked_sub(6)?);
    let zone = zone.as_bytes();
    let sign = match zone[0] {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    if zone[3] != b':' || ![1, 2, 4, 5].iter().all(|&i| zone[i].is_ascii_digit()) {
        return None;
    }
    let h = i64::from(zone[1] - b'0') * 10 + i64::from(zone[2] - b'0');
    let m = i64::from(zone[4] - b'0') * 10 + i64::from(zone[5] - b'0');
    Some((rest, sign * (h * 3600 + m * 60)))
}

/// `1700000000` or `1700000000.5`: Unix seconds with an optional fraction.
fn unix_seconds(value: &str) -> Option<Instant> {
    let (secs, fraction) = value.split_once('.').unwrap_or((value, ""));
    let secs: i64 = secs.parse().ok()?;
    let nanos = if value.contains('.') {
        if fraction.is_empty() || !fraction.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        fraction_nanos(&fraction[..fraction.len().min(9)])?
    } else {
        0
    };
    Some(i128::from(secs) * NANOS + i128::from(nanos))
}

#[cfg(test)]
mod tests {
    use super::*;

    // 2026-11-23T18:25:20.5Z
    const NOW: Instant = 1_795_458_320 * NANOS + 500_000_000;

    fn since(v: &str) -> Result<Instant, String> {
        parse_since(v, NOW).map_err(|e| e.to_string())
    }

    #[test]
    fn durations_count_back_from_now_in_whole_seconds() {
        assert_eq!(since("10m"), Ok((1_795_458_320 - 600) * NANOS));
        assert_eq!(since("1h30m"), Ok((1_795_458_320 - 5400) * NANOS));
        assert_eq!(since("1.5h"), Ok((1_795_458_320 - 5400) * NANOS));
        assert_eq!(since("300ms"), Ok(1_795_458_320 * NANOS));
        assert_eq!(since("0s"), Ok(1_795_458_320 * NANOS));
        assert_eq!(since("-1m"), Ok((1_795_458_320 + 60) * NANOS));
    }

    #[test]
    fn rfc3339_forms() {
        let base = 1_795_458_320 * NANOS;
        assert_eq!(since("2026-11-23T18:25:20Z"), Ok(base));
        assert_eq!(since("2026-11-23T18:25:20.5Z"), Ok(base + 500_000_000));
        assert_eq!(
            since("2026-11-23T18:25:20.123456789Z"),
            Ok(base + 123_456_789)
        );
        assert_eq!(since("2026-11-23T19:25:20+01:00"), Ok(base));
        assert_eq!(since("2026-11-23T17:25:20-01:00"), Ok(base));
        assert_eq!(since("2026-11-23T18:25:20"), Ok(base));
        assert_eq!(since("2026-11-23T18:25"), Ok(base - 20 * NANOS));
        assert_eq!(since("2026-11-23T18"), Ok(base - 1520 * NANOS));
        assert_eq!(since("2026-11-23"), Ok(base - (18 * 3600 + 1520) * NANOS));
        assert_eq!(since("2026-11-23Z"), Ok(base - (18 * 3600 + 1520) * NANOS));
    }

    #[test]
    fn unix_seconds_and_zero() {
        assert_eq!(since("1795458320"), Ok(1_795_458_320 * NANOS));
        assert_eq!(
            since("1795458320.25"),
            Ok(1_795_458_320 * NANOS + 250_000_000)
        );
        assert_eq!(since("0"), Ok(0));
    }

    #[test]
    fn bad_values_name_flag_and_value() {
        assert_eq!(
            since("yesterday"),
            Err("invalid value for \"since\": failed to parse value as time or duration: \"yesterday\"".into())
        );
        assert_eq!(
            parse_until("2026-13-01", NOW).unwrap_err().to_string(),
            "invalid value for \"until\": cannot parse \"2026-13-01\" as a time"
        );
        assert_eq!(
            since("10x").unwrap_err(),
            "invalid value for \"since\": failed to parse value as time or duration: \"10x\""
        );
    }

    #[test]
    fn tail_values() {
        assert_eq!(parse_tail("all"), Ok(Tail::All));
        assert_eq!(parse_tail("-1"), Ok(Tail::All));
        assert_eq!(parse_tail("0"), Ok(Tail::Last(0)));
        assert_eq!(parse_tail("25"), Ok(Tail::Last(25)));
        assert_eq!(
            parse_tail("ten").unwrap_err().to_string(),
            "invalid value for \"tail\": \"ten\" is neither a number of lines nor \"all\""
        );
    }
}
