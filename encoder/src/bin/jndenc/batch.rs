//! Auto quality, reports and batch mode for the `jndenc` binary.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, bail};
use jndenc::Image;
use jndenc::auto::{AutoOptions, Decider, ModelDecider, Target, TeacherDecider, encode_at_jnd};
use jndenc::codec::OutputFormat;
use jndenc::report::{ImageReport, Report, StageSeconds, saving_percent};
use rayon::prelude::*;

use crate::cli::{Cli, DeciderArg, TargetArg};
use crate::{Outcome, build_codec, decode_input, read_input};

/// Who chooses the quality.
pub enum AnyDecider {
    /// `-quality` was given: no search.
    Fixed,
    /// The embedded VP-JND model.
    Model(Box<ModelDecider>),
    /// The butteraugli teacher.
    Teacher(TeacherDecider),
    /// Per-block quantisation from a JND map at `-quality` (no search).
    Adaptive(MapSource),
}

/// Default strength of the DMV-JND map under `--target machine`.
pub const MACHINE_MAP_STRENGTH: f32 = 0.5;

/// Where the per-block JND map comes from.
pub enum MapSource {
    /// The embedded DMV-JND model (`--target machine`).
    Machine(Box<jnd_model::dmvjnd::DmvJnd>),
    /// A pixel-wise JND model (`--adaptive human`).
    Human(jnd_model::PixelJndModel),
}

impl MapSource {
    /// The luma map and, for the DMV-JND, the chroma map, both times `strength`.
    fn maps(
        &self,
        image: &Image,
        strength: f32,
    ) -> anyhow::Result<(jnd_model::JndMap, Option<jnd_model::JndMap>)> {
        Ok(match self {
            MapSource::Machine(model) => {
                let maps = model.machine_jnd_components(image).context("computing the DMV-JND map")?;
                (maps.luma.scaled(strength), Some(maps.chroma.scaled(strength)))
            }
            MapSource::Human(model) => (model.compute(image).scaled(strength), None),
        })
    }

    /// `--map-strength` when not given: what the machine-coding evaluation found best for the DMV-JND
    /// (jnd-model/weights/dmvjnd-machine-coding.md), the map as computed for the pixel JND.
    fn default_strength(&self) -> f32 {
        match self {
            MapSource::Machine(_) => MACHINE_MAP_STRENGTH,
            MapSource::Human(_) => 1.0,
        }
    }

    fn name(&self) -> &'static str {
        match self {
            MapSource::Machine(_) => "dmv-jnd",
            MapSource::Human(_) => "pixel-jnd",
        }
    }
}

fn output_format(cli: &Cli) -> OutputFormat {
    match cli.format {
        crate::cli::FormatArg::Jpeg => OutputFormat::Jpeg,
        crate::cli::FormatArg::Heif => OutputFormat::Heif,
    }
}

fn target(cli: &Cli) -> Target {
    match cli.target {
        TargetArg::HumanFirstJnd => Target::HumanFirstJnd,
        TargetArg::Strict => Target::Strict,
        // Not a search target; `load_decider` routes it to the adaptive path first.
        TargetArg::Machine => Target::HumanFirstJnd,
    }
}

fn target_name(cli: &Cli) -> &'static str {
    match (cli.target, cli.adaptive) {
        (TargetArg::Machine, _) => "machine",
        (_, Some(crate::cli::AdaptiveArg::Human)) => "adaptive-human",
        _ => target(cli).name(),
    }
}

