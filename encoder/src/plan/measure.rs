//! What a plan's report measures of an output: the decoded output beside the original, its teacher
//! distance (`verify`), the HTML report's pictures (`visuals`), and the report's fixed parts.

use jnd_model::metrics::ButteraugliRef;

use super::{EncodePlan, Names};
use crate::auto::Probe;
use crate::codec::Codec;
use crate::report::{CandidateReport, ImageReport, Visual};
use crate::settings::Named;
use crate::{DecodeOptions, Image, Result};

/// Every probe as the report shows it, with the sampling it was judged at.
pub(super) fn candidate_reports(probes: &[(Probe, String)]) -> Vec<CandidateReport> {
    probes
        .iter()
        .map(|(p, chroma)| CandidateReport {
            quality: p.quality,
            bytes: p.bytes,
            visible: p.decision.visible,
            distance: p.decision.distance,
            ssimulacra2: p.decision.ssimulacra2,
            sampling: chroma.clone(),
            checked: p.decision.checked,
        })
        .collect()
}

impl EncodePlan {
    /// What every report of this plan says of an image before anything is encoded.
    pub(super) fn report_base(&self, names: Names<'_>, source: Option<&[u8]>) -> ImageReport {
        let target = self.strategy.target();
        ImageReport {
            input: names.input.to_string(),
            output: names.output.to_string(),
            format: self.codec.format().name().to_string(),
            target: self.strategy.target_name(),
            target_distance: target.and_then(|t| t.distance),
            target_ssimulacra2: target.and_then(|t| t.ssimulacra2),
            decider: self.strategy.name().to_string(),
            input_bytes: source.map_or(0, <[u8]>::len),
            ..ImageReport::default()
        }
    }

    /// The output's teacher distance (with `verify`) and the HTML report's pictures (with `visuals`),
    /// from the output `bytes` decoded beside `image`.
    pub(super) fn measure_output(
        &self,
        codec: &dyn Codec,
        image: &Image,
        bytes: &[u8],
        copied_input: bool,
    ) -> Result<(Option<f64>, Option<Visual>)> {
        if !self.verify && !self.visuals {
            return Ok((None, None));
        }
        let decoded = if copied_input {
            crate::decode::decode(bytes, &DecodeOptions::default())?
        } else {
            codec.decode(bytes)?
        };
        let decoded = if decoded.color() == image.color() { decoded } else { decoded.to_rgb() };
        let reference = if decoded.color() == image.color() { image.clone() } else { image.to_rgb() };
        let verified =
            if self.verify { Some(ButteraugliRef::new(&reference)?.compare(&decoded)?.pnorm3) } else { None };
        let visual = if self.visuals { Some(crate::visual::of(&reference, &decoded)?) } else { None };
        Ok((verified, visual))
    }
}
