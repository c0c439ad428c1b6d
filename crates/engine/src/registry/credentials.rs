//! Registry credentials in Docker's client config, `$DOCKER_CONFIG/config.json` (by default
//! `~/.docker/config.json`), so that `berth login` and `docker login` share them: `auths`
//! entries (`auth` = base64 of `user:password`), and the external helpers Docker runs,
//! `credHelpers` per registry or `credsStore` for all (`docker-credential-<name>` with
//! `get`, `store`, `erase`). Other keys of the file are kept as they are.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value, json};

use super::RegistryError;

/// The key Docker Hub's credentials are stored under.
pub const DOCKER_HUB_KEY: &str = "https://index.docker.io/v1/";

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Credential {
    Basic {
        username: String,
        password: String,
    },
    /// An identity (refresh) token, sent to the token server instead of a password.
    IdentityToken(String),
}

/// Docker's client config file.
#[derive(Clone, Debug)]
pub struct DockerConfig {
    path: PathBuf,
}

/// The key of `host`'s entry: Docker Hub's legacy URL, or the host itself.
pub fn config_key(host: &str) -> String {
    match host {
        "docker.io" | "index.docker.io" | "registry-1.docker.io" => DOCKER_HUB_KEY.to_string(),
        h => h.to_string(),
    }
}

/// `https://host/v1/` → `host`, as Docker compares entries.
fn hostname_of(key: &str) -> &str {
    let rest = key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"))
        .unwrap_or(key);
    rest.split('/').next().unwrap_or(rest)
}