/// Loads what `cli` asks to decide with (the model only when a search will run).
pub fn load_decider(cli: &Cli) -> anyhow::Result<AnyDecider> {
    if cli.map_strength.is_some() && cli.target != TargetArg::Machine && cli.adaptive.is_none() {
        bail!("--map-strength applies to --target machine and --adaptive human only");
    }
    if cli.target == TargetArg::Machine || cli.adaptive.is_some() {
        if output_format(cli) != OutputFormat::Jpeg {
            bail!("--target machine and --adaptive write JPEG only (libheif exposes no per-block quantiser)");
        }
        if cli.target == TargetArg::Machine && cli.adaptive.is_some() {
            bail!("--target machine and --adaptive human are two different maps: give one");
        }
        if cli.qtables.is_some() {
            bail!("--target machine and --adaptive take the base tables from -quality, not -qtables");
        }
        return Ok(AnyDecider::Adaptive(if cli.target == TargetArg::Machine {
            let device = jnd_model::select_device(jnd_model::Accelerator::Cpu)?;
            MapSource::Machine(Box::new(
                jnd_model::dmvjnd::DmvJnd::embedded(&device).context("loading the embedded DMV-JND model")?,
            ))
        } else {
            MapSource::Human(match cli.jnd_model {
                crate::cli::JndModelArg::Wu2017 => jnd_model::PixelJndModel::Wu2017,
                crate::cli::JndModelArg::Yang2005 => jnd_model::PixelJndModel::Yang2005,
            })
        }));
    }
    // -qtables without -quality means "these tables as written", as in cjpeg: nothing to search.
    if cli.quality.is_some() || cli.qtables.is_some() {
        return Ok(AnyDecider::Fixed);
    }
    Ok(match cli.decider {
        DeciderArg::Model => AnyDecider::Model(Box::new(
            ModelDecider::embedded(target(cli), output_format(cli))
                .context("loading the embedded VP-JND model")?,
        )),
        DeciderArg::Teacher => AnyDecider::Teacher(TeacherDecider { tau: target(cli).tau() }),
    })
}

/// One encoded image.
pub struct OneResult {
    /// The output file.
    pub bytes: Vec<u8>,
    /// Codec warnings.
    pub warnings: Vec<String>,
    /// What happened.
    pub report: ImageReport,
}

fn format_name(format: OutputFormat) -> &'static str {
    match format {
        OutputFormat::Jpeg => "jpeg",
        OutputFormat::Heif => "heif",
    }
}

/// Encodes one decoded image as `cli` asks: at `-quality`, or at the JND found by the search.
pub fn encode_one(
    cli: &Cli,
    decider: &AnyDecider,
    image: &Image,
    input_bytes: &[u8],
    input_name: &str,
    output_name: &str,
    started: Instant,
) -> anyhow::Result<OneResult> {
    let (codec, fixed_quality) = build_codec(cli)?;
    let mut options = AutoOptions::for_format(codec.format());
    if let Some(min) = cli.min_quality {
        options.min_quality = min;
    }
    if let Some(max) = cli.max_quality {
        options.max_quality = max;
    }
    if options.min_quality > options.max_quality {
        bail!("--min-quality {} is above --max-quality {}", options.min_quality, options.max_quality);
    }
    options.block = usize::from(cli.block);
    let run = |d: &dyn Fn() -> jndenc::Result<jndenc::auto::AutoEncoded>| {
        d().with_context(|| format!("searching the JND quality of {input_name}"))
    };
    let (quality, encoded, candidates, saturated, times, target_name, decider_name) = match decider {
        AnyDecider::Fixed => {
            let encoded =
                codec.encode(image, fixed_quality).with_context(|| format!("encoding {input_name}"))?;
            (fixed_quality, encoded, Vec::new(), false, Default::default(), "fixed", "fixed")
        }
        AnyDecider::Model(d) => {
            let r = run(&|| encode_at_jnd(image, codec.as_ref(), d.as_ref(), &options))?;
            (r.quality, r.encoded, r.probes, r.saturated, r.times, target(cli).name(), d.name())
        }
        AnyDecider::Teacher(d) => {
            let r = run(&|| encode_at_jnd(image, codec.as_ref(), d, &options))?;
            (r.quality, r.encoded, r.probes, r.saturated, r.times, target(cli).name(), d.name())
        }
        AnyDecider::Adaptive(source) => {
            let strength = cli.map_strength.unwrap_or_else(|| source.default_strength());
            let (luma, chroma) =
                source.maps(image, strength).with_context(|| format!("mapping {input_name}"))?;
            let adaptive = jndenc::codec::adaptive::AdaptiveOptions {
                quality: fixed_quality.max(1),
                table_set: cli.quant_table.unwrap_or(0),
                chroma: match cli.sample.as_ref().and_then(|s| s.0.first()) {
                    Some((1, 1)) => jndenc::codec::adaptive::ChromaSampling::S444,
                    _ => jndenc::codec::adaptive::ChromaSampling::S420,
                },
                progressive: !(cli.baseline || cli.revert),
            };
            let image = if cli.grayscale { image.to_gray() } else { image.clone() };
            let encoded = jndenc::codec::adaptive::encode_adaptive_components(
                &image,
                &luma,
                chroma.as_ref(),
                &adaptive,
            )
            .with_context(|| format!("encoding {input_name}"))?;
            (fixed_quality, encoded, Vec::new(), false, Default::default(), target_name(cli), source.name())
        }
    };
    let top_quality = if matches!(decider, AnyDecider::Fixed | AnyDecider::Adaptive(_)) {
        100
    } else {
        options.max_quality
    };
    let top_bytes = if let Some(p) = candidates.iter().find(|p| p.quality == top_quality) {
        p.bytes
    } else if top_quality == quality {
        encoded.bytes.len()
    } else if cli.report.is_some() || cli.verbose > 0 || cli.outdir.is_some() {
        codec
            .encode(image, top_quality)
            .with_context(|| format!("encoding {input_name} at {top_quality}"))?
            .bytes
            .len()
    } else {
        0
    };
    let input_is_jpeg = input_bytes.first() == Some(&0xFF) && input_bytes.get(1) == Some(&0xD8);
    let copied_input = !matches!(decider, AnyDecider::Fixed | AnyDecider::Adaptive(_))
        && codec.format() == OutputFormat::Jpeg
        && input_is_jpeg
        && encoded.bytes.len() >= input_bytes.len();
    let (bytes, warnings) =
        if copied_input { (input_bytes.to_vec(), Vec::new()) } else { (encoded.bytes, encoded.warnings) };
    let verified_distance = if cli.verify {
        let decoded = if copied_input {
            jndenc::decode::decode(&bytes, &jndenc::DecodeOptions::default())?
        } else {
            codec.decode(&bytes)?
        };
        let decoded = if decoded.color() == image.color() { decoded } else { decoded.to_rgb() };
        let reference = if decoded.color() == image.color() { image.clone() } else { image.to_rgb() };
        Some(jnd_model::metrics::ButteraugliRef::new(&reference)?.compare(&decoded)?.pnorm3)
    } else {
        None
    };
    let report = ImageReport {
        input: input_name.to_string(),
        output: output_name.to_string(),
        format: format_name(codec.format()).to_string(),
        target: target_name.to_string(),
        decider: decider_name.to_string(),
        quality,
        bytes: bytes.len(),
        top_quality,
        top_bytes,
        saving_percent: saving_percent(bytes.len(), top_bytes),
        candidates: candidates.iter().map(|p| (p.quality, p.bytes, p.visible)).collect(),
        copied_input,
        saturated,
        seconds: StageSeconds {
            prepare: times.prepare.as_secs_f64(),
            encode: times.encode.as_secs_f64(),
            decode: times.decode.as_secs_f64(),
            judge: times.judge.as_secs_f64(),
            total: started.elapsed().as_secs_f64(),
        },
        verified_distance,
    };
    Ok(OneResult { bytes, warnings, report })
}

