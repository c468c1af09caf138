//! The quality prior: from the original alone, the teacher's butteraugli 3-norm distance and its
//! SSIMULACRA 2 at every quality of a codec, so the search can start at the quality for any target
//! (a 3-norm ceiling, a SSIMULACRA 2 floor, or both: [`PairPrior`]) and confirm it with a few real
//! candidates.
//!
//! [`Features::of`] summarises the original in a few numbers (8x8 block contrast, luma and chroma
//! gradients, one pass over the pixels; the pixel-wise JND map was tried and left out: it cost 0.2 s
//! per MP and did not improve the search's start on the training photos); [`QualityPrior`] holds, per
//! quality, a ridge regression from the standardised features to `ln d` (`d` the teacher's 3-norm),
//! fitted by `jnd-train fit-prior` on the training photos' ladders and embedded as CSV
//! (`jnd-model/weights/prior-*.csv`). The predicted curve is made non-increasing in quality before
//! it is read, so [`QualityPrior::quality_for`] is the lowest quality whose prediction, and every
//! prediction above it, is within the target.

use crate::vpjnd::CodecFamily;
use crate::{Error, Image, Result, ycbcr};

/// How many numbers describe an original.
pub const FEATURES: usize = 6;

/// The names of the features, in order (the CSV header and the model card use them).
pub const FEATURE_NAMES: [&str; FEATURES] = [
    "block_contrast_mean",
    "block_contrast_p10",
    "block_contrast_p90",
    "flat_fraction",
    "gradient_mean",
    "chroma_gradient_mean",
];

/// What the prior knows of an original.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Features(pub [f64; FEATURES]);

impl Features {
    /// Summarises `image`.
    pub fn of(image: &Image) -> Features {
        let (w, h) = (image.width() as usize, image.height() as usize);
        let rgb = image.to_rgb();
        let pixels = rgb.pixels();
        let mut luma = vec![0f32; w * h];
        let mut chroma = vec![[0f32; 2]; w * h];
        for (i, p) in pixels.chunks_exact(3).enumerate() {
            let [y, cb, cr] = ycbcr(f32::from(p[0]), f32::from(p[1]), f32::from(p[2]));
            luma[i] = y;
            chroma[i] = [cb, cr];
        }
        // 8x8 block standard deviations of luma (the JPEG grid), as ln(1 + sigma).
        let mut contrast = Vec::with_capacity(w.div_ceil(8) * h.div_ceil(8));
        for by in (0..h).step_by(8) {
            for bx in (0..w).step_by(8) {
                let (mut n, mut s, mut s2) = (0f64, 0f64, 0f64);
                for y in by..(by + 8).min(h) {
                    for &v in &luma[y * w + bx..y * w + (bx + 8).min(w)] {
                        let v = f64::from(v);
                        n += 1.0;
                        s += v;
                        s2 += v * v;
                    }
                }
                let var = (s2 / n - (s / n).powi(2)).max(0.0);
                contrast.push((1.0 + var.sqrt()).ln());
            }
        }
        let flat =
            contrast.iter().filter(|&&c| c < (1.0f64 + 1.5).ln()).count() as f64 / contrast.len() as f64;
        let mean_contrast = contrast.iter().sum::<f64>() / contrast.len() as f64;
        contrast.sort_by(f64::total_cmp);
        let pick = |p: f64| contrast[((contrast.len() - 1) as f64 * p).round() as usize];
        let (p10, p90) = (pick(0.1), pick(0.9));
        // Mean ln(1 + |horizontal| + |vertical| difference), luma and chroma.
        let (mut grad, mut cgrad, mut count) = (0f64, 0f64, 0f64);
        for y in 0..h.saturating_sub(1) {
            for x in 0..w.saturating_sub(1) {
                let i = y * w + x;
                let g = (luma[i + 1] - luma[i]).abs() + (luma[i + w] - luma[i]).abs();
                let c: f32 = (0..2)
                    .map(|k| {
                        (chroma[i + 1][k] - chroma[i][k]).abs() + (chroma[i + w][k] - chroma[i][k]).abs()
                    })
                    .sum();
                grad += f64::from(g).ln_1p();
                cgrad += f64::from(c).ln_1p();
                count += 1.0;
            }
        }
        let count = count.max(1.0);
        Features([mean_contrast, p10, p90, flat, grad / count, cgrad / count])
    }
}

