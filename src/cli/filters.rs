//! Docker's `--filter key=value` flags, shared by `ps`, `events`, `volume ls`,
//! `network ls` and the prunes: parsing against the keys a command knows, and the rule
//! that combines them.

use anyhow::bail;

/// `key=value` with a known key, or Docker's error for it.
pub fn split<'a>(filter: &'a str, known: &[&str]) -> anyhow::Result<(&'a str, &'a str)> {
    let Some((k, v)) = filter.split_once('=') else {
        bail!("bad format of filter (expected name=value): {filter}");
    };
    if !known.contains(&k) {
        bail!("invalid filter '{k}'");
    }
    Ok((k, v))
}

/// Docker's rules: values of one key OR (`name=a` or `name=b`), except `label`, whose
/// values AND; different keys AND. `one(key, value)` tells whether an object matches
/// one filter.
pub fn matches_all(filters: &[(String, String)], one: impl Fn(&str, &str) -> bool) -> bool {
    let mut keys: Vec<&str> = filters.iter().map(|(k, _)| k.as_str()).collect();
    keys.sort_unstable();
    keys.dedup();
    keys.iter().all(|key| {
        let mut values = filters
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.as_str());
        if *key == "label" {
            values.all(|v| one(key, v))
        } else {
            values.any(|v| one(key, v))
        }
    })
}

/// `label=key` (present) or `label=key=value` (that value), against `get(key)`.
pub fn label_matches<'a>(value: &str, get: impl Fn(&str) -> Option<&'a str>) -> bool {
    match value.split_once('=') {
        Some((k, want)) => get(k) == Some(want),
        None => get(value).is_some(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn one_keys_values_or_labels_and_keys_and() {
        let is =
            |k: &str, v: &str| matches!((k, v), ("name", "a") | ("label", "x") | ("label", "y"));
        assert!(matches_all(&pairs(&[("name", "a"), ("name", "b")]), is));
        assert!(!matches_all(&pairs(&[("name", "b")]), is));
        assert!(matches_all(&pairs(&[("label", "x"), ("label", "y")]), is));
        assert!(!matches_all(&pairs(&[("label", "x"), ("label", "z")]), is));
        assert!(!matches_all(&pairs(&[("name", "a"), ("label", "z")]), is));
        assert!(matches_all(&[], is));
    }

    #[test]
    fn splitting_and_labels() {
        assert_eq!(split("name=x=y", &["name"]).unwrap(), ("name", "x=y"));
        assert!(
            split("name", &["name"])
                .unwrap_err()
                .to_string()
                .starts_with("bad format")
        );
        assert_eq!(
            split("nope=1", &["name"]).unwrap_err().to_string(),
            "invalid filter 'nope'"
        );
        let get = |k: &str| (k == "tier").then_some("web");
        assert!(label_matches("tier", get));
        assert!(label_matches("tier=web", get));
        assert!(!label_matches("tier=db", get));
        assert!(!label_matches("other", get));
    }
}
