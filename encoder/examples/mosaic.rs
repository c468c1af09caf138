//! Writes a large test picture: a mosaic of the shared training photos (never the validation ones),
//! for the speed and memory benchmarks at camera sizes.
//!
//! ```sh
//! cargo run --release -p encoder --example mosaic -- ../shared/data/photos/wikipedia 6 /tmp/mosaic-6mp.png
//! ```
//!
//! The third argument is the output; the second the size in megapixels (a 3:2 picture). Tiles are
//! the training photos in name order, cropped to 1024x683, row by row. Deterministic.

use std::path::{Path, PathBuf};

use image::RgbImage;

type Res<T> = Result<T, Box<dyn std::error::Error>>;

fn main() -> Res<()> {
    let args: Vec<String> = std::env::args().collect();
    let [_, photos, mp, out] = args.as_slice() else {
        return Err("usage: mosaic PHOTOS_DIR MEGAPIXELS OUT.png".into());
    };
    let mp: f64 = mp.parse()?;
    if !(0.1..=200.0).contains(&mp) {
        return Err(format!("{mp} MP: give 0.1 to 200").into());
    }
    let width = (mp * 1e6 * 1.5).sqrt().round() as u32;
    let height = (f64::from(width) / 1.5).round() as u32;
    let tiles = training_tiles(Path::new(photos))?;
    let (tw, th) = (1024u32, 683u32);
    let picture = RgbImage::from_fn(width, height, |x, y| {
        let (col, row) = (x / tw, y / th);
        let index = (row * width.div_ceil(tw) + col) as usize % tiles.len();
        *tiles[index].get_pixel(x % tw, y % th)
    });
    picture.save(out)?;
    println!(
        "{out}: {width}x{height} ({:.1} MP) from {} training photos",
        f64::from(width * height) / 1e6,
        tiles.len()
    );
    Ok(())
}

/// The training photos (number not 4 mod 5, as `trainer/src/split.rs`), cropped to 1024x683.
fn training_tiles(dir: &Path) -> Res<Vec<RgbImage>> {
    let mut names: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "png"))
        .filter(|p| {
            let stem = p.file_stem().and_then(|s| s.to_str()).unwrap_or("");
            stem.parse::<u32>().is_ok_and(|n| n % 5 != 4)
        })
        .collect();
    names.sort();
    let mut tiles = Vec::new();
    for path in names {
        let img = image::open(&path)?.to_rgb8();
        if img.width() >= 1024 && img.height() >= 683 {
            tiles.push(image::imageops::crop_imm(&img, 0, 0, 1024, 683).to_image());
        }
    }
    if tiles.is_empty() {
        return Err(format!("no training photo of at least 1024x683 in {}", dir.display()).into());
    }
    Ok(tiles)
}
