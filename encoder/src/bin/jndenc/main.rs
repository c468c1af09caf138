//! `jndenc`: a drop-in replacement for `cjpeg`. See `jndenc --help`.

mod argv;
mod batch;
mod cli;

use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, bail};
use clap::{CommandFactory, Parser};
use jndenc::codec::{self, Codec, DctMethod, JpegColor, JpegOptions};
use jndenc::{DecodeOptions, InputFormat, Limits, decode};

use cli::{Cli, CodecArg, DctArg, FormatArg, StripArg};

/// How a successful run ended.
pub(crate) enum Outcome {
    Clean,
    Warnings,
}

fn main() -> ExitCode {
    let args = argv::normalise(std::env::args_os().collect(), &Cli::command());
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            use clap::error::ErrorKind;
            if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
                let _ = e.print();
                return ExitCode::SUCCESS;
            }
            let rendered = e.render().to_string();
            let first = rendered.lines().next().unwrap_or("invalid arguments");
            eprintln!("jndenc: {} (see jndenc --help)", first.trim_start_matches("error: "));
            return ExitCode::FAILURE;
        }
    };
    match run(&cli) {
        Ok(Outcome::Clean) => ExitCode::SUCCESS,
        Ok(Outcome::Warnings) => ExitCode::from(2),
        Err(e) => {
            eprintln!("jndenc: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn version_line() -> String {
    format!(
        "jndenc version {} (mozjpeg {}, libheif {})",
        jndenc::VERSION,
        if cfg!(feature = "mozjpeg") { "on" } else { "off" },
        if cfg!(feature = "heif") { "on" } else { "off" },
    )
}

fn run(cli: &Cli) -> anyhow::Result<Outcome> {
    if cli.print_man {
        let mut page = Vec::new();
        clap_mangen::Man::new(Cli::command()).render(&mut page)?;
        std::io::stdout().write_all(&page)?;
        return Ok(Outcome::Clean);
    }
    if cli.version {
        eprintln!("{}", version_line());
        return Ok(Outcome::Clean);
    }
    if cli.verbose > 0 {
        eprintln!("{}", version_line());
    }
    if cli.arithmetic {
        bail!("arithmetic coding is not supported: jndenc writes Huffman-coded JPEG only");
    }
    if let Some(report) = &cli.report {
        batch::check_report_name(report)?;
    }
    if cli.outdir.is_none()
        && let Some(dir) = cli.input.iter().find(|p| p.is_dir())
    {
        bail!("{} is a directory: to encode the images in it, give --outdir", dir.display());
    }
    let inputs = expand_inputs(&cli.input)?;
    if inputs.len() > 1 || cli.outdir.is_some() {
        return batch::run_batch(cli, &inputs);
    }
    let started = Instant::now();

    // Input.
    let input_path = inputs.first().map(PathBuf::as_path).filter(|p| *p != Path::new("-"));
    let bytes = read_input(input_path)?;
    let input_name = input_path.map_or_else(|| "standard input".to_string(), |p| p.display().to_string());
    let image = decode_input(cli, &bytes, &input_name)?;

    if let Some(path) = &cli.jnd_map {
        return write_jnd_map(cli, &image, path, input_path);
    }

    let decider = batch::load_decider(cli)?;
    let output_name = cli.outfile.as_ref().map_or_else(|| "-".to_string(), |p| p.display().to_string());
    let result = batch::encode_one(cli, &decider, &image, &bytes, &input_name, &output_name, started)?;
    for warning in &result.warnings {
        eprintln!("jndenc: warning: {warning}");
    }

    // Output.
    match &cli.outfile {
        Some(path) => jndenc::output::write_atomic(path, &result.bytes, input_path)?,
        None => {
            let mut stdout = std::io::stdout().lock();
            stdout
                .write_all(&result.bytes)
                .and_then(|()| stdout.flush())
                .context("writing standard output")?;
        }
    }
    if cli.verbose > 0 || result.report.copied_input {
        batch::describe(&result.report);
    }
    if let Some(path) = &cli.report {
        batch::write_report(path, &jndenc::report::Report::new(vec![result.report], Vec::new()), input_path)?;
    }
    Ok(if result.warnings.is_empty() { Outcome::Clean } else { Outcome::Warnings })
}

/// Decodes an input with the command line's limits and metadata switches applied.
pub(crate) fn decode_input(cli: &Cli, bytes: &[u8], input_name: &str) -> anyhow::Result<jndenc::Image> {
    let mut limits = Limits::default();
    if let Some(max) = cli.maxmemory {
        limits.max_memory = max;
    }
    let options = DecodeOptions { format: cli.targa.then_some(InputFormat::Targa), limits };
    let mut image = decode::decode(bytes, &options).with_context(|| format!("reading {input_name}"))?;
    if let Some(icc_path) = &cli.icc {
        let icc =
            std::fs::read(icc_path).with_context(|| format!("reading ICC profile {}", icc_path.display()))?;
        image.metadata.icc = Some(icc);
    }
    if matches!(cli.strip, StripArg::Exif | StripArg::All) {
        image.metadata.exif = None;
    }
    if matches!(cli.strip, StripArg::Icc | StripArg::All) {
        image.metadata.icc = None;
    }
    if cli.verbose > 0 {
        eprintln!(
            "jndenc: {input_name}: {}x{} {:?}, ICC {}, EXIF {}",
            image.width(),
            image.height(),
            image.color(),
            image.metadata.icc.as_ref().map_or("none".into(), |p| format!("{} bytes", p.len())),
            image.metadata.exif.as_ref().map_or("none".into(), |p| format!("{} bytes", p.len())),
        );
    }
    Ok(image)
}

/// Inputs as given, with folders replaced by the image files directly inside them (sorted).
fn expand_inputs(inputs: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for input in inputs {
        if input.is_dir() {
            let mut files: Vec<PathBuf> = std::fs::read_dir(input)
                .with_context(|| format!("listing {}", input.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    p.is_file()
                        && p.extension().and_then(|e| e.to_str()).is_some_and(|e| {
                            matches!(
                                e.to_ascii_lowercase().as_str(),
                                "png"
                                    | "ppm"
                                    | "pgm"
                                    | "pnm"
                                    | "bmp"
                                    | "tga"
                                    | "gif"
                                    | "jpg"
                                    | "jpeg"
                                    | "heic"
                                    | "heif"
                            )
                        })
                })
                .collect();
            files.sort();
            if files.is_empty() {
                bail!("{} holds no image files", input.display());
            }
            out.extend(files);
        } else {
            out.push(input.clone());
        }
    }
    Ok(out)
}

/// `--jnd-map`: the pixel-wise JND map as a grayscale PNG, written atomically.
fn write_jnd_map(
    cli: &Cli,
    image: &jndenc::Image,
    path: &Path,
    input: Option<&Path>,
) -> anyhow::Result<Outcome> {
    let model = match cli.jnd_model {
        cli::JndModelArg::Wu2017 => jnd_model::PixelJndModel::Wu2017,
        cli::JndModelArg::Yang2005 => jnd_model::PixelJndModel::Yang2005,
    };
    let started = Instant::now();
    let map = model.compute(image);
    let png = jndenc::encode_png(&map.to_image())?;
    jndenc::output::write_atomic(path, &png, input)?;
    if cli.verbose > 0 {
        let s = map.stats();
        eprintln!(
            "jndenc: {model:?} JND map {}x{}: min {:.2} mean {:.2} max {:.2} code values ({:.1} ms); PNG gray = {} x JND",
            map.width(),
            map.height(),
            s.min,
            s.mean,
            s.max,
            started.elapsed().as_secs_f64() * 1e3,
            jnd_model::pixel_jnd::VIEW_SCALE
        );
    }
    Ok(Outcome::Clean)
}

pub(crate) fn read_input(path: Option<&Path>) -> anyhow::Result<Vec<u8>> {
    match path {
        Some(path) => {
            if path.is_dir() {
                bail!("{} is a directory, not an image", path.display());
            }
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))
        }
        None => {
            let mut stdin = std::io::stdin().lock();
            if stdin.is_terminal() {
                bail!("no input file given and standard input is a terminal (see jndenc --help)");
            }
            let mut bytes = Vec::new();
            stdin.read_to_end(&mut bytes).context("reading standard input")?;
            Ok(bytes)
        }
    }
}

