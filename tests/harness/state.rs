//! A berth state root of one test (`--root`), with helpers to run the binary against
//! it and look inside; removed when dropped.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Stdio;

pub struct StateRoot(pub PathBuf);

impl StateRoot {
    /// A fresh directory `/tmp/berth-test-<name>-<pid>`; the store lives in its `state/`.
    pub fn new(name: &str) -> StateRoot {
        let dir = std::env::temp_dir().join(format!("berth-test-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create test root");
        StateRoot(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    /// Runs `berth --root <state> <args>` with `stdin` piped in; (exit code, stdout, stderr).
    pub fn berth_with(&self, args: &[&str], stdin: &[u8]) -> (i32, String, String) {
        self.berth_env(&[], args, stdin)
    }

    /// [`StateRoot::berth_with`] with variables added to berth's environment.
    pub fn berth_env(
        &self,
        env: &[(&str, &str)],
        args: &[&str],
        stdin: &[u8],
    ) -> (i32, String, String) {
        let mut child = super::berth_command()
            .envs(env.iter().copied())
            .arg("--root")
            .arg(self.0.join("state"))
            .args(args)
            .current_dir(&self.0)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run berth");
        let mut pipe = child.stdin.take().expect("stdin pipe");
        // berth may refuse before reading: a broken pipe is not the test's failure.
        let _ = pipe.write_all(stdin);
        drop(pipe);
        let out = child.wait_with_output().expect("wait berth");
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// [`StateRoot::berth_with`] with an empty standard input.
    pub fn berth(&self, args: &[&str]) -> (i32, String, String) {
        self.berth_with(args, b"")
    }

    /// Runs berth and asserts success; its stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let (code, out, err) = self.berth(args);
        assert_eq!(code, 0, "berth {args:?} failed: {err}");
        out
    }

    /// Writes a file into the test directory; its path.
    pub fn write(&self, name: &str, bytes: &[u8]) -> String {
        let path = self.0.join(name);
        std::fs::write(&path, bytes).expect("write file");
        path.to_str().expect("utf-8 path").to_string()
    }

    /// How many entries the store has under `sub` (`layers`, `blobs/sha256`, `images`).
    pub fn count(&self, sub: &str) -> usize {
        self.entries(sub).len()
    }

    /// The sorted names under `sub` of the store.
    pub fn entries(&self, sub: &str) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.0.join("state").join(sub))
            .map(|d| {
                d.filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    }

    /// The busybox test image as a docker-save archive in the test directory.
    pub fn busybox_tar(&self) -> PathBuf {
        let path = self.0.join("busybox.tar");
        let mut file = std::fs::File::create(&path).expect("create archive");
        berth_engine::archive::testimage::busybox_archive(
            Path::new("/bin/busybox"),
            "busybox:latest",
            &mut file,
        )
        .expect("build the busybox test image (needs the busybox-static package)");
        path
    }
}

impl Drop for StateRoot {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
