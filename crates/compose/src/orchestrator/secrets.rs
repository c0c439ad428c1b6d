//! A service's `secrets` and `configs` as read-only mounts, as Docker Compose v2 makes
//! them: a secret at `/run/secrets/<target or name>`, a config at its target (default
//! `/<name>`). One from a `file` is that file, bind-mounted (its `uid`, `gid` and `mode`
//! do not apply, with a warning, as in Compose); one from `environment` or `content` is
//! written, owned and moded as asked (default 0444), under
//! `<root>/compose-content/<project>/<service>/` and mounted from there: what Compose
//! copies into the container, without a copy per container. `down` removes the
//! directory. External ones and those with a `driver` are refused, as Compose does.

use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use berth_engine::container::mount_spec::{MountRequest, MountType};

use crate::loader::Environment;
use crate::model::service::FileReferenceConfig;
use crate::model::{FileObjectConfig, Project, ServiceConfig};

#[derive(Clone, Copy)]
enum Kind {
    Secret,
    Config,
}

impl Kind {
    fn key(self) -> &'static str {
        match self {
            Kind::Secret => "secrets",
            Kind::Config => "configs",
        }
    }

    fn word(self) -> &'static str {
        match self {
            Kind::Secret => "secret",
            Kind::Config => "config",
        }
    }

    /// Where a relative target goes.
    fn base(self) -> &'static str {
        match self {
            Kind::Secret => "/run/secrets/",
            Kind::Config => "/",
        }
    }
}

/// One secret or config of a service, with its top-level definition.
struct Reference<'a> {
    kind: Kind,
    reference: &'a FileReferenceConfig,
    defined: &'a FileObjectConfig,
}

impl Reference<'_> {
    fn target(&self) -> String {
        let t = &self.reference.target;
        if t.is_empty() {
            format!("{}{}", self.kind.base(), self.reference.source)
        } else if t.starts_with('/') {
            t.clone()
        } else {
            format!("{}{t}", self.kind.base())
        }
    }

    /// The text of one from `environment` or `content`; an unset variable is an error
    /// (compose-go mounts an empty file).
    fn content(&self, env: &Environment) -> Result<String, String> {
        let d = self.defined;
        if d.environment.is_empty() {
            return Ok(d.content.clone());
        }
        env.get(&d.environment).cloned().ok_or_else(|| {
            format!(
                "{}.{}: environment variable {} is not set (set it, or give the {} a file or content)",
                self.kind.key(),
                self.reference.source,
                d.environment,
                self.kind.word()
            )
        })
    }

    fn is_file(&self) -> bool {
        self.defined.environment.is_empty() && self.defined.content.is_empty()
    }
}

fn references<'a>(
    project: &'a Project,
    s: &'a ServiceConfig,
) -> Result<Vec<Reference<'a>>, String> {
    let mut out = Vec::new();
    let secrets = s.secrets.iter().map(|r| (Kind::Secret, r));
    let configs = s.configs.iter().map(|r| (Kind::Config, r));
    for (kind, reference) in secrets.chain(configs) {
        let defined = match kind {
            Kind::Secret => project.secrets.get(&reference.source).map(|d| &d.0),
            Kind::Config => project.configs.get(&reference.source).map(|d| &d.0),
        }
        .ok_or_else(|| {
            format!(
                "services.{}.{}: {} {} is not defined at the top level",
                s.name,
                kind.key(),
                kind.word(),
                reference.source
            )
        })?;
        out.push(Reference {
            kind,
            reference,
            defined,
        });
    }
    Ok(out)
}

/// What fails before anything is created: external or driver-backed objects, files
/// that do not exist. Returns the warnings (ignored `uid`/`gid`/`mode`).
pub fn check(
    project: &Project,
    env: &Environment,
    s: &ServiceConfig,
) -> Result<Vec<String>, String> {
    let mut warnings = Vec::new();
    for r in references(project, s)? {
        let (key, word) = (r.kind.key(), r.kind.word());
        let name = &r.reference.source;
        let d = r.defined;
        if d.external.0 {
            return Err(format!(
                "{key}.{name}: unsupported external {word} {}: berth runs on one host and has no {word} store; give it a file, environment or content",
                if d.name.is_empty() { name } else { &d.name }
            ));
        }
        if !d.driver.is_empty() || !d.template_driver.is_empty() {
            return Err(format!(
                "{key}.{name}: {word} drivers are not supported (as in Docker Compose); give it a file, environment or content"
            ));
        }
        r.content(env)?;
        if r.is_file() {
            if d.file.is_empty() {
                return Err(format!(
                    "{key}.{name}: it has no file, environment or content"
                ));
            }
            if !Path::new(&d.file).exists() {
                return Err(format!(
                    "{key}.{name}: file {} does not exist (services.{} uses it)",
                    d.file, s.name
                ));
            }
            let f = r.reference;
            if !f.uid.is_empty() || !f.gid.is_empty() || f.mode.is_some() {
                warnings.push(format!(
                    "services.{}.{key}.{name}: `uid`, `gid` and `mode` do not apply to a {word} from a file and are ignored (as in Docker Compose)",
                    s.name
                ));
            }
        }
    }
    Ok(warnings)
}