/// Switches that only make sense for JPEG output.
fn jpeg_only_switches(cli: &Cli) -> Vec<&'static str> {
    let mut used = Vec::new();
    let mut check = |on: bool, name: &'static str| {
        if on {
            used.push(name);
        }
    };
    check(cli.grayscale, "-grayscale");
    check(cli.rgb, "-rgb");
    check(cli.baseline, "-baseline");
    check(cli.dct.is_some(), "-dct");
    check(cli.restart.is_some(), "-restart");
    check(cli.smooth.is_some(), "-smooth");
    check(cli.sample.is_some(), "-sample");
    check(cli.qtables.is_some(), "-qtables");
    check(cli.qslots.is_some(), "-qslots");
    check(cli.quant_table.is_some(), "-quant-table");
    check(cli.quant_baseline, "-quant-baseline");
    check(cli.notrellis, "-notrellis");
    check(cli.revert, "-revert");
    check(cli.nojfif, "-nojfif");
    used
}

pub(crate) fn build_codec(cli: &Cli) -> anyhow::Result<(Box<dyn Codec>, u8)> {
    let qualities = cli.quality.as_ref().map(|q| q.0.clone()).unwrap_or_else(|| vec![75]);
    let keep_icc = !matches!(cli.strip, StripArg::Icc | StripArg::All);
    let keep_exif = !matches!(cli.strip, StripArg::Exif | StripArg::All);
    match cli.format {
        FormatArg::Heif => {
            let used = jpeg_only_switches(cli);
            if !used.is_empty() {
                bail!("{} apply to JPEG output only, not --format heif", used.join(", "));
            }
            heif_codec(cli, keep_icc, keep_exif).map(|c| (c, qualities[0]))
        }
        FormatArg::Jpeg => {
            // libjpeg's quality scaling treats 0 as 1.
            let slot = |q: u8| q.max(1);
            let mut options = JpegOptions {
                extra_slot_qualities: qualities[1..].iter().map(|&q| slot(q)).collect(),
                keep_icc,
                keep_exif,
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
                options.scale_qtables = cli.quality.is_some();
            }
            let codec: Box<dyn Codec> = match cli.codec {
                CodecArg::Rust => Box::new(codec::RustJpeg::new(options)),
                CodecArg::Mozjpeg => mozjpeg_codec(options)?,
            };
            Ok((codec, slot(qualities[0])))
        }
    }
}

