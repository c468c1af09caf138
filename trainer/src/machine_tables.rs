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

use burn::tensor::Device;
use jnd_model::dmvjnd::{ClassifierGradients, IMAGE_BYTES, Objective, PixelGradients, Plane, SIDE};

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
    let gradients = ClassifierGradients::from_bytes(classifiers, device)?;
    // Chroma blocks cover 16x16 pixels at 4:2:0, 8x8 at 4:4:4.
    let footprint = if subsampled { 16 } else { 8 };
    let blocks = |side: usize| {
        (0..SIDE / side).flat_map(move |by| (0..SIDE / side).map(move |bx| [bx, by].map(|v| v * side)))
    };
    let add = |sums: &mut [f64; 64], block: [f32; 64]| {
        for (sum, g) in sums.iter_mut().zip(block) {
            *sum += f64::from(g).powi(2);
        }
    };
    for chunk in set.images.chunks(batch.max(1) * IMAGE_BYTES) {
        let all = gradients.tiles(chunk, Objective::CrossEntropy, batch)?;
        for image in all.chunks_exact(IMAGE_BYTES) {
            let g = PixelGradients::from_planar_rgb(SIDE, SIDE, image);
            for [x, y] in blocks(8) {
                add(&mut luma, g.block(Plane::Luma, [x, y, x + 8, y + 8]));
            }
            for [x, y] in blocks(footprint) {
                for plane in [Plane::Cb, Plane::Cr] {
                    add(&mut chroma, g.block(plane, [x, y, x + footprint, y + footprint]));
                }
            }
        }
    }
    let luma_blocks = (n * (SIDE / 8) * (SIDE / 8)) as f64;
    let chroma_side = if subsampled { SIDE / 2 } else { SIDE };
    let chroma_blocks = (n * 2 * (chroma_side / 8) * (chroma_side / 8)) as f64;
    Ok(Sensitivity {
        luma: luma.map(|s| s / luma_blocks),
        chroma: chroma.map(|s| s / chroma_blocks),
        images: n,
    })
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
