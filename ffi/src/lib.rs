//! # libjnd: the C ABI
//!
//! `libjnd.so` / `libjnd.a` give C and C++ programs the decisions `jndenc` makes: the JND quality of an
//! image, the encoded bytes at that quality, and the pixel-wise JND map. The header `ffi/include/jnd.h` is
//! generated from this file by cbindgen (`ffi/cbindgen.toml`); a test fails when it is stale.
//!
//! Conventions (libwebp / TurboJPEG 3 / rav1e style):
//! - an opaque handle from [`jnd_encoder_new`], freed with [`jnd_encoder_free`] (NULL is a no-op);
//! - every function returns a status ([`JND_OK`] or a negative `JND_ERROR_*`); the message of the last
//!   failure is kept per handle and read with [`jnd_last_error`] (no global state, so handles can be used
//!   on different threads at once; one handle must not be used by two threads at the same time);
//! - every entry point validates its pointers, sizes and strides and catches panics;
//! - buffers returned by [`jnd_encode`] are freed with [`jnd_free_buffer`].

use std::ffi::{CStr, CString, c_char, c_float, c_int};
use std::panic::{AssertUnwindSafe, catch_unwind};

use jnd_model::Accelerator;
use jndenc::Models;
use jndenc::auto::{Decider, TeacherDecider};
use jndenc::codec::OutputFormat;
use jndenc::pixels::{PixelLayout, PixelView, Strides};
use jndenc::settings::{DeciderKind, JpegEncoder};
use jndenc::settings::{Opt, Preset, Request, Sampling, SearchKind, Strip, Value};
use jndenc::{EncodePlan, Image, Metadata, Names};

/// Success.
pub const JND_OK: c_int = 0;
/// Success, but an option given has no effect in this mode (as cjpeg's exit status 2): the output is
/// written, and [`jnd_last_error`] says which option and why.
pub const JND_WARNING: c_int = 1;
/// A required pointer was NULL.
pub const JND_ERROR_NULL_POINTER: c_int = -1;
/// An argument is out of range or conflicts with another: an option's value or combination (the
/// message names the options), dimensions, stride, enum value, buffer size.
pub const JND_ERROR_INVALID_ARGUMENT: c_int = -2;
/// The codec failed while encoding.
pub const JND_ERROR_ENCODE: c_int = -3;
/// A panic inside the library was caught (a bug: please report the message).
pub const JND_ERROR_INTERNAL: c_int = -4;
/// The device asked for is not compiled into this library, or cannot run on this machine (no
/// driver, no GPU, no NVRTC or CUDA headers: the message says which).
pub const JND_ERROR_DEVICE_UNAVAILABLE: c_int = -5;
/// The picture is larger than a limit (a side, the pixel count or the memory budget).
pub const JND_ERROR_LIMITS: c_int = -6;
/// Valid, but this codec or build cannot do it (a JPEG codec with HEIF output, a feature not built).
pub const JND_ERROR_UNSUPPORTED: c_int = -7;
/// An embedded model could not be loaded or run.
pub const JND_ERROR_MODEL: c_int = -8;

/// Pixel layout: 8-bit R, G, B interleaved.
pub const JND_PIXEL_RGB8: c_int = 0;
/// Pixel layout: 8-bit gray.
pub const JND_PIXEL_GRAY8: c_int = 1;
/// Pixel layout: 8-bit R, G, B, A interleaved (alpha is ignored, as cjpeg does).
pub const JND_PIXEL_RGBA8: c_int = 2;

/// Output: JPEG (the codec set by [`jnd_encoder_set_codec`]).
pub const JND_FORMAT_JPEG: c_int = 0;
/// Output: HEVC-intra HEIF (libheif + x265).
pub const JND_FORMAT_HEIF: c_int = 1;

/// JPEG codec: jndenc's choice (the default): jpegli for the JND search, mozjpeg at a fixed quality,
/// so a fixed quality means what it means to cjpeg.
pub const JND_CODEC_DEFAULT: c_int = 0;
/// JPEG codec: mozjpeg (trellis quantisation, Annex K tables).
pub const JND_CODEC_MOZJPEG: c_int = 1;
/// JPEG codec: jpegli (butteraugli-distance tables, adaptive quantisation; a fixed quality is on
/// jpegli's own scale).
pub const JND_CODEC_JPEGLI: c_int = 2;
/// JPEG codec: the pure-Rust `jpeg-encoder` crate.
pub const JND_CODEC_RUST: c_int = 3;

/// Models on the CPU (burn's flex backend). The default.
pub const JND_DEVICE_CPU: c_int = 0;
/// Models on NVIDIA GPU 0 through burn-cuda (a library built with the `cuda` feature).
pub const JND_DEVICE_CUDA: c_int = 1;
/// Models on the default GPU adapter through burn's wgpu backend (the `wgpu` feature).
pub const JND_DEVICE_WGPU: c_int = 2;

