//! Borrowed pixels with any strides: what a C caller's buffer or a numpy array is, checked once
//! ([`PixelView::new`]: layout, strides, span and [`Limits`]) and copied into an [`Image`] once. libjnd and
//! the Python package both hand pixels to the library through this type (as image-rs's `FlatSamples`
//! and `imgref` do for their callers).

use crate::{ColorType, Error, Image, Limits, Metadata, Result};

/// How the samples of one pixel are laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PixelLayout {
    /// One 8-bit gray sample.
    Gray8,
    /// 8-bit R, G, B.
    Rgb8,
    /// 8-bit R, G, B, A; alpha is dropped, as cjpeg drops it.
    Rgba8,
}

impl PixelLayout {
    /// Samples per pixel.
    pub fn channels(self) -> usize {
        match self {
            PixelLayout::Gray8 => 1,
            PixelLayout::Rgb8 => 3,
            PixelLayout::Rgba8 => 4,
        }
    }

    /// The layout of `channels` samples per pixel (1, 3 or 4).
    pub fn from_channels(channels: usize) -> Result<Self> {
        match channels {
            1 => Ok(PixelLayout::Gray8),
            3 => Ok(PixelLayout::Rgb8),
            4 => Ok(PixelLayout::Rgba8),
            n => Err(Error::Pixels(format!(
                "{n} samples per pixel: jndenc reads gray (1), RGB (3) or RGBA (4)"
            ))),
        }
    }
}

/// Where sample `c` of pixel (`x`, `y`) lies: `y * row_stride + x * pixel_stride + c * sample_stride`
/// bytes from the start (all strides in bytes, none negative).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Strides {
    /// Bytes from one row to the next.
    pub row: usize,
    /// Bytes from one pixel to the next in a row.
    pub pixel: usize,
    /// Bytes from one sample to the next in a pixel.
    pub sample: usize,
}

impl Strides {
    /// Packed pixels in rows `row` bytes apart (C's `stride`).
    pub fn rows(row: usize, layout: PixelLayout) -> Self {
        Strides { row, pixel: layout.channels(), sample: 1 }
    }
}

/// Pixels borrowed from a caller, checked against their layout and the limits.
#[derive(Debug, Clone, Copy)]
pub struct PixelView<'a> {
    samples: &'a [u8],
    width: u32,
    height: u32,
    layout: PixelLayout,
    strides: Strides,
}

/// Refuses a packed row stride shorter than a row of `width` pixels.
pub fn check_row_stride(width: u32, row_stride: usize, layout: PixelLayout) -> Result<()> {
    let row = width as usize * layout.channels();
    if row_stride < row {
        return Err(Error::Pixels(format!("stride {row_stride} is smaller than a row ({row} bytes)")));
    }
    Ok(())
}

impl<'a> PixelView<'a> {
    /// The bytes a picture of this size and layout spans: one past its last sample. Callers that hold
    /// a raw pointer (C) ask this before making the slice; every product is checked for overflow.
    pub fn span(width: u32, height: u32, layout: PixelLayout, strides: Strides) -> Result<usize> {
        if width == 0 || height == 0 {
            return Err(Error::Pixels(format!("an empty picture ({width}x{height})")));
        }
        let row_bytes = (width as usize - 1)
            .checked_mul(strides.pixel)
            .and_then(|x| (layout.channels() - 1).checked_mul(strides.sample).and_then(|c| x.checked_add(c)))
            .and_then(|last| last.checked_add(1))
            .ok_or_else(|| Error::Pixels(format!("a row of {width} pixels overflows the address space")))?;
        if strides.sample == 0 && layout.channels() > 1 {
            return Err(Error::Pixels("the samples of a pixel overlap (sample stride 0)".into()));
        }
        (height as usize - 1)
            .checked_mul(strides.row)
            .and_then(|rows| rows.checked_add(row_bytes))
            .ok_or_else(|| {
                Error::Pixels(format!(
                    "stride {} x {} rows overflows the address space",
                    strides.row,
                    height - 1
                ))
            })
    }

    /// A view of `samples`, checked: the size against [`Limits::default`], the strides against the
    /// layout, and that `samples` holds every pixel.
    pub fn new(
        samples: &'a [u8],
        width: u32,
        height: u32,
        layout: PixelLayout,
        strides: Strides,
    ) -> Result<Self> {
        if width == 0 || height == 0 {
            return Err(Error::Pixels(format!("an empty picture ({width}x{height})")));
        }
        Limits::default().check(width, height)?;
        let span = Self::span(width, height, layout, strides)?;
        if samples.len() < span {
            return Err(Error::Pixels(format!(
                "the buffer holds {} bytes; {width}x{height} pixels at these strides need {span}",
                samples.len()
            )));
        }
        Ok(Self { samples, width, height, layout, strides })
    }

