//! The whole-picture judge (third generation of VP-JND): from the original's and a candidate's
//! per-8x8-block features ([`JudgeReference`], [`BlockGrid`]), a small stack of convolutions over the
//! block grid, pooled over the whole picture, predicts what the two metrics of the operating points
//! would say: `ln` of butteraugli's 3-norm and `ln(100 - SSIMULACRA 2)`.
//!
//! Prepare the original once ([`JudgeReference::new`]); judge candidates one by one or in batches of
//! the same picture ([`Judge::predict`]). Deterministic: no sampling, fixed pooling.

mod features;

pub use features::{BLOCK, BlockGrid, FEATURES, JudgeReference};

use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{Linear, LinearConfig, PaddingConfig2d};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor, TensorData};

use crate::prior::{SSIMULACRA2_GAP_FLOOR, ssimulacra2_gap};
use crate::{Error, Result};

/// The embedded weights (burnpack, f32), trained by `jnd-train judge` (see
/// `jnd-model/weights/JUDGE-MODEL-CARD.md`).
pub const EMBEDDED_WEIGHTS: &[u8] = include_bytes!("../../weights/judge.bpk");

/// Channels of the convolution stack.
pub const WIDTH: usize = 16;
/// Width of the head's hidden layer.
pub const HIDDEN: usize = 32;

/// The judge network: three 3x3 convolutions over the block grid (ReLU), pooled over the picture by
/// mean, 4-norm and max, then a two-layer head to `[ln 3-norm, ln(100 - SSIMULACRA 2)]`.
#[derive(Module, Debug)]
pub struct JudgeNet {
    c1: Conv2d,
    c2: Conv2d,
    c3: Conv2d,
    hidden: Linear,
    out: Linear,
}

impl JudgeNet {
    /// A freshly initialised network on `device`.
    pub fn new(device: &Device) -> Self {
        let conv = |cin: usize, cout: usize| {
            Conv2dConfig::new([cin, cout], [3, 3])
                .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
                .init(device)
        };
        Self {
            c1: conv(FEATURES, WIDTH),
            c2: conv(WIDTH, WIDTH),
            c3: conv(WIDTH, WIDTH),
            hidden: LinearConfig::new(3 * WIDTH, HIDDEN).init(device),
            out: LinearConfig::new(HIDDEN, 2).init(device),
        }
    }

    /// `[n, FEATURES, rows, columns]` -> `[n, 2]`: predicted `ln d` and `ln(100 - s)`.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<2> {
        let [n, _, h, w] = x.dims();
        let x = relu(self.c1.forward(x));
        let x = relu(self.c2.forward(x));
        let x = relu(self.c3.forward(x));
        let flat = x.reshape([n, WIDTH, h * w]);
        let mean = flat.clone().mean_dim(2).reshape([n, WIDTH]);
        let norm4 =
            flat.clone().powf_scalar(4.0).mean_dim(2).add_scalar(1e-6).powf_scalar(0.25).reshape([n, WIDTH]);
        let max = flat.max_dim(2).reshape([n, WIDTH]);
        let pooled = Tensor::cat(vec![mean, norm4, max], 1);
        self.out.forward(relu(self.hidden.forward(pooled)))
    }
}

/// Block grids of one picture as the network's input `[n, FEATURES, rows, columns]`.
pub fn grid_tensor(grids: &[&BlockGrid], device: &Device) -> Result<Tensor<4>> {
    let first = grids.first().ok_or_else(|| Error::Model("no candidates to judge".into()))?;
    if grids.iter().any(|g| (g.columns, g.rows) != (first.columns, first.rows)) {
        return Err(Error::Mismatch("candidates of one batch must share a size".into()));
    }
    let values: Vec<f32> = grids.iter().flat_map(|g| g.values.iter().copied()).collect();
    Ok(Tensor::from_data(TensorData::new(values, [grids.len(), FEATURES, first.rows, first.columns]), device))
}

