//! The image commands of `docker`: load, save, images, tag, rmi, image inspect.

pub mod history;
pub mod images;
pub mod import;
pub mod inspect;
pub mod load;
pub mod prune;
pub mod rmi;
pub mod save;
pub mod tag;

use std::path::Path;

use anyhow::Context;
use berth_engine::image::Images;

/// Opens the image store under the state root.
pub fn open(root: &Path) -> anyhow::Result<Images> {
    Images::open(root).with_context(|| format!("cannot open the image store in {}", root.display()))
}

/// Now, in nanoseconds since the epoch (for `--filter until=10m` and ages).
pub fn now_nanos() -> i128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as i128)
        .unwrap_or_default()
}
