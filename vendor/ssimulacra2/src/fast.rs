//! jndenc's addition: the arithmetic of SSIMULACRA 2 arranged for speed, operation for operation the
//! crate's (the same recursive Gaussian and constants, the same fused multiply-adds, `yuvxyb`'s own
//! XYB conversion, the same maps), so the scores are the crate's. What changes is how it runs: the
//! passes in parallel (rows, column blocks, planes), the vertical pass over contiguous blocks that
//! vectorise, and, where the CPU has FMA, the hot loops compiled for it (`mul_add` is one instruction
//! there instead of a library call per operation). The recursive filter's poles lie on the unit circle,
//! so it does not forgive rounding: an unfused `a * b + c` moves scores by up to 0.1; these loops keep
//! `mul_add`. The maps' sums are per row in parallel, which changes their order: scores agree with the
//! crate's to about 1e-9 (jndenc's tests).

use rayon::prelude::*;

use crate::blur::gaussian::consts;
use crate::{LinearRgb, Xyb};

/// Columns per block of the vertical pass (one contiguous slice of a row per step, so the inner loop
/// vectorises).
const BLOCK: usize = 64;

/// Rows of planes per parallel task.
const ROWS: usize = 16;

#[inline(always)]
fn horizontal_row_impl(input: &[f32], output: &mut [f32]) {
    let width = input.len() as isize;
    let big_n = consts::RADIUS as isize;
    let (mut p1, mut p3, mut p5) = (0f32, 0f32, 0f32);
    let (mut q1, mut q3, mut q5) = (0f32, 0f32, 0f32);
    let mut n = -big_n + 1;
    while n < width {
        let left = n - big_n - 1;
        let right = n + big_n - 1;
        let l = if left >= 0 { input[left as usize] } else { 0.0 };
        let r = if right < width { input[right as usize] } else { 0.0 };
        let sum = l + r;
        let mut o1 = sum * consts::MUL_IN_1;
        let mut o3 = sum * consts::MUL_IN_3;
        let mut o5 = sum * consts::MUL_IN_5;
        o1 = consts::MUL_PREV2_1.mul_add(q1, o1);
        o3 = consts::MUL_PREV2_3.mul_add(q3, o3);
        o5 = consts::MUL_PREV2_5.mul_add(q5, o5);
        (q1, q3, q5) = (p1, p3, p5);
        o1 = consts::MUL_PREV_1.mul_add(p1, o1);
        o3 = consts::MUL_PREV_3.mul_add(p3, o3);
        o5 = consts::MUL_PREV_5.mul_add(p5, o5);
        (p1, p3, p5) = (o1, o3, o5);
        if n >= 0 {
            output[n as usize] = o1 + o3 + o5;
        }
        n += 1;
    }
}

/// The vertical pass over the columns `x0..x0 + cols` of `input` into `out` (`cols` wide, `height`
/// rows).
#[inline(always)]
fn vertical_block_impl(input: &[f32], out: &mut [f32], width: usize, height: usize, x0: usize, cols: usize) {
    let big_n = consts::RADIUS as isize;
    let mut prev = [[0f32; BLOCK]; 3];
    let mut prev2 = [[0f32; BLOCK]; 3];
    let zero = [0f32; BLOCK];
    let mut n = -big_n + 1;
    while n < height as isize {
        let top = n - big_n - 1;
        let bottom = n + big_n - 1;
        let top_row = if top >= 0 { &input[top as usize * width + x0..][..cols] } else { &zero[..cols] };
        let bottom_row =
            if bottom < height as isize { &input[bottom as usize * width + x0..][..cols] } else { &zero[..cols] };
        let mut sums = [0f32; BLOCK];
        for i in 0..cols {
            sums[i] = top_row[i] + bottom_row[i];
        }
        let mut total = [0f32; BLOCK];
        for (k, (mul_in, mul_prev)) in [
            (consts::VERT_MUL_IN_1, consts::VERT_MUL_PREV_1),
            (consts::VERT_MUL_IN_3, consts::VERT_MUL_PREV_3),
            (consts::VERT_MUL_IN_5, consts::VERT_MUL_PREV_5),
        ]
        .into_iter()
        .enumerate()
        {
            let (p, q) = (&mut prev[k], &mut prev2[k]);
            for i in 0..cols {
                let o = p[i].mul_add(mul_prev, q[i]);
                let o = sums[i].mul_add(mul_in, -o);
                q[i] = p[i];
                p[i] = o;
                total[i] += o;
            }
        }
        if n >= 0 {
            out[n as usize * cols..][..cols].copy_from_slice(&total[..cols]);
        }
        n += 1;
    }
}

