//! Auto quality through the binary: without -quality jndenc searches for the JND quality with the
//! embedded VP-JND model (or the teacher), writes the chosen candidate, and reports what it saved.
#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

mod common;

use std::path::{Path, PathBuf};

use common::*;
use jndenc::codec::{Codec, Heif};

#[test]
fn auto_jpeg_lies_within_bounds_and_the_report_matches_the_files() {
    let dir = tempfile::tempdir().unwrap();
    let (out, report) = (dir.path().join("out.jpg"), dir.path().join("r.json"));
    let input = fixture("photo.png");
    ok(run(&[
        "--min-quality",
        "20",
        "--max-quality",
        "90",
        "-outfile",
        out.to_str().unwrap(),
        "--report",
        report.to_str().unwrap(),
        input.to_str().unwrap(),
    ]));
    let written = std::fs::read(&out).unwrap();
    let decoded = decode_bytes(&written);
    assert_eq!((decoded.width(), decoded.height()), (192, 128));
    let r = &json(&report)["images"][0];
    let quality = r["quality"].as_u64().unwrap();
    assert!((20..=90).contains(&quality), "quality {quality}");
    assert_eq!(r["bytes"].as_u64().unwrap(), written.len() as u64, "report bytes = file size");
    assert_eq!(r["decider"], "teacher", "the default decider");
    assert!(r["search"].as_str().unwrap().starts_with("prior"), "the default search starts at the prior");
    assert_eq!(r["top_quality"], 90);
    // The reference size is a real encode at the top quality, re-measured here, with auto mode's
    // marker (as long as the output's: both qualities have two digits).
    // Auto mode's codec is jpegli; a fixed quality without --codec would be mozjpeg.
    assert_eq!(r["codec"], "jpegli");
    let top = ok(run(&["--codec", "jpegli", "-quality", "90", input.to_str().unwrap()]));
    let marker = written.len() - without_comments(&written).len();
    let top_bytes = without_comments(&top).len() + marker;
    assert_eq!(r["top_bytes"].as_u64().unwrap(), top_bytes as u64);
    let saving = 100.0 * (1.0 - written.len() as f64 / top_bytes as f64);
    assert!((r["saving_percent"].as_f64().unwrap() - saving).abs() < 1e-6);
    // The chosen candidate's bytes are the output: the same as a fixed-quality encode at that quality
    // (but for the marker, which says how the quality was chosen).
    let fixed = ok(run(&["--codec", "jpegli", "-quality", &quality.to_string(), input.to_str().unwrap()]));
    assert_eq!(
        without_comments(&fixed),
        without_comments(&written),
        "auto output = fixed encode at the chosen quality"
    );
    let candidates = r["candidates"].as_array().unwrap();
    assert!(!candidates.is_empty() && candidates.len() < 30, "{} candidates", candidates.len());
}

#[test]
fn auto_heif_is_valid_and_even_quality() {
    let dir = tempfile::tempdir().unwrap();
    let (out, report) = (dir.path().join("out.heic"), dir.path().join("r.csv"));
    ok(run(&[
        "--format",
        "heif",
        "-outfile",
        out.to_str().unwrap(),
        "--report",
        report.to_str().unwrap(),
        fixture("photo.ppm").to_str().unwrap(),
    ]));
    let written = std::fs::read(&out).unwrap();
    let decoded = Heif::default().decode(&written).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (192, 128));
    let csv = std::fs::read_to_string(&report).unwrap();
    let row: Vec<&str> = csv.lines().nth(1).unwrap().split(',').collect();
    assert_eq!(row[2], "heif");
    assert_eq!(row[5], "heif");
    let quality: u8 = row[6].parse().unwrap();
    assert!(quality <= 100 && quality.is_multiple_of(2), "HEIF searches 0..100 in steps of 2: {quality}");
    assert_eq!(row[7], format!("quality={quality}"));
    assert_eq!(row[8].parse::<usize>().unwrap(), written.len());
    assert!(csv.lines().last().unwrap().starts_with("TOTAL,"));
}

