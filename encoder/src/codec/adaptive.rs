//! Per-block quantisation from a JND map, on top of the plain encode, written as a standard JPEG.
//!
//! JPEG has one quantisation table per component, so per-block control is done by choosing the
//! coefficients themselves (as jpegli's adaptive quantisation and guetzli do). This module starts from
//! what the plain encoder writes: mozjpeg with every switch it was given (trellis quantisation, the
//! base tables, sampling, colour space, smoothing), read back with `jpeg_read_coefficients`. Blocks the
//! map allows more error are quantised again, coarser, in the coefficient domain; the result goes out
//! through `jpeg_write_coefficients` (optimised Huffman tables, optionally progressive), as jpegtran
//! writes. Any decoder reads it.
//!
//! Blocks the map leaves alone keep the plain encode's coefficients, trellis decisions included; a map
//! that moves no block returns the plain encode itself, byte for byte. So the map can only remove
//! information from the plain encode, never add cost to the blocks it does not touch.
//!
//! ## From JND to per-block strength
//!
//! For a block of component `c` with mean JND `J` over the pixels it covers (8-bit code values), the
//! block's AC steps are scaled by
//!
//! ```text
//! s = max(1, 2 * J / T_rms)
//! ```
//!
//! where `T_rms` is the root-mean-square of the 63 AC steps of the table the map is measured against:
//! the block's AC steps become `s * T[k]`, so their RMS is `2 * J`, the DMV-JND paper's "quantisation
//! step about twice the JND", in the units of the base table. Because the DCT is orthonormal, uniform
//! quantisation with steps `s * T[k]` gives a pixel RMS error of about `s * T_rms / sqrt(12) = 0.58 J`.
//!
//! - A scaled block's AC levels `L` (in base steps) are quantised again with step `s` and a dead zone:
//!   `floor(|L| / s + 0.38)` scaled steps (under 0.62 steps zero, as jpegli's dead zone; plain rounding
//!   zeroes under 0.5), written back in base steps and never above `|L|`, so no coefficient grows and a
//!   coefficient the trellis zeroed stays zero.
//! - DC keeps the base step in every block, so flat areas never band.
//! - Luma is measured against the luma table. Chroma blocks (Cb, Cr) are measured against the chroma
//!   table with the chroma map when one is given ([`encode_adaptive_components`]; the DMV-JND's signed
//!   RGB JND through JFIF's matrix, `jnd_model::dmvjnd::ComponentJnd`), and otherwise take the luma
//!   map against the luma table over the pixels they cover (the mean scale of those luma blocks).

use jnd_model::JndMap;
use jnd_model::dmvjnd::{PixelGradients, Plane};
use mozjpeg_sys as ffi;

use super::{Codec, Encoded, JpegColor, JpegOptions, MozJpeg, Restart};
use crate::libjpeg::{Compressor, Decompressor, guarded};
use crate::{Error, Image, Result};

/// Dead zone of scaled blocks, in scaled steps.
pub const DEAD_ZONE: f32 = 0.62;

/// Settings of the per-block encoder: the plain encoder's options and the base quality. Every cjpeg
/// switch mozjpeg honours is honoured, since the per-block pass starts from mozjpeg's own encode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdaptiveOptions {
    jpeg: JpegOptions,
    quality: u8,
}

impl AdaptiveOptions {
    /// The per-block encoder for cjpeg-style `options` at base `quality` (1..=100), validated once.
    pub fn new(jpeg: JpegOptions, quality: u8) -> Result<Self> {
        if !(1..=100).contains(&quality) {
            return Err(Error::Parameter(format!("quality {quality} (need 1..100)")));
        }
        jpeg.validate(3)?;
        Ok(Self { jpeg, quality })
    }

    /// The plain encoder's options.
    pub fn jpeg(&self) -> &JpegOptions {
        &self.jpeg
    }

    /// The base quality.
    pub fn quality(&self) -> u8 {
        self.quality
    }

    /// The plain encode these options start from.
    pub fn plain(&self, image: &Image) -> Result<Encoded> {
        MozJpeg::new(self.jpeg.clone()).encode(image, self.quality)
    }
}

