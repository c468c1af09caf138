//! The four CIFAR-10 classifiers whose decisions DMV-JND protects: AlexNet-, VGG-, ResNet- and
//! DenseNet-style networks sized for 32x32 inputs (about 0.3 M parameters each, so they run on the CPU
//! and train in minutes on a GPU). Each ends in an 8x8 feature map,
//! global average pooling and one linear layer, so its class activation map (Zhou et al. 2016) is the
//! linear layer's weights applied to the feature map.

use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{AvgPool2d, AvgPool2dConfig, MaxPool2d, MaxPool2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, Linear, LinearConfig, PaddingConfig2d};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor};

use super::CLASSES;

/// Side of the classifiers' final feature map (and so of their raw CAMs).
pub const FEATURE_SIDE: usize = 8;

/// The width multiplier of the current classifiers (every layer's channels; 1 was the first
/// generation's, trained on the CPU; weights of either width load).
pub const WIDTH: usize = 2;
/// The widths whose weights load, newest first.
pub const WIDTHS: [usize; 2] = [2, 1];

fn conv(cin: usize, cout: usize, kernel: usize, device: &Device) -> Conv2d {
    let pad = kernel / 2;
    Conv2dConfig::new([cin, cout], [kernel, kernel])
        .with_padding(PaddingConfig2d::Explicit(pad, pad, pad, pad))
        .with_bias(false)
        .init(device)
}

pub(crate) fn pool2() -> MaxPool2d {
    MaxPool2dConfig::new([2, 2]).with_strides([2, 2]).init()
}

/// Convolution, batch normalisation, ReLU.
#[derive(Module, Debug)]
pub struct ConvBnRelu {
    conv: Conv2d,
    norm: BatchNorm,
}

impl ConvBnRelu {
    pub(crate) fn new(cin: usize, cout: usize, kernel: usize, device: &Device) -> Self {
        Self { conv: conv(cin, cout, kernel, device), norm: BatchNormConfig::new(cout).init(device) }
    }

    pub(crate) fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        relu(self.norm.forward(self.conv.forward(x)))
    }
}

/// AlexNet-style: a large first kernel, pooling early, then a stack of 3x3 layers at low resolution.
#[derive(Module, Debug)]
pub struct AlexNetCam {
    c1: ConvBnRelu,
    c2: ConvBnRelu,
    c3: ConvBnRelu,
    c4: ConvBnRelu,
    pool: MaxPool2d,
}

impl AlexNetCam {
    fn new(k: usize, device: &Device) -> Self {
        Self {
            c1: ConvBnRelu::new(3, 24 * k, 5, device),
            c2: ConvBnRelu::new(24 * k, 48 * k, 3, device),
            c3: ConvBnRelu::new(48 * k, 64 * k, 3, device),
            c4: ConvBnRelu::new(64 * k, 64 * k, 3, device),
            pool: pool2(),
        }
    }

    fn features(&self, x: Tensor<4>) -> Tensor<4> {
        let x = self.pool.forward(self.c1.forward(x));
        let x = self.pool.forward(self.c2.forward(x));
        self.c4.forward(self.c3.forward(x))
    }
}

/// VGG-style: pairs of 3x3 convolutions between poolings, doubling the width.
#[derive(Module, Debug)]
pub struct VggCam {
    layers: Vec<ConvBnRelu>,
    pool: MaxPool2d,
}

impl VggCam {
    fn new(k: usize, device: &Device) -> Self {
        let widths = [(3, 16 * k), (16, 16), (16, 32), (32, 32), (32, 64), (64, 64)];
        Self {
            layers: widths
                .iter()
                .enumerate()
                .map(|(i, &(cin, cout))| {
                    let cin = if i == 0 { cin } else { cin * k };
                    let cout = if i == 0 { cout } else { cout * k };
                    ConvBnRelu::new(cin, cout, 3, device)
                })
                .collect(),
            pool: pool2(),
        }
    }

