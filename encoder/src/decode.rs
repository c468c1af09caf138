//! Input decoding: format sniffing as cjpeg does it, limits checked from the header before the pixel
//! buffer is allocated, conversion to 8-bit RGB or gray, and ICC/EXIF extraction.

use image::ImageFormat;

use crate::{Error, Image, Limits, Result};

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
    /// TIFF (8- or 16-bit; the first image of the file).
    Tiff,
    /// WebP (lossy or lossless; the first frame).
    WebP,
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
            InputFormat::Tiff => "TIFF",
            InputFormat::WebP => "WebP",
        }
    }

    /// Guesses the format from the first bytes, as cjpeg does: by the first byte (`B`, `G`, `P`,
    /// `0xFF`, `0x89`, and `0x00` for Targa, whose header has no signature), plus the `ftyp` box for
    /// HEIF, TIFF's byte-order mark (`II*\0`, `MM\0*`) and WebP's `RIFF....WEBP`.
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
            [b'I', b'I', 0x2A, 0x00, ..] | [b'M', b'M', 0x00, 0x2A, ..] => Some(InputFormat::Tiff),
            [b'R', b'I', b'F', b'F', _, _, _, _, b'W', b'E', b'B', b'P', ..] => Some(InputFormat::WebP),
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
            InputFormat::Tiff => Some(ImageFormat::Tiff),
            InputFormat::WebP => Some(ImageFormat::WebP),
            InputFormat::Heif => None,
        }
    }
}

/// How to decode an input.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DecodeOptions {
    /// Force a format instead of sniffing it (cjpeg's `-targa`).
    pub format: Option<InputFormat>,
    /// Resource limits.
    pub limits: Limits,
}

/// Decodes `bytes` into an 8-bit [`Image`] with its ICC profile and EXIF.
///
/// Alpha is dropped (as mozjpeg's cjpeg does); 16-bit samples are rounded to 8 bits; palette images are
/// expanded. The format is sniffed unless [`DecodeOptions::format`] says otherwise. JPEG inputs are
/// decoded once, by libjpeg (as mozjpeg's cjpeg reads them), which also refuses corrupt entropy-coded
/// data; without the `mozjpeg` feature, by the `image` crate.
pub fn decode(bytes: &[u8], options: &DecodeOptions) -> Result<Image> {
    if bytes.is_empty() {
        return Err(Error::EmptyInput);
    }
    let format = options.format.or_else(|| InputFormat::sniff(bytes)).ok_or(Error::UnknownFormat)?;
    match format {
        InputFormat::Heif => decode_heif(bytes, &options.limits),
        InputFormat::Jpeg => decode_jpeg_input(bytes, &options.limits),
        other => {
            let image_format = other.image_format().ok_or(Error::UnknownFormat)?;
            crate::raster::decode(bytes, image_format, other.name(), &options.limits)
        }
    }
}

/// The width and height an input declares in its header, without decoding its pixels (to plan
/// memory before decoding; `None` for a format whose header cannot be read this way).
pub fn dimensions(bytes: &[u8], options: &DecodeOptions) -> Option<(u32, u32)> {
    let format = options.format.or_else(|| InputFormat::sniff(bytes))?;
    match format {
        InputFormat::Jpeg => {
            crate::jpeg_info::parse(bytes).ok().map(|i| (u32::from(i.width), u32::from(i.height)))
        }
        InputFormat::Heif => heif_dimensions(bytes),
        other => image::ImageReader::with_format(std::io::Cursor::new(bytes), other.image_format()?)
            .into_dimensions()
            .ok(),
    }
}

#[cfg(feature = "heif")]
fn heif_dimensions(bytes: &[u8]) -> Option<(u32, u32)> {
    crate::codec::heif::heif_dimensions(bytes).ok()
}

#[cfg(not(feature = "heif"))]
fn heif_dimensions(_bytes: &[u8]) -> Option<(u32, u32)> {
    None
}

/// A JPEG input: libjpeg (strict about corrupt data) with the `mozjpeg` feature, else the `image`
/// crate after the marker check.
fn decode_jpeg_input(bytes: &[u8], limits: &Limits) -> Result<Image> {
    #[cfg(feature = "mozjpeg")]
    {
        crate::libjpeg::decode_jpeg(bytes, limits, crate::libjpeg::Warnings::Refuse)
    }
    #[cfg(not(feature = "mozjpeg"))]
    {
        crate::jpeg_info::parse(bytes)?;
        crate::raster::decode(bytes, ImageFormat::Jpeg, "JPEG", limits)
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
        assert_eq!(InputFormat::sniff(b"II*\0\x08\0\0\0"), Some(InputFormat::Tiff));
        assert_eq!(InputFormat::sniff(b"MM\0*\0\0\0\x08"), Some(InputFormat::Tiff));
        assert_eq!(InputFormat::sniff(b"RIFF\x10\0\0\0WEBPVP8L"), Some(InputFormat::WebP));
        assert_eq!(InputFormat::sniff(b"RIFF\x10\0\0\0WAVEfmt "), None);
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