/// The regression of one quality: intercept, then one weight per standardised feature.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Row {
    /// The codec's quality.
    pub quality: u8,
    /// `ln d = coefficients[0] + sum_k coefficients[k + 1] * z_k`.
    pub coefficients: [f64; FEATURES + 1],
}

/// Per-quality predictions of the teacher's distance for one codec family.
#[derive(Debug, Clone, PartialEq)]
pub struct QualityPrior {
    /// The features' training means (standardisation).
    pub mean: [f64; FEATURES],
    /// The features' training standard deviations.
    pub scale: [f64; FEATURES],
    /// One regression per quality, ascending.
    pub rows: Vec<Row>,
}

const EMBEDDED_JPEG: &str = include_str!("../weights/prior-mozjpeg.csv");
const EMBEDDED_JPEGLI: &str = include_str!("../weights/prior-jpegli.csv");
const EMBEDDED_HEIF: &str = include_str!("../weights/prior-heif.csv");
const EMBEDDED_JPEG_S2: &str = include_str!("../weights/prior-mozjpeg-ssimulacra2.csv");
const EMBEDDED_JPEGLI_S2: &str = include_str!("../weights/prior-jpegli-ssimulacra2.csv");
const EMBEDDED_HEIF_S2: &str = include_str!("../weights/prior-heif-ssimulacra2.csv");
const EMBEDDED_JPEGLI_444: &str = include_str!("../weights/prior-jpegli444.csv");
const EMBEDDED_JPEGLI_444_S2: &str = include_str!("../weights/prior-jpegli444-ssimulacra2.csv");

/// The value the SSIMULACRA 2 prior predicts: `100 - s` (falling with quality like a distance, and
/// positive for every score but a perfect one), kept above this.
pub const SSIMULACRA2_GAP_FLOOR: f64 = 0.05;

/// A SSIMULACRA 2 score as the distance-like gap its prior predicts.
pub fn ssimulacra2_gap(score: f64) -> f64 {
    (100.0 - score).max(SSIMULACRA2_GAP_FLOOR)
}

/// The bounds of an operating point, as the prior reads them.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Bounds {
    /// The butteraugli 3-norm ceiling.
    pub distance: Option<f64>,
    /// The SSIMULACRA 2 floor.
    pub ssimulacra2: Option<f64>,
}

/// What the prior predicts at one quality.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Prediction {
    /// The quality.
    pub quality: u8,
    /// The predicted 3-norm.
    pub distance: f64,
    /// The predicted SSIMULACRA 2, when the family has that prior.
    pub ssimulacra2: Option<f64>,
}

/// A probe's measured scores, to shift the predicted curves through.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Measured {
    /// Its quality.
    pub quality: u8,
    /// Its 3-norm (NaN when unknown).
    pub distance: f64,
    /// Its SSIMULACRA 2, when measured.
    pub ssimulacra2: Option<f64>,
}

/// Both curves of a codec family: the 3-norm and, where fitted, the SSIMULACRA 2.
#[derive(Debug, Clone, PartialEq)]
pub struct PairPrior {
    /// The 3-norm per quality.
    pub distance: QualityPrior,
    /// `100 - SSIMULACRA 2` per quality.
    pub ssimulacra2: Option<QualityPrior>,
}

impl PairPrior {
    /// The embedded priors of a codec family, at 4:4:4 when `full_chroma` and the family has priors
    /// fitted there (jpegli; the others use their 4:2:0 curves, which the first probe shifts), without
    /// a SSIMULACRA 2 curve where none is fitted.
    pub fn embedded(family: CodecFamily, full_chroma: bool) -> Result<PairPrior> {
        let read = |text: &str| -> Result<Option<QualityPrior>> {
            if text.trim().is_empty() { Ok(None) } else { QualityPrior::from_csv(text).map(Some) }
        };
        if full_chroma
            && family == CodecFamily::Jpegli
            && let Some(distance) = read(EMBEDDED_JPEGLI_444)?
        {
            return Ok(PairPrior { distance, ssimulacra2: read(EMBEDDED_JPEGLI_444_S2)? });
        }
        let s2 = match family {
            CodecFamily::Jpeg => EMBEDDED_JPEG_S2,
            CodecFamily::Jpegli => EMBEDDED_JPEGLI_S2,
            CodecFamily::Heif => EMBEDDED_HEIF_S2,
        };
        Ok(PairPrior { distance: QualityPrior::embedded(family)?, ssimulacra2: read(s2)? })
    }

