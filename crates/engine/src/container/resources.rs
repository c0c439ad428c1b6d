//! Resource limits of a request checked against each other and against what the host's
//! cgroups offer, as Docker's daemon does at create (`verifyPlatformContainerResources`):
//! contradictions are errors; a knob the host lacks is discarded with Docker's warning.

use std::os::unix::fs::FileTypeExt;

use super::ContainerError;
use super::config::{HostConfig, ThrottleDevice};
use crate::runtime::CgroupSupport;

/// Docker's floor for `--memory` and `--memory-reservation`.
pub const MIN_MEMORY: i64 = 6 * 1024 * 1024;

/// Whether `host` asks for any limit at all (most containers do not, and then the host's
/// cgroups need not be read at create).
pub fn requested(host: &HostConfig) -> bool {
    host.memory != 0
        || host.memory_swap > 0
        || host.memory_reservation != 0
        || host.oom_kill_disable == Some(true)
        || host.pids_limit.is_some_and(|l| l > 0)
        || host.nano_cpus != 0
        || host.cpu_shares != 0
        || host.cpu_period != 0
        || host.cpu_quota != 0
        || !host.cpuset_cpus.is_empty()
        || !host.cpuset_mems.is_empty()
        || host.blkio_weight != 0
        || !host.blkio_device_read_bps.is_empty()
        || !host.blkio_device_write_bps.is_empty()
        || !host.blkio_device_read_iops.is_empty()
        || !host.blkio_device_write_iops.is_empty()
}

/// Checks `host`, clears what the host cannot apply; the warnings to show.
pub fn verify(host: &mut HostConfig, sys: &CgroupSupport) -> Result<Vec<String>, ContainerError> {
    let bad = |m: &str| Err(ContainerError::Invalid(m.to_string()));
    let mut warnings = Vec::new();
    let mut warn = |m: &str| warnings.push(m.to_string());

    if host.memory > 0 && host.memory < MIN_MEMORY {
        return bad("minimum memory limit allowed is 6MB");
    }
    // Docker's default: swap as large as the memory (memory plus swap twice the memory).
    if host.memory > 0 && host.memory_swap == 0 {
        host.memory_swap = host.memory * 2;
    }
    if host.memory > 0 && !sys.memory {
        warn(
            "Your kernel does not support memory limit capabilities or the cgroup is not mounted. Limitation discarded.",
        );
        host.memory = 0;
        host.memory_swap = -1;
    }
    if host.memory_swap > 0 && !sys.swap {
        warn(
            "Your kernel does not support swap limit capabilities or the cgroup is not mounted. Memory limited without swap.",
        );
        host.memory_swap = -1;
    }
    if host.memory > 0 && host.memory_swap > 0 && host.memory_swap < host.memory {
        return bad(
            "minimum memoryswap limit should be larger than memory limit, see usage (--memory-swap is memory plus swap)",
        );
    }
    if host.memory == 0 && host.memory_swap > 0 {
        return bad(
            "you should always set the memory limit when using memoryswap limit, see usage",
        );
    }
    if host.memory_reservation > 0 && !sys.memory_reservation {
        warn(
            "Your kernel does not support memory soft limit capabilities or the cgroup is not mounted. Limitation discarded.",
        );
        host.memory_reservation = 0;
    }
    if host.memory_reservation > 0 && host.memory_reservation < MIN_MEMORY {
        return bad("minimum memory reservation allowed is 6MB");
    }
    if host.memory > 0 && host.memory_reservation > 0 && host.memory < host.memory_reservation {
        return bad(
            "minimum memory limit can not be less than memory reservation limit, see usage",
        );
    }
    if host.oom_kill_disable == Some(true) && !sys.oom_kill_disable {
        warn("Your kernel does not support OomKillDisable. OomKillDisable discarded.");
        host.oom_kill_disable = Some(false);
    }
    if host.oom_kill_disable == Some(true) && host.memory == 0 {
        warn(
            "OOM killer is disabled for the container, but no memory limit is set, this can result in the system running out of resources.",
        );
    }
    if host.pids_limit.is_some_and(|l| l > 0) && !sys.pids {
        warn(
            "Your kernel does not support PIDs limit capabilities or the cgroup is not mounted. PIDs limit discarded.",
        );
        host.pids_limit = None;
    }

    if host.nano_cpus > 0 && host.cpu_period > 0 {
        return bad("conflicting options: Nano CPUs and CPU Period cannot both be set");
    }
    if host.nano_cpus > 0 && host.cpu_quota > 0 {
        return bad("conflicting options: Nano CPUs and CPU Quota cannot both be set");
    }
    if host.nano_cpus > 0 && !sys.cpu_cfs {
        return bad(
            "NanoCPUs can not be set, as your kernel does not support CPU CFS scheduler or the cgroup is not mounted",
        );
    }
    if host.cpu_shares > 0 && !sys.cpu_shares {
        warn(
            "Your kernel does not support CPU shares or the cgroup is not mounted. Shares discarded.",
        );
        host.cpu_shares = 0;
    }
    if host.cpu_period > 0 && !sys.cpu_cfs {
        warn("Your kernel does not support CPU CFS scheduler. CPU period discarded.");
        host.cpu_period = 0;
    }
    if host.cpu_period != 0 && !(1000..=1_000_000).contains(&host.cpu_period) {
        return bad(
            "CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)",
        );
    }
    if host.cpu_quota > 0 && !sys.cpu_cfs {
        warn("Your kernel does not support CPU CFS scheduler. CPU quota discarded.");
        host.cpu_quota = 0;
    }
    if host.cpu_quota > 0 && host.cpu_quota < 1000 {
        return bad("CPU cfs quota can not be less than 1ms (i.e. 1000)");
    }
    if (!host.cpuset_cpus.is_empty() || !host.cpuset_mems.is_empty()) && !sys.cpuset {
        warn("Your kernel does not support cpuset or the cgroup is not mounted. Cpuset discarded.");
        host.cpuset_cpus.clear();
        host.cpuset_mems.clear();
    }
    check_cpuset(&host.cpuset_cpus, &sys.cpus, "cpus", "CPUs")?;
    check_cpuset(&host.cpuset_mems, &sys.mems, "mems", "memory nodes")?;

    if host.blkio_weight > 0 && !sys.blkio_weight {
        warn(
            "Your kernel does not support Block I/O weight or the cgroup is not mounted. Weight discarded.",
        );
        host.blkio_weight = 0;
    }
    if host.blkio_weight > 0 && !(10..=1000).contains(&host.blkio_weight) {
        return bad("range of blkio weight is from 10 to 1000");
    }
    let throttles = [
        (
            &mut host.blkio_device_read_bps,
            sys.read_bps,
            "Your kernel does not support BPS Block I/O read limit or the cgroup is not mounted. Block I/O BPS read limit discarded.",
        ),
        (
            &mut host.blkio_device_write_bps,
            sys.write_bps,
            "Your kernel does not support BPS Block I/O write limit or the cgroup is not mounted. Block I/O BPS write limit discarded.",
        ),
        (
            &mut host.blkio_device_read_iops,
            sys.read_iops,
            "Your kernel does not support IOPS Block read limit or the cgroup is not mounted. Block I/O IOPS read limit discarded.",
        ),
        (
            &mut host.blkio_device_write_iops,
            sys.write_iops,
            "Your kernel does not support IOPS Block write limit or the cgroup is not mounted. Block I/O IOPS write limit discarded.",
        ),
    ];
    for (devices, supported, warning) in throttles {
        if !devices.is_empty() && !supported {
            warn(warning);
            devices.clear();
        }
        for d in devices.iter() {
            block_device(d)?;
        }
    }
    Ok(warnings)
}

