//! Chroma subsampling as part of auto mode's decision. JPEG and HEIF are searched at 4:2:0 (what
//! nearly every picture needs least bytes for), and at 4:4:4 too when 4:2:0 cannot reach the target
//! at any quality (saturated colour, graphics, fine chroma detail), or when 4:2:0's answer lies so high
//! in the quality range that 4:4:4 is often smaller there ([`TRY_444_FROM_QUALITY`], chosen on the
//! training photos' ladders). The smaller output that meets the target is written, and the report
//! says which and why. A sampling the caller gave is used as given (no `at_444` codec).
//!
//! The order saves judgements. When the quality prior puts 4:2:0's answer at the threshold or above,
//! 4:4:4 (which usually wins there) is searched first. The second sampling can win only with fewer
//! bytes than the first's answer, so it is searched by [`encode_at_jnd_below`]: its highest quality
//! under those bytes is found by encoding alone and judged; when that fails, nothing below it can
//! pass and one judgement settles it. Verdicts that fall with quality and bytes that rise with it
//! (what the search assumes anyway) make this the same choice as searching both samplings in full.

use jnd_model::prior::Features;

use super::EncodePlan;

use crate::auto::{
    AutoEncoded, AutoOptions, Below, Decider, Probe, Shared, encode_at_jnd_below, encode_at_jnd_sharing,
    prior_guess,
};
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
        let plain = self.codec.as_ref();
        let tag = |probes: &[Probe], codec: &dyn Codec| -> Vec<(Probe, String)> {
            probes.iter().map(|p| (p.clone(), codec.chroma())).collect()
        };
        let (alternative, prior_444) = match &self.at_444 {
            Some((alt, prior)) if judged.color() != jnd_model::ColorType::Gray => (alt.as_ref(), prior),
            at_444 => {
                let reason = if at_444.is_some() { "gray" } else { "given" };
                let (result, _) = encode_at_jnd_sharing(judged, plain, decider, options, Shared::default())?;
                let probes = tag(&result.probes, plain);
                return Ok(Searched { result, codec: plain, probes, reason });
            }
        };
        let options_444 = AutoOptions { prior: prior_444.clone(), ..options.clone() };
        // The prior's 4:2:0 answer says which sampling to search first (its features serve both).
        let features = options.prior.as_ref().map(|_| Features::of(judged));
        let high = features
            .as_ref()
            .and_then(|f| prior_guess(f, options, &decider.target()))
            .is_some_and(|g| g.quality >= TRY_444_FROM_QUALITY);
        let (first_codec, first_options, second_codec, second_options) = if high {
            (alternative, &options_444, plain, options)
        } else {
            (plain, options, alternative, &options_444)
        };
        let shared = Shared { prepared: None, features: features.as_ref(), judged: Vec::new() };
        let (first, prepared) = encode_at_jnd_sharing(judged, first_codec, decider, first_options, shared)?;
        let mut probes = tag(&first.probes, first_codec);
        if !high && !first.saturated && first.quality < TRY_444_FROM_QUALITY {
            return Ok(Searched { result: first, codec: plain, probes, reason: "default" });
        }
        let Some(prepared) = prepared.as_ref() else {
            return Err(crate::Error::Parameter("the original was not prepared".into()));
        };
        // The second sampling: in full when the first cannot reach the target; else it can win only
        // with fewer bytes than the first's answer, which one judgement usually rules out.
        let (second, second_probes, second_times) = if first.saturated {
            let shared = Shared { prepared: Some(prepared), features: features.as_ref(), judged: Vec::new() };
            let (second, _) = encode_at_jnd_sharing(judged, second_codec, decider, second_options, shared)?;
            let (probes, times) = (second.probes.clone(), second.times);
            (Some(second), probes, times)
        } else {
            // The other sampling's candidate of about the first's bytes lies a few qualities away:
            // 4:2:0 above 4:4:4's quality, 4:4:4 below 4:2:0's.
            let near = if high { first.quality.saturating_add(2) } else { first.quality.saturating_sub(3) };
            match encode_at_jnd_below(
                judged,
                second_codec,
                decider,
                second_options,
                prepared,
                features.as_ref(),
                first.encoded.bytes.len(),
                near,
            )? {
                Below::Found(second) => {
                    let (probes, times) = (second.probes.clone(), second.times);
                    (Some(second), probes, times)
                }
                Below::None { probes, times } => (None, probes, times),
            }
        };
        probes.extend(tag(&second_probes, second_codec));
        // Either search's times are the picture's: the report adds them.
        let times = first.times + second_times;
        // The reasons in this order (`high`: 4:4:4 first).
        let (first_smaller, second_smaller) = if high {
            ("4:4:4 is smaller", "4:2:0 is smaller")
        } else {
            ("4:2:0 is smaller", "4:4:4 is smaller")
        };
        let (mut result, codec, reason) = match second {
            Some(second) if first.saturated && !second.saturated => {
                let reason =
                    if high { "4:4:4 cannot reach the target" } else { "4:2:0 cannot reach the target" };
                (second, second_codec, reason)
            }
            // Neither reaches it: the 4:2:0 search's top, as when 4:2:0 is searched alone.
            Some(second) if first.saturated => {
                let result = if high { second } else { first };
                (result, plain, "neither sampling reaches the target")
            }
            Some(second) if second.encoded.bytes.len() < first.encoded.bytes.len() => {
                (second, second_codec, second_smaller)
            }
            _ => (first, first_codec, first_smaller),
        };
        result.times = times;
        Ok(Searched { result, codec, probes, reason })
    }
}
