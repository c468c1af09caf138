//! VP-JNDnet training data, training loop and evaluation.
//!
//! A sample is one (photo, codec, quality) candidate: its patches at the network's fixed grid positions,
//! the teacher's label at that quality (the monotone envelope of `human-first-jnd`) and the teacher's
//! distance. The network's image score is trained with two terms: binary cross-entropy of `4 * score`
//! against the label, and a squared error pulling the score toward `ln(d / tau)` (clamped to +-2.5), which
//! gives the classifier a dense, ordered signal and lets one network serve any threshold.

use std::path::Path;
use std::time::Instant;

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param};
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::activation::log_sigmoid;
use burn::tensor::{Device, Tensor, TensorData};
use jnd_model::vpjnd::{self, PATCH, VpJnd, VpJndNet};
use jnd_model::{Image, pixel_jnd::JndMap};
use rayon::prelude::*;

use jndenc::auto::{
    AutoOptions, Candidate, CandidateSource, CodecCandidates, ModelDecider, search_candidates,
};
use jndenc::codec::Codec;

use crate::ladder::{self, Ladder, LadderCodec};
use crate::split::{Split, split_of};
use crate::teacher::Teacher;
use crate::{Error, Result, io_error};

/// One photo's fixed inputs: original and JND patches.
#[derive(Debug, Clone)]
pub struct Photo {
    /// File name, e.g. `001.png`.
    pub name: String,
    /// Train or validation.
    pub split: Split,
    /// Original patches, `[n, 3, P, P]` bytes.
    pub original: Vec<u8>,
    /// JND-map patches, `[n, 1, P, P]` bytes.
    pub jnd: Vec<u8>,
    /// Number of patches (`PATCHES` for any photo larger than 8x4 patches).
    pub patches: usize,
}

/// One candidate of one photo.
#[derive(Debug, Clone)]
pub struct Sample {
    /// Index into [`Dataset::photos`].
    pub photo: usize,
    /// The codec that made the candidate.
    pub codec: LadderCodec,
    /// Its quality.
    pub quality: u8,
    /// The teacher's distance (butteraugli 3-norm).
    pub distance: f64,
    /// The teacher's label: true when visible.
    pub visible: bool,
    /// Candidate patches, `[n, 3, P, P]` bytes.
    pub candidate: Vec<u8>,
}

/// Photos and their candidates.
#[derive(Debug, Clone, Default)]
pub struct Dataset {
    /// The photos.
    pub photos: Vec<Photo>,
    /// The candidates.
    pub samples: Vec<Sample>,
}

/// Which rungs of a ladder become samples: every rung whose distance is within a factor e of `tau`
/// (`|ln(d / tau)| < 1`), and every `sparse_step`-th quality elsewhere.
pub fn sampled_qualities(ladder: &Ladder, teacher: &Teacher, sparse_step: u8) -> Vec<u8> {
    ladder
        .rungs
        .iter()
        .filter(|r| {
            (teacher.distance(r) / teacher.tau).ln().abs() < 1.0 || r.quality.is_multiple_of(sparse_step)
        })
        .map(|r| r.quality)
        .collect()
}

fn decode_file(path: &Path) -> Result<Image> {
    let bytes = std::fs::read(path).map_err(|e| io_error(path, e))?;
    Ok(jndenc::decode::decode(&bytes, &jndenc::DecodeOptions::default())?)
}

