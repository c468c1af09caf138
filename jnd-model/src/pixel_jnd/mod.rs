//! Pixel-wise JND maps: for every pixel, the luma change (in 8-bit code values) below which a viewer
//! would not notice it. Two published models, both computed on BT.601 luma:
//!
//! - [`wu2017`]: Wu et al., "Enhanced Just Noticeable Difference Model for Images With Pattern
//!   Complexity", IEEE TIP 2017: luminance adaptation, luminance-contrast masking, pattern masking
//!   from orientation complexity with edge protection, nonlinear additivity (0.3).
//! - [`yang2005`]: Yang et al., "Motion-compensated residue preprocessing in video coding based on
//!   just-noticeable-distortion profile" (NAMM), IEEE TCSVT 2005: luminance adaptation, texture
//!   masking from directional gradients with edge suppression, nonlinear additivity (0.3).
//!
//! Borders are handled with MATLAB's 'symmetric' padding (the edge pixel repeated, then mirrored),
//! not the zero padding of `filter2`, which would darken every border and inflate its thresholds.

mod plane;
mod wu;
mod yang;

pub(crate) use plane::Plane;
pub use wu::{WuComponents, wu2017, wu2017_components};
pub use yang::{YangComponents, yang2005, yang2005_components};

use crate::{ColorType, Image};

/// Which pixel-wise JND model to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PixelJndModel {
    /// Wu et al. 2017 (pattern complexity). The default.
    #[default]
    Wu2017,
    /// Yang et al. 2005 (NAMM).
    Yang2005,
}

impl PixelJndModel {
    /// Computes this model's map for `image`.
    pub fn compute(self, image: &Image) -> JndMap {
        match self {
            PixelJndModel::Wu2017 => wu2017(image),
            PixelJndModel::Yang2005 => yang2005(image),
        }
    }

    /// Parses `wu2017`/`wu` or `yang2005`/`yang`.
    pub fn from_name(name: &str) -> Option<Self> {
        match name.to_ascii_lowercase().as_str() {
            "wu" | "wu2017" => Some(PixelJndModel::Wu2017),
            "yang" | "yang2005" | "namm" => Some(PixelJndModel::Yang2005),
            _ => None,
        }
    }
}

/// A JND threshold per pixel, in 8-bit luma code values, the same size as its image.
#[derive(Debug, Clone, PartialEq)]
pub struct JndMap {
    width: u32,
    height: u32,
    values: Vec<f32>,
}

/// Summary statistics of a map.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MapStats {
    /// Smallest value.
    pub min: f32,
    /// Mean value.
    pub mean: f32,
    /// Largest value.
    pub max: f32,
}

/// A JND map aggregated per block (for per-block quantisation).
#[derive(Debug, Clone, PartialEq)]
pub struct BlockMap {
    /// Block edge in pixels (8 or 16).
    pub block: u32,
    /// Blocks per row (the last one may be partial).
    pub blocks_x: u32,
    /// Blocks per column.
    pub blocks_y: u32,
    /// One value per block, row-major.
    pub values: Vec<f32>,
}

impl BlockMap {
    /// The value of block (bx, by).
    pub fn get(&self, bx: u32, by: u32) -> f32 {
        self.values[(by * self.blocks_x + bx) as usize]
    }
}

/// How blocks are summarised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockAggregate {
    /// Mean of the block's pixels.
    Mean,
    /// Minimum of the block's pixels (the conservative choice for quantisation).
    Min,
}

impl JndMap {
    /// Wraps per-pixel values (row-major, `width * height` of them).
    pub fn new(width: u32, height: u32, values: Vec<f32>) -> crate::Result<Self> {
        if values.len() != width as usize * height as usize || width == 0 || height == 0 {
            return Err(crate::Error::InvalidImage(format!(
                "a {width}x{height} JND map needs {} values, got {}",
                width as usize * height as usize,
                values.len()
            )));
        }
        Ok(JndMap { width, height, values })
    }

    pub(crate) fn from_plane(plane: Plane) -> Self {
        JndMap { width: plane.w as u32, height: plane.h as u32, values: plane.data }
    }

    /// Width in pixels.
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Height in pixels.
    pub fn height(&self) -> u32 {
        self.height
    }

    /// The threshold at (x, y).
    pub fn get(&self, x: u32, y: u32) -> f32 {
        self.values[y as usize * self.width as usize + x as usize]
    }

    /// All values, row-major.
    pub fn values(&self) -> &[f32] {
        &self.values
    }

    /// The map with every value multiplied by `factor` (a map's strength).
    pub fn scaled(&self, factor: f32) -> JndMap {
        JndMap {
            width: self.width,
            height: self.height,
            values: self.values.iter().map(|v| v * factor).collect(),
        }
    }

