//! The copy-input rule and jndenc's marker: a JPEG input that is jndenc's own output for the same
//! target is kept as it is (its metadata rewritten to the policy), and every JPEG jndenc writes names
//! jndenc, its version and the decision in a COM segment so a later run can tell.

use std::time::Instant;

use super::{EncodePlan, Encoding, Names};
use crate::Result;
use crate::codec::{Codec, JpegColor, OutputFormat};
use crate::jpeg_info::{self, MetadataEdit};
use crate::report::{ImageReport, StageSeconds};
use crate::strategy::Strategy;

impl EncodePlan {
    /// The metadata policy as an edit of a kept input's markers.
    pub(super) fn metadata_edit(&self) -> MetadataEdit<'_> {
        MetadataEdit {
            keep_exif: self.metadata.keep_exif,
            keep_icc: self.metadata.keep_icc,
            icc: self.metadata.icc.as_deref().filter(|_| self.metadata.keep_icc),
        }
    }

    /// The marker text of an output at `quality`.
    pub(super) fn marker_text(&self, codec: &dyn Codec, quality: u8) -> String {
        let (prefix, version, how) = (jpeg_info::MARKER_PREFIX, crate::VERSION, self.strategy.name());
        let head = match self.strategy {
            Strategy::Fixed(_) => format!("{prefix}{version} {how} quality={quality}"),
            _ => format!("{prefix}{version} {how} target={} quality={quality}", self.strategy.target_name()),
        };
        // The codec, and its own parameter where the quality is not cjpeg's (jpegli's distance).
        let parameter = codec.parameter(quality);
        if parameter == format!("quality={quality}") {
            format!("{head} codec={}", codec.name())
        } else {
            format!("{head} codec={} {parameter}", codec.name())
        }
    }

    /// jndenc's marker in `source`, when auto mode would keep it as jndenc's own output: a JPEG
    /// input to JPEG output whose colour satisfies the output's, marked by an auto-mode run at the
    /// same target.
    pub(super) fn own_output(&self, info: &jpeg_info::JpegInfo) -> Option<String> {
        // Only a decision made for the same target is kept: a stricter (or looser) target searches
        // again (and the copy-input rule still keeps the input if nothing undercuts it).
        let marker = info.jndenc_marker()?;
        let target = format!("target={}", self.strategy.target_name());
        marker.split_whitespace().any(|field| field == target).then_some(marker)
    }

    /// Keeps `source`, jndenc's own output, with the metadata policy applied (no encode).
    pub(super) fn keep_own_output(
        &self,
        source: &[u8],
        marker: &str,
        names: Names<'_>,
        started: Instant,
    ) -> Result<Encoding> {
        let bytes = jpeg_info::rewrite_metadata(source, &self.metadata_edit())?;
        let quality = marker
            .split_whitespace()
            .find_map(|field| field.strip_prefix("quality="))
            .and_then(|q| q.parse().ok())
            .unwrap_or(0);
        let report = ImageReport {
            codec: "input".into(),
            quality,
            bytes: bytes.len(),
            copied_input: true,
            already_encoded: true,
            seconds: StageSeconds { total: started.elapsed().as_secs_f64(), ..StageSeconds::default() },
            ..self.report_base(names, Some(source))
        };
        Ok(Encoding { bytes, warnings: Vec::new(), report })
    }

    /// The input's markers when the copy-input rule applies to `source`: auto mode, JPEG output, a
    /// JPEG input whose colour satisfies the output's.
    pub(super) fn keepable_input(&self, source: &[u8]) -> Option<jpeg_info::JpegInfo> {
        if !self.strategy.searches()
            || self.codec.format() != OutputFormat::Jpeg
            || !source.starts_with(&[0xFF, 0xD8])
        {
            return None;
        }
        let info = jpeg_info::parse(source).ok()?;
        let colour_fits = match self.jpeg_color {
            JpegColor::Auto => true,
            JpegColor::Grayscale => info.components.len() == 1,
            JpegColor::Rgb => false,
        };
        colour_fits.then_some(info)
    }
}
