//! JPEG through jpegli (libjxl 0.10.2's libjpeg-compatible encoder, via `jpegli-sys`): quantisation
//! tables chosen for a butteraugli distance, adaptive quantisation per block, the same JPEG any decoder
//! reads. Its parameter is the **distance**; the [`Codec`] quality axis is jpegli's own quality scale
//! (`cjpegli -q`), `jpegli_quality_to_distance`: distance `0.1 + 0.09 (100 - q)` from quality 30 up
//! (a 0.09 grid from 0.19 at 99 to 6.4 at 30), steeper below, 0.01 at 100. The search walks that grid.
//!
//! jpegli reports fatal errors through libjpeg's `error_exit`, which jndenc's hook turns into an
//! unwind, caught by [`guarded`](crate::libjpeg::guarded) as for mozjpeg (jpegli's C++ is built with
//! unwind tables and without exceptions, so the unwind passes its frames like libjpeg's `longjmp`);
//! the guard then destroys the compressor, which frees jpegli's memory pools.
//!
//! cjpeg's switches: colour (`-grayscale`, `-rgb`), `-sample`, `-baseline` (one sequential scan and
//! 8-bit tables), `-quant-baseline`, `-optimize`, `-restart`, `-smooth` and `-nojfif` are honoured;
//! `-notrellis` is honoured trivially (jpegli has no trellis). The switches that set quantisation
//! tables (`-qtables`, `-qslots`, `-quant-table`, `-quality N,M`), `-dct` (jpegli has its own
//! floating-point DCT) and `-revert` (libjpeg-turbo's defaults) are refused by name.

use std::ffi::{c_int, c_uint, c_ulong};
use std::mem;
use std::ptr;

use jpegli_sys as ffi;

use super::{
    Codec, DctMethod, Encoded, JpegColor, JpegOptions, OutputFormat, Restart, check_quality, decode_jpeg,
    libjpeg_input,
};
use crate::libjpeg::{exif_segment, guarded};
use crate::{ColorType, Error, Image, Metadata, Result};

// Declared by jpegli's `encode.h`, linked from the bundled library, not bound by `jpegli-sys`.
unsafe extern "C-unwind" {
    fn jpegli_set_distance(
        cinfo: &mut ffi::jpegli_compress_struct,
        distance: f32,
        force_baseline: ffi::boolean,
    );
    fn jpegli_quality_to_distance(quality: c_int) -> f32;
    #[cfg(test)]
    fn jpegli_set_progressive_level(cinfo: &mut ffi::jpegli_compress_struct, level: c_int);
}

/// The smallest and largest distance [`Jpegli::encode_distance`] accepts.
pub const DISTANCE_RANGE: (f32, f32) = (0.01, 25.0);

/// jpegli's distance at its quality `quality` (1..=100), the mapping `cjpegli -q` uses.
pub fn quality_to_distance(quality: u8) -> f32 {
    // SAFETY: a pure function of its argument.
    unsafe { jpegli_quality_to_distance(c_int::from(quality.clamp(1, 100))) }
}

/// jpegli's encoder with cjpeg's switches ([`JpegOptions`]); see the module docs for which apply.
#[derive(Debug, Clone, Default)]
pub struct Jpegli {
    /// The options every encode uses.
    pub options: JpegOptions,
}

impl Jpegli {
    /// An encoder with these options. Switches jpegli cannot honour are refused by [`Jpegli::check`]
    /// (also called by every encode).
    pub fn new(options: JpegOptions) -> Self {
        Jpegli { options }
    }

    /// Refuses, by name, the cjpeg switches jpegli cannot honour.
    pub fn check(&self) -> Result<()> {
        let o = &self.options;
        let default = JpegOptions::default();
        const TABLES: &str = "jpegli chooses its own quantisation tables";
        let refused = [
            (o.qtables.is_some(), "-qtables", TABLES),
            (o.qslots.is_some(), "-qslots", TABLES),
            (o.quant_table_set != default.quant_table_set, "-quant-table", TABLES),
            (!o.extra_slot_qualities.is_empty(), "-quality N,M (per-slot qualities)", TABLES),
            (o.dct != DctMethod::Int, "-dct", "jpegli has its own floating-point DCT"),
            (o.revert, "-revert", "it asks for libjpeg-turbo's own encoder"),
        ];
        match refused.iter().find(|(set, ..)| *set) {
            Some((_, name, why)) => {
                Err(Error::Unsupported(format!("{name} with the jpegli codec: {why} (use --codec mozjpeg)")))
            }
            None => Ok(()),
        }
    }

