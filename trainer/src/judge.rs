//! The whole-picture judge's data, training and evaluation (`jnd_model::judge`).
//!
//! Samples are real candidates: each picture encoded by jpegli at both samplings at a set of
//! qualities, decoded, and turned into block features against the original; the labels are the two
//! metrics measured on that same candidate, read from the committed ladders (no metric runs here).
//! The split is `trainer::split` (wikipedia and CID22 alike); validation pictures are reported and
//! never trained on, and the decision margins are chosen on training pictures only.

use std::path::Path;
use std::time::Instant;

use burn::module::Module;
use burn::optim::{AdamWConfig, GradientsParams};
use burn::tensor::{Device, Tensor, TensorData};
use rayon::prelude::*;

use jnd_model::Image;
use jnd_model::judge::{Bands, BlockGrid, Judge, JudgeNet, JudgeReference, Predicted, grid_tensor};

use crate::ladder::{Ladder, LadderCodec};
use crate::operating;
use crate::split::{Split, split_of};
use crate::vpjnd::Rng;
use crate::{Error, Result};

/// One picture at one sampling: its candidates' features and labels.
#[derive(Debug, Clone)]
pub struct Picture {
    /// The file name.
    pub name: String,
    /// Its split.
    pub split: Split,
    /// The codec (jpegli at 4:2:0 or 4:4:4).
    pub codec: LadderCodec,
    /// Per candidate: quality, features, `[ln d, ln(100 - s)]`.
    pub samples: Vec<(u8, BlockGrid, [f32; 2])>,
}

/// Candidates of `image` at `qualities` with their labels from `ladder` (rungs without SSIMULACRA 2
/// are skipped).
pub fn picture(name: &str, image: &Image, ladder: &Ladder, qualities: &[u8]) -> Result<Picture> {
    let codec = ladder.codec.codec();
    let reference = JudgeReference::new(image)?;
    let mut samples = Vec::with_capacity(qualities.len());
    for &q in qualities {
        let Some(rung) = ladder.rung(q) else { continue };
        let Some(s2) = rung.ssimulacra2 else { continue };
        let encoded = codec.encode(image, q)?;
        let decoded = codec.decode(&encoded.bytes)?;
        let decoded = if decoded.color() == image.color() { decoded } else { decoded.to_rgb() };
        let grid = reference.features(&decoded)?;
        samples.push((q, grid, Predicted::targets(rung.butteraugli_3norm, s2)));
    }
    Ok(Picture { name: name.to_string(), split: split_of(name), codec: ladder.codec, samples })
}

/// Loads a PNG picture from the first folder that has it.
pub fn load(folders: &[&Path], name: &str) -> Result<Image> {
    for folder in folders {
        let path = folder.join(name);
        if path.exists() {
            let bytes = std::fs::read(&path).map_err(|e| crate::io_error(&path, e))?;
            let image = jndenc::decode::decode(&bytes, &jndenc::DecodeOptions::default())?;
            return Ok(if image.color() == jnd_model::ColorType::Gray { image } else { image.to_rgb() });
        }
    }
    Err(Error::Insufficient(format!("{name}: in none of the photo folders")))
}

/// Training settings.
#[derive(Debug, Clone)]
pub struct JudgeConfig {
    /// Optimiser steps.
    pub steps: usize,
    /// Candidates per step (all of one picture and sampling).
    pub batch: usize,
    /// Peak learning rate (cosine decay to 5 %).
    pub learning_rate: f64,
    /// AdamW weight decay.
    pub weight_decay: f32,
    /// Seed of the initialisation and sampling.
    pub seed: u64,
}

impl Default for JudgeConfig {
    fn default() -> Self {
        Self { steps: 3000, batch: 8, learning_rate: 3e-3, weight_decay: 1e-4, seed: 17 }
    }
}

/// Mean absolute errors of a judge on a set of candidates, in the metrics' own units.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Errors {
    /// Candidates.
    pub count: usize,
    /// Mean |ln d - ln d'|.
    pub ln_distance: f64,
    /// Mean |s - s'| (SSIMULACRA 2 points).
    pub ssimulacra2: f64,
}

