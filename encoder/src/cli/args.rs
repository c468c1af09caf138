//! The one definition of jndenc's command line: parsing, `--help` and the man page all come from here.

use std::path::PathBuf;

use crate::codec::Restart;
use clap::{ArgAction, Parser, ValueEnum};

/// jndenc: a cjpeg-compatible encoder for JPEG and HEIF.
///
/// Reads PPM/PGM, BMP, PNG, Targa, GIF, TIFF, WebP, JPEG (and HEIF) from a file or standard input and writes a
/// JPEG (or HEIF) to standard output or -outfile. Switches are cjpeg's, single dash, abbreviated as
/// cjpeg allows (-q 80, -outf out.jpg, -gray); jndenc's own switches use two dashes.
#[derive(Debug, Parser)]
#[command(
    name = "jndenc",
    disable_version_flag = true,
    allow_negative_numbers = true,
    after_help = "Exit status: 0 success, 1 failure, 2 success with warnings (as cjpeg).\n\
                  Without -quality jndenc searches for the lowest quality whose result a viewer cannot tell \
                  from the original (--target), judged by the embedded VP-JND model (--decider)."
)]
pub struct Cli {
    /// Input images or folders; standard input when absent or "-". Several inputs or a folder need
    /// --outdir (batch mode).
    pub input: Vec<PathBuf>,

    /// Quality 0..100 (JPEG: per quantisation-table slot, comma-separated; HEIF: the first value).
    #[arg(long, value_name = "N[,...]", value_parser = parse_quality_list, help_heading = "Basic switches (cjpeg)")]
    pub quality: Option<QualityList>,
    /// Write a monochrome JPEG from colour input.
    #[arg(long, alias = "greyscale", help_heading = "Basic switches (cjpeg)")]
    pub grayscale: bool,
    /// Write RGB components without YCbCr conversion.
    #[arg(long, help_heading = "Basic switches (cjpeg)")]
    pub rgb: bool,
    /// Optimise Huffman tables (always on for progressive output).
    #[arg(long, alias = "optimise", help_heading = "Basic switches (cjpeg)")]
    pub optimize: bool,
    /// Progressive JPEG (the default, as in mozjpeg).
    #[arg(long, help_heading = "Basic switches (cjpeg)")]
    pub progressive: bool,
    /// The input is Targa (which has no signature to recognise it by).
    #[arg(long, help_heading = "Basic switches (cjpeg)")]
    pub targa: bool,
    /// Write to FILE (atomically) instead of standard output.
    #[arg(long, value_name = "FILE", help_heading = "Basic switches (cjpeg)")]
    pub outfile: Option<PathBuf>,

    /// Baseline JPEG: 8-bit quantisation tables and no progressive scans.
    #[arg(long, help_heading = "Advanced switches (cjpeg)")]
    pub baseline: bool,
    /// Forward DCT: int (default), fast or float.
    #[arg(long, value_enum, help_heading = "Advanced switches (cjpeg)")]
    pub dct: Option<DctArg>,
    /// Restart markers every N MCU rows, or every N MCUs with a B suffix.
    #[arg(long, value_name = "N[B]", value_parser = parse_restart, help_heading = "Advanced switches (cjpeg)")]
    pub restart: Option<Restart>,
    /// Smooth the input first, 0..100.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u8).range(0..=100), help_heading = "Advanced switches (cjpeg)")]
    pub smooth: Option<u8>,
    /// Sampling factors per component, e.g. 2x2 (4:2:0, default), 2x1, 1x1 (4:4:4).
    #[arg(long, value_name = "HxV[,...]", value_parser = parse_sample, help_heading = "Advanced switches (cjpeg)")]
    pub sample: Option<SampleList>,
    /// Quantisation tables from FILE (64 numbers each, natural order, # comments).
    #[arg(long, value_name = "FILE", help_heading = "Advanced switches (cjpeg)")]
    pub qtables: Option<PathBuf>,
    /// Quantisation table slot per component, e.g. 0,1,1.
    #[arg(long, value_name = "N[,...]", value_parser = parse_qslots, help_heading = "Advanced switches (cjpeg)")]
    pub qslots: Option<SlotList>,
    /// Embed the ICC profile in FILE (replaces the input's).
    #[arg(long, value_name = "FILE", help_heading = "Advanced switches (cjpeg)")]
    pub icc: Option<PathBuf>,
    /// Memory budget in kB (N) or MB (NM); larger images are refused before decoding.
    #[arg(long, value_name = "N[M]", value_parser = parse_maxmemory, help_heading = "Advanced switches (cjpeg)")]
    pub maxmemory: Option<u64>,
    /// Print version and settings to standard error (-debug is the same).
    #[arg(long, alias = "debug", action = ArgAction::Count, help_heading = "Advanced switches (cjpeg)")]
    pub verbose: u8,
    /// Print the version to standard error and exit.
    #[arg(long, help_heading = "Advanced switches (cjpeg)")]
    pub version: bool,
    /// Arithmetic coding (refused: jndenc writes Huffman-coded JPEG only).
    #[arg(long, help_heading = "Advanced switches (cjpeg)")]
    pub arithmetic: bool,
    /// Accepted for compatibility; jndenc always encodes to memory first.
    #[arg(long, help_heading = "Advanced switches (cjpeg)")]
    pub memdst: bool,

