//! Per-block quantisation from a JND map, written as a standard JPEG.
//!
//! JPEG has one quantisation table per component, so per-block control is done by choosing the
//! coefficients themselves (as jpegli's adaptive quantisation and guetzli do): this module converts
//! the picture to YCbCr, takes the forward DCT of every 8x8 block in Rust (JPEG's orthonormal DCT-II,
//! the scaling libjpeg's coefficients use), quantises each block with a step scaled by the block's JND,
//! and hands the coefficients to libjpeg through `jpeg_write_coefficients` (optimised Huffman tables,
//! optionally progressive). Any decoder reads the result.
//!
//! ## From JND to per-block strength
//!
//! For a luma block with mean JND `J` (8-bit code values), the block's step is scaled by
//!
//! ```text
//! s = max(1, 2 * J / T_rms)
//! ```
//!
//! where `T_rms` is the root-mean-square of the base luma table's 63 AC steps: the block's AC steps
//! become `s * T[k]`, so their RMS is `2 * J` — the DMV-JND paper's "quantisation step about twice the
//! JND", in the units of the base table. Because the DCT is orthonormal, uniform quantisation with
//! steps `s * T[k]` gives a pixel RMS error of about `s * T_rms / sqrt(12) = 0.58 * J`, so the decoded
//! error stays below the map (and well below `2 * J`). A zero map gives `s = 1`: the plain encode.
//!
//! - Scaled blocks (`s > 1`) also get a dead zone: an AC coefficient is zeroed when it is under 0.62
//!   scaled steps (plain rounding zeroes under 0.5), as jpegli does; zeros are what make the rate drop.
//! - DC keeps the base step in every block, so flat areas never band.
//! - Chroma blocks (4:2:0: one per 2x2 luma blocks) use the mean scale of the luma blocks they cover,
//!   unless a chroma map is given ([`encode_adaptive_components`]): then a chroma block's scale is
//!   `max(1, 2 * Jc / Tc_rms)`, with `Jc` the chroma map's mean over the pixels the block covers (16x16
//!   in 4:2:0) and `Tc_rms` the RMS of the base chroma table's AC steps. The DMV-JND gives such a map
//!   (its signed RGB JND through JFIF's matrix: `jnd_model::dmvjnd::ComponentJnd`), so a machine
//!   target can tolerate more chroma change than luma change, or less.

use std::borrow::Cow;
use std::ffi::{c_int, c_uint};

use jnd_model::JndMap;
use jnd_model::pixel_jnd::BlockAggregate;
use mozjpeg_sys as ffi;

use super::{DctMethod, Encoded, JpegColor, JpegOptions, Restart};
use crate::libjpeg::{Compressor, guarded};
use crate::{ColorType, Error, Image, Result};

/// Dead zone of scaled blocks, in scaled steps.
pub const DEAD_ZONE: f32 = 0.62;

/// Chroma subsampling of the adaptive encoder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ChromaSampling {
    /// 2x2 (cjpeg's default).
    #[default]
    S420,
    /// None.
    S444,
}

/// Settings of [`encode_adaptive`]: the subset of [`JpegOptions`] the per-block encoder honours,
/// built by [`AdaptiveOptions::from_jpeg`], which refuses the rest by name.
#[derive(Debug, Clone, PartialEq)]
pub struct AdaptiveOptions {
    /// Base quality (libjpeg's scaling of the base tables), 1..=100.
    pub quality: u8,
    /// Base table set (mozjpeg's `-quant-table`; 0 = the JPEG standard's Annex K tables).
    pub table_set: u8,
    /// Base tables clamped to 8 bits (`-baseline`, `-quant-baseline`).
    pub baseline_tables: bool,
    /// Chroma subsampling.
    pub chroma: ChromaSampling,
    /// One grey component (`-grayscale`); grey input is always written grey.
    pub grayscale: bool,
    /// Progressive scans (jpeg_simple_progression); Huffman tables are always optimised.
    pub progressive: bool,
    /// Restart markers (`-restart`).
    pub restart: Option<Restart>,
    /// Write the JFIF APP0 marker (off with `-nojfif`).
    pub jfif: bool,
    /// Write the image's ICC profile.
    pub keep_icc: bool,
    /// Write the image's EXIF.
    pub keep_exif: bool,
}

