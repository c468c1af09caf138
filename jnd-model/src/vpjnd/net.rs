//! The VP-JNDnet layers: a patch feature extractor with mixed attention and a non-local block, and
//! the per-patch quality and weight heads.

use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::nn::{Linear, LinearConfig, PaddingConfig2d};
use burn::tensor::activation::{relu, sigmoid, softmax};
use burn::tensor::{Device, Tensor};

/// Side of the square patches the network reads, in pixels.
pub const PATCH: usize = 64;
/// Channels of the four extractor stages.
pub const WIDTHS: [usize; 4] = [12, 24, 32, 48];
/// Width of the heads' hidden layer.
pub const HIDDEN: usize = 32;

/// CBAM-style channel attention: average- and max-pooled channel vectors through a shared
/// two-layer MLP, summed, sigmoid, scale.
#[derive(Module, Debug)]
pub struct ChannelAttention {
    squeeze: Linear,
    excite: Linear,
}

impl ChannelAttention {
    fn new(channels: usize, device: &Device) -> Self {
        let reduced = (channels / 4).max(4);
        Self {
            squeeze: LinearConfig::new(channels, reduced).init(device),
            excite: LinearConfig::new(reduced, channels).init(device),
        }
    }

    fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let [n, c, h, w] = x.dims();
        let flat = x.clone().reshape([n, c, h * w]);
        let avg = flat.clone().mean_dim(2).reshape([n, c]);
        let max = flat.max_dim(2).reshape([n, c]);
        let mlp = |v: Tensor<2>| self.excite.forward(relu(self.squeeze.forward(v)));
        let gate = sigmoid(mlp(avg) + mlp(max)).reshape([n, c, 1, 1]);
        x * gate
    }
}

/// CBAM-style spatial attention: channel mean and max maps through a 7x7 convolution, sigmoid, scale.
#[derive(Module, Debug)]
pub struct SpatialAttention {
    conv: Conv2d,
}

impl SpatialAttention {
    fn new(device: &Device) -> Self {
        Self {
            conv: Conv2dConfig::new([2, 1], [7, 7])
                .with_padding(PaddingConfig2d::Explicit(3, 3, 3, 3))
                .init(device),
        }
    }

    fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let avg = x.clone().mean_dim(1);
        let max = x.clone().max_dim(1);
        let gate = sigmoid(self.conv.forward(Tensor::cat(vec![avg, max], 1)));
        x * gate
    }
}

/// Embedded-Gaussian non-local block (1x1 theta/phi/g, softmax over positions, 1x1 out, residual).
#[derive(Module, Debug)]
pub struct NonLocal {
    theta: Conv2d,
    phi: Conv2d,
    g: Conv2d,
    out: Conv2d,
}

impl NonLocal {
    fn new(channels: usize, device: &Device) -> Self {
        let inner = channels / 2;
        let one = |cin: usize, cout: usize| Conv2dConfig::new([cin, cout], [1, 1]).init(device);
        Self {
            theta: one(channels, inner),
            phi: one(channels, inner),
            g: one(channels, inner),
            out: one(inner, channels),
        }
    }

    fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let [n, c, h, w] = x.dims();
        let inner = c / 2;
        let theta = self.theta.forward(x.clone()).reshape([n, inner, h * w]).swap_dims(1, 2);
        let phi = self.phi.forward(x.clone()).reshape([n, inner, h * w]);
        let g = self.g.forward(x.clone()).reshape([n, inner, h * w]).swap_dims(1, 2);
        let affinity = softmax(theta.matmul(phi), 2);
        let y = affinity.matmul(g).swap_dims(1, 2).reshape([n, inner, h, w]);
        x + self.out.forward(y)
    }
}

/// One extractor stage: 3x3 convolution + bias + ReLU, channel then spatial attention (or the
/// non-local block at the deepest stage), 2x2 max-pool.
#[derive(Module, Debug)]
pub struct Stage {
    conv: Conv2d,
    channel: Option<ChannelAttention>,
    spatial: Option<SpatialAttention>,
    non_local: Option<NonLocal>,
    pool: MaxPool2d,
}

