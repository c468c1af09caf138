//! Perceptual metrics with one signature, `fn(&Image, &Image) -> Result<f64>`: reference first,
//! distorted second; an error (never a panic) when sizes differ or an image is too small.
//!
//! | metric | scale | identical images | licence |
//! |---|---|---|---|
//! | [`psnr`] | dB, higher is better | +inf | ours |
//! | [`ssim`] | 0..1, higher is better | 1 | ours (Wang et al. 2004) |
//! | [`butteraugli`] | max-norm distance, lower is better, 1.0 = just noticeable side by side | 0 | `butteraugli` crate, BSD-3-Clause |
//! | [`butteraugli_3norm`] | libjxl's 3-norm of the same diffmap | 0 | BSD-3-Clause |
//! | [`ssimulacra2`] | -inf..100, higher is better; 90 visually lossless | 100 | `ssimulacra2` crate, BSD-2-Clause |
//!
//! Both external crates are permissively licensed and compatible with MIT/Apache-2.0 (dssim-core,
//! AGPL, is deliberately not used). Grayscale images are compared as RGB with equal channels.

use butteraugli::{ButteraugliParams, ButteraugliReference, Img, RGB8};
use ssimulacra2::{
    ColorPrimaries, Rgb, Ssimulacra2Reference, TransferCharacteristic, compute_frame_ssimulacra2,
};

use crate::pixel_jnd::{Plane, luma};
use crate::{ColorType, Error, Image, Result};

/// The metrics jndenc knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Metric {
    /// Peak signal-to-noise ratio over all channels.
    Psnr,
    /// Mean SSIM on BT.601 luma.
    Ssim,
    /// Butteraugli max-norm.
    Butteraugli,
    /// Butteraugli 3-norm.
    Butteraugli3Norm,
    /// SSIMULACRA 2.
    Ssimulacra2,
}

impl Metric {
    /// Every metric, in a stable order.
    pub const ALL: [Metric; 5] =
        [Metric::Psnr, Metric::Ssim, Metric::Butteraugli, Metric::Butteraugli3Norm, Metric::Ssimulacra2];

    /// The metric's value for `distorted` against `reference`.
    pub fn compute(self, reference: &Image, distorted: &Image) -> Result<f64> {
        match self {
            Metric::Psnr => psnr(reference, distorted),
            Metric::Ssim => ssim(reference, distorted),
            Metric::Butteraugli => butteraugli(reference, distorted),
            Metric::Butteraugli3Norm => butteraugli_3norm(reference, distorted),
            Metric::Ssimulacra2 => ssimulacra2(reference, distorted),
        }
    }

    /// True when larger values mean closer to the reference.
    pub fn higher_is_better(self) -> bool {
        matches!(self, Metric::Psnr | Metric::Ssim | Metric::Ssimulacra2)
    }

    /// Short name.
    pub fn name(self) -> &'static str {
        match self {
            Metric::Psnr => "psnr",
            Metric::Ssim => "ssim",
            Metric::Butteraugli => "butteraugli",
            Metric::Butteraugli3Norm => "butteraugli-3norm",
            Metric::Ssimulacra2 => "ssimulacra2",
        }
    }
}

fn same_shape(a: &Image, b: &Image) -> Result<()> {
    if (a.width(), a.height()) != (b.width(), b.height()) {
        return Err(Error::Mismatch(format!("{}x{} vs {}x{}", a.width(), a.height(), b.width(), b.height())));
    }
    Ok(())
}

fn rgb_bytes(image: &Image) -> std::borrow::Cow<'_, [u8]> {
    match image.color() {
        ColorType::Rgb => std::borrow::Cow::Borrowed(image.pixels()),
        ColorType::Gray => std::borrow::Cow::Owned(image.to_rgb().pixels().to_vec()),
    }
}

/// PSNR in dB over all channels (gray vs RGB compares the gray image replicated); +inf when equal.
pub fn psnr(reference: &Image, distorted: &Image) -> Result<f64> {
    same_shape(reference, distorted)?;
    let (a, b) = if reference.color() == distorted.color() {
        (std::borrow::Cow::Borrowed(reference.pixels()), std::borrow::Cow::Borrowed(distorted.pixels()))
    } else {
        (rgb_bytes(reference), rgb_bytes(distorted))
    };
    Ok(psnr_samples(&a, &b))
}

