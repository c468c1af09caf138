//! Operating points through the binary: the default is a pair (butteraugli 3-norm ceiling and
//! SSIMULACRA 2 floor) that every output meets, as measured here on the decoded output (not as the
//! encoder predicted); chroma subsampling is part of the decision; the presets' pairs are in `--help`;
//! `--ssimulacra2` sets the floor, alone or with `--distance`, and refuses bad values in one line.
#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

mod common;

use common::*;
use jnd_model::metrics::{butteraugli_3norm, ssimulacra2};
use jndenc::codec::{Codec, JpegOptions, Jpegli};
use jndenc::settings::Preset;
use jndenc::target::Target;

/// Runs jndenc with `args` on `input`; returns the report's image entry and the output bytes.
fn encode(args: &[&str], input: &std::path::Path) -> (serde_json::Value, Vec<u8>) {
    let dir = tempfile::tempdir().unwrap();
    let (out, report) = (dir.path().join("out.jpg"), dir.path().join("r.json"));
    let mut all = args.to_vec();
    all.extend(["-outfile", out.to_str().unwrap(), "--report", report.to_str().unwrap()]);
    all.push(input.to_str().unwrap());
    ok(run(&all));
    (json(&report)["images"][0].clone(), std::fs::read(&out).unwrap())
}

/// The two metrics of decoded `bytes` against the fixture, measured independently of the encoder
/// (the crate's SSIMULACRA 2, not the encoder's prepared path).
fn measure(original: &jndenc::Image, bytes: &[u8]) -> (f64, f64) {
    let decoded = decode_bytes(bytes);
    (butteraugli_3norm(original, &decoded).unwrap(), ssimulacra2(original, &decoded).unwrap())
}

fn default_target() -> Target {
    Target::preset(Preset::VisuallyLossless).unwrap()
}

#[test]
fn fine_saturated_chroma_is_written_at_444_within_both_bounds_below_the_top() {
    // A graphic of saturated colours and one-pixel detail: no 4:2:0 quality reaches 3-norm 1.0.
    let input = fixture("graphic.png");
    let original = fixture_image("graphic.png");
    let (r, bytes) = encode(&[], &input);
    assert_eq!(r["sampling"], "4:4:4", "{r}");
    // The prior expects 4:2:0 high, so 4:4:4 is searched first; 4:2:0 is then judged only under its
    // bytes (when 4:2:0 goes first, its search saturates).
    let reason = r["sampling_reason"].as_str().unwrap();
    assert!(["4:2:0 cannot reach the target", "4:4:4 is smaller"].contains(&reason), "{r}");
    let quality = r["quality"].as_u64().unwrap();
    assert!(quality < 100, "quality {quality}");
    // Every 4:2:0 candidate judged failed, and at least one was.
    let at_420: Vec<&serde_json::Value> =
        r["candidates"].as_array().unwrap().iter().filter(|c| c["sampling"] == "4:2:0").collect();
    assert!(!at_420.is_empty() && at_420.iter().all(|c| c["visible"] == true), "{r}");
    // Measured here: even 4:2:0 at quality 100 misses the ceiling.
    let codec = Jpegli::new(JpegOptions::default());
    let top = codec.encode(&original, 100).unwrap().bytes;
    assert!(measure(&original, &top).0 > 1.0, "4:2:0 at q100 reaches the ceiling");
    let info = jndenc::jpeg_info::parse(&bytes).unwrap();
    assert!(info.components.iter().all(|c| (c.h, c.v) == (1, 1)), "sampling factors {:?}", info.components);
    let (d, s) = measure(&original, &bytes);
    let target = default_target();
    assert!(target.passes(d, Some(s)), "3-norm {d}, SSIMULACRA 2 {s} against {}", target.describe());
}

