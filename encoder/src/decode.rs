//! Input decoding: format sniffing as cjpeg does it, limits checked from the header before the pixel
//! buffer is allocated, conversion to 8-bit RGB or gray, and ICC/EXIF extraction.

use std::io::Cursor;

use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader};

use crate::{ColorType, Error, Image, Metadata, Result};

/// The largest width or height a baseline JPEG can store.
pub const JPEG_MAX_DIMENSION: u32 = 65_500;

/// Input formats jndenc reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum InputFormat {
    /// Netpbm PPM/PGM/PBM/PAM.
    Pnm,
    /// Windows bitmap.
    Bmp,
    /// Portable Network Graphics (8- or 16-bit).
    Png,
    /// Truevision Targa.
    Targa,
    /// GIF (first frame).
    Gif,
    /// JPEG/JFIF.
    Jpeg,
    /// HEIF/HEIC (with the `heif` feature).
    Heif,
}

impl InputFormat {
    /// Human-readable name, as used in error messages.
    pub fn name(self) -> &'static str {
        match self {
            InputFormat::Pnm => "PPM/PGM",
            InputFormat::Bmp => "BMP",
            InputFormat::Png => "PNG",
            InputFormat::Targa => "Targa",
            InputFormat::Gif => "GIF",
            InputFormat::Jpeg => "JPEG",
            InputFormat::Heif => "HEIF",
        }
    }

    /// Guesses the format from the first bytes, as cjpeg does: by the first byte (`B`, `G`, `P`,
    /// `0xFF`, `0x89`, and `0x00` for Targa, whose header has no signature), plus the `ftyp` box for
    /// HEIF.
    pub fn sniff(bytes: &[u8]) -> Option<InputFormat> {
        if bytes.len() >= 12 && &bytes[4..8] == b"ftyp" {
            let brand = &bytes[8..12];
            if [b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"]
                .iter()
                .any(|b| brand == *b)
            {
                return Some(InputFormat::Heif);
            }
        }
        match bytes {
            [0xFF, 0xD8, 0xFF, ..] => Some(InputFormat::Jpeg),
            [0x89, b'P', b'N', b'G', ..] => Some(InputFormat::Png),
            [b'B', b'M', ..] => Some(InputFormat::Bmp),
            [b'G', b'I', b'F', b'8', ..] => Some(InputFormat::Gif),
            [b'P', b'1'..=b'7', ..] => Some(InputFormat::Pnm),
            [0x00, ..] if bytes.len() >= 18 => Some(InputFormat::Targa),
            _ => None,
        }
    }

    fn image_format(self) -> Option<ImageFormat> {
        match self {
            InputFormat::Pnm => Some(ImageFormat::Pnm),
            InputFormat::Bmp => Some(ImageFormat::Bmp),
            InputFormat::Png => Some(ImageFormat::Png),
            InputFormat::Targa => Some(ImageFormat::Tga),
            InputFormat::Gif => Some(ImageFormat::Gif),
            InputFormat::Jpeg => Some(ImageFormat::Jpeg),
            InputFormat::Heif => None,
        }
    }
}

/// Resource limits, checked against the header before the pixels are decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest width or height accepted.
    pub max_dimension: u32,
    /// Largest number of pixels accepted.
    pub max_pixels: u64,
    /// Largest memory budget in bytes for the decoded picture and the encoder's working copies
    /// (cjpeg's `-maxmemory`).
    pub max_memory: u64,
}

impl Default for Limits {
    /// JPEG's own size limit, 256 megapixels, and a 4 GiB memory budget.
    fn default() -> Self {
        Limits { max_dimension: JPEG_MAX_DIMENSION, max_pixels: 256 * 1024 * 1024, max_memory: 4 << 30 }
    }
}

impl Limits {
    /// Bytes the encoder needs for a picture of this size: the decoded input (up to 8 bytes per pixel
    /// for 16-bit RGBA), our 8-bit copy, and the codec's planar working copy.
    pub fn estimated_memory(width: u32, height: u32) -> u64 {
        u64::from(width) * u64::from(height) * (8 + 3 + 3)
    }

