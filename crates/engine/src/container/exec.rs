//! `exec`: a new process in a running container, with the container's isolation (its
//! namespaces, cgroup, capabilities, `no_new_privs`, limits, env) and the caller's
//! choices of user, working directory, extra env and `--privileged`. The process spec is
//! derived from the record exactly as the container's own (`spec::derive`), so the two
//! cannot drift apart; the runtime does the joining (`runtime::exec`).

use std::path::PathBuf;

use super::record::ContainerRecord;
use super::spec::{self, SpecInputs};
use super::{ContainerError, Containers, user};
use crate::runtime::{self, ExecPlan, ExecProcess, InitStdio};

/// What `exec` asks for (Docker's `ExecConfig`).
#[derive(Clone, Debug, Default)]
pub struct ExecRequest {
    pub cmd: Vec<String>,
    pub env: Vec<String>,
    /// `-u`; else the container's user.
    pub user: Option<String>,
    /// `-w`; else the container's working directory.
    pub workdir: Option<String>,
    pub privileged: bool,
    pub detach: bool,
    /// A health probe: not journaled (Docker journals three events per probe, every
    /// interval, for every container; decision 65).
    pub health_probe: bool,
}

/// A started exec: the process, its id (as in the `exec_*` events) and its container.
pub struct Exec {
    pub process: ExecProcess,
    pub id: String,
    record: ContainerRecord,
}

/// Why an exec did not start; `exit_code` is what `docker exec` exits with.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct ExecError {
    pub message: String,
    pub exit_code: i32,
}

impl From<ContainerError> for ExecError {
    fn from(e: ContainerError) -> Self {
        ExecError {
            message: e.to_string(),
            exit_code: 1,
        }
    }
}

impl Containers {
    /// Starts `request.cmd` in the running container `id`; returns once it has exec'd.
    /// With `terminal` (`exec -t`) the process makes a terminal in the container and
    /// sends its master on the console socket; `stdio` is then not used.
    pub fn exec(
        &self,
        id: &str,
        request: &ExecRequest,
        stdio: InitStdio,
        terminal: Option<runtime::Console>,
    ) -> Result<Exec, ExecError> {
        if request.cmd.is_empty() {
            return Err(ContainerError::Invalid("exec needs a command to run".into()).into());
        }
        let record = self.record(id)?;
        let state = self.state(id)?;
        if !state.running {
            return Err(ContainerError::Invalid(format!("container {id} is not running")).into());
        }
        // The pid is the container's as long as the state says so: the supervisor reaps
        // its init only after it has recorded the exit. Open it, then check again.
        let pid = rustix::process::Pid::from_raw(state.pid)
            .ok_or_else(|| ContainerError::Invalid(format!("container {id} is not running")))?;
        let init = rustix::process::pidfd_open(pid, rustix::process::PidfdFlags::empty())
            .map_err(|_| ContainerError::Invalid(format!("container {id} is not running")))?;
        let again = self.state(id)?;
        if !again.running || again.pid != state.pid {
            return Err(ContainerError::Invalid(format!("container {id} is not running")).into());
        }
        let process = self.exec_process(&record, state.pid, request)?;
        let seccomp = spec::container_seccomp(&record.host_config)?;
        let exec_id = super::id::new_id()
            .map_err(|e| ContainerError::io("make an exec id for", self.dir(id), e))?;
        let command = request.cmd.join(" ");
        let started = runtime::exec(&ExecPlan {
            process,
            seccomp,
            seccomp_cache: Some(self.seccomp_cache_dir()),
            terminal,
            init,
            cgroups_path: Some(super::cgroups_path(id)),
            stdio,
            detach: request.detach,
        })
        // Docker's daemon answers every failed exec start with 126, a missing program too.
        .map_err(|e| ExecError {
            exit_code: 126,
            message: e.to_string(),
        })?;
        // Docker's pair for `docker exec` (its create and start calls), with the command.
        if !request.health_probe {
            let attrs = [("execID", exec_id.clone())];
            self.emit(&record, &format!("exec_create: {command}"), &attrs);
            self.emit(&record, &format!("exec_start: {command}"), &attrs);
        }
        Ok(Exec {
            process: started,
            id: exec_id,
            record,
        })
    }

    /// Journals the end of an exec (`exec_die`, with its exit code).
    pub fn exec_died(&self, exec: &Exec, exit_code: i32) {
        self.emit(
            &exec.record,
            "exec_die",
            &[
                ("execID", exec.id.clone()),
                ("exitCode", exit_code.to_string()),
            ],
        );
    }

    /// The container's own process spec with the exec's command, user, cwd and env.
    fn exec_process(
        &self,
        record: &ContainerRecord,
        pid: i32,
        request: &ExecRequest,
    ) -> Result<oci_spec::runtime::Process, ContainerError> {
        let mut exec = record.clone();
        exec.path = request.cmd[0].clone();
        exec.args = request.cmd[1..].to_vec();
        exec.host_config.init = None;
        exec.host_config.privileged |= request.privileged;
        if let Some(user) = &request.user {
            exec.config.user = user.clone();
        }
        if let Some(dir) = &request.workdir {
            exec.config.working_dir = dir.clone();
        }
        for entry in &request.env {
            let key = entry.split('=').next().unwrap_or_default();
            exec.config.env.retain(|e| e.split('=').next() != Some(key));
            exec.config.env.push(entry.clone());
        }
        // Users are looked up in the container's files as they are now.
        let root: PathBuf = format!("/proc/{pid}/root").into();
        let resolved = user::resolve(
            &exec.config.user,
            &[root],
            exec.host_config.group_add.as_deref().unwrap_or_default(),
        )?;
        // Docker gives an exec the links' variables too; a linked container that has
        // stopped since only takes them away (Docker refuses the exec).
        let linked = super::links::resolve(self, record).unwrap_or_default();
        let spec = spec::derive(
            &exec,
            &SpecInputs {
                container_dir: &self.dir(&record.id),
                link_env: &linked.env,
                user: &resolved,
                init_binary: None,
                first_start: false,
                // Only the process is used: the namespaces are joined through the init.
                ipc_pid: Some(pid),
                pid_pid: Some(pid),
                net_pid: Some(pid),
                tmpfs_holders: &[],
            },
        )?;
        spec.process()
            .clone()
            .ok_or_else(|| ContainerError::Invalid("the runtime spec has no process".into()))
    }
}
