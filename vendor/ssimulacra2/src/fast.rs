//! jndenc's addition: the arithmetic of SSIMULACRA 2 arranged for speed, operation for operation the
//! crate's (the same recursive Gaussian and constants, the same fused multiply-adds, `yuvxyb`'s XYB
//! conversion restated, the same maps), so the scores are the crate's. What changes is how it runs:
//! the passes in parallel (rows, column blocks, planes), the vertical pass over contiguous blocks and
//! the horizontal pass over 8 rows at once so that both vectorise, and, where the CPU has FMA, the hot
//! loops compiled for it (`mul_add` is one instruction
//! there instead of a library call per operation). The recursive filter's poles lie on the unit circle,
//! so it does not forgive rounding: an unfused `a * b + c` moves scores by up to 0.1; these loops keep
//! `mul_add`. The maps' sums are per row in parallel, which changes their order: scores agree with the
//! crate's to about 1e-9 (jndenc's tests).

use rayon::prelude::*;

use crate::blur::gaussian::consts;


/// Columns per block of the vertical pass (one contiguous slice of a row per step, so the inner loop
/// vectorises).
const BLOCK: usize = 64;

/// Rows of planes per parallel task.
const ROWS: usize = 16;

/// One row of the crate's horizontal pass, as the crate runs it (the reference of
/// [`horizontal_lanes_impl`]'s tests).
#[cfg(test)]
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

/// Rows the horizontal pass runs side by side, one per vector lane.
const LANES: usize = 8;

/// The crate's horizontal pass on up to [`LANES`] rows at once (`input` and `output` hold `input.len() /
/// width` rows): the rows are transposed so that each lane of the inner loop runs one row's recursion,
/// with that row's arithmetic, operation for operation (so the same bits), and the loop vectorises.
#[inline(always)]
fn horizontal_lanes_impl(input: &[f32], output: &mut [f32], width: usize) {
    let rows = input.len() / width;
    let mut columns = vec![[0f32; LANES]; width];
    for r in 0..rows {
        for (column, &v) in columns.iter_mut().zip(&input[r * width..(r + 1) * width]) {
            column[r] = v;
        }
    }
    let mut out = vec![[0f32; LANES]; width];
    let big_n = consts::RADIUS as isize;
    let w = width as isize;
    let zero = [0f32; LANES];
    let (mut p1, mut p3, mut p5) = ([0f32; LANES], [0f32; LANES], [0f32; LANES]);
    let (mut q1, mut q3, mut q5) = ([0f32; LANES], [0f32; LANES], [0f32; LANES]);
    let mut n = -big_n + 1;
    while n < w {
        let left = n - big_n - 1;
        let right = n + big_n - 1;
        let l = if left >= 0 { &columns[left as usize] } else { &zero };
        let r = if right < w { &columns[right as usize] } else { &zero };
        let mut total = [0f32; LANES];
        for i in 0..LANES {
            let sum = l[i] + r[i];
            let mut o1 = sum * consts::MUL_IN_1;
            let mut o3 = sum * consts::MUL_IN_3;
            let mut o5 = sum * consts::MUL_IN_5;
            o1 = consts::MUL_PREV2_1.mul_add(q1[i], o1);
            o3 = consts::MUL_PREV2_3.mul_add(q3[i], o3);
            o5 = consts::MUL_PREV2_5.mul_add(q5[i], o5);
            (q1[i], q3[i], q5[i]) = (p1[i], p3[i], p5[i]);
            o1 = consts::MUL_PREV_1.mul_add(p1[i], o1);
            o3 = consts::MUL_PREV_3.mul_add(p3[i], o3);
            o5 = consts::MUL_PREV_5.mul_add(p5[i], o5);
            (p1[i], p3[i], p5[i]) = (o1, o3, o5);
            total[i] = o1 + o3 + o5;
        }
        if n >= 0 {
            out[n as usize] = total;
        }
        n += 1;
    }
    for r in 0..rows {
        for (o, column) in output[r * width..(r + 1) * width].iter_mut().zip(&out) {
            *o = column[r];
        }
    }
}

