//! Arguments and helpers shared by several commands.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, bail};
use jnd_model::dmvjnd::DmvJnd;
use trainer::cifar::{self, CifarSet, Part};
use trainer::ladder::{self, Ladder, LadderCodec};
use trainer::teacher::{Aggregate, Teacher};

use clap::ValueEnum;

/// VP-JNDnet data: photos, ladders, teacher and kept HEIF candidates.
#[derive(Debug, Clone, clap::Args)]
pub struct VpjndData {
    /// Folder of photos.
    #[arg(long, default_value = "../shared/data/photos/wikipedia")]
    pub photos: PathBuf,
    /// Ladder CSVs (mozjpeg and HEIF).
    #[arg(long, num_args = 1.., default_values = ["fixtures/labels/ladders-mozjpeg.csv", "fixtures/labels/ladders-heif.csv"])]
    pub ladders: Vec<PathBuf>,
    /// Teacher threshold (human-first-jnd, 3-norm).
    #[arg(long, default_value_t = jnd_model::vpjnd::TRAINED_TAU)]
    pub tau: f64,
    /// Decoded HEIF candidates (`jnd-train ladders --keep-decoded`).
    #[arg(long, default_value = "target/jnd-cache/decoded")]
    pub decoded: PathBuf,
}

/// Where CIFAR-10 is.
#[derive(Debug, clap::Args)]
pub struct CifarData {
    /// CIFAR-10: the ImageFolder `.tar.gz`, its extracted folder, or a folder of binary batches.
    #[arg(long, default_value = "../shared/data/cifar10/cifar10-jpeg.tar.gz")]
    pub cifar: PathBuf,
}

/// DMV-JND weights to evaluate instead of the embedded ones.
#[derive(Debug, clap::Args)]
pub struct DmvWeights {
    /// Classifier weights (default: the embedded ones).
    #[arg(long)]
    pub classifiers: Option<PathBuf>,
    /// DMV-JND-NET weights (default: the embedded ones).
    #[arg(long)]
    pub net: Option<PathBuf>,
}

/// Ladders and the human-first-jnd operating point that judges them.
#[derive(Debug, clap::Args)]
pub struct Judged {
    /// Ladder CSVs.
    #[arg(long, num_args = 1.., required = true)]
    pub ladders: Vec<PathBuf>,
    /// tau of the human-first-jnd point (fitted: 2.295 on the 3-norm, see trainer/DATA.md).
    #[arg(long)]
    pub tau: f64,
    /// Aggregate of the human-first-jnd point.
    #[arg(long, value_enum, default_value_t = AggregateArg::ThreeNorm)]
    pub aggregate: AggregateArg,
}

impl Judged {
    pub fn teacher(&self) -> Teacher {
        Teacher { tau: self.tau, aggregate: self.aggregate.into() }
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum CodecArg {
    Mozjpeg,
    Baseline,
    Heif,
    Jpegli,
    Jpegli444,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum SplitArg {
    Train,
    Validation,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum PwArg {
    Mean,
    Sur75,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum AggregateArg {
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

impl From<SplitArg> for trainer::split::Split {
    fn from(arg: SplitArg) -> Self {
        match arg {
            SplitArg::Train => trainer::split::Split::Train,
            SplitArg::Validation => trainer::split::Split::Validation,
        }
    }
}

pub fn codec_of(arg: CodecArg) -> LadderCodec {
    match arg {
        CodecArg::Mozjpeg => LadderCodec::Mozjpeg,
        CodecArg::Baseline => LadderCodec::Baseline,
        CodecArg::Heif => LadderCodec::Heif,
        CodecArg::Jpegli => LadderCodec::Jpegli,
        CodecArg::Jpegli444 => LadderCodec::Jpegli444,
    }
}

pub fn png_files(folder: &Path) -> anyhow::Result<Vec<PathBuf>> {
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

pub fn write_atomic(path: &Path, text: &str) -> anyhow::Result<()> {
    jndenc::output::write_atomic(path, text.as_bytes(), None)
        .with_context(|| format!("writing {}", path.display()))
}

pub fn read_ladders(paths: &[PathBuf]) -> anyhow::Result<Vec<Ladder>> {
    let mut all = Vec::new();
    for path in paths {
        let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        all.extend(ladder::read_csv(&text, &path.display().to_string())?);
    }
    Ok(all)
}

pub fn fmt_q(q: &[f64]) -> String {
    q.iter().map(|v| format!("{v:6.1}")).collect::<Vec<_>>().join(" ")
}

pub fn load_cifar(path: &Path, part: Part) -> anyhow::Result<CifarSet> {
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

pub fn load_dmvjnd(
    classifiers: Option<&Path>,
    net: Option<&Path>,
    device: jnd_model::Accelerator,
) -> anyhow::Result<DmvJnd> {
    let device = jnd_model::select_device(device)?;
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