/// The `major:minor` of a throttled device, which must be a block device on the host.
pub fn block_device(d: &ThrottleDevice) -> Result<(u32, u32), ContainerError> {
    let meta = std::fs::metadata(&d.path).map_err(|e| {
        ContainerError::Invalid(format!(
            "cannot throttle {}: {}",
            d.path,
            crate::runtime::errno_text(&e)
        ))
    })?;
    if !meta.file_type().is_block_device() {
        return Err(ContainerError::Invalid(format!(
            "cannot throttle {}: not a block device",
            d.path
        )));
    }
    let rdev = std::os::unix::fs::MetadataExt::rdev(&meta);
    Ok((rustix::fs::major(rdev), rustix::fs::minor(rdev)))
}

/// `--cpuset-cpus 0-2,4` against the host's `0-3`: syntax, then availability (Docker's
/// `isCpusetListAvailable`).
fn check_cpuset(
    requested: &str,
    available: &str,
    what: &str,
    plural: &str,
) -> Result<(), ContainerError> {
    if requested.is_empty() {
        return Ok(());
    }
    let wanted = parse_list(requested).ok_or_else(|| {
        ContainerError::Invalid(format!("invalid value {requested} for cpuset {what}"))
    })?;
    let have = parse_list(available).unwrap_or_default();
    if wanted.iter().any(|n| !have.contains(n)) {
        return Err(ContainerError::Invalid(format!(
            "requested {plural} are not available - requested {requested}, available: {available}"
        )));
    }
    Ok(())
}

