//! DMV-JND with the committed weights: the classifiers load and classify real CIFAR-10 test images,
//! their CAMs lie in [0, 1] and follow the object, the DMV-JND keeps the classifiers' decisions at a
//! large distortion, and everything is deterministic.
#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use std::path::PathBuf;

use jnd_model::dmvjnd::{self, CLASS_NAMES, ClassifierKind, DmvJnd, IMAGE_BYTES, PIXELS, SIDE};

fn device() -> burn::tensor::Device {
    jnd_model::select_device(jnd_model::Accelerator::Cpu).unwrap()
}

/// The 20 CIFAR-10 test images in `fixtures/cifar/` (two per class) as planar RGB, with their labels.
fn fixtures() -> (Vec<u8>, Vec<usize>) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/cifar");
    let mut names: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    names.sort();
    let (mut planar, mut labels) = (Vec::new(), Vec::new());
    for path in names.iter().filter(|p| p.extension().is_some_and(|e| e == "jpg")) {
        let rgb = image::open(path).unwrap().to_rgb8();
        assert_eq!(rgb.dimensions(), (32, 32));
        let mut image = vec![0u8; IMAGE_BYTES];
        for (i, p) in rgb.pixels().enumerate() {
            for c in 0..3 {
                image[c * PIXELS + i] = p.0[c];
            }
        }
        planar.extend(image);
        let class = path.file_name().unwrap().to_str().unwrap().split('-').next().unwrap();
        labels.push(CLASS_NAMES.iter().position(|&n| n == class).unwrap());
    }
    assert_eq!(labels.len(), 20);
    (planar, labels)
}

use jnd_model::metrics::psnr_samples as psnr;

#[test]
fn embedded_weights_load_and_classify_real_cifar_images() {
    let model = DmvJnd::embedded(&device()).unwrap();
    let (planar, truth) = fixtures();
    let labels = model.classify(&planar).unwrap();
    for (k, kind) in ClassifierKind::ALL.into_iter().enumerate() {
        let right = labels[k].iter().zip(&truth).filter(|(a, b)| a == b).count();
        // Chance is 2/20; the card reports each classifier's accuracy on the whole test set.
        assert!(right >= 11, "{}: {right}/20 right", kind.name());
    }
    // Broken bytes are an error, not a panic.
    assert!(DmvJnd::from_bytes(b"not weights", dmvjnd::EMBEDDED_NET, &device()).is_err());
    assert!(DmvJnd::from_bytes(dmvjnd::EMBEDDED_CLASSIFIERS, &[], &device()).is_err());
}

#[test]
fn cams_are_in_unit_range_and_follow_the_object() {
    let model = DmvJnd::embedded(&device()).unwrap();
    let (planar, labels) = fixtures();
    let analysis = model.analyse(&planar).unwrap();
    for cams in analysis.cams.iter().chain(std::iter::once(&analysis.merged_cam)) {
        assert_eq!(cams.len(), 20 * PIXELS);
        assert!(cams.iter().all(|v| (0.0..=1.0).contains(v)), "CAM values outside [0, 1]");
    }
    // Synthetic images built for the test: 2x2 mosaics of four real objects of different classes, each
    // shrunk to 16x16. When a classifier predicts the class of one of the tiles, its CAM must peak on
    // that tile (chance: 1 in 4).
    let half = SIDE / 2;
    let shrink = |image: &[u8], c: usize, x: usize, y: usize| {
        [(0, 0), (1, 0), (0, 1), (1, 1)]
            .iter()
            .map(|(dx, dy)| u32::from(image[c * PIXELS + (2 * y + dy) * SIDE + 2 * x + dx]))
            .sum::<u32>()
            / 4
    };
    let (mut eligible, mut hits) = (0, 0);
    let mut mosaics = Vec::new();
    let mut tile_classes = Vec::new();
    for i in 0..20 {
        let tiles = [i, (i + 5) % 20, (i + 10) % 20, (i + 15) % 20];
        let mut canvas = vec![0u8; IMAGE_BYTES];
        for (t, &index) in tiles.iter().enumerate() {
            let image = &planar[index * IMAGE_BYTES..(index + 1) * IMAGE_BYTES];
            let (qx, qy) = (t % 2, t / 2);
            for c in 0..3 {
                for y in 0..half {
                    for x in 0..half {
                        canvas[c * PIXELS + (qy * half + y) * SIDE + qx * half + x] =
                            shrink(image, c, x, y) as u8;
                    }
                }
            }
        }
        mosaics.extend(canvas);
        tile_classes.push(tiles.map(|index| labels[index]));
    }
    let analysis = model.analyse(&mosaics).unwrap();
    for (m, classes) in tile_classes.iter().enumerate() {
        for k in 0..4 {
            let predicted = analysis.labels[k][m];
            let matching: Vec<usize> = (0..4).filter(|&t| classes[t] == predicted).collect();
            if matching.len() != 1 {
                continue;
            }
            eligible += 1;
            let cam = &analysis.cams[k][m * PIXELS..(m + 1) * PIXELS];
            let quadrant_mean = |t: usize| {
                let (qx, qy) = (t % 2, t / 2);
                (0..half)
                    .flat_map(|y| (0..half).map(move |x| (qy * half + y) * SIDE + qx * half + x))
                    .map(|i| cam[i])
                    .sum::<f32>()
            };
            let best = (0..4).max_by(|&a, &b| quadrant_mean(a).total_cmp(&quadrant_mean(b))).unwrap();
            if best == matching[0] {
                hits += 1;
            }
        }
    }
    eprintln!("CAM peaks on the predicted object's tile in {hits}/{eligible} cases");
    assert!(eligible >= 20, "only {eligible} mosaics predicted as one of their tiles");
    assert!(
        hits * 2 >= eligible,
        "CAM on the predicted object's tile in {hits}/{eligible} cases (chance 1/4)"
    );
}

