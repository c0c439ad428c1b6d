//! Reading an image archive: one streaming pass puts every file into the blob store and
//! remembers where it went, then the metadata (docker's manifest.json or an OCI index) is
//! resolved against that map. Nothing is extracted to disk.

use std::cell::Cell;
use std::collections::HashMap;
use std::io::{self, BufRead, BufReader, Read};

use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::{ArchiveError, BlobStore, MAX_ENTRIES, MAX_JSON_SIZE, docker, oci};
use crate::digest::Digest;

/// One image found in an archive; its blobs are in the store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArchiveImage {
    /// The config blob; its digest is the image id.
    pub config: Digest,
    /// The manifest blob, when the archive has one (OCI layouts, Docker 25+ saves).
    pub manifest: Option<Digest>,
    /// The layers, base first.
    pub layers: Vec<ArchiveLayer>,
    /// Names from the archive (`busybox:latest`), as written there.
    pub repo_tags: Vec<String>,
}

/// A layer blob and how to unpack it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArchiveLayer {
    pub blob: Digest,
    /// An OCI or Docker layer media type; one of [`LAYER_MEDIA_TYPES`].
    pub media_type: String,
    pub size: u64,
}

/// The layer media types berth can unpack (plain, gzip or zstd tars).
pub const LAYER_MEDIA_TYPES: &[&str] = &[
    "application/vnd.oci.image.layer.v1.tar",
    "application/vnd.oci.image.layer.v1.tar+gzip",
    "application/vnd.oci.image.layer.v1.tar+zstd",
    "application/vnd.oci.image.layer.nondistributable.v1.tar",
    "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
    "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
    "application/vnd.docker.image.rootfs.diff.tar",
    "application/vnd.docker.image.rootfs.diff.tar.gzip",
    "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
];

/// Reads an image archive (a `docker save` tarball or an OCI layout tarball, possibly gzip-
/// or zstd-compressed as a whole), stores all its files as blobs and returns its images.
pub fn read_archive(
    r: &mut dyn Read,
    store: &dyn BlobStore,
) -> Result<Vec<ArchiveImage>, ArchiveError> {
    read_archive_observed(r, store, &mut |_| {})
}

/// A file of the archive just stored as a blob, as [`read_archive_observed`] reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredFile {
    pub digest: Digest,
    pub size: u64,
    /// Starts like a gzip or zstd stream: a likely layer.
    pub compressed: bool,
}

/// [`read_archive`], calling `observe` with each regular file as soon as it is stored, before
/// the metadata that says what it is has been read (that usually comes last), so a caller
/// can start working on likely layers while the rest of the archive streams in.
pub fn read_archive_observed(
    r: &mut dyn Read,
    store: &dyn BlobStore,
    observe: &mut dyn FnMut(&StoredFile),
) -> Result<Vec<ArchiveImage>, ArchiveError> {
    let contents = ingest(r, store, observe)?;
    if contents.nodes.contains_key(docker::MANIFEST_JSON) {
        docker::images(&contents, store)
    } else if contents.nodes.contains_key(oci::INDEX_JSON) {
        oci::images(&contents, store)
    } else {
        Err(ArchiveError::NotAnImage)
    }
}

/// The diff ids (uncompressed layer digests) listed in a stored image config, for checking
/// layers as they are unpacked.
pub fn config_diff_ids(
    store: &dyn BlobStore,
    config: &Digest,
) -> Result<Vec<Digest>, ArchiveError> {
    let size = store
        .blob_size(config)
        .map_err(|source| ArchiveError::Blob {
            digest: config.clone(),
            source,
        })?;
    let name = config.to_string();
    let parsed: ConfigRootfs = read_json(store, &name, config, size)?;
    parsed
        .rootfs
        .diff_ids
        .iter()
        .enumerate()
        .map(|(i, d)| {
            Digest::parse(d).map_err(|e| ArchiveError::Invalid {
                at: format!("config {name}: rootfs.diff_ids[{i}]"),
                reason: e.to_string(),
            })
        })
        .collect()
}

/// Checks that the config parses and lists one diff id per layer.
pub(super) fn check_config(
    contents: &Contents,
    store: &dyn BlobStore,
    config: &FileEntry,
    layers: usize,
) -> Result<(), ArchiveError> {
    contents.charge_json(config.digest.as_str(), config.size)?;
    let diff_ids = config_diff_ids(store, &config.digest)?;
    if diff_ids.len() != layers {
        return Err(ArchiveError::LayerCount {
            config: config.digest.clone(),
            diff_ids: diff_ids.len(),
            layers,
        });
    }
    Ok(())
}

