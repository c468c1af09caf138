//! How much the four classifiers care about each pixel and each JPEG coefficient: the gradient of an
//! [`Objective`] of the frozen classifiers with respect to the input, taken through JFIF's matrix to
//! Y, Cb and Cr and through JPEG's orthonormal 8x8 DCT to each coefficient of a block
//! ([`PixelGradients::block`]).
//!
//! To first order a change `d` of a coefficient whose gradient is `g` changes the objective by `g d`,
//! so `(g T dL)^2` is what requantising it by `dL` steps of `T` costs the classifiers. The machine
//! quantisation tables are the mean of `g^2` per frequency over training images; the per-block rate
//! choice of `--target machine` (`jndenc::codec::adaptive::rd_scale`) weighs each block by its own.

use burn::module::Module;
use burn::nn::loss::CrossEntropyLoss;
use burn::tensor::{Device, Tensor};

use super::{CamClassifiers, ClassifierKind, DmvJnd, EMBEDDED_CLASSIFIERS, IMAGE_BYTES, PIXELS, SIDE};
use super::{class_activation_maps, images_tensor, merge_cams, tile_picture, to_vec};
use crate::dct::forward_8x8;
use crate::{Error, Image, Result};

/// Tiles per backward pass of a picture: bounds the autodiff graph's memory (about 1 MB a tile for the
/// four classifiers).
pub const PICTURE_BATCH: usize = 64;

/// What [`ClassifierGradients`] differentiates, summed over the four frozen classifiers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Objective {
    /// Cross-entropy against the classifier's own decision (the machine tables' sensitivity).
    CrossEntropy,
    /// The margin between the classifier's top two logits, relative to its value on the original
    /// (`margin / margin.detach()`): a change of -1 flips the decision, so the squared first-order
    /// change is a flip risk that weighs tiles near a boundary up and confident ones down. What the
    /// per-block rate choice weighs blocks by.
    #[default]
    RelativeMargin,
}

/// The four classifiers, frozen on an autodiff device, for input gradients.
#[derive(Debug, Clone)]
pub struct ClassifierGradients {
    classifiers: CamClassifiers,
    device: Device,
}

impl ClassifierGradients {
    /// The embedded classifiers on `device` (its autodiff form).
    pub fn embedded(device: &Device) -> Result<Self> {
        Self::from_bytes(EMBEDDED_CLASSIFIERS, device)
    }

    /// Classifiers from burnpack bytes, on `device`'s autodiff form. Frozen: batch normalisation uses
    /// its running statistics, as in inference, and no weight takes a gradient.
    pub fn from_bytes(bytes: &[u8], device: &Device) -> Result<Self> {
        let device = device.clone().autodiff();
        Ok(Self { classifiers: DmvJnd::load_classifiers(bytes, &device)?.freeze(), device })
    }

    /// The gradient of `objective` for each planar 32x32 RGB image of `planar`, with respect to its
    /// pixels in 8-bit code values, planar like the input (`batch` images per backward pass).
    pub fn tiles(&self, planar: &[u8], objective: Objective, batch: usize) -> Result<Vec<f32>> {
        Ok(self.pass(planar, objective, batch, false)?.0)
    }

    /// [`ClassifierGradients::tiles`], and with them the images' merged CAMs (what
    /// `DmvJnd::analyse` gives, from the same forward pass).
    pub fn tiles_with_cam(
        &self,
        planar: &[u8],
        objective: Objective,
        batch: usize,
    ) -> Result<(Vec<f32>, Vec<f32>)> {
        self.pass(planar, objective, batch, true)
    }