    /// The lowest quality predicted to meet every bound (the highest when none does), with the
    /// predictions there. `shift` moves the curves through a measured probe first.
    fn lowest(&self, features: &Features, bounds: Bounds, shift: Option<Measured>) -> Prediction {
        let distances = shifted(self.distance.distances(features), shift.map(|m| (m.quality, m.distance)));
        let gaps = self.ssimulacra2.as_ref().map(|p| {
            shifted(
                p.distances(features),
                shift.and_then(|m| m.ssimulacra2.map(|s| (m.quality, ssimulacra2_gap(s)))),
            )
        });
        let at = |curve: &[(u8, f64)], q: u8| interpolate(curve, q);
        let meets = |q: u8, d: f64| {
            bounds.distance.is_none_or(|tau| d <= tau)
                && match (bounds.ssimulacra2, &gaps) {
                    (Some(floor), Some(g)) => at(g, q) <= ssimulacra2_gap(floor),
                    _ => true,
                }
        };
        let pick =
            distances.iter().copied().find(|&(q, d)| meets(q, d)).or_else(|| distances.last().copied());
        let (quality, distance) = pick.unwrap_or((100, f64::NAN));
        let ssimulacra2 = gaps.as_ref().map(|g| 100.0 - at(g, quality));
        Prediction { quality, distance, ssimulacra2 }
    }

    /// The lowest quality predicted to meet `bounds`.
    pub fn quality_for(&self, features: &Features, bounds: Bounds) -> Prediction {
        self.lowest(features, bounds, None)
    }

    /// [`PairPrior::quality_for`] after one measured candidate: each curve is shifted (in the log of
    /// its distance-like value) to pass through what was measured, keeping the shape the features
    /// predicted; a curve whose value was not measured stays as predicted.
    pub fn refine(&self, features: &Features, probe: Measured, bounds: Bounds) -> Prediction {
        self.lowest(features, bounds, Some(probe))
    }
}

/// The value of `curve` (ascending qualities, positive values) at `q`: interpolated in the log
/// between the rows around it (a curve fitted every few qualities), the end rows outside them.
fn interpolate(curve: &[(u8, f64)], q: u8) -> f64 {
    match curve.iter().position(|&(x, _)| x >= q) {
        None => curve.last().map_or(f64::NAN, |&(_, v)| v),
        Some(0) => curve[0].1,
        Some(i) => {
            let ((q0, v0), (q1, v1)) = (curve[i - 1], curve[i]);
            let t = f64::from(q - q0) / f64::from(q1 - q0);
            (v0.ln() * (1.0 - t) + v1.ln() * t).exp()
        }
    }
}

/// `curve` multiplied so that it passes through `probe` (quality, value); unchanged without a usable
/// probe.
fn shifted(curve: Vec<(u8, f64)>, probe: Option<(u8, f64)>) -> Vec<(u8, f64)> {
    let Some((q, value)) = probe else { return curve };
    let at = interpolate(&curve, q);
    let factor = value / at;
    if !(factor.is_finite() && factor > 0.0) {
        return curve;
    }
    curve.into_iter().map(|(x, v)| (x, v * factor)).collect()
}

impl QualityPrior {
    /// The embedded prior of a codec family.
    pub fn embedded(family: CodecFamily) -> Result<QualityPrior> {
        let text = match family {
            CodecFamily::Jpeg => EMBEDDED_JPEG,
            CodecFamily::Jpegli => EMBEDDED_JPEGLI,
            CodecFamily::Heif => EMBEDDED_HEIF,
        };
        QualityPrior::from_csv(text)
    }

    /// The standardised features.
    pub fn standardise(&self, features: &Features) -> [f64; FEATURES] {
        std::array::from_fn(|k| (features.0[k] - self.mean[k]) / self.scale[k])
    }

    /// The predicted distance at every quality, ascending in quality, made non-increasing (each
    /// quality's prediction is at least every higher quality's).
    pub fn distances(&self, features: &Features) -> Vec<(u8, f64)> {
        let z = self.standardise(features);
        let mut out: Vec<(u8, f64)> = self
            .rows
            .iter()
            .map(|row| {
                let ln =
                    row.coefficients[0] + (0..FEATURES).map(|k| row.coefficients[k + 1] * z[k]).sum::<f64>();
                (row.quality, ln.exp())
            })
            .collect();
        for i in (0..out.len().saturating_sub(1)).rev() {
            out[i].1 = out[i].1.max(out[i + 1].1);
        }
        out
    }

