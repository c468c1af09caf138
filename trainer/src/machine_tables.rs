//! The machine quantisation tables: how much the four CIFAR-10 classifiers care about each DCT
//! frequency, turned into JPEG tables (`jnd-train machine-tables`, embedded as
//! `jnd-model/weights/machine-qtables.txt`).
//!
//! For each training image the summed cross-entropy of the four frozen classifiers against their own
//! decisions is differentiated with respect to the input pixels; the gradient goes through JFIF's
//! matrix to Y, Cb and Cr (chroma summed over 2x2 pixels, the 4:2:0 samples the decoder replicates),
//! and through JPEG's orthonormal 8x8 DCT to each coefficient. `S(u, v)`, the mean squared gradient
//! per coefficient, is the classifiers' sensitivity: to first order a quantisation error of step `Q`
//! (variance `Q^2 / 12`) costs `S Q^2 / 12` of loss. Spreading that cost evenly over the frequencies
//! at a given total of `sum log Q` (the high-rate bit budget) gives `Q(u, v) = k / sqrt(S(u, v))`
//! (the rule DeepN-JPEG and gradient-based table design follow). `k` makes the luma table's geometric
//! mean that of the standard's Annex K luma table, so `-quality` keeps its scale; chroma uses the same
//! `k`, so how chroma trades against luma also comes from the classifiers. Steps are clamped to
//! 1..=255 (baseline tables).

use std::fmt::Write as _;

use burn::module::Module;
use burn::nn::loss::CrossEntropyLoss;
use burn::tensor::{Device, Tensor};
use jnd_model::dct::forward_8x8;
use jnd_model::dmvjnd::{ClassifierKind, DmvJnd, IMAGE_BYTES, PIXELS, SIDE, images_tensor};

use crate::cifar::CifarSet;
use crate::{Error, Result};

/// The JPEG standard's Annex K luma table (natural order), the scale the machine table keeps.
pub const ANNEX_K_LUMA: [u16; 64] = [
    16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56, 14, 17,
    22, 29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92, 49, 64, 78,
    87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
];

/// The JPEG standard's Annex K chroma table (natural order).
pub const ANNEX_K_CHROMA: [u16; 64] = [
    17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99, 24, 26, 56, 99, 99, 99, 99, 99, 47, 66,
    99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99,
    99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99,
];

/// Mean squared loss gradient per DCT coefficient (natural order), per 8-bit code value.
#[derive(Debug, Clone, PartialEq)]
pub struct Sensitivity {
    /// Luma coefficients (16 blocks per 32x32 image).
    pub luma: [f64; 64],
    /// Chroma coefficients, Cb and Cr together (4:2:0: 4 blocks each per image; 4:4:4: 16).
    pub chroma: [f64; 64],
    /// Images measured.
    pub images: usize,
}

/// Measures [`Sensitivity`] of the classifiers in `classifiers` (burnpack bytes) on `set`, `batch`
/// images per backward pass, for chroma coded at 4:2:0 (`subsampled`) or 4:4:4.
pub fn sensitivity(
    classifiers: &[u8],
    set: &CifarSet,
    batch: usize,
    subsampled: bool,
    device: &Device,
) -> Result<Sensitivity> {
    if set.is_empty() {
        return Err(Error::Insufficient("no images".into()));
    }
    let (mut luma, mut chroma) = ([0.0f64; 64], [0.0f64; 64]);
    let n = set.len();
    for_each_gradient(classifiers, set, batch, Objective::CrossEntropy, device, |image| {
        let blocks = BlockGradients::of(image, subsampled);
        for (sums, planes) in [(&mut luma, vec![&blocks.luma]), (&mut chroma, vec![&blocks.cb, &blocks.cr])] {
            for block in planes.into_iter().flatten() {
                for (sum, g) in sums.iter_mut().zip(block) {
                    *sum += f64::from(*g).powi(2);
                }
            }
        }
    })?;
    let luma_blocks = (n * (SIDE / 8) * (SIDE / 8)) as f64;
    let chroma_side = if subsampled { SIDE / 2 } else { SIDE };
    let chroma_blocks = (n * 2 * (chroma_side / 8) * (chroma_side / 8)) as f64;
    Ok(Sensitivity {
        luma: luma.map(|s| s / luma_blocks),
        chroma: chroma.map(|s| s / chroma_blocks),
        images: n,
    })
}

/// What [`for_each_gradient`] differentiates, summed over the four frozen classifiers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Objective {
    /// Cross-entropy against the classifier's own decision (the machine tables' sensitivity).
    CrossEntropy,
    /// The margin between the classifier's top two logits, relative to its value on the original
    /// (`margin / margin.detach()`): a change of -1 flips the decision, so the squared first-order
    /// change is a flip risk that weighs images near a boundary up and confident ones down.
    RelativeMargin,
}

