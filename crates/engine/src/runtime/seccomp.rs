//! The OCI `linux.seccomp` section compiled to a BPF program with libseccomp, in the
//! parent (before the clone), so that the child only has to hand the bytes to seccomp(2).
//! Rules as runc applies them: names the kernel's tables do not know are skipped, a rule
//! whose action is the default action is redundant and skipped, and conditions on the same
//! argument are ORed as separate rules (libseccomp ANDs the conditions of one rule and
//! refuses two on one argument).

use std::io::{Read, Seek};
use std::path::Path;
use std::str::FromStr;

use libseccomp::{
    ScmpAction, ScmpArch, ScmpArgCompare, ScmpCompareOp, ScmpFilterContext, ScmpSyscall,
};
use oci_spec::runtime::{LinuxSeccomp, LinuxSeccompAction, LinuxSeccompOperator, LinuxSyscall};

use sha2::{Digest, Sha256};

use super::SpawnError;

const EPERM: u32 = 1;
const ENOSYS: i32 = 38;

const SECCOMP_FILTER_FLAG_LOG: u32 = 2;
const SECCOMP_FILTER_FLAG_SPEC_ALLOW: u32 = 4;

/// A compiled filter and the seccomp(2) flags to load it with.
#[derive(Debug, Clone)]
pub struct Filter {
    pub program: Vec<libc::sock_filter>,
    pub flags: u32,
}

fn invalid(message: String) -> SpawnError {
    SpawnError::InvalidSpec(format!("seccomp: {message}"))
}

fn action(action: LinuxSeccompAction, errno: Option<u32>) -> ScmpAction {
    match action {
        LinuxSeccompAction::ScmpActKill | LinuxSeccompAction::ScmpActKillThread => {
            ScmpAction::KillThread
        }
        LinuxSeccompAction::ScmpActKillProcess => ScmpAction::KillProcess,
        LinuxSeccompAction::ScmpActTrap => ScmpAction::Trap,
        LinuxSeccompAction::ScmpActErrno => ScmpAction::Errno(errno.unwrap_or(EPERM) as i32),
        LinuxSeccompAction::ScmpActNotify => ScmpAction::Notify,
        LinuxSeccompAction::ScmpActTrace => ScmpAction::Trace(errno.unwrap_or(EPERM) as u16),
        LinuxSeccompAction::ScmpActLog => ScmpAction::Log,
        LinuxSeccompAction::ScmpActAllow => ScmpAction::Allow,
    }
}

/// [`compile`], through a cache of programs in `cache` (when given): libseccomp takes
/// about 8 ms for Docker's default profile on three architectures, most of a container's
/// start, and nearly every container of a host has one of a handful of sections. A file
/// is named by the sha256 of libseccomp's version and the section, written whole (temp
/// file, then rename), and used only if it holds whole instructions (the kernel checks the
/// program itself when it is loaded); a cache that cannot be written is only slower.
pub fn compile_cached(section: &LinuxSeccomp, cache: Option<&Path>) -> Result<Filter, SpawnError> {
    let Some(dir) = cache else {
        return compile(section);
    };
    let version = libseccomp::ScmpVersion::current()
        .map(|v| format!("{}.{}.{}", v.major, v.minor, v.micro))
        .unwrap_or_default();
    let mut hasher = Sha256::new();
    hasher.update(version.as_bytes());
    hasher.update(b"\0");
    hasher.update(serde_json::to_vec(section).map_err(|e| invalid(format!("serialize: {e}")))?);
    let path = dir.join(format!("{}.bpf", hex::encode(hasher.finalize())));
    if let Some(program) = std::fs::read(&path).ok().and_then(|b| decode(&b)) {
        return Ok(Filter {
            program,
            flags: filter_flags(section),
        });
    }
    let filter = compile(section)?;
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    let written = std::fs::create_dir_all(dir)
        .and_then(|()| std::fs::write(&tmp, encode(&filter.program)))
        .and_then(|()| std::fs::rename(&tmp, &path));
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    Ok(filter)
}