/// PSNR in dB of two equally long sample buffers (8-bit); +inf when they are equal. The one PSNR
/// formula of the workspace: [`psnr`] and the trainer's tables use it.
pub fn psnr_samples(a: &[u8], b: &[u8]) -> f64 {
    let sse: u64 = a
        .iter()
        .zip(b)
        .map(|(&x, &y)| {
            let d = i64::from(x) - i64::from(y);
            (d * d) as u64
        })
        .sum();
    if sse == 0 || a.is_empty() {
        return f64::INFINITY;
    }
    let mse = sse as f64 / a.len().min(b.len()) as f64;
    10.0 * (255.0f64 * 255.0 / mse).log10()
}

/// Mean SSIM (Wang et al. 2004) on BT.601 luma: 11x11 Gaussian window of sigma 1.5, K1 = 0.01,
/// K2 = 0.03, L = 255, symmetric borders, averaged over every pixel.
pub fn ssim(reference: &Image, distorted: &Image) -> Result<f64> {
    same_shape(reference, distorted)?;
    let (x, y) = (luma(reference), luma(distorted));
    let blur = |p: &Plane| p.gaussian(11, 1.5);
    let (mx, my) = (blur(&x), blur(&y));
    let xx = blur(&x.map(|v| v * v));
    let yy = blur(&y.map(|v| v * v));
    let xy = blur(&x.zip_map(&y, |a, b| a * b));
    let (c1, c2) = ((0.01f64 * 255.0).powi(2), (0.03f64 * 255.0).powi(2));
    let mut sum = 0.0f64;
    for i in 0..x.data.len() {
        let (ux, uy) = (f64::from(mx.data[i]), f64::from(my.data[i]));
        let sx = f64::from(xx.data[i]) - ux * ux;
        let sy = f64::from(yy.data[i]) - uy * uy;
        let sxy = f64::from(xy.data[i]) - ux * uy;
        sum += ((2.0 * ux * uy + c1) * (2.0 * sxy + c2)) / ((ux * ux + uy * uy + c1) * (sx + sy + c2));
    }
    Ok(sum / x.data.len() as f64)
}

fn butteraugli_error(e: butteraugli::ButteraugliError) -> Error {
    Error::Mismatch(format!("butteraugli: {e}"))
}

/// Butteraugli scores of one comparison.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ButteraugliScores {
    /// The max-norm (the classic score; 1.0 is the just-noticeable boundary).
    pub max_norm: f64,
    /// libjxl's 3-norm.
    pub pnorm3: f64,
}

/// A reference image prepared once for butteraugli, compared against many candidates (a quality
/// ladder) without redoing the reference's half of the work.
pub struct ButteraugliRef {
    kind: RefKind,
    width: u32,
    height: u32,
}

/// How a reference is held: butteraugli's precomputed planes (fast, about 400 bytes per pixel at
/// its peak), or only the pixels, compared strip by strip (bounded memory).
enum RefKind {
    Full(Box<ButteraugliReference>),
    Strips { pixels: Vec<RGB8>, width: usize, height: usize },
}

/// Rows above and below a strip that butteraugli processes but that do not count: its blurs and
/// filters reach about 25 rows at full resolution and 50 at half (butteraugli's own strip walker
/// uses the same 64).
const BUTTERAUGLI_HALO_ROWS: usize = 64;

/// Sums of the interior of strips' diffmaps, reduced as libjxl's 3-norm and the max-norm.
#[derive(Default)]
struct StripSums {
    max: f32,
    p3: f64,
    p6: f64,
    p12: f64,
    pixels: u64,
}

impl StripSums {
    fn add(&mut self, rows: &[f32]) {
        for &v in rows {
            self.max = self.max.max(v);
            let d3 = f64::from(v).powi(3);
            self.p3 += d3;
            self.p6 += d3 * d3;
            self.p12 += d3 * d3 * d3 * d3;
        }
        self.pixels += rows.len() as u64;
    }

    /// (max-norm, 3-norm): `((mean d^3)^(1/3) + (mean d^6)^(1/6) + (mean d^12)^(1/12)) / 3`.
    fn finish(&self) -> (f64, f64) {
        let n = self.pixels.max(1) as f64;
        let norm =
            ((self.p3 / n).powf(1.0 / 3.0) + (self.p6 / n).powf(1.0 / 6.0) + (self.p12 / n).powf(1.0 / 12.0))
                / 3.0;
        (f64::from(self.max), norm)
    }
}

