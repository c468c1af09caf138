//! What the jnd-model benches share: the ~1 MP photo they run on.

use std::path::Path;

use jnd_model::{ColorType, Image};

/// `../shared/data/photos/wikipedia/001.png` (1276x850) when present, else the fixture photo tiled to
/// the same size; `JND_BENCH_IMAGE=path` picks another.
pub fn load() -> Image {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let path = std::env::var_os("JND_BENCH_IMAGE")
        .map(Into::into)
        .unwrap_or_else(|| root.join("../shared/data/photos/wikipedia/001.png"));
    let rgb = match image::open(&path) {
        Ok(img) => img.to_rgb8(),
        Err(_) => {
            let tile = image::open(root.join("fixtures/photo.png")).expect("fixtures/photo.png").to_rgb8();
            image::RgbImage::from_fn(1276, 850, |x, y| *tile.get_pixel(x % tile.width(), y % tile.height()))
        }
    };
    let (w, h) = rgb.dimensions();
    Image::new(w, h, ColorType::Rgb, rgb.into_raw()).expect("valid image")
}
