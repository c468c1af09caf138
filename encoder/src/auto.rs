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

use std::sync::OnceLock;

use jnd_model::judge::{Bands, Judge, JudgeReference, Verdict};
use jnd_model::metrics::{ButteraugliRef, Ssimulacra2Ref};
use jnd_model::prior::{Bounds, Features, Measured, PairPrior};
use jnd_model::vpjnd::{self, VpJnd};

use crate::codec::{Codec, Encoded, OutputFormat};
use crate::target::Target;
use crate::{Error, Image, Result};

/// A decider's judgement of one candidate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Decision {
    /// Whether the candidate's distortion is visible at the decider's target.
    pub visible: bool,
    /// The candidate's distance from the original in butteraugli 3-norm units: measured by the
    /// teacher, predicted by the model.
    pub distance: f64,
    /// Its SSIMULACRA 2 score, when the target has a floor and the 3-norm left the verdict open
    /// (a candidate beyond the ceiling is visible whatever its SSIMULACRA 2, which is then not
    /// computed).
    pub ssimulacra2: Option<f64>,
    /// Whether a real metric ran on the candidate (always for the teacher; for the judge, only where
    /// a prediction lay within its uncertainty band).
    pub checked: bool,
}

/// Judges decoded candidates against an original it prepared once.
pub trait Decider: Sync {
    /// What the decider computes once per original.
    type Prepared: Send + Sync;
    /// A short name for reports.
    fn name(&self) -> &'static str;
    /// The operating point it judges at.
    fn target(&self) -> Target;
    /// Prepares the original (JND map, features, metric reference).
    fn prepare(&self, original: &Image) -> Result<Self::Prepared>;
    /// Judges `candidate` (decoded, same size as the original).
    fn judge(&self, prepared: &Self::Prepared, candidate: &Image) -> Result<Decision>;
    /// Judges a candidate that is the only one of its round while the other cores would idle: a
    /// decider that measures two metrics one after the other may run them side by side, computing
    /// one it then discards. The decision is [`Decider::judge`]'s.
    fn judge_alone(&self, prepared: &Self::Prepared, candidate: &Image) -> Result<Decision> {
        self.judge(prepared, candidate)
    }
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

/// The embedded quality priors (3-norm and SSIMULACRA 2) for `codec`'s candidates.
pub fn prior_for(codec: &dyn Codec) -> Result<PairPrior> {
    Ok(PairPrior::embedded(family_for(codec.format(), codec.name()), codec.chroma() == "4:4:4")?)
}

/// The embedded VP-JNDnet for the 3-norm bound; a target's SSIMULACRA 2 floor is measured (the
/// network predicts the 3-norm only).
#[derive(Debug, Clone)]
pub struct ModelDecider {
    /// The network.
    pub model: VpJnd,
    /// The operating point.
    pub target: Target,
    /// Decision margin (natural-log units).
    pub margin: f64,
}

impl ModelDecider {
    /// The embedded weights on the CPU, at `target`, with the model's margin for `codec`'s candidates.
    pub fn embedded(target: Target, codec: &dyn Codec) -> Result<Self> {
        let device = jnd_model::select_device(jnd_model::Accelerator::Cpu)?;
        let margin = margin_for(codec.format(), codec.name());
        Ok(Self { model: VpJnd::embedded(&device)?, target, margin })
    }
}

/// What a decider with a SSIMULACRA 2 floor holds of the original: its prepared side, and its colour
/// type (candidates of another are compared in RGB).
pub struct FloorReference {
    prepared: Option<Ssimulacra2Ref>,
    color: jnd_model::ColorType,
}

impl FloorReference {
    /// The original prepared when `target` has a floor.
    fn new(original: &Image, target: &Target) -> Result<Self> {
        let prepared = match target.ssimulacra2 {
            Some(_) => Some(Ssimulacra2Ref::new(original)?),
            None => None,
        };
        Ok(Self { prepared, color: original.color() })
    }

