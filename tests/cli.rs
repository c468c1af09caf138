//! jndenc as cjpeg: standard streams, files, every cjpeg switch, and what each switch does to the
//! output (read back from the JPEG's markers and decoded pixels).
#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

mod common;

use common::*;
use jndenc::jpeg_info::{self, JpegInfo};

fn info(bytes: &[u8]) -> JpegInfo {
    jpeg_info::parse(bytes).expect("output is a parseable JPEG")
}

/// libjpeg's scaled Annex K luminance table at `quality` (natural order, clamped to `max`).
fn annex_k_luma(quality: u32, max: u32) -> Vec<u16> {
    const LUMA: [u32; 64] = [
        16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56, 14,
        17, 22, 29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92, 49,
        64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
    ];
    let scale = if quality < 50 { 5000 / quality } else { 200 - 2 * quality };
    LUMA.iter().map(|&v| ((v * scale + 50) / 100).clamp(1, max) as u16).collect()
}

#[test]
fn stdin_to_stdout_gives_a_jpeg_close_to_the_input() {
    let input = std::fs::read(fixture("photo.png")).unwrap();
    let out = ok(run_stdin(&["-quality", "90"], &input));
    let decoded = decode_bytes(&out);
    let original = fixture_image("photo.png");
    let db = psnr(&original, &decoded);
    assert!(db > 32.0, "PSNR {db:.2} dB at quality 90");
    // Default mozjpeg behaviour: progressive, JFIF, 4:2:0.
    let i = info(&out);
    assert!(i.is_progressive() && i.jfif);
    assert_eq!((i.components[0].h, i.components[0].v), (2, 2));
}

#[test]
fn dash_means_stdin_and_file_to_outfile_matches_stdout() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("out.jpg");
    let input = fixture("photo.ppm");
    ok(run(&["-quality", "85", "-outfile", target.to_str().unwrap(), input.to_str().unwrap()]));
    let via_file = std::fs::read(&target).unwrap();
    let via_stdin = ok(run_stdin(&["-quality", "85", "-"], &std::fs::read(&input).unwrap()));
    assert!(via_file == via_stdin, "same input and switches must give the same bytes");
    assert!(psnr(&fixture_image("photo.ppm"), &decode_bytes(&via_file)) > 30.0);
}

#[test]
fn every_input_format_is_read() {
    let reference = fixture_image("photo.png");
    for name in ["photo.ppm", "photo.bmp", "photo.png"] {
        let out = ok(run(&["-q", "95", fixture(name).to_str().unwrap()]));
        let db = psnr(&reference, &decode_bytes(&out));
        assert!(db > 34.0, "{name}: PSNR {db:.2}");
    }
    // Targa is recognised by its first byte, and -targa forces it.
    let tga = fixture("photo.tga");
    let plain = ok(run(&["-q", "95", tga.to_str().unwrap()]));
    let forced = ok(run(&["-q", "95", "-targa", tga.to_str().unwrap()]));
    assert!(plain == forced, "-targa must not change a Targa file's result");
    assert!(psnr(&reference, &decode_bytes(&plain)) > 34.0);
    // GIF, PGM, 16-bit PNG, and a JPEG input.
    for name in ["graphic.gif", "gray.pgm", "photo16.png", "exif-orientation.jpg"] {
        let out = ok(run(&["-q", "90", fixture(name).to_str().unwrap()]));
        let decoded = decode_bytes(&out);
        let original = fixture_image(name);
        assert_eq!((decoded.width(), decoded.height()), (original.width(), original.height()), "{name}");
    }
    // 16-bit samples are rounded, not truncated: compare against the decoder's own 8-bit rounding.
    let out = ok(run(&["-q", "100", "-sample", "1x1", fixture("photo16.png").to_str().unwrap()]));
    assert!(psnr(&fixture_image("photo16.png"), &decode_bytes(&out)) > 40.0);
}