    /// Minimum, mean and maximum.
    pub fn stats(&self) -> MapStats {
        let (mut min, mut max, mut sum) = (f32::INFINITY, f32::NEG_INFINITY, 0.0f64);
        for &v in &self.values {
            min = min.min(v);
            max = max.max(v);
            sum += f64::from(v);
        }
        MapStats { min, mean: (sum / self.values.len() as f64) as f32, max }
    }

    /// Aggregates over `block x block` tiles (8 or 16 for JPEG/HEVC); edge tiles use the pixels
    /// they have.
    pub fn blocks(&self, block: u32, how: BlockAggregate) -> BlockMap {
        let block = block.max(1);
        let (bx, by) = (self.width.div_ceil(block), self.height.div_ceil(block));
        let mut values = Vec::with_capacity((bx * by) as usize);
        for j in 0..by {
            for i in 0..bx {
                let (x0, y0) = (i * block, j * block);
                let (x1, y1) = ((x0 + block).min(self.width), (y0 + block).min(self.height));
                let mut acc = match how {
                    BlockAggregate::Mean => 0.0f32,
                    BlockAggregate::Min => f32::INFINITY,
                };
                for y in y0..y1 {
                    for x in x0..x1 {
                        let v = self.get(x, y);
                        match how {
                            BlockAggregate::Mean => acc += v,
                            BlockAggregate::Min => acc = acc.min(v),
                        }
                    }
                }
                if how == BlockAggregate::Mean {
                    acc /= ((x1 - x0) * (y1 - y0)) as f32;
                }
                values.push(acc);
            }
        }
        BlockMap { block, blocks_x: bx, blocks_y: by, values }
    }

    /// The map as an 8-bit grayscale picture for viewing: gray = round(8 x JND), so one gray step is
    /// 1/8 of a code value and white is a threshold of 31.9 code values or more (saturated).
    pub fn to_image(&self) -> Image {
        let pixels = self.values.iter().map(|&v| (v * VIEW_SCALE).round().clamp(0.0, 255.0) as u8).collect();
        // Dimensions and length come from a valid map, so this cannot fail.
        Image::new(self.width, self.height, ColorType::Gray, pixels)
            .unwrap_or_else(|_| unreachable!("a JndMap always has width * height values"))
    }
}

/// Gray levels per JND code value in [`JndMap::to_image`].
pub const VIEW_SCALE: f32 = 8.0;

/// BT.601 luma as f32 code values (0..=255), as libjpeg computes Y.
pub(crate) fn luma(image: &Image) -> Plane {
    let (w, h) = (image.width() as usize, image.height() as usize);
    match image.color() {
        ColorType::Gray => Plane { w, h, data: image.pixels().iter().map(|&v| f32::from(v)).collect() },
        ColorType::Rgb => {
            use rayon::prelude::*;
            Plane {
                w,
                h,
                data: image
                    .pixels()
                    .par_chunks_exact(3)
                    .map(|p| crate::image::ycbcr(f32::from(p[0]), f32::from(p[1]), f32::from(p[2]))[0])
                    .collect(),
            }
        }
    }
}

/// Chou and Li's 5x5 operators: the background kernel B (weights 1 on the outer ring, 2 on the
/// inner ring, 0 at the centre, divided by 32) and the four directional gradients G1..G4 (divided
/// by 16).
#[rustfmt::skip]
const B: [f32; 25] = [
    1.0, 1.0, 1.0, 1.0, 1.0,
    1.0, 2.0, 2.0, 2.0, 1.0,
    1.0, 2.0, 0.0, 2.0, 1.0,
    1.0, 2.0, 2.0, 2.0, 1.0,
    1.0, 1.0, 1.0, 1.0, 1.0,
];
#[rustfmt::skip]
const G: [[f32; 25]; 4] = [
    [0.0, 0.0, 0.0, 0.0, 0.0,  1.0, 3.0, 8.0, 3.0, 1.0,  0.0, 0.0, 0.0, 0.0, 0.0,  -1.0, -3.0, -8.0, -3.0, -1.0,  0.0, 0.0, 0.0, 0.0, 0.0],
    [0.0, 0.0, 1.0, 0.0, 0.0,  0.0, 8.0, 3.0, 0.0, 0.0,  1.0, 3.0, 0.0, -3.0, -1.0,  0.0, 0.0, -3.0, -8.0, 0.0,  0.0, 0.0, -1.0, 0.0, 0.0],
    [0.0, 0.0, 1.0, 0.0, 0.0,  0.0, 0.0, 3.0, 8.0, 0.0,  -1.0, -3.0, 0.0, 3.0, 1.0,  0.0, -8.0, -3.0, 0.0, 0.0,  0.0, 0.0, -1.0, 0.0, 0.0],
    [0.0, 1.0, 0.0, -1.0, 0.0,  0.0, 3.0, 0.0, -3.0, 0.0,  0.0, 8.0, 0.0, -8.0, 0.0,  0.0, 3.0, 0.0, -3.0, 0.0,  0.0, 1.0, 0.0, -1.0, 0.0],
];