impl Stage {
    fn new(cin: usize, cout: usize, deepest: bool, device: &Device) -> Self {
        Self {
            conv: Conv2dConfig::new([cin, cout], [3, 3])
                .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
                .init(device),
            channel: (!deepest).then(|| ChannelAttention::new(cout, device)),
            spatial: (!deepest).then(|| SpatialAttention::new(device)),
            non_local: deepest.then(|| NonLocal::new(cout, device)),
            pool: MaxPool2dConfig::new([2, 2]).with_strides([2, 2]).init(),
        }
    }

    fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let mut x = relu(self.conv.forward(x));
        if let Some(channel) = &self.channel {
            x = channel.forward(x);
        }
        if let Some(spatial) = &self.spatial {
            x = spatial.forward(x);
        }
        if let Some(non_local) = &self.non_local {
            x = non_local.forward(x);
        }
        self.pool.forward(x)
    }
}

/// Four stages from `input` channels to a `WIDTHS[3]`-channel map at 1/16 resolution.
#[derive(Module, Debug)]
pub struct Extractor {
    stages: Vec<Stage>,
}

impl Extractor {
    fn new(input: usize, device: &Device) -> Self {
        let mut cin = input;
        let mut stages = Vec::with_capacity(WIDTHS.len());
        for (i, &cout) in WIDTHS.iter().enumerate() {
            stages.push(Stage::new(cin, cout, i == WIDTHS.len() - 1, device));
            cin = cout;
        }
        Self { stages }
    }

    /// `[n, input, PATCH, PATCH]` -> `[n, C, PATCH/16, PATCH/16]`.
    pub fn forward(&self, mut x: Tensor<4>) -> Tensor<4> {
        for stage in &self.stages {
            x = stage.forward(x);
        }
        x
    }

    /// Every stage's output, shallowest first.
    pub fn forward_stages(&self, mut x: Tensor<4>) -> Vec<Tensor<4>> {
        let mut out = Vec::with_capacity(self.stages.len());
        for stage in &self.stages {
            x = stage.forward(x);
            out.push(x.clone());
        }
        out
    }
}

/// A two-layer MLP head giving one number per patch.
#[derive(Module, Debug)]
pub struct Head {
    hidden: Linear,
    out: Linear,
}

impl Head {
    fn new(input: usize, device: &Device) -> Self {
        Self {
            hidden: LinearConfig::new(input, HIDDEN).init(device),
            out: LinearConfig::new(HIDDEN, 1).init(device),
        }
    }

    fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        self.out.forward(relu(self.hidden.forward(x)))
    }
}

/// VP-JNDnet: is a compressed candidate perceptually lossless, given the original and its pixel JND map?
///
/// The image score is the weighted mean of per-patch quality scores; it is trained toward the log ratio
/// of the teacher's distance to the operating point's threshold, so a positive score means "visible".
#[derive(Module, Debug)]
pub struct VpJndNet {
    /// Shared by original and candidate.
    pub image_features: Extractor,
    /// Its own weights, for the JND map.
    pub jnd_features: Extractor,
    quality: Head,
    weight: Head,
}

/// The original's side of a comparison: what [`VpJndNet::prepare`] computes once per image.
#[derive(Debug, Clone)]
pub struct PreparedFeatures {
    /// Extractor maps of the original patches after each stage, `[n, C_s, h_s, w_s]`.
    pub original: Vec<Tensor<4>>,
    /// Extractor map of the JND patches, `[n, C, h, w]`.
    pub jnd: Tensor<4>,
    /// The original patches as given, `[n, 3, P, P]`.
    pub original_input: Tensor<4>,
    /// The JND patches as given, `[n, 1, P, P]` (JND / 32).
    pub jnd_input: Tensor<4>,
}

impl PreparedFeatures {
    /// These features repeated for `b` candidates (sample-major), for batched judging.
    pub fn repeat(&self, b: usize) -> Self {
        Self {
            original: self.original.iter().map(|t| t.clone().repeat_dim(0, b)).collect(),
            jnd: self.jnd.clone().repeat_dim(0, b),
            original_input: self.original_input.clone().repeat_dim(0, b),
            jnd_input: self.jnd_input.clone().repeat_dim(0, b),
        }
    }
}

