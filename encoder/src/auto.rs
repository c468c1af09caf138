//! Auto quality: encode at the picture-wise JND.
//!
//! [`encode_at_jnd`] runs the [block search](crate::search) over a codec's qualities on real compressed
//! candidates: each candidate is encoded once, decoded and judged by a [`Decider`] that has prepared the
//! original once; the chosen candidate's bytes are the output (no final re-encode). Deciders return a
//! [`Decision`] (verdict and score) per candidate, which the search and the report both carry.
//! [`search_candidates`] is the same search over any [`CandidateSource`] (the trainer's evaluation
//! feeds it cached ladder rungs), so what the model card measures is this code.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use rayon::prelude::*;

use jnd_model::metrics::ButteraugliRef;
use jnd_model::vpjnd::{self, VpJnd};

use crate::codec::{Codec, Encoded, OutputFormat};
use crate::{Error, Image, Result};

/// The perceptual operating point to aim at, in butteraugli 3-norm units so it carries across codecs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Target {
    /// Fitted to MCL-JCI's human first-JND distribution (tau 2.295).
    #[default]
    HumanFirstJnd,
    /// butteraugli's own just-noticeable boundary for a side-by-side viewer (tau 1.0).
    Strict,
}

impl Target {
    /// The butteraugli 3-norm threshold of this operating point.
    pub fn tau(self) -> f64 {
        match self {
            Target::HumanFirstJnd => vpjnd::TRAINED_TAU,
            Target::Strict => 1.0,
        }
    }

    /// The name used on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Target::HumanFirstJnd => "human-first-jnd",
            Target::Strict => "strict",
        }
    }
}

/// A decider's judgement of one candidate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Decision {
    /// Whether the candidate's distortion is visible at the decider's target.
    pub visible: bool,
    /// The candidate's distance from the original in butteraugli 3-norm units: measured by the
    /// teacher, predicted by the model.
    pub distance: f64,
}

/// Judges decoded candidates against an original it prepared once.
pub trait Decider: Sync {
    /// What the decider computes once per original.
    type Prepared: Sync;
    /// A short name for reports.
    fn name(&self) -> &'static str;
    /// Prepares the original (JND map, features, metric reference).
    fn prepare(&self, original: &Image) -> Result<Self::Prepared>;
    /// Judges `candidate` (decoded, same size as the original).
    fn judge(&self, prepared: &Self::Prepared, candidate: &Image) -> Result<Decision>;
}

/// The embedded model's decision margin for candidates of `format` written by the codec named
/// `codec` (jpegli's candidates have their own; any other JPEG codec has mozjpeg's).
pub fn margin_for(format: OutputFormat, codec: &str) -> f64 {
    let family = match (format, codec) {
        (OutputFormat::Heif, _) => vpjnd::CodecFamily::Heif,
        (OutputFormat::Jpeg, "jpegli") => vpjnd::CodecFamily::Jpegli,
        (OutputFormat::Jpeg, _) => vpjnd::CodecFamily::Jpeg,
    };
    vpjnd::decision_margin(family)
}

/// The embedded VP-JNDnet.
#[derive(Debug, Clone)]
pub struct ModelDecider {
    /// The network.
    pub model: VpJnd,
    /// Threshold (butteraugli 3-norm units).
    pub tau: f64,
    /// Decision margin (natural-log units).
    pub margin: f64,
}

impl ModelDecider {
    /// The embedded weights on the CPU, at `target`, with the model's margin for `codec`'s candidates.
    pub fn embedded(target: Target, codec: &dyn Codec) -> Result<Self> {
        let device = jnd_model::select_device(jnd_model::Accelerator::Cpu)?;
        let margin = margin_for(codec.format(), codec.name());
        Ok(Self { model: VpJnd::embedded(&device)?, tau: target.tau(), margin })
    }
}

impl Decider for ModelDecider {
    type Prepared = vpjnd::Prepared;

    fn name(&self) -> &'static str {
        "vp-jnd"
    }

    fn prepare(&self, original: &Image) -> Result<Self::Prepared> {
        Ok(self.model.prepare(&original.to_rgb())?)
    }

    fn judge(&self, prepared: &Self::Prepared, candidate: &Image) -> Result<Decision> {
        // No per-candidate RGB copy: the patch reader replicates gray itself.
        let judgement = self.model.judge(prepared, candidate)?;
        Ok(Decision {
            visible: !judgement.lossless_at(self.tau, self.margin),
            distance: judgement.predicted_distance(),
        })
    }
}

