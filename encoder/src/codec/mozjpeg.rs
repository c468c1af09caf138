//! JPEG through mozjpeg (libjpeg API via `mozjpeg-sys`), with cjpeg's full set of switches.
//!
//! libjpeg reports fatal errors through `error_exit`, which must not return. We install one that
//! unwinds (mozjpeg-sys is built with `unwinding`, so the C code is compiled with `-fexceptions`) and
//! catch it at the boundary of [`MozJpeg::encode`], where the compressor and its output buffer are
//! released by a guard.

use std::ffi::{c_int, c_uint, c_ulong};
use std::mem;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::ptr;

use mozjpeg_sys as ffi;

use super::{Codec, Encoded, JpegColor, JpegOptions, OutputFormat, Restart, check_quality, decode_jpeg};
use crate::codec::DctMethod;
use crate::{ColorType, Error, Image, Result};

/// The largest payload of one JPEG marker segment.
const MAX_MARKER_PAYLOAD: usize = 65_533;

/// mozjpeg's encoder with cjpeg's switches ([`JpegOptions`]).
#[derive(Debug, Clone, Default)]
pub struct MozJpeg {
    /// The options every encode uses.
    pub options: JpegOptions,
}

impl MozJpeg {
    /// An encoder with these options.
    pub fn new(options: JpegOptions) -> Self {
        MozJpeg { options }
    }
}

impl Codec for MozJpeg {
    fn name(&self) -> &'static str {
        "mozjpeg"
    }

    fn format(&self) -> OutputFormat {
        OutputFormat::Jpeg
    }

    fn quality_range(&self) -> (u8, u8) {
        (1, 100)
    }

    fn encode(&self, image: &Image, quality: u8) -> Result<Encoded> {
        check_quality(self, quality)?;
        let components = match (self.options.color, image.color()) {
            (JpegColor::Grayscale, _) | (JpegColor::Auto, ColorType::Gray) => 1,
            _ => 3,
        };
        self.options.validate(components)?;
        // -rgb on a gray input: libjpeg needs RGB samples to write RGB components.
        let rgb_copy;
        let input = if self.options.color == JpegColor::Rgb && image.color() == ColorType::Gray {
            rgb_copy = image.to_rgb();
            &rgb_copy
        } else {
            image
        };
        let mut warnings = Vec::new();
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            // SAFETY: `compress` upholds libjpeg's calling sequence; see its comments.
            unsafe { compress(input, quality, &self.options, &mut warnings) }
        }));
        match outcome {
            Ok(bytes) => Ok(Encoded { bytes, warnings }),
            Err(payload) => {
                let message = payload
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_string()))
                    .unwrap_or_else(|| "unknown libjpeg error".into());
                Err(Error::Encode { codec: "mozjpeg", message })
            }
        }
    }

    fn decode(&self, bytes: &[u8]) -> Result<Image> {
        decode_jpeg(bytes)
    }
}

/// Owns the compressor, its error manager and the output buffer; releases all of them on drop, also
/// while unwinding from a libjpeg error.
pub(super) struct Compressor {
    pub(super) cinfo: Box<ffi::jpeg_compress_struct>,
    pub(super) _err: Box<ffi::jpeg_error_mgr>,
    pub(super) out: Box<(*mut u8, c_ulong)>,
    pub(super) _warnings: Box<*mut Vec<String>>,
}

impl Drop for Compressor {
    fn drop(&mut self) {
        // SAFETY: cinfo was created by jpeg_CreateCompress; destroying it is always valid afterwards.
        // The output buffer was malloc'ed by libjpeg's memory destination and is ours to free.
        unsafe {
            ffi::jpeg_destroy_compress(&mut self.cinfo);
            if !self.out.0.is_null() {
                libc::free(self.out.0.cast());
                self.out.0 = ptr::null_mut();
            }
        }
    }
}

/// Formats libjpeg's current message (the error manager's `format_message`).
///
/// # Safety
/// `cinfo.err` must point to a live error manager.
unsafe fn current_message(cinfo: &mut ffi::jpeg_common_struct) -> String {
    // SAFETY: guaranteed by the caller.
    let err = unsafe { &*cinfo.err };
    match err.format_message {
        Some(format) => {
            let mut buffer = [0u8; 80];
            // libjpeg writes into the buffer; mozjpeg-sys declares it as a shared reference, so cast
            // the function to the mutable signature it really has.
            // SAFETY: same ABI, the C side only writes within the 80-byte buffer.
            let format: unsafe extern "C-unwind" fn(&mut ffi::jpeg_common_struct, &mut [u8; 80]) =
                unsafe { mem::transmute(format) };
            unsafe { format(cinfo, &mut buffer) };
            let end = buffer.iter().position(|&b| b == 0).unwrap_or(buffer.len());
            String::from_utf8_lossy(&buffer[..end]).into_owned()
        }
        None => format!("libjpeg error code {}", err.msg_code),
    }
}

