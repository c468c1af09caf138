//! ICC profiles and EXIF survive the trip from input to output, and `--strip` removes them.
#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

mod common;

use common::*;
use jndenc::codec::{Codec, Heif};
use jndenc::jpeg_info;

#[test]
fn icc_from_png_is_embedded_in_the_jpeg() {
    let icc = std::fs::read(fixture("srgb.icc")).unwrap();
    assert_eq!(
        fixture_image("icc.png").metadata.icc.as_deref(),
        Some(&icc[..]),
        "fixture carries the profile"
    );
    let out = ok(run(&["-q", "85", fixture("icc.png").to_str().unwrap()]));
    assert_eq!(jpeg_info::parse(&out).unwrap().icc.as_deref(), Some(&icc[..]));
    // And the JPEG's profile is read back by the decoder too.
    assert_eq!(decode_bytes(&out).metadata.icc.as_deref(), Some(&icc[..]));
}

#[test]
fn sixteen_bit_tiff_and_webp_encode_with_their_profile() {
    let icc = std::fs::read(fixture("srgb.icc")).unwrap();
    let original = fixture_image("icc.png");
    for name in ["photo16.tif", "photo.webp"] {
        // Decoded, the 16-bit TIFF (samples v * 257) and the lossless WebP are the 8-bit original
        // within one level, with the profile.
        let input = fixture_image(name);
        assert_eq!((input.width(), input.height(), input.color()), (96, 64, original.color()), "{name}");
        let worst = input.pixels().iter().zip(original.pixels()).map(|(a, b)| a.abs_diff(*b)).max().unwrap();
        assert!(worst <= 1, "{name}: {worst} levels from the original");
        assert_eq!(input.metadata.icc.as_deref(), Some(&icc[..]), "{name}");
        // Encoded, the JPEG carries the profile and looks like the original.
        let out = ok(run(&["-q", "90", fixture(name).to_str().unwrap()]));
        assert_eq!(jpeg_info::parse(&out).unwrap().icc.as_deref(), Some(&icc[..]), "{name}");
        let psnr = psnr(&decode_bytes(&out), &original);
        assert!(psnr > 34.0, "{name}: {psnr:.1} dB");
    }
    // The WebP's EXIF (Orientation 1, Software) is carried as it is.
    let webp = fixture_image("photo.webp").metadata.exif.expect("the fixture has EXIF");
    let out = ok(run(&["-q", "90", fixture("photo.webp").to_str().unwrap()]));
    assert_eq!(jpeg_info::parse(&out).unwrap().exif.as_deref(), Some(&webp[..]));
    assert!(webp.windows(15).any(|w| w == b"jndenc fixtures"));
}

#[test]
fn icc_switch_embeds_a_profile_file() {
    let icc = std::fs::read(fixture("srgb.icc")).unwrap();
    let out = ok(run(&[
        "-q",
        "85",
        "-icc",
        fixture("srgb.icc").to_str().unwrap(),
        fixture("photo.ppm").to_str().unwrap(),
    ]));
    assert_eq!(jpeg_info::parse(&out).unwrap().icc.as_deref(), Some(&icc[..]));
}

#[test]
fn exif_from_jpeg_is_kept_unchanged_with_orientation() {
    let source = std::fs::read(fixture("exif-orientation.jpg")).unwrap();
    let exif = jpeg_info::parse(&source).unwrap().exif.expect("fixture has EXIF");
    let out = ok(run(&["-q", "80", fixture("exif-orientation.jpg").to_str().unwrap()]));
    let kept = jpeg_info::parse(&out).unwrap().exif.expect("EXIF kept");
    assert_eq!(kept, exif);
    // Orientation tag (0x0112) = 6 in the little-endian IFD; pixels are not rotated (as cjpeg).
    assert!(kept.windows(10).any(|w| w == [0x12, 0x01, 3, 0, 1, 0, 0, 0, 6, 0]));
    let decoded = decode_bytes(&out);
    assert_eq!((decoded.width(), decoded.height()), (64, 96));
}

#[test]
fn strip_drops_what_it_names() {
    let input = fixture("exif-orientation.jpg");
    let icc = fixture("srgb.icc");
    let args = |strip: &'static str| {
        vec!["-q", "80", "-icc", icc.to_str().unwrap(), "--strip", strip, input.to_str().unwrap()]
    };
    let none = jpeg_info::parse(&ok(run(&args("none")))).unwrap();
    assert!(none.icc.is_some() && none.exif.is_some());
    let exif = jpeg_info::parse(&ok(run(&args("exif")))).unwrap();
    assert!(exif.icc.is_some() && exif.exif.is_none());
    let all = jpeg_info::parse(&ok(run(&args("all")))).unwrap();
    assert!(all.icc.is_none() && all.exif.is_none());
}

#[test]
fn heif_keeps_icc_and_exif() {
    let icc = std::fs::read(fixture("srgb.icc")).unwrap();
    let source_exif =
        jpeg_info::parse(&std::fs::read(fixture("exif-orientation.jpg")).unwrap()).unwrap().exif.unwrap();
    let out = ok(run(&[
        "--format",
        "heif",
        "-q",
        "80",
        "-icc",
        fixture("srgb.icc").to_str().unwrap(),
        fixture("exif-orientation.jpg").to_str().unwrap(),
    ]));
    let decoded = Heif::default().decode(&out).unwrap();
    assert_eq!(decoded.metadata.icc.as_deref(), Some(&icc[..]));
    assert_eq!(decoded.metadata.exif.as_deref(), Some(&source_exif[..]));
}
