//! HEVC-intra in HEIF through libheif with its x265 encoder (the BPG-class codec).
//!
//! Quality is libheif's 0..=100 scale, passed straight to `heif_encoder_set_lossy_quality`; libheif's
//! x265 plugin turns it into x265's CRF (higher is better). x265 is GPL: this module exists only with
//! the `heif` cargo feature.

use libheif_rs::{
    Channel, ColorSpace, CompressionFormat, EncoderParameterValue, EncoderQuality, HeifContext, HeifError,
    ItemId, LibHeif, RgbChroma,
};

use super::{Codec, Encoded, HeifChroma, HeifOptions, OutputFormat, check_quality};
use crate::{ColorType, Error, Image, Limits, Metadata, Result};

/// The HEIF (x265) codec.
#[derive(Debug, Clone, Default)]
pub struct Heif {
    /// The options every encode uses.
    pub options: HeifOptions,
}

impl Heif {
    /// An encoder with these options.
    pub fn new(options: HeifOptions) -> Self {
        Heif { options }
    }
}

fn encode_error(e: HeifError) -> Error {
    Error::Encode { codec: "heif", message: e.to_string() }
}

fn decode_error(e: HeifError) -> Error {
    Error::Decode { format: "HEIF", message: e.to_string() }
}

impl Codec for Heif {
    fn chroma(&self) -> String {
        self.options.chroma.name().to_string()
    }

    fn name(&self) -> &'static str {
        "heif"
    }

    fn format(&self) -> OutputFormat {
        OutputFormat::Heif
    }

    fn quality_range(&self) -> (u8, u8) {
        (0, 100)
    }

    fn encode(&self, image: &Image, quality: u8) -> Result<Encoded> {
        check_quality(self, quality)?;
        let rgb_copy;
        let rgb = if image.color() == ColorType::Rgb {
            image
        } else {
            rgb_copy = image.to_rgb();
            &rgb_copy
        };
        let (width, height) = (rgb.width(), rgb.height());
        let mut picture =
            libheif_rs::Image::new(width, height, ColorSpace::Rgb(RgbChroma::Rgb)).map_err(encode_error)?;
        picture.create_plane(Channel::Interleaved, width, height, 8).map_err(encode_error)?;
        {
            let mut planes = picture.planes_mut();
            let plane = planes.interleaved.as_mut().ok_or_else(|| Error::Encode {
                codec: "heif",
                message: "libheif gave no interleaved plane".into(),
            })?;
            let row_bytes = width as usize * 3;
            for y in 0..height {
                let start = y as usize * plane.stride;
                plane.data[start..start + row_bytes].copy_from_slice(rgb.row(y));
            }
        }
        if self.options.keep_icc
            && let Some(icc) = &image.metadata.icc
        {
            set_icc_profile(&mut picture, icc)?;
        }
        let lib = LibHeif::new();
        let mut encoder = lib.encoder_for_format(CompressionFormat::Hevc).map_err(encode_error)?;
        encoder.set_quality(EncoderQuality::Lossy(quality)).map_err(encode_error)?;
        let chroma = match self.options.chroma {
            HeifChroma::C420 => "420",
            HeifChroma::C444 => "444",
        };
        encoder
            .set_parameter_value("chroma", EncoderParameterValue::String(chroma.into()))
            .map_err(encode_error)?;
        if let Some(preset) = &self.options.preset {
            encoder
                .set_parameter_value("preset", EncoderParameterValue::String(preset.clone()))
                .map_err(encode_error)?;
        }
        let mut context = HeifContext::new().map_err(encode_error)?;
        let handle = context.encode_image(&picture, &mut encoder, None).map_err(encode_error)?;
        if self.options.keep_exif
            && let Some(exif) = &image.metadata.exif
        {
            context.add_exif_metadata(&handle, exif).map_err(encode_error)?;
        }
        let bytes = context.write_to_bytes().map_err(encode_error)?;
        Ok(Encoded { bytes, warnings: Vec::new() })
    }

    fn decode(&self, bytes: &[u8]) -> Result<Image> {
        decode_heif(bytes, &Limits::default())
    }
}

