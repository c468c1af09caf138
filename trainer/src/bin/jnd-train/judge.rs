//! `jnd-train judge`: trains the whole-picture judge on the training pictures' jpegli candidates (both
//! samplings), then predicts every rung of every ladder and reports, per preset, the judge's own
//! decisions against the exact ones: margins chosen on the training pictures, the held-out ones
//! reported beside them.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use rayon::prelude::*;
use trainer::judge::{self as judge_data, Curve, JudgeConfig};
use trainer::ladder::LadderCodec;
use trainer::split::Split;

use crate::common::*;

/// The presets with two bounds: name, 3-norm ceiling, SSIMULACRA 2 floor.
const PRESETS: [(&str, f64, f64); 3] =
    [("visually-lossless", 1.0, 79.0), ("web-high", 1.5, 68.0), ("web", 2.0, 56.0)];
/// Share of training pictures whose judged output must meet both bounds for a margin to be chosen.
const WITHIN: f64 = 0.99;
/// The share of the training rungs near the bounds whose prediction error an uncertainty band covers.
const BAND_SHARE: f64 = 0.995;

/// Train and evaluate the whole-picture judge.
#[derive(Debug, clap::Args)]
pub struct JudgeArgs {
    /// jpegli ladders (4:2:0 and 4:4:4; every rung with both metrics).
    #[arg(long, num_args = 1.., default_values = [
        "fixtures/labels/ladders-jpegli.csv", "fixtures/labels/ladders-cid22-jpegli.csv",
        "fixtures/labels/ladders-jpegli444.csv", "fixtures/labels/ladders-cid22-jpegli444.csv"])]
    pub ladders: Vec<PathBuf>,
    /// Folders of the pictures, looked up in order.
    #[arg(long, num_args = 1.., default_values = ["../shared/data/photos/wikipedia", "../shared/data/photos/cid22-512"])]
    pub photos: Vec<PathBuf>,
    /// Training candidates every this many qualities, from 100 down to --min-quality.
    #[arg(long, default_value_t = 2)]
    pub quality_step: u8,
    /// The lowest quality of the training candidates (the presets' answers lie well above it).
    #[arg(long, default_value_t = 20)]
    pub min_quality: u8,
    /// Optimiser steps.
    #[arg(long, default_value_t = 3000)]
    pub steps: usize,
    /// Candidates per step.
    #[arg(long, default_value_t = 8)]
    pub batch: usize,
    /// Peak learning rate.
    #[arg(long, default_value_t = 3e-3)]
    pub learning_rate: f64,
    /// Write the weights (burnpack) here.
    #[arg(long, default_value = "jnd-model/weights/judge.bpk")]
    pub out: PathBuf,
    /// Write the report (Markdown) here.
    #[arg(long, default_value = "jnd-model/weights/judge-eval.md")]
    pub report: PathBuf,
    /// Evaluate these weights instead of training.
    #[arg(long)]
    pub weights: Option<PathBuf>,
    /// Also write every rung's measured and predicted scores here (CSV).
    #[arg(long)]
    pub curves: Option<PathBuf>,
}