/// The judge's errors on the pictures of `split`.
pub fn errors(judge: &Judge, pictures: &[Picture], split: Split) -> Result<Errors> {
    let mut out = Errors::default();
    for picture in pictures.iter().filter(|p| p.split == split && !p.samples.is_empty()) {
        for chunk in picture.samples.chunks(16) {
            let grids: Vec<&BlockGrid> = chunk.iter().map(|s| &s.1).collect();
            for (p, (_, _, t)) in judge.predict(&grids)?.iter().zip(chunk) {
                let truth = Predicted::from_outputs(t[0], t[1]);
                out.ln_distance += (p.distance.ln() - truth.distance.ln()).abs();
                out.ssimulacra2 += (p.ssimulacra2 - truth.ssimulacra2).abs();
                out.count += 1;
            }
        }
    }
    if out.count > 0 {
        out.ln_distance /= out.count as f64;
        out.ssimulacra2 /= out.count as f64;
    }
    Ok(out)
}

/// Trains a judge on the training pictures; `on_report` sees (step, mean training loss since the last
/// report, the network so far) every `report_every` steps.
pub fn train(
    pictures: &[Picture],
    config: &JudgeConfig,
    device: &Device,
    report_every: usize,
    mut on_report: impl FnMut(usize, f64, &Judge) -> Result<()>,
) -> Result<Judge> {
    device.seed(config.seed);
    let train_device = device.clone().autodiff();
    let mut model = JudgeNet::new(&train_device);
    let mut optim = AdamWConfig::new().with_weight_decay(config.weight_decay).init();
    let mut rng = Rng::new(config.seed);
    let train: Vec<&Picture> =
        pictures.iter().filter(|p| p.split == Split::Train && p.samples.len() >= 2).collect();
    if train.is_empty() {
        return Err(Error::Insufficient("no training pictures with candidates".into()));
    }
    let (mut loss_sum, mut since) = (0.0, 0usize);
    let started = Instant::now();
    for step in 1..=config.steps {
        let picture = train[rng.below(train.len())];
        let batch: Vec<&(u8, BlockGrid, [f32; 2])> =
            (0..config.batch).map(|_| &picture.samples[rng.below(picture.samples.len())]).collect();
        let grids: Vec<&BlockGrid> = batch.iter().map(|s| &s.1).collect();
        let x = grid_tensor(&grids, &train_device)?;
        let targets: Vec<f32> = batch.iter().flat_map(|s| s.2).collect();
        let y = Tensor::<2>::from_data(TensorData::new(targets, [batch.len(), 2]), &train_device);
        let loss = (model.forward(x) - y).powf_scalar(2.0).mean();
        let value: f32 = loss.clone().into_scalar();
        loss_sum += f64::from(value);
        since += 1;
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        let progress = step as f64 / config.steps as f64;
        let lr = config.learning_rate * (0.05 + 0.95 * 0.5 * (1.0 + (std::f64::consts::PI * progress).cos()));
        model = optim.step(lr, model, grads);
        if step % report_every == 0 || step == config.steps {
            let judge = Judge::from_net(model.valid(), device);
            on_report(step, loss_sum / since as f64, &judge)?;
            eprintln!("step {step}: {:.1} s", started.elapsed().as_secs_f64());
            (loss_sum, since) = (0.0, 0);
        }
    }
    Ok(Judge::from_net(model.valid(), device))
}

/// One picture's predicted and measured scores at every quality of its ladder.
#[derive(Debug, Clone)]
pub struct Curve {
    /// The file name.
    pub name: String,
    /// Its split.
    pub split: Split,
    /// The measured ladder.
    pub ladder: Ladder,
    /// Per rung of the ladder (same order): the judge's prediction.
    pub predicted: Vec<Predicted>,
}

/// Predicts every rung of `ladder` (jpegli at either sampling) for `image`.
pub fn curve(judge: &Judge, name: &str, image: &Image, ladder: &Ladder) -> Result<Curve> {
    let codec = ladder.codec.codec();
    let reference = JudgeReference::new(image)?;
    let mut predicted = Vec::with_capacity(ladder.rungs.len());
    for rung in &ladder.rungs {
        let encoded = codec.encode(image, rung.quality)?;
        let decoded = codec.decode(&encoded.bytes)?;
        let decoded = if decoded.color() == image.color() { decoded } else { decoded.to_rgb() };
        let grid = reference.features(&decoded)?;
        predicted.push(judge.predict(&[&grid])?[0]);
    }
    Ok(Curve { name: name.to_string(), split: split_of(name), ladder: ladder.clone(), predicted })
}

