//! DMV-JND: the four CAM classifiers, DMV-JND-NET, and the paper's experiments.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use jnd_model::Accelerator;
use jnd_model::dmvjnd::DmvJnd;
use trainer::cifar::Part;

use crate::common::*;

/// Train the four CIFAR-10 CAM classifiers (AlexNet-, VGG-, ResNet-, DenseNet-style) of DMV-JND.
#[derive(Debug, clap::Args)]
pub struct ClassifiersArgs {
    #[command(flatten)]
    pub data: CifarData,
    /// Output weights (burnpack), written after every epoch; the optimiser's state goes beside it
    /// (`.optim.bpk`) so `--resume` can continue.
    #[arg(long, default_value = "jnd-model/weights/dmvjnd-classifiers.bpk")]
    pub out: PathBuf,
    /// Per-epoch log (CSV).
    #[arg(long, default_value = "jnd-model/weights/dmvjnd-classifiers-log.csv")]
    pub log: PathBuf,
    /// Passes over the training set (the length of the learning-rate schedule).
    #[arg(long, default_value_t = 40)]
    pub epochs: usize,
    /// Images per step.
    #[arg(long, default_value_t = 128)]
    pub batch: usize,
    /// Peak AdamW learning rate (warm-up over the first epoch, cosine decay to 2 %).
    #[arg(long, default_value_t = 2e-3)]
    pub lr: f64,
    /// AdamW's decoupled weight decay.
    #[arg(long, default_value_t = 5e-2)]
    pub weight_decay: f32,
    /// Label smoothing (0: none).
    #[arg(long, default_value_t = 0.1)]
    pub label_smoothing: f32,
    /// Largest shift of the random-crop augmentation, in pixels.
    #[arg(long, default_value_t = 4)]
    pub max_shift: usize,
    /// Use every n-th training image only.
    #[arg(long, default_value_t = 1)]
    pub subsample: usize,
    /// Seed.
    #[arg(long, default_value_t = 11)]
    pub seed: u64,
    /// Stop after this many minutes of this run: after the first epoch the schedule is shortened to
    /// the epochs that fit, so the last one is annealed (for time-boxed GPU leases and CPU chunks).
    #[arg(long, value_name = "MINUTES", conflicts_with = "stop_after")]
    pub deadline: Option<f64>,
    /// Stop before an epoch that would end after this many minutes, keeping the schedule: one chunk
    /// of a longer CPU run, continued by `--resume`.
    #[arg(long, value_name = "MINUTES")]
    pub stop_after: Option<f64>,
    /// Continue from `--out` and its optimiser state, after the last epoch in `--log`, with the
    /// same schedule.
    #[arg(long)]
    pub resume: bool,
    /// Test on every n-th test image only (the log then says so).
    #[arg(long, default_value_t = 1)]
    pub test_subsample: usize,
}

/// `jnd-train classifiers`.
pub fn run_classifiers(args: ClassifiersArgs, device: Accelerator) -> anyhow::Result<()> {
    let config = trainer::dmvjnd::ClassifierConfig {
        epochs: args.epochs,
        batch: args.batch,
        learning_rate: args.lr,
        weight_decay: args.weight_decay,
        label_smoothing: args.label_smoothing,
        max_shift: args.max_shift,
        seed: args.seed,
        subsample: args.subsample,
        deadline: args.deadline.map(|minutes| minutes * 60.0),
        stop_after: args.stop_after.map(|minutes| minutes * 60.0),
        test_subsample: args.test_subsample,
    };
    train_classifiers(&args.data.cifar, &config, device, &args.out, &args.log, args.resume)
}

