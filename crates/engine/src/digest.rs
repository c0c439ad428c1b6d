//! Content digests (`sha256:<hex>`), computed while data streams through, and layer chain
//! ids. Every blob the store takes in passes through a [`DigestReader`] or a
//! [`VerifyingReader`], so content is hashed once, as it is copied, never read twice.

use std::fmt;
use std::io::{self, Read};
use std::str::FromStr;

use sha2::{Digest as _, Sha256};

const PREFIX: &str = "sha256:";

/// A validated `sha256:<64 lowercase hex>` digest.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest(String);

#[derive(Debug, thiserror::Error)]
#[error("invalid digest {0:?}: expected sha256:<64 hex digits>")]
pub struct DigestError(pub String);

impl Digest {
    pub fn parse(s: &str) -> Result<Self, DigestError> {
        let hex = s
            .strip_prefix(PREFIX)
            .ok_or_else(|| DigestError(s.to_string()))?;
        if !is_lower_hex_64(hex) {
            return Err(DigestError(s.to_string()));
        }
        Ok(Digest(s.to_string()))
    }

    /// The digest of a finished sha256 hash.
    pub fn from_sha256(hash: &[u8; 32]) -> Self {
        Digest(format!("{PREFIX}{}", hex::encode(hash)))
    }

    /// The sha256 digest of `data`.
    pub fn of_bytes(data: &[u8]) -> Self {
        Self::from_sha256(&Sha256::digest(data).into())
    }

    /// The 64 hex digits.
    pub fn hex(&self) -> &str {
        &self.0[PREFIX.len()..]
    }