impl Dataset {
    /// Builds the samples of every photo in `photos_dir` that has a ladder in `ladders`.
    ///
    /// JPEG candidates are re-encoded with the ladder's codec; HEIF candidates are read from
    /// `decoded_dir` (kept by `jnd-train ladders --keep-decoded`), since x265 costs ~1 s per MP.
    pub fn build(
        photos_dir: &Path,
        ladders: &[Ladder],
        teacher: &Teacher,
        decoded_dir: &Path,
    ) -> Result<Self> {
        let mut names: Vec<String> = ladders.iter().map(|l| l.image.clone()).collect();
        names.sort();
        names.dedup();
        let started = Instant::now();
        let built: Vec<(Photo, Vec<Sample>)> = names
            .par_iter()
            .map(|name| -> Result<(Photo, Vec<Sample>)> {
                let image = decode_file(&photos_dir.join(name))?.to_rgb();
                let map: JndMap = vpjnd::PIXEL_JND_MODEL.compute(&image);
                let positions = vpjnd::patch_positions(image.width(), image.height());
                let photo = Photo {
                    name: name.clone(),
                    split: split_of(name),
                    original: vpjnd::rgb_patches(&image, &positions),
                    jnd: vpjnd::jnd_patches(&map, &positions),
                    patches: positions.len(),
                };
                let mut samples = Vec::new();
                for ladder in ladders.iter().filter(|l| &l.image == name) {
                    let sparse = if ladder.codec == LadderCodec::Heif { 10 } else { 5 };
                    let codec = ladder.codec.codec();
                    for quality in sampled_qualities(ladder, teacher, sparse) {
                        let Some(rung) = ladder.rung(quality) else { continue };
                        let decoded = if ladder.codec == LadderCodec::Heif {
                            decode_file(&ladder::decoded_path(decoded_dir, name, ladder.codec, quality))?
                        } else {
                            let encoded = codec.encode(&image, quality)?;
                            codec.decode(&encoded.bytes)?
                        };
                        let decoded = decoded.to_rgb();
                        if decoded.width() != image.width() || decoded.height() != image.height() {
                            return Err(Error::Insufficient(format!(
                                "{name} q{quality}: decoded size differs"
                            )));
                        }
                        samples.push(Sample {
                            photo: 0,
                            codec: ladder.codec,
                            quality,
                            distance: teacher.distance(rung),
                            visible: teacher.label(ladder, quality),
                            candidate: vpjnd::rgb_patches(&decoded, &positions),
                        });
                    }
                }
                eprintln!(
                    "  {name}: {} samples ({:.0} s elapsed)",
                    samples.len(),
                    started.elapsed().as_secs_f64()
                );
                Ok((photo, samples))
            })
            .collect::<Result<_>>()?;
        let mut dataset = Dataset::default();
        for (index, (photo, samples)) in built.into_iter().enumerate() {
            dataset.photos.push(photo);
            dataset.samples.extend(samples.into_iter().map(|s| Sample { photo: index, ..s }));
        }
        Ok(dataset)
    }

    /// Indices of the samples of photos in `split`.
    pub fn indices(&self, split: Split) -> Vec<usize> {
        (0..self.samples.len()).filter(|&i| self.photos[self.samples[i].photo].split == split).collect()
    }
}

/// Training settings.
#[derive(Debug, Clone)]
pub struct TrainConfig {
    /// Passes over `steps_per_epoch * batch` drawn samples.
    pub epochs: usize,
    /// Optimiser steps per epoch.
    pub steps_per_epoch: usize,
    /// Samples per step.
    pub batch: usize,
    /// Patches drawn per sample (of the photo's fixed grid).
    pub patches_per_sample: usize,
    /// Adam learning rate (decayed by cosine to 5 % over the run).
    pub learning_rate: f64,
    /// Weight of the distance-regression term.
    pub regression_weight: f32,
    /// Seed of initialisation, sampling and augmentation.
    pub seed: u64,
    /// The operating point's threshold (butteraugli 3-norm).
    pub tau: f64,
    /// Weights to start from (burnpack), e.g. to fine-tune on another codec's candidates.
    pub init: Option<Vec<u8>>,
    /// Decay of the exponential moving average of the weights used for validation and output (0: off,
    /// the raw weights are used).
    pub ema_decay: f32,
}

/// Collects a module's float parameters in traversal order.
struct CollectParams(Vec<TensorData>);

impl ModuleVisitor for CollectParams {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        self.0.push(param.val().into_data());
    }
}

/// Blends each float parameter toward the collected values: `p = decay * p + (1 - decay) * value`.
struct BlendParams<'a> {
    values: &'a [TensorData],
    index: usize,
    decay: f32,
    device: Device,
}

impl ModuleMapper for BlendParams<'_> {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let Some(value) = self.values.get(self.index) else { return param };
        self.index += 1;
        let current = Tensor::<D>::from_data(value.clone(), &self.device);
        let decay = self.decay;
        param.map(|ema| ema * decay + current * (1.0 - decay))
    }
}

/// An exponential moving average of a network's weights, kept on the inference device.
struct Ema {
    average: VpJndNet,
    decay: f32,
    device: Device,
}

