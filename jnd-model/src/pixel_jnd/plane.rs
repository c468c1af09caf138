//! A single-channel f32 plane and the filters the JND models are built from: symmetric padding,
//! separable and small 2-D correlations (rows in parallel, inner loops over contiguous x so they
//! vectorise), Canny edges and binary dilation.

use rayon::prelude::*;

/// One channel of f32 samples, row-major, no padding.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Plane {
    pub w: usize,
    pub h: usize,
    pub data: Vec<f32>,
}

/// MATLAB's 'symmetric' border: index -1 reads 0, -2 reads 1; n reads n-1.
#[inline]
fn mirror(i: isize, n: usize) -> usize {
    let n = n as isize;
    let mut i = i;
    loop {
        if i < 0 {
            i = -i - 1;
        } else if i >= n {
            i = 2 * n - i - 1;
        } else {
            return i as usize;
        }
    }
}

impl Plane {
    pub fn new(w: usize, h: usize, value: f32) -> Self {
        Plane { w, h, data: vec![value; w * h] }
    }

    #[cfg(test)]
    pub fn from_fn(w: usize, h: usize, f: impl Fn(usize, usize) -> f32 + Sync) -> Self {
        let mut p = Plane::new(w, h, 0.0);
        p.data.par_chunks_mut(w.max(1)).enumerate().for_each(|(y, row)| {
            for (x, v) in row.iter_mut().enumerate() {
                *v = f(x, y);
            }
        });
        p
    }

    #[inline]
    #[cfg(test)]
    pub fn at(&self, x: usize, y: usize) -> f32 {
        self.data[y * self.w + x]
    }

    /// A copy with `r` pixels of symmetric border on every side.
    pub fn padded(&self, r: usize) -> Plane {
        let (pw, ph) = (self.w + 2 * r, self.h + 2 * r);
        let mut out = Plane::new(pw, ph, 0.0);
        out.data.par_chunks_mut(pw).enumerate().for_each(|(py, row)| {
            let sy = mirror(py as isize - r as isize, self.h);
            let src = &self.data[sy * self.w..(sy + 1) * self.w];
            row[r..r + self.w].copy_from_slice(src);
            for i in 0..r {
                row[i] = src[mirror(i as isize - r as isize, self.w)];
                row[r + self.w + i] = src[mirror((self.w + i) as isize, self.w)];
            }
        });
        out
    }

    /// Correlation with a square `k x k` kernel (row-major), symmetric borders.
    pub fn correlate(&self, kernel: &[f32], k: usize) -> Plane {
        debug_assert_eq!(kernel.len(), k * k);
        let r = k / 2;
        let src = self.padded(r);
        let taps: Vec<(usize, usize, f32)> =
            (0..k * k).filter(|&t| kernel[t] != 0.0).map(|t| (t / k, t % k, kernel[t])).collect();
        let mut out = Plane::new(self.w, self.h, 0.0);
        let w = self.w;
        out.data.par_chunks_mut(w).enumerate().for_each(|(y, row)| {
            for &(i, j, c) in &taps {
                let s = &src.data[(y + i) * src.w + j..][..w];
                for (o, &v) in row.iter_mut().zip(s) {
                    *o += c * v;
                }
            }
        });
        out
    }

    /// Separable correlation: `kernel` along x, then along y (odd length), symmetric borders.
    /// The input is padded once; the horizontal pass covers the padded rows so the vertical pass
    /// needs no border logic.
    pub fn separable(&self, kernel: &[f32]) -> Plane {
        let r = kernel.len() / 2;
        let (w, h) = (self.w, self.h);
        let src = self.padded(r);
        let mut tmp = Plane::new(w, h + 2 * r, 0.0);
        tmp.data.par_chunks_mut(w).enumerate().for_each(|(py, row)| {
            let padded_row = &src.data[py * src.w..(py + 1) * src.w];
            for (j, &c) in kernel.iter().enumerate() {
                for (o, &v) in row.iter_mut().zip(&padded_row[j..j + w]) {
                    *o += c * v;
                }
            }
        });
        let mut out = Plane::new(w, h, 0.0);
        out.data.par_chunks_mut(w).enumerate().for_each(|(y, row)| {
            for (i, &c) in kernel.iter().enumerate() {
                for (o, &v) in row.iter_mut().zip(&tmp.data[(y + i) * w..(y + i + 1) * w]) {
                    *o += c * v;
                }
            }
        });
        out
    }

