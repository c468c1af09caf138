//! The bad-input corpus in `fixtures/bad/` (built by `fixtures/bad/make.py`; table in
//! `docs/robustness.md`): one test per file, asserting the exact outcome. Broken files exit 1 with one
//! line naming the file and the problem, and write nothing; merely unusual files encode correctly.
#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

mod common;

use std::path::PathBuf;

use common::*;
use jndenc::ColorType;

fn bad(name: &str) -> PathBuf {
    fixture("bad").join(name)
}

/// Encodes `fixtures/bad/<name>` at quality 75 to a fresh folder; asserts exit 1, exactly the line
/// `jndenc: reading <path>: <message>`, and that nothing was written.
fn refused(name: &str, message: &str) {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("out.jpg");
    let input = bad(name);
    let out = run(&["-quality", "75", "-outfile", target.to_str().unwrap(), input.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{name}: {}", stderr(&out));
    let expected = format!("jndenc: reading {}: {message}\n", input.display());
    assert_eq!(stderr(&out), expected, "{name}");
    assert!(out.stdout.is_empty());
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "{name}: something was written");
}

/// Encodes `fixtures/bad/<name>` at quality 95 without chroma subsampling; returns the decoded output.
fn encoded(name: &str) -> jndenc::Image {
    let out = ok(run(&["-quality", "95", "-sample", "1x1", bad(name).to_str().unwrap()]));
    // Debian's libjpeg-turbo reads it too.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out.jpg");
    std::fs::write(&path, &out).unwrap();
    let djpeg = tool("djpeg").arg("-pnm").arg(&path).output().unwrap();
    assert!(
        djpeg.status.success() && djpeg.stderr.is_empty(),
        "{name}: djpeg: {}",
        String::from_utf8_lossy(&djpeg.stderr)
    );
    decode_bytes(&out)
}

/// Every file in the corpus has its test below (and nothing else lives there).
#[test]
fn every_corpus_file_is_covered() {
    let mut names: Vec<String> = std::fs::read_dir(fixture("bad"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    let covered = [
        "bad-crc.png",
        "cmyk-reference.png",
        "cmyk.jpg",
        "corrupt-huffman.jpg",
        "directory.png",
        "empty.png",
        "gray-alpha.png",
        "huge-60000x60000.ppm",
        "huge-65535x65535.bmp",
        "huge-65535x65535.png",
        "make.py",
        "many-scans.jpg",
        "palette-alpha.png",
        "rgb16.png",
        "text.txt",
        "truncated-jpeg-header.jpg",
        "truncated-jpeg-no-eoi.jpg",
        "truncated-jpeg-scan.jpg",
        "truncated-png-header.png",
        "truncated-png-idat.png",
        "truncated-png-no-iend.png",
        "truncated-png-signature.png",
        "zero-size.ppm",
        "zero-width.png",
    ];
    assert_eq!(names, covered);
}

#[test]
fn truncated_png_signature() {
    refused("truncated-png-signature.png", "cannot decode PNG input: the file is truncated");
}

#[test]
fn truncated_png_header() {
    refused("truncated-png-header.png", "cannot decode PNG input: the file is truncated");
}

#[test]
fn truncated_png_idat() {
    refused("truncated-png-idat.png", "cannot decode PNG input: the file is truncated");
}

#[test]
fn truncated_png_without_iend() {
    refused("truncated-png-no-iend.png", "cannot decode PNG input: the file is truncated");
}

#[test]
fn truncated_jpeg_header() {
    refused("truncated-jpeg-header.jpg", "cannot decode JPEG input: marker 0xDB runs past the end");
}

#[test]
fn truncated_jpeg_scan() {
    refused("truncated-jpeg-scan.jpg", "cannot decode JPEG input: the file ends before EOI");
}

#[test]
fn truncated_jpeg_without_eoi() {
    refused("truncated-jpeg-no-eoi.jpg", "cannot decode JPEG input: the file ends before EOI");
}

#[test]
fn corrupt_huffman_data() {
    refused(
        "corrupt-huffman.jpg",
        "cannot decode JPEG input: Corrupt JPEG data: 214 extraneous bytes before marker 0xc4",
    );
}

#[test]
fn jpeg_with_600_scans() {
    refused("many-scans.jpg", "cannot decode JPEG input: more than 100 scans (a decoding-time bomb)");
}

#[test]
fn png_with_a_bad_crc() {
    refused("bad-crc.png", "cannot decode PNG input: CRC error in the IHDR chunk (the file is corrupt)");
}

#[test]
fn png_with_zero_width() {
    refused("zero-width.png", "cannot decode PNG input: Format error decoding Png: Invalid image dimensions");
}

#[test]
fn ppm_with_zero_size() {
    refused("zero-size.ppm", "image dimensions 0x0 are empty");
}

#[test]
fn png_header_of_65535_squared() {
    refused("huge-65535x65535.png", "image dimensions 65535x65535 exceed the limit of 65500 pixels per side");
}

#[test]
fn bmp_header_of_65535_squared() {
    refused("huge-65535x65535.bmp", "image dimensions 65535x65535 exceed the limit of 65500 pixels per side");
}

#[test]
fn ppm_header_of_3_6_gigapixels() {
    refused(
        "huge-60000x60000.ppm",
        "image of 60000x60000 (3600000000 pixels) exceeds the limit of 268435456 pixels",
    );
}

#[test]
fn empty_file() {
    refused("empty.png", "the input is empty (0 bytes)");
}

#[test]
fn text_file() {
    refused(
        "text.txt",
        "unrecognised input format (jndenc reads PPM/PGM, BMP, PNG, Targa, GIF, TIFF, WebP, JPEG, HEIF)",
    );
}

#[test]
fn directory_as_input() {
    let input = bad("directory.png");
    let out = run(&["-quality", "75", input.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        format!("jndenc: {} is a directory: to encode the images in it, give --outdir\n", input.display())
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn sixteen_bit_png_is_rounded_to_8_bits() {
    let output = encoded("rgb16.png");
    let reference = image::open(bad("rgb16.png")).unwrap().to_rgb8();
    let reference = jndenc::Image::new(16, 16, ColorType::Rgb, reference.into_raw()).unwrap();
    assert!(psnr(&output, &reference) > 38.0, "{:.1} dB", psnr(&output, &reference));
}

#[test]
fn palette_with_alpha_drops_alpha_like_cjpeg() {
    let output = encoded("palette-alpha.png");
    // The palette colours themselves, alpha ignored (mozjpeg's cjpeg does the same).
    let reference = image::open(bad("palette-alpha.png")).unwrap().to_rgb8();
    let reference = jndenc::Image::new(16, 16, ColorType::Rgb, reference.into_raw()).unwrap();
    assert!(psnr(&output, &reference) > 38.0, "{:.1} dB", psnr(&output, &reference));
}

#[test]
fn gray_with_alpha_becomes_a_gray_jpeg() {
    let output = encoded("gray-alpha.png");
    assert_eq!(output.color(), ColorType::Gray);
    let reference = image::open(bad("gray-alpha.png")).unwrap().to_luma8();
    let reference = jndenc::Image::new(16, 16, ColorType::Gray, reference.into_raw()).unwrap();
    assert!(psnr(&output, &reference) > 38.0, "{:.1} dB", psnr(&output, &reference));
}

#[test]
fn cmyk_jpeg_is_converted_to_rgb() {
    let output = encoded("cmyk.jpg");
    assert_eq!(output.color(), ColorType::Rgb);
    // ImageMagick's RGB original of the CMYK file.
    let reference = image::open(bad("cmyk-reference.png")).unwrap().to_rgb8();
    let (w, h) = reference.dimensions();
    let reference = jndenc::Image::new(w, h, ColorType::Rgb, reference.into_raw()).unwrap();
    assert!(psnr(&output, &reference) > 30.0, "{:.1} dB", psnr(&output, &reference));
}
