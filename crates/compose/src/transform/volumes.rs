//! `services.*.volumes`: the short mount syntax `[source:]target[:options]` parsed as
//! compose-go's `format.ParseVolume` does. Relative sources (`./x`, `~/x`) are kept as
//! written; a later stage resolves them.

use super::{bool_at, invalid_type, item, map_at, set_value, str_at};
use crate::error::ConfigError;
use crate::yaml::{Node, Value};

/// A parsed short-form volume.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VolumeSpec {
    /// `bind` when the source looks like a path, `volume` otherwise.
    pub kind: &'static str,
    pub source: String,
    pub target: String,
    pub read_only: bool,
    /// `Some` for binds (and volumes given a bind option); binds from the short syntax
    /// always create a missing host path, for docker-compose v1 compatibility.
    pub bind: Option<BindOptions>,
    /// `Some` for named and anonymous volumes; `Some(true)` with `nocopy`.
    pub volume_nocopy: Option<bool>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BindOptions {
    pub propagation: Option<String>,
    pub selinux: Option<String>,
    pub create_host_path: bool,
}

const PROPAGATIONS: [&str; 6] = [
    "rprivate", "private", "rshared", "shared", "rslave", "slave",
];

/// Parses a short volume spec; the target is cleaned like Go's `path.Clean`.
pub fn parse_volume_spec(spec: &str) -> Result<VolumeSpec, String> {
    let mut volume = VolumeSpec::default();
    match spec.chars().count() {
        0 => return Err("invalid empty volume spec".to_string()),
        // Too short to hold a colon-separated pair: an anonymous volume, as compose-go has
        // it (and, like compose-go, without an empty `volume` block).
        1 | 2 => {
            volume.kind = "volume";
            volume.target = spec.to_string();
            return Ok(volume);
        }
        _ => {}
    }
    let mut buffer = String::new();
    // `${...}` left by interpolation (escaped `$${...}`) may contain colons.
    let mut in_substitution = 0usize;
    let chars: Vec<char> = spec.chars().collect();
    for (i, &c) in chars.iter().chain(std::iter::once(&'\0')).enumerate() {
        let at_end = i == chars.len();
        if !at_end && c == '$' && chars.get(i + 1) == Some(&'{') {
            in_substitution += 1;
            buffer.push(c);
            continue;
        }
        if !at_end && c == '}' && in_substitution > 0 {
            in_substitution -= 1;
            buffer.push(c);
            continue;
        }
        if !at_end && is_windows_drive(&buffer, c) {
            buffer.push(c);
        } else if (at_end || c == ':') && in_substitution == 0 {
            populate_field(&buffer, at_end, &mut volume)
                .map_err(|e| format!("invalid spec: {spec}: {e}"))?;
            buffer.clear();
        } else {
            buffer.push(c);
        }
    }
    populate_type(&mut volume);
    volume.target = clean_path(&volume.target);
    Ok(volume)
}

/// `C:` at the start of a section is a drive letter, not a separator.
fn is_windows_drive(buffer: &str, c: char) -> bool {
    let mut chars = buffer.chars();
    c == ':'
        && matches!((chars.next(), chars.next()), (Some(letter), None) if letter.is_alphabetic())
}

fn populate_field(buffer: &str, at_end: bool, volume: &mut VolumeSpec) -> Result<(), &'static str> {
    if buffer.is_empty() {
        return Err("empty section between colons");
    }
    if volume.source.is_empty() && at_end {
        volume.target = buffer.to_string();
        return Ok(());
    }
    if volume.source.is_empty() {
        volume.source = buffer.to_string();
        return Ok(());
    }
    if volume.target.is_empty() {
        volume.target = buffer.to_string();
        return Ok(());
    }
    if !at_end {
        return Err("too many colons");
    }
    for option in buffer.split(',') {
        match option {
            "ro" => volume.read_only = true,
            "rw" => volume.read_only = false,
            "nocopy" => volume.volume_nocopy = Some(true),
            "z" | "Z" => {
                volume.bind.get_or_insert_with(Default::default).selinux = Some(option.into())
            }
            p if PROPAGATIONS.contains(&p) => {
                volume.bind.get_or_insert_with(Default::default).propagation = Some(p.into())
            }
            // compose-go ignores unknown options.
            _ => {}
        }
    }
    Ok(())
}

fn populate_type(volume: &mut VolumeSpec) {
    if is_file_path(&volume.source) {
        volume.kind = "bind";
        volume
            .bind
            .get_or_insert_with(Default::default)
            .create_host_path = true;
    } else {
        volume.kind = "volume";
        volume.volume_nocopy.get_or_insert(false);
    }
}

/// Sources starting with `.`, `/`, `~`, `\\` or a drive letter are host paths.
fn is_file_path(source: &str) -> bool {
    if source.starts_with(['.', '/', '~']) || source.starts_with(r"\\") {
        return true;
    }
    let mut chars = source.chars();
    matches!((chars.next(), chars.next()), (Some(first), Some(':')) if first.is_alphabetic())
}