pub(super) extern "C-unwind" fn error_exit(cinfo: &mut ffi::jpeg_common_struct) {
    // SAFETY: libjpeg calls this with its own cinfo, whose err is our live error manager.
    let message = unsafe { current_message(cinfo) };
    std::panic::resume_unwind(Box::new(message));
}

pub(super) extern "C-unwind" fn emit_message(cinfo: &mut ffi::jpeg_common_struct, level: c_int) {
    if level >= 0 {
        return; // trace messages
    }
    // SAFETY: as above; client_data points to the boxed pointer to our warnings vector, which lives
    // for the whole compression.
    unsafe {
        (*cinfo.err).num_warnings += 1;
        let message = current_message(cinfo);
        let warnings = *(cinfo.client_data as *mut *mut Vec<String>);
        (*warnings).push(message);
    }
}

fn set_bool(cinfo: &mut ffi::jpeg_compress_struct, param: ffi::J_BOOLEAN_PARAM, value: bool) {
    // SAFETY: setting a mozjpeg extension parameter on a live compressor.
    unsafe { ffi::jpeg_c_set_bool_param(cinfo, param, value as ffi::boolean) }
}

/// Runs one compression.
///
/// # Safety
/// Must be called inside `catch_unwind`: libjpeg errors unwind out of it.
unsafe fn compress(image: &Image, quality: u8, options: &JpegOptions, warnings: &mut Vec<String>) -> Vec<u8> {
    // SAFETY (whole function): the structs are boxed so their addresses are stable while libjpeg holds
    // pointers to them; the guard destroys the compressor on every exit path.
    unsafe {
        let mut err: Box<ffi::jpeg_error_mgr> = Box::new(mem::zeroed());
        ffi::jpeg_std_error(&mut err);
        err.error_exit = Some(error_exit);
        err.emit_message = Some(emit_message);
        let mut guard = Compressor {
            cinfo: Box::new(mem::zeroed()),
            _err: err,
            out: Box::new((ptr::null_mut(), 0)),
            _warnings: Box::new(warnings as *mut Vec<String>),
        };
        guard.cinfo.common.err = &mut *guard._err;
        guard.cinfo.common.client_data = (&mut *guard._warnings as *mut *mut Vec<String>).cast();
        ffi::jpeg_CreateCompress(
            &mut *guard.cinfo,
            ffi::JPEG_LIB_VERSION,
            mem::size_of::<ffi::jpeg_compress_struct>(),
        );
        let out: *mut (*mut u8, c_ulong) = &mut *guard.out;
        ffi::jpeg_mem_dest(&mut guard.cinfo, &mut (*out).0, &mut (*out).1);
        let cinfo = &mut *guard.cinfo;

        cinfo.image_width = image.width();
        cinfo.image_height = image.height();
        let (components, in_space) = match image.color() {
            ColorType::Gray => (1, ffi::J_COLOR_SPACE::JCS_GRAYSCALE),
            ColorType::Rgb => (3, ffi::J_COLOR_SPACE::JCS_RGB),
        };
        cinfo.input_components = components;
        cinfo.in_color_space = in_space;
        let profile = if options.revert { ffi::JCP_FASTEST } else { ffi::JCP_MAX_COMPRESSION };
        ffi::jpeg_c_set_int_param(cinfo, ffi::JINT_COMPRESS_PROFILE, profile as c_int);
        ffi::jpeg_set_defaults(cinfo);
        ffi::jpeg_c_set_int_param(cinfo, ffi::JINT_BASE_QUANT_TBL_IDX, c_int::from(options.quant_table_set));
        match options.color {
            JpegColor::Auto => {}
            JpegColor::Grayscale => ffi::jpeg_set_colorspace(cinfo, ffi::J_COLOR_SPACE::JCS_GRAYSCALE),
            JpegColor::Rgb => ffi::jpeg_set_colorspace(cinfo, ffi::J_COLOR_SPACE::JCS_RGB),
        }
        set_bool(cinfo, ffi::JBOOLEAN_TRELLIS_QUANT, options.trellis);
        if !options.trellis {
            set_bool(cinfo, ffi::JBOOLEAN_TRELLIS_QUANT_DC, false);
        }
        cinfo.optimize_coding = (options.optimize_coding || options.progressive) as ffi::boolean;
        cinfo.smoothing_factor = c_int::from(options.smoothing);
        cinfo.dct_method = match options.dct {
            DctMethod::Int => ffi::J_DCT_METHOD::JDCT_ISLOW,
            DctMethod::Fast => ffi::J_DCT_METHOD::JDCT_IFAST,
            DctMethod::Float => ffi::J_DCT_METHOD::JDCT_FLOAT,
        };
        cinfo.write_JFIF_header = options.jfif as ffi::boolean;
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
        if options.restart.is_some() {
            // mozjpeg's scan optimisation writes trial scans with restart markers that libjpeg then
            // reports as corrupt ("extraneous bytes before marker 0xd0", mozilla/mozjpeg#195):
            // restart intervals get the standard progression instead.
            set_bool(cinfo, ffi::JBOOLEAN_OPTIMIZE_SCANS, false);
        }

        // Quantisation tables, per slot, as cjpeg's set_quality_ratings / read_quant_tables.
        let baseline = options.force_baseline_tables as ffi::boolean;
        match &options.qtables {
            None => {
                // jpeg_set_quality fills slots 0 and 1 from the base table set at one quality; for a
                // different chroma quality, compute slot 1 first and keep it.
                let q1 = options.slot_quality(quality, 1);
                ffi::jpeg_set_quality(cinfo, c_int::from(q1), baseline);
                let chroma = (*cinfo.quant_tbl_ptrs[1]).quantval;
                ffi::jpeg_set_quality(cinfo, c_int::from(quality), baseline);
                (*cinfo.quant_tbl_ptrs[1]).quantval = chroma;
            }
            Some(tables) => {
                ffi::jpeg_set_quality(cinfo, c_int::from(quality), baseline);
                for (slot, table) in tables.iter().enumerate() {
                    let scale = if options.scale_qtables {
                        ffi::jpeg_quality_scaling(c_int::from(options.slot_quality(quality, slot)))
                    } else {
                        100
                    };
                    let basic: [c_uint; 64] = table.map(c_uint::from);
                    ffi::jpeg_add_quant_table(cinfo, slot as c_int, basic.as_ptr(), scale, baseline);
                }
            }
        }
        let num_components = cinfo.num_components as usize;
        let comps = std::slice::from_raw_parts_mut(cinfo.comp_info, num_components);
        if let Some(slots) = &options.qslots {
            for (ci, comp) in comps.iter_mut().enumerate() {
                comp.quant_tbl_no = c_int::from(slots[ci.min(slots.len() - 1)]);
            }
        }
        if let Some(sampling) = &options.sampling {
            for (ci, comp) in comps.iter_mut().enumerate() {
                let (h, v) = sampling.get(ci).copied().unwrap_or((1, 1));
                comp.h_samp_factor = c_int::from(h);
                comp.v_samp_factor = c_int::from(v);
            }
        }
        if options.progressive {
            ffi::jpeg_simple_progression(cinfo);
        } else {
            cinfo.num_scans = 0;
            cinfo.scan_info = ptr::null();
        }

        ffi::jpeg_start_compress(cinfo, 1);
        if options.keep_exif
            && let Some(exif) = &image.metadata.exif
        {
            let mut app1 = Vec::with_capacity(exif.len() + 6);
            app1.extend_from_slice(b"Exif\0\0");
            app1.extend_from_slice(exif);
            if app1.len() <= MAX_MARKER_PAYLOAD {
                ffi::jpeg_write_marker(cinfo, 0xE1, app1.as_ptr(), app1.len() as c_uint);
            } else {
                (*warnings_ptr(cinfo))
                    .push(format!("EXIF of {} bytes does not fit one APP1 segment; dropped", exif.len()));
            }
        }
        if options.keep_icc
            && let Some(icc) = &image.metadata.icc
        {
            ffi::jpeg_write_icc_profile(cinfo, icc.as_ptr(), icc.len() as c_uint);
        }
        let rows: Vec<ffi::JSAMPROW> = (0..image.height()).map(|y| image.row(y).as_ptr()).collect();
        while cinfo.next_scanline < cinfo.image_height {
            let next = cinfo.next_scanline as usize;
            let written = ffi::jpeg_write_scanlines(
                cinfo,
                rows[next..].as_ptr(),
                (rows.len() - next) as ffi::JDIMENSION,
            );
            if written == 0 {
                break;
            }
        }
        ffi::jpeg_finish_compress(cinfo);
        let (buffer, len) = *guard.out;
        std::slice::from_raw_parts(buffer, len as usize).to_vec()
    }
}