/// `jnd-train judge`.
pub fn run_judge(args: JudgeArgs, device: jnd_model::Accelerator) -> anyhow::Result<()> {
    let device = jnd_model::select_device(device)?;
    let ladders = read_ladders(&args.ladders)?;
    anyhow::ensure!(
        ladders.iter().all(|l| l.codec.is_jpegli()),
        "the judge is trained on jpegli ladders (4:2:0 and 4:4:4)"
    );
    let folders: Vec<&Path> = args.photos.iter().map(PathBuf::as_path).collect();
    let started = Instant::now();
    let judge = match &args.weights {
        Some(path) => {
            let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
            jnd_model::judge::Judge::from_bytes(&bytes, &device)?
        }
        None => {
            anyhow::ensure!((1..=100).contains(&args.quality_step), "--quality-step must be 1 to 100");
            anyhow::ensure!((1..=100).contains(&args.min_quality), "--min-quality must be 1 to 100");
            let qualities: Vec<u8> =
                (args.min_quality..=100u8).rev().step_by(usize::from(args.quality_step)).collect();
            let pictures: Vec<judge_data::Picture> = ladders
                .par_iter()
                .map(|ladder| {
                    let image = judge_data::load(&folders, &ladder.image)?;
                    judge_data::picture(&ladder.image, &image, ladder, &qualities)
                })
                .collect::<trainer::Result<_>>()?;
            let count =
                |s: Split| pictures.iter().filter(|p| p.split == s).map(|p| p.samples.len()).sum::<usize>();
            eprintln!(
                "features: {} training and {} held-out candidates in {:.0} s",
                count(Split::Train),
                count(Split::Validation),
                started.elapsed().as_secs_f64()
            );
            let config = JudgeConfig {
                steps: args.steps,
                batch: args.batch,
                learning_rate: args.learning_rate,
                ..JudgeConfig::default()
            };
            let judge = judge_data::train(&pictures, &config, &device, 250, |step, loss, judge| {
                let v = judge_data::errors(judge, &pictures, Split::Validation)?;
                eprintln!(
                    "step {step}: loss {loss:.4}; held-out |ln d| error {:.3}, |SSIMULACRA 2| error {:.2}",
                    v.ln_distance, v.ssimulacra2
                );
                Ok(())
            })?;
            let bytes = judge.to_bytes()?;
            jndenc::output::write_atomic(&args.out, &bytes, None)
                .with_context(|| format!("writing {}", args.out.display()))?;
            eprintln!("wrote {} ({} bytes)", args.out.display(), bytes.len());
            judge
        }
    };
    let curves = judge_data::curves(&judge, &folders, &ladders)?;
    if let Some(path) = &args.curves {
        write_atomic(path, &curves_csv(&curves))?;
    }
    let md = report(&curves, &args);
    print!("{md}");
    write_atomic(&args.report, &md)?;
    Ok(())
}

