//! Batch mode: inputs (files, folders, with `--recursive` whole trees) to `--outdir` through the
//! library's batch loop ([`crate::batch`]): parallel within cores and a memory budget, one failure
//! does not stop the others, skips are reported.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use crate::EncodePlan;
use crate::batch::{self, BatchOptions};
use crate::report::Report;
use anyhow::{Context, bail};

use crate::cli::args::Cli;
use crate::cli::io::{Outcome, describe, write_report};

/// Encodes every input to `--outdir` with `plan`.
pub fn run_batch(cli: &Cli, plan: &EncodePlan) -> anyhow::Result<Outcome> {
    let Some(outdir) = &cli.outdir else {
        bail!("several inputs need --outdir (one output per input)");
    };
    if cli.outfile.is_some() {
        bail!("-outfile names one output; with several inputs use --outdir");
    }
    if cli.jnd_map.is_some() {
        bail!("--jnd-map takes one input");
    }
    let inputs: &[PathBuf] = &cli.input;
    if inputs.iter().any(|p| p == Path::new("-")) {
        bail!("standard input cannot be part of a batch");
    }
    if inputs.is_empty() {
        bail!("no inputs");
    }
    let options = BatchOptions {
        recursive: cli.recursive,
        skip_existing: cli.skip_existing,
        jobs: cli.jobs.unwrap_or(0),
        max_memory: cli.maxmemory.unwrap_or_else(batch::default_memory_budget),
    };
    let listing = batch::list(inputs, outdir, plan.format().extension(), &options)?;
    for skipped in &listing.skipped {
        eprintln!("jndenc: skipped {}: {}", skipped.path.display(), skipped.reason);
    }
    if listing.removed_temporaries > 0 {
        eprintln!("jndenc: removed {} temporary files an interrupted run left", listing.removed_temporaries);
    }
    std::fs::create_dir_all(outdir).with_context(|| format!("creating {}", outdir.display()))?;
    // A progress bar on a terminal, nothing otherwise (logs stay clean).
    let bar = if std::io::stderr().is_terminal() {
        let bar = indicatif::ProgressBar::new(listing.jobs.len() as u64);
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "{bar:30} {pos}/{len} images, {elapsed} elapsed, ~{eta} left {msg}",
        ) {
            bar.set_style(style);
        }
        bar
    } else {
        indicatif::ProgressBar::hidden()
    };
    let total = listing.jobs.len();
    let run = batch::run(plan, listing.jobs, &options, |outcome| {
        let name = outcome.job.input.display();
        match &outcome.result {
            Ok(one) => bar.set_message(format!("{name}: quality {}", one.report.quality)),
            Err(e) => bar.suspend(|| eprintln!("jndenc: {name}: {e}")),
        }
        bar.inc(1);
    })?;
    bar.finish_and_clear();
    let mut images = Vec::new();
    let mut failures = Vec::new();
    let mut warned = false;
    for outcome in run.outcomes {
        let input = outcome.job.input.display().to_string();
        match outcome.result {
            Ok(one) => {
                warned |= !one.warnings.is_empty();
                for w in &one.warnings {
                    eprintln!("jndenc: warning: {input}: {w}");
                }
                if cli.verbose > 0 || one.report.copied_input {
                    describe(&one.report);
                }
                images.push(one.report);
            }
            Err(e) => failures.push((input, e.to_string())),
        }
    }
    let unsupported = listing.skipped.iter().filter(|s| s.reason != batch::SkipReason::UpToDate).count();
    let mut report = Report::new(images, failures);
    report.totals.skipped = listing.skipped.len();
    let t = &report.totals;
    let input_bytes: usize = report.images.iter().map(|i| i.input_bytes).sum();
    let mut line = format!(
        "jndenc: {} of {} images encoded, {} failed, {} skipped; {} bytes written from {} bytes of input",
        t.images, total, t.failed, t.skipped, t.bytes, input_bytes
    );
    if t.already_encoded > 0 {
        line.push_str(&format!("; {} already jndenc's output, kept", t.already_encoded));
    }
    if t.top_bytes > 0 {
        line.push_str(&format!("; {} at the highest quality ({:.1} % saved)", t.top_bytes, t.saving_percent));
    }
    eprintln!("{line}");
    if cli.verbose > 0 {
        let peak =
            batch::peak_memory().map_or("unknown".to_string(), |b| format!("{} MB", b.div_ceil(1_000_000)));
        eprintln!(
            "jndenc: at most {} images at once (budget {} MB, -j {}); peak memory {peak}",
            run.max_running,
            options.max_memory / 1_000_000,
            if options.jobs == 0 { "cores".to_string() } else { options.jobs.to_string() }
        );
    }
    if let Some(path) = &cli.report {
        write_report(path, &report, None)?;
    }
    Ok(if t.failed > 0 || warned || unsupported > 0 { Outcome::Warnings } else { Outcome::Clean })
}
