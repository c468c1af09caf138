//! Per-block quantisation from a JND map, written through libjpeg's coefficient API: a zero map is
//! the plain encode, a larger map gives a smaller file whose decoded error stays under twice the map
//! per block, and every output is a standard JPEG (Debian's djpeg and the `image` crate read it).
#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

mod common;

use common::*;
use jnd_model::JndMap;
use jndenc::codec::adaptive::{AdaptiveOptions, ChromaSampling, encode_adaptive, encode_adaptive_components};
use jndenc::codec::{Codec, DctMethod, JpegOptions, MozJpeg};
use jndenc::{ColorType, Image};

fn constant_map(image: &Image, value: f32) -> JndMap {
    JndMap::new(image.width(), image.height(), vec![value; (image.width() * image.height()) as usize])
        .unwrap()
}

fn luma(image: &Image) -> Vec<f32> {
    match image.color() {
        ColorType::Gray => image.pixels().iter().map(|&v| f32::from(v)).collect(),
        ColorType::Rgb => image
            .pixels()
            .chunks_exact(3)
            .map(|p| jnd_model::ycbcr(f32::from(p[0]), f32::from(p[1]), f32::from(p[2]))[0])
            .collect(),
    }
}

/// Luma RMS error of every whole 8x8 block.
fn block_rms(original: &Image, decoded: &Image) -> Vec<f32> {
    let (a, b) = (luma(original), luma(decoded));
    let w = original.width() as usize;
    let mut out = Vec::new();
    for by in 0..original.height() as usize / 8 {
        for bx in 0..w / 8 {
            let mut sum = 0.0;
            for y in 0..8 {
                for x in 0..8 {
                    let i = (by * 8 + y) * w + bx * 8 + x;
                    sum += (a[i] - b[i]).powi(2);
                }
            }
            out.push((sum / 64.0).sqrt());
        }
    }
    out
}

fn djpeg_reads(bytes: &[u8]) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.jpg");
    std::fs::write(&path, bytes).unwrap();
    let out = tool("djpeg").arg("-pnm").arg(&path).output().unwrap();
    assert!(out.status.success() && out.stderr.is_empty(), "djpeg: {}", String::from_utf8_lossy(&out.stderr));
    assert!(out.stdout.starts_with(b"P6") || out.stdout.starts_with(b"P5"));
}

#[test]
fn a_zero_map_reproduces_the_plain_encode() {
    let image = fixture_image("photo.png");
    for (quality, progressive) in [(75, false), (90, true), (40, false)] {
        let options = AdaptiveOptions { quality, progressive, ..AdaptiveOptions::default() };
        let adaptive = encode_adaptive(&image, &constant_map(&image, 0.0), &options).unwrap();
        let plain_options = JpegOptions {
            revert: true,
            trellis: false,
            progressive,
            optimize_coding: true,
            dct: DctMethod::Float,
            quant_table_set: 0,
            ..JpegOptions::default()
        };
        let plain = MozJpeg::new(plain_options).encode(&image, quality).unwrap();
        let (a, b) = (decode_bytes(&adaptive.bytes), decode_bytes(&plain.bytes));
        let diffs: Vec<i32> =
            a.pixels().iter().zip(b.pixels()).map(|(&x, &y)| (i32::from(x) - i32::from(y)).abs()).collect();
        let mean = diffs.iter().sum::<i32>() as f64 / diffs.len() as f64;
        let max = diffs.iter().copied().max().unwrap();
        // Same tables, same DCT up to float rounding, colour conversion and downsampling within a level:
        // only coefficients sitting on a rounding boundary can differ.
        assert!(mean < 0.35 && max <= 10, "q{quality}: mean {mean:.3}, max {max}");
        let ratio = adaptive.bytes.len() as f64 / plain.bytes.len() as f64;
        assert!(
            (0.97..1.03).contains(&ratio),
            "q{quality}: {} vs {} bytes",
            adaptive.bytes.len(),
            plain.bytes.len()
        );
    }
}