    fn pass(
        &self,
        planar: &[u8],
        objective: Objective,
        batch: usize,
        cams: bool,
    ) -> Result<(Vec<f32>, Vec<f32>)> {
        let mut out = Vec::with_capacity(planar.len());
        let mut merged = Vec::with_capacity(if cams { planar.len() / 3 } else { 0 });
        let loss_fn = CrossEntropyLoss::new(None, &self.device);
        for chunk in planar.chunks(batch.max(1) * IMAGE_BYTES) {
            let m = chunk.len() / IMAGE_BYTES;
            let x = images_tensor(chunk, &self.device)?.require_grad();
            let mut total: Option<Tensor<1>> = None;
            let mut chunk_cams = Vec::with_capacity(if cams { ClassifierKind::ALL.len() } else { 0 });
            for kind in ClassifierKind::ALL {
                let output = self.classifiers.forward(kind, x.clone());
                if cams {
                    chunk_cams.push(class_activation_maps(&self.classifiers, kind, &output)?.1);
                }
                let logits = output.logits;
                let term = match objective {
                    Objective::CrossEntropy => {
                        let own = logits.clone().argmax(1).reshape([m]);
                        loss_fn.forward(logits, own)
                    }
                    Objective::RelativeMargin => {
                        let (_, top) = logits.clone().topk_with_indices(2, 1);
                        let pair = logits.gather(1, top);
                        let margin = pair.clone().narrow(1, 0, 1) - pair.narrow(1, 1, 1);
                        let relative = margin.clone() / (margin.detach() + 1e-6);
                        relative.sum()
                    }
                };
                total = Some(match total {
                    Some(sum) => sum + term,
                    None => term,
                });
            }
            let total = total.ok_or_else(|| Error::Model("no classifiers".into()))?;
            let grads = total.backward();
            let gradient = x.grad(&grads).ok_or_else(|| Error::Model("no input gradient".into()))?;
            let mut values = to_vec(gradient.into_data())?;
            // Cross-entropy is a batch mean: times m for each image's own gradient (the margins are
            // summed); the input was normalised as v / 127.5 - 1, so d/dv = d/dx / 127.5.
            let per_image = match objective {
                Objective::CrossEntropy => m as f32,
                Objective::RelativeMargin => 1.0,
            };
            let scale = per_image / 127.5;
            values.iter_mut().for_each(|v| *v *= scale);
            out.extend(values);
            merged.extend(merge_cams(&chunk_cams));
        }
        Ok((out, merged))
    }

    /// The gradient of `objective` over a picture of any size, cut into 32x32 tiles as the DMV-JND map
    /// is (`DmvJnd::machine_jnd_map`; edges replicated: a replicated pixel's gradient goes to the
    /// pixel it copies). Grey pictures are read as RGB with equal channels.
    pub fn picture(&self, image: &Image, objective: Objective) -> Result<PixelGradients> {
        Ok(self.picture_pass(image, objective, false)?.0)
    }

    /// [`ClassifierGradients::picture`], and the merged CAM of its tiles from the same forward pass,
    /// for `DmvJnd::machine_jnd_components_from_cam`.
    pub fn picture_with_cam(
        &self,
        image: &Image,
        objective: Objective,
    ) -> Result<(PixelGradients, Vec<f32>)> {
        self.picture_pass(image, objective, true)
    }

    fn picture_pass(
        &self,
        image: &Image,
        objective: Objective,
        cams: bool,
    ) -> Result<(PixelGradients, Vec<f32>)> {
        let (width, height) = (image.width() as usize, image.height() as usize);
        let tiles = tile_picture(image);
        let (gradients, cam) = self.pass(&tiles.planar, objective, PICTURE_BATCH, cams)?;
        let mut rgb = vec![0.0f32; 3 * width * height];
        for ty in 0..tiles.rows {
            for tx in 0..tiles.columns {
                let tile = &gradients[(ty * tiles.columns + tx) * IMAGE_BYTES..][..IMAGE_BYTES];
                for c in 0..3 {
                    for y in 0..SIDE {
                        let sy = (ty * SIDE + y).min(height - 1);
                        for x in 0..SIDE {
                            let sx = (tx * SIDE + x).min(width - 1);
                            rgb[c * width * height + sy * width + sx] += tile[c * PIXELS + y * SIDE + x];
                        }
                    }
                }
            }
        }
        Ok((PixelGradients::from_planar_rgb(width, height, &rgb), cam))
    }
}

/// Which plane of a JPEG a block belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plane {
    /// Y.
    Luma,
    /// Cb.
    Cb,
    /// Cr.
    Cr,
}

/// An objective's gradient per pixel of a picture with respect to its Y, Cb and Cr (in code values),
/// from which [`PixelGradients::block`] gives any JPEG block's gradient per coefficient.
#[derive(Debug, Clone, PartialEq)]
pub struct PixelGradients {
    width: usize,
    height: usize,
    y: Vec<f32>,
    cb: Vec<f32>,
    cr: Vec<f32>,
}