    fn features(&self, mut x: Tensor<4>) -> Tensor<4> {
        for (i, layer) in self.layers.iter().enumerate() {
            x = layer.forward(x);
            if i == 1 || i == 3 {
                x = self.pool.forward(x);
            }
        }
        x
    }
}

/// A ResNet basic block: two 3x3 convolutions with a 1x1 projection shortcut when the width changes.
#[derive(Module, Debug)]
pub struct BasicBlock {
    first: ConvBnRelu,
    second: Conv2d,
    second_norm: BatchNorm,
    shortcut: Option<Conv2d>,
}

impl BasicBlock {
    fn new(cin: usize, cout: usize, device: &Device) -> Self {
        Self {
            first: ConvBnRelu::new(cin, cout, 3, device),
            second: conv(cout, cout, 3, device),
            second_norm: BatchNormConfig::new(cout).init(device),
            shortcut: (cin != cout).then(|| conv(cin, cout, 1, device)),
        }
    }

    fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let residual = match &self.shortcut {
            Some(projection) => projection.forward(x.clone()),
            None => x.clone(),
        };
        relu(self.second_norm.forward(self.second.forward(self.first.forward(x))) + residual)
    }
}

/// ResNet-style: a stem, then basic blocks at 16x16 and 8x8.
#[derive(Module, Debug)]
pub struct ResNetCam {
    stem: ConvBnRelu,
    blocks: Vec<BasicBlock>,
    pool: MaxPool2d,
}

impl ResNetCam {
    fn new(k: usize, device: &Device) -> Self {
        Self {
            stem: ConvBnRelu::new(3, 16 * k, 3, device),
            blocks: vec![
                BasicBlock::new(16 * k, 24 * k, device),
                BasicBlock::new(24 * k, 48 * k, device),
                BasicBlock::new(48 * k, 64 * k, device),
            ],
            pool: pool2(),
        }
    }

    fn features(&self, x: Tensor<4>) -> Tensor<4> {
        let x = self.pool.forward(self.stem.forward(x));
        let x = self.blocks[0].forward(x);
        let x = self.pool.forward(x);
        self.blocks[2].forward(self.blocks[1].forward(x))
    }
}

/// One DenseNet layer: BN, ReLU, 3x3 convolution producing `growth` new channels, concatenated.
#[derive(Module, Debug)]
pub struct DenseLayer {
    norm: BatchNorm,
    conv: Conv2d,
}

impl DenseLayer {
    fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let new = self.conv.forward(relu(self.norm.forward(x.clone())));
        Tensor::cat(vec![x, new], 1)
    }
}

fn dense_block(cin: usize, growth: usize, layers: usize, device: &Device) -> Vec<DenseLayer> {
    (0..layers)
        .map(|i| {
            let width = cin + i * growth;
            DenseLayer {
                norm: BatchNormConfig::new(width).init(device),
                conv: conv(width, growth, 3, device),
            }
        })
        .collect()
}

/// DenseNet-style: a stem, a dense block at 16x16, a 1x1 transition with average pooling, a dense
/// block at 8x8, final BN + ReLU.
#[derive(Module, Debug)]
pub struct DenseNetCam {
    stem: ConvBnRelu,
    block1: Vec<DenseLayer>,
    transition: ConvBnRelu,
    block2: Vec<DenseLayer>,
    final_norm: BatchNorm,
    pool: MaxPool2d,
    average: AvgPool2d,
}

impl DenseNetCam {
    fn new(k: usize, device: &Device) -> Self {
        Self {
            stem: ConvBnRelu::new(3, 16 * k, 3, device),
            block1: dense_block(16 * k, 12 * k, 3, device),
            transition: ConvBnRelu::new(52 * k, 32 * k, 1, device),
            block2: dense_block(32 * k, 16 * k, 3, device),
            final_norm: BatchNormConfig::new(80 * k).init(device),
            pool: pool2(),
            average: AvgPool2dConfig::new([2, 2]).with_strides([2, 2]).init(),
        }
    }

