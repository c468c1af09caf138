use crate::{Error, Result};

/// The JPEG colour space to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum JpegColor {
    /// YCbCr for colour input, grayscale for gray input (cjpeg's default).
    #[default]
    Auto,
    /// One component, from BT.601 luma (`-grayscale`).
    Grayscale,
    /// Three RGB components without YCbCr conversion (`-rgb`).
    Rgb,
}

/// The forward DCT (`-dct`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DctMethod {
    /// Accurate integer DCT (default).
    #[default]
    Int,
    /// Fast, less accurate integer DCT.
    Fast,
    /// Floating-point DCT.
    Float,
}

/// Restart markers (`-restart N[B]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Restart {
    /// A restart marker every N MCU rows.
    Rows(u16),
    /// A restart marker every N MCUs.
    Blocks(u16),
}

/// JPEG encoding options, mirroring cjpeg's switches. Quality is given per encode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JpegOptions {
    /// Per-slot quality overrides after slot 0 (`-quality 90,80` gives `[80]`): slot `i` uses entry
    /// `i - 1`, the last repeated. Empty: every slot uses the encode's quality.
    pub extra_slot_qualities: Vec<u8>,
    /// Progressive scans (mozjpeg's default; off with `-baseline`).
    pub progressive: bool,
    /// Optimized Huffman tables (`-optimize`; always on in progressive mode).
    pub optimize_coding: bool,
    /// mozjpeg's trellis quantisation (off with `-notrellis`).
    pub trellis: bool,
    /// Clamp quantizers to 8 bits (`-baseline`, `-quant-baseline`).
    pub force_baseline_tables: bool,
    /// mozjpeg's base table set (`-quant-table N`): 0 is the JPEG standard's Annex K tables, which is
    /// what libjpeg-turbo's cjpeg uses, so `-quality N` means the same in both. mozjpeg's own default is 3.
    pub quant_table_set: u8,
    /// libjpeg-turbo defaults instead of mozjpeg's (`-revert`): baseline, no trellis.
    pub revert: bool,
    /// Colour space to write.
    pub color: JpegColor,
    /// Sampling factors per component (`-sample 2x2,1x1`), the remaining components 1x1.
    /// `None`: 2x2 luma (4:2:0).
    pub sampling: Option<Vec<(u8, u8)>>,
    /// Custom base tables in natural order (`-qtables`), scaled by the slot's quality when a quality
    /// was given explicitly, used as written otherwise.
    pub qtables: Option<Vec<[u16; 64]>>,
    /// Whether `qtables` are scaled by the quality (cjpeg scales them only when `-quality` is given).
    pub scale_qtables: bool,
    /// Table slot per component (`-qslots 0,1,1`), the last repeated.
    pub qslots: Option<Vec<u8>>,
    /// Restart markers.
    pub restart: Option<Restart>,
    /// Input smoothing 0..=100 (`-smooth`).
    pub smoothing: u8,
    /// Forward DCT.
    pub dct: DctMethod,
    /// Write the JFIF APP0 marker (off with `-nojfif`).
    pub jfif: bool,
    /// Write the image's ICC profile.
    pub keep_icc: bool,
    /// Write the image's EXIF.
    pub keep_exif: bool,
}

impl JpegOptions {
    /// The chroma subsampling colour output gets: `4:2:0` (libjpeg's default), `4:2:2`, `4:4:4`, or
    /// the factors as given (`1x2,1x1`); `RGB` and `gray` for those colour spaces.
    pub fn chroma_name(&self) -> String {
        match self.color {
            JpegColor::Grayscale => return "gray".into(),
            JpegColor::Rgb => return "RGB".into(),
            JpegColor::Auto => {}
        }
        let Some(factors) = &self.sampling else { return "4:2:0".into() };
        let luma = factors.first().copied().unwrap_or((2, 2));
        let chroma_full = factors.iter().skip(1).all(|&f| f == (1, 1));
        match (luma, chroma_full) {
            ((1, 1), true) => "4:4:4".into(),
            ((2, 1), true) => "4:2:2".into(),
            ((2, 2), true) => "4:2:0".into(),
            _ => factors.iter().map(|(h, v)| format!("{h}x{v}")).collect::<Vec<_>>().join(","),
        }
    }
}

impl Default for JpegOptions {
    /// mozjpeg's cjpeg defaults, with the standard's quantisation tables.
    fn default() -> Self {
        JpegOptions {
            extra_slot_qualities: Vec::new(),
            progressive: true,
            optimize_coding: true,
            trellis: true,
            force_baseline_tables: false,
            quant_table_set: 0,
            revert: false,
            color: JpegColor::Auto,
            sampling: None,
            qtables: None,
            scale_qtables: false,
            qslots: None,
            restart: None,
            smoothing: 0,
            dct: DctMethod::Int,
            jfif: true,
            keep_icc: true,
            keep_exif: true,
        }
    }
}

impl JpegOptions {
    /// Quality of table slot `slot` when the encode's quality is `quality`.
    pub fn slot_quality(&self, quality: u8, slot: usize) -> u8 {
        if slot == 0 || self.extra_slot_qualities.is_empty() {
            quality
        } else {
            let i = (slot - 1).min(self.extra_slot_qualities.len() - 1);
            self.extra_slot_qualities[i]
        }
    }

