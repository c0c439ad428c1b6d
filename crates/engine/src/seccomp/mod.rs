//! Seccomp profiles: Docker's profile format ([`Profile`]), berth's default profile, and
//! the resolution of a profile for one container (its capabilities, the host's
//! architecture and kernel) into the OCI `linux.seccomp` section, as dockerd does before
//! it hands a spec to runc. The runtime compiles that section to BPF (`runtime/seccomp.rs`).

mod default_profile;
mod profile;

use serde_json::{Value, json};

pub use default_profile::default_profile;
pub use profile::{
    ACTIONS, ArchMap, Arg, CompareOp, FLAGS, Filter, Profile, Syscall, parse_kernel_version,
};

#[derive(Debug, thiserror::Error)]
pub enum SeccompError {
    #[error("invalid seccomp profile: {0}")]
    Invalid(String),
}

/// What a resolution depends on besides the profile.
#[derive(Debug, Clone)]
pub struct Host {
    /// Go's name of the architecture (`amd64`), which `includes.arches` lists.
    pub go_arch: &'static str,
    /// libseccomp's name of the native architecture, which `archMap` keys.
    pub scmp_arch: &'static str,
    /// `major.minor` of the running kernel; unknown means every `minKernel` holds.
    pub kernel: Option<(u32, u32)>,
}

impl Host {
    pub fn current() -> Host {
        let (go_arch, scmp_arch) = match std::env::consts::ARCH {
            "x86_64" => ("amd64", "SCMP_ARCH_X86_64"),
            "aarch64" => ("arm64", "SCMP_ARCH_AARCH64"),
            "x86" => ("386", "SCMP_ARCH_X86"),
            "arm" => ("arm", "SCMP_ARCH_ARM"),
            "riscv64" => ("riscv64", "SCMP_ARCH_RISCV64"),
            "s390x" => ("s390x", "SCMP_ARCH_S390X"),
            "powerpc64" => ("ppc64le", "SCMP_ARCH_PPC64LE"),
            other => (other, "SCMP_ARCH_NATIVE"),
        };
        let kernel = rustix::system::uname()
            .release()
            .to_str()
            .ok()
            .and_then(parse_kernel_version);
        Host {
            go_arch,
            scmp_arch,
            kernel,
        }
    }
}

/// The OCI `linux.seccomp` section for a container holding `caps` (`CAP_*` names): the
/// rules whose `includes` hold and whose `excludes` do not, names and arguments as given.
pub fn resolve(profile: &Profile, caps: &[String], host: &Host) -> Value {
    let architectures: Vec<&str> = if profile.architectures.is_empty() {
        profile
            .arch_map
            .iter()
            .filter(|m| m.architecture == host.scmp_arch)
            .flat_map(|m| std::iter::once(&m.architecture).chain(&m.sub_architectures))
            .map(String::as_str)
            .collect()
    } else {
        profile.architectures.iter().map(String::as_str).collect()
    };
    let kernel_at_least =
        |v: &Option<String>| match (v.as_deref().and_then(parse_kernel_version), host.kernel) {
            (Some(min), Some(kernel)) => kernel >= min,
            _ => true,
        };
    let has = |c: &String| caps.iter().any(|held| held == c);
    let syscalls: Vec<Value> = profile
        .syscalls
        .iter()
        .filter(|call| {
            let inc = &call.includes;
            let exc = &call.excludes;
            (inc.caps.iter().all(has))
                && (inc.arches.is_empty() || inc.arches.iter().any(|a| a == host.go_arch))
                && (inc.min_kernel.is_none() || kernel_at_least(&inc.min_kernel))
                && !exc.caps.iter().any(has)
                && !exc.arches.iter().any(|a| a == host.go_arch)
                && (exc.min_kernel.is_none() || !kernel_at_least(&exc.min_kernel))
        })
        .map(|call| {
            let names: Vec<&String> = call.name.iter().chain(&call.names).collect();
            let mut rule = json!({"names": names, "action": call.action});
            if let Some(errno) = call.errno_ret {
                rule["errnoRet"] = json!(errno);
            }
            if !call.args.is_empty() {
                rule["args"] =
                    json!(call.args.iter().map(|a| json!({
                    "index": a.index, "value": a.value, "valueTwo": a.value_two, "op": a.op,
                })).collect::<Vec<_>>());
            }
            rule
        })
        .collect();
    let mut section = json!({
        "defaultAction": profile.default_action,
        "architectures": architectures,
        "syscalls": syscalls,
    });
    if let Some(errno) = profile.default_errno_ret {
        section["defaultErrnoRet"] = json!(errno);
    }
    if !profile.flags.is_empty() {
        section["flags"] = json!(profile.flags);
    }
    section
}