    /// libjpeg-turbo defaults instead of mozjpeg's: baseline, no trellis, standard Huffman tables.
    #[arg(long, help_heading = "mozjpeg switches")]
    pub revert: bool,
    /// Turn off trellis quantisation.
    #[arg(long, help_heading = "mozjpeg switches")]
    pub notrellis: bool,
    /// Base quantisation table set 0..8 (0: the JPEG standard's, jndenc's default; 3: mozjpeg's).
    #[arg(long = "quant-table", value_name = "N", value_parser = clap::value_parser!(u8).range(0..=8), help_heading = "mozjpeg switches")]
    pub quant_table: Option<u8>,
    /// 8-bit quantisation tables without turning off progressive mode.
    #[arg(long = "quant-baseline", help_heading = "mozjpeg switches")]
    pub quant_baseline: bool,
    /// Do not write the JFIF APP0 marker.
    #[arg(long, help_heading = "mozjpeg switches")]
    pub nojfif: bool,

    /// Output format.
    #[arg(long, value_enum, default_value_t = FormatArg::Jpeg, help_heading = "jndenc switches")]
    pub format: FormatArg,
    /// JPEG codec. Default: jpegli in auto mode (fewer bytes at equal quality), mozjpeg with -quality
    /// (cjpeg's tables, so -quality N means what it means to cjpeg). `--codec jpegli -quality N` uses
    /// jpegli's own quality scale.
    #[arg(long, value_enum, help_heading = "jndenc switches")]
    pub codec: Option<CodecArg>,
    /// Metadata to drop; ICC and EXIF are kept by default.
    #[arg(long, value_enum, default_value_t = StripArg::None, help_heading = "jndenc switches")]
    pub strip: StripArg,
    /// Chroma subsampling of JPEG and HEIF output (default 420). cjpeg's -sample sets JPEG's
    /// factors one component at a time instead.
    #[arg(long, value_enum, help_heading = "jndenc switches")]
    pub sampling: Option<SamplingArg>,
    /// HEIF chroma subsampling only (default: --sampling's, else 420).
    #[arg(long = "heif-chroma", value_enum, help_heading = "jndenc switches")]
    pub heif_chroma: Option<HeifChromaArg>,
    /// x265 preset for HEIF (ultrafast .. placebo).
    #[arg(long = "heif-preset", value_name = "PRESET", help_heading = "jndenc switches")]
    pub heif_preset: Option<String>,
    /// Write the input's pixel-wise JND map to FILE as an 8-bit grayscale PNG (gray = 8 x JND in
    /// luma code values, white = 31.9 or more) instead of encoding.
    #[arg(long = "jnd-map", value_name = "FILE", help_heading = "jndenc switches")]
    pub jnd_map: Option<PathBuf>,
    /// Pixel-wise JND model for --jnd-map and --adaptive human: wu2017 (pattern complexity, the
    /// default) or yang2005 (NAMM).
    #[arg(long = "jnd-model", value_enum, help_heading = "jndenc switches")]
    pub jnd_model: Option<JndModelArg>,
    /// Perceptual operating point of the quality search (without -quality; default
    /// visually-lossless), or `machine` for per-block quantisation at -quality.
    #[arg(long, value_enum, help_heading = "Auto quality")]
    pub target: Option<TargetArg>,
    /// Per-block quantisation from a JND map on top of -quality (default 75): `human` uses the
    /// pixel-wise JND map (--jnd-model). The output is a standard JPEG. JPEG only.
    #[arg(long, value_enum, help_heading = "Auto quality")]
    pub adaptive: Option<AdaptiveArg>,
    /// Multiplies the JND map of --target machine / --adaptive before it sets the per-block steps
    /// (larger: coarser blocks, smaller files; 0: no map). --adaptive: 1 by default. --target machine:
    /// 0 by default (each block is chosen by rate, --rd-lambda); a strength makes the DMV-JND map each
    /// block's bound, or, with --rd-lambda 0, the rule itself.
    #[arg(long = "map-strength", value_name = "F", value_parser = parse_map_strength, help_heading = "Auto quality")]
    pub map_strength: Option<f32>,
    /// --target machine's per-block choice by rate and the four classifiers' sensitivity (their
    /// gradient per coefficient of each block): the squared change of the classifiers' objective one
    /// bit is worth (0..1; larger: smaller files, lower agreement; 0: the machine tables alone, or the
    /// map with --map-strength). Default: chosen by -quality on training images.
    #[arg(long = "rd-lambda", value_name = "F", value_parser = parse_rd_lambda, help_heading = "Auto quality")]
    pub rd_lambda: Option<f32>,
    /// Who judges candidates: the teacher (the default: butteraugli 3-norm, then SSIMULACRA 2; the
    /// search starts at the embedded quality prior, so it needs 3 to 6 candidates), vp-jnd (the
    /// whole-picture judge, checked by the real metrics within its uncertainty band), or model (the
    /// patch network; less accurate; see docs/decision.md).
    #[arg(long, value_enum, help_heading = "Auto quality")]
    pub decider: Option<DeciderArg>,
    /// Where the learned models run (--decider model, --target machine): cpu (the default), cuda
    /// (NVIDIA, a build with `--features cuda`) or wgpu (Vulkan/Metal, `--features wgpu`). Without it,
    /// the JNDENC_DEVICE environment variable, then cpu. Checked before any input is read.
    #[arg(long, value_enum, help_heading = "jndenc switches")]
    pub device: Option<DeviceArg>,
    /// Aim at butteraugli 3-norm distance D (0.5 to 4.0) instead of a named --target: 1.0 is
    /// visually-lossless, 2.295 human-first-jnd; larger is smaller and more visibly changed. With
    /// --ssimulacra2, both bounds.
    #[arg(long, value_name = "D", allow_negative_numbers = true, help_heading = "Auto quality")]
    pub distance: Option<String>,
    /// Require a SSIMULACRA 2 of at least S (0 to 100; 90 and above is hard to tell apart, below 50
    /// clearly degraded) instead of a named --target. With --distance, both bounds.
    #[arg(long, value_name = "S", allow_negative_numbers = true, help_heading = "Auto quality")]
    pub ssimulacra2: Option<String>,
    /// How the search runs: `prior` (the default) starts at the quality predicted from the original
    /// and brackets it with a few real candidates; `block` runs the block search over the whole range.
    #[arg(long, value_enum, help_heading = "Auto quality")]
    pub search: Option<SearchArg>,
    /// Lowest quality the search may choose.
    #[arg(long = "min-quality", value_name = "N", value_parser = clap::value_parser!(u8).range(0..=100), help_heading = "Auto quality")]
    pub min_quality: Option<u8>,
    /// Highest quality the search may choose (and the reference of the reported saving).
    #[arg(long = "max-quality", value_name = "N", value_parser = clap::value_parser!(u8).range(0..=100), help_heading = "Auto quality")]
    pub max_quality: Option<u8>,
    /// Block size of the binary block search (default 3).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u8).range(1..=10), help_heading = "Auto quality")]
    pub block: Option<u8>,
    /// Write a report (chosen quality, sizes, saving, candidates, times) as .json, .csv or .html.
    #[arg(long, value_name = "FILE", help_heading = "Auto quality")]
    pub report: Option<PathBuf>,
    /// Measure the output's teacher distance (butteraugli 3-norm) and put it in the report.
    #[arg(long, help_heading = "Auto quality")]
    pub verify: bool,
    /// Batch mode: write each output here, named after its input.
    #[arg(long, value_name = "DIR", help_heading = "Batch")]
    pub outdir: Option<PathBuf>,
    /// Batch mode: images encoded in parallel, at most (default: all cores); images start only while
    /// their estimated memory fits the budget (-maxmemory, default half the machine's memory).
    #[arg(short = 'j', long, value_name = "N", help_heading = "Batch")]
    pub jobs: Option<usize>,
    /// Batch mode: walk folders' subfolders too and mirror the tree under --outdir (-r is cjpeg's
    /// -restart, so this has no short form).
    #[arg(long, help_heading = "Batch")]
    pub recursive: bool,
    /// Batch mode: leave outputs that exist and are at least as new as their inputs (resume an
    /// interrupted run; stale temporary files it left are removed).
    #[arg(long = "skip-existing", help_heading = "Batch")]
    pub skip_existing: bool,
    /// Re-encode JPEG inputs that carry jndenc's own marker (auto mode keeps them otherwise).
    #[arg(long, help_heading = "Batch")]
    pub force: bool,
    /// Print the man page (roff) to standard output and exit.
    #[arg(long = "print-man", hide = true)]
    pub print_man: bool,
}