/// The quality the judge alone would choose: the lowest with every quality above it predicted to
/// meet the bounds tightened by the margins (`distance * exp(-ln_margin)`, `floor + points`).
pub fn judged_quality(curve: &Curve, distance: f64, floor: f64, ln_margin: f64, points: f64) -> Option<u8> {
    choose(curve, distance, floor, ln_margin, points, |p| *p)
}

/// The lowest quality with every quality above it meeting the tightened bounds, with each prediction
/// passed through `adjust` first.
fn choose(
    curve: &Curve,
    distance: f64,
    floor: f64,
    ln_margin: f64,
    points: f64,
    adjust: impl Fn(&Predicted) -> Predicted,
) -> Option<u8> {
    let mut answer = None;
    for (rung, p) in curve.ladder.rungs.iter().zip(&curve.predicted).rev() {
        let p = adjust(p);
        if p.distance > distance * (-ln_margin).exp() || p.ssimulacra2 < floor + points {
            break;
        }
        answer = Some(rung.quality);
    }
    answer
}

/// The judge calibrated by one measurement: the real metrics of the candidate at `first` (the
/// search's first probe) shift every prediction of the picture by that candidate's error (`ln d`
/// additively, SSIMULACRA 2 in points), and the shifted predictions choose.
pub fn calibrated_quality(
    curve: &Curve,
    first: u8,
    distance: f64,
    floor: f64,
    ln_margin: f64,
    points: f64,
) -> Option<u8> {
    let at = curve.ladder.rungs.iter().position(|r| r.quality == first)?;
    let (rung, p) = (&curve.ladder.rungs[at], &curve.predicted[at]);
    let shift_d = rung.butteraugli_3norm.max(1e-3).ln() - p.distance.ln();
    let shift_s = rung.ssimulacra2.map_or(0.0, |s| s - p.ssimulacra2);
    choose(curve, distance, floor, ln_margin, points, |p| Predicted {
        distance: p.distance * shift_d.exp(),
        ssimulacra2: p.ssimulacra2 + shift_s,
    })
}

/// The judge's uncertainty bands chosen on `curves` (the training pictures'): for each metric, the
/// `share` quantile of the prediction's error in each direction, over the rungs whose measured score
/// lies near one of `bounds` (`(ceiling, floor)` pairs: the 3-norm within a factor of 2 of a ceiling,
/// SSIMULACRA 2 within 15 points of a floor). A prediction outside the band is then wrong at most
/// `1 - share` of the time near the bounds, where the search's probes lie.
pub fn choose_bands(curves: &[&Curve], bounds: &[(f64, f64)], share: f64) -> Bands {
    let (mut worse_d, mut better_d, mut worse_s, mut better_s) = (vec![], vec![], vec![], vec![]);
    for curve in curves {
        for (rung, p) in curve.ladder.rungs.iter().zip(&curve.predicted) {
            let ln_d = rung.butteraugli_3norm.max(1e-3).ln();
            let error = ln_d - p.distance.max(1e-3).ln();
            if bounds.iter().any(|&(c, _)| (ln_d - c.ln()).abs() <= std::f64::consts::LN_2) {
                worse_d.push(error);
                better_d.push(-error);
            }
            if let Some(s) = rung.ssimulacra2
                && bounds.iter().any(|&(_, f)| (s - f).abs() <= 15.0)
            {
                worse_s.push(p.ssimulacra2 - s);
                better_s.push(s - p.ssimulacra2);
            }
        }
    }
    let quantile = |mut v: Vec<f64>| -> f64 {
        if v.is_empty() {
            return f64::INFINITY;
        }
        v.sort_by(f64::total_cmp);
        let at = ((v.len() - 1) as f64 * share).ceil() as usize;
        v[at.min(v.len() - 1)].max(0.0)
    };
    Bands {
        pass_ln_distance: quantile(worse_d),
        fail_ln_distance: quantile(better_d),
        pass_points: quantile(worse_s),
        fail_points: quantile(better_s),
    }
}