/// Per-block quantisation driven by one map for every component (see the module docs).
pub fn encode_adaptive(image: &Image, map: &JndMap, options: &AdaptiveOptions) -> Result<Encoded> {
    encode_adaptive_components(image, map, None, options)
}

/// [`encode_adaptive`] with separate maps for luma and chroma: `luma` is the JND of the Y component,
/// `chroma` (when given) that of Cb and Cr (both in 8-bit code values per pixel, the picture's size).
/// Grey pictures ignore `chroma`.
pub fn encode_adaptive_components(
    image: &Image,
    luma: &JndMap,
    chroma: Option<&JndMap>,
    options: &AdaptiveOptions,
) -> Result<Encoded> {
    check_sizes(image, std::iter::once(luma).chain(chroma))?;
    let maps = Maps { luma: Integral::new(luma), chroma: chroma.map(Integral::new) };
    encode_per_block(image, options, |block| {
        let (map, table) = match (&maps.chroma, block.chroma) {
            (Some(chroma), true) => (chroma, block.table),
            _ => (&maps.luma, block.luma_table),
        };
        let [x0, y0, x1, y1] = block.pixels;
        block_scale(map.mean(x0, y0, x1, y1), ac_rms(table))
    })
}

/// Refuses maps whose size is not the picture's.
fn check_sizes<'a>(image: &Image, maps: impl IntoIterator<Item = &'a JndMap>) -> Result<()> {
    for map in maps {
        if map.width() != image.width() || map.height() != image.height() {
            return Err(Error::Parameter(format!(
                "a {}x{} JND map for a {}x{} image",
                map.width(),
                map.height(),
                image.width(),
                image.height()
            )));
        }
    }
    Ok(())
}

/// The plain encode with each block's coarsening chosen by rate and the classifiers' sensitivity
/// ([`rd_scale`] with the block's own gradient from `gradients`, `jnd_model::dmvjnd::sensitivity`),
/// optionally bounded by JND maps as [`encode_adaptive_components`] would scale the block (`bound`: the
/// luma map for Y, the chroma map for Cb and Cr, in 8-bit code values; without one every block may
/// take the largest of [`RD_SCALES`]). One multiplier `lambda` for every block of every picture:
/// confident pictures (small gradients) give up more bits than pictures near a decision boundary. The
/// file must code Y, Cb and Cr or grey (an `-rgb` file is refused: its components are not the planes
/// the gradients are of).
pub fn encode_rd(
    image: &Image,
    gradients: &PixelGradients,
    bound: Option<(&JndMap, &JndMap)>,
    lambda: f32,
    options: &AdaptiveOptions,
) -> Result<Encoded> {
    if let Some((luma, chroma)) = bound {
        check_sizes(image, [luma, chroma])?;
    }
    if gradients.width() != image.width() as usize || gradients.height() != image.height() as usize {
        return Err(Error::Parameter(format!(
            "gradients of a {}x{} picture for a {}x{} image",
            gradients.width(),
            gradients.height(),
            image.width(),
            image.height()
        )));
    }
    if !lambda.is_finite() || lambda < 0.0 {
        return Err(Error::Parameter(format!("rate multiplier {lambda} (need a finite value >= 0)")));
    }
    if options.jpeg.color == JpegColor::Rgb && image.color() == jnd_model::ColorType::Rgb {
        return Err(Error::Unsupported(
            "per-block rate choice with -rgb: the classifiers' gradients are of Y, Cb and Cr".into(),
        ));
    }
    let maps = bound.map(|(luma, chroma)| (Integral::new(luma), Integral::new(chroma)));
    let largest = RD_SCALES[RD_SCALES.len() - 1];
    encode_per_block(image, options, |block| {
        let plane = match (block.chroma, block.component) {
            (false, 0) => Plane::Luma,
            (true, 1) => Plane::Cb,
            (true, _) => Plane::Cr,
            _ => return 1.0,
        };
        let cap = maps.as_ref().map_or(largest, |(luma, chroma)| {
            let map = if block.chroma { chroma } else { luma };
            let [x0, y0, x1, y1] = block.pixels;
            block_scale(map.mean(x0, y0, x1, y1), ac_rms(block.table))
        });
        if cap <= 1.0 {
            // No room under the bound: the block stays, and its gradient is not needed.
            return 1.0;
        }
        rd_scale(block.levels, block.table, &gradients.block(plane, block.pixels), lambda, cap)
    })
}

