//! Wu et al. 2017 (pattern complexity).
//!
//! - Luminance adaptation: `bg = floor(B * I / 32)` (Chou and Li's weighted background), dark
//!   backgrounds remapped `bg <- round(32 + bg (127 - 32) / 127)` for `bg <= 127` (the model's
//!   floor of 32, as in the authors' code), then `JND_LA = 0.7 T_l(bg)` with Chou and Li's curve.
//! - Luminance contrast: `L_c` = standard deviation over a 5x5 window;
//!   `JND_LC = 1.84 L_c^2.4 / (L_c^2 + 26^2)`.
//! - Pattern complexity: gradients from the 3x3 operators `[-1 0 1]/3` (rows and columns, i.e.
//!   Prewitt / 3); a pixel with `|G| < 5` is smooth; otherwise its gradient orientation, folded to
//!   [0, 180) degrees, falls in one of 15 bins of 12 degrees. `P_c` is the number of distinct bins
//!   among the 3x3 neighbourhood (smooth pixels count for none), smoothed by a 3x3 Gaussian of
//!   sigma 1. `C_t = 0.3 P_c^2.7 / (P_c^2 + 1)`; `JND_PM = L_c C_t E`.
//! - Edge protection `E`: Canny edges with the high threshold `min(60 / max(mg), 0.8)` of the
//!   normalised gradient (`mg` = Chou and Li's maximal directional gradient), dilated by a disk of
//!   radius 3, inverted (0 on edges, 1 elsewhere) and smoothed by a 5x5 Gaussian of sigma 0.8.
//! - `JND_VM = max(JND_LC, JND_PM)`; `JND = JND_LA + JND_VM - 0.3 min(JND_LA, JND_VM)`.
//!
//! Choices where the paper leaves room: orientation bins use a polynomial arctangent (error under
//! 0.1 degree, against bins 12 degrees wide); the 15 bins fold 0 and 180 degrees together.

use rayon::prelude::*;

use super::plane::{canny, dilate_disk};
use super::{JndMap, Plane, background_and_gradient, luma, luminance_threshold, namm};
use crate::Image;

/// The intermediate maps of Wu's model (same size as the image).
#[derive(Debug, Clone)]
pub struct WuComponents {
    /// `JND_LA`, luminance adaptation (with the dark remapping and the 0.7 factor).
    pub luminance: JndMap,
    /// `JND_LC`, luminance-contrast masking.
    pub contrast: JndMap,
    /// `JND_PM`, pattern masking after edge protection.
    pub pattern: JndMap,
    /// `P_c`, the smoothed pattern complexity (0..=9).
    pub complexity: JndMap,
    /// `E`, the edge-protection factor (0 on edges .. 1 away from them).
    pub edge_protection: JndMap,
    /// The combined JND.
    pub jnd: JndMap,
}

/// Wu's JND map.
pub fn wu2017(image: &Image) -> JndMap {
    wu2017_components(image).jnd
}

/// Wu's luminance adaptation for a background luminance `bg` (already floored): the dark remapping,
/// Chou and Li's curve, times 0.7.
pub fn wu_luminance_threshold(bg: f32) -> f32 {
    let bg = if bg <= 127.0 { (32.0 + bg * (127.0 - 32.0) / 127.0).round() } else { bg };
    0.7 * luminance_threshold(bg)
}

/// arctangent of y/x in degrees folded to [0, 180), from a polynomial approximation of atan on
/// [-1, 1] (max error about 0.09 degrees).
#[inline]
fn orientation_degrees(y: f32, x: f32) -> f32 {
    let (ax, ay) = (x.abs(), y.abs());
    let (z, swap) = if ay <= ax { (ay / ax.max(f32::MIN_POSITIVE), false) } else { (ax / ay, true) };
    let a = std::f32::consts::FRAC_PI_4 * z - z * (z - 1.0) * (0.2447 + 0.0663 * z);
    let mut deg = a.to_degrees();
    if swap {
        deg = 90.0 - deg;
    }
    // Quadrant: the orientation is symmetric under a half turn, so only the sign of x*y matters.
    if (x < 0.0) != (y < 0.0) {
        deg = 180.0 - deg;
    }
    if deg >= 180.0 { deg - 180.0 } else { deg }
}

/// A smooth function tabulated on [lo, hi] and linearly interpolated (clamped outside): `powf` per
/// pixel would cost more than the whole rest of the model. With the table sizes used here the
/// error is below 1e-4 (1 + |f|) (tested).
struct Curve {
    lo: f32,
    step: f32,
    table: Vec<f32>,
}

impl Curve {
    fn new(lo: f32, hi: f32, n: usize, f: impl Fn(f32) -> f32) -> Self {
        let step = (hi - lo) / n as f32;
        Curve { lo, step, table: (0..=n + 1).map(|i| f(lo + i as f32 * step)).collect() }
    }

    #[inline]
    fn eval(&self, x: f32) -> f32 {
        let t = ((x - self.lo) / self.step).max(0.0);
        let i = (t as usize).min(self.table.len() - 2);
        let frac = (t - i as f32).min(1.0);
        self.table[i] + (self.table[i + 1] - self.table[i]) * frac
    }
}