/// Only the part of an image config the archive code checks; the rest is the store's.
#[derive(Deserialize)]
struct ConfigRootfs {
    rootfs: Rootfs,
}

#[derive(Deserialize)]
struct Rootfs {
    diff_ids: Vec<String>,
}

/// How a file's content is compressed, from its first bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Compression {
    None,
    Gzip,
    Zstd,
}

impl Compression {
    fn sniff(head: &[u8]) -> Self {
        if head.starts_with(&[0x1f, 0x8b]) {
            Compression::Gzip
        } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            Compression::Zstd
        } else {
            Compression::None
        }
    }

    /// The OCI media type of a layer tar compressed this way.
    pub(super) fn layer_media_type(self) -> &'static str {
        match self {
            Compression::None => "application/vnd.oci.image.layer.v1.tar",
            Compression::Gzip => "application/vnd.oci.image.layer.v1.tar+gzip",
            Compression::Zstd => "application/vnd.oci.image.layer.v1.tar+zstd",
        }
    }
}

/// A regular file of the archive, now a blob in the store.
#[derive(Clone, Debug)]
pub(super) struct FileEntry {
    pub digest: Digest,
    pub size: u64,
    pub compression: Compression,
}

#[derive(Debug)]
enum Node {
    File(FileEntry),
    /// A symlink or hard link, with its target as a normalized archive path, or `None` when
    /// the target leaves the archive.
    Link(Option<String>),
}

/// What the streaming pass saw: archive path → stored file or link.
#[derive(Debug, Default)]
pub(super) struct Contents {
    nodes: HashMap<String, Node>,
    /// JSON bytes the metadata may still have parsed, see [`Contents::charge_json`].
    json_budget: Cell<u64>,
}

/// How many links a lookup follows before calling it a loop (Linux's limit).
const MAX_LINK_HOPS: usize = 40;

impl Contents {
    /// Charges a JSON document of `size` bytes against the archive's budget. Nested indexes
    /// and manifests can name the same large blob any number of times (an index whose
    /// thousand entries all point at one 16 MiB index, four levels deep); the budget keeps
    /// the work linear in the archive's size.
    pub(super) fn charge_json(&self, at: &str, size: u64) -> Result<(), ArchiveError> {
        let left = self.json_budget.get();
        if size > left {
            return Err(ArchiveError::Invalid {
                at: at.to_string(),
                reason: "the archive's metadata refers to its documents too many times".into(),
            });
        }
        self.json_budget.set(left - size);
        Ok(())
    }

    pub(super) fn has(&self, path: &str) -> bool {
        normalize(path).is_some_and(|p| self.nodes.contains_key(&p))
    }

    /// The file at `path`, following links inside the archive; `at` says who asked.
    pub(super) fn file(&self, at: &str, path: &str) -> Result<&FileEntry, ArchiveError> {
        let missing = || ArchiveError::Missing {
            at: at.to_string(),
            path: path.to_string(),
        };
        let mut current = normalize(path).ok_or_else(missing)?;
        for _ in 0..MAX_LINK_HOPS {
            match self.nodes.get(&current) {
                None => return Err(missing()),
                Some(Node::File(f)) => return Ok(f),
                Some(Node::Link(Some(target))) => current = target.clone(),
                Some(Node::Link(None)) => {
                    return Err(ArchiveError::BadEntry {
                        path: current,
                        reason: "link points outside the archive".into(),
                    });
                }
            }
        }
        Err(ArchiveError::BadEntry {
            path: path.to_string(),
            reason: "too many levels of links".into(),
        })
    }

    /// The blob `blobs/sha256/<hex>` of an OCI layout, checked against the expected size.
    pub(super) fn blob(
        &self,
        at: &str,
        digest: &str,
        size: u64,
    ) -> Result<&FileEntry, ArchiveError> {
        let parsed = Digest::parse(digest).map_err(|e| ArchiveError::Invalid {
            at: at.to_string(),
            reason: e.to_string(),
        })?;
        let file = self.file(at, &format!("blobs/sha256/{}", parsed.hex()))?;
        // The name is only verified for regular files under blobs/sha256; a link there (or
        // a hard link) reaches content with another digest.
        if file.digest != parsed {
            return Err(ArchiveError::Invalid {
                at: at.to_string(),
                reason: format!("blob {digest} holds content with digest {}", file.digest),
            });
        }
        if file.size != size {
            return Err(ArchiveError::Invalid {
                at: at.to_string(),
                reason: format!(
                    "blob {digest} has {} bytes, the descriptor says {size}",
                    file.size
                ),
            });
        }
        Ok(file)
    }
}

