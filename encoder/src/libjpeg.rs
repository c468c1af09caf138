//! The one place that talks to libjpeg (mozjpeg through `mozjpeg-sys`): compressor and decompressor
//! guards, the error hooks, metadata markers, and the decoder of JPEG inputs with its entropy check.
//!
//! libjpeg reports fatal errors through `error_exit`, which must not return. The hook installed here
//! unwinds (mozjpeg-sys is built with `unwinding`, so the C code is compiled with `-fexceptions`);
//! [`guarded`] catches the unwind and turns it into an error, while the guards ([`Compressor`],
//! [`Decompressor`]) release libjpeg's state and buffers on every path. Warnings (`emit_message` at
//! level -1) are collected per guard. This module depends on nothing else in the crate but
//! [`Image`], [`Limits`](crate::Limits) and the error type, so the plain encoder
//! ([`crate::codec::MozJpeg`]), the per-block encoder ([`crate::codec::adaptive`]) and input
//! decoding ([`crate::decode`]) all build on it without importing each other.

use std::ffi::{c_int, c_uint, c_ulong};
use std::marker::PhantomData;
use std::mem;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::ptr;

use mozjpeg_sys as ffi;

use crate::{ColorType, Error, Image, Metadata, Result};

/// The largest payload of one JPEG marker segment.
pub(crate) const MAX_MARKER_PAYLOAD: usize = 65_533;

/// The APP1 payload that carries `metadata`'s EXIF (`Exif\0\0` and the TIFF data), or the warning
/// when it does not fit one segment (it is then dropped); `None` without EXIF. Both libjpeg encoders
/// (mozjpeg and jpegli) write it.
pub(crate) fn exif_segment(metadata: &Metadata) -> Option<std::result::Result<Vec<u8>, String>> {
    let exif = metadata.exif.as_ref()?;
    let mut app1 = Vec::with_capacity(exif.len() + 6);
    app1.extend_from_slice(b"Exif\0\0");
    app1.extend_from_slice(exif);
    Some(if app1.len() <= MAX_MARKER_PAYLOAD {
        Ok(app1)
    } else {
        Err(format!("EXIF of {} bytes does not fit one APP1 segment; dropped", exif.len()))
    })
}

/// Runs `body`, which drives libjpeg, catching libjpeg's fatal errors (and any other panic) as the
/// message they carry.
pub(crate) fn guarded<T>(body: impl FnOnce() -> T) -> std::result::Result<T, String> {
    catch_unwind(AssertUnwindSafe(body)).map_err(|payload| {
        payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_string()))
            .unwrap_or_else(|| "unknown libjpeg error".into())
    })
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

extern "C-unwind" fn error_exit(cinfo: &mut ffi::jpeg_common_struct) {
    // SAFETY: libjpeg calls this with its own cinfo, whose err is our live error manager.
    let message = unsafe { current_message(cinfo) };
    std::panic::resume_unwind(Box::new(message));
}

extern "C-unwind" fn emit_message(cinfo: &mut ffi::jpeg_common_struct, level: c_int) {
    if level >= 0 {
        return; // trace messages
    }
    // SAFETY: as above; client_data points to the guard's boxed warnings, which live as long as the
    // libjpeg object does.
    unsafe {
        (*cinfo.err).num_warnings += 1;
        let message = current_message(cinfo);
        let warnings = cinfo.client_data.cast::<Vec<String>>();
        (*warnings).push(message);
    }
}

/// A fresh error manager with our hooks.
fn error_manager() -> Box<ffi::jpeg_error_mgr> {
    // SAFETY: jpeg_std_error only fills in the struct; zeroed is a valid starting state.
    unsafe {
        let mut err: Box<ffi::jpeg_error_mgr> = Box::new(mem::zeroed());
        ffi::jpeg_std_error(&mut err);
        err.error_exit = Some(error_exit);
        err.emit_message = Some(emit_message);
        err
    }
}

