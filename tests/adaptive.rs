//! Per-block quantisation from a JND map on top of mozjpeg's plain encode (trellis and all), written
//! through libjpeg's coefficient API: a zero map is the plain encode byte for byte, blocks the map
//! leaves alone keep the plain encode's pixels, a larger map gives a smaller file whose decoded error
//! stays under twice the map per block, a per-block rule sees every block and changes only those it
//! scales, the machine tables are valid baseline tables, and every output is a standard JPEG (Debian's
//! djpeg and the `image` crate read it).
#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

mod common;

use common::*;
use jnd_model::JndMap;
use jnd_model::dmvjnd::PixelGradients;
use jndenc::codec::adaptive::{
    AdaptiveOptions, BlockView, encode_adaptive, encode_adaptive_components, encode_per_block, encode_rd,
};
use jndenc::codec::{Codec, JpegOptions, MozJpeg, Restart, machine_qtables};
use jndenc::jpeg_info;
use jndenc::{ColorType, Image};

/// The machine target at -quality 90 with the DMV-JND map times `strength` as the per-block rule.
fn machine_map_rule(input: &str, strength: &str) -> Vec<u8> {
    ok(run(&["-quality", "90", "--target", "machine", "--rd-lambda", "0", "--map-strength", strength, input]))
}

/// `args` fail with a message containing `message` and write nothing.
fn refused(args: &[&str], message: &str) {
    let out = run(args);
    assert_ne!(out.status.code(), Some(0), "{args:?}");
    assert!(out.stdout.is_empty(), "{args:?} wrote output");
    assert!(stderr(&out).contains(message), "{args:?}: {}", stderr(&out));
}

fn constant_map(image: &Image, value: f32) -> JndMap {
    JndMap::new(image.width(), image.height(), vec![value; (image.width() * image.height()) as usize])
        .unwrap()
}

