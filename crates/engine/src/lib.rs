//! berth-engine: images, registry, build, containers, runtime, volumes and state.
//!
//! Not implemented yet; the image store and the runtime arrive with their issues.
