//! The judge's input: per-8x8-block features of a candidate against its original, over the whole
//! picture. The original's side ([`JudgeReference`]) is computed once; each candidate then costs one
//! pass over its pixels.

use rayon::prelude::*;

use crate::{ColorType, Error, Image, Result, ycbcr};

/// Side of a block, in pixels (JPEG's DCT block).
pub const BLOCK: usize = 8;

/// Features per block, in this order:
///
/// | # | feature |
/// |---|---|
/// | 0-2 | `ln(1 + MSE)` of Y, Cb, Cr (BT.601, 0..255 scale) |
/// | 3 | `ln(1 + max abs error)` of Y |
/// | 4 | `ln(1 + mean abs gradient of the Y error)` (blocking and ringing; across block edges too) |
/// | 5 | `ln(1 + MSE_Y / (1 + var_Y))`: the error against the original's own contrast (masking) |
/// | 6 | `ln(1 + sigma_Y)` of the candidate minus that of the original (detail lost: blur is negative) |
/// | 7 | `ln(1 + sigma_Y)` of the original |
/// | 8 | mean Y of the original / 255 |
/// | 9 | `ln(1 + sigma)` of the original's chroma (Cb and Cr together) |
/// | 10-12 | `ln(1 + energy / 64)` of the Y error's DCT in three bands: `u + v <= 2` (DC included), 3 to 6, 7 and above |
/// | 13-14 | `ln(1 + energy / 64)` of the original's Y DCT in the two upper bands (texture that masks) |
pub const FEATURES: usize = 15;

/// The DCT band of coefficient `v * 8 + u`: 0 low, 1 middle, 2 high.
fn band(index: usize) -> usize {
    match index / 8 + index % 8 {
        0..=2 => 0,
        3..=6 => 1,
        _ => 2,
    }
}

/// Energy per band of an 8x8 block's DCT, each `ln(1 + energy / 64)`.
fn band_energies(block: &[f32; 64]) -> [f32; 3] {
    let coefficients = crate::dct::forward_8x8(block);
    let mut energy = [0f64; 3];
    for (i, c) in coefficients.iter().enumerate() {
        energy[band(i)] += f64::from(c * c);
    }
    energy.map(|e| (1.0 + e / 64.0).ln() as f32)
}

/// The original and its per-block statistics, prepared once per picture.
#[derive(Debug, Clone)]
pub struct JudgeReference {
    width: usize,
    height: usize,
    columns: usize,
    rows: usize,
    /// The original, whose Y, Cb, Cr are computed where a candidate's errors need them (3 bytes a
    /// pixel held instead of 12 for float planes; the same values).
    original: Image,
    /// Per block: variance of Y, then features 7, 8, 9, 13, 14.
    statics: Vec<[f32; 6]>,
}

/// A candidate's features: `[FEATURES, rows, columns]`, channel-major (a tensor's layout).
#[derive(Debug, Clone, PartialEq)]
pub struct BlockGrid {
    /// Blocks per row (`ceil(width / 8)`).
    pub columns: usize,
    /// Block rows (`ceil(height / 8)`).
    pub rows: usize,
    /// `FEATURES * rows * columns` values.
    pub values: Vec<f32>,
}

fn planes(image: &Image) -> [Vec<f32>; 3] {
    let n = image.pixel_count() as usize;
    let pixels = image.pixels();
    match image.color() {
        ColorType::Gray => [pixels.iter().map(|&v| f32::from(v)).collect(), vec![0.0; n], vec![0.0; n]],
        ColorType::Rgb => {
            let (mut y, mut cb, mut cr) =
                (Vec::with_capacity(n), Vec::with_capacity(n), Vec::with_capacity(n));
            for px in pixels.chunks_exact(3) {
                let [a, b, c] = ycbcr(f32::from(px[0]), f32::from(px[1]), f32::from(px[2]));
                y.push(a);
                cb.push(b);
                cr.push(c);
            }
            [y, cb, cr]
        }
    }
}

impl JudgeReference {
    /// Prepares `original` (at least one pixel; gray or RGB), keeping a copy of it.
    pub fn new(original: &Image) -> Result<Self> {
        Self::from_image(original.clone())
    }