fn options(jpeg: JpegOptions, quality: u8) -> AdaptiveOptions {
    AdaptiveOptions::new(jpeg, quality).unwrap()
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

/// Both readers outside our decoder accept the file.
fn standard_jpeg(bytes: &[u8]) {
    djpeg_reads(bytes);
    image::load_from_memory_with_format(bytes, image::ImageFormat::Jpeg).unwrap();
}

/// Option sets the plain encoder is run with: cjpeg's defaults, baseline, 4:4:4, restart markers,
/// grey, -revert, smoothing, RGB coding, the machine tables.
fn switch_sets() -> Vec<(&'static str, JpegOptions)> {
    let base = JpegOptions::default();
    vec![
        ("defaults", base.clone()),
        ("baseline", JpegOptions { progressive: false, ..base.clone() }),
        ("4:4:4", JpegOptions { sampling: Some(vec![(1, 1)]), ..base.clone() }),
        ("restart", JpegOptions { restart: Some(Restart::Rows(1)), ..base.clone() }),
        ("grey", JpegOptions { color: jndenc::codec::JpegColor::Grayscale, ..base.clone() }),
        ("revert", JpegOptions { revert: true, trellis: false, progressive: false, ..base.clone() }),
        ("smooth", JpegOptions { smoothing: 20, ..base.clone() }),
        ("rgb", JpegOptions { color: jndenc::codec::JpegColor::Rgb, ..base.clone() }),
        (
            "machine tables",
            JpegOptions { qtables: Some(machine_qtables().unwrap()), scale_qtables: true, ..base.clone() },
        ),
    ]
}

#[test]
fn a_zero_map_is_the_plain_encode() {
    let image = fixture_image("photo.png");
    for (name, jpeg) in switch_sets() {
        for quality in [40, 90] {
            let plain = MozJpeg::new(jpeg.clone()).encode(&image, quality).unwrap();
            let zero = constant_map(&image, 0.0);
            let adaptive = encode_adaptive(&image, &zero, &options(jpeg.clone(), quality)).unwrap();
            assert_eq!(adaptive.bytes, plain.bytes, "{name} q{quality}");
            let with_chroma =
                encode_adaptive_components(&image, &zero, Some(&zero), &options(jpeg.clone(), quality))
                    .unwrap();
            assert_eq!(with_chroma.bytes, plain.bytes, "{name} q{quality} (zero chroma map)");
        }
    }
}

#[test]
fn blocks_the_map_leaves_alone_keep_the_plain_encode() {
    let image = fixture_image("photo.png");
    let (w, h) = (image.width() as usize, image.height() as usize);
    // Large on the right half only, from a 16-pixel (one 4:2:0 MCU) boundary.
    let edge = w / 32 * 16;
    let values: Vec<f32> = (0..w * h).map(|i| if i % w >= edge { 12.0 } else { 0.0 }).collect();
    let map = JndMap::new(image.width(), image.height(), values).unwrap();
    for (name, jpeg) in switch_sets() {
        let plain = MozJpeg::new(jpeg.clone()).encode(&image, 90).unwrap();
        let adaptive = encode_adaptive(&image, &map, &options(jpeg.clone(), 90)).unwrap();
        standard_jpeg(&adaptive.bytes);
        assert!(adaptive.bytes.len() < plain.bytes.len(), "{name}");
        let (a, b) = (decode_bytes(&plain.bytes), decode_bytes(&adaptive.bytes));
        let channels = if a.color() == ColorType::Rgb { 3 } else { 1 };
        // libjpeg's fancy upsampling of chroma reaches one chroma sample (2 pixels) across the edge.
        let (mut left_diff, mut right_diff) = (0u64, 0u64);
        for y in 0..h {
            for x in 0..w {
                for c in 0..channels {
                    let i = (y * w + x) * channels + c;
                    let d = u64::from(a.pixels()[i].abs_diff(b.pixels()[i]));
                    if x + 4 < edge {
                        left_diff += d;
                    } else if x >= edge {
                        right_diff += d;
                    }
                }
            }
        }
        assert_eq!(left_diff, 0, "{name}: untouched blocks changed");
        assert!(right_diff > 0, "{name}: the scaled blocks did not change");
    }
}

#[test]
fn a_per_block_rule_sees_every_block_once_and_only_the_blocks_it_scales_change() {
    let image = fixture_image("photo.png");
    let (w, h) = (image.width() as usize, image.height() as usize);
    let jpeg = JpegOptions::default(); // 4:2:0
    let plain = MozJpeg::new(jpeg.clone()).encode(&image, 90).unwrap();
    // A rule that scales nothing: the plain encode, and every block seen once with its footprint.
    let seen = std::sync::Mutex::new(Vec::new());
    let same = encode_per_block(&image, &options(jpeg.clone(), 90), |b: &BlockView| {
        seen.lock().unwrap().push((b.component, b.chroma, b.block, b.pixels, b.levels[0], b.table[0]));
        1.0
    })
    .unwrap();
    assert_eq!(same.bytes, plain.bytes);
    let seen = seen.into_inner().unwrap();
    let luma_blocks = w.div_ceil(16) * 2 * h.div_ceil(16) * 2;
    let chroma_blocks = w.div_ceil(16) * h.div_ceil(16);
    assert_eq!(seen.len(), luma_blocks + 2 * chroma_blocks);
    for &(component, chroma, [bx, by], [x0, y0, x1, y1], _, _) in &seen {
        let side = if component == 0 { 8 } else { 16 };
        assert_eq!(chroma, component > 0);
        assert_eq!([x0, y0, x1 - x0, y1 - y0], [bx * side, by * side, side, side]);
    }
    // Every luma block sees the luma table, and the levels are the plain encode's (DC varies).
    let luma_dc: std::collections::HashSet<i16> = seen.iter().filter(|s| s.0 == 0).map(|s| s.4).collect();
    assert!(luma_dc.len() > 10);
    assert!(seen.iter().filter(|s| s.0 == 0).all(|s| s.5 == seen[0].5));
    // Coarsening the right half's luma blocks (from a 16-pixel boundary) changes only their pixels.
    let edge = w / 32 * 16;
    let right = encode_per_block(&image, &options(jpeg, 90), |b: &BlockView| {
        if b.component == 0 && b.pixels[0] >= edge { 4.0 } else { 1.0 }
    })
    .unwrap();
    standard_jpeg(&right.bytes);
    assert!(right.bytes.len() < plain.bytes.len());
    let (a, b) = (decode_bytes(&plain.bytes), decode_bytes(&right.bytes));
    let (mut left_diff, mut right_diff) = (0u64, 0u64);
    for y in 0..h {
        for x in 0..w {
            for c in 0..3 {
                let i = (y * w + x) * 3 + c;
                let d = u64::from(a.pixels()[i].abs_diff(b.pixels()[i]));
                if x < edge { left_diff += d } else { right_diff += d }
            }
        }
    }
    assert_eq!(left_diff, 0, "blocks the rule left alone changed");
    assert!(right_diff > 0, "the scaled blocks did not change");
}

#[test]
fn a_larger_map_gives_a_smaller_file_and_error_under_twice_the_map() {
    let image = fixture_image("photo.png");
    // At q95 the base luma steps have an RMS of about 6, so maps from 4 up scale every block.
    let options = options(JpegOptions::default(), 95);
    let plain = decode_bytes(&options.plain(&image).unwrap().bytes);
    let base_error = block_rms(&image, &plain);
    let mut last = usize::MAX;
    for jnd in [0.0f32, 4.0, 8.0, 16.0, 32.0] {
        let encoded = encode_adaptive(&image, &constant_map(&image, jnd), &options).unwrap();
        assert!(encoded.bytes.len() < last, "map {jnd}: {} bytes, not below {last}", encoded.bytes.len());
        last = encoded.bytes.len();
        let decoded = decode_bytes(&encoded.bytes);
        let errors = block_rms(&image, &decoded);
        if jnd > 0.0 {
            // The coarser requantisation adds to the plain encode's own error.
            let worst = errors.iter().zip(&base_error).map(|(e, b)| e - b).fold(0.0f32, f32::max);
            assert!(worst < 2.0 * jnd, "map {jnd}: worst added block RMS error {worst:.2}");
        }
    }
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
    for sampling in [None, Some(vec![(1, 1)])] {
        let jpeg = JpegOptions { sampling: sampling.clone(), ..JpegOptions::default() };
        let options = options(jpeg, 95);
        let zero = constant_map(&image, 0.0);
        let plain = options.plain(&image).unwrap();
        let coarse =
            encode_adaptive_components(&image, &zero, Some(&constant_map(&image, 16.0)), &options).unwrap();
        standard_jpeg(&coarse.bytes);
        assert!(
            coarse.bytes.len() < plain.bytes.len(),
            "{sampling:?}: {} vs {} bytes",
            coarse.bytes.len(),
            plain.bytes.len()
        );
        let (plain_decoded, coarse_decoded) = (decode_bytes(&plain.bytes), decode_bytes(&coarse.bytes));
        let (luma_change, chroma_change) = ycc_differences(&plain_decoded, &coarse_decoded);
        // Luma coefficients are untouched: only RGB rounding and clamping move Y.
        assert!(luma_change < 0.6, "{sampling:?}: luma moved by {luma_change:.2}");
        assert!(
            chroma_change > 2.0 * luma_change,
            "{sampling:?}: chroma {chroma_change:.2}, luma {luma_change:.2}"
        );
        let (_, chroma_error) = ycc_differences(&image, &coarse_decoded);
        assert!(chroma_error < 16.0, "{sampling:?}: chroma error {chroma_error:.2} over the map");
    }
    // The chroma map is checked like the luma map.
    let small = JndMap::new(8, 8, vec![1.0; 64]).unwrap();
    let zero = constant_map(&image, 0.0);
    let defaults = options(JpegOptions::default(), 75);
    assert!(encode_adaptive_components(&image, &zero, Some(&small), &defaults).is_err());
}

#[test]
fn outputs_are_standard_jpeg() {
    for name in ["photo.png", "gray.pgm", "graphic.gif"] {
        let image = fixture_image(name);
        let map = jnd_model::PixelJndModel::Wu2017.compute(&image);
        for (set, jpeg) in switch_sets() {
            let encoded = encode_adaptive(&image, &map, &options(jpeg.clone(), 80)).unwrap();
            standard_jpeg(&encoded.bytes);
            let decoded = decode_bytes(&encoded.bytes);
            assert_eq!((decoded.width(), decoded.height()), (image.width(), image.height()));
            let reference = if decoded.color() == ColorType::Gray { image.to_gray() } else { image.to_rgb() };
            // -smooth blurs the input itself before coding.
            let floor = if set == "smooth" { 20.0 } else { 25.0 };
            assert!(psnr(&reference, &decoded) > floor, "{name} {set}: {:.1} dB", psnr(&reference, &decoded));
        }
    }
    // A map of the wrong size and a quality out of range are errors.
    let image = fixture_image("photo.png");
    let small = JndMap::new(8, 8, vec![1.0; 64]).unwrap();
    assert!(encode_adaptive(&image, &small, &options(JpegOptions::default(), 75)).is_err());
    assert!(AdaptiveOptions::new(JpegOptions::default(), 0).is_err());
    assert!(AdaptiveOptions::new(JpegOptions::default(), 101).is_err());
}

#[test]
fn the_machine_tables_are_valid_baseline_tables_and_the_machine_target_writes_them() {
    let tables = machine_qtables().unwrap();
    assert_eq!(tables.len(), 2, "luma and chroma");
    for table in &tables {
        assert!(table.iter().all(|&q| (1..=255).contains(&q)), "{table:?}");
    }
    // Not the standard's tables.
    assert_ne!(tables[0][..8], [16, 11, 10, 16, 24, 40, 51, 61]);
    let input = fixture("photo.png");
    let input = input.to_str().unwrap();
    for (quality, baseline) in [(50u8, false), (90, false), (10, true), (10, false)] {
        let q = quality.to_string();
        let mut args = vec!["-quality", &q, "--target", "machine", "--rd-lambda", "0"];
        if baseline {
            args.push("-quant-baseline");
        }
        args.push(input);
        let bytes = ok(run(&args));
        standard_jpeg(&bytes);
        let info = jpeg_info::parse(&bytes).unwrap();
        // libjpeg's quality scaling of the base tables, clamped to 1..=255 when baseline tables are
        // asked for (to 1..=32767 otherwise, as cjpeg does).
        let scale = if quality < 50 { 5000 / u32::from(quality) } else { 200 - 2 * u32::from(quality) };
        let top = if baseline { 255 } else { 32767 };
        for (slot, table) in tables.iter().enumerate() {
            let expected = table.map(|t| ((u32::from(t) * scale + 50) / 100).clamp(1, top) as u16);
            assert_eq!(info.quant_tables[slot], Some(expected), "q{quality} baseline {baseline} slot {slot}");
        }
    }
    // -quant-table and -qtables name other base tables: the machine target honours them.
    let standard = ok(run(&["-quality", "90", "--target", "machine", "-quant-table", "0", input]));
    assert_eq!(jpeg_info::parse(&standard).unwrap().quant_tables[0].unwrap()[..3], [3, 2, 2]);
}

#[test]
fn cli_adaptive_human_and_machine_targets() {
    let input = fixture("photo.png");
    let input = input.to_str().unwrap();
    let plain = ok(run(&["-quality", "90", "-revert", input]));
    let human = ok(run(&["-quality", "90", "--adaptive", "human", input]));
    let machine = ok(run(&["-quality", "90", "--target", "machine", "--rd-lambda", "0", input]));
    for bytes in [&human, &machine] {
        djpeg_reads(bytes);
    }
    assert!(human.len() < plain.len(), "human {} vs plain {}", human.len(), plain.len());
    // The machine target's map coarsens the machine-table encode.
    let machine_map = machine_map_rule(input, "0.5");
    djpeg_reads(&machine_map);
    assert!(machine_map.len() < machine.len(), "map {} vs tables alone {}", machine_map.len(), machine.len());
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
    // Strength 0 makes no map: the plain encode on the target's base tables (the machine tables as
    // a -qtables file, the standard ones for people), but for jndenc's marker, which names the map
    // (--strip all leaves it out).
    let machine_zero = ok(run(&["-quality", "90", "--target", "machine", "--rd-lambda", "0", input]));
    let unmarked = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(["--strip", "all", input]);
        ok(run(&all))
    };
    let tables =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../jnd-model/weights/machine-qtables.txt");
    assert_eq!(
        unmarked(&["-quality", "90", "--target", "machine", "--rd-lambda", "0", "--map-strength", "0"]),
        unmarked(&["-quality", "90", "-qtables", tables.to_str().unwrap()])
    );
    assert_eq!(
        unmarked(&["-quality", "90", "--adaptive", "human", "--map-strength", "0"]),
        unmarked(&["-quality", "90"])
    );
    let mut last = machine_zero.len();
    for strength in ["0.25", "1", "4"] {
        let bytes = machine_map_rule(input, strength);
        djpeg_reads(&bytes);
        assert!(bytes.len() < last, "strength {strength}: {} bytes, not below {last}", bytes.len());
        last = bytes.len();
    }
    // Under the rate choice (the default) the map is off; a strength makes it each block's bound, so
    // the file can only grow.
    let zero_map = unmarked(&["-quality", "90", "--target", "machine", "--map-strength", "0"]);
    assert_eq!(zero_map, unmarked(&["-quality", "90", "--target", "machine"]));
    let bounded = unmarked(&["-quality", "90", "--target", "machine", "--map-strength", "0.25"]);
    djpeg_reads(&bounded);
    assert!(bounded.len() >= zero_map.len(), "bounded {} vs unbounded {}", bounded.len(), zero_map.len());
    for (args, message) in [
        (vec!["-quality", "90", "--map-strength", "1", input], "--map-strength: applies to"),
        (vec!["--target", "machine", "--map-strength", "-1", input], "outside 0..64"),
        (vec!["--target", "machine", "--map-strength", "nan", input], "outside 0..64"),
        (vec!["--target", "machine", "--map-strength", "much", input], "not a number"),
    ] {
        refused(&args, message);
    }
}