/// Reads and parses a JSON blob, refusing anything over [`MAX_JSON_SIZE`].
pub(super) fn read_json<T: DeserializeOwned>(
    store: &dyn BlobStore,
    path: &str,
    digest: &Digest,
    size: u64,
) -> Result<T, ArchiveError> {
    if size > MAX_JSON_SIZE {
        return Err(ArchiveError::TooLarge {
            path: path.to_string(),
        });
    }
    let blob_err = |source| ArchiveError::Blob {
        digest: digest.clone(),
        source,
    };
    let mut data = Vec::new();
    store
        .open_blob(digest)
        .map_err(blob_err)?
        .take(MAX_JSON_SIZE + 1)
        .read_to_end(&mut data)
        .map_err(blob_err)?;
    if data.len() as u64 > MAX_JSON_SIZE {
        return Err(ArchiveError::TooLarge {
            path: path.to_string(),
        });
    }
    serde_json::from_slice(&data).map_err(|source| ArchiveError::Json {
        path: path.to_string(),
        source,
    })
}

/// A normalized archive path: no leading `/` or `./`, no `.` or `..` components. `None` when
/// `..` would leave the archive root.
fn normalize(path: &str) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            p => parts.push(p),
        }
    }
    Some(parts.join("/"))
}

/// A symlink's target as an archive path: relative targets are relative to the link's
/// directory, absolute ones to the archive root.
fn symlink_target(link: &str, target: &str) -> Option<String> {
    if target.starts_with('/') {
        return normalize(target);
    }
    let dir = link.rsplit_once('/').map_or("", |(d, _)| d);
    normalize(&format!("{dir}/{target}"))
}

/// Wraps the archive source to remember whether it ran dry, so that a parse error after the
/// end of input is reported as a truncated archive.
struct Source<'a> {
    inner: &'a mut dyn Read,
    ran_dry: &'a Cell<bool>,
}

impl Read for Source<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n == 0 && !buf.is_empty() {
            self.ran_dry.set(true);
        }
        Ok(n)
    }
}

/// Counts an entry's bytes and keeps its first few, for compression sniffing and for
/// noticing an entry cut short.
struct Tracked<R> {
    inner: R,
    count: u64,
    head: [u8; 4],
}

impl<R: Read> Read for Tracked<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        for (i, b) in buf[..n].iter().enumerate() {
            let at = self.count as usize + i;
            if at >= self.head.len() {
                break;
            }
            self.head[at] = *b;
        }
        self.count += n as u64;
        Ok(n)
    }
}

/// The streaming pass: every regular file into the store, links remembered.
fn ingest(
    r: &mut dyn Read,
    store: &dyn BlobStore,
    observe: &mut dyn FnMut(&StoredFile),
) -> Result<Contents, ArchiveError> {
    let ran_dry = Cell::new(false);
    let read_err = |e: io::Error| {
        if ran_dry.get() || e.kind() == io::ErrorKind::UnexpectedEof {
            ArchiveError::Truncated
        } else {
            ArchiveError::Read(e)
        }
    };
    let mut buffered = BufReader::new(Source {
        inner: r,
        ran_dry: &ran_dry,
    });
    let head = buffered.fill_buf().map_err(read_err)?;
    let tar_stream: Box<dyn Read + '_> = match Compression::sniff(head) {
        Compression::None => Box::new(buffered),
        Compression::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(buffered)),
        Compression::Zstd => {
            Box::new(zstd::stream::read::Decoder::with_buffer(buffered).map_err(read_err)?)
        }
    };
    let header_bytes = Cell::new(None);
    let mut archive = tar::Archive::new(HeaderBound {
        inner: tar_stream,
        header_bytes: &header_bytes,
    });
    let mut contents = Contents::default();
    let mut total: u64 = 0;
    let mut entries = archive.entries().map_err(read_err)?;
    for count in 0.. {
        // What the parser reads to find the next entry is headers, which it buffers whole
        // (PAX records, GNU long names): bounded, see `HeaderBound`.
        header_bytes.set(Some(0));
        let Some(entry) = entries.next() else { break };
        header_bytes.set(None);
        if count == MAX_ENTRIES {
            return Err(ArchiveError::TooManyEntries);
        }
        let mut entry = entry.map_err(read_err)?;
        total = total.saturating_add(entry.size());
        ingest_entry(&mut entry, &mut contents, store, &read_err, observe)?;
        // Skip unread data (directories, links with data) here rather than in the
        // parser's next(), so the header bound counts headers only.
        io::copy(&mut entry, &mut io::sink()).map_err(read_err)?;
    }
    // Honest archives parse each JSON document two or three times; a budget linear in the
    // archive's size stops metadata that names the same large document again and again.
    contents
        .json_budget
        .set(MAX_JSON_SIZE.saturating_add(total.saturating_mul(4)));
    Ok(contents)
}

