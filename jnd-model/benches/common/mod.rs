//! What the jnd-model benches share: the ~1 MP photo they run on, resizing, a JPEG-like candidate
//! and the median. Not every bench uses every helper.
#![allow(dead_code)]

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

/// `image` (RGB) resized by `factor` (triangle filter).
pub fn resize(image: &Image, factor: f64) -> Image {
    let rgb = image::RgbImage::from_raw(image.width(), image.height(), image.pixels().to_vec()).expect("rgb");
    let (w, h) = ((f64::from(image.width()) * factor) as u32, (f64::from(image.height()) * factor) as u32);
    let resized = image::imageops::resize(&rgb, w, h, image::imageops::FilterType::Triangle);
    Image::new(w, h, ColorType::Rgb, resized.into_raw()).expect("valid")
}

/// A JPEG-like candidate of an RGB picture: each 8x8 block's samples pulled towards the block's mean.
pub fn candidate(image: &Image) -> Image {
    let (w, h) = (image.width() as usize, image.height() as usize);
    let p = image.pixels();
    let mut out = p.to_vec();
    for by in (0..h).step_by(8) {
        for bx in (0..w).step_by(8) {
            for c in 0..3 {
                let cells: Vec<usize> = (by..(by + 8).min(h))
                    .flat_map(|y| (bx..(bx + 8).min(w)).map(move |x| (y * w + x) * 3 + c))
                    .collect();
                let mean = cells.iter().map(|&i| u32::from(p[i])).sum::<u32>() / cells.len() as u32;
                for &i in &cells {
                    out[i] = ((u32::from(p[i]) * 3 + mean) / 4) as u8;
                }
            }
        }
    }
    Image::new(image.width(), image.height(), ColorType::Rgb, out).expect("valid")
}

/// The median of `v` (the upper middle for an even count).
pub fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}