/// The paper's operating point: MCL-JCI's mean first JND (butteraugli 3-norm 2.295, no SSIMULACRA 2
/// floor), where about half of its viewers noticed; visible at 1:1.
pub const JND_TARGET_HUMAN_FIRST_JND: c_int = 0;
/// The default: nobody comparing side by side at 1:1 should tell it from the original (3-norm 1.0
/// and its SSIMULACRA 2 floor; `docs/decision.md`).
pub const JND_TARGET_VISUALLY_LOSSLESS: c_int = 1;
/// The second generation's name of [`JND_TARGET_VISUALLY_LOSSLESS`] (the same value).
pub const JND_TARGET_STRICT: c_int = 1;
/// The quality 75 % of MCL-JCI's viewers cannot tell from the original (3-norm 2.095, no floor).
pub const JND_TARGET_SUR75: c_int = 2;
/// Machine consumers, as `jndenc --target machine`: the machine quantisation tables at the handle's
/// fixed quality (75 when automatic), each block's coarsening chosen by rate and the four
/// classifiers' sensitivity (option "rd-lambda"), 4:4:4 from quality 96; option "map-strength" adds
/// the DMV-JND map as each block's bound. JPEG through mozjpeg only.
pub const JND_TARGET_MACHINE: c_int = 3;
/// Web images looked at closely (3-norm 1.5 and its floor).
pub const JND_TARGET_WEB_HIGH: c_int = 4;
/// Web images at the size they are shown (3-norm 2.0 and its floor).
pub const JND_TARGET_WEB: c_int = 5;

/// Chroma subsampling: the codec's default (4:2:0).
pub const JND_SAMPLING_DEFAULT: c_int = 0;
/// Chroma subsampling 4:2:0.
pub const JND_SAMPLING_420: c_int = 1;
/// Chroma subsampling 4:4:4 (none).
pub const JND_SAMPLING_444: c_int = 2;

/// Metadata: keep it (C callers hand pixels, so this concerns jndenc's marker only).
pub const JND_STRIP_NONE: c_int = 0;
/// Leave out the ICC profile.
pub const JND_STRIP_ICC: c_int = 1;
/// Leave out EXIF.
pub const JND_STRIP_EXIF: c_int = 2;
/// Leave out ICC, EXIF and jndenc's marker.
pub const JND_STRIP_ALL: c_int = 3;

/// Who judges candidates: the default (butteraugli, the teacher).
pub const JND_DECIDER_DEFAULT: c_int = 0;
/// butteraugli 3-norm against the target.
pub const JND_DECIDER_TEACHER: c_int = 1;
/// The second generation's patch network (VP-JNDnet).
pub const JND_DECIDER_MODEL: c_int = 2;
/// The whole-picture VP-JND judge, checked by the real metrics near the bounds.
pub const JND_DECIDER_VPJND: c_int = 3;

/// The search starts at the quality prior and brackets the answer (the default).
pub const JND_SEARCH_PRIOR: c_int = 0;
/// The block search over the whole range.
pub const JND_SEARCH_BLOCK: c_int = 1;

/// Largest side accepted, as `jndenc` (65,500 pixels).
pub const JND_MAX_SIDE: u32 = 65_500;
/// Largest pixel count accepted (256 megapixels, 2^28 pixels): the library's default limit.
pub const JND_MAX_PIXELS: u64 = 268_435_456;

// One limit: the C constants are the library's (cbindgen needs literals, so they are checked here).
const _: () = assert!(JND_MAX_PIXELS == jndenc::MAX_PIXELS);
const _: () = assert!(JND_MAX_SIDE == jndenc::JPEG_MAX_DIMENSION);

/// An encoder: the request its setters built (the library's vocabulary), the models (loaded on first
/// use), its thread pool, and the last error or warning message.
pub struct JndEncoder {
    request: Request,
    pool: Option<rayon::ThreadPool>,
    models: Models,
    last_error: CString,
    last_report: CString,
}

/// The status of a library error: one code per kind.
fn status_of(error: &jndenc::Error) -> c_int {
    use jndenc::Error as E;
    match error {
        E::Option(_) | E::Parameter(_) | E::Pixels(_) => JND_ERROR_INVALID_ARGUMENT,
        E::Limits(_) => JND_ERROR_LIMITS,
        E::Unsupported(_) => JND_ERROR_UNSUPPORTED,
        E::Device(_) => JND_ERROR_DEVICE_UNAVAILABLE,
        E::Model(_) => JND_ERROR_MODEL,
        _ => JND_ERROR_ENCODE,
    }
}

/// A library error as (status, message).
fn failure(error: jndenc::Error) -> (c_int, String) {
    (status_of(&error), error.to_string())
}

impl JndEncoder {
    fn fail(&mut self, status: c_int, message: impl Into<String>) -> c_int {
        let text: String = message.into().replace('\0', " ");
        self.last_error = CString::new(text).unwrap_or_default();
        status
    }

    /// Records a library error and returns its status.
    fn fail_with(&mut self, error: jndenc::Error) -> c_int {
        let (status, message) = failure(error);
        self.fail(status, message)
    }

    /// Sets one option through the vocabulary (which checks the value), recording a refusal.
    fn set(&mut self, option: Opt, value: Value<'_>) -> c_int {
        match self.request.set(option, value) {
            Ok(()) => JND_OK,
            Err(error) => self.fail_with(error.into()),
        }
    }

    /// The plan of the handle's request (`auto`: with the quality left to the search) and the
    /// warnings about options that have no effect.
    fn plan(&self, auto: bool) -> Result<(EncodePlan, Vec<String>), (c_int, String)> {
        let mut request = self.request.clone();
        if auto {
            request.clear(Opt::Quality);
        }
        let resolved = request.resolve().map_err(failure)?;
        let warnings = resolved.warnings.iter().map(ToString::to_string).collect();
        let plan = EncodePlan::new(resolved.settings, &self.models).map_err(failure)?;
        Ok((plan, warnings))
    }

    /// The decider of `jnd_judge`: auto mode's default judge (the butteraugli teacher) at the
    /// handle's target, so C callers get the decisions `jnd_encode` makes.
    fn decider(&self) -> Result<TeacherDecider, (c_int, String)> {
        let resolved = self.request.resolve().map_err(failure)?;
        let target = match resolved.settings.mode {
            jndenc::settings::Mode::Auto { target, .. } => target,
            _ => jndenc::target::Target::default(),
        };
        Ok(TeacherDecider { target })
    }