#[cfg(feature = "mozjpeg")]
fn mozjpeg_codec(options: JpegOptions) -> anyhow::Result<Box<dyn Codec>> {
    Ok(Box::new(codec::MozJpeg::new(options)))
}

#[cfg(not(feature = "mozjpeg"))]
fn mozjpeg_codec(_options: JpegOptions) -> anyhow::Result<Box<dyn Codec>> {
    bail!("this jndenc was built without mozjpeg; use --codec rust")
}

#[cfg(feature = "heif")]
fn heif_codec(cli: &Cli, keep_icc: bool, keep_exif: bool) -> anyhow::Result<Box<dyn Codec>> {
    use codec::{Heif, HeifChroma, HeifOptions};
    Ok(Box::new(Heif::new(HeifOptions {
        chroma: match cli.heif_chroma {
            cli::HeifChromaArg::C420 => HeifChroma::C420,
            cli::HeifChromaArg::C444 => HeifChroma::C444,
        },
        preset: cli.heif_preset.clone(),
        keep_icc,
        keep_exif,
    })))
}

#[cfg(not(feature = "heif"))]
fn heif_codec(_cli: &Cli, _keep_icc: bool, _keep_exif: bool) -> anyhow::Result<Box<dyn Codec>> {
    bail!("this jndenc was built without HEIF support (the `heif` feature)")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsString;

    fn norm(args: &[&str]) -> Vec<String> {
        let args: Vec<OsString> =
            std::iter::once("jndenc").chain(args.iter().copied()).map(OsString::from).collect();
        argv::normalise(args, &Cli::command()).into_iter().skip(1).map(|a| a.into_string().unwrap()).collect()
    }

    #[test]
    fn cjpeg_abbreviations_resolve_as_cjpeg_does() {
        assert_eq!(norm(&["-q", "80"]), ["--quality", "80"]);
        assert_eq!(norm(&["-QUAL", "80"]), ["--quality", "80"]);
        assert_eq!(norm(&["-o"]), ["--optimize"]);
        assert_eq!(norm(&["-outf", "x.jpg"]), ["--outfile", "x.jpg"]);
        assert_eq!(
            norm(&["-gr", "-grey", "-dc", "int", "-d"]),
            ["--grayscale", "--grayscale", "--dct", "int", "--verbose"]
        );
        assert_eq!(norm(&["-ver"]), ["--verbose"]);
        assert_eq!(norm(&["-vers"]), ["--version"]);
        assert_eq!(norm(&["-r", "2"]), ["--restart", "2"]);
        assert_eq!(norm(&["-sa", "1x1", "-sm", "10"]), ["--sample", "1x1", "--smooth", "10"]);
        assert_eq!(
            norm(&["-optimise", "-p", "-b", "-t"]),
            ["--optimize", "--progressive", "--baseline", "--targa"]
        );
    }

    #[test]
    fn own_switches_and_values_are_left_alone() {
        assert_eq!(norm(&["-format", "heif"]), ["--format", "heif"]);
        assert_eq!(norm(&["-codec", "rust"]), ["--codec", "rust"]);
        assert_eq!(norm(&["--outfile", "-q"]), ["--outfile", "-q"]);
        assert_eq!(norm(&["-outfile", "-quality"]), ["--outfile", "-quality"]);
        assert_eq!(norm(&["-", "-zzz", "-h"]), ["-", "--zzz", "-h"]);
        assert_eq!(norm(&["--", "-q"]), ["--", "-q"]);
    }

    #[test]
    fn every_cjpeg_switch_maps_to_a_real_argument() {
        let command = Cli::command();
        for (keyword, _, long) in argv::CJPEG_SWITCHES {
            assert!(
                command.get_arguments().any(|a| a.get_long() == Some(long)),
                "{keyword} maps to --{long}, which the CLI does not define"
            );
        }
        command.debug_assert();
    }

    #[test]
    fn value_parsers_accept_cjpeg_syntax_and_reject_nonsense() {
        assert_eq!(cli::parse_quality_list("90,80").unwrap().0, [90, 80]);
        assert!(cli::parse_quality_list("101").is_err());
        assert!(cli::parse_quality_list("abc").is_err());
        assert_eq!(cli::parse_sample("2x1,1x1").unwrap().0, [(2, 1), (1, 1)]);
        assert!(cli::parse_sample("5x1").is_err());
        assert_eq!(cli::parse_restart("16B").unwrap(), codec::Restart::Blocks(16));
        assert_eq!(cli::parse_restart("2").unwrap(), codec::Restart::Rows(2));
        assert!(cli::parse_restart("70000").is_err());
        assert_eq!(cli::parse_maxmemory("64M").unwrap(), 64_000_000);
        assert_eq!(cli::parse_maxmemory("500").unwrap(), 500_000);
        assert!(cli::parse_maxmemory("lots").is_err());
    }
}
