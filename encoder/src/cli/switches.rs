//! From the command line to the library's vocabulary: each switch becomes a field of a
//! [`Request`] (files named by switches, `-qtables` and `-icc`, are read here, once), and
//! [`Request::resolve`] decides everything else (defaults, conflicts, warnings). What is left here is
//! the command line's own syntax: switch spellings in messages, and the switches of batch mode and
//! `--jnd-map`, which are not encode options.

use crate::codec::{self, DctMethod, JpegColor, JpegOptions};
use crate::settings::{Adaptive, Opt, Preset, Request, Resolved, Sampling, SearchKind, Strip, Value};
use crate::settings::{DeciderKind, JpegEncoder};
use crate::{Error, OptionError, Settings};
use anyhow::{Context, bail};
use jnd_model::{Accelerator, PixelJndModel};

use crate::cli::args::{
    AdaptiveArg, Cli, CodecArg, DctArg, DeciderArg, DeviceArg, FormatArg, HeifChromaArg, JndModelArg,
    SamplingArg, SearchArg, StripArg, TargetArg,
};

/// The settings, the device, and warnings about switches that were given but have no effect.
pub struct Mapped {
    /// The plan's settings.
    pub settings: Settings,
    /// Where the models run.
    pub device: Accelerator,
    /// One line each, printed as warnings (exit status 2).
    pub warnings: Vec<String>,
}

/// An option's switch on this command line.
pub fn switch(option: Opt) -> String {
    option.info().cli.to_string()
}

/// A library error with options spelled as switches (`--min-quality`, not `min-quality`).
pub fn spelled(error: Error) -> anyhow::Error {
    match error {
        Error::Option(e) => anyhow::anyhow!(describe(&e)),
        other => other.into(),
    }
}

fn describe(error: &OptionError) -> String {
    error.describe(switch)
}

/// The pixel-wise JND model `--jnd-model` names.
pub fn pixel_model(cli: &Cli) -> PixelJndModel {
    match cli.jnd_model.unwrap_or(JndModelArg::Wu2017) {
        JndModelArg::Wu2017 => PixelJndModel::Wu2017,
        JndModelArg::Yang2005 => PixelJndModel::Yang2005,
    }
}

/// The request the switches make (syntax only: each switch to its option).
fn request(cli: &Cli) -> anyhow::Result<Request> {
    let mut request = Request {
        format: Some(match cli.format {
            FormatArg::Jpeg => crate::codec::OutputFormat::Jpeg,
            FormatArg::Heif => crate::codec::OutputFormat::Heif,
        }),
        target: cli.target.map(|t| match t {
            TargetArg::VisuallyLossless | TargetArg::Strict => Preset::VisuallyLossless,
            TargetArg::WebHigh => Preset::WebHigh,
            TargetArg::Web => Preset::Web,
            TargetArg::HumanFirstJnd => Preset::HumanFirstJnd,
            TargetArg::Sur75 => Preset::Sur75,
            TargetArg::Machine => Preset::Machine,
        }),
        quality: cli.quality.as_ref().map(|q| q.0[0]),
        min_quality: cli.min_quality,
        max_quality: cli.max_quality,
        codec: cli.codec.map(|c| match c {
            CodecArg::Mozjpeg => JpegEncoder::MozJpeg,
            CodecArg::Jpegli => JpegEncoder::Jpegli,
            CodecArg::Rust => JpegEncoder::Rust,
        }),
        sampling: cli.sampling.map(sampling),
        strip: Some(match cli.strip {
            StripArg::None => Strip::None,
            StripArg::Exif => Strip::Exif,
            StripArg::Icc => Strip::Icc,
            StripArg::All => Strip::All,
        }),
        decider: cli.decider.map(|d| match d {
            DeciderArg::VpJnd => DeciderKind::VpJnd,
            DeciderArg::Model => DeciderKind::Model,
            DeciderArg::Teacher => DeciderKind::Teacher,
        }),
        device: cli.device.map(|d| match d {
            DeviceArg::Cpu => Accelerator::Cpu,
            DeviceArg::Cuda => Accelerator::Cuda,
            DeviceArg::Wgpu => Accelerator::Wgpu,
        }),
        search: cli.search.map(|s| match s {
            SearchArg::Prior => SearchKind::Prior,
            SearchArg::Block => SearchKind::Block,
        }),
        block: cli.block,
        adaptive: cli.adaptive.map(|AdaptiveArg::Human| Adaptive::Human),
        map_strength: cli.map_strength,
        rd_lambda: cli.rd_lambda,
        // With --jnd-map the model chooses the map written, not an encode option.
        pixel_model: cli.jnd_model.filter(|_| cli.jnd_map.is_none()).map(|_| pixel_model(cli)),
        verify: cli.verify,
        heif_chroma: cli.heif_chroma.map(|c| match c {
            HeifChromaArg::C420 => Sampling::S420,
            HeifChromaArg::C444 => Sampling::S444,
        }),
        heif_preset: cli.heif_preset.clone(),
        quant_table: cli.quant_table,
        jpeg: jpeg_options(cli)?,
        icc: match &cli.icc {
            Some(path) => {
                Some(std::fs::read(path).with_context(|| format!("reading ICC profile {}", path.display()))?)
            }
            None => None,
        },
        max_memory: cli.maxmemory,
        targa: cli.targa,
        visuals: cli.report.as_deref().is_some_and(crate::cli::io::is_html_report),
        measure_saving: cli.report.is_some() || cli.verbose > 0,
        force: cli.force,
        ..Request::default()
    };
    for (option, text) in [(Opt::Distance, &cli.distance), (Opt::Ssimulacra2, &cli.ssimulacra2)] {
        if let Some(text) = text {
            request.set(option, Value::Text(text)).map_err(|e| anyhow::anyhow!(describe(&e)))?;
        }
    }
    Ok(request)
}

fn sampling(arg: SamplingArg) -> Sampling {
    match arg {
        SamplingArg::S420 => Sampling::S420,
        SamplingArg::S444 => Sampling::S444,
    }
}

/// Maps `cli` to the plan's settings through the vocabulary.
pub fn map(cli: &Cli, batch: bool) -> anyhow::Result<Mapped> {
    let Resolved { settings, device, warnings } = request(cli)?.resolve().map_err(spelled)?;
    let mut lines: Vec<String> = warnings.iter().map(|w| w.describe(switch)).collect();
    // The command line's own switches, which steer batch mode and --jnd-map rather than an encode.
    if cli.jnd_map.is_some()
        && cli.device.is_some_and(|d| d != DeviceArg::Cpu)
        && !warnings.iter().any(|w| w.option == Opt::Device)
    {
        lines.push("--device has no effect: --jnd-map computes the pixel-wise JND map on the CPU".into());
    }
    for (given, name) in
        [(cli.jobs.is_some(), "-j"), (cli.recursive, "--recursive"), (cli.skip_existing, "--skip-existing")]
    {
        if given && !batch {
            lines.push(format!("{name} has no effect with one input and no --outdir (it steers batch mode)"));
        }
    }
    Ok(Mapped { settings, device, warnings: lines })
}

/// cjpeg's JPEG switches as [`JpegOptions`] (reads `-qtables`).
fn jpeg_options(cli: &Cli) -> anyhow::Result<JpegOptions> {
    let qualities = cli.quality.as_ref().map(|q| q.0.as_slice());
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
