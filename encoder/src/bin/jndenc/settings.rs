//! From the command line to the library's [`Settings`]: a mapping of switches to typed values (files
//! named by switches, `-qtables` and `-icc`, are read here, once). Validation of combinations is the
//! plan's ([`jndenc::EncodePlan::new`]); what is left here is what only the command line can know:
//! which switches were given, to refuse or warn about those that cannot act.

use anyhow::{Context, bail};
use jndenc::auto::Target;
use jndenc::codec::{self, DctMethod, HeifChroma, HeifOptions, JpegColor, JpegOptions, OutputFormat};
use jndenc::plan::{
    BaseTables, DeciderKind, JpegEncoder, MACHINE_MAP_STRENGTH, MapKind, MetadataPolicy, Mode,
};
use jndenc::{DecodeOptions, InputFormat, Limits, Settings};

use crate::cli::{
    AdaptiveArg, Cli, CodecArg, DctArg, DeciderArg, DeviceArg, FormatArg, HeifChromaArg, JndModelArg,
    SearchArg, StripArg, TargetArg,
};

/// The settings, and warnings about switches that were given but have no effect in this mode.
pub struct Mapped {
    /// The plan's settings.
    pub settings: Settings,
    /// One line each, printed as warnings (exit status 2).
    pub warnings: Vec<String>,
}

/// The pixel-wise JND model `--jnd-model` names.
pub fn pixel_model(cli: &Cli) -> jnd_model::PixelJndModel {
    match cli.jnd_model.unwrap_or(JndModelArg::Wu2017) {
        JndModelArg::Wu2017 => jnd_model::PixelJndModel::Wu2017,
        JndModelArg::Yang2005 => jnd_model::PixelJndModel::Yang2005,
    }
}

/// The device the models run on: `--device`, else the `JNDENC_DEVICE` environment variable, else
/// the CPU.
pub fn device(cli: &Cli) -> anyhow::Result<jnd_model::Accelerator> {
    use jnd_model::Accelerator;
    Ok(match cli.device {
        Some(DeviceArg::Cpu) => Accelerator::Cpu,
        Some(DeviceArg::Cuda) => Accelerator::Cuda,
        Some(DeviceArg::Wgpu) => Accelerator::Wgpu,
        None => Accelerator::from_env()?.unwrap_or_default(),
    })
}

