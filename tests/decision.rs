//! The quality decision through the binary: every cjpeg switch is judged as it is written (the
//! output's own teacher distance, measured with `--verify`, is within the target), `--distance`
//! sets any operating point and refuses bad values in one line, and the report carries the prior's
//! prediction and every probe's score.
#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

mod common;

use common::*;

/// Runs auto mode with `args` on `input` and returns the report's image entry and the output bytes.
fn auto(args: &[&str], input: &std::path::Path) -> (serde_json::Value, Vec<u8>) {
    let dir = tempfile::tempdir().unwrap();
    let (out, report) = (dir.path().join("out.jpg"), dir.path().join("r.json"));
    let mut all = args.to_vec();
    all.extend(["--verify", "-outfile", out.to_str().unwrap(), "--report", report.to_str().unwrap()]);
    all.push(input.to_str().unwrap());
    ok(run(&all));
    (json(&report)["images"][0].clone(), std::fs::read(&out).unwrap())
}

#[test]
fn every_switch_is_judged_as_it_is_written() {
    let photo = fixture("photo.png");
    let dir = tempfile::tempdir().unwrap();
    // A camera or web JPEG to recompress: the photo at quality 95.
    let jpeg_input = dir.path().join("camera.jpg");
    std::fs::write(&jpeg_input, ok(run(&["-quality", "95", photo.to_str().unwrap()]))).unwrap();
    let cases: [(&[&str], &std::path::Path); 4] =
        [(&["-grayscale"], &photo), (&["-rgb"], &photo), (&["-sample", "1x1"], &photo), (&[], &jpeg_input)];
    for (switches, input) in cases {
        // The paper's operating point, where a recompressed JPEG input is still worth re-encoding.
        let mut args = vec!["--target", "human-first-jnd"];
        args.extend_from_slice(switches);
        let (r, bytes) = auto(&args, input);
        let what = format!("{switches:?} on {}", input.display());
        let distance = r["verified_distance"].as_f64().unwrap();
        assert!(distance <= 2.295, "{what}: the output's distance {distance} is above the target");
        let quality = r["quality"].as_u64().unwrap();
        assert!(quality < 100, "{what}: quality {quality}: a lower quality is lossless on this photo");
        assert_eq!(r["copied_input"], false, "{what}");
        // The written file is the judged candidate: its score is the verified distance.
        let chosen = r["candidates"].as_array().unwrap().iter().find(|c| c["quality"] == quality).unwrap();
        assert!((chosen["distance"].as_f64().unwrap() - distance).abs() < 1e-9, "{what}");
        // Nothing judged below the chosen quality was lossless, so no lower quality was passed over.
        for c in r["candidates"].as_array().unwrap() {
            if c["quality"].as_u64().unwrap() < quality {
                assert_eq!(c["visible"], true, "{what}: q{} was lossless", c["quality"]);
            }
        }
        let decoded = decode_bytes(&bytes);
        let gray = decoded.color() == jndenc::ColorType::Gray;
        assert_eq!(gray, switches == ["-grayscale"], "{what}: colour of the output");
    }
}

#[test]
fn distance_sets_the_operating_point_and_the_report_says_how_the_search_ran() {
    let photo = fixture("photo.png");
    let (strict, strict_bytes) = auto(&["--distance", "1.0"], &photo);
    let (loose, loose_bytes) = auto(&["--distance", "3"], &photo);
    assert_eq!(strict["target"], "distance=1");
    assert_eq!(loose["target"], "distance=3");
    assert!(strict["verified_distance"].as_f64().unwrap() <= 1.0);
    assert!(loose["verified_distance"].as_f64().unwrap() <= 3.0);
    assert!(loose_bytes.len() < strict_bytes.len(), "{} vs {}", loose_bytes.len(), strict_bytes.len());
    for r in [&strict, &loose] {
        assert!(r["search"] == "prior" || r["search"] == "prior+block", "{}", r["search"]);
        let prior = r["prior_quality"].as_u64().unwrap();
        assert!((1..=100).contains(&prior));
        assert!(r["prior_distance"].as_f64().unwrap() > 0.0);
        // The prior's quality was judged first, with the one below it.
        let first: Vec<u64> = r["candidates"]
            .as_array()
            .unwrap()
            .iter()
            .take(2)
            .map(|c| c["quality"].as_u64().unwrap())
            .collect();
        assert!(first.contains(&prior), "{first:?} lacks the prior's {prior}");
    }
    // The named presets are distances too; --search block is the first generation's search.
    let (sur, _) = auto(&["--target", "sur75"], &photo);
    assert_eq!(sur["target"], "sur75");
    assert!(sur["verified_distance"].as_f64().unwrap() <= 2.095);
    let (block, _) = auto(&["--search", "block"], &photo);
    assert_eq!(block["search"], "block");
    assert!(block["prior_quality"].is_null());
    assert!(block["candidates"].as_array().unwrap().len() > strict["candidates"].as_array().unwrap().len());
}

#[test]
fn bad_distances_are_refused_in_one_line() {
    let photo = fixture("photo.png");
    for bad in ["-1", "NaN", "0", "11", "0.4", "4.5", "inf", "text", ""] {
        let out = run(&["--distance", bad, photo.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(1), "--distance {bad:?}: {}", stderr(&out));
        let err = stderr(&out);
        assert_eq!(err.trim_end().lines().count(), 1, "--distance {bad:?}: {err}");
        assert!(err.contains("--distance"), "--distance {bad:?}: {err}");
        assert!(out.stdout.is_empty(), "--distance {bad:?} wrote output");
    }
    let out = run(&["--distance", "1.5", "--target", "strict", photo.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("give one"), "{}", stderr(&out));
}