    /// Runs `f` on the handle's thread pool (the process-wide pool when none was set).
    fn run<T: Send>(&self, f: impl FnOnce() -> T + Send) -> T {
        match &self.pool {
            Some(pool) => pool.install(f),
            None => f(),
        }
    }
}

/// [`image_from`], recording a failure on the handle; `Err` carries the status to return.
///
/// # Safety
/// As [`image_from`].
unsafe fn caller_image(
    e: &mut JndEncoder,
    pixels: *const u8,
    width: u32,
    height: u32,
    stride: usize,
    pixel_format: c_int,
) -> Result<Image, c_int> {
    // SAFETY: forwarded caller contract.
    unsafe { image_from(pixels, width, height, stride, pixel_format) }
        .map_err(|(status, message)| e.fail(status, message))
}

/// Runs `body` on a non-NULL handle, turning panics into [`JND_ERROR_INTERNAL`].
///
/// # Safety
/// `encoder` must be NULL or a live handle from [`jnd_encoder_new`], used by no other thread during
/// the call.
unsafe fn with_encoder(encoder: *mut JndEncoder, body: impl FnOnce(&mut JndEncoder) -> c_int) -> c_int {
    if encoder.is_null() {
        return JND_ERROR_NULL_POINTER;
    }
    // SAFETY: per this function's contract.
    let encoder = unsafe { &mut *encoder };
    match catch_unwind(AssertUnwindSafe(|| body(&mut *encoder))) {
        Ok(status) => status,
        Err(panic) => {
            let message = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            encoder.fail(JND_ERROR_INTERNAL, format!("internal error: {message}"))
        }
    }
}

/// Copies caller pixels into an [`Image`] through the library's checked [`PixelView`].
///
/// # Safety
/// `pixels` must be NULL or point to `stride * (height - 1) + width * bytes_per_pixel` readable bytes.
unsafe fn image_from(
    pixels: *const u8,
    width: u32,
    height: u32,
    stride: usize,
    pixel_format: c_int,
) -> Result<Image, (c_int, String)> {
    if pixels.is_null() {
        return Err((JND_ERROR_NULL_POINTER, "pixels is NULL".into()));
    }
    let layout = match pixel_format {
        JND_PIXEL_RGB8 => PixelLayout::Rgb8,
        JND_PIXEL_GRAY8 => PixelLayout::Gray8,
        JND_PIXEL_RGBA8 => PixelLayout::Rgba8,
        other => return Err((JND_ERROR_INVALID_ARGUMENT, format!("unknown pixel format {other}"))),
    };
    // An empty picture, the limits and the row stride first, then the span (checked for overflow)
    // the slice covers.
    if width == 0 || height == 0 {
        return Err((JND_ERROR_INVALID_ARGUMENT, format!("an empty picture ({width}x{height})")));
    }
    jndenc::Limits::default().check(width, height).map_err(failure)?;
    jndenc::pixels::check_row_stride(width, stride, layout).map_err(failure)?;
    let span = PixelView::span(width, height, layout, Strides::rows(stride, layout)).map_err(failure)?;
    // SAFETY: the caller guarantees `stride * (height - 1) + width * bpp` readable bytes, which is
    // `span` (computed without overflow above).
    let samples = unsafe { std::slice::from_raw_parts(pixels, span) };
    PixelView::packed(samples, width, height, stride, layout)
        .and_then(|view| view.to_image(Metadata::default()))
        .map_err(failure)
}

/// The library version as a NUL-terminated string, valid for the life of the process.
#[unsafe(no_mangle)]
pub extern "C" fn jnd_version() -> *const c_char {
    const VERSION: &CStr =
        match CStr::from_bytes_with_nul(concat!(env!("CARGO_PKG_VERSION"), "\0").as_bytes()) {
            Ok(v) => v,
            Err(_) => c"unknown",
        };
    VERSION.as_ptr()
}

/// A new encoder with jndenc's defaults: JPEG, `human-first-jnd`, qualities 1..100 (HEIF 0..100),
/// automatic quality, the global thread pool, the models on the device `JNDENC_DEVICE` names (the
/// CPU when unset or unusable). NULL only if memory is exhausted.
#[unsafe(no_mangle)]
pub extern "C" fn jnd_encoder_new() -> *mut JndEncoder {
    catch_unwind(|| {
        let models = Request::default()
            .accelerator()
            .ok()
            .and_then(|device| Models::on(device).ok())
            .unwrap_or_default();
        Box::into_raw(Box::new(JndEncoder {
            request: Request::default(),
            pool: None,
            models,
            last_error: CString::default(),
            last_report: CString::default(),
        }))
    })
    .unwrap_or(std::ptr::null_mut())
}

/// Frees an encoder. NULL is a no-op.
///
/// # Safety
/// `encoder` must be NULL or a handle from [`jnd_encoder_new`] not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn jnd_encoder_free(encoder: *mut JndEncoder) {
    if !encoder.is_null() {
        // SAFETY: per the contract, the handle came from Box::into_raw and is freed once.
        drop(unsafe { Box::from_raw(encoder) });
    }
}

/// The message of the handle's last failure or warning ("" if none), valid until the next call on
/// the handle.
/// NULL gives a static message saying so.
///
/// # Safety
/// `encoder` must be NULL or a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn jnd_last_error(encoder: *const JndEncoder) -> *const c_char {
    if encoder.is_null() {
        return c"encoder is NULL".as_ptr();
    }
    // SAFETY: a live handle per the contract.
    unsafe { (*encoder).last_error.as_ptr() }
}