pub fn compile(section: &LinuxSeccomp) -> Result<Filter, SpawnError> {
    let default = action(section.default_action(), section.default_errno_ret());
    if matches!(default, ScmpAction::Notify) {
        return Err(invalid("SCMP_ACT_NOTIFY is not supported".into()));
    }
    let mut ctx = ScmpFilterContext::new(default).map_err(|e| invalid(format!("init: {e}")))?;
    // A process of an architecture the profile does not list gets ENOSYS, not death.
    ctx.set_act_badarch(ScmpAction::Errno(ENOSYS))
        .map_err(|e| invalid(format!("bad-arch action: {e}")))?;
    for arch in section.architectures().iter().flatten() {
        let name = serde_json::to_value(arch)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        let arch = ScmpArch::from_str(&name)
            .map_err(|_| invalid(format!("unknown architecture {name:?}")))?;
        ctx.add_arch(arch)
            .map_err(|e| invalid(format!("architecture {name}: {e}")))?;
    }
    for rule in section.syscalls().iter().flatten() {
        add_rule(&mut ctx, rule, default)?;
    }
    Ok(Filter {
        program: export(&ctx)?,
        flags: filter_flags(section),
    })
}

fn filter_flags(section: &LinuxSeccomp) -> u32 {
    let mut flags = 0;
    for flag in section.flags().iter().flatten() {
        match serde_json::to_value(flag)
            .ok()
            .as_ref()
            .and_then(|v| v.as_str())
        {
            Some("SECCOMP_FILTER_FLAG_LOG") => flags |= SECCOMP_FILTER_FLAG_LOG,
            Some("SECCOMP_FILTER_FLAG_SPEC_ALLOW") => flags |= SECCOMP_FILTER_FLAG_SPEC_ALLOW,
            // One thread loads the filter before exec: nothing to synchronize.
            _ => {}
        }
    }
    flags
}

fn add_rule(
    ctx: &mut ScmpFilterContext,
    rule: &LinuxSyscall,
    default: ScmpAction,
) -> Result<(), SpawnError> {
    let act = action(rule.action(), rule.errno_ret());
    if act == default {
        return Ok(());
    }
    if matches!(act, ScmpAction::Notify) {
        return Err(invalid("SCMP_ACT_NOTIFY is not supported".into()));
    }
    let mut conditions = Vec::new();
    for arg in rule.args().iter().flatten() {
        let op = match arg.op() {
            LinuxSeccompOperator::ScmpCmpNe => ScmpCompareOp::NotEqual,
            LinuxSeccompOperator::ScmpCmpLt => ScmpCompareOp::Less,
            LinuxSeccompOperator::ScmpCmpLe => ScmpCompareOp::LessOrEqual,
            LinuxSeccompOperator::ScmpCmpEq => ScmpCompareOp::Equal,
            LinuxSeccompOperator::ScmpCmpGe => ScmpCompareOp::GreaterEqual,
            LinuxSeccompOperator::ScmpCmpGt => ScmpCompareOp::Greater,
            LinuxSeccompOperator::ScmpCmpMaskedEq => ScmpCompareOp::MaskedEqual(arg.value()),
        };
        let datum = match op {
            ScmpCompareOp::MaskedEqual(_) => arg.value_two().unwrap_or(0),
            _ => arg.value(),
        };
        conditions.push(ScmpArgCompare::new(arg.index() as u32, op, datum));
    }
    let mut indices: Vec<u32> = rule
        .args()
        .iter()
        .flatten()
        .map(|a| a.index() as u32)
        .collect();
    indices.sort_unstable();
    let same_argument_twice = indices.windows(2).any(|w| w[0] == w[1]);
    for name in rule.names() {
        // A name this libseccomp does not know (a newer syscall, a typo) is skipped, as
        // runc does; the rest of the profile still applies.
        let Ok(syscall) = ScmpSyscall::from_name(name) else {
            continue;
        };
        let added = if conditions.is_empty() {
            ctx.add_rule(act, syscall).map(|_| ())
        } else if same_argument_twice {
            conditions.iter().try_for_each(|c| {
                ctx.add_rule_conditional(act, syscall, std::slice::from_ref(c))
                    .map(|_| ())
            })
        } else {
            ctx.add_rule_conditional(act, syscall, &conditions)
                .map(|_| ())
        };
        added.map_err(|e| invalid(format!("rule for {name}: {e}")))?;
    }
    Ok(())
}