/// Qualities per table slot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QualityList(pub Vec<u8>);

/// Sampling factors per component.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SampleList(pub Vec<(u8, u8)>);

/// Table slot per component.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotList(pub Vec<u8>);

/// `-dct` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DctArg {
    /// Accurate integer DCT.
    Int,
    /// Fast integer DCT.
    Fast,
    /// Floating-point DCT.
    Float,
}

/// `--target` values. Each names a pair: a butteraugli 3-norm ceiling and a SSIMULACRA 2 floor, both
/// of which the output must meet (the numbers are checked against the library's by a test).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TargetArg {
    /// The default: nobody comparing side by side at 1:1 should tell it from the original (3-norm
    /// <= 1.0, jpegli's and cjxl's visually lossless distance, and SSIMULACRA 2 >= 79; held-out
    /// outputs scored SSIMULACRA 2 79.0-83.6).
    VisuallyLossless,
    /// Web images looked at closely: a trained eye may find a difference side by side (3-norm <= 1.5,
    /// SSIMULACRA 2 >= 68; held-out outputs 68.0-74.9).
    WebHigh,
    /// Web images at the size they are shown: small differences are visible side by side at 1:1
    /// (3-norm <= 2.0, SSIMULACRA 2 >= 56; held-out outputs 56.0-66.5).
    Web,
    /// The paper's operating point: MCL-JCI's mean first JND (3-norm 2.295, no floor), where about
    /// half of its viewers noticed; visible at 1:1 (held-out outputs SSIMULACRA 2 35.0-61.0).
    HumanFirstJnd,
    /// The quality 75 % of MCL-JCI's viewers could not tell from the original (3-norm 2.095, no
    /// floor); visible at 1:1 (held-out outputs SSIMULACRA 2 43.2-64.5).
    Sur75,
    /// The second generation's name of visually-lossless.
    Strict,
    /// Machine consumers (classifiers): the machine quantisation tables (derived from four classifiers'
    /// sensitivity per DCT frequency; -qtables or -quant-table replace them) at -quality (default 75),
    /// each block's coarsening chosen by rate and the classifiers' sensitivity (--rd-lambda), 4:4:4
    /// from -quality 96; --map-strength adds the DMV-JND map as each block's bound. JPEG only.
    Machine,
}