#[test]
fn the_rate_rule_keeps_sensitive_blocks_and_coarsens_free_ones_within_the_map() {
    let image = fixture_image("photo.png");
    let (w, h) = (image.width() as usize, image.height() as usize);
    let opts = options(
        JpegOptions { qtables: Some(machine_qtables().unwrap()), scale_qtables: true, ..Default::default() },
        90,
    );
    let plain = opts.plain(&image).unwrap().bytes;
    let blind = PixelGradients::from_planar_rgb(w, h, &vec![0.0; 3 * w * h]);
    let (zero, wide) = (constant_map(&image, 0.0), constant_map(&image, 40.0));
    // No room in the map: the plain encode, byte for byte, whatever the classifiers think.
    assert_eq!(encode_rd(&image, &blind, Some((&zero, &zero)), 1e-3, &opts).unwrap().bytes, plain);
    // Classifiers blind to every coefficient: every block as coarse as the map allows, the bits the
    // fewest; very sensitive ones: nothing moves.
    let free = encode_rd(&image, &blind, Some((&wide, &wide)), 1e-3, &opts).unwrap().bytes;
    djpeg_reads(&free);
    assert!(free.len() < plain.len() * 3 / 4, "free {} vs plain {}", free.len(), plain.len());
    // The map bounds the coarsening: a narrower map leaves more bits.
    let narrow = constant_map(&image, 8.0);
    let bounded = encode_rd(&image, &blind, Some((&narrow, &narrow)), 1e-3, &opts).unwrap().bytes;
    assert!(
        free.len() < bounded.len() && bounded.len() < plain.len(),
        "{} {} {}",
        free.len(),
        bounded.len(),
        plain.len()
    );
    // Sensitive to every frequency (a flat gradient would only weigh DC, which is never coarsened).
    let mut state = 12345u32;
    let noise: Vec<f32> = (0..3 * w * h)
        .map(|_| {
            state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (state >> 8) as f32 / (1u32 << 24) as f32 * 20.0 - 10.0
        })
        .collect();
    let sensitive = PixelGradients::from_planar_rgb(w, h, &noise);
    assert!(encode_rd(&image, &sensitive, Some((&wide, &wide)), 1e-3, &opts).unwrap().bytes == plain);
    // Without a bound every block may take the largest scale: fewer bits than under any map.
    let unbounded = encode_rd(&image, &blind, None, 1e-3, &opts).unwrap().bytes;
    djpeg_reads(&unbounded);
    assert!(unbounded.len() <= free.len(), "unbounded {} vs the wide map {}", unbounded.len(), free.len());
    // Sizes that do not match the picture, a negative multiplier and RGB coding are refused.
    let small = PixelGradients::from_planar_rgb(8, 8, &[0.0; 192]);
    assert!(encode_rd(&image, &small, Some((&wide, &wide)), 1e-3, &opts).is_err());
    assert!(encode_rd(&image, &blind, Some((&wide, &wide)), -1.0, &opts).is_err());
    let rgb = options(JpegOptions { color: jndenc::codec::JpegColor::Rgb, ..Default::default() }, 90);
    assert!(encode_rd(&image, &blind, Some((&wide, &wide)), 1e-3, &rgb).is_err());
}

