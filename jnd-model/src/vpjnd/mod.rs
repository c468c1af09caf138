//! VP-JND: a learned judge of whether a compressed candidate is perceptually lossless.
//!
//! The network ([`VpJndNet`]) reads aligned patches of the original, the candidate and the original's
//! pixel-wise JND map (Wu 2017) at the same fixed grid positions ([`patch_positions`]), so the same input
//! always gives the same answer. Its image score estimates `ln(d / TRAINED_TAU)`, where `d` is the
//! teacher's butteraugli 3-norm distance: positive means "visible" at the operating point it was trained
//! for, and any other threshold `tau` (in butteraugli units) is judged by shifting the decision by
//! `ln(tau / TRAINED_TAU)`.
//!
//! Use [`VpJnd::prepare`] once per original and [`VpJnd::judge`] for each candidate.

mod net;

pub use net::{Extractor, PATCH, PreparedFeatures, VpJndNet, WIDTHS};

use burn::tensor::{Device, Tensor, TensorData};

use crate::pixel_jnd::{JndMap, PixelJndModel};
use crate::{Error, Image, Result};

/// Patches per image: a fixed, evenly spread subset of the patch grid.
pub const PATCHES: usize = 32;

/// The butteraugli 3-norm threshold of the operating point the embedded weights were trained for
/// (`human-first-jnd`, fitted to MCL-JCI's human first-JND distribution; see
/// `fixtures/labels/teacher-human-first-jnd.json`).
pub const TRAINED_TAU: f64 = 2.295;

/// The codec family of a candidate: the decision margin of the embedded weights depends on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodecFamily {
    /// JPEG with fixed tables (mozjpeg, libjpeg).
    Jpeg,
    /// JPEG from jpegli (distance-chosen tables, adaptive quantisation), never trained on.
    Jpegli,
    /// HEVC intra in HEIF (x265).
    Heif,
}

/// The decision margin of the embedded weights (natural-log units) for candidates of `family`: a
/// candidate is called lossless when its predicted distance is below `tau * exp(-margin)`. Chosen on the
/// training photos for precision (see the model card).
pub const fn decision_margin(family: CodecFamily) -> f64 {
    match family {
        // The smallest margin whose pair precision on the 39 training photos is >= 98 % for every codec
        // of the family (mozjpeg 98.4 %, baseline 99.1 % at 0.10; HEIF 98.7 % at 0.30).
        CodecFamily::Jpeg => 0.10,
        CodecFamily::Jpegli => JPEGLI_MARGIN,
        CodecFamily::Heif => 0.30,
    }
}

/// The margin for jpegli candidates (never trained on): the same rule on the 39 training photos'
/// jpegli ladders, 98.1 % pair precision at 0.15 (97.2 % at 0.10); `jnd-train eval-vpjnd --split train
/// --ladders fixtures/labels/ladders-mozjpeg.csv fixtures/labels/ladders-jpegli.csv`, log in
/// `jnd-model/weights/vpjnd-jpegli-margin-train.log`.
const JPEGLI_MARGIN: f64 = 0.15;

/// The pixel-wise JND model whose map the network reads.
pub const PIXEL_JND_MODEL: PixelJndModel = PixelJndModel::Wu2017;

/// The embedded VP-JNDnet weights (burnpack, f32), trained by `jnd-train vpjnd` (see
/// `jnd-model/weights/VPJND-MODEL-CARD.md`).
pub const EMBEDDED_WEIGHTS: &[u8] = include_bytes!("../../weights/vpjnd.bpk");

/// Grid positions (top-left corners) of the patches read from a `width` x `height` image.
///
/// The grid has `PATCH`-pixel cells aligned to multiples of 16 pixels (so JPEG blocks and chroma
/// macroblocks fall at the same phase in every patch), centred in the image; up to [`PATCHES`] cells are
/// taken, evenly spread in raster order. Images smaller than a patch give one patch at (0, 0), padded by
/// edge replication when read.
pub fn patch_positions(width: u32, height: u32) -> Vec<(u32, u32)> {
    let p = PATCH as u32;
    let cols = (width / p).max(1);
    let rows = (height / p).max(1);
    let x0 = if width >= p { ((width - cols * p) / 2) & !15 } else { 0 };
    let y0 = if height >= p { ((height - rows * p) / 2) & !15 } else { 0 };
    let total = (cols * rows) as usize;
    let take = total.min(PATCHES);
    (0..take)
        .map(|i| {
            let cell = ((2 * i + 1) * total / (2 * take)) as u32;
            (x0 + (cell % cols) * p, y0 + (cell / cols) * p)
        })
        .collect()
}