    /// Mean over a `(2r+1)^2` box.
    pub fn box_mean(&self, r: usize) -> Plane {
        let k = 2 * r + 1;
        self.separable(&vec![1.0 / k as f32; k])
    }

    /// Gaussian blur with MATLAB's `fspecial('gaussian', size, sigma)` kernel (normalised).
    pub fn gaussian(&self, size: usize, sigma: f32) -> Plane {
        self.separable(&gaussian_kernel(size, sigma))
    }

    pub fn map(&self, f: impl Fn(f32) -> f32 + Sync) -> Plane {
        Plane { w: self.w, h: self.h, data: self.data.par_iter().map(|&v| f(v)).collect() }
    }

    pub fn zip_map(&self, other: &Plane, f: impl Fn(f32, f32) -> f32 + Sync) -> Plane {
        debug_assert_eq!((self.w, self.h), (other.w, other.h));
        Plane {
            w: self.w,
            h: self.h,
            data: self.data.par_iter().zip(&other.data).map(|(&a, &b)| f(a, b)).collect(),
        }
    }

    pub fn max(&self) -> f32 {
        self.data.par_iter().copied().reduce(|| f32::NEG_INFINITY, f32::max)
    }
}

/// A normalised 1-D Gaussian of `size` taps.
pub(crate) fn gaussian_kernel(size: usize, sigma: f32) -> Vec<f32> {
    let c = (size as f32 - 1.0) / 2.0;
    let k: Vec<f32> = (0..size).map(|i| (-((i as f32 - c).powi(2)) / (2.0 * sigma * sigma)).exp()).collect();
    let sum: f32 = k.iter().sum();
    k.into_iter().map(|v| v / sum).collect()
}

/// Canny edge detection as MATLAB's `edge(I, 'canny', high)`: Gaussian smoothing with sigma sqrt(2),
/// central-difference gradients, magnitude normalised by its maximum, non-maximum suppression over
/// four directions, hysteresis with `low = 0.4 * high`. With `high = None` the threshold is MATLAB's
/// default: the magnitude below which 70 % of pixels lie (64-bin histogram).
pub(crate) fn canny(plane: &Plane, high: Option<f32>) -> Vec<bool> {
    let (w, h) = (plane.w, plane.h);
    let mut edges = vec![false; w * h];
    if w < 3 || h < 3 {
        return edges;
    }
    let smooth = plane.gaussian(9, std::f32::consts::SQRT_2);
    let gx = smooth.correlate(&[0.0, 0.0, 0.0, -0.5, 0.0, 0.5, 0.0, 0.0, 0.0], 3);
    let gy = smooth.correlate(&[0.0, -0.5, 0.0, 0.0, 0.0, 0.0, 0.0, 0.5, 0.0], 3);
    let mag = gx.zip_map(&gy, |a, b| (a * a + b * b).sqrt());
    let max = mag.max();
    if max <= 1e-6 {
        return edges;
    }
    // Thresholds are relative to the maximum magnitude; scale them rather than the magnitudes.
    let high = max
        * high.unwrap_or_else(|| {
            let mut hist = [0usize; 64];
            for &v in &mag.data {
                hist[((v / max * 63.0).round() as usize).min(63)] += 1;
            }
            let target = 0.7 * (w * h) as f32;
            let mut cum = 0usize;
            let mut idx = 63;
            for (i, &c) in hist.iter().enumerate() {
                cum += c;
                if cum as f32 > target {
                    idx = i + 1;
                    break;
                }
            }
            idx as f32 / 64.0
        });
    let low = 0.4 * high;
    // Non-maximum suppression.
    let mut thin = vec![0.0f32; w * h];
    thin.par_chunks_mut(w).enumerate().skip(1).take(h - 2).for_each(|(y, row)| {
        for (x, out) in row.iter_mut().enumerate().take(w - 1).skip(1) {
            let i = y * w + x;
            let m = mag.data[i];
            if m <= low {
                continue;
            }
            let (dx, dy) = (gx.data[i], gy.data[i]);
            let (ax, ay) = (dx.abs(), dy.abs());
            // Quantise the gradient direction to 0, 45, 90 or 135 degrees.
            let (ox, oy): (isize, isize) = if ay <= 0.4142 * ax {
                (1, 0)
            } else if ax <= 0.4142 * ay {
                (0, 1)
            } else if (dx > 0.0) == (dy > 0.0) {
                (1, 1)
            } else {
                (1, -1)
            };
            let a = mag.data[((y as isize + oy) as usize) * w + (x as isize + ox) as usize];
            let b = mag.data[((y as isize - oy) as usize) * w + (x as isize - ox) as usize];
            if m >= a && m >= b {
                *out = m;
            }
        }
    });
    // Hysteresis: grow from strong pixels through weak ones (8-connected).
    let mut stack: Vec<usize> = (0..w * h).filter(|&i| thin[i] > high).collect();
    for &i in &stack {
        edges[i] = true;
    }
    while let Some(i) = stack.pop() {
        let (x, y) = ((i % w) as isize, (i / w) as isize);
        for dy in -1..=1 {
            for dx in -1..=1 {
                let (nx, ny) = (x + dx, y + dy);
                if nx < 0 || ny < 0 || nx >= w as isize || ny >= h as isize {
                    continue;
                }
                let j = ny as usize * w + nx as usize;
                if !edges[j] && thin[j] > low {
                    edges[j] = true;
                    stack.push(j);
                }
            }
        }
    }
    edges
}

