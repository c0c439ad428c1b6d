//! berth-compose: the Compose file model, its loader (discovery, interpolation, merge,
//! extends, include, profiles, normalization, validation), the dependency graph, and the
//! hash that lets berth and Docker Compose recognise each other's containers.

pub mod de;
pub mod dotenv;
pub mod error;
pub mod gojson;
pub mod graph;
pub mod hash;
pub mod interpolate;
pub mod loader;
pub mod merge;
pub mod model;
pub mod orchestrator;
pub mod render;
pub mod transform;
pub mod yaml;

pub use error::{ConfigError, Result, Warnings};
