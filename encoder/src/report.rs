//! Savings reports: per image and per batch, as JSON, CSV or self-contained HTML with SVG plots.

use std::fmt::Write as _;

use serde::Serialize;

/// One encoded image.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImageReport {
    /// Input path (or `-` for standard input).
    pub input: String,
    /// Output path (or `-` for standard output).
    pub output: String,
    /// `jpeg` or `heif`.
    pub format: String,
    /// Operating point (`human-first-jnd`, `strict`) or `fixed` for `-quality`.
    pub target: String,
    /// Decider (`vp-jnd`, `teacher`), the per-block map (`dmv-jnd`, `pixel-jnd`) or `fixed`.
    pub decider: String,
    /// The codec that wrote the output (`mozjpeg`, `jpegli`, `rust`, `heif`), or `input` when the input was kept.
    pub codec: String,
    /// Bytes of the input file (0 for pixels handed over in memory).
    pub input_bytes: usize,
    /// Chosen quality.
    pub quality: u8,
    /// What the quality means to the codec: `quality=80`, or jpegli's `distance=1.90`; empty when the
    /// input was kept.
    pub parameter: String,
    /// Bytes written.
    pub bytes: usize,
    /// Highest quality searched.
    pub top_quality: u8,
    /// Bytes at the highest quality; 0 when not measured (no report or `-verbose` asked for it, and
    /// the search never encoded that quality).
    pub top_bytes: usize,
    /// `1 - bytes / top_bytes`, in percent (0 when `top_bytes` was not measured).
    pub saving_percent: f64,
    /// Candidates judged, in the order judged.
    pub candidates: Vec<CandidateReport>,
    /// How the search ran: `prior` (started at the quality prior and bracketed it), `prior+block`
    /// (the verdicts contradicted one threshold, so the block search decided), `block` (the block
    /// search over the whole range, `--search block`); empty outside auto mode.
    pub search: String,
    /// The quality the prior predicted from the original for the target, when it ran.
    pub prior_quality: Option<u8>,
    /// The prior's predicted distance (butteraugli 3-norm) at that quality.
    pub prior_distance: Option<f64>,
    /// True when the input JPEG was kept: no candidate was smaller, or it is jndenc's own output.
    pub copied_input: bool,
    /// True when the input carried jndenc's marker and was kept without encoding (`--force`
    /// re-encodes).
    pub already_encoded: bool,
    /// True when even the highest quality was judged visible.
    pub saturated: bool,
    /// Seconds per stage: prepare, encode, decode, judge, total.
    pub seconds: StageSeconds,
    /// Teacher distance (butteraugli 3-norm) of the output, with `--verify`.
    pub verified_distance: Option<f64>,
}

/// One judged candidate.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct CandidateReport {
    /// Its quality.
    pub quality: u8,
    /// Its size in bytes.
    pub bytes: usize,
    /// The decider's verdict.
    pub visible: bool,
    /// The decider's score: butteraugli 3-norm distance, measured (teacher) or predicted (model).
    pub distance: f64,
}

/// Seconds per stage.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct StageSeconds {
    /// Preparing the original (JND map, features).
    pub prepare: f64,
    /// Encoding candidates.
    pub encode: f64,
    /// Decoding candidates.
    pub decode: f64,
    /// Judging candidates.
    pub judge: f64,
    /// The whole image, read to written.
    pub total: f64,
}

/// Batch totals.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Totals {
    /// Images encoded.
    pub images: usize,
    /// Images that failed.
    pub failed: usize,
    /// Bytes written.
    pub bytes: usize,
    /// Bytes at the highest quality.
    pub top_bytes: usize,
    /// `1 - bytes / top_bytes` over the batch, in percent.
    pub saving_percent: f64,
    /// Mean per-image saving, in percent.
    pub mean_saving_percent: f64,
    /// Inputs kept because they were jndenc's own output.
    pub already_encoded: usize,
    /// Inputs skipped (not images, up to date, folders already walked).
    pub skipped: usize,
}

