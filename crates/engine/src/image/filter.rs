//! `--filter` for `images` and `image prune`, with Docker's rules: different keys AND
//! together, several `reference` values OR, several `label` values AND (Docker's
//! `MatchKVList`), `before` / `since` resolve to the oldest / newest named image.
//! The matching is pure (records and labels in, a verdict out), so it is tested on plain data.

use std::collections::BTreeMap;

use crate::reference::Reference;
use crate::store::ImageRecord;

/// The keys `docker images --filter` accepts.
pub const LIST_FILTERS: &[&str] = &["before", "dangling", "label", "reference", "since", "until"];
/// The keys `docker image prune --filter` accepts.
pub const PRUNE_FILTERS: &[&str] = &["dangling", "label", "label!", "until"];

#[derive(Debug, PartialEq, thiserror::Error)]
pub enum FilterError {
    #[error("bad format of filter (expected name=value): {0}")]
    Format(String),
    /// Docker's wording: `invalid filter 'foo'`, `invalid filter 'dangling=[maybe]'`.
    #[error("invalid filter '{0}'")]
    Invalid(String),
    #[error("invalid filter 'reference={pattern}': syntax error in pattern")]
    Pattern { pattern: String },
    #[error(
        "failed to parse value of filter '{key}={value}': use a Unix timestamp, an RFC 3339 date or a duration like 10m or 2h30m"
    )]
    Time { key: String, value: String },
    #[error("more than one until filter specified")]
    SeveralUntil,
}

/// `--filter` values by key, in the order given (duplicates dropped, as Docker's set does).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FilterArgs(BTreeMap<String, Vec<String>>);

impl FilterArgs {
    /// Parses `key=value` arguments (`label=a=b` keeps `a=b` as the value) and refuses keys
    /// outside `accepted`.
    pub fn parse(args: &[String], accepted: &[&str]) -> Result<Self, FilterError> {
        let mut out = FilterArgs::default();
        for arg in args {
            let (key, value) = arg
                .split_once('=')
                .ok_or_else(|| FilterError::Format(arg.clone()))?;
            let key = key.trim().to_lowercase();
            if !accepted.contains(&key.as_str()) {
                return Err(FilterError::Invalid(key));
            }
            out.add(&key, value.trim());
        }
        Ok(out)
    }

    pub fn add(&mut self, key: &str, value: &str) {
        let values = self.0.entry(key.to_string()).or_default();
        if !values.iter().any(|v| v == value) {
            values.push(value.to_string());
        }
    }

    pub fn get(&self, key: &str) -> &[String] {
        self.0.get(key).map(Vec::as_slice).unwrap_or_default()
    }

    pub fn contains(&self, key: &str) -> bool {
        !self.get(key).is_empty()
    }

    /// `dangling=true|false` (Docker's list takes exactly these; prune also `1`, `0`...).
    pub fn dangling(&self) -> Result<Option<bool>, FilterError> {
        let values = self.get("dangling");
        if values.is_empty() {
            return Ok(None);
        }
        let parsed: Vec<Option<bool>> = values.iter().map(|v| parse_bool(v)).collect();
        if parsed.contains(&Some(true)) {
            Ok(Some(true))
        } else if parsed.contains(&Some(false)) {
            Ok(Some(false))
        } else {
            Err(FilterError::Invalid(format!(
                "dangling=[{}]",
                values.join(" ")
            )))
        }
    }
}

fn parse_bool(v: &str) -> Option<bool> {
    match v {
        "1" | "t" | "T" | "true" | "TRUE" | "True" => Some(true),
        "0" | "f" | "F" | "false" | "FALSE" | "False" => Some(false),
        _ => None,
    }
}

pub use crate::time::{Instant, parse_rfc3339};
use crate::time::{days_of, fraction_nanos};

/// A compiled filter. `before`, `since` and `until` are instants: the caller resolves
/// image names (see `Images::image_filter`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ImageFilter {
    pub dangling: Option<bool>,
    pub references: Vec<String>,
    pub labels: Vec<String>,
    pub not_labels: Vec<String>,
    pub before: Option<Instant>,
    pub since: Option<Instant>,
    pub until: Option<Instant>,
}

