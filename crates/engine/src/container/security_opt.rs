//! `HostConfig.SecurityOpt` as dockerd reads it: `key=value` (or the deprecated
//! `key:value`), with `no-new-privileges`, `seccomp`, `systempaths` and `label=disable`
//! applied; `apparmor`, other `label` options and `writable-cgroups` refused, since berth
//! does not apply them and must not pretend to.
//!
//! A `seccomp=` value in the record is `unconfined`, `builtin` or the profile's JSON itself
//! (the CLI reads a profile file at create, as Docker's does, so a later edit of the file
//! does not change the container).

use super::ContainerError;
use crate::seccomp::Profile;

#[derive(Debug, Clone, PartialEq)]
pub enum Seccomp {
    /// berth's default profile.
    Default,
    Unconfined,
    Custom(Box<Profile>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct SecurityOpts {
    pub no_new_privileges: bool,
    pub seccomp: Seccomp,
    /// `systempaths=unconfined`: no masked or read-only /proc and /sys paths.
    pub unconfined_system_paths: bool,
}

fn invalid(message: String) -> ContainerError {
    ContainerError::Invalid(message)
}

pub fn parse(opts: &[String]) -> Result<SecurityOpts, ContainerError> {
    let mut parsed = SecurityOpts {
        no_new_privileges: false,
        seccomp: Seccomp::Default,
        unconfined_system_paths: false,
    };
    for opt in opts {
        if opt == "no-new-privileges" {
            parsed.no_new_privileges = true;
            continue;
        }
        let Some((key, value)) = opt.split_once('=').or_else(|| opt.split_once(':')) else {
            return Err(invalid(format!(
                "invalid --security-opt {opt:?}: expected key=value (no-new-privileges, seccomp=..., systempaths=unconfined)"
            )));
        };
        match key {
            "no-new-privileges" => {
                parsed.no_new_privileges = match value {
                    "true" | "1" => true,
                    "false" | "0" => false,
                    _ => {
                        return Err(invalid(format!(
                            "invalid --security-opt {opt:?}: no-new-privileges takes true or false"
                        )));
                    }
                }
            }
            "seccomp" => {
                parsed.seccomp = match value {
                    "unconfined" => Seccomp::Unconfined,
                    "builtin" => Seccomp::Default,
                    json if json.trim_start().starts_with('{') => Seccomp::Custom(Box::new(
                        Profile::parse(json).map_err(|e| invalid(e.to_string()))?,
                    )),
                    other => {
                        return Err(invalid(format!(
                            "invalid --security-opt seccomp={other:?}: expected unconfined, builtin or a profile (a JSON file)"
                        )));
                    }
                }
            }
            "systempaths" if value == "unconfined" => parsed.unconfined_system_paths = true,
            "systempaths" => {
                return Err(invalid(format!(
                    "invalid --security-opt {opt:?}: systempaths takes only unconfined"
                )));
            }
            // berth never labels files for SELinux: disabling labels is what it does.
            "label" if value == "disable" => {}
            "label" => {
                return Err(invalid(format!(
                    "--security-opt {opt:?}: SELinux labels are not supported by berth"
                )));
            }
            "apparmor" => {
                return Err(invalid(format!(
                    "--security-opt {opt:?}: AppArmor profiles are not supported by berth"
                )));
            }
            "writable-cgroups" => {
                return Err(invalid(format!(
                    "--security-opt {opt:?}: writable cgroups are not supported by berth yet"
                )));
            }
            _ => {
                return Err(invalid(format!(
                    "invalid --security-opt {opt:?}: unknown option {key:?} (expected no-new-privileges, seccomp, systempaths or label)"
                )));
            }
        }
    }
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(list: &[&str]) -> Result<SecurityOpts, String> {
        parse(&list.iter().map(|s| s.to_string()).collect::<Vec<_>>()).map_err(|e| e.to_string())
    }

    #[test]
    fn docker_forms() {
        assert!(opts(&["no-new-privileges"]).unwrap().no_new_privileges);
        assert!(opts(&["no-new-privileges:true"]).unwrap().no_new_privileges);
        assert!(
            !opts(&["no-new-privileges=false"])
                .unwrap()
                .no_new_privileges
        );
        assert_eq!(opts(&[]).unwrap().seccomp, Seccomp::Default);
        assert_eq!(
            opts(&["seccomp=unconfined"]).unwrap().seccomp,
            Seccomp::Unconfined
        );
        assert_eq!(
            opts(&["seccomp:unconfined"]).unwrap().seccomp,
            Seccomp::Unconfined
        );
        assert_eq!(
            opts(&["seccomp=builtin"]).unwrap().seccomp,
            Seccomp::Default
        );
        let custom = opts(&[r#"seccomp={"defaultAction":"SCMP_ACT_ALLOW"}"#]).unwrap();
        assert!(matches!(custom.seccomp, Seccomp::Custom(_)));
        assert!(
            opts(&["systempaths=unconfined"])
                .unwrap()
                .unconfined_system_paths
        );
        assert!(opts(&["label=disable"]).is_ok());
    }

    #[test]
    fn refusals_name_the_option() {
        for (opt, says) in [
            ("apparmor=unconfined", "AppArmor"),
            ("label=type:svirt_t", "SELinux"),
            ("writable-cgroups=true", "writable cgroups"),
            (
                "seccomp=/tmp/p.json",
                "expected unconfined, builtin or a profile",
            ),
            ("seccomp=", "expected unconfined"),
            ("seccomp={\"defaultAction\":\"NOPE\"}", "unknown action"),
            ("no-new-privileges=yes", "true or false"),
            ("systempaths=confined", "only unconfined"),
            ("bogus", "expected key=value"),
            ("bogus=1", "unknown option \"bogus\""),
        ] {
            let e = opts(&[opt]).unwrap_err();
            assert!(e.contains(says), "{opt}: {e}");
        }
    }
}
