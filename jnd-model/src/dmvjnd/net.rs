//! DMV-JND-NET's hybrid convolutional encoder-decoder (the paper's "E-D", Fig. 3/4): RGB and the merged
//! CAM stacked into four channels, a convolution + pooling encoder down to a quarter of the size, one
//! large-stride (4x4, stride 4) transposed convolution back to full size, the input stacked again, and a
//! 3x3 output convolution bounded by `tanh`.

use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig, ConvTranspose2d, ConvTranspose2dConfig};
use burn::nn::pool::MaxPool2d;
use burn::nn::{BatchNorm, BatchNormConfig, Initializer, PaddingConfig2d};
use burn::tensor::activation::{relu, tanh};
use burn::tensor::{Device, Tensor};

use super::classifiers::{ConvBnRelu, pool2};

/// Largest DMV-JND magnitude the network can emit, in normalised units (2.0 = the full 0..255 range).
pub const JND_LIMIT: f32 = 2.0;

/// The encoder-decoder. Fully convolutional: any input whose sides are multiples of 4.
#[derive(Module, Debug)]
pub struct DmvJndNet {
    enc1: ConvBnRelu,
    enc2: ConvBnRelu,
    enc3: ConvBnRelu,
    pool: MaxPool2d,
    up: ConvTranspose2d,
    up_norm: BatchNorm,
    out: Conv2d,
}

impl DmvJndNet {
    /// A freshly initialised network on `device`.
    pub fn new(device: &Device) -> Self {
        Self {
            enc1: ConvBnRelu::new(4, 32, 3, device),
            enc2: ConvBnRelu::new(32, 48, 3, device),
            enc3: ConvBnRelu::new(48, 64, 3, device),
            pool: pool2(),
            up: ConvTranspose2dConfig::new([64, 32], [4, 4]).with_stride([4, 4]).init(device),
            up_norm: BatchNormConfig::new(32).init(device),
            // Zero-initialised output: training starts from "no change" (RCA 100 %) and the magnitude
            // loss grows the JND from there, the trajectory the paper describes (PSNR falling from high).
            out: Conv2dConfig::new([36, 3], [3, 3])
                .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
                .with_initializer(Initializer::Zeros)
                .init(device),
        }
    }

    /// The signed DMV-JND image `[n, 3, h, w]` in normalised units (see [`super::normalize`]) for
    /// normalised images `[n, 3, h, w]` and their merged CAMs `[n, 1, h, w]` in [0, 1].
    pub fn forward(&self, images: Tensor<4>, merged_cam: Tensor<4>) -> Tensor<4> {
        let input = Tensor::cat(vec![images, merged_cam * 2.0 - 1.0], 1);
        let x = self.pool.forward(self.enc1.forward(input.clone()));
        let x = self.pool.forward(self.enc2.forward(x));
        let x = self.enc3.forward(x);
        let x = relu(self.up_norm.forward(self.up.forward(x)));
        tanh(self.out.forward(Tensor::cat(vec![x, input], 1))) * JND_LIMIT
    }
}