/// The vertical pass over the columns `x0..x0 + cols` of `input` into `out` (one slice of `cols` per
/// row).
#[inline(always)]
fn vertical_block_impl(input: &[f32], out: &mut [&mut [f32]], width: usize, height: usize, x0: usize, cols: usize) {
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
            out[n as usize].copy_from_slice(&total[..cols]);
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
fn vertical_block_fma(input: &[f32], out: &mut [&mut [f32]], width: usize, height: usize, x0: usize, cols: usize) {
    vertical_block_impl(input, out, width, height, x0, cols);
}


#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn horizontal_lanes_fma(input: &[f32], output: &mut [f32], width: usize) {
    horizontal_lanes_impl(input, output, width);
}

/// The horizontal pass of `input.len() / width` rows into `output`.
fn horizontal_rows(input: &[f32], output: &mut [f32], width: usize, fma: bool) {
    for (i, o) in input.chunks(width * LANES).zip(output.chunks_mut(width * LANES)) {
        #[cfg(target_arch = "x86_64")]
        if fma {
            // SAFETY: `fma` is true only when the CPU has AVX2 and FMA (`has_fma`).
            unsafe { horizontal_lanes_fma(i, o, width) };
            continue;
        }
        horizontal_lanes_impl(i, o, width);
    }
}

fn vertical_block(input: &[f32], out: &mut [&mut [f32]], width: usize, height: usize, x0: usize, cols: usize, fma: bool) {
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
        .for_each(|(out, inp)| horizontal_rows(inp, out, width, fma));
    // The output's rows cut into the column blocks: each block's pass writes its own slices.
    let mut output = vec![0f32; width * height];
    let mut blocks: Vec<Vec<&mut [f32]>> = (0..width.div_ceil(BLOCK)).map(|_| Vec::with_capacity(height)).collect();
    for row in output.chunks_mut(width) {
        for (block, part) in blocks.iter_mut().zip(row.chunks_mut(BLOCK)) {
            block.push(part);
        }
    }
    blocks.par_iter_mut().enumerate().for_each(|(b, rows)| {
        let x0 = b * BLOCK;
        let cols = BLOCK.min(width - x0);
        vertical_block(&temp, rows, width, height, x0, cols, fma);
    });
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
        .map(|(a, b)| product(a, b))
        .collect();
    let product: [Vec<f32>; 3] = product.try_into().unwrap_or_default();
    blur(&product, width, height)
}

/// `yuvxyb` 0.4's opsin absorbance matrix and bias (`src/rgb_xyb.rs`, MIT, Copyright (c) 2022 Josh
/// Holmer), restated so the conversion below runs in this crate's FMA-compiled loop.
const OPSIN: [f32; 9] = {
    let (m02, m00, m12, m10, m20, m21) = (0.078f32, 0.30f32, 0.078f32, 0.23f32, 0.243_422_69_f32, 0.204_767_45_f32);
    [m00, 1.0 - m02 - m00, m02, m10, 1.0 - m12 - m10, m12, m20, m21, 1.0 - m20 - m21]
};
const OPSIN_BIAS: f32 = 0.003_793_073_4_f32;

/// `yuvxyb-math` 0.1's `cbrtf` with its default `fastmath` feature (MIT), itself a port of FreeBSD's
/// `s_cbrtf.c`:
///
/// Conversion to float by Ian Lance Taylor, Cygnus Support, ian@cygnus.com.
/// Debugged and optimized by Bruce D. Evans.
/// Copyright (C) 1993 by Sun Microsystems, Inc. All rights reserved.
/// Developed at SunPro, a Sun Microsystems, Inc. business.
/// Permission to use, copy, modify, and distribute this software is freely granted, provided that
/// this notice is preserved.
///
/// The same operations in the same order, so the same bits (`tests::cbrt_is_yuvxyb_math_s`).
#[inline(always)]
fn cbrtf(x: f32) -> f32 {
    // B1 = (127-127.0/3-0.03306235651)*2**23
    const B1: u32 = 709_958_130;
    let mut ui: u32 = x.to_bits();
    let hx: u32 = (ui & 0x7FFF_FFFF) / 3 + B1;
    ui &= 0x8000_0000;
    ui |= hx;
    let x = f64::from(x);
    let mut t = f64::from(f32::from_bits(ui));
    let mut r = t * t * t;
    t = t * (x + x + r) / (x + r + r);
    r = t * t * t;
    t = t * (x + x + r) / (x + r + r);
    t as f32
}

