//! `-u name|uid[:group|gid]` resolved against the image's `/etc/passwd` and `/etc/group`,
//! read through the layers (top first, the container's upper dir on top of them) as the
//! overlay would show them, without mounting anything.

use std::fs::File;
use std::io::Read;
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};

use crate::in_root::open_in_root;
use rustix::fs::OFlags;

use super::ContainerError;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResolvedUser {
    pub uid: u32,
    pub gid: u32,
    pub additional_gids: Vec<u32>,
    pub home: String,
}

/// Resolves a Docker user spec. An empty spec is root. A numeric uid need not exist in
/// passwd (its gid is then 0, as with Docker); a name must. Supplementary groups are the
/// user's memberships in `/etc/group` plus `group_add` (names or gids).
pub fn resolve(
    spec: &str,
    layers: &[PathBuf],
    group_add: &[String],
) -> Result<ResolvedUser, ContainerError> {
    let passwd = read_merged(layers, "etc/passwd");
    let group = read_merged(layers, "etc/group");
    let (user_part, group_part) = match spec.split_once(':') {
        Some((u, g)) => (u, Some(g)),
        None => (spec, None),
    };
    let users = parse_passwd(passwd.as_deref().unwrap_or_default());
    let groups = parse_group(group.as_deref().unwrap_or_default());

    let (uid, mut gid, name, home) = if user_part.is_empty() {
        let root = users.iter().find(|u| u.uid == 0);
        (
            0,
            0,
            root.map(|u| u.name.clone())
                .unwrap_or_else(|| "root".into()),
            root.map(|u| u.home.clone())
                .unwrap_or_else(|| "/root".into()),
        )
    } else if let Some(u) = users.iter().find(|u| u.name == user_part) {
        (u.uid, u.gid, u.name.clone(), u.home.clone())
    } else if let Ok(uid) = user_part.parse::<u32>() {
        match users.iter().find(|u| u.uid == uid) {
            Some(u) => (uid, u.gid, u.name.clone(), u.home.clone()),
            None => (uid, 0, String::new(), "/".into()),
        }
    } else {
        return Err(ContainerError::Invalid(format!(
            "unable to find user {user_part}: no matching entries in passwd file"
        )));
    };
    if let Some(g) = group_part {
        gid = match groups.iter().find(|e| e.name == g) {
            Some(e) => e.gid,
            None => g.parse::<u32>().map_err(|_| {
                ContainerError::Invalid(format!(
                    "unable to find group {g}: no matching entries in group file"
                ))
            })?,
        };
    }
    let mut additional_gids: Vec<u32> = Vec::new();
    if group_part.is_none() && !name.is_empty() {
        for g in &groups {
            if g.members.contains(&name) && g.gid != gid {
                additional_gids.push(g.gid);
            }
        }
    }
    for extra in group_add {
        let gid = match groups.iter().find(|e| &e.name == extra) {
            Some(e) => e.gid,
            None => extra.parse::<u32>().map_err(|_| {
                ContainerError::Invalid(format!(
                    "unable to find group {extra}: no matching entries in group file"
                ))
            })?,
        };
        if !additional_gids.contains(&gid) {
            additional_gids.push(gid);
        }
    }
    Ok(ResolvedUser {
        uid,
        gid,
        additional_gids,
        home,
    })
}

struct PasswdEntry {
    name: String,
    uid: u32,
    gid: u32,
    home: String,
}

struct GroupEntry {
    name: String,
    gid: u32,
    members: Vec<String>,
}

fn parse_passwd(text: &str) -> Vec<PasswdEntry> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|line| {
            let f: Vec<&str> = line.split(':').collect();
            Some(PasswdEntry {
                name: f.first()?.to_string(),
                uid: f.get(2)?.parse().ok()?,
                gid: f.get(3)?.parse().ok()?,
                home: f.get(5).unwrap_or(&"/").to_string(),
            })
        })
        .collect()
}

fn parse_group(text: &str) -> Vec<GroupEntry> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|line| {
            let f: Vec<&str> = line.split(':').collect();
            Some(GroupEntry {
                name: f.first()?.to_string(),
                gid: f.get(2)?.parse().ok()?,
                members: f
                    .get(3)
                    .map(|m| {
                        m.split(',')
                            .filter(|s| !s.is_empty())
                            .map(str::to_string)
                            .collect()
                    })
                    .unwrap_or_default(),
            })
        })
        .collect()
}

/// The file at `rel` as the merged overlay shows it: the first layer (top first) that has
/// it wins; a whiteout (0:0 char device) hides it. Each open is confined to its layer.
fn read_merged(layers: &[PathBuf], rel: &str) -> Option<String> {
    for layer in layers {
        match read_in(layer, rel) {
            Found::Text(t) => return Some(t),
            Found::Whiteout => return None,
            Found::Absent => {}
        }
    }
    None
}

enum Found {
    Text(String),
    Whiteout,
    Absent,
}

fn read_in(layer: &Path, rel: &str) -> Found {
    let Ok(root) = File::open(layer) else {
        return Found::Absent;
    };
    let opened = open_in_root(
        &root,
        rel,
        OFlags::RDONLY | OFlags::CLOEXEC | OFlags::NOFOLLOW,
    );
    match opened {
        Ok(fd) => {
            let mut file = File::from(fd);
            match file.metadata() {
                Ok(m) if m.file_type().is_char_device() => Found::Whiteout,
                Ok(m) if m.is_file() && m.len() < 16 << 20 => {
                    let mut text = String::new();
                    match file.read_to_string(&mut text) {
                        Ok(_) => Found::Text(text),
                        Err(_) => Found::Absent,
                    }
                }
                _ => Found::Absent,
            }
        }
        Err(_) => Found::Absent,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layers(passwd: &str, group: &str) -> (PathBuf, Vec<PathBuf>) {
        let dir = std::env::temp_dir().join(format!(
            "berth-user-{}-{}",
            std::process::id(),
            crate::container::id::new_id().unwrap()
        ));
        std::fs::create_dir_all(dir.join("etc")).unwrap();
        std::fs::write(dir.join("etc/passwd"), passwd).unwrap();
        std::fs::write(dir.join("etc/group"), group).unwrap();
        (dir.clone(), vec![dir])
    }

    const PASSWD: &str =
        "root:x:0:0:root:/root:/bin/sh\nwww-data:x:33:33:www:/var/www:/bin/false\n";
    const GROUP: &str = "root:x:0:\nwww-data:x:33:\nadm:x:4:www-data\n";

    #[test]
    fn names_uids_and_groups_resolve_like_docker() {
        let (dir, l) = layers(PASSWD, GROUP);
        let r = |spec: &str| resolve(spec, &l, &[]);
        assert_eq!(r("").unwrap().uid, 0);
        let www = r("www-data").unwrap();
        assert_eq!(
            (www.uid, www.gid, www.additional_gids.clone()),
            (33, 33, vec![4])
        );
        assert_eq!(www.home, "/var/www");
        assert_eq!((r("1234").unwrap().uid, r("1234").unwrap().gid), (1234, 0));
        assert_eq!(r("33:adm").unwrap().gid, 4);
        assert_eq!(r("33:77").unwrap().gid, 77);
        assert_eq!(
            r("nobody").unwrap_err().to_string(),
            "unable to find user nobody: no matching entries in passwd file"
        );
        assert!(r("www-data:nogroup").is_err());
        assert_eq!(
            resolve("www-data", &l, &["root".into(), "99".into()])
                .unwrap()
                .additional_gids,
            vec![4, 0, 99]
        );
        std::fs::remove_dir_all(dir).unwrap();
    }
}
