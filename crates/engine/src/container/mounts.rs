//! A container's mounts resolved at create: bind sources made absolute (and created for
//! `-v`, refused missing for `--mount`), named volumes found or created, anonymous volumes
//! created (the user's `-v /path` and the image's `VOLUME`s not otherwise mounted),
//! duplicates refused. The record keeps them as Docker's `MountPoint`s (`inspect`'s
//! `Mounts`), and each start turns them into runtime-spec mounts.

use std::fs;
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::ContainerError;
use super::mount_spec::{MountRequest, MountType};
use crate::volume::{ANONYMOUS_LABEL, Backing, VolumeError, VolumeRequest, Volumes};

/// Docker's `MountPoint` as `inspect` prints it, plus what a start needs.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct MountPoint {
    #[serde(rename = "Type")]
    pub kind: MountType,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    pub source: String,
    pub destination: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub driver: String,
    pub mode: String,
    #[serde(rename = "RW")]
    pub rw: bool,
    pub propagation: String,
    /// Fill the volume from the image's content at the first start if it is empty.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub copy_data: bool,
    /// A volume created for this container alone (`rm -v` and `--rm` remove it).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub anonymous: bool,
    /// tmpfs options for the kernel (`size=`, `mode=`, ...).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tmpfs_options: Vec<String>,
    /// A volume backed by a host directory (`type=none,o=bind,device=`): what is bound.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub volume_device: String,
    /// ... bound read-only (`o=bind,ro`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub volume_device_ro: bool,
    /// A tmpfs volume (`type=tmpfs`): its options. Running users share one tmpfs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume_tmpfs: Option<Vec<String>>,
}

/// A running container that has a tmpfs volume mounted: its pid and where the volume is
/// in it. A new user of the volume clones that mount (so all share one tmpfs).
#[derive(Clone, Debug)]
pub struct TmpfsHolder {
    pub volume: String,
    pub pid: i32,
    pub destination: String,
}

impl MountPoint {
    /// The entry of `inspect`'s `Mounts` (berth's own fields left out).
    pub fn inspect_json(&self) -> Value {
        let mut v = json!({"Type": self.kind.as_str()});
        if !self.name.is_empty() {
            v["Name"] = json!(self.name);
        }
        v["Source"] = json!(self.source);
        v["Destination"] = json!(self.destination);
        if !self.driver.is_empty() {
            v["Driver"] = json!(self.driver);
        }
        v["Mode"] = json!(self.mode);
        v["RW"] = json!(self.rw);
        v["Propagation"] = json!(self.propagation);
        v
    }

    /// The runtime-spec mount; `first_start` asks to fill an empty volume from the image;
    /// `holders` are the running users of tmpfs volumes.
    pub fn spec_json(&self, first_start: bool, holders: &[TmpfsHolder]) -> Value {
        if let Some(tmpfs) = &self.volume_tmpfs {
            let mut options = vec!["nosuid".to_string(), "nodev".to_string()];
            if !self.rw {
                options.push("ro".into());
            }
            return match holders.iter().find(|h| h.volume == self.name) {
                Some(h) => {
                    options.push("rbind".into());
                    options.push(format!(
                        "{}/proc/{}/ns/mnt",
                        crate::runtime::MOUNT_NS_OPTION,
                        h.pid
                    ));
                    json!({"destination": self.destination, "type": "bind", "source": h.destination, "options": options})
                }
                None => {
                    options.extend(tmpfs.iter().cloned());
                    json!({"destination": self.destination, "type": "tmpfs", "source": "tmpfs", "options": options})
                }
            };
        }
        match self.kind {
            MountType::Tmpfs => {
                let mut options = vec![
                    "nosuid".to_string(),
                    "nodev".to_string(),
                    "noexec".to_string(),
                ];
                if !self.rw {
                    options.push("ro".into());
                }
                options.extend(self.tmpfs_options.iter().cloned());
                json!({"destination": self.destination, "type": "tmpfs", "source": "tmpfs", "options": options})
            }
            MountType::Bind | MountType::Volume => {
                let mut options = vec!["rbind".to_string()];
                options.push(if self.propagation.is_empty() {
                    "rprivate".into()
                } else {
                    self.propagation.clone()
                });
                if !self.rw {
                    options.push("ro".into());
                }
                if self.volume_device_ro {
                    options.push("ro".into());
                }
                if first_start && self.copy_data {
                    options.push(crate::runtime::COPY_UP_OPTION.into());
                }
                let source = if self.volume_device.is_empty() {
                    &self.source
                } else {
                    &self.volume_device
                };
                json!({"destination": self.destination, "type": "bind", "source": source, "options": options})
            }
        }
    }
}

/// The mounts of a new container and the anonymous volumes made for it (removed again
/// if the create fails later; a named volume it created stays, as Docker's does, since
/// another container may already have chosen it).
pub struct Resolved {
    pub points: Vec<MountPoint>,
    pub created: Vec<String>,
}

/// Checks that need no change on the host, done before anything is created: targets are
/// unique, `--mount` bind sources exist.
pub fn check(requests: &[MountRequest]) -> Result<(), ContainerError> {
    let mut seen: Vec<&str> = Vec::new();
    for r in requests {
        let target = r.target.trim_end_matches('/');
        if seen.contains(&target) {
            return Err(ContainerError::Invalid(format!(
                "Duplicate mount point: {}",
                r.target
            )));
        }
        seen.push(target);
        if r.kind == MountType::Bind
            && !r.create_source
            && let Some(source) = &r.source
            && !Path::new(source).exists()
        {
            return Err(ContainerError::Invalid(format!(
                "invalid mount config for type \"bind\": bind source path does not exist: {source}"
            )));
        }
    }
    Ok(())
}