/// butteraugli of two same-sized pictures, `rows` rows at a time: each strip is compared with
/// [`BUTTERAUGLI_HALO_ROWS`] more on each side and only its own rows of the diffmap are handed to
/// `visit`, top to bottom. Only
/// one strip's working planes exist at a time, and nothing the size of the whole picture is
/// allocated but the candidate's strip copy.
fn butteraugli_by_strips(
    reference: &[RGB8],
    distorted: &[u8],
    width: usize,
    height: usize,
    rows: usize,
    mut visit: impl FnMut(&[f32]),
) -> Result<()> {
    let params = ButteraugliParams::default().with_compute_diffmap(true);
    // The strips, top to bottom. Strip edges on even rows, so the half-resolution pass sees the same
    // pixel pairs; a last strip shorter than the halo is merged into the one before it.
    let mut strips = Vec::new();
    let mut y = 0;
    while y < height {
        let mut end = (y + rows).next_multiple_of(2).min(height);
        if height - end < BUTTERAUGLI_HALO_ROWS {
            end = height;
        }
        strips.push((y, end));
        y = end;
    }
    // One strip's own rows of the diffmap (its halo compared, then dropped).
    let strip = |&(y, end): &(usize, usize)| -> Result<Vec<f32>> {
        let (top, bottom) =
            (y.saturating_sub(BUTTERAUGLI_HALO_ROWS), (end + BUTTERAUGLI_HALO_ROWS).min(height));
        let window = bottom - top;
        let theirs: Vec<RGB8> = distorted[top * width * 3..bottom * width * 3]
            .chunks_exact(3)
            .map(|p| RGB8::new(p[0], p[1], p[2]))
            .collect();
        let result = butteraugli::butteraugli(
            Img::new(&reference[top * width..bottom * width], width, window),
            Img::new(theirs.as_slice(), width, window),
            &params,
        )
        .map_err(butteraugli_error)?;
        let diffmap = result.diffmap.ok_or_else(|| Error::Model("butteraugli returned no diffmap".into()))?;
        let (buf, stride) = (diffmap.buf(), diffmap.stride());
        let mut own = Vec::with_capacity((end - y) * width);
        for row in (y - top)..(end - top) {
            own.extend_from_slice(&buf[row * stride..row * stride + width]);
        }
        Ok(own)
    };
    // One strip at a time (butteraugli runs each on every thread): two at once were about 10 % faster
    // but needed twice the memory, about 160 bytes a pixel of a strip (`benches/metrics.rs`).
    for own in strips.iter().map(strip) {
        for row in own?.chunks_exact(width) {
            visit(row);
        }
    }
    Ok(())
}

/// butteraugli's smallest picture side.
const BUTTERAUGLI_MIN_SIDE: u32 = 8;

/// RGB bytes of `image` for butteraugli, with pictures narrower or lower than 8 pixels extended to 8
/// by repeating their last column and row (butteraugli refuses them; the repeated pixels carry the
/// same differences as the edge they copy). Returns the bytes and their size.
fn butteraugli_rgb(image: &Image) -> (std::borrow::Cow<'_, [u8]>, usize, usize) {
    let (w, h) = (image.width(), image.height());
    let rgb = rgb_bytes(image);
    if w >= BUTTERAUGLI_MIN_SIDE && h >= BUTTERAUGLI_MIN_SIDE {
        return (rgb, w as usize, h as usize);
    }
    let (pw, ph) = (w.max(BUTTERAUGLI_MIN_SIDE) as usize, h.max(BUTTERAUGLI_MIN_SIDE) as usize);
    let (w, h) = (w as usize, h as usize);
    let mut out = Vec::with_capacity(pw * ph * 3);
    for y in 0..ph {
        let row = &rgb[y.min(h - 1) * w * 3..][..w * 3];
        for x in 0..pw {
            out.extend_from_slice(&row[x.min(w - 1) * 3..][..3]);
        }
    }
    (std::borrow::Cow::Owned(out), pw, ph)
}

/// Pictures above this many pixels are compared strip by strip by butteraugli
/// ([`ButteraugliRef::new`]): memory bounded by the picture's width, at about twice the time per
/// comparison. (SSIMULACRA 2 compares strip by strip at every size: [`Ssimulacra2Ref::new`].)
pub const BUTTERAUGLI_STRIPS_ABOVE: u64 = 2_500_000;