/// Parameter-free visibility features of each patch: the log of the mean absolute pixel error (in grey
/// levels) and of the mean and root-mean-square error relative to the pixel JND, `[n, 3]`.
fn visibility_features(original: Tensor<4>, candidate: Tensor<4>, jnd: Tensor<4>) -> Tensor<2> {
    let [n, _, _, _] = original.dims();
    let error = (original - candidate).abs().mean_dim(1) * 255.0;
    let ratio = error.clone() / (jnd * 32.0 + 1.0);
    let pool = |t: Tensor<4>| t.mean_dim(3).mean_dim(2).reshape([n, 1]);
    let mean_error = (pool(error) + 0.01).log();
    let mean_ratio = (pool(ratio.clone()) + 0.001).log();
    let rms_ratio = (pool(ratio.powf_scalar(2.0)) + 1e-6).log() * 0.5;
    Tensor::cat(vec![mean_error, mean_ratio, rms_ratio], 1) * 0.5
}

impl VpJndNet {
    /// A freshly initialised network on `device`.
    pub fn new(device: &Device) -> Self {
        let c = WIDTHS[3];
        Self {
            image_features: Extractor::new(3, device),
            jnd_features: Extractor::new(1, device),
            quality: Head::new(3 * c + WIDTHS[0] + WIDTHS[1] + 3, device),
            weight: Head::new(3 * c, device),
        }
    }

    /// Runs the extractors over original patches `[n, 3, P, P]` and JND patches `[n, 1, P, P]`.
    pub fn prepare(&self, original: Tensor<4>, jnd: Tensor<4>) -> PreparedFeatures {
        PreparedFeatures {
            original: self.image_features.forward_stages(original.clone()),
            jnd: self.jnd_features.forward(jnd.clone()),
            original_input: original,
            jnd_input: jnd,
        }
    }

    /// Per-patch quality scores and weights `[b, n]` for candidate patches `[b*n, 3, P, P]`.
    pub fn patch_scores(
        &self,
        prepared: &PreparedFeatures,
        candidate: Tensor<4>,
        b: usize,
    ) -> (Tensor<2>, Tensor<2>) {
        let visibility = visibility_features(
            prepared.original_input.clone(),
            candidate.clone(),
            prepared.jnd_input.clone(),
        );
        let fy_stages = self.image_features.forward_stages(candidate);
        let pool = |t: Tensor<4>| {
            let [bn, c, _, _] = t.dims();
            t.mean_dim(3).mean_dim(2).reshape([bn, c])
        };
        // Differences at the two shallowest stages see fine artefacts (blocking, ringing); the deepest
        // stage's features carry content.
        // Log magnitudes: the teacher's log distance is close to linear in the log of distortion energy.
        let log = |t: Tensor<2>| ((t + 1e-5).log() + 6.0) * 0.33;
        let d1 = log(pool((prepared.original[0].clone() - fy_stages[0].clone()).abs()));
        let d2 = log(pool((prepared.original[1].clone() - fy_stages[1].clone()).abs()));
        let deepest = WIDTHS.len() - 1;
        let fx_map = prepared.original[deepest].clone();
        let fy_map = fy_stages[deepest].clone();
        let bn = fy_map.dims()[0];
        let fx = pool(fx_map.clone());
        let fy = pool(fy_map.clone());
        let diff = log(pool((fx_map - fy_map.clone()).abs()));
        let masked = pool(fy_map * prepared.jnd.clone());
        let q = self.quality.forward(Tensor::cat(vec![fx.clone(), fy.clone(), diff, d1, d2, visibility], 1));
        let w = relu(self.weight.forward(Tensor::cat(vec![fx, fy, masked], 1))) + 1e-6;
        let n = bn / b;
        (q.reshape([b, n]), w.reshape([b, n]))
    }

    /// Image scores `[b]`: the weighted mean of the patch scores of each of `b` images of `n` patches.
    pub fn score(&self, prepared: &PreparedFeatures, candidate: Tensor<4>, b: usize) -> Tensor<1> {
        let (q, w) = self.patch_scores(prepared, candidate, b);
        let total = w.clone().sum_dim(1);
        ((q * w).sum_dim(1) / total).reshape([b])
    }
}