impl ImageFilter {
    /// Compiles `args`; `created_of` gives the creation instant of a named image (for
    /// `before` / `since`), `now` anchors durations in `until`.
    pub fn new<E: From<FilterError>>(
        args: &FilterArgs,
        now: Instant,
        mut created_of: impl FnMut(&str) -> Result<Instant, E>,
    ) -> Result<Self, E> {
        let mut filter = ImageFilter {
            dangling: args.dangling()?,
            references: args.get("reference").to_vec(),
            labels: args.get("label").to_vec(),
            not_labels: args.get("label!").to_vec(),
            ..ImageFilter::default()
        };
        for pattern in &filter.references {
            glob(pattern, "").map_err(|()| FilterError::Pattern {
                pattern: pattern.clone(),
            })?;
        }
        for name in args.get("before") {
            let t = created_of(name)?;
            filter.before = Some(filter.before.map_or(t, |b| b.min(t)));
        }
        for name in args.get("since") {
            let t = created_of(name)?;
            filter.since = Some(filter.since.map_or(t, |s| s.max(t)));
        }
        for value in args.get("until") {
            let t = parse_timestamp(value, now).ok_or_else(|| FilterError::Time {
                key: "until".into(),
                value: value.clone(),
            })?;
            filter.until = Some(filter.until.map_or(t, |u| u.min(t)));
        }
        Ok(filter)
    }

    pub fn needs_labels(&self) -> bool {
        !self.labels.is_empty() || !self.not_labels.is_empty()
    }

    /// The image as the listing shows it when it passes: with a `reference` filter only
    /// the matching tags and digests stay. `None` when it is filtered out.
    pub fn select(
        &self,
        image: &ImageRecord,
        labels: &BTreeMap<String, String>,
    ) -> Option<ImageRecord> {
        if !self.matches_time_and_labels(image, labels) {
            return None;
        }
        let mut out = image.clone();
        if !self.references.is_empty() {
            out.repo_tags.retain(|r| self.matches_reference(r));
            out.repo_digests.retain(|r| self.matches_reference(r));
            if out.repo_tags.is_empty() && out.repo_digests.is_empty() {
                return None;
            }
        }
        let untagged = out.repo_tags.is_empty();
        let unnamed = untagged && out.repo_digests.is_empty();
        match self.dangling {
            Some(false) if unnamed => None,
            Some(true) if !untagged => None,
            _ => Some(out),
        }
    }

    /// The part of the filter that `image prune` uses (no references; dangling is the
    /// caller's choice).
    pub fn matches_time_and_labels(
        &self,
        image: &ImageRecord,
        labels: &BTreeMap<String, String>,
    ) -> bool {
        let created = parse_rfc3339(&image.created);
        let time_ok = |bound: Option<Instant>, ok: fn(Instant, Instant) -> bool| {
            bound.is_none_or(|b| created.is_some_and(|c| ok(c, b)))
        };
        time_ok(self.before, |c, b| c < b)
            && time_ok(self.since, |c, s| c > s)
            && time_ok(self.until, |c, u| c < u)
            && match_kv_list(&self.labels, labels).unwrap_or(true)
            && !match_kv_list(&self.not_labels, labels).unwrap_or(false)
    }

    fn matches_reference(&self, reference: &str) -> bool {
        let (string, name) = match Reference::parse(reference) {
            Ok(r) => (r.familiar_string(), r.familiar_name()),
            Err(_) => (reference.to_string(), reference.to_string()),
        };
        self.references
            .iter()
            .any(|p| glob(p, &string).unwrap_or(false) || glob(p, &name).unwrap_or(false))
    }
}

/// Docker's `MatchKVList`: `None` when there are no filters; otherwise whether every
/// `key` / `key=value` is among the labels.
fn match_kv_list(filters: &[String], labels: &BTreeMap<String, String>) -> Option<bool> {
    if filters.is_empty() {
        return None;
    }
    Some(filters.iter().all(|f| match f.split_once('=') {
        Some((k, v)) => labels.get(k).is_some_and(|l| l == v),
        None => labels.contains_key(f.as_str()),
    }))
}

/// Go's `path.Match`: `*` and `?` stop at `/`, `[a-z]` / `[^a]` classes, `\` escapes.
/// `Err` for a malformed pattern (checked even when the name does not match).
fn glob(pattern: &str, name: &str) -> Result<bool, ()> {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    check_pattern(&p)?;
    Ok(glob_at(&p, &n))
}

fn check_pattern(p: &[char]) -> Result<(), ()> {
    let mut i = 0;
    while i < p.len() {
        match p[i] {
            '\\' => {
                if i + 1 >= p.len() {
                    return Err(());
                }
                i += 2;
            }
            '[' => i = class_end(p, i).ok_or(())?,
            _ => i += 1,
        }
    }
    Ok(())
}