/// The scales [`rd_scale`] chooses from (1: the block as the plain encode wrote it).
pub const RD_SCALES: [f32; 9] = [1.0, 1.25, 1.5, 2.0, 2.5, 3.0, 4.0, 6.0, 8.0];

/// Bits a block's AC levels cost, estimated: each non-zero level about 4 bits of Huffman code for its
/// run and size, plus its size in bits (zeros are paid for in the runs).
pub fn ac_bits(levels: &[i16; 64]) -> f32 {
    levels[1..]
        .iter()
        .filter(|&&l| l != 0)
        .map(|&l| 4.0 + (16 - l.unsigned_abs().leading_zeros()) as f32)
        .sum()
}

/// The coarsening of one block chosen by rate and the classifiers' sensitivity: of [`RD_SCALES`] up to
/// `cap`, the scale `s` minimising `D(s) + lambda R(s)`, where `D(s) = sum_k (g_k T_k dL_k)^2` is the
/// squared first-order change of the classifiers' objective (`jnd_model::dmvjnd::Objective`: gradient
/// `g_k` per code value of coefficient `k`, step `T_k`, level change `dL_k` from [`coarsen`]) and `R(s)`
/// the block's [`ac_bits`]. `lambda` is in squared objective per bit.
pub fn rd_scale(levels: &[i16; 64], table: &[u16; 64], gradient: &[f32; 64], lambda: f32, cap: f32) -> f32 {
    let mut best = (f32::INFINITY, 1.0);
    for scale in RD_SCALES.into_iter().take_while(|&s| s <= cap.max(1.0)) {
        let mut coarse = *levels;
        coarsen(&mut coarse, scale);
        let distortion: f32 = (1..64)
            .map(|k| (gradient[k] * f32::from(table[k]) * f32::from(levels[k] - coarse[k])).powi(2))
            .sum();
        let cost = distortion + lambda * ac_bits(&coarse);
        if cost < best.0 {
            best = (cost, scale);
        }
    }
    best.1
}

/// One block of the plain encode, as a per-block rule of [`encode_per_block`] sees it.
#[derive(Debug, Clone, Copy)]
pub struct BlockView<'a> {
    /// Component index in the file (0: Y, or R for `-rgb`; 1, 2: Cb, Cr).
    pub component: usize,
    /// Whether the block is chroma of a YCbCr file (Cb or Cr).
    pub chroma: bool,
    /// Block column and row in its component.
    pub block: [usize; 2],
    /// The pixels of the picture the block covers, `[x0, y0, x1, y1)` (16 pixels wide for 4:2:0
    /// chroma; may reach into the padding past the picture's edge).
    pub pixels: [usize; 4],
    /// The plain encode's quantised levels, natural order (DC first), in the component's steps.
    pub levels: &'a [i16; 64],
    /// The component's quantisation table (natural order).
    pub table: &'a [u16; 64],
    /// The luma component's table (what a luma map is measured against).
    pub luma_table: &'a [u16; 64],
}

/// The plain encode with each block's AC levels coarsened by the scale `rule` returns for it
/// ([`coarsen`]; 1 or less leaves the block as the plain encode wrote it), written as a standard
/// JPEG. A rule that scales no block returns the plain encode, byte for byte.
pub fn encode_per_block(
    image: &Image,
    options: &AdaptiveOptions,
    rule: impl Fn(&BlockView) -> f32,
) -> Result<Encoded> {
    let plain = options.plain(image)?;
    let outcome = guarded(|| {
        // SAFETY: inside guarded, as requantise requires.
        unsafe { requantise(&plain.bytes, image, &rule, options) }
    });
    match outcome {
        Ok(None) => Ok(plain),
        Ok(Some((bytes, mut warnings))) => {
            let mut all = plain.warnings;
            all.append(&mut warnings);
            Ok(Encoded { bytes, warnings: all })
        }
        Err(message) => Err(Error::Encode { codec: "mozjpeg (coefficients)", message }),
    }
}

