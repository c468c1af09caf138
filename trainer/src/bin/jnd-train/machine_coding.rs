//! Machine-vision coding: the machine quantisation tables, and rate against classifier agreement on
//! CIFAR-10.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;

use trainer::cifar::Part;

use crate::common::*;

/// The RCA levels of the report.
const RCA_LEVELS: [f64; 6] = [0.80, 0.85, 0.90, 0.95, 0.98, 0.99];

/// Rate against RCA on CIFAR-10 test images for the four machine codings: standard table, machine
/// table, and either with DMV-JND per-block quantisation.
#[derive(Debug, clap::Args)]
pub struct EvalMachineCodingArgs {
    #[command(flatten)]
    pub data: CifarData,
    #[command(flatten)]
    pub weights: DmvWeights,
    /// Evaluate every n-th test image (5: 2,000 images).
    #[arg(long, alias = "subsample", default_value_t = 5)]
    pub every: usize,
    /// Code training images instead of test images (for choosing settings without touching the test
    /// set; the reported numbers are on test images).
    #[arg(long)]
    pub train_images: bool,
    /// Base qualities of the sweep.
    #[arg(long, value_delimiter = ',', default_values_t = [10u8, 20, 30, 40, 50, 60, 70, 75, 80, 85, 90, 92, 94, 96, 98, 100])]
    pub qualities: Vec<u8>,
    /// Move every image this many pixels right and down (edges repeated) before coding, taking the
    /// JPEG copies' 8x8 grid off the encoder's (0..=7). The headline is off the grid (4): on the
    /// stored grid (0) a uniform q75 encode gets the stored coefficients back for free.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u8).range(0..=7))]
    pub grid_shift: u8,
    /// Strengths of the DMV-JND map: each base quality is coded with the map times each factor.
    #[arg(long, value_delimiter = ',', default_values_t = [0.125f32, 0.25, 0.5])]
    pub dmv_scales: Vec<f32>,
    /// Machine tables to evaluate (a cjpeg -qtables file) instead of the embedded ones.
    #[arg(long)]
    pub tables: Option<PathBuf>,
    /// Code the machine-table methods at 4:4:4 (the standard table stays at cjpeg's 4:2:0).
    #[arg(long)]
    pub machine_full_chroma: bool,
    /// machine-rd without the DMV-JND map's bound on each block (machine-default never has one), to
    /// measure what the bound does.
    #[arg(long)]
    pub rd_unbounded: bool,
    /// machine-default as `jndenc --target machine --map-strength F`: the DMV-JND map times F bounds
    /// each block (0: no bound, the default).
    #[arg(long, default_value_t = 0.0)]
    pub default_map_strength: f32,
    /// The methods to run besides the standard table (always run: every saving is against it).
    #[arg(long, value_enum, value_delimiter = ',', default_values_t = [MethodArg::MachineTable, MethodArg::MachineDefault, MethodArg::MachineDmv, MethodArg::StandardDmv])]
    pub methods: Vec<MethodArg>,
    /// Lagrange multipliers of `machine-rd`: the squared change of the classifiers' objective a bit is worth.
    /// Default: 3e-5,1e-4,3e-4,1e-3,3e-3. Refused without `machine-rd` in `--methods`.
    #[arg(long, value_delimiter = ',')]
    pub rd_lambdas: Option<Vec<f32>>,
    /// What `machine-rd` weighs blocks by: the gradient of the classifiers' cross-entropy, or of their
    /// top-two logit margin relative to its value (a flip risk).
    /// Default: margin. Refused without `machine-rd` in `--methods`.
    #[arg(long, value_enum)]
    pub rd_objective: Option<ObjectiveArg>,
    /// Markdown table output.
    #[arg(long, default_value = "jnd-model/weights/machine-coding.md")]
    pub out: PathBuf,
    /// SVG plot output.
    #[arg(long, default_value = "jnd-model/weights/machine-coding.svg")]
    pub svg: PathBuf,
    /// JSON records output (one per method and level).
    #[arg(long, default_value = "jnd-model/weights/machine-coding.json")]
    pub json: PathBuf,
}

/// A method of `eval-machine-coding` on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum MethodArg {
    /// The standard tables (always run).
    Standard,
    /// The machine tables.
    MachineTable,
    /// The machine tables with the DMV-JND map's per-block quantisation.
    MachineDmv,
    /// The standard tables with the DMV-JND map's per-block quantisation.
    StandardDmv,
    /// The machine tables with per-block choices by rate and the classifiers' sensitivity.
    MachineRd,
    /// What `jndenc --target machine -quality Q` writes (machine-rd with the relative margin at the
    /// encoder's multiplier for Q).
    MachineDefault,
}