impl Default for AdaptiveOptions {
    fn default() -> Self {
        Self {
            quality: 75,
            table_set: 0,
            baseline_tables: true,
            chroma: ChromaSampling::S420,
            grayscale: false,
            progressive: false,
            restart: None,
            jfif: true,
            keep_icc: true,
            keep_exif: true,
        }
    }
}

impl AdaptiveOptions {
    /// The per-block encoder's settings for cjpeg-style `options` at base `quality`.
    ///
    /// Honoured: `-grayscale`, `-baseline`, `-quant-baseline`, `-quant-table`, `-progressive`,
    /// `-revert` (through `progressive`), `-restart`, `-nojfif`, `-sample 2x2` / `1x1`, `-dct int` /
    /// `float` (the encoder's own DCT is exact floating point, which both ask for), `-notrellis` (it
    /// never uses trellis quantisation), `-optimize` (always on), metadata. Refused with
    /// [`Error::Unsupported`] naming the switch: `-rgb`, `-smooth`, `-dct fast`, `-qtables`, `-qslots`,
    /// per-slot qualities (`-quality N,M`) and other sampling factors.
    pub fn from_jpeg(options: &JpegOptions, quality: u8) -> Result<Self> {
        let refuse = |switch: &str, why: &str| {
            Err(Error::Unsupported(format!("{switch} with per-block quantisation ({why})")))
        };
        if options.color == JpegColor::Rgb {
            return refuse("-rgb", "it quantises YCbCr components");
        }
        if options.smoothing > 0 {
            return refuse("-smooth", "it codes the picture as given");
        }
        if options.dct == DctMethod::Fast {
            return refuse("-dct fast", "it computes an exact floating-point DCT");
        }
        if options.qtables.is_some() {
            return refuse("-qtables", "the base tables come from -quality and -quant-table");
        }
        if options.qslots.is_some() {
            return refuse("-qslots", "luma uses slot 0 and chroma slot 1");
        }
        if !options.extra_slot_qualities.is_empty() {
            return refuse("-quality N,M", "one base quality sets every table");
        }
        let chroma = match options.sampling.as_deref() {
            None => ChromaSampling::S420,
            Some([first, rest @ ..]) if rest.iter().all(|&s| s == (1, 1)) && *first == (2, 2) => {
                ChromaSampling::S420
            }
            Some(all) if all.iter().all(|&s| s == (1, 1)) => ChromaSampling::S444,
            Some(_) => return refuse("-sample", "only 2x2 (4:2:0) and 1x1 (4:4:4) luma sampling"),
        };
        if !(1..=100).contains(&quality) {
            return Err(Error::Parameter(format!("quality {quality} (need 1..100)")));
        }
        if options.quant_table_set > 8 {
            return Err(Error::Parameter(format!("quant table set {} (need 0..8)", options.quant_table_set)));
        }
        Ok(Self {
            quality,
            table_set: options.quant_table_set,
            baseline_tables: options.force_baseline_tables,
            chroma,
            grayscale: options.color == JpegColor::Grayscale,
            progressive: options.progressive,
            restart: options.restart,
            jfif: options.jfif,
            keep_icc: options.keep_icc,
            keep_exif: options.keep_exif,
        })
    }
}

/// Per-8x8-luma-block step scales derived from a JND map (see the module docs).
#[derive(Debug, Clone, PartialEq)]
pub struct BlockScales {
    /// Blocks per row.
    pub blocks_x: u32,
    /// Blocks per column.
    pub blocks_y: u32,
    /// One scale (>= 1) per block, row-major.
    pub values: Vec<f32>,
}

impl BlockScales {
    /// Scales for `map` against a base luma table (natural order).
    pub fn from_map(map: &JndMap, luma_table: &[u16; 64]) -> Self {
        Self::from_map_blocks(map, luma_table, 8)
    }

    /// Scales for `map` against a base table, one per `block` x `block` pixels of the map (16 for
    /// 4:2:0 chroma blocks, whose 8x8 samples cover 16x16 pixels).
    pub fn from_map_blocks(map: &JndMap, table: &[u16; 64], block: u32) -> Self {
        let rms = (table[1..].iter().map(|&t| f64::from(t).powi(2)).sum::<f64>() / 63.0).sqrt() as f32;
        let blocks = map.blocks(block, BlockAggregate::Mean);
        let values = blocks.values.iter().map(|&j| (2.0 * j.max(0.0) / rms.max(1.0)).max(1.0)).collect();
        Self { blocks_x: blocks.blocks_x, blocks_y: blocks.blocks_y, values }
    }

