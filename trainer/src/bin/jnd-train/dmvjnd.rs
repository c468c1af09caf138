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
    /// Output weights (burnpack), written after every epoch.
    #[arg(long, default_value = "jnd-model/weights/dmvjnd-classifiers.bpk")]
    pub out: PathBuf,
    /// Per-epoch log (CSV).
    #[arg(long, default_value = "jnd-model/weights/dmvjnd-classifiers-log.csv")]
    pub log: PathBuf,
    /// Passes over the training set.
    #[arg(long, default_value_t = 4)]
    pub epochs: usize,
    /// Images per step.
    #[arg(long, default_value_t = 64)]
    pub batch: usize,
    /// Peak Adam learning rate (cosine decay).
    #[arg(long, default_value_t = 3e-3)]
    pub lr: f64,
    /// Use every n-th training image only.
    #[arg(long, default_value_t = 1)]
    pub subsample: usize,
    /// Seed.
    #[arg(long, default_value_t = 11)]
    pub seed: u64,
}

/// `jnd-train classifiers`.
pub fn run_classifiers(args: ClassifiersArgs, device: Accelerator) -> anyhow::Result<()> {
    let ClassifiersArgs { data, out, log, epochs, batch, lr, subsample, seed } = args;
    let config = trainer::dmvjnd::ClassifierConfig { epochs, batch, learning_rate: lr, seed, subsample };
    train_classifiers(&data.cifar, &config, device, &out, &log)
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

pub fn train_classifiers(
    data: &Path,
    config: &trainer::dmvjnd::ClassifierConfig,
    device: Accelerator,
    out: &Path,
    log: &Path,
) -> anyhow::Result<()> {
    let device = jnd_model::select_device(device)?;
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
