//! The one encode pipeline through the binary: every switch is honoured or refused by name, whichever
//! path the plan takes (fixed quality, auto search with the copy-input rule, per-block quantisation),
//! warnings reach the exit status, and a switch that cannot act says so.
#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

mod common;

use std::path::Path;

use common::*;
use jndenc::jpeg_info;

/// A small (quality 20) JPEG of the photo fixture carrying the EXIF fixture's EXIF: a candidate at
/// quality 90 or more is never smaller, so auto mode with `--min-quality 90` keeps this input.
fn small_jpeg_with_exif(dir: &Path) -> (std::path::PathBuf, Vec<u8>) {
    use jndenc::Codec;
    let exif = jpeg_info::parse(&std::fs::read(fixture("exif-orientation.jpg")).unwrap()).unwrap().exif;
    assert!(exif.is_some());
    let mut image = fixture_image("photo.png");
    image.metadata.exif = exif;
    let small = jndenc::codec::MozJpeg::default().encode(&image, 20).unwrap().bytes;
    assert!(jpeg_info::parse(&small).unwrap().exif.is_some());
    let path = dir.join("small.jpg");
    std::fs::write(&path, &small).unwrap();
    (path, small)
}

fn kept(args: &[&str], input: &Path) -> (std::process::Output, Vec<u8>) {
    let mut all = vec!["--min-quality", "90"];
    all.extend_from_slice(args);
    all.push(input.to_str().unwrap());
    let out = run(&all);
    let bytes = out.stdout.clone();
    (out, bytes)
}

#[test]
fn a_kept_input_obeys_strip_and_icc() {
    let dir = tempfile::tempdir().unwrap();
    let (input, small) = small_jpeg_with_exif(dir.path());
    let original = decode_bytes(&small);

    // --strip all: the copy loses EXIF (and any ICC); its pixels are the input's, byte for byte.
    let (out, bytes) = kept(&["--strip", "all"], &input);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).contains("input was copied"), "{}", stderr(&out));
    let info = jpeg_info::parse(&bytes).unwrap();
    assert!(info.exif.is_none() && info.icc.is_none(), "metadata survived --strip all");
    assert!(bytes.len() < small.len());
    assert_eq!(decode_bytes(&bytes).pixels(), original.pixels());

    // -icc: the copy carries the given profile and keeps its EXIF.
    let icc = std::fs::read(fixture("srgb.icc")).unwrap();
    let (out, bytes) = kept(&["-icc", fixture("srgb.icc").to_str().unwrap()], &input);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).contains("input was copied"), "{}", stderr(&out));
    let info = jpeg_info::parse(&bytes).unwrap();
    assert_eq!(info.icc.as_deref(), Some(&icc[..]));
    assert_eq!(info.exif, jpeg_info::parse(&small).unwrap().exif);
    assert_eq!(decode_bytes(&bytes).pixels(), original.pixels());
    let djpeg = tool("djpeg").arg(dir.path().join("small.jpg")).output().unwrap();
    assert!(djpeg.status.success());

    // --strip exif keeps nothing but the pixels' own markers.
    let (_, bytes) = kept(&["--strip", "exif"], &input);
    assert!(jpeg_info::parse(&bytes).unwrap().exif.is_none());
}

#[test]
fn a_colour_input_is_not_kept_when_grey_output_is_asked_for() {
    let dir = tempfile::tempdir().unwrap();
    let (input, _) = small_jpeg_with_exif(dir.path());
    let (out, bytes) = kept(&["-grayscale"], &input);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(!stderr(&out).contains("input was copied"), "{}", stderr(&out));
    assert_eq!(jpeg_info::parse(&bytes).unwrap().components.len(), 1);
    // A grey input satisfies -grayscale and may be kept.
    let grey = ok(run(&["-quality", "20", fixture("gray.pgm").to_str().unwrap()]));
    let grey_path = dir.path().join("grey.jpg");
    std::fs::write(&grey_path, &grey).unwrap();
    let (out, bytes) = kept(&["-grayscale"], &grey_path);
    assert!(stderr(&out).contains("input was copied"), "{}", stderr(&out));
    assert_eq!(bytes, grey);
}

