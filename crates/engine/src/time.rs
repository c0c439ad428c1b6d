//! Time as image configs and records write it: RFC 3339 in UTC, parsed and formatted
//! without a date-time dependency (Howard Hinnant's civil-calendar algorithms).

use std::time::{SystemTime, UNIX_EPOCH};

/// Nanoseconds since the epoch.
pub type Instant = i128;

/// The current UTC time as `YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ`, the form Docker prints.
pub fn now_rfc3339() -> String {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    format_rfc3339(since.as_secs() as i64, Some(since.subsec_nanos()))
}

/// `secs` since the epoch as RFC 3339 in UTC; with `nanos`, a 9-digit fraction.
pub fn format_rfc3339(secs: i64, nanos: Option<u32>) -> String {
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    let fraction = nanos.map(|n| format!(".{n:09}")).unwrap_or_default();
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}{fraction}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Whole seconds since the epoch of an RFC 3339 time.
pub fn unix_seconds(s: &str) -> Option<i64> {
    parse_rfc3339(s).map(|n| n.div_euclid(1_000_000_000) as i64)
}

/// An RFC 3339 time (`2026-01-01T00:00:00Z`, optional fraction, `Z` or `±hh:mm`) in
/// nanoseconds since the epoch.
pub fn parse_rfc3339(s: &str) -> Option<Instant> {
    let (date, time) = s.split_once(['T', 't', ' '])?;
    let days = days_of(date)?;
    let (clock, offset) = match time.strip_suffix(['Z', 'z']) {
        Some(clock) => (clock, 0),
        None => {
            let i = time.rfind(['+', '-'])?;
            let (clock, zone) = time.split_at(i);
            let sign = if zone.starts_with('-') { -1 } else { 1 };
            let (h, m) = zone[1..].split_once(':')?;
            (
                clock,
                sign * (h.parse::<i64>().ok()? * 3600 + m.parse::<i64>().ok()? * 60),
            )
        }
    };
    let (hms, fraction) = clock.split_once('.').unwrap_or((clock, ""));
    let mut parts = hms.split(':').map(|p| p.parse::<i64>().ok());
    let (h, m, sec) = (parts.next()??, parts.next()??, parts.next()??);
    if parts.next().is_some() || h > 23 || m > 59 || sec > 60 {
        return None;
    }
    let nanos = fraction_nanos(fraction)?;
    let secs = days * 86_400 + h * 3600 + m * 60 + sec - offset;
    Some(i128::from(secs) * 1_000_000_000 + i128::from(nanos))
}

pub(crate) fn fraction_nanos(fraction: &str) -> Option<i64> {
    if fraction.is_empty() {
        return Some(0);
    }
    if fraction.len() > 9 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(fraction.parse::<i64>().ok()? * 10i64.pow(9 - fraction.len() as u32))
}

/// Days since 1970-01-01 of `YYYY-MM-DD` (Howard Hinnant's days-from-civil).
pub(crate) fn days_of(date: &str) -> Option<i64> {
    let mut d = date.split('-').map(|p| p.parse::<i64>().ok());
    let (y, m, day) = (d.next()??, d.next()??, d.next()??);
    if d.next().is_some() || !(1..=12).contains(&m) || !(1..=31).contains(&day) {
        return None;
    }
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(era * 146_097 + doe - 719_468)
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_known_instants() {
        assert_eq!(format_rfc3339(0, Some(0)), "1970-01-01T00:00:00.000000000Z");
        // 2024-02-29T12:34:56Z, a leap day.
        assert_eq!(
            format_rfc3339(1_709_210_096, Some(5)),
            "2024-02-29T12:34:56.000000005Z"
        );
        assert_eq!(format_rfc3339(1_767_225_600, None), "2026-01-01T00:00:00Z");
    }

    #[test]
    fn parses_what_it_formats() {
        for secs in [0, 951_782_400, 1_709_210_096, 1_767_225_600, 4_102_444_799] {
            assert_eq!(unix_seconds(&format_rfc3339(secs, None)), Some(secs));
            assert_eq!(unix_seconds(&format_rfc3339(secs, Some(7))), Some(secs));
        }
        assert_eq!(
            unix_seconds("2026-01-01T01:00:00.123456789+01:00"),
            Some(1_767_225_600)
        );
        assert_eq!(unix_seconds("garbage"), None);
    }
}