    /// The candidate's SSIMULACRA 2, when there is a floor.
    fn score(&self, candidate: &Image) -> Result<Option<f64>> {
        let Some(prepared) = &self.prepared else { return Ok(None) };
        Ok(Some(if candidate.color() == self.color {
            prepared.compare(candidate)?
        } else {
            prepared.compare(&candidate.to_rgb())?
        }))
    }
}

/// The verdict of a candidate whose 3-norm is `distance`: beyond the ceiling it is visible and its
/// SSIMULACRA 2 is not computed; within it, the floor decides.
fn decide(target: &Target, distance: f64, floor: &FloorReference, candidate: &Image) -> Result<Decision> {
    if distance > target.tau() {
        return Ok(Decision { visible: true, distance, ssimulacra2: None, checked: true });
    }
    let ssimulacra2 = floor.score(candidate)?;
    Ok(Decision { visible: !target.passes(distance, ssimulacra2), distance, ssimulacra2, checked: true })
}

impl Decider for ModelDecider {
    type Prepared = (vpjnd::Prepared, FloorReference);

    fn name(&self) -> &'static str {
        "vp-jnd"
    }

    fn target(&self) -> Target {
        self.target
    }

    fn prepare(&self, original: &Image) -> Result<Self::Prepared> {
        let (model, floor) = rayon::join(
            || self.model.prepare(&original.to_rgb()),
            || FloorReference::new(original, &self.target),
        );
        Ok((model?, floor?))
    }

    fn judge(&self, prepared: &Self::Prepared, candidate: &Image) -> Result<Decision> {
        // No per-candidate RGB copy: the patch reader replicates gray itself.
        let judgement = self.model.judge(&prepared.0, candidate)?;
        let distance = judgement.predicted_distance();
        let within = self.target.distance.is_none_or(|tau| judgement.lossless_at(tau, self.margin));
        if !within {
            return Ok(Decision { visible: true, distance, ssimulacra2: None, checked: false });
        }
        let ssimulacra2 = prepared.1.score(candidate)?;
        let floor_holds = self.target.ssimulacra2.is_none_or(|f| ssimulacra2.is_some_and(|s| s >= f));
        Ok(Decision { visible: !floor_holds, distance, ssimulacra2, checked: ssimulacra2.is_some() })
    }
}

/// The whole-picture VP-JND judge ([`jnd_model::judge`]) with the real metrics as its check: the
/// network predicts both metrics of every candidate; a bound whose prediction lies within the
/// judge's uncertainty band ([`Bands`]) is measured by its real metric (butteraugli 3-norm or
/// SSIMULACRA 2), one outside it is decided by the prediction. (`verify` measures the written file
/// afterwards, whatever the decider.)
#[derive(Debug, Clone)]
pub struct JudgeDecider {
    /// The network.
    pub judge: Judge,
    /// The operating point.
    pub target: Target,
    /// Where a prediction needs the real metric.
    pub bands: Bands,
}

impl JudgeDecider {
    /// The embedded weights and bands on the CPU, at `target`.
    pub fn embedded(target: Target) -> Result<Self> {
        let device = jnd_model::select_device(jnd_model::Accelerator::Cpu)?;
        Ok(Self { judge: Judge::embedded(&device)?, target, bands: Bands::EMBEDDED })
    }
}

/// What [`JudgeDecider`] holds of an original: the judge's reference, and the real metrics'
/// references, each prepared the first time a candidate needs it.
pub struct JudgePrepared {
    /// The judge's reference, which also holds the original (in RGB, or gray).
    reference: JudgeReference,
    butteraugli: OnceLock<std::result::Result<ButteraugliRef, String>>,
    floor: OnceLock<std::result::Result<FloorReference, String>>,
}

impl JudgePrepared {
    fn butteraugli(&self) -> Result<&ButteraugliRef> {
        self.butteraugli
            .get_or_init(|| ButteraugliRef::new(self.reference.original()).map_err(|e| e.to_string()))
            .as_ref()
            .map_err(|e| Error::Model(format!("butteraugli: {e}")))
    }