impl DockerConfig {
    /// `$DOCKER_CONFIG/config.json`, or `~/.docker/config.json`.
    pub fn locate() -> DockerConfig {
        let dir = std::env::var_os("DOCKER_CONFIG")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".docker")))
            .unwrap_or_else(|| PathBuf::from("/root/.docker"));
        DockerConfig {
            path: dir.join("config.json"),
        }
    }

    pub fn at(path: impl Into<PathBuf>) -> DockerConfig {
        DockerConfig { path: path.into() }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn read(&self) -> Result<Map<String, Value>, RegistryError> {
        let bytes = match std::fs::read(&self.path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Map::new()),
            Err(e) => return Err(io_error("read", &self.path, e)),
        };
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Map::new());
        }
        match serde_json::from_slice(&bytes) {
            Ok(Value::Object(map)) => Ok(map),
            Ok(_) => Err(RegistryError::Invalid(format!(
                "{}: expected a JSON object",
                self.path.display()
            ))),
            Err(e) => Err(RegistryError::Invalid(format!(
                "{}:{}:{}: {e}",
                self.path.display(),
                e.line(),
                e.column()
            ))),
        }
    }

    fn helper_for(config: &Map<String, Value>, key: &str) -> Option<String> {
        let host = hostname_of(key);
        let per_host = config.get("credHelpers").and_then(Value::as_object);
        per_host
            .and_then(|h| h.get(host).or_else(|| h.get(key)))
            .or_else(|| config.get("credsStore"))
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    }

    /// The credential for registry `host`, if one is stored.
    pub fn get(&self, host: &str) -> Result<Option<Credential>, RegistryError> {
        let config = self.read()?;
        let key = config_key(host);
        if let Some(helper) = Self::helper_for(&config, &key) {
            return helper_get(&helper, &key);
        }
        let Some(auths) = config.get("auths").and_then(Value::as_object) else {
            return Ok(None);
        };
        let entry = auths.get(&key).or_else(|| {
            auths
                .iter()
                .find(|(k, _)| hostname_of(k) == hostname_of(&key))
                .map(|(_, v)| v)
        });
        let Some(entry) = entry else {
            return Ok(None);
        };
        if let Some(token) = entry.get("identitytoken").and_then(Value::as_str)
            && !token.is_empty()
        {
            return Ok(Some(Credential::IdentityToken(token.to_string())));
        }
        let Some(auth) = entry
            .get("auth")
            .and_then(Value::as_str)
            .filter(|a| !a.is_empty())
        else {
            return Ok(None);
        };
        let bad = || {
            RegistryError::Invalid(format!(
                "{}: the credentials of {key} are not base64 of user:password; run `berth login {host}` again",
                self.path.display()
            ))
        };
        let decoded = STANDARD.decode(auth.trim()).map_err(|_| bad())?;
        let text = String::from_utf8(decoded).map_err(|_| bad())?;
        let (username, password) = text.split_once(':').ok_or_else(bad)?;
        Ok(Some(Credential::Basic {
            username: username.to_string(),
            password: password.to_string(),
        }))
    }

    /// Stores `username` and `password` for `host` (through its helper if it has one).
    pub fn store(&self, host: &str, username: &str, password: &str) -> Result<(), RegistryError> {
        let mut config = self.read()?;
        let key = config_key(host);
        if let Some(helper) = Self::helper_for(&config, &key) {
            let input = json!({"ServerURL": key, "Username": username, "Secret": password});
            helper_run(&helper, "store", input.to_string().as_bytes())?;
            // Docker leaves an empty entry so that `auths` lists the registry.
            set_entry(&mut config, &key, json!({}));
        } else {
            let auth = STANDARD.encode(format!("{username}:{password}"));
            set_entry(&mut config, &key, json!({ "auth": auth }));
        }
        self.write(&config)
    }

    /// Removes `host`'s credentials; whether there were any.
    pub fn erase(&self, host: &str) -> Result<bool, RegistryError> {
        let mut config = self.read()?;
        let key = config_key(host);
        if let Some(helper) = Self::helper_for(&config, &key) {
            let _ = helper_run(&helper, "erase", key.as_bytes());
        }
        let removed = config
            .get_mut("auths")
            .and_then(Value::as_object_mut)
            .map(|auths| {
                let keys: Vec<String> = auths
                    .keys()
                    .filter(|k| **k == key || hostname_of(k) == hostname_of(&key))
                    .cloned()
                    .collect();
                keys.iter().filter(|k| auths.remove(*k).is_some()).count() > 0
            })
            .unwrap_or(false);
        if removed {
            self.write(&config)?;
        }
        Ok(removed)
    }

    /// Writes the file atomically, readable by its owner only (it holds passwords).
    fn write(&self, config: &Map<String, Value>) -> Result<(), RegistryError> {
        use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
        let dir = self.path.parent().unwrap_or(Path::new("."));
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|e| io_error("create", dir, e))?;
        let tmp = dir.join(format!(".config.json.{}", std::process::id()));
        let bytes =
            serde_json::to_vec_pretty(config).map_err(|e| RegistryError::Invalid(e.to_string()))?;
        let written = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)
            .and_then(|mut f| {
                f.write_all(&bytes)?;
                f.write_all(b"\n")?;
                f.sync_all()
            })
            .and_then(|()| std::fs::rename(&tmp, &self.path));
        if let Err(e) = written {
            let _ = std::fs::remove_file(&tmp);
            return Err(io_error("write", &self.path, e));
        }
        Ok(())
    }
}

fn set_entry(config: &mut Map<String, Value>, key: &str, entry: Value) {
    let auths = config
        .entry("auths")
        .or_insert_with(|| Value::Object(Map::new()));
    if !auths.is_object() {
        *auths = Value::Object(Map::new());
    }
    if let Some(auths) = auths.as_object_mut() {
        auths.insert(key.to_string(), entry);
    }
}

fn helper_get(helper: &str, key: &str) -> Result<Option<Credential>, RegistryError> {
    let out = match helper_run(helper, "get", key.as_bytes()) {
        Ok(out) => out,
        // The helpers' way of saying there is nothing for this registry.
        Err(RegistryError::Helper { message, .. }) if message.contains("credentials not found") => {
            return Ok(None);
        }
        Err(e) => return Err(e),
    };
    let value: Value = serde_json::from_slice(&out).map_err(|e| RegistryError::Helper {
        helper: helper.to_string(),
        message: format!("unreadable answer to get: {e}"),
    })?;
    let username = value["Username"].as_str().unwrap_or_default().to_string();
    let secret = value["Secret"].as_str().unwrap_or_default().to_string();
    if secret.is_empty() {
        return Ok(None);
    }
    if username == "<token>" {
        return Ok(Some(Credential::IdentityToken(secret)));
    }
    Ok(Some(Credential::Basic {
        username,
        password: secret,
    }))
}

