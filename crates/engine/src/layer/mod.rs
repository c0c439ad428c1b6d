//! Layer tarballs: decompression by content and the confined unpacker, a security
//! boundary. STUB (owner: layer helper).
