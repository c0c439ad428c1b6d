//! Picks the decompressor from the stream's first bytes: registries and archives mislabel
//! media types often enough that the magic number is the only thing worth trusting.

use std::io::{self, Cursor, Read};

use super::LayerError;

const GZIP_MAGIC: &[u8] = &[0x1f, 0x8b];
const ZSTD_MAGIC: &[u8] = &[0x28, 0xb5, 0x2f, 0xfd];

/// The compression a layer stream uses, detected from its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Compression {
    Gzip,
    Zstd,
    None,
}

pub(crate) fn detect(prefix: &[u8]) -> Compression {
    if prefix.starts_with(GZIP_MAGIC) {
        Compression::Gzip
    } else if prefix.starts_with(ZSTD_MAGIC) {
        Compression::Zstd
    } else {
        Compression::None
    }
}

/// Wraps a layer stream (gzip, zstd or plain tar) in a reader that yields the tar.
///
/// The bytes used for detection are replayed, so nothing is lost. The output is not
/// bounded here: [`super::unpack`] bounds it with `UnpackOptions::max_total_bytes`, which
/// is what stops decompression bombs.
pub fn decompressed<'a>(r: impl Read + 'a) -> Result<Box<dyn Read + 'a>, LayerError> {
    let mut r = r;
    let mut prefix = [0u8; 4];
    let n = read_up_to(&mut r, &mut prefix).map_err(LayerError::Read)?;
    let head = prefix[..n].to_vec();
    let compression = detect(&head);
    let stream = Cursor::new(head).chain(r);
    Ok(match compression {
        // Multi-member: some tools write a layer as several concatenated gzip members.
        Compression::Gzip => Box::new(flate2::read::MultiGzDecoder::new(stream)),
        Compression::Zstd => {
            Box::new(zstd::stream::read::Decoder::new(stream).map_err(LayerError::Read)?)
        }
        Compression::None => Box::new(stream),
    })
}

/// Fills as much of `buf` as the stream has, tolerating short reads.
fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match r.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn roundtrip(data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        decompressed(data).unwrap().read_to_end(&mut out).unwrap();
        out
    }

    #[test]
    fn plain_passes_through_including_short_streams() {
        assert_eq!(roundtrip(b"hello tar"), b"hello tar");
        assert_eq!(roundtrip(b"\x1f"), b"\x1f");
        assert_eq!(roundtrip(b""), b"");
    }

    #[test]
    fn gzip_is_detected_by_magic() {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(b"layer bytes").unwrap();
        let gz = enc.finish().unwrap();
        assert_eq!(detect(&gz), Compression::Gzip);
        assert_eq!(roundtrip(&gz), b"layer bytes");
    }

    #[test]
    fn zstd_is_detected_by_magic() {
        let zs = zstd::stream::encode_all(&b"layer bytes"[..], 1).unwrap();
        assert_eq!(detect(&zs), Compression::Zstd);
        assert_eq!(roundtrip(&zs), b"layer bytes");
    }
}