/// One line about an encoded image on standard error.
pub fn describe(report: &ImageReport) {
    let mut line = format!(
        "jndenc: {}: {} quality {} ({}, {}): {} bytes",
        report.input, report.format, report.quality, report.target, report.decider, report.bytes
    );
    if report.top_bytes > 0 {
        line.push_str(&format!(
            ", {:.1} % below quality {} ({} bytes)",
            report.saving_percent, report.top_quality, report.top_bytes
        ));
    }
    if !report.candidates.is_empty() {
        line.push_str(&format!(", {} candidates", report.candidates.len()));
    }
    if report.saturated {
        line.push_str("; even the highest quality was judged visible");
    }
    if report.copied_input {
        line.push_str("; no candidate was smaller than the input JPEG, so the input was copied unchanged");
    }
    if let Some(d) = report.verified_distance {
        line.push_str(&format!("; teacher distance {d:.3}"));
    }
    line.push_str(&format!(" in {:.2} s", report.seconds.total));
    eprintln!("{line}");
}

/// Refuses a report name whose extension says no format, before any work is done.
pub fn check_report_name(path: &Path) -> anyhow::Result<()> {
    match path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
        Some("json" | "csv" | "html" | "htm") => Ok(()),
        _ => bail!("--report {}: the name must end in .json, .csv or .html", path.display()),
    }
}

/// Writes `report` as JSON, CSV or HTML by `path`'s extension, atomically.
pub fn write_report(path: &Path, report: &Report, input: Option<&Path>) -> anyhow::Result<()> {
    let text = match path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
        Some("json") => report.to_json(),
        Some("csv") => report.to_csv(),
        Some("html" | "htm") => report.to_html(),
        _ => bail!("--report {}: the name must end in .json, .csv or .html", path.display()),
    };
    jndenc::output::write_atomic(path, text.as_bytes(), input)
        .with_context(|| format!("writing report {}", path.display()))
}

