//! The `jndenc` command line, a drop-in replacement for `cjpeg` (see `jndenc --help`), as a library
//! function: the `jndenc` binary and the Python package's `python -m jndenc` both call [`run`], so
//! they are the same program. Behind the `binary` feature (clap).

mod args;
mod argv;
mod batch;
mod io;
mod switches;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::EncodePlan;
use crate::{Models, Names};
use anyhow::{Context, bail};
use clap::{CommandFactory, Parser};

use args::Cli;
use io::Outcome;

/// Runs the command line on `args` (the program name first, as `std::env::args_os` gives them) and
/// returns its exit status: 0 success, 1 failure, 2 success with warnings (as cjpeg).
pub fn run(args: Vec<std::ffi::OsString>) -> u8 {
    let original = args;
    let args = argv::normalise(original.clone(), &Cli::command());
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            use clap::error::ErrorKind;
            if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
                let _ = e.print();
                return 0;
            }
            let rendered = e.render().to_string();
            let first = rendered.lines().next().unwrap_or("invalid arguments");
            let first = argv::original_spelling(first.trim_start_matches("error: "), &original);
            eprintln!("jndenc: {first} (see jndenc --help)");
            return 1;
        }
    };
    match run_cli(&cli) {
        Ok(Outcome::Clean) => 0,
        Ok(Outcome::Warnings) => 2,
        Err(e) => {
            eprintln!("jndenc: {e:#}");
            1
        }
    }
}

fn version_line() -> String {
    format!(
        "jndenc version {} (mozjpeg {}, jpegli {}, libheif {})",
        crate::VERSION,
        if cfg!(feature = "mozjpeg") { "on" } else { "off" },
        if cfg!(feature = "jpegli") { "on" } else { "off" },
        if cfg!(feature = "heif") { "on" } else { "off" },
    )
}

fn run_cli(cli: &Cli) -> anyhow::Result<Outcome> {
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
        io::check_report_name(report)?;
    }
    if cli.outdir.is_none()
        && let Some(dir) = cli.input.iter().find(|p| p.is_dir())
    {
        bail!("{} is a directory: to encode the images in it, give --outdir", dir.display());
    }
    let batch = cli.input.len() > 1 || cli.outdir.is_some();
    let inputs = &cli.input;
    let mapped = switches::map(cli, batch)?;
    // The device is checked before any input is read: a GPU that cannot run is one line, exit 1.
    let models = Models::on(mapped.device).map_err(switches::spelled)?;
    for warning in &mapped.warnings {
        eprintln!("jndenc: warning: {warning}");
    }
    let switch_warnings = !mapped.warnings.is_empty();
    if let Some(map_path) = &cli.jnd_map
        && !batch
    {
        let input_path = inputs.first().map(PathBuf::as_path).filter(|p| *p != Path::new("-"));
        let bytes = io::read_input(input_path)?;
        let name = input_path.map_or_else(|| "standard input".to_string(), |p| p.display().to_string());
        let image = crate::decode::decode(&bytes, &mapped.settings.decode)
            .with_context(|| format!("reading {name}"))?;
        return write_jnd_map(cli, &image, map_path, input_path);
    }
    let plan = EncodePlan::new(mapped.settings, &models).map_err(switches::spelled)?;
    let outcome = if batch { batch::run_batch(cli, &plan)? } else { run_one(cli, &plan, inputs)? };
    Ok(if switch_warnings { Outcome::Warnings } else { outcome })
}

/// One input (a file or standard input) to `-outfile` or standard output.
fn run_one(cli: &Cli, plan: &EncodePlan, inputs: &[PathBuf]) -> anyhow::Result<Outcome> {
    let started = Instant::now();
    let input_path = inputs.first().map(PathBuf::as_path).filter(|p| *p != Path::new("-"));
    let bytes = io::read_input(input_path)?;
    let input_name = input_path.map_or_else(|| "standard input".to_string(), |p| p.display().to_string());
    let image = plan.decode(&bytes).with_context(|| format!("reading {input_name}"))?;
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
    let output_name = cli.outfile.as_ref().map_or_else(|| "-".to_string(), |p| p.display().to_string());
    let names = Names { input: &input_name, output: &output_name };
    let result = plan
        .encode_decoded(&image, Some(&bytes), names, started)
        .with_context(|| format!("encoding {input_name}"))?;
    for warning in &result.warnings {
        eprintln!("jndenc: warning: {warning}");
    }
    match &cli.outfile {
        Some(path) => crate::output::write_atomic(path, &result.bytes, input_path)?,
        None => {
            let mut stdout = std::io::stdout().lock();
            stdout
                .write_all(&result.bytes)
                .and_then(|()| stdout.flush())
                .context("writing standard output")?;
        }
    }
    if cli.verbose > 0 || result.report.copied_input {
        io::describe(&result.report);
    }
    if cli.verbose > 1
        && let Some(peak) = crate::batch::peak_memory()
    {
        eprintln!("jndenc: peak memory {} MB", peak.div_ceil(1_000_000));
    }
    if let Some(path) = &cli.report {
        io::write_report(path, &crate::report::Report::new(vec![result.report], Vec::new()), input_path)?;
    }
    Ok(if result.warnings.is_empty() { Outcome::Clean } else { Outcome::Warnings })
}

/// `--jnd-map`: the pixel-wise JND map as a grayscale PNG, written atomically.
fn write_jnd_map(
    cli: &Cli,
    image: &crate::Image,
    path: &Path,
    input: Option<&Path>,
) -> anyhow::Result<Outcome> {
    let model = switches::pixel_model(cli);
    let started = Instant::now();
    let map = model.compute(image);
    let png = crate::encode_png(&map.to_image())?;
    crate::output::write_atomic(path, &png, input)?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsString;

    #[test]
    fn every_option_of_the_vocabulary_is_a_switch() {
        let command = Cli::command();
        for info in crate::settings::OPTIONS {
            let long = info.cli.trim_start_matches('-');
            assert!(
                command.get_arguments().any(|arg| arg.get_long() == Some(long)),
                "{}: the table says {}, which the command line lacks",
                info.name,
                info.cli
            );
        }
    }

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
    fn parse_errors_keep_the_users_spelling() {
        let original: Vec<OsString> =
            ["jndenc", "-qualty", "80", "--outfile", "x"].map(OsString::from).to_vec();
        assert_eq!(
            argv::original_spelling("unexpected argument '--qualty' found", &original),
            "unexpected argument '-qualty' found"
        );
        assert_eq!(
            argv::original_spelling("unexpected argument '--zzz' found", &original),
            "unexpected argument '--zzz' found"
        );
    }

    #[test]
    fn value_parsers_accept_cjpeg_syntax_and_reject_nonsense() {
        assert_eq!(args::parse_quality_list("90,80").unwrap().0, [90, 80]);
        assert!(args::parse_quality_list("101").is_err());
        assert!(args::parse_quality_list("abc").is_err());
        assert_eq!(args::parse_sample("2x1,1x1").unwrap().0, [(2, 1), (1, 1)]);
        assert!(args::parse_sample("5x1").is_err());
        assert_eq!(args::parse_restart("16B").unwrap(), crate::codec::Restart::Blocks(16));
        assert_eq!(args::parse_restart("2").unwrap(), crate::codec::Restart::Rows(2));
        assert!(args::parse_restart("70000").is_err());
        assert_eq!(args::parse_maxmemory("64M").unwrap(), 64_000_000);
        assert_eq!(args::parse_maxmemory("500").unwrap(), 500_000);
        assert!(args::parse_maxmemory("lots").is_err());
    }
}