/// The report of the handle's last successful [`jnd_encode`] or [`jnd_predict_quality`] as JSON (the
/// `images[0]` entry of `jndenc --report r.json`: quality, bytes, the target's pair, every probe with
/// its 3-norm and SSIMULACRA 2, the sampling and why), "" before any; valid until the next call on the
/// handle. NULL gives "".
///
/// # Safety
/// `encoder` must be NULL or a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn jnd_last_report(encoder: *const JndEncoder) -> *const c_char {
    if encoder.is_null() {
        return c"".as_ptr();
    }
    // SAFETY: a live handle per the contract.
    unsafe { (*encoder).last_report.as_ptr() }
}

/// Sets the output format: [`JND_FORMAT_JPEG`] or [`JND_FORMAT_HEIF`]. Resets the quality bounds to the
/// format's full range.
///
/// # Safety
/// `encoder` must be NULL or a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn jnd_encoder_set_format(encoder: *mut JndEncoder, format: c_int) -> c_int {
    let body = |e: &mut JndEncoder| {
        let format = match format {
            JND_FORMAT_JPEG => OutputFormat::Jpeg,
            JND_FORMAT_HEIF => OutputFormat::Heif,
            other => return e.fail(JND_ERROR_INVALID_ARGUMENT, format!("unknown format {other}")),
        };
        e.request.format = Some(format);
        e.request.clear(Opt::MinQuality);
        e.request.clear(Opt::MaxQuality);
        JND_OK
    };
    // SAFETY: forwarded caller contract.
    unsafe { with_encoder(encoder, body) }
}

/// Sets the JPEG codec: [`JND_CODEC_DEFAULT`], [`JND_CODEC_MOZJPEG`], [`JND_CODEC_JPEGLI`] or
/// [`JND_CODEC_RUST`]. A named codec with HEIF output fails at the next encode
/// ([`JND_ERROR_UNSUPPORTED`]).
///
/// # Safety
/// `encoder` must be NULL or a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn jnd_encoder_set_codec(encoder: *mut JndEncoder, codec: c_int) -> c_int {
    let body = |e: &mut JndEncoder| {
        e.request.codec = match codec {
            JND_CODEC_DEFAULT => None,
            JND_CODEC_MOZJPEG => Some(JpegEncoder::MozJpeg),
            JND_CODEC_JPEGLI => Some(JpegEncoder::Jpegli),
            JND_CODEC_RUST => Some(JpegEncoder::Rust),
            other => return e.fail(JND_ERROR_INVALID_ARGUMENT, format!("unknown codec {other}")),
        };
        JND_OK
    };
    // SAFETY: forwarded caller contract.
    unsafe { with_encoder(encoder, body) }
}

/// Sets the target: [`JND_TARGET_VISUALLY_LOSSLESS`] (the default), [`JND_TARGET_WEB_HIGH`],
/// [`JND_TARGET_WEB`], [`JND_TARGET_HUMAN_FIRST_JND`], [`JND_TARGET_SUR75`] (people) or
/// [`JND_TARGET_MACHINE`] (classifiers). Replaces bounds set before.
///
/// # Safety
/// `encoder` must be NULL or a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn jnd_encoder_set_target(encoder: *mut JndEncoder, target: c_int) -> c_int {
    let body = |e: &mut JndEncoder| {
        let preset = match target {
            JND_TARGET_HUMAN_FIRST_JND => Preset::HumanFirstJnd,
            JND_TARGET_VISUALLY_LOSSLESS => Preset::VisuallyLossless,
            JND_TARGET_SUR75 => Preset::Sur75,
            JND_TARGET_MACHINE => Preset::Machine,
            JND_TARGET_WEB_HIGH => Preset::WebHigh,
            JND_TARGET_WEB => Preset::Web,
            other => return e.fail(JND_ERROR_INVALID_ARGUMENT, format!("unknown target {other}")),
        };
        e.request.target = Some(preset);
        e.request.clear(Opt::Distance);
        e.request.clear(Opt::Ssimulacra2);
        JND_OK
    };
    // SAFETY: forwarded caller contract.
    unsafe { with_encoder(encoder, body) }
}

/// Sets the target's butteraugli 3-norm ceiling (0.5 to 4.0), as `jndenc --distance`; NaN and values
/// outside the range are refused with `JND_ERROR_INVALID_ARGUMENT`. Replaces a named target set
/// before; with [`jnd_encoder_set_ssimulacra2`], both bounds.
///
/// # Safety
/// `encoder` must be NULL or a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn jnd_encoder_set_distance(encoder: *mut JndEncoder, distance: f64) -> c_int {
    let body = |e: &mut JndEncoder| {
        let status = e.set(Opt::Distance, Value::Float(distance));
        if status == JND_OK {
            e.request.clear(Opt::Target);
        }
        status
    };
    // SAFETY: forwarded caller contract.
    unsafe { with_encoder(encoder, body) }
}

/// Sets the target's SSIMULACRA 2 floor (0 to 100), as `jndenc --ssimulacra2`; a negative value
/// removes it. NaN and values above 100 are refused with `JND_ERROR_INVALID_ARGUMENT`. Replaces a
/// named target set before; with [`jnd_encoder_set_distance`], both bounds.
///
/// # Safety
/// `encoder` must be NULL or a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn jnd_encoder_set_ssimulacra2(encoder: *mut JndEncoder, floor: f64) -> c_int {
    let body = |e: &mut JndEncoder| {
        if floor < 0.0 {
            e.request.clear(Opt::Ssimulacra2);
            return JND_OK;
        }
        let status = e.set(Opt::Ssimulacra2, Value::Float(floor));
        if status == JND_OK {
            e.request.clear(Opt::Target);
        }
        status
    };
    // SAFETY: forwarded caller contract.
    unsafe { with_encoder(encoder, body) }
}