    fn features(&self, x: Tensor<4>) -> Tensor<4> {
        let mut x = self.pool.forward(self.stem.forward(x));
        for layer in &self.block1 {
            x = layer.forward(x);
        }
        let mut x = self.average.forward(self.transition.forward(x));
        for layer in &self.block2 {
            x = layer.forward(x);
        }
        relu(self.final_norm.forward(x))
    }
}

/// Which of the four classifiers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ClassifierKind {
    /// AlexNet-style.
    AlexNet,
    /// VGG-style.
    Vgg,
    /// ResNet-style.
    ResNet,
    /// DenseNet-style.
    DenseNet,
}

impl ClassifierKind {
    /// All four, in the paper's order.
    pub const ALL: [ClassifierKind; 4] = [Self::AlexNet, Self::Vgg, Self::ResNet, Self::DenseNet];

    /// A short name for logs and tables.
    pub const fn name(self) -> &'static str {
        match self {
            Self::AlexNet => "alexnet",
            Self::Vgg => "vgg",
            Self::ResNet => "resnet",
            Self::DenseNet => "densenet",
        }
    }
}

/// A classifier's output: its final feature map and the class logits computed from it.
#[derive(Debug, Clone)]
pub struct ClassifierOutput {
    /// `[n, channels, 8, 8]`, after the last activation.
    pub features: Tensor<4>,
    /// `[n, 10]`.
    pub logits: Tensor<2>,
}

/// The four classifiers, each with its global-average-pooling + linear head. Trained together (one
/// optimiser; their parameters are disjoint, so this is four independent trainings sharing a data
/// pipeline).
#[derive(Module, Debug)]
pub struct CamClassifiers {
    alexnet: AlexNetCam,
    vgg: VggCam,
    resnet: ResNetCam,
    densenet: DenseNetCam,
    heads: Vec<Linear>,
}

impl CamClassifiers {
    /// Freshly initialised classifiers on `device`, at the current width ([`WIDTH`]).
    pub fn new(device: &Device) -> Self {
        Self::with_width(WIDTH, device)
    }

    /// Freshly initialised classifiers with every layer's channels multiplied by `k` (1: the first
    /// generation's networks, 2: the current ones).
    pub fn with_width(k: usize, device: &Device) -> Self {
        let widths = [64, 64, 64, 80];
        Self {
            alexnet: AlexNetCam::new(k, device),
            vgg: VggCam::new(k, device),
            resnet: ResNetCam::new(k, device),
            densenet: DenseNetCam::new(k, device),
            heads: widths.iter().map(|&w| LinearConfig::new(w * k, CLASSES).init(device)).collect(),
        }
    }

    fn index(kind: ClassifierKind) -> usize {
        match kind {
            ClassifierKind::AlexNet => 0,
            ClassifierKind::Vgg => 1,
            ClassifierKind::ResNet => 2,
            ClassifierKind::DenseNet => 3,
        }
    }

    /// Runs one classifier on normalised images `[n, 3, 32, 32]` (see [`super::normalize`]).
    pub fn forward(&self, kind: ClassifierKind, images: Tensor<4>) -> ClassifierOutput {
        let features = match kind {
            ClassifierKind::AlexNet => self.alexnet.features(images),
            ClassifierKind::Vgg => self.vgg.features(images),
            ClassifierKind::ResNet => self.resnet.features(images),
            ClassifierKind::DenseNet => self.densenet.features(images),
        };
        let [n, c, _, _] = features.dims();
        let pooled = features.clone().mean_dim(3).mean_dim(2).reshape([n, c]);
        let logits = self.heads[Self::index(kind)].forward(pooled);
        ClassifierOutput { features, logits }
    }

    /// The head's weights of one classifier as `[channels][class]` (burn's `Linear` stores
    /// `[d_in, d_out]`), for CAMs.
    pub fn head_weights(&self, kind: ClassifierKind) -> Tensor<2> {
        self.heads[Self::index(kind)].weight.val()
    }
}