#[test]
fn auto_mode_reads_stdin_writes_stdout_and_is_deterministic() {
    let input = std::fs::read(fixture("photo.ppm")).unwrap();
    let a = ok(run_stdin(&[], &input));
    let b = ok(run_stdin(&["-"], &input));
    assert_eq!(a, b, "same input, same bytes");
    let file = ok(run(&[fixture("photo.ppm").to_str().unwrap()]));
    assert_eq!(a, file);
    let quality = psnr(&fixture_image("photo.ppm"), &decode_bytes(&a));
    assert!(quality > 24.0, "PSNR {quality}");
}

#[test]
fn the_teacher_decider_lands_at_or_below_its_threshold() {
    let dir = tempfile::tempdir().unwrap();
    for (target, tau, floor) in
        [("human-first-jnd", 2.295, None), ("strict", 1.0, jndenc::target::Target::default().ssimulacra2)]
    {
        let report = dir.path().join(format!("{target}.json"));
        ok(run(&[
            "--decider",
            "teacher",
            "--target",
            target,
            "--verify",
            "--report",
            report.to_str().unwrap(),
            fixture("photo.png").to_str().unwrap(),
        ]));
        let r = &json(&report)["images"][0];
        let distance = r["verified_distance"].as_f64().unwrap();
        assert!(distance <= tau, "{target}: output distance {distance} above {tau}");
        // Every candidate below the chosen one that was judged is visible.
        let chosen = r["quality"].as_u64().unwrap();
        // The report carries each probe's score: the teacher's measured distance, on the verdict's side.
        for c in r["candidates"].as_array().unwrap() {
            let (visible, d) = (c["visible"].as_bool().unwrap(), c["distance"].as_f64().unwrap());
            // Within the ceiling, the SSIMULACRA 2 floor decides (measured only there).
            let s2 = c["ssimulacra2"].as_f64();
            let lossless = d <= tau && floor.is_none_or(|f| s2.is_some_and(|s| s >= f));
            assert_eq!(
                visible, !lossless,
                "{target}: q{} at distance {d}, SSIMULACRA 2 {s2:?}",
                c["quality"]
            );
            assert_eq!(s2.is_some(), floor.is_some() && d <= tau, "{target}: q{}", c["quality"]);
            if c["quality"].as_u64().unwrap() == chosen && c["sampling"] == r["sampling"] {
                assert!(!visible);
                assert!((d - distance).abs() < 1e-9, "the written file is the judged candidate");
            }
        }
    }
}

#[test]
fn batch_with_a_corrupt_file_finishes_the_others_and_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let inputs = dir.path().join("in");
    std::fs::create_dir(&inputs).unwrap();
    std::fs::copy(fixture("photo.png"), inputs.join("photo.png")).unwrap();
    std::fs::copy(fixture("graphic.png"), inputs.join("graphic.png")).unwrap();
    let png = std::fs::read(fixture("photo.png")).unwrap();
    std::fs::write(inputs.join("broken.png"), &png[..png.len() / 3]).unwrap();
    let outdir = dir.path().join("out");
    let report = dir.path().join("batch.html");
    let mut runs = Vec::new();
    for jobs in ["1", "2"] {
        let out = run(&[
            "--outdir",
            outdir.to_str().unwrap(),
            "-j",
            jobs,
            "--report",
            report.to_str().unwrap(),
            inputs.to_str().unwrap(),
        ]);
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        assert!(stderr(&out).contains("broken.png"), "{}", stderr(&out));
        assert!(stderr(&out).contains("2 of 3 images encoded, 1 failed"), "{}", stderr(&out));
        assert!(!outdir.join("broken.jpg").exists());
        let photo = std::fs::read(outdir.join("photo.jpg")).unwrap();
        let graphic = std::fs::read(outdir.join("graphic.jpg")).unwrap();
        decode_bytes(&photo);
        decode_bytes(&graphic);
        runs.push((photo, graphic));
        let html = std::fs::read_to_string(&report).unwrap();
        assert_eq!(html.matches("<svg").count(), 3, "two ladders and the histogram");
    }
    assert!(runs[0] == runs[1], "-j 1 and -j 2 give the same bytes");
    // Several inputs without --outdir is a usage error.
    let out = run(&[fixture("photo.png").to_str().unwrap(), fixture("graphic.png").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("--outdir"), "{}", stderr(&out));
}

