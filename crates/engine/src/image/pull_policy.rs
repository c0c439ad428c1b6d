//! Compose's `pull_policy` (and `up --pull`): whether a service's image is pulled, given
//! what the store has. `always`, `missing` (the default; `if_not_present` too), `never`,
//! `build` (built, not pulled), and `daily`, `weekly`, `every_<duration>` (pulled again
//! once the local image is older than that: it entered the store that long ago).

use std::time::Duration;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PullPolicy {
    Always,
    Missing,
    Never,
    Build,
    /// Pull when the local image is missing or was stored longer ago than this.
    Every(Duration),
}

impl PullPolicy {
    pub fn parse(text: &str) -> Result<PullPolicy, String> {
        let bad = || {
            format!(
                "invalid pull policy {text:?}: expected always, missing, never, build, daily, weekly or every_<duration> (such as every_12h)"
            )
        };
        Ok(match text {
            "always" => PullPolicy::Always,
            "" | "missing" | "if_not_present" => PullPolicy::Missing,
            "never" => PullPolicy::Never,
            "build" => PullPolicy::Build,
            "daily" => PullPolicy::Every(Duration::from_secs(86_400)),
            "weekly" => PullPolicy::Every(Duration::from_secs(7 * 86_400)),
            t => match t.strip_prefix("every_") {
                Some(d) => PullPolicy::Every(parse_duration(d).ok_or_else(bad)?),
                None => return Err(bad()),
            },
        })
    }

    /// Whether to pull: `local_age` is how long ago the local image was stored, `None`
    /// when there is none. `Build` never pulls (the caller builds).
    pub fn wants_pull(&self, local_age: Option<Duration>) -> bool {
        match (self, local_age) {
            (PullPolicy::Always, _) => true,
            (PullPolicy::Missing, age) => age.is_none(),
            (PullPolicy::Never | PullPolicy::Build, _) => false,
            (PullPolicy::Every(limit), Some(age)) => age > *limit,
            (PullPolicy::Every(_), None) => true,
        }
    }
}

/// `1h30m`, `12h`, `2d`, `1w`, `45s`: digits and a unit, repeated.
fn parse_duration(text: &str) -> Option<Duration> {
    let mut total = 0u64;
    let mut digits = String::new();
    let mut any = false;
    for c in text.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let n: u64 = digits.parse().ok()?;
        digits.clear();
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            'w' => 7 * 86_400,
            _ => return None,
        };
        total = total.checked_add(n.checked_mul(unit)?)?;
        any = true;
    }
    (any && digits.is_empty() && total > 0).then(|| Duration::from_secs(total))
}

/// How long ago an image record's `loaded` time (RFC 3339) was, if it parses.
pub fn age_of(loaded: &str) -> Option<Duration> {
    let then = crate::time::unix_seconds(loaded)?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?
        .as_secs() as i64;
    Some(Duration::from_secs(now.saturating_sub(then).max(0) as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policies_parse_as_compose_writes_them() {
        assert_eq!(PullPolicy::parse("if_not_present"), Ok(PullPolicy::Missing));
        assert_eq!(
            PullPolicy::parse("daily"),
            Ok(PullPolicy::Every(Duration::from_secs(86_400)))
        );
        assert_eq!(
            PullPolicy::parse("every_1h30m"),
            Ok(PullPolicy::Every(Duration::from_secs(5400)))
        );
        for bad in ["sometimes", "every_", "every_5", "every_3x", "every_0s"] {
            assert!(PullPolicy::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn each_policy_decides() {
        let day = Duration::from_secs(86_400);
        let fresh = Some(Duration::from_secs(60));
        let old = Some(day * 2);
        assert!(PullPolicy::Always.wants_pull(fresh));
        assert!(PullPolicy::Missing.wants_pull(None));
        assert!(!PullPolicy::Missing.wants_pull(old));
        assert!(!PullPolicy::Never.wants_pull(None));
        assert!(!PullPolicy::Build.wants_pull(None));
        assert!(PullPolicy::Every(day).wants_pull(old));
        assert!(!PullPolicy::Every(day).wants_pull(fresh));
        assert!(PullPolicy::Every(day).wants_pull(None));
        assert!(age_of("2020-01-01T00:00:00Z").is_some_and(|a| a > day));
    }
}