fn report(curves: &[Curve], args: &JudgeArgs) -> String {
    let mut md = String::new();
    let pick = |split: Split, codec: Option<LadderCodec>| -> Vec<&Curve> {
        curves.iter().filter(|c| c.split == split && codec.is_none_or(|k| c.ladder.codec == k)).collect()
    };
    let _ = writeln!(
        md,
        "# The whole-picture judge: its own decisions against the exact ones\n\n\
         `jnd-train judge{}` on the committed jpegli ladders (labels: the two metrics measured on each \
         candidate, not people). Every rung of every ladder is predicted; \"exact\" is the lowest quality \
         whose measured pair meets the preset with every quality above it meeting it too. The margins \
         (the predicted 3-norm at most `ceiling * exp(-m)`, the predicted SSIMULACRA 2 at least `floor + 20 m`) \
         are the smallest on a 0.01 grid with at least {:.0} % of the training pictures' chosen outputs \
         within both bounds; the held-out pictures are never used to choose.\n",
        if args.weights.is_some() { " --weights ..." } else { "" },
        WITHIN * 100.0
    );
    let _ = writeln!(
        md,
        "Two rules. **Alone**: the judge's predictions choose. **Calibrated**: the real metrics of one \
         candidate (the one the judge alone chooses without margin: the search's first probe) shift the \
         picture's predictions by their error there, and the shifted predictions choose. Bytes are the \
         chosen candidates' total over the exact choices'.\n\n\
         | preset | sampling | rule | margin m | training: pictures, MAD (steps), within both bounds, bytes | held-out: pictures, MAD, within, bytes |\n\
         |---|---|---|---|---|---|"
    );
    let cell = |d: &judge_data::Decisions| {
        format!(
            "{}, {:.2}, {} ({:.1} %), {:.3}x",
            d.pictures,
            d.mad,
            d.within,
            100.0 * d.within as f64 / d.pictures.max(1) as f64,
            d.bytes_ratio
        )
    };
    for (name, distance, floor) in PRESETS {
        for codec in [LadderCodec::Jpegli, LadderCodec::Jpegli444] {
            let train = pick(Split::Train, Some(codec));
            let held = pick(Split::Validation, Some(codec));
            let sampling = if codec == LadderCodec::Jpegli { "4:2:0" } else { "4:4:4" };
            let alone = |m: f64| move |c: &Curve| judge_data::judged_quality(c, distance, floor, m, 20.0 * m);
            let calibrated = |m: f64| {
                move |c: &Curve| {
                    let first = judge_data::judged_quality(c, distance, floor, 0.0, 0.0).unwrap_or(100);
                    judge_data::calibrated_quality(c, first, distance, floor, m, 20.0 * m)
                }
            };
            let choose_margin = |rule: &dyn Fn(f64) -> judge_data::Decisions| {
                (0..=60)
                    .map(|i| f64::from(i) * 0.01)
                    .find(|&m| {
                        let d = rule(m);
                        d.pictures > 0 && d.within as f64 >= WITHIN * d.pictures as f64
                    })
                    .unwrap_or(0.6)
            };
            let m = choose_margin(&|m| judge_data::decisions(&train, distance, floor, alone(m)));
            let _ = writeln!(
                md,
                "| {name} | {sampling} | alone | {m:.2} | {} | {} |",
                cell(&judge_data::decisions(&train, distance, floor, alone(m))),
                cell(&judge_data::decisions(&held, distance, floor, alone(m)))
            );
            let m = choose_margin(&|m| judge_data::decisions(&train, distance, floor, calibrated(m)));
            let _ = writeln!(
                md,
                "| {name} | {sampling} | calibrated | {m:.2} | {} | {} |",
                cell(&judge_data::decisions(&train, distance, floor, calibrated(m))),
                cell(&judge_data::decisions(&held, distance, floor, calibrated(m)))
            );
        }
    }
    let training: Vec<&Curve> = pick(Split::Train, None);
    let bounds: Vec<(f64, f64)> = PRESETS.iter().map(|&(_, d, f)| (d, f)).collect();
    let bands = judge_data::choose_bands(&training, &bounds, BAND_SHARE);
    let _ = writeln!(
        md,
        "\n## Uncertainty bands (`--decider vp-jnd`)\n\n\
         Chosen on the training pictures' rungs near the presets' bounds (the 3-norm within a factor of 2 \
         of a ceiling, SSIMULACRA 2 within 15 points of a floor): the {:.1} % quantile of the prediction's \
         error in each direction. A prediction outside its band decides alone; inside it, the real metric \
         measures. `jnd_model::judge::Bands::EMBEDDED` holds these numbers.\n\n\
         | bound | passes alone when | fails alone when |\n|---|---|---|\n\
         | 3-norm ceiling c | ln d' <= ln c - {:.3} | ln d' >= ln c + {:.3} |\n\
         | SSIMULACRA 2 floor f | s' >= f + {:.2} | s' <= f - {:.2} |",
        BAND_SHARE * 100.0,
        bands.pass_ln_distance,
        bands.fail_ln_distance,
        bands.pass_points,
        bands.fail_points
    );
    let errors = |split: Split| {
        let (mut n, mut d, mut s) = (0usize, 0.0, 0.0);
        for c in curves.iter().filter(|c| c.split == split) {
            for (rung, p) in c.ladder.rungs.iter().zip(&c.predicted) {
                let Some(s2) = rung.ssimulacra2 else { continue };
                n += 1;
                d += (p.distance.ln() - rung.butteraugli_3norm.max(1e-3).ln()).abs();
                s += (p.ssimulacra2 - s2).abs();
            }
        }
        (n, d / n.max(1) as f64, s / n.max(1) as f64)
    };
    let _ = writeln!(
        md,
        "\n| pictures | candidates | mean abs error of ln 3-norm | mean abs error of SSIMULACRA 2 |\n|---|---|---|---|"
    );
    for (label, split) in [("training", Split::Train), ("held-out", Split::Validation)] {
        let (n, d, s) = errors(split);
        let _ = writeln!(md, "| {label} | {n} | {d:.3} | {s:.2} |");
    }
    md
}

/// Every rung's measured and predicted scores, one CSV row each.
fn curves_csv(curves: &[Curve]) -> String {
    let mut csv = String::from(
        "image,sampling,split,quality,bytes,butteraugli_3norm,ssimulacra2,predicted_3norm,predicted_ssimulacra2\n",
    );
    for c in curves {
        let sampling = if c.ladder.codec == LadderCodec::Jpegli444 { "444" } else { "420" };
        let split = if c.split == Split::Train { "train" } else { "validation" };
        for (rung, p) in c.ladder.rungs.iter().zip(&c.predicted) {
            let s2 = rung.ssimulacra2.map_or(String::new(), |s| format!("{s:.3}"));
            let _ = writeln!(
                csv,
                "{},{sampling},{split},{},{},{:.4},{s2},{:.4},{:.3}",
                c.name, rung.quality, rung.bytes, rung.butteraugli_3norm, p.distance, p.ssimulacra2
            );
        }
    }
    csv
}
