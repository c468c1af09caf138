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
use jnd_model::prior::{Features, QualityPrior};
use jnd_model::vpjnd::{self, VpJnd};

use crate::codec::{Codec, Encoded, OutputFormat};
use crate::settings::{Named, Preset};
use crate::{Error, Image, Result};

/// The perceptual operating point to aim at, in butteraugli 3-norm units so it carries across codecs.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum Target {
    /// MCL-JCI's mean first JND (3-norm 2.295): where about half of its viewers notice a difference.
    #[default]
    HumanFirstJnd,
    /// Fitted the same way to the quality 75 % of MCL-JCI's viewers could not tell from the original
    /// (SUR 75 %, 3-norm [`Target::SUR75_TAU`]).
    Sur75,
    /// butteraugli's own just-noticeable boundary for a side-by-side viewer (3-norm 1.0).
    Strict,
    /// Any butteraugli 3-norm distance in [`Target::DISTANCE_RANGE`] (`--distance`).
    Distance(f64),
}

impl Target {
    /// The distances `--distance` accepts: the range the prior and the model were trained across.
    pub const DISTANCE_RANGE: std::ops::RangeInclusive<f64> = 0.5..=4.0;

    /// The 3-norm at which 75 % of MCL-JCI's viewers see no difference, by quantile matching as for
    /// human-first-jnd (`jnd-train fit-teacher --pw sur75`, `trainer/DATA.md`).
    pub const SUR75_TAU: f64 = 2.095;

    /// A `distance` target, refused outside [`Target::DISTANCE_RANGE`] (and for NaN).
    pub fn distance(d: f64) -> Result<Target> {
        Ok(Target::Distance(crate::settings::request::check_distance(d)?))
    }

    /// The butteraugli 3-norm threshold of this operating point.
    pub fn tau(self) -> f64 {
        match self {
            Target::HumanFirstJnd => vpjnd::TRAINED_TAU,
            Target::Sur75 => Self::SUR75_TAU,
            Target::Strict => 1.0,
            Target::Distance(d) => d,
        }
    }

