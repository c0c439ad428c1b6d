//! Image references as Docker parses and normalizes them (`busybox` is
//! `docker.io/library/busybox`), so every name berth stores, prints or pulls by has one
//! canonical form. The grammar follows `distribution/reference`, written out by hand
//! instead of with regular expressions.

use std::fmt;
use std::str::FromStr;

use crate::digest::{Digest, is_lower_hex_64};

/// The registry of Docker Hub, which names without a registry host refer to.
pub const DEFAULT_DOMAIN: &str = "docker.io";
/// The old name of Docker Hub's registry, still accepted and rewritten to [`DEFAULT_DOMAIN`].
const LEGACY_DEFAULT_DOMAIN: &str = "index.docker.io";
/// Docker Hub's namespace for official images: `busybox` is `library/busybox`.
const OFFICIAL_REPO_PREFIX: &str = "library/";
/// The tag a reference without tag or digest means.
pub const DEFAULT_TAG: &str = "latest";

const NAME_TOTAL_LENGTH_MAX: usize = 255;
const TAG_LENGTH_MAX: usize = 128;

/// A parsed, normalized image reference: `domain/path[:tag][@digest]`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Reference {
    domain: String,
    path: String,
    tag: Option<String>,
    digest: Option<Digest>,
}

/// Why a reference does not parse. Messages start the way Docker's do, so scripts and
/// users that know Docker's errors recognize them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReferenceError {
    #[error("invalid reference format: repository name must have at least one component")]
    Empty,
    #[error("invalid repository name ({0}), cannot specify 64-byte hexadecimal strings")]
    FullId(String),
    #[error("invalid reference format: repository name ({0}) must be lowercase")]
    Uppercase(String),
    #[error(
        "invalid reference format: repository name must not be more than {NAME_TOTAL_LENGTH_MAX} characters"
    )]
    NameTooLong,
    /// `reason` names the part that is wrong and what it should look like.
    #[error("invalid reference format: {reason}")]
    InvalidFormat { reason: String },
}

fn invalid(reason: String) -> ReferenceError {
    ReferenceError::InvalidFormat { reason }
}

/// True for a full 64-hex-digit image id, which Docker accepts where a reference is expected
/// and looks up as an id instead.
pub fn is_full_id(s: &str) -> bool {
    is_lower_hex_64(s)
}

impl Reference {
    /// Parses and normalizes a reference as `docker pull` and `docker run` take it.
    pub fn parse(s: &str) -> Result<Reference, ReferenceError> {
        if s.is_empty() {
            return Err(ReferenceError::Empty);
        }
        if is_full_id(s) {
            return Err(ReferenceError::FullId(s.to_string()));
        }
        let (name_and_tag, digest) = match s.split_once('@') {
            Some((rest, digest)) => (rest, Some(parse_digest(digest)?)),
            None => (s, None),
        };
        let (domain, remainder) = split_domain(name_and_tag);
        // The path cannot hold a colon, so the first one in what follows the domain starts
        // the tag (a colon in the domain is a port).
        let (path, tag) = match remainder.split_once(':') {
            Some((path, tag)) => (path, Some(tag)),
            None => (remainder.as_str(), None),
        };
        if path.bytes().any(|b| b.is_ascii_uppercase()) {
            return Err(ReferenceError::Uppercase(path.to_string()));
        }
        validate_domain(&domain)?;
        validate_path(path)?;
        if let Some(tag) = tag {
            validate_tag(tag)?;
        }
        if domain.len() + 1 + path.len() > NAME_TOTAL_LENGTH_MAX {
            return Err(ReferenceError::NameTooLong);
        }
        Ok(Reference {
            domain,
            path: path.to_string(),
            tag: tag.map(str::to_string),
            digest,
        })
    }

    /// The registry host, with port if any: `docker.io`, `localhost:5000`, `ghcr.io`.
    pub fn domain(&self) -> &str {
        &self.domain
    }

    /// The repository path in the registry: `library/busybox`, `user/app`.
    pub fn path(&self) -> &str {
        &self.path
    }

    pub fn tag(&self) -> Option<&str> {
        self.tag.as_deref()
    }

    pub fn digest(&self) -> Option<&Digest> {
        self.digest.as_ref()
    }