/// Bounds the quality search to `min..=max` (0..100, `min <= max`).
///
/// # Safety
/// `encoder` must be NULL or a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn jnd_encoder_set_quality_bounds(
    encoder: *mut JndEncoder,
    min: c_int,
    max: c_int,
) -> c_int {
    let body = |e: &mut JndEncoder| {
        let before = e.request.clone();
        let mut status = e.set(Opt::MinQuality, Value::Int(i64::from(min)));
        if status == JND_OK {
            status = e.set(Opt::MaxQuality, Value::Int(i64::from(max)));
        }
        if status == JND_OK && min > max {
            status = e.fail(
                JND_ERROR_INVALID_ARGUMENT,
                format!("min-quality and max-quality: {min} is above {max}"),
            );
        }
        if status != JND_OK {
            e.request = before;
        }
        status
    };
    // SAFETY: forwarded caller contract.
    unsafe { with_encoder(encoder, body) }
}

/// Fixes the quality (0..100) for [`jnd_encode`], or -1 for automatic (the default).
///
/// # Safety
/// `encoder` must be NULL or a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn jnd_encoder_set_quality(encoder: *mut JndEncoder, quality: c_int) -> c_int {
    let body = |e: &mut JndEncoder| {
        if quality == -1 {
            e.request.clear(Opt::Quality);
            return JND_OK;
        }
        e.set(Opt::Quality, Value::Int(i64::from(quality)))
    };
    // SAFETY: forwarded caller contract.
    unsafe { with_encoder(encoder, body) }
}

/// Sets the chroma subsampling of JPEG and HEIF output: [`JND_SAMPLING_DEFAULT`],
/// [`JND_SAMPLING_420`] or [`JND_SAMPLING_444`].
///
/// # Safety
/// `encoder` must be NULL or a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn jnd_encoder_set_sampling(encoder: *mut JndEncoder, sampling: c_int) -> c_int {
    let body = |e: &mut JndEncoder| {
        e.request.sampling = match sampling {
            JND_SAMPLING_DEFAULT => None,
            JND_SAMPLING_420 => Some(Sampling::S420),
            JND_SAMPLING_444 => Some(Sampling::S444),
            other => return e.fail(JND_ERROR_INVALID_ARGUMENT, format!("unknown sampling {other}")),
        };
        JND_OK
    };
    // SAFETY: forwarded caller contract.
    unsafe { with_encoder(encoder, body) }
}

/// Sets which metadata the output leaves out: [`JND_STRIP_NONE`] (the default), [`JND_STRIP_ICC`],
/// [`JND_STRIP_EXIF`] or [`JND_STRIP_ALL`] (which also leaves out jndenc's marker).
///
/// # Safety
/// `encoder` must be NULL or a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn jnd_encoder_set_strip(encoder: *mut JndEncoder, strip: c_int) -> c_int {
    let body = |e: &mut JndEncoder| {
        e.request.strip = Some(match strip {
            JND_STRIP_NONE => Strip::None,
            JND_STRIP_ICC => Strip::Icc,
            JND_STRIP_EXIF => Strip::Exif,
            JND_STRIP_ALL => Strip::All,
            other => return e.fail(JND_ERROR_INVALID_ARGUMENT, format!("unknown strip {other}")),
        });
        JND_OK
    };
    // SAFETY: forwarded caller contract.
    unsafe { with_encoder(encoder, body) }
}

/// Sets who judges candidates: [`JND_DECIDER_DEFAULT`], [`JND_DECIDER_TEACHER`],
/// [`JND_DECIDER_VPJND`] or [`JND_DECIDER_MODEL`].
///
/// # Safety
/// `encoder` must be NULL or a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn jnd_encoder_set_decider(encoder: *mut JndEncoder, decider: c_int) -> c_int {
    let body = |e: &mut JndEncoder| {
        e.request.decider = match decider {
            JND_DECIDER_DEFAULT => None,
            JND_DECIDER_TEACHER => Some(DeciderKind::Teacher),
            JND_DECIDER_MODEL => Some(DeciderKind::Model),
            JND_DECIDER_VPJND => Some(DeciderKind::VpJnd),
            other => return e.fail(JND_ERROR_INVALID_ARGUMENT, format!("unknown decider {other}")),
        };
        JND_OK
    };
    // SAFETY: forwarded caller contract.
    unsafe { with_encoder(encoder, body) }
}

/// Sets how the search runs: [`JND_SEARCH_PRIOR`] (the default) or [`JND_SEARCH_BLOCK`].
///
/// # Safety
/// `encoder` must be NULL or a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn jnd_encoder_set_search(encoder: *mut JndEncoder, search: c_int) -> c_int {
    let body = |e: &mut JndEncoder| {
        e.request.search = Some(match search {
            JND_SEARCH_PRIOR => SearchKind::Prior,
            JND_SEARCH_BLOCK => SearchKind::Block,
            other => return e.fail(JND_ERROR_INVALID_ARGUMENT, format!("unknown search {other}")),
        });
        JND_OK
    };
    // SAFETY: forwarded caller contract.
    unsafe { with_encoder(encoder, body) }
}