/// The kernel's list format: `0-3,5,7-8`.
fn parse_list(list: &str) -> Option<Vec<u32>> {
    let mut out = Vec::new();
    for part in list.trim().split(',') {
        match part.split_once('-') {
            Some((a, b)) => {
                let (a, b): (u32, u32) = (a.parse().ok()?, b.parse().ok()?);
                if a > b || b - a > 4096 {
                    return None;
                }
                out.extend(a..=b);
            }
            None => out.push(part.parse().ok()?),
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all() -> CgroupSupport {
        CgroupSupport {
            memory: true,
            swap: true,
            memory_reservation: true,
            oom_kill_disable: true,
            cpu_shares: true,
            cpu_cfs: true,
            cpuset: true,
            pids: true,
            blkio_weight: true,
            read_bps: true,
            write_bps: true,
            read_iops: true,
            write_iops: true,
            cpus: "0-1".into(),
            mems: "0".into(),
        }
    }

    fn error(host: HostConfig) -> String {
        let mut host = host;
        verify(&mut host, &all()).unwrap_err().to_string()
    }

    #[test]
    fn contradictions_are_errors() {
        let mb = 1 << 20;
        let e = error(HostConfig {
            memory: 64 * mb,
            memory_swap: 32 * mb,
            ..Default::default()
        });
        assert!(
            e.starts_with("minimum memoryswap limit should be larger"),
            "{e}"
        );
        let e = error(HostConfig {
            memory_swap: 32 * mb,
            ..Default::default()
        });
        assert!(
            e.starts_with("you should always set the memory limit"),
            "{e}"
        );
        let e = error(HostConfig {
            memory: 8 * mb,
            memory_reservation: 16 * mb,
            ..Default::default()
        });
        assert!(
            e.starts_with("minimum memory limit can not be less than memory reservation"),
            "{e}"
        );
        let e = error(HostConfig {
            nano_cpus: 1,
            cpu_quota: 5000,
            ..Default::default()
        });
        assert_eq!(
            e,
            "conflicting options: Nano CPUs and CPU Quota cannot both be set"
        );
        let e = error(HostConfig {
            cpu_period: 500,
            ..Default::default()
        });
        assert!(
            e.starts_with("CPU cfs period can not be less than 1ms"),
            "{e}"
        );
        let e = error(HostConfig {
            blkio_weight: 5,
            ..Default::default()
        });
        assert_eq!(e, "range of blkio weight is from 10 to 1000");
        let e = error(HostConfig {
            cpuset_cpus: "0-3".into(),
            ..Default::default()
        });
        assert_eq!(
            e,
            "requested CPUs are not available - requested 0-3, available: 0-1"
        );
        let e = error(HostConfig {
            cpuset_mems: "x".into(),
            ..Default::default()
        });
        assert_eq!(e, "invalid value x for cpuset mems");
        let e = error(HostConfig {
            blkio_device_read_bps: vec![ThrottleDevice {
                path: "/dev/null".into(),
                rate: 1,
            }],
            ..Default::default()
        });
        assert_eq!(e, "cannot throttle /dev/null: not a block device");
    }

    #[test]
    fn missing_knobs_are_discarded_with_dockers_warning() {
        let sys = CgroupSupport {
            blkio_weight: false,
            swap: false,
            oom_kill_disable: false,
            ..all()
        };
        let mut host = HostConfig {
            memory: 64 << 20,
            memory_swap: 128 << 20,
            blkio_weight: 300,
            oom_kill_disable: Some(true),
            cpuset_cpus: "1".into(),
            ..Default::default()
        };
        let warnings = verify(&mut host, &sys).unwrap();
        assert_eq!(warnings.len(), 3, "{warnings:?}");
        assert!(warnings[0].contains("swap limit capabilities"));
        assert!(warnings[1].contains("OomKillDisable discarded"));
        assert!(warnings[2].contains("Block I/O weight"));
        assert_eq!(
            (host.memory_swap, host.blkio_weight, host.oom_kill_disable),
            (-1, 0, Some(false))
        );
        assert_eq!(host.cpuset_cpus, "1");
        let mut quiet = HostConfig {
            memory: 64 << 20,
            ..Default::default()
        };
        assert!(verify(&mut quiet, &all()).unwrap().is_empty());
    }

    #[test]
    fn nothing_requested_needs_no_host_lookup() {
        let mut none = HostConfig::default();
        assert!(!requested(&none));
        // With nothing asked, the checks pass on a host that offers nothing.
        assert!(
            verify(&mut none, &CgroupSupport::default())
                .unwrap()
                .is_empty()
        );
        assert!(requested(&HostConfig {
            cpu_shares: 2,
            ..Default::default()
        }));
    }

    #[test]
    fn cpu_lists_parse_like_the_kernels() {
        assert_eq!(parse_list("0-2,5").unwrap(), [0, 1, 2, 5]);
        assert!(parse_list("2-1").is_none());
        assert!(parse_list("a").is_none());
        assert!(parse_list("").is_none());
    }
}