#[test]
fn dmv_jnd_keeps_decisions_at_a_large_distortion() {
    let model = DmvJnd::embedded(&device()).unwrap();
    let (planar, _) = fixtures();
    let analysis = model.analyse(&planar).unwrap();
    let jnd = model.jnd(&planar, &analysis.merged_cam).unwrap();
    assert!(jnd.iter().all(|v| v.abs() <= dmvjnd::JND_LIMIT));
    let distorted = DmvJnd::distort(&planar, &jnd, 1.0);
    let quality = psnr(&planar, &distorted);
    let after = model.classify(&distorted).unwrap();
    let kept: usize =
        (0..4).map(|k| analysis.labels[k].iter().zip(&after[k]).filter(|(a, b)| a == b).count()).sum();
    // Measured with the committed weights (see DMVJND-MODEL-CARD.md); far below human-JND PSNRs.
    assert!(quality < 25.0, "PSNR {quality:.2} dB: the DMV-JND is not large");
    assert!(kept >= 60, "decisions kept: {kept}/80");
    // White Gaussian noise of the same energy loses more decisions.
    let sigma = (255.0 * 255.0 / 10f64.powf(quality / 10.0)).sqrt();
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut uniform = || {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    };
    let noisy: Vec<u8> = planar
        .iter()
        .map(|&v| {
            let g =
                (-2.0 * uniform().max(1e-12).ln()).sqrt() * (2.0 * std::f64::consts::PI * uniform()).cos();
            (f64::from(v) + sigma * g).round().clamp(0.0, 255.0) as u8
        })
        .collect();
    let noisy_labels = model.classify(&noisy).unwrap();
    let noise_kept: usize =
        (0..4).map(|k| analysis.labels[k].iter().zip(&noisy_labels[k]).filter(|(a, b)| a == b).count()).sum();
    assert!(noise_kept < kept, "noise kept {noise_kept}, DMV-JND kept {kept}");
}

#[test]
fn outputs_are_deterministic_across_loads() {
    let (planar, _) = fixtures();
    let first = DmvJnd::embedded(&device()).unwrap();
    let second = DmvJnd::embedded(&device()).unwrap();
    let a = first.analyse(&planar).unwrap();
    let b = second.analyse(&planar).unwrap();
    assert!(a == b, "two loads give different analyses");
    let ja = first.jnd(&planar, &a.merged_cam).unwrap();
    let jb = second.jnd(&planar, &b.merged_cam).unwrap();
    assert!(ja == jb, "two loads give different DMV-JND images");
    // Weights survive a save/load round trip.
    let reloaded = DmvJnd::from_bytes(
        &first.classifiers_to_bytes().unwrap(),
        &first.net_to_bytes().unwrap(),
        first.device(),
    )
    .unwrap();
    assert!(reloaded.analyse(&planar).unwrap() == a, "round-tripped weights give other CAMs");
    assert!(matches!(first.jnd(&planar, &a.merged_cam[..PIXELS]), Err(jnd_model::Error::Mismatch(_))));
    assert!(matches!(
        dmvjnd::images_tensor(&planar[..100], first.device()),
        Err(jnd_model::Error::InvalidImage(_))
    ));
}

/// A 48x40 picture: fixture 0 in the top-left 32x32 tile, the rest cut from fixture 1 (partial tiles).
fn two_fixture_picture(planar: &[u8]) -> jnd_model::Image {
    let (width, height) = (48usize, 40usize);
    let mut rgb = vec![0u8; width * height * 3];
    for y in 0..height {
        for x in 0..width {
            let (source, sx, sy) = if x < SIDE && y < SIDE { (0, x, y) } else { (1, x % SIDE, y % SIDE) };
            for c in 0..3 {
                rgb[(y * width + x) * 3 + c] = planar[source * IMAGE_BYTES + c * PIXELS + sy * SIDE + sx];
            }
        }
    }
    jnd_model::Image::new(width as u32, height as u32, jnd_model::ColorType::Rgb, rgb).unwrap()
}