/// A report: images and totals.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Report {
    /// Per image, in input order.
    pub images: Vec<ImageReport>,
    /// Failures: (input, error).
    pub failures: Vec<(String, String)>,
    /// Totals.
    pub totals: Totals,
}

/// The saving of `bytes` against `top_bytes`, in percent.
pub fn saving_percent(bytes: usize, top_bytes: usize) -> f64 {
    if top_bytes == 0 { 0.0 } else { 100.0 * (1.0 - bytes as f64 / top_bytes as f64) }
}

impl Report {
    /// A report of `images` and `failures` with totals computed.
    pub fn new(images: Vec<ImageReport>, failures: Vec<(String, String)>) -> Self {
        let bytes = images.iter().map(|i| i.bytes).sum();
        let top_bytes = images.iter().map(|i| i.top_bytes).sum();
        let mean = if images.is_empty() {
            0.0
        } else {
            images.iter().map(|i| i.saving_percent).sum::<f64>() / images.len() as f64
        };
        let totals = Totals {
            images: images.len(),
            failed: failures.len(),
            bytes,
            top_bytes,
            saving_percent: saving_percent(bytes, top_bytes),
            mean_saving_percent: mean,
            already_encoded: images.iter().filter(|i| i.already_encoded).count(),
            skipped: 0,
        };
        Self { images, failures, totals }
    }

    /// Pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
    }

    /// CSV, one row per image (candidates as `quality:bytes:visible:distance|...`), totals in a final
    /// `TOTAL` row.
    pub fn to_csv(&self) -> String {
        let mut out = String::from(
            "input,output,format,target,decider,codec,quality,parameter,bytes,top_quality,top_bytes,saving_percent,candidates,\
             copied_input,saturated,prepare_s,encode_s,decode_s,judge_s,total_s,verified_distance,search,prior_quality,\
             prior_distance\n",
        );
        for i in &self.images {
            let candidates: Vec<String> = i
                .candidates
                .iter()
                .map(|c| format!("{}:{}:{}:{:.3}", c.quality, c.bytes, u8::from(c.visible), c.distance))
                .collect();
            let _ = writeln!(
                out,
                "{},{},{},{},{},{},{},{},{},{},{},{:.2},{},{},{},{:.3},{:.3},{:.3},{:.3},{:.3},{},{},{},{}",
                csv_field(&i.input),
                csv_field(&i.output),
                i.format,
                i.target,
                i.decider,
                i.codec,
                i.quality,
                i.parameter,
                i.bytes,
                i.top_quality,
                i.top_bytes,
                i.saving_percent,
                candidates.join("|"),
                i.copied_input,
                i.saturated,
                i.seconds.prepare,
                i.seconds.encode,
                i.seconds.decode,
                i.seconds.judge,
                i.seconds.total,
                i.verified_distance.map_or(String::new(), |d| format!("{d:.4}")),
                i.search,
                i.prior_quality.map_or(String::new(), |q| q.to_string()),
                i.prior_distance.map_or(String::new(), |d| format!("{d:.4}"))
            );
        }
        let t = &self.totals;
        let _ =
            writeln!(out, "TOTAL,,,,,,,,{},,{},{:.2},,,,,,,,,,,,", t.bytes, t.top_bytes, t.saving_percent);
        out
    }

    /// A self-contained HTML page: a table, each image's size-vs-quality ladder with the chosen point,
    /// and a histogram of savings across the batch (inline SVG; no scripts, no network).
    pub fn to_html(&self) -> String {
        let t = &self.totals;
        let mut out = String::from(
            "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>jndenc report</title>\n<style>\
             body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}\
             td,th{border:1px solid #ccc;padding:2px 8px;text-align:right}td:first-child{text-align:left}\
             .plots{display:flex;flex-wrap:wrap;gap:1em}</style></head><body>\n<h1>jndenc report</h1>\n",
        );
        let _ = writeln!(
            out,
            "<p>{} images ({} failed): {} bytes against {} at the highest quality: <b>{:.1} % saved</b> \
             (mean per image {:.1} %).</p>",
            t.images, t.failed, t.bytes, t.top_bytes, t.saving_percent, t.mean_saving_percent
        );
        out.push_str(
            "<table><tr><th>input</th><th>format</th><th>target</th><th>quality</th><th>bytes</th>\
             <th>top bytes</th><th>saving</th><th>candidates</th><th>seconds</th><th>verified distance</th></tr>\n",
        );
        for i in &self.images {
            let _ = writeln!(
                out,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.1} %</td>\
                 <td>{}</td><td>{:.2}</td><td>{}</td></tr>",
                html_escape(&i.input),
                i.format,
                i.target,
                i.quality,
                i.bytes,
                i.top_bytes,
                i.saving_percent,
                i.candidates.len(),
                i.seconds.total,
                i.verified_distance.map_or("-".to_string(), |d| format!("{d:.3}"))
            );
        }
        out.push_str("</table>\n");
        for (input, error) in &self.failures {
            let _ = writeln!(out, "<p>failed: {}: {}</p>", html_escape(input), html_escape(error));
        }
        out.push_str("<h2>Size against quality</h2>\n<div class=\"plots\">\n");
        for i in &self.images {
            out.push_str(&ladder_svg(i));
        }
        out.push_str("</div>\n<h2>Savings across the batch</h2>\n");
        out.push_str(&histogram_svg(&self.images.iter().map(|i| i.saving_percent).collect::<Vec<_>>()));
        out.push_str("\n</body></html>\n");
        out
    }
}

fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// Size vs quality of the judged candidates (red: visible, green: invisible), the chosen point ringed.
fn ladder_svg(image: &ImageReport) -> String {
    let (w, h, pad) = (320.0, 200.0, 30.0);
    let mut points: Vec<(u8, usize, bool)> =
        image.candidates.iter().map(|c| (c.quality, c.bytes, c.visible)).collect();
    if image.top_bytes > 0 {
        points.push((image.top_quality, image.top_bytes, false));
    }
    points.sort_by_key(|p| p.0);
    let max_bytes = points.iter().map(|p| p.1).max().unwrap_or(1).max(1) as f64;
    let x = |q: u8| pad + f64::from(q) / 100.0 * (w - 2.0 * pad);
    let y = |b: usize| h - pad - b as f64 / max_bytes * (h - 2.0 * pad);
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\">\
         <title>{}</title><rect width=\"{w}\" height=\"{h}\" fill=\"white\" stroke=\"#ccc\"/>\
         <line x1=\"{pad}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"black\"/>\
         <line x1=\"{pad}\" y1=\"{pad}\" x2=\"{pad}\" y2=\"{}\" stroke=\"black\"/>\
         <text x=\"{}\" y=\"{}\" font-size=\"10\" text-anchor=\"middle\">quality</text>\
         <text x=\"4\" y=\"{}\" font-size=\"10\">bytes</text>\
         <text x=\"{pad}\" y=\"14\" font-size=\"11\">{} (q {}, {:.1} % saved)</text>",
        html_escape(&image.input),
        h - pad,
        w - pad,
        h - pad,
        h - pad,
        w / 2.0,
        h - 8.0,
        pad - 6.0,
        html_escape(&image.input),
        image.quality,
        image.saving_percent
    );
    for (q, b, visible) in &points {
        let color = if *visible { "#d33" } else { "#2a2" };
        let _ = write!(svg, "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"3\" fill=\"{color}\"/>", x(*q), y(*b));
    }
    let _ = writeln!(
        svg,
        "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"7\" fill=\"none\" stroke=\"black\" stroke-width=\"2\"/></svg>",
        x(image.quality),
        y(image.bytes)
    );
    svg
}