/// Sets any option of jndenc's vocabulary by its name and value as text (`"block"`, `"3"`;
/// `"map-strength"`, `"0.5"`; the table in `docs/options.md`), as the CLI's `--NAME VALUE`. A NULL
/// `value` returns the option to its default.
///
/// # Safety
/// `encoder` must be NULL or a live handle; `name` and `value` NULL or NUL-terminated strings.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn jnd_encoder_set_option(
    encoder: *mut JndEncoder,
    name: *const c_char,
    value: *const c_char,
) -> c_int {
    let body = |e: &mut JndEncoder| {
        if name.is_null() {
            return e.fail(JND_ERROR_NULL_POINTER, "name is NULL");
        }
        // SAFETY: non-NULL and NUL-terminated per the contract.
        let name = unsafe { CStr::from_ptr(name) }.to_string_lossy();
        let Some(option) = Opt::from_name(&name) else {
            return e.fail(JND_ERROR_INVALID_ARGUMENT, format!("unknown option {name:?}"));
        };
        if value.is_null() {
            e.request.clear(option);
            return JND_OK;
        }
        // SAFETY: non-NULL and NUL-terminated per the contract.
        let value = unsafe { CStr::from_ptr(value) }.to_string_lossy();
        if option == Opt::Device {
            let device = match value.parse::<Accelerator>() {
                Ok(device) => device,
                Err(err) => return e.fail(JND_ERROR_INVALID_ARGUMENT, format!("device: {err}")),
            };
            return set_device(e, device);
        }
        e.set(option, Value::Text(&value))
    };
    // SAFETY: forwarded caller contract.
    unsafe { with_encoder(encoder, body) }
}

/// Checks `device` once and moves the handle's models there; the handle keeps its device on failure.
fn set_device(e: &mut JndEncoder, device: Accelerator) -> c_int {
    if device != e.models.accelerator() {
        match Models::on(device) {
            Ok(models) => e.models = models,
            Err(err) => return e.fail_with(err),
        }
    }
    e.request.device = Some(device);
    JND_OK
}

/// Where this handle's models run (the VP-JND decider, the DMV-JND map of [`jnd_machine_jnd_map`] and
/// [`jnd_machine_jnd_components`]): [`JND_DEVICE_CPU`] (the default), [`JND_DEVICE_CUDA`] or
/// [`JND_DEVICE_WGPU`]. The device is checked here, once: [`JND_ERROR_DEVICE_UNAVAILABLE`] when it is
/// not compiled in or cannot run on this machine, and the handle keeps its device. The quality
/// search's judge (butteraugli) and the quality prior run on the CPU whatever the device.
///
/// # Safety
/// `encoder` must be NULL or a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn jnd_encoder_set_device(encoder: *mut JndEncoder, device: c_int) -> c_int {
    let body = |e: &mut JndEncoder| {
        let accelerator = match device {
            JND_DEVICE_CPU => Accelerator::Cpu,
            JND_DEVICE_CUDA => Accelerator::Cuda,
            JND_DEVICE_WGPU => Accelerator::Wgpu,
            other => return e.fail(JND_ERROR_INVALID_ARGUMENT, format!("unknown device {other}")),
        };
        set_device(e, accelerator)
    };
    // SAFETY: forwarded caller contract.
    unsafe { with_encoder(encoder, body) }
}

/// Threads for this handle's work: 0 (the default) uses the process-wide pool, N > 0 a pool of N.
///
/// # Safety
/// `encoder` must be NULL or a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn jnd_encoder_set_threads(encoder: *mut JndEncoder, threads: c_int) -> c_int {
    let body = |e: &mut JndEncoder| {
        if !(0..=1024).contains(&threads) {
            return e.fail(JND_ERROR_INVALID_ARGUMENT, format!("threads {threads} (need 0..1024)"));
        }
        e.pool = if threads == 0 {
            None
        } else {
            match rayon::ThreadPoolBuilder::new().num_threads(threads as usize).build() {
                Ok(pool) => Some(pool),
                Err(err) => return e.fail(JND_ERROR_INTERNAL, format!("starting {threads} threads: {err}")),
            }
        };
        JND_OK
    };
    // SAFETY: forwarded caller contract.
    unsafe { with_encoder(encoder, body) }
}

/// What one encode through the handle's plan gave: the bytes, the quality, the warnings.
struct Encoded {
    bytes: Vec<u8>,
    quality: u8,
    warnings: Vec<String>,
    report: CString,
}

/// Encodes through the plan of the handle's request (`auto`: the search, whatever quality is set) on
/// the handle's pool.
fn encode_image(e: &JndEncoder, image: Image, auto: bool) -> Result<Encoded, (c_int, String)> {
    let (plan, warnings) = e.plan(auto)?;
    let encoding = e.run(|| plan.encode_pixels(image, Names::pixels())).map_err(failure)?;
    let json = serde_json::to_string(&encoding.report).unwrap_or_default();
    let report = CString::new(json).unwrap_or_default();
    Ok(Encoded { bytes: encoding.bytes, quality: encoding.report.quality, warnings, report })
}

/// [`JND_OK`], or [`JND_WARNING`] with the warnings kept as the handle's message.
fn with_warnings(e: &mut JndEncoder, warnings: &[String]) -> c_int {
    if warnings.is_empty() { JND_OK } else { e.fail(JND_WARNING, warnings.join("; ")) }
}

