//! JPEG's 8x8 forward DCT-II with the standard's normalisation (orthonormal: a flat block of level `p`
//! gives DC `8p`, and the sum of squares is kept), the transform JPEG's quantisation tables step.

use std::sync::OnceLock;

fn cosines() -> &'static [[f32; 8]; 8] {
    static COS: OnceLock<[[f32; 8]; 8]> = OnceLock::new();
    COS.get_or_init(|| {
        let mut table = [[0.0f32; 8]; 8];
        for (u, row) in table.iter_mut().enumerate() {
            let c = if u == 0 { (0.125f64).sqrt() } else { 0.5 };
            for (x, value) in row.iter_mut().enumerate() {
                *value = (c * ((2 * x + 1) as f64 * u as f64 * std::f64::consts::PI / 16.0).cos()) as f32;
            }
        }
        table
    })
}

/// The DCT of one 8x8 block (row-major samples in, coefficients in natural order out: index
/// `v * 8 + u` for vertical frequency `v`, horizontal `u`).
pub fn forward_8x8(block: &[f32; 64]) -> [f32; 64] {
    let cos = cosines();
    let mut rows = [0.0f32; 64];
    for y in 0..8 {
        for u in 0..8 {
            rows[y * 8 + u] = (0..8).map(|x| cos[u][x] * block[y * 8 + x]).sum();
        }
    }
    let mut out = [0.0f32; 64];
    for v in 0..8 {
        for u in 0..8 {
            out[v * 8 + u] = (0..8).map(|y| cos[v][y] * rows[y * 8 + u]).sum();
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flat_block_has_only_dc_and_energy_is_kept() {
        let flat = forward_8x8(&[3.0; 64]);
        assert!((flat[0] - 24.0).abs() < 1e-4);
        assert!(flat[1..].iter().all(|c| c.abs() < 1e-4));
        let ramp: [f32; 64] = std::array::from_fn(|i| (i % 8) as f32 - (i / 8) as f32 * 0.5);
        let energy = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>();
        assert!((energy(&forward_8x8(&ramp)) - energy(&ramp)).abs() < 1e-2);
        // A horizontal ramp puts its AC energy in row v = 0.
        let horizontal: [f32; 64] = std::array::from_fn(|i| (i % 8) as f32);
        let c = forward_8x8(&horizontal);
        assert!(c[1].abs() > 1.0 && c[8].abs() < 1e-4);
    }
}