    /// The lowest quality whose predicted distance is within `tau` (the highest quality when none
    /// is), and the prediction there.
    pub fn quality_for(&self, features: &Features, tau: f64) -> (u8, f64) {
        let curve = self.distances(features);
        curve
            .iter()
            .copied()
            .find(|&(_, d)| d <= tau)
            .or_else(|| curve.last().copied())
            .unwrap_or((100, f64::NAN))
    }

    /// [`QualityPrior::quality_for`] after one measured (or judged) candidate: the predicted curve
    /// is shifted in `ln d` to pass through `probe` (its quality and distance), keeping the shape the
    /// features predicted, and read at `tau`. A probe without a usable distance changes nothing.
    pub fn refine(&self, features: &Features, probe: (u8, f64), tau: f64) -> (u8, f64) {
        let curve = self.distances(features);
        let at = curve.iter().find(|&&(q, _)| q >= probe.0).or(curve.last()).map_or(f64::NAN, |&(_, d)| d);
        let shift = probe.1.ln() - at.ln();
        if !shift.is_finite() {
            return self.quality_for(features, tau);
        }
        let factor = shift.exp();
        curve
            .iter()
            .map(|&(q, d)| (q, d * factor))
            .find(|&(_, d)| d <= tau)
            .or_else(|| curve.last().map(|&(q, d)| (q, d * factor)))
            .unwrap_or((100, f64::NAN))
    }

    /// Reads the CSV written by [`QualityPrior::to_csv`].
    pub fn from_csv(text: &str) -> Result<QualityPrior> {
        let bad = |what: &str| Error::Model(format!("quality prior: {what}"));
        let mut lines = text.lines().filter(|l| !l.trim().is_empty() && !l.starts_with('#'));
        let header = lines.next().ok_or_else(|| bad("empty"))?;
        let expected = format!("quality,intercept,{}", FEATURE_NAMES.join(","));
        if header.trim() != expected {
            return Err(bad("unexpected header"));
        }
        let mut numbers = |name: &str| -> Result<Vec<f64>> {
            let line = lines.next().ok_or_else(|| bad(&format!("no {name} row")))?;
            line.split(',')
                .map(|f| f.trim().parse::<f64>().map_err(|_| bad(&format!("bad number {f:?}"))))
                .collect()
        };
        let mean_row = numbers("mean")?;
        let scale_row = numbers("scale")?;
        if mean_row.len() != FEATURES + 2 || scale_row.len() != FEATURES + 2 {
            return Err(bad("mean/scale rows of the wrong length"));
        }
        let mean: [f64; FEATURES] = std::array::from_fn(|k| mean_row[k + 2]);
        let scale: [f64; FEATURES] = std::array::from_fn(|k| scale_row[k + 2]);
        if scale.iter().any(|&s| !(s.is_finite() && s > 0.0)) {
            return Err(bad("non-positive scale"));
        }
        let mut rows = Vec::new();
        for line in lines {
            let values: Vec<f64> = line
                .split(',')
                .map(|f| f.trim().parse::<f64>().map_err(|_| bad(&format!("bad number {f:?}"))))
                .collect::<Result<_>>()?;
            if values.len() != FEATURES + 2 || !(0.0..=100.0).contains(&values[0]) {
                return Err(bad("a row of the wrong length or quality"));
            }
            rows.push(Row { quality: values[0] as u8, coefficients: std::array::from_fn(|k| values[k + 1]) });
        }
        if rows.is_empty() || rows.windows(2).any(|w| w[0].quality >= w[1].quality) {
            return Err(bad("qualities must ascend"));
        }
        Ok(QualityPrior { mean, scale, rows })
    }