/// Predicts the JND quality of an image (runs the search on real candidates) without returning bytes.
///
/// # Safety
/// `encoder` NULL or live; `pixels` NULL or `stride * (height - 1) + width * bpp` readable bytes;
/// `quality` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn jnd_predict_quality(
    encoder: *mut JndEncoder,
    pixels: *const u8,
    width: u32,
    height: u32,
    stride: usize,
    pixel_format: c_int,
    quality: *mut c_int,
) -> c_int {
    let body = |e: &mut JndEncoder| {
        if quality.is_null() {
            return e.fail(JND_ERROR_NULL_POINTER, "quality is NULL");
        }
        if e.request.target == Some(Preset::Machine) {
            return e.fail(
                JND_ERROR_INVALID_ARGUMENT,
                "JND_TARGET_MACHINE codes at a fixed base quality: there is no quality to predict",
            );
        }
        // SAFETY: forwarded caller contract.
        let image = match unsafe { caller_image(e, pixels, width, height, stride, pixel_format) } {
            Ok(image) => image,
            Err(status) => return status,
        };
        match encode_image(e, image, true) {
            Ok(encoded) => {
                // SAFETY: checked non-NULL; the caller guarantees it is writable.
                unsafe { *quality = c_int::from(encoded.quality) };
                e.last_report = encoded.report;
                with_warnings(e, &encoded.warnings)
            }
            Err((status, message)) => e.fail(status, message),
        }
    };
    // SAFETY: forwarded caller contract.
    unsafe { with_encoder(encoder, body) }
}

/// Encodes an image at the JND quality (or the fixed one). On success ([`JND_OK`], or [`JND_WARNING`]
/// when an option set has no effect) `*out` holds `*out_len` bytes allocated by the library, to be
/// freed with [`jnd_free_buffer`]; `quality` (may be NULL) receives the quality used.
///
/// # Safety
/// `encoder` NULL or live; `pixels` NULL or `stride * (height - 1) + width * bpp` readable bytes;
/// `out`, `out_len` NULL or writable; `quality` NULL or writable.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn jnd_encode(
    encoder: *mut JndEncoder,
    pixels: *const u8,
    width: u32,
    height: u32,
    stride: usize,
    pixel_format: c_int,
    out: *mut *mut u8,
    out_len: *mut usize,
    quality: *mut c_int,
) -> c_int {
    let body = |e: &mut JndEncoder| {
        if out.is_null() || out_len.is_null() {
            return e.fail(JND_ERROR_NULL_POINTER, "out or out_len is NULL");
        }
        // SAFETY: checked non-NULL; writable per the contract. Cleared first so failure leaves NULL/0.
        unsafe {
            *out = std::ptr::null_mut();
            *out_len = 0;
        }
        // SAFETY: forwarded caller contract.
        let image = match unsafe { caller_image(e, pixels, width, height, stride, pixel_format) } {
            Ok(image) => image,
            Err(status) => return status,
        };
        match encode_image(e, image, false) {
            Ok(Encoded { bytes, quality: q, warnings, report }) => {
                e.last_report = report;
                let boxed = bytes.into_boxed_slice();
                let len = boxed.len();
                // SAFETY: checked non-NULL and writable; ownership passes to the caller until
                // jnd_free_buffer(ptr, len) rebuilds the box.
                unsafe {
                    *out_len = len;
                    *out = Box::into_raw(boxed).cast::<u8>();
                    if !quality.is_null() {
                        *quality = c_int::from(q);
                    }
                }
                with_warnings(e, &warnings)
            }
            Err((status, message)) => e.fail(status, message),
        }
    };
    // SAFETY: forwarded caller contract.
    unsafe { with_encoder(encoder, body) }
}

/// Frees a buffer from [`jnd_encode`]. NULL is a no-op.
///
/// # Safety
/// `buffer` must be NULL or a pointer from [`jnd_encode`] with its `len`, freed once.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn jnd_free_buffer(buffer: *mut u8, len: usize) {
    if !buffer.is_null() {
        // SAFETY: per the contract this is the boxed slice jnd_encode handed out.
        drop(unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(buffer, len)) });
    }
}

/// The shared body of the JND-map entry points: checks the output buffers (each `out_len` floats, at
/// least `width * height`), reads the caller's picture, computes the maps and copies them out row-major.
///
/// # Safety
/// `pixels` as in [`jnd_encode`]; every non-NULL pointer in `outs` points to `out_len` writable floats.
#[allow(clippy::too_many_arguments)]
unsafe fn fill_maps<const N: usize>(
    e: &mut JndEncoder,
    pixels: *const u8,
    width: u32,
    height: u32,
    stride: usize,
    pixel_format: c_int,
    outs: [*mut c_float; N],
    out_len: usize,
    compute: impl FnOnce(&mut JndEncoder, Image) -> Result<[jnd_model::JndMap; N], jndenc::Error>,
) -> c_int {
    if outs.iter().any(|out| out.is_null()) {
        return e.fail(JND_ERROR_NULL_POINTER, "an output map is NULL");
    }
    // SAFETY: forwarded caller contract.
    let image = match unsafe { caller_image(e, pixels, width, height, stride, pixel_format) } {
        Ok(image) => image,
        Err(status) => return status,
    };
    let needed = width as usize * height as usize;
    if out_len < needed {
        return e.fail(JND_ERROR_INVALID_ARGUMENT, format!("out holds {out_len} floats, {needed} needed"));
    }
    let maps = match compute(e, image) {
        Ok(maps) => maps,
        Err(error) => return e.fail_with(error),
    };
    for (out, map) in outs.into_iter().zip(&maps) {
        // SAFETY: checked non-NULL, `needed <= out_len` writable floats per the contract.
        let target = unsafe { std::slice::from_raw_parts_mut(out, needed) };
        target.copy_from_slice(map.values());
    }
    JND_OK
}