impl Ema {
    fn update(&mut self, model: &VpJndNet) {
        let mut collected = CollectParams(Vec::new());
        model.valid().visit(&mut collected);
        let mut blend =
            BlendParams { values: &collected.0, index: 0, decay: self.decay, device: self.device.clone() };
        self.average = self.average.clone().map(&mut blend);
    }
}

/// SplitMix64: small, seedable, good enough for sampling.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from `seed`.
    pub fn new(seed: u64) -> Self {
        Self(seed ^ 0x9e37_79b9_7f4a_7c15)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in 0..n.
    pub fn below(&mut self, n: usize) -> usize {
        (self.unit() * n as f64) as usize % n.max(1)
    }
}

/// Sampling weights: classes balanced, and rungs near the threshold (small `|ln(d / tau)|`) favoured.
fn sampling_cdf(dataset: &Dataset, indices: &[usize], tau: f64) -> Vec<f64> {
    let visible = indices.iter().filter(|&&i| dataset.samples[i].visible).count().max(1) as f64;
    let invisible = (indices.len() as f64 - visible).max(1.0);
    let mut total = 0.0;
    indices
        .iter()
        .map(|&i| {
            let s = &dataset.samples[i];
            let class = if s.visible { 1.0 / visible } else { 1.0 / invisible };
            let near = 0.25 + (-2.0 * (s.distance / tau).ln().abs()).exp();
            total += class * near;
            total
        })
        .collect()
}

/// Copies patch `k` of a `[n, c, P, P]` byte block into `out`, flipped as asked.
fn push_patch(out: &mut Vec<u8>, block: &[u8], channels: usize, k: usize, flip_x: bool, flip_y: bool) {
    let size = PATCH * PATCH;
    for c in 0..channels {
        let plane = &block[(k * channels + c) * size..(k * channels + c + 1) * size];
        for y in 0..PATCH {
            let sy = if flip_y { PATCH - 1 - y } else { y };
            let row = &plane[sy * PATCH..(sy + 1) * PATCH];
            if flip_x {
                out.extend(row.iter().rev());
            } else {
                out.extend_from_slice(row);
            }
        }
    }
}

/// Per-epoch record of a training run.
#[derive(Debug, Clone)]
pub struct EpochLog {
    /// 1-based epoch.
    pub epoch: usize,
    /// Mean training loss.
    pub loss: f64,
    /// Validation metrics per codec.
    pub validation: Vec<(LadderCodec, PairMetrics)>,
    /// Seconds since the start.
    pub seconds: f64,
}

