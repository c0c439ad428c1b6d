//! The Dockerfile instructions `import --change` accepts, applied to an image's `config`
//! object (Docker's key names: `Cmd`, `Env`, `ExposedPorts`...). Parsed the way a
//! Dockerfile line is: exec (JSON array) and shell forms, quotes, `key=value` pairs.

use serde_json::{Map, Value, json};

/// The instructions accepted, in the order Docker lists them.
const SUPPORTED: &str = "CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, STOPSIGNAL, USER, VOLUME or WORKDIR";
const TAKES_ONE_ARGUMENT: [&str; 7] = [
    "CMD",
    "ENTRYPOINT",
    "EXPOSE",
    "STOPSIGNAL",
    "USER",
    "VOLUME",
    "WORKDIR",
];

#[derive(Debug, thiserror::Error, PartialEq)]
#[error("invalid change {change:?}: {reason}")]
pub struct ChangeError {
    pub change: String,
    pub reason: String,
}

/// Applies each change in order to `config`, so a later `ENV A=2` replaces `ENV A=1`.
pub fn apply_changes(
    config: &mut Map<String, Value>,
    changes: &[String],
) -> Result<(), ChangeError> {
    for change in changes {
        apply(config, change).map_err(|reason| ChangeError {
            change: change.clone(),
            reason,
        })?;
    }
    Ok(())
}

fn apply(config: &mut Map<String, Value>, change: &str) -> Result<(), String> {
    let line = change.trim();
    let (instruction, rest) = match line.split_once(char::is_whitespace) {
        Some((i, r)) => (i, r.trim()),
        None => (line, ""),
    };
    if instruction.is_empty() {
        return Err(format!("empty instruction: use {SUPPORTED}"));
    }
    let upper = instruction.to_ascii_uppercase();
    // ENV and LABEL say more precisely what they miss below.
    if rest.is_empty() && TAKES_ONE_ARGUMENT.contains(&upper.as_str()) {
        return Err(format!("{upper} needs an argument"));
    }
    match upper.as_str() {
        "CMD" => {
            config.insert("Cmd".into(), json!(command(rest)));
        }
        "ENTRYPOINT" => {
            config.insert("Entrypoint".into(), json!(command(rest)));
        }
        "ENV" => {
            let pairs = name_values(rest, "ENV")?;
            let slot = config.entry("Env").or_insert(Value::Null);
            let mut env = match slot.take() {
                Value::Array(env) => env,
                _ => Vec::new(),
            };
            for (name, value) in pairs {
                let prefix = format!("{name}=");
                let entry = Value::String(format!("{name}={value}"));
                match env
                    .iter_mut()
                    .find(|e| e.as_str().is_some_and(|e| e.starts_with(&prefix)))
                {
                    Some(existing) => *existing = entry,
                    None => env.push(entry),
                }
            }
            *slot = Value::Array(env);
        }
        "LABEL" => {
            let pairs = name_values(rest, "LABEL")?;
            with_object(config, "Labels", |labels| {
                for (name, value) in pairs {
                    labels.insert(name, Value::String(value));
                }
            });
        }
        "EXPOSE" => {
            let mut ports = Vec::new();
            for word in split_words(rest)? {
                ports.extend(exposed_ports(&unquote(&word)?)?);
            }
            with_object(config, "ExposedPorts", |exposed| {
                for port in ports {
                    exposed.insert(port, json!({}));
                }
            });
        }
        "VOLUME" => {
            let volumes = match json_array(rest) {
                Some(list) => list,
                None => split_words(rest)?
                    .iter()
                    .map(|w| unquote(w))
                    .collect::<Result<_, _>>()?,
            };
            if volumes.iter().any(|v| v.trim().is_empty()) {
                return Err("VOLUME specified can not be an empty string".into());
            }
            with_object(config, "Volumes", |map| {
                for volume in volumes {
                    map.insert(volume.trim().to_string(), json!({}));
                }
            });
        }
        "WORKDIR" => {
            let dir = unquote(rest)?;
            let current = config
                .get("WorkingDir")
                .and_then(Value::as_str)
                .filter(|w| !w.is_empty())
                .unwrap_or("/");
            let dir = if dir.starts_with('/') {
                dir
            } else {
                format!("{}/{dir}", current.trim_end_matches('/'))
            };
            config.insert("WorkingDir".into(), Value::String(dir));
        }
        "USER" => {
            config.insert("User".into(), Value::String(unquote(rest)?));
        }
        "STOPSIGNAL" => {
            let signal = unquote(rest)?;
            if !is_signal(&signal) {
                return Err(format!(
                    "invalid signal {signal:?}: use a name like SIGTERM or a number"
                ));
            }
            config.insert("StopSignal".into(), Value::String(signal));
        }
        "HEALTHCHECK" | "ONBUILD" => {
            return Err(format!("{upper} is not supported yet: use {SUPPORTED}"));
        }
        _ => {
            return Err(format!(
                "{instruction} is not a valid change command: use {SUPPORTED}"
            ));
        }
    }
    Ok(())
}