/// `--search` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SearchArg {
    /// Start at the quality prior's prediction and bracket it.
    Prior,
    /// The block search over the whole quality range.
    Block,
}

/// `--adaptive` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AdaptiveArg {
    /// Per-block quantisation from the pixel-wise JND map (--jnd-model) on top of -quality.
    Human,
}

/// `--decider` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DeciderArg {
    /// The whole-picture VP-JND judge, checked by the real metrics near the bounds.
    #[value(name = "vp-jnd")]
    VpJnd,
    /// The patch network (second generation).
    Model,
    /// butteraugli 3-norm against the target's threshold (the default).
    Teacher,
}

/// `--device` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DeviceArg {
    /// burn's flex CPU backend (always built).
    Cpu,
    /// burn-cuda on GPU 0.
    Cuda,
    /// burn's wgpu backend on the default adapter.
    Wgpu,
}

/// `--format` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    /// JPEG/JFIF.
    Jpeg,
    /// HEIF with HEVC intra (x265).
    Heif,
}

/// `--codec` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CodecArg {
    /// mozjpeg: trellis quantisation, Annex K tables.
    Mozjpeg,
    /// jpegli: butteraugli-distance tables, adaptive quantisation.
    Jpegli,
    /// The pure-Rust jpeg-encoder crate.
    Rust,
}