/// RGB patches at `positions` as planar `[n, 3, PATCH, PATCH]` bytes (gray is replicated; reads past
/// the edge repeat the last row or column).
pub fn rgb_patches(image: &Image, positions: &[(u32, u32)]) -> Vec<u8> {
    let channels = image.color().channels();
    let (w, h) = (image.width(), image.height());
    let pixels = image.pixels();
    let mut out = vec![0u8; positions.len() * 3 * PATCH * PATCH];
    for (i, &(px, py)) in positions.iter().enumerate() {
        let base = i * 3 * PATCH * PATCH;
        for y in 0..PATCH {
            let sy = (py + y as u32).min(h - 1) as usize;
            for x in 0..PATCH {
                let sx = (px + x as u32).min(w - 1) as usize;
                let at = (sy * w as usize + sx) * channels;
                for c in 0..3 {
                    let v = if channels >= 3 { pixels[at + c] } else { pixels[at] };
                    out[base + c * PATCH * PATCH + y * PATCH + x] = v;
                }
            }
        }
    }
    out
}

/// JND-map patches at `positions` as `[n, 1, PATCH, PATCH]` bytes, quantised to quarter grey levels
/// (`round(4 * jnd)`, saturating at 255).
pub fn jnd_patches(map: &JndMap, positions: &[(u32, u32)]) -> Vec<u8> {
    let (w, h) = (map.width(), map.height());
    let mut out = vec![0u8; positions.len() * PATCH * PATCH];
    for (i, &(px, py)) in positions.iter().enumerate() {
        let base = i * PATCH * PATCH;
        for y in 0..PATCH {
            let sy = (py + y as u32).min(h - 1);
            for x in 0..PATCH {
                let sx = (px + x as u32).min(w - 1);
                out[base + y * PATCH + x] = (map.get(sx, sy) * 4.0).round().clamp(0.0, 255.0) as u8;
            }
        }
    }
    out
}

/// Image patch bytes `[n, 3, P, P]` as the network's input (`x / 255 - 0.5`).
pub fn rgb_tensor(bytes: &[u8], device: &Device) -> Tensor<4> {
    let n = bytes.len() / (3 * PATCH * PATCH);
    let values: Vec<f32> = bytes.iter().map(|&v| f32::from(v) / 255.0 - 0.5).collect();
    Tensor::from_data(TensorData::new(values, [n, 3, PATCH, PATCH]), device)
}

/// JND patch bytes `[n, 1, P, P]` as the network's input (`q / 128`, i.e. JND / 32).
pub fn jnd_tensor(bytes: &[u8], device: &Device) -> Tensor<4> {
    let n = bytes.len() / (PATCH * PATCH);
    let values: Vec<f32> = bytes.iter().map(|&v| f32::from(v) / 128.0).collect();
    Tensor::from_data(TensorData::new(values, [n, 1, PATCH, PATCH]), device)
}

/// A network's verdict on one candidate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Judgement {
    /// The image score: the predicted `ln(d / TRAINED_TAU)` of the teacher distance `d`.
    pub score: f32,
}

impl Judgement {
    /// The predicted butteraugli 3-norm distance of the candidate.
    pub fn predicted_distance(&self) -> f64 {
        TRAINED_TAU * f64::from(self.score).exp()
    }

    /// Whether the candidate is perceptually lossless at threshold `tau` (butteraugli 3-norm units),
    /// requiring the predicted distance to stay `margin` (natural-log units) below it.
    pub fn lossless_at(&self, tau: f64, margin: f64) -> bool {
        f64::from(self.score) < (tau / TRAINED_TAU).ln() - margin
    }
}

/// The original's side of a VP-JND comparison, computed once per image by [`VpJnd::prepare`].
#[derive(Debug, Clone)]
pub struct Prepared {
    width: u32,
    height: u32,
    positions: Vec<(u32, u32)>,
    features: PreparedFeatures,
}

impl Prepared {
    /// The patch positions this preparation reads.
    pub fn positions(&self) -> &[(u32, u32)] {
        &self.positions
    }
}

/// A VP-JNDnet ready to judge: weights on a device.
#[derive(Debug, Clone)]
pub struct VpJnd {
    net: VpJndNet,
    device: Device,
}

impl VpJnd {
    /// The embedded weights on `device`.
    pub fn embedded(device: &Device) -> Result<Self> {
        Self::from_bytes(EMBEDDED_WEIGHTS, device)
    }

    /// Weights from burnpack bytes (as written by [`VpJnd::to_bytes`]) on `device`.
    pub fn from_bytes(bytes: &[u8], device: &Device) -> Result<Self> {
        let net = crate::weights::load(VpJndNet::new(device), bytes, "VP-JNDnet")?;
        Ok(Self { net, device: device.clone() })
    }

    /// Wraps a network (e.g. one being trained).
    pub fn from_net(net: VpJndNet, device: &Device) -> Self {
        Self { net, device: device.clone() }
    }

    /// The network.
    pub fn net(&self) -> &VpJndNet {
        &self.net
    }

