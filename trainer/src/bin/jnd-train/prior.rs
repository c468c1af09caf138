//! `jnd-train fit-prior`: the quality prior of one codec, fitted on the training photos' ladders.

use std::path::PathBuf;

use anyhow::Context;
use rayon::prelude::*;
use trainer::prior::{self, Sample};
use trainer::split::{Split, split_of};

use crate::common::*;

/// The targets the prior is checked at (butteraugli 3-norm): the operating points.
const TARGETS: [f64; 4] = [1.0, 1.5, 2.295, 3.0];
/// Ridge strengths tried; the one with the lowest leave-one-out error on training photos is kept.
const LAMBDAS: [f64; 7] = [0.3, 1.0, 3.0, 10.0, 30.0, 100.0, 1e6];

/// Fit the quality prior of one codec (features of the original -> teacher distance per quality).
#[derive(Debug, clap::Args)]
pub struct FitPriorArgs {
    /// Folder of photos.
    #[arg(long, default_value = "../shared/data/photos/wikipedia")]
    pub photos: PathBuf,
    /// The codec's ladder CSV.
    #[arg(long)]
    pub ladders: PathBuf,
    /// Write the prior (CSV) here.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// `jnd-train fit-prior`.
pub fn run_fit_prior(args: FitPriorArgs) -> anyhow::Result<()> {
    let ladders = read_ladders(std::slice::from_ref(&args.ladders))?;
    let codec = ladders.first().map(|l| l.codec).context("no ladders")?;
    let step = if codec.is_jpeg() { 1.0 } else { 2.0 };
    let samples: Vec<(Split, Sample)> = ladders
        .into_par_iter()
        .map(|ladder| -> anyhow::Result<(Split, Sample)> {
            let path = args.photos.join(&ladder.image);
            let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
            let image = jndenc::decode::decode(&bytes, &jndenc::DecodeOptions::default())?;
            Ok((split_of(&ladder.image), Sample::new(&image, ladder)))
        })
        .collect::<anyhow::Result<_>>()?;
    let train: Vec<&Sample> = samples.iter().filter(|(s, _)| *s == Split::Train).map(|(_, s)| s).collect();
    let validation: Vec<&Sample> =
        samples.iter().filter(|(s, _)| *s == Split::Validation).map(|(_, s)| s).collect();
    println!(
        "{}: {} training photos, {} validation photos; MAD in quality steps of {step}",
        codec.name(),
        train.len(),
        validation.len()
    );
    println!("\nleave-one-out on the training photos (chooses lambda):");
    println!("| lambda | {} | mean |", TARGETS.map(|t| format!("MAD @{t}")).join(" | "));
    println!("|---|{}---|", "---|".repeat(TARGETS.len()));
    let mut best = (f64::INFINITY, LAMBDAS[0]);
    for lambda in LAMBDAS {
        let rows: Vec<prior::Agreement> = TARGETS
            .iter()
            .map(|&t| prior::leave_one_out(&train, lambda, t, step))
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
    let fitted = prior::fit(&train, lambda)?;
    println!("\nchosen lambda {lambda}; fitted on all {} training photos.", train.len());
    println!("\n| photos | target | MAD (steps) | mean signed | within 1 step |");
    println!("|---|---|---|---|---|");
    for (name, set) in [("train, leave-one-out", &train), ("validation (held out)", &validation)] {
        for &t in &TARGETS {
            let a = if name.starts_with("train") {
                prior::leave_one_out(set, lambda, t, step)?
            } else {
                prior::agreement(set, t, step, |i| Ok(fitted.quality_for(&set[i].features, t).0))?
            };
            println!(
                "| {name} | {t} | {:.2} | {:+.2} | {:.0} % |",
                a.mad,
                a.mean_signed,
                100.0 * a.within_one
            );
        }
    }
    // The search's first step: one candidate at the prior's quality, measured exactly (the teacher's
    // distance, read off the ladder), shifts the predicted curve through it.
    println!("\nafter one candidate at the prior's quality (its teacher distance shifts the curve):");
    println!("\n| photos | target | MAD (steps) | mean signed | within 1 step |");
    println!("|---|---|---|---|---|");
    for (name, set) in [("train (in-sample)", &train), ("validation (held out)", &validation)] {
        for &t in &TARGETS {
            let a = prior::agreement(set, t, step, |i| {
                let s = set[i];
                let q0 = fitted.quality_for(&s.features, t).0;
                let d0 = s.ladder.rung(q0).map_or(f64::NAN, |r| r.butteraugli_3norm);
                Ok(fitted.refine(&s.features, (q0, d0), t).0)
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
        let header = format!(
            "# jndenc quality prior for {} ({}), fitted by `jnd-train fit-prior` on {} training photos, lambda {lambda}\n",
            codec.name(),
            codec.settings(),
            train.len()
        );
        write_atomic(out, &(header + &fitted.to_csv()))?;
        println!("\nwrote {}", out.display());
    }
    Ok(())
}