/// Creates what the mounts need (missing `-v` bind sources, volumes) and returns the
/// mount points; `image_volumes` are the image's `VOLUME` paths.
pub fn resolve(
    requests: &[MountRequest],
    inherited: &[MountPoint],
    image_volumes: &[String],
    volumes: &Volumes,
) -> Result<Resolved, ContainerError> {
    let mut resolved = Resolved {
        points: Vec::new(),
        created: Vec::new(),
    };
    let result = (|| {
        for r in requests {
            let point = resolve_one(r, volumes, &mut resolved.created)?;
            resolved.points.push(point);
        }
        // `--volumes-from`: below the user's own mounts, above the image's volumes.
        for point in inherited {
            let taken = resolved
                .points
                .iter()
                .any(|p| same_place(&p.destination, &point.destination));
            if !taken {
                resolved.points.push(point.clone());
            }
        }
        for path in image_volumes {
            let taken = resolved
                .points
                .iter()
                .any(|p| same_place(&p.destination, path));
            if !taken {
                let mut request = super::mount_spec::parse_volume_flag(path)?;
                request.mode.clear();
                let point = resolve_one(&request, volumes, &mut resolved.created)?;
                resolved.points.push(point);
            }
        }
        Ok(())
    })();
    match result {
        Ok(()) => Ok(resolved),
        Err(e) => {
            remove_created(volumes, &resolved.created);
            Err(e)
        }
    }
}

fn same_place(a: &str, b: &str) -> bool {
    a.trim_end_matches('/') == b.trim_end_matches('/')
}

/// `--volumes-from <container>[:ro|:rw]`: the bind and volume mounts of `source` (Docker
/// leaves its tmpfs mounts out), read-only or read-write as asked, else as they are there.
pub fn inherit(source: &[MountPoint], mode: Option<&str>) -> Vec<MountPoint> {
    source
        .iter()
        .filter(|p| p.kind != MountType::Tmpfs)
        .map(|p| {
            let mut p = p.clone();
            match mode {
                Some("ro") => p.rw = false,
                Some("rw") => p.rw = true,
                _ => {}
            }
            p.copy_data = false;
            p
        })
        .collect()
}

/// Removes the anonymous volumes a failed create made: nobody else knows their names.
pub fn remove_created(volumes: &Volumes, names: &[String]) {
    for name in names {
        volumes.discard(name);
    }
}

fn volume_error(e: VolumeError) -> ContainerError {
    ContainerError::Invalid(e.to_string())
}

fn resolve_one(
    r: &MountRequest,
    volumes: &Volumes,
    created: &mut Vec<String>,
) -> Result<MountPoint, ContainerError> {
    let mut point = MountPoint {
        kind: r.kind,
        name: String::new(),
        source: String::new(),
        destination: r.target.clone(),
        driver: String::new(),
        mode: r.mode.clone(),
        rw: !r.read_only,
        propagation: String::new(),
        copy_data: false,
        anonymous: false,
        tmpfs_options: Vec::new(),
        volume_device: String::new(),
        volume_device_ro: false,
        volume_tmpfs: None,
    };
    match r.kind {
        MountType::Bind => {
            let source = r.source.clone().unwrap_or_default();
            if r.create_source && !Path::new(&source).exists() {
                fs::create_dir_all(&source)
                    .map_err(|e| ContainerError::io("create the bind source", &source, e))?;
            }
            point.source = source;
            point.propagation = r.propagation.clone();
        }
        MountType::Volume => {
            let existed = match &r.source {
                Some(name) => match volumes.get(name) {
                    Ok(_) => true,
                    Err(VolumeError::NotFound(_)) => false,
                    Err(e) => return Err(volume_error(e)),
                },
                None => false,
            };
            let mut request = VolumeRequest {
                name: r.source.clone(),
                ..VolumeRequest::default()
            };
            if r.source.is_none() {
                request.labels.insert(ANONYMOUS_LABEL.into(), String::new());
            }
            let volume = volumes.create(request).map_err(volume_error)?;
            if !existed && r.source.is_none() {
                created.push(volume.name.clone());
            }
            match volume.backing() {
                Backing::Directory => {}
                Backing::Bind { device, read_only } => {
                    // Docker finds a missing device only when the container starts.
                    if !Path::new(&device).is_dir() {
                        return Err(ContainerError::Invalid(format!(
                            "failed to mount local volume {}: device {device}: no such directory (create it, or the volume with another device)",
                            volume.name
                        )));
                    }
                    point.volume_device = device;
                    point.volume_device_ro = read_only;
                }
                Backing::Tmpfs { options } => point.volume_tmpfs = Some(options),
            }
            point.anonymous = r.source.is_none();
            point.source = volume.mountpoint.clone();
            point.name = volume.name;
            point.driver = volume.driver;
            point.copy_data = !r.no_copy;
        }
        MountType::Tmpfs => {
            if let Some(size) = r.tmpfs_size {
                point.tmpfs_options.push(format!("size={size}"));
            }
            if let Some(mode) = r.tmpfs_mode {
                point.tmpfs_options.push(format!("mode={mode:o}"));
            }
            point.tmpfs_options.extend(r.tmpfs_options.iter().cloned());
        }
    }
    Ok(point)
}