    /// The first 12 hex digits, as `docker images` prints image ids.
    pub fn short(&self) -> &str {
        &self.hex()[..12]
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// True for exactly 64 lowercase hex digits (a bare sha256, as in an image id).
pub(crate) fn is_lower_hex_64(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for Digest {
    type Err = DigestError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl serde::Serialize for Digest {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for Digest {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // Borrowing would fail on JSON strings with escapes, so take an owned String.
        let s = String::deserialize(deserializer)?;
        Digest::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// Hashes and counts the bytes read through it.
pub struct DigestReader<R> {
    inner: R,
    hasher: Sha256,
    size: u64,
}

impl<R: Read> DigestReader<R> {
    pub fn new(inner: R) -> Self {
        DigestReader {
            inner,
            hasher: Sha256::new(),
            size: 0,
        }
    }

    /// Bytes read so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The digest and size of everything read so far.
    pub fn finish(self) -> (Digest, u64) {
        (
            Digest::from_sha256(&self.hasher.finalize().into()),
            self.size,
        )
    }
}

impl<R: Read> Read for DigestReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.size += n as u64;
        Ok(n)
    }
}

/// Passes bytes through and fails the read that reaches end of input when the content is not
/// what was expected, so a copy loop (`io::copy`) cannot finish on corrupt or truncated data.
/// With an expected size it also fails as soon as more bytes arrive, so an endless or
/// oversized stream is cut short instead of filling the disk.
pub struct VerifyingReader<R> {
    inner: DigestReader<R>,
    expected: Digest,
    expected_size: Option<u64>,
    verified: bool,
}

impl<R: Read> VerifyingReader<R> {
    pub fn new(inner: R, expected: Digest, expected_size: Option<u64>) -> Self {
        VerifyingReader {
            inner: DigestReader::new(inner),
            expected,
            expected_size,
            verified: false,
        }
    }

    /// Bytes read so far.
    pub fn size(&self) -> u64 {
        self.inner.size()
    }

    /// The expected digest, which is also the actual one once end of input was reached
    /// without error.
    pub fn expected(&self) -> &Digest {
        &self.expected
    }

    /// True once end of input was reached and the content matched.
    pub fn is_verified(&self) -> bool {
        self.verified
    }

    fn check_size_limit(&self) -> io::Result<()> {
        match self.expected_size {
            Some(limit) if self.inner.size() > limit => Err(invalid_data(format!(
                "content of {} is larger than the expected {limit} bytes",
                self.expected
            ))),
            _ => Ok(()),
        }
    }

    fn check_at_eof(&self) -> io::Result<()> {
        let size = self.inner.size();
        if let Some(want) = self.expected_size
            && want != size
        {
            return Err(invalid_data(format!(
                "size mismatch for {}: expected {want} bytes, got {size}",
                self.expected
            )));
        }
        // Finishing a clone keeps the reader usable for a caller that reads again after EOF.
        let actual = Digest::from_sha256(&self.inner.hasher.clone().finalize().into());
        if actual != self.expected {
            return Err(invalid_data(format!(
                "digest mismatch: expected {}, got {actual} ({size} bytes)",
                self.expected
            )));
        }
        Ok(())
    }
}

impl<R: Read> Read for VerifyingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.check_size_limit()?;
        if n == 0 && !buf.is_empty() {
            self.check_at_eof()?;
            self.verified = true;
        }
        Ok(n)
    }
}

fn invalid_data(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message)
}

/// Chain ids of a stack of layers from their diff ids, bottom layer first, as the OCI image
/// spec defines them: the first chain id is the first diff id, each next one is the sha256 of
/// `"<previous chain id> <diff id>"`. A chain id names a layer together with everything under
/// it, which is what an unpacked layer directory depends on.
pub fn chain_ids(diff_ids: &[Digest]) -> Vec<Digest> {
    let mut out: Vec<Digest> = Vec::with_capacity(diff_ids.len());
    for diff_id in diff_ids {
        let next = match out.last() {
            None => diff_id.clone(),
            Some(parent) => Digest::of_bytes(format!("{parent} {diff_id}").as_bytes()),
        };
        out.push(next);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    // printf '' | sha256sum
    const EMPTY: &str = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    // printf 'hello\n' | sha256sum
    const HELLO: &str = "sha256:5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03";

    fn d(s: &str) -> Digest {
        Digest::parse(s).unwrap()
    }

    #[test]
    fn of_bytes_matches_sha256sum() {
        assert_eq!(Digest::of_bytes(b""), d(EMPTY));
        assert_eq!(Digest::of_bytes(b"hello\n"), d(HELLO));
    }

    #[test]
    fn from_sha256_is_lowercase_hex() {
        let digest = Digest::from_sha256(&[0xab; 32]);
        assert_eq!(digest.hex(), "ab".repeat(32));
        assert_eq!(digest.as_str(), format!("sha256:{}", "ab".repeat(32)));
    }

    #[test]
    fn short_is_the_first_twelve_hex_digits() {
        assert_eq!(d(HELLO).short(), "5891b5b522d5");
    }

    #[test]
    fn parse_rejects_malformed_digests() {
        for bad in [
            "",
            "sha256:",
            "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03",
            "sha512:5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03",
            "sha256:5891B5B522D5DF086D0FF0B110FBD9D21BB4FC7163AF34D08286A2E846F6BE03",
            "sha256:5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be0",
            "sha256:5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be033",
            "sha256:5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be0g",
        ] {
            assert!(Digest::parse(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn serde_round_trips_as_a_string() {
        let json = serde_json::to_string(&d(HELLO)).unwrap();
        assert_eq!(json, format!("\"{HELLO}\""));
        let back: Digest = serde_json::from_str(&json).unwrap();
        assert_eq!(back, d(HELLO));
    }

    #[test]
    fn deserialize_validates() {
        let err = serde_json::from_str::<Digest>("\"sha256:nothex\"").unwrap_err();
        assert!(err.to_string().contains("invalid digest"), "{err}");
        assert!(serde_json::from_str::<Digest>("42").is_err());
    }

    #[test]
    fn digest_reader_hashes_and_counts_what_streams_through() {
        let mut reader = DigestReader::new(&b"hello\n"[..]);
        let mut copy = Vec::new();
        reader.read_to_end(&mut copy).unwrap();
        assert_eq!(copy, b"hello\n");
        assert_eq!(reader.finish(), (d(HELLO), 6));
    }

    #[test]
    fn digest_reader_of_nothing_is_the_empty_digest() {
        assert_eq!(DigestReader::new(io::empty()).finish(), (d(EMPTY), 0));
    }

    fn read_all(mut r: impl Read) -> io::Result<Vec<u8>> {
        let mut out = Vec::new();
        r.read_to_end(&mut out)?;
        Ok(out)
    }

    #[test]
    fn verifying_reader_passes_matching_content() {
        let mut reader = VerifyingReader::new(&b"hello\n"[..], d(HELLO), Some(6));
        let mut out = Vec::new();
        reader.read_to_end(&mut out).unwrap();
        assert_eq!(out, b"hello\n");
        assert!(reader.is_verified());
        assert_eq!(reader.size(), 6);
    }

    #[test]
    fn verifying_reader_without_size_checks_only_the_digest() {
        let out = read_all(VerifyingReader::new(&b"hello\n"[..], d(HELLO), None)).unwrap();
        assert_eq!(out, b"hello\n");
    }

    #[test]
    fn verifying_reader_names_both_digests_on_mismatch() {
        let err = read_all(VerifyingReader::new(&b"hellO\n"[..], d(HELLO), None)).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        let message = err.to_string();
        assert!(message.contains(HELLO), "{message}");
        assert!(
            message.contains(&Digest::of_bytes(b"hellO\n").to_string()),
            "{message}"
        );
    }

    #[test]
    fn verifying_reader_reports_truncated_content() {
        let err = read_all(VerifyingReader::new(&b"hell"[..], d(HELLO), Some(6))).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        assert!(err.to_string().contains("expected 6 bytes, got 4"), "{err}");
    }

    #[test]
    fn verifying_reader_stops_as_soon_as_content_is_too_long() {
        // An endless stream: only the size limit can stop it.
        let mut reader = VerifyingReader::new(io::repeat(b'x'), d(HELLO), Some(6));
        let mut buf = [0u8; 4];
        assert_eq!(reader.read(&mut buf).unwrap(), 4);
        let err = reader.read(&mut buf).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        assert!(
            err.to_string().contains("larger than the expected 6 bytes"),
            "{err}"
        );
    }

    #[test]
    fn chain_ids_follow_the_oci_definition() {
        // Expected values from the shell:
        //   AB=$(printf 'sha256:<a> sha256:<b>' | sha256sum)
        //   printf 'sha256:<AB> sha256:<a>' | sha256sum
        let a = d("sha256:5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03");
        let b = d("sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        let chain = chain_ids(&[a.clone(), b.clone(), a.clone()]);
        assert_eq!(chain.len(), 3);
        assert_eq!(chain[0], a);
        assert_eq!(chain[1], d(CHAIN_AB));
        assert_eq!(chain[2], d(CHAIN_ABA));
    }

    #[test]
    fn chain_ids_of_no_layers_is_empty() {
        assert!(chain_ids(&[]).is_empty());
    }

    const CHAIN_AB: &str =
        "sha256:765bd49f3251be57d2a90e5e48b72001e6cde6cb8429f4ac301312df6e1cec74";
    const CHAIN_ABA: &str =
        "sha256:cfeaec81b90a81245bf59d047c660d7d1a9234707aca05496b91596cb09c73d0";
}