#[test]
fn quality_sets_the_standard_tables() {
    let input = fixture("photo.ppm");
    for q in [10u32, 50, 75, 90] {
        let out = ok(run(&["-quality", &q.to_string(), "-baseline", input.to_str().unwrap()]));
        let i = info(&out);
        assert_eq!(i.quant_tables[0].unwrap().to_vec(), annex_k_luma(q, 255), "quality {q}");
    }
    // Without -baseline, low qualities keep 16-bit quantisers (as cjpeg does).
    let out = ok(run(&["-quality", "5", "-notrellis", input.to_str().unwrap()]));
    let max = *info(&out).quant_tables[0].unwrap().iter().max().unwrap();
    assert!(max > 255, "quality 5 should exceed 8-bit quantisers, max {max}");
    // -quant-baseline clamps them but, unlike -baseline, stays progressive.
    let clamped = info(&ok(run(&["-quality", "5", "-quant-baseline", input.to_str().unwrap()])));
    assert_eq!(*clamped.quant_tables[0].unwrap().iter().max().unwrap(), 255);
    assert!(clamped.is_progressive());
    // Lower quality, smaller file.
    let small = ok(run(&["-quality", "30", input.to_str().unwrap()]));
    let large = ok(run(&["-quality", "95", input.to_str().unwrap()]));
    assert!(small.len() < large.len() / 2, "{} vs {}", small.len(), large.len());
}

#[test]
fn per_slot_quality_sets_luma_and_chroma_separately() {
    let input = fixture("photo.ppm");
    let out = ok(run(&["-quality", "90,50", "-baseline", input.to_str().unwrap()]));
    let i = info(&out);
    assert_eq!(i.quant_tables[0].unwrap().to_vec(), annex_k_luma(90, 255));
    // Annex K chroma DC quantiser 17 at quality 50 (scale 100%).
    assert_eq!(i.quant_tables[1].unwrap()[0], 17);
}

#[test]
fn frame_type_follows_progressive_and_baseline() {
    let input = fixture("photo.ppm");
    let input = input.to_str().unwrap();
    assert_eq!(info(&ok(run(&["-q", "80", input]))).sof, 2, "default is progressive");
    assert_eq!(info(&ok(run(&["-q", "80", "-progressive", input]))).sof, 2);
    let baseline = info(&ok(run(&["-q", "80", "-baseline", input])));
    assert_eq!((baseline.sof, baseline.scans), (0, 1));
    let reverted = info(&ok(run(&["-q", "80", "-revert", input])));
    assert_eq!(reverted.sof, 0);
    assert!(info(&ok(run(&["-q", "80", "-revert", "-progressive", input]))).is_progressive());
}

#[test]
fn grayscale_and_rgb_set_the_components() {
    let input = fixture("photo.ppm");
    let input = input.to_str().unwrap();
    let gray = ok(run(&["-q", "90", "-grayscale", input]));
    assert_eq!(info(&gray).components.len(), 1);
    let decoded = decode_bytes(&gray);
    assert_eq!(decoded.color(), jndenc::ColorType::Gray);
    assert!(psnr(&fixture_image("photo.ppm").to_gray(), &decoded) > 33.0);
    // British spelling and abbreviation.
    assert!(ok(run(&["-q", "90", "-grey", input])) == gray, "-grey is -grayscale");
    let rgb_bytes = ok(run(&["-q", "90", "-rgb", input]));
    let rgb = info(&rgb_bytes);
    // Marked by Adobe's APP14 alone: with a JFIF marker readers take the components for YCbCr.
    assert!(rgb.adobe && !rgb.jfif, "adobe {} jfif {}", rgb.adobe, rgb.jfif);
    assert!(psnr(&fixture_image("photo.ppm"), &decode_bytes(&rgb_bytes)) > 30.0, "RGB decoded as RGB");
    let ids: Vec<u8> = rgb.components.iter().map(|c| c.id).collect();
    assert_eq!(ids, b"RGB", "RGB JPEGs use component ids 'R','G','B'");
    assert!(rgb.components.iter().all(|c| (c.h, c.v) == (1, 1)));
    // A gray input gives a one-component JPEG by default.
    assert_eq!(info(&ok(run(&["-q", "90", fixture("gray.pgm").to_str().unwrap()]))).components.len(), 1);
}

#[test]
fn sample_sets_sampling_factors() {
    let input = fixture("photo.ppm");
    for (arg, expect) in [
        ("1x1", [(1, 1), (1, 1), (1, 1)]),
        ("2x1", [(2, 1), (1, 1), (1, 1)]),
        ("2x2,1x1,1x1", [(2, 2), (1, 1), (1, 1)]),
    ] {
        let i = info(&ok(run(&["-q", "80", "-sample", arg, input.to_str().unwrap()])));
        let got: Vec<(u8, u8)> = i.components.iter().map(|c| (c.h, c.v)).collect();
        assert_eq!(got, expect, "-sample {arg}");
    }
}

