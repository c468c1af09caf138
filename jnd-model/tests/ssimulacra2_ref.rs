//! SSIMULACRA 2 with the original prepared once matches the crate's own function (within 1e-9: the
//! fast path's arithmetic is the crate's, only the order of the maps' sums differs), on the
//! repository's real pictures and distortions of them (blur, noise, posterisation, a colour cast,
//! the picture itself), at sizes from 8x8 to the fixtures' full size, odd sizes included. The
//! strip-by-strip comparison (large pictures) scores as the prepared one to float rounding.
#![allow(clippy::unwrap_used)] // test code

use jnd_model::metrics::{Ssimulacra2Ref, ssimulacra2};
use jnd_model::{ColorType, Image};

fn fixture(name: &str) -> Image {
    let path = format!("{}/../fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    let rgb = image::open(&path).unwrap().to_rgb8();
    Image::new(rgb.width(), rgb.height(), ColorType::Rgb, rgb.into_raw()).unwrap()
}

fn crop(image: &Image, w: u32, h: u32) -> Image {
    let pixels = (0..h).flat_map(|y| image.row(y)[..w as usize * 3].to_vec()).collect();
    Image::new(w, h, ColorType::Rgb, pixels).unwrap()
}

fn map(image: &Image, f: impl Fn(usize, u8) -> u8) -> Image {
    let pixels = image.pixels().iter().enumerate().map(|(i, &v)| f(i, v)).collect();
    Image::new(image.width(), image.height(), ColorType::Rgb, pixels).unwrap()
}

fn box_blur(image: &Image) -> Image {
    let (w, h) = (image.width() as usize, image.height() as usize);
    let p = image.pixels();
    let at = |x: usize, y: usize, c: usize| u32::from(p[(y.min(h - 1) * w + x.min(w - 1)) * 3 + c]);
    let pixels = (0..h)
        .flat_map(|y| (0..w).map(move |x| (x, y)))
        .flat_map(|(x, y)| {
            (0..3).map(move |c| {
                ((at(x, y, c) + at(x + 1, y, c) + at(x, y + 1, c) + at(x + 1, y + 1, c)) / 4) as u8
            })
        })
        .collect();
    Image::new(w as u32, h as u32, ColorType::Rgb, pixels).unwrap()
}

/// Four distortions of `original`: blur, noise, posterisation, a colour cast.
fn distortions(original: &Image) -> [Image; 4] {
    [
        box_blur(original),
        map(original, |i, v| v.saturating_add(((i * 2_654_435_761) >> 7) as u8 % 9)),
        map(original, |_, v| v & 0xF0),
        map(original, |i, v| if i % 3 == 0 { v.saturating_add(12) } else { v }),
    ]
}

#[test]
fn the_prepared_original_scores_as_the_crate() {
    for name in ["photo.png", "graphic.png", "icc.png"] {
        let full = fixture(name);
        for (w, h) in [(full.width(), full.height()), (8, 8), (37, 23), (129, 65)] {
            let original = crop(&full, w.min(full.width()), h.min(full.height()));
            let prepared = Ssimulacra2Ref::with_strips(&original, false).unwrap();
            let mut candidates = vec![original.clone()];
            candidates.extend(distortions(&original));
            for (k, candidate) in candidates.iter().enumerate() {
                let fast = prepared.compare(candidate).unwrap();
                let crate_score = ssimulacra2(&original, candidate).unwrap();
                assert!(
                    (fast - crate_score).abs() < 1e-9,
                    "{name} {w}x{h} candidate {k}: {fast} vs {crate_score}"
                );
            }
            assert_eq!(prepared.compare(&original).unwrap(), 100.0);
        }
    }
}

fn tile(image: &Image, w: u32, h: u32) -> Image {
    let (iw, ih) = (image.width(), image.height());
    let pixels = (0..h)
        .flat_map(|y| (0..w).map(move |x| (x, y)))
        .flat_map(|(x, y): (u32, u32)| {
            // Mirrored tiles, so the picture has no seams a blur would see as edges.
            let (tx, ty) = (x / iw, y / ih);
            let sx = if tx % 2 == 0 { x % iw } else { iw - 1 - x % iw };
            let sy = if ty % 2 == 0 { y % ih } else { ih - 1 - y % ih };
            image.row(sy)[sx as usize * 3..sx as usize * 3 + 3].to_vec()
        })
        .collect();
    Image::new(w, h, ColorType::Rgb, pixels).unwrap()
}

#[test]
fn strip_by_strip_scores_as_prepared() {
    let photo = fixture("photo.png");
    // Several strips at the first scale (128 rows each), odd sizes, and sizes where a strip's last
    // rows or a scale's last row are single.
    for (name, w, h) in [
        ("photo.png", 301, 517),
        ("graphic.png", 640, 129),
        ("photo.png", 97, 8),
        ("icc.png", 130, 385),
        ("photo.png", 8, 300),
        ("graphic.png", 13, 1001),
    ] {
        let original = tile(&fixture(name), w, h);
        let prepared = Ssimulacra2Ref::with_strips(&original, false).unwrap();
        let strips = Ssimulacra2Ref::with_strips(&original, true).unwrap();
        assert_eq!(strips.memory(), (w * h * 3) as usize);
        let candidates = distortions(&original);
        for (k, candidate) in candidates.iter().enumerate() {
            let a = prepared.compare(candidate).unwrap();
            let b = strips.compare(candidate).unwrap();
            assert!((a - b).abs() < 0.1, "{name} {w}x{h} candidate {k}: strips {b} vs prepared {a}");
            assert!(a < 99.0, "{name} {w}x{h} candidate {k} is a real distortion: {a}");
        }
        assert_eq!(strips.compare(&original).unwrap(), 100.0);
    }
    assert!(Ssimulacra2Ref::with_strips(&crop(&photo, 7, 9), true).is_err());
    let strips = Ssimulacra2Ref::with_strips(&crop(&photo, 64, 64), true).unwrap();
    assert!(strips.compare(&crop(&photo, 64, 63)).unwrap_err().to_string().contains("64x63 against a 64x64"));
}

#[test]
fn a_candidate_of_another_size_or_a_tiny_original_is_refused() {
    let full = fixture("photo.png");
    let prepared = Ssimulacra2Ref::with_strips(&crop(&full, 64, 64), false).unwrap();
    assert!(
        prepared.compare(&crop(&full, 64, 63)).unwrap_err().to_string().contains("64x63 against a 64x64")
    );
    assert!(Ssimulacra2Ref::new(&crop(&full, 7, 9)).is_err());
    assert!(prepared.memory() > 64 * 64 * 36);
}