/// The teacher: butteraugli 3-norm against a threshold (slow, exact for its own definition).
#[derive(Debug, Clone, Copy)]
pub struct TeacherDecider {
    /// Threshold (butteraugli 3-norm).
    pub tau: f64,
}

impl Decider for TeacherDecider {
    type Prepared = (ButteraugliRef, jnd_model::ColorType);

    fn name(&self) -> &'static str {
        "teacher"
    }

    fn prepare(&self, original: &Image) -> Result<Self::Prepared> {
        Ok((ButteraugliRef::new(original)?, original.color()))
    }

    fn judge(&self, prepared: &Self::Prepared, candidate: &Image) -> Result<Decision> {
        let scores = if candidate.color() == prepared.1 {
            prepared.0.compare(candidate)?
        } else {
            prepared.0.compare(&candidate.to_rgb())?
        };
        Ok(Decision { visible: scores.pnorm3 > self.tau, distance: scores.pnorm3 })
    }
}

/// The search's settings.
#[derive(Debug, Clone)]
pub struct AutoOptions {
    /// Lowest quality to consider.
    pub min_quality: u8,
    /// Highest quality to consider.
    pub max_quality: u8,
    /// Step between qualities (1 for JPEG, 2 for HEIF: x265's quality mapping moves in steps of ~2).
    pub step: u8,
    /// Block size of the block search.
    pub block: usize,
}

impl AutoOptions {
    /// Defaults for a codec's output format: JPEG 1..100 step 1, HEIF 0..100 step 2; block 3.
    pub fn for_format(format: OutputFormat) -> Self {
        match format {
            OutputFormat::Heif => Self { min_quality: 0, max_quality: 100, step: 2, block: 3 },
            _ => Self { min_quality: 1, max_quality: 100, step: 1, block: 3 },
        }
    }

    /// The qualities searched, ascending; the top one is always `max_quality`.
    pub fn qualities(&self) -> Vec<u8> {
        let (lo, hi) = (self.min_quality.min(self.max_quality), self.max_quality.max(self.min_quality));
        let step = self.step.max(1);
        let mut out: Vec<u8> = (lo..=hi).rev().step_by(usize::from(step)).collect();
        out.reverse();
        out
    }
}

/// One judged candidate.
#[derive(Debug, Clone, PartialEq)]
pub struct Probe {
    /// Its quality.
    pub quality: u8,
    /// Its size in bytes.
    pub bytes: usize,
    /// The decider's verdict and score.
    pub decision: Decision,
}

/// Time spent per stage, summed over candidates (candidates of a block run in parallel, so the sum
/// can exceed the wall time).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct StageTimes {
    /// Preparing the original.
    pub prepare: Duration,
    /// Encoding candidates.
    pub encode: Duration,
    /// Decoding candidates.
    pub decode: Duration,
    /// Judging candidates.
    pub judge: Duration,
}

/// The result of [`encode_at_jnd`].
#[derive(Debug, Clone)]
pub struct AutoEncoded {
    /// The chosen quality.
    pub quality: u8,
    /// The chosen candidate, as encoded during the search.
    pub encoded: Encoded,
    /// Every judged candidate, in the order judged.
    pub probes: Vec<Probe>,
    /// True when even the highest quality was judged visible.
    pub saturated: bool,
    /// Time per stage.
    pub times: StageTimes,
}

/// One candidate of the search: what was written and what it decodes to.
#[derive(Debug, Clone)]
pub struct Candidate {
    /// The encoded file (its length is the candidate's size).
    pub encoded: Encoded,
    /// The decoded pixels the decider judges.
    pub decoded: Image,
    /// Time spent encoding and decoding it.
    pub times: [Duration; 2],
}

/// Where the search's candidates come from: a codec encoding the original ([`CodecCandidates`]), or
/// anything else that yields real candidates per quality (the trainer's cached ladders).
pub trait CandidateSource: Sync {
    /// The candidate at `quality`.
    fn candidate(&self, quality: u8) -> Result<Candidate>;
    /// Whether several candidates may be produced at once (false for x265, which threads itself and
    /// whose encoders are not promised to be safe side by side).
    fn parallel(&self) -> bool;
}