    /// The device it runs on.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// The weights as burnpack bytes.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        crate::weights::save(&self.net, "VP-JNDnet weights")
    }

    /// Computes the original's JND map and extractor features, once per image.
    pub fn prepare(&self, original: &Image) -> Result<Prepared> {
        let map = PIXEL_JND_MODEL.compute(original);
        self.prepare_with_map(original, &map)
    }

    /// [`VpJnd::prepare`] with a JND map already computed (it must come from [`PIXEL_JND_MODEL`]).
    pub fn prepare_with_map(&self, original: &Image, map: &JndMap) -> Result<Prepared> {
        if map.width() != original.width() || map.height() != original.height() {
            return Err(Error::Mismatch(format!(
                "JND map {}x{} for a {}x{} image",
                map.width(),
                map.height(),
                original.width(),
                original.height()
            )));
        }
        let positions = patch_positions(original.width(), original.height());
        let features = self.net.prepare(
            rgb_tensor(&rgb_patches(original, &positions), &self.device),
            jnd_tensor(&jnd_patches(map, &positions), &self.device),
        );
        Ok(Prepared { width: original.width(), height: original.height(), positions, features })
    }

    /// Judges a decoded candidate of the prepared original.
    pub fn judge(&self, prepared: &Prepared, candidate: &Image) -> Result<Judgement> {
        if candidate.width() != prepared.width || candidate.height() != prepared.height {
            return Err(Error::Mismatch(format!(
                "candidate {}x{} for a {}x{} original",
                candidate.width(),
                candidate.height(),
                prepared.width,
                prepared.height
            )));
        }
        let patches = rgb_tensor(&rgb_patches(candidate, &prepared.positions), &self.device);
        let score = self.net.score(&prepared.features, patches, 1);
        let values = score
            .into_data()
            .try_into_vec::<f32>()
            .map_err(|e| Error::Model(format!("reading VP-JNDnet output: {e:?}")))?;
        let score = values.first().copied().ok_or_else(|| Error::Model("VP-JNDnet gave no score".into()))?;
        if !score.is_finite() {
            return Err(Error::Model(format!("VP-JNDnet score is {score}")));
        }
        Ok(Judgement { score })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patch_grid_is_fixed_aligned_inside_and_spread() {
        let positions = patch_positions(1276, 850);
        assert_eq!(positions.len(), PATCHES);
        assert_eq!(positions, patch_positions(1276, 850), "deterministic");
        for &(x, y) in &positions {
            assert_eq!((x % 16, y % 16), (0, 0));
            assert!(x as usize + PATCH <= 1276 && y as usize + PATCH <= 850);
        }
        let rows: std::collections::BTreeSet<u32> = positions.iter().map(|p| p.1).collect();
        assert!(rows.len() >= 8, "spread over the rows: {rows:?}");
        // Small images: every cell; tiny ones: one padded patch.
        assert_eq!(patch_positions(192, 128).len(), 6);
        assert_eq!(patch_positions(10, 7), vec![(0, 0)]);
    }

    #[test]
    fn patches_read_the_same_place_in_every_input_and_pad_by_replication() {
        let pixels: Vec<u8> = (0..10 * 7 * 3).map(|i| (i % 251) as u8).collect();
        let image = Image::new(10, 7, crate::ColorType::Rgb, pixels).unwrap();
        let bytes = rgb_patches(&image, &[(0, 0)]);
        assert_eq!(bytes.len(), 3 * PATCH * PATCH);
        // Red plane, row 0: pixels 0..9 then the last column repeated.
        assert_eq!(bytes[0], image.pixels()[0]);
        assert_eq!(bytes[9], image.pixels()[9 * 3]);
        assert_eq!(bytes[PATCH - 1], image.pixels()[9 * 3]);
        let map = JndMap::new(10, 7, (0..70).map(|i| i as f32 / 10.0).collect()).unwrap();
        let jnd = jnd_patches(&map, &[(0, 0)]);
        // Quarter levels: 0.9 -> round(3.6) = 4, repeated past the right edge; row 1 starts at 1.0 -> 4.
        assert_eq!((jnd[9], jnd[PATCH - 1], jnd[PATCH]), (4, 4, 4));
        assert_eq!(jnd[1], 0);
    }

    #[test]
    fn judgement_thresholds_shift_with_tau() {
        let j = Judgement { score: 0.0 };
        assert!((j.predicted_distance() - TRAINED_TAU).abs() < 1e-12);
        assert!(!j.lossless_at(TRAINED_TAU, 0.0));
        assert!(j.lossless_at(TRAINED_TAU * 1.1, 0.0));
        assert!(!j.lossless_at(TRAINED_TAU * 1.1, 0.2));
        assert!(!Judgement { score: -0.5 }.lossless_at(1.0, 0.0), "strict needs a lower score");
    }
}