/// The warnings vector registered in `client_data`.
///
/// # Safety
/// `cinfo` must be a compressor set up by [`compress`].
unsafe fn warnings_ptr(cinfo: &mut ffi::jpeg_compress_struct) -> *mut Vec<String> {
    // SAFETY: guaranteed by the caller.
    unsafe { *(cinfo.common.client_data as *mut *mut Vec<String>) }
}

/// Owns a decompressor and its error manager; destroys it on drop, also while unwinding.
struct Decompressor {
    cinfo: Box<ffi::jpeg_decompress_struct>,
    _err: Box<ffi::jpeg_error_mgr>,
    _warnings: Box<*mut Vec<String>>,
}

impl Drop for Decompressor {
    fn drop(&mut self) {
        // SAFETY: cinfo was created by jpeg_CreateDecompress; destroying it is always valid afterwards.
        unsafe { ffi::jpeg_destroy_decompress(&mut self.cinfo) };
    }
}

/// Whether a libjpeg warning is harmless: stray bytes just before EOI, which many cameras and editors
/// write and which cannot change any pixel.
fn harmless_warning(message: &str) -> bool {
    message.starts_with("Corrupt JPEG data:") && message.ends_with("before marker 0xd9")
}

/// Decodes a JPEG input with libjpeg, discarding the pixels, to find corrupt entropy-coded data
/// (bad Huffman codes, lost marker synchronisation) that the `image` crate's decoder turns into
/// garbage pixels without an error. Any libjpeg warning other than [`harmless_warning`] refuses the
/// input. Only called after the marker structure was parsed; the header's size is checked against
/// `limits` before libjpeg allocates anything for the scans.
pub(crate) fn check_jpeg_entropy(bytes: &[u8], limits: &crate::Limits) -> Result<()> {
    let mut warnings = Vec::new();
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: inside catch_unwind, as decompress_for_warnings requires.
        unsafe { decompress_for_warnings(bytes, limits, &mut warnings) }
    }));
    let corrupt = |message: String| Error::Decode { format: "JPEG", message };
    match outcome {
        Ok(Ok(())) => match warnings.into_iter().find(|w| !harmless_warning(w)) {
            None => Ok(()),
            Some(warning) => Err(corrupt(warning)),
        },
        Ok(Err(limit)) => Err(limit),
        Err(panic) => {
            Err(corrupt(panic.downcast_ref::<String>().cloned().unwrap_or_else(|| "libjpeg failed".into())))
        }
    }
}

