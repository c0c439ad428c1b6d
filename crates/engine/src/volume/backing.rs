//! What backs a local volume, from its driver options (`volume create -o`, compose
//! `driver_opts`), with Docker's keys `type`, `o` and `device`: a directory under the
//! state root (no options), a host directory (`type=none`, `o=bind`, `device=/path`), or
//! a tmpfs (`type=tmpfs`, `o=size=...,mode=...`). Other filesystem types (nfs, ext4 on a
//! device, ...) are refused until berth mounts them.

use std::collections::BTreeMap;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Backing {
    Directory,
    /// `device`, bound read-only with `o=bind,ro`.
    Bind {
        device: String,
        read_only: bool,
    },
    /// The kernel's tmpfs options from `o`.
    Tmpfs {
        options: Vec<String>,
    },
}

/// tmpfs options a volume may set (the kernel's own names).
const TMPFS_OPTIONS: [&str; 6] = ["size", "mode", "uid", "gid", "nr_inodes", "nr_blocks"];

impl Backing {
    pub fn from_options(options: &BTreeMap<String, String>) -> Result<Backing, String> {
        if let Some(key) = options
            .keys()
            .find(|k| !matches!(k.as_str(), "type" | "o" | "device"))
        {
            return Err(format!(
                "invalid option key: {key:?} (the local driver takes type, o and device)"
            ));
        }
        let o: Vec<&str> = options
            .get("o")
            .map(|o| o.split(',').filter(|s| !s.is_empty()).collect())
            .unwrap_or_default();
        let device = options
            .get("device")
            .map(String::as_str)
            .unwrap_or_default();
        match options.get("type").map(String::as_str) {
            None if options.is_empty() => Ok(Backing::Directory),
            None => Err("missing option \"type\" (none with o=bind and device, or tmpfs)".into()),
            Some("none") | Some("bind") => {
                if !o.iter().any(|x| matches!(*x, "bind" | "rbind")) {
                    return Err("type=none needs o=bind (a bind mount of device)".into());
                }
                if let Some(x) = o
                    .iter()
                    .find(|x| !matches!(**x, "bind" | "rbind" | "ro" | "rw"))
                {
                    return Err(format!(
                        "option o={x:?} is not supported for a bind volume (bind, rbind, ro, rw)"
                    ));
                }
                if !device.starts_with('/') {
                    return Err(format!(
                        "device {device:?} must be an absolute host path for a bind volume"
                    ));
                }
                Ok(Backing::Bind {
                    device: device.to_string(),
                    read_only: o.contains(&"ro"),
                })
            }
            Some("tmpfs") => {
                for x in &o {
                    let key = x.split('=').next().unwrap_or_default();
                    if !TMPFS_OPTIONS.contains(&key) || !x.contains('=') {
                        return Err(format!(
                            "tmpfs option {x:?} is not supported (use {}=...)",
                            TMPFS_OPTIONS.join("=, ")
                        ));
                    }
                }
                Ok(Backing::Tmpfs {
                    options: o.iter().map(|s| s.to_string()).collect(),
                })
            }
            Some(other) => Err(format!(
                "volume type {other:?} is not supported by berth yet (only none with o=bind, and tmpfs)"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn docker_forms_and_refusals() {
        assert_eq!(Backing::from_options(&opts(&[])), Ok(Backing::Directory));
        assert_eq!(
            Backing::from_options(&opts(&[
                ("type", "none"),
                ("o", "bind"),
                ("device", "/srv/x")
            ])),
            Ok(Backing::Bind {
                device: "/srv/x".into(),
                read_only: false
            })
        );
        assert_eq!(
            Backing::from_options(&opts(&[
                ("type", "none"),
                ("o", "bind,ro"),
                ("device", "/srv/x")
            ])),
            Ok(Backing::Bind {
                device: "/srv/x".into(),
                read_only: true
            })
        );
        assert_eq!(
            Backing::from_options(&opts(&[
                ("type", "tmpfs"),
                ("device", "tmpfs"),
                ("o", "size=10m,uid=1000")
            ])),
            Ok(Backing::Tmpfs {
                options: vec!["size=10m".into(), "uid=1000".into()]
            })
        );
        for (bad, says) in [
            (
                opts(&[("type", "nfs"), ("o", "addr=1.2.3.4"), ("device", ":/x")]),
                "type \"nfs\" is not supported",
            ),
            (opts(&[("type", "none"), ("device", "/x")]), "needs o=bind"),
            (
                opts(&[("type", "none"), ("o", "bind"), ("device", "rel")]),
                "absolute host path",
            ),
            (
                opts(&[("type", "tmpfs"), ("o", "exec")]),
                "tmpfs option \"exec\"",
            ),
            (opts(&[("size", "1g")]), "invalid option key: \"size\""),
            (opts(&[("o", "bind")]), "missing option \"type\""),
        ] {
            let e = Backing::from_options(&bad).unwrap_err();
            assert!(e.contains(says), "{bad:?}: {e}");
        }
    }
}