#[test]
fn a_jpeg_input_is_copied_when_no_candidate_is_smaller() {
    let dir = tempfile::tempdir().unwrap();
    let small = ok(run(&["-quality", "20", fixture("photo.png").to_str().unwrap()]));
    let input = dir.path().join("small.jpg");
    std::fs::write(&input, &small).unwrap();
    let out_path = dir.path().join("out.jpg");
    let report = dir.path().join("r.json");
    let out = run(&[
        "--min-quality",
        "90",
        "-outfile",
        out_path.to_str().unwrap(),
        "--report",
        report.to_str().unwrap(),
        input.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).contains("input was copied"), "{}", stderr(&out));
    assert_eq!(std::fs::read(&out_path).unwrap(), small);
    assert_eq!(json(&report)["images"][0]["copied_input"], true);
}

#[test]
fn bad_auto_switches_fail_cleanly() {
    let input = fixture("photo.png");
    let out = run(&["--min-quality", "80", "--max-quality", "40", input.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("--min-quality and --max-quality: 80 is above 40"), "{}", stderr(&out));
    let out = run(&["--report", "/tmp/report.txt", input.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains(".json, .csv or .html"), "{}", stderr(&out));
    let out = run(&["--target", "paranoid", input.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
}

/// Regression (found by `fuzz/fuzz_targets/auto_tiny.rs`): inverted bounds were swapped silently and the
/// chosen quality could lie outside them; the library now refuses them.
#[test]
fn inverted_quality_bounds_are_refused_by_the_library() {
    use jndenc::auto::{AutoOptions, TeacherDecider, encode_at_jnd};
    use jndenc::codec::{JpegOptions, MozJpeg, OutputFormat};
    let image = jndenc::Image::new(17, 13, jndenc::ColorType::Rgb, vec![100; 17 * 13 * 3]).unwrap();
    let codec = MozJpeg::new(JpegOptions::default());
    let decider = TeacherDecider { target: jndenc::target::Target::distance(2.295).unwrap() };
    let mut options = AutoOptions::for_format(OutputFormat::Jpeg);
    options.min_quality = 2;
    options.max_quality = 1;
    let err = encode_at_jnd(&image, &codec, &decider, &options).unwrap_err().to_string();
    assert!(err.contains("min_quality 2 is above max_quality 1"), "{err}");
    options.max_quality = 2;
    let ok = encode_at_jnd(&image, &codec, &decider, &options).unwrap();
    assert_eq!(ok.quality, 2);
}

/// Debian's Chromium (`scripts/install-deps.sh` installs it), or `JNDENC_CHROMIUM`.
fn chromium() -> PathBuf {
    let path =
        std::env::var_os("JNDENC_CHROMIUM").map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from);
    assert!(
        path.exists(),
        "{} is missing: the browser test needs Chromium (scripts/install-deps.sh)",
        path.display()
    );
    path
}

/// Runs headless Chromium on `page` with `args`; returns its standard output.
fn headless(page: &Path, args: &[&str]) -> Vec<u8> {
    let profile = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--allow-file-access-from-files",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(args)
        .arg(format!("file://{}", page.display()))
        .stdin(std::process::Stdio::null())
        .output()
        .expect("spawn chromium");
    assert!(out.status.success(), "chromium failed: {}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

#[test]
fn the_html_report_renders_in_a_real_browser() {
    let dir = tempfile::tempdir().unwrap();
    let outdir = dir.path().join("out");
    let report = dir.path().join("report.html");
    let out = run(&[
        "--outdir",
        outdir.to_str().unwrap(),
        "--report",
        report.to_str().unwrap(),
        fixture("photo.png").to_str().unwrap(),
        fixture("gray.pgm").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let html = std::fs::read_to_string(&report).unwrap();
    let outside = html.replace("xmlns=\"http://www.w3.org/2000/svg\"", "");
    assert!(!outside.contains("http:") && !outside.contains("https:"), "self-contained: nothing to fetch");
    assert!(!html.contains("<script"), "no scripts");
    // The DOM Chromium builds from the page.
    let dom = String::from_utf8(headless(&report, &["--dump-dom"])).unwrap();
    assert!(dom.contains("2 images (0 failed)"), "{dom}");
    let sizes: Vec<u64> =
        ["photo.jpg", "gray.jpg"].iter().map(|n| std::fs::metadata(outdir.join(n)).unwrap().len()).collect();
    let total: u64 = sizes.iter().sum();
    assert!(dom.contains(&format!("{total} bytes against")), "the totals are the files' sizes");
    for size in &sizes {
        assert!(dom.contains(&format!("<td>{size}</td>")), "each file's size is in the table");
    }
    assert_eq!(dom.matches("class=\"ladder\"").count(), 2);
    assert_eq!(dom.matches("class=\"histogram\"").count(), 1);
    // Ticks and units on every axis: 0..100 in steps of 10 on each ladder, 0..100 % on the histogram.
    assert_eq!(dom.matches("class=\"xtick\"").count(), 3 * 11);
    assert!(dom.matches("class=\"ytick\"").count() >= 3 * 3);
    assert!(
        dom.contains("size (kB)")
            && dom.contains("quality (jpegli scale)")
            && dom.contains("saving against the top quality (%)")
    );
    // Each probe with its score and verdict, the chosen one marked.
    let probes = dom.matches("<tr class=\"probe ").count();
    assert!(probes >= 4, "at least two probes per image, found {probes}");
    assert_eq!(dom.matches("probe invisible chosen").count(), 2, "one chosen probe per image");
    assert!(
        dom.contains("<td class=\"verdict\">visible</td>")
            && dom.contains("<td class=\"verdict\">invisible</td>")
    );
    // Before and after at 1:1 and 2x of two regions per image, and a JND map thumbnail each.
    for alt in ["before 1:1", "after 1:1", "before 2x", "after 2x"] {
        assert_eq!(dom.matches(&format!("alt=\"{alt}\"")).count(), 4, "{alt}");
    }
    assert_eq!(dom.matches("alt=\"JND map\"").count(), 2);
    assert_eq!(
        dom.matches("width=\"128\" height=\"128\" src=\"data:image/png;base64,").count(),
        8,
        "2x crops are 128 px"
    );
    // A screenshot: the crops and thumbnails are drawn (a page of text and plots has few colours).
    let shot = dir.path().join("report.png");
    headless(&report, &[&format!("--screenshot={}", shot.display()), "--window-size=1280,2600"]);
    let png =
        jndenc::decode::decode(&std::fs::read(&shot).unwrap(), &jndenc::DecodeOptions::default()).unwrap();
    assert_eq!((png.width(), png.height()), (1280, 2600));
    let colours: std::collections::HashSet<&[u8]> = png.pixels().chunks_exact(3).collect();
    assert!(colours.len() > 2000, "only {} colours: the pictures were not drawn", colours.len());
    if let Some(keep) = std::env::var_os("JNDENC_REPORT_SCREENSHOT") {
        std::fs::copy(&shot, keep).unwrap();
    }
}

/// The fixture photo, jpegli with `options`, the `visually-lossless` target, and auto mode's search
/// settings with the codec's quality prior: what the library-level searches below start from.
fn fixture_at_visually_lossless(
    options: jndenc::codec::JpegOptions,
) -> (jndenc::Image, jndenc::codec::Jpegli, jndenc::target::Target, jndenc::auto::AutoOptions) {
    let codec = jndenc::codec::Jpegli::new(options);
    let target = jndenc::target::Target::preset(jndenc::settings::Preset::VisuallyLossless).unwrap();
    let search = jndenc::auto::AutoOptions {
        prior: Some(jndenc::auto::prior_for(&codec).unwrap()),
        ..jndenc::auto::AutoOptions::for_format(codec.format())
    };
    (fixture_image("photo.png"), codec, target, search)
}

/// The whole-picture judge as a decider, on the fixture photo at visually-lossless (jpegli 4:2:0).
mod vp_jnd {
    use super::*;
    use jnd_model::judge::Bands;
    use jnd_model::metrics::{butteraugli_3norm, ssimulacra2};
    use jndenc::auto::{AutoOptions, Decider, JudgeDecider, TeacherDecider, encode_at_jnd};
    use jndenc::codec::{JpegOptions, Jpegli};
    use jndenc::target::Target;

    fn setup() -> (jndenc::Image, Jpegli, Target, AutoOptions) {
        fixture_at_visually_lossless(JpegOptions::default())
    }

    #[test]
    fn without_bands_it_decides_exactly_as_the_teacher() {
        let (image, codec, target, options) = setup();
        let mut judge = JudgeDecider::embedded(target).unwrap();
        judge.bands = Bands::NONE;
        let a = encode_at_jnd(&image, &codec, &judge, &options).unwrap();
        let b = encode_at_jnd(&image, &codec, &TeacherDecider { target }, &options).unwrap();
        assert_eq!((a.quality, &a.encoded.bytes), (b.quality, &b.encoded.bytes));
        assert_eq!(a.probes, b.probes, "same probes, same measured scores, all checked");
        assert!(a.probes.iter().all(|p| p.decision.checked));
    }

    #[test]
    fn far_from_the_bounds_the_network_decides_alone_and_rightly() {
        let (image, codec, target, _) = setup();
        let judge = JudgeDecider::embedded(target).unwrap();
        let prepared = judge.prepare(&image).unwrap();
        for (quality, lossless) in [(10, false), (100, true)] {
            let decoded = codec.decode(&codec.encode(&image, quality).unwrap().bytes).unwrap();
            let d = judge.judge(&prepared, &decoded).unwrap();
            assert!(!d.checked, "q{quality}: {d:?} needed no metric");
            assert_eq!(!d.visible, lossless, "q{quality}: {d:?}");
            // The real metrics agree.
            let measured = target.passes(
                butteraugli_3norm(&image, &decoded).unwrap(),
                Some(ssimulacra2(&image, &decoded).unwrap()),
            );
            assert_eq!(measured, lossless, "q{quality}");
        }
    }

    #[test]
    fn with_its_bands_the_output_meets_both_bounds_as_measured() {
        let (image, codec, target, options) = setup();
        let judge = JudgeDecider::embedded(target).unwrap();
        let out = encode_at_jnd(&image, &codec, &judge, &options).unwrap();
        let decoded = codec.decode(&out.encoded.bytes).unwrap();
        let (d, s) = (butteraugli_3norm(&image, &decoded).unwrap(), ssimulacra2(&image, &decoded).unwrap());
        assert!(target.passes(d, Some(s)), "q{}: 3-norm {d}, SSIMULACRA 2 {s}", out.quality);
        // The quality below the answer, when judged, was rejected.
        if let Some(p) = out.probes.iter().find(|p| p.quality + 1 == out.quality) {
            assert!(p.decision.visible, "{p:?}");
        }
    }
}

/// A lone candidate's metrics side by side (`Decider::judge_alone`, `AutoOptions::side_by_side`): the
/// same decisions as one after the other, for the teacher and for the judge measuring both metrics.
mod side_by_side {
    use super::*;
    use jnd_model::judge::Bands;
    use jndenc::auto::{Decider, JudgeDecider, TeacherDecider, encode_at_jnd};

    /// Both ways of judging agree on candidates over the whole range, which includes ones beyond the
    /// ceiling (SSIMULACRA 2 computed side by side, then dropped), ones within it that fail the floor,
    /// and ones that pass.
    fn agree<D: Decider>(decider: &D) {
        let (image, codec, _, _) = fixture_at_visually_lossless(jndenc::codec::JpegOptions::default());
        let prepared = decider.prepare(&image).unwrap();
        let mut kinds = [false; 3];
        for quality in [30, 60, 75, 80, 84, 86, 88, 90, 93, 96, 100] {
            let decoded = codec.decode(&codec.encode(&image, quality).unwrap().bytes).unwrap();
            let one_after_the_other = decider.judge(&prepared, &decoded).unwrap();
            let side_by_side = decider.judge_alone(&prepared, &decoded).unwrap();
            assert_eq!(side_by_side, one_after_the_other, "q{quality}");
            let d = one_after_the_other;
            kinds[match (d.visible, d.ssimulacra2) {
                (true, None) => 0,
                (true, Some(_)) => 1,
                (false, _) => 2,
            }] = true;
        }
        assert_eq!(kinds, [true; 3], "the qualities cover a ceiling failure, a floor failure and a pass");
    }

    /// A ceiling of 1 with a floor high enough that some candidates within the ceiling fail it.
    fn strict_floor() -> jndenc::target::Target {
        jndenc::target::Target::bounds(Some(1.0), Some(85.0)).unwrap()
    }

    #[test]
    fn the_teacher_decides_the_same() {
        agree(&TeacherDecider { target: strict_floor() });
    }

    #[test]
    fn the_judge_measuring_both_decides_the_same() {
        let mut judge = JudgeDecider::embedded(strict_floor()).unwrap();
        judge.bands = Bands::NONE;
        agree(&judge);
    }

    #[test]
    fn the_search_writes_the_same_either_way() {
        let (image, codec, target, options) =
            fixture_at_visually_lossless(jndenc::codec::JpegOptions::default());
        let decider = TeacherDecider { target };
        let apart = jndenc::auto::AutoOptions { side_by_side: false, ..options.clone() };
        let a = encode_at_jnd(&image, &codec, &decider, &options).unwrap();
        let b = encode_at_jnd(&image, &codec, &decider, &apart).unwrap();
        assert_eq!((a.quality, &a.encoded.bytes, &a.probes), (b.quality, &b.encoded.bytes, &b.probes));
    }
}

/// Auto mode's second sampling, searched only under the first's bytes
/// (`jndenc::auto::encode_at_jnd_below`), on the fixture photo at visually-lossless (jpegli 4:4:4).
mod below {
    use super::*;
    use jndenc::auto::{AutoOptions, Below, Decider, TeacherDecider, encode_at_jnd, encode_at_jnd_below};
    use jndenc::codec::{JpegOptions, Jpegli};

    fn setup() -> (jndenc::Image, Jpegli, TeacherDecider, AutoOptions) {
        let (image, codec, target, options) = fixture_at_visually_lossless(JpegOptions {
            sampling: Some(vec![(1, 1)]),
            ..JpegOptions::default()
        });
        (image, codec, TeacherDecider { target }, options)
    }

    #[test]
    fn it_finds_the_full_searchs_answer_under_its_bytes_and_one_judgement_rules_out_the_rest() {
        let (image, codec, decider, options) = setup();
        let full = encode_at_jnd(&image, &codec, &decider, &options).unwrap();
        assert!(!full.saturated && full.quality > 1, "{full:?}");
        let prepared = decider.prepare(&image).unwrap();
        let below = |limit: usize, near: u8| {
            encode_at_jnd_below(&image, &codec, &decider, &options, &prepared, None, limit, near).unwrap()
        };
        let answer = full.encoded.bytes.len();
        // A limit just above the answer's bytes: the same answer, whichever quality the bytes search
        // starts from.
        for near in [1, full.quality, 100] {
            match below(answer + 1, near) {
                Below::Found(r) => {
                    assert_eq!(
                        (r.quality, &r.encoded.bytes),
                        (full.quality, &full.encoded.bytes),
                        "from q{near}"
                    );
                    assert!(r.probes.iter().all(|p| p.bytes <= answer), "{:?}", r.probes);
                }
                Below::None { probes, .. } => panic!("from q{near}: nothing found, {probes:?}"),
            }
        }
        // At the answer's own bytes, the highest quality under them lies below the answer: judged
        // once, visible, and the search ends there.
        match below(answer, full.quality) {
            Below::None { probes, .. } => {
                assert_eq!(probes.len(), 1, "{probes:?}");
                assert!(probes[0].decision.visible && probes[0].quality < full.quality, "{probes:?}");
                assert!(probes[0].bytes < answer);
                // The real metrics agree: that candidate fails the target.
                let decoded = codec.decode(&codec.encode(&image, probes[0].quality).unwrap().bytes).unwrap();
                assert!(decider.judge(&prepared, &decoded).unwrap().visible);
            }
            Below::Found(r) => panic!("found q{} under the answer's bytes", r.quality),
        }
        // No candidate is that small: nothing judged.
        match below(10, 50) {
            Below::None { probes, .. } => assert!(probes.is_empty(), "{probes:?}"),
            Below::Found(r) => panic!("found q{} under 10 bytes", r.quality),
        }
    }
}

/// Auto mode's sampling choice writes what searching both samplings in full and keeping the smaller
/// that reaches the target would write, with no more candidates judged (the photo: 4:2:0 alone; the
/// graphic: 4:4:4 first, 4:2:0 under its bytes).
#[test]
fn the_ordered_sampling_search_writes_what_two_full_searches_would() {
    for (picture, both_expected) in [("photo.png", false), ("graphic.png", true)] {
        let input = fixture(picture);
        let dir = tempfile::tempdir().unwrap();
        let mut written = Vec::new();
        for (name, sample) in [("auto", None), ("420", Some("2x2,1x1,1x1")), ("444", Some("1x1,1x1,1x1"))] {
            let report = dir.path().join(format!("{name}.json"));
            let mut args = vec!["--report", report.to_str().unwrap()];
            if let Some(s) = sample {
                args.extend(["-sample", s]);
            }
            args.push(input.to_str().unwrap());
            let out = ok(run(&args));
            written.push((without_comments(&out), json(&report)["images"][0].clone()));
        }
        let [(auto, r), (at_420, r420), (at_444, r444)] =
            [written[0].clone(), written[1].clone(), written[2].clone()];
        let judged = |r: &serde_json::Value| r["candidates"].as_array().unwrap().len();
        let both = r["candidates"].as_array().unwrap().iter().any(|c| c["sampling"] == "4:4:4");
        assert_eq!(both, both_expected, "{picture}: {r}");
        if !both {
            assert_eq!(auto, at_420, "{picture}: {r}");
            continue;
        }
        let reaches = |r: &serde_json::Value| r["saturated"] == false;
        let best = match (reaches(&r420), reaches(&r444)) {
            (true, true) if at_444.len() < at_420.len() => &at_444,
            (true, _) => &at_420,
            (false, true) => &at_444,
            (false, false) => &at_420,
        };
        assert_eq!(&auto, best, "{picture}: {r}");
        assert!(judged(&r) < judged(&r420) + judged(&r444), "{picture}: {r}");
    }
}