#[test]
fn component_maps_are_the_signed_jnd_through_the_ycbcr_matrix() {
    let model = DmvJnd::embedded(&device()).unwrap();
    let (planar, _) = fixtures();
    let (width, height) = (48usize, 40usize);
    let image = two_fixture_picture(&planar);
    let components = model.machine_jnd_components(&image).unwrap();
    let mean_rgb = model.machine_jnd_map(&image).unwrap();
    for map in [&components.luma, &components.chroma] {
        assert_eq!((map.width(), map.height()), (width as u32, height as u32));
        assert!(map.values().iter().all(|v| v.is_finite() && *v >= 0.0));
    }
    // The first tile is fixture 0's own DMV-JND, converted pixel by pixel.
    let first = &planar[..IMAGE_BYTES];
    let jnd = model.jnd(first, &model.analyse(first).unwrap().merged_cam).unwrap();
    for y in 0..SIDE {
        for x in 0..SIDE {
            let i = y * SIDE + x;
            let (luma, chroma) = dmvjnd::ycbcr_jnd(jnd[i], jnd[PIXELS + i], jnd[2 * PIXELS + i]);
            let (u, v) = (x as u32, y as u32);
            assert!((components.luma.get(u, v) - luma).abs() < 0.05, "luma at {x},{y}");
            assert!((components.chroma.get(u, v) - chroma).abs() < 0.05, "chroma at {x},{y}");
        }
    }
    // |dY| is a weighted mean of the channel changes: never above their largest, so never above three
    // times their mean magnitude; a map that is not all zero.
    for (luma, rgb) in components.luma.values().iter().zip(mean_rgb.values()) {
        assert!(*luma <= 3.0 * rgb + 1e-3, "luma {luma} vs mean |RGB| {rgb}");
    }
    assert!(components.luma.stats().mean > 0.1 && components.chroma.stats().mean > 0.1);
}

#[test]
fn classifier_gradients_cover_every_tile_and_share_the_maps_forward_pass() {
    use jnd_model::dmvjnd::{ClassifierGradients, Objective, PixelGradients, Plane};
    let (planar, _) = fixtures();
    let model = DmvJnd::embedded(&device()).unwrap();
    let gradients = ClassifierGradients::embedded(&device()).unwrap();
    let (width, height) = (48usize, 40usize);
    let image = two_fixture_picture(&planar);
    let (with_cam, cam) = gradients.picture_with_cam(&image, Objective::RelativeMargin).unwrap();
    let alone = gradients.picture(&image, Objective::RelativeMargin).unwrap();
    assert!(with_cam == alone, "the CAMs change nothing of the gradients");
    assert_eq!((alone.width(), alone.height()), (width, height));
    assert_eq!(cam.len(), 4 * PIXELS, "four tiles' merged CAMs");
    // The maps from the shared forward pass are the maps computed on their own.
    let own = model.machine_jnd_components(&image).unwrap();
    let shared = model.machine_jnd_components_from_cam(&image, &cam).unwrap();
    for (a, b) in [(&own.luma, &shared.luma), (&own.chroma, &shared.chroma)] {
        let worst = a.values().iter().zip(b.values()).map(|(x, y)| (x - y).abs()).fold(0.0f32, f32::max);
        assert!(worst < 1e-3, "shared CAM maps differ by {worst}");
    }
    // The first tile is fixture 0 whole: its blocks' gradients are that image's own.
    let tile = gradients.tiles(&planar[..IMAGE_BYTES], Objective::RelativeMargin, 1).unwrap();
    let tile = PixelGradients::from_planar_rgb(SIDE, SIDE, &tile);
    for plane in [Plane::Luma, Plane::Cb, Plane::Cr] {
        for [x, y] in [[0, 0], [8, 16], [24, 24]] {
            let (a, b) = (alone.block(plane, [x, y, x + 8, y + 8]), tile.block(plane, [x, y, x + 8, y + 8]));
            assert!(
                a.iter().zip(&b).all(|(u, v)| (u - v).abs() <= 1e-5 + 1e-3 * v.abs()),
                "{plane:?} {x},{y}"
            );
        }
    }
    // The classifiers care about the picture: gradients are finite and not all zero in any plane.
    for plane in [Plane::Luma, Plane::Cb, Plane::Cr] {
        let block = alone.block(plane, [32, 32, 48, 40]);
        assert!(block.iter().all(|v| v.is_finite()));
        assert!(block[1..].iter().any(|v| v.abs() > 1e-6), "{plane:?}");
    }
}