/// The index after the `]` closing the class that opens at `start`.
fn class_end(p: &[char], start: usize) -> Option<usize> {
    let mut i = start + 1;
    if p.get(i) == Some(&'^') {
        i += 1;
    }
    let mut ranges = 0;
    loop {
        match p.get(i)? {
            ']' if ranges > 0 => return Some(i + 1),
            ']' | '-' => return None,
            _ => {}
        }
        i = class_char(p, i)?.1;
        if p.get(i) == Some(&'-') {
            i = class_char(p, i + 1)?.1;
        }
        ranges += 1;
    }
}

/// One (possibly escaped) character of a class and the index after it.
fn class_char(p: &[char], i: usize) -> Option<(char, usize)> {
    match p.get(i)? {
        '-' | ']' => None,
        '\\' => p.get(i + 1).map(|c| (*c, i + 2)),
        c => Some((*c, i + 1)),
    }
}

fn class_matches(p: &[char], start: usize, c: char) -> bool {
    let mut i = start + 1;
    let negated = p.get(i) == Some(&'^');
    if negated {
        i += 1;
    }
    let mut matched = false;
    while let Some((lo, next)) = class_char(p, i) {
        i = next;
        let mut hi = lo;
        if p.get(i) == Some(&'-')
            && let Some((h, next)) = class_char(p, i + 1)
        {
            hi = h;
            i = next;
        }
        matched |= lo <= c && c <= hi;
    }
    matched != negated
}

fn glob_at(p: &[char], n: &[char]) -> bool {
    let Some(&first) = p.first() else {
        return n.is_empty();
    };
    match first {
        '*' => {
            let rest = &p[1..];
            let mut i = 0;
            loop {
                if glob_at(rest, &n[i..]) {
                    return true;
                }
                if i >= n.len() || n[i] == '/' {
                    return false;
                }
                i += 1;
            }
        }
        '?' => n.first().is_some_and(|c| *c != '/') && glob_at(&p[1..], &n[1..]),
        '[' => match (class_end(p, 0), n.first()) {
            (Some(end), Some(c)) => class_matches(p, 0, *c) && glob_at(&p[end..], &n[1..]),
            _ => false,
        },
        '\\' => p.get(1).is_some_and(|e| n.first() == Some(e)) && glob_at(&p[2..], &n[1..]),
        c => n.first() == Some(&c) && glob_at(&p[1..], &n[1..]),
    }
}

/// Docker's `GetTimestamp` for `until`: a Go duration before `now` (`10m`, `1h30m`), a
/// Unix time (`1767225600`, `1767225600.5`), an RFC 3339 time, or a date (`2026-01-01`,
/// `2026-01-01T10:00`, UTC).
pub fn parse_timestamp(value: &str, now: Instant) -> Option<Instant> {
    if let Some(d) = parse_go_duration(value) {
        return Some(now - d);
    }
    if let Some((secs, frac)) = value.split_once('.').or(Some((value, "")))
        && !secs.is_empty()
        && secs.bytes().all(|b| b.is_ascii_digit())
    {
        return Some(
            i128::from(secs.parse::<i64>().ok()?) * 1_000_000_000
                + i128::from(fraction_nanos(frac)?),
        );
    }
    if let Some(t) = parse_rfc3339(value) {
        return Some(t);
    }
    if !value.contains(['T', 't']) {
        return Some(i128::from(days_of(value)?) * 86_400 * 1_000_000_000);
    }
    // `2026-01-01T10:00` / `2026-01-01T10:00:00` without a zone: UTC.
    let with_seconds = if value.matches(':').count() == 1 {
        format!("{value}:00Z")
    } else {
        format!("{value}Z")
    };
    parse_rfc3339(&with_seconds)
}

