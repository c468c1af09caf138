//! `jnd-train eval-decision`: the quality decision against the teacher's, per codec and target
//! distance, on a split of the photos (validation by default). Auto mode runs as a user runs it (the
//! library's `EncodePlan`); the teacher decider's choice (the block search with butteraugli's
//! verdicts) and the best single fixed quality are read off the committed ladders, which hold the
//! teacher's distance and the bytes of every quality of every photo for the same codec settings.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, bail};
use jnd_model::Image;
use jnd_model::metrics::{ButteraugliRef, ssimulacra2};
use jndenc::Models;
use jndenc::auto::AutoOptions;
use jndenc::codec::OutputFormat;
use jndenc::settings::{DeciderKind, JpegEncoder, Mode};
use jndenc::target::Target;
use jndenc::{EncodePlan, Settings};
use trainer::ladder::{Ladder, LadderCodec};
use trainer::split::{Split, split_of};

use crate::common::*;

/// The quality decision against the teacher's at several target distances.
#[derive(Debug, clap::Args)]
pub struct EvalDecisionArgs {
    /// Folder of the PNG photos.
    #[arg(long, default_value = "../shared/data/photos/wikipedia")]
    pub photos: PathBuf,
    /// Which photos.
    #[arg(long, value_enum, default_value_t = SplitArg::Validation)]
    pub split: SplitArg,
    /// Codecs (their ladders are read from `fixtures/labels/ladders-<codec>.csv`).
    #[arg(long, value_enum, num_args = 1.., default_values = ["jpegli", "mozjpeg", "heif"])]
    pub codecs: Vec<CodecArg>,
    /// Target distances (butteraugli 3-norm).
    #[arg(long, num_args = 1.., default_values_t = [1.0, 1.5, 2.295, 3.0])]
    pub distances: Vec<f64>,
    /// Deciders to run: model, teacher.
    #[arg(long, num_args = 1.., default_values = ["model", "teacher"])]
    pub deciders: Vec<String>,
    /// Also run the block search over the whole range (the first generation's search).
    #[arg(long)]
    pub with_block: bool,
    /// Also measure each output's SSIMULACRA 2 (its range per row; about 0.3 s per MP each).
    #[arg(long)]
    pub ssimulacra2: bool,
    /// Write the markdown table here too.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

struct Row {
    label: String,
    mad: f64,
    signed: f64,
    lossless: usize,
    gain_ratio: f64,
    median_candidates: f64,
    fell_back: usize,
    seconds_per_mp: f64,
    photos: usize,
}

/// `jnd-train eval-decision`.
pub fn run_eval_decision(args: EvalDecisionArgs, device: jnd_model::Accelerator) -> anyhow::Result<()> {
    let split: Split = args.split.into();
    let models = Models::on(device)?;
    let mut table = String::new();
    let _ = writeln!(
        table,
        "Quality decision against the teacher's on the {} photos, per codec and target distance \
         (butteraugli 3-norm). MAD and mean signed difference in quality steps of the search's axis, \
         against the teacher decider's choice (the block search with butteraugli's verdicts, read off \
         the ladders); lossless: outputs whose measured 3-norm is within the target; gain: 1 - bytes \
         over those of the best fixed quality that is within the target on every photo, as a fraction \
         of the teacher decider's own gain (bytes of the chosen qualities, from the ladders).\n",
        split.name()
    );
    let _ = writeln!(
        table,
        "| codec | target | decider | search | MAD | mean signed | lossless | gain vs teacher's | median candidates | fell back | s/MP |"
    );
    if args.ssimulacra2 {
        table.pop();
        let _ = writeln!(table, " SSIMULACRA 2 |");
    }
    let _ = writeln!(
        table,
        "|---|---|---|---|---|---|---|---|---|---|---|{}",
        if args.ssimulacra2 { "---|" } else { "" }
    );
    for &codec_arg in &args.codecs {
        let codec = codec_of(codec_arg);
        let path = PathBuf::from(format!("fixtures/labels/ladders-{}.csv", codec.name()));
        let ladders: Vec<Ladder> =
            read_ladders(&[path])?.into_iter().filter(|l| split_of(&l.image) == split).collect();
        if ladders.is_empty() {
            bail!("no {} ladders of {} photos", codec.name(), split.name());
        }
        let images: Vec<Image> = ladders
            .iter()
            .map(|l| -> anyhow::Result<Image> {
                let p = args.photos.join(&l.image);
                let bytes = std::fs::read(&p).with_context(|| format!("reading {}", p.display()))?;
                Ok(jndenc::decode::decode(&bytes, &jndenc::DecodeOptions::default())?.to_rgb())
            })
            .collect::<anyhow::Result<_>>()?;
        let references: Vec<ButteraugliRef> =
            images.iter().map(ButteraugliRef::new).collect::<Result<_, _>>()?;
        let mp: f64 = images.iter().map(|i| i.pixel_count() as f64 / 1e6).sum();
        let format = if codec == LadderCodec::Heif { OutputFormat::Heif } else { OutputFormat::Jpeg };
        let qualities = AutoOptions::for_format(format).qualities();
        let step = f64::from(qualities[1] - qualities[0]);
        for &tau in &args.distances {
            let target = Target::distance(tau)?;
            // The teacher decider's choice: the library's block search with the ladder's verdicts.
            let teacher: Vec<u8> = ladders
                .iter()
                .map(|l| -> anyhow::Result<u8> {
                    let outcome = jndenc::search::block_search(&qualities, 3, |q| {
                        l.rung(q).map(|r| r.butteraugli_3norm > tau).context("ladder lacks a quality")
                    })?;
                    Ok(outcome.context("no qualities")?.quality)
                })
                .collect::<anyhow::Result<_>>()?;
            let bytes_at = |l: &Ladder, q: u8| l.rung(q).map_or(0, |r| r.bytes) as f64;
            let fixed = qualities
                .iter()
                .copied()
                .find(|&q| ladders.iter().all(|l| l.rung(q).is_some_and(|r| r.butteraugli_3norm <= tau)))
                .unwrap_or(qualities[qualities.len() - 1]);
            let fixed_bytes: f64 = ladders.iter().map(|l| bytes_at(l, fixed)).sum();
            let teacher_bytes: f64 = ladders.iter().zip(&teacher).map(|(l, &q)| bytes_at(l, q)).sum();
            let teacher_gain = 1.0 - teacher_bytes / fixed_bytes;
            let mut configs: Vec<(DeciderKind, bool)> = Vec::new();
            for d in &args.deciders {
                let Some(kind) = <DeciderKind as jndenc::settings::Named>::from_name(d) else {
                    bail!("unknown decider {d:?} ({})", <DeciderKind as jndenc::settings::Named>::names())
                };
                configs.push((kind, true));
                if args.with_block {
                    configs.push((kind, false));
                }
            }
            for (decider, prior) in configs {
                let settings = Settings {
                    format: Some(format),
                    jpeg_encoder: match codec {
                        LadderCodec::Jpegli => Some(JpegEncoder::Jpegli),
                        LadderCodec::Heif => None,
                        _ => Some(JpegEncoder::MozJpeg),
                    },
                    mode: Mode::Auto {
                        target,
                        decider,
                        min_quality: None,
                        max_quality: None,
                        block: 3,
                        prior,
                    },
                    marker: false,
                    ..Settings::default()
                };
                let plan = EncodePlan::new(settings, &models)?;
                let (mut abs, mut signed, mut lossless, mut bytes, mut seconds, mut fell_back) =
                    (0.0, 0.0, 0, 0.0, 0.0, 0);
                let mut candidates = Vec::new();
                let mut s2 = (f64::INFINITY, f64::NEG_INFINITY);
                for (((image, reference), ladder), &tq) in
                    images.iter().zip(&references).zip(&ladders).zip(&teacher)
                {
                    let t = Instant::now();
                    let names = jndenc::Names { input: &ladder.image, output: "-" };
                    let encoding = plan.encode_pixels(image.clone(), names)?;
                    seconds += t.elapsed().as_secs_f64();
                    let q = encoding.report.quality;
                    let d = (f64::from(q) - f64::from(tq)) / step;
                    abs += d.abs();
                    signed += d;
                    let decoded = plan.codec().decode(&encoding.bytes)?;
                    let decoded = if decoded.color() == image.color() { decoded } else { decoded.to_rgb() };
                    lossless += usize::from(reference.compare(&decoded)?.pnorm3 <= tau);
                    if args.ssimulacra2 {
                        let v = ssimulacra2(image, &decoded)?;
                        s2 = (s2.0.min(v), s2.1.max(v));
                    }
                    bytes += bytes_at(ladder, q);
                    candidates.push(encoding.report.candidates.len());
                    fell_back += usize::from(encoding.report.search == "prior+block");
                }
                candidates.sort_unstable();
                let n = images.len();
                let median = if n % 2 == 1 {
                    candidates[n / 2] as f64
                } else {
                    (candidates[n / 2 - 1] + candidates[n / 2]) as f64 / 2.0
                };
                let gain = 1.0 - bytes / fixed_bytes;
                let row = Row {
                    label: format!(
                        "| {} | {tau} | {} | {} ",
                        codec.name(),
                        jndenc::settings::Named::name(decider),
                        if prior { "prior" } else { "block" }
                    ),
                    mad: abs / n as f64,
                    signed: signed / n as f64,
                    lossless,
                    gain_ratio: if teacher_gain.abs() > 1e-9 { gain / teacher_gain } else { f64::NAN },
                    median_candidates: median,
                    fell_back,
                    seconds_per_mp: seconds / mp,
                    photos: n,
                };
                let s2_range =
                    if args.ssimulacra2 { format!(" {:.1} to {:.1} |", s2.0, s2.1) } else { String::new() };
                let line = format!(
                    "{}| {:.2} | {:+.2} | {}/{} | {:.2} ({:.1} % of {:.1} %) | {} | {} | {:.2} |{s2_range}",
                    row.label,
                    row.mad,
                    row.signed,
                    row.lossless,
                    row.photos,
                    row.gain_ratio,
                    100.0 * gain,
                    100.0 * teacher_gain,
                    row.median_candidates,
                    row.fell_back,
                    row.seconds_per_mp
                );
                eprintln!("{line}");
                let _ = writeln!(table, "{line}");
            }
        }
    }
    print!("{table}");
    if let Some(out) = &args.out {
        write_atomic(out, &table)?;
    }
    Ok(())
}