/// Records one archive entry: regular files into the store, links remembered.
fn ingest_entry<R: Read>(
    entry: &mut tar::Entry<'_, R>,
    contents: &mut Contents,
    store: &dyn BlobStore,
    read_err: &dyn Fn(io::Error) -> ArchiveError,
    observe: &mut dyn FnMut(&StoredFile),
) -> Result<(), ArchiveError> {
    // Paths that are not UTF-8 or leave the root cannot be named by the metadata.
    let path = entry.path().map_err(read_err)?.to_str().and_then(normalize);
    let Some(path) = path else {
        return Ok(());
    };
    if path.is_empty() {
        return Ok(());
    }
    let kind = entry.header().entry_type();
    if kind.is_file() {
        let file = store_entry(entry, &path, store, read_err)?;
        observe(&StoredFile {
            digest: file.digest.clone(),
            size: file.size,
            compressed: file.compression != Compression::None,
        });
        contents.nodes.insert(path, Node::File(file));
    } else if kind.is_symlink() || kind.is_hard_link() {
        let target =
            entry
                .link_name()
                .map_err(read_err)?
                .ok_or_else(|| ArchiveError::BadEntry {
                    path: path.clone(),
                    reason: "link without a target".into(),
                })?;
        let target = target.to_str().ok_or_else(|| ArchiveError::BadEntry {
            path: path.clone(),
            reason: "link target is not utf-8".into(),
        })?;
        // Hard link targets name archive paths; symlink targets are relative to the link.
        let resolved = if kind.is_hard_link() {
            normalize(target)
        } else {
            symlink_target(&path, target)
        };
        contents.nodes.insert(path, Node::Link(resolved));
    }
    Ok(())
}

/// Most bytes the tar parser may read between two entries (headers and the extension
/// headers it keeps in memory), as Go's archive/tar allows 1 MiB for them.
const MAX_HEADER_BYTES: u64 = 1 << 20;

/// Counts what the tar parser reads while `header_bytes` is `Some`, failing past
/// [`MAX_HEADER_BYTES`]: a GNU long name or PAX header is read into memory whole, and a
/// hostile archive could declare gigabytes of one.
struct HeaderBound<'a, R> {
    inner: R,
    header_bytes: &'a Cell<Option<u64>>,
}

impl<R: Read> Read for HeaderBound<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(count) = self.header_bytes.get() {
            let count = count + n as u64;
            self.header_bytes.set(Some(count));
            if count > MAX_HEADER_BYTES {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                        "an extension header (PAX or GNU long name) is over {MAX_HEADER_BYTES} bytes"
                    ),
                ));
            }
        }
        Ok(n)
    }
}

/// Stores one regular file; `blobs/sha256/<hex>` files are verified against their name.
fn store_entry<R: Read>(
    entry: &mut tar::Entry<'_, R>,
    path: &str,
    store: &dyn BlobStore,
    read_err: &dyn Fn(io::Error) -> ArchiveError,
) -> Result<FileEntry, ArchiveError> {
    let expected_size = entry.header().size().map_err(read_err)?;
    let expected = path
        .strip_prefix("blobs/sha256/")
        .and_then(|hex| Digest::parse(&format!("sha256:{hex}")).ok());
    let mut tracked = Tracked {
        inner: entry,
        count: 0,
        head: [0; 4],
    };
    let stored = store.put_blob(&mut tracked, expected.as_ref());
    if tracked.count < expected_size {
        return Err(ArchiveError::Truncated);
    }
    let (digest, size) = stored.map_err(|source| ArchiveError::Store {
        path: path.to_string(),
        source,
    })?;
    let head_len = tracked.count.min(4) as usize;
    Ok(FileEntry {
        digest,
        size,
        compression: Compression::sniff(&tracked.head[..head_len]),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_keeps_paths_inside_the_archive() {
        assert_eq!(normalize("./a/./b/../c").as_deref(), Some("a/c"));
        assert_eq!(
            normalize("/manifest.json").as_deref(),
            Some("manifest.json")
        );
        assert_eq!(normalize("a/../../etc/passwd"), None);
        assert_eq!(
            symlink_target("abc/layer.tar", "../def/layer.tar").as_deref(),
            Some("def/layer.tar")
        );
        assert_eq!(
            symlink_target("abc/layer.tar", "/def/layer.tar").as_deref(),
            Some("def/layer.tar")
        );
        assert_eq!(symlink_target("abc/layer.tar", "../../x"), None);
    }
}
