//! `jnd-train`: data, label, training and evaluation commands. See `trainer/DATA.md`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand, ValueEnum};
use jnd_model::dmvjnd::DmvJnd;
use trainer::cifar::{self, CifarSet, Part};
use trainer::fit::{QUANTILES, fit, teacher_jnds};
use trainer::human::{MclJci, PwJnd, quantile};
use trainer::ladder::{self, Ladder, LadderCodec};
use trainer::split::{Split, split_of};
use trainer::teacher::{Aggregate, Teacher};
use trainer::vpjnd::{Dataset, TrainConfig};

/// jndenc's data, label, training and evaluation tool. Training never runs in CI.
#[derive(Debug, Parser)]
#[command(name = "jnd-train")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// List the burn backends compiled into this build.
    Devices,
    /// Compute JND ladders (encode at every quality, decode, measure) for a folder of PNG photos.
    Ladders {
        /// Folder of photos (`*.png`).
        #[arg(long)]
        photos: PathBuf,
        /// Encoding.
        #[arg(long, value_enum)]
        codec: CodecArg,
        /// Output CSV (written atomically).
        #[arg(long)]
        out: PathBuf,
        /// Cache folder for per-image ladders.
        #[arg(long, default_value = "target/jnd-cache/ladders")]
        cache: PathBuf,
        /// Also keep every decoded candidate here (binary PNM), for building training sets without
        /// re-encoding (HEIF encodes cost ~1 s per MP).
        #[arg(long)]
        keep_decoded: Option<PathBuf>,
    },
    /// Fit the human-first-jnd teacher to MCL-JCI's human distribution by quantile matching.
    FitTeacher {
        /// Ladder CSV of the calibration encoding (baseline JPEG).
        #[arg(long)]
        ladders: PathBuf,
        /// MCL-JCI `jnd_first.csv`.
        #[arg(long)]
        human: PathBuf,
        /// Picture-wise JND from the subjects: mean (MCL-JCI's usual) or sur75.
        #[arg(long, value_enum, default_value_t = PwArg::Mean)]
        pw: PwArg,
        /// Write the fit as JSON here.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Summaries per codec and operating point: median JND quality and the teacher's bit-rate saving.
    Summary {
        #[command(flatten)]
        judged: Judged,
    },
    /// Train VP-JNDnet on the training photos (validation reported each epoch; the final weights are kept).
    Vpjnd {
        #[command(flatten)]
        data: VpjndData,
        /// Output weights (burnpack).
        #[arg(long, default_value = "jnd-model/weights/vpjnd.bpk")]
        out: PathBuf,
        /// Per-epoch log (CSV).
        #[arg(long, default_value = "jnd-model/weights/vpjnd-train-log.csv")]
        log: PathBuf,
        /// Epochs.
        #[arg(long, default_value_t = 12)]
        epochs: usize,
        /// Optimiser steps per epoch.
        #[arg(long, default_value_t = 100)]
        steps: usize,
        /// Samples per step.
        #[arg(long, default_value_t = 16)]
        batch: usize,
        /// Patches drawn per sample.
        #[arg(long, default_value_t = 8)]
        patches: usize,
        /// Adam learning rate.
        #[arg(long, default_value_t = 1e-3)]
        lr: f64,
        /// Weight of the distance-regression term.
        #[arg(long, default_value_t = 0.5)]
        regression_weight: f32,
        /// Seed.
        #[arg(long, default_value_t = 7)]
        seed: u64,
        /// Device: cpu, wgpu or cuda.
        #[arg(long, default_value = "cpu")]
        device: String,
        /// Start from these weights instead of a fresh initialisation.
        #[arg(long)]
        init: Option<PathBuf>,
        /// Decay of the weights' exponential moving average used for validation and output (0: off).
        #[arg(long, default_value_t = 0.99)]
        ema: f32,
    },
    /// Train the four CIFAR-10 CAM classifiers (AlexNet-, VGG-, ResNet-, DenseNet-style) of DMV-JND.
    Classifiers {
        #[command(flatten)]
        data: CifarData,
        /// Output weights (burnpack), written after every epoch.
        #[arg(long, default_value = "jnd-model/weights/dmvjnd-classifiers.bpk")]
        out: PathBuf,
        /// Per-epoch log (CSV).
        #[arg(long, default_value = "jnd-model/weights/dmvjnd-classifiers-log.csv")]
        log: PathBuf,
        /// Passes over the training set.
        #[arg(long, default_value_t = 4)]
        epochs: usize,
        /// Images per step.
        #[arg(long, default_value_t = 64)]
        batch: usize,
        /// Peak Adam learning rate (cosine decay).
        #[arg(long, default_value_t = 3e-3)]
        lr: f64,
        /// Use every n-th training image only.
        #[arg(long, default_value_t = 1)]
        subsample: usize,
        /// Seed.
        #[arg(long, default_value_t = 11)]
        seed: u64,
        /// Device: cpu, wgpu or cuda.
        #[arg(long, default_value = "cpu")]
        device: String,
    },
    /// Train DMV-JND-NET against the frozen classifiers with the paper's loss.
    Dmvjnd {
        #[command(flatten)]
        data: CifarData,
        /// Classifier weights.
        #[arg(long, default_value = "jnd-model/weights/dmvjnd-classifiers.bpk")]
        classifiers: PathBuf,
        /// Output weights (burnpack), written after every epoch.
        #[arg(long, default_value = "jnd-model/weights/dmvjnd-net.bpk")]
        out: PathBuf,
        /// Start from these DMV-JND-NET weights instead of the zero-output initialisation (continue a
        /// run; Adam's moments start afresh).
        #[arg(long)]
        init: Option<PathBuf>,
        /// Per-epoch log (CSV).
        #[arg(long, default_value = "jnd-model/weights/dmvjnd-net-log.csv")]
        log: PathBuf,
        /// Passes over the (subsampled) training set (the paper: 200).
        #[arg(long, default_value_t = 2)]
        epochs: usize,
        /// Images per step (the paper: 50).
        #[arg(long, default_value_t = 50)]
        batch: usize,
        /// Adam learning rate (the paper: 1e-5, over 200 epochs).
        #[arg(long, default_value_t = 1e-3)]
        lr: f64,
        /// Adam weight decay (the paper: 1e-3).
        #[arg(long, default_value_t = 1e-3)]
        weight_decay: f32,
        /// Weight of the magnitude loss (the paper: 1).
        #[arg(long, default_value_t = 1.0)]
        alpha: f32,
        /// Weight of the spatial-distribution loss (the paper: 1).
        #[arg(long, default_value_t = 1.0)]
        beta: f32,
        /// Use every n-th training image only.
        #[arg(long, default_value_t = 1)]
        subsample: usize,
        /// Seed.
        #[arg(long, default_value_t = 13)]
        seed: u64,
        /// Device: cpu, wgpu or cuda.
        #[arg(long, default_value = "cpu")]
        device: String,
    },
    /// Reproduce the DMV-JND paper's experiments (RCA, PSNR, WGN control, homogeneous property).
    EvalDmvjnd {
        #[command(flatten)]
        data: CifarData,
        /// Classifier weights (default: the embedded ones).
        #[arg(long)]
        classifiers: Option<PathBuf>,
        /// DMV-JND-NET weights (default: the embedded ones).
        #[arg(long)]
        net: Option<PathBuf>,
        /// Evaluate every n-th training image (the test set is always evaluated whole).
        #[arg(long, default_value_t = 5)]
        train_subsample: usize,
        /// Which sets to evaluate (the two can run as separate processes and their tables be joined).
        #[arg(long, value_delimiter = ',', default_values = ["test", "train"])]
        sets: Vec<String>,
        /// Write the table (Markdown) here.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Rate against RCA on CIFAR-10 test images: uniform JPEG, DMV-JND and pixel-JND per-block quantisation.
    EvalMachineCoding {
        #[command(flatten)]
        data: CifarData,
        /// Classifier weights (default: the embedded ones).
        #[arg(long)]
        classifiers: Option<PathBuf>,
        /// DMV-JND-NET weights (default: the embedded ones).
        #[arg(long)]
        net: Option<PathBuf>,
        /// Evaluate every n-th test image.
        #[arg(long, default_value_t = 5)]
        subsample: usize,
        /// Base qualities of the sweep.
        #[arg(long, value_delimiter = ',', default_values_t = [5u8, 10, 15, 20, 30, 40, 50, 60, 65, 70, 75, 80, 85, 90, 95])]
        qualities: Vec<u8>,
        /// Move every image this many pixels right and down (edges repeated) before coding, taking the
        /// JPEG copies' 8x8 grid off the encoder's (0..=7; 0: the images as stored).
        #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u8).range(0..=7))]
        grid_shift: u8,
        /// Strengths of the DMV-JND map: each base quality is coded with the map times each factor.
        #[arg(long, value_delimiter = ',', default_values_t = [0.0625f32, 0.125, 0.25, 0.5, 1.0])]
        dmv_scales: Vec<f32>,
        /// Strengths of the pixel-wise JND map.
        #[arg(long, value_delimiter = ',', default_values_t = [1.0f32, 2.0])]
        pixel_scales: Vec<f32>,
        /// Markdown table output.
        #[arg(long, default_value = "jnd-model/weights/dmvjnd-machine-coding.md")]
        out: PathBuf,
        /// SVG plot output.
        #[arg(long, default_value = "jnd-model/weights/dmvjnd-machine-coding.svg")]
        svg: PathBuf,
    },
    /// Evaluate VP-JNDnet on the validation photos: pair metrics and the block search against the teacher.
    EvalVpjnd {
        #[command(flatten)]
        data: VpjndData,
        /// Weights to evaluate (default: the embedded ones).
        #[arg(long)]
        weights: Option<PathBuf>,
        /// Decision margin in ln units (default: the embedded model's).
        #[arg(long)]
        margin: Option<f64>,
        /// Block size of the search.
        #[arg(long, default_value_t = 3)]
        block: usize,
        /// Threshold to judge at, butteraugli 3-norm (2.295 = human-first-jnd, 1.0 = strict).
        #[arg(long)]
        judge_tau: Option<f64>,
        /// Photos to evaluate: validation (report these) or train (to choose the margin on).
        #[arg(long, value_enum, default_value_t = SplitArg::Validation)]
        split: SplitArg,
        /// Write the metrics table (Markdown) here.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Write the training manifest: (image, split, codec, quality, label, distance) per rung.
    Labels {
        #[command(flatten)]
        judged: Judged,
        /// Output CSV.
        #[arg(long)]
        out: PathBuf,
    },
}

/// VP-JNDnet data: photos, ladders, teacher and kept HEIF candidates.
#[derive(Debug, Clone, clap::Args)]
struct VpjndData {
    /// Folder of photos.
    #[arg(long, default_value = "../shared/data/photos/wikipedia")]
    photos: PathBuf,
    /// Ladder CSVs (mozjpeg and HEIF).
    #[arg(long, num_args = 1.., default_values = ["fixtures/labels/ladders-mozjpeg.csv", "fixtures/labels/ladders-heif.csv"])]
    ladders: Vec<PathBuf>,
    /// Teacher threshold (human-first-jnd, 3-norm).
    #[arg(long, default_value_t = jnd_model::vpjnd::TRAINED_TAU)]
    tau: f64,
    /// Decoded HEIF candidates (`jnd-train ladders --keep-decoded`).
    #[arg(long, default_value = "target/jnd-cache/decoded")]
    decoded: PathBuf,
}

/// Where CIFAR-10 is.
#[derive(Debug, clap::Args)]
struct CifarData {
    /// CIFAR-10: the ImageFolder `.tar.gz`, its extracted folder, or a folder of binary batches.
    #[arg(long, default_value = "../shared/data/cifar10/cifar10-jpeg.tar.gz")]
    cifar: PathBuf,
}

/// Ladders and the human-first-jnd operating point that judges them.
#[derive(Debug, clap::Args)]
struct Judged {
    /// Ladder CSVs.
    #[arg(long, num_args = 1.., required = true)]
    ladders: Vec<PathBuf>,
    /// tau of the human-first-jnd point (fitted: 2.295 on the 3-norm, see trainer/DATA.md).
    #[arg(long)]
    tau: f64,
    /// Aggregate of the human-first-jnd point.
    #[arg(long, value_enum, default_value_t = AggregateArg::ThreeNorm)]
    aggregate: AggregateArg,
}

impl Judged {
    fn teacher(&self) -> Teacher {
        Teacher { tau: self.tau, aggregate: self.aggregate.into() }
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum CodecArg {
    Mozjpeg,
    Baseline,
    Heif,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum SplitArg {
    Train,
    Validation,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum PwArg {
    Mean,
    Sur75,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum AggregateArg {
    MaxNorm,
    ThreeNorm,
}

impl From<AggregateArg> for Aggregate {
    fn from(a: AggregateArg) -> Self {
        match a {
            AggregateArg::MaxNorm => Aggregate::MaxNorm,
            AggregateArg::ThreeNorm => Aggregate::ThreeNorm,
        }
    }
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("jnd-train: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Devices => {
            for (name, acc) in [
                ("cpu (flex)", jnd_model::Accelerator::Cpu),
                ("wgpu", jnd_model::Accelerator::Wgpu),
                ("cuda", jnd_model::Accelerator::Cuda),
            ] {
                match jnd_model::select_device(acc) {
                    Ok(device) => {
                        // Prove the device computes: a 256x256 matmul checked against its known sum.
                        let started = Instant::now();
                        let result = std::panic::catch_unwind(|| jnd_model::device::smoke_test(&device));
                        match result {
                            Ok(Ok(())) => println!(
                                "{name}: available and computing ({device:?}, smoke test {:.1} ms)",
                                started.elapsed().as_secs_f64() * 1e3
                            ),
                            Ok(Err(e)) => println!("{name}: compiled in, but the smoke test failed: {e}"),
                            Err(_) => {
                                println!("{name}: compiled in, but no usable adapter (the backend panicked)")
                            }
                        }
                    }
                    Err(e) => println!("{name}: {e}"),
                }
            }
            Ok(())
        }
        Command::Ladders { photos, codec, out, cache, keep_decoded } => {
            ladders(&photos, codec, &out, &cache, keep_decoded.as_deref())
        }
        Command::FitTeacher { ladders, human, pw, out } => fit_teacher(&ladders, &human, pw, out.as_deref()),
        Command::Summary { judged } => summary(&judged.ladders, judged.teacher()),
        Command::Vpjnd {
            data,
            out,
            log,
            epochs,
            steps,
            batch,
            patches,
            lr,
            regression_weight,
            seed,
            device,
            init,
            ema,
        } => {
            let init = match init {
                Some(path) => {
                    Some(std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?)
                }
                None => None,
            };
            let config = TrainConfig {
                init,
                ema_decay: ema,
                epochs,
                steps_per_epoch: steps,
                batch,
                patches_per_sample: patches,
                learning_rate: lr,
                regression_weight,
                seed,
                tau: data.tau,
            };
            train_vpjnd(&data, &config, &device, &out, &log)
        }
        Command::EvalVpjnd { data, weights, margin, block, judge_tau, split, out } => {
            let split = match split {
                SplitArg::Train => Split::Train,
                SplitArg::Validation => Split::Validation,
            };
            eval_vpjnd(&data, weights.as_deref(), margin, block, judge_tau, split, out.as_deref())
        }
        Command::Classifiers { data, out, log, epochs, batch, lr, subsample, seed, device } => {
            let config =
                trainer::dmvjnd::ClassifierConfig { epochs, batch, learning_rate: lr, seed, subsample };
            train_classifiers(&data.cifar, &config, &device, &out, &log)
        }
        Command::Dmvjnd {
            data,
            classifiers,
            out,
            init,
            log,
            epochs,
            batch,
            lr,
            weight_decay,
            alpha,
            beta,
            subsample,
            seed,
            device,
        } => {
            let config = trainer::dmvjnd::DmvConfig {
                epochs,
                batch,
                learning_rate: lr,
                weight_decay,
                magnitude_weight: alpha,
                spatial_weight: beta,
                seed,
                subsample,
            };
            train_dmvjnd(&data.cifar, &classifiers, &config, init.as_deref(), &device, &out, &log)
        }
        Command::EvalDmvjnd { data, classifiers, net, train_subsample, sets, out } => eval_dmvjnd(
            &data.cifar,
            classifiers.as_deref(),
            net.as_deref(),
            train_subsample,
            &sets,
            out.as_deref(),
        ),
        Command::EvalMachineCoding {
            data,
            classifiers,
            net,
            subsample,
            qualities,
            grid_shift,
            dmv_scales,
            pixel_scales,
            out,
            svg,
        } => eval_machine_coding(
            &data.cifar,
            classifiers.as_deref(),
            net.as_deref(),
            TestImages { every: subsample.max(1), grid_shift: usize::from(grid_shift) },
            &trainer::machine_coding::SweepPlan { qualities, dmv_scales, pixel_scales },
            &out,
            &svg,
        ),
        Command::Labels { judged, out } => labels(&judged.ladders, judged.teacher(), &out),
    }
}

fn codec_of(arg: CodecArg) -> LadderCodec {
    match arg {
        CodecArg::Mozjpeg => LadderCodec::Mozjpeg,
        CodecArg::Baseline => LadderCodec::Baseline,
        CodecArg::Heif => LadderCodec::Heif,
    }
}

fn png_files(folder: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(folder)
        .with_context(|| format!("reading {}", folder.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x.eq_ignore_ascii_case("png")))
        .collect();
    files.sort();
    if files.is_empty() {
        bail!("no PNG files in {}", folder.display());
    }
    Ok(files)
}

fn write_atomic(path: &Path, text: &str) -> anyhow::Result<()> {
    jndenc::output::write_atomic(path, text.as_bytes(), None)
        .with_context(|| format!("writing {}", path.display()))
}

fn ladders(
    photos: &Path,
    codec: CodecArg,
    out: &Path,
    cache: &Path,
    keep_decoded: Option<&Path>,
) -> anyhow::Result<()> {
    let codec = codec_of(codec);
    let files = png_files(photos)?;
    let started = Instant::now();
    let mut all = Vec::with_capacity(files.len());
    for (i, path) in files.iter().enumerate() {
        let t = Instant::now();
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        let image = jndenc::decode::decode(&bytes, &jndenc::DecodeOptions::default())
            .with_context(|| format!("decoding {}", path.display()))?;
        let ladder = ladder::compute_cached(&name, &image, codec, cache, keep_decoded)
            .with_context(|| format!("ladder of {name}"))?;
        eprintln!(
            "[{}/{}] {name} {}: {} rungs in {:.1} s (total {:.0} s)",
            i + 1,
            files.len(),
            codec.name(),
            ladder.rungs.len(),
            t.elapsed().as_secs_f64(),
            started.elapsed().as_secs_f64()
        );
        all.push(ladder);
    }
    write_atomic(out, &ladder::to_csv(&all))?;
    eprintln!("wrote {} ladders to {}", all.len(), out.display());
    Ok(())
}

fn read_ladders(paths: &[PathBuf]) -> anyhow::Result<Vec<Ladder>> {
    let mut all = Vec::new();
    for path in paths {
        let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        all.extend(ladder::read_csv(&text, &path.display().to_string())?);
    }
    Ok(all)
}

fn fmt_q(q: &[f64]) -> String {
    q.iter().map(|v| format!("{v:6.1}")).collect::<Vec<_>>().join(" ")
}

fn fit_teacher(ladders_path: &Path, human_path: &Path, pw: PwArg, out: Option<&Path>) -> anyhow::Result<()> {
    let all = read_ladders(&[ladders_path.to_path_buf()])?;
    let train: Vec<Ladder> = all.into_iter().filter(|l| split_of(&l.image) == Split::Train).collect();
    let text =
        std::fs::read_to_string(human_path).with_context(|| format!("reading {}", human_path.display()))?;
    let mcl = MclJci::parse(&text, &human_path.display().to_string())?;
    let how = match pw {
        PwArg::Mean => PwJnd::Mean,
        PwArg::Sur75 => PwJnd::Sur(0.75),
    };
    let human: Vec<f64> = mcl.picture_jnd(how).into_iter().map(|(_, v)| v).collect();
    let mut report = String::new();
    let _ = writeln!(
        report,
        "human ({} MCL-JCI images, {:?}) vs teacher on {} training photos ({})",
        human.len(),
        how,
        train.len(),
        train.first().map_or("?", |l| l.codec.name())
    );
    let _ = writeln!(
        report,
        "quantiles            {}",
        QUANTILES.map(|q| format!("{:>5.0}%", q * 100.0)).join(" ")
    );
    let _ = writeln!(report, "human                {}", fmt_q(&QUANTILES.map(|p| quantile(&human, p))));
    let mut fits = Vec::new();
    for (aggregate, grid) in
        [(Aggregate::MaxNorm, (0.5, 12.0, 0.01)), (Aggregate::ThreeNorm, (0.2, 6.0, 0.005))]
    {
        let f = fit(&train, &human, aggregate, grid)?;
        let _ = writeln!(
            report,
            "teacher {:9} tau {:5.3}: {}   loss {:.1}",
            aggregate.name(),
            f.teacher.tau,
            fmt_q(&f.fitted),
            f.loss
        );
        for factor in [0.8, 0.9, 1.1, 1.2] {
            let t = Teacher { tau: f.teacher.tau * factor, aggregate };
            let v = teacher_jnds(&t, &train);
            let _ = writeln!(
                report,
                "    tau x {factor:.1} = {:5.3}:   {}",
                t.tau,
                fmt_q(&QUANTILES.map(|p| quantile(&v, p)))
            );
        }
        fits.push(f);
    }
    let best = fits.iter().min_by(|a, b| a.loss.total_cmp(&b.loss)).context("no fit")?;
    let _ = writeln!(
        report,
        "chosen: {} tau {:.3} (lower loss)",
        best.teacher.aggregate.name(),
        best.teacher.tau
    );
    print!("{report}");
    if let Some(out) = out {
        let json = serde_json::json!({
            "operating_point": "human-first-jnd",
            "aggregate": best.teacher.aggregate.name(),
            "tau": (best.teacher.tau * 1000.0).round() / 1000.0,
            "loss": best.loss,
            "human_quantiles": best.human,
            "teacher_quantiles": best.fitted,
            "quantiles": QUANTILES,
            "pw_jnd": format!("{how:?}"),
            "calibration_ladders": ladders_path.display().to_string(),
            "photos": train.len(),
        });
        write_atomic(out, &serde_json::to_string_pretty(&json)?)?;
    }
    Ok(())
}

fn summary(paths: &[PathBuf], human: Teacher) -> anyhow::Result<()> {
    let all = read_ladders(paths)?;
    println!(
        "| codec | operating point | photos | median JND quality | median chosen quality | mean saving vs top quality | lowest fixed quality lossless on all | saving vs that fixed quality (batch bytes) | never lossless |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    for codec in LadderCodec::ALL {
        let of_codec: Vec<&Ladder> = all.iter().filter(|l| l.codec == codec).collect();
        if of_codec.is_empty() {
            continue;
        }
        for (name, teacher) in [("human-first-jnd", human), ("strict", Teacher::STRICT)] {
            let jnds: Vec<f64> = of_codec.iter().map(|l| teacher.jnd_value(l)).collect();
            let mut chosen = Vec::new();
            let mut savings = Vec::new();
            let mut never = 0;
            for l in &of_codec {
                match (teacher.chosen(l), l.rungs.last()) {
                    (Some(c), Some(top)) => {
                        chosen.push(f64::from(c.quality));
                        savings.push(1.0 - c.bytes as f64 / top.bytes as f64);
                    }
                    _ => never += 1,
                }
            }
            // The per-image gain: against the lowest single quality at which every photo that can be
            // lossless is (reference.md, "How to judge a JND predictor honestly").
            let fixed = chosen.iter().copied().fold(0.0f64, f64::max) as u8;
            let (mut adaptive_bytes, mut fixed_bytes) = (0usize, 0usize);
            for l in &of_codec {
                if let (Some(c), Some(f)) = (teacher.chosen(l), l.rungs.iter().find(|r| r.quality >= fixed)) {
                    adaptive_bytes += c.bytes;
                    fixed_bytes += f.bytes;
                }
            }
            println!(
                "| {} | {name} ({} {:.3}) | {} | {:.1} | {:.1} | {:.1} % | {fixed} | {:.1} % | {never} |",
                codec.name(),
                teacher.aggregate.name(),
                teacher.tau,
                of_codec.len(),
                quantile(&jnds, 0.5),
                quantile(&chosen, 0.5),
                100.0 * savings.iter().sum::<f64>() / savings.len().max(1) as f64,
                100.0 * (1.0 - adaptive_bytes as f64 / fixed_bytes.max(1) as f64),
            );
        }
    }
    Ok(())
}

fn labels(paths: &[PathBuf], human: Teacher, out: &Path) -> anyhow::Result<()> {
    let all = read_ladders(paths)?;
    let mut csv = String::from(
        "image,split,codec,quality,label_human_first_jnd,label_strict,butteraugli,butteraugli_3norm\n",
    );
    for l in &all {
        for r in &l.rungs {
            let _ = writeln!(
                csv,
                "{},{},{},{},{},{},{:.5},{:.5}",
                l.image,
                split_of(&l.image).name(),
                l.codec.name(),
                r.quality,
                u8::from(human.label(l, r.quality)),
                u8::from(Teacher::STRICT.label(l, r.quality)),
                r.butteraugli,
                r.butteraugli_3norm
            );
        }
    }
    write_atomic(out, &csv)?;
    eprintln!("wrote {} rows to {}", csv.lines().count() - 1, out.display());
    Ok(())
}

fn vpjnd_dataset(data: &VpjndData, only: Option<Split>) -> anyhow::Result<(Vec<Ladder>, Dataset)> {
    let mut ladders = read_ladders(&data.ladders)?;
    if let Some(split) = only {
        ladders.retain(|l| split_of(&l.image) == split);
    }
    let teacher = Teacher { tau: data.tau, aggregate: Aggregate::ThreeNorm };
    let started = Instant::now();
    eprintln!("building samples from {} ladders ...", ladders.len());
    let dataset = Dataset::build(&data.photos, &ladders, &teacher, &data.decoded)?;
    eprintln!(
        "{} photos, {} samples ({} visible) in {:.0} s",
        dataset.photos.len(),
        dataset.samples.len(),
        dataset.samples.iter().filter(|s| s.visible).count(),
        started.elapsed().as_secs_f64()
    );
    Ok((ladders, dataset))
}

fn metrics_line(codec: LadderCodec, m: &trainer::vpjnd::PairMetrics) -> String {
    format!(
        "{}: acc {:.1} % bal {:.1} % precision {:.1} % (TL {} FL {} FV {} TV {})",
        codec.name(),
        100.0 * m.accuracy(),
        100.0 * m.balanced_accuracy(),
        100.0 * m.precision(),
        m.true_lossless,
        m.false_lossless,
        m.false_visible,
        m.true_visible
    )
}

fn train_vpjnd(
    data: &VpjndData,
    config: &TrainConfig,
    device: &str,
    out: &Path,
    log: &Path,
) -> anyhow::Result<()> {
    let accelerator =
        jnd_model::Accelerator::from_name(device).with_context(|| format!("unknown device {device}"))?;
    let device = jnd_model::select_device(accelerator)?;
    let (_, dataset) = vpjnd_dataset(data, None)?;
    let mut log_text = String::from("epoch,seconds,loss,codec,accuracy,balanced_accuracy,precision\n");
    eprintln!(
        "training: {} epochs x {} steps x {} samples x {} patches, lr {}, regression weight {}, seed {}, tau {}, init {}, EMA {}",
        config.epochs,
        config.steps_per_epoch,
        config.batch,
        config.patches_per_sample,
        config.learning_rate,
        config.regression_weight,
        config.seed,
        config.tau,
        if config.init.is_some() { "given weights" } else { "fresh" },
        config.ema_decay
    );
    let model = trainer::vpjnd::train(&dataset, config, &device, |epoch, current| {
        eprintln!("epoch {} ({:.0} s): loss {:.4}", epoch.epoch, epoch.seconds, epoch.loss);
        for (codec, m) in &epoch.validation {
            eprintln!("  validation {}", metrics_line(*codec, m));
            let _ = writeln!(
                log_text,
                "{},{:.0},{:.5},{},{:.4},{:.4},{:.4}",
                epoch.epoch,
                epoch.seconds,
                epoch.loss,
                codec.name(),
                m.accuracy(),
                m.balanced_accuracy(),
                m.precision()
            );
        }
        let checkpoint = out.with_extension(format!("epoch{}.bpk", epoch.epoch));
        std::fs::write(&checkpoint, current.to_bytes()?)
            .map_err(|e| trainer::Error::Io { path: checkpoint.display().to_string(), source: e })?;
        Ok(())
    })?;
    jndenc::output::write_atomic(out, &model.to_bytes()?, None)
        .with_context(|| format!("writing {}", out.display()))?;
    write_atomic(log, &log_text)?;
    // Precision against margin on the training photos: where to put the decision.
    let scores = trainer::vpjnd::score_samples(&model, &dataset, Split::Train)?;
    eprintln!("training photos, precision by margin:");
    for margin in [0.0, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5] {
        let per = trainer::vpjnd::pair_metrics(&dataset, &scores, config.tau, Some(margin));
        let line: Vec<String> = per.iter().map(|(c, m)| metrics_line(*c, m)).collect();
        eprintln!("  margin {margin:.2}: {}", line.join(" | "));
    }
    eprintln!("wrote {} and {}", out.display(), log.display());
    Ok(())
}

fn eval_vpjnd(
    data: &VpjndData,
    weights: Option<&Path>,
    margin: Option<f64>,
    block: usize,
    judge_tau: Option<f64>,
    split: Split,
    out: Option<&Path>,
) -> anyhow::Result<()> {
    let device = jnd_model::select_device(jnd_model::Accelerator::Cpu)?;
    let model = match weights {
        Some(path) => {
            let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
            jnd_model::vpjnd::VpJnd::from_bytes(&bytes, &device)?
        }
        None => jnd_model::vpjnd::VpJnd::embedded(&device)?,
    };
    let tau = judge_tau.unwrap_or(data.tau);
    let (ladders, dataset) = vpjnd_dataset(&VpjndData { tau, ..data.clone() }, Some(split))?;
    let mut table = format!(
        "Photos: {}. Teacher: butteraugli 3-norm, tau {tau}; decision margin {}; block {block}.\n\n\
         | split | codec | pairs | pair accuracy | balanced | precision (lossless) |\n|---|---|---|---|---|---|\n",
        split.name(),
        margin.map_or("the model's per codec".to_string(), |m| m.to_string())
    );
    {
        let scores = trainer::vpjnd::score_samples(&model, &dataset, split)?;
        for (codec, m) in trainer::vpjnd::pair_metrics(&dataset, &scores, tau, margin) {
            let pairs = m.true_lossless + m.false_lossless + m.false_visible + m.true_visible;
            let _ = writeln!(
                table,
                "| {} | {} | {pairs} | {:.1} % | {:.1} % | {:.1} % |",
                split.name(),
                codec.name(),
                100.0 * m.accuracy(),
                100.0 * m.balanced_accuracy(),
                100.0 * m.precision()
            );
        }
    }
    let teacher = Teacher { tau, aggregate: Aggregate::ThreeNorm };
    let rows = trainer::vpjnd::search_eval(
        &model,
        &data.photos,
        &ladders,
        &teacher,
        &data.decoded,
        split,
        margin,
        block,
    )?;
    table.push_str(
        "\nBlock search on these photos:\n\n\
         | codec | photos | MAD vs teacher (quality steps) | teacher-lossless | mean saving vs top quality | teacher's own saving | probes/photo |\n\
         |---|---|---|---|---|---|---|\n",
    );
    for codec in [LadderCodec::Mozjpeg, LadderCodec::Baseline, LadderCodec::Heif] {
        let of: Vec<_> = rows.iter().filter(|r| r.codec == codec).collect();
        if of.is_empty() {
            continue;
        }
        let n = of.len() as f64;
        let mad = of
            .iter()
            .map(|r| (f64::from(r.chosen) - f64::from(r.teacher_chosen.unwrap_or(100))).abs())
            .sum::<f64>()
            / n;
        let lossless = of.iter().filter(|r| r.lossless).count() as f64 / n;
        let saving = of.iter().map(|r| 1.0 - r.bytes as f64 / r.top_bytes as f64).sum::<f64>() / n;
        let teacher_saving = ladders
            .iter()
            .filter(|l| l.codec == codec && split_of(&l.image) == split)
            .filter_map(|l| {
                let top = l.rungs.last()?;
                Some(1.0 - teacher.chosen(l).unwrap_or(top).bytes as f64 / top.bytes as f64)
            })
            .sum::<f64>()
            / n;
        let probes = of.iter().map(|r| r.probes).sum::<usize>() as f64 / n;
        let _ = writeln!(
            table,
            "| {} | {} | {mad:.2} | {:.0} % | {:.1} % | {:.1} % | {probes:.1} |",
            codec.name(),
            of.len(),
            100.0 * lossless,
            100.0 * saving,
            100.0 * teacher_saving
        );
    }
    println!("{table}");
    if let Some(out) = out {
        write_atomic(out, &table)?;
    }
    Ok(())
}

fn device_named(name: &str) -> anyhow::Result<burn::tensor::Device> {
    let accelerator =
        jnd_model::Accelerator::from_name(name).with_context(|| format!("unknown device {name}"))?;
    Ok(jnd_model::select_device(accelerator)?)
}

fn load_cifar(path: &Path, part: Part) -> anyhow::Result<CifarSet> {
    let started = Instant::now();
    let set = cifar::load(path, part).with_context(|| format!("loading CIFAR-10 from {}", path.display()))?;
    eprintln!(
        "{part:?}: {} images from {} in {:.1} s",
        set.len(),
        path.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(set)
}

fn train_classifiers(
    data: &Path,
    config: &trainer::dmvjnd::ClassifierConfig,
    device: &str,
    out: &Path,
    log: &Path,
) -> anyhow::Result<()> {
    let device = device_named(device)?;
    let train = load_cifar(data, Part::Train)?;
    let test = load_cifar(data, Part::Test)?;
    eprintln!(
        "training 4 classifiers: {} epochs, batch {}, lr {}, every {} image(s), seed {}",
        config.epochs, config.batch, config.learning_rate, config.subsample, config.seed
    );
    let mut log_text = String::from("epoch,seconds,loss,alexnet,vgg,resnet,densenet\n");
    trainer::dmvjnd::train_classifiers(&train, &test, config, &device, |epoch, current| {
        let a = epoch.test_accuracy;
        eprintln!(
            "epoch {} ({:.0} s): loss {:.4}, test accuracy alexnet {:.2} % vgg {:.2} % resnet {:.2} % densenet {:.2} %",
            epoch.epoch,
            epoch.seconds,
            epoch.loss,
            a[0] * 100.0,
            a[1] * 100.0,
            a[2] * 100.0,
            a[3] * 100.0
        );
        let _ = writeln!(
            log_text,
            "{},{:.0},{:.5},{:.4},{:.4},{:.4},{:.4}",
            epoch.epoch, epoch.seconds, epoch.loss, a[0], a[1], a[2], a[3]
        );
        let model = DmvJnd::from_parts(current.clone(), jnd_model::dmvjnd::DmvJndNet::new(&device), &device);
        jndenc::output::write_atomic(out, &model.classifiers_to_bytes()?, None)?;
        jndenc::output::write_atomic(log, log_text.as_bytes(), None)?;
        Ok(())
    })?;
    eprintln!("wrote {} and {}", out.display(), log.display());
    Ok(())
}

fn train_dmvjnd(
    data: &Path,
    classifiers: &Path,
    config: &trainer::dmvjnd::DmvConfig,
    init: Option<&Path>,
    device: &str,
    out: &Path,
    log: &Path,
) -> anyhow::Result<()> {
    let device = device_named(device)?;
    let init = init
        .map(|path| std::fs::read(path).with_context(|| format!("reading {}", path.display())))
        .transpose()?;
    let classifier_bytes =
        std::fs::read(classifiers).with_context(|| format!("reading {}", classifiers.display()))?;
    let train = load_cifar(data, Part::Train)?;
    eprintln!(
        "training DMV-JND-NET: {} epochs, batch {}, lr {}, weight decay {}, alpha {}, beta {}, every {} image(s), seed {}",
        config.epochs,
        config.batch,
        config.learning_rate,
        config.weight_decay,
        config.magnitude_weight,
        config.spatial_weight,
        config.subsample,
        config.seed
    );
    let mut log_text =
        String::from("epoch,seconds,loss,cross_entropy,magnitude,spatial,train_rca,mean_jnd\n");
    if let Some(bytes) = &init {
        eprintln!("continuing from {} bytes of DMV-JND-NET weights", bytes.len());
    }
    trainer::dmvjnd::train_dmvjnd(
        &train,
        &classifier_bytes,
        config,
        init.as_deref(),
        &device,
        |epoch, current| {
            eprintln!(
                "epoch {} ({:.0} s): loss {:.4} (CE {:.4}, magnitude {:.4}, spatial {:.4}), running RCA {:.2} %, mean |JND| {:.3}",
                epoch.epoch,
                epoch.seconds,
                epoch.loss,
                epoch.cross_entropy,
                epoch.magnitude,
                epoch.spatial,
                epoch.rca * 100.0,
                epoch.mean_jnd
            );
            let _ = writeln!(
                log_text,
                "{},{:.0},{:.5},{:.5},{:.5},{:.5},{:.4},{:.4}",
                epoch.epoch,
                epoch.seconds,
                epoch.loss,
                epoch.cross_entropy,
                epoch.magnitude,
                epoch.spatial,
                epoch.rca,
                epoch.mean_jnd
            );
            jndenc::output::write_atomic(out, &current.net_to_bytes()?, None)?;
            jndenc::output::write_atomic(log, log_text.as_bytes(), None)?;
            Ok(())
        },
    )?;
    eprintln!("wrote {} and {}", out.display(), log.display());
    Ok(())
}

fn eval_dmvjnd(
    data: &Path,
    classifiers: Option<&Path>,
    net: Option<&Path>,
    train_subsample: usize,
    sets: &[String],
    out: Option<&Path>,
) -> anyhow::Result<()> {
    let model = load_dmvjnd(classifiers, net)?;
    let mut table = String::from(
        "| set | images | accuracy (A/V/R/D) | RCA (A/V/R/D) | RCA mean | PSNR dB | WGN RCA mean | WGN PSNR dB |\n|---|---|---|---|---|---|---|---|\n",
    );
    let mut homogeneous =
        String::from("| set | k=1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 |\n|---|---|---|---|---|---|---|---|---|\n");
    for (name, part, step) in [("test", Part::Test, 1), ("train", Part::Train, train_subsample.max(1))] {
        if !sets.iter().any(|s| s == name) {
            continue;
        }
        let set = load_cifar(data, part)?.every(0, step);
        let started = Instant::now();
        let e = trainer::dmvjnd::evaluate(&model, &set, 29)?;
        eprintln!("{name}: evaluated {} images in {:.0} s", e.images, started.elapsed().as_secs_f64());
        let pct =
            |v: &[f64; 4]| v.iter().map(|x| format!("{:.2}", x * 100.0)).collect::<Vec<_>>().join(" / ");
        let _ = writeln!(
            table,
            "| {name}{} | {} | {} | {} | {:.2} % | {:.2} | {:.2} % | {:.2} |",
            if step > 1 { format!(" (every {step}th)") } else { String::new() },
            e.images,
            pct(&e.accuracy),
            pct(&e.rca),
            trainer::dmvjnd::mean4(&e.rca) * 100.0,
            e.psnr,
            trainer::dmvjnd::mean4(&e.wgn_rca) * 100.0,
            e.wgn_psnr
        );
        let cells: Vec<String> = e.homogeneous.iter().map(|(_, r)| format!("{:.2} %", r * 100.0)).collect();
        let _ = writeln!(homogeneous, "| {name} | {} |", cells.join(" | "));
    }
    let text = format!(
        "DMV-JND reproduction (`jnd-train eval-dmvjnd`). RCA: distorted images classified as the originals were, by the same classifier; accuracy: originals against CIFAR-10's labels. PSNR: 8-bit, per image, averaged. WGN: white Gaussian noise with each image's DMV-JND energy.\n\n{table}\nHomogeneous property: mean RCA with the DMV-JND scaled by k/9.\n\n{homogeneous}"
    );
    print!("{text}");
    if let Some(out) = out {
        write_atomic(out, &text)?;
    }
    Ok(())
}

fn load_dmvjnd(classifiers: Option<&Path>, net: Option<&Path>) -> anyhow::Result<DmvJnd> {
    let device = device_named("cpu")?;
    let read = |path: &Path| std::fs::read(path).with_context(|| format!("reading {}", path.display()));
    let c = match classifiers {
        Some(p) => read(p)?,
        None => jnd_model::dmvjnd::EMBEDDED_CLASSIFIERS.to_vec(),
    };
    let n = match net {
        Some(p) => read(p)?,
        None => jnd_model::dmvjnd::EMBEDDED_NET.to_vec(),
    };
    Ok(DmvJnd::from_bytes(&c, &n, &device)?)
}

/// Which CIFAR-10 test images `eval-machine-coding` codes, and how they are moved.
struct TestImages {
    /// Every n-th test image.
    every: usize,
    /// Pixels the content moves right and down.
    grid_shift: usize,
}

fn eval_machine_coding(
    data: &Path,
    classifiers: Option<&Path>,
    net: Option<&Path>,
    images: TestImages,
    plan: &trainer::machine_coding::SweepPlan,
    out: &Path,
    svg: &Path,
) -> anyhow::Result<()> {
    use trainer::machine_coding::{self, RatePoint};
    if plan.dmv_scales.iter().chain(&plan.pixel_scales).any(|s| !s.is_finite() || *s <= 0.0) {
        anyhow::bail!("map scales must be positive");
    }
    let model = load_dmvjnd(classifiers, net)?;
    let TestImages { every, grid_shift } = images;
    let set = load_cifar(data, Part::Test)?.every(0, every).shifted(grid_shift);
    let started = Instant::now();
    let result = machine_coding::sweep(&model, &set, plan, |p: &RatePoint| {
        eprintln!(
            "q{:>3} {:<20} x{:<8} {:.3} bpp (scan), RCA {:.2} %, accuracy {:.2} %, PSNR {:.2} dB ({:.0} s)",
            p.quality,
            p.method.name(),
            p.map_scale,
            p.bpp,
            p.mean_rca() * 100.0,
            p.mean_accuracy() * 100.0,
            p.psnr,
            started.elapsed().as_secs_f64()
        );
    })?;
    let text = format!(
        "Machine-vision coding on the CIFAR-10 test set (every {}th image: {} images, 32x32, stored by CIFAR's distributors as JPEG q75{}). \
Each image is encoded by the same coefficient path (4:2:0, Annex K base tables at the base quality, optimised Huffman, baseline) with a zero map (uniform), the DMV-JND map times a strength factor (`map x`: {:?}) or the pixel-wise JND map (Wu 2017) times {:?}, decoded, and classified by the four embedded classifiers. RCA: decisions equal to the classifier's own decisions on the uncompressed image; accuracy: decisions equal to CIFAR-10's label. bpp: bits of entropy-coded data per pixel (headers and tables excluded; whole-file bpp alongside). Command: `jnd-train eval-machine-coding` ({:.0} s on this run's machine).\n\n{}",
        every,
        set.len(),
        if grid_shift == 0 {
            String::new()
        } else {
            format!(
                "; every image moved {grid_shift} px right and down, edges repeated, so the q75 block grid no longer lines up with the encoder's"
            )
        },
        plan.dmv_scales,
        plan.pixel_scales,
        started.elapsed().as_secs_f64(),
        machine_coding::table(&result, &[0.80, 0.85, 0.90, 0.95, 0.98, 0.99])
    );
    print!("{text}");
    write_atomic(out, &text)?;
    write_atomic(svg, &machine_coding::svg(&result.points))?;
    eprintln!("wrote {} and {}", out.display(), svg.display());
    Ok(())
}