/// Binary dilation with a Euclidean disk of radius `r` (MATLAB's `strel('disk', r)` is close to
/// it for small r). Edges are sparse, so each set pixel stamps its disk rather than each pixel
/// searching its neighbourhood.
pub(crate) fn dilate_disk(mask: &[bool], w: usize, h: usize, r: usize) -> Vec<bool> {
    let ri = r as isize;
    // Half-widths of the disk per row offset.
    let spans: Vec<(isize, isize)> =
        (-ri..=ri).map(|dy| (dy, ((ri * ri - dy * dy) as f32).sqrt().floor() as isize)).collect();
    let mut out = vec![false; w * h];
    for (i, _) in mask.iter().enumerate().filter(|(_, m)| **m) {
        let (x, y) = ((i % w) as isize, (i / w) as isize);
        for &(dy, half) in &spans {
            let ny = y + dy;
            if ny < 0 || ny >= h as isize {
                continue;
            }
            let (x0, x1) = ((x - half).max(0) as usize, ((x + half) as usize).min(w - 1));
            out[ny as usize * w + x0..=ny as usize * w + x1].fill(true);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mirror_is_matlab_symmetric() {
        assert_eq!(mirror(-1, 5), 0);
        assert_eq!(mirror(-2, 5), 1);
        assert_eq!(mirror(5, 5), 4);
        assert_eq!(mirror(6, 5), 3);
        assert_eq!(mirror(2, 5), 2);
    }

    #[test]
    fn filters_preserve_constants_and_match_direct_sums() {
        let flat = Plane::new(17, 9, 42.0);
        for p in [flat.box_mean(2), flat.gaussian(7, 0.8), flat.correlate(&[1.0 / 9.0; 9], 3)] {
            assert!(p.data.iter().all(|&v| (v - 42.0).abs() < 1e-4));
        }
        let ramp = Plane::from_fn(9, 7, |x, y| (x * 3 + y * 5) as f32);
        let direct = ramp.correlate(&[1.0 / 25.0; 25], 5);
        let sep = ramp.box_mean(2);
        for (a, b) in direct.data.iter().zip(&sep.data) {
            assert!((a - b).abs() < 1e-3, "{a} vs {b}");
        }
        // Interior value of a linear ramp is unchanged by a symmetric box.
        assert!((sep.at(4, 3) - ramp.at(4, 3)).abs() < 1e-4);
    }

    #[test]
    fn dilation_stamps_a_disk() {
        let (w, h) = (9, 9);
        let mut mask = vec![false; w * h];
        mask[4 * w + 4] = true;
        let d = dilate_disk(&mask, w, h, 2);
        let count = d.iter().filter(|&&v| v).count();
        assert_eq!(count, 13, "radius-2 disk has 13 pixels");
        assert!(d[4 * w + 6] && d[2 * w + 4] && !d[2 * w + 2] && d[3 * w + 3]);
        // Clipped at the border without panicking.
        let mut corner = vec![false; w * h];
        corner[0] = true;
        assert_eq!(dilate_disk(&corner, w, h, 2).iter().filter(|&&v| v).count(), 6);
    }

    #[test]
    fn canny_finds_a_step_and_nothing_on_flat() {
        let step = Plane::from_fn(32, 32, |x, _| if x < 16 { 50.0 } else { 200.0 });
        let edges = canny(&step, None);
        let columns: Vec<usize> = (0..32).filter(|&x| edges[16 * 32 + x]).collect();
        assert!(!columns.is_empty() && columns.iter().all(|&x| (14..=17).contains(&x)), "{columns:?}");
        assert!(canny(&Plane::new(32, 32, 90.0), None).iter().all(|&e| !e));
    }
}
