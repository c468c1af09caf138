//! Output codecs behind one [`Codec`] trait. Each encodes an [`Image`] at a quality and decodes its own
//! output back, so the quality search can judge real candidates.
//!
//! | codec | format | quality | notes |
//! |---|---|---|---|
//! | [`MozJpeg`] | JPEG | 1..=100 | default; trellis, progressive, optimized Huffman; Annex K tables |
//! | [`Jpegli`] | JPEG | 1..=100 | jpegli's quality scale, a butteraugli-distance grid; adaptive quantisation; `jpegli` feature |
//! | [`RustJpeg`] | JPEG | 1..=100 | pure Rust (`jpeg-encoder`), for builds without C |
//! | [`Heif`] | HEIF (HEVC intra, x265) | 0..=100 | libheif's quality scale; `heif` feature |

use crate::{Image, Result};

#[cfg(feature = "mozjpeg")]
pub mod adaptive;
#[cfg(feature = "heif")]
pub mod heif;
mod heif_options;
mod jpeg_options;
#[cfg(feature = "jpegli")]
pub mod jpegli;
#[cfg(feature = "mozjpeg")]
mod mozjpeg;
mod rust_jpeg;

#[cfg(feature = "heif")]
pub use self::heif::Heif;
#[cfg(feature = "jpegli")]
pub use self::jpegli::Jpegli;
pub use heif_options::{HeifChroma, HeifOptions};
pub use jpeg_options::{DctMethod, JpegColor, JpegOptions, Restart, machine_qtables, parse_qtables};
#[cfg(feature = "mozjpeg")]
pub use mozjpeg::MozJpeg;
pub use rust_jpeg::RustJpeg;

/// The container/bitstream a codec writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OutputFormat {
    /// JPEG/JFIF.
    Jpeg,
    /// HEIF with an HEVC-intra image item.
    Heif,
}

impl OutputFormat {
    /// Conventional file extension.
    pub fn extension(self) -> &'static str {
        match self {
            OutputFormat::Jpeg => "jpg",
            OutputFormat::Heif => "heic",
        }
    }
}

/// The result of one encode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encoded {
    /// The complete file.
    pub bytes: Vec<u8>,
    /// Warnings the codec raised (cjpeg exits with status 2 when there are any).
    pub warnings: Vec<String>,
}

/// An image codec: encode at a quality, decode back.
pub trait Codec: Send + Sync {
    /// Short name, e.g. "mozjpeg".
    fn name(&self) -> &'static str;
    /// What it writes.
    fn format(&self) -> OutputFormat;
    /// The lowest and highest quality it accepts.
    fn quality_range(&self) -> (u8, u8);
    /// Encodes `image` at `quality` (carrying the image's ICC profile and EXIF unless the codec's
    /// options strip them).
    fn encode(&self, image: &Image, quality: u8) -> Result<Encoded>;
    /// Decodes bytes this codec wrote back to pixels (RGB, or gray for grayscale JPEG).
    fn decode(&self, bytes: &[u8]) -> Result<Image>;
    /// What `quality` means to this codec, for reports: `quality=80`, or jpegli's `distance=1.90`.
    fn parameter(&self, quality: u8) -> String {
        format!("quality={quality}")
    }
    /// The chroma subsampling of colour output: `4:2:0`, `4:2:2`, `4:4:4`, or the sampling factors.
    fn chroma(&self) -> String;
}

/// Checks `quality` against a codec's range.
pub(crate) fn check_quality(codec: &dyn Codec, quality: u8) -> Result<()> {
    let (lo, hi) = codec.quality_range();
    if quality < lo || quality > hi {
        return Err(crate::Error::Parameter(format!(
            "{} quality must be in {lo}..={hi}, got {quality}",
            codec.name()
        )));
    }
    Ok(())
}

/// The samples a libjpeg-style encoder (mozjpeg, jpegli) takes for `image` under `options`, after
/// checking the options against the output's component count: the image itself, or for `-rgb` on a
/// gray input an RGB copy (libjpeg needs RGB samples to write RGB components).
#[cfg(feature = "mozjpeg")]
pub(crate) fn libjpeg_input<'a>(
    options: &JpegOptions,
    image: &'a Image,
) -> Result<std::borrow::Cow<'a, Image>> {
    use crate::ColorType;
    let components = match (options.color, image.color()) {
        (JpegColor::Grayscale, _) | (JpegColor::Auto, ColorType::Gray) => 1,
        _ => 3,
    };
    options.validate(components)?;
    Ok(if options.color == JpegColor::Rgb && image.color() == ColorType::Gray {
        std::borrow::Cow::Owned(image.to_rgb())
    } else {
        std::borrow::Cow::Borrowed(image)
    })
}

/// Decodes a JPEG candidate (used by both JPEG codecs): libjpeg, the decoder JPEG inputs go through,
/// with the `mozjpeg` feature; the `image` crate without it.
pub(crate) fn decode_jpeg(bytes: &[u8]) -> Result<Image> {
    #[cfg(feature = "mozjpeg")]
    {
        crate::libjpeg::decode_jpeg(bytes, &crate::Limits::default(), crate::libjpeg::Warnings::Ignore)
    }
    #[cfg(not(feature = "mozjpeg"))]
    {
        crate::raster::decode(bytes, image::ImageFormat::Jpeg, "JPEG", &crate::Limits::default())
    }
}
