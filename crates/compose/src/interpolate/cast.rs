//! After substitution, Compose turns the strings at some key paths into numbers or
//! booleans (compose-go v2.9.1 `loader/interpolate.go`, checked against Compose
//! v2.40.3 path by path). Only values that were strings before substitution are cast.

use crate::error::Warnings;
use crate::gojson::go_quote;
use crate::yaml::Value;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cast {
    /// Go `strconv.Atoi`.
    Int,
    /// Go `strconv.ParseInt(s, 10, 64)`.
    Int64,
    /// Go `strconv.ParseFloat(s, 64)`.
    Float,
    /// Go `strconv.ParseFloat(s, 32)`.
    Float32,
    Bool,
}

/// `*` matches any one segment, `[]` a sequence item.
const CASTS: &[(&str, Cast)] = &[
    ("services.*.cpu_count", Cast::Int64),
    ("services.*.cpu_percent", Cast::Float),
    ("services.*.cpu_period", Cast::Int64),
    ("services.*.cpu_quota", Cast::Int64),
    ("services.*.cpu_rt_period", Cast::Int64),
    ("services.*.cpu_rt_runtime", Cast::Int64),
    ("services.*.cpus", Cast::Float32),
    ("services.*.cpu_shares", Cast::Int64),
    ("services.*.init", Cast::Bool),
    ("services.*.deploy.replicas", Cast::Int),
    ("services.*.deploy.update_config.parallelism", Cast::Int),
    (
        "services.*.deploy.update_config.max_failure_ratio",
        Cast::Float,
    ),
    ("services.*.deploy.rollback_config.parallelism", Cast::Int),
    (
        "services.*.deploy.rollback_config.max_failure_ratio",
        Cast::Float,
    ),
    ("services.*.deploy.restart_policy.max_attempts", Cast::Int),
    (
        "services.*.deploy.placement.max_replicas_per_node",
        Cast::Int,
    ),
    ("services.*.healthcheck.retries", Cast::Int),
    ("services.*.healthcheck.disable", Cast::Bool),
    ("services.*.oom_kill_disable", Cast::Bool),
    ("services.*.oom_score_adj", Cast::Int64),
    ("services.*.pids_limit", Cast::Int64),
    ("services.*.ports.[].target", Cast::Int),
    ("services.*.privileged", Cast::Bool),
    ("services.*.read_only", Cast::Bool),
    ("services.*.scale", Cast::Int),
    ("services.*.stdin_open", Cast::Bool),
    ("services.*.tty", Cast::Bool),
    ("services.*.ulimits.*", Cast::Int),
    ("services.*.ulimits.*.hard", Cast::Int),
    ("services.*.ulimits.*.soft", Cast::Int),
    ("services.*.volumes.[].read_only", Cast::Bool),
    ("services.*.volumes.[].volume.nocopy", Cast::Bool),
    ("networks.*.external", Cast::Bool),
    ("networks.*.internal", Cast::Bool),
    ("networks.*.attachable", Cast::Bool),
    ("networks.*.enable_ipv4", Cast::Bool),
    ("networks.*.enable_ipv6", Cast::Bool),
    ("volumes.*.external", Cast::Bool),
    ("secrets.*.external", Cast::Bool),
    ("configs.*.external", Cast::Bool),
];

/// The cast for a dotted tree path such as `services.web.ports.[].target`. Like
/// compose-go, the path is split on every `.`, so a key containing a dot never matches.
pub fn cast_for_path(path: &str) -> Option<Cast> {
    let parts: Vec<&str> = path.split('.').collect();
    cast_for_segments(&parts)
}

/// [`cast_for_path`] for a path already split into segments; allocates nothing, as it
/// runs for every string of every file.
pub fn cast_for_segments<S: AsRef<str>>(parts: &[S]) -> Option<Cast> {
    patterns()
        .iter()
        .find(|(pattern, _)| {
            pattern.len() == parts.len()
                && pattern
                    .iter()
                    .zip(parts)
                    .all(|(p, part)| *p == "*" || *p == part.as_ref())
        })
        .map(|(_, cast)| *cast)
}

/// The cast table split into segments once.
fn patterns() -> &'static [(Vec<&'static str>, Cast)] {
    static PATTERNS: std::sync::OnceLock<Vec<(Vec<&'static str>, Cast)>> =
        std::sync::OnceLock::new();
    PATTERNS.get_or_init(|| {
        CASTS
            .iter()
            .map(|(p, c)| (p.split('.').collect(), *c))
            .collect()
    })
}

/// Converts `s`; the error is the text compose-go prints after
/// "failed to cast to expected type: ".
pub fn apply(cast: Cast, s: &str, warnings: &mut Warnings) -> Result<Value, String> {
    match cast {
        Cast::Int => parse_int(s, "strconv.Atoi").map(Value::Int),
        Cast::Int64 => parse_int(s, "strconv.ParseInt").map(Value::Int),
        Cast::Float | Cast::Float32 => parse_float(s, cast == Cast::Float32).map(Value::Float),
        Cast::Bool => parse_bool(s, warnings).map(Value::Bool),
    }
}

fn parse_int(s: &str, func: &str) -> Result<i64, String> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("{func}: parsing {}: invalid syntax", go_quote(s)));
    }
    s.parse::<i64>()
        .map_err(|_| format!("{func}: parsing {}: value out of range", go_quote(s)))
}