/// Maps `cli` to the plan's settings.
pub fn map(cli: &Cli, batch: bool) -> anyhow::Result<Mapped> {
    let mut warnings = Vec::new();
    let format = match cli.format {
        FormatArg::Jpeg => OutputFormat::Jpeg,
        FormatArg::Heif => OutputFormat::Heif,
    };
    let qualities = cli.quality.as_ref().map(|q| q.0.clone());
    let first_quality = qualities.as_ref().map_or(75, |q| q[0]);
    let distance = match &cli.distance {
        Some(text) => {
            if matches!(cli.target, Some(TargetArg::HumanFirstJnd | TargetArg::Sur75 | TargetArg::Strict)) {
                bail!("--distance and --target name two operating points: give one");
            }
            let d: f64 = text.trim().parse().map_err(|_| {
                anyhow::anyhow!("--distance {text:?} is not a number (butteraugli 3-norm, 0.5 to 4.0)")
            })?;
            Some(Target::distance(d)?)
        }
        None => None,
    };
    let per_block = match (cli.target, cli.adaptive) {
        (Some(TargetArg::Machine), Some(_)) => {
            bail!("--target machine and --adaptive human are two different maps: give one")
        }
        (Some(TargetArg::Machine), None) => Some(MapKind::Machine),
        (_, Some(AdaptiveArg::Human)) => Some(MapKind::Human(pixel_model(cli))),
        _ => None,
    };
    if cli.map_strength.is_some() && per_block.is_none() {
        bail!("--map-strength applies to --target machine and --adaptive human only");
    }
    // -qtables without -quality means "these tables as written", as in cjpeg: nothing to search.
    let fixed = qualities.is_some() || cli.qtables.is_some();
    let mode = if let Some(map) = per_block {
        // The machine target codes on the machine tables unless the user names base tables.
        let tables = if map == MapKind::Machine && cli.qtables.is_none() && cli.quant_table.is_none() {
            BaseTables::Machine
        } else {
            BaseTables::Options
        };
        Mode::PerBlock { map, strength: cli.map_strength, quality: first_quality, tables }
    } else if fixed {
        Mode::Fixed(first_quality)
    } else {
        Mode::Auto {
            target: match (cli.target, distance) {
                (_, Some(d)) => d,
                (Some(TargetArg::Strict), None) => Target::Strict,
                (Some(TargetArg::Sur75), None) => Target::Sur75,
                _ => Target::HumanFirstJnd,
            },
            decider: match cli.decider {
                Some(DeciderArg::Teacher) => DeciderKind::Teacher,
                Some(DeciderArg::Model) => DeciderKind::Model,
                None => DeciderKind::default(),
            },
            min_quality: cli.min_quality,
            max_quality: cli.max_quality,
            block: cli.block.unwrap_or(3),
            prior: cli.search != Some(SearchArg::Block),
        }
    };
    if !matches!(mode, Mode::Auto { .. }) {
        let why = if per_block.is_some() {
            "per-block quantisation uses the base quality"
        } else {
            "the quality is fixed"
        };
        let search_switches = [
            (
                matches!(cli.target, Some(TargetArg::HumanFirstJnd | TargetArg::Sur75 | TargetArg::Strict)),
                "--target",
            ),
            (cli.distance.is_some(), "--distance"),
            (cli.search.is_some(), "--search"),
            (cli.decider.is_some(), "--decider"),
            (cli.min_quality.is_some(), "--min-quality"),
            (cli.max_quality.is_some(), "--max-quality"),
            (cli.block.is_some(), "--block"),
        ];
        for (given, name) in search_switches {
            if given {
                warnings.push(format!("{name} has no effect: {why} (it steers the search without -quality)"));
            }
        }
    }
    let runs_model = matches!(mode, Mode::Auto { decider: DeciderKind::Model, .. })
        || matches!(mode, Mode::PerBlock { map: MapKind::Machine, strength, .. }
            if strength.unwrap_or(MACHINE_MAP_STRENGTH) > 0.0);
    if let Some(device) = cli.device.filter(|d| *d != DeviceArg::Cpu)
        && (!runs_model || cli.jnd_map.is_some())
    {
        let name = format!("{device:?}").to_ascii_lowercase();
        warnings.push(format!(
            "--device {name} has no effect here: only --decider model and --target machine with \
             --map-strength run a model (the teacher, the quality prior, the pixel-wise JND map and the \
             machine tables run on the CPU)"
        ));
    }
    if cli.jnd_model.is_some() && cli.jnd_map.is_none() && !matches!(per_block, Some(MapKind::Human(_))) {
        warnings.push("--jnd-model has no effect without --jnd-map or --adaptive human".into());
    }
    if format == OutputFormat::Jpeg {
        for (given, name) in
            [(cli.heif_chroma.is_some(), "--heif-chroma"), (cli.heif_preset.is_some(), "--heif-preset")]
        {
            if given {
                warnings
                    .push(format!("{name} has no effect on JPEG output (it sets --format heif's encoder)"));
            }
        }
    }
    for (given, name) in
        [(cli.jobs.is_some(), "-j"), (cli.recursive, "--recursive"), (cli.skip_existing, "--skip-existing")]
    {
        if given && !batch {
            warnings
                .push(format!("{name} has no effect with one input and no --outdir (it steers batch mode)"));
        }
    }
    let jpeg = jpeg_options(cli, qualities.as_deref())?;
    let heif = HeifOptions {
        chroma: match cli.heif_chroma.unwrap_or(HeifChromaArg::C420) {
            HeifChromaArg::C420 => HeifChroma::C420,
            HeifChromaArg::C444 => HeifChroma::C444,
        },
        preset: cli.heif_preset.clone(),
        ..HeifOptions::default()
    };
    let icc = match &cli.icc {
        Some(path) => {
            Some(std::fs::read(path).with_context(|| format!("reading ICC profile {}", path.display()))?)
        }
        None => None,
    };
    let metadata = MetadataPolicy {
        keep_icc: !matches!(cli.strip, StripArg::Icc | StripArg::All),
        keep_exif: !matches!(cli.strip, StripArg::Exif | StripArg::All),
        icc,
    };
    let mut limits = Limits::default();
    if let Some(max) = cli.maxmemory {
        limits.max_memory = max;
    }
    let settings = Settings {
        format: Some(format),
        jpeg_encoder: cli.codec.map(|codec| match codec {
            CodecArg::Mozjpeg => JpegEncoder::MozJpeg,
            CodecArg::Jpegli => JpegEncoder::Jpegli,
            CodecArg::Rust => JpegEncoder::Rust,
        }),
        jpeg,
        heif,
        mode,
        metadata,
        decode: DecodeOptions { format: cli.targa.then_some(InputFormat::Targa), limits },
        verify: cli.verify,
        visuals: cli.report.as_deref().is_some_and(crate::io::is_html_report),
        measure_saving: cli.report.is_some() || cli.verbose > 0,
        // The marker is metadata of jndenc's own: --strip all, -nojfif (no APP0 either) and -revert
        // (libjpeg-turbo's cjpeg, byte for byte) leave it out.
        marker: cli.strip != StripArg::All && !cli.nojfif && !cli.revert,
        force: cli.force,
    };
    Ok(Mapped { settings, warnings })
}