/// `yuvxyb`'s linear RGB to XYB of one pixel (its `linear_rgb_to_xyb`, operation for operation),
/// then the crate's positive offsets.
#[inline(always)]
fn positive_xyb(rgb: [f32; 3], neg_bias_cbrt: f32) -> [f32; 3] {
    let mut mixed = [0f32; 3];
    for (c, m) in mixed.iter_mut().enumerate() {
        let row = &OPSIN[c * 3..c * 3 + 3];
        let v = row[0].mul_add(rgb[0], row[1].mul_add(rgb[1], row[2].mul_add(rgb[2], OPSIN_BIAS)));
        *m = cbrtf(if v < 0.0 { 0.0 } else { v }) + neg_bias_cbrt;
    }
    let (x, y, b) = (0.5f32 * (mixed[0] - mixed[1]), 0.5f32 * (mixed[0] + mixed[1]), mixed[2]);
    [x.mul_add(14.0, 0.42), y + 0.01, (b - y) + 0.55]
}

/// One chunk of pixels into the three planes' slices for them.
#[inline(always)]
fn positive_xyb_chunk_impl(chunk: &[[f32; 3]], out: [&mut [f32]; 3]) {
    let neg_bias_cbrt = -cbrtf(OPSIN_BIAS);
    let [x, y, b] = out;
    for (((&pix, x), y), b) in chunk.iter().zip(x.iter_mut()).zip(y.iter_mut()).zip(b.iter_mut()) {
        [*x, *y, *b] = positive_xyb(pix, neg_bias_cbrt);
    }
}

/// [`positive_xyb_chunk_impl`] compiled for AVX2 and FMA (each `mul_add` one instruction, the same
/// fused result as the library call it is elsewhere).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn positive_xyb_chunk_fma(chunk: &[[f32; 3]], out: [&mut [f32]; 3]) {
    positive_xyb_chunk_impl(chunk, out);
}

fn positive_xyb_chunk(chunk: &[[f32; 3]], out: [&mut [f32]; 3], fma: bool) {
    #[cfg(target_arch = "x86_64")]
    if fma {
        // SAFETY: `fma` is true only when the CPU has AVX2 and FMA (`has_fma`).
        return unsafe { positive_xyb_chunk_fma(chunk, out) };
    }
    let _ = fma;
    positive_xyb_chunk_impl(chunk, out);
}

/// Linear RGB to the crate's positive XYB, as three planes (`yuvxyb`'s conversion, restated above, on
/// chunks of rows in parallel, then the crate's offsets).
pub(crate) fn positive_xyb_planes(linear: &[[f32; 3]], width: usize) -> [Vec<f32>; 3] {
    let fma = has_fma();
    let n = linear.len();
    let mut planes = [vec![0f32; n], vec![0f32; n], vec![0f32; n]];
    let [x, y, b] = &mut planes;
    let chunk = (width * ROWS).max(1);
    linear
        .par_chunks(chunk)
        .zip(x.par_chunks_mut(chunk))
        .zip(y.par_chunks_mut(chunk))
        .zip(b.par_chunks_mut(chunk))
        .for_each(|(((rgb, x), y), b)| positive_xyb_chunk(rgb, [x, y, b], fma));
    planes
}