    fn floor(&self, target: &Target) -> Result<&FloorReference> {
        self.floor
            .get_or_init(|| FloorReference::new(self.reference.original(), target).map_err(|e| e.to_string()))
            .as_ref()
            .map_err(|e| Error::Model(format!("SSIMULACRA 2: {e}")))
    }

    /// `candidate` in the original's colour type (the judge compares like with like: a gray
    /// original's candidate decoded to RGB, as HEIF's is, is compared in gray).
    fn like_original<'a>(&self, candidate: &'a Image) -> std::borrow::Cow<'a, Image> {
        match (candidate.color(), self.reference.original().color()) {
            (a, b) if a == b => std::borrow::Cow::Borrowed(candidate),
            (_, jnd_model::ColorType::Gray) => std::borrow::Cow::Owned(candidate.to_gray()),
            _ => std::borrow::Cow::Owned(candidate.to_rgb()),
        }
    }
}

impl Decider for JudgeDecider {
    type Prepared = JudgePrepared;

    fn name(&self) -> &'static str {
        "vp-jnd"
    }

    fn target(&self) -> Target {
        self.target
    }

    fn prepare(&self, original: &Image) -> Result<Self::Prepared> {
        // Colour originals are judged in RGB, gray ones in gray (`like_original`).
        let original =
            if original.color() == jnd_model::ColorType::Gray { original.clone() } else { original.to_rgb() };
        let reference = JudgeReference::from_image(original)?;
        Ok(JudgePrepared { reference, butteraugli: OnceLock::new(), floor: OnceLock::new() })
    }

    fn judge(&self, prepared: &Self::Prepared, candidate: &Image) -> Result<Decision> {
        self.judge_with(prepared, candidate, false)
    }

    fn judge_alone(&self, prepared: &Self::Prepared, candidate: &Image) -> Result<Decision> {
        self.judge_with(prepared, candidate, true)
    }
}

impl JudgeDecider {
    /// [`Decider::judge`]; with `alone`, when both bounds need their real metric, the two run side
    /// by side (SSIMULACRA 2's score is then discarded where butteraugli already failed the
    /// candidate, as `judge` would not have computed it).
    fn judge_with(&self, prepared: &JudgePrepared, candidate: &Image, alone: bool) -> Result<Decision> {
        // The network compares like with like; the metrics convert as the teacher does.
        let grid = prepared.reference.features(&prepared.like_original(candidate))?;
        let predicted = self
            .judge
            .predict(&[&grid])?
            .first()
            .copied()
            .ok_or_else(|| Error::Model("the judge returned no prediction".into()))?;
        let mut checked = false;
        // Both real metrics at once, where both bounds are unsure and the cores are idle.
        if alone
            && let (Some(ceiling), Some(floor)) = (self.target.distance, self.target.ssimulacra2)
            && self.bands.ceiling(predicted.distance, ceiling) == Verdict::Unsure
            && self.bands.floor(predicted.ssimulacra2, floor) == Verdict::Unsure
        {
            let (measured, score) = rayon::join(
                || prepared.butteraugli().and_then(|b| Ok(b.compare(candidate)?.pnorm3)),
                || prepared.floor(&self.target).and_then(|f| f.score(candidate)),
            );
            let measured = measured?;
            if measured > ceiling {
                return Ok(Decision { visible: true, distance: measured, ssimulacra2: None, checked: true });
            }
            let ssimulacra2 = score?;
            let visible = !self.target.passes(measured, ssimulacra2);
            return Ok(Decision { visible, distance: measured, ssimulacra2, checked: true });
        }
        // The ceiling: the prediction where it is sure, else butteraugli.
        let distance = match self.target.distance {
            None => predicted.distance,
            Some(ceiling) => match self.bands.ceiling(predicted.distance, ceiling) {
                Verdict::Fail => {
                    return Ok(Decision {
                        visible: true,
                        distance: predicted.distance,
                        ssimulacra2: None,
                        checked,
                    });
                }
                Verdict::Pass => predicted.distance,
                Verdict::Unsure => {
                    checked = true;
                    let measured = prepared.butteraugli()?.compare(candidate)?.pnorm3;
                    if measured > ceiling {
                        return Ok(Decision {
                            visible: true,
                            distance: measured,
                            ssimulacra2: None,
                            checked,
                        });
                    }
                    measured
                }
            },
        };
        // The floor, likewise with SSIMULACRA 2.
        let ssimulacra2 = match self.target.ssimulacra2 {
            None => None,
            Some(floor) => match self.bands.floor(predicted.ssimulacra2, floor) {
                Verdict::Fail => {
                    return Ok(Decision {
                        visible: true,
                        distance,
                        ssimulacra2: Some(predicted.ssimulacra2),
                        checked,
                    });
                }
                Verdict::Pass => Some(predicted.ssimulacra2),
                Verdict::Unsure => {
                    checked = true;
                    prepared.floor(&self.target)?.score(candidate)?
                }
            },
        };
        Ok(Decision { visible: !self.target.passes(distance, ssimulacra2), distance, ssimulacra2, checked })
    }
}