fn parse_float(s: &str, single: bool) -> Result<f64, String> {
    let syntax = || {
        format!(
            "strconv.ParseFloat: parsing {}: invalid syntax",
            go_quote(s)
        )
    };
    // Rust also accepts "infinity"/"nan" like Go; Go alone accepts `_` and hex floats,
    // which Compose files do not use.
    let f: f64 = s.parse().map_err(|_| syntax())?;
    let out_of_range = if single {
        f.is_finite() && (f as f32).is_infinite()
    } else {
        f.is_infinite() && !s.to_ascii_lowercase().contains("inf")
    };
    if out_of_range {
        return Err(format!(
            "strconv.ParseFloat: parsing {}: value out of range",
            go_quote(s)
        ));
    }
    Ok(if single { f64::from(f as f32) } else { f })
}

/// YAML 1.1 booleans are still accepted, with the warning Compose prints.
fn parse_bool(s: &str, warnings: &mut Warnings) -> Result<bool, String> {
    match s.to_lowercase().as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        "y" | "yes" | "on" => {
            warnings.push(format!(
                "\"{s}\" for boolean is not supported by YAML 1.2, please use `true`"
            ));
            Ok(true)
        }
        "n" | "no" | "off" => {
            warnings.push(format!(
                "\"{s}\" for boolean is not supported by YAML 1.2, please use `false`"
            ));
            Ok(false)
        }
        _ => Err(format!("invalid boolean: {s}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_match_with_wildcards() {
        assert_eq!(cast_for_path("services.web.cpu_count"), Some(Cast::Int64));
        assert_eq!(
            cast_for_path("services.web.ports.[].target"),
            Some(Cast::Int)
        );
        assert_eq!(cast_for_path("services.web.ports.[].published"), None);
        assert_eq!(
            cast_for_path("services.web.ulimits.nofile"),
            Some(Cast::Int)
        );
        assert_eq!(
            cast_for_path("services.web.ulimits.nofile.soft"),
            Some(Cast::Int)
        );
        assert_eq!(
            cast_for_path("networks.front.enable_ipv6"),
            Some(Cast::Bool)
        );
        assert_eq!(cast_for_path("services.web.volumes.[].tmpfs.mode"), None);
        // compose-go splits the path on dots, so `a.b` is two segments
        assert_eq!(cast_for_path("services.a.b.cpu_count"), None);
    }

    #[test]
    fn ints_fail_like_strconv() {
        let mut w = Warnings::default();
        assert_eq!(apply(Cast::Int, "+12", &mut w), Ok(Value::Int(12)));
        assert_eq!(apply(Cast::Int, "-3", &mut w), Ok(Value::Int(-3)));
        assert_eq!(
            apply(Cast::Int, "", &mut w),
            Err("strconv.Atoi: parsing \"\": invalid syntax".to_string())
        );
        assert_eq!(
            apply(Cast::Int64, "a", &mut w),
            Err("strconv.ParseInt: parsing \"a\": invalid syntax".to_string())
        );
        assert_eq!(
            apply(Cast::Int, "99999999999999999999", &mut w),
            Err("strconv.Atoi: parsing \"99999999999999999999\": value out of range".to_string())
        );
    }

    #[test]
    fn floats_and_float32() {
        let mut w = Warnings::default();
        assert_eq!(apply(Cast::Float, "0.5", &mut w), Ok(Value::Float(0.5)));
        assert_eq!(apply(Cast::Float32, "0.5", &mut w), Ok(Value::Float(0.5)));
        assert_eq!(
            apply(Cast::Float, "x", &mut w),
            Err("strconv.ParseFloat: parsing \"x\": invalid syntax".to_string())
        );
        assert!(apply(Cast::Float32, "1e300", &mut w).is_err());
    }

    #[test]
    fn yaml11_booleans_warn() {
        let mut w = Warnings::default();
        assert_eq!(apply(Cast::Bool, "TRUE", &mut w), Ok(Value::Bool(true)));
        assert!(w.0.is_empty());
        assert_eq!(apply(Cast::Bool, "yes", &mut w), Ok(Value::Bool(true)));
        assert_eq!(apply(Cast::Bool, "Off", &mut w), Ok(Value::Bool(false)));
        assert_eq!(
            w.0,
            vec![
                "\"yes\" for boolean is not supported by YAML 1.2, please use `true`".to_string(),
                "\"Off\" for boolean is not supported by YAML 1.2, please use `false`".to_string(),
            ]
        );
        assert_eq!(
            apply(Cast::Bool, "zz", &mut w),
            Err("invalid boolean: zz".to_string())
        );
    }
}