    /// Encodes `image` at butteraugli distance `distance` (jpegli's own parameter, in
    /// [`DISTANCE_RANGE`]).
    pub fn encode_distance(&self, image: &Image, distance: f32) -> Result<Encoded> {
        let (lo, hi) = DISTANCE_RANGE;
        if !distance.is_finite() || !(lo..=hi).contains(&distance) {
            return Err(Error::Parameter(format!("jpegli distance must be in {lo}..={hi}, got {distance}")));
        }
        self.check()?;
        let input = libjpeg_input(&self.options, image)?;
        let outcome = guarded(|| {
            // SAFETY: `compress` upholds libjpeg's calling sequence; see its comments.
            unsafe { compress(&input, distance, &self.options) }
        });
        match outcome {
            Ok((bytes, warnings)) => Ok(Encoded { bytes, warnings }),
            Err(message) => Err(Error::Encode { codec: "jpegli", message: clean_message(&message) }),
        }
    }
}

impl Codec for Jpegli {
    fn chroma(&self) -> String {
        self.options.chroma_name()
    }

    fn name(&self) -> &'static str {
        "jpegli"
    }

    fn format(&self) -> OutputFormat {
        OutputFormat::Jpeg
    }

    fn quality_range(&self) -> (u8, u8) {
        (1, 100)
    }

    fn encode(&self, image: &Image, quality: u8) -> Result<Encoded> {
        check_quality(self, quality)?;
        self.encode_distance(image, quality_to_distance(quality))
    }

    fn decode(&self, bytes: &[u8]) -> Result<Image> {
        decode_jpeg(bytes)
    }

    fn parameter(&self, quality: u8) -> String {
        format!("distance={:.2}", quality_to_distance(quality))
    }
}

/// jpegli's messages start with the source position (`./lib/jpegli/encode.cc:260: ...`); users get
/// the message.
fn clean_message(message: &str) -> String {
    match message.split_once(": ") {
        Some((position, rest)) if position.contains(".cc:") || position.contains(".h:") => rest.to_string(),
        _ => message.to_string(),
    }
}

/// Formats jpegli's current message (its `format_message`, which writes up to `JMSG_LENGTH_MAX`).
///
/// # Safety
/// `cinfo.err` must point to a live error manager.
unsafe fn current_message(cinfo: &mut ffi::jpegli_common_struct) -> String {
    // SAFETY: guaranteed by the caller.
    let err = unsafe { &*cinfo.err };
    match err.format_message {
        Some(format) => {
            let mut buffer = [0u8; ffi::JMSG_LENGTH_MAX as usize];
            // jpegli-sys declares the buffer as a shared 80-byte array; jpegli writes up to 200 bytes.
            // SAFETY: same ABI (a pointer), and the buffer holds JMSG_LENGTH_MAX bytes.
            let format: unsafe extern "C-unwind" fn(&mut ffi::jpegli_common_struct, *mut u8) =
                unsafe { mem::transmute(format) };
            unsafe { format(cinfo, buffer.as_mut_ptr()) };
            let end = buffer.iter().position(|&b| b == 0).unwrap_or(buffer.len());
            String::from_utf8_lossy(&buffer[..end]).into_owned()
        }
        None => format!("jpegli error code {}", err.msg_code),
    }
}

extern "C-unwind" fn error_exit(cinfo: &mut ffi::jpegli_common_struct) {
    // SAFETY: jpegli calls this with its own cinfo, whose err is our live error manager.
    let message = unsafe { current_message(cinfo) };
    std::panic::resume_unwind(Box::new(message));
}

extern "C-unwind" fn emit_message(cinfo: &mut ffi::jpegli_common_struct, level: c_int) {
    if level >= 0 {
        return;
    }
    // SAFETY: client_data points to the guard's boxed warnings, alive as long as the compressor.
    unsafe {
        (*cinfo.err).num_warnings += 1;
        let message = current_message(cinfo);
        (*cinfo.client_data.cast::<Vec<String>>()).push(clean_message(&message));
    }
}

