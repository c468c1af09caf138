//! `jnd-train fit-targets`: the presets' SSIMULACRA 2 floors and the 4:4:4 search threshold, from the
//! training photos' jpegli ladders (both samplings); the held-out photos' numbers are printed beside
//! them, never used to choose.

use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::Context;
use trainer::ladder::{Ladder, LadderCodec};
use trainer::operating::{self, SamplingOutcome};
use trainer::split::{Split, split_of};

use crate::common::*;

/// The presets with two bounds: name and 3-norm ceiling.
const PRESETS: [(&str, f64); 3] = [("visually-lossless", 1.0), ("web-high", 1.5), ("web", 2.0)];
/// The thresholds tried for the 4:4:4 search (101: only when 4:2:0 cannot reach the target).
const FROM_QUALITY: [u8; 9] = [0, 85, 88, 90, 92, 94, 96, 98, 101];

/// Fit the presets' SSIMULACRA 2 floors and the 4:4:4 search threshold on the training photos.
#[derive(Debug, clap::Args)]
pub struct FitTargetsArgs {
    /// jpegli 4:2:0 ladders (every rung with SSIMULACRA 2).
    #[arg(long, num_args = 1.., default_values = ["fixtures/labels/ladders-jpegli.csv", "fixtures/labels/ladders-cid22-jpegli.csv"])]
    pub ladders_420: Vec<PathBuf>,
    /// jpegli 4:4:4 ladders of the same pictures.
    #[arg(long, num_args = 1.., default_values = ["fixtures/labels/ladders-jpegli444.csv", "fixtures/labels/ladders-cid22-jpegli444.csv"])]
    pub ladders_444: Vec<PathBuf>,
    /// Write the tables (Markdown) here too.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

fn quantile(values: &[f64], p: f64) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    v.get(((v.len().saturating_sub(1)) as f64 * p).round() as usize).copied().unwrap_or(f64::NAN)
}

/// `jnd-train fit-targets`.
pub fn run_fit_targets(args: FitTargetsArgs) -> anyhow::Result<()> {
    let all_420 = read_ladders(&args.ladders_420)?;
    // The 4:4:4 ladders only inform the sampling table; the floors need 4:2:0 alone.
    let existing: Vec<PathBuf> = args.ladders_444.iter().filter(|p| p.exists()).cloned().collect();
    let all_444 = read_ladders(&existing)?;
    if all_420.iter().any(|l| l.codec != LadderCodec::Jpegli)
        || all_444.iter().any(|l| l.codec != LadderCodec::Jpegli444)
    {
        anyhow::bail!("--ladders-420 must be jpegli ladders and --ladders-444 jpegli444 ones");
    }
    let side = |split: Split| -> Vec<(&Ladder, &Ladder)> {
        all_420
            .iter()
            .filter(|l| split_of(&l.image) == split)
            .filter_map(|a| all_444.iter().find(|b| b.image == a.image).map(|b| (a, b)))
            .collect()
    };
    let (train, validation) = (side(Split::Train), side(Split::Validation));
    let alone =
        |split: Split| -> Vec<&Ladder> { all_420.iter().filter(|l| split_of(&l.image) == split).collect() };
    let (train_420, validation_420) = (alone(Split::Train), alone(Split::Validation));
    let mut md = String::new();
    let _ = writeln!(
        md,
        "# Operating points: floors and the 4:4:4 search (`jnd-train fit-targets`)\n\n{} training pictures \
         and {} held-out ones with jpegli 4:2:0 ladders ({} and {} with 4:4:4 ladders too); the numbers are \
         chosen on the training pictures only.\n",
        train_420.len(),
        validation_420.len(),
        train.len(),
        validation.len()
    );
    let _ = writeln!(
        md,
        "## Floors\n\nThe SSIMULACRA 2 jpegli (4:2:0) reaches at the quality the preset's 3-norm alone chooses; \
         the floor is its median over the training pictures.\n\n| preset | 3-norm | floor (median) | p25 | p75 | \
         held-out median | training pictures where the floor binds |\n|---|---|---|---|---|---|---|"
    );
    let mut floors = Vec::new();
    for (name, distance) in PRESETS {
        let at = |set: &[&Ladder]| -> Vec<f64> {
            set.iter()
                .filter_map(|l| {
                    let q = trainer::prior::Metric::Distance.true_quality(l, distance);
                    l.rung(q).and_then(|r| r.ssimulacra2)
                })
                .collect()
        };
        let (t, v) = (at(&train_420), at(&validation_420));
        let floor = operating::fit_floor(&train_420, distance).context("no training ladder")?;
        // Rounded down to a whole point, as the constants are written.
        let floor = floor.floor();
        let binds = train_420
            .iter()
            .filter(|l| {
                operating::chosen(l, distance, Some(floor)).map(|r| r.quality)
                    != operating::chosen(l, distance, None).map(|r| r.quality)
            })
            .count();
        let _ = writeln!(
            md,
            "| {name} | {distance} | **{floor}** | {:.1} | {:.1} | {:.1} | {binds} of {} |",
            quantile(&t, 0.25),
            quantile(&t, 0.75),
            quantile(&v, 0.5),
            train_420.len()
        );
        floors.push((name, distance, floor));
    }
    let _ = writeln!(
        md,
        "\n## When to search 4:4:4 too\n\nAuto mode searches 4:2:0, and 4:4:4 too when 4:2:0 cannot reach the \
         target or its answer is at the threshold quality or above; it writes the smaller output that meets \
         the target. Bytes are against searching 4:4:4 for every picture (the least bytes).\n"
    );
    for (name, distance, floor) in floors.iter().filter(|_| !train.is_empty()) {
        let _ = writeln!(
            md,
            "### {name} (3-norm {distance}, SSIMULACRA 2 {floor})\n\n| 4:4:4 from quality | training: bytes vs always | \
             4:4:4 searched | written at 4:4:4 | meeting the target | held-out: bytes vs always | searched |\n\
             |---|---|---|---|---|---|---|"
        );
        let always_t = operating::sampling_policy(&train, *distance, Some(*floor), 0);
        let always_v = operating::sampling_policy(&validation, *distance, Some(*floor), 0);
        for from in FROM_QUALITY {
            let t: SamplingOutcome = operating::sampling_policy(&train, *distance, Some(*floor), from);
            let v: SamplingOutcome = operating::sampling_policy(&validation, *distance, Some(*floor), from);
            let _ = writeln!(
                md,
                "| {} | {:.4}x | {} of {} | {} | {} | {:.4}x | {} of {} |",
                if from == 101 { "never (only when 4:2:0 fails)".to_string() } else { from.to_string() },
                t.bytes as f64 / always_t.bytes as f64,
                t.searched_444,
                train.len(),
                t.written_444,
                t.meeting,
                v.bytes as f64 / always_v.bytes as f64,
                v.searched_444,
                validation.len()
            );
        }
        md.push('\n');
    }
    print!("{md}");
    if let Some(out) = &args.out {
        write_atomic(out, &md)?;
    }
    Ok(())
}
