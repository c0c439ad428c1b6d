//! The image commands of `docker`: load, save, images, tag, rmi, image inspect.

pub mod history;
pub mod images;
pub mod import;
pub mod inspect;
pub mod load;
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