/// Batch mode: every input to `--outdir`, in parallel; one failure does not stop the others.
pub fn run_batch(cli: &Cli, inputs: &[PathBuf]) -> anyhow::Result<Outcome> {
    let Some(outdir) = &cli.outdir else {
        bail!("several inputs need --outdir (one output per input)");
    };
    if cli.outfile.is_some() {
        bail!("-outfile names one output; with several inputs use --outdir");
    }
    if cli.jnd_map.is_some() {
        bail!("--jnd-map takes one input");
    }
    if inputs.iter().any(|p| p == Path::new("-")) {
        bail!("standard input cannot be part of a batch");
    }
    if inputs.is_empty() {
        bail!("no inputs");
    }
    std::fs::create_dir_all(outdir).with_context(|| format!("creating {}", outdir.display()))?;
    let (codec, _) = build_codec(cli)?;
    let extension = codec.format().extension();
    let outputs: Vec<PathBuf> = inputs
        .iter()
        .map(|p| outdir.join(Path::new(p.file_stem().unwrap_or(p.as_os_str())).with_extension(extension)))
        .collect();
    for (i, out) in outputs.iter().enumerate() {
        if let Some(j) = outputs[..i].iter().position(|o| o == out) {
            bail!(
                "{} and {} would both be written to {}",
                inputs[j].display(),
                inputs[i].display(),
                out.display()
            );
        }
    }
    let decider = load_decider(cli)?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(cli.jobs.unwrap_or(0))
        .build()
        .context("starting the worker threads")?;
    // A progress bar on a terminal, nothing otherwise (logs stay clean).
    let bar = if std::io::stderr().is_terminal() {
        let bar = indicatif::ProgressBar::new(inputs.len() as u64);
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "{bar:30} {pos}/{len} images, {elapsed} elapsed, ~{eta} left {msg}",
        ) {
            bar.set_style(style);
        }
        bar
    } else {
        indicatif::ProgressBar::hidden()
    };
    let results: Vec<Result<OneResult, String>> = pool.install(|| {
        inputs
            .par_iter()
            .zip(outputs.par_iter())
            .map(|(input, output)| {
                let started = Instant::now();
                let name = input.display().to_string();
                let result = (|| -> anyhow::Result<OneResult> {
                    let bytes = read_input(Some(input))?;
                    let image = decode_input(cli, &bytes, &name)?;
                    let one = encode_one(
                        cli,
                        &decider,
                        &image,
                        &bytes,
                        &name,
                        &output.display().to_string(),
                        started,
                    )?;
                    jndenc::output::write_atomic(output, &one.bytes, Some(input))?;
                    Ok(one)
                })()
                .map_err(|e| format!("{e:#}"));
                match &result {
                    Ok(one) => bar.set_message(format!(
                        "{name}: quality {}, {:.1} % saved",
                        one.report.quality, one.report.saving_percent
                    )),
                    Err(e) => bar.suspend(|| eprintln!("jndenc: {e}")),
                }
                bar.inc(1);
                result
            })
            .collect()
    });
    bar.finish_and_clear();
    let mut images = Vec::new();
    let mut failures = Vec::new();
    let mut warned = false;
    for (input, result) in inputs.iter().zip(results) {
        match result {
            Ok(one) => {
                warned |= !one.warnings.is_empty();
                for w in &one.warnings {
                    eprintln!("jndenc: warning: {}: {w}", input.display());
                }
                if cli.verbose > 0 || one.report.copied_input {
                    describe(&one.report);
                }
                images.push(one.report);
            }
            Err(e) => failures.push((input.display().to_string(), e)),
        }
    }
    let report = Report::new(images, failures);
    let t = &report.totals;
    eprintln!(
        "jndenc: {} of {} images encoded, {} failed; {} bytes against {} at the highest quality ({:.1} % saved)",
        t.images,
        inputs.len(),
        t.failed,
        t.bytes,
        t.top_bytes,
        t.saving_percent
    );
    if let Some(path) = &cli.report {
        write_report(path, &report, None)?;
    }
    Ok(if t.failed > 0 || warned { Outcome::Warnings } else { Outcome::Clean })
}
