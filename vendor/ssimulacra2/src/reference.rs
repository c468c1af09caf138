//! jndenc's addition to this vendored crate: the source image's side of SSIMULACRA 2 prepared once
//! (its linear-light pyramid in positive XYB, and the blurred mean and variance of each plane at each
//! scale), so that many distorted candidates of one source cost only their own side: three blurs per
//! plane and scale instead of five, computed by `fast.rs` (the passes in parallel, no per-operation
//! `mul_add` calls). 8-bit sRGB input is linearised through a table built from `yuvxyb`'s own transfer
//! function. Scores match `compute_frame_ssimulacra2` to float rounding (jndenc's tests bound it).

use std::sync::OnceLock;

use crate::fast;
use crate::strips::{self, Side};
use crate::{
    ColorPrimaries, LinearRgb, Msssim, MsssimScale, NUM_SCALES, Rgb, Ssimulacra2Error, TransferCharacteristic,
    downscale_by_2,
};

/// One scale of the source: its planes in positive XYB, their blurred means and squares.
struct SourceScale {
    width: usize,
    height: usize,
    img: [Vec<f32>; 3],
    mu: [Vec<f32>; 3],
    sigma_sq: [Vec<f32>; 3],
}

/// A source image prepared for SSIMULACRA 2: compare any number of distorted versions with
/// [`Ssimulacra2Reference::compare`] or [`Ssimulacra2Reference::compare_srgb8`].
pub struct Ssimulacra2Reference {
    width: usize,
    height: usize,
    source: Source,
}

/// How the source is held.
enum Source {
    /// Its pyramid prepared (about 48 bytes a pixel): each comparison computes only its own side.
    Prepared(Vec<SourceScale>),
    /// Its 8-bit sRGB only (3 bytes a pixel): each comparison computes both sides, strip by strip
    /// (`strips.rs`).
    Strips(Vec<u8>),
}

/// `yuvxyb`'s sRGB transfer function at the 256 8-bit levels.
fn srgb8_table() -> &'static [f32; 256] {
    static TABLE: OnceLock<[f32; 256]> = OnceLock::new();
    TABLE.get_or_init(|| {
        let levels: Vec<[f32; 3]> = (0..256).map(|v| [v as f32 / 255.0; 3]).collect();
        let mut table = [0f32; 256];
        let rgb = Rgb::new(levels, 256, 1, TransferCharacteristic::SRGB, ColorPrimaries::BT709);
        if let Some(linear) = rgb.ok().and_then(|rgb| LinearRgb::try_from(rgb).ok()) {
            for (t, p) in table.iter_mut().zip(linear.data()) {
                *t = p[0];
            }
        }
        table
    })
}

/// Interleaved 8-bit sRGB as linear light.
fn linear_from_srgb8(rgb: &[u8], width: usize, height: usize) -> Result<LinearRgb, Ssimulacra2Error> {
    if rgb.len() != width * height * 3 {
        return Err(Ssimulacra2Error::LinearRgbConversionFailed);
    }
    let table = srgb8_table();
    let data = rgb
        .chunks_exact(3)
        .map(|p| [table[usize::from(p[0])], table[usize::from(p[1])], table[usize::from(p[2])]])
        .collect();
    LinearRgb::new(data, width, height).map_err(|_| Ssimulacra2Error::LinearRgbConversionFailed)
}

impl Ssimulacra2Reference {
    /// Prepares `source`.
    ///
    /// # Errors
    /// As [`crate::compute_frame_ssimulacra2`]: an image that cannot be converted, or one smaller
    /// than 8x8.
    pub fn new<T>(source: T) -> Result<Self, Ssimulacra2Error>
    where
        LinearRgb: TryFrom<T>,
    {
        let Ok(linear) = LinearRgb::try_from(source) else {
            return Err(Ssimulacra2Error::LinearRgbConversionFailed);
        };
        Self::from_linear(linear)
    }

    /// Prepares interleaved 8-bit sRGB (BT.709 primaries) of `width` x `height`.
    ///
    /// # Errors
    /// A buffer of another length, or a picture smaller than 8x8.
    pub fn new_srgb8(rgb: &[u8], width: usize, height: usize) -> Result<Self, Ssimulacra2Error> {
        Self::from_linear(linear_from_srgb8(rgb, width, height)?)
    }

    /// Holds interleaved 8-bit sRGB (BT.709 primaries) of `width` x `height` as it is, for comparisons
    /// strip by strip (`strips.rs`): 3 bytes a pixel held and, during a comparison, one strip's planes
    /// (bounded by the width; against 48 held and about 52 more prepared), in exchange for computing
    /// the source's side on every comparison. Scores match the prepared source's up to the
    /// whole-picture recursion's rounding drift (`VENDORED.md`).
    ///
    /// # Errors
    /// A buffer of another length, or a picture smaller than 8x8.
    pub fn new_srgb8_strips(rgb: &[u8], width: usize, height: usize) -> Result<Self, Ssimulacra2Error> {
        if rgb.len() != width * height * 3 {
            return Err(Ssimulacra2Error::LinearRgbConversionFailed);
        }
        if width < 8 || height < 8 {
            return Err(Ssimulacra2Error::InvalidImageSize);
        }
        Ok(Self { width, height, source: Source::Strips(rgb.to_vec()) })
    }

