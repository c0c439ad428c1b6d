//! What a container asks to have mounted, in one shape whatever the syntax: `-v
//! src:dst[:opts]`, `--mount type=...,...`, `--tmpfs dst[:opts]`, and (from the
//! orchestrator) a compose service's `volumes` long form. Pure parsing with Docker's
//! rules and error texts; `create` resolves the result against the host and the volume
//! store.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::ContainerError;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MountType {
    Bind,
    Volume,
    Tmpfs,
}

impl MountType {
    pub fn as_str(self) -> &'static str {
        match self {
            MountType::Bind => "bind",
            MountType::Volume => "volume",
            MountType::Tmpfs => "tmpfs",
        }
    }
}

/// One requested mount (Docker's `mount.Mount`, flattened).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MountRequest {
    pub kind: MountType,
    /// Host path (bind), volume name (`None`: anonymous), unused for tmpfs.
    pub source: Option<String>,
    pub target: String,
    pub read_only: bool,
    /// `-v`'s mode string as Docker keeps it (`ro`, `z`, ...), for `inspect`.
    pub mode: String,
    /// Bind propagation (`rprivate` unless asked).
    pub propagation: String,
    /// `volume-nocopy` / `:nocopy`: do not fill a new volume from the image.
    pub no_copy: bool,
    /// `-v` creates a missing bind source; `--mount` refuses it (as Docker).
    pub create_source: bool,
    /// tmpfs `size=` (bytes) and `mode=` (octal).
    pub tmpfs_size: Option<u64>,
    pub tmpfs_mode: Option<u32>,
    /// Other `--tmpfs` options, passed to the kernel (`uid=`, `gid=`, `exec`, ...).
    pub tmpfs_options: Vec<String>,
}

impl MountRequest {
    pub fn new(kind: MountType, target: String) -> MountRequest {
        MountRequest {
            kind,
            source: None,
            target,
            read_only: false,
            mode: String::new(),
            propagation: String::new(),
            no_copy: false,
            create_source: false,
            tmpfs_size: None,
            tmpfs_mode: None,
            tmpfs_options: Vec::new(),
        }
    }
}

const PROPAGATIONS: [&str; 6] = [
    "private", "rprivate", "shared", "rshared", "slave", "rslave",
];

fn invalid_spec(spec: &str, why: &str) -> ContainerError {
    ContainerError::Invalid(format!("invalid volume specification: '{spec}': {why}"))
}

fn check_target(spec: &str, kind: MountType, target: &str) -> Result<(), ContainerError> {
    if !target.starts_with('/') {
        return Err(invalid_spec(
            spec,
            &format!(
                "invalid mount config for type \"{}\": invalid mount path: '{target}' mount path must be absolute",
                kind.as_str()
            ),
        ));
    }
    if target.trim_end_matches('/').is_empty() {
        return Err(invalid_spec(
            spec,
            &format!(
                "invalid mount config for type \"{}\": invalid specification: destination can't be '/'",
                kind.as_str()
            ),
        ));
    }
    Ok(())
}

/// `-v [src:]dst[:opts]`: an absolute `src` is a bind mount, another one a named volume,
/// none an anonymous volume. Options: `ro`/`rw`, `z`/`Z` (SELinux labels: accepted,
/// nothing to do on a host without SELinux), `nocopy`, a propagation.
pub fn parse_volume_flag(spec: &str) -> Result<MountRequest, ContainerError> {
    let parts: Vec<&str> = spec.split(':').collect();
    let (source, target, opts) = match parts.as_slice() {
        [t] => (None, *t, None),
        [s, t] if t.starts_with('/') => (Some(*s), *t, None),
        [t, o] if t.starts_with('/') => (None, *t, Some(*o)),
        [s, t] => (Some(*s), *t, None),
        [s, t, o] => (Some(*s), *t, Some(*o)),
        _ => {
            return Err(invalid_spec(
                spec,
                "expected [source:]destination[:options]",
            ));
        }
    };
    if target.is_empty() || source.is_some_and(str::is_empty) {
        return Err(invalid_spec(spec, "empty section between colons"));
    }
    let kind = match source {
        Some(s) if s.starts_with('/') => MountType::Bind,
        _ => MountType::Volume,
    };
    check_target(spec, kind, target)?;
    if kind == MountType::Volume
        && let Some(name) = source
        && !crate::volume::valid_name(name)
    {
        return Err(ContainerError::Invalid(format!(
            "create {name}: \"{name}\" includes invalid characters for a local volume name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host directory, use absolute path"
        )));
    }
    let mut m = MountRequest::new(kind, target.to_string());
    m.source = source.map(str::to_string);
    m.create_source = true;
    m.mode = opts.unwrap_or_default().to_string();
    if kind == MountType::Volume && m.mode.is_empty() && source.is_some() {
        // Docker shows a named `-v` volume's mode as `z`.
        m.mode = "z".into();
    }
    for o in opts
        .unwrap_or_default()
        .split(',')
        .filter(|o| !o.is_empty())
    {
        match o {
            "ro" => m.read_only = true,
            "rw" => m.read_only = false,
            "z" | "Z" => {}
            "nocopy" if kind == MountType::Volume => m.no_copy = true,
            p if PROPAGATIONS.contains(&p) && kind == MountType::Bind => m.propagation = p.into(),
            other => return Err(invalid_spec(spec, &format!("invalid mode: {other}"))),
        }
    }
    if kind == MountType::Bind && m.propagation.is_empty() {
        m.propagation = "rprivate".into();
    }
    Ok(m)
}

