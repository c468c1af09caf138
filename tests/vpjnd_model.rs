//! The embedded VP-JNDnet: loads, is deterministic, ranks distortion sensibly, and reproduces the
//! committed scores and teacher agreement on the fixtures (real mozjpeg candidates, real butteraugli).
//!
//! Regenerate the expectations after retraining with
//! `JND_UPDATE_EXPECTED=1 cargo test -p encoder --test vpjnd_model`.
#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

mod common;

use common::*;
use jnd_model::metrics::ButteraugliRef;
use jnd_model::vpjnd::{self, VpJnd};
use jndenc::codec::{Codec, JpegOptions, MozJpeg};

const QUALITIES: [u8; 8] = [5, 10, 20, 30, 45, 60, 80, 95];
const EXPECTED: &str = "fixtures/labels/vpjnd-fixture-scores.json";

fn model() -> VpJnd {
    VpJnd::embedded(&jnd_model::select_device(jnd_model::Accelerator::Cpu).unwrap()).unwrap()
}

#[test]
fn embedded_weights_load_and_judging_is_deterministic() {
    assert!(vpjnd::EMBEDDED_WEIGHTS.len() < 5_000_000, "weights stay under 5 MB");
    let (a, b) = (model(), model());
    let original = fixture_image("photo.png");
    let codec = MozJpeg::new(JpegOptions::default());
    let candidate = codec.decode(&codec.encode(&original, 30).unwrap().bytes).unwrap();
    let (pa, pb) = (a.prepare(&original).unwrap(), b.prepare(&original).unwrap());
    let first = a.judge(&pa, &candidate).unwrap();
    assert_eq!(first, a.judge(&pa, &candidate).unwrap(), "same model, same answer");
    assert_eq!(first, b.judge(&pb, &candidate).unwrap(), "a second load, same answer");
    // A wrong-sized candidate is an error, not a panic.
    let small = jndenc::Image::new(16, 16, jndenc::ColorType::Rgb, vec![128; 16 * 16 * 3]).unwrap();
    assert!(a.judge(&pa, &small).is_err());
}

#[test]
fn heavier_compression_scores_as_more_visible() {
    let model = model();
    let codec = MozJpeg::new(JpegOptions::default());
    for name in ["photo.png", "graphic.png"] {
        let original = fixture_image(name).to_rgb();
        let prepared = model.prepare(&original).unwrap();
        let score = |q: u8| {
            let decoded = codec.decode(&codec.encode(&original, q).unwrap().bytes).unwrap();
            model.judge(&prepared, &decoded).unwrap().score
        };
        let (low, high) = (score(5), score(95));
        assert!(low > high + 0.5, "{name}: q5 scores {low}, q95 scores {high}");
        let identical = model.judge(&prepared, &original).unwrap().score;
        assert!(identical < high + 0.1, "{name}: the original itself scores {identical}, q95 {high}");
    }
}

#[test]
fn fixture_scores_and_teacher_agreement_match_the_committed_values() {
    let model = model();
    let codec = MozJpeg::new(JpegOptions::default());
    let mut rows = Vec::new();
    let (mut agree, mut total) = (0, 0);
    for name in ["photo.png", "graphic.png"] {
        let original = fixture_image(name).to_rgb();
        let prepared = model.prepare(&original).unwrap();
        let teacher = ButteraugliRef::new(&original).unwrap();
        for q in QUALITIES {
            let decoded = codec.decode(&codec.encode(&original, q).unwrap().bytes).unwrap().to_rgb();
            let judgement = model.judge(&prepared, &decoded).unwrap();
            let distance = teacher.compare(&decoded).unwrap().pnorm3;
            let model_visible =
                !judgement.lossless_at(vpjnd::TRAINED_TAU, vpjnd::decision_margin(vpjnd::CodecFamily::Jpeg));
            agree += usize::from(model_visible == (distance > vpjnd::TRAINED_TAU));
            total += 1;
            rows.push(serde_json::json!({"image": name, "quality": q, "score": judgement.score, "distance": distance}));
        }
    }
    let accuracy = agree as f64 / total as f64;
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(EXPECTED);
    if std::env::var_os("JND_UPDATE_EXPECTED").is_some() {
        let value = serde_json::json!({"pair_accuracy": accuracy, "rows": rows});
        std::fs::write(&path, serde_json::to_string_pretty(&value).unwrap() + "\n").unwrap();
    }
    let expected: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let expected_rows = expected["rows"].as_array().unwrap();
    assert_eq!(expected_rows.len(), rows.len());
    for (got, want) in rows.iter().zip(expected_rows) {
        let (g, w) = (got["score"].as_f64().unwrap(), want["score"].as_f64().unwrap());
        assert!((g - w).abs() < 2e-3, "{got} vs committed {want}");
    }
    let committed = expected["pair_accuracy"].as_f64().unwrap();
    assert!((accuracy - committed).abs() < 1e-9, "pair accuracy {accuracy} vs committed {committed}");
    assert!(accuracy >= 0.75, "the model agrees with the teacher on {accuracy:.2} of fixture candidates");
}
