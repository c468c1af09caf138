//! # jnd-model: jndenc's perceptual models
//!
//! This crate owns the perceptual side of jndenc and nothing else (no codecs, no CLI):
//!
//! - [`device`]: where models run. The one place that picks a burn device: the `flex` CPU backend by
//!   default, burn's `wgpu` backend (Vulkan/Metal/DX12) with the `wgpu` feature, burn-cuda with the
//!   `cuda` feature. Every model takes a [`burn::tensor::Device`], so CPU and GPU share all other code.
//! - [`Image`]: the 8-bit picture type every crate shares.
//! - [`pixel_jnd`]: pixel-wise JND maps (Wu et al. 2017, Yang et al. 2005) as [`JndMap`], with
//!   per-block aggregation for quantisation.
//! - [`metrics`]: PSNR, SSIM, butteraugli and SSIMULACRA 2 behind one signature.
//! - [`prior`]: the quality prior, the teacher's distance per quality predicted from the original.
//! - [`vpjnd`]: VP-JNDnet, the picture-wise judge of compressed candidates (prepare the original once,
//!   judge each candidate), and [`dmvjnd`]: DMV-JND-NET, the machine-vision JND map with its four CAM
//!   classifiers; both burn modules with embedded weights.
//! - [`judge`]: the whole-picture judge, per-8x8-block features of a candidate through a small
//!   convolution stack to predicted butteraugli 3-norm and SSIMULACRA 2.
//!
//! The ML stack is pinned to burn =0.22.1 (see `ARCHITECTURE.md`).

pub mod dct;
pub mod device;
pub mod dmvjnd;
pub mod image;
pub mod judge;
pub mod metrics;
pub mod pixel_jnd;
pub mod prior;
pub mod vpjnd;
mod weights;

pub use device::{Accelerator, select_device};
pub use image::{ColorType, Image, Metadata, ycbcr};
pub use pixel_jnd::{JndMap, PixelJndModel};

/// Errors of this crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The requested accelerator is not compiled into this build.
    #[error("the {0} backend is not compiled into this build (the `{1}` cargo feature)")]
    BackendUnavailable(&'static str, &'static str),
    /// A device name that names none (the text as given, quoted).
    #[error("unknown device {0}: expected cpu, cuda or wgpu")]
    UnknownDevice(String),
    /// The accelerator is compiled in but cannot run on this machine, and why.
    #[error("device {0}: {1}")]
    DeviceUnusable(&'static str, String),
    /// A backend compiled in but computing wrong results.
    #[error("device smoke test failed: {0}")]
    SmokeTest(String),
    /// Pixel data that does not describe a picture (empty, or the wrong number of bytes).
    #[error("{0}")]
    InvalidImage(String),
    /// Two pictures that must match (a reference and a candidate) do not.
    #[error("images differ in size or colour type: {0}")]
    Mismatch(String),
    /// Model weights that cannot be read or do not fit, or a model that computed nonsense.
    #[error("{0}")]
    Model(String),
}

/// Result with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