/// `P_c` before smoothing: distinct orientation bins in each 3x3 neighbourhood.
fn pattern_complexity(y: &Plane) -> Plane {
    let third = 1.0 / 3.0;
    #[rustfmt::skip]
    let kx = [-third, 0.0, third, -third, 0.0, third, -third, 0.0, third];
    #[rustfmt::skip]
    let ky = [-third, -third, -third, 0.0, 0.0, 0.0, third, third, third];
    let gx = y.correlate(&kx, 3);
    let gy = y.correlate(&ky, 3);
    let (w, h) = (y.w, y.h);
    let bins: Vec<u16> = gx
        .data
        .par_iter()
        .zip(&gy.data)
        .map(|(&dx, &dy)| {
            if dx * dx + dy * dy < 25.0 {
                0
            } else {
                let bin = ((orientation_degrees(dy, dx) / 12.0) as u16).min(14);
                1u16 << bin
            }
        })
        .collect();
    // OR over the 3x3 neighbourhood, separably: across each row, then down the columns.
    let mut across = vec![0u16; w * h];
    across.par_chunks_mut(w).enumerate().for_each(|(yy, row)| {
        let src = &bins[yy * w..(yy + 1) * w];
        for x in 0..w {
            row[x] = src[x.saturating_sub(1)] | src[x] | src[(x + 1).min(w - 1)];
        }
    });
    let mut out = Plane::new(w, h, 0.0);
    out.data.par_chunks_mut(w).enumerate().for_each(|(yy, row)| {
        let (up, down) = (yy.saturating_sub(1), (yy + 1).min(h - 1));
        for x in 0..w {
            row[x] = (across[up * w + x] | across[yy * w + x] | across[down * w + x]).count_ones() as f32;
        }
    });
    out
}

/// Canny edges with the high threshold `min(60 / max(mg), 0.8)` of the normalised gradient: an
/// edge must be strong relative to the image's largest luminance step, so fine texture stays
/// texture. No edges on a flat image.
pub(crate) fn edges_by_height(y: &Plane, mg: &Plane) -> Vec<bool> {
    let max_mg = mg.max();
    if max_mg <= 0.0 {
        return vec![false; y.w * y.h];
    }
    canny(y, Some((60.0 / max_mg).min(0.8)))
}

/// Wu's JND map with its components.
pub fn wu2017_components(image: &Image) -> WuComponents {
    let y = luma(image);
    // Luminance adaptation.
    let (bg, mg) = background_and_gradient(&y);
    let bg = bg.map(f32::floor);
    let la = bg.map(wu_luminance_threshold);
    // Luminance contrast: local standard deviation over 5x5.
    let mean = y.box_mean(2);
    let mean_sq = y.map(|v| v * v).box_mean(2);
    let l_c = mean_sq.zip_map(&mean, |m2, m| (m2 - m * m).max(0.0).sqrt());
    let lc_curve = Curve::new(0.0, 128.0, 4096, |l| 1.84 * l.powf(2.4) / (l * l + 26.0 * 26.0));
    let lc = l_c.map(|l| lc_curve.eval(l));
    // Pattern complexity and masking.
    let p_c = pattern_complexity(&y).gaussian(3, 1.0);
    let ct_curve = Curve::new(0.0, 9.0, 2304, |p| 0.3 * p.powf(2.7) / (p * p + 1.0));
    let c_t = p_c.map(|p| ct_curve.eval(p));
    // Edge protection.
    let edges = dilate_disk(&edges_by_height(&y, &mg), y.w, y.h, 3);
    let protect = Plane { w: y.w, h: y.h, data: edges.iter().map(|&e| if e { 0.0 } else { 1.0 }).collect() }
        .gaussian(5, 0.8);
    let pm = Plane {
        w: y.w,
        h: y.h,
        data: l_c.data.par_iter().zip(&c_t.data).zip(&protect.data).map(|((&l, &c), &e)| l * c * e).collect(),
    };
    let vm = lc.zip_map(&pm, f32::max);
    let jnd = la.zip_map(&vm, |a, v| namm(a, v, 0.3));
    WuComponents {
        luminance: JndMap::from_plane(la),
        contrast: JndMap::from_plane(lc),
        pattern: JndMap::from_plane(pm),
        complexity: JndMap::from_plane(p_c),
        edge_protection: JndMap::from_plane(protect),
        jnd: JndMap::from_plane(jnd),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tabulated_curves_match_powf() {
        let lc = Curve::new(0.0, 128.0, 4096, |l| 1.84 * l.powf(2.4) / (l * l + 676.0));
        let ct = Curve::new(0.0, 9.0, 2304, |p| 0.3 * p.powf(2.7) / (p * p + 1.0));
        for i in 0..10_000 {
            let l = i as f32 * 0.0127;
            let exact = 1.84 * l.powf(2.4) / (l * l + 676.0);
            assert!((lc.eval(l) - exact).abs() <= 1e-4 * (1.0 + exact), "L_c {l}");
            let p = i as f32 * 0.0009;
            let exact = 0.3 * p.powf(2.7) / (p * p + 1.0);
            assert!((ct.eval(p) - exact).abs() <= 1e-4 * (1.0 + exact), "P_c {p}");
        }
    }

    #[test]
    fn orientation_matches_atan2_folded() {
        for i in 0..720 {
            let t = (i as f32 * 0.5).to_radians();
            let (y, x) = (t.sin() * 7.0, t.cos() * 7.0);
            let exact = y.atan2(x).to_degrees().rem_euclid(180.0);
            let approx = orientation_degrees(y, x);
            let diff = (exact - approx).abs().min(180.0 - (exact - approx).abs());
            assert!(diff < 0.1, "angle {}: {exact} vs {approx}", i as f32 * 0.5);
        }
    }
}
