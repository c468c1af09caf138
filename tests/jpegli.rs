//! jpegli as a jndenc codec, through the binary: its output is standard JPEG (djpeg and the image
//! crate read it), metadata survives, cjpeg's switches are honoured or refused by name, auto mode uses
//! it by default while `-quality N` keeps cjpeg's meaning (mozjpeg).
#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

mod common;

use std::process::Stdio;

use common::*;
use jndenc::jpeg_info;

fn photo() -> String {
    fixture("photo.ppm").to_str().unwrap().to_string()
}

/// djpeg's decode of `jpeg` (PPM or PGM), through the library's PNM reader.
fn djpeg(jpeg: &[u8]) -> jndenc::Image {
    use std::io::Write;
    let mut child =
        tool("djpeg").stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    child.stdin.take().unwrap().write_all(jpeg).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "djpeg: {}", String::from_utf8_lossy(&out.stderr));
    assert!(out.stderr.is_empty(), "djpeg warned: {}", String::from_utf8_lossy(&out.stderr));
    decode_bytes(&out.stdout)
}

#[test]
fn jpegli_output_is_read_by_djpeg_and_the_image_crate() {
    let original = fixture_image("photo.ppm");
    let out = ok(run(&["--codec", "jpegli", "-quality", "90", &photo()]));
    let by_djpeg = djpeg(&out);
    let by_crate = image::load_from_memory_with_format(&out, image::ImageFormat::Jpeg).unwrap().to_rgb8();
    assert_eq!((by_djpeg.width(), by_djpeg.height()), (192, 128));
    assert_eq!(by_crate.dimensions(), (192, 128));
    let by_crate = jndenc::Image::new(192, 128, jndenc::ColorType::Rgb, by_crate.into_raw()).unwrap();
    assert!(psnr(&by_djpeg, &by_crate) > 40.0, "two decoders disagree on jpegli's output");
    // Quality 90 is jpegli's distance 1.0: close to the original.
    let fidelity = psnr(&original, &by_djpeg);
    assert!(fidelity > 32.0, "PSNR {fidelity:.1} dB at jpegli distance 1.0");
    let info = jpeg_info::parse(&out).unwrap();
    assert!(info.jfif, "JFIF APP0 written (jpegli's own default leaves it out)");
    assert_eq!(info.sof, 2, "progressive (SOF2), as cjpeg's default");
    assert_eq!((info.components[0].h, info.components[0].v), (2, 2), "4:2:0, as cjpeg's default");
    assert_ne!(
        out,
        ok(run(&["--codec", "mozjpeg", "-quality", "90", &photo()])),
        "--codec jpegli is not mozjpeg"
    );
}

#[test]
fn a_lower_jpegli_quality_is_a_larger_distance_and_a_smaller_file() {
    let sizes: Vec<usize> = ["95", "80", "60", "40"]
        .iter()
        .map(|q| ok(run(&["--codec", "jpegli", "-quality", q, &photo()])).len())
        .collect();
    assert!(sizes.windows(2).all(|w| w[0] > w[1]), "sizes by falling quality: {sizes:?}");
}

#[test]
fn icc_and_exif_are_kept_and_stripped_on_request() {
    let icc = std::fs::read(fixture("srgb.icc")).unwrap();
    let source = std::fs::read(fixture("exif-orientation.jpg")).unwrap();
    let exif = jpeg_info::parse(&source).unwrap().exif.unwrap();
    let input = fixture("exif-orientation.jpg");
    let icc_path = fixture("srgb.icc");
    let mut args = vec!["--codec", "jpegli", "-q", "85", "-icc", icc_path.to_str().unwrap()];
    args.push(input.to_str().unwrap());
    let out = ok(run(&args));
    let info = jpeg_info::parse(&out).unwrap();
    assert_eq!(info.icc.as_deref(), Some(&icc[..]));
    assert_eq!(info.exif.as_deref(), Some(&exif[..]));
    assert_eq!(decode_bytes(&out).metadata.icc.as_deref(), Some(&icc[..]));
    args.splice(0..0, ["--strip", "all"]);
    let stripped = jpeg_info::parse(&ok(run(&args))).unwrap();
    assert!(stripped.icc.is_none() && stripped.exif.is_none());
}