impl PixelGradients {
    /// From a planar RGB gradient (all R, then G, then B; `3 * width * height` values).
    ///
    /// # Panics
    /// If `rgb` has fewer than `3 * width * height` values.
    pub fn from_planar_rgb(width: usize, height: usize, rgb: &[f32]) -> Self {
        let n = width * height;
        let (r, g, b) = (&rgb[..n], &rgb[n..2 * n], &rgb[2 * n..3 * n]);
        // JFIF: R = Y + 1.402 Cr, G = Y - 0.344136 Cb - 0.714136 Cr, B = Y + 1.772 Cb, so the gradient
        // with respect to (Y, Cb, Cr) is the transpose applied to the RGB gradient.
        let y = (0..n).map(|p| r[p] + g[p] + b[p]).collect();
        let cb = (0..n).map(|p| -0.344_136 * g[p] + 1.772 * b[p]).collect();
        let cr = (0..n).map(|p| 1.402 * r[p] - 0.714_136 * g[p]).collect();
        Self { width, height, y, cb, cr }
    }

    /// Width in pixels.
    pub fn width(&self) -> usize {
        self.width
    }

    /// Height in pixels.
    pub fn height(&self) -> usize {
        self.height
    }

    /// The gradient per DCT coefficient (natural order) of the block of `plane` that covers pixels
    /// `[x0, x1) x [y0, y1)`: each of its 8x8 samples covers `(x1 - x0) / 8` by `(y1 - y0) / 8`
    /// pixels (2 by 2 for 4:2:0 chroma), and its gradient is their sum, since the decoder copies the
    /// sample to each of them. Pixels past the picture's edge (the encoder's padding) count nothing.
    pub fn block(&self, plane: Plane, pixels: [usize; 4]) -> [f32; 64] {
        let [x0, y0, x1, y1] = pixels;
        let (fx, fy) = ((x1.saturating_sub(x0) / 8).max(1), (y1.saturating_sub(y0) / 8).max(1));
        let values = match plane {
            Plane::Luma => &self.y,
            Plane::Cb => &self.cb,
            Plane::Cr => &self.cr,
        };
        let mut samples = [0.0f32; 64];
        for (i, sample) in samples.iter_mut().enumerate() {
            let (row, column) = (i / 8, i % 8);
            for y in (y0 + row * fy..y0 + (row + 1) * fy).take_while(|&y| y < self.height) {
                let line = &values[y * self.width..(y + 1) * self.width];
                for x in (x0 + column * fx..x0 + (column + 1) * fx).take_while(|&x| x < self.width) {
                    *sample += line[x];
                }
            }
        }
        forward_8x8(&samples)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_gradients_go_through_jfif_and_the_orthonormal_dct() {
        // A gradient of 1 on every pixel of R, G and B: Y's is 3 per pixel, so each luma block's DC is
        // 3 * 64 / 8 and its AC zero; at 4:2:0 a Cb sample sums 2x2 pixels of -0.344136 + 1.772.
        let g = PixelGradients::from_planar_rgb(32, 32, &[1.0; IMAGE_BYTES]);
        for by in 0..4 {
            for bx in 0..4 {
                let block = g.block(Plane::Luma, [bx * 8, by * 8, bx * 8 + 8, by * 8 + 8]);
                assert!((block[0] - 24.0).abs() < 1e-3, "{}", block[0]);
                assert!(block[1..].iter().all(|v| v.abs() < 1e-3));
            }
        }
        let cb = 4.0 * (1.772 - 0.344_136) * 8.0;
        let subsampled = g.block(Plane::Cb, [16, 16, 32, 32]);
        assert!((subsampled[0] - cb).abs() < 1e-2, "{} vs {cb}", subsampled[0]);
        let full = g.block(Plane::Cb, [8, 0, 16, 8]);
        assert!((full[0] - cb / 4.0).abs() < 1e-2);
        let cr = g.block(Plane::Cr, [0, 0, 8, 8]);
        assert!((cr[0] - (1.402 - 0.714_136) * 8.0).abs() < 1e-2);
        // A block half past the edge counts only the picture's pixels: half the DC.
        let edge = PixelGradients::from_planar_rgb(4, 8, &[1.0; 3 * 32]);
        assert!((edge.block(Plane::Luma, [0, 0, 8, 8])[0] - 12.0).abs() < 1e-3);
    }
}
