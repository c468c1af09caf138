//! Savings reports: per image and per batch, as JSON, CSV or self-contained HTML with SVG plots
//! (`html.rs`).

mod html;

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

/// One encoded image.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ImageReport {
    /// Input path (or `-` for standard input).
    pub input: String,
    /// Output path (or `-` for standard output).
    pub output: String,
    /// `jpeg` or `heif`.
    pub format: String,
    /// Operating point (`visually-lossless`, `distance=1.5`, ...) or `fixed` for `-quality`.
    pub target: String,
    /// The target's butteraugli 3-norm ceiling, when it has one.
    #[serde(default)]
    pub target_distance: Option<f64>,
    /// The target's SSIMULACRA 2 floor, when it has one.
    #[serde(default)]
    pub target_ssimulacra2: Option<f64>,
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
    /// The prior's predicted SSIMULACRA 2 at that quality.
    #[serde(default)]
    pub prior_ssimulacra2: Option<f64>,
    /// The chroma subsampling written (`4:2:0`, `4:4:4`, or the factors `-sample` gave).
    #[serde(default)]
    pub sampling: String,
    /// Why that sampling: `default`, `given` (the caller chose it), `gray`, `4:2:0 cannot reach the
    /// target`, `4:4:4 cannot reach the target`, `4:4:4 is smaller`, `4:2:0 is smaller`, `neither
    /// sampling reaches the target`.
    #[serde(default)]
    pub sampling_reason: String,
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
    /// What the HTML report shows of the picture (crops, JND thumbnail), when it was asked for
    /// ([`crate::Settings::visuals`]); left out of JSON when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visual: Option<Visual>,
}

/// The pictures of one image in the HTML report (PNG, base64).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Visual {
    /// The picture's width.
    pub width: u32,
    /// The picture's height.
    pub height: u32,
    /// The regions butteraugli rates most different, most different first.
    pub regions: Vec<Region>,
    /// The original's pixel-wise JND map (Wu 2017), gray = 8 x threshold, shrunk to at most 160 px.
    pub jnd_thumbnail: String,
    /// 1 when the map was computed on the picture itself, else the whole factor of the reduction
    /// it was computed on (pictures above 2 MP).
    pub jnd_scale: u32,
    /// The map's mean threshold, in code values.
    pub jnd_mean: f64,
    /// The map's largest threshold, in code values.
    pub jnd_max: f64,
}

/// A square of the picture, before and after.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Region {
    /// Left edge, in pixels.
    pub x: u32,
    /// Top edge, in pixels.
    pub y: u32,
    /// Side, in pixels.
    pub side: u32,
    /// The largest butteraugli difference inside it (1.0 is butteraugli's just-noticeable boundary).
    pub score: f64,
    /// The original's pixels, PNG in base64.
    pub before: String,
    /// The decoded output's pixels, PNG in base64.
    pub after: String,
}

/// One judged candidate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CandidateReport {
    /// Its quality.
    pub quality: u8,
    /// Its size in bytes.
    pub bytes: usize,
    /// The decider's verdict.
    pub visible: bool,
    /// The decider's score: butteraugli 3-norm distance, measured (teacher) or predicted (model).
    pub distance: f64,
    /// Its SSIMULACRA 2, when the target has a floor and the 3-norm left the verdict open.
    #[serde(default)]
    pub ssimulacra2: Option<f64>,
    /// The chroma subsampling of the candidate (auto mode may try both).
    #[serde(default)]
    pub sampling: String,
    /// Whether a real metric measured it (always for the teacher; for vp-jnd, where a prediction lay
    /// within the judge's uncertainty band).
    #[serde(default)]
    pub checked: bool,
}

/// Seconds per stage.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
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

    /// CSV, one row per image (candidates as `quality:bytes:visible:distance:ssimulacra2:sampling|...`,
    /// the SSIMULACRA 2 empty where not measured), totals in a final `TOTAL` row.
    pub fn to_csv(&self) -> String {
        let mut out = String::from(
            "input,output,format,target,decider,codec,quality,parameter,bytes,top_quality,top_bytes,saving_percent,candidates,\
             copied_input,saturated,prepare_s,encode_s,decode_s,judge_s,total_s,verified_distance,search,prior_quality,\
             prior_distance,target_distance,target_ssimulacra2,prior_ssimulacra2,sampling,sampling_reason\n",
        );
        for i in &self.images {
            let candidates: Vec<String> = i
                .candidates
                .iter()
                .map(|c| {
                    let s2 = c.ssimulacra2.map_or(String::new(), |s| format!("{s:.3}"));
                    format!(
                        "{}:{}:{}:{:.3}:{s2}:{}",
                        c.quality,
                        c.bytes,
                        u8::from(c.visible),
                        c.distance,
                        c.sampling
                    )
                })
                .collect();
            let _ = writeln!(
                out,
                "{},{},{},{},{},{},{},{},{},{},{},{:.2},{},{},{},{:.3},{:.3},{:.3},{:.3},{:.3},{},{},{},{},{},{},{},{},{}",
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
                i.prior_distance.map_or(String::new(), |d| format!("{d:.4}")),
                i.target_distance.map_or(String::new(), |d| d.to_string()),
                i.target_ssimulacra2.map_or(String::new(), |s| s.to_string()),
                i.prior_ssimulacra2.map_or(String::new(), |s| format!("{s:.2}")),
                i.sampling,
                csv_field(&i.sampling_reason)
            );
        }
        let t = &self.totals;
        let _ = writeln!(
            out,
            "TOTAL,,,,,,,,{},,{},{:.2},,,,,,,,,,,,,,,,,",
            t.bytes, t.top_bytes, t.saving_percent
        );
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
                CandidateReport {
                    quality: 50,
                    bytes: bytes + 10,
                    visible: false,
                    distance: 1.2,
                    ssimulacra2: Some(81.5),
                    sampling: "4:2:0".into(),
                    checked: true,
                },
                CandidateReport {
                    quality: 30,
                    bytes: bytes - 10,
                    visible: true,
                    distance: 2.9,
                    ssimulacra2: None,
                    sampling: "4:2:0".into(),
                    checked: true,
                },
            ],
            search: "prior".into(),
            prior_quality: Some(41),
            prior_distance: Some(2.2),
            copied_input: false,
            already_encoded: false,
            saturated: false,
            seconds: StageSeconds::default(),
            verified_distance: Some(1.5),
            visual: None,
            ..ImageReport::default()
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