/// The teacher: butteraugli 3-norm against the ceiling, then SSIMULACRA 2 against the floor where
/// the ceiling holds (slow, exact for their own definitions).
#[derive(Debug, Clone, Copy)]
pub struct TeacherDecider {
    /// The operating point.
    pub target: Target,
}

impl Decider for TeacherDecider {
    type Prepared = (ButteraugliRef, FloorReference);

    fn name(&self) -> &'static str {
        "teacher"
    }

    fn target(&self) -> Target {
        self.target
    }

    fn prepare(&self, original: &Image) -> Result<Self::Prepared> {
        let (butteraugli, floor) =
            rayon::join(|| ButteraugliRef::new(original), || FloorReference::new(original, &self.target));
        Ok((butteraugli?, floor?))
    }

    fn judge(&self, prepared: &Self::Prepared, candidate: &Image) -> Result<Decision> {
        decide(&self.target, teacher_distance(prepared, candidate)?, &prepared.1, candidate)
    }

    fn judge_alone(&self, prepared: &Self::Prepared, candidate: &Image) -> Result<Decision> {
        if self.target.ssimulacra2.is_none() {
            return self.judge(prepared, candidate);
        }
        // Both metrics at once; SSIMULACRA 2 is kept only where `judge` would have computed it (the
        // ceiling holds), so the decision, and what the search learns from it, are the same.
        let (distance, ssimulacra2) =
            rayon::join(|| teacher_distance(prepared, candidate), || prepared.1.score(candidate));
        let distance = distance?;
        if distance > self.target.tau() {
            return Ok(Decision { visible: true, distance, ssimulacra2: None, checked: true });
        }
        let ssimulacra2 = ssimulacra2?;
        Ok(Decision {
            visible: !self.target.passes(distance, ssimulacra2),
            distance,
            ssimulacra2,
            checked: true,
        })
    }
}

/// The candidate's butteraugli 3-norm against the teacher's prepared original (a candidate of
/// another colour type is compared in RGB).
fn teacher_distance(prepared: &(ButteraugliRef, FloorReference), candidate: &Image) -> Result<f64> {
    let scores = if candidate.color() == prepared.1.color {
        prepared.0.compare(candidate)?
    } else {
        prepared.0.compare(&candidate.to_rgb())?
    };
    Ok(scores.pnorm3)
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
    /// Where the search starts: the quality priors of the codec, or `None` for the block search
    /// over the whole range.
    pub prior: Option<PairPrior>,
    /// Whether the picture has the machine's cores to itself, so that a candidate judged alone in
    /// its round runs its metrics side by side ([`Decider::judge_alone`]), and the second sampling's
    /// bytes search encodes two qualities at once. True by default; batch mode turns it off while it
    /// encodes several pictures at once, where the other cores are busy and work done only to be
    /// discarded would cost throughput.
    pub side_by_side: bool,
}

