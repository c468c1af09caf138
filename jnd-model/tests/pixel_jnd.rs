//! Pixel-wise JND models on synthetic images where the formulas give known answers.
#![allow(clippy::unwrap_used)] // test code

use jnd_model::pixel_jnd::{
    BlockAggregate, luminance_threshold, wu2017, wu2017_components, yang2005, yang2005_components,
};
use jnd_model::{ColorType, Image};

fn gray(w: u32, h: u32, f: impl Fn(u32, u32) -> u8) -> Image {
    let pixels = (0..h).flat_map(|y| (0..w).map(move |x| (x, y))).map(|(x, y)| f(x, y)).collect();
    Image::new(w, h, ColorType::Gray, pixels).unwrap()
}

/// A deterministic pseudo-random byte per position.
fn hash(x: u32, y: u32) -> u32 {
    let mut s = x.wrapping_mul(0x9E37_79B9) ^ y.wrapping_mul(0x85EB_CA6B);
    s ^= s >> 15;
    s = s.wrapping_mul(0x2C1B_3C6D);
    s ^ (s >> 12)
}

#[test]
fn flat_fields_reproduce_the_luminance_curves_exactly() {
    for level in [0u8, 16, 50, 64, 127, 128, 200, 255] {
        let img = gray(24, 24, |_, _| level);
        let bg = f32::from(level);
        // Yang: T_l is Chou and Li's curve itself: 20 at 0, 3 at 127, 6 at 255.
        let yang = yang2005_components(&img);
        let expected_l = luminance_threshold(bg);
        for &v in yang.luminance.values() {
            assert!((v - expected_l).abs() < 1e-4, "Yang T_l at {level}: {v} vs {expected_l}");
        }
        // On a flat field the texture term is only the offset 0.5 - 0.01 bg (clamped at 0), so the
        // JND is T_l + 0.7 max(0, 0.5 - 0.01 bg).
        let offset = (0.5 - 0.01 * bg).max(0.0);
        let expected = expected_l + offset - 0.3 * expected_l.min(offset);
        for &v in yang.jnd.values() {
            assert!((v - expected).abs() < 1e-4, "Yang JND at {level}: {v} vs {expected}");
        }
        // Wu: dark backgrounds remapped to 32 + bg * 95 / 127, then 0.7 T_l; no masking on a flat field.
        let remapped = if bg <= 127.0 { (32.0 + bg * 95.0 / 127.0).round() } else { bg };
        let expected_wu = 0.7 * luminance_threshold(remapped);
        let wu = wu2017_components(&img);
        for (&v, &la) in wu.jnd.values().iter().zip(wu.luminance.values()) {
            assert!((la - expected_wu).abs() < 1e-4, "Wu LA at {level}: {la} vs {expected_wu}");
            assert!((v - expected_wu).abs() < 1e-4, "Wu JND at {level}: {v} vs {expected_wu}");
        }
    }
    // The anchor points quoted in the papers.
    let at = |level| yang2005_components(&gray(16, 16, |_, _| level)).luminance.get(8, 8);
    assert!((at(0) - 20.0).abs() < 1e-4 && (at(127) - 3.0).abs() < 1e-4 && (at(255) - 6.0).abs() < 1e-4);
    let wu_at = |level| wu2017(&gray(16, 16, |_, _| level)).get(8, 8);
    assert!((wu_at(0) - 0.7 * luminance_threshold(32.0)).abs() < 1e-4);
    assert!((wu_at(127) - 2.1).abs() < 1e-4 && (wu_at(255) - 4.2).abs() < 1e-4);
}

/// Left half: a vertical step edge 80 -> 160 at x = 32. Right half: a random texture with the same
/// two levels. The edge is where distortion shows; the texture masks it.
fn edge_and_texture() -> Image {
    gray(128, 64, |x, y| {
        if x < 64 {
            if x < 32 { 80 } else { 160 }
        } else if hash(x, y) & 1 == 0 {
            80
        } else {
            160
        }
    })
}

#[test]
fn edges_get_lower_thresholds_than_texture_of_equal_contrast() {
    let img = edge_and_texture();
    for (name, map) in [("wu2017", wu2017(&img)), ("yang2005", yang2005(&img))] {
        let edge: f32 = (8..56).map(|y| map.get(31, y).max(map.get(32, y))).sum::<f32>() / 48.0;
        let texture: f32 =
            (8..56).flat_map(|y| (80..112).map(move |x| (x, y))).map(|(x, y)| map.get(x, y)).sum::<f32>()
                / (48.0 * 32.0);
        assert!(edge < texture, "{name}: edge {edge:.2} should be below texture {texture:.2}");
    }
    // Wu's edge protection is what suppresses pattern masking at the edge.
    let c = wu2017_components(&img);
    assert!(c.edge_protection.get(32, 32) < 0.1, "{}", c.edge_protection.get(32, 32));
    assert!(c.edge_protection.get(96, 32) > 0.9, "{}", c.edge_protection.get(96, 32));
}

#[test]
fn random_texture_masks_more_than_a_smooth_ramp() {
    let ramp = gray(64, 64, |x, _| 60 + (x * 2) as u8);
    let texture = gray(64, 64, |x, y| 60 + (hash(x, y) % 128) as u8);
    // Yang's texture term is gentle by design (about 0.12 x the gradient), Wu's pattern masking
    // strong, hence different margins (measured: Wu 2.90x, Yang 1.22x).
    for (name, f, margin) in [("wu2017", wu2017 as fn(&Image) -> _, 1.5), ("yang2005", yang2005, 1.15)] {
        let (r, t) = (f(&ramp).stats().mean, f(&texture).stats().mean);
        assert!(t > margin * r, "{name}: texture {t:.2} vs ramp {r:.2}");
    }
}

#[test]
fn maps_are_deterministic_sized_and_aggregate_per_block() {
    let img = edge_and_texture();
    let a = wu2017(&img);
    assert_eq!(a, wu2017(&img));
    assert_eq!((a.width(), a.height()), (128, 64));
    let blocks = a.blocks(16, BlockAggregate::Min);
    assert_eq!((blocks.blocks_x, blocks.blocks_y), (8, 4));
    let means = a.blocks(8, BlockAggregate::Mean);
    let stats = a.stats();
    assert!(means.values.iter().all(|&v| v >= stats.min - 1e-3 && v <= stats.max + 1e-3));
    // The block containing the edge is less tolerant than a texture block.
    assert!(blocks.get(1, 1) < blocks.get(6, 1));
}

#[test]
fn colour_maps_use_bt601_luma() {
    // Pure green (luma 149.685) and gray 150 give nearly the same map.
    let green = Image::new(16, 16, ColorType::Rgb, [0u8, 255, 0].repeat(256)).unwrap();
    let grey = gray(16, 16, |_, _| 150);
    let (a, b) = (yang2005(&green).get(8, 8), yang2005(&grey).get(8, 8));
    assert!((a - b).abs() < 0.05, "{a} vs {b}");
}