/// Runs a per-block encode (`--adaptive human`, no model to load) with extra switches.
fn per_block(extra: &[&str]) -> std::process::Output {
    let mut args = if extra.contains(&"-quality") { vec![] } else { vec!["-quality", "80"] };
    args.extend_from_slice(&["--adaptive", "human"]);
    args.extend_from_slice(extra);
    let input = fixture("photo.ppm");
    args.push(input.to_str().unwrap());
    run(&args)
}

#[test]
fn per_block_quantisation_honours_the_switches_it_can() {
    let plain = jpeg_info::parse(&ok(per_block(&[]))).unwrap();
    assert!(plain.jfif && plain.restart_interval.is_none() && plain.is_progressive());
    assert_eq!(plain.components.len(), 3);
    assert_eq!((plain.components[0].h, plain.components[0].v), (2, 2));

    let restart = ok(per_block(&["-restart", "1"]));
    assert!(jpeg_info::parse(&restart).unwrap().restart_interval.is_some());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("restart.jpg");
    std::fs::write(&path, &restart).unwrap();
    let djpeg = tool("djpeg").arg(&path).output().unwrap();
    assert!(djpeg.status.success() && djpeg.stderr.is_empty(), "{}", String::from_utf8_lossy(&djpeg.stderr));

    assert!(!jpeg_info::parse(&ok(per_block(&["-nojfif"]))).unwrap().jfif);
    assert!(!jpeg_info::parse(&ok(per_block(&["-baseline"]))).unwrap().is_progressive());
    assert!(!jpeg_info::parse(&ok(per_block(&["-revert"]))).unwrap().is_progressive());
    let s444 = jpeg_info::parse(&ok(per_block(&["-sample", "1x1"]))).unwrap();
    assert_eq!((s444.components[0].h, s444.components[0].v), (1, 1));
    let grey = ok(per_block(&["-grayscale"]));
    assert_eq!(jpeg_info::parse(&grey).unwrap().components.len(), 1);
    assert!(psnr(&fixture_image("photo.ppm").to_gray(), &decode_bytes(&grey)) > 30.0);
    // The per-block pass starts from mozjpeg's encode with the same switches: -notrellis and -dct
    // change the coefficients it starts from.
    assert_ne!(ok(per_block(&["-dct", "float"])), ok(per_block(&[])));
    assert_ne!(ok(per_block(&["-notrellis"])), ok(per_block(&[])));
    // Switches the first per-block encoder refused are honoured now.
    let rgb = jpeg_info::parse(&ok(per_block(&["-rgb"]))).unwrap();
    assert!(rgb.adobe && !rgb.jfif, "-rgb writes an Adobe RGB JPEG");
    let s21 = jpeg_info::parse(&ok(per_block(&["-sample", "2x1"]))).unwrap();
    assert_eq!((s21.components[0].h, s21.components[0].v), (2, 1));
    let slots = jpeg_info::parse(&ok(per_block(&["-qslots", "0,1,0"]))).unwrap();
    assert_eq!(slots.components.iter().map(|c| c.table).collect::<Vec<_>>(), [0, 1, 0]);
    let two = jpeg_info::parse(&ok(per_block(&["-quality", "80,60"]))).unwrap();
    assert!(two.quant_tables[1].unwrap()[0] > two.quant_tables[0].unwrap()[0]);
    for extra in [&["-smooth", "10"][..], &["-dct", "fast"]] {
        let bytes = ok(per_block(extra));
        assert!(psnr(&fixture_image("photo.ppm"), &decode_bytes(&bytes)) > 28.0, "{extra:?}");
    }
    // -quant-table changes the base tables.
    assert_ne!(
        jpeg_info::parse(&ok(per_block(&["-quant-table", "3"]))).unwrap().quant_tables[0],
        plain.quant_tables[0]
    );
}