/// Owns a compressor writing to memory, its error manager, the output buffer and the warnings;
/// releases all of them on drop, also while unwinding from a libjpeg error.
pub(crate) struct Compressor {
    cinfo: Box<ffi::jpeg_compress_struct>,
    _err: Box<ffi::jpeg_error_mgr>,
    out: Box<(*mut u8, c_ulong)>,
    // Boxed: libjpeg's client_data points at it, and the guard moves.
    #[allow(clippy::box_collection)]
    warnings: Box<Vec<String>>,
}

impl Compressor {
    /// A compressor with a memory destination.
    ///
    /// # Safety
    /// Must be called inside [`guarded`]: libjpeg errors unwind.
    pub(crate) unsafe fn new() -> Self {
        let mut guard = Compressor {
            // SAFETY: an all-zero struct is what jpeg_CreateCompress expects to initialise.
            cinfo: Box::new(unsafe { mem::zeroed() }),
            _err: error_manager(),
            out: Box::new((ptr::null_mut(), 0)),
            warnings: Box::default(),
        };
        guard.cinfo.common.err = &mut *guard._err;
        guard.cinfo.common.client_data = (&mut *guard.warnings as *mut Vec<String>).cast();
        // SAFETY: the boxed structs keep stable addresses while libjpeg points at them.
        unsafe {
            ffi::jpeg_CreateCompress(
                &mut *guard.cinfo,
                ffi::JPEG_LIB_VERSION,
                mem::size_of::<ffi::jpeg_compress_struct>(),
            );
            let out: *mut (*mut u8, c_ulong) = &mut *guard.out;
            ffi::jpeg_mem_dest(&mut guard.cinfo, &mut (*out).0, &mut (*out).1);
        }
        guard
    }

    /// The libjpeg object.
    pub(crate) fn cinfo(&mut self) -> &mut ffi::jpeg_compress_struct {
        &mut self.cinfo
    }

    /// Adds a warning of our own (it gives cjpeg's exit status 2 like libjpeg's).
    pub(crate) fn warn(&mut self, message: String) {
        self.warnings.push(message);
    }

    /// Writes the EXIF (APP1) and ICC (APP2) markers that `keep_*` allow. EXIF that does not fit one
    /// APP1 segment is dropped with a warning. Call between `jpeg_start_compress` (or
    /// `jpeg_write_coefficients`) and the first scanline.
    ///
    /// # Safety
    /// Inside [`guarded`], after compression started.
    pub(crate) unsafe fn write_metadata(&mut self, metadata: &Metadata, keep_icc: bool, keep_exif: bool) {
        if keep_exif {
            match exif_segment(metadata) {
                // SAFETY: a live compressor in the marker-writing state, per the contract.
                Some(Ok(app1)) => unsafe {
                    ffi::jpeg_write_marker(&mut self.cinfo, 0xE1, app1.as_ptr(), app1.len() as c_uint)
                },
                Some(Err(warning)) => self.warn(warning),
                None => {}
            }
        }
        if keep_icc && let Some(icc) = &metadata.icc {
            // SAFETY: as above; libjpeg splits the profile into APP2 chunks itself.
            unsafe { ffi::jpeg_write_icc_profile(&mut self.cinfo, icc.as_ptr(), icc.len() as c_uint) };
        }
    }

    /// Finishes compression: the file and the warnings raised while writing it.
    ///
    /// # Safety
    /// Inside [`guarded`], with every scanline (or the coefficients) written.
    pub(crate) unsafe fn finish(mut self) -> (Vec<u8>, Vec<String>) {
        // SAFETY: per the contract; the buffer is libjpeg's memory destination, valid until drop.
        unsafe {
            ffi::jpeg_finish_compress(&mut self.cinfo);
            let (buffer, len) = *self.out;
            let bytes = std::slice::from_raw_parts(buffer, len as usize).to_vec();
            (bytes, mem::take(&mut *self.warnings))
        }
    }
}

impl Drop for Compressor {
    fn drop(&mut self) {
        // SAFETY: cinfo was created by jpeg_CreateCompress (or is still zeroed, which destroy accepts);
        // the output buffer was malloc'ed by libjpeg's memory destination and is ours to free.
        unsafe {
            ffi::jpeg_destroy_compress(&mut self.cinfo);
            if !self.out.0.is_null() {
                libc::free(self.out.0.cast());
                self.out.0 = ptr::null_mut();
            }
        }
    }
}