#[test]
fn cli_machine_rate_choice() {
    let input = fixture("photo.png");
    let input = input.to_str().unwrap();
    let unmarked = |args: &[&str]| {
        let mut all = vec!["-quality", "90", "--target", "machine"];
        all.extend(args);
        all.extend(["--strip", "all", input]);
        ok(run(&all))
    };
    // The default multiplier is the documented one for the quality.
    let lambda = jndenc::settings::machine_rd_lambda(90).to_string();
    let default = unmarked(&[]);
    assert_eq!(default, unmarked(&["--rd-lambda", &lambda]));
    djpeg_reads(&default);
    // A larger multiplier never costs more bits, and the default saves against the tables alone.
    let tables = unmarked(&["--rd-lambda", "0"]);
    assert!(default.len() < tables.len(), "rate choice {} vs tables alone {}", default.len(), tables.len());
    let mut last = tables.len();
    for lambda in ["0.0001", "0.001", "0.01", "1"] {
        let bytes = unmarked(&["--rd-lambda", lambda]);
        assert!(bytes.len() <= last, "λ {lambda}: {} bytes after {last}", bytes.len());
        last = bytes.len();
    }
    // With the DMV-JND map as the bound (a map strength) even the largest multiplier keeps a faithful
    // picture; without it the blocks go as coarse as the rule allows.
    let original = fixture_image("photo.png");
    let bounded = psnr(&original, &decode_bytes(&unmarked(&["--rd-lambda", "1", "--map-strength", "1"])));
    let free = psnr(&original, &decode_bytes(&unmarked(&["--rd-lambda", "1"])));
    assert!(bounded > 28.0 && free < bounded, "bounded {bounded:.2} dB, free {free:.2} dB");
    // The report names the rule.
    let dir = tempfile::tempdir().unwrap();
    let (out, report) = (dir.path().join("out.jpg"), dir.path().join("report.json"));
    let (out, report) = (out.to_str().unwrap(), report.to_str().unwrap());
    ok(run(&["-quality", "90", "--target", "machine", "-outfile", out, "--report", report, input]));
    assert_eq!(json(report)["images"][0]["decider"], "machine-rd");
    ok(run(&[
        "-quality",
        "90",
        "--target",
        "machine",
        "--rd-lambda",
        "0",
        "-outfile",
        out,
        "--report",
        report,
        input,
    ]));
    assert_eq!(json(report)["images"][0]["decider"], "plain");
    for (args, message) in [
        (
            vec!["-quality", "90", "--rd-lambda", "0.001", input],
            "--rd-lambda: applies to target machine only",
        ),
        (vec!["--target", "machine", "--rd-lambda", "2", input], "outside 0..1"),
        (vec!["--target", "machine", "--rd-lambda", "x", input], "not a number"),
        (vec!["--target", "machine", "-rgb", input], "-rgb"),
    ] {
        refused(&args, message);
    }
    // From q96 up the machine target codes chroma at 4:4:4 (chosen on training images), unless a
    // sampling is asked for.
    let luma_factors = |bytes: &[u8]| {
        let info = jpeg_info::parse(bytes).unwrap();
        (info.components[0].h, info.components[0].v)
    };
    assert_eq!(luma_factors(&default), (2, 2), "q90: 4:2:0");
    let top = ok(run(&["-quality", "96", "--target", "machine", input]));
    assert_eq!(luma_factors(&top), (1, 1), "q96: 4:4:4");
    let asked = ok(run(&["-quality", "96", "--target", "machine", "--sampling", "420", input]));
    assert_eq!(luma_factors(&asked), (2, 2), "--sampling 420 honoured");
    // -rgb with the tables alone is fine.
    djpeg_reads(&ok(run(&["--target", "machine", "-rgb", "--rd-lambda", "0", input])));
}