/// Rows per strip of the strip-wise comparison (plus [`BUTTERAUGLI_HALO_ROWS`] on each side).
const BUTTERAUGLI_STRIP_ROWS: usize = 256;

impl ButteraugliRef {
    /// Prepares `reference` (pictures smaller than 8x8 are extended by repeating their edge).
    /// Pictures above [`BUTTERAUGLI_STRIPS_ABOVE`] pixels are compared strip by strip, which
    /// butteraugli computes to the same scores with memory bounded by the picture's width.
    pub fn new(reference: &Image) -> Result<Self> {
        Self::with_strips(reference, reference.pixel_count() > BUTTERAUGLI_STRIPS_ABOVE)
    }

    /// [`ButteraugliRef::new`] with the strip-wise comparison chosen by the caller.
    pub fn with_strips(reference: &Image, strips: bool) -> Result<Self> {
        let (rgb, w, h) = butteraugli_rgb(reference);
        let kind = if strips {
            let pixels = rgb.chunks_exact(3).map(|p| RGB8::new(p[0], p[1], p[2])).collect();
            RefKind::Strips { pixels, width: w, height: h }
        } else {
            RefKind::Full(Box::new(
                ButteraugliReference::new(&rgb, w, h, ButteraugliParams::default())
                    .map_err(butteraugli_error)?,
            ))
        };
        Ok(ButteraugliRef { kind, width: reference.width(), height: reference.height() })
    }

    /// Scores `distorted` against the prepared reference.
    pub fn compare(&self, distorted: &Image) -> Result<ButteraugliScores> {
        if (distorted.width(), distorted.height()) != (self.width, self.height) {
            return Err(Error::Mismatch(format!(
                "{}x{} vs {}x{}",
                self.width,
                self.height,
                distorted.width(),
                distorted.height()
            )));
        }
        let (rgb, _, _) = butteraugli_rgb(distorted);
        let result = match &self.kind {
            RefKind::Full(reference) => reference.compare(&rgb).map_err(butteraugli_error)?,
            RefKind::Strips { pixels, width, height } => {
                let mut sums = StripSums::default();
                butteraugli_by_strips(pixels, &rgb, *width, *height, BUTTERAUGLI_STRIP_ROWS, |row| {
                    sums.add(row)
                })?;
                let (max_norm, pnorm3) = sums.finish();
                return Ok(ButteraugliScores { max_norm, pnorm3 });
            }
        };
        Ok(ButteraugliScores { max_norm: result.score, pnorm3: result.pnorm_3 })
    }
}

/// Butteraugli max-norm distance (0 for identical images; 1.0 is the just-noticeable boundary).
pub fn butteraugli(reference: &Image, distorted: &Image) -> Result<f64> {
    same_shape(reference, distorted)?;
    Ok(ButteraugliRef::new(reference)?.compare(distorted)?.max_norm)
}

/// The largest butteraugli difference in each `side` x `side` block of a picture, on a grid from
/// the top left (the last column and row of blocks are cut short where the picture ends).
#[derive(Debug, Clone, PartialEq)]
pub struct BlockMax {
    /// Blocks per row.
    pub columns: u32,
    /// Rows of blocks.
    pub rows: u32,
    /// The blocks' side, in pixels.
    pub side: u32,
    /// Row by row, `columns * rows` values (1.0 is butteraugli's just-noticeable boundary).
    pub values: Vec<f32>,
}

/// Where the teacher finds the change: butteraugli's diffmap of `distorted` against `reference`,
/// reduced to its largest value per `side` x `side` block. Computed strip by strip and reduced as it
/// goes, so memory stays bounded by the picture's width, whatever its height.
pub fn butteraugli_block_max(reference: &Image, distorted: &Image, side: u32) -> Result<BlockMax> {
    same_shape(reference, distorted)?;
    if side == 0 {
        return Err(Error::Mismatch("a block side of 0".into()));
    }
    let (rgb, w, h) = butteraugli_rgb(reference);
    let pixels: Vec<RGB8> = rgb.chunks_exact(3).map(|p| RGB8::new(p[0], p[1], p[2])).collect();
    let (theirs, _, _) = butteraugli_rgb(distorted);
    let (width, height) = (reference.width() as usize, reference.height() as usize);
    let (columns, rows) = (reference.width().div_ceil(side), reference.height().div_ceil(side));
    let mut values = vec![0f32; columns as usize * rows as usize];
    let mut row = 0;
    butteraugli_by_strips(&pixels, &theirs, w, h, BUTTERAUGLI_STRIP_ROWS, |diffs| {
        // Pictures under 8 pixels a side were extended: only their own rows and columns count.
        if row < height {
            let blocks = &mut values[(row / side as usize) * columns as usize..][..columns as usize];
            for (x, &d) in diffs[..width].iter().enumerate() {
                let block = &mut blocks[x / side as usize];
                *block = block.max(d);
            }
        }
        row += 1;
    })?;
    Ok(BlockMax { columns, rows, side, values })
}