#[test]
fn a_larger_map_gives_a_smaller_file_and_error_under_twice_the_map() {
    let image = fixture_image("photo.png");
    // At q95 the base luma steps have an RMS of about 6, so maps from 4 up scale every block.
    let options = AdaptiveOptions { quality: 95, ..AdaptiveOptions::default() };
    let mut last = usize::MAX;
    for jnd in [0.0f32, 4.0, 8.0, 16.0, 32.0] {
        let encoded = encode_adaptive(&image, &constant_map(&image, jnd), &options).unwrap();
        assert!(encoded.bytes.len() < last, "map {jnd}: {} bytes, not below {last}", encoded.bytes.len());
        last = encoded.bytes.len();
        let decoded = decode_bytes(&encoded.bytes);
        let errors = block_rms(&image, &decoded);
        if jnd > 0.0 {
            let worst = errors.iter().copied().fold(0.0f32, f32::max);
            assert!(worst < 2.0 * jnd, "map {jnd}: worst block RMS error {worst:.2}");
        }
    }
    // A map that is large on the right half only: the error follows it.
    let (w, h) = (image.width() as usize, image.height() as usize);
    let values: Vec<f32> = (0..w * h).map(|i| if i % w >= w / 2 { 10.0 } else { 0.0 }).collect();
    let map = JndMap::new(image.width(), image.height(), values).unwrap();
    let decoded = decode_bytes(&encode_adaptive(&image, &map, &options).unwrap().bytes);
    let errors = block_rms(&image, &decoded);
    let per_row = w / 8;
    let (mut left, mut right) = (0.0, 0.0);
    for (i, e) in errors.iter().enumerate() {
        let bx = i % per_row;
        if bx < per_row / 2 - 1 {
            left += e;
        } else if bx > per_row / 2 {
            right += e;
            assert!(*e < 20.0, "block {i}: RMS error {e:.2} over twice the map");
        }
    }
    assert!(right > 2.0 * left, "left {left:.1}, right {right:.1}");
}

/// Mean absolute difference of two pictures' Y and of their Cb/Cr (JFIF matrix), in code values.
fn ycc_differences(a: &Image, b: &Image) -> (f64, f64) {
    let ycc = |p: &[u8]| {
        let [y, cb, cr] = jnd_model::ycbcr(f32::from(p[0]), f32::from(p[1]), f32::from(p[2]));
        (f64::from(y), f64::from(cb), f64::from(cr))
    };
    let (mut luma, mut chroma) = (0.0, 0.0);
    for (p, q) in a.pixels().chunks_exact(3).zip(b.pixels().chunks_exact(3)) {
        let ((y1, cb1, cr1), (y2, cb2, cr2)) = (ycc(p), ycc(q));
        luma += (y1 - y2).abs();
        chroma += ((cb1 - cb2).abs() + (cr1 - cr2).abs()) / 2.0;
    }
    let n = (a.pixels().len() / 3) as f64;
    (luma / n, chroma / n)
}

#[test]
fn a_chroma_map_coarsens_chroma_and_leaves_luma() {
    let image = fixture_image("photo.png");
    for chroma in [ChromaSampling::S420, ChromaSampling::S444] {
        let options = AdaptiveOptions { quality: 95, chroma, ..AdaptiveOptions::default() };
        let zero = constant_map(&image, 0.0);
        let plain = encode_adaptive(&image, &zero, &options).unwrap();
        // A zero chroma map is the same file as no chroma map with a zero luma map.
        let same = encode_adaptive_components(&image, &zero, Some(&zero), &options).unwrap();
        assert_eq!(same.bytes, plain.bytes, "{chroma:?}");
        let coarse =
            encode_adaptive_components(&image, &zero, Some(&constant_map(&image, 16.0)), &options).unwrap();
        djpeg_reads(&coarse.bytes);
        assert!(
            coarse.bytes.len() < plain.bytes.len(),
            "{chroma:?}: {} vs {} bytes",
            coarse.bytes.len(),
            plain.bytes.len()
        );
        let (plain_decoded, coarse_decoded) = (decode_bytes(&plain.bytes), decode_bytes(&coarse.bytes));
        let (luma_change, chroma_change) = ycc_differences(&plain_decoded, &coarse_decoded);
        // Luma coefficients are untouched: only RGB rounding and clamping move Y.
        assert!(luma_change < 0.6, "{chroma:?}: luma moved by {luma_change:.2}");
        assert!(
            chroma_change > 2.0 * luma_change,
            "{chroma:?}: chroma {chroma_change:.2}, luma {luma_change:.2}"
        );
        let (_, chroma_error) = ycc_differences(&image, &coarse_decoded);
        assert!(chroma_error < 16.0, "{chroma:?}: chroma error {chroma_error:.2} over the map");
    }
    // The chroma map is checked like the luma map.
    let small = JndMap::new(8, 8, vec![1.0; 64]).unwrap();
    let zero = constant_map(&image, 0.0);
    assert!(encode_adaptive_components(&image, &zero, Some(&small), &AdaptiveOptions::default()).is_err());
}

