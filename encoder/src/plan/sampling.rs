//! Chroma subsampling as part of auto mode's decision. JPEG and HEIF are searched at 4:2:0 first
//! (what nearly every picture needs least bytes for); 4:4:4 is searched too when 4:2:0 cannot reach
//! the target at any quality (saturated colour, graphics, fine chroma detail), or when 4:2:0's answer
//! lies so high in the quality range that 4:4:4 is often smaller there
//! ([`TRY_444_FROM_QUALITY`], chosen on the training photos' ladders). The smaller output that meets
//! the target is written, and the report says which and why. A sampling the caller gave is used as
//! given (no `at_444` codec).

use super::EncodePlan;
use crate::auto::{AutoEncoded, AutoOptions, Decider, Probe, encode_at_jnd_sharing};
use crate::codec::Codec;
use crate::{Image, Result};

/// 4:4:4 is searched as well when the 4:2:0 search chose this quality or higher (jpegli's scale; for
/// mozjpeg and HEIF the same number on their own scales), chosen by `jnd-train fit-targets` on the 195
/// training pictures' jpegli ladders at both samplings (`docs/operating-points.md`): at visually-lossless
/// it searches 4:4:4 for 88 of them and writes within 0.2 % of the bytes of searching 4:4:4 always
/// (90: 56 searched, +0.5 %; never: +6.4 %); at web-high and web 4:2:0 rarely answers this high.
pub const TRY_444_FROM_QUALITY: u8 = 88;

/// What the search at one or both samplings gave.
pub(super) struct Searched<'a> {
    /// The chosen search.
    pub result: AutoEncoded,
    /// The codec that wrote the chosen candidate.
    pub codec: &'a dyn Codec,
    /// Every probe of both searches, with its chroma subsampling, in the order judged.
    pub probes: Vec<(Probe, String)>,
    /// Why this sampling.
    pub reason: &'static str,
}

impl EncodePlan {
    /// The search at the plan's sampling and, when the plan chooses it, at 4:4:4; see the module docs.
    pub(super) fn search_samplings<D: Decider>(
        &self,
        judged: &Image,
        decider: &D,
        options: &AutoOptions,
    ) -> Result<Searched<'_>> {
        let (first, prepared) = encode_at_jnd_sharing(judged, self.codec.as_ref(), decider, options, None)?;
        let chroma = self.codec.chroma();
        let tag = |r: &AutoEncoded, chroma: &str| -> Vec<(Probe, String)> {
            r.probes.iter().map(|p| (p.clone(), chroma.to_string())).collect()
        };
        let mut probes = tag(&first, &chroma);
        let (alternative, prior) = match &self.at_444 {
            Some((alt, prior)) if judged.color() != jnd_model::ColorType::Gray => (alt.as_ref(), prior),
            Some(_) => {
                return Ok(Searched { result: first, codec: self.codec.as_ref(), probes, reason: "gray" });
            }
            None => {
                return Ok(Searched { result: first, codec: self.codec.as_ref(), probes, reason: "given" });
            }
        };
        if !first.saturated && first.quality < TRY_444_FROM_QUALITY {
            return Ok(Searched { result: first, codec: self.codec.as_ref(), probes, reason: "default" });
        }
        let options = AutoOptions { prior: prior.clone(), ..options.clone() };
        // The original prepared for the first search serves the second.
        let (mut second, _) =
            encode_at_jnd_sharing(judged, alternative, decider, &options, prepared.as_ref())?;
        // Either search's times are the picture's: the report adds the first's to the second's.
        second.times = first.times + second.times;
        let mut first = first;
        first.times = second.times;
        probes.extend(tag(&second, &alternative.chroma()));
        let (result, codec, reason) = match (first.saturated, second.saturated) {
            (true, false) => (second, alternative, "4:2:0 cannot reach the target"),
            (false, false) if second.encoded.bytes.len() < first.encoded.bytes.len() => {
                (second, alternative, "4:4:4 is smaller")
            }
            (false, _) => (first, self.codec.as_ref(), "4:2:0 is smaller"),
            (true, true) => (first, self.codec.as_ref(), "neither sampling reaches the target"),
        };
        Ok(Searched { result, codec, probes, reason })
    }
}