/// The directory of the project's written secrets and configs.
pub fn content_dir(root: &Path, project: &str) -> PathBuf {
    root.join("compose-content").join(project)
}

/// The mounts of `s`'s secrets and configs; those from `environment` or `content` are
/// written first.
pub fn mounts(
    root: &Path,
    project: &Project,
    env: &Environment,
    s: &ServiceConfig,
) -> Result<Vec<MountRequest>, String> {
    let mut out = Vec::new();
    for r in references(project, s)? {
        let source = if r.is_file() {
            r.defined.file.clone()
        } else {
            let path = content_dir(root, &project.name)
                .join(&s.name)
                .join(r.kind.key())
                .join(&r.reference.source);
            let content = r.content(env)?;
            write_content(&path, &r, content.as_bytes()).map_err(|e| {
                format!(
                    "{}.{}: cannot write {}: {e}",
                    r.kind.key(),
                    r.reference.source,
                    path.display()
                )
            })?;
            path.display().to_string()
        };
        out.push(MountRequest {
            source: Some(source),
            read_only: true,
            ..MountRequest::new(MountType::Bind, r.target())
        });
    }
    Ok(out)
}

/// Writes the content beside and renames it into place, with its owner and mode: a
/// running container keeps the file it was given (its bind mount holds that inode) and
/// never sees a half-written one.
fn write_content(path: &Path, r: &Reference<'_>, content: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    let mode = r.reference.mode.as_ref().map_or(0o444, |m| m.0 as u32) & 0o7777;
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".new");
    let tmp = path.with_file_name(name);
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .write(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)?;
    file.write_all(content)?;
    let id = |text: &str, what: &str| -> std::io::Result<Option<u32>> {
        if text.is_empty() {
            return Ok(None);
        }
        text.parse().map(Some).map_err(|_| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("{what} {text:?} is not a number"),
            )
        })
    };
    let uid = id(&r.reference.uid, "uid")?;
    let gid = id(&r.reference.gid, "gid")?;
    std::os::unix::fs::fchown(&file, uid.or(Some(0)), gid.or(Some(0)))?;
    file.set_permissions(std::fs::Permissions::from_mode(mode))?;
    std::fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project(json: &str) -> Project {
        serde_json::from_str(json).expect("project json")
    }

    #[test]
    fn targets_follow_composes_defaults() {
        let p = project(
            r#"{"name":"p","services":{"web":{"image":"x",
                "secrets":[{"source":"a"},{"source":"b","target":"named"},{"source":"c","target":"/etc/c"}],
                "configs":[{"source":"d"},{"source":"e","target":"rel"}]}},
              "secrets":{"a":{"content":"1"},"b":{"content":"2"},"c":{"content":"3"}},
              "configs":{"d":{"content":"4"},"e":{"content":"5"}}}"#,
        );
        let s = &p.services["web"];
        let targets: Vec<String> = references(&p, s)
            .unwrap()
            .iter()
            .map(Reference::target)
            .collect();
        assert_eq!(
            targets,
            [
                "/run/secrets/a",
                "/run/secrets/named",
                "/etc/c",
                "/d",
                "/rel"
            ]
        );
    }

    #[test]
    fn external_drivers_and_missing_files_are_refused() {
        let check_of = |json: &str| {
            let p = project(json);
            let s = p.services["web"].clone();
            check(&p, &Environment::default(), &s)
        };
        let e = check_of(
            r#"{"name":"p","services":{"web":{"image":"x","secrets":[{"source":"a"}]}},
                "secrets":{"a":{"external":true}}}"#,
        )
        .unwrap_err();
        assert!(
            e.starts_with("secrets.a: unsupported external secret a"),
            "{e}"
        );
        let e = check_of(
            r#"{"name":"p","services":{"web":{"image":"x","secrets":[{"source":"a"}]}},
                "secrets":{"a":{"environment":"BERTH_UNSET_VARIABLE"}}}"#,
        )
        .unwrap_err();
        assert!(
            e.contains("environment variable BERTH_UNSET_VARIABLE is not set"),
            "{e}"
        );
        let e = check_of(
            r#"{"name":"p","services":{"web":{"image":"x","configs":[{"source":"a"}]}},
                "configs":{"a":{"file":"/nonexistent/berth-config"}}}"#,
        )
        .unwrap_err();
        assert!(
            e.contains("file /nonexistent/berth-config does not exist"),
            "{e}"
        );
        let w = check_of(
            r#"{"name":"p","services":{"web":{"image":"x","secrets":[{"source":"a","mode":256}]}},
                "secrets":{"a":{"file":"/etc/hostname"}}}"#,
        )
        .unwrap();
        assert_eq!(w.len(), 1, "{w:?}");
    }
}