/// Runs one decompression into a single reused row.
///
/// # Safety
/// Must be called inside `catch_unwind`: libjpeg errors unwind out of it.
unsafe fn decompress_for_warnings(
    bytes: &[u8],
    limits: &crate::Limits,
    warnings: &mut Vec<String>,
) -> Result<()> {
    // SAFETY (whole function): the structs are boxed so their addresses are stable while libjpeg holds
    // pointers to them; the guard destroys the decompressor on every exit path; `bytes` outlives it.
    unsafe {
        let mut err: Box<ffi::jpeg_error_mgr> = Box::new(mem::zeroed());
        ffi::jpeg_std_error(&mut err);
        err.error_exit = Some(error_exit);
        err.emit_message = Some(emit_message);
        let mut guard = Decompressor {
            cinfo: Box::new(mem::zeroed()),
            _err: err,
            _warnings: Box::new(warnings as *mut Vec<String>),
        };
        guard.cinfo.common.err = &mut *guard._err;
        guard.cinfo.common.client_data = (&mut *guard._warnings as *mut *mut Vec<String>).cast();
        ffi::jpeg_CreateDecompress(
            &mut *guard.cinfo,
            ffi::JPEG_LIB_VERSION,
            mem::size_of::<ffi::jpeg_decompress_struct>(),
        );
        let cinfo = &mut *guard.cinfo;
        ffi::jpeg_mem_src(cinfo, bytes.as_ptr(), bytes.len() as c_ulong);
        ffi::jpeg_read_header(cinfo, 1);
        limits.check(cinfo.image_width, cinfo.image_height)?;
        cinfo.dct_method = ffi::J_DCT_METHOD::JDCT_IFAST;
        cinfo.do_fancy_upsampling = 0;
        ffi::jpeg_start_decompress(cinfo);
        let row_len = cinfo.output_width as usize * cinfo.output_components.max(1) as usize;
        let mut row = vec![0u8; row_len];
        while cinfo.output_scanline < cinfo.output_height {
            let mut rows = [row.as_mut_ptr()];
            if ffi::jpeg_read_scanlines(cinfo, rows.as_mut_ptr(), 1) == 0 {
                break;
            }
        }
        ffi::jpeg_finish_decompress(cinfo);
        Ok(())
    }
}
