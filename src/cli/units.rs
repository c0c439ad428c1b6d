//! Human-readable numbers as Docker prints them (docker/go-units): sizes in decimal
//! units with three significant digits (`4.26MB`), durations like `2 weeks ago`.

/// `units.HumanSizeWithPrecision(size, 3)`: decimal units, `%.3g`-style rounding.
pub fn human_size(bytes: f64) -> String {
    human_size_with_precision(bytes, 3)
}

/// `units.HumanSizeWithPrecision`; `units.HumanSize` (prune, `system df`) is precision 4.
pub fn human_size_with_precision(bytes: f64, precision: usize) -> String {
    const UNITS: [&str; 9] = ["B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"];
    let mut size = bytes;
    let mut unit = 0;
    while size >= 1000.0 && unit < UNITS.len() - 1 {
        size /= 1000.0;
        unit += 1;
    }
    format!("{}{}", format_g(size, precision), UNITS[unit])
}

/// Go's `%.*g` for non-negative values of a few digits: shortest of the rounded forms,
/// without trailing zeros.
fn format_g(value: f64, precision: usize) -> String {
    if value == 0.0 {
        return "0".to_string();
    }
    let exponent = value.abs().log10().floor() as i32;
    let decimals = (precision as i32 - 1 - exponent).max(0) as usize;
    let s = format!("{value:.decimals$}");
    let s = if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    };
    // Rounding can carry into a new digit (999.6 → "1000"): Go prints that as 1e+03.
    if s.trim_start_matches('-')
        .split('.')
        .next()
        .is_some_and(|int| int.len() > precision)
    {
        let mantissa = value / 10f64.powi(exponent + 1);
        return format!("{}e+{:02}", format_g(mantissa, precision), exponent + 1);
    }
    s
}

/// `units.HumanDuration`: how long ago, in Docker's words.
pub fn human_duration(seconds: i64) -> String {
    let s = seconds.max(0);
    let minutes = s / 60;
    let hours = (s as f64 / 3600.0).round() as i64;
    match s {
        0 => "Less than a second".to_string(),
        1 => "1 second".to_string(),
        s if s < 60 => format!("{s} seconds"),
        _ if minutes == 1 => "About a minute".to_string(),
        _ if minutes < 60 => format!("{minutes} minutes"),
        _ if hours == 1 => "About an hour".to_string(),
        _ if hours < 48 => format!("{hours} hours"),
        _ if hours < 24 * 7 * 2 => format!("{} days", hours / 24),
        _ if hours < 24 * 30 * 2 => format!("{} weeks", hours / 24 / 7),
        _ if hours < 24 * 365 * 2 => format!("{} months", hours / 24 / 30),
        _ => format!("{} years", s / 3600 / 24 / 365),
    }
}

/// Go's `time.Time.String()` in UTC, as Docker prints `CreatedAt` of containers and
/// images: `2026-11-23 18:25:20 +0000 UTC`.
pub fn go_time(unix: i64) -> String {
    let rfc = berth_engine::time::format_rfc3339(unix, None);
    format!("{} {} +0000 UTC", &rfc[..10], &rfc[11..19])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_like_docker() {
        assert_eq!(human_size(0.0), "0B");
        assert_eq!(human_size(999.0), "999B");
        assert_eq!(human_size(1000.0), "1kB");
        assert_eq!(human_size(4_261_416.0), "4.26MB");
        assert_eq!(human_size(1_234_567_890.0), "1.23GB");
        assert_eq!(human_size(10_500.0), "10.5kB");
        assert_eq!(human_size(212_000_000.0), "212MB");
        assert_eq!(human_size_with_precision(4_261_416.0, 4), "4.261MB");
        assert_eq!(human_size_with_precision(0.0, 4), "0B");
    }

    #[test]
    fn durations_like_docker() {
        assert_eq!(human_duration(0), "Less than a second");
        assert_eq!(human_duration(30), "30 seconds");
        assert_eq!(human_duration(61), "About a minute");
        assert_eq!(human_duration(600), "10 minutes");
        assert_eq!(human_duration(3600), "About an hour");
        assert_eq!(human_duration(5 * 3600), "5 hours");
        assert_eq!(human_duration(3 * 86400), "3 days");
        assert_eq!(human_duration(20 * 86400), "2 weeks");
        assert_eq!(human_duration(90 * 86400), "3 months");
        assert_eq!(human_duration(800 * 86400), "2 years");
    }
}