    /// The full repository name: `docker.io/library/busybox`.
    pub fn name(&self) -> String {
        format!("{}/{}", self.domain, self.path)
    }

    /// The repository name as Docker shows it: `busybox`, `user/app`, `localhost:5000/x`.
    pub fn familiar_name(&self) -> String {
        if self.domain != DEFAULT_DOMAIN {
            return self.name();
        }
        // Only a single-component official name drops `library/`; `library/a/b` keeps it
        // so that it cannot be read back as the user namespace `a`.
        let path = match self.path.strip_prefix(OFFICIAL_REPO_PREFIX) {
            Some(rest) if !rest.contains('/') => rest,
            _ => &self.path,
        };
        // Docker would print `docker.io/a.b/c` as `a.b/c`, which reads back as registry
        // `a.b`; keep the host where dropping it would change the meaning.
        match path.split_once('/') {
            Some((first, _)) if names_a_registry(first) => self.name(),
            _ => path.to_string(),
        }
    }

    /// The reference as Docker shows it: `busybox:latest`, `user/app@sha256:...`.
    pub fn familiar_string(&self) -> String {
        let mut out = self.familiar_name();
        self.push_tag_and_digest(&mut out);
        out
    }

    /// The tag, or `latest` when there is none (also for a reference pinned only by digest).
    pub fn tag_or_default(&self) -> &str {
        self.tag.as_deref().unwrap_or(DEFAULT_TAG)
    }

    /// Adds the `latest` tag when the reference has neither tag nor digest, as `docker pull`
    /// does.
    pub fn with_default_tag(mut self) -> Reference {
        if self.tag.is_none() && self.digest.is_none() {
            self.tag = Some(DEFAULT_TAG.to_string());
        }
        self
    }

    /// The same repository with `tag` instead of any tag or digest, as `docker tag` names
    /// its target.
    pub fn with_tag(&self, tag: &str) -> Result<Reference, ReferenceError> {
        validate_tag(tag)?;
        Ok(Reference {
            tag: Some(tag.to_string()),
            digest: None,
            ..self.clone()
        })
    }

    /// The same repository pinned to `digest`, keeping any tag.
    pub fn with_digest(&self, digest: Digest) -> Reference {
        Reference {
            digest: Some(digest),
            ..self.clone()
        }
    }

    fn push_tag_and_digest(&self, out: &mut String) {
        if let Some(tag) = &self.tag {
            out.push(':');
            out.push_str(tag);
        }
        if let Some(digest) = &self.digest {
            out.push('@');
            out.push_str(digest.as_str());
        }
    }
}

/// Splits off the registry host when the first of several components names one (see
/// [`names_a_registry`]). Docker Hub names get their canonical host and the `library/`
/// namespace.
fn split_domain(name: &str) -> (String, String) {
    let Some((first, rest)) = name.split_once('/') else {
        return (
            DEFAULT_DOMAIN.to_string(),
            format!("{OFFICIAL_REPO_PREFIX}{name}"),
        );
    };
    let (domain, remainder) = if first == LEGACY_DEFAULT_DOMAIN {
        (DEFAULT_DOMAIN, rest)
    } else if names_a_registry(first) {
        (first, rest)
    } else {
        (DEFAULT_DOMAIN, name)
    };
    let remainder = if domain == DEFAULT_DOMAIN && !remainder.contains('/') {
        format!("{OFFICIAL_REPO_PREFIX}{remainder}")
    } else {
        remainder.to_string()
    };
    (domain.to_string(), remainder)
}

/// Whether Docker reads the first component of a name as a registry host: when it is
/// `localhost` or holds a `.`, a `:` or an uppercase letter (repository paths are lowercase,
/// so such a component can only be a host).
fn names_a_registry(first: &str) -> bool {
    first == LEGACY_DEFAULT_DOMAIN
        || first == "localhost"
        || first.contains(['.', ':'])
        || first.bytes().any(|b| b.is_ascii_uppercase())
}

fn parse_digest(s: &str) -> Result<Digest, ReferenceError> {
    Digest::parse(s).map_err(|_| {
        invalid(format!(
            "digest {s:?} must be sha256:<64 lowercase hex digits>"
        ))
    })
}