/// Owns a jpegli compressor writing to memory, its error manager, the output buffer and the
/// warnings; releases all of them on drop, also while unwinding from a jpegli error.
struct Compressor {
    cinfo: Box<ffi::jpegli_compress_struct>,
    _err: Box<ffi::jpegli_error_mgr>,
    out: Box<(*mut u8, c_ulong)>,
    #[allow(clippy::box_collection)]
    warnings: Box<Vec<String>>,
}

impl Compressor {
    /// # Safety
    /// Inside [`guarded`].
    unsafe fn new() -> Self {
        // SAFETY: zeroed structs are what jpegli_std_error and jpegli_CreateCompress initialise.
        let mut guard = unsafe {
            let mut err: Box<ffi::jpegli_error_mgr> = Box::new(mem::zeroed());
            ffi::jpegli_std_error(&mut err);
            err.error_exit = Some(error_exit);
            err.emit_message = Some(emit_message);
            Compressor {
                cinfo: Box::new(mem::zeroed()),
                _err: err,
                out: Box::new((ptr::null_mut(), 0)),
                warnings: Box::default(),
            }
        };
        guard.cinfo.common.err = &mut *guard._err;
        guard.cinfo.common.client_data = (&mut *guard.warnings as *mut Vec<String>).cast();
        // SAFETY: the boxed structs keep stable addresses while jpegli points at them.
        unsafe {
            ffi::jpegli_create_compress(&mut guard.cinfo);
            let out: *mut (*mut u8, c_ulong) = &mut *guard.out;
            ffi::jpegli_mem_dest(&mut guard.cinfo, &mut (*out).0, &mut (*out).1);
        }
        guard
    }

    /// # Safety
    /// Inside [`guarded`], after `jpegli_start_compress`, before the first scanline.
    unsafe fn write_metadata(&mut self, metadata: &Metadata, keep_icc: bool, keep_exif: bool) {
        if keep_exif {
            match exif_segment(metadata) {
                // SAFETY: per the contract.
                Some(Ok(app1)) => unsafe {
                    ffi::jpegli_write_marker(&mut self.cinfo, 0xE1, app1.as_ptr(), app1.len() as c_uint)
                },
                Some(Err(warning)) => self.warnings.push(warning),
                None => {}
            }
        }
        if keep_icc && let Some(icc) = &metadata.icc {
            // SAFETY: per the contract; jpegli splits the profile into APP2 chunks.
            unsafe { ffi::jpegli_write_icc_profile(&mut self.cinfo, icc.as_ptr(), icc.len() as c_uint) };
        }
    }

    /// # Safety
    /// Inside [`guarded`], every scanline written.
    unsafe fn finish(mut self) -> (Vec<u8>, Vec<String>) {
        // SAFETY: per the contract; the buffer is jpegli's memory destination, valid until drop.
        unsafe {
            ffi::jpegli_finish_compress(&mut self.cinfo);
            let (buffer, len) = *self.out;
            let bytes = std::slice::from_raw_parts(buffer, len as usize).to_vec();
            (bytes, mem::take(&mut *self.warnings))
        }
    }
}

impl Drop for Compressor {
    fn drop(&mut self) {
        // SAFETY: cinfo was created by jpegli_CreateCompress; the memory destination's buffer was
        // malloc'ed by jpegli and is ours to free.
        unsafe {
            ffi::jpegli_destroy_compress(&mut self.cinfo);
            if !self.out.0.is_null() {
                libc::free(self.out.0.cast());
                self.out.0 = ptr::null_mut();
            }
        }
    }
}