/// The BPF program as libseccomp writes it (to a memfd: libseccomp 2.5 exports only to an
/// fd), read back as `sock_filter`s.
fn export(ctx: &ScmpFilterContext) -> Result<Vec<libc::sock_filter>, SpawnError> {
    let io = |what: &str, e: std::io::Error| invalid(format!("{what}: {e}"));
    let memfd = rustix::fs::memfd_create("berth-seccomp", rustix::fs::MemfdFlags::CLOEXEC)
        .map_err(|e| io("memfd", e.into()))?;
    let mut file = std::fs::File::from(memfd);
    ctx.export_bpf(&file)
        .map_err(|e| invalid(format!("export: {e}")))?;
    let mut bytes = Vec::new();
    file.rewind().map_err(|e| io("rewind", e))?;
    file.read_to_end(&mut bytes).map_err(|e| io("read", e))?;
    decode(&bytes).ok_or_else(|| {
        invalid(format!(
            "libseccomp exported {} bytes, not whole instructions",
            bytes.len()
        ))
    })
}

const INSTRUCTION: usize = std::mem::size_of::<libc::sock_filter>();

/// `sock_filter`s from their in-memory bytes (native endian), if whole and not empty.
fn decode(bytes: &[u8]) -> Option<Vec<libc::sock_filter>> {
    if bytes.is_empty() || !bytes.len().is_multiple_of(INSTRUCTION) {
        return None;
    }
    Some(
        bytes
            .chunks_exact(INSTRUCTION)
            .map(|c| libc::sock_filter {
                code: u16::from_ne_bytes([c[0], c[1]]),
                jt: c[2],
                jf: c[3],
                k: u32::from_ne_bytes([c[4], c[5], c[6], c[7]]),
            })
            .collect(),
    )
}

fn encode(program: &[libc::sock_filter]) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(program.len() * INSTRUCTION);
    for i in program {
        bytes.extend_from_slice(&i.code.to_ne_bytes());
        bytes.extend_from_slice(&[i.jt, i.jf]);
        bytes.extend_from_slice(&i.k.to_ne_bytes());
    }
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seccomp::{Host, default_profile, resolve};

    fn section(value: serde_json::Value) -> LinuxSeccomp {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn compiles_the_default_profile_for_default_and_privileged_capabilities() {
        for caps in [vec![], vec!["CAP_SYS_ADMIN".to_string()]] {
            let s = section(resolve(&default_profile(), &caps, &Host::current()));
            let f = compile(&s).unwrap();
            assert!(f.program.len() > 100, "{} instructions", f.program.len());
            assert_eq!(f.flags, 0);
        }
    }

    #[test]
    fn skips_unknown_names_and_redundant_rules_and_ors_conditions_on_one_argument() {
        let s = section(serde_json::json!({
            "defaultAction": "SCMP_ACT_ALLOW",
            "flags": ["SECCOMP_FILTER_FLAG_LOG"],
            "syscalls": [
                {"names": ["no_such_syscall", "getpid"], "action": "SCMP_ACT_ALLOW"},
                {"names": ["mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13},
                {"names": ["personality"], "action": "SCMP_ACT_ERRNO", "args": [
                    {"index": 0, "value": 1, "op": "SCMP_CMP_EQ"},
                    {"index": 0, "value": 2, "op": "SCMP_CMP_EQ"}]}
            ]
        }));
        let f = compile(&s).unwrap();
        assert_eq!(f.flags, SECCOMP_FILTER_FLAG_LOG);
        // The errno for mkdirat (SECCOMP_RET_ERRNO | 13) is in the program.
        assert!(f.program.iter().any(|i| i.k == 0x0005_0000 | 13));
    }

    #[test]
    fn the_cache_gives_back_the_program_it_stored_and_replaces_a_torn_file() {
        let dir = std::env::temp_dir().join(format!("berth-seccomp-cache-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let s = section(resolve(&default_profile(), &[], &Host::current()));
        let fresh = compile_cached(&s, Some(&dir)).unwrap();
        let files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        assert_eq!(files.len(), 1, "{files:?}");
        let cached = compile_cached(&s, Some(&dir)).unwrap();
        assert_eq!(encode(&cached.program), encode(&fresh.program));
        std::fs::write(&files[0], [1, 2, 3]).unwrap();
        let again = compile_cached(&s, Some(&dir)).unwrap();
        assert_eq!(encode(&again.program), encode(&fresh.program));
        assert_eq!(std::fs::read(&files[0]).unwrap(), encode(&fresh.program));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn refuses_notify() {
        let bad = section(serde_json::json!({"defaultAction": "SCMP_ACT_NOTIFY"}));
        assert!(
            compile(&bad)
                .unwrap_err()
                .to_string()
                .contains("SCMP_ACT_NOTIFY")
        );
    }
}