/// `host[:port]`, where host is a DNS name (`registry.example.com`, `localhost`, `Foo`) or
/// a bracketed IPv6 address (`[::1]`).
fn validate_domain(domain: &str) -> Result<(), ReferenceError> {
    if is_host_and_port(domain) {
        Ok(())
    } else {
        Err(invalid(format!(
            "registry host {domain:?} is not a valid host[:port]"
        )))
    }
}

fn is_host_and_port(domain: &str) -> bool {
    let (host_ok, rest) = match domain.strip_prefix('[') {
        Some(inner) => match inner.split_once(']') {
            Some((address, rest)) => (is_ipv6_literal(address), rest),
            None => return false,
        },
        None => {
            let end = domain.find(':').unwrap_or(domain.len());
            (is_dns_name(&domain[..end]), &domain[end..])
        }
    };
    let port_ok = rest.is_empty()
        || rest
            .strip_prefix(':')
            .is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    host_ok && port_ok
}

/// Hex digits and colons, loosely, as Docker's grammar checks an IPv6 address.
fn is_ipv6_literal(address: &str) -> bool {
    !address.is_empty() && address.bytes().all(|b| b.is_ascii_hexdigit() || b == b':')
}

/// Dot-separated labels of letters, digits and inner hyphens.
fn is_dns_name(host: &str) -> bool {
    host.split('.').all(|label| {
        let bytes = label.as_bytes();
        match (bytes.first(), bytes.last()) {
            (Some(first), Some(last)) => {
                first.is_ascii_alphanumeric()
                    && last.is_ascii_alphanumeric()
                    && bytes
                        .iter()
                        .all(|b| b.is_ascii_alphanumeric() || *b == b'-')
            }
            _ => false,
        }
    })
}

/// Slash-separated components of lowercase letters and digits, joined inside a component
/// by one `.`, one or two `_`, or any number of `-`.
fn validate_path(path: &str) -> Result<(), ReferenceError> {
    for component in path.split('/') {
        if !is_path_component(component) {
            let reason = if component.is_empty() {
                format!("repository name {path:?} has an empty path component")
            } else {
                format!(
                    "repository path component {component:?} must be lowercase letters and \
                     digits, separated by '.', '_', '__' or dashes"
                )
            };
            return Err(invalid(reason));
        }
    }
    Ok(())
}

fn is_path_component(component: &str) -> bool {
    let is_alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    let bytes = component.as_bytes();
    let (Some(&first), Some(&last)) = (bytes.first(), bytes.last()) else {
        return false;
    };
    if !is_alnum(first) || !is_alnum(last) {
        return false;
    }
    // Between runs of letters and digits, every run of other bytes must be a separator.
    bytes
        .split(|&b| is_alnum(b))
        .filter(|run| !run.is_empty())
        .all(|separator| {
            matches!(separator, b"." | b"_" | b"__") || separator.iter().all(|&b| b == b'-')
        })
}

/// Up to 128 word characters, dots and dashes, not starting with a dot or dash.
fn validate_tag(tag: &str) -> Result<(), ReferenceError> {
    let is_word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let bytes = tag.as_bytes();
    let Some(&first) = bytes.first() else {
        return Err(invalid("tag is empty".to_string()));
    };
    if !is_word(first) {
        return Err(invalid(format!(
            "tag {tag:?} must start with a letter, digit or underscore"
        )));
    }
    if !bytes.iter().all(|&b| is_word(b) || b == b'.' || b == b'-') {
        return Err(invalid(format!(
            "tag {tag:?} may only hold letters, digits, '_', '.' and '-'"
        )));
    }
    if tag.len() > TAG_LENGTH_MAX {
        return Err(invalid(format!(
            "tag {tag:?} is longer than {TAG_LENGTH_MAX} characters"
        )));
    }
    Ok(())
}

/// The full normalized form: `docker.io/library/busybox:latest`.
impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = self.name();
        self.push_tag_and_digest(&mut out);
        f.write_str(&out)
    }
}