    /// The cjpeg switches whose settings differ from the defaults, by name (to refuse them where they
    /// cannot apply, e.g. for HEIF output). Metadata flags are not switches and are not listed.
    pub fn switches_set(&self) -> Vec<&'static str> {
        let default = JpegOptions::default();
        let checks = [
            (!self.extra_slot_qualities.is_empty(), "-quality N,M"),
            (self.color == JpegColor::Grayscale, "-grayscale"),
            (self.color == JpegColor::Rgb, "-rgb"),
            (self.revert, "-revert"),
            (!self.revert && !self.progressive, "-baseline"),
            (self.force_baseline_tables, "-quant-baseline"),
            (!self.revert && !self.trellis, "-notrellis"),
            (self.quant_table_set != default.quant_table_set, "-quant-table"),
            (self.dct != default.dct, "-dct"),
            (self.restart.is_some(), "-restart"),
            (self.smoothing > 0, "-smooth"),
            (self.sampling.is_some(), "-sample"),
            (self.qtables.is_some(), "-qtables"),
            (self.qslots.is_some(), "-qslots"),
            (!self.jfif, "-nojfif"),
        ];
        checks.into_iter().filter(|(set, _)| *set).map(|(_, name)| name).collect()
    }

    /// Checks ranges that libjpeg would otherwise reject with a less helpful message.
    pub fn validate(&self, components: usize) -> Result<()> {
        if self.quant_table_set > 8 {
            return Err(Error::Parameter(format!("quant-table must be 0..=8, got {}", self.quant_table_set)));
        }
        if self.smoothing > 100 {
            return Err(Error::Parameter(format!("smoothing must be 0..=100, got {}", self.smoothing)));
        }
        if let Some(sampling) = &self.sampling {
            if sampling.len() > components {
                return Err(Error::Parameter(format!(
                    "-sample gives {} components but the JPEG has {components}",
                    sampling.len()
                )));
            }
            for &(h, v) in sampling {
                if !(1..=4).contains(&h) || !(1..=4).contains(&v) {
                    return Err(Error::Parameter(format!("sampling factors must be 1..=4, got {h}x{v}")));
                }
            }
        }
        if let Some(tables) = &self.qtables
            && (tables.is_empty() || tables.len() > 4)
        {
            return Err(Error::Parameter(format!(
                "a qtables file must hold 1 to 4 tables, got {}",
                tables.len()
            )));
        }
        if let Some(slots) = &self.qslots
            && let Some(bad) = slots.iter().find(|&&s| s > 3)
        {
            return Err(Error::Parameter(format!("quantization table slots are 0..=3, got {bad}")));
        }
        for &q in &self.extra_slot_qualities {
            if !(1..=100).contains(&q) {
                return Err(Error::Parameter(format!("quality must be 1..=100, got {q}")));
            }
        }
        Ok(())
    }
}

/// The machine quantisation tables (luma, then chroma; natural order, the base at quality 50 that
/// `-quality` scales), derived from the four CIFAR-10 classifiers' sensitivity per DCT frequency by
/// `jnd-train machine-tables` and embedded from `jnd-model/weights/machine-qtables.txt` (a cjpeg
/// `-qtables` file, so cjpeg can use it too).
pub fn machine_qtables() -> Result<Vec<[u16; 64]>> {
    parse_qtables(jnd_model::dmvjnd::MACHINE_QTABLES)
}

/// Parses a cjpeg `-qtables` file: integers separated by white space or commas, `#` comments to the end
/// of the line, 64 per table in natural (row-major) order, at most 4 tables.
pub fn parse_qtables(text: &str) -> Result<Vec<[u16; 64]>> {
    let mut values = Vec::new();
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or("");
        for token in line.split(|c: char| c.is_whitespace() || c == ',') {
            if token.is_empty() {
                continue;
            }
            let v: u32 =
                token.parse().map_err(|_| Error::Parameter(format!("qtables: '{token}' is not a number")))?;
            if !(1..=32767).contains(&v) {
                return Err(Error::Parameter(format!("qtables: quantizer {v} is outside 1..=32767")));
            }
            values.push(v as u16);
        }
    }
    if values.is_empty() || values.len() % 64 != 0 {
        return Err(Error::Parameter(format!(
            "qtables: expected 64 numbers per table, got {} numbers",
            values.len()
        )));
    }
    let tables: Vec<[u16; 64]> = values
        .chunks_exact(64)
        .map(|c| {
            let mut t = [0u16; 64];
            t.copy_from_slice(c);
            t
        })
        .collect();
    if tables.len() > 4 {
        return Err(Error::Parameter(format!("qtables: at most 4 tables, got {}", tables.len())));
    }
    Ok(tables)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qtables_parse_with_comments_and_reject_bad_counts() {
        let one: String = (1..=64).map(|v| format!("{v} ")).collect();
        let text = format!("# luma\n{one}\n# chroma\n{one}");
        let tables = parse_qtables(&text).unwrap();
        assert_eq!(tables.len(), 2);
        assert_eq!(tables[1][63], 64);
        assert!(parse_qtables("1 2 3").is_err());
        assert!(parse_qtables("").is_err());
        assert!(parse_qtables(&one.replace("5 ", "x ")).is_err());
    }

    #[test]
    fn slot_quality_repeats_the_last_value() {
        let o = JpegOptions { extra_slot_qualities: vec![70], ..Default::default() };
        assert_eq!(o.slot_quality(90, 0), 90);
        assert_eq!(o.slot_quality(90, 1), 70);
        assert_eq!(o.slot_quality(90, 3), 70);
        assert_eq!(JpegOptions::default().slot_quality(90, 2), 90);
    }
}