/// `--mount type=bind|volume|tmpfs,source=...,target=...,readonly,...` (Docker's CSV
/// keys, with their aliases `src`, `dst`/`destination`, `ro`).
pub fn parse_mount_flag(spec: &str) -> Result<MountRequest, ContainerError> {
    let bad = |why: String| {
        ContainerError::Invalid(format!(
            "invalid argument \"{spec}\" for \"--mount\" flag: {why}"
        ))
    };
    let mut fields: BTreeMap<String, Option<String>> = BTreeMap::new();
    for field in spec.split(',') {
        let (k, v) = match field.split_once('=') {
            Some((k, v)) => (k.trim().to_lowercase(), Some(v.to_string())),
            None => (field.trim().to_lowercase(), None),
        };
        fields.insert(k, v);
    }
    let kind = match fields.remove("type").flatten().as_deref() {
        Some("bind") => MountType::Bind,
        Some("volume") | None => MountType::Volume,
        Some("tmpfs") => MountType::Tmpfs,
        Some(other) => {
            return Err(bad(format!(
                "type {other:?} is not supported by berth (bind, volume or tmpfs)"
            )));
        }
    };
    let take = |fields: &mut BTreeMap<String, Option<String>>, keys: &[&str]| {
        keys.iter().find_map(|k| fields.remove(*k)).flatten()
    };
    let source = take(&mut fields, &["source", "src"]);
    let target = take(&mut fields, &["target", "dst", "destination"])
        .ok_or_else(|| bad("target is required".into()))?;
    let mut m = MountRequest::new(kind, target.clone());
    check_target(spec, kind, &target).map_err(|e| bad(e.to_string()))?;
    if let Some(v) = ["readonly", "ro"].iter().find_map(|k| fields.remove(*k)) {
        m.read_only = match v.as_deref() {
            None | Some("1") | Some("true") => true,
            Some("0") | Some("false") => false,
            Some(other) => return Err(bad(format!("invalid value for readonly: {other}"))),
        };
    }
    match kind {
        MountType::Bind => {
            let s = source
                .ok_or_else(|| bad("source is required when specifying bind mounts".into()))?;
            if !s.starts_with('/') {
                return Err(bad(format!(
                    "invalid mount config for type \"bind\": invalid mount path: '{s}' mount path must be absolute"
                )));
            }
            m.source = Some(s);
            m.propagation = fields
                .remove("bind-propagation")
                .flatten()
                .unwrap_or_else(|| "rprivate".into());
            if !PROPAGATIONS.contains(&m.propagation.as_str()) {
                return Err(bad(format!("invalid propagation mode: {}", m.propagation)));
            }
        }
        MountType::Volume => {
            if let Some(name) = &source
                && !crate::volume::valid_name(name)
            {
                return Err(bad(format!(
                    "invalid volume name {name:?}: only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed"
                )));
            }
            m.source = source;
            if m.source.is_some() {
                m.mode = "z".into();
            }
            if let Some(v) = fields.remove("volume-nocopy") {
                m.no_copy = !matches!(v.as_deref(), Some("0") | Some("false"));
            }
        }
        MountType::Tmpfs => {
            if source.is_some() {
                return Err(bad(
                    "invalid mount config for type \"tmpfs\": source must not be specified".into(),
                ));
            }
            if let Some(size) = fields.remove("tmpfs-size").flatten() {
                m.tmpfs_size = Some(
                    parse_size(&size).ok_or_else(|| bad(format!("invalid tmpfs-size {size:?}")))?,
                );
            }
            if let Some(mode) = fields.remove("tmpfs-mode").flatten() {
                m.tmpfs_mode =
                    Some(u32::from_str_radix(&mode, 8).map_err(|_| {
                        bad(format!("invalid tmpfs-mode {mode:?}: expected octal"))
                    })?);
            }
        }
    }
    if let Some(key) = fields.keys().next() {
        return Err(bad(format!(
            "unexpected key '{key}' in '{spec}' (berth does not apply it yet)"
        )));
    }
    Ok(m)
}