/// One row of the crate's SSIM map: its sum and the sum of its fourth powers.
#[inline(always)]
fn ssim_row_impl(m1: &[f32], m2: &[f32], s11: &[f32], s22: &[f32], s12: &[f32]) -> (f64, f64) {
    const C2: f32 = 0.0009;
    let (mut a, mut b) = (0f64, 0f64);
    for x in 0..m1.len() {
        let (mu1, mu2) = (m1[x], m2[x]);
        let (mu11, mu22, mu12) = (mu1 * mu1, mu2 * mu2, mu1 * mu2);
        let mu_diff = mu1 - mu2;
        let num_m = mu_diff.mul_add(-mu_diff, 1.0f32);
        let num_s = 2f32.mul_add(s12[x] - mu12, C2);
        let denom_s = (s11[x] - mu11) + (s22[x] - mu22) + C2;
        let d = (1.0f64 - f64::from((num_m * num_s) / denom_s)).max(0.0);
        a += d;
        b += d.powi(4);
    }
    (a, b)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn ssim_row_fma(m1: &[f32], m2: &[f32], s11: &[f32], s22: &[f32], s12: &[f32]) -> (f64, f64) {
    ssim_row_impl(m1, m2, s11, s22, s12)
}

fn ssim_row(m1: &[f32], m2: &[f32], s11: &[f32], s22: &[f32], s12: &[f32], fma: bool) -> (f64, f64) {
    #[cfg(target_arch = "x86_64")]
    if fma {
        // SAFETY: `fma` is true only when the CPU has AVX2 and FMA (`has_fma`).
        return unsafe { ssim_row_fma(m1, m2, s11, s22, s12) };
    }
    let _ = fma;
    ssim_row_impl(m1, m2, s11, s22, s12)
}

/// Sums of one channel's SSIM map over the rows `rows` of `width`-wide planes: the sum and the sum of
/// fourth powers, rows summed in parallel.
pub(crate) fn ssim_sums(
    width: usize,
    rows: std::ops::Range<usize>,
    m1: &[f32],
    m2: &[f32],
    s11: &[f32],
    s22: &[f32],
    s12: &[f32],
) -> [f64; 2] {
    let fma = has_fma();
    let (sum, sum4) = rows
        .into_par_iter()
        .map(|y| {
            let r = y * width..(y + 1) * width;
            ssim_row(&m1[r.clone()], &m2[r.clone()], &s11[r.clone()], &s22[r.clone()], &s12[r], fma)
        })
        .reduce(|| (0.0, 0.0), |x, y| (x.0 + y.0, x.1 + y.1));
    [sum, sum4]
}

/// The crate's SSIM map averages of one channel (its 1-norm and 4-norm) from [`ssim_sums`] over
/// `pixels` pixels.
pub(crate) fn ssim_averages(sums: [f64; 2], pixels: usize) -> [f64; 2] {
    let per_pixel = 1.0 / pixels as f64;
    [per_pixel * sums[0], (per_pixel * sums[1]).sqrt().sqrt()]
}

/// The crate's SSIM map averages of one channel (its 1-norm and 4-norm), rows summed in parallel.
pub(crate) fn ssim_map_channel(
    width: usize,
    height: usize,
    m1: &[f32],
    m2: &[f32],
    s11: &[f32],
    s22: &[f32],
    s12: &[f32],
) -> [f64; 2] {
    ssim_averages(ssim_sums(width, 0..height, m1, m2, s11, s22, s12), width * height)
}

/// Sums of one channel's edge-difference maps over the rows `rows` of `width`-wide planes: artifacts
/// and detail lost, each summed and summed in fourth powers.
pub(crate) fn edge_sums(
    width: usize,
    rows: std::ops::Range<usize>,
    img1: &[f32],
    mu1: &[f32],
    img2: &[f32],
    mu2: &[f32],
) -> [f64; 4] {
    rows.into_par_iter()
        .map(|y| {
            let mut s = [0f64; 4];
            for x in y * width..(y + 1) * width {
                let d1 = (1.0 + f64::from((img2[x] - mu2[x]).abs())) / (1.0 + f64::from((img1[x] - mu1[x]).abs()))
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
        .reduce(|| [0.0; 4], |a, b| [a[0] + b[0], a[1] + b[1], a[2] + b[2], a[3] + b[3]])
}

/// The crate's edge-difference averages of one channel from [`edge_sums`] over `pixels` pixels.
pub(crate) fn edge_averages(sums: [f64; 4], pixels: usize) -> [f64; 4] {
    let per_pixel = 1.0 / pixels as f64;
    [
        per_pixel * sums[0],
        (per_pixel * sums[1]).sqrt().sqrt(),
        per_pixel * sums[2],
        (per_pixel * sums[3]).sqrt().sqrt(),
    ]
}

/// The crate's edge-difference averages of one channel (artifacts and detail lost, 1-norm and
/// 4-norm each).
pub(crate) fn edge_diff_channel(
    width: usize,
    height: usize,
    img1: &[f32],
    mu1: &[f32],
    img2: &[f32],
    mu2: &[f32],
) -> [f64; 4] {
    edge_averages(edge_sums(width, 0..height, img1, mu1, img2, mu2), width * height)
}

/// Rows `rows` (the first even) of a `width`-wide linear image halved as the crate's
/// `downscale_by_2` halves them (2x2 means in the same order, the last column repeated where the
/// width is odd, and the last of `rows` where their count is), appended to `out`.
pub(crate) fn downscale_rows(linear: &[[f32; 3]], width: usize, rows: std::ops::Range<usize>, out: &mut Vec<[f32; 3]>) {
    let out_w = width.div_ceil(2);
    let last = rows.end - 1;
    for oy in 0..(rows.end - rows.start).div_ceil(2) {
        for ox in 0..out_w {
            let mut pixel = [0f32; 3];
            for (c, value) in pixel.iter_mut().enumerate() {
                let mut sum = 0f32;
                for iy in 0..2 {
                    for ix in 0..2 {
                        let x = (ox * 2 + ix).min(width - 1);
                        let y = (rows.start + oy * 2 + iy).min(last);
                        sum += linear[y * width + x][c];
                    }
                }
                *value = sum * 0.25;
            }
            out.push(pixel);
        }
    }
}

/// The product of two planes.
pub(crate) fn product(a: &[f32], b: &[f32]) -> Vec<f32> {
    a.iter().zip(b).map(|(x, y)| x * y).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{LinearRgb, Xyb};

    /// The restated conversion gives `yuvxyb`'s bits (and so the crate's) on a grid of colours,
    /// including out-of-gamut and negative values, with and without FMA.
    #[test]
    fn positive_xyb_is_yuvxyb_s() {
        let mut pixels = Vec::new();
        for r in 0..=40 {
            for g in 0..=40 {
                for b in 0..=40 {
                    let v = |i: i32| (i as f32 / 32.0).powi(3) - 0.01;
                    pixels.push([v(r), v(g), v(b)]);
                }
            }
        }
        let width = 41;
        let expected: Vec<[f32; 3]> = Xyb::from(LinearRgb::new(pixels.clone(), width, pixels.len() / width).unwrap())
            .into_data()
            .into_iter()
            .map(|p| [p[0].mul_add(14.0, 0.42), p[1] + 0.01, (p[2] - p[1]) + 0.55])
            .collect();
        for fma in [false, has_fma()] {
            let n = pixels.len();
            let mut planes = [vec![0f32; n], vec![0f32; n], vec![0f32; n]];
            let [x, y, b] = &mut planes;
            positive_xyb_chunk(&pixels, [x, y, b], fma);
            for (i, e) in expected.iter().enumerate() {
                let got = [planes[0][i], planes[1][i], planes[2][i]];
                assert_eq!(got.map(f32::to_bits), e.map(f32::to_bits), "pixel {:?} (fma {fma})", pixels[i]);
            }
        }
    }

    /// The lanes give each row the bits of the crate's one-row pass (rows of a partial group too).
    #[test]
    fn horizontal_lanes_are_the_rows_pass() {
        let (width, rows) = (37, 11);
        let input: Vec<f32> = (0..width * rows).map(|i| ((i * 7919) % 1000) as f32 / 997.0 - 0.3).collect();
        let mut expected = vec![0f32; width * rows];
        for (i, o) in input.chunks(width).zip(expected.chunks_mut(width)) {
            horizontal_row_impl(i, o);
        }
        for fma in [false, has_fma()] {
            let mut got = vec![0f32; width * rows];
            horizontal_rows(&input, &mut got, width, fma);
            let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&got), bits(&expected), "fma {fma}");
        }
    }
}