/// Trains a VP-JNDnet on the training photos' samples and returns the final weights; `on_epoch` sees
/// each epoch's log (validation metrics are reported, never used to pick weights) and the network so far
/// (to write checkpoints).
pub fn train(
    dataset: &Dataset,
    config: &TrainConfig,
    device: &Device,
    mut on_epoch: impl FnMut(&EpochLog, &VpJnd) -> Result<()>,
) -> Result<VpJnd> {
    device.seed(config.seed);
    let train_device = device.clone().autodiff();
    let mut model = match &config.init {
        Some(bytes) => VpJnd::from_bytes(bytes, &train_device)?.net().clone(),
        None => VpJndNet::new(&train_device),
    };
    let mut optim = AdamConfig::new().init();
    let mut rng = Rng::new(config.seed);
    let indices = dataset.indices(Split::Train);
    if indices.is_empty() {
        return Err(Error::Insufficient("no training samples".into()));
    }
    let mut ema = (config.ema_decay > 0.0).then(|| Ema {
        average: model.valid(),
        decay: config.ema_decay,
        device: device.clone(),
    });
    let cdf = sampling_cdf(dataset, &indices, config.tau);
    let total_weight = cdf.last().copied().unwrap_or(1.0);
    let started = Instant::now();
    let total_steps = config.epochs * config.steps_per_epoch;
    let k = config.patches_per_sample;
    let mut step = 0usize;
    let mut last = None;
    for epoch in 1..=config.epochs {
        let mut loss_sum = 0.0;
        for _ in 0..config.steps_per_epoch {
            let b = config.batch;
            let (mut original, mut jnd, mut candidate) = (Vec::new(), Vec::new(), Vec::new());
            let (mut labels, mut targets) = (Vec::with_capacity(b), Vec::with_capacity(b));
            for _ in 0..b {
                let u = rng.unit() * total_weight;
                let pick = cdf.partition_point(|&c| c <= u).min(indices.len() - 1);
                let sample = &dataset.samples[indices[pick]];
                let photo = &dataset.photos[sample.photo];
                for _ in 0..k {
                    let patch = rng.below(photo.patches);
                    let (fx, fy) = (rng.next_u64() & 1 == 1, rng.next_u64() & 1 == 1);
                    push_patch(&mut original, &photo.original, 3, patch, fx, fy);
                    push_patch(&mut jnd, &photo.jnd, 1, patch, fx, fy);
                    push_patch(&mut candidate, &sample.candidate, 3, patch, fx, fy);
                }
                labels.push(if sample.visible { 1.0f32 } else { 0.0 });
                targets.push((sample.distance / config.tau).ln().clamp(-2.5, 2.5) as f32);
            }
            let prepared = model
                .prepare(vpjnd::rgb_tensor(&original, &train_device), vpjnd::jnd_tensor(&jnd, &train_device));
            let score = model.score(&prepared, vpjnd::rgb_tensor(&candidate, &train_device), b);
            let y = Tensor::<1>::from_data(TensorData::new(labels, [b]), &train_device);
            let target = Tensor::<1>::from_data(TensorData::new(targets, [b]), &train_device);
            let logit = score.clone() * 4.0;
            let bce = -(y.clone() * log_sigmoid(logit.clone()) + (y.neg() + 1.0) * log_sigmoid(logit.neg()));
            let regression = (score - target).powf_scalar(2.0);
            let loss = bce.mean() + regression.mean() * config.regression_weight;
            let value: f32 = loss.clone().into_scalar();
            loss_sum += f64::from(value);
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            let progress = step as f64 / total_steps.max(1) as f64;
            let lr =
                config.learning_rate * (0.05 + 0.95 * 0.5 * (1.0 + (std::f64::consts::PI * progress).cos()));
            model = optim.step(lr, model, grads);
            if let Some(ema) = ema.as_mut() {
                ema.update(&model);
            }
            step += 1;
        }
        let current = match &ema {
            Some(ema) => VpJnd::from_net(ema.average.clone(), device),
            None => VpJnd::from_net(model.valid(), device),
        };
        let validation = evaluate_pairs(&current, dataset, Split::Validation, config.tau, Some(0.0))?;
        let log = EpochLog {
            epoch,
            loss: loss_sum / config.steps_per_epoch as f64,
            validation,
            seconds: started.elapsed().as_secs_f64(),
        };
        on_epoch(&log, &current)?;
        last = Some(current);
    }
    // The final weights: choosing an epoch by validation score would leak the validation photos into
    // the reported metrics.
    last.ok_or_else(|| Error::Insufficient("no epochs".into()))
}

/// Pair-level confusion counts of "lossless" decisions against the teacher.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct PairMetrics {
    /// Called lossless, teacher agrees.
    pub true_lossless: usize,
    /// Called lossless, teacher says visible.
    pub false_lossless: usize,
    /// Called visible, teacher says lossless.
    pub false_visible: usize,
    /// Called visible, teacher agrees.
    pub true_visible: usize,
}

impl PairMetrics {
    /// Fraction of decisions that agree with the teacher.
    pub fn accuracy(&self) -> f64 {
        let total = self.true_lossless + self.false_lossless + self.false_visible + self.true_visible;
        (self.true_lossless + self.true_visible) as f64 / total.max(1) as f64
    }

    /// Of the candidates called lossless, the fraction the teacher calls lossless.
    pub fn precision(&self) -> f64 {
        self.true_lossless as f64 / (self.true_lossless + self.false_lossless).max(1) as f64
    }

    /// Mean of the two per-class recalls.
    pub fn balanced_accuracy(&self) -> f64 {
        let lossless = self.true_lossless as f64 / (self.true_lossless + self.false_visible).max(1) as f64;
        let visible = self.true_visible as f64 / (self.true_visible + self.false_lossless).max(1) as f64;
        (lossless + visible) / 2.0
    }
}