/// The judge's prediction for one candidate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Predicted {
    /// Predicted butteraugli 3-norm.
    pub distance: f64,
    /// Predicted SSIMULACRA 2.
    pub ssimulacra2: f64,
}

impl Predicted {
    /// From the network's two outputs.
    pub fn from_outputs(ln_distance: f32, ln_gap: f32) -> Self {
        Self {
            distance: f64::from(ln_distance).exp(),
            ssimulacra2: 100.0 - f64::from(ln_gap).exp().max(SSIMULACRA2_GAP_FLOOR),
        }
    }

    /// The training targets of measured scores: `[ln d, ln(100 - s)]`.
    pub fn targets(distance: f64, ssimulacra2: f64) -> [f32; 2] {
        [distance.max(1e-3).ln() as f32, ssimulacra2_gap(ssimulacra2).ln() as f32]
    }
}

/// A prediction's verdict against one bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Far enough on the good side: the bound holds without measuring.
    Pass,
    /// Far enough on the bad side: the bound fails without measuring.
    Fail,
    /// Within the uncertainty band: only the real metric can say.
    Unsure,
}

/// How far a prediction must lie from a bound for the judge's verdict to stand without the real
/// metric. Chosen by `jnd-train judge` on the training pictures' candidates near the presets' bounds
/// (quantiles of the prediction errors; see `JUDGE-MODEL-CARD.md`); never on held-out pictures.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bands {
    /// A predicted 3-norm `d'` passes a ceiling `c` alone when `ln d' <= ln c - pass_ln_distance`.
    pub pass_ln_distance: f64,
    /// It fails alone when `ln d' >= ln c + fail_ln_distance`.
    pub fail_ln_distance: f64,
    /// A predicted SSIMULACRA 2 `s'` passes a floor `f` alone when `s' >= f + pass_points`.
    pub pass_points: f64,
    /// It fails alone when `s' <= f - fail_points`.
    pub fail_points: f64,
}

impl Bands {
    /// The bands of the embedded weights: the 99.5 % quantiles of its errors on the training pictures'
    /// candidates near the presets' bounds, rounded up (`jnd-train judge --weights
    /// jnd-model/weights/judge.bpk`, the report's band table).
    pub const EMBEDDED: Bands =
        Bands { pass_ln_distance: 0.48, fail_ln_distance: 0.38, pass_points: 10.3, fail_points: 15.9 };

    /// Bands so wide that every prediction is unsure (the real metrics judge every candidate).
    pub const NONE: Bands = Bands {
        pass_ln_distance: f64::INFINITY,
        fail_ln_distance: f64::INFINITY,
        pass_points: f64::INFINITY,
        fail_points: f64::INFINITY,
    };

    /// The verdict of a predicted 3-norm against `ceiling`.
    pub fn ceiling(&self, predicted: f64, ceiling: f64) -> Verdict {
        let x = predicted.max(1e-6).ln() - ceiling.max(1e-6).ln();
        if x <= -self.pass_ln_distance {
            Verdict::Pass
        } else if x >= self.fail_ln_distance {
            Verdict::Fail
        } else {
            Verdict::Unsure
        }
    }

    /// The verdict of a predicted SSIMULACRA 2 against `floor`.
    pub fn floor(&self, predicted: f64, floor: f64) -> Verdict {
        if predicted >= floor + self.pass_points {
            Verdict::Pass
        } else if predicted <= floor - self.fail_points {
            Verdict::Fail
        } else {
            Verdict::Unsure
        }
    }
}

/// A judge network on a device.
#[derive(Debug, Clone)]
pub struct Judge {
    net: JudgeNet,
    device: Device,
}

impl Judge {
    /// Wraps a network (for example one being trained, after `valid()`).
    pub fn from_net(net: JudgeNet, device: &Device) -> Self {
        Self { net, device: device.clone() }
    }

    /// The embedded weights on `device`.
    pub fn embedded(device: &Device) -> Result<Self> {
        Self::from_bytes(EMBEDDED_WEIGHTS, device)
    }