/// Train DMV-JND-NET against the frozen classifiers with the paper's loss.
#[derive(Debug, clap::Args)]
pub struct DmvjndArgs {
    #[command(flatten)]
    pub data: CifarData,
    /// Classifier weights.
    #[arg(long, default_value = "jnd-model/weights/dmvjnd-classifiers.bpk")]
    pub classifiers: PathBuf,
    /// Output weights (burnpack), written after every epoch.
    #[arg(long, default_value = "jnd-model/weights/dmvjnd-net.bpk")]
    pub out: PathBuf,
    /// Start from these DMV-JND-NET weights instead of the zero-output initialisation (continue a
    /// run; Adam's moments start afresh).
    #[arg(long)]
    pub init: Option<PathBuf>,
    /// Per-epoch log (CSV).
    #[arg(long, default_value = "jnd-model/weights/dmvjnd-net-log.csv")]
    pub log: PathBuf,
    /// Passes over the (subsampled) training set (the paper: 200).
    #[arg(long, default_value_t = 2)]
    pub epochs: usize,
    /// Images per step (the paper: 50).
    #[arg(long, default_value_t = 50)]
    pub batch: usize,
    /// Adam learning rate (the paper: 1e-5, over 200 epochs).
    #[arg(long, default_value_t = 1e-3)]
    pub lr: f64,
    /// Adam weight decay (the paper: 1e-3).
    #[arg(long, default_value_t = 1e-3)]
    pub weight_decay: f32,
    /// Weight of the magnitude loss (the paper: 1).
    #[arg(long, default_value_t = 1.0)]
    pub alpha: f32,
    /// Weight of the spatial-distribution loss (the paper: 1).
    #[arg(long, default_value_t = 1.0)]
    pub beta: f32,
    /// Use every n-th training image only.
    #[arg(long, default_value_t = 1)]
    pub subsample: usize,
    /// Seed.
    #[arg(long, default_value_t = 13)]
    pub seed: u64,
    /// Stop before an epoch that would end after this many minutes of the run.
    #[arg(long, value_name = "MINUTES")]
    pub deadline: Option<f64>,
}

/// `jnd-train dmvjnd`.
pub fn run_dmvjnd(args: DmvjndArgs, device: Accelerator) -> anyhow::Result<()> {
    let DmvjndArgs {
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
        deadline,
    } = args;
    let config = trainer::dmvjnd::DmvConfig {
        epochs,
        batch,
        learning_rate: lr,
        weight_decay,
        magnitude_weight: alpha,
        spatial_weight: beta,
        seed,
        subsample,
        deadline: deadline.map(|minutes| minutes * 60.0),
    };
    train_dmvjnd(&data.cifar, &classifiers, &config, init.as_deref(), device, &out, &log)
}