/// Scores every sample of `split` on all its patches (candidates of one photo batched 8 at a time).
pub fn score_samples(model: &VpJnd, dataset: &Dataset, split: Split) -> Result<Vec<(usize, f32)>> {
    let device = model.device();
    let indices = dataset.indices(split);
    let mut out = Vec::with_capacity(indices.len());
    let mut start = 0;
    while start < indices.len() {
        let photo_index = dataset.samples[indices[start]].photo;
        let photo = &dataset.photos[photo_index];
        let mut end = start;
        while end < indices.len() && dataset.samples[indices[end]].photo == photo_index {
            end += 1;
        }
        let features = model
            .net()
            .prepare(vpjnd::rgb_tensor(&photo.original, device), vpjnd::jnd_tensor(&photo.jnd, device));
        for chunk in indices[start..end].chunks(8) {
            let b = chunk.len();
            let repeated = features.repeat(b);
            let mut bytes = Vec::with_capacity(b * photo.original.len());
            for &i in chunk {
                bytes.extend_from_slice(&dataset.samples[i].candidate);
            }
            let scores = model
                .net()
                .score(&repeated, vpjnd::rgb_tensor(&bytes, device), b)
                .into_data()
                .try_into_vec::<f32>()
                .map_err(|e| Error::Insufficient(format!("reading scores: {e:?}")))?;
            out.extend(chunk.iter().copied().zip(scores));
        }
        start = end;
    }
    Ok(out)
}

/// Pair metrics of `split` per codec at threshold `tau` with decision `margin` (`None`: the embedded
/// model's per-codec margins).
pub fn evaluate_pairs(
    model: &VpJnd,
    dataset: &Dataset,
    split: Split,
    tau: f64,
    margin: Option<f64>,
) -> Result<Vec<(LadderCodec, PairMetrics)>> {
    let scores = score_samples(model, dataset, split)?;
    Ok(pair_metrics(dataset, &scores, tau, margin))
}

/// The embedded model's decision margin for a ladder codec.
pub fn embedded_margin(codec: LadderCodec) -> f64 {
    match codec {
        LadderCodec::Heif => vpjnd::decision_margin(vpjnd::CodecFamily::Heif),
        LadderCodec::Jpegli | LadderCodec::Jpegli444 => vpjnd::decision_margin(vpjnd::CodecFamily::Jpegli),
        LadderCodec::Mozjpeg | LadderCodec::Baseline => vpjnd::decision_margin(vpjnd::CodecFamily::Jpeg),
    }
}

/// Pair metrics per codec from precomputed scores, with `margin` (or, when `None`, the embedded
/// model's margin for each codec).
pub fn pair_metrics(
    dataset: &Dataset,
    scores: &[(usize, f32)],
    tau: f64,
    margin: Option<f64>,
) -> Vec<(LadderCodec, PairMetrics)> {
    let mut out: Vec<(LadderCodec, PairMetrics)> = Vec::new();
    for &(i, score) in scores {
        let sample = &dataset.samples[i];
        let margin = margin.unwrap_or_else(|| embedded_margin(sample.codec));
        let lossless = vpjnd::Judgement { score }.lossless_at(tau, margin);
        let index = match out.iter().position(|(c, _)| *c == sample.codec) {
            Some(index) => index,
            None => {
                out.push((sample.codec, PairMetrics::default()));
                out.len() - 1
            }
        };
        let m = &mut out[index].1;
        match (lossless, sample.visible) {
            (true, false) => m.true_lossless += 1,
            (true, true) => m.false_lossless += 1,
            (false, false) => m.false_visible += 1,
            (false, true) => m.true_visible += 1,
        }
    }
    out.sort_by_key(|(c, _)| c.name());
    out
}

/// One validation photo's search result against the teacher.
#[derive(Debug, Clone)]
pub struct SearchRow {
    /// Photo file name.
    pub image: String,
    /// Codec.
    pub codec: LadderCodec,
    /// Quality the model's block search chose.
    pub chosen: u8,
    /// Quality the teacher would choose (`None` when even the top rung is visible to it).
    pub teacher_chosen: Option<u8>,
    /// Candidates judged.
    pub probes: usize,
    /// Whether the teacher calls the chosen quality lossless (above its JND).
    pub lossless: bool,
    /// Bytes at the chosen quality.
    pub bytes: usize,
    /// Bytes at the highest quality of the ladder.
    pub top_bytes: usize,
}