/// A map's summed-area table, for block means over any footprint.
struct Integral {
    width: usize,
    height: usize,
    sums: Vec<f64>,
}

impl Integral {
    fn new(map: &JndMap) -> Self {
        let (width, height) = (map.width() as usize, map.height() as usize);
        let mut sums = vec![0.0; (width + 1) * (height + 1)];
        for y in 0..height {
            let mut row = 0.0;
            for x in 0..width {
                row += f64::from(map.values()[y * width + x].max(0.0));
                sums[(y + 1) * (width + 1) + x + 1] = sums[y * (width + 1) + x + 1] + row;
            }
        }
        Self { width, height, sums }
    }

    /// Mean over pixels `[x0, x1) x [y0, y1)`, clipped to the map (a block wholly in the padding
    /// takes the edge pixels').
    fn mean(&self, x0: usize, y0: usize, x1: usize, y1: usize) -> f32 {
        let x0 = x0.min(self.width - 1);
        let y0 = y0.min(self.height - 1);
        let (x1, y1) = (x1.clamp(x0 + 1, self.width), y1.clamp(y0 + 1, self.height));
        let at = |x: usize, y: usize| self.sums[y * (self.width + 1) + x];
        let sum = at(x1, y1) - at(x0, y1) - at(x1, y0) + at(x0, y0);
        (sum / ((x1 - x0) * (y1 - y0)) as f64) as f32
    }
}

/// The maps of [`encode_adaptive_components`], as summed-area tables.
struct Maps {
    luma: Integral,
    chroma: Option<Integral>,
}

/// RMS of a table's 63 AC steps.
pub fn ac_rms(table: &[u16; 64]) -> f32 {
    (table[1..].iter().map(|&t| f64::from(t).powi(2)).sum::<f64>() / 63.0).sqrt() as f32
}

/// The step scale of a block with mean JND `jnd` against a table of AC RMS `rms`.
pub fn block_scale(jnd: f32, rms: f32) -> f32 {
    (2.0 * jnd.max(0.0) / rms.max(1.0)).max(1.0)
}

/// Quantises a block's AC levels (natural order, in base steps) again at `scale` times the base step:
/// a magnitude of `x` scaled steps becomes `floor(x + 1 - DEAD_ZONE)` of them (under 0.62 steps zero,
/// 0.62 to 1.62 one step, ...), written back in base steps and never above the level it came from, so
/// no coefficient grows. DC is kept.
pub fn coarsen(block: &mut [i16; 64], scale: f32) {
    for level in &mut block[1..] {
        let magnitude = f32::from(level.unsigned_abs().min(32767) as i16);
        let steps = (magnitude / scale + 1.0 - DEAD_ZONE).floor();
        let coarse = (steps * scale).round().min(magnitude);
        *level = (coarse as i16) * level.signum();
    }
}

