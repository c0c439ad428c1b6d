//! Bounds on what one layer may cost: entries, uncompressed bytes, path length. A layer is
//! untrusted input, so every resource it can make us spend has a ceiling.

use std::cell::Cell;
use std::io::{self, Read};
use std::rc::Rc;

/// How to unpack a layer. The defaults are the safe ones for an unprivileged caller; the
/// image store, running as root, turns on `same_owner` and `allow_devices`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnpackOptions {
    /// Give files the uid/gid recorded in the layer (needs root).
    pub same_owner: bool,
    /// Create character and block devices the layer contains; refused otherwise.
    /// Fifos and overlay whiteouts are always allowed: they grant no access to hardware.
    pub allow_devices: bool,
    /// Most entries a layer may hold.
    pub max_entries: u64,
    /// Most bytes of uncompressed tar stream (headers included) a layer may be.
    pub max_total_bytes: u64,
    /// Longest entry path or link target, in bytes.
    pub max_path_len: usize,
}

impl Default for UnpackOptions {
    fn default() -> Self {
        UnpackOptions {
            same_owner: false,
            allow_devices: false,
            max_entries: 1_000_000,
            max_total_bytes: 64 << 30,
            max_path_len: 4096,
        }
    }
}

/// Most bytes the tar parser may read between two entries: the header blocks and the
/// extension headers (PAX records, GNU long names and links, GNU sparse maps) that it buffers
/// in memory whole. Without a bound a layer could declare a gigabyte-long name that
/// compresses to nothing. Go's archive/tar, which Docker uses, refuses the same at 1 MiB.
pub(crate) const MAX_HEADER_BYTES: u64 = 1 << 20;

/// What the bounded reader saw, shared with the unpacker: the tar crate turns our errors into
/// its own, so the unpacker asks here whether a failure was the limit or a cut-off stream.
#[derive(Debug, Default)]
pub(crate) struct StreamState {
    pub(crate) over_limit: Cell<bool>,
    pub(crate) hit_eof: Cell<bool>,
    pub(crate) total: Cell<u64>,
    /// Zero bytes at the end of what was read so far: a complete tar ends with at least one
    /// zero block, a tar cut at a header boundary does not.
    pub(crate) trailing_zeros: Cell<u64>,
    /// Bytes read since [`StreamState::start_headers`], while the parser looks for the next
    /// entry; `None` while an entry's data is read.
    pub(crate) header_bytes: Cell<Option<u64>>,
    pub(crate) over_header_limit: Cell<bool>,
}

impl StreamState {
    /// The parser is about to look for the next entry: count what it reads.
    pub(crate) fn start_headers(&self) {
        self.header_bytes.set(Some(0));
    }

    /// The parser has produced an entry; its data is bounded by the entry size instead.
    pub(crate) fn end_headers(&self) {
        self.header_bytes.set(None);
    }
}

/// Counts the uncompressed bytes the tar parser reads and fails past `max`.
pub(crate) struct BoundedReader<R> {
    inner: R,
    max: u64,
    state: Rc<StreamState>,
}

impl<R: Read> BoundedReader<R> {
    pub(crate) fn new(inner: R, max: u64) -> (Self, Rc<StreamState>) {
        let state = Rc::new(StreamState::default());
        let reader = BoundedReader {
            inner,
            max,
            state: Rc::clone(&state),
        };
        (reader, state)
    }
}

impl<R: Read> Read for BoundedReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.state.over_limit.get() || self.state.over_header_limit.get() {
            return Err(io::Error::other("layer size limit exceeded"));
        }
        let n = self.inner.read(buf)?;
        if n == 0 && !buf.is_empty() {
            self.state.hit_eof.set(true);
        }
        let total = self.state.total.get() + n as u64;
        self.state.total.set(total);
        let chunk = &buf[..n];
        let zeros = match chunk.iter().rposition(|&b| b != 0) {
            Some(last) => (n - last - 1) as u64,
            None => self.state.trailing_zeros.get() + n as u64,
        };
        self.state.trailing_zeros.set(zeros);
        if total > self.max {
            self.state.over_limit.set(true);
            return Err(io::Error::other("layer size limit exceeded"));
        }
        if let Some(header) = self.state.header_bytes.get() {
            let header = header + n as u64;
            self.state.header_bytes.set(Some(header));
            if header > MAX_HEADER_BYTES {
                self.state.over_header_limit.set(true);
                return Err(io::Error::other("layer header size limit exceeded"));
            }
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_documented_bounds() {
        let o = UnpackOptions::default();
        assert_eq!(o.max_entries, 1_000_000);
        assert_eq!(o.max_total_bytes, 64 * 1024 * 1024 * 1024);
        assert_eq!(o.max_path_len, 4096);
        assert!(!o.allow_devices && !o.same_owner);
    }

    #[test]
    fn bounded_reader_allows_exactly_max_and_fails_past_it() {
        let data = [7u8; 100];
        let (mut r, state) = BoundedReader::new(&data[..], 100);
        let mut out = Vec::new();
        r.read_to_end(&mut out).unwrap();
        assert_eq!(out.len(), 100);
        assert!(state.hit_eof.get() && !state.over_limit.get());

        let (mut r, state) = BoundedReader::new(&data[..], 99);
        assert!(r.read_to_end(&mut Vec::new()).is_err());
        assert!(state.over_limit.get());
    }

    #[test]
    fn bounded_reader_bounds_header_reads_only_when_asked() {
        let data = vec![1u8; (MAX_HEADER_BYTES + 1) as usize];
        let (mut r, state) = BoundedReader::new(&data[..], u64::MAX);
        r.read_to_end(&mut Vec::new()).unwrap();
        assert!(!state.over_header_limit.get());

        let (mut r, state) = BoundedReader::new(&data[..], u64::MAX);
        state.start_headers();
        assert!(r.read_to_end(&mut Vec::new()).is_err());
        assert!(state.over_header_limit.get());
    }

    #[test]
    fn bounded_reader_tracks_trailing_zeros() {
        let mut data = vec![1u8; 10];
        data.extend([0u8; 600]);
        let (mut r, state) = BoundedReader::new(&data[..], u64::MAX);
        r.read_to_end(&mut Vec::new()).unwrap();
        assert_eq!(state.trailing_zeros.get(), 600);
    }
}
