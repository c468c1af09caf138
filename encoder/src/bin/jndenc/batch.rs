//! Batch mode: several inputs (or the images in a folder) to `--outdir`, in parallel, through one
//! [`EncodePlan`]; one failure does not stop the others.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use jndenc::EncodePlan;
use jndenc::report::Report;
use rayon::prelude::*;

use crate::cli::Cli;
use crate::io::{Outcome, describe, read_input, write_report};

/// Encodes every input to `--outdir` with `plan`.
pub fn run_batch(cli: &Cli, plan: &EncodePlan, inputs: &[PathBuf]) -> anyhow::Result<Outcome> {
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
    let extension = plan.format().extension();
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
    std::fs::create_dir_all(outdir).with_context(|| format!("creating {}", outdir.display()))?;
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
    let results: Vec<Result<jndenc::Encoding, String>> = pool.install(|| {
        inputs
            .par_iter()
            .zip(outputs.par_iter())
            .map(|(input, output)| {
                let name = input.display().to_string();
                let result = (|| -> anyhow::Result<jndenc::Encoding> {
                    let bytes = read_input(Some(input))?;
                    let image = plan.decode(&bytes).with_context(|| format!("reading {name}"))?;
                    let mut one = plan
                        .encode(&image, Some(&bytes), &name)
                        .with_context(|| format!("encoding {name}"))?;
                    one.report.output = output.display().to_string();
                    jndenc::output::write_atomic(output, &one.bytes, Some(input))?;
                    Ok(one)
                })()
                .map_err(|e| format!("{e:#}"));
                match &result {
                    Ok(one) => bar.set_message(format!("{name}: quality {}", one.report.quality)),
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
    let input_bytes: usize = report.images.iter().map(|i| i.input_bytes).sum();
    let mut line = format!(
        "jndenc: {} of {} images encoded, {} failed; {} bytes written from {} bytes of input",
        t.images,
        inputs.len(),
        t.failed,
        t.bytes,
        input_bytes
    );
    if t.top_bytes > 0 {
        line.push_str(&format!("; {} at the highest quality ({:.1} % saved)", t.top_bytes, t.saving_percent));
    }
    eprintln!("{line}");
    if let Some(path) = &cli.report {
        write_report(path, &report, None)?;
    }
    Ok(if t.failed > 0 || warned { Outcome::Warnings } else { Outcome::Clean })
}