impl AutoOptions {
    /// Defaults for a codec's output format: JPEG 1..100 step 1, HEIF 0..100 step 2; block 3; no
    /// prior (the block search over the whole range).
    pub fn for_format(format: OutputFormat) -> Self {
        match format {
            OutputFormat::Heif => {
                Self { min_quality: 0, max_quality: 100, step: 2, block: 3, prior: None, side_by_side: true }
            }
            _ => {
                Self { min_quality: 1, max_quality: 100, step: 1, block: 3, prior: None, side_by_side: true }
            }
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

impl std::ops::Add for StageTimes {
    type Output = StageTimes;

    /// Two searches' times, stage by stage.
    fn add(self, other: StageTimes) -> StageTimes {
        StageTimes {
            prepare: self.prepare + other.prepare,
            encode: self.encode + other.encode,
            decode: self.decode + other.decode,
            judge: self.judge + other.judge,
        }
    }
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
    /// The lowest quality of the search predicted to meet the target.
    pub quality: u8,
    /// The predicted distance at that quality (butteraugli 3-norm).
    pub distance: f64,
    /// The predicted SSIMULACRA 2 there, when the codec has that prior.
    pub ssimulacra2: Option<f64>,
}

/// The quality prior's guess for an original with `features`, on the grid of `options` (whose
/// prior it uses), at `target`; `None` without a prior, or when the target has a floor and the prior
/// no SSIMULACRA 2 curve (then the block search decides).
pub fn prior_guess(features: &Features, options: &AutoOptions, target: &Target) -> Option<PriorGuess> {
    let prior = options.prior.as_ref()?;
    if target.ssimulacra2.is_some() && prior.ssimulacra2.is_none() {
        return None;
    }
    let qualities = options.qualities();
    let predicted = prior.quality_for(features, bounds(target));
    let at =
        qualities.iter().position(|&x| x >= predicted.quality).unwrap_or(qualities.len().saturating_sub(1));
    let quality = qualities.get(at).copied().unwrap_or(predicted.quality);
    Some(PriorGuess { quality, distance: predicted.distance, ssimulacra2: predicted.ssimulacra2 })
}

/// The target as the prior reads it.
fn bounds(target: &Target) -> Bounds {
    Bounds { distance: target.distance, ssimulacra2: target.ssimulacra2 }
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
    encode_at_jnd_sharing(image, codec, decider, options, Shared::default()).map(|(result, _)| result)
}

/// What searches of one picture share (auto mode searches it at two samplings): the decider's
/// preparation of the original, the prior's features of it, and candidates already judged.
pub struct Shared<'a, P> {
    /// The decider's preparation of the original, from an earlier search (else it is prepared and
    /// returned for the next).
    pub prepared: Option<&'a P>,
    /// The prior's features of the original ([`Features::of`]), when already computed.
    pub features: Option<&'a Features>,
    /// Candidates of this search's codec already judged: not produced or judged again.
    pub judged: Vec<(Probe, Encoded)>,
}

impl<P> Default for Shared<'_, P> {
    fn default() -> Self {
        Self { prepared: None, features: None, judged: Vec::new() }
    }
}

/// [`encode_at_jnd`] with what an earlier search of the same picture prepared ([`Shared`]); the
/// decider's preparation is returned when it was made here.
pub fn encode_at_jnd_sharing<D: Decider>(
    image: &Image,
    codec: &dyn Codec,
    decider: &D,
    options: &AutoOptions,
    shared: Shared<'_, D::Prepared>,
) -> Result<(AutoEncoded, Option<D::Prepared>)> {
    let (mut result, prepared) =
        search_sharing(image, &CodecCandidates { image, codec }, decider, options, shared)?;
    if result.encoded.bytes.is_empty() {
        let t = Instant::now();
        result.encoded = codec.encode(image, result.quality)?;
        result.times.encode += t.elapsed();
    }
    Ok((result, prepared))
}

/// What [`encode_at_jnd_below`] found.
#[derive(Debug, Clone)]
pub enum Below {
    /// A candidate smaller than the limit meets the target: the lowest quality that does.
    Found(AutoEncoded),
    /// None does (or no candidate is that small): the candidates judged, and the time spent.
    None {
        /// The one candidate judged (none when no quality is small enough).
        probes: Vec<Probe>,
        /// Time per stage.
        times: StageTimes,
    },
}

/// [`encode_at_jnd_sharing`] when only a candidate of fewer than `limit` bytes is of use (auto mode's
/// second sampling, which can win only by undercutting the first's answer). The highest quality
/// whose candidate is smaller is found by encoding alone (bytes rise with quality), starting at
/// `near`, and judged first: when it fails, no quality below it passes either (verdicts fall with
/// quality), and the search ends after that one judgement. When it passes, the search runs below
/// it, with it judged.
#[allow(clippy::too_many_arguments)]
pub fn encode_at_jnd_below<D: Decider>(
    image: &Image,
    codec: &dyn Codec,
    decider: &D,
    options: &AutoOptions,
    prepared: &D::Prepared,
    features: Option<&Features>,
    limit: usize,
    near: u8,
) -> Result<Below> {
    let mut times = StageTimes::default();
    let qualities = options.qualities();
    let Some(&top) = qualities.last() else {
        return Err(Error::Parameter("no quality to search".into()));
    };
    let index_of = |q: u8| qualities.iter().position(|&x| x >= q).unwrap_or(qualities.len() - 1);
    // The bytes of each quality tried: gallop from `near`, then bisect, to the highest index whose
    // candidate is smaller than the limit.
    let mut sized: HashMap<usize, Encoded> = HashMap::new();
    let start = index_of(near);
    let parallel = in_parallel(codec.format() != OutputFormat::Heif, image);
    if parallel && options.side_by_side && start + 1 < qualities.len() {
        // The start and the quality above it side by side where the cores are the picture's own:
        // the answer usually lies between them, and the walk below then finds both encoded.
        let timed = |i: usize| {
            let t = Instant::now();
            codec.encode(image, qualities[i]).map(|e| (e, t.elapsed()))
        };
        let (a, b) = rayon::join(|| timed(start), || timed(start + 1));
        for (i, result) in [(start, a), (start + 1, b)] {
            let (encoded, took) = result?;
            times.encode += took;
            sized.insert(i, encoded);
        }
    }
    let mut size = |i: usize, times: &mut StageTimes| -> Result<usize> {
        if let Some(e) = sized.get(&i) {
            return Ok(e.bytes.len());
        }
        let t = Instant::now();
        let encoded = codec.encode(image, qualities[i])?;
        times.encode += t.elapsed();
        let bytes = encoded.bytes.len();
        sized.insert(i, encoded);
        Ok(bytes)
    };
    let (mut small, mut large): (Option<usize>, Option<usize>) = (None, None);
    if size(start, &mut times)? < limit {
        small = Some(start)
    } else {
        large = Some(start)
    }
    let mut stride = 1;
    loop {
        let next = match (small, large) {
            (Some(s), None) if s + 1 < qualities.len() => (s + stride).min(qualities.len() - 1),
            (None, Some(l)) if l > 0 => l.saturating_sub(stride),
            _ => break,
        };
        stride *= 2;
        if size(next, &mut times)? < limit { small = Some(next) } else { large = Some(next) }
    }
    let highest_small = match (small, large) {
        (Some(mut s), Some(mut l)) => {
            while l - s > 1 {
                let mid = (s + l) / 2;
                if size(mid, &mut times)? < limit { s = mid } else { l = mid }
            }
            Some(s)
        }
        (small, _) => small,
    };
    let Some(at) = highest_small else { return Ok(Below::None { probes: Vec::new(), times }) };
    let Some(encoded) = sized.remove(&at) else {
        return Err(Error::Parameter("the bytes search lost its candidate".into()));
    };
    let quality = qualities[at];
    let alone = options.side_by_side && parallel;
    let t = Instant::now();
    let decoded = codec.decode(&encoded.bytes)?;
    // Its encode is already in `times`.
    let candidate = Candidate { encoded, decoded, times: [Duration::ZERO, t.elapsed()] };
    let (encoded, decision, [_, decode, judge]) =
        judge_candidate(image, decider, prepared, quality, candidate, alone)?;
    times.decode += decode;
    times.judge += judge;
    let probe = Probe { quality, bytes: encoded.bytes.len(), decision };
    if decision.visible {
        return Ok(Below::None { probes: vec![probe], times });
    }
    let below = AutoOptions { max_quality: quality.min(top), ..options.clone() };
    let shared = Shared { prepared: Some(prepared), features, judged: vec![(probe, encoded)] };
    let (mut result, _) = encode_at_jnd_sharing(image, codec, decider, &below, shared)?;
    result.times = result.times + times;
    Ok(Below::Found(result))
}

/// Whether candidates of `original` are produced and judged in parallel: where the source allows it
/// (`source_parallel`), and only up to the size where butteraugli works strip by strip (so memory
/// stays bounded by one candidate and one strip; butteraugli still uses every core within a strip).
fn in_parallel(source_parallel: bool, original: &Image) -> bool {
    source_parallel && original.pixel_count() <= jnd_model::metrics::BUTTERAUGLI_STRIPS_ABOVE
}

/// Judges a produced `candidate` at `quality` against the prepared `original`: its encoded bytes, the
/// decision, and the time of each stage (encode and decode as produced, then the judgement). A
/// candidate that decodes to another size than the original is an error. `alone`: it is the only
/// candidate of its round and the picture has the cores to itself ([`Decider::judge_alone`]).
fn judge_candidate<D: Decider>(
    original: &Image,
    decider: &D,
    prepared: &D::Prepared,
    quality: u8,
    candidate: Candidate,
    alone: bool,
) -> Result<(Encoded, Decision, [Duration; 3])> {
    let decoded = &candidate.decoded;
    if decoded.width() != original.width() || decoded.height() != original.height() {
        return Err(Error::Encode {
            codec: "search",
            message: format!("candidate at quality {quality} decoded to a different size"),
        });
    }
    let t = Instant::now();
    let decision =
        if alone { decider.judge_alone(prepared, decoded)? } else { decider.judge(prepared, decoded)? };
    let [encode, decode] = candidate.times;
    Ok((candidate.encoded, decision, [encode, decode, t.elapsed()]))
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
    search_sharing(original, source, decider, options, Shared::default()).map(|(result, _)| result)
}

/// [`search_candidates`] with what an earlier search of the same picture prepared ([`Shared`]); the
/// decider's preparation is returned when it was made here.
pub fn search_sharing<D: Decider>(
    original: &Image,
    source: &dyn CandidateSource,
    decider: &D,
    options: &AutoOptions,
    shared: Shared<'_, D::Prepared>,
) -> Result<(AutoEncoded, Option<D::Prepared>)> {
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
    // A batch's candidates are independent: produce and judge them in parallel where allowed.
    let parallel = in_parallel(source.parallel(), original);
    let target = decider.target();
    let guess = options.prior.as_ref().and_then(|prior| {
        let features = shared.features.copied().unwrap_or_else(|| Features::of(original));
        prior_guess(&features, options, &target).map(|guess| (prior, features, guess))
    });
    // The search's first pair: the prior's quality and the one below it.
    let pair: Vec<u8> = guess.as_ref().map_or_else(Vec::new, |(_, _, g)| {
        let at = index_of(g.quality);
        qualities[at.saturating_sub(1)..=at].to_vec()
    });
    // The first pair is produced while the decider prepares the original (they are independent).
    let seeded: Vec<u8> = shared.judged.iter().map(|(p, _)| p.quality).collect();
    let pair_to_make: Vec<u8> = pair.iter().copied().filter(|q| !seeded.contains(q)).collect();
    let (owned, mut early): (Option<D::Prepared>, HashMap<u8, Candidate>) = match shared.prepared {
        Some(_) => (None, HashMap::new()),
        None if parallel && !pair_to_make.is_empty() => {
            let (prepared, produced) = rayon::join(
                || decider.prepare(original),
                || {
                    pair_to_make
                        .par_iter()
                        .map(|&q| source.candidate(q).map(|c| (q, c)))
                        .collect::<Result<Vec<_>>>()
                },
            );
            (Some(prepared?), produced?.into_iter().collect())
        }
        None => (Some(decider.prepare(original)?), HashMap::new()),
    };
    let prepared: &D::Prepared = match (shared.prepared, owned.as_ref()) {
        (Some(prepared), _) | (None, Some(prepared)) => prepared,
        (None, None) => return Err(Error::Parameter("the original was not prepared".into())),
    };
    times.prepare = started.elapsed();
    let mut candidates: HashMap<u8, Encoded> = HashMap::new();
    let mut decisions: HashMap<u8, Decision> = HashMap::new();
    let mut probes = Vec::new();
    for (probe, encoded) in shared.judged {
        decisions.insert(probe.quality, probe.decision);
        candidates.insert(probe.quality, encoded);
        probes.push(probe);
    }
    // One candidate: produce, judge; with the time of each stage.
    let judge_one =
        |q: u8, produced: Option<Candidate>, alone: bool| -> Result<(Encoded, Decision, [Duration; 3])> {
            let candidate = match produced {
                Some(candidate) => candidate,
                None => source.candidate(q)?,
            };
            judge_candidate(original, decider, prepared, q, candidate, alone)
        };
    // A quality judged before (by the prior's bracket, before a fallback) is not produced again.
    let mut judge_batch = |batch: &[u8]| -> Result<Vec<Decision>> {
        let fresh: Vec<u8> = batch.iter().copied().filter(|q| !decisions.contains_key(q)).collect();
        let jobs: Vec<(u8, Option<Candidate>)> = fresh.iter().map(|&q| (q, early.remove(&q))).collect();
        // A lone candidate's metrics run side by side where the cores are the picture's own. Not
        // above the strips' size, where candidates are judged one at a time anyway: there
        // butteraugli's strips are the long pole, and at 6 MP running SSIMULACRA 2 beside them saved
        // no time and added 45 MB.
        let alone = parallel && options.side_by_side && jobs.len() == 1;
        let results: Vec<Result<(Encoded, Decision, [Duration; 3])>> = if parallel {
            jobs.into_par_iter().map(|(q, c)| judge_one(q, c, alone)).collect()
        } else {
            jobs.into_iter().map(|(q, c)| judge_one(q, c, alone)).collect()
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
                    let measured = Measured {
                        quality: guess.quality,
                        distance: at_prior.distance,
                        ssimulacra2: at_prior.ssimulacra2,
                    };
                    index_of(prior.refine(&features, measured, bounds(&target)).quality)
                }
                [] => at,
            };
            // Each judged candidate's scores shift the curves again, and the search probes where
            // they now meet the target.
            let guided = crate::search::prior_search_batched(&qualities, start, |b| {
                let judged = judge_batch(b)?;
                Ok::<_, Error>(
                    b.iter()
                        .zip(judged)
                        .map(|(&quality, d)| {
                            let measured =
                                Measured { quality, distance: d.distance, ssimulacra2: d.ssimulacra2 };
                            (
                                d.visible,
                                Some(index_of(prior.refine(&features, measured, bounds(&target)).quality)),
                            )
                        })
                        .collect(),
                )
            })?;
            match guided.ok_or_else(none)? {
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
    Ok((AutoEncoded { quality, encoded, probes, saturated: outcome.saturated, search, times }, owned))
}