    /// Writes the prior as CSV: a header, the `mean` and `scale` rows (quality column -1, intercept
    /// column 0), then one row per quality.
    pub fn to_csv(&self) -> String {
        let mut out = format!("quality,intercept,{}\n", FEATURE_NAMES.join(","));
        let join = |v: &[f64]| v.iter().map(|x| format!("{x:.6}")).collect::<Vec<_>>().join(",");
        out += &format!("-1,0,{}\n", join(&self.mean));
        out += &format!("-1,0,{}\n", join(&self.scale));
        for row in &self.rows {
            out += &format!("{},{}\n", row.quality, join(&row.coefficients));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn photo(seed: u32, w: u32, h: u32) -> Image {
        let pixels = (0..w * h * 3).map(|i| ((i.wrapping_mul(seed) ^ (i / 97)) % 251) as u8).collect();
        Image::new(w, h, crate::ColorType::Rgb, pixels).expect("valid image")
    }

    #[test]
    fn every_embedded_prior_reads_and_predicts_a_falling_curve() {
        let image = photo(7, 64, 48);
        let features = Features::of(&image);
        for family in [CodecFamily::Jpeg, CodecFamily::Jpegli, CodecFamily::Heif] {
            let prior = QualityPrior::embedded(family).expect("embedded prior");
            let curve = prior.distances(&features);
            assert!(curve.len() >= 50, "{family:?}: {} rows", curve.len());
            assert!(curve.windows(2).all(|w| w[0].1 >= w[1].1), "{family:?} rises");
            assert!(curve.iter().all(|&(_, d)| d.is_finite() && d > 0.0));
            // A looser target never asks for a higher quality.
            let strict = prior.quality_for(&features, 1.0).0;
            let loose = prior.quality_for(&features, 3.0).0;
            assert!(loose <= strict, "{family:?}: {loose} > {strict}");
            assert_eq!(
                QualityPrior::from_csv(&prior.to_csv()).expect("round trip").rows.len(),
                prior.rows.len()
            );
            // A probe measured worse than predicted moves the answer up, never down.
            let (q0, d0) = prior.quality_for(&features, 2.0);
            assert!(prior.refine(&features, (q0, d0 * 1.5), 2.0).0 >= q0);
            assert!(prior.refine(&features, (q0, d0 / 1.5), 2.0).0 <= q0);
            assert_eq!(prior.refine(&features, (q0, f64::NAN), 2.0).0, q0);
        }
    }

    #[test]
    fn the_pair_prior_asks_for_more_quality_as_either_bound_tightens() {
        let features = Features::of(&photo(11, 96, 64));
        for family in [CodecFamily::Jpeg, CodecFamily::Jpegli, CodecFamily::Heif] {
            for full_chroma in [false, true] {
                let prior = PairPrior::embedded(family, full_chroma).expect("embedded prior");
                let q = |d: Option<f64>, s: Option<f64>| {
                    prior.quality_for(&features, Bounds { distance: d, ssimulacra2: s }).quality
                };
                let loose = q(Some(2.0), None);
                assert!(q(Some(1.0), None) >= loose, "{family:?}");
                if prior.ssimulacra2.is_some() {
                    // A floor can only raise the quality a ceiling alone asks for.
                    assert!(q(Some(2.0), Some(85.0)) >= loose, "{family:?}");
                    assert!(q(None, Some(90.0)) >= q(None, Some(60.0)), "{family:?}");
                    let at = prior.quality_for(&features, Bounds { distance: Some(2.0), ssimulacra2: None });
                    let s = at.ssimulacra2.expect("predicted");
                    assert!((0.0..=100.0).contains(&s), "{family:?}: {s}");
                    // A probe measured worse on SSIMULACRA 2 than predicted raises the answer.
                    let bounds = Bounds { distance: None, ssimulacra2: Some(s) };
                    let before = prior.quality_for(&features, bounds).quality;
                    let worse =
                        Measured { quality: at.quality, distance: at.distance, ssimulacra2: Some(s - 10.0) };
                    assert!(prior.refine(&features, worse, bounds).quality >= before, "{family:?}");
                }
            }
        }
    }

    #[test]
    fn a_flat_picture_and_a_busy_one_differ_where_they_should() {
        let flat = Image::new(64, 64, crate::ColorType::Rgb, vec![128; 64 * 64 * 3]).expect("flat");
        let busy = photo(13, 64, 64);
        let f = Features::of(&flat);
        let b = Features::of(&busy);
        assert_eq!(f.0[3], 1.0, "a flat picture is all flat blocks");
        assert!(b.0[0] > f.0[0] && b.0[4] > f.0[4]);
        assert!(QualityPrior::from_csv("quality,intercept\n").is_err());
    }
}