    fn from_linear(mut linear: LinearRgb) -> Result<Self, Ssimulacra2Error> {
        let (full_width, full_height) = (linear.width(), linear.height());
        if full_width < 8 || full_height < 8 {
            return Err(Ssimulacra2Error::InvalidImageSize);
        }
        let mut scales = Vec::with_capacity(NUM_SCALES);
        let (mut width, mut height) = (full_width, full_height);
        for scale in 0..NUM_SCALES {
            if width < 8 || height < 8 {
                break;
            }
            if scale > 0 {
                linear = downscale_by_2(&linear);
                width = linear.width();
                height = linear.height();
            }
            let img = fast::positive_xyb_planes(linear.data(), width);
            let (sigma_sq, mu) =
                rayon::join(|| fast::blur_product(&img, &img, width, height), || fast::blur(&img, width, height));
            scales.push(SourceScale { width, height, img, mu, sigma_sq });
        }
        Ok(Self { width: full_width, height: full_height, source: Source::Prepared(scales) })
    }

    /// The SSIMULACRA 2 score of `distorted` against the prepared source.
    ///
    /// # Errors
    /// An image that cannot be converted, or of another size than the source.
    pub fn compare<U>(&self, distorted: U) -> Result<f64, Ssimulacra2Error>
    where
        LinearRgb: TryFrom<U>,
    {
        let Ok(linear) = LinearRgb::try_from(distorted) else {
            return Err(Ssimulacra2Error::LinearRgbConversionFailed);
        };
        self.compare_linear(linear)
    }

    /// The SSIMULACRA 2 score of interleaved 8-bit sRGB against the prepared source.
    ///
    /// # Errors
    /// A buffer of another length or size than the source's.
    pub fn compare_srgb8(&self, rgb: &[u8], width: usize, height: usize) -> Result<f64, Ssimulacra2Error> {
        if let Source::Strips(source) = &self.source {
            if width != self.width || height != self.height {
                return Err(Ssimulacra2Error::NonMatchingImageDimensions);
            }
            if rgb.len() != width * height * 3 {
                return Err(Ssimulacra2Error::LinearRgbConversionFailed);
            }
            let table = srgb8_table();
            let msssim = strips::compare(Side::Srgb8(source, table), Side::Srgb8(rgb, table), width, height);
            return Ok(msssim.score());
        }
        self.compare_linear(linear_from_srgb8(rgb, width, height)?)
    }

    fn compare_linear(&self, mut linear: LinearRgb) -> Result<f64, Ssimulacra2Error> {
        if linear.width() != self.width || linear.height() != self.height {
            return Err(Ssimulacra2Error::NonMatchingImageDimensions);
        }
        let scales = match &self.source {
            Source::Prepared(scales) => scales,
            Source::Strips(source) => {
                let source = Side::Srgb8(source, srgb8_table());
                let msssim = strips::compare(source, Side::Linear(linear.data()), self.width, self.height);
                return Ok(msssim.score());
            }
        };
        let mut msssim = Msssim::default();
        for (scale, source) in scales.iter().enumerate() {
            if scale > 0 {
                linear = downscale_by_2(&linear);
            }
            let (width, height) = (source.width, source.height);
            let img = fast::positive_xyb_planes(linear.data(), width);
            // Channel by channel (the maps are per channel): only one channel's three blurred planes
            // exist at a time, and the three blurs of a channel run side by side.
            let (mut avg_ssim, mut avg_edgediff) = ([0f64; 6], [0f64; 12]);
            for c in 0..3 {
                let (mu2, (sigma2_sq, sigma12)) = rayon::join(
                    || fast::blur_plane(&img[c], width, height),
                    || {
                        rayon::join(
                            || fast::blur_plane(&fast::product(&img[c], &img[c]), width, height),
                            || fast::blur_plane(&fast::product(&source.img[c], &img[c]), width, height),
                        )
                    },
                );
                let (ssim, edge) = rayon::join(
                    || {
                        fast::ssim_map_channel(
                            width,
                            height,
                            &source.mu[c],
                            &mu2,
                            &source.sigma_sq[c],
                            &sigma2_sq,
                            &sigma12,
                        )
                    },
                    || fast::edge_diff_channel(width, height, &source.img[c], &source.mu[c], &img[c], &mu2),
                );
                avg_ssim[c * 2..c * 2 + 2].copy_from_slice(&ssim);
                avg_edgediff[c * 4..c * 4 + 4].copy_from_slice(&edge);
            }
            msssim.scales.push(MsssimScale { avg_ssim, avg_edgediff });
        }
        Ok(msssim.score())
    }

    /// Bytes the prepared source holds (nine planes of `f32` per scale, or the 8-bit pixels for
    /// comparisons strip by strip).
    pub fn memory(&self) -> usize {
        match &self.source {
            Source::Prepared(scales) => scales.iter().map(|s| 9 * 4 * s.width * s.height).sum(),
            Source::Strips(rgb) => rgb.len(),
        }
    }
}
