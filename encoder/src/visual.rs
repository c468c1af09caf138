//! What the HTML report shows of an image beyond its numbers: the regions where the teacher
//! (butteraugli) finds the output most different from the original, cut from both at full
//! resolution, and a thumbnail of the original's pixel-wise JND map. Computed only when a report
//! that shows pictures is asked for ([`crate::Settings::visuals`]).

use jnd_model::{Image, PixelJndModel};

use crate::report::{Region, Visual};
use crate::{Result, encode_png};

/// Side of a region, in pixels (smaller pictures give one region of their own size).
pub const REGION_SIDE: u32 = 64;
/// Regions shown per image.
pub const REGIONS: usize = 2;
/// Longest side of the JND map thumbnail.
pub const THUMBNAIL_SIDE: u32 = 160;
/// Pictures above this many pixels have their JND map computed on a reduction.
pub const JND_MAX_PIXELS: u64 = 2_000_000;

/// The visual part of a report: `original` is what was judged, `output` the decoded output.
pub(crate) fn of(original: &Image, output: &Image) -> Result<Visual> {
    let (original, output) = if original.color() == output.color() {
        (original.clone(), output.clone())
    } else {
        (original.to_rgb(), output.to_rgb())
    };
    let (w, h) = (original.width(), original.height());
    let side = REGION_SIDE.min(w).min(h);
    let blocks = jnd_model::metrics::butteraugli_block_max(&original, &output, side)?;
    // Whole blocks only, each scored by the largest difference inside it.
    let mut cells: Vec<(f32, u32, u32)> = Vec::new();
    for by in 0..h / side {
        for bx in 0..w / side {
            cells.push((blocks.values[(by * blocks.columns + bx) as usize], bx * side, by * side));
        }
    }
    cells.sort_by(|a, b| b.0.total_cmp(&a.0).then((a.2, a.1).cmp(&(b.2, b.1))));
    let regions = cells
        .into_iter()
        .take(REGIONS)
        .map(|(score, x, y)| {
            Ok(Region {
                x,
                y,
                side,
                score: f64::from(score),
                before: base64(&encode_png(&crop(&original, x, y, side))?),
                after: base64(&encode_png(&crop(&output, x, y, side))?),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    // The JND map of a large picture is computed on a whole-factor reduction of it (the thumbnail
    // shows far less anyway), so the report's memory stays small beside the encode's.
    let jnd_scale = (original.pixel_count().div_ceil(JND_MAX_PIXELS) as f64).sqrt().ceil().max(1.0) as u32;
    let reduced;
    let jnd_source = if jnd_scale > 1 {
        reduced = shrink_by(&original, jnd_scale);
        &reduced
    } else {
        &original
    };
    let jnd = PixelJndModel::default().compute(jnd_source);
    let (map, stats) = (jnd.to_image(), jnd.stats());
    Ok(Visual {
        width: w,
        height: h,
        regions,
        jnd_thumbnail: base64(&encode_png(&shrink(&map, THUMBNAIL_SIDE))?),
        jnd_scale,
        jnd_mean: f64::from(stats.mean),
        jnd_max: f64::from(stats.max),
    })
}

/// The `side` x `side` square of `image` at (`x`, `y`).
fn crop(image: &Image, x: u32, y: u32, side: u32) -> Image {
    let channels = image.color().channels();
    let row_bytes = image.width() as usize * channels;
    let mut pixels = Vec::with_capacity((side * side) as usize * channels);
    for row in y..y + side {
        let start = row as usize * row_bytes + x as usize * channels;
        pixels.extend_from_slice(&image.pixels()[start..start + side as usize * channels]);
    }
    Image::new(side, side, image.color(), pixels).unwrap_or_else(|_| image.clone())
}

/// `image` shrunk by a whole factor (box filter) so its longest side is at most `longest`.
fn shrink(image: &Image, longest: u32) -> Image {
    shrink_by(image, image.width().max(image.height()).div_ceil(longest).max(1))
}

/// `image` shrunk by the whole `factor` (box filter; a partial last row or column is dropped).
fn shrink_by(image: &Image, factor: u32) -> Image {
    if factor <= 1 {
        return image.clone();
    }
    let (w, h) = (image.width() / factor, image.height() / factor);
    let channels = image.color().channels();
    let mut pixels = Vec::with_capacity((w * h) as usize * channels);
    for y in 0..h {
        for x in 0..w {
            for c in 0..channels {
                let mut sum = 0u32;
                for dy in 0..factor {
                    let row = ((y * factor + dy) * image.width()) as usize;
                    for dx in 0..factor {
                        sum += u32::from(image.pixels()[(row + (x * factor + dx) as usize) * channels + c]);
                    }
                }
                pixels.push(((sum + factor * factor / 2) / (factor * factor)) as u8);
            }
        }
    }
    Image::new(w.max(1), h.max(1), image.color(), pixels).unwrap_or_else(|_| image.clone())
}

/// Standard base64 (RFC 4648, padded), for `data:` URIs.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use jnd_model::ColorType;

    #[test]
    fn base64_matches_rfc_4648_vectors() {
        let cases = [("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foobar", "Zm9vYmFy")];
        for (plain, coded) in cases {
            assert_eq!(base64(plain.as_bytes()), coded);
        }
    }

    #[test]
    fn regions_point_at_the_damage() {
        let (w, h) = (192u32, 128u32);
        let pixels: Vec<u8> = (0..w * h * 3).map(|i| ((i * 7919) % 251) as u8).collect();
        let original = Image::new(w, h, ColorType::Rgb, pixels.clone()).unwrap();
        // Flatten one 64x64 square at (128, 64): the largest difference is there.
        let mut damaged = pixels;
        for y in 64..128 {
            for x in 128..192 {
                let i = ((y * w + x) * 3) as usize;
                damaged[i..i + 3].copy_from_slice(&[128, 128, 128]);
            }
        }
        let output = Image::new(w, h, ColorType::Rgb, damaged).unwrap();
        let visual = of(&original, &output).unwrap();
        assert_eq!(visual.regions.len(), 2);
        assert_eq!((visual.regions[0].x, visual.regions[0].y, visual.regions[0].side), (128, 64, 64));
        assert!(visual.regions[0].score > visual.regions[1].score);
        assert!(visual.jnd_thumbnail.starts_with("iVBORw0KGgo"), "a PNG");
        assert!(visual.jnd_max >= visual.jnd_mean && visual.jnd_mean > 0.0);
        assert_eq!(visual.jnd_scale, 1);
    }

    #[test]
    fn a_large_picture_has_its_jnd_map_computed_on_a_reduction() {
        let (w, h) = (2000u32, 1500u32);
        let pixels: Vec<u8> = (0..w * h).map(|i| ((i * 31) % 253) as u8).collect();
        let original = Image::new(w, h, ColorType::Gray, pixels).unwrap();
        let visual = of(&original, &original).unwrap();
        assert_eq!(visual.jnd_scale, 2, "3 MP: halved");
        assert!(visual.regions.iter().all(|r| r.score == 0.0), "identical pictures differ nowhere");
    }

    #[test]
    fn shrink_keeps_the_aspect_and_bounds_the_side() {
        let image = Image::new(640, 200, ColorType::Gray, vec![9; 640 * 200]).unwrap();
        let small = shrink(&image, 160);
        assert_eq!((small.width(), small.height()), (160, 50));
        assert!(small.pixels().iter().all(|&v| v == 9));
    }
}
