//! The `image` crate's side of jndenc: decoding the raster formats it reads into our 8-bit
//! [`Image`] (with ICC and EXIF, under our [`Limits`]) and writing PNG. A leaf module: decoding of
//! inputs and the codecs' decoding of their own candidates both use it.

use std::io::Cursor;

use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader};

use crate::{ColorType, Error, Image, Limits, Metadata, Result};

/// Decodes any format the `image` crate reads.
pub(crate) fn decode(
    bytes: &[u8],
    image_format: ImageFormat,
    name: &'static str,
    limits: &Limits,
) -> Result<Image> {
    // Read the header without the crate's limits, check ours (with a message that names the
    // dimensions), then hand the decoder the same limits for its own allocations.
    let mut reader = ImageReader::with_format(Cursor::new(bytes), image_format);
    reader.no_limits();
    let mut decoder = reader.into_decoder().map_err(|e| map_image_error(name, e))?;
    let (width, height) = decoder.dimensions();
    limits.check(width, height)?;
    let mut image_limits = image::Limits::default();
    image_limits.max_image_width = Some(limits.max_dimension);
    image_limits.max_image_height = Some(limits.max_dimension);
    image_limits.max_alloc = Some(limits.max_memory);
    decoder.set_limits(image_limits).map_err(|e| map_image_error(name, e))?;
    let mut icc = decoder.icc_profile().ok().flatten().filter(|p| !p.is_empty());
    let exif = decoder.exif_metadata().ok().flatten().map(strip_exif_prefix).filter(|e| !e.is_empty());
    // A TIFF's EXIF is tags of its own directories, which the `image` crate does not hand out, nor
    // (0.25.10) its ICC profile.
    let mut exif = exif;
    if image_format == ImageFormat::Tiff {
        icc = icc.or_else(|| crate::tiff_metadata::icc(bytes));
        exif = exif.or_else(|| crate::tiff_metadata::exif(bytes));
    }
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

/// Encodes an 8-bit image as PNG (for JND maps and reports).
pub fn encode_png(image: &Image) -> Result<Vec<u8>> {
    use image::ImageEncoder;
    let mut out = Vec::new();
    let color = match image.color() {
        ColorType::Gray => image::ExtendedColorType::L8,
        ColorType::Rgb => image::ExtendedColorType::Rgb8,
    };
    image::codecs::png::PngEncoder::new(&mut out)
        .write_image(image.pixels(), image.width(), image.height(), color)
        .map_err(|e| Error::Encode { codec: "png", message: e.to_string() })?;
    Ok(out)
}
