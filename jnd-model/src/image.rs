//! The picture every stage works on: 8-bit RGB or gray, with its ICC profile and EXIF carried alongside.
//! It lives here, in the lowest crate, so the models, the encoder and the trainer share one type.

use crate::{Error, Result};

/// The pixel layout of an [`Image`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ColorType {
    /// One 8-bit channel.
    Gray,
    /// Three interleaved 8-bit channels, R G B.
    Rgb,
}

impl ColorType {
    /// Bytes per pixel.
    pub fn channels(self) -> usize {
        match self {
            ColorType::Gray => 1,
            ColorType::Rgb => 3,
        }
    }
}

/// Metadata carried from the input to the output unchanged.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Metadata {
    /// The ICC colour profile, whole (not split into JPEG's APP2 chunks).
    pub icc: Option<Vec<u8>>,
    /// EXIF as a TIFF structure (starting with `II*\0` or `MM\0*`), without JPEG's `Exif\0\0` prefix.
    /// Orientation is carried, not applied: the pixels stay as stored, as cjpeg does.
    pub exif: Option<Vec<u8>>,
}

/// An 8-bit picture: interleaved rows, no padding, top to bottom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Image {
    width: u32,
    height: u32,
    color: ColorType,
    pixels: Vec<u8>,
    /// ICC and EXIF, kept alongside the pixels.
    pub metadata: Metadata,
}

impl Image {
    /// Wraps `pixels` (interleaved, `width * height * channels` bytes).
    pub fn new(width: u32, height: u32, color: ColorType, pixels: Vec<u8>) -> Result<Self> {
        if width == 0 || height == 0 {
            return Err(Error::InvalidImage(format!("image dimensions {width}x{height} are empty")));
        }
        let expected = (width as usize)
            .checked_mul(height as usize)
            .and_then(|n| n.checked_mul(color.channels()))
            .ok_or_else(|| Error::InvalidImage(format!("image {width}x{height} is too large")))?;
        if pixels.len() != expected {
            return Err(Error::InvalidImage(format!(
                "{width}x{height} {color:?} needs {expected} bytes, got {}",
                pixels.len()
            )));
        }
        Ok(Image { width, height, color, pixels, metadata: Metadata::default() })
    }

    /// Width in pixels.
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Height in pixels.
    pub fn height(&self) -> u32 {
        self.height
    }

    /// The pixel layout.
    pub fn color(&self) -> ColorType {
        self.color
    }

    /// The interleaved pixel bytes.
    pub fn pixels(&self) -> &[u8] {
        &self.pixels
    }

    /// One row of interleaved pixel bytes.
    pub fn row(&self, y: u32) -> &[u8] {
        let stride = self.width as usize * self.color.channels();
        &self.pixels[y as usize * stride..(y as usize + 1) * stride]
    }

    /// The same picture as grayscale, with BT.601 luma (as libjpeg converts RGB to Y).
    pub fn to_gray(&self) -> Image {
        match self.color {
            ColorType::Gray => self.clone(),
            ColorType::Rgb => {
                let pixels = self
                    .pixels
                    .chunks_exact(3)
                    .map(|p| {
                        let y = 19595 * u32::from(p[0]) + 38470 * u32::from(p[1]) + 7471 * u32::from(p[2]);
                        ((y + 32768) >> 16) as u8
                    })
                    .collect();
                Image {
                    width: self.width,
                    height: self.height,
                    color: ColorType::Gray,
                    pixels,
                    metadata: self.metadata.clone(),
                }
            }
        }
    }

    /// The same picture as RGB (gray replicated into three channels).
    pub fn to_rgb(&self) -> Image {
        match self.color {
            ColorType::Rgb => self.clone(),
            ColorType::Gray => Image {
                width: self.width,
                height: self.height,
                color: ColorType::Rgb,
                pixels: self.pixels.iter().flat_map(|&v| [v, v, v]).collect(),
                metadata: self.metadata.clone(),
            },
        }
    }

    /// Number of pixels.
    pub fn pixel_count(&self) -> u64 {
        u64::from(self.width) * u64::from(self.height)
    }
}

/// JFIF's RGB to YCbCr matrix (ITU-R BT.601, libjpeg's coefficients), unrounded, with Cb and Cr
/// centred on 0 (add 128 for JPEG's samples). The one copy of the matrix: the per-block encoder,
/// the DMV-JND's component maps, the pixel-wise JND's luma and the tests all use it.
#[inline]
pub fn ycbcr(r: f32, g: f32, b: f32) -> [f32; 3] {
    [
        0.299 * r + 0.587 * g + 0.114 * b,
        -0.168_736 * r - 0.331_264 * g + 0.5 * b,
        0.5 * r - 0.418_688 * g - 0.081_312 * b,
    ]
}