/// Fills `out` (`out_len` floats, at least `width * height`) with the pixel-wise JND map (Wu 2017, in
/// luma code values), row-major.
///
/// # Safety
/// `encoder` NULL or live; `pixels` as in [`jnd_encode`]; `out` NULL or `out_len` writable floats.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn jnd_pixel_jnd_map(
    encoder: *mut JndEncoder,
    pixels: *const u8,
    width: u32,
    height: u32,
    stride: usize,
    pixel_format: c_int,
    out: *mut c_float,
    out_len: usize,
) -> c_int {
    let body = |e: &mut JndEncoder| {
        // SAFETY: forwarded caller contract.
        unsafe {
            fill_maps(e, pixels, width, height, stride, pixel_format, [out], out_len, |e, image| {
                Ok(e.run(|| [jnd_model::vpjnd::PIXEL_JND_MODEL.compute(&image)]))
            })
        }
    };
    // SAFETY: forwarded caller contract.
    unsafe { with_encoder(encoder, body) }
}

/// Fills `out` (`out_len` floats, at least `width * height`) with the DMV-JND map (how much each
/// pixel may change before the embedded CIFAR-10 classifiers change their decisions, in 8-bit code
/// values: the mean magnitude over R, G and B; computed on 32x32 tiles), row-major. The model loads
/// on first use.
///
/// # Safety
/// `encoder` NULL or live; `pixels` as in [`jnd_encode`]; `out` NULL or `out_len` writable floats.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn jnd_machine_jnd_map(
    encoder: *mut JndEncoder,
    pixels: *const u8,
    width: u32,
    height: u32,
    stride: usize,
    pixel_format: c_int,
    out: *mut c_float,
    out_len: usize,
) -> c_int {
    let body = |e: &mut JndEncoder| {
        // SAFETY: forwarded caller contract.
        unsafe {
            fill_maps(e, pixels, width, height, stride, pixel_format, [out], out_len, |e, image| {
                let model = e.models.dmvjnd()?;
                let map = e.run(move || model.machine_jnd_map(&image))?;
                Ok([map])
            })
        }
    };
    // SAFETY: forwarded caller contract.
    unsafe { with_encoder(encoder, body) }
}

/// Fills `luma` and `chroma` (each `out_len` floats, at least `width * height`) with the DMV-JND per
/// JPEG component: how much Y, and Cb/Cr (mean of the two), may change before the embedded classifiers
/// change their decisions, in 8-bit code values, row-major. These are the maps `jndenc --target
/// machine --map-strength F` quantises with (it multiplies both by F). The model
/// loads on first use.
///
/// # Safety
/// `encoder` NULL or live; `pixels` as in [`jnd_encode`]; `luma` and `chroma` NULL or `out_len`
/// writable floats each.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn jnd_machine_jnd_components(
    encoder: *mut JndEncoder,
    pixels: *const u8,
    width: u32,
    height: u32,
    stride: usize,
    pixel_format: c_int,
    luma: *mut c_float,
    chroma: *mut c_float,
    out_len: usize,
) -> c_int {
    let body = |e: &mut JndEncoder| {
        // SAFETY: forwarded caller contract.
        unsafe {
            fill_maps(e, pixels, width, height, stride, pixel_format, [luma, chroma], out_len, |e, image| {
                let model = e.models.dmvjnd()?;
                let maps = e.run(move || model.machine_jnd_components(&image))?;
                Ok([maps.luma, maps.chroma])
            })
        }
    };
    // SAFETY: forwarded caller contract.
    unsafe { with_encoder(encoder, body) }
}

/// Whether a decoded candidate is perceptually lossless against an original, by auto mode's judge (the
/// butteraugli 3-norm at the handle's target): `*lossless` receives 1 or 0. Both images share `width`, `height`, `stride` and
/// `pixel_format`.
///
/// # Safety
/// As [`jnd_encode`] for both pixel pointers; `lossless` NULL or writable.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn jnd_judge(
    encoder: *mut JndEncoder,
    original: *const u8,
    candidate: *const u8,
    width: u32,
    height: u32,
    stride: usize,
    pixel_format: c_int,
    lossless: *mut c_int,
) -> c_int {
    let body = |e: &mut JndEncoder| {
        if lossless.is_null() {
            return e.fail(JND_ERROR_NULL_POINTER, "lossless is NULL");
        }
        // SAFETY: forwarded caller contract, for both images.
        let images = unsafe {
            image_from(original, width, height, stride, pixel_format)
                .and_then(|o| image_from(candidate, width, height, stride, pixel_format).map(|c| (o, c)))
        };
        let (original, candidate) = match images {
            Ok(pair) => pair,
            Err((status, message)) => return e.fail(status, message),
        };
        let decider = match e.decider() {
            Ok(decider) => decider,
            Err((status, message)) => return e.fail(status, message),
        };
        let verdict = e.run(|| {
            decider.prepare(&original).and_then(|p| decider.judge(&p, &candidate)).map(|d| d.visible)
        });
        match verdict {
            Ok(visible) => {
                // SAFETY: checked non-NULL; writable per the contract.
                unsafe { *lossless = c_int::from(!visible) };
                JND_OK
            }
            Err(err) => e.fail_with(err),
        }
    };
    // SAFETY: forwarded caller contract.
    unsafe { with_encoder(encoder, body) }
}

#[cfg(test)]
mod tests {

    #[test]
    fn version_matches_the_crate() {
        // SAFETY: jnd_version returns a static NUL-terminated string.
        let v = unsafe { std::ffi::CStr::from_ptr(super::jnd_version()) };
        assert_eq!(v.to_str().unwrap(), env!("CARGO_PKG_VERSION"));
        assert_eq!(v.to_str().unwrap(), jndenc::VERSION);
    }
}
