//! Shared helpers of the end-to-end tests: locating test data, running the built
//! `berth` binary with a controlled environment, and showing differences.

#![allow(dead_code)]

pub mod compose;
pub mod containers;
pub mod dns;
pub mod dockerd;
pub mod networks;
pub mod pty;
pub mod registry;
pub mod remote;
pub mod state;
pub mod tarball;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

pub fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data")
}

pub struct Case {
    pub name: String,
    pub dir: PathBuf,
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
}

impl Case {
    pub fn read(&self, file: &str) -> Option<String> {
        std::fs::read_to_string(self.dir.join(file)).ok()
    }
}

/// Where cases run: Compose's `config-hash` covers absolute paths (bind sources, env
/// files), so a case must run at the same path on every machine for its recorded hash
/// to hold. `scripts/oracle-record` records from the same place.
pub const CASE_ROOT: &str = "/tmp/berth-compose-cases";

/// Copies `src` to `dst` recursively (dst is replaced).
pub fn copy_tree(src: &Path, dst: &Path) {
    let _ = std::fs::remove_dir_all(dst);
    std::fs::create_dir_all(dst).unwrap_or_else(|e| panic!("cannot create {}: {e}", dst.display()));
    for entry in
        std::fs::read_dir(src).unwrap_or_else(|e| panic!("cannot read {}: {e}", src.display()))
    {
        let entry = entry.expect("directory entry");
        let (from, to) = (entry.path(), dst.join(entry.file_name()));
        if from.is_dir() {
            copy_tree(&from, &to);
        } else {
            std::fs::copy(&from, &to)
                .unwrap_or_else(|e| panic!("cannot copy {}: {e}", from.display()));
        }
    }
}

/// Every case directory under `root`, sorted by name, copied under [`CASE_ROOT`].
pub fn cases(root: &Path) -> Vec<Case> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(root)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", root.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs.into_iter()
        .map(|source| {
            let name = source
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let dir = Path::new(CASE_ROOT).join(&name);
            copy_tree(&source, &dir);
            let args = std::fs::read_to_string(dir.join("args"))
                .map(|s| split_args(s.trim()))
                .unwrap_or_else(|_| split_args("-f compose.yaml config --format json"));
            let env = std::fs::read_to_string(dir.join("env"))
                .map(|s| {
                    s.lines()
                        .filter(|l| !l.trim().is_empty())
                        .filter_map(|l| {
                            l.split_once('=')
                                .map(|(k, v)| (k.to_string(), v.to_string()))
                        })
                        .collect()
                })
                .unwrap_or_default();
            let name = dir
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            Case {
                name,
                dir,
                args,
                env,
            }
        })
        .collect()
}

/// Splits an `args` line on spaces; single quotes group words.
fn split_args(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut any = false;
    for c in s.chars() {
        match c {
            '\'' => {
                quoted = !quoted;
                any = true;
            }
            ' ' if !quoted => {
                if any {
                    out.push(std::mem::take(&mut cur));
                    any = false;
                }
            }
            _ => {
                cur.push(c);
                any = true;
            }
        }
    }
    if any {
        out.push(cur);
    }
    out
}

pub struct Output {
    pub status: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

pub fn berth_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_berth"))
}

/// The environment every berth a test runs gets: no request may leave the machine (every
/// address but loopback goes to a proxy that does not exist, so a pull of an image no
/// test registry has fails at once, without even a DNS lookup), and no host config.
pub const OFFLINE_ENV: [(&str, &str); 5] = [
    ("HTTPS_PROXY", "http://127.0.0.1:9"),
    ("HTTP_PROXY", "http://127.0.0.1:9"),
    ("ALL_PROXY", "http://127.0.0.1:9"),
    ("NO_PROXY", "127.0.0.1,localhost"),
    ("BERTH_CONFIG", "/nonexistent/berth-test/config.json"),
];

/// `berth` with [`OFFLINE_ENV`].
pub fn berth_command() -> Command {
    let mut command = Command::new(berth_bin());
    command.envs(OFFLINE_ENV);
    command
}

/// Runs `berth compose <args>` in `dir` with only PATH, HOME and `env` set.
pub fn run_berth(
    dir: &Path,
    args: &[String],
    env: &[(String, String)],
    stdin: Option<&str>,
) -> Output {
    let mut cmd = Command::new(berth_bin());
    cmd.arg("compose")
        .args(args)
        .current_dir(dir)
        .env_clear()
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .env("HOME", "/home/tester")
        .envs(OFFLINE_ENV)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn berth");
    if let Some(input) = stdin {
        let mut pipe = child.stdin.take().expect("stdin pipe");
        pipe.write_all(input.as_bytes()).expect("write stdin");
    }
    let out = child.wait_with_output().expect("wait berth");
    Output {
        status: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// The first differing line of two texts, with a little context.
pub fn diff(expected: &str, got: &str) -> String {
    let e: Vec<&str> = expected.lines().collect();
    let g: Vec<&str> = got.lines().collect();
    let at = e
        .iter()
        .zip(&g)
        .position(|(a, b)| a != b)
        .unwrap_or(e.len().min(g.len()));
    let from = at.saturating_sub(3);
    let mut out = String::new();
    for i in from..(at + 3) {
        if let Some(l) = e.get(i) {
            out.push_str(&format!("  -{i:4} {l}\n"));
        }
        if let Some(l) = g.get(i) {
            out.push_str(&format!("  +{i:4} {l}\n"));
        }
    }
    out
}

/// Root-only tests fail (never skip) when not run as root: CI runs them as root.
pub fn require_root() {
    let uid = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(1).map(str::to_string))
        })
        .unwrap_or_default();
    assert_eq!(
        uid, "0",
        "this test needs root (it unpacks layers with their owners); run the suite as root"
    );
}