impl FromStr for Reference {
    type Err = ReferenceError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl serde::Serialize for Reference {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Reference {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        Reference::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const HEX: &str = "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03";

    fn parse(s: &str) -> Reference {
        Reference::parse(s).unwrap_or_else(|e| panic!("{s:?} should parse: {e}"))
    }

    /// Domain, path, tag and digest.
    type Parts<'a> = (&'a str, &'a str, Option<&'a str>, Option<&'a str>);

    fn parts(r: &Reference) -> Parts<'_> {
        (
            r.domain(),
            r.path(),
            r.tag(),
            r.digest().map(Digest::as_str),
        )
    }

    #[test]
    fn normalization_table() {
        let digest = format!("sha256:{HEX}");
        let d = Some(digest.as_str());
        let cases: &[(&str, Parts)] = &[
            ("busybox", ("docker.io", "library/busybox", None, None)),
            (
                "busybox:1.36",
                ("docker.io", "library/busybox", Some("1.36"), None),
            ),
            ("user/app", ("docker.io", "user/app", None, None)),
            ("user/app:v1", ("docker.io", "user/app", Some("v1"), None)),
            (
                "library/busybox",
                ("docker.io", "library/busybox", None, None),
            ),
            (
                "docker.io/busybox",
                ("docker.io", "library/busybox", None, None),
            ),
            (
                "docker.io/library/busybox",
                ("docker.io", "library/busybox", None, None),
            ),
            (
                "index.docker.io/busybox",
                ("docker.io", "library/busybox", None, None),
            ),
            (
                "index.docker.io/user/app",
                ("docker.io", "user/app", None, None),
            ),
            ("localhost/x", ("localhost", "x", None, None)),
            ("localhost:5000/x", ("localhost:5000", "x", None, None)),
            (
                "localhost:5000/x:1",
                ("localhost:5000", "x", Some("1"), None),
            ),
            ("ghcr.io/a/b", ("ghcr.io", "a/b", None, None)),
            (
                "ghcr.io/a/b/c:edge",
                ("ghcr.io", "a/b/c", Some("edge"), None),
            ),
            ("registry:5000/x", ("registry:5000", "x", None, None)),
            ("127.0.0.1:5000/x", ("127.0.0.1:5000", "x", None, None)),
            ("[::1]:5000/x", ("[::1]:5000", "x", None, None)),
            ("[fe80::1]/x", ("[fe80::1]", "x", None, None)),
            ("Registry/x", ("Registry", "x", None, None)),
            ("a/b/c/d", ("docker.io", "a/b/c/d", None, None)),
            // Without a slash a colon starts the tag: Docker never reads it as a port.
            (
                "localhost:5000",
                ("docker.io", "library/localhost", Some("5000"), None),
            ),
            (
                "example.com",
                ("docker.io", "library/example.com", None, None),
            ),
            (
                "busybox:Latest_1.0-rc",
                ("docker.io", "library/busybox", Some("Latest_1.0-rc"), None),
            ),
            (
                "my_app.v2--beta__x",
                ("docker.io", "library/my_app.v2--beta__x", None, None),
            ),
        ];
        for (input, want) in cases {
            assert_eq!(parts(&parse(input)), *want, "{input}");
        }
        let with_digest = parse(&format!("busybox@{digest}"));
        assert_eq!(
            parts(&with_digest),
            ("docker.io", "library/busybox", None, d)
        );
        let both = parse(&format!("ghcr.io/a/b:v1@{digest}"));
        assert_eq!(parts(&both), ("ghcr.io", "a/b", Some("v1"), d));
    }

    #[test]
    fn display_is_the_full_normalized_form() {
        assert_eq!(parse("busybox").to_string(), "docker.io/library/busybox");
        assert_eq!(
            parse("busybox:latest").to_string(),
            "docker.io/library/busybox:latest"
        );
        assert_eq!(
            parse(&format!("user/app:v1@sha256:{HEX}")).to_string(),
            format!("docker.io/user/app:v1@sha256:{HEX}")
        );
        assert_eq!(
            parse("localhost:5000/x:1").to_string(),
            "localhost:5000/x:1"
        );
    }

    #[test]
    fn familiar_forms_drop_docker_hub_and_library() {
        let cases = [
            ("busybox", "busybox", "busybox"),
            ("docker.io/library/busybox:1", "busybox", "busybox:1"),
            ("user/app:v1", "user/app", "user/app:v1"),
            ("library/a/b", "library/a/b", "library/a/b"),
            (
                "localhost:5000/x:1",
                "localhost:5000/x",
                "localhost:5000/x:1",
            ),
            (
                "ghcr.io/library/x",
                "ghcr.io/library/x",
                "ghcr.io/library/x",
            ),
            // Dropping docker.io here would make `a.b` the registry.
            ("docker.io/a.b/c", "docker.io/a.b/c", "docker.io/a.b/c"),
            (
                "docker.io/localhost/c",
                "docker.io/localhost/c",
                "docker.io/localhost/c",
            ),
        ];
        for (input, name, string) in cases {
            let r = parse(input);
            assert_eq!(r.familiar_name(), name, "{input}");
            assert_eq!(r.familiar_string(), string, "{input}");
        }
        let pinned = parse(&format!("busybox@sha256:{HEX}"));
        assert_eq!(pinned.familiar_string(), format!("busybox@sha256:{HEX}"));
    }

    #[test]
    fn name_is_domain_and_path() {
        assert_eq!(parse("busybox:1").name(), "docker.io/library/busybox");
        assert_eq!(parse("ghcr.io/a/b").name(), "ghcr.io/a/b");
    }

    #[test]
    fn default_tag_only_when_neither_tag_nor_digest() {
        assert_eq!(parse("busybox").with_default_tag().tag(), Some("latest"));
        assert_eq!(parse("busybox:1").with_default_tag().tag(), Some("1"));
        let pinned = parse(&format!("busybox@sha256:{HEX}")).with_default_tag();
        assert_eq!(pinned.tag(), None);
        assert_eq!(pinned.tag_or_default(), "latest");
        assert_eq!(parse("busybox:1").tag_or_default(), "1");
    }

    #[test]
    fn with_tag_replaces_tag_and_digest() {
        let r = parse(&format!("busybox:1@sha256:{HEX}"));
        let tagged = r.with_tag("2").unwrap();
        assert_eq!(tagged.to_string(), "docker.io/library/busybox:2");
        assert!(r.with_tag("-x").is_err());
        let pinned =
            parse("busybox:1").with_digest(Digest::parse(&format!("sha256:{HEX}")).unwrap());
        assert_eq!(
            pinned.to_string(),
            format!("docker.io/library/busybox:1@sha256:{HEX}")
        );
    }

    #[test]
    fn a_full_id_is_not_a_name() {
        assert!(is_full_id(HEX));
        assert!(!is_full_id(&HEX[..63]));
        assert!(!is_full_id(&HEX.to_uppercase()));
        assert_eq!(
            Reference::parse(HEX).unwrap_err().to_string(),
            format!("invalid repository name ({HEX}), cannot specify 64-byte hexadecimal strings")
        );
        // Short ids and longer hex strings are ordinary names.
        assert!(Reference::parse(&HEX[..12]).is_ok());
        assert!(Reference::parse(&format!("{HEX}0")).is_ok());
    }

    #[test]
    fn uppercase_repository_is_reported_as_docker_does() {
        let err = Reference::parse("Busybox").unwrap_err();
        assert_eq!(
            err,
            ReferenceError::Uppercase("library/Busybox".to_string())
        );
        assert_eq!(
            err.to_string(),
            "invalid reference format: repository name (library/Busybox) must be lowercase"
        );
        assert!(matches!(
            Reference::parse("ghcr.io/User/app"),
            Err(ReferenceError::Uppercase(_))
        ));
    }

    #[test]
    fn invalid_references_are_rejected() {
        let long_tag = "t".repeat(129);
        let long_name = format!("a/{}", "b".repeat(250));
        let invalid = [
            ":latest",
            "busybox:",
            "busybox:-1",
            "busybox:.1",
            "busybox:a/b",
            "busybox:a:b",
            "busybox@",
            "busybox@sha256:abc",
            "busybox@sha512:abc",
            &format!("busybox@sha256:{}", HEX.to_uppercase()),
            &format!("busybox:{long_tag}"),
            "/busybox",
            "busybox/",
            "a//b",
            "_a",
            "a_",
            "a-",
            "-a",
            ".a",
            "a...b",
            "a___b",
            "a.-b",
            "a b",
            "a/b c",
            "ghcr.io/",
            "-ghcr.io/a",
            "ghcr-.io/a",
            "ghcr..io/a",
            "ghcr.io:/a",
            "ghcr.io:50a/a",
            "gh_cr.io/a",
            "[]/a",
            "[::1/a",
            "[::1]x/a",
            "[zz]/a",
            "a@b@c",
            "ünicode",
            &long_name,
        ];
        for input in invalid {
            let err = Reference::parse(input).expect_err(input);
            assert!(
                err.to_string().starts_with("invalid reference format"),
                "{input:?}: {err}"
            );
        }
        assert_eq!(Reference::parse(""), Err(ReferenceError::Empty));
    }

    #[test]
    fn name_length_counts_the_normalized_name() {
        // "docker.io/" + path: 10 + 245 = 255 is the longest allowed.
        let path = format!("a/{}", "b".repeat(243));
        assert_eq!(parse(&path).name().len(), 255);
        let path = format!("a/{}", "b".repeat(244));
        assert_eq!(Reference::parse(&path), Err(ReferenceError::NameTooLong));
    }

    #[test]
    fn tag_of_128_characters_is_allowed() {
        let tag = "t".repeat(128);
        assert_eq!(parse(&format!("busybox:{tag}")).tag(), Some(tag.as_str()));
    }

    #[test]
    fn errors_name_the_offending_part() {
        let message = |s: &str| Reference::parse(s).unwrap_err().to_string();
        assert!(message("busybox:-1").contains("tag \"-1\""));
        assert!(message("-ghcr.io/a").contains("registry host \"-ghcr.io\""));
        assert!(message("a/b..c").contains("component \"b..c\""));
        assert!(message("busybox@sha256:abc").contains("digest \"sha256:abc\""));
    }

    #[test]
    fn serde_uses_the_full_string() {
        let r = parse("busybox:1");
        let json = serde_json::to_string(&r).unwrap();
        assert_eq!(json, "\"docker.io/library/busybox:1\"");
        assert_eq!(serde_json::from_str::<Reference>(&json).unwrap(), r);
        assert!(serde_json::from_str::<Reference>("\"Busybox\"").is_err());
    }

    /// Valid references in every shape the grammar allows, familiar and full.
    fn valid_reference() -> impl Strategy<Value = String> {
        let component = "[a-z0-9]{1,5}(([._]|__|-{1,3})[a-z0-9]{1,5}){0,2}";
        let domain = prop_oneof![
            Just(String::new()),
            Just("docker.io/".to_string()),
            Just("index.docker.io/".to_string()),
            Just("localhost/".to_string()),
            "[a-z0-9]{1,8}(\\.[a-z0-9]{1,8}){1,2}(:[0-9]{1,5})?/",
            // Docker only reads a bracketed first component as a host when it holds a colon.
            "\\[[0-9a-f]{0,4}:[0-9a-f:]{0,8}\\](:[0-9]{1,5})?/",
        ];
        // A first component with a dot would be read as a registry host (which berth, unlike
        // Docker's fallback to an empty domain, then rejects when it is not a valid one).
        let first = "[a-z0-9]{1,5}(([_]|__|-{1,3})[a-z0-9]{1,5}){0,2}";
        let path = (first, proptest::collection::vec(component, 0..3))
            .prop_map(|(first, rest)| [vec![first], rest].concat().join("/"));
        let tag = proptest::option::of("[A-Za-z0-9_][A-Za-z0-9_.-]{0,20}");
        let digest = proptest::option::of("[0-9a-f]{64}");
        (domain, path, tag, digest).prop_map(|(domain, path, tag, digest)| {
            let mut s = format!("{domain}{path}");
            if let Some(tag) = tag {
                s.push_str(&format!(":{tag}"));
            }
            if let Some(hex) = digest {
                s.push_str(&format!("@sha256:{hex}"));
            }
            s
        })
    }

    proptest! {
        #[test]
        fn parse_never_panics(s in "\\PC{0,80}") {
            let _ = Reference::parse(&s);
        }

        #[test]
        fn parse_never_panics_on_reference_like_input(s in "[a-zA-Z0-9:/@._\\-\\[\\]]{0,40}") {
            if let Ok(r) = Reference::parse(&s) {
                prop_assert_eq!(Reference::parse(&r.to_string()), Ok(r));
            }
        }

        #[test]
        fn display_round_trips(s in valid_reference()) {
            let r = Reference::parse(&s);
            prop_assert!(r.is_ok(), "{s:?}: {r:?}");
            let r = r.unwrap();
            prop_assert_eq!(Reference::parse(&r.to_string()), Ok(r.clone()));
            prop_assert_eq!(Reference::parse(&r.familiar_string()), Ok(r));
        }
    }
}
