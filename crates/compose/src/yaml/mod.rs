//! YAML in and out: parsing into [`Node`] trees with positions, and emitting the
//! canonical model as YAML the way `docker compose config` prints it.

pub mod emit;
pub mod node;
pub mod parse;
pub mod resolve;

pub use node::{Key, Map, Mark, Node, Tag, Value};