/// Owns a decompressor reading from `'a` bytes, its error manager and the warnings; destroys it on
/// drop, also while unwinding.
pub(crate) struct Decompressor<'a> {
    cinfo: Box<ffi::jpeg_decompress_struct>,
    _err: Box<ffi::jpeg_error_mgr>,
    // Boxed: libjpeg's client_data points at it, and the guard moves.
    #[allow(clippy::box_collection)]
    warnings: Box<Vec<String>>,
    _source: PhantomData<&'a [u8]>,
}

impl<'a> Decompressor<'a> {
    /// A decompressor over `bytes`, header not yet read.
    ///
    /// # Safety
    /// Inside [`guarded`].
    pub(crate) unsafe fn new(bytes: &'a [u8]) -> Self {
        let mut guard = Decompressor {
            // SAFETY: an all-zero struct is what jpeg_CreateDecompress expects to initialise.
            cinfo: Box::new(unsafe { mem::zeroed() }),
            _err: error_manager(),
            warnings: Box::default(),
            _source: PhantomData,
        };
        guard.cinfo.common.err = &mut *guard._err;
        guard.cinfo.common.client_data = (&mut *guard.warnings as *mut Vec<String>).cast();
        // SAFETY: boxed structs keep stable addresses; `bytes` outlives the guard ('a).
        unsafe {
            ffi::jpeg_CreateDecompress(
                &mut *guard.cinfo,
                ffi::JPEG_LIB_VERSION,
                mem::size_of::<ffi::jpeg_decompress_struct>(),
            );
            ffi::jpeg_mem_src(&mut guard.cinfo, bytes.as_ptr(), bytes.len() as c_ulong);
        }
        guard
    }
}

impl Decompressor<'_> {
    /// The libjpeg object.
    pub(crate) fn cinfo(&mut self) -> &mut ffi::jpeg_decompress_struct {
        &mut self.cinfo
    }
}

impl Drop for Decompressor<'_> {
    fn drop(&mut self) {
        // SAFETY: cinfo was created by jpeg_CreateDecompress (or is zeroed); destroy is always valid.
        unsafe { ffi::jpeg_destroy_decompress(&mut self.cinfo) };
    }
}

/// Whether a libjpeg warning is harmless: stray bytes just before EOI, which many cameras and editors
/// write and which cannot change any pixel.
fn harmless_warning(message: &str) -> bool {
    message.starts_with("Corrupt JPEG data:") && message.ends_with("before marker 0xd9")
}

/// How a JPEG's components become our pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum InputColor {
    /// One component.
    Gray,
    /// YCbCr or RGB, converted by libjpeg.
    Rgb,
    /// CMYK or YCCK, read as CMYK and converted here; `inverted` as Adobe's APP14 writers store it.
    Cmyk {
        /// Adobe's inverted convention (an APP14 "Adobe" marker is present).
        inverted: bool,
    },
}

/// How strictly [`decode_jpeg`] treats libjpeg's warnings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Warnings {
    /// An input from outside: any warning but stray bytes before EOI refuses it (corrupt
    /// entropy-coded data that other decoders turn into garbage pixels without an error), unless the
    /// file has restart markers (libjpeg reports recoverable resynchronisation the same way, even on
    /// mozjpeg's own progressive + restart output).
    Refuse,
    /// A candidate jndenc just wrote: decode what is there.
    Ignore,
}