#[test]
fn outputs_are_standard_jpeg() {
    for name in ["photo.png", "gray.pgm", "graphic.gif"] {
        let image = fixture_image(name);
        let map = jnd_model::PixelJndModel::Wu2017.compute(&image);
        for (chroma, progressive) in [(ChromaSampling::S420, false), (ChromaSampling::S444, true)] {
            let options = AdaptiveOptions { quality: 80, chroma, progressive, ..AdaptiveOptions::default() };
            let encoded = encode_adaptive(&image, &map, &options).unwrap();
            djpeg_reads(&encoded.bytes);
            let decoded = decode_bytes(&encoded.bytes);
            assert_eq!(
                (decoded.width(), decoded.height(), decoded.color()),
                (image.width(), image.height(), image.color())
            );
            assert!(psnr(&image, &decoded) > 25.0, "{name}: {:.1} dB", psnr(&image, &decoded));
        }
    }
    // A map of the wrong size is an error.
    let image = fixture_image("photo.png");
    let small = JndMap::new(8, 8, vec![1.0; 64]).unwrap();
    assert!(encode_adaptive(&image, &small, &AdaptiveOptions::default()).is_err());
}

#[test]
fn cli_adaptive_human_and_machine_targets() {
    let input = fixture("photo.png");
    let input = input.to_str().unwrap();
    let plain = ok(run(&["-quality", "90", "-revert", input]));
    let human = ok(run(&["-quality", "90", "--adaptive", "human", input]));
    let machine = ok(run(&["-quality", "90", "--target", "machine", input]));
    for bytes in [&human, &machine] {
        djpeg_reads(bytes);
    }
    assert!(human.len() < plain.len(), "human {} vs plain {}", human.len(), plain.len());
    assert!(machine.len() < human.len(), "machine {} vs human {}", machine.len(), human.len());
    let original = fixture_image("photo.png");
    assert!(psnr(&original, &decode_bytes(&human)) > 31.0);
    // HEIF has no per-block quantiser through libheif.
    let out = run(&["--format", "heif", "--adaptive", "human", input]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("JPEG only"), "{}", stderr(&out));
    let out = run(&["--target", "machine", "--adaptive", "human", input]);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn cli_map_strength() {
    let input = fixture("photo.png");
    let input = input.to_str().unwrap();
    // Strength 0 zeroes either map: the same coefficients, the same file (but for jndenc's marker,
    // which names the map: --strip all leaves it out).
    let machine_zero = ok(run(&["-quality", "90", "--target", "machine", "--map-strength", "0", input]));
    let human_zero = ok(run(&["-quality", "90", "--adaptive", "human", "--map-strength", "0", input]));
    let unmarked = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(["--strip", "all", input]);
        ok(run(&all))
    };
    assert_eq!(
        unmarked(&["-quality", "90", "--target", "machine", "--map-strength", "0"]),
        unmarked(&["-quality", "90", "--adaptive", "human", "--map-strength", "0"])
    );
    assert_eq!(
        human_zero.len() - machine_zero.len(),
        "pixel-jnd target=adaptive-human".len() - "dmv-jnd target=machine".len()
    );
    let mut last = machine_zero.len();
    for strength in ["0.25", "1", "4"] {
        let bytes = ok(run(&["-quality", "90", "--target", "machine", "--map-strength", strength, input]));
        djpeg_reads(&bytes);
        assert!(bytes.len() < last, "strength {strength}: {} bytes, not below {last}", bytes.len());
        last = bytes.len();
    }
    // The default is the documented 0.5.
    let default = ok(run(&["-quality", "90", "--target", "machine", input]));
    let half = ok(run(&["-quality", "90", "--target", "machine", "--map-strength", "0.5", input]));
    assert_eq!(default, half);
    for (args, message) in [
        (vec!["-quality", "90", "--map-strength", "1", input], "applies to --target machine"),
        (vec!["--target", "machine", "--map-strength", "-1", input], "outside 0..=64"),
        (vec!["--target", "machine", "--map-strength", "nan", input], "outside 0..=64"),
        (vec!["--target", "machine", "--map-strength", "much", input], "not a number"),
    ] {
        let out = run(&args);
        assert_ne!(out.status.code(), Some(0), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?} wrote output");
        assert!(stderr(&out).contains(message), "{args:?}: {}", stderr(&out));
    }
}