#[test]
fn the_default_output_meets_both_bounds_and_no_higher_passing_quality_is_smaller() {
    let input = fixture("photo.png");
    let original = fixture_image("photo.png");
    let (r, bytes) = encode(&["--strip", "all"], &input);
    assert_eq!(r["target"], "visually-lossless");
    let target = default_target();
    assert_eq!(r["target_distance"].as_f64(), target.distance);
    assert_eq!(r["target_ssimulacra2"].as_f64(), target.ssimulacra2);
    let (d, s) = measure(&original, &bytes);
    assert!(target.passes(d, Some(s)), "3-norm {d}, SSIMULACRA 2 {s} against {}", target.describe());
    assert_eq!(r["sampling"], "4:2:0", "{r}");
    // The same codec and sampling at the qualities above: the next one that also meets both bounds is
    // not smaller than what was written.
    let codec = Jpegli::new(JpegOptions::default());
    let quality = r["quality"].as_u64().unwrap() as u8;
    let next = (quality + 1..=100)
        .map(|q| codec.encode(&original, q).unwrap().bytes)
        .find(|b| {
            let (d, s) = measure(&original, b);
            target.passes(d, Some(s))
        })
        .unwrap();
    assert!(
        bytes.len() <= next.len(),
        "{} bytes written, {} at the next passing quality",
        bytes.len(),
        next.len()
    );
    // Every probe below the chosen quality at this sampling was judged visible.
    for c in r["candidates"].as_array().unwrap() {
        if c["sampling"] == "4:2:0" && c["quality"].as_u64().unwrap() < u64::from(quality) {
            assert_eq!(c["visible"], true, "q{} was lossless: {r}", c["quality"]);
        }
    }
}

#[test]
fn distance_and_ssimulacra2_set_either_bound_or_both() {
    let input = fixture("photo.png");
    let original = fixture_image("photo.png");
    let (both, bytes) = encode(&["--distance", "1.5", "--ssimulacra2", "80"], &input);
    assert_eq!(both["target"], "distance=1.5,ssimulacra2=80");
    let (d, s) = measure(&original, &bytes);
    assert!(d <= 1.5 && s >= 80.0, "3-norm {d}, SSIMULACRA 2 {s}");
    let (floor_only, bytes) = encode(&["--ssimulacra2", "70"], &input);
    assert_eq!(floor_only["target"], "ssimulacra2=70");
    assert_eq!(floor_only["target_distance"], serde_json::Value::Null);
    assert!(measure(&original, &bytes).1 >= 70.0);
    // A looser floor never costs more bytes than a stricter one.
    assert!(floor_only["bytes"].as_u64() <= both["bytes"].as_u64(), "{floor_only} vs {both}");
    // A named target and a bound name two operating points.
    let out = run(&["--target", "web", "--ssimulacra2", "80", input.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("--ssimulacra2 and --target: name two operating points"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn bad_ssimulacra2_values_are_one_line_and_exit_1() {
    let input = fixture("photo.png");
    let dir = tempfile::tempdir().unwrap();
    let out_path = dir.path().join("out.jpg");
    for bad in ["NaN", "-1", "100.5", "101", "text", "", "inf"] {
        let out =
            run(&["--ssimulacra2", bad, "-outfile", out_path.to_str().unwrap(), input.to_str().unwrap()]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "--ssimulacra2 {bad:?}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "--ssimulacra2 {bad:?}: {err}");
        assert!(err.contains("--ssimulacra2"), "--ssimulacra2 {bad:?}: {err}");
        assert!(!out_path.exists() && out.stdout.is_empty(), "--ssimulacra2 {bad:?} wrote output");
    }
}

#[test]
fn help_gives_each_presets_pair() {
    let help = String::from_utf8(ok(run(&["--help"]))).unwrap();
    let flat = help.split_whitespace().collect::<Vec<_>>().join(" ");
    for preset in
        [Preset::VisuallyLossless, Preset::WebHigh, Preset::Web, Preset::HumanFirstJnd, Preset::Sur75]
    {
        let target = Target::preset(preset).unwrap();
        let name = jndenc::settings::Named::name(preset);
        let at = flat.find(&format!("{name}:")).unwrap_or_else(|| panic!("{name} is not in --help"));
        let text = &flat[at..(at + 400).min(flat.len())];
        let distance = target.distance.unwrap();
        assert!(
            text.contains(&format!("3-norm {distance}")) || text.contains(&format!("3-norm <= {distance}")),
            "{name}: {text}"
        );
        match target.ssimulacra2 {
            Some(floor) => assert!(text.contains(&format!("SSIMULACRA 2 >= {floor}")), "{name}: {text}"),
            None => assert!(text.contains("no floor"), "{name}: {text}"),
        }
    }
}
