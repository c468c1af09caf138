//! `jnd-train gpu-check`: the learned models on every backend this build can run here, compared with
//! the CPU (the largest difference of VP-JND judge scores and of DMV-JND maps on the fixtures) and
//! timed (judging candidates one by one and a block of three at once, the DMV-JND map, and a training
//! step of each model). Prints a Markdown table; sized to finish in a few minutes on a GPU machine
//! (`scripts/gpu-check.sh`).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use burn::tensor::Device;
use jnd_model::dmvjnd::{DmvJnd, EMBEDDED_CLASSIFIERS};
use jnd_model::vpjnd::{self, VpJnd};
use jnd_model::{Accelerator, ColorType, Image};
use jndenc::codec::Codec;
use rayon::prelude::*;
use trainer::cifar::{CifarSet, decode_planar};
use trainer::split::Split;

/// Compare and time the models on every backend compiled in and usable here.
#[derive(Debug, clap::Args)]
pub struct GpuCheckArgs {
    /// The repository's fixtures folder (photo.png and cifar/).
    #[arg(long, default_value = "fixtures")]
    pub fixtures: PathBuf,
    /// The fixture photo is tiled to about this many megapixels for the judge and the map.
    #[arg(long, default_value_t = 1.0)]
    pub megapixels: f64,
    /// Candidates (jpegli, qualities spread over 30..95) judged per backend.
    #[arg(long, default_value_t = 9)]
    pub candidates: usize,
    /// Timed training steps per model (after one warm-up epoch of as many).
    #[arg(long, default_value_t = 4)]
    pub steps: usize,
    /// Batch of the training steps.
    #[arg(long, default_value_t = 16)]
    pub batch: usize,
    /// Also write the table here.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// What one backend gave and took.
struct Run {
    accelerator: Accelerator,
    scores: Vec<f32>,
    map: Vec<f32>,
    judge_one: f64,
    judge_block: f64,
    map_seconds: f64,
    train_vpjnd: f64,
    train_classifiers: f64,
    train_dmvjnd: f64,
}

/// `jnd-train gpu-check`.
pub fn run_gpu_check(args: GpuCheckArgs) -> anyhow::Result<()> {
    let GpuCheckArgs { fixtures, megapixels, candidates, steps, batch, out } = args;
    let photo = tiled(&fixtures.join("photo.png"), megapixels)?;
    let cifar = cifar_fixtures(&fixtures.join("cifar"))?;
    let codec = jndenc::codec::Jpegli::new(jndenc::codec::JpegOptions::default());
    let qualities: Vec<u8> =
        (0..candidates.max(1)).map(|i| (30 + 65 * i / candidates.saturating_sub(1).max(1)) as u8).collect();
    let decoded: Vec<Image> = qualities
        .iter()
        .map(|&q| -> anyhow::Result<Image> { Ok(codec.decode(&codec.encode(&photo, q)?.bytes)?) })
        .collect::<anyhow::Result<_>>()?;
    let mp = f64::from(photo.width()) * f64::from(photo.height()) / 1e6;
    eprintln!(
        "picture {}x{} ({mp:.2} MP), {} candidates (jpegli q{:?}), {} CIFAR-10 fixtures",
        photo.width(),
        photo.height(),
        decoded.len(),
        qualities,
        cifar.len()
    );
    let mut runs = Vec::new();
    let mut skipped = Vec::new();
    for accelerator in Accelerator::ALL {
        match jnd_model::select_device(accelerator) {
            Ok(device) => {
                eprintln!("{accelerator}: running");
                let run = measure(accelerator, &device, &photo, &decoded, &cifar, steps.max(1), batch.max(1))
                    .with_context(|| format!("on {accelerator}"))?;
                runs.push(run);
            }
            Err(e) => skipped.push(format!("{accelerator}: not run ({e})")),
        }
    }
    let table = render(&runs, &skipped, mp, steps.max(1), batch.max(1));
    print!("{table}");
    if let Some(path) = out {
        jndenc::output::write_atomic(&path, table.as_bytes(), None)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

fn measure(
    accelerator: Accelerator,
    device: &Device,
    photo: &Image,
    candidates: &[Image],
    cifar: &CifarSet,
    steps: usize,
    batch: usize,
) -> anyhow::Result<Run> {
    let judge = VpJnd::embedded(device)?;
    let prepared = judge.prepare(photo)?;
    // A warm-up judgement: kernels compile on first use.
    judge.judge(&prepared, &candidates[0])?;
    let started = Instant::now();
    let scores: Vec<f32> =
        candidates.iter().map(|c| Ok(judge.judge(&prepared, c)?.score)).collect::<anyhow::Result<_>>()?;
    let judge_one = started.elapsed().as_secs_f64() / candidates.len() as f64;
    // A block of three at once, as the block search judges (one thread each).
    let started = Instant::now();
    let mut judged = 0;
    for block in candidates.chunks(3) {
        block.par_iter().map(|c| judge.judge(&prepared, c).map(|_| ())).collect::<Result<Vec<()>, _>>()?;
        judged += block.len();
    }
    let judge_block = started.elapsed().as_secs_f64() / judged as f64;

    let dmv = DmvJnd::embedded(device)?;
    dmv.machine_jnd_map(photo)?;
    let started = Instant::now();
    let map = dmv.machine_jnd_map(photo)?.values().to_vec();
    let map_seconds = started.elapsed().as_secs_f64();

    let train_vpjnd = vpjnd_step(device, photo, candidates, steps, batch)?;
    let train_classifiers = classifier_step(device, cifar, steps, batch)?;
    let train_dmvjnd = dmvjnd_step(device, cifar, steps, batch)?;
    Ok(Run {
        accelerator,
        scores,
        map,
        judge_one,
        judge_block,
        map_seconds,
        train_vpjnd,
        train_classifiers,
        train_dmvjnd,
    })
}

/// Seconds per VP-JNDnet training step: two epochs of `steps`, the second timed (the first compiles
/// kernels). The samples are the fixture's candidates with made-up labels: this times, it does not train.
fn vpjnd_step(
    device: &Device,
    photo: &Image,
    candidates: &[Image],
    steps: usize,
    batch: usize,
) -> anyhow::Result<f64> {
    let positions = vpjnd::patch_positions(photo.width(), photo.height());
    let map = vpjnd::PIXEL_JND_MODEL.compute(photo);
    let dataset = trainer::vpjnd::Dataset {
        photos: vec![trainer::vpjnd::Photo {
            name: "fixture".into(),
            split: Split::Train,
            original: vpjnd::rgb_patches(photo, &positions),
            jnd: vpjnd::jnd_patches(&map, &positions),
            patches: positions.len(),
        }],
        samples: candidates
            .iter()
            .enumerate()
            .map(|(i, c)| trainer::vpjnd::Sample {
                photo: 0,
                codec: trainer::ladder::LadderCodec::Jpegli,
                quality: 0,
                distance: 0.5 + 0.5 * i as f64,
                visible: i % 2 == 1,
                candidate: vpjnd::rgb_patches(c, &positions),
            })
            .collect(),
    };
    let config = trainer::vpjnd::TrainConfig {
        epochs: 2,
        steps_per_epoch: steps,
        batch,
        patches_per_sample: 8,
        learning_rate: 1e-3,
        regression_weight: 0.5,
        seed: 7,
        tau: 2.295,
        init: None,
        ema_decay: 0.0,
    };
    let mut marks = Vec::new();
    trainer::vpjnd::train(&dataset, &config, device, |epoch, _| {
        marks.push(epoch.seconds);
        Ok(())
    })?;
    Ok(second_epoch(&marks) / steps as f64)
}

/// Seconds per step of the four CIFAR-10 classifiers (one step trains all four).
fn classifier_step(device: &Device, cifar: &CifarSet, steps: usize, batch: usize) -> anyhow::Result<f64> {
    let train = repeated(cifar, steps * batch);
    let config = trainer::dmvjnd::ClassifierConfig {
        epochs: 2,
        batch,
        learning_rate: 1e-3,
        seed: 7,
        ..Default::default()
    };
    let mut marks = Vec::new();
    trainer::dmvjnd::train_classifiers(&train, cifar, &config, device, None, |epoch, _, _| {
        marks.push(epoch.seconds);
        Ok(())
    })?;
    Ok(second_epoch(&marks) / steps as f64)
}

/// Seconds per DMV-JND-NET step against the embedded classifiers.
fn dmvjnd_step(device: &Device, cifar: &CifarSet, steps: usize, batch: usize) -> anyhow::Result<f64> {
    let train = repeated(cifar, steps * batch);
    let config = trainer::dmvjnd::DmvConfig {
        epochs: 2,
        batch,
        learning_rate: 1e-5,
        weight_decay: 1e-3,
        magnitude_weight: 1.0,
        spatial_weight: 1.0,
        seed: 7,
        subsample: 1,
        deadline: None,
    };
    let mut marks = Vec::new();
    trainer::dmvjnd::train_dmvjnd(&train, EMBEDDED_CLASSIFIERS, &config, None, device, |epoch, _| {
        marks.push(epoch.seconds);
        Ok(())
    })?;
    Ok(second_epoch(&marks) / steps as f64)
}

/// The second epoch's length from cumulative end-of-epoch times.
fn second_epoch(marks: &[f64]) -> f64 {
    match marks {
        [first, second, ..] => second - first,
        [only] => *only,
        [] => f64::NAN,
    }
}

fn repeated(set: &CifarSet, n: usize) -> CifarSet {
    let mut out = CifarSet::default();
    for i in 0..n {
        let k = i % set.len().max(1);
        out.images.extend_from_slice(set.image(k));
        out.labels.push(set.labels[k]);
    }
    out
}

/// The fixture photo repeated (mirrored tiles, so edges match) to about `megapixels`.
fn tiled(path: &Path, megapixels: f64) -> anyhow::Result<Image> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let image = jndenc::decode::decode(&bytes, &jndenc::DecodeOptions::default())?.to_rgb();
    let (w, h) = (image.width() as usize, image.height() as usize);
    let scale = (megapixels * 1e6 / (w * h) as f64).sqrt().ceil().max(1.0) as usize;
    let (tw, th) = (w * scale, h * scale);
    let src = image.pixels();
    let mut pixels = Vec::with_capacity(tw * th * 3);
    for y in 0..th {
        let (ty, sy) = (y / h, y % h);
        let sy = if ty % 2 == 1 { h - 1 - sy } else { sy };
        for x in 0..tw {
            let (tx, sx) = (x / w, x % w);
            let sx = if tx % 2 == 1 { w - 1 - sx } else { sx };
            pixels.extend_from_slice(&src[(sy * w + sx) * 3..(sy * w + sx) * 3 + 3]);
        }
    }
    Ok(Image::new(tw as u32, th as u32, ColorType::Rgb, pixels)?)
}

fn cifar_fixtures(dir: &Path) -> anyhow::Result<CifarSet> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "jpg"))
        .collect();
    paths.sort();
    let mut set = CifarSet::default();
    for (i, path) in paths.iter().enumerate() {
        let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        set.images.extend(decode_planar(&bytes, &path.display().to_string())?);
        set.labels.push((i / 2 % 10) as u8);
    }
    anyhow::ensure!(!set.is_empty(), "no CIFAR-10 fixtures (*.jpg) in {}", dir.display());
    Ok(set)
}

