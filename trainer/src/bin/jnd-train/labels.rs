//! Labels: JND ladders, the teacher's fit to human data, summaries and the training manifest.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use trainer::fit::{QUANTILES, fit, teacher_jnds};
use trainer::human::{MclJci, PwJnd, quantile};
use trainer::ladder::{self, Ladder, LadderCodec};
use trainer::split::{Split, split_of};
use trainer::teacher::{Aggregate, Teacher};

use crate::common::*;

/// Compute JND ladders (encode at every quality, decode, measure) for a folder of PNG photos.
#[derive(Debug, clap::Args)]
pub struct LaddersArgs {
    /// Folder of photos (`*.png`).
    #[arg(long)]
    pub photos: PathBuf,
    /// Encoding.
    #[arg(long, value_enum)]
    pub codec: CodecArg,
    /// Output CSV (written atomically).
    #[arg(long)]
    pub out: PathBuf,
    /// Cache folder for per-image ladders.
    #[arg(long, default_value = "target/jnd-cache/ladders")]
    pub cache: PathBuf,
    /// Also keep every decoded candidate here (binary PNM), for building training sets without
    /// re-encoding (HEIF encodes cost ~1 s per MP).
    #[arg(long)]
    pub keep_decoded: Option<PathBuf>,
}

/// `jnd-train ladders`.
pub fn run_ladders(args: LaddersArgs) -> anyhow::Result<()> {
    let LaddersArgs { photos, codec, out, cache, keep_decoded } = args;
    ladders(&photos, codec, &out, &cache, keep_decoded.as_deref())
}

/// Fit the human-first-jnd teacher to MCL-JCI's human distribution by quantile matching.
#[derive(Debug, clap::Args)]
pub struct FitTeacherArgs {
    /// Ladder CSV of the calibration encoding (baseline JPEG).
    #[arg(long)]
    pub ladders: PathBuf,
    /// MCL-JCI `jnd_first.csv`.
    #[arg(long)]
    pub human: PathBuf,
    /// Picture-wise JND from the subjects: mean (MCL-JCI's usual) or sur75.
    #[arg(long, value_enum, default_value_t = PwArg::Mean)]
    pub pw: PwArg,
    /// Write the fit as JSON here.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// `jnd-train fit-teacher`.
pub fn run_fit_teacher(args: FitTeacherArgs) -> anyhow::Result<()> {
    let FitTeacherArgs { ladders, human, pw, out } = args;
    fit_teacher(&ladders, &human, pw, out.as_deref())
}

/// Summaries per codec and operating point: median JND quality and the teacher's bit-rate saving.
#[derive(Debug, clap::Args)]
pub struct SummaryArgs {
    #[command(flatten)]
    pub judged: Judged,
}

/// `jnd-train summary`.
pub fn run_summary(args: SummaryArgs) -> anyhow::Result<()> {
    let SummaryArgs { judged } = args;
    summary(&judged.ladders, judged.teacher())
}

/// Codecs compared at equal quality from their ladders.
#[derive(Debug, clap::Args)]
pub struct CompareCodecsArgs {
    /// Ladder CSVs (every codec named below must be in them).
    #[arg(long, num_args = 1.., required = true)]
    pub ladders: Vec<PathBuf>,
    /// The codecs compared.
    #[arg(long, value_enum, num_args = 1.., default_values_t = [CodecArg::Jpegli])]
    pub codecs: Vec<CodecArg>,
    /// The codec the ratios are taken against.
    #[arg(long, value_enum, default_value_t = CodecArg::Mozjpeg)]
    pub reference: CodecArg,
    /// Which photos.
    #[arg(long, value_enum, default_value_t = SplitArg::Train)]
    pub split: SplitArg,
    /// Also write the table here.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// `jnd-train compare-codecs`.
pub fn run_compare_codecs(args: CompareCodecsArgs) -> anyhow::Result<()> {
    let CompareCodecsArgs { ladders, codecs, reference, split, out } = args;
    let all = read_ladders(&ladders)?;
    let codecs: Vec<LadderCodec> = codecs.into_iter().map(codec_of).collect();
    let table = trainer::codec_compare::report(&all, &codecs, codec_of(reference), split.into());
    print!("{table}");
    if let Some(out) = out {
        write_atomic(&out, &table)?;
    }
    Ok(())
}

/// Write the training manifest: (image, split, codec, quality, label, distance) per rung.
#[derive(Debug, clap::Args)]
pub struct LabelsArgs {
    #[command(flatten)]
    pub judged: Judged,
    /// Output CSV.
    #[arg(long)]
    pub out: PathBuf,
}

/// `jnd-train labels`.
pub fn run_labels(args: LabelsArgs) -> anyhow::Result<()> {
    let LabelsArgs { judged, out } = args;
    labels(&judged.ladders, judged.teacher(), &out)
}

pub fn ladders(
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
pub fn fit_teacher(
    ladders_path: &Path,
    human_path: &Path,
    pw: PwArg,
    out: Option<&Path>,
) -> anyhow::Result<()> {
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
pub fn summary(paths: &[PathBuf], human: Teacher) -> anyhow::Result<()> {
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
pub fn labels(paths: &[PathBuf], human: Teacher, out: &Path) -> anyhow::Result<()> {
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