/// cjpeg's JPEG switches as [`JpegOptions`] (reads `-qtables`).
fn jpeg_options(cli: &Cli, qualities: Option<&[u8]>) -> anyhow::Result<JpegOptions> {
    // libjpeg's quality scaling treats 0 as 1.
    let slot = |q: u8| q.max(1);
    let mut options = JpegOptions {
        extra_slot_qualities: qualities
            .map(|q| q[1..].iter().map(|&q| slot(q)).collect())
            .unwrap_or_default(),
        ..JpegOptions::default()
    };
    if cli.revert {
        options.revert = true;
        options.progressive = false;
        options.trellis = false;
        options.optimize_coding = false;
    }
    if cli.baseline {
        options.force_baseline_tables = true;
        options.progressive = false;
    }
    if cli.progressive {
        options.progressive = true;
    }
    options.optimize_coding |= cli.optimize;
    options.trellis &= !cli.notrellis;
    options.force_baseline_tables |= cli.quant_baseline;
    if let Some(set) = cli.quant_table {
        options.quant_table_set = set;
    }
    options.jfif = !cli.nojfif;
    options.color = match (cli.grayscale, cli.rgb) {
        (true, true) => bail!("-grayscale and -rgb exclude each other"),
        (true, false) => JpegColor::Grayscale,
        (false, true) => JpegColor::Rgb,
        (false, false) => JpegColor::Auto,
    };
    options.dct = match cli.dct {
        None | Some(DctArg::Int) => DctMethod::Int,
        Some(DctArg::Fast) => DctMethod::Fast,
        Some(DctArg::Float) => DctMethod::Float,
    };
    options.restart = cli.restart;
    options.smoothing = cli.smooth.unwrap_or(0);
    options.sampling = cli.sample.as_ref().map(|s| s.0.clone());
    options.qslots = cli.qslots.as_ref().map(|s| s.0.clone());
    if let Some(path) = &cli.qtables {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read qtables file {}", path.display()))?;
        options.qtables =
            Some(codec::parse_qtables(&text).with_context(|| format!("in {}", path.display()))?);
        options.scale_qtables = qualities.is_some();
    }
    Ok(options)
}