    /// [`JudgeReference::new`] keeping `original` itself.
    pub fn from_image(original: Image) -> Result<Self> {
        let (width, height) = (original.width() as usize, original.height() as usize);
        if width == 0 || height == 0 {
            return Err(Error::InvalidImage(format!("a {width}x{height} picture has no pixels to judge")));
        }
        let planes = planes(&original);
        let (columns, rows) = (width.div_ceil(BLOCK), height.div_ceil(BLOCK));
        // The planes exist only while the blocks' statistics are computed.
        let statics = (0..rows * columns)
            .into_par_iter()
            .map(|b| {
                let (bx, by) = (b % columns, b / columns);
                let mut s = [[0f64; 2]; 3];
                let mut count = 0f64;
                let mut luma = [0f32; 64];
                for y in by * BLOCK..((by + 1) * BLOCK).min(height) {
                    for x in bx * BLOCK..((bx + 1) * BLOCK).min(width) {
                        for (c, plane) in planes.iter().enumerate() {
                            let v = f64::from(plane[y * width + x]);
                            s[c][0] += v;
                            s[c][1] += v * v;
                        }
                        luma[(y % BLOCK) * BLOCK + x % BLOCK] = planes[0][y * width + x];
                        count += 1.0;
                    }
                }
                let bands = band_energies(&luma);
                let var = |c: usize| (s[c][1] / count - (s[c][0] / count).powi(2)).max(0.0);
                let chroma = (var(1) + var(2)).sqrt();
                [
                    var(0) as f32,
                    (1.0 + var(0).sqrt()).ln() as f32,
                    (s[0][0] / count / 255.0) as f32,
                    (1.0 + chroma).ln() as f32,
                    bands[1],
                    bands[2],
                ]
            })
            .collect();
        drop(planes);
        Ok(Self { width, height, columns, rows, original, statics })
    }

    /// The original this reference was prepared from.
    pub fn original(&self) -> &Image {
        &self.original
    }

    /// The picture's size in pixels.
    pub fn size(&self) -> (u32, u32) {
        (self.width as u32, self.height as u32)
    }

    /// The candidate's block features; `candidate` must have the original's size (gray or RGB).
    pub fn features(&self, candidate: &Image) -> Result<BlockGrid> {
        if (candidate.width() as usize, candidate.height() as usize) != (self.width, self.height) {
            return Err(Error::Mismatch(format!(
                "{}x{} vs {}x{}",
                self.width,
                self.height,
                candidate.width(),
                candidate.height()
            )));
        }
        let cells = self.rows * self.columns;
        let per_row: Vec<Vec<f32>> =
            (0..self.rows).into_par_iter().map(|by| self.block_row(candidate, by)).collect();
        let mut values = vec![0f32; FEATURES * cells];
        for (by, row) in per_row.iter().enumerate() {
            for bx in 0..self.columns {
                for f in 0..FEATURES {
                    values[f * cells + by * self.columns + bx] = row[bx * FEATURES + f];
                }
            }
        }
        Ok(BlockGrid { columns: self.columns, rows: self.rows, values })
    }

