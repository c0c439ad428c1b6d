//! The image commands of `docker`: load, save, images, tag, rmi, image inspect.

pub mod history;
pub mod images;
pub mod import;
pub mod inspect;
pub mod load;
pub mod prune;
pub mod pull;
pub mod push;
pub mod rmi;
pub mod save;
pub mod tag;

use std::path::Path;

use anyhow::Context;
use berth_engine::image::Images;

/// Opens the image store under the state root, with the layer bounds the environment
/// sets: `BERTH_LAYER_MAX_ENTRIES`, `BERTH_LAYER_MAX_BYTES`, `BERTH_LAYER_MAX_PATH`.
pub fn open(root: &Path) -> anyhow::Result<Images> {
    let images = Images::open(root)
        .with_context(|| format!("cannot open the image store in {}", root.display()))?;
    Ok(images.with_limits(
        limit("BERTH_LAYER_MAX_ENTRIES")?,
        limit("BERTH_LAYER_MAX_BYTES")?,
        limit::<usize>("BERTH_LAYER_MAX_PATH")?,
    ))
}

/// A positive number from the environment, if set.
fn limit<T: std::str::FromStr + PartialOrd + Default>(name: &str) -> anyhow::Result<Option<T>> {
    let Ok(raw) = std::env::var(name) else {
        return Ok(None);
    };
    match raw.trim().parse::<T>() {
        Ok(n) if n > T::default() => Ok(Some(n)),
        _ => anyhow::bail!("{name}={raw:?} is not a positive whole number"),
    }
}

/// Now, in nanoseconds since the epoch (for `--filter until=10m` and ages).
pub fn now_nanos() -> i128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as i128)
        .unwrap_or_default()
}