/// Reads the plain encode's coefficients, coarsens the blocks the maps scale, and writes the result;
/// `None` when no block is scaled (the plain encode stands).
///
/// # Safety
/// Must be called inside [`guarded`]: libjpeg errors unwind out of it.
unsafe fn requantise(
    plain: &[u8],
    image: &Image,
    rule: &dyn Fn(&BlockView) -> f32,
    options: &AdaptiveOptions,
) -> Option<(Vec<u8>, Vec<String>)> {
    // SAFETY (whole function): the guards keep libjpeg's structs at stable addresses and destroy them
    // on every path; the coefficient arrays belong to the decompressor, which outlives the compressor
    // that writes them (declared first, dropped last); block rows come from libjpeg's own virtual
    // arrays, indexed within the component geometry libjpeg computed.
    unsafe {
        let mut source = Decompressor::new(plain);
        let src: *mut ffi::jpeg_decompress_struct = source.cinfo();
        let src = &mut *src;
        ffi::jpeg_read_header(src, 1);
        // mozjpeg writes -rgb files with both JFIF and an Adobe marker (transform 0), and libjpeg's
        // reader lets JFIF win (YCbCr): the options say what the plain encoder wrote.
        if options.jpeg.color == JpegColor::Rgb && src.num_components == 3 {
            src.jpeg_color_space = ffi::J_COLOR_SPACE::JCS_RGB;
        }
        let arrays = ffi::jpeg_read_coefficients(src);
        let components = src.num_components as usize;
        let comps = std::slice::from_raw_parts(src.comp_info, components);
        let tables: Vec<[u16; 64]> = comps
            .iter()
            .map(|comp| {
                let table = src.quant_tbl_ptrs[(comp.quant_tbl_no as usize).min(3)];
                if table.is_null() { [1; 64] } else { (*table).quantval }
            })
            .collect();
        let (max_h, max_v) = (src.max_h_samp_factor as usize, src.max_v_samp_factor as usize);
        let mem_mgr = &*src.common.mem;
        let Some(access) = mem_mgr.access_virt_barray else {
            std::panic::resume_unwind(Box::new("libjpeg has no virtual block arrays".to_string()));
        };
        let mut changed = 0usize;
        // The chroma map is for Cb and Cr: an RGB-coded file (-rgb) takes the luma map everywhere.
        let ycc = src.jpeg_color_space == ffi::J_COLOR_SPACE::JCS_YCbCr;
        for (c, comp) in comps.iter().enumerate() {
            // Pixels per block along each axis (16 for 4:2:0 chroma, 8 for luma).
            let (px, py) = (8 * max_h / comp.h_samp_factor as usize, 8 * max_v / comp.v_samp_factor as usize);
            for by in 0..comp.height_in_blocks as usize {
                let row = access(&mut src.common, *arrays.add(c), by as u32, 1, 1);
                let blocks = *row;
                for bx in 0..comp.width_in_blocks as usize {
                    let block = &mut *blocks.add(bx);
                    let view = BlockView {
                        component: c,
                        chroma: ycc && c >= 1,
                        block: [bx, by],
                        pixels: [bx * px, by * py, (bx + 1) * px, (by + 1) * py],
                        levels: block,
                        table: &tables[c],
                        luma_table: &tables[0],
                    };
                    let scale = rule(&view);
                    if scale > 1.0 {
                        coarsen(block, scale);
                        changed += 1;
                    }
                }
            }
        }
        if changed == 0 {
            return None;
        }
        let jpeg = &options.jpeg;
        let mut guard = Compressor::new();
        let cinfo = guard.cinfo();
        // The plain encoder's profile: mozjpeg's scan search for progressive files unless -revert (the
        // coefficients themselves are final: no quantisation happens when writing coefficients).
        let profile = if jpeg.revert { ffi::JCP_FASTEST } else { ffi::JCP_MAX_COMPRESSION };
        ffi::jpeg_c_set_int_param(cinfo, ffi::JINT_COMPRESS_PROFILE, profile as std::ffi::c_int);
        ffi::jpeg_copy_critical_parameters(src, cinfo);
        cinfo.optimize_coding = 1;
        if !jpeg.jfif {
            cinfo.write_JFIF_header = 0;
        }
        match jpeg.restart {
            None => {}
            Some(Restart::Rows(rows)) => cinfo.restart_in_rows = std::ffi::c_int::from(rows),
            Some(Restart::Blocks(blocks)) => cinfo.restart_interval = std::ffi::c_uint::from(blocks),
        }
        if jpeg.restart.is_some() {
            // As the plain encoder: mozjpeg's scan search mishandles restart markers (mozjpeg#195).
            ffi::jpeg_c_set_bool_param(cinfo, ffi::JBOOLEAN_OPTIMIZE_SCANS, 0);
        }
        if jpeg.progressive {
            ffi::jpeg_simple_progression(cinfo);
        } else {
            cinfo.num_scans = 0;
            cinfo.scan_info = std::ptr::null();
        }
        ffi::jpeg_write_coefficients(cinfo, arrays);
        guard.write_metadata(&image.metadata, jpeg.keep_icc, jpeg.keep_exif);
        let written = guard.finish();
        ffi::jpeg_finish_decompress(src);
        Some(written)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coarsening_keeps_dc_zeroes_the_dead_zone_and_rounds_to_the_scaled_grid() {
        let mut block = [0i16; 64];
        block[0] = 37;
        block[1] = 1; // 0.5 scaled steps at s = 2: dead zone
        block[2] = -2; // -1 scaled step
        block[3] = 5; // 2.5 scaled steps -> 2 -> 4
        block[4] = 0;
        block[5] = -7; // 3.5 -> 3 -> -6
        block[6] = 8; // 4 scaled steps exactly
        block[7] = 3; // 1.5 -> 1 -> 2
        coarsen(&mut block, 2.0);
        assert_eq!(&block[..8], &[37, 0, -2, 4, 0, -6, 8, 2]);
        let mut odd = [0i16; 64];
        odd[1] = 2; // 1.5 at s = 4/3 -> 1 step -> 1.33 -> 1
        odd[2] = 4; // 3 steps -> 4
        odd[3] = 5; // 3.75 -> 4 steps -> 5.33, kept at 5
        coarsen(&mut odd, 4.0 / 3.0);
        assert_eq!(&odd[1..4], &[1, 4, 5]);
        let mut same = [3i16; 64];
        coarsen(&mut same, 1.0);
        assert_eq!(same, [3; 64]);
    }

    /// A block of real-looking levels: decaying magnitudes with alternating signs.
    fn levels() -> [i16; 64] {
        std::array::from_fn(|k| {
            if k == 0 { 40 } else { (24 / (1 + k as i16 / 3)) * if k % 2 == 0 { 1 } else { -1 } }
        })
    }

    #[test]
    fn rd_scale_trades_the_classifiers_sensitivity_against_bits_within_the_cap() {
        let (levels, table) = (levels(), [4u16; 64]);
        let bits = |s: f32| {
            let mut b = levels;
            coarsen(&mut b, s);
            ac_bits(&b)
        };
        // Blind classifiers: the fewest bits the cap allows.
        let free = rd_scale(&levels, &table, &[0.0; 64], 1e-5, 8.0);
        let fewest = RD_SCALES.into_iter().map(bits).fold(f32::INFINITY, f32::min);
        assert_eq!(bits(free), fewest);
        assert!(free > 2.0);
        assert!(rd_scale(&levels, &table, &[0.0; 64], 1e-5, 2.0) <= 2.0);
        assert_eq!(rd_scale(&levels, &table, &[0.0; 64], 1e-5, 1.0), 1.0);
        // Very sensitive classifiers: no coarsening.
        assert_eq!(rd_scale(&levels, &table, &[1.0; 64], 1e-5, 8.0), 1.0);
        // More sensitivity never coarsens more, and a larger multiplier never coarsens less.
        let mut last = f32::INFINITY;
        for g in [1e-5f32, 1e-4, 1e-3, 1e-2] {
            let s = rd_scale(&levels, &table, &[g; 64], 1e-5, 8.0);
            assert!(s <= last, "gradient {g}: {s} after {last}");
            last = s;
        }
        let mut last = 0.0;
        for lambda in [1e-7f32, 1e-6, 1e-5, 1e-4] {
            let s = rd_scale(&levels, &table, &[1e-3; 64], lambda, 8.0);
            assert!(s >= last, "lambda {lambda}: {s} after {last}");
            last = s;
        }
        assert_eq!(ac_bits(&[0; 64]), 0.0);
        let mut one = [0i16; 64];
        one[5] = -3; // size 2: 6 bits
        assert_eq!(ac_bits(&one), 6.0);
    }

    #[test]
    fn block_scale_is_one_below_half_the_table_rms() {
        assert_eq!(block_scale(0.0, 10.0), 1.0);
        assert_eq!(block_scale(5.0, 10.0), 1.0);
        assert!((block_scale(10.0, 10.0) - 2.0).abs() < 1e-6);
        assert_eq!(ac_rms(&[4; 64]), 4.0);
    }
}