#[test]
fn restart_writes_a_dri_marker() {
    let input = fixture("photo.ppm");
    let i = info(&ok(run(&["-q", "80", "-restart", "5B", input.to_str().unwrap()])));
    assert_eq!(i.restart_interval, Some(5));
    // One MCU row of a 192-wide 4:2:0 image is 12 MCUs.
    let i = info(&ok(run(&["-q", "80", "-baseline", "-restart", "1", input.to_str().unwrap()])));
    assert_eq!(i.restart_interval, Some(12));
    let i = info(&ok(run(&["-q", "80", input.to_str().unwrap()])));
    assert_eq!(i.restart_interval, None);
}

/// Progressive (mozjpeg's default) output with restart markers is clean for libjpeg-turbo's djpeg,
/// which reported mozjpeg's optimised scans with restarts as corrupt (mozilla/mozjpeg#195). Without
/// trellis quantisation the pixels are those of the file without restarts; with it (DC trellis sees
/// the restarts) the quality is the same within 0.2 dB.
#[test]
fn progressive_restart_output_is_clean_and_keeps_the_pixels() {
    let input = fixture("photo.ppm");
    let input = input.to_str().unwrap();
    let original = fixture_image("photo.ppm");
    let djpeg = |bytes: &[u8]| {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.jpg");
        std::fs::write(&path, bytes).unwrap();
        let out = tool("djpeg").arg("-pnm").arg(&path).output().unwrap();
        assert!(
            out.status.success() && out.stderr.is_empty(),
            "djpeg: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    };
    for extra in [&["-notrellis"][..], &[], &["-sample", "1x1"], &["-grayscale"]] {
        let plain = ok(run(&[&["-q", "75"][..], extra, &[input]].concat()));
        let reference = djpeg(&plain);
        for restart in ["1", "2", "3B"] {
            let bytes = ok(run(&[&["-q", "75", "-restart", restart][..], extra, &[input]].concat()));
            let context = format!("{extra:?} -restart {restart}");
            assert!(info(&bytes).is_progressive() && info(&bytes).restart_interval.is_some(), "{context}");
            let pixels = djpeg(&bytes);
            if extra == ["-notrellis"] {
                assert!(pixels == reference, "{context}: other pixels");
            } else if !extra.contains(&"-grayscale") {
                let reference_psnr = psnr(&original, &decode_bytes(&plain));
                let quality = psnr(&original, &decode_bytes(&bytes));
                assert!(
                    (quality - reference_psnr).abs() < 0.2,
                    "{context}: {quality:.2} vs {reference_psnr:.2} dB"
                );
            }
        }
    }
}

#[test]
fn qtables_and_qslots_are_read_back() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tables.txt");
    let luma: Vec<u16> = (1..=64).collect();
    let chroma: Vec<u16> = (0..64).map(|i| 40 + i).collect();
    let text = format!(
        "# luma\n{}\n# chroma\n{}\n",
        luma.iter().map(u16::to_string).collect::<Vec<_>>().join(" "),
        chroma.iter().map(u16::to_string).collect::<Vec<_>>().join(" ")
    );
    std::fs::write(&path, text).unwrap();
    let input = fixture("photo.ppm");
    let i = info(&ok(run(&["-qtables", path.to_str().unwrap(), "-baseline", input.to_str().unwrap()])));
    assert_eq!(i.quant_tables[0].unwrap().to_vec(), luma, "tables as written without -quality");
    assert_eq!(i.quant_tables[1].unwrap().to_vec(), chroma);
    // With -quality 50 the scale is 100 %: the same tables; with 75 they halve.
    let i = info(&ok(run(&[
        "-quality",
        "75",
        "-qtables",
        path.to_str().unwrap(),
        "-baseline",
        input.to_str().unwrap(),
    ])));
    assert_eq!(i.quant_tables[1].unwrap()[0], 20);
    // -qslots 0,0,0 sends every component through table 0.
    let i = info(&ok(run(&["-q", "80", "-qslots", "0,0,0", input.to_str().unwrap()])));
    assert!(i.components.iter().all(|c| c.table == 0));
    let i = info(&ok(run(&["-q", "80", input.to_str().unwrap()])));
    assert_eq!(i.components.iter().map(|c| c.table).collect::<Vec<_>>(), [0, 1, 1]);
}

#[test]
fn every_cjpeg_switch_is_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let tables = dir.path().join("t.txt");
    std::fs::write(&tables, "16 ".repeat(64)).unwrap();
    let tables = tables.to_str().unwrap().to_string();
    let icc = fixture("srgb.icc").to_str().unwrap().to_string();
    let input = fixture("photo.ppm").to_str().unwrap().to_string();
    let reference = ok(run(&["-q", "75", &input]));
    let cases: Vec<Vec<&str>> = vec![
        vec!["-quality", "60,50"],
        vec!["-grayscale"],
        vec!["-greyscale"],
        vec!["-rgb"],
        vec!["-optimize"],
        vec!["-optimise"],
        vec!["-progressive"],
        vec!["-baseline"],
        vec!["-restart", "2"],
        vec!["-smooth", "20"],
        vec!["-sample", "1x1"],
        vec!["-qtables", &tables],
        vec!["-qslots", "0,1,1"],
        vec!["-dct", "int"],
        vec!["-dct", "fast"],
        vec!["-dct", "float"],
        vec!["-icc", &icc],
        vec!["-maxmemory", "64M"],
        vec!["-verbose"],
        vec!["-debug"],
        vec!["-memdst"],
        vec!["-revert"],
        vec!["-notrellis"],
        vec!["-quant-table", "3"],
        vec!["-quant-baseline"],
        vec!["-nojfif"],
    ];
    for case in cases {
        let mut args = case.clone();
        args.push(&input);
        let out = ok(run(&args));
        let i = info(&out);
        assert_eq!((i.width, i.height), (192, 128), "{case:?}");
        let decoded = decode_bytes(&out);
        assert_eq!((decoded.width(), decoded.height()), (192, 128), "{case:?}");
        // Every switch except the no-ops changes the output.
        // (-qslots 0,1,1 is the default assignment.)
        // (-quant-baseline only clamps quantisers above 255, which quality 75 does not have.)
        let no_ops = [
            "-quality",
            "-qslots",
            "-quant-baseline",
            "-optimize",
            "-optimise",
            "-progressive",
            "-dct",
            "-maxmemory",
            "-verbose",
            "-debug",
            "-memdst",
        ];
        if !no_ops.contains(&case[0]) {
            assert!(out != reference, "{case:?} should change the output");
        }
    }
    // -dct fast and float differ from int; -smooth blurs.
    let int = ok(run(&["-q", "95", "-dct", "int", &input]));
    assert!(ok(run(&["-q", "95", "-dct", "fast", &input])) != int, "-dct fast changes the output");
    assert!(ok(run(&["-q", "95", "-dct", "float", &input])) != int, "-dct float changes the output");
}