/// Butteraugli 3-norm (libjxl's aggregation of the same diffmap).
pub fn butteraugli_3norm(reference: &Image, distorted: &Image) -> Result<f64> {
    same_shape(reference, distorted)?;
    Ok(ButteraugliRef::new(reference)?.compare(distorted)?.pnorm3)
}

fn to_ssimulacra_rgb(image: &Image) -> Result<Rgb> {
    let rgb = rgb_bytes(image);
    let data: Vec<[f32; 3]> = rgb
        .chunks_exact(3)
        .map(|p| [p[0] as f32 / 255.0, p[1] as f32 / 255.0, p[2] as f32 / 255.0])
        .collect();
    Rgb::new(
        data,
        image.width() as usize,
        image.height() as usize,
        TransferCharacteristic::SRGB,
        ColorPrimaries::BT709,
    )
    .map_err(|e| Error::Mismatch(format!("ssimulacra2: {e:?}")))
}

/// SSIMULACRA 2 score (100 for identical images; 90 is visually lossless).
pub fn ssimulacra2(reference: &Image, distorted: &Image) -> Result<f64> {
    same_shape(reference, distorted)?;
    compute_frame_ssimulacra2(to_ssimulacra_rgb(reference)?, to_ssimulacra_rgb(distorted)?)
        .map_err(|e| Error::Mismatch(format!("ssimulacra2: {e}")))
}

/// An original held for SSIMULACRA 2, as [`ButteraugliRef`] is for butteraugli, compared against
/// many candidates by the vendored crate's fast path (`vendor/ssimulacra2/VENDORED.md`). By default
/// ([`Ssimulacra2Ref::new`]) only the original's 8-bit pixels are kept and each comparison computes
/// both sides strip by strip: 3 bytes a pixel held and about 13 to 30 at a comparison's peak, against
/// 48 and 100 with the original's side prepared once ([`Ssimulacra2Ref::with_strips`] `false`), at
/// 1.1-1.2 times the prepared comparison's time on an idle machine (the strips stay in cache) and
/// without the 35 ms a MP of preparing (`cargo bench -p jnd-model --bench metrics`). Prepared, scores
/// match [`ssimulacra2`] (the crate's own function) to 1e-9; strip by strip they differ from it by
/// the whole-picture recursion's rounding drift, within 0.1 (`tests/ssimulacra2_ref.rs`).
pub struct Ssimulacra2Ref {
    prepared: Ssimulacra2Reference,
    width: u32,
    height: u32,
}

impl Ssimulacra2Ref {
    /// Holds `reference` (at least 8x8) for comparisons strip by strip.
    pub fn new(reference: &Image) -> Result<Self> {
        Self::with_strips(reference, true)
    }

    /// [`Ssimulacra2Ref::new`], or with `strips` false the original's side prepared once (faster per
    /// comparison where memory is plentiful, and the crate's own scores).
    pub fn with_strips(reference: &Image, strips: bool) -> Result<Self> {
        let (w, h) = (reference.width() as usize, reference.height() as usize);
        let rgb = rgb_bytes(reference);
        let prepared = if strips {
            Ssimulacra2Reference::new_srgb8_strips(&rgb, w, h)
        } else {
            Ssimulacra2Reference::new_srgb8(&rgb, w, h)
        }
        .map_err(|e| Error::Mismatch(format!("ssimulacra2: {e}")))?;
        Ok(Self { prepared, width: reference.width(), height: reference.height() })
    }