#[test]
fn colour_sampling_progression_and_restart_switches_are_honoured() {
    let run_with = |extra: &[&str]| {
        let mut args = vec!["--codec", "jpegli", "-quality", "85"];
        args.extend_from_slice(extra);
        let p = photo();
        args.push(&p);
        let out = ok(run(&args));
        (jpeg_info::parse(&out).unwrap(), djpeg(&out))
    };
    let (gray, decoded) = run_with(&["-grayscale"]);
    assert_eq!(gray.components.len(), 1);
    assert_eq!(decoded.color(), jndenc::ColorType::Gray);
    let (rgb, decoded) = run_with(&["-rgb"]);
    assert_eq!(rgb.components.iter().map(|c| c.id).collect::<Vec<_>>(), b"RGB".to_vec());
    assert!(rgb.adobe && !rgb.jfif, "an RGB JPEG is marked by Adobe's APP14, not JFIF");
    assert!(psnr(&fixture_image("photo.ppm"), &decoded) > 30.0, "RGB decoded as RGB");
    let (full, _) = run_with(&["-sample", "1x1"]);
    assert!(full.components.iter().all(|c| (c.h, c.v) == (1, 1)), "4:4:4");
    let (baseline, _) = run_with(&["-baseline"]);
    assert_eq!((baseline.sof, baseline.scans), (0, 1), "-baseline: one sequential scan (SOF0)");
    assert!(baseline.quant_tables.iter().flatten().flatten().all(|&q| q <= 255), "8-bit tables");
    let (restart, _) = run_with(&["-restart", "2"]);
    assert!(restart.restart_interval.is_some_and(|n| n > 0));
    let (nojfif, _) = run_with(&["-nojfif"]);
    assert!(!nojfif.jfif);
}

#[test]
fn switches_jpegli_cannot_honour_are_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let tables = dir.path().join("t.txt");
    std::fs::write(&tables, "16 ".repeat(64)).unwrap();
    let cases: [(&[&str], &str); 4] = [
        (&["-qtables", tables.to_str().unwrap()], "-qtables with the jpegli codec"),
        (&["-quant-table", "3"], "-quant-table with the jpegli codec"),
        (&["-dct", "fast"], "-dct with the jpegli codec"),
        (&["-quality", "90,70"], "-quality N,M (per-slot qualities) with the jpegli codec"),
    ];
    for (switches, message) in cases {
        let mut args = vec!["--codec", "jpegli"];
        args.extend_from_slice(switches);
        let p = photo();
        args.push(&p);
        let out = run(&args);
        assert_eq!(out.status.code(), Some(1), "{switches:?}");
        assert!(out.stdout.is_empty(), "{switches:?}: nothing written");
        let err = stderr(&out);
        assert!(err.contains(message), "{switches:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{err}");
    }
    let per_block = run(&["--codec", "jpegli", "--adaptive", "human", &photo()]);
    assert_eq!(per_block.status.code(), Some(1));
    assert!(stderr(&per_block).contains("--codec jpegli with per-block quantisation"));
    let heif = run(&["--codec", "jpegli", "--format", "heif", &photo()]);
    assert_eq!(heif.status.code(), Some(1));
    assert!(stderr(&heif).contains("codec jpegli writes JPEG, not HEIF"));
}

#[test]
fn auto_mode_writes_jpegli_and_a_fixed_quality_keeps_cjpegs_meaning() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("r.json");
    let out = ok(run(&["--decider", "teacher", "--report", report.to_str().unwrap(), &photo()]));
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    let image = &json["images"][0];
    assert_eq!(image["codec"], "jpegli");
    let quality = image["quality"].as_u64().unwrap() as u8;
    let distance = jndenc::codec::jpegli::quality_to_distance(quality);
    assert_eq!(image["parameter"], format!("distance={distance:.2}"));
    // The chosen point is what a fixed jpegli encode at that quality writes (plus jndenc's marker).
    let fixed = ok(run(&["--codec", "jpegli", "-quality", &quality.to_string(), &photo()]));
    assert_eq!(without_comments(&out), without_comments(&fixed));
    // Without --codec, -quality is mozjpeg's (cjpeg's tables), byte for byte.
    assert_eq!(
        ok(run(&["-quality", "75", &photo()])),
        ok(run(&["--codec", "mozjpeg", "-quality", "75", &photo()]))
    );
    // A switch only mozjpeg honours makes auto mode use mozjpeg instead of refusing.
    let reverted = dir.path().join("rev.json");
    ok(run(&["--decider", "teacher", "-revert", "--report", reverted.to_str().unwrap(), &photo()]));
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&reverted).unwrap()).unwrap();
    assert_eq!(json["images"][0]["codec"], "mozjpeg");
}