/// Go's `time.ParseDuration` (`300ms`, `-1.5h`, `2h45m`), in nanoseconds.
fn parse_go_duration(s: &str) -> Option<Instant> {
    let (sign, mut rest) = match s.strip_prefix('-') {
        Some(r) => (-1, r),
        None => (1, s.strip_prefix('+').unwrap_or(s)),
    };
    if rest == "0" {
        return Some(0);
    }
    if rest.is_empty() {
        return None;
    }
    let mut total: f64 = 0.0;
    while !rest.is_empty() {
        let num_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let number: f64 = rest[..num_end].parse().ok()?;
        rest = &rest[num_end..];
        let unit_end = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let scale = match &rest[..unit_end] {
            "ns" => 1.0,
            "us" | "µs" | "μs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            _ => return None,
        };
        rest = &rest[unit_end..];
        total += number * scale;
    }
    Some(sign * total as Instant)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::digest::Digest;

    const NOW: Instant = 1_800_000_000 * 1_000_000_000;

    fn image(name: &str, tags: &[&str], created: &str) -> ImageRecord {
        ImageRecord {
            schema: 1,
            id: Digest::of_bytes(name.as_bytes()),
            repo_tags: tags.iter().map(|t| t.to_string()).collect(),
            repo_digests: Vec::new(),
            manifest: None,
            layers: Vec::new(),
            created: created.into(),
            architecture: "amd64".into(),
            os: "linux".into(),
            variant: None,
            size: 0,
            parent: None,
            loaded: String::new(),
        }
    }

    fn filter(args: &[&str]) -> Result<ImageFilter, FilterError> {
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        let parsed = FilterArgs::parse(&args, LIST_FILTERS)?;
        ImageFilter::new(&parsed, NOW, |name| {
            parse_rfc3339(match name {
                "old" => "2020-01-01T00:00:00Z",
                "mid" => "2023-01-01T00:00:00Z",
                _ => "2025-01-01T00:00:00Z",
            })
            .ok_or(FilterError::Invalid(name.into()))
        })
    }

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    /// The names of the images that pass, with the tags they keep.
    fn names(f: &ImageFilter, images: &[(ImageRecord, BTreeMap<String, String>)]) -> Vec<String> {
        images
            .iter()
            .filter_map(|(i, l)| f.select(i, l))
            .map(|i| {
                if i.repo_tags.is_empty() {
                    "<none>".to_string()
                } else {
                    i.repo_tags.join(",")
                }
            })
            .collect()
    }

    fn sample() -> Vec<(ImageRecord, BTreeMap<String, String>)> {
        vec![
            (
                image(
                    "a",
                    &[
                        "docker.io/library/busybox:latest",
                        "docker.io/library/busybox:1.36",
                    ],
                    "2020-01-01T00:00:00Z",
                ),
                labels(&[]),
            ),
            (
                image("b", &["example.com/team/app:1"], "2023-01-01T00:00:00Z"),
                labels(&[("tier", "web"), ("owner", "me")]),
            ),
            (
                image("c", &[], "2025-01-01T00:00:00.5Z"),
                labels(&[("tier", "db")]),
            ),
        ]
    }

    #[test]
    fn unknown_keys_and_bad_values_are_refused() {
        assert_eq!(
            filter(&["foo=bar"]),
            Err(FilterError::Invalid("foo".into()))
        );
        assert_eq!(
            filter(&["dangling=maybe"]),
            Err(FilterError::Invalid("dangling=[maybe]".into()))
        );
        assert_eq!(
            filter(&["dangling"]),
            Err(FilterError::Format("dangling".into()))
        );
        assert!(matches!(
            filter(&["reference=[a"]),
            Err(FilterError::Pattern { .. })
        ));
        assert!(matches!(
            filter(&["until=soon"]),
            Err(FilterError::Time { .. })
        ));
        let prune = FilterArgs::parse(&["reference=x".to_string()], PRUNE_FILTERS);
        assert_eq!(prune, Err(FilterError::Invalid("reference".into())));
    }

    #[test]
    fn dangling_means_untagged() {
        let s = sample();
        assert_eq!(names(&filter(&["dangling=true"]).unwrap(), &s), ["<none>"]);
        assert_eq!(
            names(&filter(&["dangling=false"]).unwrap(), &s),
            [
                "docker.io/library/busybox:latest,docker.io/library/busybox:1.36",
                "example.com/team/app:1"
            ]
        );
        assert_eq!(names(&filter(&[]).unwrap(), &s).len(), 3);
    }

    #[test]
    fn references_glob_on_familiar_names_and_or_together() {
        let s = sample();
        let f = filter(&["reference=busy*"]).unwrap();
        assert_eq!(
            names(&f, &s),
            ["docker.io/library/busybox:latest,docker.io/library/busybox:1.36"]
        );
        // Only the matching tags stay.
        let f = filter(&["reference=busybox:1.*"]).unwrap();
        assert_eq!(names(&f, &s), ["docker.io/library/busybox:1.36"]);
        // `*` does not cross `/`.
        assert!(names(&filter(&["reference=*app*"]).unwrap(), &s).is_empty());
        let f = filter(&["reference=*/*/app:*"]).unwrap();
        assert_eq!(names(&f, &s), ["example.com/team/app:1"]);
        let f = filter(&["reference=busybox", "reference=example.com/team/app"]).unwrap();
        assert_eq!(names(&f, &s).len(), 2);
        // Untagged images never match a reference filter.
        assert!(names(&filter(&["reference=*"]).unwrap(), &s).len() == 1);
    }

    #[test]
    fn labels_and_together() {
        let s = sample();
        assert_eq!(names(&filter(&["label=tier"]).unwrap(), &s).len(), 2);
        let f = filter(&["label=tier=web"]).unwrap();
        assert_eq!(names(&f, &s), ["example.com/team/app:1"]);
        let f = filter(&["label=tier", "label=owner=me"]).unwrap();
        assert_eq!(names(&f, &s), ["example.com/team/app:1"]);
        assert!(names(&filter(&["label=tier=web", "label=tier=db"]).unwrap(), &s).is_empty());
    }

    #[test]
    fn different_keys_and_together() {
        let s = sample();
        let f = filter(&["label=tier", "dangling=true"]).unwrap();
        assert_eq!(names(&f, &s), ["<none>"]);
        let f = filter(&["label=tier", "reference=busybox"]).unwrap();
        assert!(names(&f, &s).is_empty());
    }

    #[test]
    fn before_since_and_until() {
        let s = sample();
        let f = filter(&["before=mid"]).unwrap();
        assert_eq!(
            names(&f, &s),
            ["docker.io/library/busybox:latest,docker.io/library/busybox:1.36"]
        );
        // Several `before` resolve to the oldest image, several `since` to the newest.
        assert!(names(&filter(&["before=mid", "before=old"]).unwrap(), &s).is_empty());
        assert_eq!(names(&filter(&["since=old"]).unwrap(), &s).len(), 2);
        assert_eq!(
            names(&filter(&["since=old", "since=mid"]).unwrap(), &s),
            ["<none>"]
        );
        // The fraction counts: c (…00.5Z) is after `new` (…00Z).
        assert_eq!(names(&filter(&["since=new"]).unwrap(), &s), ["<none>"]);
        assert_eq!(names(&filter(&["until=2024-01-01"]).unwrap(), &s).len(), 2);
        assert_eq!(names(&filter(&["until=1700000000"]).unwrap(), &s).len(), 2);
        assert_eq!(names(&filter(&["until=1h"]).unwrap(), &s).len(), 3);
    }

    #[test]
    fn prune_labels_include_negations() {
        let s = sample();
        let args = FilterArgs::parse(&["label!=tier=db".to_string()], PRUNE_FILTERS).unwrap();
        let f = ImageFilter::new::<FilterError>(&args, NOW, |_| Ok(0)).unwrap();
        let kept: Vec<bool> = s
            .iter()
            .map(|(i, l)| f.matches_time_and_labels(i, l))
            .collect();
        assert_eq!(kept, [true, true, false]);
    }

    #[test]
    fn go_globs() {
        assert_eq!(glob("a*", "abc"), Ok(true));
        assert_eq!(glob("a*", "a/b"), Ok(false));
        assert_eq!(glob("a?c", "abc"), Ok(true));
        assert_eq!(glob("[a-c]x", "bx"), Ok(true));
        assert_eq!(glob("[^a-c]x", "bx"), Ok(false));
        assert_eq!(glob("\\*", "*"), Ok(true));
        assert_eq!(glob("[", "x"), Err(()));
        assert_eq!(glob("a\\", "a"), Err(()));
        assert_eq!(glob("[]", "x"), Err(()));
    }

    #[test]
    fn timestamps() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            parse_rfc3339("2026-01-01T01:00:00.25+01:00"),
            Some(1_767_225_600_250_000_000)
        );
        assert_eq!(parse_rfc3339("garbage"), None);
        assert_eq!(parse_timestamp("10m", NOW), Some(NOW - 600_000_000_000));
        assert_eq!(parse_timestamp("1h30m", NOW), Some(NOW - 5_400_000_000_000));
        assert_eq!(parse_timestamp("12.5", NOW), Some(12_500_000_000));
        assert_eq!(
            parse_timestamp("2026-01-01", NOW),
            Some(1_767_225_600_000_000_000)
        );
        assert_eq!(
            parse_timestamp("2026-01-01T00:01", NOW),
            Some(1_767_225_660_000_000_000)
        );
        assert_eq!(parse_timestamp("soon", NOW), None);
    }
}
