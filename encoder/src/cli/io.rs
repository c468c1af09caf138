//! The binary's side of files: reading an input (a file or standard input),
//! describing results on standard error, writing reports.

use std::io::{IsTerminal, Read};
use std::path::Path;

use crate::report::{ImageReport, Report};
use anyhow::{Context, bail};

/// How a successful run ended.
pub enum Outcome {
    /// Exit status 0.
    Clean,
    /// Exit status 2: done, with warnings (as cjpeg).
    Warnings,
}

/// An input file's bytes, or standard input's when `path` is `None`.
pub fn read_input(path: Option<&Path>) -> anyhow::Result<Vec<u8>> {
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

/// One line about an encoded image on standard error.
pub fn describe(report: &ImageReport) {
    // `jpeg quality 61` for cjpeg's scale; the codec and its own parameter when they differ from it.
    let parameter = match report.parameter.as_str() {
        "" => String::new(),
        p if p == format!("quality={}", report.quality) => String::new(),
        p => format!(" [{} {}]", report.codec, p),
    };
    // The target's pair (`visually-lossless: 3-norm <= 1, SSIMULACRA 2 >= 78`) and the sampling.
    let pair: Vec<String> = [
        report.target_distance.map(|d| format!("3-norm <= {d}")),
        report.target_ssimulacra2.map(|s| format!("SSIMULACRA 2 >= {s}")),
    ]
    .into_iter()
    .flatten()
    .collect();
    let target = if pair.is_empty() {
        report.target.clone()
    } else {
        format!("{}: {}", report.target, pair.join(", "))
    };
    let sampling = if report.sampling.is_empty() {
        String::new()
    } else {
        format!(" {} ({})", report.sampling, report.sampling_reason)
    };
    let mut line = format!(
        "jndenc: {}: {} quality {}{}{sampling} ({target}; {}): {} bytes",
        report.input, report.format, report.quality, parameter, report.decider, report.bytes
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

/// Whether the report at `path` is the HTML one (which shows pictures: `Settings::visuals`).
pub fn is_html_report(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref(),
        Some("html" | "htm")
    )
}

/// Writes `report` as JSON, CSV or HTML by `path`'s extension, atomically.
pub fn write_report(path: &Path, report: &Report, input: Option<&Path>) -> anyhow::Result<()> {
    let text = match path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
        Some("json") => report.to_json(),
        Some("csv") => report.to_csv(),
        Some("html" | "htm") => report.to_html(),
        _ => bail!("--report {}: the name must end in .json, .csv or .html", path.display()),
    };
    crate::output::write_atomic(path, text.as_bytes(), input)
        .with_context(|| format!("writing report {}", path.display()))
}
