//! JPEG through the pure-Rust `jpeg-encoder` crate: for builds without a C toolchain, and as a second
//! opinion in tests. It supports the common switches; the ones it cannot honour are refused with
//! [`Error::Unsupported`] rather than silently ignored (trellis quantisation, which it does not have,
//! is the one exception: it only changes size, never validity).

use jpeg_encoder::{ColorType as JColor, Encoder, QuantizationTableType, SamplingFactor};

use super::{
    Codec, DctMethod, Encoded, JpegColor, JpegOptions, OutputFormat, Restart, check_quality, decode_jpeg,
};
use crate::{ColorType, Error, Image, Result};

/// The JPEG standard's Annex K luminance table, natural order.
pub(crate) const ANNEX_K_LUMA: [u16; 64] = [
    16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56, 14, 17,
    22, 29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92, 49, 64, 78,
    87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
];

/// The JPEG standard's Annex K chrominance table, natural order.
pub(crate) const ANNEX_K_CHROMA: [u16; 64] = [
    17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99, 24, 26, 56, 99, 99, 99, 99, 99, 47, 66,
    99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99,
    99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99,
];

/// libjpeg's `jpeg_quality_scaling`: quality 1..=100 to a percentage scale factor.
pub fn quality_scaling(quality: u8) -> u32 {
    let q = u32::from(quality.clamp(1, 100));
    if q < 50 { 5000 / q } else { 200 - 2 * q }
}

/// libjpeg's `jpeg_add_quant_table` arithmetic: scale a base table, clamp to 1..=255 (this crate writes
/// 8-bit tables only).
fn scale_table(base: &[u16; 64], scale: u32) -> [u16; 64] {
    base.map(|v| ((u32::from(v) * scale + 50) / 100).clamp(1, 255) as u16)
}

/// The pure-Rust JPEG encoder.
#[derive(Debug, Clone, Default)]
pub struct RustJpeg {
    /// The options every encode uses.
    pub options: JpegOptions,
}

impl RustJpeg {
    /// An encoder with these options.
    pub fn new(options: JpegOptions) -> Self {
        RustJpeg { options }
    }

    fn check_supported(&self) -> Result<()> {
        let o = &self.options;
        let refuse = |what: &str| {
            Err(Error::Unsupported(format!("{what} with the rust JPEG codec (use -codec mozjpeg)")))
        };
        if o.color == JpegColor::Rgb {
            return refuse("-rgb");
        }
        if o.smoothing > 0 {
            return refuse("-smooth");
        }
        if o.dct != DctMethod::Int {
            return refuse("-dct other than int");
        }
        if o.qslots.is_some() {
            return refuse("-qslots");
        }
        if o.quant_table_set != 0 {
            return refuse("-quant-table other than 0");
        }
        if let Some(s) = &o.sampling
            && s.iter().skip(1).any(|&f| f != (1, 1))
        {
            return refuse("chroma sampling factors other than 1x1");
        }
        Ok(())
    }
}

impl Codec for RustJpeg {
    fn chroma(&self) -> String {
        self.options.chroma_name()
    }

    fn name(&self) -> &'static str {
        "rust"
    }

    fn format(&self) -> OutputFormat {
        OutputFormat::Jpeg
    }

    fn quality_range(&self) -> (u8, u8) {
        (1, 100)
    }

    fn encode(&self, image: &Image, quality: u8) -> Result<Encoded> {
        check_quality(self, quality)?;
        self.check_supported()?;
        let o = &self.options;
        let gray_copy;
        let input = if o.color == JpegColor::Grayscale && image.color() == ColorType::Rgb {
            gray_copy = image.to_gray();
            &gray_copy
        } else {
            image
        };
        self.options.validate(input.color().channels())?;
        let (width, height) = (
            u16::try_from(input.width()).map_err(|_| Error::Limits("width over 65535".into()))?,
            u16::try_from(input.height()).map_err(|_| Error::Limits("height over 65535".into()))?,
        );
        let mut bytes = Vec::new();
        let mut encoder = Encoder::new(&mut bytes, quality);
        encoder.set_progressive(o.progressive);
        encoder.set_optimized_huffman_tables(o.optimize_coding || o.progressive);
        let (h, v) = o.sampling.as_ref().and_then(|s| s.first().copied()).unwrap_or((2, 2));
        let factor = SamplingFactor::from_factors(h, v)
            .ok_or_else(|| Error::Unsupported(format!("sampling {h}x{v} with the rust JPEG codec")))?;
        encoder.set_sampling_factor(factor);
        let tables = match &o.qtables {
            Some(custom) => {
                let slot_table = |slot: usize| {
                    let base = &custom[slot.min(custom.len() - 1)];
                    let scale =
                        if o.scale_qtables { quality_scaling(o.slot_quality(quality, slot)) } else { 100 };
                    scale_table(base, scale)
                };
                Some([slot_table(0), slot_table(1)])
            }
            None if !o.extra_slot_qualities.is_empty() => Some([
                scale_table(&ANNEX_K_LUMA, quality_scaling(quality)),
                scale_table(&ANNEX_K_CHROMA, quality_scaling(o.slot_quality(quality, 1))),
            ]),
            None => None,
        };
        if let Some([luma, chroma]) = tables {
            encoder.set_quantization_tables(
                QuantizationTableType::Custom(Box::new(luma)),
                QuantizationTableType::Custom(Box::new(chroma)),
            );
        }
        match o.restart {
            None => {}
            Some(Restart::Blocks(n)) => encoder.set_restart_interval(n),
            Some(Restart::Rows(rows)) => {
                let mcu_width = if input.color() == ColorType::Gray { 8 } else { 8 * u32::from(h) };
                let per_row = input.width().div_ceil(mcu_width);
                let interval = u16::try_from(per_row * u32::from(rows))
                    .map_err(|_| Error::Parameter("restart interval over 65535 MCUs".into()))?;
                encoder.set_restart_interval(interval);
            }
        }
        let map_err =
            |e: jpeg_encoder::EncodingError| Error::Encode { codec: "rust", message: e.to_string() };
        if o.keep_icc
            && let Some(icc) = &input.metadata.icc
        {
            encoder.add_icc_profile(icc).map_err(map_err)?;
        }
        if o.keep_exif
            && let Some(exif) = &input.metadata.exif
        {
            encoder.add_exif_metadata(exif).map_err(map_err)?;
        }
        let color = match input.color() {
            ColorType::Gray => JColor::Luma,
            ColorType::Rgb => JColor::Rgb,
        };
        encoder.encode(input.pixels(), width, height, color).map_err(map_err)?;
        Ok(Encoded { bytes, warnings: Vec::new() })
    }

    fn decode(&self, bytes: &[u8]) -> Result<Image> {
        decode_jpeg(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quality_scaling_matches_libjpeg() {
        assert_eq!(quality_scaling(50), 100);
        assert_eq!(quality_scaling(75), 50);
        assert_eq!(quality_scaling(10), 500);
        assert_eq!(quality_scaling(100), 0);
        assert_eq!(scale_table(&ANNEX_K_LUMA, 50)[0], 8);
        assert_eq!(scale_table(&ANNEX_K_LUMA, 0)[0], 1);
    }
}