/// `["sh", "-c", "x"]` (exec form) as it is; anything else (shell form) runs under
/// `/bin/sh -c`, as Docker does on Linux. Text that only looks like JSON is shell form.
fn command(rest: &str) -> Vec<String> {
    json_array(rest).unwrap_or_else(|| vec!["/bin/sh".into(), "-c".into(), rest.to_string()])
}

/// A JSON array of strings, or `None` when `s` is not one.
fn json_array(s: &str) -> Option<Vec<String>> {
    if !s.starts_with('[') {
        return None;
    }
    serde_json::from_str::<Vec<String>>(s).ok()
}

/// Runs `f` on the object under `key`, created (or replaced, if it is not an object).
fn with_object(
    config: &mut Map<String, Value>,
    key: &str,
    f: impl FnOnce(&mut Map<String, Value>),
) {
    let slot = config.entry(key).or_insert(Value::Null);
    let mut map = match slot.take() {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    f(&mut map);
    *slot = Value::Object(map);
}

/// `A=1 "B C"=2` or the legacy `A some value` (one pair, the rest of the line).
fn name_values(rest: &str, instruction: &str) -> Result<Vec<(String, String)>, String> {
    let words = split_words(rest)?;
    let Some(first) = words.first() else {
        return Err(format!(
            "{instruction} needs at least one argument: {instruction} name=value"
        ));
    };
    if !first.contains('=') {
        // Legacy form: the name, then everything after it is the value.
        let name = unquote(first)?;
        // `rest` is trimmed, so its first word is a prefix of it.
        let value = rest.get(first.len()..).unwrap_or_default().trim();
        if value.is_empty() {
            return Err(format!(
                "{instruction} {name} needs a value: {instruction} {name}=value"
            ));
        }
        return Ok(vec![(name, unquote(value)?)]);
    }
    words
        .iter()
        .map(|word| {
            let (name, value) = word.split_once('=').ok_or_else(|| {
                format!("can't find = in {word:?}: write each pair as name=value")
            })?;
            let name = unquote(name)?;
            if name.is_empty() {
                return Err(format!("{instruction} names can not be blank"));
            }
            Ok((name, unquote(value)?))
        })
        .collect()
}

/// Splits on whitespace outside quotes, keeping quotes and escapes in the words (a
/// `key=value` word is split at `=` before its quotes are removed, as Docker does).
fn split_words(s: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quote: Option<char> = None;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (None, c) if c.is_whitespace() => {
                if !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
            }
            (None, '"' | '\'') => {
                quote = Some(c);
                word.push(c);
            }
            (Some(q), c) if c == q => {
                quote = None;
                word.push(c);
            }
            (None | Some('"'), '\\') => {
                word.push(c);
                if let Some(next) = chars.next() {
                    word.push(next);
                }
            }
            _ => word.push(c),
        }
    }
    if let Some(q) = quote {
        return Err(format!("unterminated {q} quote"));
    }
    if !word.is_empty() {
        words.push(word);
    }
    Ok(words)
}

/// Removes quotes and backslash escapes: `"a b"` is `a b`, `'$x'` is `$x`, `a\ b` is `a b`.
fn unquote(s: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut quote: Option<char> = None;
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '\\') => {
                if let Some(next) = chars.next() {
                    out.push(next);
                }
            }
            (Some('"'), '\\') => match chars.peek() {
                Some('"' | '\\' | '$') => {
                    if let Some(next) = chars.next() {
                        out.push(next);
                    }
                }
                _ => out.push(c),
            },
            _ => out.push(c),
        }
    }
    match quote {
        Some(q) => Err(format!("unterminated {q} quote")),
        None => Ok(out),
    }
}

/// `80`, `80/udp`, `8000-8002/tcp` as `ExposedPorts` keys (`80/tcp`...).
fn exposed_ports(spec: &str) -> Result<Vec<String>, String> {
    let (range, proto) = match spec.split_once('/') {
        Some((r, p)) => (r, p.to_ascii_lowercase()),
        None => (spec, "tcp".to_string()),
    };
    if !matches!(proto.as_str(), "tcp" | "udp" | "sctp") {
        return Err(format!(
            "invalid protocol {proto:?} in {spec:?}: use tcp, udp or sctp"
        ));
    }
    let port = |p: &str| {
        p.parse::<u16>()
            .ok()
            .filter(|&p| p > 0)
            .ok_or_else(|| format!("invalid port {p:?} in {spec:?}: use a number from 1 to 65535"))
    };
    let (start, end) = match range.split_once('-') {
        Some((a, b)) => (port(a)?, port(b)?),
        None => (port(range)?, port(range)?),
    };
    if end < start {
        return Err(format!(
            "invalid port range {range:?}: the end is below the start"
        ));
    }
    Ok((start..=end).map(|p| format!("{p}/{proto}")).collect())
}