#[test]
fn per_block_quantisation_refuses_the_others_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let cases: &[(&[&str], &str)] =
        &[(&["--codec", "rust"], "--codec rust"), (&["--format", "heif"], "JPEG only")];
    for (extra, name) in cases {
        let out_path = dir.path().join("out.jpg");
        let mut args = vec!["-outfile", out_path.to_str().unwrap()];
        args.extend_from_slice(extra);
        let out = per_block(&args);
        assert_eq!(out.status.code(), Some(1), "{extra:?}: {}", stderr(&out));
        let message = stderr(&out);
        assert!(message.contains(name), "{extra:?}: {message}");
        assert_eq!(message.lines().count(), 1, "{extra:?}: {message}");
        assert!(!out_path.exists(), "{extra:?} left an output");
    }
}

/// A PNG whose EXIF (70,000 bytes) cannot fit one JPEG APP1 segment.
fn png_with_oversized_exif(dir: &Path) -> std::path::PathBuf {
    let image = fixture_image("photo.ppm");
    let mut bytes = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut bytes, image.width(), image.height());
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().unwrap();
        let mut exif = b"II*\0\x08\0\0\0\0\0".to_vec();
        exif.resize(70_000, 0);
        writer.write_chunk(png::chunk::eXIf, &exif).unwrap();
        writer.write_image_data(image.pixels()).unwrap();
    }
    let path = dir.join("big-exif.png");
    std::fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn codec_warnings_reach_the_exit_status_on_every_path() {
    let dir = tempfile::tempdir().unwrap();
    let input = png_with_oversized_exif(dir.path());
    for extra in [&["-quality", "80"][..], &["-quality", "80", "--adaptive", "human"][..]] {
        let mut args = extra.to_vec();
        args.push(input.to_str().unwrap());
        let out = run(&args);
        assert_eq!(out.status.code(), Some(2), "{extra:?}: {}", stderr(&out));
        assert!(stderr(&out).contains("does not fit one APP1 segment"), "{extra:?}: {}", stderr(&out));
        let info = jpeg_info::parse(&out.stdout).unwrap();
        assert!(info.exif.is_none(), "{extra:?}: the oversized EXIF was written");
    }
}

#[test]
fn search_switches_with_a_fixed_quality_warn() {
    let input = fixture("photo.ppm");
    let plain = ok(run(&["-quality", "80", input.to_str().unwrap()]));
    for (switch, value) in
        [("--target", Some("strict")), ("--decider", Some("teacher")), ("--max-quality", Some("90"))]
    {
        let mut args = vec!["-quality", "80", switch];
        args.extend(value);
        args.push(input.to_str().unwrap());
        let out = run(&args);
        assert_eq!(out.status.code(), Some(2), "{switch}: {}", stderr(&out));
        assert!(stderr(&out).contains(&format!("warning: {switch} has no effect")), "{}", stderr(&out));
        assert_eq!(out.stdout, plain, "{switch} changed a fixed-quality encode");
    }
    // --target machine with -quality is per-block coding, not a search switch: no warning.
    let out = run(&["-quality", "80", "--target", "machine", input.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[test]
fn an_unknown_switch_is_named_as_typed() {
    let out = run(&["-qualty", "80", fixture("photo.ppm").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let message = stderr(&out);
    assert!(message.contains("'-qualty'") && !message.contains("--qualty"), "{message}");
}

#[test]
fn batch_mode_encodes_no_extra_top_quality_candidate_unless_asked() {
    let dir = tempfile::tempdir().unwrap();
    let outdir = dir.path().join("out");
    let input = fixture("photo.png");
    let out = run(&["-quality", "60", "--outdir", outdir.to_str().unwrap(), input.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let line = stderr(&out);
    assert!(line.contains("1 of 1 images encoded") && line.contains("bytes written from"), "{line}");
    assert!(!line.contains("highest quality"), "a saving was claimed without measuring it: {line}");
    // With a report, the saving is measured (quality 100 encoded once) and stated.
    let report = dir.path().join("r.json");
    let out = run(&[
        "-quality",
        "60",
        "--outdir",
        outdir.to_str().unwrap(),
        "--report",
        report.to_str().unwrap(),
        input.to_str().unwrap(),
    ]);
    assert!(stderr(&out).contains("at the highest quality"), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert!(json["images"][0]["top_bytes"].as_u64().unwrap() > json["images"][0]["bytes"].as_u64().unwrap());
}