/// Decodes a JPEG with libjpeg in one pass, the one JPEG decoder of the crate (inputs, and the
/// candidates the search judges, so both sides of a comparison see the same decoder): the marker
/// structure must be complete up to EOI (a truncated scan would otherwise be padded with grey) with a
/// bounded scan count ([`jpeg_info::parse`](crate::jpeg_info::parse)); the size is checked against
/// `limits` before libjpeg allocates anything for the scans; the pixels become 8-bit RGB or grey, with
/// the ICC profile and EXIF.
pub(crate) fn decode_jpeg(bytes: &[u8], limits: &crate::Limits, warnings: Warnings) -> Result<Image> {
    let info = crate::jpeg_info::parse(bytes)?;
    limits.check(u32::from(info.width), u32::from(info.height))?;
    let color = match info.components.len() {
        1 => InputColor::Gray,
        3 => InputColor::Rgb,
        4 => InputColor::Cmyk { inverted: info.adobe },
        n => return Err(Error::Unsupported(format!("JPEG input with {n} components"))),
    };
    let tolerate = warnings == Warnings::Ignore || info.restart_interval.is_some();
    let corrupt = |message: String| Error::Decode { format: "JPEG", message };
    let outcome = guarded(|| {
        // SAFETY: inside guarded, as decompress requires.
        unsafe { decompress(bytes, limits, color) }
    });
    let mut image = match outcome {
        Ok(Ok((image, warnings))) => match warnings.into_iter().find(|w| !harmless_warning(w)) {
            Some(warning) if !tolerate => return Err(corrupt(warning)),
            _ => image,
        },
        Ok(Err(limit)) => return Err(limit),
        Err(message) => return Err(corrupt(message)),
    };
    image.metadata =
        Metadata { icc: info.icc.filter(|p| !p.is_empty()), exif: info.exif.filter(|e| !e.is_empty()) };
    Ok(image)
}

/// Runs one decompression into an [`Image`].
///
/// # Safety
/// Inside [`guarded`].
unsafe fn decompress(
    bytes: &[u8],
    limits: &crate::Limits,
    color: InputColor,
) -> Result<(Image, Vec<String>)> {
    // SAFETY (whole function): the guard keeps libjpeg's state valid and destroys it on every path;
    // rows handed to libjpeg are slices of the output buffer of exactly one row each.
    unsafe {
        let mut guard = Decompressor::new(bytes);
        let cinfo = &mut *guard.cinfo;
        ffi::jpeg_read_header(cinfo, 1);
        limits.check(cinfo.image_width, cinfo.image_height)?;
        let (out_space, channels) = match color {
            InputColor::Gray => (ffi::J_COLOR_SPACE::JCS_GRAYSCALE, 1),
            InputColor::Rgb => (ffi::J_COLOR_SPACE::JCS_RGB, 3),
            InputColor::Cmyk { .. } => (ffi::J_COLOR_SPACE::JCS_CMYK, 4),
        };
        cinfo.out_color_space = out_space;
        ffi::jpeg_start_decompress(cinfo);
        let (width, height) = (cinfo.output_width as usize, cinfo.output_height as usize);
        if cinfo.output_components as usize != channels {
            return Err(Error::Decode {
                format: "JPEG",
                message: format!("{} output components where {channels} were asked", cinfo.output_components),
            });
        }
        let row_len = width * channels;
        let mut samples = vec![0u8; row_len * height];
        while (cinfo.output_scanline as usize) < height {
            let y = cinfo.output_scanline as usize;
            let mut rows = [samples[y * row_len..].as_mut_ptr()];
            if ffi::jpeg_read_scanlines(cinfo, rows.as_mut_ptr(), 1) == 0 {
                break;
            }
        }
        ffi::jpeg_finish_decompress(cinfo);
        let (pixels, color_type) = match color {
            InputColor::Gray => (samples, ColorType::Gray),
            InputColor::Rgb => (samples, ColorType::Rgb),
            InputColor::Cmyk { inverted } => (cmyk_to_rgb(&samples, inverted), ColorType::Rgb),
        };
        let image = Image::new(width as u32, height as u32, color_type, pixels)?;
        Ok((image, mem::take(&mut *guard.warnings)))
    }
}

/// CMYK samples to RGB (no colour management): `R = (1 - C)(1 - K)`, with Adobe's inverted storage
/// (`inverted`: the samples are already `1 - C`, `1 - K`).
fn cmyk_to_rgb(cmyk: &[u8], inverted: bool) -> Vec<u8> {
    let mut rgb = Vec::with_capacity(cmyk.len() / 4 * 3);
    for p in cmyk.chunks_exact(4) {
        let ink = |v: u8| if inverted { u32::from(v) } else { 255 - u32::from(v) };
        let k = ink(p[3]);
        for &c in &p[..3] {
            rgb.push(((ink(c) * k + 127) / 255) as u8);
        }
    }
    rgb
}