    /// The SSIMULACRA 2 score of `distorted` (same size) against the prepared original.
    pub fn compare(&self, distorted: &Image) -> Result<f64> {
        if (distorted.width(), distorted.height()) != (self.width, self.height) {
            return Err(Error::Mismatch(format!(
                "{}x{} against a {}x{} reference",
                distorted.width(),
                distorted.height(),
                self.width,
                self.height
            )));
        }
        let (w, h) = (distorted.width() as usize, distorted.height() as usize);
        self.prepared
            .compare_srgb8(&rgb_bytes(distorted), w, h)
            .map_err(|e| Error::Mismatch(format!("ssimulacra2: {e}")))
    }

    /// Bytes the original holds (3 per pixel strip by strip; about 48 prepared).
    pub fn memory(&self) -> usize {
        self.prepared.memory()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn noise_image(seed: u32, w: u32, h: u32) -> Image {
        let mut s = seed;
        let pixels = (0..w * h * 3)
            .map(|_| {
                s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                (s >> 24) as u8
            })
            .collect();
        Image::new(w, h, ColorType::Rgb, pixels).unwrap()
    }

    #[test]
    fn identical_images_score_perfectly() {
        let img = noise_image(7, 32, 24);
        assert_eq!(psnr(&img, &img).unwrap(), f64::INFINITY);
        assert!((ssim(&img, &img).unwrap() - 1.0).abs() < 1e-9);
        assert_eq!(butteraugli(&img, &img).unwrap(), 0.0);
        assert_eq!(butteraugli_3norm(&img, &img).unwrap(), 0.0);
        assert!((ssimulacra2(&img, &img).unwrap() - 100.0).abs() < 1e-6);
    }

    #[test]
    fn psnr_of_a_known_error() {
        let a = Image::new(4, 4, ColorType::Gray, vec![100; 16]).unwrap();
        let b = Image::new(4, 4, ColorType::Gray, vec![110; 16]).unwrap();
        // MSE 100: 10 log10(65025 / 100) = 28.1308 dB.
        assert!((psnr(&a, &b).unwrap() - 28.130_803_6).abs() < 1e-6);
    }

    #[test]
    fn mismatched_images_are_errors_and_tiny_ones_are_extended_for_butteraugli() {
        let a = noise_image(1, 32, 24);
        let b = noise_image(1, 24, 32);
        for metric in Metric::ALL {
            assert!(metric.compute(&a, &b).is_err(), "{metric:?}");
        }
        let tiny = noise_image(1, 4, 3);
        assert!(ssimulacra2(&tiny, &tiny).is_err());
        // butteraugli needs 8x8: smaller pictures are extended by their edge, so they can be judged.
        assert_eq!(butteraugli(&tiny, &tiny).unwrap(), 0.0);
        let other = noise_image(2, 4, 3);
        assert!(butteraugli_3norm(&tiny, &other).unwrap() > 0.5);
        let one = Image::new(1, 1, ColorType::Gray, vec![90]).unwrap();
        assert_eq!(butteraugli(&one, &one).unwrap(), 0.0);
    }

    #[test]
    fn the_strip_wise_comparison_gives_the_whole_pictures_scores() {
        let a = noise_image(5, 96, 600);
        let b = noise_image(6, 96, 600);
        let whole = ButteraugliRef::with_strips(&a, false).unwrap().compare(&b).unwrap();
        let strips = ButteraugliRef::with_strips(&a, true).unwrap().compare(&b).unwrap();
        assert!((whole.pnorm3 - strips.pnorm3).abs() < 1e-4 * whole.pnorm3, "{whole:?} vs {strips:?}");
        assert!((whole.max_norm - strips.max_norm).abs() < 1e-4 * whole.max_norm, "{whole:?} vs {strips:?}");
    }

    #[test]
    fn more_noise_is_worse_on_every_metric() {
        let a = noise_image(3, 64, 48);
        let perturb = |amount: u8| {
            let pixels = a
                .pixels()
                .iter()
                .enumerate()
                .map(|(i, &v)| if i % 3 == 0 { v.saturating_add(amount) } else { v })
                .collect();
            Image::new(64, 48, ColorType::Rgb, pixels).unwrap()
        };
        let (small, large) = (perturb(4), perturb(40));
        for metric in Metric::ALL {
            let (s, l) = (metric.compute(&a, &small).unwrap(), metric.compute(&a, &large).unwrap());
            if metric.higher_is_better() {
                assert!(s > l, "{metric:?}: {s} vs {l}");
            } else {
                assert!(s < l, "{metric:?}: {s} vs {l}");
            }
        }
    }
}