/// Go's `path.Clean` for slash-separated paths; empty stays empty.
pub(crate) fn clean_path(path: &str) -> String {
    if path.is_empty() {
        return String::new();
    }
    let rooted = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|p| *p != "..") {
                    parts.pop();
                } else if !rooted {
                    parts.push("..");
                }
            }
            p => parts.push(p),
        }
    }
    let joined = parts.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".to_string(),
        (false, false) => joined,
    }
}

/// `services.*.volumes`: each string entry to its long form.
pub(super) fn service_volumes(node: &mut Node, path: &str) -> Result<(), ConfigError> {
    let Some(entries) = node.as_seq_mut() else {
        return Err(invalid_type(node, path, "volumes"));
    };
    for (i, entry) in entries.iter_mut().enumerate() {
        match &entry.value {
            Value::Map(_) => {}
            Value::String(spec) => {
                let parsed = parse_volume_spec(spec)
                    .map_err(|e| ConfigError::at(&entry.mark, item(path, i), e))?;
                let long = volume_node(&parsed, entry);
                set_value(entry, long);
            }
            _ => return Err(invalid_type(entry, &item(path, i), "service volume mount")),
        }
    }
    Ok(())
}

/// The long form, keys at the short form's position.
fn volume_node(v: &VolumeSpec, short: &Node) -> Value {
    let mark = &short.mark;
    let mut entries = vec![("type", str_at(v.kind, mark))];
    if !v.source.is_empty() {
        entries.push(("source", str_at(v.source.clone(), mark)));
    }
    entries.push(("target", str_at(v.target.clone(), mark)));
    if v.read_only {
        entries.push(("read_only", bool_at(true, mark)));
    }
    if let Some(bind) = &v.bind {
        let mut b = Vec::new();
        if let Some(p) = &bind.propagation {
            b.push(("propagation", str_at(p.clone(), mark)));
        }
        if let Some(s) = &bind.selinux {
            b.push(("selinux", str_at(s.clone(), mark)));
        }
        if bind.create_host_path {
            b.push(("create_host_path", bool_at(true, mark)));
        }
        entries.push(("bind", map_at(mark, b)));
    }
    if let Some(nocopy) = v.volume_nocopy {
        let inner = if nocopy {
            vec![("nocopy", bool_at(true, mark))]
        } else {
            vec![]
        };
        entries.push(("volume", map_at(mark, inner)));
    }
    map_at(mark, entries).value
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transform::testutil::service;
    use serde_json::json;

    fn long(short: &str) -> serde_json::Value {
        service(json!({ "volumes": [short] }))
            .map(|s| s["volumes"][0].clone())
            .unwrap_or_default()
    }

    #[test]
    fn anonymous_volume() {
        assert_eq!(
            long("/data"),
            json!({"type": "volume", "target": "/data", "volume": {}})
        );
        assert_eq!(long("/a"), json!({"type": "volume", "target": "/a"}));
    }

    #[test]
    fn named_volume() {
        assert_eq!(
            long("named:/named:nocopy"),
            json!({"type": "volume", "source": "named", "target": "/named", "volume": {"nocopy": true}})
        );
        assert_eq!(
            long("named2:/n2/"),
            json!({"type": "volume", "source": "named2", "target": "/n2", "volume": {}})
        );
    }

    #[test]
    fn bind_mounts_keep_relative_sources() {
        assert_eq!(
            long("./rel:/rel:ro"),
            json!({"type": "bind", "source": "./rel", "target": "/rel", "read_only": true,
                   "bind": {"create_host_path": true}})
        );
        assert_eq!(
            long("~/home:/home:rw,z"),
            json!({"type": "bind", "source": "~/home", "target": "/home",
                   "bind": {"selinux": "z", "create_host_path": true}})
        );
        assert_eq!(
            long("/host:/bind:rshared,Z"),
            json!({"type": "bind", "source": "/host", "target": "/bind",
                   "bind": {"propagation": "rshared", "selinux": "Z", "create_host_path": true}})
        );
        assert_eq!(
            long(r"C:\data:/data"),
            json!({"type": "bind", "source": r"C:\data", "target": "/data", "bind": {"create_host_path": true}})
        );
    }

    #[test]
    fn long_form_kept() {
        let v = json!({"type": "bind", "source": "./x", "target": "/x"});
        assert_eq!(
            service(json!({ "volumes": [v.clone()] })).unwrap_or_default()["volumes"][0],
            v
        );
    }

    #[test]
    fn invalid_specs() {
        let err = |v| {
            service(json!({ "volumes": [v] }))
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default()
        };
        assert_eq!(
            err(json!("")),
            "test.yaml:1:1: services.web.volumes[0]: invalid empty volume spec"
        );
        assert!(err(json!("vol:/b:ro:x")).ends_with("invalid spec: vol:/b:ro:x: too many colons"));
        assert!(err(json!("/a::/b")).ends_with("empty section between colons"));
        assert!(err(json!(1)).ends_with("invalid service volume mount: got an integer"));
    }

    #[test]
    fn go_path_clean() {
        for (dirty, clean) in [
            ("/a/b/", "/a/b"),
            ("/a/./b/../c", "/a/c"),
            ("/..", "/"),
            ("a//b", "a/b"),
            ("../x", "../x"),
        ] {
            assert_eq!(clean_path(dirty), clean);
        }
    }
}