/// How a decision rule fares on `curves` at one preset.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Decisions {
    /// Pictures where the exact search has an answer.
    pub pictures: usize,
    /// Mean |chosen quality - exact quality| (quality steps; a picture the rule finds no quality for
    /// counts from 100).
    pub mad: f64,
    /// Pictures whose chosen quality meets both bounds as measured.
    pub within: usize,
    /// Bytes of the chosen candidates over the exact ones' (pictures where both exist).
    pub bytes_ratio: f64,
}

/// A decision rule (`rule(curve)`: the chosen quality) against the exact decisions from the measured
/// ladders.
pub fn decisions(
    curves: &[&Curve],
    distance: f64,
    floor: f64,
    rule: impl Fn(&Curve) -> Option<u8>,
) -> Decisions {
    let mut out = Decisions::default();
    let (mut chosen_bytes, mut exact_bytes) = (0u64, 0u64);
    for curve in curves {
        let Some(exact) = operating::chosen(&curve.ladder, distance, Some(floor)) else { continue };
        let judged = rule(curve).unwrap_or(100);
        out.pictures += 1;
        out.mad += (f64::from(judged) - f64::from(exact.quality)).abs();
        if let Some(r) = curve.ladder.rung(judged) {
            out.within += usize::from(operating::meets(r, distance, Some(floor)));
            chosen_bytes += r.bytes as u64;
            exact_bytes += exact.bytes as u64;
        }
    }
    if out.pictures > 0 {
        out.mad /= out.pictures as f64;
    }
    out.bytes_ratio = chosen_bytes as f64 / exact_bytes.max(1) as f64;
    out
}

/// Predicts every rung of every ladder, pictures in parallel.
pub fn curves(judge: &Judge, folders: &[&Path], ladders: &[Ladder]) -> Result<Vec<Curve>> {
    ladders
        .par_iter()
        .map(|ladder| {
            let image = load(folders, &ladder.image)?;
            curve(judge, &ladder.image, &image, ladder)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ladder::test_ladder;

    /// A curve whose measured rungs are `(quality, bytes, 3-norm, SSIMULACRA 2)` and whose predictions
    /// are the measurements with the 3-norm scaled by `bias` and SSIMULACRA 2 moved by `offset`.
    fn curve(rungs: &[(u8, usize, f64, f64)], bias: f64, offset: f64) -> Curve {
        let ladder = test_ladder(LadderCodec::Jpegli, rungs);
        let predicted = rungs
            .iter()
            .map(|&(_, _, d, s)| Predicted { distance: d * bias, ssimulacra2: s + offset })
            .collect();
        Curve { name: "x.png".into(), split: Split::Validation, ladder, predicted }
    }

    const RUNGS: [(u8, usize, f64, f64); 4] =
        [(70, 100, 1.6, 70.0), (80, 130, 1.2, 76.0), (90, 170, 0.9, 81.0), (95, 220, 0.7, 86.0)];

    #[test]
    fn a_biased_judge_misses_and_one_measurement_corrects_it() {
        // Exact at (1.0, 79): 90. A judge that sees half the 3-norm and 5 more points chooses 80, which
        // fails; calibrated at its own first choice, it chooses 90 again.
        let biased = curve(&RUNGS, 0.5, 5.0);
        assert_eq!(judged_quality(&biased, 1.0, 79.0, 0.0, 0.0), Some(80));
        assert_eq!(calibrated_quality(&biased, 80, 1.0, 79.0, 0.0, 0.0), Some(90));
        let alone = decisions(&[&biased], 1.0, 79.0, |c| judged_quality(c, 1.0, 79.0, 0.0, 0.0));
        assert_eq!((alone.pictures, alone.within), (1, 0));
        assert!((alone.mad - 10.0).abs() < 1e-9 && (alone.bytes_ratio - 130.0 / 170.0).abs() < 1e-9);
        // A margin moves the choice up: exp(-0.9) = 0.41 turns away 90's predicted 0.45, not 95's 0.35.
        assert_eq!(judged_quality(&biased, 1.0, 79.0, 0.9, 0.0), Some(95));
        // No quality meets the bounds: the rule counts from 100 and nothing is within.
        let exact = curve(&RUNGS, 1.0, 0.0);
        assert_eq!(judged_quality(&exact, 0.5, 79.0, 0.0, 0.0), None);
        let none = decisions(&[&exact], 0.5, 79.0, |c| judged_quality(c, 0.5, 79.0, 0.0, 0.0));
        assert_eq!(none.pictures, 0, "the exact search has no answer either");
    }
}
