//! Lexical cleaning of entry paths. This is only the first line: it rejects what can never
//! be right (`..` above the root) and splits the path into components. Confinement itself is
//! enforced by the kernel when the components are resolved (see `confined`).

/// An entry path split into components, relative to the layer root; empty means the root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EntryPath {
    comps: Vec<Vec<u8>>,
}

/// The path climbs above the layer root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Escapes;

impl EntryPath {
    /// Cleans a tar path the way Docker does: a leading `/` means the layer root (GNU tar and
    /// Docker strip it too, and old layers carry such paths), `.` and empty components
    /// vanish, and `..` pops a component. A `..` that would climb above the root is refused
    /// rather than clamped: no honest layer writer produces one, so it marks a hostile tar.
    pub(crate) fn parse(raw: &[u8]) -> Result<Self, Escapes> {
        let mut comps: Vec<Vec<u8>> = Vec::new();
        for comp in raw.split(|&b| b == b'/') {
            match comp {
                b"" | b"." => {}
                b".." => {
                    comps.pop().ok_or(Escapes)?;
                }
                name => comps.push(name.to_vec()),
            }
        }
        Ok(EntryPath { comps })
    }

    /// A path made of components that are already clean (no `/`, `.`, `..`, empty).
    pub(crate) fn from_components(comps: Vec<Vec<u8>>) -> Self {
        EntryPath { comps }
    }

    pub(crate) fn is_root(&self) -> bool {
        self.comps.is_empty()
    }

    /// Parent components and the final name; `None` for the root.
    pub(crate) fn split_last(&self) -> Option<(&[Vec<u8>], &[u8])> {
        self.comps
            .split_last()
            .map(|(last, parent)| (parent, last.as_slice()))
    }

    /// The cleaned path as `a/b/c`, used as a key and for messages.
    pub(crate) fn joined(&self) -> Vec<u8> {
        join(&self.comps)
    }

    /// Whether `self` is `other` or lies below it.
    pub(crate) fn starts_with(&self, other: &EntryPath) -> bool {
        self.comps.starts_with(&other.comps)
    }
}

pub(crate) fn join(comps: &[Vec<u8>]) -> Vec<u8> {
    comps.join(&b'/')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clean(raw: &str) -> Result<String, Escapes> {
        EntryPath::parse(raw.as_bytes()).map(|p| String::from_utf8(p.joined()).unwrap())
    }

    #[test]
    fn relative_and_dot_paths_are_normalised() {
        assert_eq!(clean("a/b/c").unwrap(), "a/b/c");
        assert_eq!(clean("./a//b/./c/").unwrap(), "a/b/c");
        assert_eq!(clean("./").unwrap(), "");
        assert!(EntryPath::parse(b".").unwrap().is_root());
    }

    #[test]
    fn absolute_paths_are_confined_to_the_root() {
        assert_eq!(clean("/etc/passwd").unwrap(), "etc/passwd");
        assert_eq!(clean("///").unwrap(), "");
    }

    #[test]
    fn dotdot_inside_the_layer_is_resolved() {
        assert_eq!(clean("a/b/../c").unwrap(), "a/c");
        assert_eq!(clean("a/..").unwrap(), "");
    }

    #[test]
    fn dotdot_above_the_root_is_refused() {
        assert_eq!(clean("../etc/passwd"), Err(Escapes));
        assert_eq!(clean("a/../../etc"), Err(Escapes));
        assert_eq!(clean("/../x"), Err(Escapes));
        assert_eq!(clean(".."), Err(Escapes));
    }

    #[test]
    fn dots_inside_names_are_ordinary() {
        assert_eq!(clean("a/...").unwrap(), "a/...");
        assert_eq!(clean(".wh...").unwrap(), ".wh...");
    }

    #[test]
    fn split_last_gives_parent_and_name() {
        let p = EntryPath::parse(b"a/b/c").unwrap();
        let (parent, name) = p.split_last().unwrap();
        assert_eq!(join(parent), b"a/b");
        assert_eq!(name, b"c");
        assert!(EntryPath::parse(b"/").unwrap().split_last().is_none());
    }

    #[test]
    fn starts_with_compares_components_not_bytes() {
        let a = EntryPath::parse(b"a").unwrap();
        assert!(EntryPath::parse(b"a/b").unwrap().starts_with(&a));
        assert!(!EntryPath::parse(b"ab").unwrap().starts_with(&a));
    }
}