    /// Checks a header's dimensions against these limits.
    pub fn check(&self, width: u32, height: u32) -> Result<()> {
        if width == 0 || height == 0 {
            return Err(Error::Limits(format!("image dimensions {width}x{height} are empty")));
        }
        if width > self.max_dimension || height > self.max_dimension {
            return Err(Error::Limits(format!(
                "image dimensions {width}x{height} exceed the limit of {} pixels per side",
                self.max_dimension
            )));
        }
        let pixels = u64::from(width) * u64::from(height);
        if pixels > self.max_pixels {
            return Err(Error::Limits(format!(
                "image of {width}x{height} ({pixels} pixels) exceeds the limit of {} pixels",
                self.max_pixels
            )));
        }
        let need = Self::estimated_memory(width, height);
        if need > self.max_memory {
            return Err(Error::Limits(format!(
                "image of {width}x{height} needs about {} MB, over the memory limit of {} MB",
                need.div_ceil(1_000_000),
                self.max_memory / 1_000_000
            )));
        }
        Ok(())
    }
}

/// How to decode an input.
#[derive(Debug, Clone, Default)]
pub struct DecodeOptions {
    /// Force a format instead of sniffing it (cjpeg's `-targa`).
    pub format: Option<InputFormat>,
    /// Resource limits.
    pub limits: Limits,
}

/// Decodes `bytes` into an 8-bit [`Image`] with its ICC profile and EXIF.
///
/// Alpha is dropped (as mozjpeg's cjpeg does); 16-bit samples are rounded to 8 bits; palette images are
/// expanded. The format is sniffed unless [`DecodeOptions::format`] says otherwise.
pub fn decode(bytes: &[u8], options: &DecodeOptions) -> Result<Image> {
    decode_checked(bytes, options, true)
}

/// [`decode`], optionally without the entropy-data check of JPEG inputs (for our own candidates,
/// which libjpeg just wrote).
pub(crate) fn decode_checked(
    bytes: &[u8],
    options: &DecodeOptions,
    check_jpeg_entropy: bool,
) -> Result<Image> {
    if bytes.is_empty() {
        return Err(Error::EmptyInput);
    }
    let format = options.format.or_else(|| InputFormat::sniff(bytes)).ok_or(Error::UnknownFormat)?;
    if format == InputFormat::Heif {
        return decode_heif(bytes, &options.limits);
    }
    if format == InputFormat::Jpeg {
        // The JPEG decoder pads a truncated scan with gray and carries on; cjpeg warns. We refuse
        // instead, so no half-gray picture is ever encoded: the markers must be complete up to EOI.
        #[cfg_attr(not(feature = "mozjpeg"), allow(unused_variables))]
        let info = crate::jpeg_info::parse(bytes)?;
        // Corrupt entropy-coded data decodes to garbage without an error in the `image` crate's
        // decoder; libjpeg notices it (cjpeg warns "Corrupt JPEG data" and carries on). We refuse.
        // Files with restart markers are exempt: libjpeg resynchronises at each marker and reports
        // recoverable desynchronisation the same way (even on mozjpeg's own progressive + restart output).
        #[cfg(feature = "mozjpeg")]
        if check_jpeg_entropy && info.restart_interval.is_none() {
            crate::codec::check_jpeg_entropy(bytes, &options.limits)?;
        }
    }
    let image_format = format.image_format().ok_or(Error::UnknownFormat)?;
    // Read the header without the crate's limits, check ours (with a message that names the
    // dimensions), then hand the decoder the same limits for its own allocations.
    let mut reader = ImageReader::with_format(Cursor::new(bytes), image_format);
    reader.no_limits();
    let name = format.name();
    let mut decoder = reader.into_decoder().map_err(|e| map_image_error(name, e))?;
    let (width, height) = decoder.dimensions();
    options.limits.check(width, height)?;
    let mut image_limits = image::Limits::default();
    image_limits.max_image_width = Some(options.limits.max_dimension);
    image_limits.max_image_height = Some(options.limits.max_dimension);
    image_limits.max_alloc = Some(options.limits.max_memory);
    decoder.set_limits(image_limits).map_err(|e| map_image_error(name, e))?;
    let icc = decoder.icc_profile().ok().flatten().filter(|p| !p.is_empty());
    let exif = decoder.exif_metadata().ok().flatten().map(strip_exif_prefix).filter(|e| !e.is_empty());
    let dynamic = DynamicImage::from_decoder(decoder).map_err(|e| map_image_error(name, e))?;
    let mut image = from_dynamic(dynamic)?;
    image.metadata = Metadata { icc, exif };
    Ok(image)
}