/// Whether this CPU runs fused multiply-adds in hardware (then the hot loops are compiled for it).
fn has_fma() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("fma") && std::arch::is_x86_feature_detected!("avx2")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn horizontal_row_fma(input: &[f32], output: &mut [f32]) {
    horizontal_row_impl(input, output);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn vertical_block_fma(input: &[f32], out: &mut [f32], width: usize, height: usize, x0: usize, cols: usize) {
    vertical_block_impl(input, out, width, height, x0, cols);
}

fn horizontal_row(input: &[f32], output: &mut [f32], fma: bool) {
    #[cfg(target_arch = "x86_64")]
    if fma {
        // SAFETY: `fma` is true only when the CPU has AVX2 and FMA (`has_fma`).
        return unsafe { horizontal_row_fma(input, output) };
    }
    let _ = fma;
    horizontal_row_impl(input, output);
}

fn vertical_block(input: &[f32], out: &mut [f32], width: usize, height: usize, x0: usize, cols: usize, fma: bool) {
    #[cfg(target_arch = "x86_64")]
    if fma {
        // SAFETY: `fma` is true only when the CPU has AVX2 and FMA (`has_fma`).
        return unsafe { vertical_block_fma(input, out, width, height, x0, cols) };
    }
    let _ = fma;
    vertical_block_impl(input, out, width, height, x0, cols);
}

/// The crate's recursive Gaussian (sigma 1.5) of one `width` x `height` plane.
pub(crate) fn blur_plane(input: &[f32], width: usize, height: usize) -> Vec<f32> {
    let fma = has_fma();
    let mut temp = vec![0f32; width * height];
    temp.par_chunks_mut(width * ROWS)
        .zip(input.par_chunks(width * ROWS))
        .for_each(|(out, inp)| {
            for (o, i) in out.chunks_exact_mut(width).zip(inp.chunks_exact(width)) {
                horizontal_row(i, o, fma);
            }
        });
    let blocks: Vec<(usize, Vec<f32>)> = (0..width.div_ceil(BLOCK))
        .into_par_iter()
        .map(|b| {
            let x0 = b * BLOCK;
            let cols = BLOCK.min(width - x0);
            let mut out = vec![0f32; cols * height];
            vertical_block(&temp, &mut out, width, height, x0, cols, fma);
            (x0, out)
        })
        .collect();
    let mut output = vec![0f32; width * height];
    for (x0, block) in blocks {
        let cols = block.len() / height;
        for (y, row) in block.chunks_exact(cols).enumerate() {
            output[y * width + x0..][..cols].copy_from_slice(row);
        }
    }
    output
}

/// The three planes blurred, in parallel.
pub(crate) fn blur(planes: &[Vec<f32>; 3], width: usize, height: usize) -> [Vec<f32>; 3] {
    let mut out: Vec<Vec<f32>> =
        planes.par_iter().map(|p| blur_plane(p, width, height)).collect();
    let c = out.pop().unwrap_or_default();
    let b = out.pop().unwrap_or_default();
    let a = out.pop().unwrap_or_default();
    [a, b, c]
}

/// The planes' product, blurred.
pub(crate) fn blur_product(a: &[Vec<f32>; 3], b: &[Vec<f32>; 3], width: usize, height: usize) -> [Vec<f32>; 3] {
    let product: Vec<Vec<f32>> = a
        .par_iter()
        .zip(b.par_iter())
        .map(|(a, b)| a.iter().zip(b).map(|(x, y)| x * y).collect())
        .collect();
    let product: [Vec<f32>; 3] = [product[0].clone(), product[1].clone(), product[2].clone()];
    blur(&product, width, height)
}

/// Linear RGB to the crate's positive XYB, as three planes (`yuvxyb`'s conversion on chunks of rows
/// in parallel, then the crate's offsets).
pub(crate) fn positive_xyb_planes(linear: &[[f32; 3]], width: usize) -> [Vec<f32>; 3] {
    let xyb: Vec<[f32; 3]> = linear
        .par_chunks(width * ROWS)
        .flat_map_iter(|chunk| {
            let rows = chunk.len() / width;
            match LinearRgb::new(chunk.to_vec(), width, rows) {
                Ok(linear) => Xyb::from(linear).data().to_vec(),
                Err(_) => Vec::new(),
            }
        })
        .collect();
    let mut planes = [Vec::with_capacity(xyb.len()), Vec::with_capacity(xyb.len()), Vec::with_capacity(xyb.len())];
    for pix in xyb {
        planes[0].push(pix[0].mul_add(14.0, 0.42));
        planes[1].push(pix[1] + 0.01);
        planes[2].push((pix[2] - pix[1]) + 0.55);
    }
    planes
}

/// The crate's SSIM map averages (1-norm and 4-norm per channel), rows summed in parallel.
#[allow(clippy::too_many_arguments)]
pub(crate) fn ssim_map(
    width: usize,
    height: usize,
    m1: &[Vec<f32>; 3],
    m2: &[Vec<f32>; 3],
    s11: &[Vec<f32>; 3],
    s22: &[Vec<f32>; 3],
    s12: &[Vec<f32>; 3],
) -> [f64; 6] {
    const C2: f32 = 0.0009;
    let per_pixel = 1.0 / (width * height) as f64;
    let mut out = [0f64; 6];
    for c in 0..3 {
        let (sum, sum4) = (0..height)
            .into_par_iter()
            .map(|y| {
                let r = y * width..(y + 1) * width;
                let (mut a, mut b) = (0f64, 0f64);
                for x in r {
                    let (mu1, mu2) = (m1[c][x], m2[c][x]);
                    let (mu11, mu22, mu12) = (mu1 * mu1, mu2 * mu2, mu1 * mu2);
                    let mu_diff = mu1 - mu2;
                    let num_m = mu_diff.mul_add(-mu_diff, 1.0f32);
                    let num_s = 2f32.mul_add(s12[c][x] - mu12, C2);
                    let denom_s = (s11[c][x] - mu11) + (s22[c][x] - mu22) + C2;
                    let d = (1.0f64 - f64::from((num_m * num_s) / denom_s)).max(0.0);
                    a += d;
                    b += d.powi(4);
                }
                (a, b)
            })
            .reduce(|| (0.0, 0.0), |x, y| (x.0 + y.0, x.1 + y.1));
        out[c * 2] = per_pixel * sum;
        out[c * 2 + 1] = (per_pixel * sum4).sqrt().sqrt();
    }
    out
}

/// The crate's edge-difference averages (artifacts and detail lost, 1-norm and 4-norm per channel).
pub(crate) fn edge_diff_map(
    width: usize,
    height: usize,
    img1: &[Vec<f32>; 3],
    mu1: &[Vec<f32>; 3],
    img2: &[Vec<f32>; 3],
    mu2: &[Vec<f32>; 3],
) -> [f64; 12] {
    let per_pixel = 1.0 / (width * height) as f64;
    let mut out = [0f64; 12];
    for c in 0..3 {
        let sums = (0..height)
            .into_par_iter()
            .map(|y| {
                let mut s = [0f64; 4];
                for x in y * width..(y + 1) * width {
                    let d1 = (1.0 + f64::from((img2[c][x] - mu2[c][x]).abs()))
                        / (1.0 + f64::from((img1[c][x] - mu1[c][x]).abs()))
                        - 1.0;
                    let artifact = d1.max(0.0);
                    let lost = (-d1).max(0.0);
                    s[0] += artifact;
                    s[1] += artifact.powi(4);
                    s[2] += lost;
                    s[3] += lost.powi(4);
                }
                s
            })
            .reduce(|| [0.0; 4], |a, b| [a[0] + b[0], a[1] + b[1], a[2] + b[2], a[3] + b[3]]);
        out[c * 4] = per_pixel * sums[0];
        out[c * 4 + 1] = (per_pixel * sums[1]).sqrt().sqrt();
        out[c * 4 + 2] = per_pixel * sums[2];
        out[c * 4 + 3] = (per_pixel * sums[3]).sqrt().sqrt();
    }
    out
}