    /// The name used in reports and the marker: the preset's ([`Preset`]), `distance=D` for a distance.
    pub fn name(self) -> String {
        match self {
            Target::HumanFirstJnd => Preset::HumanFirstJnd.name().into(),
            Target::Sur75 => Preset::Sur75.name().into(),
            Target::Strict => Preset::Strict.name().into(),
            Target::Distance(d) => format!("distance={d}"),
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
    type Prepared: Send + Sync;
    /// A short name for reports.
    fn name(&self) -> &'static str;
    /// The threshold it judges at (butteraugli 3-norm units).
    fn tau(&self) -> f64;
    /// Prepares the original (JND map, features, metric reference).
    fn prepare(&self, original: &Image) -> Result<Self::Prepared>;
    /// Judges `candidate` (decoded, same size as the original).
    fn judge(&self, prepared: &Self::Prepared, candidate: &Image) -> Result<Decision>;
}

/// The embedded model's decision margin for candidates of `format` written by the codec named
/// `codec` (jpegli's candidates have their own; any other JPEG codec has mozjpeg's).
pub fn margin_for(format: OutputFormat, codec: &str) -> f64 {
    vpjnd::decision_margin(family_for(format, codec))
}

/// The model family of candidates of `format` written by the codec named `codec`: its decision
/// margin and its quality prior are chosen by it.
pub fn family_for(format: OutputFormat, codec: &str) -> vpjnd::CodecFamily {
    match (format, codec) {
        (OutputFormat::Heif, _) => vpjnd::CodecFamily::Heif,
        (OutputFormat::Jpeg, "jpegli") => vpjnd::CodecFamily::Jpegli,
        (OutputFormat::Jpeg, _) => vpjnd::CodecFamily::Jpeg,
    }
}

/// The embedded quality prior for `codec`'s candidates.
pub fn prior_for(codec: &dyn Codec) -> Result<QualityPrior> {
    Ok(QualityPrior::embedded(family_for(codec.format(), codec.name()))?)
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

    fn tau(&self) -> f64 {
        self.tau
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

    fn tau(&self) -> f64 {
        self.tau
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
    /// Where the search starts: the quality prior of the codec, or `None` for the block search
    /// over the whole range.
    pub prior: Option<QualityPrior>,
}

impl AutoOptions {
    /// Defaults for a codec's output format: JPEG 1..100 step 1, HEIF 0..100 step 2; block 3; no
    /// prior (the block search over the whole range).
    pub fn for_format(format: OutputFormat) -> Self {
        match format {
            OutputFormat::Heif => Self { min_quality: 0, max_quality: 100, step: 2, block: 3, prior: None },
            _ => Self { min_quality: 1, max_quality: 100, step: 1, block: 3, prior: None },
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
    /// How the search ran.
    pub search: SearchPath,
    /// Time per stage.
    pub times: StageTimes,
}

/// What the quality prior predicted for an original.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PriorGuess {
    /// The lowest quality of the search whose predicted distance is within the target.
    pub quality: u8,
    /// The predicted distance at that quality (butteraugli 3-norm).
    pub distance: f64,
}

/// How a search ran.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SearchPath {
    /// The block search over the whole range (no prior).
    Block,
    /// Started at the prior's quality and bracketed it.
    Prior(PriorGuess),
    /// Started at the prior's quality; the verdicts contradicted a single threshold, so the block
    /// search over the whole range decided (reusing the candidates judged so far).
    PriorThenBlock(PriorGuess),
}

impl SearchPath {
    /// The name used in reports: `block`, `prior` or `prior+block`.
    pub fn name(self) -> &'static str {
        match self {
            SearchPath::Block => "block",
            SearchPath::Prior(_) => "prior",
            SearchPath::PriorThenBlock(_) => "prior+block",
        }
    }

    /// The prior's guess, when the search had one.
    pub fn guess(self) -> Option<PriorGuess> {
        match self {
            SearchPath::Block => None,
            SearchPath::Prior(g) | SearchPath::PriorThenBlock(g) => Some(g),
        }
    }
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
    let qualities = options.qualities();
    // The search's own grid: the index of the lowest quality at or above `q`.
    let index_of =
        |q: u8| qualities.iter().position(|&x| x >= q).unwrap_or(qualities.len().saturating_sub(1));
    // A batch's candidates are independent: produce and judge them in parallel where allowed, and
    // one at a time above the size where butteraugli works strip by strip (so memory stays bounded
    // by one candidate and one strip; butteraugli still uses every core within a strip).
    let parallel =
        source.parallel() && original.pixel_count() <= jnd_model::metrics::BUTTERAUGLI_STRIPS_ABOVE;
    let guess = options.prior.as_ref().map(|prior| {
        let features = Features::of(original);
        let (predicted, distance) = prior.quality_for(&features, decider.tau());
        let quality = qualities.get(index_of(predicted)).copied().unwrap_or(predicted);
        (prior, features, PriorGuess { quality, distance })
    });
    // The search's first pair: the prior's quality and the one below it.
    let pair: Vec<u8> = guess.as_ref().map_or_else(Vec::new, |(_, _, g)| {
        let at = index_of(g.quality);
        qualities[at.saturating_sub(1)..=at].to_vec()
    });
    // The first pair is produced while the decider prepares the original (they are independent).
    let (prepared, mut early): (D::Prepared, HashMap<u8, Candidate>) = if parallel && !pair.is_empty() {
        let (prepared, produced) = rayon::join(
            || decider.prepare(original),
            || pair.par_iter().map(|&q| source.candidate(q).map(|c| (q, c))).collect::<Result<Vec<_>>>(),
        );
        (prepared?, produced?.into_iter().collect())
    } else {
        (decider.prepare(original)?, HashMap::new())
    };
    times.prepare = started.elapsed();
    let mut candidates: HashMap<u8, Encoded> = HashMap::new();
    let mut decisions: HashMap<u8, Decision> = HashMap::new();
    let mut probes = Vec::new();
    // One candidate: produce, judge; with the time of each stage.
    let judge_one = |q: u8, produced: Option<Candidate>| -> Result<(Encoded, Decision, [Duration; 3])> {
        let candidate = match produced {
            Some(candidate) => candidate,
            None => source.candidate(q)?,
        };
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
    // A quality judged before (by the prior's bracket, before a fallback) is not produced again.
    let mut judge_batch = |batch: &[u8]| -> Result<Vec<Decision>> {
        let fresh: Vec<u8> = batch.iter().copied().filter(|q| !decisions.contains_key(q)).collect();
        let jobs: Vec<(u8, Option<Candidate>)> = fresh.iter().map(|&q| (q, early.remove(&q))).collect();
        let results: Vec<Result<(Encoded, Decision, [Duration; 3])>> = if parallel {
            jobs.into_par_iter().map(|(q, c)| judge_one(q, c)).collect()
        } else {
            jobs.into_iter().map(|(q, c)| judge_one(q, c)).collect()
        };
        for (&q, result) in fresh.iter().zip(results) {
            let (encoded, decision, [encode, decode, judge]) = result?;
            times.encode += encode;
            times.decode += decode;
            times.judge += judge;
            probes.push(Probe { quality: q, bytes: encoded.bytes.len(), decision });
            candidates.insert(q, encoded);
            decisions.insert(q, decision);
        }
        batch
            .iter()
            .map(|q| {
                decisions.get(q).copied().ok_or_else(|| Error::Encode {
                    codec: "search",
                    message: format!("quality {q} was not judged"),
                })
            })
            .collect()
    };
    let verdicts = |decisions: Vec<Decision>| decisions.iter().map(|d| d.visible).collect::<Vec<bool>>();
    let none = || Error::Encode { codec: "search", message: "no quality to search".into() };
    let (outcome, search) = match guess {
        Some((prior, features, guess)) => {
            // The prior's quality and the one below it, side by side; the former's score (the
            // decider's distance) shifts the predicted curve through it, and the bracket starts where
            // the shifted curve meets the target (usually the answer: `jnd-train fit-prior` measures
            // how often). When the pair already brackets the threshold, the search ends there.
            let at = index_of(guess.quality);
            let judged = judge_batch(&pair)?;
            let start = match judged.as_slice() {
                [below, at_prior] if below.visible && !at_prior.visible => at,
                [.., at_prior] => {
                    index_of(prior.refine(&features, (guess.quality, at_prior.distance), decider.tau()).0)
                }
                [] => at,
            };
            match crate::search::prior_search_batched(&qualities, start, |b| judge_batch(b).map(verdicts))?
                .ok_or_else(none)?
            {
                crate::search::PriorOutcome::Found(outcome) => (outcome, SearchPath::Prior(guess)),
                crate::search::PriorOutcome::Contradicted { .. } => (
                    crate::search::block_search_batched(&qualities, options.block, |b| {
                        judge_batch(b).map(verdicts)
                    })?
                    .ok_or_else(none)?,
                    SearchPath::PriorThenBlock(guess),
                ),
            }
        }
        None => (
            crate::search::block_search_batched(&qualities, options.block, |b| judge_batch(b).map(verdicts))?
                .ok_or_else(none)?,
            SearchPath::Block,
        ),
    };
    // Bytes need not fall with quality (tiny pictures, some tables): of the candidates judged
    // invisible at or above the chosen quality, the smallest is written.
    let quality = probes
        .iter()
        .filter(|p| p.quality >= outcome.quality && !p.decision.visible && !outcome.saturated)
        .min_by_key(|p| (p.bytes, p.quality))
        .map_or(outcome.quality, |p| p.quality);
    let encoded =
        candidates.remove(&quality).unwrap_or_else(|| Encoded { bytes: Vec::new(), warnings: Vec::new() });
    Ok(AutoEncoded { quality, encoded, probes, saturated: outcome.saturated, search, times })
}