/// A ladder's candidates for the library's search: JPEG encoded and decoded by the ladder's codec,
/// HEIF read back from the decoded rungs cached by `jnd-train ladders` (x265 is too slow to re-run).
struct LadderCandidates<'a> {
    image: &'a Image,
    ladder: &'a Ladder,
    codec: Box<dyn Codec>,
    decoded_dir: &'a Path,
}

impl CandidateSource for LadderCandidates<'_> {
    fn candidate(&self, quality: u8) -> jndenc::Result<Candidate> {
        let t = std::time::Instant::now();
        if self.ladder.codec == LadderCodec::Heif {
            let path = ladder::decoded_path(self.decoded_dir, &self.ladder.image, self.ladder.codec, quality);
            let bytes = std::fs::read(&path).map_err(|e| jndenc::Error::io(&path, e))?;
            let decoded = jndenc::decode::decode(&bytes, &Default::default())?.to_rgb();
            let size = self.ladder.rung(quality).map_or(0, |r| r.bytes);
            // Sizes come from the ladder; the search only needs the length.
            let encoded = jndenc::codec::Encoded { bytes: vec![0; size], warnings: Vec::new() };
            return Ok(Candidate { encoded, decoded, times: [std::time::Duration::ZERO, t.elapsed()] });
        }
        CodecCandidates { image: self.image, codec: self.codec.as_ref() }.candidate(quality)
    }

    fn parallel(&self) -> bool {
        self.ladder.codec != LadderCodec::Heif
    }
}

/// Runs the library's block search ([`search_candidates`], what auto mode runs) with `model` as the
/// decider on every ladder of a photo in `split`.
///
/// Candidates are real: JPEG is encoded and decoded by the ladder's codec, HEIF is read back from
/// `decoded_dir`. The search walks the ladder's qualities (JPEG 1..100, HEIF 0..100 step 2).
#[allow(clippy::too_many_arguments)]
pub fn search_eval(
    model: &VpJnd,
    photos_dir: &Path,
    ladders: &[Ladder],
    teacher: &Teacher,
    decoded_dir: &Path,
    split: Split,
    margin: Option<f64>,
    block: usize,
) -> Result<Vec<SearchRow>> {
    let mut rows = Vec::new();
    for ladder in ladders.iter().filter(|l| split_of(&l.image) == split) {
        let image = decode_file(&photos_dir.join(&ladder.image))?.to_rgb();
        let decider = ModelDecider {
            model: model.clone(),
            target: jndenc::target::Target::distance(teacher.tau)?,
            margin: margin.unwrap_or_else(|| embedded_margin(ladder.codec)),
        };
        let source = LadderCandidates { image: &image, ladder, codec: ladder.codec.codec(), decoded_dir };
        // The library's search, as auto mode runs it (only the candidates come from the ladder cache).
        let options = AutoOptions {
            min_quality: ladder.rungs.first().map_or(0, |r| r.quality),
            max_quality: ladder.rungs.last().map_or(100, |r| r.quality),
            step: ladder.rungs.get(1).zip(ladder.rungs.first()).map_or(1, |(b, a)| b.quality - a.quality),
            block,
            prior: None,
            side_by_side: true,
        };
        if options.qualities() != ladder.rungs.iter().map(|r| r.quality).collect::<Vec<_>>() {
            return Err(Error::Insufficient(format!(
                "{}: the ladder is not an evenly spaced range",
                ladder.image
            )));
        }
        let outcome = search_candidates(&image, &source, &decider, &options)?;
        let rung =
            ladder.rung(outcome.quality).ok_or_else(|| Error::Insufficient("chosen rung missing".into()))?;
        let top = ladder.rungs.last().ok_or_else(|| Error::Insufficient("empty ladder".into()))?;
        rows.push(SearchRow {
            image: ladder.image.clone(),
            codec: ladder.codec,
            chosen: outcome.quality,
            teacher_chosen: teacher.chosen(ladder).map(|r| r.quality),
            probes: outcome.probes.len(),
            lossless: !teacher.label(ladder, outcome.quality),
            bytes: rung.bytes,
            top_bytes: top.bytes,
        });
        eprintln!(
            "  {} {}: chose {} (teacher {:?}), {} probes",
            ladder.image,
            ladder.codec.name(),
            outcome.quality,
            teacher.chosen(ladder).map(|r| r.quality),
            outcome.probes.len()
        );
    }
    Ok(rows)
}
