//! Resource limits, checked against a header before any large allocation: a leaf module that
//! decoding, the codecs and libjnd share.

use crate::{Error, Result};

/// The largest width or height a baseline JPEG can store.
pub const JPEG_MAX_DIMENSION: u32 = 65_500;

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

/// The default pixel limit: 256 megapixels (2^28 pixels). libjnd's `JND_MAX_PIXELS` is this value.
pub const MAX_PIXELS: u64 = 256 * 1024 * 1024;

impl Default for Limits {
    /// JPEG's own size limit, [`MAX_PIXELS`], and a 4 GiB memory budget.
    fn default() -> Self {
        Limits { max_dimension: JPEG_MAX_DIMENSION, max_pixels: MAX_PIXELS, max_memory: 4 << 30 }
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
