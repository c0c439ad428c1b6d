//! `--log-driver` and `--log-opt`: which driver, and the json-file driver's options with
//! Docker's names, units and messages.

/// What keeps a container's output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogDriver {
    /// `json-file`, Docker's default.
    JsonFile(LogOptions),
    /// `none`: the output is discarded and `logs` has nothing to show.
    None,
}

/// The json-file driver's options.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogOptions {
    /// `max-size` in bytes: the live file is rotated once it has reached this size.
    /// `None`: never rotated.
    pub max_size: Option<u64>,
    /// `max-file`: how many files (the live one included) are kept; at least 1.
    pub max_file: u32,
}

impl Default for LogOptions {
    fn default() -> Self {
        LogOptions {
            max_size: None,
            max_file: 1,
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum LogOptError {
    #[error("unknown log opt '{0}' for json-file log driver")]
    Unknown(String),
    #[error("log opt '{0}' of the json-file log driver is not supported yet")]
    NotSupported(String),
    #[error("invalid max-size '{value}': {reason}")]
    MaxSize { value: String, reason: &'static str },
    #[error("invalid max-file '{0}': must be an integer of at least 1")]
    MaxFile(String),
    #[error("invalid compress '{0}': must be true or false")]
    Compress(String),
    #[error("log driver '{0}' is not supported yet")]
    DriverNotSupported(String),
    #[error("no log driver named '{0}' is registered")]
    UnknownDriver(String),
}

/// Docker's log drivers that berth knows by name but does not implement.
const OTHER_DOCKER_DRIVERS: &[&str] = &[
    "local",
    "syslog",
    "journald",
    "gelf",
    "fluentd",
    "awslogs",
    "splunk",
    "etwlogs",
    "gcplogs",
    "logentries",
];

/// One `--log-opt` argument, `key=value`; a bare `key` has an empty value (Docker's map
/// options).
pub fn split_log_opt(arg: &str) -> (&str, &str) {
    arg.split_once('=').unwrap_or((arg, ""))
}

impl LogDriver {
    /// The driver from `--log-driver` (empty: the default, json-file) and its options.
    /// `none` ignores options, as Docker does.
    pub fn from_config<'a>(
        driver: &str,
        opts: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<LogDriver, LogOptError> {
        match driver {
            "" | "json-file" => Ok(LogDriver::JsonFile(LogOptions::from_opts(opts)?)),
            "none" => Ok(LogDriver::None),
            other if OTHER_DOCKER_DRIVERS.contains(&other) => {
                Err(LogOptError::DriverNotSupported(other.to_string()))
            }
            other => Err(LogOptError::UnknownDriver(other.to_string())),
        }
    }
}

impl LogOptions {
    /// The json-file driver's options from `--log-opt` pairs. Unknown keys are refused
    /// before any value is looked at, as Docker validates them.
    pub fn from_opts<'a>(
        opts: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<LogOptions, LogOptError> {
        let opts: Vec<(&str, &str)> = opts.into_iter().collect();
        for (key, _) in &opts {
            match *key {
                "max-size" | "max-file" | "compress" => {}
                // Known to Docker: they add attributes to every entry, which berth does not
                // write yet.
                "labels" | "labels-regex" | "env" | "env-regex" | "tag" => {
                    return Err(LogOptError::NotSupported(key.to_string()));
                }
                _ => return Err(LogOptError::Unknown(key.to_string())),
            }
        }
        let mut options = LogOptions::default();
        for (key, value) in opts {
            match key {
                "max-size" => {
                    let size = parse_size(value).map_err(|reason| LogOptError::MaxSize {
                        value: value.to_string(),
                        reason,
                    })?;
                    if size == 0 {
                        return Err(LogOptError::MaxSize {
                            value: value.to_string(),
                            reason: "must be a positive number",
                        });
                    }
                    options.max_size = Some(size);
                }
                "max-file" => {
                    options.max_file = value
                        .parse::<u32>()
                        .ok()
                        .filter(|n| *n >= 1)
                        .ok_or_else(|| LogOptError::MaxFile(value.to_string()))?;
                }
                _ => match parse_go_bool(value) {
                    Some(false) => {}
                    Some(true) => return Err(LogOptError::NotSupported("compress".to_string())),
                    None => return Err(LogOptError::Compress(value.to_string())),
                },
            }
        }
        Ok(options)
    }
}

/// Go's `strconv.ParseBool`.
fn parse_go_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// go-units' `FromHumanSize`, which Docker uses for `max-size`: a decimal number, an optional
/// space, then an optional unit `k`, `m`, `g`, `t`, `p` (powers of 1000, any case, optionally
/// followed by `b` or `ib`) or `b`.
pub(crate) fn parse_size(s: &str) -> Result<u64, &'static str> {
    let sep = s
        .rfind(|c: char| c.is_ascii_digit() || c == '.' || c == ' ')
        .ok_or("invalid size")?;
    let (num, suffix) = if s.as_bytes()[sep] == b' ' {
        (&s[..sep], &s[sep + 1..])
    } else {
        (&s[..=sep], &s[sep + 1..])
    };
    let size: f64 = go_parse_float(num).ok_or("invalid size")?;
    if size < 0.0 {
        return Err("invalid size");
    }
    let suffix = suffix.to_ascii_lowercase();
    let multiplier: f64 = match suffix.as_bytes() {
        [] | [b'b'] => 1.0,
        [unit, rest @ ..] => {
            let m = match unit {
                b'k' => 1e3,
                b'm' => 1e6,
                b'g' => 1e9,
                b't' => 1e12,
                b'p' => 1e15,
                _ => return Err("invalid suffix"),
            };
            if !matches!(rest, [] | [b'b'] | [b'i', b'b']) {
                return Err("invalid suffix");
            }
            m
        }
    };
    let bytes = size * multiplier;
    if !bytes.is_finite() || bytes >= u64::MAX as f64 {
        return Err("too large");
    }
    Ok(bytes as u64)
}

/// A plain decimal float as `strconv.ParseFloat` reads go-units' numbers (digits and one
/// dot; Rust's parser would also take `inf`, `nan` and exponents, which cannot reach here
/// because the number part ends at the last digit or dot).
fn go_parse_float(s: &str) -> Option<f64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return None;
    }
    s.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(pairs: &[(&'static str, &'static str)]) -> Result<LogOptions, LogOptError> {
        LogOptions::from_opts(pairs.iter().copied())
    }

    #[test]
    fn sizes_use_docker_decimal_units() {
        assert_eq!(parse_size("10m"), Ok(10_000_000));
        assert_eq!(parse_size("1k"), Ok(1000));
        assert_eq!(parse_size("1g"), Ok(1_000_000_000));
        assert_eq!(parse_size("1KiB"), Ok(1000));
        assert_eq!(parse_size("2 MB"), Ok(2_000_000));
        assert_eq!(parse_size("1.5k"), Ok(1500));
        assert_eq!(parse_size("123"), Ok(123));
        assert_eq!(parse_size("123b"), Ok(123));
        assert_eq!(parse_size("10x"), Err("invalid suffix"));
        assert_eq!(parse_size("10mbb"), Err("invalid suffix"));
        assert_eq!(parse_size("m"), Err("invalid size"));
        assert_eq!(parse_size(""), Err("invalid size"));
        assert_eq!(parse_size("-1m"), Err("invalid size"));
    }

    #[test]
    fn options_parse_with_defaults() {
        assert_eq!(opts(&[]), Ok(LogOptions::default()));
        assert_eq!(
            opts(&[
                ("max-size", "10m"),
                ("max-file", "3"),
                ("compress", "false")
            ]),
            Ok(LogOptions {
                max_size: Some(10_000_000),
                max_file: 3
            })
        );
    }

    #[test]
    fn bad_options_name_the_value() {
        let msg = |pairs| opts(pairs).unwrap_err().to_string();
        assert_eq!(
            msg(&[("max-size", "10m"), ("bogus", "1")]),
            "unknown log opt 'bogus' for json-file log driver"
        );
        assert_eq!(
            msg(&[("max-size", "ten")]),
            "invalid max-size 'ten': invalid size"
        );
        assert_eq!(
            msg(&[("max-size", "0")]),
            "invalid max-size '0': must be a positive number"
        );
        assert_eq!(
            msg(&[("max-file", "0")]),
            "invalid max-file '0': must be an integer of at least 1"
        );
        assert_eq!(
            msg(&[("compress", "true")]),
            "log opt 'compress' of the json-file log driver is not supported yet"
        );
        assert_eq!(
            msg(&[("compress", "maybe")]),
            "invalid compress 'maybe': must be true or false"
        );
        assert_eq!(
            msg(&[("tag", "{{.Name}}")]),
            "log opt 'tag' of the json-file log driver is not supported yet"
        );
    }

    #[test]
    fn drivers() {
        assert_eq!(
            LogDriver::from_config("", []),
            Ok(LogDriver::JsonFile(LogOptions::default()))
        );
        assert_eq!(
            LogDriver::from_config("json-file", [("max-file", "2")]),
            Ok(LogDriver::JsonFile(LogOptions {
                max_size: None,
                max_file: 2
            }))
        );
        assert_eq!(
            LogDriver::from_config("none", [("whatever", "x")]),
            Ok(LogDriver::None)
        );
        assert_eq!(
            LogDriver::from_config("journald", [])
                .unwrap_err()
                .to_string(),
            "log driver 'journald' is not supported yet"
        );
        assert_eq!(
            LogDriver::from_config("nope", []).unwrap_err().to_string(),
            "no log driver named 'nope' is registered"
        );
        assert_eq!(split_log_opt("max-size=1m"), ("max-size", "1m"));
        assert_eq!(split_log_opt("a=b=c"), ("a", "b=c"));
        assert_eq!(split_log_opt("bare"), ("bare", ""));
    }
}