/// Reproduce the DMV-JND paper's experiments (RCA, PSNR, WGN control, homogeneous property).
#[derive(Debug, clap::Args)]
pub struct EvalDmvjndArgs {
    #[command(flatten)]
    pub data: CifarData,
    #[command(flatten)]
    pub weights: DmvWeights,
    /// Evaluate every n-th training image (the test set is always evaluated whole).
    #[arg(long, default_value_t = 5)]
    pub train_subsample: usize,
    /// Which sets to evaluate (the two can run as separate processes and their tables be joined).
    #[arg(long, value_delimiter = ',', default_values = ["test", "train"])]
    pub sets: Vec<String>,
    /// Write the table (Markdown) here.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// `jnd-train eval-dmvjnd`.
pub fn run_eval_dmvjnd(args: EvalDmvjndArgs, device: Accelerator) -> anyhow::Result<()> {
    let EvalDmvjndArgs { data, weights: DmvWeights { classifiers, net }, train_subsample, sets, out } = args;
    eval_dmvjnd(
        &data.cifar,
        classifiers.as_deref(),
        net.as_deref(),
        train_subsample,
        &sets,
        out.as_deref(),
        device,
    )
}

/// Where the optimiser state of a classifier checkpoint at `out` is kept.
fn optimizer_path(out: &Path) -> PathBuf {
    out.with_extension("optim.bpk")
}

const CLASSIFIER_LOG_HEADER: &str = "epoch,epochs,seconds,lr,loss,alexnet,vgg,resnet,densenet";

/// The last (epoch, schedule length) in a classifier log, and the log's text, for `--resume`.
fn resume_point(log: &Path) -> anyhow::Result<(usize, usize, String)> {
    let text =
        std::fs::read_to_string(log).with_context(|| format!("--resume: reading {}", log.display()))?;
    if text.lines().next() != Some(CLASSIFIER_LOG_HEADER) {
        anyhow::bail!("--resume: {} is not a classifier log of this version", log.display());
    }
    let last = text.lines().skip(1).filter(|l| !l.trim().is_empty()).last();
    let Some(last) = last else { anyhow::bail!("--resume: {} has no completed epoch", log.display()) };
    let mut fields = last.split(',');
    let mut number = || -> anyhow::Result<usize> {
        fields
            .next()
            .and_then(|f| f.parse().ok())
            .with_context(|| format!("--resume: bad line in {}: {last}", log.display()))
    };
    let (epoch, epochs) = (number()?, number()?);
    Ok((epoch, epochs, text))
}

pub fn train_classifiers(
    data: &Path,
    config: &trainer::dmvjnd::ClassifierConfig,
    device: Accelerator,
    out: &Path,
    log: &Path,
    resume: bool,
) -> anyhow::Result<()> {
    let device = jnd_model::select_device(device)?;
    for path in [out, log] {
        if let Some(folder) = path.parent().filter(|f| !f.as_os_str().is_empty()) {
            std::fs::create_dir_all(folder).with_context(|| format!("creating {}", folder.display()))?;
        }
    }
    let (start, mut log_text) = if resume {
        let (epochs_done, epochs, text) = resume_point(log)?;
        let weights = std::fs::read(out).with_context(|| format!("--resume: reading {}", out.display()))?;
        let optimizer = Some(optimizer_path(out)).filter(|p| p.exists());
        if optimizer.is_none() {
            eprintln!("warning: no optimiser state beside {}; AdamW's moments start afresh", out.display());
        }
        eprintln!("resuming after epoch {epochs_done} of {epochs}");
        let start = trainer::dmvjnd::ClassifierStart { weights, optimizer, epochs_done, epochs };
        (Some(start), text)
    } else {
        (None, format!("{CLASSIFIER_LOG_HEADER}\n"))
    };
    let train = load_cifar(data, Part::Train)?;
    let test = load_cifar(data, Part::Test)?;
    eprintln!(
        "training 4 classifiers: {} epochs, batch {}, lr {}, weight decay {}, label smoothing {}, shifts ±{} px, every {} image(s), seed {}{}",
        config.epochs,
        config.batch,
        config.learning_rate,
        config.weight_decay,
        config.label_smoothing,
        config.max_shift,
        config.subsample,
        config.seed,
        config.deadline.map(|s| format!(", deadline {:.1} min", s / 60.0)).unwrap_or_default()
    );
    trainer::dmvjnd::train_classifiers(&train, &test, config, &device, start, |epoch, current, optim| {
        let a = epoch.test_accuracy;
        eprintln!(
            "epoch {}/{} ({:.0} s, lr {:.2e}): loss {:.4}, test accuracy alexnet {:.2} % vgg {:.2} % resnet {:.2} % densenet {:.2} %",
            epoch.epoch,
            epoch.epochs,
            epoch.seconds,
            epoch.learning_rate,
            epoch.loss,
            a[0] * 100.0,
            a[1] * 100.0,
            a[2] * 100.0,
            a[3] * 100.0
        );
        let _ = writeln!(
            log_text,
            "{},{},{:.0},{:.3e},{:.5},{:.4},{:.4},{:.4},{:.4}",
            epoch.epoch, epoch.epochs, epoch.seconds, epoch.learning_rate, epoch.loss, a[0], a[1], a[2], a[3]
        );
        let model = DmvJnd::from_parts(current.clone(), jnd_model::dmvjnd::DmvJndNet::new(&device), &device);
        jndenc::output::write_atomic(out, &model.classifiers_to_bytes()?, None)?;
        let optim_bytes = optim
            .into_bytes()
            .map_err(|e| jnd_model::Error::Model(format!("serialising the optimiser state: {e}")))?;
        jndenc::output::write_atomic(&optimizer_path(out), &optim_bytes, None)?;
        jndenc::output::write_atomic(log, log_text.as_bytes(), None)?;
        Ok(())
    })?;
    eprintln!("wrote {} and {}", out.display(), log.display());
    Ok(())
}

pub fn train_dmvjnd(
    data: &Path,
    classifiers: &Path,
    config: &trainer::dmvjnd::DmvConfig,
    init: Option<&Path>,
    device: Accelerator,
    out: &Path,
    log: &Path,
) -> anyhow::Result<()> {
    let device = jnd_model::select_device(device)?;
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
pub fn eval_dmvjnd(
    data: &Path,
    classifiers: Option<&Path>,
    net: Option<&Path>,
    train_subsample: usize,
    sets: &[String],
    out: Option<&Path>,
    device: Accelerator,
) -> anyhow::Result<()> {
    let model = load_dmvjnd(classifiers, net, device)?;
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
