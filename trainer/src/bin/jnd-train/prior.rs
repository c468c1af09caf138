//! `jnd-train fit-prior`: the quality prior of one codec and metric, fitted on the training photos'
//! ladders.

use std::path::PathBuf;

use anyhow::Context;
use rayon::prelude::*;
use trainer::prior::{self, Metric, Sample};
use trainer::split::{Split, split_of};

use crate::common::*;

/// The targets the 3-norm prior is checked at: the presets' ceilings and 3.0.
const DISTANCE_TARGETS: [f64; 5] = [1.0, 1.5, 2.0, 2.295, 3.0];
/// The floors the SSIMULACRA 2 prior is checked at.
const SSIMULACRA2_TARGETS: [f64; 4] = [60.0, 70.0, 80.0, 90.0];
/// Ridge strengths tried; the one with the lowest leave-one-out error on training photos is kept.
const LAMBDAS: [f64; 7] = [0.3, 1.0, 3.0, 10.0, 30.0, 100.0, 1e6];

/// What the prior predicts.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum MetricArg {
    /// The teacher's butteraugli 3-norm.
    Distance,
    /// SSIMULACRA 2 (as its gap `100 - s`).
    Ssimulacra2,
}

/// Fit the quality prior of one codec and metric (features of the original -> the metric per quality).
#[derive(Debug, clap::Args)]
pub struct FitPriorArgs {
    /// Folders of photos (a ladder's image is looked up in each, in order).
    #[arg(long, num_args = 1.., default_values = ["../shared/data/photos/wikipedia", "../shared/data/photos/cid22-512"])]
    pub photos: Vec<PathBuf>,
    /// The codec's ladder CSVs (one codec).
    #[arg(long, required = true, num_args = 1..)]
    pub ladders: Vec<PathBuf>,
    /// Which curve.
    #[arg(long, value_enum, default_value_t = MetricArg::Distance)]
    pub metric: MetricArg,
    /// Write the prior (CSV) here.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// `jnd-train fit-prior`.
pub fn run_fit_prior(args: FitPriorArgs) -> anyhow::Result<()> {
    let ladders = read_ladders(&args.ladders)?;
    let codec = ladders.first().map(|l| l.codec).context("no ladders")?;
    if ladders.iter().any(|l| l.codec != codec) {
        anyhow::bail!("the ladders name more than one codec: fit one at a time");
    }
    let step = if codec.is_jpeg() { 1.0 } else { 2.0 };
    let (metric, targets, bound): (Metric, &[f64], fn(f64) -> f64) = match args.metric {
        MetricArg::Distance => (Metric::Distance, &DISTANCE_TARGETS, |t| t),
        MetricArg::Ssimulacra2 => {
            (Metric::Ssimulacra2, &SSIMULACRA2_TARGETS, jnd_model::prior::ssimulacra2_gap)
        }
    };
    let samples: Vec<(Split, Sample)> = ladders
        .into_par_iter()
        .map(|ladder| -> anyhow::Result<(Split, Sample)> {
            let path = args
                .photos
                .iter()
                .map(|folder| folder.join(&ladder.image))
                .find(|p| p.exists())
                .with_context(|| format!("{} is in none of the photo folders", ladder.image))?;
            let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
            let image = jndenc::decode::decode(&bytes, &jndenc::DecodeOptions::default())?;
            Ok((split_of(&ladder.image), Sample::new(&image, ladder)))
        })
        .collect::<anyhow::Result<_>>()?;
    let train: Vec<&Sample> = samples.iter().filter(|(s, _)| *s == Split::Train).map(|(_, s)| s).collect();
    let validation: Vec<&Sample> =
        samples.iter().filter(|(s, _)| *s == Split::Validation).map(|(_, s)| s).collect();
    println!(
        "{} ({:?}): {} training photos, {} validation photos; MAD in quality steps of {step}",
        codec.name(),
        metric,
        train.len(),
        validation.len()
    );
    println!("\nleave-one-out on the training photos (chooses lambda):");
    println!(
        "| lambda | {} | mean |",
        targets.iter().map(|t| format!("MAD @{t}")).collect::<Vec<_>>().join(" | ")
    );
    println!("|---|{}---|", "---|".repeat(targets.len()));
    let mut best = (f64::INFINITY, LAMBDAS[0]);
    for lambda in LAMBDAS {
        let rows: Vec<prior::Agreement> = targets
            .iter()
            .map(|&t| prior::leave_one_out(&train, lambda, bound(t), step, metric))
            .collect::<Result<_, _>>()?;
        let mean = rows.iter().map(|a| a.mad).sum::<f64>() / rows.len() as f64;
        println!(
            "| {lambda} | {} | {mean:.2} |",
            rows.iter().map(|a| format!("{:.2}", a.mad)).collect::<Vec<_>>().join(" | ")
        );
        if mean < best.0 {
            best = (mean, lambda);
        }
    }
    let lambda = best.1;
    let fitted = prior::fit_metric(&train, lambda, metric)?;
    println!("\nchosen lambda {lambda}; fitted on all {} training photos.", train.len());
    println!("\n| photos | target | MAD (steps) | mean signed | within 1 step |");
    println!("|---|---|---|---|---|");
    for (name, set) in [("train, leave-one-out", &train), ("validation (held out)", &validation)] {
        for &t in targets {
            let b = bound(t);
            let a = if name.starts_with("train") {
                prior::leave_one_out(set, lambda, b, step, metric)?
            } else {
                prior::agreement(set, b, step, metric, |i| Ok(fitted.quality_for(&set[i].features, b).0))?
            };
            println!(
                "| {name} | {t} | {:.2} | {:+.2} | {:.0} % |",
                a.mad,
                a.mean_signed,
                100.0 * a.within_one
            );
        }
    }
    // The search's first step: one candidate at the prior's quality, measured exactly (read off the
    // ladder), shifts the predicted curve through it.
    println!("\nafter one candidate at the prior's quality (its measured value shifts the curve):");
    println!("\n| photos | target | MAD (steps) | mean signed | within 1 step |");
    println!("|---|---|---|---|---|");
    for (name, set) in [("train (in-sample)", &train), ("validation (held out)", &validation)] {
        for &t in targets {
            let b = bound(t);
            let a = prior::agreement(set, b, step, metric, |i| {
                let s = set[i];
                let q0 = fitted.quality_for(&s.features, b).0;
                let v0 = s.ladder.rung(q0).and_then(|r| metric.value(r)).unwrap_or(f64::NAN);
                Ok(fitted.refine(&s.features, (q0, v0), b).0)
            })?;
            println!(
                "| {name} | {t} | {:.2} | {:+.2} | {:.0} % |",
                a.mad,
                a.mean_signed,
                100.0 * a.within_one
            );
        }
    }
    if let Some(out) = &args.out {
        let what = match metric {
            Metric::Distance => "butteraugli 3-norm",
            Metric::Ssimulacra2 => "SSIMULACRA 2 gap (100 - s)",
        };
        let header = format!(
            "# jndenc quality prior ({what}) for {} ({}), fitted by `jnd-train fit-prior` on {} training photos, lambda {lambda}\n",
            codec.name(),
            codec.settings(),
            train.len()
        );
        write_atomic(out, &(header + &fitted.to_csv()))?;
        println!("\nwrote {}", out.display());
    }
    Ok(())
}