#[test]
fn version_verbose_help_and_man_page() {
    let out = run(&["-version"]);
    assert!(out.status.success());
    assert!(stderr(&out).starts_with("jndenc version "), "{}", stderr(&out));
    let out = run(&["-verbose", "-q", "80", "-outfile", "/dev/null", fixture("photo.ppm").to_str().unwrap()]);
    assert!(out.status.success());
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let kind = std::fs::metadata("/dev/null").unwrap().file_type();
        assert!(kind.is_char_device(), "-outfile /dev/null must write to the device, not replace it");
    }
    let err = stderr(&out);
    assert!(err.contains("jndenc version") && err.contains("192x128"), "{err}");
    let help = ok(run(&["-help"]));
    let help = String::from_utf8(help).unwrap();
    for switch in ["--quality", "--outfile", "--sample", "--qtables", "--format"] {
        assert!(help.contains(switch), "help lacks {switch}");
    }
    let man = String::from_utf8(ok(run(&["--print-man"]))).unwrap();
    assert!(man.contains(".TH jndenc") && man.contains("quality"), "{man}");
}

#[test]
fn rust_codec_encodes_the_common_switches() {
    let input = fixture("photo.ppm");
    let input = input.to_str().unwrap();
    let out = ok(run(&["-codec", "rust", "-q", "90", input]));
    assert!(psnr(&fixture_image("photo.ppm"), &decode_bytes(&out)) > 32.0);
    let i = info(&ok(run(&["--codec", "rust", "-q", "75", "-baseline", input])));
    assert_eq!(i.sof, 0);
    assert_eq!(i.quant_tables[0].unwrap().to_vec(), annex_k_luma(75, 255));
    let gray = info(&ok(run(&["--codec", "rust", "-q", "75", "-gray", input])));
    assert_eq!(gray.components.len(), 1);
    // Switches it cannot honour are refused by name.
    let out = run(&["--codec", "rust", "-rgb", input]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("-rgb"), "{}", stderr(&out));
}