impl MethodArg {
    fn method(self) -> trainer::machine_coding::Method {
        use trainer::machine_coding::Method;
        match self {
            Self::Standard => Method::Standard,
            Self::MachineTable => Method::MachineTable,
            Self::MachineDmv => Method::MachineTableDmv,
            Self::StandardDmv => Method::StandardDmv,
            Self::MachineRd => Method::MachineTableRd,
            Self::MachineDefault => Method::MachineDefault,
        }
    }
}

/// What `machine-rd` differentiates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ObjectiveArg {
    /// The summed cross-entropy against the classifiers' own decisions.
    CrossEntropy,
    /// The summed top-two logit margins, each relative to its value on the original.
    Margin,
}

/// `jnd-train eval-machine-coding`.
pub fn run_eval_machine_coding(
    args: EvalMachineCodingArgs,
    device: jnd_model::Accelerator,
) -> anyhow::Result<()> {
    use trainer::machine_coding::{self, RatePoint, SweepPlan};
    let EvalMachineCodingArgs {
        data,
        weights: DmvWeights { classifiers, net },
        every,
        train_images,
        qualities,
        grid_shift,
        dmv_scales,
        tables,
        machine_full_chroma,
        rd_unbounded,
        default_map_strength,
        methods,
        rd_lambdas,
        rd_objective,
        out,
        svg,
        json,
    } = args;
    if !methods.contains(&MethodArg::MachineRd) && (rd_lambdas.is_some() || rd_objective.is_some()) {
        anyhow::bail!("--rd-lambdas and --rd-objective need machine-rd in --methods");
    }
    let rd_lambdas = rd_lambdas.unwrap_or_else(|| vec![3e-5, 1e-4, 3e-4, 1e-3, 3e-3]);
    let rd_objective = rd_objective.unwrap_or(ObjectiveArg::Margin);
    if rd_lambdas.iter().any(|l| !l.is_finite() || *l <= 0.0) {
        anyhow::bail!("RD multipliers must be positive");
    }
    if !default_map_strength.is_finite() || !(0.0..=64.0).contains(&default_map_strength) {
        anyhow::bail!("--default-map-strength must be in 0..64");
    }
    if default_map_strength > 0.0 && !methods.contains(&MethodArg::MachineDefault) {
        anyhow::bail!("--default-map-strength needs machine-default in --methods");
    }
    if dmv_scales.iter().any(|s| !s.is_finite() || *s <= 0.0) {
        anyhow::bail!("map scales must be positive");
    }
    if qualities.iter().any(|q| !(1..=100).contains(q)) {
        anyhow::bail!("qualities must be 1..100");
    }
    let classifier_bytes = match &classifiers {
        Some(path) => std::fs::read(path).with_context(|| format!("reading {}", path.display()))?,
        None => jnd_model::dmvjnd::EMBEDDED_CLASSIFIERS.to_vec(),
    };
    let model = load_dmvjnd(classifiers.as_deref(), net.as_deref(), device)?;
    let every = every.max(1);
    let part = if train_images { Part::Train } else { Part::Test };
    let set = load_cifar(&data.cifar, part)?.every(0, every).shifted(usize::from(grid_shift));
    let machine_tables = match &tables {
        Some(path) => jndenc::codec::parse_qtables(&std::fs::read_to_string(path)?)?,
        None => jndenc::codec::machine_qtables()?,
    };
    let plan = SweepPlan {
        qualities,
        dmv_scales,
        machine_tables,
        machine_full_chroma,
        rd_unbounded,
        default_map_strength,
        methods: methods.iter().map(|m| m.method()).collect(),
        rd_lambdas,
        classifiers: classifier_bytes,
        rd_objective: match rd_objective {
            ObjectiveArg::CrossEntropy => jnd_model::dmvjnd::Objective::CrossEntropy,
            ObjectiveArg::Margin => jnd_model::dmvjnd::Objective::RelativeMargin,
        },
    };
    let started = Instant::now();
    let result = machine_coding::sweep(&model, &set, &plan, |p: &RatePoint| {
        eprintln!(
            "q{:>3} {:<26} x{:<6} {:.3} bpp (scan), RCA {:.2} %, accuracy {:.2} %, PSNR {:.2} dB ({:.0} s)",
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
    let seconds = started.elapsed().as_secs_f64();
    let grid = if grid_shift == 0 {
        "on the stored grid (a uniform encode at q75 gets the stored coefficients back)".to_string()
    } else {
        format!("off the stored grid: every image moved {grid_shift} px right and down, edges repeated")
    };
    let default_methods =
        [MethodArg::MachineTable, MethodArg::MachineDefault, MethodArg::MachineDmv, MethodArg::StandardDmv];
    let method_names: Vec<String> = methods
        .iter()
        .filter_map(|m| clap::ValueEnum::to_possible_value(m).map(|v| v.get_name().to_string()))
        .collect();
    let rd = methods.contains(&MethodArg::MachineRd);
    let mut command = format!(
        "jnd-train eval-machine-coding{}{}{}{} --every {every} --grid-shift {grid_shift} --qualities {} --dmv-scales {}",
        if train_images { " --train-images" } else { "" },
        if plan.machine_full_chroma { " --machine-full-chroma" } else { "" },
        if plan.rd_unbounded { " --rd-unbounded" } else { "" },
        if plan.default_map_strength > 0.0 {
            format!(" --default-map-strength {}", plan.default_map_strength)
        } else {
            String::new()
        },
        join(&plan.qualities),
        join(&plan.dmv_scales)
    );
    if methods != default_methods {
        let _ = write!(command, " --methods {}", method_names.join(","));
    }
    if rd {
        let objective = clap::ValueEnum::to_possible_value(&rd_objective).map(|v| v.get_name().to_string());
        let _ = write!(
            command,
            " --rd-objective {} --rd-lambdas {}",
            objective.unwrap_or_default(),
            join(&plan.rd_lambdas)
        );
    }
    for (flag, path, default) in [
        ("--out", &out, "jnd-model/weights/machine-coding.md"),
        ("--svg", &svg, "jnd-model/weights/machine-coding.svg"),
        ("--json", &json, "jnd-model/weights/machine-coding.json"),
    ] {
        if path.as_path() != std::path::Path::new(default) {
            let _ = write!(command, " {flag} {}", path.display());
        }
    }
    let text = format!(
        "Machine-vision coding on the CIFAR-10 {} set (every {every}th image: {} images, 32x32, stored by CIFAR's \
distributors as JPEG q75), {grid}. Each image is encoded by mozjpeg as `jndenc -quality Q` does (trellis \
quantisation, optimised Huffman tables, 4:2:0; sequential, no metadata) with the standard (Annex K) tables or the \
machine tables (`jnd-model/weights/machine-qtables.txt`), and with DMV-JND per-block quantisation on top of either \
(the map times `map x`){}{}{}{}, decoded, and classified by the four embedded classifiers. RCA: decisions equal to the \
classifier's own decisions on the uncompressed (moved) image; accuracy: decisions equal to CIFAR-10's label. bpp: \
bits of entropy-coded data per pixel (headers and tables excluded; whole-file bpp alongside). Command: `{command}` \
({seconds:.0} s on this run's machine).\n\n{}",
        if train_images { "training" } else { "test" },
        set.len(),
        if rd || methods.contains(&MethodArg::MachineDefault) {
            ", or with each block's coarsening chosen by rate and the classifiers' gradients (`machine table + \
per-block RD`, Lagrange multiplier `λ`; `jndenc::codec::adaptive::rd_scale`; `--target machine (default)` is what \
`jndenc --target machine -quality Q` writes: the relative margin's gradient at the encoder's `λ` for Q)"
        } else {
            ""
        },
        if plan.machine_full_chroma { "; the machine-table methods code chroma at 4:4:4" } else { "" },
        if plan.rd_unbounded { "; machine-rd without the DMV-JND map's bound" } else { "" },
        if plan.default_map_strength > 0.0 {
            format!("; the default bounded by the DMV-JND map times {}", plan.default_map_strength)
        } else {
            String::new()
        },
        machine_coding::table(&result, &RCA_LEVELS)
    );
    print!("{text}");
    write_atomic(&out, &text)?;
    write_atomic(&svg, &machine_coding::svg(&result.points))?;
    let about = serde_json::json!({
        "images": set.len(),
        "part": if train_images { "train" } else { "test" },
        "every": every,
        "grid_shift": grid_shift,
        "command": command,
        "labels": "RCA: the four embedded classifiers' own decisions on the uncompressed images; accuracy: CIFAR-10's labels",
    });
    let records = machine_coding::json(&result, &RCA_LEVELS, about);
    write_atomic(&json, &format!("{}\n", serde_json::to_string_pretty(&records)?))?;
    eprintln!("wrote {}, {} and {}", out.display(), svg.display(), json.display());
    Ok(())
}

fn join<T: ToString>(values: &[T]) -> String {
    values.iter().map(T::to_string).collect::<Vec<_>>().join(",")
}

/// Derive the machine quantisation tables from the classifiers' sensitivity per DCT frequency.
#[derive(Debug, clap::Args)]
pub struct MachineTablesArgs {
    #[command(flatten)]
    pub data: CifarData,
    /// Classifier weights (default: the embedded ones).
    #[arg(long)]
    pub classifiers: Option<PathBuf>,
    /// Measure every n-th training image (5: 10,000 images).
    #[arg(long, default_value_t = 5)]
    pub every: usize,
    /// Move the images this many pixels (as eval-machine-coding does) before measuring.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u8).range(0..=7))]
    pub grid_shift: u8,
    /// Images per backward pass.
    #[arg(long, default_value_t = 100)]
    pub batch: usize,
    /// Chroma as coded: 4:2:0 (the default) or 4:4:4 (`--full-chroma`).
    #[arg(long)]
    pub full_chroma: bool,
    /// The rule's exponent: Q = k S^-exponent (0.5: the first-order rule).
    #[arg(long, default_value_t = trainer::machine_tables::FIRST_ORDER_EXPONENT)]
    pub exponent: f64,
    /// The tables (a cjpeg -qtables file, embedded by the encoder).
    #[arg(long, default_value = "jnd-model/weights/machine-qtables.txt")]
    pub out: PathBuf,
    /// The sensitivity grids and the tables, in Markdown.
    #[arg(long, default_value = "jnd-model/weights/machine-qtables.md")]
    pub report: PathBuf,
}

/// `jnd-train machine-tables`.
pub fn run_machine_tables(args: MachineTablesArgs, device: jnd_model::Accelerator) -> anyhow::Result<()> {
    use trainer::machine_tables::{self, ANNEX_K_CHROMA, ANNEX_K_LUMA};
    let MachineTablesArgs { data, classifiers, every, grid_shift, batch, full_chroma, exponent, out, report } =
        args;
    let bytes = match &classifiers {
        Some(path) => std::fs::read(path).map_err(|e| anyhow::anyhow!("reading {}: {e}", path.display()))?,
        None => jnd_model::dmvjnd::EMBEDDED_CLASSIFIERS.to_vec(),
    };
    let every = every.max(1);
    let set = load_cifar(&data.cifar, Part::Train)?.every(0, every).shifted(usize::from(grid_shift));
    let started = Instant::now();
    let device = jnd_model::select_device(device)?;
    let sensitivity = machine_tables::sensitivity(&bytes, &set, batch, !full_chroma, &device)?;
    let tables = machine_tables::tables(&sensitivity, exponent)?;
    let seconds = started.elapsed().as_secs_f64();
    let command = format!(
        "jnd-train machine-tables --every {every} --grid-shift {grid_shift} --exponent {exponent}{}",
        if full_chroma { " --full-chroma" } else { "" }
    );
    let header = format!(
        "Machine quantisation tables (luma, then chroma; natural order; the base at quality 50 that -quality scales).\n\
Derived by `{command}` from the four embedded CIFAR-10 classifiers' mean squared loss gradient per DCT\n\
coefficient on {} CIFAR-10 training images: Q = k S^-{exponent}, k matching Annex K's luma geometric mean.",
        set.len()
    );
    write_atomic(&out, &machine_tables::qtables_file(&tables, &header))?;
    let table_grid = |t: &[u16; 64]| machine_tables::grid(t, u16::to_string);
    let ratio = |a: &[u16; 64], b: &[u16; 64]| {
        let log: f64 = a.iter().zip(b).map(|(&x, &y)| (f64::from(x) / f64::from(y)).ln()).sum::<f64>() / 64.0;
        log.exp()
    };
    let text = format!(
        "# Machine quantisation tables\n\n`{command}` ({seconds:.0} s): the four embedded classifiers' sensitivity per DCT \
coefficient, measured on {} CIFAR-10 training images (every {every}th, moved {grid_shift} px; no test image), and the \
tables derived from it (`trainer::machine_tables` explains the rule). Embedded by the encoder from \
`machine-qtables.txt`; `jndenc --target machine` codes on them.\n\n\
## Luma table\n\n{}\n## Chroma table (4:2:0 samples)\n\n{}\n\
Geometric mean against Annex K's: luma {:.2}x, chroma {:.2}x.\n\n\
## Sensitivity S: mean squared loss gradient per luma coefficient\n\n{}\n\
## Sensitivity S per chroma coefficient (Cb and Cr)\n\n{}",
        sensitivity.images,
        table_grid(&tables[0]),
        table_grid(&tables[1]),
        ratio(&tables[0], &ANNEX_K_LUMA),
        ratio(&tables[1], &ANNEX_K_CHROMA),
        machine_tables::grid(&sensitivity.luma, |s| format!("{s:.3e}")),
        machine_tables::grid(&sensitivity.chroma, |s| format!("{s:.3e}")),
    );
    print!("{text}");
    write_atomic(&report, &text)?;
    eprintln!("wrote {} and {}", out.display(), report.display());
    Ok(())
}
