//! berth-engine: images, registry, build, containers, runtime, volumes and state.
//!
//! Built so far: the image store (content-addressed blobs, image records and tags,
//! layers unpacked once per chain id through a confined unpacker) and the archive formats
//! that bring images in and out (`docker save` tarballs, OCI layouts, rootfs tarballs).

pub mod archive;
pub mod container;
pub mod digest;
pub mod image;
pub mod in_root;
pub mod layer;
pub mod network;
pub mod reference;
pub mod registry;
pub mod runtime;
pub mod seccomp;
pub mod store;
pub mod time;
pub mod volume;

pub use digest::Digest;
