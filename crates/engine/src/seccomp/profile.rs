//! Docker's seccomp profile format (`--security-opt seccomp=profile.json`): the OCI
//! `linux.seccomp` shape plus `includes` / `excludes` (by capability, architecture and
//! kernel version) and `archMap`, resolved per container into the OCI form.
//!
//! Unlike Docker, unknown keys are refused: a misspelt key in a security profile would
//! otherwise silently change what a container may do.

use serde::{Deserialize, Serialize};

use super::SeccompError;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Profile {
    pub default_action: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_errno_ret: Option<u32>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub architectures: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub arch_map: Vec<ArchMap>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub syscalls: Vec<Syscall>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub flags: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub listener_path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub listener_metadata: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ArchMap {
    pub architecture: String,
    #[serde(default)]
    pub sub_architectures: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Syscall {
    /// The legacy single-name form; a rule has this or `names`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub names: Vec<String>,
    pub action: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub errno_ret: Option<u32>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<Arg>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    #[serde(default, skip_serializing_if = "Filter::is_empty")]
    pub includes: Filter,
    #[serde(default, skip_serializing_if = "Filter::is_empty")]
    pub excludes: Filter,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Arg {
    pub index: u32,
    pub value: u64,
    #[serde(default)]
    pub value_two: u64,
    pub op: CompareOp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CompareOp {
    #[serde(rename = "SCMP_CMP_NE")]
    NotEqual,
    #[serde(rename = "SCMP_CMP_LT")]
    Less,
    #[serde(rename = "SCMP_CMP_LE")]
    LessOrEqual,
    #[serde(rename = "SCMP_CMP_EQ")]
    Equal,
    #[serde(rename = "SCMP_CMP_GE")]
    GreaterOrEqual,
    #[serde(rename = "SCMP_CMP_GT")]
    Greater,
    /// `(arg & value) == value_two`.
    #[serde(rename = "SCMP_CMP_MASKED_EQ")]
    MaskedEqual,
}

/// When a rule applies: every listed capability held (`includes`) or any held
/// (`excludes`), the host's architecture listed (Go's names: `amd64`, `arm64`...), the
/// kernel at least `minKernel`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Filter {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub caps: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub arches: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_kernel: Option<String>,
}

impl Filter {
    pub fn is_empty(&self) -> bool {
        self.caps.is_empty() && self.arches.is_empty() && self.min_kernel.is_none()
    }
}

/// The actions a profile may name, as in the OCI runtime spec.
pub const ACTIONS: [&str; 9] = [
    "SCMP_ACT_KILL",
    "SCMP_ACT_KILL_PROCESS",
    "SCMP_ACT_KILL_THREAD",
    "SCMP_ACT_TRAP",
    "SCMP_ACT_ERRNO",
    "SCMP_ACT_TRACE",
    "SCMP_ACT_ALLOW",
    "SCMP_ACT_LOG",
    "SCMP_ACT_NOTIFY",
];

/// The filter flags berth passes to seccomp(2).
pub const FLAGS: [&str; 3] = [
    "SECCOMP_FILTER_FLAG_TSYNC",
    "SECCOMP_FILTER_FLAG_LOG",
    "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
];

impl Profile {
    /// Parses and checks a profile; errors carry the line and column.
    pub fn parse(text: &str) -> Result<Profile, SeccompError> {
        let profile: Profile = serde_json::from_str(text).map_err(|e| {
            SeccompError::Invalid(format!(
                "{} at line {} column {}",
                strip_position(&e),
                e.line(),
                e.column()
            ))
        })?;
        profile.check()?;
        Ok(profile)
    }

    /// What the kernel and berth cannot apply, found before anything is created.
    pub fn check(&self) -> Result<(), SeccompError> {
        let invalid = |m: String| Err(SeccompError::Invalid(m));
        check_action(&self.default_action, "defaultAction")?;
        if !self.architectures.is_empty() && !self.arch_map.is_empty() {
            return invalid("use either 'architectures' or 'archMap', not both".into());
        }
        if self.listener_path.is_some() || self.default_action == "SCMP_ACT_NOTIFY" {
            return invalid(
                "SCMP_ACT_NOTIFY and listenerPath (a seccomp agent) are not supported by berth"
                    .into(),
            );
        }
        if let Some(flag) = self.flags.iter().find(|f| !FLAGS.contains(&f.as_str())) {
            return invalid(format!(
                "unknown seccomp flag {flag:?}: expected one of {}",
                FLAGS.join(", ")
            ));
        }
        for (i, call) in self.syscalls.iter().enumerate() {
            let at = format!("syscalls[{i}]");
            if call.name.is_some() && !call.names.is_empty() {
                return invalid(format!("{at}: use either 'name' or 'names', not both"));
            }
            if call.name.is_none() && call.names.is_empty() {
                return invalid(format!("{at}: 'names' is empty"));
            }
            check_action(&call.action, &format!("{at}.action"))?;
            if call.action == "SCMP_ACT_NOTIFY" {
                return invalid(format!(
                    "{at}: SCMP_ACT_NOTIFY (a seccomp agent) is not supported by berth"
                ));
            }
            if let Some(arg) = call.args.iter().find(|a| a.index > 5) {
                return invalid(format!(
                    "{at}: argument index {} is out of range (0 to 5)",
                    arg.index
                ));
            }
            for filter in [&call.includes, &call.excludes] {
                if let Some(v) = &filter.min_kernel {
                    parse_kernel_version(v).ok_or_else(|| {
                        SeccompError::Invalid(format!(
                            "{at}: minKernel {v:?} is not a kernel version such as \"4.8\""
                        ))
                    })?;
                }
            }
        }
        Ok(())
    }
}

fn check_action(action: &str, at: &str) -> Result<(), SeccompError> {
    if ACTIONS.contains(&action) {
        Ok(())
    } else {
        Err(SeccompError::Invalid(format!(
            "{at}: unknown action {action:?}: expected one of {}",
            ACTIONS.join(", ")
        )))
    }
}

/// serde_json appends " at line L column C"; the caller words the position itself.
fn strip_position(e: &serde_json::Error) -> String {
    let text = e.to_string();
    match text.rfind(" at line ") {
        Some(i) => text[..i].to_string(),
        None => text,
    }
}

/// `major.minor` of a kernel release such as "6.1.0-26-amd64" or a `minKernel` "4.8".
pub fn parse_kernel_version(release: &str) -> Option<(u32, u32)> {
    let mut parts = release.split(['.', '-', '+']);
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next().map_or(Some(0), |m| m.parse().ok())?;
    Some((major, minor))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_docker_format_and_names_what_is_wrong() {
        let p = Profile::parse(
            r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir","mkdirat"],"action":"SCMP_ACT_ERRNO","errnoRet":13,
               "args":[{"index":1,"value":448,"op":"SCMP_CMP_EQ"}],"includes":{"minKernel":"4.8"}}]}"#,
        )
        .unwrap();
        assert_eq!(p.syscalls[0].errno_ret, Some(13));
        assert_eq!(p.syscalls[0].args[0].op, CompareOp::Equal);

        let err = |text: &str| Profile::parse(text).unwrap_err().to_string();
        assert!(
            err("{\n \"defaultAction\": \"SCMP_ACT_ALLOW\",\n \"syscall\": []}")
                .contains("unknown field `syscall`")
        );
        assert!(
            err("{\n \"defaultAction\": \"SCMP_ACT_ALLOW\",\n \"syscall\": []}")
                .contains("line 3 column")
        );
        assert!(
            err(r#"{"defaultAction":"ALLOW"}"#).contains("defaultAction: unknown action \"ALLOW\"")
        );
        assert!(
            err(r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"action":"SCMP_ACT_LOG"}]}"#)
                .contains("syscalls[0]: 'names' is empty")
        );
        assert!(
            err(r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["x"],"action":"SCMP_ACT_LOG","args":[{"index":6,"value":1,"op":"SCMP_CMP_EQ"}]}]}"#)
                .contains("argument index 6")
        );
        assert!(err(r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["x"],"action":"SCMP_ACT_LOG","args":[{"index":0,"value":1,"op":"EQ"}]}]}"#).contains("unknown variant `EQ`"));
        assert!(err(r#"{"defaultAction":"SCMP_ACT_NOTIFY"}"#).contains("not supported"));
        assert!(err(r#"{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_X86"],"archMap":[{"architecture":"SCMP_ARCH_X86_64"}]}"#).contains("not both"));
        assert!(err(r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["x"],"action":"SCMP_ACT_LOG","includes":{"minKernel":"four"}}]}"#).contains("minKernel \"four\""));
    }

    #[test]
    fn kernel_versions() {
        assert_eq!(parse_kernel_version("6.1.0-26-amd64"), Some((6, 1)));
        assert_eq!(parse_kernel_version("4.8"), Some((4, 8)));
        assert_eq!(parse_kernel_version("5"), Some((5, 0)));
        assert_eq!(parse_kernel_version("x.1"), None);
    }
}