#[cfg(test)]
mod tests {
    use super::*;

    fn amd64(kernel: (u32, u32)) -> Host {
        Host {
            go_arch: "amd64",
            scmp_arch: "SCMP_ARCH_X86_64",
            kernel: Some(kernel),
        }
    }

    fn rules_for<'a>(section: &'a Value, name: &str) -> Vec<&'a Value> {
        section["syscalls"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["names"].as_array().unwrap().iter().any(|n| n == name))
            .collect()
    }

    #[test]
    fn default_profile_follows_capabilities_arch_and_kernel() {
        let default_caps: Vec<String> = ["CAP_CHOWN", "CAP_NET_RAW", "CAP_SYS_CHROOT"]
            .map(String::from)
            .into();
        let s = resolve(&default_profile(), &default_caps, &amd64((6, 1)));
        assert_eq!(s["defaultAction"], "SCMP_ACT_ERRNO");
        assert_eq!(s["defaultErrnoRet"], 1);
        assert_eq!(
            s["architectures"],
            json!(["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"])
        );
        // Without CAP_SYS_ADMIN: clone only without namespace flags, clone3 ENOSYS,
        // no mount or unshare.
        let clone = rules_for(&s, "clone");
        assert_eq!(clone.len(), 1);
        assert_eq!(clone[0]["args"][0]["op"], "SCMP_CMP_MASKED_EQ");
        assert_eq!(clone[0]["args"][0]["value"], 0x7E02_0000u64);
        let clone3 = rules_for(&s, "clone3");
        assert_eq!(
            (clone3.len(), &clone3[0]["action"], &clone3[0]["errnoRet"]),
            (1, &json!("SCMP_ACT_ERRNO"), &json!(38))
        );
        assert!(rules_for(&s, "mount").is_empty());
        assert!(rules_for(&s, "unshare").is_empty());
        assert_eq!(rules_for(&s, "chroot").len(), 1);
        assert_eq!(rules_for(&s, "arch_prctl").len(), 1);
        assert_eq!(rules_for(&s, "ptrace").len(), 1, "ptrace from 4.8");
        assert_eq!(rules_for(&s, "personality").len(), 5);

        // With CAP_SYS_ADMIN: clone, clone3, mount, unshare allowed outright.
        let admin: Vec<String> = ["CAP_SYS_ADMIN"].map(String::from).into();
        let s = resolve(&default_profile(), &admin, &amd64((6, 1)));
        let clone = rules_for(&s, "clone");
        assert_eq!(clone.len(), 1);
        assert!(clone[0].get("args").is_none());
        assert_eq!(rules_for(&s, "clone3")[0]["action"], "SCMP_ACT_ALLOW");
        assert_eq!(rules_for(&s, "mount").len(), 1);
        assert!(rules_for(&s, "chroot").is_empty());

        // An old kernel gets no ptrace; another architecture no arch_prctl.
        let s = resolve(&default_profile(), &[], &amd64((4, 4)));
        assert!(rules_for(&s, "ptrace").is_empty());
        let arm = Host {
            go_arch: "arm64",
            scmp_arch: "SCMP_ARCH_AARCH64",
            kernel: Some((6, 1)),
        };
        let s = resolve(&default_profile(), &[], &arm);
        assert!(rules_for(&s, "arch_prctl").is_empty());
        assert_eq!(
            s["architectures"],
            json!(["SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"])
        );
    }

    #[test]
    fn a_custom_profile_keeps_its_architectures_and_legacy_names() {
        let p = Profile::parse(
            r#"{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_X86_64"],
                "syscalls":[{"name":"mkdir","action":"SCMP_ACT_ERRNO","errnoRet":13},
                            {"names":["reboot"],"action":"SCMP_ACT_KILL","excludes":{"caps":["CAP_SYS_BOOT"]}}]}"#,
        )
        .unwrap();
        let s = resolve(&p, &[], &amd64((6, 1)));
        assert_eq!(s["architectures"], json!(["SCMP_ARCH_X86_64"]));
        assert_eq!(rules_for(&s, "mkdir")[0]["errnoRet"], 13);
        assert_eq!(rules_for(&s, "reboot").len(), 1);
        let s = resolve(&p, &["CAP_SYS_BOOT".into()], &amd64((6, 1)));
        assert!(rules_for(&s, "reboot").is_empty());
    }
}
