//! The init layer: one read-only lower layer, shared by every container of a state root
//! and stacked above the image's layers, that holds the mount points the runtime needs
//! (`/proc`, `/sys`, `/dev`, `/etc/hosts`, `/etc/hostname`, `/etc/resolv.conf`). Without
//! it each start of an image that lacks them (busybox has no `/proc`) creates them in the
//! container's upper dir, and each removal deletes them again. Docker keeps a per-container
//! `-init` layer for the same purpose; one shared layer costs nothing per container.

use std::fs;
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// Bumped when the layer's content changes; an older one is left for a later sweep.
const VERSION: &str = "v1";

const DIRS: [&str; 4] = ["proc", "sys", "dev", "etc"];
const FILES: [&str; 3] = ["etc/hosts", "etc/hostname", "etc/resolv.conf"];

/// The init layer of `root`, created on first use (in a temporary directory renamed into
/// place, so concurrent first starts agree on one complete layer).
pub fn ensure(root: &Path) -> io::Result<PathBuf> {
    let base = root.join("init-layer");
    let layer = base.join(VERSION);
    if layer.is_dir() {
        return Ok(layer);
    }
    fs::create_dir_all(&base)?;
    let tmp = base.join(format!(".tmp-{}", crate::store::unique_suffix_public()));
    fs::create_dir(&tmp)?;
    let built = (|| {
        for dir in DIRS {
            fs::create_dir(tmp.join(dir))?;
            fs::set_permissions(tmp.join(dir), fs::Permissions::from_mode(0o755))?;
        }
        for file in FILES {
            fs::write(tmp.join(file), b"")?;
            fs::set_permissions(tmp.join(file), fs::Permissions::from_mode(0o644))?;
        }
        fs::set_permissions(&tmp, fs::Permissions::from_mode(0o755))
    })();
    let placed = built.and_then(|()| fs::rename(&tmp, &layer));
    match placed {
        Ok(()) => Ok(layer),
        // Another start won the race: its layer is the same.
        Err(_) if layer.is_dir() => {
            let _ = fs::remove_dir_all(&tmp);
            Ok(layer)
        }
        Err(e) => {
            let _ = fs::remove_dir_all(&tmp);
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_layer_is_built_once_with_every_mount_point() {
        let root = std::env::temp_dir().join(format!("berth-initlayer-{}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        let first = ensure(&root).unwrap();
        assert_eq!(ensure(&root).unwrap(), first);
        for dir in DIRS {
            assert!(first.join(dir).is_dir(), "{dir}");
        }
        for file in FILES {
            assert!(first.join(file).is_file(), "{file}");
        }
        let entries: Vec<_> = fs::read_dir(root.join("init-layer")).unwrap().collect();
        assert_eq!(entries.len(), 1, "no temporary directory left");
        fs::remove_dir_all(&root).unwrap();
    }
}