/// `SIGTERM`, `TERM`, `SIGRTMIN+3` or a number.
fn is_signal(s: &str) -> bool {
    if s.parse::<u8>().is_ok() {
        return true;
    }
    let name = s.strip_prefix("SIG").unwrap_or(s);
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '+' || c == '-')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(changes: &[&str]) -> Value {
        let mut map = Map::new();
        let changes: Vec<String> = changes.iter().map(|c| c.to_string()).collect();
        apply_changes(&mut map, &changes).expect("valid changes");
        Value::Object(map)
    }

    fn error(change: &str) -> String {
        let mut map = Map::new();
        let err = apply_changes(&mut map, &[change.to_string()]).expect_err("invalid change");
        assert!(map.is_empty(), "a refused change leaves nothing: {map:?}");
        err.to_string()
    }

    #[test]
    fn cmd_and_entrypoint_exec_and_shell_forms() {
        assert_eq!(config(&[r#"CMD ["sh"]"#])["Cmd"], json!(["sh"]));
        assert_eq!(
            config(&["CMD echo hi"])["Cmd"],
            json!(["/bin/sh", "-c", "echo hi"])
        );
        assert_eq!(
            config(&[r#"entrypoint ["/bin/app", "--flag"]"#])["Entrypoint"],
            json!(["/bin/app", "--flag"])
        );
        // Not valid JSON: shell form, as in a Dockerfile.
        assert_eq!(
            config(&["CMD [sh]"])["Cmd"],
            json!(["/bin/sh", "-c", "[sh]"])
        );
    }

    #[test]
    fn env_pairs_legacy_form_and_replacement() {
        assert_eq!(config(&["ENV A=1 B=2"])["Env"], json!(["A=1", "B=2"]));
        assert_eq!(config(&["ENV A 1 2"])["Env"], json!(["A=1 2"]));
        assert_eq!(
            config(&[r#"ENV A="x y" B=a\ b C='$HOME'"#])["Env"],
            json!(["A=x y", "B=a b", "C=$HOME"])
        );
        assert_eq!(
            config(&["ENV A=1 B=2", "ENV A=3"])["Env"],
            json!(["A=3", "B=2"])
        );
    }

    #[test]
    fn expose_ports_and_ranges() {
        assert_eq!(
            config(&["EXPOSE 80/tcp 443", "EXPOSE 53/UDP 8000-8001"])["ExposedPorts"],
            json!({"80/tcp": {}, "443/tcp": {}, "53/udp": {}, "8000/tcp": {}, "8001/tcp": {}})
        );
    }

    #[test]
    fn labels_volumes_and_single_values() {
        let c = config(&[
            r#"LABEL a=b "c d"=e"#,
            "LABEL legacy some value",
            r#"VOLUME ["/data"]"#,
            "VOLUME /a /b",
            "WORKDIR /app",
            "WORKDIR sub",
            "USER 1000:1000",
            "STOPSIGNAL SIGINT",
        ]);
        assert_eq!(
            c["Labels"],
            json!({"a": "b", "c d": "e", "legacy": "some value"})
        );
        assert_eq!(c["Volumes"], json!({"/data": {}, "/a": {}, "/b": {}}));
        assert_eq!(c["WorkingDir"], "/app/sub");
        assert_eq!(c["User"], "1000:1000");
        assert_eq!(c["StopSignal"], "SIGINT");
    }

    #[test]
    fn refusals_say_what_is_wrong() {
        assert_eq!(
            error("RUN echo hi"),
            "invalid change \"RUN echo hi\": RUN is not a valid change command: use CMD, \
             ENTRYPOINT, ENV, EXPOSE, LABEL, STOPSIGNAL, USER, VOLUME or WORKDIR"
        );
        assert!(error("").contains("empty instruction"));
        assert!(error("CMD").contains("CMD needs an argument"));
        assert!(error("ENV A=1 B").contains("can't find = in \"B\""));
        assert!(error("ENV A").contains("ENV A needs a value"));
        assert!(error("ENV").contains("ENV needs at least one argument"));
        assert!(error("ENV =1").contains("names can not be blank"));
        assert!(error("LABEL a=\"b").contains("unterminated \" quote"));
        assert!(error("EXPOSE 80/icmp").contains("invalid protocol \"icmp\""));
        assert!(error("EXPOSE 70000").contains("invalid port \"70000\""));
        assert!(error("EXPOSE 90-80").contains("the end is below the start"));
        assert!(error("VOLUME [\"\"]").contains("can not be an empty string"));
        assert!(error("STOPSIGNAL SIG TERM").contains("invalid signal"));
        assert!(error("HEALTHCHECK NONE").contains("not supported yet"));
    }
}