/// Converts any `image` crate picture to our 8-bit RGB or gray, dropping alpha.
pub(crate) fn from_dynamic(dynamic: DynamicImage) -> Result<Image> {
    let is_gray = matches!(
        dynamic,
        DynamicImage::ImageLuma8(_)
            | DynamicImage::ImageLumaA8(_)
            | DynamicImage::ImageLuma16(_)
            | DynamicImage::ImageLumaA16(_)
    );
    let (width, height) = (dynamic.width(), dynamic.height());
    if is_gray {
        let gray = match dynamic {
            DynamicImage::ImageLuma8(buffer) => buffer.into_raw(),
            other => other.to_luma8().into_raw(),
        };
        Ok(Image::new(width, height, ColorType::Gray, gray)?)
    } else {
        let rgb = match dynamic {
            DynamicImage::ImageRgb8(buffer) => buffer.into_raw(),
            other => other.to_rgb8().into_raw(),
        };
        Ok(Image::new(width, height, ColorType::Rgb, rgb)?)
    }
}

pub(crate) fn map_image_error(format: &'static str, error: image::ImageError) -> Error {
    use image::ImageError as E;
    match error {
        E::Limits(l) => Error::Limits(format!("{format} input exceeds a limit: {l}")),
        E::Unsupported(u) => Error::Unsupported(format!("{format} input: {u}")),
        E::IoError(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            Error::Decode { format, message: "the file is truncated".into() }
        }
        other => Error::Decode { format, message: readable(other.to_string()) },
    }
}

/// Shortens decoder messages that carry debug dumps: the png crate's CRC error prints the whole
/// chunk-type struct; users need the chunk's name.
fn readable(message: String) -> String {
    if message.contains("CRC error") {
        let chunk = message
            .split("type: ")
            .nth(1)
            .and_then(|rest| rest.get(..4))
            .filter(|name| name.bytes().all(|b| b.is_ascii_alphabetic()));
        return match chunk {
            Some(name) => format!("CRC error in the {name} chunk (the file is corrupt)"),
            None => "CRC error (the file is corrupt)".into(),
        };
    }
    message
}

/// Drops JPEG's `Exif\0\0` APP1 prefix, leaving the TIFF structure.
fn strip_exif_prefix(exif: Vec<u8>) -> Vec<u8> {
    match exif.strip_prefix(b"Exif\0\0") {
        Some(rest) => rest.to_vec(),
        None => exif,
    }
}

#[cfg(feature = "heif")]
fn decode_heif(bytes: &[u8], limits: &Limits) -> Result<Image> {
    crate::codec::heif::decode_heif(bytes, limits)
}

#[cfg(not(feature = "heif"))]
fn decode_heif(_bytes: &[u8], _limits: &Limits) -> Result<Image> {
    Err(Error::Unsupported("HEIF input needs jndenc built with the `heif` feature".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_the_formats_cjpeg_recognises() {
        assert_eq!(InputFormat::sniff(b"\xFF\xD8\xFF\xE0"), Some(InputFormat::Jpeg));
        assert_eq!(InputFormat::sniff(b"\x89PNG\r\n\x1a\n"), Some(InputFormat::Png));
        assert_eq!(InputFormat::sniff(b"P6\n1 1\n255\n"), Some(InputFormat::Pnm));
        assert_eq!(InputFormat::sniff(b"BM...."), Some(InputFormat::Bmp));
        assert_eq!(InputFormat::sniff(b"GIF89a"), Some(InputFormat::Gif));
        assert_eq!(InputFormat::sniff(b"hello world"), None);
        assert_eq!(InputFormat::sniff(b""), None);
    }

    #[test]
    fn limits_refuse_absurd_headers_before_decoding() {
        let header = b"P6\n100000 100000\n255\n";
        let err = decode(header, &DecodeOptions::default()).unwrap_err();
        assert!(matches!(err, Error::Limits(_)), "{err}");
        assert!(err.to_string().contains("100000x100000"), "{err}");
    }

    #[test]
    fn memory_limit_is_enforced_from_the_header() {
        let mut header = b"P6\n2000 2000\n255\n".to_vec();
        header.extend(std::iter::repeat_n(0u8, 16));
        let options = DecodeOptions {
            limits: Limits { max_memory: 1_000_000, ..Limits::default() },
            ..DecodeOptions::default()
        };
        let err = decode(&header, &options).unwrap_err();
        assert!(err.to_string().contains("memory limit"), "{err}");
    }
}