/// Candidates encoded by a codec from the original and decoded back.
pub struct CodecCandidates<'a> {
    /// The original.
    pub image: &'a Image,
    /// The codec.
    pub codec: &'a dyn Codec,
}

impl CandidateSource for CodecCandidates<'_> {
    fn candidate(&self, quality: u8) -> Result<Candidate> {
        let t = Instant::now();
        let encoded = self.codec.encode(self.image, quality)?;
        let encode = t.elapsed();
        let t = Instant::now();
        let decoded = self.codec.decode(&encoded.bytes)?;
        Ok(Candidate { encoded, decoded, times: [encode, t.elapsed()] })
    }

    fn parallel(&self) -> bool {
        self.codec.format() != OutputFormat::Heif
    }
}

/// Encodes `image` with `codec` at the lowest quality `decider` judges invisible (block search).
pub fn encode_at_jnd<D: Decider>(
    image: &Image,
    codec: &dyn Codec,
    decider: &D,
    options: &AutoOptions,
) -> Result<AutoEncoded> {
    let mut result = search_candidates(image, &CodecCandidates { image, codec }, decider, options)?;
    if result.encoded.bytes.is_empty() {
        let t = Instant::now();
        result.encoded = codec.encode(image, result.quality)?;
        result.times.encode += t.elapsed();
    }
    Ok(result)
}

/// The block search over `source`'s candidates, judged by `decider` against `original`. The chosen
/// candidate is returned as produced during the search; when the search chose a quality it never
/// produced (only possible at a saturated top), `encoded` is empty and [`encode_at_jnd`] encodes it.
pub fn search_candidates<D: Decider>(
    original: &Image,
    source: &dyn CandidateSource,
    decider: &D,
    options: &AutoOptions,
) -> Result<AutoEncoded> {
    if options.min_quality > options.max_quality {
        // Found by fuzzing (`fuzz/fuzz_targets/auto_tiny.rs`): the bounds used to be swapped silently,
        // so the chosen quality could lie outside what the caller asked for.
        return Err(Error::Parameter(format!(
            "min_quality {} is above max_quality {}",
            options.min_quality, options.max_quality
        )));
    }
    let mut times = StageTimes::default();
    let started = Instant::now();
    let prepared = decider.prepare(original)?;
    times.prepare = started.elapsed();
    let qualities = options.qualities();
    let mut candidates: HashMap<u8, Encoded> = HashMap::new();
    let mut probes = Vec::new();
    // One candidate: produce, judge; with the time of each stage.
    let judge_one = |q: u8| -> Result<(Encoded, Decision, [Duration; 3])> {
        let candidate = source.candidate(q)?;
        let decoded = &candidate.decoded;
        if decoded.width() != original.width() || decoded.height() != original.height() {
            return Err(Error::Encode {
                codec: "search",
                message: format!("candidate at quality {q} decoded to a different size"),
            });
        }
        let t = Instant::now();
        let decision = decider.judge(&prepared, decoded)?;
        let [encode, decode] = candidate.times;
        Ok((candidate.encoded, decision, [encode, decode, t.elapsed()]))
    };
    // A block's candidates are independent: produce and judge them in parallel where allowed.
    let outcome =
        crate::search::block_search_batched(&qualities, options.block, |batch| -> Result<Vec<bool>> {
            let results: Vec<Result<(Encoded, Decision, [Duration; 3])>> = if source.parallel() {
                batch.par_iter().map(|&q| judge_one(q)).collect()
            } else {
                batch.iter().map(|&q| judge_one(q)).collect()
            };
            let mut verdicts = Vec::with_capacity(batch.len());
            for (&q, result) in batch.iter().zip(results) {
                let (encoded, decision, [encode, decode, judge]) = result?;
                times.encode += encode;
                times.decode += decode;
                times.judge += judge;
                probes.push(Probe { quality: q, bytes: encoded.bytes.len(), decision });
                candidates.insert(q, encoded);
                verdicts.push(decision.visible);
            }
            Ok(verdicts)
        })?
        .ok_or_else(|| Error::Encode { codec: "search", message: "no quality to search".into() })?;
    let encoded = candidates
        .remove(&outcome.quality)
        .unwrap_or_else(|| Encoded { bytes: Vec::new(), warnings: Vec::new() });
    Ok(AutoEncoded { quality: outcome.quality, encoded, probes, saturated: outcome.saturated, times })
}