    /// Features of block row `by`: `columns * FEATURES` values, block-major.
    fn block_row(&self, candidate: &Image, by: usize) -> Vec<f32> {
        let (w, h) = (self.width, self.height);
        let channels = candidate.color().channels();
        let pixels = candidate.pixels();
        let (theirs, own) = (self.original.pixels(), self.original.color().channels());
        // The original's Y, Cb, Cr at pixel `i`, as `planes` computes them.
        let original = |i: usize| -> [f32; 3] {
            let at = i * own;
            if own >= 3 {
                ycbcr(f32::from(theirs[at]), f32::from(theirs[at + 1]), f32::from(theirs[at + 2]))
            } else {
                [f32::from(theirs[at]), 0.0, 0.0]
            }
        };
        // Per block: squared errors (3), max |eY|, sum |grad eY|, gradient count, sum Y, sum Y^2, count.
        let mut acc = vec![[0f64; 9]; self.columns];
        // The Y error of each block of the row, for its DCT (outside the picture: no error).
        let mut errors = vec![[0f32; 64]; self.columns];
        let y0 = by * BLOCK;
        let y1 = ((by + 1) * BLOCK).min(h);
        let error_y = |x: usize, y: usize| -> f32 {
            let at = (y * w + x) * channels;
            let v = if channels >= 3 {
                ycbcr(f32::from(pixels[at]), f32::from(pixels[at + 1]), f32::from(pixels[at + 2]))[0]
            } else {
                f32::from(pixels[at])
            };
            v - original(y * w + x)[0]
        };
        let mut previous: Vec<f32> =
            if y0 > 0 { (0..w).map(|x| error_y(x, y0 - 1)).collect() } else { Vec::new() };
        let mut current = vec![0f32; w];
        for y in y0..y1 {
            for x in 0..w {
                let at = (y * w + x) * channels;
                let yc = if channels >= 3 {
                    ycbcr(f32::from(pixels[at]), f32::from(pixels[at + 1]), f32::from(pixels[at + 2]))
                } else {
                    [f32::from(pixels[at]), 0.0, 0.0]
                };
                let o = original(y * w + x);
                let e = [yc[0] - o[0], yc[1] - o[1], yc[2] - o[2]];
                current[x] = e[0];
                errors[x / BLOCK][(y - y0) * BLOCK + x % BLOCK] = e[0];
                let a = &mut acc[x / BLOCK];
                for c in 0..3 {
                    a[c] += f64::from(e[c] * e[c]);
                }
                a[3] = a[3].max(f64::from(e[0].abs()));
                if x > 0 {
                    a[4] += f64::from((e[0] - current[x - 1]).abs());
                    a[5] += 1.0;
                }
                if !previous.is_empty() {
                    a[4] += f64::from((e[0] - previous[x]).abs());
                    a[5] += 1.0;
                }
                a[6] += f64::from(yc[0]);
                a[7] += f64::from(yc[0]) * f64::from(yc[0]);
                a[8] += 1.0;
            }
            std::mem::swap(&mut previous, &mut current);
            current.resize(w, 0.0);
        }
        let mut out = Vec::with_capacity(self.columns * FEATURES);
        for (bx, a) in acc.iter().enumerate() {
            let n = a[8].max(1.0);
            let [var_y, sigma_ln, mean_y, chroma_ln, texture_mid, texture_high] =
                self.statics[by * self.columns + bx];
            let error_bands = band_energies(&errors[bx]);
            let mse = [a[0] / n, a[1] / n, a[2] / n];
            let cand_var = (a[7] / n - (a[6] / n).powi(2)).max(0.0);
            let gradient = if a[5] > 0.0 { a[4] / a[5] } else { 0.0 };
            out.extend_from_slice(&[
                (1.0 + mse[0]).ln() as f32,
                (1.0 + mse[1]).ln() as f32,
                (1.0 + mse[2]).ln() as f32,
                (1.0 + a[3]).ln() as f32,
                (1.0 + gradient).ln() as f32,
                (1.0 + mse[0] / (1.0 + f64::from(var_y))).ln() as f32,
                (1.0 + cand_var.sqrt()).ln() as f32 - sigma_ln,
                sigma_ln,
                mean_y,
                chroma_ln,
                error_bands[0],
                error_bands[1],
                error_bands[2],
                texture_mid,
                texture_high,
            ]);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gradient(width: u32, height: u32) -> Image {
        let mut pixels = Vec::new();
        for y in 0..height {
            for x in 0..width {
                pixels.extend_from_slice(&[(x * 7 % 256) as u8, (y * 5 % 256) as u8, ((x + y) % 256) as u8]);
            }
        }
        Image::new(width, height, ColorType::Rgb, pixels).unwrap()
    }

    #[test]
    fn an_identical_candidate_has_no_error_and_a_changed_block_only_its_own() {
        let original = gradient(21, 13);
        let reference = JudgeReference::new(&original).unwrap();
        let same = reference.features(&original).unwrap();
        assert_eq!((same.columns, same.rows), (3, 2));
        let cells = 6;
        for f in (0..6).chain(10..13) {
            assert!(same.values[f * cells..(f + 1) * cells].iter().all(|&v| v.abs() < 1e-5), "feature {f}");
        }
        // Change one pixel in the middle of block (1, 1): its error features rise; block (0, 0) stays.
        let mut pixels = original.pixels().to_vec();
        let at = (11 * 21 + 12) * 3;
        pixels[at] = pixels[at].wrapping_add(60);
        let changed = reference.features(&Image::new(21, 13, ColorType::Rgb, pixels).unwrap()).unwrap();
        let block = 3 + 1;
        assert!(changed.values[block] > 0.5, "Y MSE of the changed block");
        // Red + 60 moves Y by 0.299 * 60.
        let max = changed.values[3 * cells + block];
        assert!((max - (1.0f32 + 0.299 * 60.0).ln()).abs() < 1e-3, "its max error: {max}");
        assert_eq!(changed.values[0], 0.0);
        assert!(reference.features(&gradient(20, 13)).is_err());
    }
}
