//! `jnd-train eval-auto`: auto mode end to end on a split of the photos, as a user runs it (the
//! library's `EncodePlan`, one codec named or the default), every output scored against its original
//! (butteraugli 3-norm and SSIMULACRA 2); and, for scale, one fixed jpegli quality for every photo,
//! the lowest whose worst photo is as good as auto mode's worst photo (interpolated in total bytes
//! between two rungs of a grid).

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use jnd_model::Image;
use jnd_model::metrics::{ButteraugliRef, ssimulacra2};
use jndenc::Models;
use jndenc::codec::{Codec, JpegOptions, Jpegli};
use jndenc::settings::Preset;
use jndenc::settings::{DeciderKind, JpegEncoder, Mode, Named};
use jndenc::target::Target;
use jndenc::{EncodePlan, Settings};
use rayon::prelude::*;
use trainer::split::{Split, split_of};

use crate::common::*;

/// Auto mode end to end against one fixed jpegli quality.
#[derive(Debug, clap::Args)]
pub struct EvalAutoArgs {
    /// Folder of the PNG photos.
    #[arg(long, default_value = "../shared/data/photos/wikipedia")]
    pub photos: PathBuf,
    /// Which photos.
    #[arg(long, value_enum, default_value_t = SplitArg::Validation)]
    pub split: SplitArg,
    /// Write the markdown table here too.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// One output scored.
#[derive(Debug, Clone, Copy)]
struct Scored {
    bytes: usize,
    quality: u8,
    three_norm: f64,
    ssimulacra2: f64,
    seconds: f64,
}

fn score(original: &Image, reference: &ButteraugliRef, bytes: &[u8]) -> anyhow::Result<(f64, f64)> {
    let decoded = jndenc::decode::decode(bytes, &jndenc::DecodeOptions::default())?;
    let decoded = if decoded.color() == original.color() { decoded } else { decoded.to_rgb() };
    Ok((reference.compare(&decoded)?.pnorm3, ssimulacra2(original, &decoded)?))
}

/// `jnd-train eval-auto`.
pub fn run_eval_auto(args: EvalAutoArgs, device: jnd_model::Accelerator) -> anyhow::Result<()> {
    let EvalAutoArgs { photos, split, out } = args;
    let split: Split = split.into();
    let files: Vec<PathBuf> = png_files(&photos)?
        .into_iter()
        .filter(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(|n| split_of(n) == split))
        .collect();
    let images: Vec<(String, Image)> = files
        .iter()
        .map(|p| -> anyhow::Result<(String, Image)> {
            let bytes = std::fs::read(p).with_context(|| format!("reading {}", p.display()))?;
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("?").to_string();
            Ok((name, jndenc::decode::decode(&bytes, &jndenc::DecodeOptions::default())?.to_rgb()))
        })
        .collect::<anyhow::Result<_>>()?;
    let references: Vec<ButteraugliRef> =
        images.iter().map(|(_, i)| ButteraugliRef::new(i)).collect::<Result<_, _>>()?;
    let models = Models::on(device)?;
    let configs: Vec<(JpegEncoder, DeciderKind, Target)> = [JpegEncoder::Jpegli, JpegEncoder::MozJpeg]
        .into_iter()
        .flat_map(|c| [DeciderKind::Model, DeciderKind::Teacher].map(move |d| (c, d)))
        .flat_map(|(c, d)| {
            [Preset::HumanFirstJnd, Preset::VisuallyLossless]
                .map(move |p| (c, d, Target::preset(p).unwrap_or_default()))
        })
        .collect();
    let started = Instant::now();
    let mut results: Vec<Vec<Scored>> = Vec::new();
    for &(codec, decider, target) in &configs {
        let settings = Settings {
            jpeg_encoder: Some(codec),
            mode: Mode::Auto { target, decider, min_quality: None, max_quality: None, block: 3, prior: true },
            ..Settings::default()
        };
        let plan = EncodePlan::new(settings, &models)?;
        let row: Vec<Scored> = images
            .iter()
            .zip(&references)
            .map(|((name, image), reference)| -> anyhow::Result<Scored> {
                let t = Instant::now();
                let encoding =
                    plan.encode_pixels(image.clone(), jndenc::Names { input: name, output: "-" })?;
                let seconds = t.elapsed().as_secs_f64();
                let (three_norm, ssim2) = score(image, reference, &encoding.bytes)?;
                Ok(Scored {
                    bytes: encoding.bytes.len(),
                    quality: encoding.report.quality,
                    three_norm,
                    ssimulacra2: ssim2,
                    seconds,
                })
            })
            .collect::<anyhow::Result<_>>()?;
        eprintln!(
            "  {} {decider:?} {}: {} bytes ({:.0} s elapsed)",
            codec.name(),
            target.name(),
            row.iter().map(|s| s.bytes).sum::<usize>(),
            started.elapsed().as_secs_f64()
        );
        results.push(row);
    }
    // One fixed jpegli quality for every photo, on a grid of its scale.
    let jpegli = Jpegli::new(JpegOptions { keep_icc: false, keep_exif: false, ..JpegOptions::default() });
    let grid: Vec<u8> = (10..=100).step_by(2).collect();
    let fixed: Vec<Vec<Scored>> = grid
        .par_iter()
        .map(|&q| -> anyhow::Result<Vec<Scored>> {
            images
                .iter()
                .zip(&references)
                .map(|((_, image), reference)| {
                    let t = Instant::now();
                    let bytes = jpegli.encode(image, q)?.bytes;
                    let seconds = t.elapsed().as_secs_f64();
                    let (three_norm, ssim2) = score(image, reference, &bytes)?;
                    Ok(Scored { bytes: bytes.len(), quality: q, three_norm, ssimulacra2: ssim2, seconds })
                })
                .collect()
        })
        .collect::<anyhow::Result<_>>()?;
    let table = render(&images, &configs, &results, &grid, &fixed, split);
    print!("{table}");
    if let Some(out) = out {
        write_atomic(&out, &table)?;
    }
    Ok(())
}

/// Total bytes of the fixed grid at the lowest quality whose worst photo reaches `good(worst)`,
/// interpolated between the bracketing grid rungs on the worst-case score; `None` if no rung does.
fn fixed_bytes_matching(
    fixed: &[Vec<Scored>],
    worst: impl Fn(&[Scored]) -> f64,
    needed: f64,
    higher_is_better: bool,
) -> Option<(f64, f64)> {
    let points: Vec<(f64, f64, u8)> = fixed
        .iter()
        .map(|row| (worst(row), row.iter().map(|s| s.bytes).sum::<usize>() as f64, row[0].quality))
        .collect();
    let reaches = |w: f64| if higher_is_better { w >= needed } else { w <= needed };
    let i = points.iter().position(|p| reaches(p.0))?;
    if i == 0 {
        return Some((points[0].1, f64::from(points[0].2)));
    }
    let (a, b) = (points[i - 1], points[i]);
    let t = ((needed - a.0) / (b.0 - a.0)).clamp(0.0, 1.0);
    Some((a.1 + t * (b.1 - a.1), f64::from(a.2) + t * f64::from(b.2 - a.2)))
}

fn render(
    images: &[(String, Image)],
    configs: &[(JpegEncoder, DeciderKind, Target)],
    results: &[Vec<Scored>],
    grid: &[u8],
    fixed: &[Vec<Scored>],
    split: Split,
) -> String {
    let mp: f64 = images.iter().map(|(_, i)| i.pixel_count() as f64 / 1e6).sum();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Auto mode end to end on the {} {} photos ({mp:.1} MP in all; every output decoded and scored \
         against its original). \"vs fixed jpegli\": total bytes over those of one jpegli quality for \
         every photo whose worst photo is as good (SSIMULACRA 2 minimum; butteraugli 3-norm maximum), \
         interpolated on a grid of jpegli qualities {}..{} step 2.\n",
        images.len(),
        split.name(),
        grid[0],
        grid[grid.len() - 1]
    );
    let _ = writeln!(
        out,
        "| codec | decider | target | total bytes | mean quality | worst SSIMULACRA 2 | worst 3-norm | outputs with 3-norm <= target | vs fixed jpegli, same worst SSIMULACRA 2 | vs fixed jpegli, same worst 3-norm | s/MP |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|---|---|---|---|---|---|");
    let min_s2 = |row: &[Scored]| row.iter().map(|s| s.ssimulacra2).fold(f64::INFINITY, f64::min);
    let max_bn = |row: &[Scored]| row.iter().map(|s| s.three_norm).fold(0.0, f64::max);
    for (&(codec, decider, target), row) in configs.iter().zip(results) {
        let total: usize = row.iter().map(|s| s.bytes).sum();
        let n = row.len() as f64;
        let within = row.iter().filter(|s| s.three_norm <= target.tau()).count();
        let vs = |m: Option<(f64, f64)>| {
            m.map_or("n/a".to_string(), |(bytes, q)| format!("{:.3} (q {q:.1})", total as f64 / bytes))
        };
        let by_s2 = fixed_bytes_matching(fixed, min_s2, min_s2(row), true);
        let by_bn = fixed_bytes_matching(fixed, max_bn, max_bn(row), false);
        let _ = writeln!(
            out,
            "| {} | {} | {} | {total} | {:.1} | {:.2} | {:.3} | {within}/{} | {} | {} | {:.2} |",
            codec.name(),
            jndenc::settings::Named::name(decider),
            target.name(),
            row.iter().map(|s| f64::from(s.quality)).sum::<f64>() / n,
            min_s2(row),
            max_bn(row),
            row.len(),
            vs(by_s2),
            vs(by_bn),
            row.iter().map(|s| s.seconds).sum::<f64>() / mp,
        );
    }
    let _ = writeln!(
        out,
        "\nFixed jpegli quality, the grid (total bytes, worst SSIMULACRA 2, worst 3-norm, encode s/MP):\n"
    );
    let _ = writeln!(
        out,
        "| jpegli quality | distance | total bytes | worst SSIMULACRA 2 | worst 3-norm | encode s/MP |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|---|");
    for row in fixed.iter().rev().step_by(2) {
        let q = row[0].quality;
        let _ = writeln!(
            out,
            "| {q} | {:.2} | {} | {:.2} | {:.3} | {:.3} |",
            jndenc::codec::jpegli::quality_to_distance(q),
            row.iter().map(|s| s.bytes).sum::<usize>(),
            min_s2(row),
            max_bn(row),
            row.iter().map(|s| s.seconds).sum::<f64>() / mp
        );
    }
    out
}