/// Histogram of savings in 10 % bins.
fn histogram_svg(savings: &[f64]) -> String {
    let (w, h, pad) = (420.0, 220.0, 30.0);
    let mut bins = [0usize; 10];
    for &s in savings {
        bins[((s / 10.0).floor().clamp(0.0, 9.0)) as usize] += 1;
    }
    let max = bins.iter().copied().max().unwrap_or(1).max(1) as f64;
    let bar = (w - 2.0 * pad) / 10.0;
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\">\
         <title>savings histogram</title><rect width=\"{w}\" height=\"{h}\" fill=\"white\" stroke=\"#ccc\"/>"
    );
    for (i, &count) in bins.iter().enumerate() {
        let bh = count as f64 / max * (h - 2.0 * pad);
        let _ = write!(
            svg,
            "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{bh:.1}\" fill=\"#48c\"/>\
             <text x=\"{:.1}\" y=\"{}\" font-size=\"9\" text-anchor=\"middle\">{}</text>\
             <text x=\"{:.1}\" y=\"{:.1}\" font-size=\"9\" text-anchor=\"middle\">{count}</text>",
            pad + i as f64 * bar + 1.0,
            h - pad - bh,
            bar - 2.0,
            pad + (i as f64 + 0.5) * bar,
            h - pad + 12.0,
            i * 10,
            pad + (i as f64 + 0.5) * bar,
            h - pad - bh - 3.0
        );
    }
    let _ = write!(
        svg,
        "<text x=\"{}\" y=\"{}\" font-size=\"10\" text-anchor=\"middle\">saving vs highest quality (%)</text></svg>",
        w / 2.0,
        h - 4.0
    );
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(bytes: usize, top: usize) -> ImageReport {
        ImageReport {
            input: "a,b.png".into(),
            output: "out.jpg".into(),
            format: "jpeg".into(),
            target: "human-first-jnd".into(),
            decider: "vp-jnd".into(),
            codec: "mozjpeg".into(),
            input_bytes: 5000,
            quality: 40,
            parameter: "quality=40".into(),
            bytes,
            top_quality: 100,
            top_bytes: top,
            saving_percent: saving_percent(bytes, top),
            candidates: vec![
                CandidateReport { quality: 50, bytes: bytes + 10, visible: false, distance: 1.2 },
                CandidateReport { quality: 30, bytes: bytes - 10, visible: true, distance: 2.9 },
            ],
            search: "prior".into(),
            prior_quality: Some(41),
            prior_distance: Some(2.2),
            copied_input: false,
            already_encoded: false,
            saturated: false,
            seconds: StageSeconds::default(),
            verified_distance: Some(1.5),
        }
    }

    #[test]
    fn totals_add_up_and_every_format_carries_them() {
        let report =
            Report::new(vec![image(100, 1000), image(300, 1000)], vec![("bad.png".into(), "oops".into())]);
        assert_eq!(report.totals.bytes, 400);
        assert_eq!(report.totals.top_bytes, 2000);
        assert!((report.totals.saving_percent - 80.0).abs() < 1e-9);
        assert!((report.totals.mean_saving_percent - 80.0).abs() < 1e-9);
        assert_eq!(report.totals.failed, 1);
        let json: serde_json::Value = serde_json::from_str(&report.to_json()).unwrap();
        assert_eq!(json["totals"]["bytes"], 400);
        let csv = report.to_csv();
        assert!(csv.lines().nth(1).unwrap().starts_with("\"a,b.png\",out.jpg,jpeg"));
        assert!(csv.lines().last().unwrap().starts_with("TOTAL,,,,,,,,400,,2000,80.00"));
        let html = report.to_html();
        assert_eq!(html.matches("<svg").count(), 3, "two ladders and a histogram");
        assert!(html.contains("80.0 % saved") && html.contains("failed: bad.png: oops"));
    }
}
