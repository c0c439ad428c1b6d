//! The container record (`containers/<id>/container.json`): what was asked for, in
//! Docker's shapes, written once at create (and on rename), and the state file
//! (`containers/<id>/state.json`): small, rewritten at every transition.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::ContainerError;
use super::config::{Config, HostConfig};
use crate::store::{replace_unsynced, write_atomic};

/// Version of `container.json` and `state.json`. A newer file than this build knows is
/// refused with a message that names both versions, never misread.
pub const CONTAINER_SCHEMA: u32 = 1;

/// Docker's zero time, printed for a container that never started or never finished.
pub const ZERO_TIME: &str = "0001-01-01T00:00:00Z";

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ContainerRecord {
    pub schema_version: u32,
    pub id: String,
    pub created: String,
    pub path: String,
    pub args: Vec<String>,
    /// The image id (`sha256:...`).
    pub image: String,
    /// Without Docker's leading `/`.
    pub name: String,
    pub config: Config,
    pub host_config: HostConfig,
    #[serde(default)]
    pub networking_config: super::config::NetworkingConfig,
    /// Chain ids of the image's layers, bottom first: the overlay lowerdirs. Kept here so
    /// a start needs no image lookup (and `rmi` refuses an image a container uses).
    pub layers: Vec<String>,
    /// The mounts resolved at create (Docker's `MountPoints`), in mount order.
    #[serde(default)]
    pub mount_points: Vec<super::mounts::MountPoint>,
    /// `network disconnect` took the container off its `NetworkMode` network (Docker
    /// keeps `NetworkMode` as it was; the next start joins only the other networks).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub left_mode_network: bool,
}

/// Docker's `State`, plus what berth needs to tell a live container from a dead one.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct State {
    pub schema_version: u32,
    pub status: Status,
    pub running: bool,
    pub paused: bool,
    pub restarting: bool,
    #[serde(rename = "OOMKilled")]
    pub oom_killed: bool,
    pub dead: bool,
    pub pid: i32,
    pub exit_code: i32,
    pub error: String,
    pub started_at: String,
    pub finished_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health: Option<super::health::Health>,
    /// The kernel boot the supervisor ran in: a running state from another boot is dead.
    #[serde(default)]
    pub boot_id: String,
    /// Restarts by the restart policy since the last `start` (Docker's `RestartCount`).
    #[serde(default)]
    pub restart_count: u32,
    /// The supervisor of a running container and the protocol it speaks.
    #[serde(default)]
    pub supervisor: Option<SupervisorInfo>,
    /// The ports published by this run, as bound (ephemeral ports resolved).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ports: Vec<PublishedPort>,
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Created,
    Running,
    Paused,
    Restarting,
    Removing,
    Exited,
    Dead,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Created => "created",
            Status::Running => "running",
            Status::Paused => "paused",
            Status::Restarting => "restarting",
            Status::Removing => "removing",
            Status::Exited => "exited",
            Status::Dead => "dead",
        }
    }
}

/// A published port of a running container: `80/tcp` on `0.0.0.0:8080`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct PublishedPort {
    pub port: String,
    pub host_ip: String,
    pub host_port: u16,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct SupervisorInfo {
    pub pid: i32,
    pub protocol: u32,
}

impl State {
    pub fn created() -> State {
        State {
            schema_version: CONTAINER_SCHEMA,
            status: Status::Created,
            running: false,
            paused: false,
            restarting: false,
            oom_killed: false,
            dead: false,
            pid: 0,
            exit_code: 0,
            error: String::new(),
            started_at: ZERO_TIME.into(),
            finished_at: ZERO_TIME.into(),
            health: None,
            boot_id: String::new(),
            restart_count: 0,
            supervisor: None,
            ports: Vec::new(),
        }
    }

    /// The state after the process ended (or was found dead): not running, with its code.
    pub fn exited(&self, exit_code: i32, finished_at: String, error: String) -> State {
        State {
            status: Status::Exited,
            running: false,
            pid: 0,
            exit_code,
            error,
            finished_at,
            restarting: false,
            supervisor: None,
            ports: Vec::new(),
            ..self.clone()
        }
    }
}

pub(super) fn record_path(dir: &Path) -> PathBuf {
    dir.join("container.json")
}

pub(super) fn state_path(dir: &Path) -> PathBuf {
    dir.join("state.json")
}

pub(super) fn read_record(dir: &Path) -> Result<ContainerRecord, ContainerError> {
    read_versioned(&record_path(dir))
}

/// The state file; one that a crash left empty or torn (it is written without fsync) is
/// Docker's `dead` state, which `rm` removes, rather than an error on every command.
pub(super) fn read_state(dir: &Path) -> Result<State, ContainerError> {
    match read_versioned(&state_path(dir)) {
        Err(ContainerError::Corrupt { reason, .. }) => Ok(State {
            status: Status::Dead,
            dead: true,
            error: format!("the state file was lost in a crash ({reason})"),
            ..State::created()
        }),
        other => other,
    }
}

/// The record, fsynced (a container that must survive a crash), or not (`--rm`).
pub(super) fn write_record(dir: &Path, record: &ContainerRecord) -> Result<(), ContainerError> {
    let bytes = to_json(&record_path(dir), record)?;
    if record.host_config.auto_remove {
        replace_unsynced(&record_path(dir), &bytes)?;
    } else {
        write_atomic(&record_path(dir), &bytes)?;
    }
    Ok(())
}

/// The state, replaced atomically but not fsynced: it changes at every start and exit,
/// and what a crash can lose is reconciled when read (see `read_state` and liveness).
pub(super) fn write_state(dir: &Path, state: &State) -> Result<(), ContainerError> {
    let bytes = to_json(&state_path(dir), state)?;
    replace_unsynced(&state_path(dir), &bytes)?;
    Ok(())
}

fn to_json<T: Serialize>(path: &Path, value: &T) -> Result<Vec<u8>, ContainerError> {
    serde_json::to_vec(value).map_err(|e| ContainerError::Corrupt {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })
}

fn read_versioned<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<T, ContainerError> {
    let bytes = std::fs::read(path).map_err(|source| ContainerError::Io {
        action: "read",
        path: path.to_path_buf(),
        source,
    })?;
    #[derive(Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct Version {
        schema_version: u32,
    }
    let corrupt = |e: serde_json::Error| ContainerError::Corrupt {
        path: path.to_path_buf(),
        reason: e.to_string(),
    };
    let version: Version = serde_json::from_slice(&bytes).map_err(corrupt)?;
    if version.schema_version > CONTAINER_SCHEMA {
        return Err(ContainerError::NewerSchema {
            path: path.to_path_buf(),
            found: version.schema_version,
        });
    }
    serde_json::from_slice(&bytes).map_err(corrupt)
}