    /// Weights from burnpack bytes (as written by [`Judge::to_bytes`]) on `device`.
    pub fn from_bytes(bytes: &[u8], device: &Device) -> Result<Self> {
        let net = crate::weights::load(JudgeNet::new(device), bytes, "judge")?;
        Ok(Self { net, device: device.clone() })
    }

    /// The weights as burnpack bytes.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        crate::weights::save(&self.net, "judge weights")
    }

    /// The network.
    pub fn net(&self) -> &JudgeNet {
        &self.net
    }

    /// Predictions for candidates of one picture, in order.
    pub fn predict(&self, grids: &[&BlockGrid]) -> Result<Vec<Predicted>> {
        let out = self.net.forward(grid_tensor(grids, &self.device)?);
        let values: Vec<f32> = out
            .into_data()
            .try_into_vec::<f32>()
            .map_err(|e| Error::Model(format!("judge output: {e:?}")))?;
        let predicted: Vec<Predicted> =
            values.chunks_exact(2).map(|v| Predicted::from_outputs(v[0], v[1])).collect();
        if predicted.iter().any(|p| !p.distance.is_finite() || !p.ssimulacra2.is_finite()) {
            return Err(Error::Model("the judge computed a non-finite score".into()));
        }
        Ok(predicted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ColorType, Image};

    fn photo() -> Image {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/photo.png");
        let rgb = image::open(path).expect("fixtures/photo.png").to_rgb8();
        let (w, h) = rgb.dimensions();
        Image::new(w, h, ColorType::Rgb, rgb.into_raw()).expect("valid")
    }

    /// Each 8x8 block's samples pulled towards the block's mean by `strength` (0..1).
    fn blocky(image: &Image, strength: f32) -> Image {
        let (w, h) = (image.width() as usize, image.height() as usize);
        let p = image.pixels();
        let mut out = p.to_vec();
        for by in (0..h).step_by(8) {
            for bx in (0..w).step_by(8) {
                for c in 0..3 {
                    let cells: Vec<usize> = (by..(by + 8).min(h))
                        .flat_map(|y| (bx..(bx + 8).min(w)).map(move |x| (y * w + x) * 3 + c))
                        .collect();
                    let mean = cells.iter().map(|&i| f32::from(p[i])).sum::<f32>() / cells.len() as f32;
                    for &i in &cells {
                        out[i] = (f32::from(p[i]) * (1.0 - strength) + mean * strength).round() as u8;
                    }
                }
            }
        }
        Image::new(image.width(), image.height(), ColorType::Rgb, out).expect("valid")
    }

    #[test]
    fn the_embedded_judge_ranks_stronger_distortion_as_worse_and_is_deterministic() {
        let device = crate::select_device(crate::Accelerator::Cpu).unwrap();
        let judge = Judge::embedded(&device).unwrap();
        let original = photo();
        let reference = JudgeReference::new(&original).unwrap();
        let grids: Vec<BlockGrid> =
            [0.0, 0.3, 0.9].iter().map(|&s| reference.features(&blocky(&original, s)).unwrap()).collect();
        let refs: Vec<&BlockGrid> = grids.iter().collect();
        let p = judge.predict(&refs).unwrap();
        assert!(p[0].distance < p[1].distance && p[1].distance < p[2].distance, "{p:?}");
        assert!(p[0].ssimulacra2 > p[1].ssimulacra2 && p[1].ssimulacra2 > p[2].ssimulacra2, "{p:?}");
        // The original itself is judged close to lossless; a batch gives what single calls give.
        assert!(p[0].distance < 1.0 && p[0].ssimulacra2 > 80.0, "{:?}", p[0]);
        let single = judge.predict(&[&grids[2]]).unwrap()[0];
        assert!((single.distance - p[2].distance).abs() < 1e-4 * p[2].distance);
        assert!(judge.predict(&[]).is_err());
    }
}