    /// Packed rows `row_stride` bytes apart (C's convention), which must hold a row.
    pub fn packed(
        samples: &'a [u8],
        width: u32,
        height: u32,
        row_stride: usize,
        layout: PixelLayout,
    ) -> Result<Self> {
        check_row_stride(width, row_stride, layout)?;
        Self::new(samples, width, height, layout, Strides::rows(row_stride, layout))
    }

    /// Width in pixels.
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Height in pixels.
    pub fn height(&self) -> u32 {
        self.height
    }

    /// The picture as an [`Image`] (gray or RGB; alpha dropped) carrying `metadata`.
    pub fn to_image(&self, metadata: Metadata) -> Result<Image> {
        let (color, out_channels) = match self.layout {
            PixelLayout::Gray8 => (ColorType::Gray, 1),
            PixelLayout::Rgb8 | PixelLayout::Rgba8 => (ColorType::Rgb, 3),
        };
        let (w, h) = (self.width as usize, self.height as usize);
        let mut data = Vec::with_capacity(w * h * out_channels);
        let s = self.strides;
        let packed = s.sample == 1 && s.pixel == self.layout.channels();
        for y in 0..h {
            let start = y * s.row;
            if packed && out_channels == self.layout.channels() {
                data.extend_from_slice(&self.samples[start..start + w * out_channels]);
                continue;
            }
            for x in 0..w {
                let at = start + x * s.pixel;
                for c in 0..out_channels {
                    data.push(self.samples[at + c * s.sample]);
                }
            }
        }
        let mut image = Image::new(self.width, self.height, color, data)?;
        image.metadata = metadata;
        Ok(image)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packed_rgb_with_padding_reads_each_row() {
        // 2x2 RGB with a row stride of 8 (2 bytes of padding per row).
        let samples = [1, 2, 3, 4, 5, 6, 0, 0, 7, 8, 9, 10, 11, 12];
        let view = PixelView::packed(&samples, 2, 2, 8, PixelLayout::Rgb8).unwrap();
        let image = view.to_image(Metadata::default()).unwrap();
        assert_eq!(image.pixels(), &[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    }

    #[test]
    fn strided_views_equal_their_contiguous_copy() {
        // A 3x2 RGBA buffer read every other pixel and every sample backwards is not what anyone asks;
        // a column step of 2 and planar samples are.
        let planar: Vec<u8> = (0..24).collect(); // 3 planes of 2x4
        let strides = Strides { row: 4, pixel: 2, sample: 8 };
        let view = PixelView::new(&planar, 2, 2, PixelLayout::Rgb8, strides).unwrap();
        let image = view.to_image(Metadata::default()).unwrap();
        assert_eq!(image.pixels(), &[0, 8, 16, 2, 10, 18, 4, 12, 20, 6, 14, 22]);
        let rgba = [9, 8, 7, 255, 6, 5, 4, 0];
        let image =
            PixelView::packed(&rgba, 2, 1, 8, PixelLayout::Rgba8).unwrap().to_image(Metadata::default());
        assert_eq!(image.unwrap().pixels(), &[9, 8, 7, 6, 5, 4]);
    }

    #[test]
    fn bad_views_are_refused_with_a_reason() {
        let samples = [0u8; 12];
        let short = PixelView::packed(&samples, 2, 3, 6, PixelLayout::Rgb8).unwrap_err();
        assert!(short.to_string().contains("holds 12 bytes"), "{short}");
        let stride = PixelView::packed(&samples, 2, 2, 5, PixelLayout::Rgb8).unwrap_err();
        assert!(stride.to_string().contains("smaller than a row"), "{stride}");
        let empty = PixelView::packed(&samples, 0, 2, 6, PixelLayout::Rgb8).unwrap_err();
        assert!(empty.to_string().contains("empty"), "{empty}");
        let huge =
            PixelView::span(70_000, 2, PixelLayout::Rgb8, Strides::rows(usize::MAX, PixelLayout::Rgb8));
        assert!(huge.unwrap_err().to_string().contains("overflows"));
        let too_big = PixelView::packed(&samples, 70_000, 1, 210_000, PixelLayout::Rgb8).unwrap_err();
        assert!(matches!(too_big, Error::Limits(_)), "{too_big}");
        assert!(PixelLayout::from_channels(5).is_err());
    }
}
