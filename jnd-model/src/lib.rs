//! # jnd-model: jndenc's perceptual models
//!
//! This crate owns the perceptual side of jndenc and nothing else (no codecs, no CLI):
//!
//! - [`device`]: where models run. The one place that picks a burn device: the `flex` CPU backend by
//!   default, burn's `wgpu` backend (Vulkan/Metal/DX12) with the `wgpu` feature, burn-cuda with the
//!   `cuda` feature. Every model takes a [`burn::tensor::Device`], so CPU and GPU share all other code.
//! - Pixel-wise JND maps (Wu et al. 2017, Yang et al. 2005) and perceptual metrics (PSNR, SSIM,
//!   butteraugli, SSIMULACRA 2): next on the roadmap.
//! - VP-JNDnet, the picture-wise "perceptually lossless or not" classifier, and DMV-JND-NET, the
//!   machine-vision JND map with its CAM classifiers, as burn modules with embedded weights: later.
//!
//! The ML stack is pinned to burn =0.22.1 (see `ARCHITECTURE.md`).

pub mod device;

pub use device::{Accelerator, select_device};

/// Errors of this crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The requested accelerator is not compiled into this build.
    #[error("the {0} backend is not compiled in (build jnd-model with the `{1}` feature)")]
    BackendUnavailable(&'static str, &'static str),
}

/// Result with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