/// Decodes the primary image of a HEIF file to 8-bit RGB, with its ICC profile and EXIF.
/// The width and height of a HEIF file's primary image, from its header.
pub fn heif_dimensions(bytes: &[u8]) -> Result<(u32, u32)> {
    let context = HeifContext::read_from_bytes(bytes).map_err(decode_error)?;
    let handle = context.primary_image_handle().map_err(decode_error)?;
    Ok((handle.width(), handle.height()))
}

/// Decodes a HEIF file's primary image (RGB) with its ICC profile and EXIF.
pub fn decode_heif(bytes: &[u8], limits: &Limits) -> Result<Image> {
    let context = HeifContext::read_from_bytes(bytes).map_err(decode_error)?;
    let handle = context.primary_image_handle().map_err(decode_error)?;
    limits.check(handle.width(), handle.height())?;
    let lib = LibHeif::new();
    let decoded = lib.decode(&handle, ColorSpace::Rgb(RgbChroma::Rgb), None).map_err(decode_error)?;
    let planes = decoded.planes();
    let plane = planes.interleaved.ok_or_else(|| Error::Decode {
        format: "HEIF",
        message: "libheif gave no interleaved plane".into(),
    })?;
    let (width, height) = (plane.width, plane.height);
    let row_bytes = width as usize * 3;
    let mut pixels = Vec::with_capacity(row_bytes * height as usize);
    for y in 0..height as usize {
        let start = y * plane.stride;
        pixels.extend_from_slice(&plane.data[start..start + row_bytes]);
    }
    let mut image = Image::new(width, height, ColorType::Rgb, pixels)?;
    let icc = handle.color_profile_raw().map(|p| p.data).filter(|d| !d.is_empty());
    let mut ids: Vec<ItemId> = vec![0; 4];
    let count = handle.metadata_block_ids(&mut ids, b"Exif");
    let exif = ids[..count.min(ids.len())]
        .first()
        .and_then(|&id| handle.metadata(id).ok())
        .map(|block| {
            // HEIF's Exif item starts with a 4-byte big-endian offset to the TIFF header.
            let offset =
                block.get(..4).map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize).unwrap_or(0);
            block.get(4 + offset..).map(<[u8]>::to_vec).unwrap_or_default()
        })
        .filter(|e| !e.is_empty());
    image.metadata = Metadata { icc, exif };
    Ok(image)
}

// libheif-rs 0.20's `Image` is a single raw pointer; checked here so the cast below stays sound.
const _: () =
    assert!(std::mem::size_of::<libheif_rs::Image>() == std::mem::size_of::<*mut libheif_sys::heif_image>());

/// Attaches an ICC profile (`prof`) to a libheif image.
///
/// Not through `libheif_rs::Image::set_color_profile_raw`: it passes the 4-byte type code to libheif as a
/// C string without a terminating NUL, so libheif's `strlen` reads whatever follows and intermittently
/// refuses the call ("Invalid color_profile_type (must be 4 characters)").
fn set_icc_profile(picture: &mut libheif_rs::Image, icc: &[u8]) -> Result<()> {
    // SAFETY: `Image` is exactly one `*mut heif_image` (size checked at compile time above), so its
    // first and only field is at offset 0; the pointer is valid for the life of `picture`.
    let raw = unsafe { *(picture as *mut libheif_rs::Image as *const *mut libheif_sys::heif_image) };
    // SAFETY: `raw` is a live heif_image; the type is a NUL-terminated C string; `icc` outlives the call
    // and libheif copies the data.
    let error = unsafe {
        libheif_sys::heif_image_set_raw_color_profile(raw, c"prof".as_ptr(), icc.as_ptr().cast(), icc.len())
    };
    if error.code == 0 {
        Ok(())
    } else {
        Err(Error::Encode {
            codec: "heif",
            message: format!("setting the ICC profile failed (libheif error {})", error.code),
        })
    }
}