    /// The scale of luma block (bx, by), clamped to the map (padding blocks take the edge's scale).
    pub fn at(&self, bx: u32, by: u32) -> f32 {
        let x = bx.min(self.blocks_x.saturating_sub(1));
        let y = by.min(self.blocks_y.saturating_sub(1));
        self.values.get((y * self.blocks_x + x) as usize).copied().unwrap_or(1.0)
    }

    /// Mean scale.
    pub fn mean(&self) -> f32 {
        self.values.iter().sum::<f32>() / self.values.len().max(1) as f32
    }
}

/// JPEG's 8x8 forward DCT-II with the standard's normalisation (orthonormal; a flat block of level
/// `p` gives DC `8p`), on level-shifted samples.
fn forward_dct(block: &[f32; 64]) -> [f32; 64] {
    static COS: std::sync::OnceLock<[[f32; 8]; 8]> = std::sync::OnceLock::new();
    let cos = COS.get_or_init(|| {
        let mut table = [[0.0f32; 8]; 8];
        for (u, row) in table.iter_mut().enumerate() {
            let c = if u == 0 { (0.125f64).sqrt() } else { 0.5 };
            for (x, value) in row.iter_mut().enumerate() {
                *value = (c * ((2 * x + 1) as f64 * u as f64 * std::f64::consts::PI / 16.0).cos()) as f32;
            }
        }
        table
    });
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

/// Quantises one block's coefficients: DC at the base step, AC at `scale` times the base step with
/// the dead zone when `scale > 1`. Returns coefficients in units of the base table (what libjpeg
/// stores and writes).
fn quantise(coefficients: &[f32; 64], table: &[u16; 64], scale: f32) -> [i16; 64] {
    let mut out = [0i16; 64];
    out[0] = (coefficients[0] / f32::from(table[0])).round().clamp(-2047.0, 2047.0) as i16;
    for k in 1..64 {
        let base = f32::from(table[k]);
        let x = coefficients[k] / (base * scale);
        let level = if scale > 1.0 && x.abs() < DEAD_ZONE { 0.0 } else { x.round() };
        out[k] = (level * scale).round().clamp(-1023.0, 1023.0) as i16;
    }
    out
}

/// One component's samples, padded by edge replication to whole MCUs.
struct Plane {
    width: usize,
    height: usize,
    samples: Vec<f32>,
}

impl Plane {
    fn at(&self, x: usize, y: usize) -> f32 {
        self.samples[y.min(self.height - 1) * self.width + x.min(self.width - 1)]
    }

    /// Level-shifted 8x8 block (bx, by), edges replicated.
    fn block(&self, bx: usize, by: usize) -> [f32; 64] {
        let mut out = [0.0f32; 64];
        for y in 0..8 {
            for x in 0..8 {
                out[y * 8 + x] = self.at(bx * 8 + x, by * 8 + y) - 128.0;
            }
        }
        out
    }

    /// 2x2 box downsampling as libjpeg's `h2v2_downsample` does it (integer, with a bias alternating
    /// 1, 2 along the row so rounding does not drift), edges replicated.
    fn halved(&self) -> Plane {
        let (width, height) = (self.width.div_ceil(2), self.height.div_ceil(2));
        let mut samples = Vec::with_capacity(width * height);
        for y in 0..height {
            let mut bias = 1.0;
            for x in 0..width {
                let sum = self.at(2 * x, 2 * y)
                    + self.at(2 * x + 1, 2 * y)
                    + self.at(2 * x, 2 * y + 1)
                    + self.at(2 * x + 1, 2 * y + 1);
                samples.push(((sum + bias) / 4.0).floor());
                bias = 3.0 - bias;
            }
        }
        Plane { width, height, samples }
    }
}

/// The picture as JPEG's Y, Cb, Cr sample planes (grey: one plane).
fn ycbcr_planes(image: &Image) -> Vec<Plane> {
    let (width, height) = (image.width() as usize, image.height() as usize);
    match image.color() {
        ColorType::Gray => {
            vec![Plane { width, height, samples: image.pixels().iter().map(|&v| f32::from(v)).collect() }]
        }
        ColorType::Rgb => {
            let mut planes: Vec<Vec<f32>> = (0..3).map(|_| Vec::with_capacity(width * height)).collect();
            for p in image.pixels().chunks_exact(3) {
                let [y, cb, cr] = jnd_model::ycbcr(f32::from(p[0]), f32::from(p[1]), f32::from(p[2]));
                // Rounded to 8-bit samples, as libjpeg's converter stores them.
                planes[0].push(y.round());
                planes[1].push((cb + 128.0).round().min(255.0));
                planes[2].push((cr + 128.0).round().min(255.0));
            }
            planes.into_iter().map(|samples| Plane { width, height, samples }).collect()
        }
    }
}

/// Encodes `image` with per-block quantisation from `map` (same size; 8-bit code values) on top of
/// `options`' base quality. A map of zeros gives the plain (non-trellis) encode's coefficients.
/// Chroma blocks take the mean scale of the luma blocks they cover.
pub fn encode_adaptive(image: &Image, map: &JndMap, options: &AdaptiveOptions) -> Result<Encoded> {
    encode_adaptive_components(image, map, None, options)
}

/// [`encode_adaptive`] with separate maps for luma and chroma: `luma` is the JND of the Y component,
/// `chroma` (when given) that of Cb and Cr (both in 8-bit code values per pixel, the picture's size).
/// A chroma block's step is scaled from the mean of `chroma` over the pixels it covers against the
/// chroma table, as luma's is against the luma table. Grey pictures ignore `chroma`.
pub fn encode_adaptive_components(
    image: &Image,
    luma: &JndMap,
    chroma: Option<&JndMap>,
    options: &AdaptiveOptions,
) -> Result<Encoded> {
    for map in std::iter::once(luma).chain(chroma) {
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
    if !(1..=100).contains(&options.quality) {
        return Err(Error::Parameter(format!("quality {} (need 1..100)", options.quality)));
    }
    if options.table_set > 8 {
        return Err(Error::Parameter(format!("quant table set {} (need 0..8)", options.table_set)));
    }
    let image: Cow<'_, Image> = if options.grayscale && image.color() == ColorType::Rgb {
        Cow::Owned(image.to_gray())
    } else {
        Cow::Borrowed(image)
    };
    let planes = ycbcr_planes(&image);
    let outcome = guarded(|| {
        // SAFETY: inside guarded, as write_coefficients requires.
        unsafe { write_coefficients(&image, &planes, luma, chroma, options) }
    });
    match outcome {
        Ok((bytes, warnings)) => Ok(Encoded { bytes, warnings }),
        Err(message) => Err(Error::Encode { codec: "mozjpeg (coefficients)", message }),
    }
}

/// # Safety
/// Must be called inside [`guarded`]: libjpeg errors unwind out of it.
unsafe fn write_coefficients(
    image: &Image,
    planes: &[Plane],
    map: &JndMap,
    chroma_map: Option<&JndMap>,
    options: &AdaptiveOptions,
) -> (Vec<u8>, Vec<String>) {
    // SAFETY (whole function): the guard keeps libjpeg's structs at stable addresses and destroys the
    // compressor on every path; block rows come from libjpeg's own virtual arrays, sized by the
    // component geometry libjpeg computed.
    unsafe {
        let mut guard = Compressor::new();
        let cinfo = guard.cinfo();
        cinfo.image_width = image.width();
        cinfo.image_height = image.height();
        let gray = image.color() == ColorType::Gray;
        cinfo.input_components = if gray { 1 } else { 3 };
        cinfo.in_color_space =
            if gray { ffi::J_COLOR_SPACE::JCS_GRAYSCALE } else { ffi::J_COLOR_SPACE::JCS_YCbCr };
        // libjpeg-turbo behaviour (no trellis, no scan search): the coefficients are ours.
        ffi::jpeg_c_set_int_param(cinfo, ffi::JINT_COMPRESS_PROFILE, ffi::JCP_FASTEST as c_int);
        ffi::jpeg_set_defaults(cinfo);
        ffi::jpeg_c_set_int_param(cinfo, ffi::JINT_BASE_QUANT_TBL_IDX, c_int::from(options.table_set));
        ffi::jpeg_set_quality(cinfo, c_int::from(options.quality), options.baseline_tables as ffi::boolean);
        cinfo.optimize_coding = 1;
        cinfo.write_JFIF_header = options.jfif as ffi::boolean;
        match options.restart {
            None => {}
            Some(Restart::Rows(rows)) => cinfo.restart_in_rows = c_int::from(rows),
            Some(Restart::Blocks(blocks)) => cinfo.restart_interval = c_uint::from(blocks),
        }
        if !gray {
            let h = if options.chroma == ChromaSampling::S420 { 2 } else { 1 };
            let comps = std::slice::from_raw_parts_mut(cinfo.comp_info, 3);
            comps[0].h_samp_factor = h;
            comps[0].v_samp_factor = h;
            for c in &mut comps[1..] {
                c.h_samp_factor = 1;
                c.v_samp_factor = 1;
            }
        }
        if options.progressive {
            ffi::jpeg_simple_progression(cinfo);
        }
        let components = cinfo.num_components as usize;
        let (max_h, max_v) = if gray || options.chroma == ChromaSampling::S444 { (1, 1) } else { (2, 2) };
        let mcus_x = (image.width() as usize).div_ceil(8 * max_h);
        let mcus_y = (image.height() as usize).div_ceil(8 * max_v);
        let mem_mgr = &*cinfo.common.mem;
        let (Some(request), Some(access)) = (mem_mgr.request_virt_barray, mem_mgr.access_virt_barray) else {
            std::panic::resume_unwind(Box::new("libjpeg has no virtual block arrays".to_string()));
        };
        let mut arrays = Vec::with_capacity(components);
        let mut geometry = Vec::with_capacity(components);
        for c in 0..components {
            let info = &*cinfo.comp_info.add(c);
            let (h, v) = (info.h_samp_factor as usize, info.v_samp_factor as usize);
            let (bw, bh) = (mcus_x * h, mcus_y * v);
            arrays.push(request(&mut cinfo.common, ffi::JPOOL_IMAGE, 1, bw as u32, bh as u32, v as u32));
            geometry.push((bw, bh, h, v, info.quant_tbl_no as usize));
        }
        ffi::jpeg_write_coefficients(cinfo, arrays.as_mut_ptr());
        guard.write_metadata(&image.metadata, options.keep_icc, options.keep_exif);
        let cinfo = guard.cinfo();
        let tables: Vec<[u16; 64]> = (0..2)
            .map(|i| {
                let table = cinfo.quant_tbl_ptrs[i];
                if table.is_null() { [1; 64] } else { (*table).quantval }
            })
            .collect();
        let scales = BlockScales::from_map(map, &tables[0]);
        let chroma_scales = chroma_map.map(|chroma| {
            let pixels = if gray || options.chroma == ChromaSampling::S444 { 8 } else { 16 };
            BlockScales::from_map_blocks(chroma, &tables[1], pixels)
        });
        let chroma_planes: Vec<Plane> = if !gray && options.chroma == ChromaSampling::S420 {
            planes[1..].iter().map(Plane::halved).collect()
        } else {
            Vec::new()
        };
        for c in 0..components {
            let (bw, bh, h, _v, table_no) = geometry[c];
            let plane = if c == 0 || chroma_planes.is_empty() { &planes[c] } else { &chroma_planes[c - 1] };
            let table = &tables[table_no.min(1)];
            // Luma blocks per component block along each axis (2 for 4:2:0 chroma, else 1).
            let ratio = max_h / h;
            for by in 0..bh {
                let row = access(&mut cinfo.common, arrays[c], by as u32, 1, 1);
                let blocks = *row;
                for bx in 0..bw {
                    let scale = if let (true, Some(chroma)) = (c > 0, &chroma_scales) {
                        chroma.at(bx as u32, by as u32)
                    } else if ratio == 1 {
                        scales.at(bx as u32, by as u32)
                    } else {
                        let mut sum = 0.0;
                        for dy in 0..ratio {
                            for dx in 0..ratio {
                                sum += scales.at((bx * ratio + dx) as u32, (by * ratio + dy) as u32);
                            }
                        }
                        sum / (ratio * ratio) as f32
                    };
                    *blocks.add(bx) = quantise(&forward_dct(&plane.block(bx, by)), table, scale);
                }
            }
        }
        guard.finish()
    }
}