/// Calls `f` with each image's gradient of `objective` with respect to its planar RGB pixels in 8-bit
/// code values (`batch` images per backward pass, in the set's order).
pub fn for_each_gradient(
    classifiers: &[u8],
    set: &CifarSet,
    batch: usize,
    objective: Objective,
    device: &Device,
    mut f: impl FnMut(&[f32]),
) -> Result<()> {
    let train_device = device.clone().autodiff();
    // Frozen: batch normalisation uses its running statistics, as in inference.
    let frozen = DmvJnd::load_classifiers(classifiers, &train_device)?.freeze();
    let loss_fn = CrossEntropyLoss::new(None, &train_device);
    let n = set.len();
    for start in (0..n).step_by(batch.max(1)) {
        let end = (start + batch.max(1)).min(n);
        let m = end - start;
        let planar = &set.images[start * IMAGE_BYTES..end * IMAGE_BYTES];
        let x = images_tensor(planar, &train_device)?.require_grad();
        let mut total: Option<Tensor<1>> = None;
        for kind in ClassifierKind::ALL {
            let logits = frozen.forward(kind, x.clone()).logits;
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
        let total = total.ok_or_else(|| Error::Insufficient("no classifiers".into()))?;
        let grads = total.backward();
        let gradient = x.grad(&grads).ok_or_else(|| Error::Insufficient("no input gradient".into()))?;
        let mut values: Vec<f32> = gradient
            .into_data()
            .convert::<f32>()
            .try_into_vec::<f32>()
            .map_err(|e| Error::Insufficient(format!("reading the gradient: {e:?}")))?;
        // Cross-entropy is a batch mean: times m for each image's own gradient (the margins are
        // summed); the input was normalised as v / 127.5 - 1, so d/dv = d/dx / 127.5.
        let per_image = match objective {
            Objective::CrossEntropy => m as f32,
            Objective::RelativeMargin => 1.0,
        };
        let scale = per_image / 127.5;
        values.iter_mut().for_each(|v| *v *= scale);
        values.chunks_exact(IMAGE_BYTES).for_each(&mut f);
    }
    Ok(())
}

/// One image's loss gradient per JPEG DCT coefficient: each 8x8 block of Y, Cb and Cr (row-major
/// blocks, natural order within a block), in loss per code value of the coefficient.
#[derive(Debug, Clone, PartialEq)]
pub struct BlockGradients {
    /// Luma blocks (4x4 for a 32x32 image).
    pub luma: Vec<[f32; 64]>,
    /// Cb blocks (2x2 at 4:2:0, 4x4 at 4:4:4).
    pub cb: Vec<[f32; 64]>,
    /// Cr blocks.
    pub cr: Vec<[f32; 64]>,
    /// Blocks per row of the chroma planes.
    pub chroma_side: usize,
}

impl BlockGradients {
    /// From a planar RGB pixel gradient (per code value), for chroma coded at 4:2:0 (`subsampled`:
    /// a chroma sample's gradient is the sum over the 2x2 pixels the decoder replicates it to) or
    /// 4:4:4.
    pub fn of(image: &[f32], subsampled: bool) -> Self {
        let (r, g, b) = (&image[..PIXELS], &image[PIXELS..2 * PIXELS], &image[2 * PIXELS..]);
        // JFIF: R = Y + 1.402 Cr, G = Y - 0.344136 Cb - 0.714136 Cr, B = Y + 1.772 Cb, so the gradient
        // with respect to (Y, Cb, Cr) is the transpose applied to the RGB gradient.
        let mut y = vec![0.0f32; PIXELS];
        let half = if subsampled { SIDE / 2 } else { SIDE };
        let (mut cb, mut cr) = (vec![0.0f32; half * half], vec![0.0f32; half * half]);
        for p in 0..PIXELS {
            let (gr, gg, gb) = (r[p], g[p], b[p]);
            y[p] = gr + gg + gb;
            let q = if subsampled { (p / SIDE / 2) * half + (p % SIDE) / 2 } else { p };
            cb[q] += -0.344_136 * gg + 1.772 * gb;
            cr[q] += 1.402 * gr - 0.714_136 * gg;
        }
        let blocks = |plane: &[f32], side: usize| -> Vec<[f32; 64]> {
            let mut out = Vec::with_capacity((side / 8) * (side / 8));
            for by in 0..side / 8 {
                for bx in 0..side / 8 {
                    let block: [f32; 64] =
                        std::array::from_fn(|i| plane[(by * 8 + i / 8) * side + bx * 8 + i % 8]);
                    out.push(forward_8x8(&block));
                }
            }
            out
        };
        Self { luma: blocks(&y, SIDE), cb: blocks(&cb, half), cr: blocks(&cr, half), chroma_side: half / 8 }
    }
}

/// The exponent of the first-order rule, `Q = k S^-1/2`.
pub const FIRST_ORDER_EXPONENT: f64 = 0.5;

/// The machine tables (luma, chroma) from `sensitivity`: `Q = k S^-exponent` (see the module docs;
/// [`FIRST_ORDER_EXPONENT`] is the first-order rule, larger exponents spread the steps further).
pub fn tables(sensitivity: &Sensitivity, exponent: f64) -> Result<[[u16; 64]; 2]> {
    if !exponent.is_finite() || exponent <= 0.0 {
        return Err(Error::Insufficient(format!("table exponent {exponent} (need > 0)")));
    }
    let all = sensitivity.luma.iter().chain(&sensitivity.chroma);
    if all.clone().any(|s| !s.is_finite() || *s <= 0.0) {
        return Err(Error::Insufficient("a frequency with no gradient: measure more images".into()));
    }
    let raw = |s: &[f64; 64]| s.map(|v| v.powf(-exponent));
    let (luma, chroma) = (raw(&sensitivity.luma), raw(&sensitivity.chroma));
    let log_mean = |v: &[f64]| v.iter().map(|x| x.ln()).sum::<f64>() / v.len() as f64;
    let annex: Vec<f64> = ANNEX_K_LUMA.iter().map(|&q| f64::from(q)).collect();
    let k = (log_mean(&annex) - log_mean(&luma)).exp();
    let quantise = |t: [f64; 64]| t.map(|v| (v * k).round().clamp(1.0, 255.0) as u16);
    Ok([quantise(luma), quantise(chroma)])
}

/// The tables as a cjpeg `-qtables` file, with a comment naming their origin.
pub fn qtables_file(tables: &[[u16; 64]; 2], header: &str) -> String {
    let mut out = String::new();
    for line in header.lines() {
        let _ = writeln!(out, "# {line}");
    }
    for (name, table) in ["luma", "chroma"].iter().zip(tables) {
        let _ = writeln!(out, "# {name}");
        for row in table.chunks(8) {
            let cells: Vec<String> = row.iter().map(|v| format!("{v:>3}")).collect();
            let _ = writeln!(out, "{}", cells.join(" "));
        }
    }
    out
}

/// A Markdown grid of 64 values in natural order (rows v, columns u), each cell written by `cell`.
pub fn grid<T>(values: &[T; 64], cell: impl Fn(&T) -> String) -> String {
    let mut out =
        String::from("| v \\ u | 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 |\n|---|---|---|---|---|---|---|---|---|\n");
    for (v, row) in values.chunks(8).enumerate() {
        let cells: Vec<String> = row.iter().map(&cell).collect();
        let _ = writeln!(out, "| {v} | {} |", cells.join(" | "));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flat_one() -> Sensitivity {
        Sensitivity { luma: [1.0; 64], chroma: [1.0; 64], images: 1 }
    }

    #[test]
    fn equal_sensitivity_gives_a_flat_table_at_annex_k_scale() {
        let flat = Sensitivity { luma: [1.0; 64], chroma: [4.0; 64], images: 1 };
        let [luma, chroma] = tables(&flat, FIRST_ORDER_EXPONENT).unwrap();
        let geomean = (ANNEX_K_LUMA.iter().map(|&q| f64::from(q).ln()).sum::<f64>() / 64.0).exp();
        assert!(luma.iter().all(|&q| (f64::from(q) - geomean).abs() <= 0.5));
        // Four times the squared gradient: half the step.
        assert!(chroma.iter().all(|&q| (f64::from(q) - geomean / 2.0).abs() <= 0.5));
    }

    #[test]
    fn steps_follow_inverse_root_sensitivity_and_stay_in_baseline_range() {
        let mut luma = [1.0; 64];
        luma[0] = 100.0;
        luma[63] = 1e-12;
        let [table, _] =
            tables(&Sensitivity { luma, chroma: [1.0; 64], images: 1 }, FIRST_ORDER_EXPONENT).unwrap();
        assert!(table[0] < table[1] && table[1] <= table[63]);
        assert_eq!(table[63], 255);
        assert!(table.iter().all(|&q| (1..=255).contains(&q)));
        let zero = Sensitivity { luma: [0.0; 64], chroma: [1.0; 64], images: 1 };
        assert!(tables(&zero, FIRST_ORDER_EXPONENT).is_err());
        assert!(tables(&flat_one(), 0.0).is_err());
        let text = qtables_file(&[table, table], "test");
        assert_eq!(jndenc::codec::parse_qtables(&text).unwrap(), vec![table, table]);
    }
}
