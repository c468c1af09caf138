//! HEVC-intra in HEIF: encodes at several qualities, decodes back, sizes fall with quality, and
//! libheif's own `heif-info` recognises the files.
#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

mod common;

use common::*;
use jndenc::codec::{Codec, Heif};

#[test]
fn heif_ladder_decodes_and_shrinks_with_quality() {
    let input = fixture("photo.png");
    let original = fixture_image("photo.png");
    let mut previous: Option<(u8, usize, f64)> = None;
    for q in [90u8, 70, 50, 30, 10] {
        let out = ok(run(&["--format", "heif", "-quality", &q.to_string(), input.to_str().unwrap()]));
        assert_eq!(&out[4..8], b"ftyp");
        let decoded = Heif::default().decode(&out).expect("decode HEIF");
        assert_eq!((decoded.width(), decoded.height()), (192, 128));
        let db = psnr(&original, &decoded);
        if let Some((pq, psize, pdb)) = previous {
            assert!(out.len() < psize, "quality {q}: {} bytes, not below quality {pq}'s {psize}", out.len());
            assert!(db < pdb + 0.5, "quality {q}: PSNR {db:.2} above quality {pq}'s {pdb:.2}");
        }
        if q == 90 {
            assert!(db > 35.0, "quality 90 PSNR {db:.2}");
        }
        previous = Some((q, out.len(), db));
    }
}

#[test]
fn heif_info_recognises_the_output() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("out.heic");
    ok(run(&[
        "-format",
        "heif",
        "-q",
        "60",
        "-outfile",
        target.to_str().unwrap(),
        fixture("photo.ppm").to_str().unwrap(),
    ]));
    let out = tool("heif-info").arg(&target).output().expect("run heif-info");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("image: 192x128"), "{text}");
    assert!(text.contains("heic"), "{text}");
}

#[test]
fn heif_gray_input_and_444_chroma() {
    let gray = ok(run(&["--format", "heif", "-q", "80", fixture("gray.pgm").to_str().unwrap()]));
    let decoded = Heif::default().decode(&gray).unwrap();
    assert!(psnr(&fixture_image("gray.pgm").to_rgb(), &decoded) > 30.0);
    let c420 = ok(run(&["--format", "heif", "-q", "80", fixture("graphic.png").to_str().unwrap()]));
    let c444 = ok(run(&[
        "--format",
        "heif",
        "-q",
        "80",
        "--heif-chroma",
        "444",
        fixture("graphic.png").to_str().unwrap(),
    ]));
    let original = fixture_image("graphic.png");
    let (p420, p444) = (
        psnr(&original, &Heif::default().decode(&c420).unwrap()),
        psnr(&original, &Heif::default().decode(&c444).unwrap()),
    );
    assert!(p444 > p420, "4:4:4 should keep the red/blue edges better: {p444:.2} vs {p420:.2}");
}

#[test]
fn jpeg_only_switches_are_refused_for_heif() {
    let out = run(&["--format", "heif", "-sample", "1x1", fixture("photo.ppm").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("-sample"), "{}", stderr(&out));
}

#[test]
fn heif_input_is_read() {
    let heic = ok(run(&["--format", "heif", "-q", "90", fixture("photo.png").to_str().unwrap()]));
    let jpeg = ok(run_stdin(&["-q", "90"], &heic));
    assert!(psnr(&fixture_image("photo.png"), &decode_bytes(&jpeg)) > 30.0);
}