fn max_difference(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

fn render(runs: &[Run], skipped: &[String], mp: f64, steps: usize, batch: usize) -> String {
    let mut t = String::new();
    let cpu = runs.iter().find(|r| r.accelerator == Accelerator::Cpu);
    let _ = writeln!(
        t,
        "| backend | judge score max diff vs cpu | DMV-JND map max diff vs cpu | judge, one at a time: candidates/s (MP/s) | judge, block of 3: candidates/s (MP/s) | DMV-JND map MP/s | train step VP-JNDnet ms | train step 4 classifiers ms | train step DMV-JND-NET ms |"
    );
    let _ = writeln!(t, "|---|---|---|---|---|---|---|---|---|");
    for run in runs {
        let (score_diff, map_diff) = match cpu {
            Some(c) if c.accelerator != run.accelerator => (
                format!("{:.2e}", max_difference(&run.scores, &c.scores)),
                format!("{:.2e}", max_difference(&run.map, &c.map)),
            ),
            _ => ("(reference)".into(), "(reference)".into()),
        };
        let _ = writeln!(
            t,
            "| {} | {score_diff} | {map_diff} | {:.2} ({:.2}) | {:.2} ({:.2}) | {:.2} | {:.0} | {:.0} | {:.0} |",
            run.accelerator,
            1.0 / run.judge_one,
            mp / run.judge_one,
            1.0 / run.judge_block,
            mp / run.judge_block,
            mp / run.map_seconds,
            run.train_vpjnd * 1e3,
            run.train_classifiers * 1e3,
            run.train_dmvjnd * 1e3,
        );
    }
    for line in skipped {
        let _ = writeln!(t, "\n{line}");
    }
    let _ = writeln!(
        t,
        "\nPicture: fixtures/photo.png tiled to {mp:.2} MP; scores are VP-JND's ln(d / tau) on jpegli candidates; \
         maps in RGB code values. Training steps: batch {batch}, mean of {steps} steps after a warm-up epoch."
    );
    t
}