/// Runs `docker-credential-<helper> <action>` with `input` on its stdin.
fn helper_run(helper: &str, action: &str, input: &[u8]) -> Result<Vec<u8>, RegistryError> {
    let program = format!("docker-credential-{helper}");
    let failed = |message: String| RegistryError::Helper {
        helper: program.clone(),
        message,
    };
    let mut child = Command::new(&program)
        .arg(action)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            failed(format!(
                "cannot run it ({e}); install it or remove it from the Docker config"
            ))
        })?;
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(input);
    }
    let out = child
        .wait_with_output()
        .map_err(|e| failed(e.to_string()))?;
    if !out.status.success() {
        let said = String::from_utf8_lossy(if out.stdout.is_empty() {
            &out.stderr
        } else {
            &out.stdout
        })
        .trim()
        .to_string();
        return Err(failed(format!("{action} failed: {said}")));
    }
    Ok(out.stdout)
}

fn io_error(action: &str, path: &Path, e: std::io::Error) -> RegistryError {
    RegistryError::Invalid(format!("cannot {action} {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("berth-creds-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn store_get_erase_round_trip_keeps_other_keys() {
        let dir = temp("rt");
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("config.json");
        std::fs::write(
            &path,
            r#"{"psFormat":"table {{.ID}}","auths":{"other:1":{"auth":"eDp5"}}}"#,
        )
        .unwrap();
        let config = DockerConfig::at(&path);
        assert_eq!(config.get("127.0.0.1:5000").unwrap(), None);
        config.store("127.0.0.1:5000", "alice", "s3:cret").unwrap();
        assert_eq!(
            config.get("127.0.0.1:5000").unwrap(),
            Some(Credential::Basic {
                username: "alice".into(),
                password: "s3:cret".into()
            })
        );
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("psFormat"), "{text}");
        assert!(text.contains(&STANDARD.encode("alice:s3:cret")), "{text}");
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert_eq!(
            config.get("other:1").unwrap(),
            Some(Credential::Basic {
                username: "x".into(),
                password: "y".into()
            })
        );
        assert!(config.erase("127.0.0.1:5000").unwrap());
        assert!(!config.erase("127.0.0.1:5000").unwrap());
        assert_eq!(config.get("127.0.0.1:5000").unwrap(), None);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn docker_hub_and_url_keys_match_by_host() {
        assert_eq!(config_key("docker.io"), DOCKER_HUB_KEY);
        let dir = temp("keys");
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("config.json");
        let auth = STANDARD.encode("u:p");
        std::fs::write(
            &path,
            format!(r#"{{"auths":{{"https://index.docker.io/v1/":{{"auth":"{auth}"}},"https://reg.example/v2/":{{"auth":"{auth}"}},"tok:1":{{"identitytoken":"abc"}}}}}}"#),
        )
        .unwrap();
        let config = DockerConfig::at(&path);
        assert!(matches!(
            config.get("docker.io").unwrap(),
            Some(Credential::Basic { .. })
        ));
        assert!(matches!(
            config.get("reg.example").unwrap(),
            Some(Credential::Basic { .. })
        ));
        assert_eq!(
            config.get("tok:1").unwrap(),
            Some(Credential::IdentityToken("abc".into()))
        );
        std::fs::write(&path, r#"{"auths":{"bad:1":{"auth":"!!!"}}}"#).unwrap();
        let e = config.get("bad:1").unwrap_err().to_string();
        assert!(e.contains("berth login bad:1"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_missing_helper_is_named() {
        let dir = temp("helper");
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("config.json");
        std::fs::write(
            &path,
            r#"{"credHelpers":{"reg:1":"berth-test-nonexistent"}}"#,
        )
        .unwrap();
        let e = DockerConfig::at(&path)
            .get("reg:1")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("docker-credential-berth-test-nonexistent"),
            "{e}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