/// Chou and Li's weighted background luminance `B * I / 32` and maximal weighted average of
/// luminance changes `max_k |G_k * I| / 16`, in one pass over one padded copy.
pub(crate) fn background_and_gradient(luma: &Plane) -> (Plane, Plane) {
    use rayon::prelude::*;
    let src = luma.padded(2);
    let w = luma.w;
    let mut bg = Plane::new(w, luma.h, 0.0);
    let mut mg = Plane::new(w, luma.h, 0.0);
    bg.data.par_chunks_mut(w).zip(mg.data.par_chunks_mut(w)).enumerate().for_each(|(y, (bg_row, mg_row))| {
        let mut g = [vec![0.0f32; w], vec![0.0f32; w], vec![0.0f32; w], vec![0.0f32; w]];
        for t in 0..25 {
            let (i, j) = (t / 5, t % 5);
            let s = &src.data[(y + i) * src.w + j..][..w];
            if B[t] != 0.0 {
                let c = B[t] / 32.0;
                for (o, &v) in bg_row.iter_mut().zip(s) {
                    *o += c * v;
                }
            }
            for (acc, kernel) in g.iter_mut().zip(&G) {
                if kernel[t] != 0.0 {
                    let c = kernel[t] / 16.0;
                    for (o, &v) in acc.iter_mut().zip(s) {
                        *o += c * v;
                    }
                }
            }
        }
        for (x, o) in mg_row.iter_mut().enumerate() {
            *o = g[0][x].abs().max(g[1][x].abs()).max(g[2][x].abs()).max(g[3][x].abs());
        }
    });
    (bg, mg)
}

/// Chou and Li's luminance-adaptation threshold of a background luminance `bg`:
/// 17 (1 - sqrt(bg / 127)) + 3 for bg <= 127, 3/128 (bg - 127) + 3 above.
pub fn luminance_threshold(bg: f32) -> f32 {
    if bg <= 127.0 { 17.0 * (1.0 - (bg / 127.0).sqrt()) + 3.0 } else { 3.0 / 128.0 * (bg - 127.0) + 3.0 }
}

/// The nonlinear additivity model for masking (NAMM): a + b - c min(a, b).
#[inline]
pub(crate) fn namm(a: f32, b: f32, c: f32) -> f32 {
    a + b - c * a.min(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fused_operators_match_separate_correlations() {
        let p = Plane::from_fn(23, 17, |x, y| ((x * 37 + y * 91) % 251) as f32);
        let (bg, mg) = background_and_gradient(&p);
        let bg_ref = p.correlate(&B.map(|v| v / 32.0), 5);
        let grads: Vec<Plane> = G.iter().map(|g| p.correlate(&g.map(|v| v / 16.0), 5)).collect();
        for i in 0..p.data.len() {
            assert!((bg.data[i] - bg_ref.data[i]).abs() < 1e-3);
            let m = grads.iter().map(|g| g.data[i].abs()).fold(0.0f32, f32::max);
            assert!((mg.data[i] - m).abs() < 1e-3);
        }
    }

    #[test]
    fn luminance_curve_has_the_published_anchor_points() {
        assert!((luminance_threshold(0.0) - 20.0).abs() < 1e-5);
        assert!((luminance_threshold(127.0) - 3.0).abs() < 1e-5);
        assert!((luminance_threshold(255.0) - 6.0).abs() < 1e-5);
    }

    #[test]
    fn scaling_multiplies_every_value_and_keeps_the_size() {
        let map = JndMap::new(3, 2, vec![0.0, 1.0, 2.0, 3.0, 4.0, 5.5]).unwrap();
        let half = map.scaled(0.5);
        assert_eq!((half.width(), half.height()), (3, 2));
        assert_eq!(half.values(), &[0.0, 0.5, 1.0, 1.5, 2.0, 2.75]);
        assert!(map.scaled(0.0).values().iter().all(|&v| v == 0.0));
    }

    #[test]
    fn blocks_aggregate_mean_and_min_with_partial_edges() {
        let values: Vec<f32> = (0..20 * 10).map(|i| (i % 20) as f32).collect();
        let map = JndMap::new(20, 10, values).unwrap();
        let mean = map.blocks(8, BlockAggregate::Mean);
        assert_eq!((mean.blocks_x, mean.blocks_y), (3, 2));
        assert!((mean.get(0, 0) - 3.5).abs() < 1e-6);
        assert!((mean.get(2, 1) - 17.5).abs() < 1e-6, "partial block uses its 4 columns");
        let min = map.blocks(16, BlockAggregate::Min);
        assert_eq!(min.values, vec![0.0, 16.0]);
        assert!(JndMap::new(2, 2, vec![0.0; 3]).is_err());
    }

    #[test]
    fn view_image_uses_the_documented_scale() {
        let map = JndMap::new(3, 1, vec![0.0, 3.0, 100.0]).unwrap();
        assert_eq!(map.to_image().pixels(), &[0, 24, 255]);
    }
}