/// `--strip` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StripArg {
    /// Keep ICC and EXIF.
    None,
    /// Drop EXIF, keep ICC.
    Exif,
    /// Drop ICC, keep EXIF.
    Icc,
    /// Drop both.
    All,
}

/// `--jnd-model` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum JndModelArg {
    /// Wu et al. 2017, pattern complexity.
    Wu2017,
    /// Yang et al. 2005, NAMM.
    Yang2005,
}

/// `--sampling` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SamplingArg {
    /// 4:2:0: chroma at half resolution both ways.
    #[value(name = "420")]
    S420,
    /// 4:4:4: chroma at full resolution.
    #[value(name = "444")]
    S444,
}

/// `--heif-chroma` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum HeifChromaArg {
    /// 4:2:0.
    #[value(name = "420")]
    C420,
    /// 4:4:4.
    #[value(name = "444")]
    C444,
}

fn parse_list<T>(text: &str, what: &str, item: impl Fn(&str) -> Option<T>) -> Result<Vec<T>, String> {
    let items: Option<Vec<T>> = text.split(',').map(|s| item(s.trim())).collect();
    match items {
        Some(v) if !v.is_empty() && v.len() <= 4 => Ok(v),
        Some(_) => Err(format!("expected 1 to 4 {what} values")),
        None => Err(format!("'{text}' is not a valid {what} list")),
    }
}

/// `N[,...]`, each 0..=100 (0 means 1, as libjpeg's quality scaling does).
pub fn parse_quality_list(text: &str) -> Result<QualityList, String> {
    parse_list(text, "quality (0..100)", |s| s.parse::<u8>().ok().filter(|&q| q <= 100)).map(QualityList)
}

/// `HxV[,...]`, factors 1..=4.
pub fn parse_sample(text: &str) -> Result<SampleList, String> {
    parse_list(text, "sampling (HxV, 1..4)", |s| {
        let (h, v) = s.split_once(['x', 'X'])?;
        let (h, v) = (h.parse::<u8>().ok()?, v.parse::<u8>().ok()?);
        ((1..=4).contains(&h) && (1..=4).contains(&v)).then_some((h, v))
    })
    .map(SampleList)
}

/// `N[,...]`, slots 0..=3.
pub fn parse_qslots(text: &str) -> Result<SlotList, String> {
    parse_list(text, "table slot (0..3)", |s| s.parse::<u8>().ok().filter(|&n| n <= 3)).map(SlotList)
}

/// `N` MCU rows or `NB` MCUs, 0..=65535.
pub fn parse_restart(text: &str) -> Result<Restart, String> {
    let (digits, blocks) = match text.strip_suffix(['b', 'B']) {
        Some(d) => (d, true),
        None => (text, false),
    };
    let n: u16 = digits
        .parse()
        .map_err(|_| format!("'{text}' is not a restart interval (N rows or NB blocks, 0..65535)"))?;
    Ok(if blocks { Restart::Blocks(n) } else { Restart::Rows(n) })
}

/// `N` kB or `NM` MB, in bytes (cjpeg's units: 1 kB = 1000 bytes).
pub fn parse_maxmemory(text: &str) -> Result<u64, String> {
    let (digits, scale) = match text.strip_suffix(['m', 'M']) {
        Some(d) => (d, 1_000_000),
        None => (text.strip_suffix(['k', 'K']).unwrap_or(text), 1_000),
    };
    digits
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(scale))
        .filter(|&n| n > 0)
        .ok_or_else(|| format!("'{text}' is not a memory size (N kB or NM MB)"))
}

/// `--rd-lambda`: a finite multiplier in 0..=1.
fn parse_rd_lambda(text: &str) -> Result<f32, String> {
    let value: f32 = text.trim().parse().map_err(|_| format!("'{text}' is not a number"))?;
    crate::settings::request::check_rd_lambda(value).map_err(|e| e.reason)
}

/// `--map-strength`: a finite factor in 0..=64.
fn parse_map_strength(text: &str) -> Result<f32, String> {
    let value: f32 = text.trim().parse().map_err(|_| format!("'{text}' is not a number"))?;
    crate::settings::request::check_map_strength(value).map_err(|e| e.reason)
}