/// `--tmpfs /run[:opts]`: Docker's default options are `rw,noexec,nosuid,nodev`; `size=`
/// and `mode=` are kept apart (inspect), the rest goes to the kernel.
pub fn parse_tmpfs_flag(spec: &str) -> Result<MountRequest, ContainerError> {
    let (target, opts) = spec.split_once(':').unwrap_or((spec, ""));
    check_target(spec, MountType::Tmpfs, target)?;
    let mut m = MountRequest::new(MountType::Tmpfs, target.to_string());
    for o in opts.split(',').filter(|o| !o.is_empty()) {
        if let Some(size) = o.strip_prefix("size=") {
            m.tmpfs_size = Some(
                parse_size(size)
                    .ok_or_else(|| invalid_spec(spec, &format!("invalid size {size:?}")))?,
            );
        } else if let Some(mode) = o.strip_prefix("mode=") {
            m.tmpfs_mode = Some(u32::from_str_radix(mode, 8).map_err(|_| {
                invalid_spec(spec, &format!("invalid mode {mode:?}: expected octal"))
            })?);
        } else if o == "ro" {
            m.read_only = true;
        } else if o == "rw" {
            m.read_only = false;
        } else {
            m.tmpfs_options.push(o.to_string());
        }
    }
    m.mode = opts.to_string();
    Ok(m)
}

/// `64m`, `1g`, `512k`, plain bytes (tmpfs sizes, binary units as Docker's).
fn parse_size(s: &str) -> Option<u64> {
    let lower = s.trim().to_ascii_lowercase();
    let lower = lower.strip_suffix('b').unwrap_or(&lower);
    let (n, shift) = match lower.chars().last()? {
        'k' => (&lower[..lower.len() - 1], 10),
        'm' => (&lower[..lower.len() - 1], 20),
        'g' => (&lower[..lower.len() - 1], 30),
        _ => (lower, 0),
    };
    n.parse::<u64>().ok()?.checked_mul(1 << shift)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn volume_flags_split_like_dockers() {
        let m = parse_volume_flag("/srv/www:/var/www:ro").unwrap();
        assert_eq!(
            (m.kind, m.source.as_deref(), m.target.as_str()),
            (MountType::Bind, Some("/srv/www"), "/var/www")
        );
        assert!(m.read_only && m.create_source);
        assert_eq!(
            (m.mode.as_str(), m.propagation.as_str()),
            ("ro", "rprivate")
        );
        let m = parse_volume_flag("db:/var/lib/mysql").unwrap();
        assert_eq!(
            (m.kind, m.source.as_deref(), m.mode.as_str()),
            (MountType::Volume, Some("db"), "z")
        );
        let m = parse_volume_flag("/data").unwrap();
        assert_eq!(
            (m.kind, m.source, m.mode.as_str()),
            (MountType::Volume, None, "")
        );
        let m = parse_volume_flag("/data:ro").unwrap();
        assert!(m.read_only && m.source.is_none());
        assert!(parse_volume_flag("db:/x:nocopy").unwrap().no_copy);
        let e = parse_volume_flag("db:data").unwrap_err().to_string();
        assert_eq!(
            e,
            "invalid volume specification: 'db:data': invalid mount config for type \"volume\": invalid mount path: 'data' mount path must be absolute"
        );
        let e = parse_volume_flag("/a:/b:bogus").unwrap_err().to_string();
        assert_eq!(
            e,
            "invalid volume specification: '/a:/b:bogus': invalid mode: bogus"
        );
        assert!(parse_volume_flag("a:b:c:d").is_err());
        assert!(
            parse_volume_flag("/a:/")
                .unwrap_err()
                .to_string()
                .contains("destination can't be '/'")
        );
        assert!(
            parse_volume_flag("x y:/data")
                .unwrap_err()
                .to_string()
                .contains("invalid characters")
        );
    }

    #[test]
    fn mount_flags_use_dockers_keys() {
        let m = parse_mount_flag("type=bind,src=/srv,dst=/srv,readonly").unwrap();
        assert_eq!(
            (m.kind, m.read_only, m.create_source),
            (MountType::Bind, true, false)
        );
        let m = parse_mount_flag("type=volume,source=cache,target=/c,volume-nocopy").unwrap();
        assert_eq!((m.source.as_deref(), m.no_copy), (Some("cache"), true));
        let m = parse_mount_flag("type=tmpfs,target=/t,tmpfs-size=1m,tmpfs-mode=1770").unwrap();
        assert_eq!((m.tmpfs_size, m.tmpfs_mode), (Some(1 << 20), Some(0o1770)));
        let e = parse_mount_flag("type=bind,target=/x")
            .unwrap_err()
            .to_string();
        assert!(
            e.ends_with("source is required when specifying bind mounts"),
            "{e}"
        );
        let e = parse_mount_flag("type=volume,target=/x,volume-driver=nfs")
            .unwrap_err()
            .to_string();
        assert!(e.contains("unexpected key 'volume-driver'"), "{e}");
        assert!(parse_mount_flag("type=npipe,target=/x").is_err());
        assert!(
            parse_mount_flag("source=x")
                .unwrap_err()
                .to_string()
                .ends_with("target is required")
        );
    }

    #[test]
    fn tmpfs_flags_keep_size_and_mode_apart() {
        let m = parse_tmpfs_flag("/run:size=64m,mode=1777,uid=1000").unwrap();
        assert_eq!((m.tmpfs_size, m.tmpfs_mode), (Some(64 << 20), Some(0o1777)));
        assert_eq!(m.tmpfs_options, ["uid=1000"]);
        assert!(parse_tmpfs_flag("run").is_err());
        assert!(parse_tmpfs_flag("/run:size=lots").is_err());
    }
}
