//! JPEG through mozjpeg (libjpeg API via `mozjpeg-sys`), with cjpeg's full set of switches. libjpeg's
//! errors, guards and metadata markers live in [`crate::libjpeg`].

use std::ffi::{c_int, c_uint};
use std::ptr;

use mozjpeg_sys as ffi;

use super::{
    Codec, Encoded, JpegColor, JpegOptions, OutputFormat, Restart, check_quality, decode_jpeg, libjpeg_input,
};
use crate::codec::DctMethod;
use crate::libjpeg::{Compressor, guarded};
use crate::{ColorType, Error, Image, Result};

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
    fn chroma(&self) -> String {
        self.options.chroma_name()
    }

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
        let input = libjpeg_input(&self.options, image)?;
        let outcome = guarded(|| {
            // SAFETY: `compress` upholds libjpeg's calling sequence; see its comments.
            unsafe { compress(&input, quality, &self.options) }
        });
        match outcome {
            Ok((bytes, warnings)) => Ok(Encoded { bytes, warnings }),
            Err(message) => Err(Error::Encode { codec: "mozjpeg", message }),
        }
    }

    fn decode(&self, bytes: &[u8]) -> Result<Image> {
        decode_jpeg(bytes)
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
unsafe fn compress(image: &Image, quality: u8, options: &JpegOptions) -> (Vec<u8>, Vec<String>) {
    // SAFETY (whole function): the guard keeps libjpeg's structs at stable addresses and destroys the
    // compressor on every exit path.
    unsafe {
        let mut guard = Compressor::new();
        let cinfo = guard.cinfo();
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
        // JFIF means YCbCr or grey to every reader (libjpeg lets it override Adobe's transform 0):
        // an RGB-coded file is marked by the Adobe marker alone, as cjpeg -rgb writes it.
        cinfo.write_JFIF_header = (options.jfif && options.color != JpegColor::Rgb) as ffi::boolean;
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
        guard.write_metadata(&image.metadata, options.keep_icc, options.keep_exif);
        let cinfo = guard.cinfo();
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
        guard.finish()
    }
}