/// Runs one compression at `distance`.
///
/// # Safety
/// Inside `catch_unwind`: jpegli errors unwind out of it.
unsafe fn compress(image: &Image, distance: f32, options: &JpegOptions) -> (Vec<u8>, Vec<String>) {
    // SAFETY (whole function): the guard keeps jpegli's structs at stable addresses and destroys the
    // compressor on every exit path; rows point into `image` and live through the scanline loop.
    unsafe {
        let mut guard = Compressor::new();
        let cinfo = &mut *guard.cinfo;
        cinfo.image_width = image.width();
        cinfo.image_height = image.height();
        let (components, in_space) = match image.color() {
            ColorType::Gray => (1, ffi::J_COLOR_SPACE::JCS_GRAYSCALE),
            ColorType::Rgb => (3, ffi::J_COLOR_SPACE::JCS_RGB),
        };
        cinfo.input_components = components;
        cinfo.in_color_space = in_space;
        ffi::jpegli_set_defaults(cinfo);
        let space = match (options.color, image.color()) {
            (JpegColor::Grayscale, _) | (JpegColor::Auto, ColorType::Gray) => {
                ffi::J_COLOR_SPACE::JCS_GRAYSCALE
            }
            (JpegColor::Rgb, _) => ffi::J_COLOR_SPACE::JCS_RGB,
            (JpegColor::Auto, ColorType::Rgb) => ffi::J_COLOR_SPACE::JCS_YCbCr,
        };
        ffi::jpegli_set_colorspace(cinfo, space);
        // Sampling before the distance: jpegli picks its tables for the layout.
        let comps = std::slice::from_raw_parts_mut(cinfo.comp_info, cinfo.num_components as usize);
        match &options.sampling {
            Some(sampling) => {
                for (ci, comp) in comps.iter_mut().enumerate() {
                    let (h, v) = sampling.get(ci).copied().unwrap_or((1, 1));
                    comp.h_samp_factor = c_int::from(h);
                    comp.v_samp_factor = c_int::from(v);
                }
            }
            // cjpeg's default, 4:2:0, for YCbCr (jpegli's own default is 4:4:4).
            None if space == ffi::J_COLOR_SPACE::JCS_YCbCr => {
                comps[0].h_samp_factor = 2;
                comps[0].v_samp_factor = 2;
            }
            None => {}
        }
        jpegli_set_distance(cinfo, distance, options.force_baseline_tables as ffi::boolean);
        if options.progressive {
            ffi::jpegli_simple_progression(cinfo);
        }
        cinfo.optimize_coding = (options.optimize_coding || options.progressive) as ffi::boolean;
        cinfo.smoothing_factor = c_int::from(options.smoothing);
        let ycc_or_gray = space != ffi::J_COLOR_SPACE::JCS_RGB;
        cinfo.write_JFIF_header = (options.jfif && ycc_or_gray) as ffi::boolean;
        // An RGB-coded JPEG is marked as such by Adobe's APP14 (transform 0), as libjpeg writes it.
        cinfo.write_Adobe_marker = (!ycc_or_gray) as ffi::boolean;
        match options.restart {
            None => {}
            Some(Restart::Rows(rows)) => {
                cinfo.restart_in_rows = c_int::from(rows);
                cinfo.restart_interval = 0;
            }
            Some(Restart::Blocks(blocks)) => {
                cinfo.restart_interval = c_uint::from(blocks);
                cinfo.restart_in_rows = 0;
            }
        }
        ffi::jpegli_start_compress(cinfo, 1);
        guard.write_metadata(&image.metadata, options.keep_icc, options.keep_exif);
        let cinfo = &mut *guard.cinfo;
        let rows: Vec<ffi::JSAMPROW> = (0..image.height()).map(|y| image.row(y).as_ptr()).collect();
        while cinfo.next_scanline < cinfo.image_height {
            let next = cinfo.next_scanline as usize;
            let written = ffi::jpegli_write_scanlines(
                cinfo,
                rows[next..].as_ptr(),
                (rows.len() - next) as ffi::JDIMENSION,
            );
            if written == 0 {
                break;
            }
        }
        guard.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_inside_jpegli_is_caught_and_the_compressor_released() {
        let outcome = guarded(|| {
            // SAFETY: inside guarded; the guard is dropped during the unwind.
            unsafe {
                let mut guard = Compressor::new();
                let cinfo = &mut *guard.cinfo;
                cinfo.image_width = 8;
                cinfo.image_height = 8;
                cinfo.input_components = 3;
                cinfo.in_color_space = ffi::J_COLOR_SPACE::JCS_RGB;
                ffi::jpegli_set_defaults(cinfo);
                jpegli_set_progressive_level(cinfo, -1);
            }
        });
        let message = outcome.expect_err("jpegli accepted a negative progressive level");
        assert!(clean_message(&message).starts_with("Invalid progressive level -1"), "{message}");
    }

    #[test]
    fn the_quality_axis_is_jpeglis_distance_grid() {
        assert!((quality_to_distance(90) - 1.0).abs() < 1e-5);
        assert!((quality_to_distance(30) - 6.4).abs() < 1e-5);
        assert!((quality_to_distance(100) - 0.01).abs() < 1e-6);
        let grid: Vec<f32> = (1..=100).map(quality_to_distance).collect();
        assert!(grid.windows(2).all(|w| w[0] > w[1]), "distance falls as quality rises");
    }
}
